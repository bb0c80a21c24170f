// SPDX-License-Identifier: MIT
/*
 * What each stop of a followed thread means, and how it goes on.  The rule
 * that keeps the programs' behaviour unchanged: every signal is handed back
 * exactly as it came (signal-delivery-stop: PTRACE_CONT with it), a group
 * stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) stays a stop (PTRACE_LISTEN:
 * stopped for the program and its parent, while we still hear of its
 * end), and only our own stops (interrupts, the dlopen hook's int3,
 * fork/clone/exec events) are swallowed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "attach/follow/dlhook.h"
#include "attach/follow/follow_priv.h"
#include "attach/log.h"

static void go_on(struct follower *f, struct ftask *t, int sig)
{
	pid_t tid = t->tid;

	if (f->ending) {	/* held for the detach, with what it was due */
		t->stopped = 1;
		t->status = sig ? (sig << 8) | 0x7f : 0;
		return;
	}
	t->stopped = 0;
	t->status = 0;
	ptrace(PTRACE_CONT, tid, 0, sig);
}

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * Is @tid still a tracee of ours?  The child's own stops and even its exit
 * can reach us before its parent's fork event: then it is gone, and must
 * not be added back.  WNOWAIT: nothing is consumed.
 */
static int still_ours(pid_t tid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) == 0;
}

static void new_task(struct follower *f, struct ftask *parent, int event)
{
	unsigned long msg = 0;
	struct ftask *c;
	pid_t child, tgid;

	if (ptrace(PTRACE_GETEVENTMSG, parent->tid, 0, &msg) < 0 || !msg)
		return;
	child = (pid_t)msg;
	tgid = event == PTRACE_EVENT_CLONE ? parent->tgid : child;
	/* Its own first stop may have come first: then it is known already. */
	c = tree_find(&f->tree, child);
	if (!c && !still_ours(child))
		return;		/* it has come and gone already */
	if (!c) {
		c = tree_add(&f->tree, child, tgid);
		if (!c) {
			pr_err("out of memory: thread %d is not followed", (int)child);
			return;
		}
		c->first = 1;
	}
	/*
	 * A vfork() or posix_spawn() child may run to its exec before we
	 * hear of its parent's event (waitpid() reports the two tasks in any
	 * order): it runs an image of its own by then, which exec_done() is
	 * tracing; taking it for a fork child would leave it without a ring.
	 */
	if (!c->execed) {
		c->tgid = tgid;
		c->inherited = event == PTRACE_EVENT_CLONE ? parent->inherited : 1;
	}
	if (event != PTRACE_EVENT_CLONE)
		pr_info("pid %d: %s child %d", (int)parent->tgid,
			event == PTRACE_EVENT_FORK ? "forked" : "vforked", (int)child);
}

/*
 * At the exec event the thread is still inside execve(): take it to the
 * call's exit first, or the remote calls (remote.c counts syscall stops)
 * would take that exit for their own entry.  0, or -ESRCH if it died.
 */
static int finish_execve(pid_t tid)
{
	int status, sig = 0;

	for (;;) {
		if (ptrace(PTRACE_SYSCALL, tid, 0, sig) < 0)
			return -errno;
		while (waitpid(tid, &status, __WALL) < 0)
			if (errno != EINTR)
				return -errno;
		if (!WIFSTOPPED(status))
			return -ESRCH;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			return 0;
		/* a signal meanwhile: it goes on as it came */
		sig = (status >> 16) ? 0 : WSTOPSIG(status);
	}
}

/* The thread that called execve is the process now, alone. */
static void exec_done(struct follower *f, struct ftask *t)
{
	pid_t pid = t->tid;

	for (size_t i = 0; i < f->tree.n;) {
		if (f->tree.v[i].tgid == pid && f->tree.v[i].tid != pid)
			tree_del(&f->tree, f->tree.v[i].tid);
		else
			i++;
	}
	t = tree_find(&f->tree, pid);
	if (!t)
		return;
	t->tgid = pid;
	t->inherited = 0;
	t->execed = 1;
	t->stopped = 1;
	t->status = 0;
	if (f->ending)
		return;
	f->images++;
	if (finish_execve(pid)) {
		tree_del(&f->tree, pid);
		return;
	}
	follow_new_image(f, pid);
	t = tree_find(&f->tree, pid);
	if (t && t->stopped)
		go_on(f, t, 0);
}

void follow_event(struct follower *f, pid_t tid, int status)
{
	struct ftask *t = tree_find(&f->tree, tid);
	int sig, event;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (t && tid == t->tgid)
			pr_info("pid %d ended", (int)tid);
		tree_del(&f->tree, tid);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	if (!t) {
		/* a new thread or process, before its parent's event */
		t = tree_add(&f->tree, tid, 0);
		if (!t) {
			ptrace(PTRACE_DETACH, tid, 0, 0);
			return;
		}
		t->first = 1;
	}
	t->stopped = 1;
	sig = WSTOPSIG(status);
	event = (status >> 16) & 0xff;
	switch (event) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		new_task(f, t, event);
		go_on(f, t, 0);
		return;
	case PTRACE_EVENT_EXEC:
		exec_done(f, t);
		return;
	case PTRACE_EVENT_STOP:
		if (is_stop_signal(sig) && !t->first) {
			/* a group stop: it stays stopped, we hear when it ends */
			t->stopped = 0;
			if (f->ending) {
				t->stopped = 1;
				t->status = 0;
				return;
			}
			ptrace(PTRACE_LISTEN, tid, 0, 0);
			return;
		}
		t->first = 0;
		go_on(f, t, 0);	/* our interrupt, a new thread, a stop's end */
		return;
	case 0:
		break;
	default:
		go_on(f, t, 0);
		return;
	}
	if (sig & 0x80) {		/* a syscall stop: not ours to have */
		go_on(f, t, 0);
		return;
	}
	if (sig == SIGTRAP && !f->ending) {
		struct user_regs_struct regs;
		struct dlhook_stub st;

		if (ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0 &&
		    dlhook_trapped(tid, regs.rip, &st)) {
			follow_enable_loaded(f, tid, &st);
			return;
		}
	}
	go_on(f, t, sig);
}
