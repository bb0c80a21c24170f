// SPDX-License-Identifier: MIT
/*
 * tattach --enable --follow: seize the process with the fork, vfork,
 * clone and exec events on (its children are then ours from their first
 * instruction), enable it as --enable does, set the dlopen hook, and wait
 * for events until nothing is left to follow or we are asked to end.
 *
 * Ending (SIGINT, SIGTERM, SIGHUP; 'tattach -p PID --disable' sends
 * SIGTERM): every process is held, the hooks are taken out of
 * _dl_debug_state, the lock is dropped, and every thread is detached with
 * the signal it was due.  Tracing stays as it is in each process (enabled,
 * recording to its ring): --disable after us turns it off.
 *
 * Killed (SIGKILL), the kernel detaches every thread and the lock word
 * loses our tid first: the hooks left behind only return.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach/follow/dlhook.h"
#include "attach/follow/follow.h"
#include "attach/follow/follow_priv.h"
#include "attach/log.h"
#include "attach/process/proc.h"
#include "attach/process/target.h"

#define SEIZE_PASSES 100

/* Seize and stop every thread of @pid, with our options (the threads it
 * creates from then on come as events).  0 or -errno (said). */
static int seize_process(struct follower *f, pid_t pid)
{
	for (int pass = 0; pass < SEIZE_PASSES; pass++) {
		size_t ntids, fresh = 0;
		pid_t *tids;
		int ret = proc_tasks(pid, &tids, &ntids);

		if (ret) {
			pr_err("no process with pid %d", (int)pid);
			return ret;
		}
		for (size_t i = 0; i < ntids; i++) {
			struct ftask *t;

			if (tree_find(&f->tree, tids[i]))
				continue;
			if (ptrace(PTRACE_SEIZE, tids[i], 0, FOLLOW_PTRACE_OPTS) < 0) {
				if (errno == ESRCH || proc_thread_gone(pid, tids[i]))
					continue;
				ret = -errno;
				free(tids);
				if (ret == -EPERM)
					target_explain_eperm(pid);
				else
					pr_err("cannot trace pid %d: %s", (int)pid, strerror(-ret));
				return ret;
			}
			t = tree_add(&f->tree, tids[i], pid);
			if (!t) {
				ptrace(PTRACE_DETACH, tids[i], 0, 0);
				free(tids);
				return -ENOMEM;
			}
			fresh++;
		}
		free(tids);
		if (!fresh)
			return follow_stop_process(f, pid);
		follow_stop_process(f, pid);
	}
	pr_err("threads of pid %d kept appearing while stopping it; try again", (int)pid);
	return -EAGAIN;
}

static void report_enable(pid_t pid, const struct session_report *rep)
{
	if (rep->already)
		printf("tattach: pid %d: tracing is already enabled (%zu sites)\n", (int)pid,
		       rep->sites);
	else
		printf("tattach: pid %d: tracing enabled: %zu site%s in %zu module%s, "
		       "%zu thread%s stopped for %.3f ms; read it with 'tread -p %d'\n",
		       (int)pid, rep->sites, rep->sites == 1 ? "" : "s", rep->modules,
		       rep->modules == 1 ? "" : "s", rep->threads,
		       rep->threads == 1 ? "" : "s", rep->stopped_us / 1000, (int)pid);
}

/* Take hold of the process, enable it, hook it: 0 or -errno (said). */
static int start(struct follower *f)
{
	struct session_report rep;
	struct proc_stat st;
	int ret;

	ret = target_check(f->root, &st);
	if (!ret)
		ret = target_check_stoppable(f->root);
	if (!ret) {
		follow_lock_sweep();
		ret = follow_lock_take(&f->lock);
	}
	if (!ret)
		ret = seize_process(f, f->root);
	if (ret)
		return ret;
	follow_hold_as_session(f, 1);
	ret = session_enable(f->opts, &rep);
	if (ret && ret != -ENOENT)
		return ret;
	if (!ret)
		report_enable(f->root, &rep);
	else
		pr_warn("pid %d has nothing to trace itself; following what it starts",
			(int)f->root);
	f->images = 1;
	follow_hook_image(f, f->root);
	follow_resume_process(f, f->root);
	return 0;
}

/* Collect every stop and exit waiting for us. */
static void drain(struct follower *f)
{
	int status;
	pid_t tid;

	while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
		follow_event(f, tid, status);
}

/* Threads on the hook's way to the int3 go to its "ret" instead. */
static void leave_stub(struct follower *f, pid_t tgid, const struct dlhook_stub *st)
{
	for (size_t i = 0; i < f->tree.n; i++) {
		struct user_regs_struct regs;
		struct ftask *t = &f->tree.v[i];

		if (t->tgid != tgid || ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
			continue;
		if (regs.rip >= st->base && regs.rip <= st->check_end) {
			regs.rip = st->ret;
			ptrace(PTRACE_SETREGS, t->tid, 0, &regs);
		}
	}
}

/* A fork/clone event held at the end: its child is ours, maybe unseen. */
static void detach_unseen_child(struct follower *f, const struct ftask *t)
{
	int event = (t->status >> 16) & 0xff, status;
	unsigned long msg = 0;
	pid_t child;

	if (event != PTRACE_EVENT_FORK && event != PTRACE_EVENT_VFORK &&
	    event != PTRACE_EVENT_CLONE)
		return;
	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) < 0 || !msg)
		return;
	child = (pid_t)msg;
	if (tree_find(&f->tree, child))
		return;
	while (waitpid(child, &status, __WALL) < 0 && errno == EINTR)
		;
	ptrace(PTRACE_DETACH, child, 0, 0);
}

/* Let go of everything, as described at the top.  Returns how many
 * processes were let go. */
static size_t end_all(struct follower *f)
{
	size_t procs = 0;

	f->ending = 1;
	drain(f);
	for (size_t i = 0; i < f->tree.n; i++)	/* idempotent per process */
		follow_stop_process(f, f->tree.v[i].tgid);
	drain(f);
	for (size_t i = 0; i < f->tree.n; i++) {
		struct dlhook_stub st;
		pid_t tgid = f->tree.v[i].tgid;

		if (f->tree.v[i].tid != tgid && tree_find(&f->tree, tgid))
			continue;	/* one pass per process */
		procs++;
		if (dlhook_remove(tgid, &st) == 0 && st.base)
			leave_stub(f, tgid, &st);
	}
	follow_lock_drop(&f->lock);
	for (size_t i = 0; i < f->tree.n; i++) {
		struct ftask *t = &f->tree.v[i];
		int sig = 0;

		if (!t->stopped)
			continue;	/* in a group stop we LISTENed to */
		detach_unseen_child(f, t);
		if (t->status && WIFSTOPPED(t->status) && !((t->status >> 16) & 0xff) &&
		    !(WSTOPSIG(t->status) & 0x80))
			sig = WSTOPSIG(t->status);
		ptrace(PTRACE_DETACH, t->tid, 0, sig);
	}
	/* threads LISTENing in a group stop: interrupt, then detach (they
	 * stay stopped: the group stop is the program's) */
	for (size_t i = 0; i < f->tree.n; i++) {
		struct ftask *t = &f->tree.v[i];

		if (t->stopped)
			continue;
		/* an exited main thread: our exit lets go of it */
		if (follow_zombie_leader(t) || ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0)
			continue;
		if (follow_wait_stop(f, t->tid) == 0)
			ptrace(PTRACE_DETACH, t->tid, 0, 0);
	}
	tree_free(&f->tree);
	return procs;
}

/* The event loop: 0 when every followed process ended, else the signal
 * that asked us to end. */
static int follow_loop(struct follower *f, const sigset_t *set)
{
	const struct timespec tick = { 1, 0 };
	siginfo_t si;

	while (f->tree.n) {
		int sig = sigtimedwait(set, &si, &tick);

		/* the timeout only guards against a lost SIGCHLD: every stop
		 * and exit of a tracee sends us one */
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
			return sig;
		drain(f);
	}
	return 0;
}

static void to_dev_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
}

/* --daemon: the parent waits for the child's word, prints its pid. */
static int background_parent(pid_t child, int rd, pid_t target)
{
	char ok = 0;
	ssize_t n;
	int status;

	do
		n = read(rd, &ok, 1);
	while (n < 0 && errno == EINTR);
	close(rd);
	if (n == 1 && ok == 'y') {
		printf("tattach: following pid %d in the background: tattach pid %d "
		       "(end it with 'tattach -p %d --disable' or 'kill %d')\n", (int)target,
		       (int)child, (int)target, (int)child);
		return 0;
	}
	waitpid(child, &status, 0);
	return 1;
}

int follow_run(struct session_opts *o, int background)
{
	struct follower f = { .opts = o, .root = o->pid };
	int rd_wr[2] = { -1, -1 }, sig, ret;
	sigset_t set, old;
	size_t procs;

	if (background) {
		pid_t child;

		if (pipe2(rd_wr, O_CLOEXEC) < 0) {
			pr_err("--daemon: pipe: %s", strerror(errno));
			return 1;
		}
		fflush(stdout);
		child = fork();
		if (child < 0) {
			pr_err("--daemon: fork: %s", strerror(errno));
			return 1;
		}
		if (child > 0) {
			close(rd_wr[1]);
			return background_parent(child, rd_wr[0], o->pid);
		}
		close(rd_wr[0]);
		setsid();
		/* a daemon holds nothing of its caller's: a pipe it kept open
		 * would make whoever reads it wait for our end */
		if (rd_wr[1] > 3)
			close_range(3, (unsigned)rd_wr[1] - 1, 0);
		close_range((unsigned)rd_wr[1] + 1, ~0u, 0);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	ret = start(&f);
	if (ret) {
		if (f.tree.n)
			end_all(&f);
		follow_lock_drop(&f.lock);
		return 1;
	}
	printf("tattach: following pid %d and what it starts (Ctrl-C, or 'tattach -p %d "
	       "--disable', ends it)\n", (int)o->pid, (int)o->pid);
	fflush(stdout);
	if (background) {
		to_dev_null();
		if (write(rd_wr[1], "y", 1) < 0)
			pr_warn("--daemon: cannot tell the parent: %s", strerror(errno));
		close(rd_wr[1]);
	}
	sig = follow_loop(&f, &set);
	procs = end_all(&f);
	follow_hold_as_session(&f, 0);
	if (sig)
		printf("tattach: stopped following (%s): %zu process%s let go, tracing left "
		       "on in each ('tattach -p PID --disable' turns it off)\n", strsignal(sig),
		       procs, procs == 1 ? "" : "es");
	else
		printf("tattach: pid %d and every process it started have ended (%zu program "
		       "image%s traced)\n", (int)o->pid, f.images, f.images == 1 ? "" : "s");
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
