/*
 * exc_held: C++ exceptions, pthread_exit() and backtrace() through traced
 * frames that were already running at --enable and still are at
 * --disable (tests/integration/test_unhijack.c).  Each "hold" command
 * enters its traced frames, answers "held" from the innermost one and
 * waits there for the next line ("go"); tattach runs meanwhile.  Then it
 * unwinds through those frames and answers "done N", N being what the
 * program computed (the same traced or not):
 *
 *   hold throw   hold_catcher() -> hold_mid() (a guard whose destructor
 *                runs) -> hold_inner() -> wait_go(); hold_inner() throws,
 *                hold_catcher() catches: strlen(what) * 100 + destructors
 *   hold pexit   a thread in pexit_outer() (a witness to destroy) ->
 *                pexit_mid() -> thread_wait() blocked on a pipe; main in
 *                hold_pexit() -> wait_go(); "go" lets the thread call
 *                pthread_exit(): the witnesses destroyed (1)
 *   hold bt      bt_outer() -> bt_inner() -> wait_go(), then backtrace():
 *                frames * 1000 + a checksum of their addresses
 *   tid          the tid of the thread of the last "hold pexit" (0: none)
 *
 * With TATTACH_NORAND=1 it first re-executes itself without address
 * randomisation, so that two runs have the same layout (twins).
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <execinfo.h>
#include <pthread.h>
#include <stdexcept>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static volatile int sink, destroyed;
static volatile long pexit_tid;

/* Answer "held" and wait for the next line of stdin. */
NOINLINE static int wait_go(void)
{
	char line[64];

	printf("held\n");
	if (!fgets(line, sizeof(line), stdin))
		return -1;
	return strncmp(line, "go", 2) ? -1 : 0;
}

struct guard {
	NOINLINE ~guard() { destroyed++; }
};

NOINLINE static int hold_inner(void)
{
	if (wait_go() == 0)
		throw std::runtime_error("through held");	/* 12 */
	return 1;
}

NOINLINE static int hold_mid(void)
{
	guard g;

	return hold_inner() + 1;
}

NOINLINE static long hold_catcher(void)
{
	destroyed = 0;
	try {
		return hold_mid();
	} catch (const std::runtime_error &e) {
		return (long)strlen(e.what()) * 100 + destroyed;
	}
}

static int go_pipe[2], ready_pipe[2];

struct witness {
	NOINLINE ~witness() { destroyed++; }
};

NOINLINE static int thread_wait(void)
{
	char c;

	return read(go_pipe[0], &c, 1) == 1 ? 0 : -1;
}

NOINLINE static void pexit_mid(void)
{
	if (thread_wait() == 0)
		pthread_exit(NULL);
	sink++;
}

NOINLINE static void pexit_outer(void)
{
	witness w;

	pexit_mid();
	sink++;
}

static void *pexit_thread(void *)
{
	char one = 1;

	pexit_tid = (long)syscall(SYS_gettid);
	if (write(ready_pipe[1], &one, 1) != 1)
		return NULL;
	pexit_outer();
	return NULL;
}

NOINLINE static long hold_pexit(void)
{
	pthread_t th;
	char c;

	destroyed = 0;
	if (pipe(go_pipe) || pipe(ready_pipe) ||
	    pthread_create(&th, NULL, pexit_thread, NULL) || read(ready_pipe[0], &c, 1) != 1)
		return -1;
	if (wait_go() || write(go_pipe[1], "g", 1) != 1 || pthread_join(th, NULL))
		return -1;
	close(go_pipe[0]);
	close(go_pipe[1]);
	close(ready_pipe[0]);
	close(ready_pipe[1]);
	return destroyed;
}

NOINLINE static long bt_inner(void)
{
	void *frames[64];
	uint64_t sum = 0;
	int n;

	if (wait_go())
		return -1;
	n = backtrace(frames, 64);
	for (int i = 0; i < n; i++)
		sum = sum * 31 + (uint64_t)(uintptr_t)frames[i];
	return n * 1000L + (long)(sum % 1000);
}

NOINLINE static long bt_outer(void)
{
	return bt_inner() + 0;
}

NOINLINE static long dispatch(const char *line)
{
	if (!strncmp(line, "hold throw", 10))
		return hold_catcher();
	if (!strncmp(line, "hold pexit", 10))
		return hold_pexit();
	if (!strncmp(line, "hold bt", 7))
		return bt_outer();
	if (!strncmp(line, "tid", 3))
		return pexit_tid;
	return -1;
}

int main(int, char **argv)
{
	char line[256];

	if (getenv("TATTACH_NORAND") && !(personality(0xffffffff) & ADDR_NO_RANDOMIZE)) {
		personality(ADDR_NO_RANDOMIZE);
		execv("/proc/self/exe", argv);
		return 4;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4))
		printf("done %ld\n", dispatch(line));
	return 0;
}
