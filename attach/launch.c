// SPDX-License-Identifier: MIT
/*
 * tattach [options] -- COMMAND: run a program traced from its start.
 *
 * Tracing must be on before the program's first traced call, which can be
 * in a constructor, before main.  The child asks to be traced
 * (PTRACE_TRACEME) and execs the command; the kernel stops it after the
 * exec, before the dynamic linker has run.  That is too early to enable:
 * no library is mapped yet (their sites, libc's syscall instruction) and
 * the main thread has no TLS, which the trampoline keys threads by.  So a
 * breakpoint (int3) goes on the program's entry point (AT_ENTRY).  When it
 * is hit, the dynamic linker has mapped and relocated every library and set
 * up the main thread's TCB, and no code of the program has run: its
 * constructors run later, from __libc_start_main.  (Those of the shared
 * libraries ran in the dynamic linker, before the entry point: see
 * docs/limitations.md.)
 *
 * session_enable() then seizes the process itself, exactly as for an
 * attach; a process has only one tracer, so tattach first lets go of the
 * child with a SIGSTOP (it waits at its entry point in a group stop), and
 * continues it with SIGCONT once every site is rewritten.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/launch.h"
#include "attach/log.h"
#include "ringfiles/ringfiles.h"

/* The command, once started: where forwarded signals go. */
static volatile sig_atomic_t child_pid;

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/*
 * The terminal sends Ctrl-C, Ctrl-\ and its hang-up to the whole
 * foreground process group (si_code SI_KERNEL): the command has its own
 * copy already, and a second one could make it act twice.  Only what was
 * sent to tattach alone (kill, timeout, a service manager) is passed on.
 */
static void forward_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (child_pid > 0 && si->si_code != SI_KERNEL)
		kill((pid_t)child_pid, sig);
}

/*
 * Catch the forwarded signals, blocked until the command runs (so that
 * none arrives while it is held).  A signal tattach was started with
 * ignored (nohup) stays ignored, for the command too.  @old gets the mask
 * from before.
 */
static void catch_signals(sigset_t *old)
{
	struct sigaction sa, was;
	sigset_t block;

	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		if (sigaction(forwarded[i], NULL, &was) == 0 && was.sa_handler != SIG_IGN)
			sigaction(forwarded[i], &sa, NULL);
}

/* What a shell would say of a command that ended so. */
static int status_code(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

struct exec_failure {
	int traceme;	/* PTRACE_TRACEME failed, not the exec */
	int err;
};

static void explain_exec_failure(const char *cmd, const struct exec_failure *f)
{
	if (f->traceme)
		pr_err("cannot trace the command: PTRACE_TRACEME: %s", strerror(f->err));
	else if (f->err == ENOENT && !strchr(cmd, '/'))
		pr_err("cannot run '%s': command not found", cmd);
	else
		pr_err("cannot run '%s': %s", cmd, strerror(f->err));
}

/*
 * Fork the command, traced by us, and wait for the stop after its exec.
 * Returns its pid, or 0 with *@code set (the reason printed, the child
 * reaped): 127 if not found, 126 if not executable, 125 otherwise.
 */
static pid_t start_child(char *const argv[], const sigset_t *mask, int *code)
{
	struct exec_failure f = { 0 };
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		pr_err("cannot start the command: pipe: %s", strerror(errno));
		*code = LAUNCH_FAILED;
		return 0;
	}
	pid = fork();
	if (pid < 0) {
		pr_err("cannot start the command: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		*code = LAUNCH_FAILED;
		return 0;
	}
	if (pid == 0) {
		close(p[0]);
		sigprocmask(SIG_SETMASK, mask, NULL);
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) {
			f.traceme = 1;
		} else {
			execvp(argv[0], argv);
		}
		f.err = errno;
		if (write(p[1], &f, sizeof(f)) < 0)
			_exit(LAUNCH_FAILED);
		_exit(f.err == ENOENT ? LAUNCH_NOT_FOUND : LAUNCH_CANNOT_RUN);
	}
	close(p[1]);
	/* The pipe closes at a successful exec (O_CLOEXEC), before the stop;
	 * a failure sends its errno. */
	do
		n = read(p[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(f)) {
		explain_exec_failure(argv[0], &f);
		*code = f.traceme ? LAUNCH_FAILED :
			f.err == ENOENT ? LAUNCH_NOT_FOUND : LAUNCH_CANNOT_RUN;
		return 0;
	}
	if (!WIFSTOPPED(status)) {
		pr_err("'%s' ended at its exec (status %d)", argv[0], status_code(status));
		*code = status_code(status);
		return 0;
	}
	/* Should tattach die before it lets go, the command dies with it
	 * rather than stay stopped forever. */
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL);
	return pid;
}

/* The program's entry point, from the auxiliary vector the kernel gave it. */
static int entry_point(pid_t pid, uint64_t *entry)
{
	char path[64];
	Elf64_auxv_t av;
	int fd, ret = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (read(fd, &av, sizeof(av)) == (ssize_t)sizeof(av) && av.a_type != AT_NULL)
		if (av.a_type == AT_ENTRY) {
			*entry = av.a_un.a_val;
			ret = 0;
			break;
		}
	close(fd);
	return ret;
}

/*
 * Let the dynamic linker run, up to the entry point: a breakpoint there,
 * taken back out once hit, and the thread put back on the instruction.
 * Signals the child gets meanwhile are passed on.  Returns 0 (stopped at
 * the entry), 1 if the child ended first (*@status), or -errno.
 */
static int run_to_entry(pid_t pid, uint64_t entry, int *status)
{
	struct user_regs_struct regs;
	int sig = 0;
	long word;

	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, entry, 0);
	if (errno)
		return -errno;
	if (ptrace(PTRACE_POKETEXT, pid, entry, (word & ~0xffL) | 0xcc) < 0)
		return -errno;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, 0, sig) < 0)
			return -errno;
		if (waitpid(pid, status, 0) < 0) {
			if (errno == EINTR) {
				sig = 0;
				continue;
			}
			return -errno;
		}
		if (WIFEXITED(*status) || WIFSIGNALED(*status))
			return 1;
		sig = WSTOPSIG(*status);
		if (sig != SIGTRAP)
			continue;
		if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
			return -errno;
		if (regs.rip == entry + 1)
			break;
	}
	regs.rip = entry;
	if (ptrace(PTRACE_POKETEXT, pid, entry, word) < 0 ||
	    ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0)
		return -errno;
	return 0;
}

/* Let go of the child, left in a group stop at its entry point. */
static int detach_stopped(pid_t pid, int *status)
{
	if (ptrace(PTRACE_DETACH, pid, 0, SIGSTOP) < 0)
		return -errno;
	while (waitpid(pid, status, WUNTRACED) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFSTOPPED(*status) ? 0 : 1;
}

static int wait_exit(pid_t pid, int *status)
{
	siginfo_t si;

	/* Wait without reaping, stop forwarding, then reap: a signal that
	 * comes meanwhile must not go to a process that reuses the pid. */
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			return -errno;
	child_pid = 0;
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void say_how_it_ended(pid_t pid, int status, const char *then)
{
	if (WIFSIGNALED(status))
		fprintf(stderr, "tattach: pid %d was killed by signal %d (%s)%s\n", (int)pid,
			WTERMSIG(status), strsignal(WTERMSIG(status)), then);
	else
		fprintf(stderr, "tattach: pid %d exited with status %d%s\n", (int)pid,
			WEXITSTATUS(status), then);
}

/* The command had more threads than its ring's slots: say what it cost,
 * as nothing else would before tread's summary. */
static void say_untraced_threads(pid_t pid, const char *ring_path)
{
	struct tat_ring_header h;
	int fd = open(ring_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	if (ringfiles_read_header(fd, &h) == 0 && h.threads_overflow)
		fprintf(stderr, "tattach: pid %d had more threads than its %u thread slots: "
			"%llu calls of the others were not traced (-t sets the number)\n",
			(int)pid, h.max_threads, (unsigned long long)h.threads_overflow);
	close(fd);
}

/* Stop the command at its entry point, enable, continue it: 0, or the
 * exit status to give up with (the reason printed). */
static int start_traced(struct session_opts *o, const struct launch_opts *lo,
			pid_t pid, struct session_report *rep)
{
	uint64_t entry = 0;
	int status, ret;

	ret = entry_point(pid, &entry);
	if (ret) {
		pr_err("pid %d: no entry point in /proc/%d/auxv: %s", (int)pid, (int)pid,
		       strerror(-ret));
		return LAUNCH_FAILED;
	}
	ret = run_to_entry(pid, entry, &status);
	if (ret == 0)
		ret = detach_stopped(pid, &status);
	if (ret == 1) {
		/* the dynamic linker failed (a missing library): it said why */
		pr_err("'%s' (pid %d) ended before its entry point (status %d): nothing "
		       "was traced", lo->argv[0], (int)pid, status_code(status));
		return status_code(status) ? status_code(status) : LAUNCH_FAILED;
	}
	if (ret) {
		pr_err("running pid %d to its entry point %#llx: %s", (int)pid,
		       (unsigned long long)entry, strerror(-ret));
		return LAUNCH_FAILED;
	}
	o->pid = pid;
	ret = session_enable(o, rep);
	if (ret) {
		if (!log_errors())
			pr_err("pid %d: enabling: %s", (int)pid, strerror(-ret));
		/* it never ran a line of its own: nothing in it worth keeping */
		if (rep->ring_path[0])
			unlink(rep->ring_path);
		return LAUNCH_FAILED;
	}
	fprintf(stderr, "tattach: started PID %d (ring %s): %zu site%s in %zu module%s "
		"traced; read it with 'tread -p %d'\n", (int)pid, rep->ring_path,
		rep->sites, rep->sites == 1 ? "" : "s", rep->modules,
		rep->modules == 1 ? "" : "s", (int)pid);
	session_say_values_wait(stderr, o, rep);
	if (lo->verbose)
		fprintf(stderr, "tattach: pid %d held for %.3f ms at its entry point %#llx\n",
			(int)pid, rep->stopped_us / 1000, (unsigned long long)entry);
	if (kill(pid, SIGCONT) < 0) {
		pr_err("continuing pid %d: %s", (int)pid, strerror(errno));
		return LAUNCH_FAILED;
	}
	return 0;
}

/* Refuse, before the command runs, a save path whose folder cannot be
 * written: the trace of a long run must not be lost at its end. */
static int check_save_path(const char *file)
{
	char copy[PATH_MAX];
	const char *dir;

	snprintf(copy, sizeof(copy), "%s", file);
	dir = dirname(copy);
	if (access(dir, W_OK) < 0) {
		pr_err("cannot save the trace to %s: folder %s: %s", file, dir,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

int launch_run(struct session_opts *o, const struct launch_opts *lo)
{
	struct session_report rep = { 0 };
	int status, code;
	sigset_t old;
	pid_t pid;

	if (lo->save_path && check_save_path(lo->save_path))
		return LAUNCH_FAILED;
	catch_signals(&old);
	pid = start_child(lo->argv, &old, &code);
	if (!pid)
		return code;
	child_pid = pid;
	code = start_traced(o, lo, pid, &rep);
	if (code) {
		kill(pid, SIGKILL);
		wait_exit(pid, &status);
		return code;
	}
	/* Signals sent to tattach while the command was held go now. */
	sigprocmask(SIG_SETMASK, &old, NULL);
	code = wait_exit(pid, &status);
	if (code) {
		pr_err("waiting for pid %d: %s", (int)pid, strerror(-code));
		return LAUNCH_FAILED;
	}
	code = status_code(status);
	say_untraced_threads(pid, rep.ring_path);
	if (!lo->save_path) {
		char then[64];

		snprintf(then, sizeof(then), "; read its trace with 'tread -p %d'", (int)pid);
		say_how_it_ended(pid, status, then);
		return code;
	}
	say_how_it_ended(pid, status, "");
	if (launch_save(rep.ring_path, lo->save_path)) {
		pr_err("the trace was not saved to %s; it is still in %s ('tread -p %d "
		       "--save FILE' saves it)", lo->save_path, rep.ring_path, (int)pid);
		return LAUNCH_FAILED;
	}
	/* the saved file holds all of it: leave no ring behind in /dev/shm */
	unlink(rep.ring_path);
	fprintf(stderr, "tattach: trace of pid %d saved to %s\n", (int)pid, lo->save_path);
	return code;
}
