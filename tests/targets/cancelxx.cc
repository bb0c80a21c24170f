// SPDX-License-Identifier: MIT
/*
 * pthread_cancel() of a thread blocked in read() three traced frames
 * deep, each frame holding an object whose destructor counts, the middle
 * one a catch (...) that counts and rethrows
 * (tests/integration/test_cancel.c).  Commands, one per line:
 *   cancel   start the thread, cancel it once it blocks, join it; answers
 *            "done <destructors run> <catch (...) blocks run> <canceled|other>"
 *   forced   answers "forced <address of _Unwind_ForcedUnwind>"
 */
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static int block_pipe[2], ready_pipe[2];
static volatile int destroyed, caught;

struct counter {
	NOINLINE ~counter() { destroyed++; }
};

NOINLINE static void cancel_inner(void)
{
	counter c;
	char b;

	if (write(ready_pipe[1], "r", 1) != 1)
		return;
	if (read(block_pipe[0], &b, 1) < 0)	/* a cancellation point */
		return;
}

NOINLINE static void cancel_middle(void)
{
	counter c;

	try {
		cancel_inner();
	} catch (...) {		/* abi::__forced_unwind: must go on */
		caught++;
		throw;
	}
}

NOINLINE static void cancel_outer(void)
{
	counter c;

	cancel_middle();
}

static void *cancel_thread(void *)
{
	cancel_outer();
	return NULL;
}

static void cancel_once(void)
{
	pthread_t th;
	void *res = NULL;
	char b;

	destroyed = caught = 0;
	if (pthread_create(&th, NULL, cancel_thread, NULL) || read(ready_pipe[0], &b, 1) != 1 ||
	    pthread_cancel(th) || pthread_join(th, &res)) {
		printf("error\n");
		return;
	}
	printf("done %d %d %s\n", destroyed, caught, res == PTHREAD_CANCELED ? "canceled" : "other");
}

int main(void)
{
	char line[256];

	if (pipe(block_pipe) || pipe(ready_pipe))
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		if (!strncmp(line, "cancel", 6))
			cancel_once();
		else if (!strncmp(line, "forced", 6))
			printf("forced %p\n", dlsym(RTLD_DEFAULT, "_Unwind_ForcedUnwind"));
		else
			printf("unknown\n");
	}
	return 0;
}
