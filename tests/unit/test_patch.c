// SPDX-License-Identifier: MIT
/*
 * patcher/patch.c: which bytes a site holds in each state, which states
 * it recognises before rewriting, and that it leaves anything else alone.
 * The "process" is a buffer; a site's address is its offset plus BASE.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "patcher/patch.h"

#define BASE  0x401000ull
#define TRAMP 0x7f0000001000ull	/* beyond rel32 reach of BASE */

static uint8_t mem[3 * 8192];	/* room for runs apart (RUN_GAP_MAX: 4096) */
static size_t writes;

static int rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	memcpy(buf, mem + (addr - BASE), len);
	return 0;
}

static int wr(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	(void)ctx;
	memcpy(mem + (addr - BASE), buf, len);
	writes++;
	return 0;
}

static const struct patch_io io = { NULL, rd, wr };
static const uint8_t nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

/* A site at BASE + 16 whose entry is at @target (a jmp when @jmp). */
static struct patch_site site(uint64_t target, int jmp)
{
	struct patch_site s = { .addr = BASE + 16, .target = target, .len = 5, .jmp = jmp };

	memcpy(s.orig, nop5, 5);
	return s;
}

static int apply(struct patch_site *s, enum patch_op op)
{
	struct patch_stats st;
	int result = -1;

	cr_assert_eq(patch_apply(&io, s, 1, op, &st, NULL, &result), 0);
	return result;
}

static void put(uint8_t op, uint64_t to)
{
	int32_t rel = (int32_t)(to - (BASE + 16 + 5));

	mem[16] = op;
	memcpy(mem + 17, &rel, 4);
}

/* A site enabled to @target (a jmp when @jmp: a fentry site's
 * call-through) and disabled, each twice. */
static void enable_disable(uint64_t target, int jmp)
{
	struct patch_site s = site(target, jmp);
	uint8_t want[5] = { jmp ? 0xe9 : 0xe8 };
	int32_t rel = (int32_t)(target - (BASE + 16 + 5));

	memcpy(want + 1, &rel, 4);
	memcpy(mem + 16, nop5, 5);
	cr_assert_eq(apply(&s, PATCH_ENABLE), PATCH_DONE);
	cr_assert_arr_eq(mem + 16, want, 5);
	cr_assert_eq(apply(&s, PATCH_ENABLE), PATCH_ALREADY);
	cr_assert_eq(apply(&s, PATCH_DISABLE), PATCH_DONE);
	cr_assert_arr_eq(mem + 16, nop5, 5);
	cr_assert_eq(apply(&s, PATCH_DISABLE), PATCH_ALREADY);
}

Test(patch, call_site_enables_and_disables)
{
	enable_disable(BASE + 0x1000, 0);
}

Test(patch, jmp_site_enables_and_disables)
{
	enable_disable(BASE + 0x2000, 1);
}

/* @s, holding the call (0xe8) or jmp (0xe9) @op of @from, put in @want
 * by patch_apply(): rewritten, and what it holds then starts with @first
 * (the nop of a disabled site: 0x0f). */
static void rewritten_from(struct patch_site *s, uint8_t op, uint64_t from,
			   enum patch_op want, uint8_t first)
{
	put(op, from);
	cr_assert_eq(apply(s, want), PATCH_DONE);
	cr_assert_eq(mem[16], first);
	if (want == PATCH_DISABLE)
		cr_assert_arr_eq(mem + 16, nop5, 5);
}

/*
 * Enabled another way (a call of the plain entry, or of -A's entry; the
 * jmp to the stub when the target is now -A's entry): known, so rewritten
 * to what is wanted; and disabled from any of them.
 */
Test(patch, every_enabled_form_is_known)
{
	uint64_t stub = BASE + 0x2000, plain = BASE + 0x1000, args = BASE + 0x1100;
	struct patch_site s;

	s = site(stub, 1);	/* call-through wanted */
	s.alt[0] = args;
	s.alt[1] = plain;
	rewritten_from(&s, 0xe8, plain, PATCH_ENABLE, 0xe9);
	rewritten_from(&s, 0xe8, args, PATCH_DISABLE, 0x0f);

	s = site(args, 0);	/* -A on: the site calls the args entry */
	s.alt[1] = plain;
	s.alt_jmp = stub;
	rewritten_from(&s, 0xe9, stub, PATCH_ENABLE, 0xe8);
	rewritten_from(&s, 0xe9, stub, PATCH_DISABLE, 0x0f);
}

/* A jmp or call anywhere else is not ours: left alone, either way. */
Test(patch, unknown_bytes_are_left_alone)
{
	struct patch_site s = site(BASE + 0x2000, 1);
	uint8_t before[5];

	s.alt[1] = BASE + 0x1000;
	put(0xe9, BASE + 0x3000);	/* another tool's jmp */
	memcpy(before, mem + 16, 5);
	writes = 0;
	cr_assert_eq(apply(&s, PATCH_ENABLE), PATCH_MISMATCH);
	cr_assert_eq(apply(&s, PATCH_DISABLE), PATCH_MISMATCH);
	put(0xe8, BASE + 0x2000);	/* a call of the stub is not a state */
	cr_assert_eq(apply(&s, PATCH_DISABLE), PATCH_MISMATCH);
	put(0xe9, BASE + 0x3000);
	cr_assert_arr_eq(mem + 16, before, 5);
	cr_assert_eq(writes, 0);
}

Test(patch, target_out_of_reach)
{
	struct patch_site s = site(TRAMP, 1);
	uint8_t b[5];

	memcpy(mem + 16, nop5, 5);
	cr_assert_eq(apply(&s, PATCH_ENABLE), PATCH_UNREACHABLE);
	cr_assert_arr_eq(mem + 16, nop5, 5);
	cr_assert_eq(patch_bytes_jmp(BASE, 5, TRAMP, b), -ERANGE);
	cr_assert_eq(patch_bytes_enabled(BASE, 5, TRAMP, b), -ERANGE);
}

/* Two sites in one run, at BASE + 16 and BASE + 32, calling @target. */
static void two_sites(struct patch_site *s, uint64_t target)
{
	s[0] = site(target, 0);
	s[1] = site(target, 0);
	s[1].addr = BASE + 32;
	memset(mem, 0x90, sizeof(mem));
	memcpy(mem + 16, nop5, 5);
	memcpy(mem + 32, nop5, 5);
}

/*
 * Planned ahead (patch_preview(), while the process runs) and applied on
 * the same bytes: the preview's outcome, to the byte, as patch_apply()
 * would work it out itself; nothing written by the preview.
 */
Test(patch, preview_applied_to_unchanged_bytes)
{
	struct patch_site s[2];
	struct patch_preview pv;
	struct patch_stats st;
	uint8_t planned[sizeof(mem)], want[5] = { 0xe8 };
	int32_t rel = (int32_t)(BASE + 0x1000 - (BASE + 32 + 5));
	int result[2] = { -1, -1 };

	two_sites(s, BASE + 0x1000);
	writes = 0;
	cr_assert_eq(patch_preview(&io, s, 2, PATCH_ENABLE, &pv), 0);
	cr_assert_eq(writes, 0);
	cr_assert_arr_eq(mem + 16, nop5, 5);
	cr_assert_eq(patch_apply(&io, s, 2, PATCH_ENABLE, &st, &pv, result), 0);
	cr_assert_eq(st.previewed, 1);
	cr_assert_eq(st.done, 2);
	cr_assert_eq(result[0], PATCH_DONE);
	cr_assert_eq(result[1], PATCH_DONE);
	memcpy(want + 1, &rel, 4);
	cr_assert_arr_eq(mem + 32, want, 5);
	memcpy(planned, mem, sizeof(mem));

	/* the same without a preview, from the same bytes: the same memory */
	two_sites(s, BASE + 0x1000);
	cr_assert_eq(patch_apply(&io, s, 2, PATCH_ENABLE, &st, NULL, result), 0);
	cr_assert_eq(st.previewed, 0);
	cr_assert_arr_eq(mem, planned, sizeof(mem));
	patch_preview_free(&pv);
}

/*
 * The run changed between the preview and the stop (another tool's int3
 * between the sites, a site rewritten by someone else): the preview is
 * not used, the run is planned from what it holds now, and the byte
 * that changed is not written back with what the preview saw.
 */
Test(patch, preview_of_changed_bytes_is_not_used)
{
	struct patch_site s[2];
	struct patch_preview pv;
	struct patch_stats st;
	int result[2] = { -1, -1 };

	two_sites(s, BASE + 0x1000);
	cr_assert_eq(patch_preview(&io, s, 2, PATCH_ENABLE, &pv), 0);
	mem[24] = 0xcc;
	put(0xe9, BASE + 0x3000);	/* site 0: another tool's jmp */
	cr_assert_eq(patch_apply(&io, s, 2, PATCH_ENABLE, &st, &pv, result), 0);
	cr_assert_eq(st.previewed, 0);
	cr_assert_eq(result[0], PATCH_MISMATCH);
	cr_assert_eq(result[1], PATCH_DONE);
	cr_assert_eq(mem[24], 0xcc);
	cr_assert_eq(mem[16], 0xe9);
	cr_assert_eq(mem[32], 0xe8);
	patch_preview_free(&pv);
}

/* A preview made for the other operation is not used. */
Test(patch, preview_of_another_operation_is_not_used)
{
	struct patch_site s[2];
	struct patch_preview pv;
	struct patch_stats st;
	int result[2] = { -1, -1 };

	two_sites(s, BASE + 0x1000);
	cr_assert_eq(patch_preview(&io, s, 2, PATCH_DISABLE, &pv), 0);
	cr_assert_eq(patch_apply(&io, s, 2, PATCH_ENABLE, &st, &pv, result), 0);
	cr_assert_eq(st.previewed, 0);
	cr_assert_eq(st.done, 2);
	cr_assert_eq(mem[16], 0xe8);
	patch_preview_free(&pv);
}

/* A call at BASE + @off to @to (@op 0xe8: call, 0xe9: jmp). */
static void put_at(size_t off, uint8_t op, uint64_t to)
{
	int32_t rel = (int32_t)(to - (BASE + off + 5));

	mem[off] = op;
	memcpy(mem + off + 1, &rel, 4);
}

/*
 * Three runs, 8 KiB apart: the stop takes the runs and their counts from
 * the preview (it does not cut them again from the sites).  The first
 * run is rewritten as planned, the second was already enabled (nothing
 * written), the third changed since the preview (planned again: another
 * tool's jmp, left alone).  Each site's result lands in its own place.
 */
Test(patch, preview_of_several_runs_each_on_its_own)
{
	const uint64_t to = BASE + 0x1000;
	struct patch_site s[3];
	struct patch_preview pv;
	struct patch_stats st;
	int result[3] = { -1, -1, -1 };

	memset(mem, 0x90, sizeof(mem));
	for (int i = 0; i < 3; i++) {
		s[i] = site(to, 0);
		s[i].addr = BASE + 16 + 8192 * (uint64_t)i;
		memcpy(mem + 16 + 8192 * i, nop5, 5);
	}
	put_at(16 + 8192, 0xe8, to);		/* the second: enabled already */
	cr_assert_eq(patch_preview(&io, s, 3, PATCH_ENABLE, &pv), 0);
	cr_assert_eq(pv.nruns, 3);
	put_at(16 + 16384, 0xe9, BASE + 0x3000);	/* the third: changed since */
	writes = 0;
	cr_assert_eq(patch_apply(&io, s, 3, PATCH_ENABLE, &st, &pv, result), 0);
	cr_assert_eq(result[0], PATCH_DONE);
	cr_assert_eq(result[1], PATCH_ALREADY);
	cr_assert_eq(result[2], PATCH_MISMATCH);
	cr_assert_eq(st.previewed, 2);
	cr_assert_eq(st.done, 1);
	cr_assert_eq(st.already, 1);
	cr_assert_eq(st.mismatch, 1);
	cr_assert_eq(st.unreachable, 0);
	cr_assert_eq(writes, 1);
	cr_assert_eq(mem[16], 0xe8);
	cr_assert_eq(mem[16 + 16384], 0xe9);
	patch_preview_free(&pv);
}

/* Only a compiler's sled of shorter NOPs can have a thread inside it. */
Test(patch, orig_sled_tells_one_instruction_from_several)
{
	static const struct {
		uint8_t orig[6];
		int sled;
	} forms[] = {
		{ { 0x90, 0x90, 0x90, 0x90, 0x90 }, 1 },	/* gcc -fpatchable-function-entry=5 */
		{ { 0x66, 0x90, 0x0f, 0x1f, 0x00 }, 1 },	/* two NOPs */
		{ { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 0 },	/* clang's, -mnop-mcount, ours */
		{ { 0xe8, 1, 2, 3, 4 }, 0 },			/* call mcount / __fentry__ */
		{ { 0xe9, 1, 2, 3, 4 }, 0 },			/* jmp to a stub */
		{ { 0xff, 0x15, 1, 2, 3, 4 }, 0 },		/* call *mcount@GOTPCREL */
		{ { 0x67, 0xe8, 1, 2, 3, 4 }, 0 },		/* addr32 call */
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct patch_site s = { .addr = 0x1000, .len = 5 };

		memcpy(s.orig, forms[i].orig, sizeof(forms[i].orig));
		cr_assert_eq(patch_orig_is_sled(&s), forms[i].sled, "form %zu", i);
	}
}
