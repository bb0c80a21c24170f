/*
 * pingpong: two processes that take turns through pipes, for merging the
 * traces of several processes on one time line.
 *
 * The process started (A) forks B at once, then prints "ready <A> <B>"
 * and reads one command per line on stdin:
 *
 *   play N   N rounds of: A's send_message(i) writes i to B; B's
 *            handle_message(i) reads it and writes the answer; A's
 *            wait_answer(i) reads the answer                   -> "done"
 *            then a last, untraced message 0 that B answers in
 *            untraced code: by the "done", B has left handle_message(N)
 *   quit     close the pipe to B (B exits), reap B, exit(0)
 *
 * So, in real time, for every round i:
 *   send_message(i) begins  <  handle_message(i) begins
 *   handle_message(i) begins  <  wait_answer(i) ends
 * whatever each process's clock calibration, which is what a merged trace
 * must show.  Every wait is a blocking read, never a sleep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))
#define NOTRACE __attribute__((noinline, no_instrument_function))

volatile long sink;

static void write_all(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n) {
		perror("pingpong: write");
		exit(1);
	}
}

static int read_int(int fd, long *v)
{
	ssize_t n = read(fd, v, sizeof(*v));

	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(*v)) {
		perror("pingpong: read");
		exit(1);
	}
	return 1;
}

NOINLINE void send_message(int fd, long i)
{
	write_all(fd, &i, sizeof(i));
}

NOINLINE long wait_answer(int fd, long i)
{
	long answer;

	if (!read_int(fd, &answer) || answer != i * 2) {
		fprintf(stderr, "pingpong: bad answer to %ld\n", i);
		exit(1);
	}
	return answer;
}

NOINLINE void handle_message(int fd, long i)
{
	long answer = i * 2;

	sink += i;
	write_all(fd, &answer, sizeof(answer));
}

/* Message 0: answered without a traced call, so both sides are at rest. */
NOTRACE static void sync_answer(int fd)
{
	long zero = 0;

	write_all(fd, &zero, sizeof(zero));
}

NOTRACE static void sync_with_b(int to_b, int from_b)
{
	long zero = 0;

	write_all(to_b, &zero, sizeof(zero));
	if (!read_int(from_b, &zero) || zero) {
		fprintf(stderr, "pingpong: bad sync\n");
		exit(1);
	}
}

static void pong(int in, int out)
{
	long i;

	while (read_int(in, &i)) {
		if (i)
			handle_message(out, i);
		else
			sync_answer(out);
	}
	exit(0);
}

int main(void)
{
	int a2b[2], b2a[2];
	char line[256];
	pid_t b;

	if (pipe(a2b) || pipe(b2a)) {
		perror("pingpong: pipe");
		return 1;
	}
	b = fork();
	if (b < 0) {
		perror("pingpong: fork");
		return 1;
	}
	if (b == 0) {
		close(a2b[1]);
		close(b2a[0]);
		close(STDIN_FILENO);
		pong(a2b[0], b2a[1]);
	}
	close(a2b[0]);
	close(b2a[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d %d\n", (int)getpid(), (int)b);
	while (fgets(line, sizeof(line), stdin)) {
		long n;

		if (sscanf(line, "play %ld", &n) == 1) {
			for (long i = 1; i <= n; i++) {
				send_message(a2b[1], i);
				wait_answer(b2a[0], i);
			}
			sync_with_b(a2b[1], b2a[0]);
			printf("done\n");
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		} else {
			printf("unknown command\n");
		}
	}
	close(a2b[1]);
	waitpid(b, NULL, 0);
	return 0;
}
