// SPDX-License-Identifier: MIT
/*
 * A prefork server (tests/integration/test_children.c): a master forks
 * workers that each serve requests; the test drives it on stdin, one
 * answer line per command:
 *
 *   spawn K       fork K workers (K <= 8); "workers PID..."
 *   serve I N     worker I serves N requests sent by the master through its
 *                 pipe; "served I TOTAL" (TOTAL: what it served so far)
 *   count I       "count I HANDLED PARSED COMPUTED": the calls of
 *                 handle_request(), parse_request() and compute() worker I
 *                 counted itself
 *   respawn I     reap worker I (which the test killed) and fork a new one
 *                 in its place; "respawned I PID"
 *   quit          stop every worker and exit
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))
#define WORKERS_MAX 8

struct worker {
	pid_t pid;
	int req;	/* master -> worker: a long, requests to serve (-1: exit) */
	int resp;	/* worker -> master: its counters */
};

struct counts {
	long handled, parsed, computed;
};

static struct worker workers[WORKERS_MAX];
static struct counts mine;	/* a worker's own counts */
volatile long sink;

NOINLINE static long parse_request(long r)
{
	mine.parsed++;
	return r * 7 + 1;
}

NOINLINE static long compute(long x)
{
	mine.computed++;
	sink += x;
	return x % 13;
}

NOINLINE static long handle_request(long r)
{
	long x;

	mine.handled++;
	x = parse_request(r);
	/* every third request computes twice */
	if (r % 3 == 0)
		compute(x);
	return compute(x);
}

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A worker: serve what the master asks until told to exit. */
NOINLINE static void worker_loop(int req, int resp)
{
	long n;

	while (read_full(req, &n, sizeof(n)) == 0 && n >= 0) {
		for (long i = 0; i < n; i++)
			handle_request(mine.handled + i);
		if (write(resp, &mine, sizeof(mine)) != sizeof(mine))
			break;
	}
	_exit(0);
}

NOINLINE static pid_t spawn_worker(int i)
{
	int req[2], resp[2];
	pid_t pid;

	if (pipe(req) || pipe(resp))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(req[1]);
		close(resp[0]);
		/* only its own pipes: the others' ends stay with the master */
		for (int k = 0; k < WORKERS_MAX; k++)
			if (workers[k].pid > 0) {
				close(workers[k].req);
				close(workers[k].resp);
			}
		memset(&mine, 0, sizeof(mine));
		worker_loop(req[0], resp[1]);
	}
	close(req[0]);
	close(resp[1]);
	workers[i] = (struct worker){ pid, req[1], resp[0] };
	return pid;
}

/* Ask worker @i to serve @n requests (0: none, just its counts). */
NOINLINE static int ask(int i, long n, struct counts *c)
{
	if (write(workers[i].req, &n, sizeof(n)) != sizeof(n))
		return -1;
	return read_full(workers[i].resp, c, sizeof(*c));
}

/* The answer to a command, printed by main() once dispatch() returned:
 * a test reading the trace after the answer finds dispatch() ended. */
static char answer[256];
static size_t answer_len;
#define SAY(...) (answer_len += (size_t)snprintf(answer + answer_len, \
		  answer_len < sizeof(answer) ? sizeof(answer) - answer_len : 0, __VA_ARGS__))

NOINLINE static void dispatch(const char *line)
{
	struct counts c;
	long i, n;

	if (sscanf(line, "spawn %ld", &n) == 1 && n > 0 && n <= WORKERS_MAX) {
		SAY("workers");
		for (i = 0; i < n; i++)
			SAY(" %d", (int)spawn_worker((int)i));
		SAY("\n");
	} else if (sscanf(line, "serve %ld %ld", &i, &n) == 2 && i >= 0 && i < WORKERS_MAX &&
		   n >= 0 && !ask((int)i, n, &c)) {
		SAY("served %ld %ld\n", i, c.handled);
	} else if (sscanf(line, "count %ld", &i) == 1 && i >= 0 && i < WORKERS_MAX &&
		   !ask((int)i, 0, &c)) {
		SAY("count %ld %ld %ld %ld\n", i, c.handled, c.parsed, c.computed);
	} else if (sscanf(line, "respawn %ld", &i) == 1 && i >= 0 && i < WORKERS_MAX) {
		int status;

		if (waitpid(workers[i].pid, &status, 0) != workers[i].pid) {
			SAY("error respawn\n");
			return;
		}
		close(workers[i].req);
		close(workers[i].resp);
		workers[i].pid = 0;
		SAY("respawned %ld %d\n", i, (int)spawn_worker((int)i));
	} else {
		SAY("error %s", line);
	}
}

int main(void)
{
	char line[128];

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		answer_len = 0;
		answer[0] = 0;
		dispatch(line);
		fputs(answer, stdout);
	}
	for (int i = 0; i < WORKERS_MAX; i++)
		if (workers[i].pid > 0) {
			long stop = -1;

			if (write(workers[i].req, &stop, sizeof(stop)) != sizeof(stop))
				kill(workers[i].pid, SIGKILL);
			waitpid(workers[i].pid, NULL, 0);
		}
	return 0;
}
