/*
 * views: known workloads for tread --hist, --stat, --stuck and the filters.
 *
 * It prints "ready <pid>" and then reads one command per line on stdin,
 * answering each with a line on stdout once it is done:
 *
 *   sleep T N   T threads, each calls nap() (nanosleep 2 ms) N times
 *               from sleeper()                               -> "done"
 *   block [N]   a thread calls parked() -> wait_input() -> read_pipe(),
 *               which blocks in read() on a pipe; answers "blocked"
 *               from inside read_pipe, just before read().  With N,
 *               wait_input() first calls quick() N times (to push the
 *               entries of parked and wait_input out of a small flight
 *               ring)
 *   unblock     writes the byte read_pipe waits for, joins    -> "done"
 *   mix N       main thread: N times outer() { slow() { quick() }
 *               quick() }, slow sleeps 1 ms, quick does not   -> "done"
 *   quit        exit(0)
 *
 * Every wait of a test is on one of these lines, never a sleep.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static volatile long sink;
static int pipefd[2];
static pthread_t parked_thread;
static long quick_calls;		/* block N: quick() calls before read_pipe */

static void sleep_ns(long ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };

	while (nanosleep(&ts, &ts))
		;
}

NOINLINE void nap(void)
{
	sleep_ns(2000000);
}

NOINLINE void *sleeper(void *arg)
{
	long n = (long)arg;

	for (long i = 0; i < n; i++)
		nap();
	return NULL;
}

NOINLINE void read_pipe(void)
{
	char c;

	printf("blocked\n");
	fflush(stdout);
	if (read(pipefd[0], &c, 1) != 1)
		abort();
}

NOINLINE void quick(void);

NOINLINE void wait_input(void)
{
	for (long i = 0; i < quick_calls; i++)
		quick();
	read_pipe();
	sink++;
}

NOINLINE void *parked(void *arg)
{
	(void)arg;
	wait_input();
	return NULL;
}

NOINLINE void quick(void)
{
	sink++;
}

NOINLINE void slow(void)
{
	sleep_ns(1000000);
	quick();
}

NOINLINE void outer(void)
{
	slow();
	quick();
}

static void run_sleepers(long threads, long n)
{
	pthread_t t[64];

	if (threads < 1 || threads > 64)
		abort();
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, sleeper, (void *)n))
			abort();
	for (long i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	char line[128];
	long a, b;

	if (pipe(pipefd))
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "sleep %ld %ld", &a, &b) == 2) {
			run_sleepers(a, b);
			printf("done\n");
		} else if (!strncmp(line, "block", 5) && (line[5] == '\n' || line[5] == ' ')) {
			quick_calls = line[5] == ' ' ? atol(line + 6) : 0;
			/* parked() prints "blocked" itself */
			if (pthread_create(&parked_thread, NULL, parked, NULL))
				abort();
		} else if (!strcmp(line, "unblock\n")) {
			if (write(pipefd[1], "x", 1) != 1)
				abort();
			pthread_join(parked_thread, NULL);
			printf("done\n");
		} else if (sscanf(line, "mix %ld", &a) == 1) {
			for (long i = 0; i < a; i++)
				outer();
			printf("done\n");
		} else if (!strcmp(line, "quit\n")) {
			return 0;
		}
	}
	return 0;
}
