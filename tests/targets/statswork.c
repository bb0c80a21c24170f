/*
 * statswork: known workloads for stats mode, the frames in flight and the
 * record-time filters.  Every traced function counts its own calls, so a
 * test can compare what tattach recorded with what really ran.
 *
 *   naps A B        two threads call nap() (2 ms) A and B times
 *   hazard T N      T threads, each N rounds of mid(8) under a 10 kHz
 *                   SIGPROF whose handler calls leaf(), and a longjmp out
 *                   of ja() -> jb() -> jc()
 *   load T          T threads call outer() in a loop until "stop": mid(4),
 *                   then a 20 us sleep
 *   stop            ends "load"; answers when every thread has joined
 *   deep D          a new thread whose start routine calls deep(D), a
 *                   recursion D calls deep
 *   block           a thread calls hold(), which calls mid(4) 1000 times
 *                   (5000 calls) and blocks in read() on a pipe until
 *                   "unblock"; answers its tid once it is about to block
 *   mids N          the main thread calls mid(8) N times
 *   counts          the counters: nap leaf mid ja jb jc deep handler outer
 *
 * Every command answers one line, "done ..." or "error <why>".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))
#define COUNT(c) __atomic_fetch_add(&(c), 1, __ATOMIC_RELAXED)

static long n_nap, n_leaf, n_mid, n_ja, n_jb, n_jc, n_deep, n_handler, n_outer;
static volatile long sink;
static volatile int load_stop;
static __thread jmp_buf jump_back;
static int block_pipe[2];
static sem_t blocked;
static volatile int blocked_tid;

NOINLINE void nap(void)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	COUNT(n_nap);
	while (nanosleep(&ts, &ts))
		;
}

NOINLINE long leaf(long x)
{
	COUNT(n_leaf);
	sink += x;
	return x + 1;
}

NOINLINE long mid(long n)
{
	long t = 0;

	COUNT(n_mid);
	for (long i = 0; i < n; i++)
		t += leaf(i);
	return t;
}

NOINLINE void jc(void)
{
	COUNT(n_jc);
	longjmp(jump_back, 1);
}

NOINLINE void jb(void)
{
	COUNT(n_jb);
	jc();
	sink++;
}

NOINLINE void ja(void)
{
	COUNT(n_ja);
	jb();
	sink++;
}

NOINLINE long deep(long d)
{
	long r;

	COUNT(n_deep);
	/* the store after the call keeps gcc from turning it into a loop */
	r = d > 1 ? deep(d - 1) : 0;
	sink = r;
	return r + 1;
}

NOINLINE void hold(void)
{
	char c;

	/* Enough calls to wrap a small flight ring: the ENTRY of hold()
	 * itself is overwritten by the time the thread blocks. */
	for (int i = 0; i < 1000; i++)
		mid(4);
	blocked_tid = gettid();
	sem_post(&blocked);
	if (read(block_pipe[0], &c, 1) != 1)
		abort();
}

static void on_prof(int sig)
{
	(void)sig;
	COUNT(n_handler);
	leaf(7);
}

struct job {
	pthread_t th;
	long a, b;
};

static void *nap_thread(void *arg)
{
	struct job *j = arg;

	for (long i = 0; i < j->a; i++)
		nap();
	return NULL;
}

static void *hazard_thread(void *arg)
{
	struct job *j = arg;
	struct itimerspec it = { { 0, 100000 }, { 0, 100000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGPROF };
	timer_t timer;

	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) || timer_settime(timer, 0, &it, NULL))
		abort();
	for (volatile long i = 0; i < j->a; i++) {
		mid(8);
		if (!setjmp(jump_back))
			ja();
	}
	timer_settime(timer, 0, &off, NULL);
	timer_delete(timer);
	return NULL;
}

/* Most of its time is spent asleep inside it: a mode switch nearly
 * always finds an outer() call in flight. */
NOINLINE void outer(void)
{
	struct timespec ts = { 0, 20 * 1000 };

	COUNT(n_outer);
	mid(4);
	nanosleep(&ts, NULL);
}

static void *load_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&load_stop, __ATOMIC_RELAXED))
		outer();
	return NULL;
}

static void *deep_thread(void *arg)
{
	struct job *j = arg;

	deep(j->a);
	return NULL;
}

static void *block_thread(void *arg)
{
	(void)arg;
	hold();
	return NULL;
}

static struct job jobs[64];
static long njobs;

static void start(long n, void *(*fn)(void *), long a)
{
	for (long i = 0; i < n; i++) {
		jobs[i].a = a;
		if (pthread_create(&jobs[i].th, NULL, fn, &jobs[i]))
			abort();
	}
	njobs = n;
}

static void join_all(void)
{
	for (long i = 0; i < njobs; i++)
		pthread_join(jobs[i].th, NULL);
	njobs = 0;
}

static void answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void answer(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_prof, .sa_flags = SA_RESTART };
	char line[256];
	long a, b;

	if (sigaction(SIGPROF, &sa, NULL) || pipe(block_pipe) || sem_init(&blocked, 0, 0))
		return 1;
	answer("ready %d", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "naps %ld %ld", &a, &b) == 2 && a >= 0 && b >= 0) {
			jobs[0].a = a;
			jobs[1].a = b;
			pthread_create(&jobs[0].th, NULL, nap_thread, &jobs[0]);
			pthread_create(&jobs[1].th, NULL, nap_thread, &jobs[1]);
			njobs = 2;
			join_all();
			answer("done %ld", a + b);
		} else if (sscanf(line, "hazard %ld %ld", &a, &b) == 2 && a > 0 && a <= 64) {
			start(a, hazard_thread, b);
			join_all();
			answer("done %ld", n_handler);
		} else if (sscanf(line, "load %ld", &a) == 1 && a > 0 && a <= 64) {
			load_stop = 0;
			start(a, load_thread, 0);
			answer("done");
		} else if (!strcmp(line, "stop\n")) {
			__atomic_store_n(&load_stop, 1, __ATOMIC_RELAXED);
			join_all();
			answer("done");
		} else if (sscanf(line, "deep %ld", &a) == 1 && a > 0 && a < 100000) {
			start(1, deep_thread, a);
			join_all();
			answer("done");
		} else if (!strcmp(line, "block\n")) {
			start(1, block_thread, 0);
			while (sem_wait(&blocked))
				;
			answer("done %d", blocked_tid);
		} else if (!strcmp(line, "unblock\n")) {
			if (write(block_pipe[1], "x", 1) != 1)
				abort();
			join_all();
			answer("done");
		} else if (sscanf(line, "mids %ld", &a) == 1 && a >= 0) {
			for (long i = 0; i < a; i++)
				mid(8);
			answer("done");
		} else if (!strcmp(line, "counts\n")) {
			answer("done %ld %ld %ld %ld %ld %ld %ld %ld %ld", n_nap, n_leaf, n_mid,
			       n_ja, n_jb, n_jc, n_deep, n_handler, n_outer);
		} else if (!strcmp(line, "quit\n")) {
			break;
		} else {
			answer("error unknown command");
		}
	}
	return 0;
}
