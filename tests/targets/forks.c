// SPDX-License-Identifier: MIT
/*
 * Fork children of a traced process (tests/integration/test_children.c).
 * Commands on stdin, one answer line each:
 *
 *   child N       fork inside three traced frames; the child calls work(N)
 *                 and returns through the frames it inherited, then exits;
 *                 answers "child PID" once it has been reaped
 *   grand N       the same child calls work(1), then forks a grandchild
 *                 that calls work(N + 1)
 *                 and returns through its frames; the child says
 *                 "grandchild PID" once it reaped it, then "grand CHILD"
 *   threads N     three threads call leaf() once and spin while the main thread
 *                 forks a child; the child calls work(N), then starts a
 *                 thread that calls work(2) and joins it;
 *                 answers "child PID"
 *   nocreate N    as "child N", but the child first installs a seccomp filter
 *                 that answers EPERM to openat(O_CREAT): no ring for it
 *   threadfirst N a thread of the child calls work(2) and exits before the
 *                 child's main thread calls work(N)
 *   retfirst N    the child's first traced event is a return (of the
 *                 function that called fork()), then it calls work(N)
 *   sigfork N     a SIGUSR1 handler forks; the child calls work(N) in the
 *                 handler and exits; answers "child PID"
 *   keep N        fork a child that calls work(N), then waits on a pipe;
 *                 answers "kept PID" once it has called work(N)
 *   execkeep N    the same, but the child then execs a shell that waits for
 *                 the release
 *   userkeep N    as "keep N", but the child becomes user and group 65534
 *                 (nobody) after work(N), as a prefork server's worker
 *                 drops root: its ring, made at its first traced call,
 *                 stays root's
 *   release N     let every kept child call work(N) and exit, reap them;
 *                 answers "released K"
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))
#define KEPT_MAX 16

volatile long sink;
static volatile int spinning;
static int spinners_in;		/* spinners past their first traced call */
static pid_t kept[KEPT_MAX];
static int kept_go[KEPT_MAX];	/* write end: a line lets kept child i go on */
static int nkept;

NOINLINE long leaf(long x)
{
	sink += x;
	return x + 1;
}

NOINLINE long work(long n)
{
	long t = 0;

	for (long i = 0; i < n; i++)
		t += leaf(i);
	return t;
}

static int reap(pid_t pid)
{
	int status;

	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void *worker_work2(void *arg)
{
	(void)arg;
	work(2);
	return NULL;
}

/* In the child: 0 after work(n); with @grand, after forking a
 * grandchild that does the same one level down; with THREAD_TOO, then
 * after a thread of its own called work(2). */
#define THREAD_TOO 2
#define NO_CREATE  3
#define THREAD_FIRST 4

/* A seccomp filter answering EPERM to every openat() that would create a
 * file: the child cannot make its ring. */
static int forbid_create(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_CREAT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1 /* EPERM */),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	       prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}
NOINLINE static long spawn(long n, int grand, pid_t *grandpid)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (grand == NO_CREATE) {
		/* before any traced call or return of the child */
		if (forbid_create())
			_exit(10);
		return work(n) == n * (n + 1) / 2 ? 0 : -1;
	}
	if (grand == THREAD_FIRST) {
		pthread_t th;

		/* a thread of the child makes the first traced calls */
		if (pthread_create(&th, NULL, worker_work2, NULL) || pthread_join(th, NULL))
			_exit(9);
		return work(n) == n * (n + 1) / 2 ? 0 : -1;
	}
	if (grand == THREAD_TOO) {
		long ok = work(n) == n * (n + 1) / 2;
		pthread_t th;

		/* after the main thread's first traced call (the child's ring
		 * is made then); its stack and TCB: likely one of the parent's
		 * threads' */
		if (pthread_create(&th, NULL, worker_work2, NULL) || pthread_join(th, NULL))
			_exit(9);
		return ok ? 0 : -1;
	} else if (grand) {
		pid_t g;

		/* a traced call first: the child has its ring when it forks */
		work(1);
		g = fork();

		if (g < 0)
			_exit(4);
		if (g == 0)
			return work(n + 1) == (n + 1) * (n + 2) / 2 ? 0 : -1;
		if (reap(g))
			_exit(5);
		*grandpid = g;
		printf("grandchild %d\n", (int)g);
	}
	return work(n) == n * (n + 1) / 2 ? 0 : -1;
}

NOINLINE static long cmd_child(long n, int grand, pid_t *grandpid)
{
	long r = spawn(n, grand, grandpid);

	if (r <= 0)	/* a child, past the frames of spawn() */
		_exit(r == 0 ? 0 : 3);
	return r;
}

NOINLINE static void *spinner(void *arg)
{
	(void)arg;
	leaf(1);
	__atomic_add_fetch(&spinners_in, 1, __ATOMIC_SEQ_CST);
	/* its frame stays open over the fork; no more calls: an unbounded
	 * number of them would fill its ring */
	while (__atomic_load_n(&spinning, __ATOMIC_RELAXED))
		__builtin_ia32_pause();
	return NULL;
}

NOINLINE static long cmd_threads(long n)
{
	pthread_t th[3];
	pid_t pid;

	spinning = 1;
	spinners_in = 0;
	for (int i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, spinner, NULL))
			return -1;
	/* every spinner has its thread slot (and frames) when we fork */
	while (__atomic_load_n(&spinners_in, __ATOMIC_SEQ_CST) < 3)
		sched_yield();
	pid = (pid_t)cmd_child(n, THREAD_TOO, NULL);
	spinning = 0;
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	return pid;
}

/* Returns in the child too: there the child's first traced event is
 * this function's return. */
NOINLINE static pid_t bare_fork(void)
{
	return fork();
}

NOINLINE static long cmd_retfirst(long n)
{
	pid_t pid = bare_fork();

	if (pid == 0)
		_exit(work(n) == n * (n + 1) / 2 ? 0 : 12);
	return pid;
}

static volatile pid_t sig_child;
static volatile long sig_n;

/* A SIGUSR1 handler that forks: the child does its work in the handler. */
NOINLINE static void on_usr1(int sig)
{
	pid_t pid = fork();

	(void)sig;
	if (pid == 0)
		_exit(work(sig_n) == sig_n * (sig_n + 1) / 2 ? 0 : 11);
	sig_child = pid;
}

NOINLINE static long cmd_sigfork(long n)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sig_n = n;
	sig_child = 0;
	if (sigaction(SIGUSR1, &sa, NULL) || raise(SIGUSR1))
		return -1;
	return sig_child;
}

/* A kept child; with @exec, it replaces itself by a shell that waits
 * for the release on its stdin; with @drop_root, it becomes nobody. */
NOINLINE static long cmd_keep(long n, int exec, int drop_root)
{
	int go[2], said[2];
	pid_t pid;
	char c;

	if (nkept == KEPT_MAX || pipe(go) || pipe(said))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		long m;

		close(go[1]);
		close(said[0]);
		work(n);
		if (drop_root && (setresgid(65534, 65534, 65534) ||
				  setresuid(65534, 65534, 65534)))
			_exit(15);
		if (exec) {
			/* traced before the exec; after it, nothing of tattach's:
			 * the shell says "k" once it runs */
			if (dup2(go[0], STDIN_FILENO) < 0 || dup2(said[1], 3) < 0)
				_exit(13);
			execl("/bin/sh", "sh", "-c", "printf k >&3; read -r x; exit 0",
			      (char *)NULL);
			_exit(14);
		}
		if (write(said[1], "k", 1) != 1)
			_exit(7);
		/* the number of release, on the pipe */
		if (read(go[0], &m, sizeof(m)) != sizeof(m))
			_exit(8);
		work(m);
		_exit(0);
	}
	close(go[0]);
	close(said[1]);
	if (read(said[0], &c, 1) != 1)
		return -1;
	close(said[0]);
	kept[nkept] = pid;
	kept_go[nkept++] = go[1];
	return pid;
}

NOINLINE static long cmd_release(long n)
{
	long done = 0;

	for (int i = 0; i < nkept; i++) {
		if (write(kept_go[i], &n, sizeof(n)) != sizeof(n))
			return -1;
		close(kept_go[i]);
		done += reap(kept[i]) == 0;
	}
	nkept = 0;
	return done;
}

/* The answer to a command, printed by main() once dispatch() returned:
 * a test reading the trace after the answer finds dispatch() ended. */
static char answer[256];
static size_t answer_len;
#define SAY(...) (answer_len += (size_t)snprintf(answer + answer_len, \
		  answer_len < sizeof(answer) ? sizeof(answer) - answer_len : 0, __VA_ARGS__))

NOINLINE static void dispatch(const char *line)
{
	pid_t g = 0;
	long n = 0, r;

	if (sscanf(line, "child %ld", &n) == 1) {
		r = cmd_child(n, 0, NULL);
		SAY(r > 0 && reap((pid_t)r) == 0 ? "child %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "grand %ld", &n) == 1) {
		/* the child says "grandchild PID" first */
		r = cmd_child(n, 1, &g);
		SAY(r > 0 && reap((pid_t)r) == 0 ? "grand %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "nocreate %ld", &n) == 1) {
		r = cmd_child(n, NO_CREATE, NULL);
		SAY(r > 0 && reap((pid_t)r) == 0 ? "child %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "threadfirst %ld", &n) == 1) {
		r = cmd_child(n, THREAD_FIRST, NULL);
		SAY(r > 0 && reap((pid_t)r) == 0 ? "child %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "retfirst %ld", &n) == 1) {
		r = cmd_retfirst(n);
		SAY(r > 0 && reap((pid_t)r) == 0 ? "child %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "sigfork %ld", &n) == 1) {
		r = cmd_sigfork(n);
		SAY(r > 0 && reap((pid_t)r) == 0 ? "child %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "threads %ld", &n) == 1) {
		r = cmd_threads(n);
		SAY(r > 0 && reap((pid_t)r) == 0 ? "child %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "execkeep %ld", &n) == 1) {
		r = cmd_keep(n, 1, 0);
		SAY(r > 0 ? "kept %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "keep %ld", &n) == 1) {
		r = cmd_keep(n, 0, 0);
		SAY(r > 0 ? "kept %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "userkeep %ld", &n) == 1) {
		r = cmd_keep(n, 0, 1);
		SAY(r > 0 ? "kept %ld\n" : "error %ld\n", r);
	} else if (sscanf(line, "release %ld", &n) == 1) {
		SAY("released %ld\n", cmd_release(n));
	} else {
		SAY("error %s", line);
	}
}

int main(void)
{
	char line[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		answer_len = 0;
		answer[0] = 0;
		dispatch(line);
		fputs(answer, stdout);
	}
	cmd_release(0);
	return 0;
}
