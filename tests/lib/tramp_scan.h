/* SPDX-License-Identifier: MIT */
/*
 * Looking for tattach in a live process from the outside, for the tests
 * of --disable (tests/integration/test_unhijack.c): a return address
 * that still leads into the trampoline, a GOT entry that still points
 * into it, and GOTs compared byte for byte with a twin process that was
 * never traced (both without address randomisation).
 */
#ifndef TATTACH_TEST_TRAMP_SCAN_H
#define TATTACH_TEST_TRAMP_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Returns into the trampoline (a tp_return of @pid's trampoline copies,
 * or a stub's return: tramp_return_in()) on the live part of every
 * thread's stack (from its stack pointer up to the end of that
 * mapping), where a hijacked return address would be.  Every thread must
 * be blocked in a system call (its stack pointer is read from
 * /proc/PID/task/TID/syscall).  Returns how many; the first is described
 * in @where.  -1 if a thread's stack could not be read.
 */
long tramp_scan_stacks(pid_t pid, char *where, size_t len);

/* The same, and the first return found in *@first. */
long tramp_scan_stacks_first(pid_t pid, uint64_t *first, char *where, size_t len);

/*
 * The site kind (TAT_SITE_LIBCALL, TAT_SITE_ENTRY) of the stub near its
 * module whose landing (tramp_abi.h, TP_NS_RET) is @v: a slot that holds
 * it belongs to a call whose return the stub primed.  0: none.
 */
int tramp_near_landing(pid_t pid, uint64_t v);

/*
 * Words of the .got and .got.plt of every ELF object mapped in @pid that
 * point into a trampoline copy (its hooks are there).  Returns how many;
 * the first is described in @where.
 */
long tramp_scan_got(pid_t pid, char *where, size_t len);

/*
 * Do the .got and .got.plt of every ELF object of @a hold the same bytes
 * in @b?  1 yes; 0 no, the first difference described in @where.
 */
int tramp_same_got(pid_t a, pid_t b, char *where, size_t len);

#endif
