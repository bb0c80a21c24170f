// SPDX-License-Identifier: MIT
/*
 * tcb_tid_offset(): where a thread's TCB keeps its tid, from copies of
 * TCBs laid out as glibc's (tid at 0x2d0) and musl's (at 48), with the
 * decoys a real TCB holds: pointers whose high half equals the tid.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "attach/process/tcb.h"

static uint8_t tcb[3][TCB_SPAN];

static void put32(uint8_t *t, size_t off, int32_t v)
{
	memcpy(t + off, &v, sizeof(v));
}

static void put64(uint8_t *t, size_t off, uint64_t v)
{
	memcpy(t + off, &v, sizeof(v));
}

static int32_t offset_of(size_t n, const int32_t *tids, size_t len)
{
	const uint8_t *p[3] = { tcb[0], tcb[1], tcb[2] };

	return tcb_tid_offset(p, tids, n, len);
}

/* The main thread alone (tattach's first look holds only it), its pid
 * 0x7f39, its TCB at 0x7f39...: header.self's high half is a decoy. */
Test(tcb, a_pointers_high_half_is_not_the_tid)
{
	const int32_t tid[] = { 0x7f39 };

	memset(tcb, 0, sizeof(tcb));
	put64(tcb[0], 0, 0x7f3912345000ull);	/* tcb */
	put64(tcb[0], 16, 0x7f3912345000ull);	/* self */
	put32(tcb[0], 0x2d0, 0x7f39);		/* glibc's tid */
	cr_assert_eq(offset_of(1, tid, TCB_SPAN), 0x2d0);
	/* the same value as a whole 32-bit field of its own counts */
	put32(tcb[0], 60, 0x7f39);
	cr_assert_eq(offset_of(1, tid, TCB_SPAN), 60);
}

Test(tcb, every_thread_must_hold_its_own_tid)
{
	const int32_t tids[] = { 4242, 4243, 4250 };

	memset(tcb, 0, sizeof(tcb));
	for (int i = 0; i < 3; i++)
		put32(tcb[i], 0x2d0, tids[i]);
	put32(tcb[0], 40, 4242);	/* the main thread's pid, say */
	cr_assert_eq(offset_of(1, tids, TCB_SPAN), 40);
	cr_assert_eq(offset_of(3, tids, TCB_SPAN), 0x2d0);
}

Test(tcb, musl_layout_and_a_short_copy)
{
	const int32_t tid[] = { 31000 };

	memset(tcb, 0, sizeof(tcb));
	put32(tcb[0], 48, 31000);		/* musl: after 6 words */
	put32(tcb[0], 52, 5);			/* errno_val next to it */
	cr_assert_eq(offset_of(1, tid, 256), 48);
	cr_assert_eq(offset_of(1, tid, 48), 0, "past the bytes read");
	cr_assert_eq(offset_of(0, tid, TCB_SPAN), 0);
}
