// SPDX-License-Identifier: MIT
/*
 * Stopping: PTRACE_SEIZE + PTRACE_INTERRUPT per thread (never
 * PTRACE_ATTACH, whose SIGSTOP can race with the program's own stop
 * signals), repeated over /proc/PID/task until a full pass finds no new
 * thread: a stopped thread cannot clone, and a clone already in flight
 * shows up in the next pass.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach/log.h"
#include "attach/process/priority.h"
#include "attach/process/proc.h"
#include "attach/process/seize.h"

#define HOLD_PASSES 100

static struct held_thread *held_find(struct held *h, pid_t tid)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].tid == tid)
			return &h->v[i];
	return NULL;
}

/* Is @tid waiting in vfork()?  Then it is named in @h (h->in_vfork): it
 * cannot stop before its child execs or exits (seize.h, -EAGAIN). */
static int waits_in_vfork(struct held *h, pid_t tid)
{
	if (!proc_thread_in_vfork(h->pid, tid))
		return 0;
	h->in_vfork = tid;
	return 1;
}

static int timespec_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/*
 * Wait for the interrupt stop of a freshly seized thread @tid of @h.
 * Returns 1 when stopped, 0 when the thread exited meanwhile, -EAGAIN
 * when it waits in vfork() (it entered it after we looked: it cannot stop
 * before its child execs or exits, which hold_all() then waits for, the
 * thread still seized), -errno on error.
 *
 * A signal that arrives first is handed back to the thread untouched, and
 * the thread is asked to stop again: a stop for a signal can make the
 * kernel forget the interrupt still pending, and the thread then runs on
 * while we wait for a stop that never comes.  Against a thread taking a
 * timer's signal every 200 us, 15 of 200 interrupts were lost that way
 * (tattach hung in --enable); asked again, none.  The thread then stops on
 * its way into its handler, a place like any other for us.  Should the
 * first interrupt have been kept after all, the second may find the thread
 * stopped, and make one more stop when it runs again: remote.c's waits go
 * on past it, and a detach forgets it.
 *
 * The wait is for SIGCHLD, which the kernel sends us at every stop of a
 * tracee; every 50 ms without one, we look whether the thread is in vfork.
 * With a @deadline (CLOCK_MONOTONIC; @h unused), we do not look, and
 * return -ETIMEDOUT once it passed: hold_wait_vfork()'s wait.
 */
static int wait_stop(struct held *h, pid_t tid, const struct timespec *deadline)
{
	const struct timespec recheck = { 0, 50 * 1000 * 1000 };
	sigset_t chld, old;
	int status, ret;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &old);
	for (;;) {
		pid_t got = waitpid(tid, &status, __WALL | WNOHANG);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			ret = errno == ECHILD ? 0 : -errno;
			break;
		}
		if (got == 0 && deadline) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (timespec_after(&now, deadline)) {
				ret = -ETIMEDOUT;
				break;
			}
			sigtimedwait(&chld, NULL, &recheck);
			continue;
		}
		if (got == 0) {
			/* the /proc read only after a quiet wait: the other
			 * threads were asked first, most stops are here already */
			if (sigtimedwait(&chld, NULL, &recheck) < 0 && errno == EAGAIN &&
			    waits_in_vfork(h, tid)) {
				ret = -EAGAIN;
				break;
			}
			continue;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			ret = 0;
			break;
		}
		if (!WIFSTOPPED(status))
			continue;
		if ((status >> 16) == PTRACE_EVENT_STOP) {
			ret = 1;
			break;
		}
		/* signal-delivery-stop: pass the signal on, ask again */
		if (ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(status)) < 0 ||
		    ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
			ret = errno == ESRCH ? 0 : -errno;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static int wait_interrupt_stop(struct held *h, pid_t tid)
{
	return wait_stop(h, tid, NULL);
}

/*
 * A thread that is exiting cannot be seized (EPERM once it is a zombie,
 * ESRCH once reaped): it is simply gone, not a permission problem.
 */
static int seize_error(struct held *h, pid_t tid, int err)
{
	if (err == ESRCH || proc_thread_gone(h->pid, tid))
		return 0;
	return -err;
}

/*
 * Our interrupt made a blocking call that is not restartable by the kernel
 * (epoll_wait, poll with a timeout, sigtimedwait, ...) return EINTR.  If no
 * signal of the program's own is pending, that EINTR is ours alone: rewind
 * the thread onto its "syscall" instruction to call it again.
 */
static void undo_our_eintr(pid_t pid, struct held_thread *t)
{
	struct user_regs_struct *r = &t->regs;
	uint64_t pending = 0, shared = 0;
	long insn;

	if ((long)r->orig_rax < 0 || (long)r->rax != -EINTR)
		return;
	errno = 0;
	insn = ptrace(PTRACE_PEEKTEXT, t->tid, r->rip - 2, 0);
	if (errno || (insn & 0xffff) != 0x050f)
		return;
	proc_status_hex(pid, t->tid, "SigPnd", &pending);
	proc_status_hex(pid, t->tid, "ShdPnd", &shared);
	if ((pending | shared) & ~t->sigmask)
		return;
	r->rax = r->orig_rax;
	r->rip -= 2;
	t->fixed_eintr = 1;
	/* Now, not at release: should we die, the kernel lets the thread go
	 * with these registers, and it calls again instead of seeing EINTR. */
	if (ptrace(PTRACE_SETREGS, t->tid, 0, r) < 0)
		t->regs_changed = 1;	/* try again at release */
}

/* Ask @tid to stop: 1 when asked, 0 when it is gone, -errno on error
 * (-EAGAIN for a thread waiting in vfork(), see seize.h). */
static int seize_one(struct held *h, pid_t tid)
{
	int ret;

	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD) < 0)
		return seize_error(h, tid, errno);
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		ret = seize_error(h, tid, errno);
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return ret;
	}
	return 1;
}

/* Wait for the stop seize_one() asked of @tid and record the thread. */
static int hold_one(struct held *h, pid_t tid)
{
	struct held_thread *t;
	int ret;

	ret = wait_interrupt_stop(h, tid);
	if (ret <= 0)
		return ret;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		struct held_thread *nv = realloc(h->v, cap * sizeof(*nv));

		if (!nv) {
			ptrace(PTRACE_DETACH, tid, 0, 0);
			return -ENOMEM;
		}
		h->v = nv;
		h->cap = cap;
	}
	t = &h->v[h->n];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	if (ptrace(PTRACE_GETREGS, tid, 0, &t->regs) < 0 ||
	    ptrace(PTRACE_GETSIGMASK, tid, sizeof(t->sigmask), &t->sigmask) < 0) {
		ret = -errno;
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return ret == -ESRCH ? 0 : ret;
	}
	undo_our_eintr(h->pid, t);
	h->eintr_fixed += t->fixed_eintr;
	h->n++;
	return 1;
}

/* After an error: let go of the threads asked to stop but not recorded. */
static void drop_seized(struct held *h, const pid_t *tids, const uint8_t *asked,
			size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		if (asked[i] && wait_interrupt_stop(h, tids[i]) > 0)
			ptrace(PTRACE_DETACH, tids[i], 0, 0);
}

/*
 * One pass over the threads listed now: every new one is asked to stop
 * first, then each stop is waited for, so the threads stop together (a
 * thousand threads in about the time of one round of scheduling) instead
 * of one after the other.  Returns how many were newly held, or -errno.
 */
static int hold_pass(struct held *h, const pid_t *tids, size_t ntids)
{
	uint8_t *asked = calloc(ntids ? ntids : 1, 1);
	int fresh = 0, ret = 0;
	size_t i;

	if (!asked)
		return -ENOMEM;
	/* Looked at first, all of them before the first is asked to stop (a
	 * /proc read each, which the process would otherwise wait for):
	 * seized, a thread in vfork() would stay so until its child execs.
	 * One that enters vfork() after this is found by the wait. */
	for (i = 0; i < ntids; i++)
		if (!held_find(h, tids[i]) && waits_in_vfork(h, tids[i])) {
			ret = -EAGAIN;
			goto out;
		}
	/* The pause the process feels starts when its first thread is asked
	 * to stop (an upper bound: that thread stops a little later). */
	if (!h->n)
		clock_gettime(CLOCK_MONOTONIC, &h->stopped_at);
	for (i = 0; i < ntids; i++) {
		if (held_find(h, tids[i]))
			continue;
		ret = seize_one(h, tids[i]);
		if (ret < 0)
			break;
		asked[i] = (uint8_t)ret;
	}
	if (ret < 0) {
		drop_seized(h, tids, asked, 0, i);
		goto out;
	}
	for (i = 0; i < ntids; i++) {
		if (!asked[i])
			continue;
		ret = hold_one(h, tids[i]);
		if (ret < 0) {
			drop_seized(h, tids, asked, i + 1, ntids);
			goto out;
		}
		fresh += ret;
	}
	ret = fresh;
out:
	free(asked);
	return ret;
}

static const struct hold_ops *hold_ops;	/* tattach --follow holds them */

void hold_set_ops(const struct hold_ops *ops)
{
	hold_ops = ops;
}

int hold_record(struct held *h, pid_t tid)
{
	struct held_thread *t;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		struct held_thread *nv = realloc(h->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		h->v = nv;
		h->cap = cap;
	}
	t = &h->v[h->n];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	if (ptrace(PTRACE_GETREGS, tid, 0, &t->regs) < 0 ||
	    ptrace(PTRACE_GETSIGMASK, tid, sizeof(t->sigmask), &t->sigmask) < 0)
		return -errno;
	undo_our_eintr(h->pid, t);
	h->eintr_fixed += t->fixed_eintr;
	h->n++;
	return 0;
}

int hold_wait_vfork(pid_t tid, const struct timespec *deadline)
{
	int ret;

	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD) < 0) {
		if (errno == ESRCH)
			return 1;
		/* seized by us already (hold_pass() found it waiting): ours
		 * if we may ask it to stop; else another tracer's */
		if (errno != EPERM)
			return -errno;
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
			return -EPERM;
	} else if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		ret = errno;
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return ret == ESRCH ? 1 : -ret;
	}
	/* its stop comes when vfork() returns */
	ret = wait_stop(NULL, tid, deadline);
	if (ret == -ETIMEDOUT)
		return 0;	/* stays seized, its stop pending (seize.h) */
	if (ret > 0)
		ptrace(PTRACE_DETACH, tid, 0, 0);
	return ret < 0 ? ret : 1;
}

void hold_vfork_deadline(struct timespec *deadline)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += HOLD_VFORK_WAIT_S;
}

static int hold_all_once(pid_t pid, struct held *h);

int hold_all(pid_t pid, struct held *h)
{
	struct timespec deadline;
	int ret;

	priority_raise();	/* undone by release_all() */
	if (hold_ops) {	/* --follow: our tracees already, stopped by it */
		ret = hold_ops->hold(pid, h);
		if (!ret)
			proc_maps_freeze(pid);
		else
			priority_restore();
		return ret;
	}
	hold_vfork_deadline(&deadline);
	for (;;) {
		struct timespec now;
		pid_t tid;
		int left;

		ret = hold_all_once(pid, h);	/* on failure, nothing held */
		if (ret != -EAGAIN || !h->in_vfork)
			return ret;
		/* Nothing of the process is stopped while we wait for the
		 * thread to leave vfork(); then all over again, until the
		 * deadline (threads that vfork() one after the other) */
		tid = h->in_vfork;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timespec_after(&now, &deadline) ? 0 : hold_wait_vfork(tid, &deadline);
		if (left <= 0) {
			h->in_vfork = tid;
			return left < 0 ? left : -EAGAIN;
		}
		priority_raise();
	}
}

static int hold_all_once(pid_t pid, struct held *h)
{
	int ret = 0;

	memset(h, 0, sizeof(*h));
	h->pid = pid;
	for (int pass = 0; pass < HOLD_PASSES; pass++) {
		size_t ntids, fresh = 0;
		pid_t *tids;

		ret = proc_tasks(pid, &tids, &ntids);
		if (ret)
			goto fail;
		ret = hold_pass(h, tids, ntids);
		free(tids);
		if (ret < 0)
			goto fail;
		fresh = (size_t)ret;
		if (!fresh && h->n) {
			proc_maps_freeze(pid);
			return 0;
		}
		if (!fresh && !h->n) {
			ret = -ESRCH;
			goto fail;
		}
	}
	pr_err("threads of pid %d kept appearing while stopping it; try again",
	       (int)pid);
	ret = -EAGAIN;
fail:
	release_all(h);
	return ret;
}

int hold_thread(pid_t pid, pid_t tid, struct held *h)
{
	int ret;

	memset(h, 0, sizeof(*h));
	h->pid = pid;
	priority_raise();	/* undone by release_all() */
	if (waits_in_vfork(h, tid)) {
		priority_restore();
		return -EAGAIN;
	}
	clock_gettime(CLOCK_MONOTONIC, &h->stopped_at);
	ret = seize_one(h, tid);
	if (ret > 0)
		ret = hold_one(h, tid);
	if (ret > 0 && h->n == 1)
		return 0;
	release_all(h);
	return ret < 0 ? ret : -ESRCH;
}

int release_all(struct held *h)
{
	int first = 0;

	proc_maps_thaw();
	if (hold_ops) {	/* --follow: it resumes them itself */
		first = hold_ops->release(h);
		clock_gettime(CLOCK_MONOTONIC, &h->released_at);
		priority_restore();
		return first;
	}

	for (size_t i = 0; i < h->n; i++) {
		struct held_thread *t = &h->v[i];

		/* ESRCH: killed while held (SIGKILL gets through), gone */
		if (t->regs_changed &&
		    ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0 && errno != ESRCH &&
		    !first)
			first = -errno;
		/* Only the thread that made remote calls had its mask changed:
		 * skipping the others saves a system call per thread. */
		if (t->sigmask_changed &&
		    ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->sigmask),
			   &t->sigmask) < 0 && errno != ESRCH && !first)
			first = -errno;
		if (ptrace(PTRACE_DETACH, t->tid, 0, 0) < 0 && errno != ESRCH &&
		    !first)
			first = -errno;
	}
	clock_gettime(CLOCK_MONOTONIC, &h->released_at);
	priority_restore();	/* the process runs: tattach's pause is over */
	/* deliver the stop we held back, now that nothing of ours runs */
	if (h->stop_signal && h->pid > 0)
		kill(h->pid, h->stop_signal);
	h->stop_signal = 0;
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
	return first;
}

/* Is @si the trap of our own single step, not a SIGTRAP sent to the
 * thread (kill, sigqueue: si_code <= 0) or an int3 of its code? */
static int is_step_trap(const siginfo_t *si)
{
	return si->si_code > 0 && si->si_code != SI_KERNEL;
}

/* Is @sig, delivered now, run by a handler of the program's? */
static int caught(pid_t pid, pid_t tid, int sig)
{
	uint64_t mask;

	return proc_status_hex(pid, tid, "SigCgt", &mask) == 0 && (mask >> (sig - 1) & 1);
}

int held_step(struct held *h, struct held_thread *t, int *handlers)
{
	int status, sig, deliver = 0;
	siginfo_t si;

	/* registers set aside for the release (an EINTR undone) go first:
	 * the step starts where the thread would go on from */
	if (t->regs_changed && ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0)
		return -errno;
	t->regs_changed = 0;
	for (;;) {
		if (deliver && caught(h->pid, t->tid, deliver))
			++*handlers;
		if (ptrace(PTRACE_SINGLESTEP, t->tid, 0, (long)deliver) < 0)
			return -errno;
		deliver = 0;
		while (waitpid(t->tid, &status, __WALL) < 0)
			if (errno != EINTR)
				return -errno;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (!WIFSTOPPED(status) || (status >> 16))
			continue;	/* a group stop's event: step again */
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP && ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) == 0 &&
		    is_step_trap(&si))
			break;
		/* a signal came before the instruction ran */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			h->stop_signal = sig;
		else
			deliver = sig;
	}
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) < 0)
		return -errno;
	return 0;
}

double held_elapsed_us(const struct held *h)
{
	struct timespec end = h->released_at;

	if (!end.tv_sec && !end.tv_nsec)
		clock_gettime(CLOCK_MONOTONIC, &end);
	return (end.tv_sec - h->stopped_at.tv_sec) * 1e6 +
	       (end.tv_nsec - h->stopped_at.tv_nsec) / 1e3;
}
