// SPDX-License-Identifier: MIT
/*
 * The value store and the text of recorded values (values.h).  The bytes
 * come from the traced process: every length is checked against what is
 * left of the record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tattach/ring.h>
#include "consumer/decode/values.h"

static struct {
	uint8_t *bytes;		/* records, each after a u32 length */
	size_t   len, cap;
} store;

uint64_t tread_values_put(const uint8_t *bytes, size_t len)
{
	size_t need = store.len + 4 + len;
	uint32_t l = (uint32_t)len;
	uint64_t id;

	if (need > store.cap) {
		size_t cap = store.cap ? store.cap : 4096;
		uint8_t *p;

		while (cap < need)
			cap *= 2;
		p = realloc(store.bytes, cap);
		if (!p)
			return 0;
		store.bytes = p;
		store.cap = cap;
	}
	memcpy(store.bytes + store.len, &l, 4);
	memcpy(store.bytes + store.len + 4, bytes, len);
	id = store.len + 1;
	store.len = need;
	return id;
}

const uint8_t *tread_values_get(uint64_t id, size_t *len)
{
	uint32_t l;

	if (!id || id - 1 + 4 > store.len)
		return NULL;
	memcpy(&l, store.bytes + id - 1, 4);
	if (id - 1 + 4 + l > store.len)
		return NULL;
	*len = l;
	return store.bytes + id - 1 + 4;
}

void tread_values_reset(void)
{
	free(store.bytes);
	memset(&store, 0, sizeof(store));
}

struct text {
	char  *out;
	size_t len, used;
};

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used + 1 >= t->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->out + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used = t->used + (size_t)n < t->len ? t->used + (size_t)n : t->len - 1;
}

static uint64_t get_u64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void put_char(struct text *t, unsigned c, char quote)
{
	switch (c) {
	case '\n': put(t, "\\n"); return;
	case '\t': put(t, "\\t"); return;
	case '\r': put(t, "\\r"); return;
	case '\\': put(t, "\\\\"); return;
	}
	if (c == (unsigned char)quote)
		put(t, "\\%c", quote);
	else if (c >= 0x20 && c < 0x7f)
		put(t, "%c", (int)c);
	else
		put(t, "\\x%02x", c);
}

static const struct sym_param *param_of(const struct sym_func *fn, unsigned src)
{
	for (size_t i = 0; fn && i < fn->n; i++)
		if (fn->v[i].src == (int)src)
			return &fn->v[i];
	return NULL;
}

/* The shortest %g form that reads back as the same double (or, with
 * @is_float, the same float): 0.1f is "0.1", not 0.10000000149011612. */
static void put_double(struct text *t, double d, int is_float)
{
	char tmp[64];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (is_float ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d)
			break;
	}
	put(t, "%s", tmp);
}

/* One value at @b (@left bytes); returns the bytes it took, 0 if bad. */
static size_t put_value(struct text *t, const uint8_t *b, size_t left,
			const struct sym_func *fn, int is_return)
{
	unsigned format, src;
	const struct sym_param *p;
	const struct sym_enumerator *enums = NULL;
	size_t nenums = 0, used = 10;
	const char *name;
	uint64_t v;
	double d;
	float f;
	uint32_t bits;

	if (left < 10)
		return 0;
	format = b[0];
	src = b[1];
	v = get_u64(b + 2);
	p = is_return ? NULL : param_of(fn, src);
	if (is_return && fn) {
		enums = fn->ret_enums;
		nenums = fn->ret_nenums;
	} else if (p) {
		enums = p->enums;
		nenums = p->nenums;
	}
	if (!is_return) {
		if (p && p->name)
			put(t, "%s=", p->name);
		else if (src >= TAT_SRC_FP(0))
			put(t, "fparg%u=", src - TAT_SRC_FP(0) + 1);
		else
			put(t, "arg%u=", src + 1);
	}
	switch (format) {
	case TAT_VAL_SIGNED:
		put(t, "%" PRId64, (int64_t)v);
		break;
	case TAT_VAL_UNSIGNED:
		put(t, "%" PRIu64, v);
		break;
	case TAT_VAL_ENUM:
		name = sym_enum_name(enums, nenums, (int64_t)v);
		if (name)
			put(t, "%s", name);
		else
			put(t, "%" PRId64, (int64_t)v);
		break;
	case TAT_VAL_BOOL:
		put(t, "%s", v ? "true" : "false");
		break;
	case TAT_VAL_CHAR:
		put(t, "'");
		put_char(t, (unsigned)(v & 0xff), '\'');
		put(t, "'");
		break;
	case TAT_VAL_DOUBLE:
		memcpy(&d, &v, sizeof(d));
		put_double(t, d, 0);
		break;
	case TAT_VAL_FLOAT:
		bits = (uint32_t)v;
		memcpy(&f, &bits, sizeof(f));
		put_double(t, (double)f, 1);
		break;
	case TAT_VAL_PTR:
		if (!v)
			put(t, "NULL");
		else
			put(t, "0x%" PRIx64, v);
		break;
	case TAT_VAL_STR: {
		unsigned l;

		if (left < 11)
			return 0;
		l = b[10];
		used = 11;
		if (!v) {
			put(t, "NULL");
			break;
		}
		if (l == TAT_STR_UNREADABLE) {
			put(t, "0x%" PRIx64 " (unreadable)", v);
			break;
		}
		if ((l & ~TAT_STR_TRUNCATED) > left - 11 || (l & ~TAT_STR_TRUNCATED) > TAT_STR_MAX)
			return 0;
		put(t, "\"");
		for (unsigned i = 0; i < (l & ~TAT_STR_TRUNCATED); i++)
			put_char(t, b[11 + i], '"');
		put(t, "\"%s", l & TAT_STR_TRUNCATED ? "..." : "");
		used += l & ~TAT_STR_TRUNCATED;
		break;
	}
	default:
		put(t, "0x%" PRIx64, v);
		break;
	}
	return used;
}

int tread_values_first(uint64_t id, uint64_t *value, unsigned *src)
{
	size_t n;
	const uint8_t *b = tread_values_get(id, &n);

	if (!b || n < 10)
		return -ENOENT;
	*src = b[1];
	*value = get_u64(b + 2);
	return 0;
}

size_t tread_values_format(uint64_t id, const struct sym_func *fn, int is_return,
			   char *out, size_t len)
{
	struct text t = { out, len, 0 };
	const uint8_t *b;
	size_t n, off = 0, took;

	if (!len)
		return 0;
	out[0] = '\0';
	b = tread_values_get(id, &n);
	if (!b) {
		put(&t, "?");
		return t.used;
	}
	while (off < n) {
		if (off)
			put(&t, ", ");
		took = put_value(&t, b + off, n - off, fn, is_return);
		if (!took) {
			put(&t, "?");
			break;
		}
		off += took;
	}
	return t.used;
}
