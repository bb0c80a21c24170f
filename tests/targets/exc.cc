/*
 * exc: C++ exceptions thrown through traced frames, to show that they
 * behave exactly as without tracing.  Each command answers "done N" with
 * what the program computed (the same traced or not):
 *
 *   throw N    N times: catcher() -> thrower_outer() -> thrower() x3, the
 *              innermost throws, catcher() catches and calls after()
 *   rethrow    caught, rethrown from the handler, caught one level up
 *   nested     thrown from inside a handler, caught outside it
 *   lib        thrown by lib_throw() in libthrow.so (3 frames deep)
 *   static     a function-local static whose initialiser throws once
 *   cleanup    a destructor (traced) runs while the exception passes
 *   pexit      a thread calls pthread_exit() two traced frames deep, with
 *              an object whose destructor must run in the outer one
 *              (forced unwinding); answers the destructors run (1)
 *   bt         backtrace() two traced frames deep; answers the number of
 *              frames * 1000 + a checksum of their addresses, which must
 *              not change when tracing is enabled in the same process
 */
#include <cstdint>
#include <cstdio>
#include <execinfo.h>
#include <pthread.h>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

extern "C" int lib_throw(int depth);

static volatile int sink;

NOINLINE static void after(void) { sink++; }

NOINLINE static int thrower(int depth)
{
	if (depth <= 0)
		throw std::runtime_error("deep");
	return thrower(depth - 1) + 1;
}

NOINLINE static int thrower_outer(void) { return thrower(2) + 1; }

NOINLINE static int catcher(void)
{
	int r = 0;

	try {
		r = thrower_outer();
	} catch (const std::runtime_error &e) {
		r = (int)strlen(e.what());	/* 4 */
	}
	after();
	return r;
}

NOINLINE static int rethrow_inner(void)
{
	try {
		return thrower(1);
	} catch (...) {
		after();
		throw;
	}
}

NOINLINE static int rethrower(void)
{
	try {
		return rethrow_inner();
	} catch (const std::runtime_error &) {
		return 7;
	}
}

NOINLINE static int nester(void)
{
	try {
		try {
			return thrower(1);
		} catch (const std::runtime_error &) {
			return thrower(0);	/* a new exception from the handler */
		}
	} catch (const std::runtime_error &) {
		return 11;
	}
}

NOINLINE static int lib_catcher(void)
{
	try {
		return lib_throw(2);
	} catch (const std::runtime_error &e) {
		return (int)strlen(e.what());	/* 16 */
	}
}

static int init_tries;

NOINLINE static int make_value(void)
{
	if (init_tries++ == 0)
		throw std::runtime_error("first init fails");
	return 42;
}

NOINLINE static int static_user(void)
{
	static int value = make_value();	/* guarded: retried after a throw */

	return value;
}

NOINLINE static int static_catcher(void)
{
	try {
		return static_user();
	} catch (const std::runtime_error &) {
		return static_user() + 100;	/* 142 */
	}
}

struct guard {
	NOINLINE ~guard() { sink++; }
};

NOINLINE static int guarded(void)
{
	guard g;

	return thrower(1);
}

NOINLINE static int cleanup_catcher(void)
{
	try {
		return guarded();
	} catch (const std::runtime_error &) {
		return 13;
	}
}

static volatile int destroyed;

struct witness {
	NOINLINE ~witness() { destroyed++; }
};

NOINLINE static void pexit_inner(void)
{
	pthread_exit(NULL);
}

NOINLINE static void pexit_outer(void)
{
	witness w;

	pexit_inner();
}

static void *pexit_thread(void *)
{
	pexit_outer();
	return NULL;
}

NOINLINE static int pexiter(void)
{
	pthread_t th;

	destroyed = 0;
	if (pthread_create(&th, NULL, pexit_thread, NULL) || pthread_join(th, NULL))
		return -1;
	return destroyed;
}

NOINLINE static long bt_inner(void)
{
	void *frames[64];
	int n = backtrace(frames, 64);
	uint64_t sum = 0;

	for (int i = 0; i < n; i++)
		sum = sum * 31 + (uint64_t)(uintptr_t)frames[i];
	after();	/* a traced call after it */
	return n * 1000L + (long)(sum % 1000);
}

NOINLINE static long bt_outer(void)
{
	return bt_inner() + 0;
}

NOINLINE static long dispatch(const char *line)
{
	long n, sum = 0;

	if (sscanf(line, "throw %ld", &n) == 1) {
		for (long i = 0; i < n; i++)
			sum += catcher();
		return sum;
	}
	if (!strncmp(line, "rethrow", 7))
		return rethrower();
	if (!strncmp(line, "nested", 6))
		return nester();
	if (!strncmp(line, "lib", 3))
		return lib_catcher();
	if (!strncmp(line, "static", 6))
		return static_catcher();
	if (!strncmp(line, "cleanup", 7))
		return cleanup_catcher();
	if (!strncmp(line, "pexit", 5))
		return pexiter();
	if (!strncmp(line, "bt", 2))
		return bt_outer();
	return -1;
}

int main(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4))
		printf("done %ld\n", dispatch(line));
	return 0;
}
