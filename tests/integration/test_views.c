// SPDX-License-Identifier: MIT
/*
 * tread's summary views on real processes: --hist, --stat and --stuck on
 * known workloads (tests/targets/views.c), --srcline, --report -s and
 * --per-thread (tests/targets/calltree.c).
 *
 * Durations are never asserted beyond what the workload guarantees: a
 * nanosleep(2 ms) lasts at least 2 ms, so its calls fall in the log2
 * buckets [1M, 2M) (2 000 000 .. 2 097 151 ns) or [2M, 4M) (a slow machine
 * may push one further: the tolerance is "at least 2 ms, under 1 s").
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

/* Start the views target and trace it with tattach @enable. */
static void start_views_as(struct target *t, const char *enable)
{
	char *out = NULL, *err = NULL;

	target_start(t, build_path("tests/targets/views"));
	ring_remove(t->pid);
	cr_assert_eq(tattach(t->pid, enable, &out, &err), 0, "%s", err);
	free(out);
	free(err);
}

static void start_views(struct target *t)
{
	start_views_as(t, "--enable");
}

/* The views read events (discard and flight rings) and counters (stats). */
struct mode {
	char enable[48];
};

static struct mode modes[] = {
	{ "--enable" },
	{ "--enable --mode flight" },
	{ "--enable --mode stats" },
};

ParameterizedTestParameters(views, hist_in_every_mode)
{
	return cr_make_param_array(struct mode, modes, sizeof(modes) / sizeof(modes[0]));
}

ParameterizedTestParameters(views, stuck_in_every_mode)
{
	return cr_make_param_array(struct mode, modes, sizeof(modes) / sizeof(modes[0]));
}

ParameterizedTestParameters(views, stat_post_mortem_in_every_mode)
{
	return cr_make_param_array(struct mode, modes, sizeof(modes) / sizeof(modes[0]));
}

ParameterizedTestParameters(views, stuck_post_mortem_in_every_mode)
{
	return cr_make_param_array(struct mode, modes, sizeof(modes) / sizeof(modes[0]));
}

ParameterizedTestParameters(views, stat_hang_in_every_mode)
{
	return cr_make_param_array(struct mode, modes, sizeof(modes) / sizeof(modes[0]));
}

/*
 * main() was running when --enable stopped the views target: tattach
 * adopted it, so it is in flight in the main thread (@pid) for as long as
 * the process runs, the only call there: "# thread PID", the header,
 * "AGE s  main", then the next thread or the end.
 */
static void expect_main_in_flight(const char *out, pid_t pid)
{
	char want[128];
	const char *l, *nl;

	snprintf(want, sizeof(want), "# thread %d\n#          AGE  FUNCTION\n", (int)pid);
	l = strstr(out, want);
	cr_assert(l, "no thread %d in:\n%s", (int)pid, out);
	l += strlen(want);
	nl = strchr(l, '\n');
	cr_assert(nl && nl - l >= 7 && !strncmp(nl - 7, "s  main", 7), "%s", out);
	cr_assert(!nl[1] || !strncmp(nl + 1, "# thread ", 9), "main alone:\n%s", out);
}

static void stop(struct target *t)
{
	cr_assert_eq(WEXITSTATUS(target_stop(t)), 0);
	ring_remove(t->pid);
}

/* The line of @out starting with @prefix (static copy), or NULL. */
static const char *line_starting(const char *out, const char *prefix)
{
	static char line[1024];

	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (!strncmp(l, prefix, strlen(prefix)) && len < sizeof(line)) {
			memcpy(line, l, len);
			line[len] = '\0';
			return line;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* "2.004 ms" -> ns */
static double to_ns(double v, const char *unit)
{
	if (!strcmp(unit, "s"))
		return v * 1e9;
	if (!strcmp(unit, "ms"))
		return v * 1e6;
	if (!strcmp(unit, "us"))
		return v * 1e3;
	return v;
}

/* ------------------------------------------------------------- --hist */

/* The histogram lines of @out: 10 calls of nap, all at least 2 ms. */
static void check_nap_hist(const char *out)
{
	unsigned long calls, avg, n1 = 0, n2 = 0, other = 0;
	const char *l;

	l = line_starting(out, "# nap: ");
	cr_assert(l, "%s", out);
	cr_assert_eq(sscanf(l, "# nap: %lu calls, avg %lu ns", &calls, &avg), 2, "%s", l);
	cr_assert_eq(calls, 10);
	cr_assert(avg >= 2000000 && avg < 1000000000, "avg %lu ns", avg);
	cr_assert(line_starting(out, "@ns[nap]:"), "%s", out);
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long c;

		if (*p != '[')
			continue;
		cr_assert_eq(sscanf(p + 16, "%lu", &c), 1);
		if (!strncmp(p, "[1M, 2M)", 8))
			n1 += c;
		else if (!strncmp(p, "[2M, 4M)", 8))
			n2 += c;
		else if (!strncmp(p, "[4M, 8M)", 8) || !strncmp(p, "[8M, 16M)", 9))
			other += c;
		else
			cr_assert_eq(c, 0, "a 2 ms sleep in %.16s", p);
	}
	cr_assert_eq(n1 + n2 + other, 10, "%s", out);
}

/* TOTAL us of nap's row in a --report, or -1. */
static double nap_total_us(const char *report)
{
	for (const char *l = report; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned long calls;
		double total;
		char name[64];

		if (*l != '#' && sscanf(l, "%lu %lf %*f %*f %*s %*f %63s", &calls, &total,
					name) == 3 && !strcmp(name, "nap"))
			return total;
	}
	return -1;
}

ParameterizedTest(struct mode *m, views, hist_in_every_mode, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct target t;

	start_views_as(&t, m->enable);
	cr_assert_str_eq(target_cmd(&t, "sleep 2 5"), "done");
	cr_assert_eq(tread(t.pid, "--hist nap", &out, &err), 0, "%s", err);
	check_nap_hist(out);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	cr_assert_eq(report_calls(out, "nap"), 10, "%s", out);
	cr_assert_eq(report_calls(out, "sleeper"), 2, "%s", out);
	/* total: 10 sleeps of at least 2 ms (and well under a second each) */
	cr_assert(nap_total_us(out) >= 20000.0 && nap_total_us(out) < 1e7, "%s", out);
	free(out);
	free(err);
	stop(&t);
}

/* Half the calls as events, half counted in stats mode: one histogram. */
Test(views, hist_across_a_switch_to_stats_mode, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct target t;

	start_views(&t);
	cr_assert_str_eq(target_cmd(&t, "sleep 1 5"), "done");
	cr_assert_eq(tattach(t.pid, "--mode stats", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "sleep 1 5"), "done");
	cr_assert_eq(tread(t.pid, "--hist nap", &out, &err), 0, "%s", err);
	check_nap_hist(out);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--report -s calls", &out, &err), 0, "%s", err);
	cr_assert_eq(report_calls(out, "nap"), 10, "%s", out);
	free(out);
	free(err);
	/* the graph shows the 5 event-mode calls and says where the rest are */
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_eq(graph_count_calls(out, "nap"), 5, "%s", out);
	cr_assert(strstr(out, "# 6 calls were counted in stats mode"), "%s", out);
	free(out);
	free(err);
	stop(&t);
}

Test(views, hist_of_ten_2ms_sleeps_on_two_threads, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	const char *l;
	struct target t;
	unsigned long calls, avg, n1 = 0, n2 = 0, other = 0;

	start_views(&t);
	cr_assert_str_eq(target_cmd(&t, "sleep 2 5"), "done");
	cr_assert_eq(tread(t.pid, "--hist nap", &out, &err), 0, "%s", err);
	l = line_starting(out, "# nap: ");
	cr_assert(l, "%s", out);
	cr_assert_eq(sscanf(l, "# nap: %lu calls, avg %lu ns", &calls, &avg), 2, "%s", l);
	cr_assert_eq(calls, 10);
	cr_assert(avg >= 2000000 && avg < 1000000000, "avg %lu ns", avg);
	cr_assert(line_starting(out, "@ns[nap]:"), "%s", out);
	/* only nap was asked for */
	cr_assert_null(strstr(out, "sleeper"), "%s", out);
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long c;

		if (*p != '[')
			continue;
		/* bpftrace layout: label in 16 columns, count in 8, " |", bar */
		cr_assert_eq(p[16 + 8], ' ', "%.80s", p);
		cr_assert_eq(p[16 + 9], '|', "%.80s", p);
		cr_assert_eq(sscanf(p + 16, "%lu", &c), 1);
		if (!strncmp(p, "[1M, 2M)", 8))
			n1 += c;
		else if (!strncmp(p, "[2M, 4M)", 8))
			n2 += c;
		else if (!strncmp(p, "[4M, 8M)", 8) || !strncmp(p, "[8M, 16M)", 9))
			other += c;	/* a loaded machine: still counted */
		else
			cr_assert_eq(c, 0, "a 2 ms sleep in %.16s", p);
	}
	cr_assert_eq(n1 + n2 + other, 10, "%s", out);
	/* the fullest bucket has the full bar */
	cr_assert(strstr(out, "|@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	cr_assert_eq(report_calls(out, "nap"), 10);
	cr_assert_eq(report_calls(out, "sleeper"), 2);
	free(out);
	free(err);
	stop(&t);
}

/* Post mortem: the process has ended, --stat prints one table of the
 * whole trace, with p50 from the histogram. */
ParameterizedTest(struct mode *m, views, stat_post_mortem_in_every_mode, .timeout = 60)
{
	char *out = NULL, *err = NULL, unit[8], avgu[8], p50u[8], p99u[8], name[64];
	double rate, avg, p50, p99, util;
	unsigned long inflight;
	struct target t;
	const char *l;
	pid_t pid;

	start_views_as(&t, m->enable);
	t.keep_ring = 1;
	pid = t.pid;
	cr_assert_str_eq(target_cmd(&t, "sleep 2 5"), "done");
	target_cmd(&t, "quit");
	target_stop(&t);
	cr_assert_eq(tread(pid, "--stat", &out, &err), 0, "%s", err);
	(void)unit;
	for (l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (sscanf(l, "%lf %lu %lf %7s %lf %7s %lf %7s %lf %63s", &rate, &inflight,
			   &avg, avgu, &p50, p50u, &p99, p99u, &util, name) == 10 &&
		    !strcmp(name, "nap"))
			break;
	cr_assert(l && *l, "no nap row in:\n%s", out);
	cr_assert_eq(inflight, 0);
	p50 = to_ns(p50, p50u);
	/* p50 interpolates inside [1M, 2M) or [2M, 4M) */
	cr_assert(p50 >= 1048576 && p50 < 8388608, "p50 %f ns\n%s", p50, out);
	cr_assert(to_ns(avg, avgu) >= 2000000, "%s", out);
	cr_assert(line_starting(out, "# pid "), "%s", out);
	free(out);
	free(err);
	ring_remove(pid);
}

/* ------------------------------------------------------------ --stuck */

ParameterizedTest(struct mode *m, views, stuck_in_every_mode, .timeout = 60)
{
	char *out = NULL, *err = NULL, want[256];
	struct target t;
	const char *l;
	double age;

	start_views_as(&t, m->enable);
	cr_assert_str_eq(target_cmd(&t, "mix 2"), "done");
	cr_assert_str_eq(target_cmd(&t, "block"), "blocked");
	cr_assert_eq(tread(t.pid, "--stuck", &out, &err), 0, "%s", err);
	/* the blocked thread's 3, and main (adopted at --enable) */
	cr_assert(line_starting(out, "# 4 calls in flight in 2 threads"), "%s", out);
	expect_main_in_flight(out, t.pid);
	l = strstr(out, "s  main\n");
	l = strstr(l, "#          AGE  FUNCTION\n");
	cr_assert(l, "%s", out);
	l += strlen("#          AGE  FUNCTION\n");
	/* outermost first, each indented under its caller */
	cr_assert_eq(sscanf(l, "%lf s", &age), 1, "%s", l);
	cr_assert(age >= 0, "%s", l);
	snprintf(want, sizeof(want), "s  parked\n");
	cr_assert(strstr(l, want), "%s", out);
	cr_assert(strstr(l, "s    wait_input\n"), "%s", out);
	cr_assert(strstr(l, "s      read_pipe\n"), "%s", out);
	cr_assert(strstr(l, "parked") < strstr(l, "wait_input") &&
		  strstr(l, "wait_input") < strstr(l, "read_pipe"), "%s", out);
	/* the finished calls are not there */
	cr_assert_null(strstr(out, "outer"), "%s", out);
	free(out);
	free(err);

	cr_assert_eq(tread(t.pid, "--stuck --older-than 1h", &out, &err), 2, "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--stuck --older-than 3600s", &out, &err), 0, "%s", err);
	cr_assert(line_starting(out, "# 0 calls in flight in 0 threads"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--stuck -N wait_input", &out, &err), 0, "%s", err);
	cr_assert(line_starting(out, "# 2 calls in flight in 2 threads"), "%s", out);
	cr_assert(strstr(out, "s  parked\n") && !strstr(out, "read_pipe"), "%s", out);
	expect_main_in_flight(out, t.pid);
	free(out);
	free(err);

	/* the blocked calls returned; main runs on */
	cr_assert_str_eq(target_cmd(&t, "unblock"), "done");
	cr_assert_eq(tread(t.pid, "--stuck", &out, &err), 0, "%s", err);
	cr_assert(line_starting(out, "# 1 call in flight in 1 thread"), "%s", out);
	expect_main_in_flight(out, t.pid);
	free(out);
	free(err);
	stop(&t);
}

/* ------------------------------------------------------------- --stat */

/*
 * Run tread -p PID --stat INTERVAL [-n ROWS] until it has printed @tables
 * tables; then, with @t NULL, SIGINT it (as a user would), else let @t
 * quit and read on until tread ends by itself.  Returns what it printed.
 */
static char *stat_tables(pid_t pid, const char *interval, const char *rows, int tables,
			 struct target *t, int *status)
{
	char pidbuf[16], *buf = NULL;
	size_t len = 0, cap = 0;
	int p[2], seen = 0;
	bool quit_sent = false;
	pid_t child;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	cr_assert(pipe(p) == 0);
	child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(build_path("tread"), "tread", "-p", pidbuf, "--stat", interval,
		      rows ? "-n" : (char *)NULL, rows, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n;

		if (seen >= tables && !t)
			break;
		if (seen >= tables && !quit_sent) {
			cr_assert_str_eq(target_cmd(t, "unblock"), "done");
			cr_assert(write(t->in, "quit\n", 5) == 5);
			quit_sent = true;
		}
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			cr_assert(buf);
		}
		n = read(p[0], buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		seen = 0;
		for (const char *s = buf; (s = strstr(s, "  TOTAL\n")); s++)
			seen++;
	}
	if (!t)
		kill(child, SIGINT);
	close(p[0]);
	waitpid(child, status, 0);
	if (!buf)
		buf = strdup("");
	return buf;
}

/* The numbers of row @name in the last table of @out. */
static int stat_row(const char *out, const char *name, double *rate,
		    unsigned long *inflight, double *util)
{
	const char *table = out, *s;
	char want[80], avg[16], p50[16], p99[16];

	for (s = out; (s = strstr(s, "# pid ")); s++)
		table = s;
	snprintf(want, sizeof(want), "  %s\n", name);
	for (const char *l = table; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *nl = strchr(l, '\n');

		if (!nl || (size_t)(nl + 1 - l) < strlen(want) ||
		    strncmp(nl + 1 - strlen(want), want, strlen(want)))
			continue;
		/* "-" for the times of a function with no call returning */
		if (sscanf(l, "%lf %lu %15s %15s %15s %lf", rate, inflight, avg, p50, p99,
			   util) == 6 && !strcmp(avg, "-"))
			return 0;
		return sscanf(l, "%lf %lu %15s %*s %15s %*s %15s %*s %lf", rate, inflight,
			      avg, p50, p99, util) == 6 ? 0 : -1;
	}
	return -1;
}

ParameterizedTest(struct mode *m, views, stat_hang_in_every_mode, .timeout = 60)
{
	unsigned long inflight;
	double rate, util;
	struct target t;
	int status;
	char *out;

	start_views_as(&t, m->enable);
	cr_assert_str_eq(target_cmd(&t, "block"), "blocked");
	out = stat_tables(t.pid, "0.2", NULL, 2, NULL, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d\n%s", status, out);
	/* piped: plain tables, one after the other, no escape sequences */
	cr_assert_null(strchr(out, '\033'));
	cr_assert(line_starting(out, "#    CALLS/s  INFLIGHT"), "%s", out);
	cr_assert_eq(stat_row(out, "read_pipe", &rate, &inflight, &util), 0, "%s", out);
	cr_assert_eq(inflight, 1, "%s", out);
	cr_assert(rate == 0.0, "%s", out);
	cr_assert(util == 100.0, "%s", out);
	cr_assert_eq(stat_row(out, "wait_input", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 1 && rate == 0.0 && util == 100.0, "%s", out);
	/* main, adopted at --enable, runs the whole interval too */
	cr_assert_eq(stat_row(out, "main", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 1 && rate == 0.0 && util == 100.0, "%s", out);
	cr_assert_eq(stat_row(out, "TOTAL", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 4 && rate == 0.0 && util == 100.0, "%s", out);
	free(out);
	cr_assert_str_eq(target_cmd(&t, "unblock"), "done");
	stop(&t);
}

/*
 * A discard ring that filled up while parked() and wait_input() were open:
 * their exits were dropped with everything after them, and no DEPTH
 * record will ever come.  The frames in flight say they returned: --stat
 * must not show them busy for ever.  main(), adopted at --enable, is still
 * running: in flight, busy, alone.
 */
Test(views, stat_full_discard_ring_ends_calls_the_frames_ended, .timeout = 60)
{
	unsigned long inflight;
	double rate, util;
	struct target t;
	int status;
	char *out;

	start_views_as(&t, "--enable -b 8K");
	cr_assert_str_eq(target_cmd(&t, "block 5000"), "blocked");
	cr_assert_str_eq(target_cmd(&t, "unblock"), "done");
	out = stat_tables(t.pid, "0.2", NULL, 1, NULL, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d\n%s", status, out);
	if (stat_row(out, "wait_input", &rate, &inflight, &util) == 0)
		cr_assert(inflight == 0 && util == 0.0, "%s", out);
	if (stat_row(out, "parked", &rate, &inflight, &util) == 0)
		cr_assert(inflight == 0 && util == 0.0, "%s", out);
	if (stat_row(out, "read_pipe", &rate, &inflight, &util) == 0)
		cr_assert(inflight == 0 && util == 0.0, "%s", out);
	cr_assert_eq(stat_row(out, "main", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 1 && util == 100.0, "%s", out);
	cr_assert_eq(stat_row(out, "TOTAL", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 1, "%s", out);
	free(out);
	stop(&t);
}

Test(views, stat_ends_with_the_process, .timeout = 60)
{
	struct target t;
	int status, rows = 0;
	char *out;
	pid_t pid;

	start_views(&t);
	t.keep_ring = 1;
	pid = t.pid;
	cr_assert_str_eq(target_cmd(&t, "mix 1"), "done");
	cr_assert_str_eq(target_cmd(&t, "block"), "blocked");
	/* one table seen live, then the process quits: tread must end too */
	out = stat_tables(pid, "50ms", "1", 1, &t, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d\n%s", status, out);
	target_stop(&t);
	/* -n 1: one function row, then TOTAL, in every table */
	for (const char *l = strstr(out, "#    CALLS/s"); l; l = strstr(l + 1, "#    CALLS/s")) {
		const char *row = strchr(l, '\n') + 1, *total = strchr(row, '\n') + 1;

		cr_assert(*row != '#' && !strncmp(strchr(total, '\n') - 7, "  TOTAL", 7),
			  "%s", out);
		rows++;
	}
	cr_assert(rows >= 2, "%s", out);
	free(out);
	ring_remove(pid);
}

/* ------------------------------------------------------ bad input: exit 2 */

static void usage_error(pid_t pid, const char *args, const char *words)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tread(pid, args, &out, &err), 2, "tread %s: %s", args, err);
	cr_assert(!strncmp(err, "tread: ", 7), "%s", err);
	cr_assert(strstr(err, words), "tread %s said: %s", args, err);
	/* one line saying what is wrong (and the usual pointer to --help) */
	cr_assert(strchr(err, '\n') && (!strchr(strchr(err, '\n') + 1, '\n') ||
		  strstr(err, "Try 'tread --help'")), "%s", err);
	cr_assert_str_eq(out, "");
	free(out);
	free(err);
}

Test(views, bad_input_is_one_line_and_exit_2, .timeout = 60)
{
	struct target t;

	start_views(&t);
	usage_error(t.pid, "-F (", "invalid regular expression '(' for -F");
	usage_error(t.pid, "-N a[", "invalid regular expression 'a[' for -N");
	usage_error(t.pid, "--min-duration 5", "invalid duration '5' for --min-duration");
	usage_error(t.pid, "--min-duration 5parsec", "invalid duration");
	usage_error(t.pid, "--stuck --older-than 10", "invalid duration '10' for --older-than");
	usage_error(t.pid, "--hist no_such_function", "no function 'no_such_function'");
	usage_error(t.pid, "--hist nap nap2", "no function 'nap2'");
	usage_error(t.pid, "--report -s bogus", "invalid sort key 'bogus'");
	usage_error(t.pid, "--tid 12,x", "invalid tid list");
	usage_error(t.pid, "--since yesterday", "invalid time 'yesterday' for --since");
	usage_error(t.pid, "-D 0", "invalid depth");
	usage_error(t.pid, "--stat 5 6", "unexpected argument '6'");
	usage_error(t.pid, "--stat 1ms", "invalid --stat interval");
	usage_error(t.pid, "--hist --stuck", "choose one of");
	stop(&t);
}

/* --min-duration on calls that differ for real: slow() sleeps 1 ms, quick()
 * does not, outer() calls both. */
Test(views, min_duration_hides_short_calls_and_their_children, .timeout = 60)
{
	char *out = NULL, *err = NULL, *canon;
	struct target t;

	start_views(&t);
	cr_assert_str_eq(target_cmd(&t, "mix 3"), "done");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	canon = graph_canon(out, t.pid);
	cr_assert_str_eq(canon, "outer(slow(quick) quick) outer(slow(quick) quick) "
			 "outer(slow(quick) quick)");
	free(canon);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--min-duration 500us", &out, &err), 0, "%s", err);
	canon = graph_canon(out, t.pid);
	cr_assert_str_eq(canon, "outer(slow) outer(slow) outer(slow)", "%s", out);
	free(canon);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--report --min-duration 1ms", &out, &err), 0, "%s", err);
	cr_assert_eq(report_calls(out, "slow"), 3, "%s", out);
	cr_assert_eq(report_calls(out, "quick"), -1, "%s", out);
	free(out);
	free(err);
	stop(&t);
}

/*
 * A flight ring that has long overwritten the entries of the blocked
 * calls: the events no longer show parked() or wait_input() entering,
 * --stuck still does (from the frames in flight).
 */
Test(views, stuck_after_a_flight_ring_overwrote_the_entries, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct target t;

	start_views_as(&t, "--enable --mode flight -b 8K");
	cr_assert_str_eq(target_cmd(&t, "block 5000"), "blocked");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_null(strstr(out, "parked() {"), "%s", out);
	cr_assert_null(strstr(out, "wait_input() {"), "the entries should be overwritten");
	cr_assert(strstr(out, "read_pipe() {"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--stuck", &out, &err), 0, "%s", err);
	/* and main, adopted at --enable, in the main thread */
	cr_assert(line_starting(out, "# 4 calls in flight in 2 threads (from the frames in flight)"),
		  "%s", out);
	cr_assert(strstr(out, "s  parked\n") && strstr(out, "s    wait_input\n") &&
		  strstr(out, "s      read_pipe\n"), "%s", out);
	expect_main_in_flight(out, t.pid);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "unblock"), "done");
	stop(&t);
}

/* Killed while blocked: what was in flight when it died. */
ParameterizedTest(struct mode *m, views, stuck_post_mortem_in_every_mode, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct target t;
	pid_t pid;

	start_views_as(&t, m->enable);
	t.keep_ring = 1;
	pid = t.pid;
	cr_assert_str_eq(target_cmd(&t, "block"), "blocked");
	kill(pid, SIGKILL);
	target_stop(&t);
	cr_assert_eq(tread(pid, "--stuck", &out, &err), 0, "%s", err);
	/* the blocked thread's 3, and main (adopted at --enable) */
	cr_assert(line_starting(out, "# 4 calls in flight in 2 threads (from the frames in "
				"flight), ages now (the process has ended)"), "%s", out);
	cr_assert(strstr(out, "s  parked\n") && strstr(out, "s    wait_input\n") &&
		  strstr(out, "s      read_pipe\n"), "%s", out);
	expect_main_in_flight(out, pid);
	free(out);
	free(err);
	ring_remove(pid);
}

/* The same overwritten entries: --stat counts those calls in flight from
 * their frames, busy the whole interval. */
Test(views, stat_after_a_flight_ring_overwrote_the_entries, .timeout = 60)
{
	unsigned long inflight;
	double rate, util;
	struct target t;
	int status;
	char *out;

	start_views_as(&t, "--enable --mode flight -b 8K");
	cr_assert_str_eq(target_cmd(&t, "block 5000"), "blocked");
	out = stat_tables(t.pid, "0.2", NULL, 2, NULL, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d\n%s", status, out);
	cr_assert_eq(stat_row(out, "parked", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 1 && rate == 0.0 && util == 100.0, "%s", out);
	cr_assert_eq(stat_row(out, "wait_input", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 1 && rate == 0.0 && util == 100.0, "%s", out);
	cr_assert_eq(stat_row(out, "read_pipe", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 1 && rate == 0.0 && util == 100.0, "%s", out);
	/* and main, adopted at --enable */
	cr_assert_eq(stat_row(out, "main", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 1 && rate == 0.0 && util == 100.0, "%s", out);
	cr_assert_eq(stat_row(out, "TOTAL", &rate, &inflight, &util), 0, "%s", out);
	cr_assert(inflight == 4 && util == 100.0, "%s", out);
	free(out);
	cr_assert_str_eq(target_cmd(&t, "unblock"), "done");
	stop(&t);
}

/* On a terminal the table is redrawn in place: home, clear, table. */
Test(views, stat_redraws_in_place_on_a_terminal, .timeout = 60)
{
	char pidbuf[16], buf[65536];
	size_t len = 0;
	struct target t;
	int master, status;
	pid_t child;

	start_views(&t);
	cr_assert_str_eq(target_cmd(&t, "block"), "blocked");
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)t.pid);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		int slave = open(ptsname(master), O_RDWR);

		setsid();
		dup2(slave, 1);
		execl(build_path("tread"), "tread", "-p", pidbuf, "--stat", "0.1", (char *)NULL);
		_exit(127);
	}
	/* two tables drawn */
	while (len < sizeof(buf) - 1) {
		ssize_t n = read(master, buf + len, sizeof(buf) - 1 - len);
		char *first;

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		first = strstr(buf, "  TOTAL");
		if (first && strstr(first + 1, "  TOTAL"))
			break;
	}
	kill(child, SIGINT);
	waitpid(child, &status, 0);
	close(master);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert(!strncmp(buf, "\033[H\033[2J# pid ", 13), "%.80s", buf);
	cr_assert(strstr(strstr(buf, "  TOTAL"), "\033[H\033[2J# pid "), "%s", buf);
	/* no blank line between tables on a terminal */
	cr_assert_null(strstr(buf, "\n\n"), "%s", buf);
	cr_assert_null(strstr(buf, "\r\n\r\n"), "%s", buf);
	cr_assert_str_eq(target_cmd(&t, "unblock"), "done");
	stop(&t);
}
