// SPDX-License-Identifier: MIT
/*
 * Can this process be traced at all?  Everything here is read from /proc
 * without stopping anything, so a refusal leaves the target untouched.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/follow/lock.h"
#include "attach/log.h"
#include "attach/process/target.h"

static int exe_machine(pid_t pid, int *machine)
{
	char path[96];
	Elf64_Ehdr eh;
	ssize_t n;
	int fd;

	proc_path(pid, "exe", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, &eh, sizeof(eh));
	close(fd);
	if (n < (ssize_t)sizeof(Elf32_Ehdr) || memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return -ENOEXEC;
	*machine = eh.e_ident[EI_CLASS] == ELFCLASS64 ? eh.e_machine : -1;
	return 0;
}

/*
 * Processes where what tattach does would not be safe: with CET user
 * shadow stacks a rewritten return address faults.  (seccomp is judged by
 * attach/process/seccomp.c, filter by filter.)
 */
static int refuse_unsafe(pid_t pid)
{
	char path[64], line[512];
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "x86_Thread_features:", 20) && strstr(line, "shstk")) {
			pr_err("pid %d uses CET shadow stacks: the return hooks tattach "
			       "installs would fault; not attaching", (int)pid);
			ret = -EPERM;
			break;
		}
	fclose(f);
	return ret;
}

/*
 * A thread waiting in vfork() cannot be stopped until its child calls exec
 * or exits (the wait ignores every signal but SIGKILL): wait for that a
 * little (hold_wait_vfork(), nothing stopped meanwhile), then refuse
 * rather than wait maybe forever.
 */
int target_check_stoppable(pid_t pid)
{
	struct timespec deadline;
	pid_t *tids;
	size_t n;
	int ret = 0;

	if (proc_tasks(pid, &tids, &n))
		return 0;	/* gone: the next steps say so */
	hold_vfork_deadline(&deadline);
	for (size_t i = 0; i < n && !ret; i++) {
		if (!proc_thread_in_vfork(pid, tids[i]))
			continue;
		ret = hold_wait_vfork(tids[i], &deadline);
		if (ret == 0) {
			target_explain_vfork(pid, tids[i]);
			ret = -EAGAIN;
		} else if (ret > 0) {
			ret = 0;	/* it went on */
		} else {
			pr_err("cannot wait for thread %d of pid %d to leave vfork(): %s",
			       (int)tids[i], (int)pid, strerror(-ret));
		}
	}
	free(tids);
	return ret;
}

void target_explain_vfork(pid_t pid, pid_t tid)
{
	if (tid == pid)
		pr_err("pid %d waits in vfork() until its child calls exec or exits, and "
		       "cannot be stopped before that (waited %d s); try again then",
		       (int)pid, HOLD_VFORK_WAIT_S);
	else
		pr_err("thread %d of pid %d waits in vfork() until its child calls exec or "
		       "exits, and cannot be stopped before that (waited %d s); try again "
		       "then", (int)tid, (int)pid, HOLD_VFORK_WAIT_S);
}

int target_hold(pid_t pid, struct held *h)
{
	int ret = hold_all(pid, h);

	if (ret == -EPERM)
		target_explain_eperm(pid);
	else if (ret == -EAGAIN && h->in_vfork)
		target_explain_vfork(pid, h->in_vfork);
	else if (ret == -EAGAIN)
		;	/* threads kept appearing: said by hold_all() */
	else if (ret == -ESRCH)
		pr_err("pid %d exited while being stopped", (int)pid);
	else if (ret)
		pr_err("cannot stop pid %d: %s", (int)pid, strerror(-ret));
	return ret;
}

int target_check(pid_t pid, struct proc_stat *st)
{
	int machine = 0, ret;

	if (pid <= 0) {
		pr_err("invalid pid %d", (int)pid);
		return -EINVAL;
	}
	ret = proc_read_stat(pid, st);
	if (ret) {
		pr_err("no process with pid %d", (int)pid);
		return -ESRCH;
	}
	if (st->flags & PF_KTHREAD) {
		pr_err("pid %d is a kernel thread: only user-space programs can be traced",
		       (int)pid);
		return -EINVAL;
	}
	if ((st->state == 'Z' || st->state == 'X') && !proc_live_thread(pid)) {
		pr_err("pid %d is a zombie: it has exited and waits for its parent", (int)pid);
		return -ESRCH;
	}
	/* A zombie leader with live threads: main() called pthread_exit(),
	 * the process runs on in its other threads, which are traced. */
	if (st->state == 'Z' || st->state == 'X')
		pr_info("pid %d: its main thread has exited; tracing its other threads",
			(int)pid);
	ret = refuse_unsafe(pid);
	if (ret)
		return ret;
	ret = exe_machine(pid, &machine);
	if (ret == -EACCES || ret == -EPERM) {
		target_explain_eperm(pid);
		return -EPERM;
	}
	if (ret == -ENOENT) {
		pr_err("pid %d has no executable (a kernel thread or exiting)", (int)pid);
		return -EINVAL;
	}
	if (ret == 0 && machine != EM_X86_64) {
		pr_err("pid %d does not run an x86-64 program: unsupported architecture",
		       (int)pid);
		return -ENOEXEC;
	}
	return 0;
}

void target_explain_eperm(pid_t pid)
{
	long tracer = 0, scope = -1;
	uid_t uid = 0;
	gid_t gid;
	FILE *f;

	if (proc_status_long(pid, "TracerPid", &tracer) == 0 && tracer > 0 &&
	    follow_lock_held_by((pid_t)tracer)) {
		pr_err("pid %d is followed by tattach pid %ld (--follow), which holds it: "
		       "end that first (Ctrl-C it, 'kill %ld', or 'tattach -p %d --disable')",
		       (int)pid, tracer, tracer, (int)pid);
		return;
	}
	if (proc_status_long(pid, "TracerPid", &tracer) == 0 && tracer > 0) {
		pr_err("pid %d is already traced by pid %ld (a debugger, strace, or "
		       "another tattach): detach it first", (int)pid, tracer);
		return;
	}
	f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	if (f) {
		if (fscanf(f, "%ld", &scope) != 1)
			scope = -1;
		fclose(f);
	}
	if (proc_owner(pid, &uid, &gid) == 0 && uid != geteuid() && geteuid() != 0) {
		pr_err("not permitted to trace pid %d: it belongs to uid %u; run tattach "
		       "as that user or as root", (int)pid, (unsigned)uid);
		return;
	}
	if (scope >= 1) {
		pr_err("not permitted to trace pid %d: kernel.yama.ptrace_scope is %ld "
		       "(only %s); run as root or lower it with 'sysctl "
		       "kernel.yama.ptrace_scope=0'", (int)pid, scope,
		       scope == 1 ? "a parent may trace its descendants" :
		       scope == 2 ? "CAP_SYS_PTRACE may trace" : "nobody may trace");
		return;
	}
	pr_err("not permitted to trace pid %d (is it set-uid, or non-dumpable? "
	       "run tattach as root)", (int)pid);
}
