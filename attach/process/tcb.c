// SPDX-License-Identifier: MIT
/*
 * The tid's place in the TCB (tcb.h).  The trampoline checks it on every
 * traced call to tell a new thread from the one that used the same TCB
 * before (tramp_threads.c), so a wrong place makes it take each of a
 * thread's calls for a new thread's: it drops the thread's frames, and a
 * return tattach hijacked then has none to go back to.
 */
#include <string.h>

#include "attach/process/tcb.h"

static int32_t word32(const uint8_t *tcb, size_t off)
{
	int32_t v;

	memcpy(&v, tcb + off, sizeof(v));
	return v;
}

int32_t tcb_tid_offset(const uint8_t *const *tcbs, const int32_t *tids, size_t n,
		       size_t len)
{
	if (!n)
		return 0;
	for (size_t off = 16; off + sizeof(int32_t) <= len && off + 4 <= TCB_SPAN; off += 4) {
		size_t i;

		for (i = 0; i < n; i++)
			if (word32(tcbs[i], off) != tids[i] ||
			    (off % 8 == 4 && word32(tcbs[i], off - 4) != 0))
				break;
		if (i == n)
			return (int32_t)off;
	}
	return 0;
}
