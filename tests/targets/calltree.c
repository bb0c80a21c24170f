/*
 * calltree: a target with an exactly known call tree.
 *
 * It prints "ready <pid>" and then reads one command per line on stdin,
 * answering each with a line on stdout once it is done:
 *
 *   run N       main thread: work(N)                      -> "done"
 *   mt T N      T new threads, each thread_main(N)        -> "done"
 *   spin T      T threads call work(100) until "stop"     -> "done"
 *   stop        join them (each checked its results)      -> "done"
 *   crash N     work(N), then abort()                     -> (dies)
 *   decoy       put a 64-bit value whose high half is the pid in an
 *               unused word of the main thread's TCB (%fs:56, glibc's
 *               unused_vgetcpu_cache), as a pointer into 0x7fXX... holds
 *               when the pid is 0x7fXX; threads "spin" starts later put
 *               it in theirs (not their tid there)        -> "done"
 *   decoy32     the same with the pid as a 32-bit field of its own
 *               (%fs:64, the next unused word)            -> "done"
 *   quit        exit(0)
 *
 * work(N) makes exactly this tree, N times:
 *
 *   work() { a() { b() { leaf(); } c() { leaf(); leaf(); } } ... }
 *
 * so one "run N" is 1 work, N a, N b, N c and 3N leaf calls.  Tests drive
 * it through pipes, so every wait is on a real line, never a sleep.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))
/* Not traced in any mode, so the tree is the same at -O0 and -O2. */
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

/* The expected value of work(n), computed without calling anything. */
NOTRACE static long expected_work(long n)
{
	long total = 0;

	for (long i = 0; i < n; i++)
		total += 3 * i + 3 * i + 3 * (i + 1);
	return total;
}

NOINLINE void *thread_main(void *arg)
{
	long n = (long)arg;

	if (work(n) != expected_work(n))
		abort();
	return NULL;
}

static int decoy;	/* 1: "decoy", 2: "decoy32" */

NOTRACE static int tcb_decoy(int kind)
{
	uint64_t pid = (uint32_t)getpid(), v = kind == 1 ? pid << 32 | 1 : pid;

	if (kind == 1)
		__asm__ volatile("movq %0, %%fs:56" : : "r"(v) : "memory");
	else
		__asm__ volatile("movq %0, %%fs:64" : : "r"(v) : "memory");
	decoy = kind;
	return 0;
}

static volatile int spinning;
static pthread_t spinners[64];
static long nspinners;

NOINLINE static void *spin_main(void *arg)
{
	(void)arg;
	if (decoy)
		tcb_decoy(decoy);
	while (spinning)
		if (work(100) != expected_work(100))
			abort();
	return NULL;
}

NOINLINE static int spin(long n)
{
	spinning = 1;
	for (nspinners = 0; nspinners < n && nspinners < 64; nspinners++)
		if (pthread_create(&spinners[nspinners], NULL, spin_main, NULL))
			return -1;
	return 0;
}

NOINLINE static int stop_spinning(void)
{
	spinning = 0;
	for (long i = 0; i < nspinners; i++)
		pthread_join(spinners[i], NULL);
	nspinners = 0;
	return 0;
}

NOINLINE static int run_threads(long nthreads, long n)
{
	pthread_t *tids = calloc(nthreads, sizeof(*tids));

	if (!tids)
		return -1;
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, thread_main, (void *)n))
			return -1;
	for (long i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	return 0;
}


NOINLINE static int dispatch(const char *line)
{
	long x, y;

	if (sscanf(line, "run %ld", &x) == 1) {
		if (work(x) != expected_work(x)) {
			fprintf(stderr, "calltree: wrong result\n");
			abort();
		}
		return 0;
	}
	if (sscanf(line, "mt %ld %ld", &x, &y) == 2)
		return run_threads(x, y);
	if (sscanf(line, "spin %ld", &x) == 1)
		return spin(x);
	if (strncmp(line, "stop", 4) == 0)
		return stop_spinning();
	if (sscanf(line, "crash %ld", &x) == 1) {
		work(x);
		abort();
	}
	if (strncmp(line, "decoy32", 7) == 0)
		return tcb_decoy(2);
	if (strncmp(line, "decoy", 5) == 0)
		return tcb_decoy(1);
	if (strncmp(line, "quit", 4) == 0)
		exit(0);
	return -1;
}

int main(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (dispatch(line) < 0)
			printf("error\n");
		else
			printf("done\n");
	}
	return 0;
}
