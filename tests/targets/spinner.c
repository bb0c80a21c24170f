/*
 * spinner: a worker thread that spends much of its time inside the
 * trampoline once traced: spin_loop() calls the traced leaf tick() as
 * fast as it can, so a --disable often stops it half way through an
 * event (tests/integration/test_unhijack.c).
 *
 *   ticks    answers "done N": tick() calls so far, once the worker has
 *            made one more (so a later "stop" answers more than N)
 *   signals  from now on a SIGPROF every 500 us of CPU time runs a handler
 *            that spins (untraced) for about 100 us, often on top of the
 *            trampoline: "done"
 *   stop     ends the loop, joins the worker: "done N", its tick() calls
 *
 * The main thread waits in fgets() meanwhile.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static volatile long ticks;
static volatile int stopping;
static int started[2];

NOINLINE static void tick(void)
{
	ticks++;
}

NOINLINE static void spin_loop(void)
{
	while (!stopping)
		tick();
}

/* A handler that tattach finds running over whatever it interrupted,
 * the trampoline included.  Untraced in the -pg build (no mcount call);
 * in the patchable-entry build it is traced (the attribute does not
 * remove a patchable entry), so its own call's hijacked return lies
 * above its signal frame, over the trampoline code it interrupted. */
__attribute__((no_instrument_function)) static void slow_handler(int sig)
{
	struct timespec a, b;

	(void)sig;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 100000);
}

static int start_signals(void)
{
	struct itimerval it = { { 0, 500 }, { 0, 500 } };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = slow_handler;
	sa.sa_flags = SA_RESTART;
	return sigaction(SIGPROF, &sa, NULL) || setitimer(ITIMER_PROF, &it, NULL);
}

static void *worker(void *arg)
{
	char one = 1;

	(void)arg;
	tick();
	if (write(started[1], &one, 1) != 1)
		return NULL;
	spin_loop();
	return NULL;
}

int main(void)
{
	char line[64];
	pthread_t th;
	char c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(started) || pthread_create(&th, NULL, worker, NULL) ||
	    read(started[0], &c, 1) != 1)
		return 1;
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		if (!strncmp(line, "ticks", 5)) {
			long now = ticks;

			while (ticks == now)	/* the worker runs on */
				sched_yield();
			printf("done %ld\n", now);
		} else if (!strncmp(line, "signals", 7)) {
			printf(start_signals() ? "error\n" : "done\n");
		} else if (!strncmp(line, "stop", 4)) {
			stopping = 1;
			pthread_join(th, NULL);
			printf("done %ld\n", ticks);
		} else {
			printf("error\n");
		}
	}
	return 0;
}
