/*
 * manythreads: many threads alive at once, for the thread-slot and
 * ring-population tests.  Commands on stdin, one answer line each:
 *
 *   start T   create T threads that wait, alive, for "go"     -> "done"
 *   go N      each of them calls work(N) once, then all wait until every
 *             one has finished (so all T are alive and traced at the same
 *             moment), then they exit and are joined            -> "done"
 *   run N     main thread: work(N)                              -> "done"
 *   quit      exit(0)
 *
 * work(N) makes 1 work, N mid and N leaf calls, so "go N" with T threads
 * is exactly T work, T*N mid and T*N leaf calls.  Every wait is on a
 * barrier or a pipe line, never a sleep.
 */
#include <pthread.h>
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

NOINLINE long mid(long x)
{
	long r = leaf(x);
	sink += r;
	return r;
}

NOINLINE long work(long n)
{
	long total = 0;

	for (long i = 0; i < n; i++)
		total += mid(i);
	sink += total;
	return total;
}

static pthread_t *threads;
static long nthreads, rounds;
static pthread_barrier_t go_barrier, done_barrier;

static void *thread_main(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&go_barrier);	/* alive until "go" */
	if (work(rounds) != rounds * (rounds + 1) / 2)
		abort();
	pthread_barrier_wait(&done_barrier);	/* alive until all are done */
	return NULL;
}

/* Small stacks: 1000 threads fit in a few MiB of touched memory. */
static int start(long n)
{
	pthread_attr_t attr;

	if (threads || n < 1)
		return -1;
	threads = calloc(n, sizeof(*threads));
	if (!threads || pthread_attr_init(&attr) ||
	    pthread_attr_setstacksize(&attr, 64 << 10))
		return -1;
	pthread_barrier_init(&go_barrier, NULL, n + 1);
	pthread_barrier_init(&done_barrier, NULL, n + 1);
	for (nthreads = 0; nthreads < n; nthreads++)
		if (pthread_create(&threads[nthreads], &attr, thread_main, NULL))
			abort();	/* the barriers count on all of them */
	pthread_attr_destroy(&attr);
	return 0;
}

static int go(long n)
{
	if (!threads)
		return -1;
	rounds = n;
	pthread_barrier_wait(&go_barrier);
	pthread_barrier_wait(&done_barrier);
	for (long i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&go_barrier);
	pthread_barrier_destroy(&done_barrier);
	free(threads);
	threads = NULL;
	return 0;
}

int main(void)
{
	char line[256];
	long x;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		int ret = -1;

		if (sscanf(line, "start %ld", &x) == 1)
			ret = start(x);
		else if (sscanf(line, "go %ld", &x) == 1)
			ret = go(x);
		else if (sscanf(line, "run %ld", &x) == 1)
			ret = work(x) == x * (x + 1) / 2 ? 0 : -1;
		else if (strncmp(line, "quit", 4) == 0)
			exit(0);
		printf("%s\n", ret ? "error" : "done");
	}
	return 0;
}
