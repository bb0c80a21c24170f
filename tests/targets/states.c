/*
 * states: a process in the awkward states tattach must handle without
 * hanging or refusing by mistake.  It prints "ready <pid>" and answers one
 * command per line (every wait is for a real event: a pipe, a join):
 *
 *   run N         the serving thread: dispatch -> work(N)   -> "done"
 *   vfork         the serving thread vfork()s; the child says "vforked
 *                 <child pid> <tid>" (tid: the thread in vfork) and blocks
 *                 reading stdin: the parent thread waits in vfork() until
 *                 the child gets a line
 *   release       (to that child) it _exit()s; the parent reaps it -> "done"
 *   vfork-thread  a second thread vfork()s; its child blocks on a pipe
 *                 -> "vforked <child pid> <tid>"
 *   release-thread  the child _exit()s, the thread reaps it  -> "done"
 *   exit-main     a new thread takes over serving and the main thread
 *                 calls pthread_exit(): answered once the thread-group
 *                 leader is a zombie                      -> "main exited"
 *   spin T        T threads call work(100) until "stop"    -> "done"
 *   churn T       T threads each keep creating a thread that calls
 *                 work(1) and exits, until "stop"          -> "done"
 *   stop          end spin/churn, join (results checked)   -> "done"
 *   quit          exit(0)
 *
 * work(N) has calltree's shape (work, a, b, c, leaf), so tests compare it
 * with expect_work().
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))
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

NOTRACE static long expected_work(long n)
{
	long total = 0;

	for (long i = 0; i < n; i++)
		total += 3 * i + 3 * i + 3 * (i + 1);
	return total;
}

NOTRACE static void check_work(long n)
{
	if (work(n) != expected_work(n)) {
		fprintf(stderr, "states: wrong result\n");
		abort();
	}
}

/* ------------------------------------------------------------ spin, churn */

static volatile int running;
static pthread_t workers[64];
static long nworkers;

NOINLINE static void *spin_main(void *arg)
{
	(void)arg;
	while (running)
		check_work(100);
	return NULL;
}

NOINLINE static void *short_life(void *arg)
{
	(void)arg;
	check_work(1);
	return NULL;
}

/* Threads that come and go all the time: each round one is born and dies. */
NOINLINE static void *churn_main(void *arg)
{
	(void)arg;
	while (running) {
		pthread_t t;

		if (pthread_create(&t, NULL, short_life, NULL) == 0)
			pthread_join(t, NULL);
	}
	return NULL;
}

static int start_workers(long n, void *(*fn)(void *))
{
	running = 1;
	for (nworkers = 0; nworkers < n && nworkers < 64; nworkers++)
		if (pthread_create(&workers[nworkers], NULL, fn, NULL))
			return -1;
	return 0;
}

static int stop_workers(void)
{
	running = 0;
	for (long i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	nworkers = 0;
	return 0;
}

/* ------------------------------------------------------------------ vfork */

/* Raw write: a vfork child shares our stdio buffers and must not use them. */
static void say(int fd, const char *s)
{
	ssize_t n = write(fd, s, strlen(s));

	(void)n;
}

/* "vforked <child pid> <tid of the thread waiting in vfork>" */
static void say_vforked(int fd, pid_t parent_tid)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "vforked %d %d\n", (int)getpid(), (int)parent_tid);
	say(fd, buf);
}

/* The serving thread itself waits in vfork() until the child reads a line. */
NOINLINE static int vfork_here(void)
{
	pid_t self = gettid(), pid;
	int status;

	pid = vfork();
	if (pid == 0) {
		char ch;

		say_vforked(1, self);
		while (read(0, &ch, 1) == 1 && ch != '\n')
			;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
		return -1;
	return 0;
}

static int vfork_pipe[2] = { -1, -1 };	/* child's pid out */
static int release_pipe[2] = { -1, -1 };	/* a byte in: child exits */
static pthread_t vforker;

NOINLINE static void *vforker_main(void *arg)
{
	pid_t self = gettid(), pid;
	int status;

	(void)arg;
	pid = vfork();
	if (pid == 0) {
		char ch;

		say_vforked(vfork_pipe[1], self);
		/* our own fd table (vfork shares memory, not files): should the
		 * parent die, the read ends instead of blocking for ever */
		close(release_pipe[1]);
		while (read(release_pipe[0], &ch, 1) < 0)
			;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
		return (void *)1;
	return NULL;
}

static int vfork_thread(void)
{
	char line[64];
	ssize_t n;

	if (pipe(vfork_pipe) || pipe(release_pipe) ||
	    pthread_create(&vforker, NULL, vforker_main, NULL))
		return -1;
	n = read(vfork_pipe[0], line, sizeof(line) - 1);
	if (n <= 0)
		return -1;
	line[n] = 0;
	printf("%s", line);
	return 1;	/* answered */
}

static int release_thread(void)
{
	void *ret;

	if (write(release_pipe[1], "x", 1) != 1 || pthread_join(vforker, &ret))
		return -1;
	for (int i = 0; i < 2; i++) {
		close(vfork_pipe[i]);
		close(release_pipe[i]);
	}
	return ret ? -1 : 0;
}

/* -------------------------------------------------------------- exit-main */

static pthread_t main_thread;
static pid_t leader;

static void serve(void);

/* Wait until the kernel shows the old main thread as a zombie. */
NOTRACE static void wait_leader_zombie(void)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)leader, (int)leader);
	for (;;) {
		FILE *f = fopen(path, "re");

		p = NULL;
		if (f) {
			if (fgets(buf, sizeof(buf), f))
				p = strrchr(buf, ')');
			fclose(f);
		}
		if (!f || (p && (p[2] == 'Z' || p[2] == 'X')))
			return;
		sched_yield();
	}
}

static void *new_server(void *arg)
{
	(void)arg;
	pthread_join(main_thread, NULL);
	wait_leader_zombie();
	printf("main exited\n");
	serve();
	exit(0);
}

/* ---------------------------------------------------------------- serving */

NOINLINE static int dispatch(const char *line)
{
	long x;

	if (sscanf(line, "run %ld", &x) == 1) {
		check_work(x);
		return 0;
	}
	if (!strncmp(line, "vfork-thread", 12))
		return vfork_thread();
	if (!strncmp(line, "release-thread", 14))
		return release_thread();
	if (!strncmp(line, "vfork", 5))
		return vfork_here();
	if (sscanf(line, "spin %ld", &x) == 1)
		return start_workers(x, spin_main);
	if (sscanf(line, "churn %ld", &x) == 1)
		return start_workers(x, churn_main);
	if (!strncmp(line, "stop", 4))
		return stop_workers();
	if (!strncmp(line, "quit", 4))
		exit(0);
	return -1;
}

NOTRACE static void serve(void)
{
	char line[256];

	while (fgets(line, sizeof(line), stdin)) {
		int ret;

		if (!strncmp(line, "exit-main", 9)) {
			pthread_t t;

			main_thread = pthread_self();
			if (pthread_create(&t, NULL, new_server, NULL)) {
				printf("error\n");
				continue;
			}
			pthread_exit(NULL);
		}
		ret = dispatch(line);
		if (ret < 0)
			printf("error\n");
		else if (ret == 0)
			printf("done\n");
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	leader = getpid();
	printf("ready %d\n", (int)getpid());
	serve();
	return 0;
}
