/*
 * seqwriter: calls that encode a sequence, so that a ring reader can check
 * the order and the completeness of what it read while the rings were
 * being written as fast as the tracer can.
 *
 * Only s0() .. s7() and h() are traced (everything else is built with
 * no_instrument_function), so a trace of this program holds exactly:
 *
 *   worker threads   s0 s1 s2 s3 s4 s5 s6 s7 s0 s1 ... as fast as they
 *                    can, in whole cycles (a worker stops after s7 only);
 *   h()              called by a SIGALRM handler that a per-thread POSIX
 *                    timer fires on each worker at HZ: it interrupts the
 *                    worker anywhere, also half way through the
 *                    trampoline's write of an s event, so h's events nest
 *                    inside the writes of the interrupted thread.
 *
 * Commands on stdin, one answer line each:
 *
 *   start [T [HZ]]  start T workers (default 2, at most 16) with a timer
 *                   at HZ per worker (default 4000, 0 = no timer);
 *                   answers "started T"
 *   stop            stop and join them; answers
 *                   "stopped T tid s h tid s h ..." with, per worker, its
 *                   tid, the number of s calls it made (a multiple of 8)
 *                   and the number of h calls its handler made
 *   run C [T [HZ]]  T workers (default 2) make exactly C cycles each, with
 *                   a timer at HZ (default 0: none); answers like stop
 *   quit            exit 0
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOTRACE  __attribute__((no_instrument_function))
#define NOINLINE __attribute__((noinline, noclone))
#define MAX_WORKERS 16

static __thread long h_calls;

/* The traced functions: nothing but a compiler barrier each. */
#define SEQ_FN(name) \
	NOINLINE void name(void) { __asm__ volatile("" ::: "memory"); }
SEQ_FN(s0)
SEQ_FN(s1)
SEQ_FN(s2)
SEQ_FN(s3)
SEQ_FN(s4)
SEQ_FN(s5)
SEQ_FN(s6)
SEQ_FN(s7)

NOINLINE void h(void)
{
	h_calls++;
	__asm__ volatile("" ::: "memory");
}

struct worker {
	pthread_t thread;
	int tid;
	long cycles;		/* 0 = until stopped */
	long s_calls;
	long h_calls;
	long hz;
};

static struct worker workers[MAX_WORKERS];
static int nworkers;
static volatile int stopping;

NOTRACE static void on_alarm(int sig)
{
	(void)sig;
	h();
}

NOTRACE static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM };
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };
	timer_t timer;
	sigset_t alrm;
	long n = 0;
	int have_timer = 0;

	w->tid = gettid();
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	if (w->hz > 0) {
		sev._sigev_un._tid = w->tid;
		it.it_interval.tv_nsec = it.it_value.tv_nsec = 1000000000L / w->hz;
		if (timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0 &&
		    timer_settime(timer, 0, &it, NULL) == 0)
			have_timer = 1;
		pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
	}
	while (w->cycles ? n < w->cycles : !__atomic_load_n(&stopping, __ATOMIC_RELAXED)) {
		s0();
		s1();
		s2();
		s3();
		s4();
		s5();
		s6();
		s7();
		n++;
	}
	/* No handler runs after this: the counts below are final. */
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	if (have_timer)
		timer_delete(timer);
	w->s_calls = 8 * n;
	w->h_calls = h_calls;
	return NULL;
}

NOTRACE static int start_workers(int n, long hz, long cycles)
{
	if (nworkers || n < 1 || n > MAX_WORKERS)
		return -1;
	stopping = 0;
	for (int i = 0; i < n; i++) {
		memset(&workers[i], 0, sizeof(workers[i]));
		workers[i].hz = hz;
		workers[i].cycles = cycles;
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
			return -1;
		nworkers++;
	}
	return 0;
}

NOTRACE static void stop_workers(void)
{
	char line[64 + 64 * MAX_WORKERS];
	int len;

	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
	len = snprintf(line, sizeof(line), "stopped %d", nworkers);
	for (int i = 0; i < nworkers; i++)
		len += snprintf(line + len, sizeof(line) - len, " %d %ld %ld", workers[i].tid,
				workers[i].s_calls, workers[i].h_calls);
	printf("%s\n", line);
	nworkers = 0;
}

NOTRACE int main(void)
{
	struct sigaction sa;
	sigset_t alrm;
	char cmd[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The timer signals are for the workers only (they unblock it). */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);

	printf("ready %d\n", (int)getpid());
	while (fgets(cmd, sizeof(cmd), stdin)) {
		long a = -1, b = -1, c = -1;

		if (strncmp(cmd, "start", 5) == 0) {
			sscanf(cmd + 5, "%ld %ld", &a, &b);
			if (start_workers(a > 0 ? (int)a : 2, b >= 0 ? b : 4000, 0))
				printf("error start\n");
			else
				printf("started %d\n", nworkers);
		} else if (strncmp(cmd, "stop", 4) == 0) {
			stop_workers();
		} else if (strncmp(cmd, "run", 3) == 0) {
			sscanf(cmd + 3, "%ld %ld %ld", &a, &b, &c);
			if (a <= 0 || start_workers(b > 0 ? (int)b : 2, c > 0 ? c : 0, a))
				printf("error run\n");
			else
				stop_workers();
		} else if (strncmp(cmd, "quit", 4) == 0) {
			break;
		} else {
			printf("error unknown command\n");
		}
	}
	if (nworkers) {
		__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
		for (int i = 0; i < nworkers; i++)
			pthread_join(workers[i].thread, NULL);
	}
	return 0;
}
