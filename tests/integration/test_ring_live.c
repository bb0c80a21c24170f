// SPDX-License-Identifier: MIT
/*
 * Losses made visible, against the real tracer and tests/targets/seqwriter
 * (workers calling s0() .. s7() in a fixed cycle, h() from a timer signal
 * that interrupts them anywhere):
 *
 *   discard mode, 8K rings, a workload far bigger: tread marks the loss
 *   and its totals are the writer's drop counters, as tattach --status
 *   reports them;
 *
 *   flight mode, 8K rings: the newest events are there, the overwritten
 *   ones are counted, every line is well formed;
 *
 *   tread -f while the target writes as fast as it can: every thread's
 *   sequence unbroken except at loss markers, every h() nested, events
 *   read + events lost = events made; it consumes (a plain tread
 *   afterwards shows nothing) and ends by itself when the target exits;
 *
 *   a plain tread while tread -f runs: a snapshot that takes nothing
 *   away from tread -f.
 *
 * The long version of the follow check is tests/stress/test_ring_stress.c;
 * both share follow_run() below, which is also the reference for it.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "lib/proc_harness.h"
#include "lib/ringgen.h"

#ifndef RING_STRESS
#define FOLLOW_SECONDS 3
#endif

static struct target t;
static pid_t kept_ring;		/* ring file kept after its target quit */

static void start(void)
{
	target_start(&t, build_path("tests/targets/seqwriter"));
	t.keep_ring = 0;
	ring_remove(t.pid);
}

static void stop(void)
{
	if (t.pid > 0) {
		pid_t pid = t.pid;

		cr_expect_eq(WEXITSTATUS(target_stop(&t)), 0);
		ring_remove(pid);
	}
	if (kept_ring) {
		ring_remove(kept_ring);
		kept_ring = 0;
	}
}

/* ------------------------------------------------------------ helpers */

#define MAX_WORKERS 16

/* seqwriter's "stopped T tid s h ..." answer. */
struct counts {
	int n;
	int tid[MAX_WORKERS];
	long s[MAX_WORKERS], h[MAX_WORKERS];
};

static void parse_counts(const char *answer, struct counts *c)
{
	const char *p = answer;
	int used;

	memset(c, 0, sizeof(*c));
	cr_assert_eq(sscanf(p, "stopped %d%n", &c->n, &used), 1, "answer: %s", answer);
	cr_assert(c->n > 0 && c->n <= MAX_WORKERS, "answer: %s", answer);
	p += used;
	for (int i = 0; i < c->n; i++) {
		cr_assert_eq(sscanf(p, " %d %ld %ld%n", &c->tid[i], &c->s[i], &c->h[i], &used),
			     3, "answer: %s", answer);
		p += used;
	}
}

/* What tattach --status says. */
struct status {
	char clock[64];
	uint64_t dropped;		/* "dropped: N events (ring full)" */
	int n;
	int tid[MAX_WORKERS * 4];
	uint64_t written[MAX_WORKERS * 4], tdropped[MAX_WORKERS * 4];
};

static void get_status(pid_t pid, struct status *st)
{
	char *out = NULL, *err = NULL, *line, *save = NULL;
	unsigned long long a, b;
	int tid;

	memset(st, 0, sizeof(*st));
	cr_assert_eq(tattach(pid, "--status", &out, &err), 0, "%s", err);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, " tid %d %llu events written, %llu dropped", &tid, &a, &b) == 3 &&
		    st->n < (int)(sizeof(st->tid) / sizeof(st->tid[0]))) {
			st->tid[st->n] = tid;
			st->written[st->n] = a;
			st->tdropped[st->n++] = b;
		} else if (sscanf(line, "dropped: %llu events (ring full)", &a) == 1) {
			st->dropped = a;
		} else if (strncmp(line, "clock:", 6) == 0) {
			snprintf(st->clock, sizeof(st->clock), "%s", line + 6);
		}
	}
	free(out);
	free(err);
}

static __attribute__((unused)) int status_index(const struct status *st, int tid)
{
	for (int i = 0; i < st->n; i++)
		if (st->tid[i] == tid)
			return i;
	return -1;
}

static void enable(const char *opts)
{
	char args[160], *out = NULL, *err = NULL;

	snprintf(args, sizeof(args), "--enable %s", opts);
	cr_assert_eq(tattach(t.pid, args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
}

/* Plain tread, checked; returns its output (caller frees). */
static char *tread_checked(struct seqcheck *c, bool free_start)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "", "tread said: %s", err);
	free(err);
	seqcheck_init(c);
	c->free_start = free_start;
	seqcheck_text(c, out);
	return out;
}

static void assert_well_formed(const struct seqcheck *c, const char *out)
{
	cr_assert(c->header, "no header line:\n%.2000s", out);
	cr_assert_eq(c->bad_lines, 0, "%llu bad lines, %s\n%.2000s",
		     (unsigned long long)c->bad_lines, c->first_error, out);
	cr_assert_eq(c->breaks, 0, "%llu breaks, %s", (unsigned long long)c->breaks,
		     c->first_error);
	cr_assert_eq(c->bad_h, 0, "%llu h() not nested, %s", (unsigned long long)c->bad_h,
		     c->first_error);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ----------------------------------------------- tread -f, checked live */

struct follower {
	pid_t pid;
	int pidfd;
	int fd;
	pthread_t thread;
	struct seqcheck check;
	uint64_t bytes;
	char err_path[64];
};

/* Feeds tread's output to the checker as it comes. */
static void *follower_main(void *arg)
{
	struct follower *f = arg;
	size_t cap = 1 << 20, have = 0;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf && (n = read(f->fd, buf + have, cap - have)) > 0) {
		char *p = buf, *end = buf + have + n, *nl;

		f->bytes += n;
		while ((nl = memchr(p, '\n', end - p))) {
			seqcheck_line(&f->check, p, nl - p);
			p = nl + 1;
		}
		have = end - p;
		memmove(buf, p, have);
		if (have == cap) {		/* a 1 MiB line: count it bad */
			seqcheck_line(&f->check, buf, have);
			have = 0;
		}
	}
	if (have)
		seqcheck_line(&f->check, buf, have);
	free(buf);
	return NULL;
}

static void follow_start(struct follower *f, pid_t target, const char *args)
{
	char pid[16], line[256], *argv[8];
	int out[2], efd, i = 0;
	size_t len = 0;

	memset(f, 0, sizeof(*f));
	seqcheck_init(&f->check);
	snprintf(pid, sizeof(pid), "%d", (int)target);
	argv[i++] = (char *)build_path("tread");
	argv[i++] = "-p";
	argv[i++] = pid;
	argv[i++] = "-f";
	if (args && *args)
		argv[i++] = (char *)args;
	argv[i] = NULL;
	snprintf(f->err_path, sizeof(f->err_path), "/tmp/tread-follow-err-XXXXXX");
	efd = mkstemp(f->err_path);
	cr_assert_geq(efd, 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	f->pid = fork();
	cr_assert_geq(f->pid, 0);
	if (f->pid == 0) {
		dup2(out[1], 1);
		dup2(efd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(efd);
	close(out[1]);
	f->fd = out[0];
	f->pidfd = pidfd_open(f->pid, 0);
	cr_assert_geq(f->pidfd, 0);
	/* Its header line says it has the ring open and is reading. */
	while (len < sizeof(line) - 1 && read(f->fd, line + len, 1) == 1 && line[len] != '\n')
		len++;
	line[len] = 0;
	cr_assert_str_eq(line, "# DURATION     TID     FUNCTION", "tread -f said: '%s'", line);
	f->check.lines = 1;
	f->check.header = true;
	cr_assert_eq(pthread_create(&f->thread, NULL, follower_main, f), 0);
}

/* Wait up to @timeout_ms for tread -f to end on its own; its exit status. */
static int follow_wait(struct follower *f, int timeout_ms)
{
	struct pollfd p = { .fd = f->pidfd, .events = POLLIN };
	int status = 0, ended;
	char err[512] = "";
	FILE *e;

	ended = poll(&p, 1, timeout_ms) == 1;
	if (!ended)
		kill(f->pid, SIGKILL);
	waitpid(f->pid, &status, 0);
	pthread_join(f->thread, NULL);
	close(f->fd);
	close(f->pidfd);
	e = fopen(f->err_path, "r");
	if (e) {
		size_t n = fread(err, 1, sizeof(err) - 1, e);

		err[n] = 0;
		fclose(e);
	}
	unlink(f->err_path);
	cr_assert(ended, "tread -f did not end within %d ms of the target's exit",
		  timeout_ms);
	cr_assert_str_eq(err, "", "tread -f said: %s", err);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Per thread: events read + events lost == events made.  The only excuse
 * for more lost than missing is the tracer's own over-count of a full ring
 * (a failed TIME record counted as a dropped event), which needs the 40-bit
 * TSC to roll over while the ring is full: allowed then, and said so.
 */
static void assert_accounts(const struct seqcheck *c, const struct counts *n,
			    bool tsc_rolled, uint64_t *read, uint64_t *lost)
{
	*read = *lost = 0;
	for (int i = 0; i < n->n; i++) {
		const struct seqcheck_thread *th =
			seqcheck_thread((struct seqcheck *)c, n->tid[i]);
		uint64_t made = 2 * (uint64_t)(n->s[i] + n->h[i]);

		cr_assert_not_null(th, "thread %d made %ld calls, none read", n->tid[i],
				   n->s[i]);
		*read += th->events;
		*lost += th->lost;
		if (th->events + th->lost > made && tsc_rolled) {
			cr_log_warn("thread %d: %llu events counted lost but missing %llu "
				    "(the TSC's bit 40 changed: tracer over-count)", n->tid[i],
				    (unsigned long long)th->lost,
				    (unsigned long long)(made - th->events));
			continue;
		}
		cr_assert_eq(th->events + th->lost, made,
			     "thread %d: %llu events read + %llu lost (%llu markers) != %llu "
			     "made (%ld s calls, %ld h calls)", n->tid[i],
			     (unsigned long long)th->events, (unsigned long long)th->lost,
			     (unsigned long long)th->markers, (unsigned long long)made,
			     n->s[i], n->h[i]);
		cr_assert_eq(th->s_calls + th->h_calls <= (uint64_t)(n->s[i] + n->h[i]), 1);
	}
}

struct follow_result {
	double   seconds;		/* from "start" to the answer of "stop" */
	uint64_t made;			/* events the target made */
	uint64_t read;			/* events tread -f printed */
	uint64_t lost;			/* events its loss markers count */
	uint64_t markers;
	uint64_t corrections;		/* tread's "reported lost above were not" */
	double   read_seconds;		/* from "start" to tread -f's end */
};

/*
 * The follow check: discard mode, tread -f from the start, two workers
 * calling as fast as they can for @seconds with h() at 4 kHz each, then
 * the target quits.  @snapshots plain treads run meanwhile (none when 0),
 * each checked on its own.
 */
static void follow_run(double seconds, int snapshots, struct follow_result *r)
{
	struct follower f;
	struct counts n;
	struct status st;
	struct seqcheck snap;
	char *out, *err;
	double t0, t1, t2;
	uint64_t tsc0, tsc1;
	pid_t pid = t.pid;
	bool tsc_rolled;

	memset(r, 0, sizeof(*r));
	enable("-m discard -b 16M -t 8");
	follow_start(&f, pid, NULL);

	t0 = now_s();
	tsc0 = __rdtsc();
	cr_assert_str_eq(target_cmd(&t, "start 2 4000"), "started 2");
	for (int i = 0; i <= snapshots; i++) {
		struct timespec ts;
		double slice = seconds / (snapshots + 1);

		ts.tv_sec = (time_t)slice;
		ts.tv_nsec = (long)((slice - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);	/* the workload's duration, not a sync */
		if (i == snapshots)
			break;
		out = tread_checked(&snap, true);
		assert_well_formed(&snap, out);
		cr_assert_gt(snap.graph_lines, 0, "the snapshot showed nothing");
		free(out);
	}
	parse_counts(target_cmd(&t, "stop"), &n);
	t1 = now_s();
	tsc1 = __rdtsc();
	get_status(pid, &st);
	tsc_rolled = strstr(st.clock, "TSC") && (tsc0 >> 40) != (tsc1 >> 40);

	/* The target exits; tread -f prints the rest and ends by itself. */
	t.keep_ring = 1;
	kept_ring = pid;
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	cr_assert_eq(follow_wait(&f, 20000), 0);
	t2 = now_s();

	assert_well_formed(&f.check, "(tread -f output)");
	assert_accounts(&f.check, &n, tsc_rolled, &r->read, &r->lost);
	/* Every drop is accounted for: the markers sum to the writer's count,
	 * and the summary says the same. */
	if (!tsc_rolled) {
		cr_assert_eq(r->lost, st.dropped, "markers %llu, writer dropped %llu",
			     (unsigned long long)r->lost, (unsigned long long)st.dropped);
		cr_assert_eq(f.check.sum_lost, st.dropped);
	}
	cr_assert_eq(f.check.sum_ring_full, f.check.sum_lost);
	cr_assert_eq(f.check.writer_dropped, st.dropped);
	for (int i = 0; i < n.n; i++) {
		r->made += 2 * (uint64_t)(n.s[i] + n.h[i]);
		r->markers += seqcheck_thread(&f.check, n.tid[i])->markers;
		r->corrections += seqcheck_thread(&f.check, n.tid[i])->corrections;
		cr_assert_gt(n.h[i], 0, "thread %d: no h() calls", n.tid[i]);
	}
	r->seconds = t1 - t0;
	r->read_seconds = t2 - t0;

	/* It consumed: what it printed is gone from the rings. */
	cr_assert_eq(tread(pid, "", &out, &err), 0, "%s", err);
	seqcheck_init(&snap);
	seqcheck_text(&snap, out);
	cr_assert_eq(snap.graph_lines, 0, "already consumed, shown again:\n%.2000s", out);
	cr_assert_eq(snap.bad_lines, 0, "%s", snap.first_error);
	free(out);
	free(err);
	ring_remove(pid);
	kept_ring = 0;
}

static void print_result(const char *what, const struct follow_result *r)
{
	fprintf(stderr,
		"%s: %.1f s, written %.1f M events/s, read %.1f M events/s, "
		"dropped %llu (%.1f%%) in %llu loss markers (%llu writer double "
		"counts corrected)\n", what, r->seconds,
		r->made / r->seconds / 1e6, r->read / r->read_seconds / 1e6,
		(unsigned long long)r->lost, 100.0 * r->lost / (r->made ? r->made : 1),
		(unsigned long long)r->markers, (unsigned long long)r->corrections);
}

#ifndef RING_STRESS

TestSuite(ring_live, .init = start, .fini = stop, .timeout = 60);

/* (a) */
Test(ring_live, discard_tiny_buffer_marks_and_counts_the_drops)
{
	struct seqcheck c;
	struct counts n;
	struct status st;
	char *out;

	enable("-m discard -b 8K -t 8");
	parse_counts(target_cmd(&t, "run 20000 2"), &n);	/* 320000 events each */
	get_status(t.pid, &st);
	out = tread_checked(&c, false);
	assert_well_formed(&c, out);
	cr_assert(strstr(out, "/* lost "), "no loss marker:\n%.3000s", out);
	cr_assert_gt(st.dropped, 0);
	/* The summary's totals are the writer's counters, as tattach shows them. */
	cr_assert_eq(c.sum_lost, st.dropped, "tread: lost %llu, tattach: dropped %llu",
		     (unsigned long long)c.sum_lost, (unsigned long long)st.dropped);
	cr_assert_eq(c.sum_ring_full, st.dropped);
	cr_assert_eq(c.writer_dropped, st.dropped);
	for (int i = 0; i < n.n; i++) {
		struct seqcheck_thread *th = seqcheck_thread(&c, n.tid[i]);
		int k = status_index(&st, n.tid[i]);
		uint64_t made = 2 * (uint64_t)n.s[i];

		cr_assert_not_null(th);
		cr_assert_geq(k, 0);
		/* one marker, at the end: the ring filled and stayed full */
		cr_assert_eq(th->markers, 1);
		cr_assert_eq(th->events_since_marker, 0);
		cr_assert_eq(th->lost, st.tdropped[k]);
		/* the ring's worth of oldest events, from s0 on, unbroken */
		cr_assert_geq(th->events, 1000, "thread %d", n.tid[i]);
		/* nothing lost silently (the tracer counts a full ring's failed
		 * TIME records as drops too: more is said than is missing) */
		cr_assert_geq(th->events + th->lost, made);
		if (th->events + th->lost > made)
			cr_log_info("thread %d: %llu events missing, %llu counted dropped",
				    n.tid[i], (unsigned long long)(made - th->events),
				    (unsigned long long)th->lost);
	}
	free(out);
}

/* (b) */
Test(ring_live, flight_tiny_buffer_keeps_the_newest)
{
	struct seqcheck c;
	struct counts n;
	struct status st;
	uint64_t overwritten = 0;
	char *out;

	enable("-m flight -b 8K -t 8");
	parse_counts(target_cmd(&t, "run 20000 2 4000"), &n);
	get_status(t.pid, &st);
	out = tread_checked(&c, false);
	/* no bad_site_, no 0x..., no torn line: every line names s0..s7 or h */
	assert_well_formed(&c, out);
	for (int i = 0; i < n.n; i++) {
		struct seqcheck_thread *th = seqcheck_thread(&c, n.tid[i]);
		int k = status_index(&st, n.tid[i]);

		cr_assert_not_null(th);
		cr_assert_geq(k, 0);
		overwritten += st.written[k] - 1024;
		/* the newest events: the last s7() returned, and the ring's
		 * last half at least arrived without a gap */
		cr_assert_eq(th->last_code, 15, "thread %d ends with code %d", n.tid[i],
			     th->last_code);
		cr_assert_geq(th->events_since_marker, 400, "thread %d", n.tid[i]);
		cr_assert_geq(th->markers, 1);
		cr_assert_geq(th->lost, st.written[k] - 1024);
	}
	/* and how many were overwritten */
	cr_assert_eq(c.sum_overwritten, overwritten, "tread: %llu, tattach: %llu",
		     (unsigned long long)c.sum_overwritten, (unsigned long long)overwritten);
	cr_assert(strstr(out, "overwritten before read: "), "%.3000s", out);
	free(out);
}

/* (c) and the short version of tests/stress/test_ring_stress.c */
Test(ring_live, follow_while_writing_loses_nothing_silently)
{
	struct follow_result r;

	follow_run(FOLLOW_SECONDS, 0, &r);
	print_result("tread -f", &r);
	cr_assert_geq(r.made / r.seconds, 10e6, "the target wrote only %.1f M events/s",
		      r.made / r.seconds / 1e6);
}

/* (d) */
Test(ring_live, plain_tread_while_follow_runs_is_a_snapshot)
{
	struct follow_result r;

	follow_run(1.5, 3, &r);
	print_result("tread -f with 3 snapshots", &r);
}

/* The checker itself: it must see breaks and bad lines. */
Test(seqcheck, catches_what_it_should)
{
	struct seqcheck c;

	seqcheck_init(&c);
	seqcheck_text(&c, "# DURATION     TID     FUNCTION\n"
		      "     0.010 us [   100] | s0();\n"
		      "     0.010 us [   100] | s1();\n"
		      "     0.010 us [   100] | s3();\n"		/* break */
		      "              [   100] | /* lost 2 events */\n"
		      "     0.010 us [   100] | s6();\n"		/* after a marker */
		      "              [   100] | h() {\n"
		      "     0.010 us [   100] | s7();\n"		/* inside h */
		      "     0.010 us [   100] | bad_site_3();\n"
		      "     0.010 us [   200] | s1();\n");		/* first not s0 */
	cr_assert_eq(c.breaks, 2);
	cr_assert_eq(c.bad_h, 1);
	cr_assert_eq(c.bad_lines, 1);
	cr_assert_eq(seqcheck_thread(&c, 100)->events, 11);
	cr_assert_eq(seqcheck_thread(&c, 100)->lost, 2);
	cr_assert_eq(seqcheck_thread(&c, 100)->last_code, 15);
}

#endif
