// SPDX-License-Identifier: MIT
/*
 * The uftrace export's arguments and return values (tattach -A/-R), in
 * the form `uftrace record -A/-R` writes them, so that replay shows
 * handle(5, "foo") and "} = 0" (learned from uftrace's libmcount/record.c,
 * utils/fstack.c, utils/argspec.c, utils/filter.c, cmds/replay.c, v0.13):
 *
 *  - the record's "more" bit (bit 2 of its second word) says that data
 *    follows it: an ENTRY's arguments or an EXIT's return value;
 *  - the data holds no types: the reader takes them from the argspec of
 *    the function, found by matching the symbol's name against the
 *    "argspec:"/"retspec:" lines of `info` ("NAME@arg1/i64,arg2/s;..."),
 *    so every call of one name must carry the same list of formats;
 *  - per value: an integer, pointer or double takes its size (8; a char
 *    1, a float 4), a string a u16 length and its bytes, each padded to
 *    4 bytes from the start of the data, the whole to 8.
 *
 * tattach's records (docs/ring-format.md, "Arguments and return values")
 * carry a format per value, so the export builds each name's argspec
 * from its first call and writes the data of every call whose formats
 * are the same; a call whose formats differ (two functions of one name
 * with different -A), or a name uftrace could not match exactly, keeps
 * its call but shows no values.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tattach/ring.h>
#include "consumer/export/uftrace_priv.h"

#define UF_VAL_ARGS	1u	/* ev_values[]: the ENTRY's arguments are written */
#define UF_VAL_RET	2u	/* the EXIT's return value is written */

/* One value of a tattach record, as read from its bytes. */
struct rec_item {
	unsigned format, src;
	uint64_t value;
	const uint8_t *str;	/* TAT_VAL_STR: its bytes (not NUL-terminated) */
	unsigned slen;		/* their count */
	bool truncated, unreadable;
};

static uint64_t get_u64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* The value at @b (@left bytes); returns the bytes it takes, 0 if bad. */
static size_t read_item(const uint8_t *b, size_t left, struct rec_item *it)
{
	unsigned l;

	if (left < 10)
		return 0;
	memset(it, 0, sizeof(*it));
	it->format = b[0];
	it->src = b[1];
	it->value = get_u64(b + 2);
	if (it->format < TAT_VAL_SIGNED || it->format > TAT_VAL_CHAR)
		return 0;
	if (it->format != TAT_VAL_STR)
		return 10;
	if (left < 11)
		return 0;
	l = b[10];
	if (l == TAT_STR_UNREADABLE) {
		it->unreadable = true;
		return 11;
	}
	it->truncated = l & TAT_STR_TRUNCATED;
	it->slen = l & ~TAT_STR_TRUNCATED;
	if (it->slen > TAT_STR_MAX || it->slen > left - 11)
		return 0;
	it->str = b + 11;
	return 11 + it->slen;
}

/* uftrace's name for a value: its format letter and size. */
static const char *uf_format(unsigned format)
{
	switch (format) {
	case TAT_VAL_SIGNED:
	case TAT_VAL_ENUM:	/* uftrace names enums only from its own DWARF
				 * reading: the number is shown */
	case TAT_VAL_BOOL:	/* uftrace has no bool: 0 or 1 */
		return "/i64";
	case TAT_VAL_UNSIGNED:	return "/u64";
	case TAT_VAL_HEX:	return "/x64";
	case TAT_VAL_PTR:	return "/p";
	case TAT_VAL_STR:	return "/s";
	case TAT_VAL_CHAR:	return "/c";
	case TAT_VAL_DOUBLE:	return "/64";
	case TAT_VAL_FLOAT:	return "/32";
	}
	return NULL;
}

static bool is_fp(unsigned format)
{
	return format == TAT_VAL_DOUBLE || format == TAT_VAL_FLOAT;
}

/*
 * The argspec of record @b ("arg1/i64,fparg1/64,arg2/s", or "retval/i64"
 * for a return value) into @out; false when the record does not parse.
 * Values are named after the register they came from (arg1 = rdi,
 * fparg1 = xmm0); uftrace merges two values of one name, so when a name
 * repeats (the same register asked twice) they are numbered in order.
 */
static bool record_spec(const uint8_t *b, size_t n, bool is_return, char *out, size_t len)
{
	struct rec_item it;
	unsigned idx[TAT_ARGS_MAX + 1], fmt[TAT_ARGS_MAX + 1];
	bool by_position = false;
	size_t off = 0, took, used = 0, count = 0;

	out[0] = '\0';
	while (off < n) {
		unsigned i;

		took = read_item(b + off, n - off, &it);
		if (!took || count == TAT_ARGS_MAX + 1)
			return false;
		if (is_fp(it.format))
			i = it.src >= TAT_SRC_FP(0) ? it.src - TAT_SRC_FP(0) + 1 : 0;
		else
			i = it.src < TAT_SRC_FP(0) ? it.src + 1 : 0;
		for (size_t k = 0; k < count; k++)
			by_position |= is_fp(fmt[k]) == is_fp(it.format) && idx[k] == i;
		by_position |= i == 0;
		fmt[count] = it.format;
		idx[count++] = i;
		off += took;
	}
	if (!count || (is_return && count != 1))
		return false;
	for (size_t k = 0; k < count; k++) {
		int w;

		if (is_return)
			w = snprintf(out, len, "retval%s",
				     fmt[k] == TAT_VAL_DOUBLE ? "/f64" :
				     fmt[k] == TAT_VAL_FLOAT ? "/f32" : uf_format(fmt[k]));
		else
			w = snprintf(out + used, len - used, "%s%s%u%s", k ? "," : "",
				     is_fp(fmt[k]) ? "fparg" : "arg",
				     by_position ? (unsigned)k + 1 : idx[k], uf_format(fmt[k]));
		if (w < 0 || (size_t)w >= len - used)
			return false;
		used += (size_t)w;
	}
	return true;
}

/*
 * Only names that uftrace matches as plain strings, or as a regular
 * expression we can anchor and escape, and that its argspec syntax can
 * hold (';' '@' ',' separate its parts; "_Z" names it demangles first).
 */
static bool name_fits(const char *name)
{
	if (!*name || !strncmp(name, "_Z", 2))
		return false;
	for (const char *c = name; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '$'))
			return false;
	}
	return true;
}

/* @name as an argspec pattern: as is, or anchored with '.' and '$' escaped. */
static void put_pattern(FILE *f, const char *name)
{
	if (!strpbrk(name, ".$")) {
		fputs(name, f);
		return;
	}
	fputc('^', f);
	for (const char *c = name; *c; c++) {
		if (*c == '.' || *c == '$')
			fputc('\\', f);
		fputc(*c, f);
	}
	fputc('$', f);
}

#define SPEC_UNSEEN	(-1)	/* func_spec[]: not looked up yet */
#define SPEC_NONE	(-2)	/* a name uftrace cannot match */

/* The index of the argspec of function @func's name in o->specs, made
 * on first use; SPEC_NONE, or -ENOMEM. */
static long spec_of(struct uf_out *o, long *func_spec, uint32_t func)
{
	const char *name;
	struct uf_spec *s;

	if (func_spec[func] != SPEC_UNSEEN)
		return func_spec[func];
	name = uf_symbol_name(o, func);
	if (!name || !name_fits(name))
		return func_spec[func] = SPEC_NONE;
	for (size_t i = 0; i < o->nspecs; i++) {
		if (!strcmp(o->specs[i].name, name))
			return func_spec[func] = (long)i;
	}
	s = realloc(o->specs, (o->nspecs + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	o->specs = s;
	s = &o->specs[o->nspecs];
	memset(s, 0, sizeof(*s));
	s->name = name;
	return func_spec[func] = (long)o->nspecs++;
}

/* Take @spec as @slot's (the first call of the name), or compare with it. */
static int match_spec(char **slot, const char *spec, bool *same)
{
	if (!*slot) {
		*slot = strdup(spec);
		if (!*slot)
			return -ENOMEM;
	}
	*same = !strcmp(*slot, spec);
	return 0;
}

int uf_build_argspecs(struct uf_out *o)
{
	const struct tread_xtrace *x = o->x;
	long *func_spec;
	char spec[512];

	o->ev_values = calloc(x->nevents + 1, 1);
	func_spec = malloc((x->nfuncs + 1) * sizeof(*func_spec));
	if (!o->ev_values || !func_spec)
		goto nomem;
	for (size_t f = 0; f < x->nfuncs; f++)
		func_spec[f] = SPEC_UNSEEN;
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];
		bool is_return = e->kind == TREAD_X_EXIT;
		const uint8_t *b = is_return ? e->ret_bytes : e->arg_bytes;
		uint32_t n = is_return ? e->ret_nbytes : e->arg_nbytes;
		struct uf_spec *s;
		bool same;
		long k;

		if (e->kind == TREAD_X_LOST || !b || !n ||
		    !record_spec(b, n, is_return, spec, sizeof(spec)))
			continue;
		k = spec_of(o, func_spec, e->func);
		if (k == -ENOMEM)
			goto nomem;
		if (k == SPEC_NONE)
			continue;
		s = &o->specs[k];
		if (match_spec(is_return ? &s->ret : &s->args, spec, &same))
			goto nomem;
		if (same)
			o->ev_values[i] = is_return ? UF_VAL_RET : UF_VAL_ARGS;
	}
	free(func_spec);
	return 0;

nomem:
	free(func_spec);
	xdir_err(o->err, o->errlen, "uftrace export: out of memory");
	return -ENOMEM;
}

bool uf_any_argspec(const struct uf_out *o)
{
	return o->nspecs != 0;
}

static void put_specs(FILE *f, const struct uf_out *o, bool ret)
{
	bool first = true;

	for (size_t i = 0; i < o->nspecs; i++) {
		const char *s = ret ? o->specs[i].ret : o->specs[i].args;

		if (!s)
			continue;
		if (!first)
			fputc(';', f);
		put_pattern(f, o->specs[i].name);
		fprintf(f, "@%s", s);
		first = false;
	}
}

void uf_write_argspec_info(FILE *f, const struct uf_out *o)
{
	bool args = false, rets = false;

	for (size_t i = 0; i < o->nspecs; i++) {
		args |= o->specs[i].args != NULL;
		rets |= o->specs[i].ret != NULL;
	}
	fprintf(f, "argspec:lines=%d\n", (int)args + (int)rets);
	if (args) {
		fputs("argspec:", f);
		put_specs(f, o, false);
		fputc('\n', f);
	}
	if (rets) {
		fputs("retspec:", f);
		put_specs(f, o, true);
		fputc('\n', f);
	}
}

static void put_le(unsigned char *b, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++, v >>= 8)
		b[i] = (unsigned char)v;
}

/* Room for one value: a string of 64 bytes, each escaped to at most 4,
 * and "...", or "<0x...>"; its length; padding. */
#define UF_ITEM_MAX	(2 + 4 * TAT_STR_MAX + 24 + 4)

/*
 * A string's bytes as uftrace will print them: replay writes a string's
 * bytes to the terminal as they are (it escapes only \n, \b and \0), so
 * control bytes become C escapes here, as tread shows them, and the
 * program's data cannot drive the terminal; a backslash is doubled so
 * that the escapes read back.  Other bytes (UTF-8) go as recorded.
 */
static unsigned put_escaped(unsigned char *out, const uint8_t *s, unsigned len)
{
	unsigned n = 0;

	for (unsigned i = 0; i < len; i++) {
		unsigned c = s[i];

		if (c == '\\' || c == '\n' || c == '\t' || c == '\r') {
			out[n++] = '\\';
			out[n++] = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : '\\';
		} else if (c < 0x20 || c == 0x7f) {
			n += (unsigned)sprintf((char *)out + n, "\\x%02x", c);
		} else {
			out[n++] = (unsigned char)c;
		}
	}
	return n;
}

size_t uf_event_values(const struct uf_out *o, size_t ev, unsigned char *buf, size_t cap)
{
	const struct tread_xevent *e = &o->x->events[ev];
	bool is_return = e->kind == TREAD_X_EXIT;
	const uint8_t *b = is_return ? e->ret_bytes : e->arg_bytes;
	size_t n = is_return ? e->ret_nbytes : e->arg_nbytes;
	size_t off = 0, used = 0, took;
	struct rec_item it;

	if (!(o->ev_values[ev] & (is_return ? UF_VAL_RET : UF_VAL_ARGS)))
		return 0;
	while (off < n) {
		unsigned size = 8;

		took = read_item(b + off, n - off, &it);
		off += took;
		if (used + UF_ITEM_MAX > cap)
			return 0;	/* cannot happen: cap holds TAT_ARGS_MAX + 1 */
		switch (it.format) {
		case TAT_VAL_STR: {
			unsigned char *text = buf + used + 2;
			unsigned l;

			if (!it.value) {
				/* four 0xff bytes: replay prints NULL, not "NULL" */
				memset(text, 0xff, 4);
				l = 4;
			} else if (it.unreadable) {
				/* as uftrace record shows a pointer it cannot read */
				l = (unsigned)sprintf((char *)text, "<%#" PRIx64 ">", it.value);
			} else {
				l = put_escaped(text, it.str, it.slen);
				if (it.truncated) {
					memcpy(text + l, "...", 3);
					l += 3;
				}
			}
			put_le(buf + used, l, 2);
			size = 2 + l;
			memset(buf + used + size, 0, (4 - size % 4) % 4);
			used += (size + 3) & ~3u;
			continue;
		}
		case TAT_VAL_CHAR:
			size = 1;
			break;
		case TAT_VAL_FLOAT:
			size = 4;
			break;
		}
		memset(buf + used, 0, 8);
		put_le(buf + used, it.value, size);
		used += (size + 3) & ~3u;
	}
	memset(buf + used, 0, (8 - used % 8) % 8);
	return (used + 7) & ~(size_t)7;
}

size_t uf_values_max(void)
{
	return (TAT_ARGS_MAX + 1) * UF_ITEM_MAX + 8;
}

void uf_free_argspecs(struct uf_out *o)
{
	for (size_t i = 0; i < o->nspecs; i++) {
		free(o->specs[i].args);
		free(o->specs[i].ret);
	}
	free(o->specs);
	free(o->ev_values);
}
