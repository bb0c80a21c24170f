// SPDX-License-Identifier: MIT
/*
 * Remote system calls, the way a debugger does them: point a held thread
 * at an existing "syscall" instruction with the arguments in its
 * registers, run it with PTRACE_SYSCALL to the syscall-exit stop, read the
 * result.  No byte of the target's code is changed, no int3 is used (the
 * kernel would force SIGTRAP's disposition to default), and every signal
 * is blocked meanwhile so no handler of the program ever runs on our
 * borrowed context.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/log.h"
#include "attach/process/proc.h"
#include "attach/process/remote.h"
#include "attach/tramp/rescue_blob.h"

/* The whole of a read or write through /proc/PID/mem, or -errno. */
static int mem_transfer(struct remote *r, uint64_t addr, void *buf, size_t len, int write)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write ? pwrite(r->memfd, (char *)buf + done, len - done,
					   (off_t)(addr + done))
				  : pread(r->memfd, (char *)buf + done, len - done,
					  (off_t)(addr + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += n;
	}
	return 0;
}

/*
 * Reads go through process_vm_readv when they can: it copies straight from
 * the target's pages, where /proc/PID/mem copies each page twice (through
 * a kernel bounce page), which shows when a whole text segment is read
 * while the process is stopped.  Pages it cannot read (no PROT_READ) fall
 * back to /proc/PID/mem, which can.
 */
int remote_read(struct remote *r, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	if (len >= 4096 && r->held &&
	    process_vm_readv(r->held->pid, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	return mem_transfer(r, addr, buf, len, 0);
}

int remote_write(struct remote *r, uint64_t addr, const void *buf, size_t len)
{
	return mem_transfer(r, addr, (void *)buf, len, 1);
}

int remote_write_data(struct remote *r, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = 0;

	/* one copy, where /proc/PID/mem copies each page twice; what it could
	 * not write (not writable after all) goes through /proc/PID/mem */
	if (len >= 4096 && r->held) {
		n = process_vm_writev(r->held->pid, &local, 1, &remote, 1, 0);
		if (n == (ssize_t)len)
			return 0;
		if (n < 0)
			n = 0;
	}
	return mem_transfer(r, addr + (uint64_t)n, (char *)buf + n, len - (size_t)n, 1);
}

/* The first "0f 05" in an executable mapping called @name. */
static uint64_t find_syscall_insn(struct remote *r, const struct maps *maps,
				  const char *name)
{
	for (size_t i = 0; i < maps->n; i++) {
		const struct map *m = &maps->v[i];
		size_t len = m->end - m->start;
		unsigned char *buf;
		uint64_t found = 0;

		if (!(m->prot & PROT_EXEC) || !strstr(m->path, name))
			continue;
		if (len > (64u << 20))
			len = 64u << 20;
		buf = malloc(len);
		if (!buf)
			return 0;
		if (remote_read(r, m->start, buf, len) == 0) {
			for (size_t j = 0; j + 1 < len; j++) {
				if (buf[j] == 0x0f && buf[j + 1] == 0x05) {
					found = m->start + j;
					break;
				}
			}
		}
		free(buf);
		if (found)
			return found;
	}
	return 0;
}

/*
 * The context rescue_restore puts back if we die: the thread as we found
 * it, with an interrupted system call rewound to be made again, as the
 * kernel would have done on resuming it.
 */
struct rescue_ctx {
	uint64_t sigmask;
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi, rip, eflags, rsp;
};

_Static_assert(sizeof(struct rescue_ctx) == RESCUE_CODE_OFF_END - RESCUE_CODE_OFF_CTX,
	       "struct rescue_ctx must match attach/tramp/rescue.S");

static int write_rescue_ctx(struct remote *r)
{
	const struct user_regs_struct *g = &r->thread->regs;
	struct rescue_ctx c = {
		.sigmask = r->thread->sigmask,
		.r15 = g->r15, .r14 = g->r14, .r13 = g->r13, .r12 = g->r12,
		.rbp = g->rbp, .rbx = g->rbx, .r11 = g->r11, .r10 = g->r10,
		.r9 = g->r9, .r8 = g->r8, .rax = g->rax, .rcx = g->rcx,
		.rdx = g->rdx, .rsi = g->rsi, .rdi = g->rdi, .rip = g->rip,
		.eflags = g->eflags & ~0x100ull, .rsp = g->rsp,
	};

	if ((long)g->orig_rax >= 0) {
		switch ((long)g->rax) {
		case -512:	/* ERESTARTSYS */
		case -513:	/* ERESTARTNOINTR */
		case -514:	/* ERESTARTNOHAND */
			c.rax = g->orig_rax;
			c.rip -= 2;
			break;
		case -516:	/* ERESTART_RESTARTBLOCK */
			c.rax = SYS_restart_syscall;
			c.rip -= 2;
			break;
		}
	}
	return remote_write(r, r->rescue + RESCUE_CODE_OFF_CTX, &c, sizeof(c));
}

int remote_use_scratch(struct remote *r, uint64_t scratch)
{
	unsigned char cur[sizeof(rescue_code)];
	int ret = remote_read(r, scratch, cur, sizeof(cur));

	if (ret)
		return ret;
	/* zeros, or our own code left by a run killed before it could clear
	 * it (the context part differs) */
	if (memcmp(cur, rescue_code, RESCUE_CODE_OFF_CTX) != 0)
		for (size_t i = 0; i < sizeof(cur); i++)
			if (cur[i])
				return -EEXIST;
	ret = remote_write(r, scratch, rescue_code, sizeof(rescue_code));
	if (ret)
		return ret;
	r->rescue = scratch;
	ret = write_rescue_ctx(r);
	if (ret) {
		r->rescue = 0;
		return ret;
	}
	r->scratch = scratch;
	r->gadget = scratch + RESCUE_CODE_OFF_SYSCALL;
	return 0;
}

static void die_here_for_tests(void);

int remote_make_rescue(struct remote *r)
{
	static const unsigned char zero[sizeof(rescue_code)];
	long addr = remote_syscall(r, SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0);
	int ret;

	if (addr < 0)
		return (int)addr;
	ret = remote_write(r, (uint64_t)addr, rescue_code, sizeof(rescue_code));
	if (ret)
		return ret;
	r->rescue = (uint64_t)addr;
	ret = write_rescue_ctx(r);
	if (ret) {
		r->rescue = 0;
		return ret;
	}
	r->gadget = r->rescue + RESCUE_CODE_OFF_SYSCALL;
	if (r->scratch) {
		/*
		 * The thread is still parked at the syscall exit inside the
		 * temporary code: should we die now, it goes on there, at
		 * rescue_restore.  Park it in the rescue page first (one
		 * harmless call), and only then put the padding back as we
		 * found it; cleared first, a tattach killed in between left
		 * the thread running zeros.
		 */
		long parked = remote_syscall(r, SYS_getpid, 0, 0, 0, 0, 0, 0);

		if (parked < 0)
			return (int)parked;
		remote_write(r, r->scratch, zero, sizeof(zero));
		r->scratch = 0;
		die_here_for_tests();
	}
	return 0;
}

void remote_test_kill_point(void)
{
	die_here_for_tests();
}

size_t remote_rescue_size(void)
{
	return sizeof(rescue_code);
}

int remote_open(struct remote *r, struct held *h, uint64_t rescue)
{
	struct maps maps;
	char path[96];
	int ret;

	memset(r, 0, sizeof(*r));
	r->held = h;
	r->memfd = -1;
	/* The main thread may be a zombie after pthread_exit(); any held
	 * thread runs syscalls as well, so take the first one that answers. */
	for (size_t i = 0; i < h->n && !r->thread; i++) {
		struct user_regs_struct regs;

		if (ptrace(PTRACE_GETREGS, h->v[i].tid, 0, &regs) == 0)
			r->thread = &h->v[i];
	}
	if (!r->thread)
		return -ESRCH;
	proc_path(h->pid, "mem", path, sizeof(path));
	r->memfd = open(path, O_RDWR | O_CLOEXEC);
	if (r->memfd < 0)
		return -errno;
	if (rescue) {
		r->rescue = rescue;
		ret = write_rescue_ctx(r);
		if (ret)
			goto fail;
		r->gadget = rescue + RESCUE_CODE_OFF_SYSCALL;
		return 0;
	}
	ret = proc_read_maps(h->pid, &maps);
	if (ret)
		goto fail;
	r->gadget = find_syscall_insn(r, &maps, "[vdso]");
	if (!r->gadget)
		r->gadget = find_syscall_insn(r, &maps, "libc");
	proc_free_maps(&maps);
	if (!r->gadget) {
		pr_err("pid %d: no syscall instruction found in its vDSO or libc",
		       (int)h->pid);
		ret = -ENOEXEC;
		goto fail;
	}
	return 0;
fail:
	close(r->memfd);
	r->memfd = -1;
	return ret;
}

void remote_close(struct remote *r)
{
	if (r->memfd >= 0)
		close(r->memfd);
	r->memfd = -1;
}

/*
 * Resume to the next syscall stop; 0 on success.  Only SIGKILL and the stop
 * signals get through the full mask we set: a stop signal is remembered in
 * *@stopsig and sent again once the process is released, so a job stop
 * that came in meanwhile is not lost.
 */
static int step_to_syscall_stop(pid_t tid, int *stopsig)
{
	int status;

	if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
		return -errno;
	for (;;) {
		if (waitpid(tid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80))
			return 0;
		if (WIFSTOPPED(status) && (status >> 16) == 0 &&
		    (WSTOPSIG(status) == SIGSTOP || WSTOPSIG(status) == SIGTSTP ||
		     WSTOPSIG(status) == SIGTTIN || WSTOPSIG(status) == SIGTTOU))
			*stopsig = WSTOPSIG(status);
		if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
			return -errno;
	}
}

/*
 * Test seam: TATTACH_TEST_DIE_AT=N makes tattach SIGKILL itself at its Nth
 * worst moment to die: the syscall-exit stop of each remote call, the
 * moment the temporary rescue code has just been cleared, and (with
 * --entry) the moment entries were written and threads stepped out of them
 * (remote_test_kill_point()).  So
 * tests/integration/test_tracer_death.c can show that every one of them
 * leaves the target unharmed.  Never set in normal use.
 */
static void die_here_for_tests(void)
{
	static int calls;
	const char *at = getenv("TATTACH_TEST_DIE_AT");

	if (at && ++calls == atoi(at))
		kill(getpid(), SIGKILL);
}

long remote_syscall(struct remote *r, long nr, uint64_t a1, uint64_t a2,
		    uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6)
{
	struct held_thread *t = r->thread;
	struct user_regs_struct regs = t->regs;
	uint64_t all = ~0ull;
	int ret;

	regs.rip = r->gadget;
	regs.rax = nr;
	regs.orig_rax = -1;	/* not in a syscall: no restart fix-up */
	regs.rdi = a1;
	regs.rsi = a2;
	regs.rdx = a3;
	regs.r10 = a4;
	regs.r8 = a5;
	regs.r9 = a6;
	regs.eflags &= ~0x100ul;	/* TF */
	proc_maps_changed();	/* mmap, munmap, mprotect... */
	t->regs_changed = 1;
	t->sigmask_changed = 1;
	/* Registers first: a tattach killed between the two leaves the thread
	 * in the rescue code (which restores its mask), never with every
	 * signal blocked at its own instruction. */
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(all), &all) < 0)
		goto fail;
	ret = step_to_syscall_stop(t->tid, &r->held->stop_signal);	/* entry */
	if (!ret)
		ret = step_to_syscall_stop(t->tid, &r->held->stop_signal);	/* exit */
	if (ret) {
		errno = -ret;
		goto fail;
	}
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
		goto fail;
	r->parked = r->rescue != 0;
	die_here_for_tests();
	return (long)regs.rax;
fail:
	pr_err("remote syscall %ld in thread %d: %s", nr, (int)t->tid,
	       strerror(errno));
	return -EIO;
}

int remote_move(struct remote *r, struct held_thread *t)
{
	t->regs_changed = 1;
	if (t == r->thread && r->parked)
		return write_rescue_ctx(r);
	/* now: a thread stopped where we found it goes on from t->regs */
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0)
		return -errno;
	t->regs_changed = 0;
	return 0;
}
