// SPDX-License-Identifier: MIT
/*
 * Holding a followed process still: its threads are our tracees already,
 * so PTRACE_INTERRUPT alone stops them.  A thread that meets another stop
 * first (a signal, a fork) is held in that stop instead; what the stop
 * asked for is done when it is resumed, so nothing is lost or doubled (the
 * interrupt still pending then shows up as one more stop, resumed at once).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include "attach/follow/follow_priv.h"
#include "attach/log.h"
#include "attach/process/proc.h"
#include "attach/process/seize.h"

static struct follower *holder;	/* for the hold_ops below */

int follow_wait_stop(struct follower *f, pid_t tid)
{
	struct ftask *t;
	int status;

	for (;;) {
		if (waitpid(tid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			tree_del(&f->tree, tid);
			return -ESRCH;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			tree_del(&f->tree, tid);
			return -ESRCH;
		}
		if (WIFSTOPPED(status))
			break;
	}
	t = tree_find(&f->tree, tid);
	if (!t)
		return -ESRCH;
	t->stopped = 1;
	/* our interrupt (or a group stop's end): nothing to deliver */
	t->status = (status >> 16) == PTRACE_EVENT_STOP && WSTOPSIG(status) == SIGTRAP ?
		    0 : status;
	return 0;
}

int follow_zombie_leader(const struct ftask *t)
{
	return t->tid == t->tgid && proc_thread_gone(t->tgid, t->tid);
}

int follow_stop_process(struct follower *f, pid_t tgid)
{
	pid_t *tids = calloc(f->tree.n + 1, sizeof(*tids));
	size_t n = 0;

	if (!tids)
		return -ENOMEM;
	for (size_t i = 0; i < f->tree.n; i++) {
		struct ftask *t = &f->tree.v[i];

		if (t->tgid != tgid || t->stopped)
			continue;
		/* A thread waiting in vfork() (posix_spawn) cannot stop before
		 * its child execs or exits, and runs none of its code before:
		 * held as it is (the child waits for us, at its exec event). */
		t->unstoppable = proc_thread_in_vfork(tgid, t->tid);
		if (t->unstoppable)
			continue;
		/* A main thread that has exited while others run reports its
		 * exit only after the last one (and an interrupt is a no-op on
		 * it): not waited for now; the main loop collects it later. */
		t->unstoppable = follow_zombie_leader(t);
		if (t->unstoppable)
			continue;
		/* ESRCH: exiting; its exit status is still ours to collect */
		ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
		tids[n++] = t->tid;
	}
	for (size_t i = 0; i < n; i++)
		follow_wait_stop(f, tids[i]);
	free(tids);
	return tree_count(&f->tree, tgid) ? 0 : -ESRCH;
}

void follow_resume_task(struct follower *f, pid_t tid)
{
	struct ftask *t = tree_find(&f->tree, tid);
	int status;

	if (!t || !t->stopped)
		return;
	status = t->status;
	t->status = 0;
	if (status) {
		follow_event(f, tid, status);
		return;
	}
	t->stopped = 0;
	ptrace(PTRACE_CONT, tid, 0, 0);	/* ESRCH: its exit is reported next */
}

void follow_resume_process(struct follower *f, pid_t tgid)
{
	pid_t *tids = calloc(f->tree.n + 1, sizeof(*tids));
	size_t n = 0;

	if (!tids)
		return;
	for (size_t i = 0; i < f->tree.n; i++)
		if (f->tree.v[i].tgid == tgid && f->tree.v[i].stopped)
			tids[n++] = f->tree.v[i].tid;
	for (size_t i = 0; i < n; i++)
		follow_resume_task(f, tids[i]);
	free(tids);
}

/* hold_all() for session_enable(): the threads are held already. */
static int hold_held(pid_t pid, struct held *h)
{
	int ret;

	memset(h, 0, sizeof(*h));
	h->pid = pid;
	clock_gettime(CLOCK_MONOTONIC, &h->stopped_at);
	/* Threads in our own stops first: remote_open() makes its calls in
	 * the first, and one held in a fork or exec event is inside that
	 * system call, where remote.c's count of syscall stops would be off. */
	for (size_t i = 0; i < 2 * holder->tree.n; i++) {
		struct ftask *t = &holder->tree.v[i % holder->tree.n];

		if (t->tgid != pid || (i < holder->tree.n) != !t->status ||
		    (!t->stopped && t->unstoppable))
			continue;
		if (!t->stopped) {
			pr_err("pid %d: thread %d is not held", (int)pid, (int)t->tid);
			ret = -EAGAIN;
			goto fail;
		}
		ret = hold_record(h, t->tid);
		if (ret == -ESRCH)
			continue;
		if (ret)
			goto fail;
	}
	if (h->n)
		return 0;
	ret = -ESRCH;
fail:
	free(h->v);
	memset(h, 0, sizeof(*h));
	return ret;
}

/*
 * The thread that made our remote calls is in a syscall-exit stop now, not
 * in the stop we found it in.  Resumed from there by PTRACE_CONT, the
 * kernel does not restart the call our interrupt broke (a detach would:
 * it raises TIF_SIGPENDING, so the exit path runs the restart logic): the
 * program would see -ERESTARTSYS.  So restart it as the kernel would, as
 * the rescue code's context does (remote.c, write_rescue_ctx()).
 */
static void restart_broken_call(struct user_regs_struct *r)
{
	if ((long)r->orig_rax < 0)
		return;
	switch ((long)r->rax) {
	case -512:	/* ERESTARTSYS */
	case -513:	/* ERESTARTNOINTR */
	case -514:	/* ERESTARTNOHAND */
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case -516:	/* ERESTART_RESTARTBLOCK */
		r->rax = SYS_restart_syscall;
		r->rip -= 2;
		break;
	}
}

/* release_all(): registers and masks back; the follower resumes them. */
static int release_held(struct held *h)
{
	int first = 0;

	for (size_t i = 0; i < h->n; i++) {
		struct held_thread *t = &h->v[i];

		if (t->sigmask_changed) {	/* made the remote calls */
			restart_broken_call(&t->regs);
			t->regs_changed = 1;
		}

		if (t->regs_changed && ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0 &&
		    errno != ESRCH && !first)
			first = -errno;
		if (t->sigmask_changed &&
		    ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->sigmask), &t->sigmask) < 0 &&
		    errno != ESRCH && !first)
			first = -errno;
	}
	if (h->stop_signal && h->pid > 0)
		kill(h->pid, h->stop_signal);	/* delivered once resumed */
	h->stop_signal = 0;
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
	return first;
}

static const struct hold_ops held_ops = { hold_held, release_held };

void follow_hold_as_session(struct follower *f, int on)
{
	holder = f;
	hold_set_ops(on ? &held_ops : NULL);
}
