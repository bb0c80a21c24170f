// SPDX-License-Identifier: MIT
/*
 * Each program image a follower meets gets the dlopen hook once (at the
 * start, and at every exec, before the dynamic linker runs), and has its
 * libraries enabled each time the hook traps: for an exec'd image the
 * first trap is when the dynamic linker has loaded and relocated them all
 * and set up the main thread, before any constructor, as 'tattach --
 * COMMAND' enables at the entry point; for dlopen() it is before dlopen()
 * returns (and before the library's constructors run).  Enabling is
 * session_enable(), the path a later --enable takes for a library loaded
 * since, with the threads held by us (stopping.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>

#include "attach/follow/dlhook.h"
#include "attach/follow/follow_priv.h"
#include "attach/log.h"
#include "attach/process/proc.h"
#include "attach/process/remote.h"
#include "attach/process/seize.h"
#include "attach/ring/ringdir.h"
#include "attach/ring/ringfile.h"

int follow_hook_image(struct follower *f, pid_t tgid)
{
	struct remote r = { .memfd = -1 };
	struct held h = { 0 };
	int ret;

	ret = hold_all(tgid, &h);	/* stopping.c's hold_held() */
	if (ret)
		return ret;
	ret = remote_open(&r, &h, 0);
	if (!ret)
		ret = remote_make_rescue(&r);
	if (!ret)
		ret = dlhook_install(&r, f->lock.path);
	else
		pr_warn("pid %d: cannot drive it to set the dlopen hook: %s", (int)tgid,
			strerror(-ret));
	remote_close(&r);
	release_all(&h);
	return ret;
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *fp;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return;
	if (fgets(buf, (int)len, fp))
		buf[strcspn(buf, "\n")] = 0;
	fclose(fp);
}

/* Anything that makes enabling now wrong: 0 to go ahead. */
static int not_now(struct follower *f, pid_t tid, pid_t tgid)
{
	struct user_regs_struct regs;
	char ring[256];

	for (size_t i = 0; i < f->tree.n; i++)
		if (f->tree.v[i].tgid == tgid && f->tree.v[i].status &&
		    ((f->tree.v[i].status >> 16) & 0xff) == PTRACE_EVENT_EXEC)
			return 1;	/* another thread's exec: the image is going */
	/* The trampoline keys threads by their TLS: none yet, too early. */
	if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0 || !regs.fs_base)
		return 1;
	/* A fork child writes its parent's ring through the sites it inherited
	 * until it has a ring of its own (made in the child itself). */
	if (tree_find(&f->tree, tid)->inherited) {
		ringfile_path(tgid, ring, sizeof(ring));
		if (access(ring, F_OK) < 0) {
			pr_info("pid %d (a fork child) loaded a library: not traced, the "
				"child has no ring of its own", (int)tgid);
			return 1;
		}
	}
	return 0;
}

/*
 * Just exec'd, stopped at the exec: too early to enable (no library is
 * mapped yet), so the hook does it when the dynamic linker has loaded
 * them all (follow_enable_loaded()).  A statically linked program has no
 * dynamic linker, nor a thread pointer yet: it is not traced, only
 * followed for what it starts.
 */
void follow_new_image(struct follower *f, pid_t tgid)
{
	char comm[64];

	if (follow_hook_image(f, tgid) != 1)
		return;
	comm_of(tgid, comm, sizeof(comm));
	pr_info("pid %d (%s): no dynamic linker (statically linked?): not traced, what "
		"it starts is followed", (int)tgid, comm);
}

/*
 * The parent of process @pid, when it is traced: it has a ring of its own
 * that names it, from this very process (its start time).  Then a ring
 * made for @pid after an exec names it too, as a fork child's own ring
 * does, and 'tread -p PARENT --children' finds the exec'd program.
 */
static void traced_parent(pid_t pid, struct session_opts *o)
{
	struct ringfile rf = { .fd = -1 };
	struct proc_stat me;
	char path[256];

	if (proc_read_stat(pid, &me) || me.ppid <= 1)
		return;
	ringfile_path(me.ppid, path, sizeof(path));
	if (ringfile_open_readonly(path, me.ppid, &rf))
		return;
	if (ringdir_process_alive(me.ppid, rf.hdr->start_time)) {
		o->parent_pid = me.ppid;
		o->parent_start_time = rf.hdr->start_time;
	}
	ringfile_close(&rf);
}

static void enable_now(struct follower *f, pid_t tgid)
{
	struct session_opts o = *f->opts;
	struct session_report rep;
	char comm[64];
	int ret;

	o.pid = tgid;
	o.no_sites_quiet = 1;		/* -v says it below: a shell is no error */
	traced_parent(tgid, &o);	/* used if the ring is made now */
	ret = session_enable(&o, &rep);
	comm_of(tgid, comm, sizeof(comm));
	if (ret == -ENOENT) {
		pr_info("pid %d (%s): nothing to trace in it yet", (int)tgid, comm);
		return;
	}
	if (ret) {
		pr_warn("pid %d (%s): tracing not enabled: %s", (int)tgid, comm,
			strerror(-ret));
		return;
	}
	if (rep.already)
		return;
	printf("tattach: pid %d (%s): tracing enabled: %zu site%s in %zu module%s; "
	       "read it with 'tread -p %d'\n", (int)tgid, comm, rep.sites,
	       rep.sites == 1 ? "" : "s", rep.modules, rep.modules == 1 ? "" : "s",
	       (int)tgid);
	if (rep.kept_image[0])
		printf("tattach: pid %d (%s): the trace of the program it ran before its exec "
		       "is kept as %s (read it with 'tread -i %s')\n", (int)tgid, comm,
		       rep.kept_image, rep.kept_image);
	fflush(stdout);
}

/*
 * Test seam: TATTACH_TEST_FOLLOW_DIE=WHERE makes the follower SIGKILL
 * itself at that point of handling a hook trap ("trapped": in the SIGTRAP
 * stop; "parked": the thread in the park loop, every thread held), so
 * tests/integration/test_follow.c can show what a death there does to
 * the process.  Never set in normal use.
 */
static void die_here_for_tests(const char *where)
{
	const char *at = getenv("TATTACH_TEST_FOLLOW_DIE");

	if (at && !strcmp(at, where))
		kill(getpid(), SIGKILL);
}

void follow_enable_loaded(struct follower *f, pid_t tid, const struct dlhook_stub *st)
{
	struct user_regs_struct regs;
	struct ftask *t = tree_find(&f->tree, tid);
	pid_t tgid;

	if (!t)
		return;
	tgid = t->tgid;
	/* Out of the SIGTRAP stop at once, into the park loop: should we die
	 * from here on, the thread leaves it by itself (the lock is dropped)
	 * instead of meeting its SIGTRAP without a tracer. */
	die_here_for_tests("trapped");
	if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0)
		return;
	regs.rip = st->park;
	t->stopped = 0;
	t->status = 0;
	if (ptrace(PTRACE_SETREGS, tid, 0, &regs) < 0 || ptrace(PTRACE_CONT, tid, 0, 0) < 0)
		return;
	if (follow_stop_process(f, tgid))
		return;
	die_here_for_tests("parked");
	if (!not_now(f, tid, tgid))
		enable_now(f, tgid);
	/* and on from the hook's "ret" */
	if (tree_find(&f->tree, tid) && ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0) {
		regs.rip = st->ret;
		ptrace(PTRACE_SETREGS, tid, 0, &regs);
	}
	follow_resume_process(f, tgid);
}
