/* SPDX-License-Identifier: MIT */
/*
 * Holding every thread of a process still, and letting it go exactly as it
 * was.  See docs/how-it-works.md, "Stopping the target".
 */
#ifndef TATTACH_SEIZE_H
#define TATTACH_SEIZE_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include <time.h>

struct held_thread {
	pid_t tid;
	struct user_regs_struct regs;	/* as found at the stop */
	uint64_t sigmask;		/* as found at the stop */
	int regs_changed;		/* regs must be written back */
	int sigmask_changed;		/* sigmask must be written back */
	int fixed_eintr;		/* an EINTR caused by our stop was undone */
};

struct held {
	pid_t pid;
	struct held_thread *v;
	size_t n, cap;
	struct timespec stopped_at;	/* the first thread asked to stop here */
	struct timespec released_at;	/* the last one let go (release_all()) */
	size_t eintr_fixed;		/* EINTRs our stop caused, undone */
	int stop_signal;		/* a job stop that arrived while held */
	pid_t in_vfork;			/* -EAGAIN: this thread waits in vfork() */
};

/*
 * hold_all - seize and stop every thread of @pid, including threads
 * created while we were stopping the others.
 * Threads that exit meanwhile (also a main thread that called
 * pthread_exit(): a zombie leader) are skipped, not errors.
 * A thread waiting in vfork() cannot stop before its child calls exec or
 * exits: with nothing of the process stopped, we wait up to
 * HOLD_VFORK_WAIT_S seconds for that (hold_wait_vfork()), then start
 * again.
 * Returns 0, or -ESRCH (no such process), -EPERM (not allowed, reason
 * logged), -EBUSY (already traced by someone else), -EAGAIN (h->in_vfork
 * set: that thread still waits in vfork() after HOLD_VFORK_WAIT_S; or
 * threads kept appearing, logged), other -errno.  On failure no thread is
 * left held.
 */
int hold_all(pid_t pid, struct held *h);

/* How long tattach waits for a thread to leave vfork(). */
#define HOLD_VFORK_WAIT_S 2

/*
 * hold_wait_vfork - wait until thread @tid leaves vfork() (its
 * stop, asked for now, comes when vfork() returns; a real event, no
 * polling of /proc), or @deadline (CLOCK_MONOTONIC) passes; nothing else
 * of its process is stopped.  Returns 1 when it left (let go again) or is
 * gone, 0 at the deadline (it then stays seized, its stop pending, until
 * tattach exits, when the kernel drops both), or -errno.
 */
int hold_wait_vfork(pid_t tid, const struct timespec *deadline);

/* @deadline: HOLD_VFORK_WAIT_S from now. */
void hold_vfork_deadline(struct timespec *deadline);

/*
 * hold_thread - seize and stop thread @tid of @pid alone, the others
 * running: enough for remote system calls that change nothing the other
 * threads run (session.c, the first --enable's injection).  Returns 0, or
 * -errno with nothing held (-EAGAIN: it waits in vfork(); -ESRCH: gone).
 */
int hold_thread(pid_t pid, pid_t tid, struct held *h);

/*
 * release_all - put back registers and signal masks and detach every
 * thread.  (A thread whose blocking system call our stop turned into an
 * EINTR was set up to call it again as soon as it was held, so the program
 * never sees it, even if tattach dies.)
 * Returns 0 or the first -errno met (the remaining threads are still
 * released).
 */
int release_all(struct held *h);

/*
 * A tracer that already holds the process (tattach --follow, attach/follow/)
 * cannot seize it again: it stops the threads itself and hands them over
 * through these.  hold_all() and release_all() call them instead of
 * seizing and detaching while they are set (NULL: the usual way).
 */
struct hold_ops {
	int (*hold)(pid_t pid, struct held *h);
	int (*release)(struct held *h);
};
void hold_set_ops(const struct hold_ops *ops);

/*
 * hold_record - add thread @tid, stopped by the caller (a tracer that
 * holds it already), to @h as hold_all() would: its registers and mask,
 * and an EINTR our stop caused undone.  Returns 0 or -errno.
 */
int hold_record(struct held *h, pid_t tid);

/*
 * held_step - let held thread @t run one instruction and stop again, its
 * registers read into t->regs (where it now is: nothing to write back).
 * A signal that comes first is not lost: a job stop is kept for
 * release_all() (as remote calls keep it); any other is delivered with
 * the step, as it would have been had the thread run, and if the program
 * catches it, the thread is then at its handler and *@handlers grows by
 * one.  Returns 0, -ESRCH (gone) or -errno.
 */
int held_step(struct held *h, struct held_thread *t, int *handlers);

/* Microseconds from asking the first thread to stop until release_all()
 * let the last one go (until now, before it).  Not until the caller
 * reads the clock: tattach may wait for a CPU in between, as the
 * process runs again. */
double held_elapsed_us(const struct held *h);

#endif
