// SPDX-License-Identifier: MIT
/* The hooks of <tattach/mark.h> and their recorded arguments (marks.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tattach/ring.h>
#include "consumer/decode/marks.h"
#include "consumer/decode/values.h"

static const struct {
	const char *name;
	enum tread_mark_kind kind;
} hooks[] = {
	{ "tattach_mark_hook", TREAD_MARK_MARK },
	{ "tattach_label_hook", TREAD_MARK_LABEL },
	{ "tattach_counter_hook", TREAD_MARK_COUNTER },
};

enum tread_mark_kind tread_mark_kind_of(const char *name)
{
	for (size_t i = 0; name && i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		size_t n = strlen(hooks[i].name);

		if (!strncmp(name, hooks[i].name, n) && (!name[n] || name[n] == '.'))
			return hooks[i].kind;
	}
	return TREAD_MARK_NONE;
}

const char *tread_mark_kind_name(enum tread_mark_kind kind)
{
	switch (kind) {
	case TREAD_MARK_MARK:	 return "mark";
	case TREAD_MARK_LABEL:	 return "label";
	case TREAD_MARK_COUNTER: return "counter";
	default:		 return "?";
	}
}

static uint64_t get_u64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* @b holds a string value (format, src, pointer, length, bytes): its text. */
static size_t put_string(const uint8_t *b, size_t left, char *text, size_t len)
{
	size_t used = 0, n;
	unsigned l;

	if (left < 11 || b[0] != TAT_VAL_STR)
		return 0;
	l = b[10];
	if (l == TAT_STR_UNREADABLE || !get_u64(b + 2)) {
		snprintf(text, len, "%s", get_u64(b + 2) ? "(unreadable)" : "(null)");
		return 11;
	}
	n = l & ~TAT_STR_TRUNCATED;
	if (n > left - 11 || n > TAT_STR_MAX)
		return 0;
	for (size_t i = 0; i < n && used + 5 < len; i++) {
		unsigned c = b[11 + i];

		if (c == '\\' || c < 0x20 || c >= 0x7f || (c == '/' && i + 1 < n && b[12 + i] == '*') ||
		    (c == '*' && i + 1 < n && b[12 + i] == '/'))
			used += (size_t)snprintf(text + used, len - used,
						 c == '\\' ? "\\\\" : "\\x%02x", c);
		else
			text[used++] = (char)c;
	}
	if ((l & TAT_STR_TRUNCATED) && used + 4 < len) {
		memcpy(text + used, "...", 3);
		used += 3;
	}
	text[used] = '\0';
	return 11 + n;
}

int tread_mark_read(uint64_t id, enum tread_mark_kind kind, char *text, size_t len,
		    int64_t *value)
{
	size_t n, took;
	const uint8_t *b = tread_values_get(id, &n);

	if (!len)
		return -EINVAL;
	snprintf(text, len, "?");
	*value = 0;
	if (!b || kind == TREAD_MARK_NONE)
		return -EINVAL;
	took = put_string(b, n, text, len);
	if (!took)
		return -EINVAL;
	if (kind != TREAD_MARK_COUNTER)
		return 0;
	if (n - took < 10)
		return -EINVAL;
	*value = (int64_t)get_u64(b + took + 2);
	return 0;
}
