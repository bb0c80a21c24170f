// SPDX-License-Identifier: MIT
/*
 * attach/frames/forced_hook.c, forced_stub_build(): the stub and the
 * entry patch for _Unwind_ForcedUnwind, from hand-assembled entries,
 * checked byte for byte against hand-computed answers; and the entries
 * it must refuse.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "attach/frames/forced_hook.h"
#include "patcher/relocate.h"

#define ADDR 0x7f0000001000ull	/* the function */
#define AT   0x7f0000100000ull	/* its stub */
#define FN   0x7f1234567890ull	/* tp_hook_forced */

static int32_t rel32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

Test(forced_stub, debian12_entry_moves_six_bytes_after_endbr64)
{
	/* endbr64; push %rbp; mov %rsp,%rbp; push %r15; push %r14 */
	static const uint8_t code[32] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5,
					  0x41, 0x57, 0x41, 0x56 };
	uint8_t stub[FORCED_STUB_BYTES], patch[RELOCATE_MAX];
	const char *why;
	size_t skip, w;
	uint64_t fn;

	cr_assert_eq(forced_stub_build(code, sizeof(code), ADDR, AT, FN, stub, patch, &skip, &w,
				       &why), 0, "%s", why);
	cr_assert_eq(skip, 4);
	cr_assert_eq(w, 6);
	/* call *+56(%rip): 50 from the end of the 6-byte call */
	cr_assert_eq(stub[0], 0xff);
	cr_assert_eq(stub[1], 0x15);
	cr_assert_eq(rel32(stub + 2), 50);
	cr_assert_arr_eq(stub + 6, code + 4, 6);
	/* jmp back to ADDR + 10, from the end of the jmp at AT + 12 */
	cr_assert_eq(stub[12], 0xe9);
	cr_assert_eq(rel32(stub + 13), (int32_t)(ADDR + 10 - (AT + 17)));
	memcpy(&fn, stub + 56, 8);
	cr_assert_eq(fn, FN);
	/* the original bytes, endbr64 included, for --disable */
	cr_assert_eq(stub[64], 10);
	cr_assert_arr_eq(stub + 65, code, 10);
	/* the entry: jmp AT from ADDR + 4, then int3 */
	cr_assert_eq(patch[0], 0xe9);
	cr_assert_eq(rel32(patch + 1), (int32_t)(AT - (ADDR + 9)));
	cr_assert_eq(patch[5], 0xcc);
}

Test(forced_stub, rip_relative_first_instruction_is_adjusted)
{
	/* lea 0x10(%rip),%rax (no endbr64); ret */
	static const uint8_t code[32] = { 0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00, 0xc3 };
	uint8_t stub[FORCED_STUB_BYTES], patch[RELOCATE_MAX];
	const char *why;
	size_t skip, w;

	cr_assert_eq(forced_stub_build(code, sizeof(code), ADDR, AT, FN, stub, patch, &skip, &w,
				       &why), 0, "%s", why);
	cr_assert_eq(skip, 0);
	cr_assert_eq(w, 7);
	/* the same target, ADDR + 7 + 0x10, seen from AT + 6 + 7 */
	cr_assert_eq(rel32(stub + 6 + 3), (int32_t)(ADDR + 0x17 - (AT + 13)));
	cr_assert_eq(stub[64], 7);
}

Test(forced_stub, an_entry_that_returns_at_once_is_refused)
{
	/* endbr64; xor %eax,%eax; ret */
	static const uint8_t code[32] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x31, 0xc0, 0xc3 };
	uint8_t stub[FORCED_STUB_BYTES], patch[RELOCATE_MAX];
	const char *why = NULL;
	size_t skip, w;

	cr_assert_eq(forced_stub_build(code, sizeof(code), ADDR, AT, FN, stub, patch, &skip, &w,
				       &why), -EINVAL);
	cr_assert_not_null(why);
}

Test(forced_stub, a_displacement_out_of_reach_from_the_stub_is_refused)
{
	/* lea 0x10(%rip),%rax with the stub 3 GiB away */
	static const uint8_t code[32] = { 0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00, 0xc3 };
	uint8_t stub[FORCED_STUB_BYTES], patch[RELOCATE_MAX];
	const char *why = NULL;
	size_t skip, w;

	cr_assert_eq(forced_stub_build(code, sizeof(code), ADDR, ADDR + (3ull << 30), FN, stub,
				       patch, &skip, &w, &why), -ERANGE);
	cr_assert_not_null(why);
}
