/*
 * launched: a target for 'tattach -- COMMAND', which starts it traced.
 *
 *   launched N [exit CODE | signal SIG | wait]
 *
 * Before main, a constructor calls setup(), which calls leaf() once.  main
 * then calls work(N) (N calls of step(), each calling leaf()), then
 * finish(), and ends as asked:
 *
 *   exit CODE    exit(CODE)                     (default: exit 0)
 *   signal SIG   raise(SIG)
 *   wait         print "ready PID", wait for a line (or EOF) on stdin,
 *                then exit 0: for tests that signal tattach meanwhile
 *   threads T    then T threads (at most 64), alive at once, each
 *                calling work(N) once; exit 0 when all have
 *   interrupt    go to a process group of its own (the terminal's
 *                signals then reach tattach only), print "ready PID",
 *                count the SIGINTs it gets by sender, the terminal
 *                (si_code SI_KERNEL) or a process (kill), and at SIGTERM
 *                print "sigint kernel=K user=U" and exit 0
 *
 * So the whole trace of "launched 2" is exactly
 *
 *   early(setup(leaf)) main(work(step(leaf) step(leaf)) finish)
 *
 * and the constructor's calls are the ones an attach after start misses.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

volatile long sink;

NOINLINE long leaf(long x)
{
	sink += x;
	return x + 1;
}

NOINLINE long setup(void)
{
	return leaf(1);
}

NOINLINE long step(long i)
{
	return leaf(i);
}

NOINLINE long work(long n)
{
	long total = 0;

	for (long i = 0; i < n; i++)
		total += step(i);
	return total;
}

NOINLINE void finish(long total)
{
	sink += total;
}

static volatile sig_atomic_t from_kernel, from_user, terminated;

static void count_sigint(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == SI_KERNEL)
		from_kernel++;
	else
		from_user++;
}

static void note_sigterm(int sig)
{
	(void)sig;
	terminated = 1;
}

static pthread_barrier_t all_worked;

static void *thread_work(void *n)
{
	sink += work((long)n);
	pthread_barrier_wait(&all_worked);
	return NULL;
}

/* The "threads" mode: @count threads (at most 64) each call work(@n),
 * all alive until every one has, so each needs a thread slot of its own
 * (glibc gives a thread started after another ended that one's TCB, and
 * tattach its slot). */
static int run_threads(long count, long n)
{
	pthread_t th[64];

	if (count < 1 || count > 64 || pthread_barrier_init(&all_worked, NULL, (unsigned)count))
		return 1;
	for (long i = 0; i < count; i++)
		if (pthread_create(&th[i], NULL, thread_work, (void *)n))
			return 1;
	for (long i = 0; i < count; i++)
		pthread_join(th[i], NULL);
	return 0;
}

/* The "interrupt" mode. */
static int count_interrupts(void)
{
	struct sigaction sa;
	sigset_t block, waiting;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = count_sigint;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGINT, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = note_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waiting);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGTERM);
	if (setpgid(0, 0) < 0)
		return 1;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (!terminated)
		sigsuspend(&waiting);
	printf("sigint kernel=%d user=%d\n", (int)from_kernel, (int)from_user);
	return 0;
}

__attribute__((constructor)) NOINLINE static void early(void)
{
	sink += setup();
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1;
	char line[64];

	finish(work(n));
	if (argc > 3 && !strcmp(argv[2], "exit"))
		exit(atoi(argv[3]));
	if (argc > 3 && !strcmp(argv[2], "signal"))
		raise(atoi(argv[3]));
	if (argc > 3 && !strcmp(argv[2], "threads"))
		return run_threads(atol(argv[3]), n);
	if (argc > 2 && !strcmp(argv[2], "interrupt"))
		return count_interrupts();
	if (argc > 2 && !strcmp(argv[2], "wait")) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 0;
	}
	return 0;
}
