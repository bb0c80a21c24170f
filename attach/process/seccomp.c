// SPDX-License-Identifier: MIT
/*
 * tattach makes a handful of system calls inside the process (attach/
 * remote.c, attach/inject.c), and its rescue code makes one more should
 * tattach die.  Under seccomp any of them could be refused, or kill the
 * process.  The filters can be read only from a stopped thread
 * (PTRACE_SECCOMP_GET_FILTER, which also needs CAP_SYS_ADMIN), so the
 * process is held for a moment, with nothing else done to it, and each
 * call is run through each filtered thread's filters here, with the
 * arguments tattach will give it.  An argument tattach only learns later
 * (an address, a descriptor) is unknown: a filter that looks at one is not
 * guessed at, the process is refused.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "attach/log.h"
#include "attach/process/proc.h"
#include "attach/process/seccomp.h"
#include "attach/process/seccomp_bpf.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define A(i) SCMP_KNOWN_ARG(i)
#define ALL_ARGS (A(0) | A(1) | A(2) | A(3) | A(4) | A(5))

/* Every call tattach may make in the process, in the order it makes them. */
static const struct injected {
	const char *what;
	struct scmp_call call;
} injected[] = {
	{ "mmap(PROT_READ|PROT_EXEC) of its rescue page",
	  { SYS_mmap, 0, 0, { 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
			      (uint64_t)-1, 0 }, ALL_ARGS } },
	{ "getpid() from the rescue page",
	  { SYS_getpid, 0, 0, { 0 }, ALL_ARGS } },
	{ "mmap(PROT_READ|PROT_WRITE) of its live page",
	  { SYS_mmap, 0, 0, { 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			      (uint64_t)-1, 0 }, ALL_ARGS } },
	{ "openat(O_RDWR) of the ring file",
	  { SYS_openat, 0, 0, { (uint64_t)(int64_t)AT_FDCWD, 0,
				O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0, 0, 0 },
	    ALL_ARGS & ~A(1) } },
	{ "mmap(MAP_SHARED) of the ring file",
	  { SYS_mmap, 0, 0, { 0, 0, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 0 },
	    ALL_ARGS & ~A(1) & ~A(4) } },
	{ "close() of the ring file",
	  { SYS_close, 0, 0, { 0 }, ALL_ARGS & ~A(0) } },
	{ "madvise(MADV_WIPEONFORK) of its live page",
	  { SYS_madvise, 0, 0, { 0, 4096, MADV_WIPEONFORK, 0, 0, 0 }, ALL_ARGS & ~A(0) } },
	{ "mmap(PROT_READ|PROT_WRITE) of its private state",
	  { SYS_mmap, 0, 0, { 0, 0, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, (uint64_t)-1, 0 },
	    ALL_ARGS & ~A(1) } },
	{ "mmap(MAP_FIXED_NOREPLACE) of a trampoline copy",
	  { SYS_mmap, 0, 0, { 0, 0, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint64_t)-1, 0 },
	    ALL_ARGS & ~A(0) & ~A(1) } },
	{ "munmap() of a trampoline copy an old kernel misplaced",
	  { SYS_munmap, 0, 0, { 0 }, ALL_ARGS & ~A(0) & ~A(1) } },
	{ "mprotect(PROT_READ|PROT_EXEC) of a trampoline copy",
	  { SYS_mprotect, 0, 0, { 0, 0, PROT_READ | PROT_EXEC, 0, 0, 0 },
	    ALL_ARGS & ~A(0) & ~A(1) } },
	{ "mprotect(PROT_READ) of a trampoline's configuration page",
	  { SYS_mprotect, 0, 0, { 0, 4096, PROT_READ, 0, 0, 0 }, ALL_ARGS & ~A(0) } },
	{ "rt_sigprocmask(SIG_SETMASK) in its rescue code, run should tattach die",
	  { SYS_rt_sigprocmask, 0, 0, { SIG_SETMASK, 0, 0, 8, 0, 0 }, ALL_ARGS & ~A(1) } },
};

static const char *field_name(unsigned off)
{
	static char buf[32];

	if (off >= 8 && off < 16)
		return "the instruction pointer";
	snprintf(buf, sizeof(buf), "argument %u", (off - 16) / 8 + 1);
	return buf;
}

int seccomp_mode_check(pid_t pid)
{
	pid_t *tids;
	size_t n;
	int ret = 0;

	if (proc_tasks(pid, &tids, &n))
		return 0;	/* gone: the next steps say so */
	for (size_t i = 0; i < n && ret >= 0; i++) {
		uint64_t mode = 0;

		/* decimal 0, 1 or 2: read as hex it is the same number */
		if (proc_status_hex(pid, tids[i], "Seccomp", &mode))
			continue;
		if (mode == 1) {
			pr_err("thread %d of pid %d runs in seccomp strict mode (only read, "
			       "write, exit and sigreturn): tattach cannot make its system "
			       "calls there; not attaching", (int)tids[i], (int)pid);
			ret = -EPERM;
		} else if (mode == 2) {
			ret = 1;
		}
	}
	free(tids);
	return ret;
}

/* The filters of @tid, newest first; *progs and each program malloc'ed. */
static int read_filters(pid_t pid, pid_t tid, struct sock_fprog **progs, size_t *n)
{
	size_t cap = 0;

	*progs = NULL;
	*n = 0;
	for (unsigned long idx = 0;; idx++) {
		long len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, idx, NULL);
		struct sock_filter *insns;

		if (len < 0 && errno == ENOENT)
			return 0;
		if (len < 0) {
			int err = errno;

			pr_err("pid %d runs under seccomp and its filters cannot be read "
			       "(PTRACE_SECCOMP_GET_FILTER: %s%s): the system calls tattach "
			       "makes in it could be refused or kill it; not attaching",
			       (int)pid, strerror(err), err == EACCES || err == EPERM ?
			       "; it needs CAP_SYS_ADMIN: run tattach as root" : "");
			return -EPERM;
		}
		if (*n == cap) {
			struct sock_fprog *nv = realloc(*progs, (cap ? 2 * cap : 4) * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			*progs = nv;
			cap = cap ? 2 * cap : 4;
		}
		insns = calloc(len ? len : 1, sizeof(*insns));
		if (!insns)
			return -ENOMEM;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, idx, insns) != len) {
			free(insns);
			pr_err("pid %d: reading seccomp filter %lu of thread %d: %s", (int)pid,
			       idx, (int)tid, strerror(errno));
			return -EPERM;
		}
		(*progs)[*n].len = (unsigned short)len;
		(*progs)[*n].filter = insns;
		(*n)++;
	}
}

static void free_filters(struct sock_fprog *progs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(progs[i].filter);
	free(progs);
}

/* Say how @ret refuses the call, or return 0 if it allows it. */
static int refused(pid_t pid, pid_t tid, const struct injected *c, uint32_t ret)
{
	uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
	char how[128];

	switch (action) {
	case SECCOMP_RET_ALLOW:
	case SECCOMP_RET_LOG:
		return 0;
	case SECCOMP_RET_KILL_PROCESS:
		snprintf(how, sizeof(how), "kill the process at");
		break;
	case SECCOMP_RET_KILL_THREAD:
		snprintf(how, sizeof(how), "kill the thread at");
		break;
	case SECCOMP_RET_TRAP:
		snprintf(how, sizeof(how), "send SIGSYS at");
		break;
	case SECCOMP_RET_ERRNO:
		snprintf(how, sizeof(how), "answer %s (errno %u) to",
			 strerror((int)(ret & SECCOMP_RET_DATA)), ret & SECCOMP_RET_DATA);
		break;
	case SECCOMP_RET_TRACE:
		snprintf(how, sizeof(how), "answer ENOSYS (SECCOMP_RET_TRACE, and tattach "
			 "is no seccomp tracer) to");
		break;
	case SECCOMP_RET_USER_NOTIF:
		snprintf(how, sizeof(how), "leave to a seccomp supervisor");
		break;
	default:
		snprintf(how, sizeof(how), "answer %#x to", ret);
		break;
	}
	pr_err("the seccomp filter of pid %d (thread %d) would %s %s, a system call "
	       "tattach makes in the process; not attaching", (int)pid, (int)tid, how,
	       c->what);
	return -EPERM;
}

/* Run every injected call through the filters of one thread. */
static int judge(pid_t pid, pid_t tid, const struct sock_fprog *progs, size_t n)
{
	for (size_t i = 0; i < sizeof(injected) / sizeof(injected[0]); i++) {
		const struct injected *c = &injected[i];
		struct scmp_call call = c->call;
		uint32_t result = SECCOMP_RET_ALLOW;

		call.arch = AUDIT_ARCH_X86_64;
		for (size_t f = 0; f < n; f++) {
			unsigned field = 0;
			uint32_t ret = 0;

			switch (scmp_run(progs[f].filter, progs[f].len, &call, &ret, &field)) {
			case SCMP_OK:
				result = scmp_strictest(result, ret);
				break;
			case SCMP_UNKNOWN:
				pr_err("the seccomp filter of pid %d (thread %d) looks at %s of "
				       "%s, which tattach only knows when it makes the call; "
				       "not attaching", (int)pid, (int)tid, field_name(field),
				       c->what);
				return -EPERM;
			case SCMP_INVALID:
				pr_err("the seccomp filter of pid %d (thread %d) is not one "
				       "tattach can run; not attaching", (int)pid, (int)tid);
				return -EPERM;
			}
		}
		if (refused(pid, tid, c, result))
			return -EPERM;
	}
	return 0;
}

int seccomp_check_held(const struct held *h)
{
	int ret = 0;

	for (size_t i = 0; i < h->n && !ret; i++) {
		pid_t tid = h->v[i].tid;
		struct sock_fprog *progs;
		uint64_t mode = 0;
		size_t n;

		if (proc_status_hex(h->pid, tid, "Seccomp", &mode) || mode != 2)
			continue;
		ret = read_filters(h->pid, tid, &progs, &n);
		if (!ret)
			ret = judge(h->pid, tid, progs, n);
		free_filters(progs, n);
	}
	return ret;
}
