/* SPDX-License-Identifier: MIT */
/*
 * What tests/targets/argvals records under -A/-R, for the tests of
 * -pg/fentry sites (test_args.c) and of patched entries
 * (test_entry_args.c), which must see the very same values.
 */
#ifndef TATTACH_TESTS_ARGVALS_H
#define TATTACH_TESTS_ARGVALS_H

/* The functions whose values one "run" of the target shows. */
#define ARGVALS_FUNCS "sum_signed|umix|paint|greet|scale|pick|shout"

/* The graph texts of one "run" with DWARF-typed values; %s: what the
 * target said pick() returned. */
#define ARGVALS_DWARF_ROUND \
	"sum_signed(a=-5, b=-300, c=1234567890123) = 1234567889818;\n" \
	"umix(x=200, y=4000000000) = 4000000200;\n" \
	"paint(c=BLUE, n=3) = 6;\n" \
	"paint(c=42, n=1) = -1;\n" \
	"greet(who=\"world\", none=NULL, wild=0x10 (unreadable)) = 5;\n" \
	"scale(x=2.5, f=0.25, k=3) = 1.875;\n" \
	"pick(i=1) = %s;\n" \
	"shout(text=\"0123456789012345678901234567890123456789012345678901234567890123\"...) = 70;\n" \
	"plain();\n"

#endif
