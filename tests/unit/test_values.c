// SPDX-License-Identifier: MIT
/*
 * tattach -A/-R records on the reading side: VALUES and VALDATA words
 * through the decoder (whole blocks, gaps, strays, oversize headers), the
 * text of every value format (names from a function's parameters, enums,
 * strings NULL, unreadable and truncated, doubles and floats), and marks
 * of <tattach/mark.h> read back from their records.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "consumer/decode/event_decoder.h"
#include "consumer/decode/marks.h"
#include "consumer/decode/values.h"

#define SITE 7

/* A record's bytes as the trampoline writes them. */
struct rec {
	uint8_t b[1024];
	size_t n;
};

static void put_value(struct rec *r, unsigned format, unsigned src, uint64_t v)
{
	r->b[r->n++] = (uint8_t)format;
	r->b[r->n++] = (uint8_t)src;
	for (int i = 0; i < 8; i++)
		r->b[r->n++] = (uint8_t)(v >> (8 * i));
}

static void put_string(struct rec *r, unsigned src, uint64_t ptr, unsigned len,
		       const char *bytes)
{
	put_value(r, TAT_VAL_STR, src, ptr);
	r->b[r->n++] = (uint8_t)len;
	if (len != TAT_STR_UNREADABLE)
		for (unsigned i = 0; i < (len & ~TAT_STR_TRUNCATED); i++)
			r->b[r->n++] = (uint8_t)bytes[i];
}

/* Feed the block of @r (after a TIME and an ENTRY) and return the
 * VALUES event's id, checking what the decoder made of it. */
static uint64_t decode_block(const struct rec *r, int is_return)
{
	struct tread_decoder d;
	struct tread_event out[TREAD_DECODER_MAX_OUT];
	uint64_t pos = 0, id = 0;
	int n;

	tread_decoder_init(&d, 0, 42);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_TIME, 1), pos++, out), 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, SITE, 5), pos++, out), 1);
	n = tread_decoder_word(&d, tat_ev_special(TAT_SUB_VALUES, SITE |
			       ((uint64_t)r->n << TAT_VALUES_BYTES_SHIFT) |
			       (is_return ? TAT_VALUES_RETURN : 0)), pos++, out);
	cr_assert_eq(n, 0);
	for (size_t off = 0; off < r->n; off += 7) {
		uint64_t p = 0;

		for (size_t k = 0; k < 7 && off + k < r->n; k++)
			p |= (uint64_t)r->b[off + k] << (8 * k);
		n = tread_decoder_word(&d, tat_ev_special(TAT_SUB_VALDATA, p), pos++, out);
		cr_assert_eq(n, off + 7 >= r->n ? 1 : 0, "at byte %zu", off);
		if (n) {
			cr_assert_eq(out[0].kind, TREAD_EV_VALUES);
			cr_assert_eq(out[0].site, SITE);
			cr_assert_eq(out[0].tid, 42);
			cr_assert_eq(out[0].is_return, is_return);
			cr_assert_eq(out[0].tsc, (1ull << 40) | 5);
			id = out[0].values;
		}
	}
	cr_assert_eq(d.stats.bad_words, 0);
	cr_assert_neq(id, 0);
	return id;
}

static char *text_of(uint64_t id, const struct sym_func *fn, int is_return)
{
	static char buf[1024];

	tread_values_format(id, fn, is_return, buf, sizeof(buf));
	return buf;
}

Test(values, every_format_without_dwarf)
{
	struct rec r = { .n = 0 };
	double d = -2.5;
	float f = 0.1f;
	uint64_t dv, fv = 0;
	uint32_t fb;

	memcpy(&dv, &d, 8);
	memcpy(&fb, &f, 4);
	fv = fb;
	put_value(&r, TAT_VAL_SIGNED, TAT_SRC_INT(0), (uint64_t)-7);
	put_value(&r, TAT_VAL_UNSIGNED, TAT_SRC_INT(1), 18446744073709551615ull);
	put_value(&r, TAT_VAL_HEX, TAT_SRC_INT(2), 0xbeef);
	put_value(&r, TAT_VAL_PTR, TAT_SRC_INT(3), 0);
	put_value(&r, TAT_VAL_DOUBLE, TAT_SRC_FP(0), dv);
	put_value(&r, TAT_VAL_FLOAT, TAT_SRC_FP(1), fv);
	put_value(&r, TAT_VAL_BOOL, TAT_SRC_INT(4), 1);
	put_value(&r, TAT_VAL_CHAR, TAT_SRC_INT(5), '\'');
	cr_assert_str_eq(text_of(decode_block(&r, 0), NULL, 0),
			 "arg1=-7, arg2=18446744073709551615, arg3=0xbeef, arg4=NULL, "
			 "fparg1=-2.5, fparg2=0.1, arg5=true, arg6='\\''");
}

Test(values, strings_named_by_parameters)
{
	struct sym_enumerator colors[] = { { "RED", 0 }, { "BLUE", 6 } };
	struct sym_func fn = { .found = 1, .n = 4 };
	struct rec r = { .n = 0 };

	fn.v[0] = (struct sym_param){ .name = "who", .format = TAT_VAL_STR, .src = TAT_SRC_INT(0) };
	fn.v[1] = (struct sym_param){ .name = "none", .format = TAT_VAL_STR, .src = TAT_SRC_INT(1) };
	fn.v[2] = (struct sym_param){ .name = "wild", .format = TAT_VAL_STR, .src = TAT_SRC_INT(2) };
	fn.v[3] = (struct sym_param){ .name = "c", .format = TAT_VAL_ENUM, .src = TAT_SRC_INT(3),
				      .nenums = 2, .enums = colors };
	put_string(&r, TAT_SRC_INT(0), 0x1000, 6, "a\"b\n\x01z");
	put_string(&r, TAT_SRC_INT(1), 0, 0, "");
	put_string(&r, TAT_SRC_INT(2), 0x10, TAT_STR_UNREADABLE, NULL);
	put_value(&r, TAT_VAL_ENUM, TAT_SRC_INT(3), 6);
	put_value(&r, TAT_VAL_ENUM, TAT_SRC_INT(4), 9);	/* not a parameter, not named */
	put_string(&r, TAT_SRC_INT(5), 0x2000, 3 | TAT_STR_TRUNCATED, "abc");
	cr_assert_str_eq(text_of(decode_block(&r, 0), &fn, 0),
			 "who=\"a\\\"b\\n\\x01z\", none=NULL, wild=0x10 (unreadable), c=BLUE, "
			 "arg5=9, arg6=\"abc\"...");
}

Test(values, return_value_has_no_name)
{
	struct rec r = { .n = 0 };

	put_value(&r, TAT_VAL_SIGNED, TAT_SRC_RET, 0);
	cr_assert_str_eq(text_of(decode_block(&r, 1), NULL, 1), "0");
}

/* The raw first value, to pair calls on one object (a mutex). */
Test(values, first_value_raw)
{
	struct rec r = { .n = 0 };
	uint64_t v = 0;
	unsigned src = 99;

	put_value(&r, TAT_VAL_PTR, TAT_SRC_INT(0), 0x55d009813160ull);
	put_value(&r, TAT_VAL_PTR, TAT_SRC_INT(1), 1);
	cr_assert_eq(tread_values_first(decode_block(&r, 0), &v, &src), 0);
	cr_assert_eq(v, 0x55d009813160ull);
	cr_assert_eq(src, TAT_SRC_INT(0));
	cr_assert_eq(tread_values_first(0, &v, &src), -ENOENT);
}

/* Lengths that run past the record: "?", never a read beyond it. */
Test(values, lying_records)
{
	struct rec r = { .n = 0 };

	put_value(&r, TAT_VAL_SIGNED, 0, 1);
	r.b[r.n++] = TAT_VAL_STR;	/* a string cut short */
	r.b[r.n++] = 1;
	cr_assert_str_eq(text_of(decode_block(&r, 0), NULL, 0), "arg1=1, ?");
	r.n = 0;
	put_string(&r, 0, 0x1000, 60, "0123456789");	/* says 60, has 10 */
	r.n = 21;
	cr_assert_str_eq(text_of(decode_block(&r, 0), NULL, 0), "arg1=?");
	cr_assert_str_eq(text_of(0, NULL, 0), "?");
	cr_assert_str_eq(text_of(1ull << 40, NULL, 0), "?");
}

/* A gap inside a block drops it; VALDATA without its VALUES, and a
 * VALUES larger than any record, are skipped. */
Test(values, gaps_strays_and_oversize)
{
	struct tread_decoder d;
	struct tread_event out[TREAD_DECODER_MAX_OUT];

	tread_decoder_init(&d, 0, 42);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_TIME, 1), 0, out), 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, SITE, 5), 1, out), 1);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_VALDATA, 1), 2, out), 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_VALUES,
			SITE | (10ull << TAT_VALUES_BYTES_SHIFT)), 3, out), 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_VALDATA, 1), 4, out), 0);
	tread_decoder_gap(&d, 1, TREAD_LOST_OVERWRITTEN);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_VALDATA, 1), 6, out), 0);
	cr_assert_eq(d.stats.bad_words, 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_VALUES,
			SITE | (60000ull << TAT_VALUES_BYTES_SHIFT)), 7, out), 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_VALDATA, 1), 8, out), 0);
	cr_assert_eq(d.stats.bad_words, 1);
}

Test(values, marks_read_back)
{
	struct rec r = { .n = 0 };
	char text[64];
	int64_t v = 1;

	cr_assert_eq(tread_mark_kind_of("tattach_mark_hook"), TREAD_MARK_MARK);
	cr_assert_eq(tread_mark_kind_of("tattach_label_hook.constprop.0"), TREAD_MARK_LABEL);
	cr_assert_eq(tread_mark_kind_of("tattach_counter_hook"), TREAD_MARK_COUNTER);
	cr_assert_eq(tread_mark_kind_of("tattach_mark_hooks"), TREAD_MARK_NONE);
	put_string(&r, 0, 0x1000, 8, "a */ b\\\x7f");
	cr_assert_eq(tread_mark_read(decode_block(&r, 0), TREAD_MARK_MARK, text, sizeof(text), &v), 0);
	cr_assert_str_eq(text, "a \\x2a/ b\\\\\\x7f");
	cr_assert_eq(v, 0);
	put_value(&r, TAT_VAL_SIGNED, 1, (uint64_t)-42);
	cr_assert_eq(tread_mark_read(decode_block(&r, 0), TREAD_MARK_COUNTER, text, sizeof(text), &v), 0);
	cr_assert_eq(v, -42);
	r.n = 0;
	put_string(&r, 0, 0x1000, 1, "q");	/* a counter without its value */
	cr_assert_eq(tread_mark_read(decode_block(&r, 0), TREAD_MARK_COUNTER, text, sizeof(text), &v),
		     -EINVAL);
}
