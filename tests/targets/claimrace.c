/*
 * claimrace: signals aimed at a thread's very first traced call, which is
 * where the trampoline gives the thread its slot.  A handler that runs a
 * traced function in the middle of that claim claims too; the two must
 * end up with one slot (they once took two, and the first call's return
 * found no frame: SIGILL).
 *
 *   claims N    N threads, one after another, each on a stack of its own
 *               never used before (a new thread pointer: a new slot claim),
 *               each sent SIGPROF over and over by the creator until its
 *               first traced call, first(), has returned; once the thread
 *               is about to call it, the handler calls handled() (traced)
 *   quit
 *
 * Answers "done <first() calls> <handled() calls>", or "error <why>".
 * Only first() and handled() are traced: everything else is marked
 * no_instrument_function (which -pg honours), so that every slot claim
 * is a racer's and no signal is handled in traced code before the race.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define UNTRACED __attribute__((no_instrument_function))
#define NOINLINE __attribute__((noinline, noclone))
#define STACK_SIZE (64 << 10)
#define MAX_THREADS 4096

static long n_first, n_handled;
static __thread volatile int armed;

NOINLINE void first(void)
{
	__atomic_fetch_add(&n_first, 1, __ATOMIC_RELAXED);
}

NOINLINE void handled(void)
{
	__atomic_fetch_add(&n_handled, 1, __ATOMIC_RELAXED);
}

UNTRACED static void on_prof(int sig)
{
	(void)sig;
	if (armed)
		handled();
}

struct racer {
	volatile int done;
};

UNTRACED static void *racer(void *arg)
{
	struct racer *r = arg;

	armed = 1;
	first();
	r->done = 1;
	return NULL;
}

/* One thread after another, so that each claim has the signals to itself. */
UNTRACED static const char *claims(long n, char *stacks)
{
	for (long i = 0; i < n; i++) {
		struct racer r = { 0 };
		pthread_attr_t attr;
		pthread_t th;

		if (pthread_attr_init(&attr) ||
		    pthread_attr_setstack(&attr, stacks + i * STACK_SIZE, STACK_SIZE) ||
		    pthread_create(&th, &attr, racer, &r))
			return "cannot start a thread";
		pthread_attr_destroy(&attr);
		while (!r.done)
			pthread_kill(th, SIGPROF);
		pthread_join(th, NULL);
	}
	return NULL;
}

UNTRACED int main(void)
{
	struct sigaction sa = { .sa_handler = on_prof, .sa_flags = SA_RESTART };
	char line[128];
	long n;

	if (sigaction(SIGPROF, &sa, NULL))
		return 1;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "claims %ld", &n) == 1 && n > 0 && n <= MAX_THREADS) {
			/* fresh stacks, never reused: glibc would hand a cached
			 * stack, and so an old thread pointer, to a new thread */
			char *stacks = mmap(NULL, (size_t)n * STACK_SIZE, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			const char *why = stacks == MAP_FAILED ? "no memory for stacks"
							       : claims(n, stacks);

			if (why)
				printf("error %s\n", why);
			else
				printf("done %ld %ld\n", n_first, n_handled);
			if (stacks != MAP_FAILED)
				munmap(stacks, (size_t)n * STACK_SIZE);
		} else if (!strcmp(line, "quit\n")) {
			break;
		} else {
			printf("error unknown command\n");
		}
		fflush(stdout);
	}
	return 0;
}
