/*
 * blocking: threads parked in blocking system calls, to show that being
 * stopped and resumed by tattach is invisible to them.
 *
 *   reader   read() on a pipe            must get every byte, never EINTR
 *   poller   epoll_wait(-1) on an eventfd  never EINTR
 *   sleeper  nanosleep(20 ms) in a loop   never EINTR, never short
 *   waiter   pthread_cond_wait (futex)    wakes only when signalled
 *   acceptor accept() on a listening unix socket  never EINTR
 *   reaper   waitpid() on a child blocked in read()  never EINTR
 *
 * Commands: "wake" makes each thread's call return once, for real (the
 * reader gets 4096 bytes), waits until each has checked its result and
 * answers "ok" or "bad <what>".  "quit" exits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define NTHREADS 6

static int pipefd[2], efd, epfd, lsock, childpipe[2];
static char sock_path[108];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER, done_cond = PTHREAD_COND_INITIALIZER;
static int wake_gen, done_count, started;
static char bad[256];
static volatile int sleeper_round;

static void report(const char *what)
{
	pthread_mutex_lock(&lock);
	if (what && !bad[0])
		snprintf(bad, sizeof(bad), "%s", what);
	done_count++;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&lock);
}

static void started_one(void)
{
	pthread_mutex_lock(&lock);
	started++;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&lock);
}

NOINLINE static void *reader(void *arg)
{
	char buf[4096];

	(void)arg;
	started_one();
	for (;;) {
		size_t got = 0;

		while (got < sizeof(buf)) {
			ssize_t n = read(pipefd[0], buf + got, sizeof(buf) - got);

			if (n < 0) {
				report(errno == EINTR ? "reader: EINTR" : "reader: error");
				return NULL;
			}
			got += n;
		}
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != (char)i) {
				report("reader: wrong byte");
				return NULL;
			}
		report(NULL);
	}
}

NOINLINE static void *poller(void *arg)
{
	struct epoll_event ev;
	uint64_t v;

	(void)arg;
	started_one();
	for (;;) {
		int n = epoll_wait(epfd, &ev, 1, -1);

		if (n < 0) {
			report(errno == EINTR ? "poller: EINTR" : "poller: error");
			return NULL;
		}
		if (n != 1 || read(efd, &v, sizeof(v)) != sizeof(v)) {
			report("poller: spurious wakeup");
			return NULL;
		}
		report(NULL);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

NOINLINE static void *sleeper(void *arg)
{
	(void)arg;
	started_one();
	for (;;) {
		struct timespec req = { 0, 20 * 1000 * 1000 };
		double t0 = now();

		if (nanosleep(&req, NULL) < 0) {
			report(errno == EINTR ? "sleeper: EINTR" : "sleeper: error");
			return NULL;
		}
		if (now() - t0 < 0.020) {
			report("sleeper: short sleep");
			return NULL;
		}
		sleeper_round++;
	}
}

NOINLINE static void *waiter(void *arg)
{
	int seen = 0;

	(void)arg;
	pthread_mutex_lock(&lock);
	started++;
	pthread_cond_broadcast(&done_cond);
	for (;;) {
		while (wake_gen == seen)
			pthread_cond_wait(&cond, &lock);
		seen = wake_gen;
		done_count++;
		pthread_cond_broadcast(&done_cond);
	}
	return NULL;
}

NOINLINE static void *acceptor(void *arg)
{
	(void)arg;
	started_one();
	for (;;) {
		int c = accept(lsock, NULL, NULL);

		if (c < 0) {
			report(errno == EINTR ? "acceptor: EINTR" : "acceptor: error");
			return NULL;
		}
		close(c);
		report(NULL);
	}
}

/* The child waits for one byte on childpipe and exits 0. */
static pid_t start_child(void)
{
	pid_t pid = fork();
	char c;

	if (pid == 0) {
		/* EOF, not a hang, if we go away without waking it */
		close(childpipe[1]);
		_exit(read(childpipe[0], &c, 1) == 1 ? 0 : 1);
	}
	return pid;
}

NOINLINE static void *reaper(void *arg)
{
	pid_t child = start_child();

	(void)arg;
	started_one();
	for (;;) {
		int status;

		if (child < 0 || waitpid(child, &status, 0) != child) {
			report(errno == EINTR ? "reaper: EINTR" : "reaper: error");
			return NULL;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			report("reaper: child failed");
			return NULL;
		}
		child = start_child();
		report(NULL);
	}
}

NOINLINE static int wake_all(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	uint64_t one = 1;
	int c, target;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)i;
	pthread_mutex_lock(&lock);
	target = done_count + 5;	/* reader, poller, waiter, acceptor, reaper */
	wake_gen++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	if (write(pipefd[1], buf, sizeof(buf)) != sizeof(buf) ||
	    write(efd, &one, sizeof(one)) != sizeof(one) || write(childpipe[1], "x", 1) != 1)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	close(c);
	pthread_mutex_lock(&lock);
	while (done_count < target && !bad[0])
		pthread_cond_wait(&done_cond, &lock);
	pthread_mutex_unlock(&lock);
	return 0;
}

int main(void)
{
	void *(*fns[NTHREADS])(void *) = { reader, poller, sleeper, waiter, acceptor, reaper };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	pthread_t t;
	char line[64];

	/*
	 * -pg starts a profiling timer (gmon's profil(): SIGPROF, with a
	 * handler, every 10 ms of the process's CPU time).  Its signal
	 * interrupts epoll_wait() and nanosleep() with a real EINTR, and the
	 * stops and the tracing of 25 cycles add up to that much CPU on a
	 * slow VM: the program's own EINTR, not one of ours.  Off.
	 */
	setitimer(ITIMER_PROF, &(struct itimerval){ 0 }, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(sock_path, sizeof(sock_path), "/tmp/tattach-blocking-%d.sock", (int)getpid());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	unlink(sock_path);
	efd = eventfd(0, 0);
	epfd = epoll_create1(0);
	lsock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (pipe(pipefd) || pipe(childpipe) || efd < 0 || epfd < 0 || lsock < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev) ||
	    bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) || listen(lsock, 8)) {
		perror("blocking: setup");
		return 1;
	}
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&t, NULL, fns[i], NULL))
			return 1;
	pthread_mutex_lock(&lock);
	while (started < NTHREADS)
		pthread_cond_wait(&done_cond, &lock);
	pthread_mutex_unlock(&lock);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		if (strncmp(line, "wake", 4) == 0 && wake_all() == 0 && !bad[0])
			printf("ok %d\n", sleeper_round);
		else
			printf("bad %s\n", bad[0] ? bad : "wake failed");
	}
	unlink(sock_path);
	return bad[0] ? 1 : 0;
}
