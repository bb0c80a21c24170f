/*
 * seccomp_filters: a -pg program that puts itself under a seccomp filter on
 * command, so tests can check what tattach does under each.  It prints
 * "ready <pid>" and answers one command per line:
 *
 *   filter NAME   install filter NAME (no_new_privs first)      -> "done"
 *     system-service  in the style of systemd's
 *                     SystemCallFilter=@system-service: x86-64 only, an
 *                     allow list, every other call kills the process
 *     mdwe        in the style of systemd's MemoryDenyWriteExecute=yes:
 *                 EPERM for mmap with PROT_WRITE|PROT_EXEC and for
 *                 mprotect/pkey_mprotect with PROT_EXEC
 *     kill-madvise  kill the process at madvise(MADV_WIPEONFORK)
 *     ip          allow everything, after looking at the instruction
 *                 pointer (which tattach cannot know in advance)
 *   run N         dispatch -> work(N), calltree's shape   -> "done"
 *   quit          exit(0)
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))
#define NOTRACE __attribute__((no_instrument_function, patchable_function_entry(0, 0)))

volatile long sink;

NOINLINE long leaf(long x)
{
	sink += x;
	return x * 3;
}

NOINLINE long b(long x)
{
	long r = leaf(x);
	sink += r;
	return r;
}

NOINLINE long c(long x)
{
	long r = leaf(x) + leaf(x + 1);
	sink += r;
	return r;
}

NOINLINE long a(long x)
{
	long r = b(x) + c(x);
	sink += r;
	return r;
}

NOINLINE long work(long n)
{
	long total = 0;

	for (long i = 0; i < n; i++)
		total += a(i);
	sink += total;
	return total;
}

NOTRACE static long expected_work(long n)
{
	long total = 0;

	for (long i = 0; i < n; i++)
		total += 3 * i + 3 * i + 3 * (i + 1);
	return total;
}

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(v)      BPF_STMT(BPF_RET | BPF_K, (v))

/* A subset of systemd's @system-service groups (@basic-io, @file-system,
 * @io-event, @ipc, @process, @signal, @timer, @default ...). */
static const int system_service[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64,
	SYS_close, SYS_lseek, SYS_dup, SYS_dup2, SYS_dup3, SYS_fcntl,
	SYS_open, SYS_openat, SYS_stat, SYS_fstat, SYS_lstat, SYS_newfstatat,
	SYS_statx, SYS_access, SYS_faccessat, SYS_readlink, SYS_readlinkat,
	SYS_getdents64, SYS_unlink, SYS_unlinkat, SYS_rename, SYS_mkdir,
	SYS_mmap, SYS_munmap, SYS_mprotect, SYS_madvise, SYS_mremap, SYS_brk,
	SYS_poll, SYS_ppoll, SYS_select, SYS_pselect6, SYS_epoll_create1,
	SYS_epoll_ctl, SYS_epoll_wait, SYS_epoll_pwait, SYS_eventfd2, SYS_pipe,
	SYS_pipe2, SYS_socket, SYS_connect, SYS_accept4, SYS_sendto,
	SYS_recvfrom, SYS_sendmsg, SYS_recvmsg, SYS_futex, SYS_set_robust_list,
	SYS_get_robust_list, SYS_rseq, SYS_clone, SYS_clone3, SYS_wait4,
	SYS_exit, SYS_exit_group, SYS_getpid, SYS_gettid, SYS_getppid,
	SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid, SYS_getrandom,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_sigaltstack,
	SYS_kill, SYS_tgkill, SYS_clock_gettime, SYS_clock_nanosleep,
	SYS_nanosleep, SYS_gettimeofday, SYS_setitimer, SYS_getitimer, SYS_uname, SYS_prctl, SYS_arch_prctl,
	SYS_set_tid_address, SYS_sched_yield, SYS_getrlimit, SYS_prlimit64,
	SYS_ioctl, SYS_restart_syscall,
};

NOTRACE static int install(struct sock_filter *f, size_t n)
{
	struct sock_fprog prog = { (unsigned short)n, f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) ? -1 : 0;
}

NOTRACE static int filter_system_service(void)
{
	size_t n = sizeof(system_service) / sizeof(system_service[0]), k = 0;
	struct sock_filter f[4 + 128 + 2];

	f[k++] = (struct sock_filter)LOAD(arch);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[k++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)LOAD(nr);
	for (size_t i = 0; i < n; i++)	/* a match jumps to the final ALLOW */
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      system_service[i], n - i, 0);
	f[k++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	return install(f, k);
}

NOTRACE static int filter_mdwe(void)
{
	struct sock_filter f[] = {
		LOAD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 3),
		LOAD(args[2]),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 4, 5),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pkey_mprotect, 0, 3),
		LOAD(args[2]),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
		RET(SECCOMP_RET_ERRNO | 1 /* EPERM */),
		RET(SECCOMP_RET_ALLOW),
	};

	return install(f, sizeof(f) / sizeof(f[0]));
}

NOTRACE static int filter_kill_madvise(void)
{
	struct sock_filter f[] = {
		LOAD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_madvise, 0, 3),
		LOAD(args[2]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 18 /* MADV_WIPEONFORK */, 0, 1),
		RET(SECCOMP_RET_KILL_PROCESS),
		RET(SECCOMP_RET_ALLOW),
	};

	return install(f, sizeof(f) / sizeof(f[0]));
}

NOTRACE static int filter_ip(void)
{
	struct sock_filter f[] = {
		LOAD(instruction_pointer),
		RET(SECCOMP_RET_ALLOW),
	};

	return install(f, sizeof(f) / sizeof(f[0]));
}

NOINLINE static int dispatch(const char *line)
{
	long x;

	if (sscanf(line, "run %ld", &x) == 1)
		return work(x) == expected_work(x) ? 0 : -1;
	if (!strncmp(line, "filter system-service", 21))
		return filter_system_service();
	if (!strncmp(line, "filter mdwe", 11))
		return filter_mdwe();
	if (!strncmp(line, "filter kill-madvise", 19))
		return filter_kill_madvise();
	if (!strncmp(line, "filter ip", 9))
		return filter_ip();
	if (!strncmp(line, "quit", 4))
		exit(0);
	return -1;
}

int main(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin))
		printf(dispatch(line) ? "error\n" : "done\n");
	return 0;
}
