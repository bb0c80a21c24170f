/*
 * hazards: what real daemons do that a tracer must survive.  Every command
 * checks its own results and answers "done <number>" or "error <why>".
 *
 *   signals N     SIGPROF at 5 kHz (handler on a sigaltstack, SA_RESTART,
 *                 calls a traced function) while N work() calls run;
 *                 answers the number of handler calls
 *   fork          a child forked inside traced frames calls traced code and
 *                 returns through the frames hijacked before the fork
 *   forkexec      fork + execve("/bin/true") from a traced function
 *   vforkexec     vfork + execve("/bin/true") from a traced function
 *   vforkcall     vfork; the child calls the traced leaf() three times, then
 *                 _exit(0): it runs on its parent's memory meanwhile
 *   longjmp N     N times: setjmp, 6 traced frames deep, longjmp back
 *   siglongjmp N  N times: SIGUSR1 raised 4 frames deep, handler siglongjmps out
 *   recurse D     a traced recursion D deep
 *   tail N        N times tail_outer(), which tail-calls tail_leaf(): gcc
 *                 -O2 makes that call a jump, so tail_leaf() returns
 *                 through the slot that tail_outer()'s return hijack holds
 *   tailwait      tail_wait_outer(), which tail-calls tail_wait(): that
 *                 answers "waiting" and blocks reading the next line (any:
 *                 "go"), then returns; answers "done 1"
 *   churn T R     R rounds of T threads that each call work() and exit
 *   cancel N      N times: a thread blocked in read() three traced frames
 *                 deep, each with a pthread_cleanup_push() handler, is
 *                 cancelled; answers the number of handlers that ran
 *                 (3 per thread) if every join saw PTHREAD_CANCELED
 *   window N      a SIGUSR2 handler (on a sigaltstack, calls a traced
 *                 function) in place, then work(N); answers the number of
 *                 SIGUSR2 handled so far.  Nothing here sends it: a test
 *                 delivers it with ptrace at a chosen instruction
 *                 (test_reserve_race.c)
 *   park A [LIB]  answers "leaf ADDRESS", then calls leaf() in a loop until
 *                 a SIGUSR2 handler (on the sigaltstack if A is 1) has run
 *                 and returned; that handler writes "parked", waits for
 *                 SIGUSR1, then calls a traced function.  Answers the
 *                 number of SIGUSR2 handled.  Nothing here sends them: a
 *                 test delivers SIGUSR2 with ptrace inside leaf()'s first
 *                 bytes (test_sigframes.c).  With LIB, the leaf is the
 *                 lib_leaf() of that library, dlopen()ed now
 *   dlopen LIB    dlopen()s LIB and keeps it; answers the address of its
 *                 lib_leaf() (decimal)
 *   dlclose       dlclose()s it again (unmapped, unless something else
 *                 holds it: "park A LIB" does); answers 0
 *   plugin LIB N  dlopen()s LIB, checks its lib_work(N), dlclose()s it:
 *                 a plugin loaded and unloaded (mostly at the same
 *                 address each time); answers N
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

volatile long sink;
static volatile sig_atomic_t handled;
static jmp_buf jb;
static sigjmp_buf sjb;

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

NOINLINE void handler_work(void)
{
	sink += leaf(7);
}

static void on_prof(int sig)
{
	(void)sig;
	handler_work();
	handled++;
}

static volatile sig_atomic_t usr2_handled;

static void on_usr2(int sig)
{
	(void)sig;
	handler_work();
	usr2_handled++;
}

static volatile sig_atomic_t park_handled, released;

static void on_release(int sig)
{
	(void)sig;
	released = 1;
}

/* Until SIGUSR1 comes: the context it returns to stays on the stack. */
static void on_park(int sig)
{
	static const char msg[] = "parked\n";
	sigset_t all_but_usr1;

	(void)sig;
	sigfillset(&all_but_usr1);
	sigdelset(&all_but_usr1, SIGUSR1);
	if (write(1, msg, sizeof(msg) - 1) < 0)
		return;
	while (!released)
		sigsuspend(&all_but_usr1);
	handler_work();
	park_handled++;
}

NOINLINE static long cmd_park(long altstack, const char *lib)
{
	long (*park_leaf)(long) = leaf;
	struct sigaction park = { .sa_handler = on_park, .sa_flags = SA_RESTART };
	struct sigaction release = { .sa_handler = on_release, .sa_flags = SA_RESTART };
	static char stack[64 * 1024];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) };
	long i = 0;

	if (altstack) {
		park.sa_flags |= SA_ONSTACK;
		release.sa_flags |= SA_ONSTACK;
		if (sigaltstack(&ss, NULL))
			return -1;
	}
	if (lib) {
		void *h = dlopen(lib, RTLD_NOW);

		if (!h || !(park_leaf = (long (*)(long))dlsym(h, "lib_leaf")))
			return -1;
	}
	released = 0;
	park_handled = 0;
	if (sigaction(SIGUSR2, &park, NULL) || sigaction(SIGUSR1, &release, NULL))
		return -1;
	printf("leaf %p\n", (void *)park_leaf);
	while (!park_handled)
		sink += park_leaf(i++);
	signal(SIGUSR2, SIG_IGN);
	return park_handled;
}

NOINLINE static long cmd_window(long n)
{
	struct sigaction sa = { .sa_handler = on_usr2, .sa_flags = SA_RESTART | SA_ONSTACK };
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

	if (sigaltstack(&ss, NULL) || sigaction(SIGUSR2, &sa, NULL))
		return -1;
	if (n && work(n) != n * (n + 1) / 2)
		return -1;
	return usr2_handled;
}

/*
 * A POSIX timer on CLOCK_MONOTONIC (hrtimer based, unlike ITIMER_PROF's
 * tick) sends SIGPROF to this thread every 200 us while traced work runs,
 * until @n signals were handled.
 */
NOINLINE static int cmd_signals(long n)
{
	struct sigaction sa = { .sa_handler = on_prof, .sa_flags = SA_RESTART | SA_ONSTACK };
	struct itimerspec it = { { 0, 200000 }, { 0, 200000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGPROF };
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	long sum = 0, rounds = 0;
	timer_t timer;

	handled = 0;
	sev._sigev_un._tid = gettid();
	if (sigaltstack(&ss, NULL) || sigaction(SIGPROF, &sa, NULL) ||
	    timer_create(CLOCK_MONOTONIC, &sev, &timer) ||
	    timer_settime(timer, 0, &it, NULL))
		return -1;
	while (handled < n) {
		sum += work(100);
		rounds++;
	}
	timer_settime(timer, 0, &off, NULL);
	timer_delete(timer);
	signal(SIGPROF, SIG_IGN);
	if (sum != rounds * 5050)
		return -1;
	return handled;
}

NOINLINE static long forker(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0)
		return work(10) == 55 ? 0 : 1;	/* the child returns through us */
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return 1;
}

NOINLINE static int cmd_fork(void)
{
	long r = forker();

	if (r == 0)	/* child: all its traced frames returned correctly */
		_exit(work(3) == 6 ? 0 : 3);
	return r == 1 ? 1 : -1;
}

NOINLINE static int spawn_true(int use_vfork)
{
	char *argv[] = { "/bin/true", NULL };
	pid_t pid = use_vfork ? vfork() : fork();
	int status;

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 0 ? 1 : -1;
}

/* The child of vfork() calls traced code before it leaves: what a
 * program may do between vfork and exec (set up file descriptors). */
NOINLINE static int cmd_vforkcall(void)
{
	int status;
	pid_t pid = vfork();

	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			leaf(i);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 0 ? 1 : -1;
}

/* gcc 12 does not see that longjmp() ends the recursion */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
NOINLINE static void jump_deep(int depth)
{
	if (depth <= 0)
		longjmp(jb, 1);
	else
		jump_deep(depth - 1);
	sink++;	/* not a tail call */
}

NOINLINE static int jumper(void)
{
	if (setjmp(jb) == 0) {
		jump_deep(5);
		return -1;	/* never reached */
	}
	return work(2) == 3 ? 1 : -1;
}

static void on_usr1(int sig)
{
	(void)sig;
	siglongjmp(sjb, 1);
}

NOINLINE static void raise_deep(int depth)
{
	if (depth == 0)
		raise(SIGUSR1);
	else
		raise_deep(depth - 1);
	sink++;
}

NOINLINE static int sigjumper(void)
{
	if (sigsetjmp(sjb, 1) == 0) {
		raise_deep(3);
		return -1;
	}
	return work(2) == 3 ? 1 : -1;
}

NOINLINE static long recurse(long d)
{
	long r = d ? recurse(d - 1) + 1 : 0;

	sink += r;
	return r;
}

NOINLINE static long tail_leaf(long x)
{
	sink += x;
	return x * 2;
}

/* A tail call (a jump at -O2): nothing runs after tail_leaf() returns. */
NOINLINE static long tail_outer(long x)
{
	sink++;
	return tail_leaf(x + 1);
}

/* Blocks in a function reached by a tail call, until a line comes. */
NOINLINE static long tail_wait(long x)
{
	char line[64];

	printf("waiting\n");
	if (!fgets(line, sizeof(line), stdin))
		return -1;
	sink += x;
	return x * 2;
}

NOINLINE static long tail_wait_outer(long x)
{
	sink++;
	return tail_wait(x + 1);
}

NOINLINE static void *churn_thread(void *arg)
{
	(void)arg;
	return work(5) == 15 ? NULL : (void *)1;
}

NOINLINE static int cmd_churn(long nthreads, long rounds)
{
	pthread_t *t = calloc(nthreads, sizeof(*t));

	if (!t)
		return -1;
	for (long r = 0; r < rounds; r++) {
		for (long i = 0; i < nthreads; i++)
			if (pthread_create(&t[i], NULL, churn_thread, NULL))
				return -1;
		for (long i = 0; i < nthreads; i++) {
			void *ret;

			pthread_join(t[i], &ret);
			if (ret)
				return -1;
		}
	}
	free(t);
	return (int)(nthreads * rounds);
}

/* pthread_cancel(): the cancelled thread unwinds (forced unwinding) from
 * inside read(), through three traced frames with a cleanup handler each. */
static int cancel_ready[2], cancel_block[2];
static long cleanups;

static void count_cleanup(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&cleanups, 1, __ATOMIC_RELAXED);
}

NOINLINE static void cancel_blocked(void)
{
	char c;

	pthread_cleanup_push(count_cleanup, NULL);
	if (write(cancel_ready[1], "r", 1) != 1)
		abort();
	if (read(cancel_block[0], &c, 1) < 0)	/* a cancellation point */
		abort();
	pthread_cleanup_pop(0);
}

NOINLINE static void cancel_middle(void)
{
	pthread_cleanup_push(count_cleanup, NULL);
	cancel_blocked();
	pthread_cleanup_pop(0);
}

NOINLINE static void *cancel_thread(void *arg)
{
	pthread_cleanup_push(count_cleanup, NULL);
	cancel_middle();
	pthread_cleanup_pop(0);
	return arg;
}

NOINLINE static long cmd_cancel(long n)
{
	long before = cleanups;

	if (!cancel_ready[1] && (pipe(cancel_ready) || pipe(cancel_block)))
		return -1;
	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *ret;
		char c;

		if (pthread_create(&t, NULL, cancel_thread, NULL) ||
		    read(cancel_ready[0], &c, 1) != 1)
			return -1;
		pthread_cancel(t);
		pthread_join(t, &ret);
		if (ret != PTHREAD_CANCELED)
			return -1;
	}
	return cleanups - before;
}

static void *held_lib;

NOINLINE static long cmd_dlopen(const char *lib)
{
	void *leaf;

	if (held_lib || !(held_lib = dlopen(lib, RTLD_NOW)))
		return -1;
	leaf = dlsym(held_lib, "lib_leaf");
	return leaf ? (long)leaf : -1;
}

NOINLINE static long cmd_dlclose(void)
{
	int ret = held_lib ? dlclose(held_lib) : -1;

	held_lib = NULL;
	return ret ? -1 : 0;
}

NOINLINE static long cmd_plugin(const char *lib, long n)
{
	void *h = dlopen(lib, RTLD_NOW);
	long (*lib_work)(long) = h ? (long (*)(long))dlsym(h, "lib_work") : NULL;
	long ok = lib_work && lib_work(n) == n * (n + 1) / 2;

	if (h && dlclose(h))
		ok = 0;
	return ok ? n : -1;
}

NOINLINE static long dispatch(const char *line)
{
	char path[256];
	long a, b, ok = 0;

	if (sscanf(line, "signals %ld", &a) == 1)
		return cmd_signals(a);
	if (!strncmp(line, "forkexec", 8))
		return spawn_true(0);
	if (!strncmp(line, "vforkexec", 9))
		return spawn_true(1);
	if (!strncmp(line, "vforkcall", 9))
		return cmd_vforkcall();
	if (!strncmp(line, "fork", 4))
		return cmd_fork();
	if (sscanf(line, "longjmp %ld", &a) == 1) {
		for (long i = 0; i < a; i++)
			ok += jumper() == 1;
		return ok == a ? ok : -1;
	}
	if (sscanf(line, "siglongjmp %ld", &a) == 1) {
		signal(SIGUSR1, on_usr1);
		for (long i = 0; i < a; i++)
			ok += sigjumper() == 1;
		return ok == a ? ok : -1;
	}
	if (sscanf(line, "recurse %ld", &a) == 1)
		return recurse(a) == a ? a : -1;
	if (sscanf(line, "tail %ld", &a) == 1) {
		for (long i = 0; i < a; i++)
			ok += tail_outer(i) == 2 * (i + 1);
		return ok == a ? ok : -1;
	}
	if (!strncmp(line, "tailwait", 8))
		return tail_wait_outer(0) == 2 ? 1 : -1;
	if (sscanf(line, "churn %ld %ld", &a, &b) == 2)
		return cmd_churn(a, b);
	if (sscanf(line, "cancel %ld", &a) == 1)
		return cmd_cancel(a);
	if (sscanf(line, "window %ld", &a) == 1)
		return cmd_window(a);
	if (sscanf(line, "park %ld %255s", &a, path) == 2)
		return cmd_park(a, path);
	if (sscanf(line, "park %ld", &a) == 1)
		return cmd_park(a, NULL);
	if (sscanf(line, "plugin %255s %ld", path, &a) == 2)
		return cmd_plugin(path, a);
	if (sscanf(line, "dlopen %255s", path) == 1)
		return cmd_dlopen(path);
	if (!strncmp(line, "dlclose", 7))
		return cmd_dlclose();
	return -1;
}

int main(void)
{
	char line[512];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		long r = dispatch(line);

		if (r < 0)
			printf("error %s", line);
		else
			printf("done %ld\n", r);
	}
	return 0;
}
