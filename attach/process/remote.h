/* SPDX-License-Identifier: MIT */
/* Running a system call in a held thread of the target. */
#ifndef TATTACH_REMOTE_H
#define TATTACH_REMOTE_H

#include <stdint.h>

#include "attach/process/seize.h"

struct remote {
	struct held *held;
	struct held_thread *thread;	/* the thread that makes the calls */
	uint64_t gadget;		/* address of a "syscall" instruction */
	uint64_t rescue;		/* the rescue page, once there is one */
	uint64_t scratch;		/* temporary rescue code, until then */
	int memfd;			/* /proc/PID/mem, read-write */
	int parked;			/* thread stopped inside rescue code */
};

/*
 * remote_open - pick a live thread of @h to run system calls in and open
 * the target's memory.  With a @rescue page (made by an earlier run), the
 * calls go through it; otherwise through a "syscall" instruction found in
 * the vDSO (or libc) until remote_make_rescue().  Returns 0 or -errno.
 */
int remote_open(struct remote *r, struct held *h, uint64_t rescue);

/*
 * remote_use_scratch - for the calls before the rescue page exists (its
 * own mmap), put a temporary copy of the rescue code at @scratch: zero
 * padding after the end of an executable segment, which no code runs.
 * remote_make_rescue() zeroes it again.  Returns 0, or -EEXIST if the
 * bytes there are not all zero (then the vDSO's syscall is used).
 */
int remote_use_scratch(struct remote *r, uint64_t scratch);
size_t remote_rescue_size(void);

/*
 * remote_make_rescue - map the rescue page (attach/tramp/rescue.S) into the
 * target and make it the place of every later remote call: from then on,
 * tattach dying at any moment leaves the borrowed thread where it was.
 * The one call made before it exists (its mmap) is the only unprotected
 * one.  Returns 0 (r->rescue set) or -errno.
 */
int remote_make_rescue(struct remote *r);
void remote_close(struct remote *r);

/*
 * remote_syscall - make the thread run syscall @nr with @args and return
 * its result (>= 0) or -errno as the kernel returned it.  All signals are
 * blocked for the call; the thread's registers and mask are put back when
 * it is released (release_all()).  A failure to drive the thread itself
 * is logged and returned as -EIO.
 */
long remote_syscall(struct remote *r, long nr, uint64_t a1, uint64_t a2,
		    uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6);

/*
 * remote_move - the held thread @t must go on at t->regs (already changed
 * by the caller), also if tattach dies from here on.  The thread that makes
 * our calls waits inside the rescue code with every signal blocked: for it
 * the rescue context is rewritten (a death then resumes it there, with its
 * own mask), and the registers are set at release.  Returns 0 or -errno.
 */
int remote_move(struct remote *r, struct held_thread *t);

/* Test seam: one more of TATTACH_TEST_DIE_AT's kill points (remote.c). */
void remote_test_kill_point(void);

/* Bulk access to the target's memory through /proc/PID/mem. */
int remote_read(struct remote *r, uint64_t addr, void *buf, size_t len);
int remote_write(struct remote *r, uint64_t addr, const void *buf, size_t len);
/* The same into memory the target can write (no code): faster for large
 * writes (process_vm_writev). */
int remote_write_data(struct remote *r, uint64_t addr, const void *buf, size_t len);

#endif
