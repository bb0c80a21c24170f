/*
 * stuck: a worker thread already blocked inside traced calls when tracing
 * begins: worker_main() -> main_loop() -> handle() -> read(pipe).
 *
 *   tid      answers "done TID" (the worker's)
 *   poke     sends the worker one request; answers "done N" once it has
 *            handled it (N requests so far): handle() returns and
 *            main_loop() calls it again
 *   stop     sends 'q': handle() returns 0, main_loop() and worker_main()
 *            return; answers "done N" once the thread has ended
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static int req[2], ack[2];
static volatile long handled, sink;
static volatile pid_t worker_tid;

NOINLINE static void work(char c)
{
	sink += c;
}

NOINLINE static int handle(void)
{
	char c;

	if (read(req[0], &c, 1) != 1 || c == 'q')
		return 0;
	work(c);
	handled++;
	return 1;
}

NOINLINE static void main_loop(void)
{
	while (handle()) {
		char one = 1;

		if (write(ack[1], &one, 1) != 1)
			break;
	}
}

NOINLINE static void *worker_main(void *arg)
{
	char one = 1;

	(void)arg;
	worker_tid = (pid_t)syscall(SYS_gettid);
	if (write(ack[1], &one, 1) != 1)	/* started */
		return NULL;
	main_loop();
	sink++;		/* not a tail call */
	return NULL;
}

int main(void)
{
	char line[64], c;
	pthread_t th;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(req) || pipe(ack) || pthread_create(&th, NULL, worker_main, NULL) ||
	    read(ack[0], &c, 1) != 1)
		return 1;
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		long r = -1;

		if (!strncmp(line, "tid", 3)) {
			r = worker_tid;
		} else if (!strncmp(line, "poke", 4)) {
			if (write(req[1], "x", 1) == 1 && read(ack[0], &c, 1) == 1)
				r = handled;
		} else if (!strncmp(line, "stop", 4)) {
			if (write(req[1], "q", 1) == 1 && !pthread_join(th, NULL))
				r = handled;
		}
		printf("done %ld\n", r);
	}
	return 0;
}
