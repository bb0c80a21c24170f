// SPDX-License-Identifier: MIT
/*
 * patcher/relocate.c: which first instructions of a function can move,
 * and the displacements moving them adjusts; patcher/imports.c: the PLT
 * jump of an enabled library-call hook.  Hand-assembled bytes, checked
 * against hand-computed answers.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "patcher/imports.h"
#include "patcher/relocate.h"

static size_t window(const uint8_t *code, size_t len, const char **why,
		     struct reloc_fix *fix, size_t *nfix)
{
	uint8_t bounds[RELOCATE_MAX];
	size_t nb;

	*why = NULL;
	return relocate_window(code, len, 0x401000, why, bounds, &nb, fix, nfix);
}

Test(relocate, rip_relative_load_moves_with_its_displacement)
{
	/* mov 0x10(%rip),%rax ; ret */
	static const uint8_t code[] = { 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00, 0xc3 };
	struct reloc_fix fix[RELOCATE_FIX_MAX];
	uint8_t out[16];
	const char *why;
	size_t nfix, w = window(code, sizeof(code), &why, fix, &nfix);
	int32_t disp;

	cr_assert_eq(w, 7, "%s", why ? why : "");
	cr_assert_eq(nfix, 1);
	cr_assert_eq(fix[0].at, 3);
	cr_assert_eq(fix[0].end, 7);
	/* The target 0x401017 seen from 0x402000 + 7: 0x401017 - 0x402007. */
	cr_assert_eq(relocate_copy(code, w, 0x401000, 0x402000, fix, nfix, out), 0);
	memcpy(&disp, out + 3, 4);
	cr_assert_eq(disp, 0x401017 - 0x402007);
	cr_assert(!memcmp(out, code, 3));
	/* Out of reach: refused, not truncated. */
	cr_assert_eq(relocate_copy(code, w, 0x401000, 0x7f0000000000ull, fix, nfix, out),
		     -ERANGE);
}

Test(relocate, call_ends_the_window_with_its_target_kept)
{
	/* push %rbp ; mov %rsp,%rbp ; call +0x100 */
	static const uint8_t code[] = { 0x55, 0x48, 0x89, 0xe5, 0xe8, 0x00, 0x01, 0x00, 0x00 };
	struct reloc_fix fix[RELOCATE_FIX_MAX];
	uint8_t out[16];
	const char *why;
	size_t nfix, w = window(code, sizeof(code), &why, fix, &nfix);
	int32_t rel;

	cr_assert_eq(w, 9, "%s", why ? why : "");
	cr_assert_eq(nfix, 1);
	cr_assert_eq(fix[0].at, 5);
	cr_assert_eq(fix[0].end, 9);
	cr_assert_eq(relocate_copy(code, w, 0x401000, 0x500000, fix, nfix, out), 0);
	memcpy(&rel, out + 5, 4);
	cr_assert_eq(0x500000 + 9 + (int64_t)rel, 0x401000 + 9 + 0x100);
}

Test(relocate, refusals)
{
	static const struct {
		uint8_t code[8];
		size_t len;
		const char *why;
	} cases[] = {
		{ { 0x31, 0xc0, 0xc3, 0x90, 0x90, 0x90 }, 6, "returns within" },	/* xor; ret */
		{ { 0x31, 0xc0, 0x75, 0xfc, 0x90, 0x90 }, 6, "a branch" },		/* xor; jne */
		{ { 0x0f, 0x05, 0x90, 0x90, 0x90, 0x90 }, 6, "system call" },	/* syscall */
		{ { 0xff, 0xd0, 0x90, 0x90, 0x90, 0x90 }, 6, "a call" },		/* call *%rax */
		{ { 0x90, 0x90, 0xc3 }, 3, "returns within" },			/* nop; nop; ret */
		{ { 0x90, 0x90 }, 2, "too short" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reloc_fix fix[RELOCATE_FIX_MAX];
		const char *why;
		size_t nfix;

		cr_assert_eq(window(cases[i].code, cases[i].len, &why, fix, &nfix), 0,
			     "case %zu moved", i);
		cr_assert(why && strstr(why, cases[i].why), "case %zu: %s", i, why ? why : "");
	}
}

Test(imports, plt_hook_bytes)
{
	uint8_t b[8];
	int32_t rel;

	cr_assert_eq(imports_plt_bytes(0x1000, 7, 0x5000, b), 0);
	cr_assert_eq(b[0], 0xe9);
	memcpy(&rel, b + 1, 4);
	cr_assert_eq(0x1000 + 5 + (int64_t)rel, 0x5000);
	cr_assert_eq(b[5], 0x90);
	cr_assert_eq(b[6], 0x90);
	cr_assert_eq(imports_plt_bytes(0x1000, 6, 0x7f0000000000ull, b), -ERANGE);
	cr_assert_str_eq(imports_denied("_setjmp"), "returns twice");
	cr_assert_null(imports_denied("malloc"));
}
