/* SPDX-License-Identifier: MIT */
/*
 * Cutting the traced calls still in flight at --disable loose from the
 * trampoline: every hijacked return address goes back into its stack
 * slot, the shadow frames go, and the ring says the calls were still
 * running (a CUT record, then their EXITs stamped now).  After it no
 * return address points into tattach's code, so the unwinder's GOT
 * entries can go back too (unwind_hooks_remove()).
 */
#ifndef TATTACH_ATTACH_UNHIJACK_H
#define TATTACH_ATTACH_UNHIJACK_H

#include <stddef.h>
#include <stdint.h>

struct held;
struct held_thread;
struct remote;
struct ringfile;
struct shadow;

#define UNHIJACK_KEPT_MAX 16

struct unhijack_report {
	size_t calls;		/* calls cut off: their returns are put back */
	size_t threads;		/* threads with at least one */
	size_t kept;		/* threads left as they were (see unhijack.c) */
	size_t stepped;		/* threads moved past a stub's call */
	/* the first kept threads, and how long each had run (ns) when held */
	int kept_tid[UNHIJACK_KEPT_MAX];
	unsigned long long kept_ran[UNHIJACK_KEPT_MAX];
	/* per held thread: its stack was walked and found outside the
	 * trampoline (unwind_hooks_remove() need not walk it again) */
	unsigned char *walked;
};

/* Free what unhijack_all() allocated in @rep (walked). */
void unhijack_report_free(struct unhijack_report *rep);

/*
 * unhijack_all - with every thread of the process held and every site,
 * library call and entry already off: move threads that are about to
 * call the trampoline from a stub past that call, then, for each held
 * thread not inside trampoline code, put back every return address its
 * shadow stack hijacked (where the slot still holds a tp_return) and
 * empty the shadow stack, writing CUT + EXIT records for its open calls.
 * Returns 0 (@rep says what was done; rep->kept threads keep their
 * frames, and so the hooks) or -errno.  @rep must be zeroed or freed with
 * unhijack_report_free() before.
 */
int unhijack_all(struct remote *r, struct ringfile *rf, struct held *h,
		 struct unhijack_report *rep);

/*
 * unhijack_wait_ran - once the process is released: wait until every kept
 * thread of @rep has run for @min_ns of CPU time more, so that it has left
 * the trampoline (and a signal handler running on top of it), for at most
 * @timeout_ms.  Returns 1 when all ran, 0 if not (or unknown: no
 * /proc/PID/task/TID/schedstat).
 */
int unhijack_wait_ran(int pid, const struct unhijack_report *rep, int timeout_ms,
		      unsigned long long min_ns);

/*
 * unhijack_in_tramp - is a frame of held thread @t inside trampoline code
 * (its innermost, or one below a signal handler or the vDSO), where it may
 * be half way through a shadow-stack update?  1: yes or unknown, 0: no.
 * With @expect_slot, the walk must reach the hijacked return in that
 * stack slot (the innermost one of the running stack), else the answer
 * is unknown: a walk that stops short may have missed trampoline code.
 * @strict: a frame without unwind information on the way (the vDSO's)
 * makes the answer unknown too (libunwind steps over it by guesswork).
 * @slot_addr: the target address of @t's slot (struct tp_thread) when the
 * caller found it, 0 to look it up: the walk goes on past hijacked
 * returns with the addresses its shadow frames kept.
 * Call stackwalk_done() after the last one.
 */
int unhijack_in_tramp(const struct ringfile *rf, const struct shadow *s,
		      const struct held_thread *t, uint64_t slot_addr, uint64_t expect_slot,
		      int strict);

/* The same, of the walk @f[0, @n) of a thread's stack (stackwalk()),
 * with or without the hijacked returns gone on from (walk_opts.unhijack). */
struct walk_frame;
int unhijack_walk_in_tramp(const struct ringfile *rf, const struct shadow *s,
			   const struct walk_frame *f, int n, uint64_t expect_slot, int strict);

#endif /* TATTACH_ATTACH_UNHIJACK_H */
