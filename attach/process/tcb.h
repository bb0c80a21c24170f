/* SPDX-License-Identifier: MIT */
/*
 * Where a thread's control block (the memory %fs points to) keeps the
 * thread's tid, learnt from copies of held threads' TCBs.
 */
#ifndef TATTACH_TCB_H
#define TATTACH_TCB_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of each TCB that tcb_tid_offset() looks at, from %fs:0. */
#define TCB_SPAN 2048

/*
 * tcb_tid_offset - the first offset (from 16) at which each of the @n
 * TCB copies @tcbs (@len bytes each) holds its thread's tid @tids[i],
 * as a 32-bit value; 0 when there is none.  An offset 4 bytes into an
 * 8-byte word whose low half is not 0 is passed over: that is the high
 * half of a 64-bit value, such as a pointer into the 0x7fXX... range,
 * which equals a tid of 0x7f00 - 0x7fff by chance (a pid_max of 32768
 * gives such tids); glibc's and musl's tid fields are 8-byte aligned.
 */
int32_t tcb_tid_offset(const uint8_t *const *tcbs, const int32_t *tids, size_t n,
		       size_t len);

#endif
