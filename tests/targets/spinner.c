/*
 * spinner: a worker thread that spends much of its time inside the
 * trampoline once traced: spin_loop() calls the traced leaf tick() as
 * fast as it can, so a --disable often stops it half way through an
 * event (tests/integration/test_unhijack.c).
 *
 *   ticks    answers "done N": tick() calls so far (N > 0 once running)
 *   stop     ends the loop, joins the worker: "done N", its tick() calls
 *
 * The main thread waits in fgets() meanwhile.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
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
			printf("done %ld\n", ticks);
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
