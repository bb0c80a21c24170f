// SPDX-License-Identifier: MIT
/*
 * Traces that travel, with real processes: saved traces read where the
 * binary is gone, exports parsed by real parsers (Python's json and
 * xml.etree, tests/integration/check_export.py) and compared with tread's
 * own --report, two processes merged on one time line, and bad outputs
 * refused without leaving anything behind.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

#define CHECKER "tests/integration/check_export.py"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_exports.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(exports, .init = make_dir, .fini = remove_dir);

static const char *in_dir(const char *name)
{
	static char path[8][256];
	static int next;
	char *p = path[next++ % 8];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

/* tread with printf-style arguments (no -p), expecting @rc. */
static char *treadf(int rc, char **err_out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static char *treadf(int rc, char **err_out, const char *fmt, ...)
{
	char args[1024], *out = NULL, *err = NULL;
	va_list ap;
	int got;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	got = tread(0, args, &out, &err);
	cr_assert_eq(got, rc, "tread %s: exit %d, stderr: %s", args, got, err);
	if (err_out)
		*err_out = err;
	else
		free(err);
	return out;
}

static char *checker(const char *what, const char *file)
{
	char *argv[] = { "python3", CHECKER, (char *)what, (char *)file, NULL };
	char *out = NULL, *err = NULL;
	int rc = run_capture(argv, &out, &err);

	cr_assert_eq(rc, 0, "check_export.py %s %s: %s", what, file, err);
	free(err);
	return out;
}

/* The number after "KEY NAME " in checker output, or -1. */
static long long value_of(const char *text, const char *key, const char *name)
{
	char pat[256];
	const char *p;

	snprintf(pat, sizeof(pat), "%s %s%s", key, name, name[0] ? " " : "");
	for (p = text; (p = strstr(p, pat)); p++)
		if (p == text || p[-1] == '\n')
			return strtoll(p + strlen(pat), NULL, 10);
	return -1;
}

/* A traced calltree whose every call has ended: run 3, then 2 threads. */
static void traced_calltree(struct target *t, const char *bin)
{
	char *out = NULL, *err = NULL;

	target_start(t, bin);
	cr_assert_eq(tattach(t->pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(t, "run 3"), "done");
	cr_assert_str_eq(target_cmd(t, "mt 2 1"), "done");
	cr_assert_eq(tattach(t->pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
}

/* ------------------------------------------------------------ saved */

Test(exports, a_saved_trace_reads_the_same_without_the_binary)
{
	const char *bin = in_dir("calltree"), *moved = in_dir("calltree.gone");
	const char *saved = in_dir("trace.tsave");
	char cmd[512], *graph, *report, *timed, *one, *out, *err;
	struct target t;
	int tids[8];

	snprintf(cmd, sizeof(cmd), "cp %s %s", build_path("tests/targets/calltree.pg.O2"), bin);
	cr_assert_eq(system(cmd), 0);
	traced_calltree(&t, bin);
	cr_assert_eq(tread(t.pid, "", &graph, &err), 0, "%s", err);
	cr_assert_eq(tread(t.pid, "--report", &report, &err), 0, "%s", err);
	cr_assert_eq(tread(t.pid, "--time abs", &timed, &err), 0, "%s", err);
	cr_assert_eq(graph_tids(graph, tids, 8), 3);
	snprintf(cmd, sizeof(cmd), "--tid %d", tids[2]);
	cr_assert_eq(tread(t.pid, cmd, &one, &err), 0, "%s", err);
	snprintf(cmd, sizeof(cmd), "--save %s", saved);
	cr_assert_eq(tread(t.pid, cmd, &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "");
	target_stop(&t);	/* removes the ring too */

	/* Nothing of the original is left to read names from. */
	cr_assert_eq(rename(bin, moved), 0);
	out = treadf(0, &err, "-i %s", saved);
	cr_assert_str_eq(err, "");	/* no "cannot read module" warning */
	cr_assert_str_eq(out, graph);
	out = treadf(0, NULL, "-i %s --report", saved);
	cr_assert_str_eq(out, report);
	out = treadf(0, NULL, "-i %s --time abs", saved);
	cr_assert_str_eq(out, timed);
	out = treadf(0, NULL, "-i %s --tid %d", saved, tids[2]);
	cr_assert_str_eq(out, one);
	/* the tree itself, to be sure the comparison compared something */
	cr_assert_str_eq(graph_canon(out, tids[2]), "thread_main(work(a(b(leaf) c(leaf leaf))))");

	/* exports too: the main thread's name came with the file; --tid
	 * keeps one thread */
	out = treadf(0, NULL, "-i %s --export chrome -o %s", saved, in_dir("all.json"));
	out = checker("chrome", in_dir("all.json"));
	snprintf(cmd, sizeof(cmd), "thread %d %d calltree\n", tids[0], tids[0]);
	cr_assert_not_null(strstr(out, cmd), "%s", out);
	cr_assert_eq(value_of(out, "threads", ""), 3, "%s", out);
	out = treadf(0, NULL, "-i %s --tid %d --export chrome -o %s", saved, tids[2],
		     in_dir("one.json"));
	out = checker("chrome", in_dir("one.json"));
	cr_assert_eq(value_of(out, "threads", ""), 1, "%s", out);
	cr_assert_eq(value_of(out, "calls", "thread_main"), 1, "%s", out);
	cr_assert_eq(value_of(out, "calls", "leaf"), 3, "%s", out);
	cr_assert_eq(value_of(out, "calls", "dispatch"), -1, "%s", out);
}

/* Save a finished calltree run to @path. */
static void save_calltree(const char *path)
{
	char args[300], *out, *err;
	struct target t;

	traced_calltree(&t, build_path("tests/targets/calltree.pg.O2"));
	snprintf(args, sizeof(args), "--save %s", path);
	cr_assert_eq(tread(t.pid, args, &out, &err), 0, "%s", err);
	target_stop(&t);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	cr_assert_eq(system(cmd), 0);
}

/* Files in the test folder, for "nothing was left behind". */
static int files_in_dir(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(exports, a_saved_trace_of_a_newer_format_is_refused)
{
	const char *saved = in_dir("t.tsave"), *newer = in_dir("newer.tsave");
	uint16_t major = 2;
	char *out, *err;
	FILE *f;

	save_calltree(saved);
	copy_file(saved, newer);
	f = fopen(newer, "r+");
	cr_assert_not_null(f);
	fseek(f, 8, SEEK_SET);		/* the major version */
	cr_assert_eq(fwrite(&major, sizeof(major), 1, f), 1);
	fclose(f);
	out = treadf(1, &err, "-i %s", newer);
	cr_assert_str_eq(out, "");
	cr_assert_not_null(strstr(err, "newer.tsave: saved trace format 2.0, this tread "
				  "reads format 1: use a newer tread\n"), "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
	/* exporting it is refused the same way, and writes nothing */
	out = treadf(1, &err, "-i %s --export chrome -o %s", newer, in_dir("x.json"));
	cr_assert_not_null(strstr(err, "use a newer tread"), "%s", err);
	cr_assert_eq(access(in_dir("x.json"), F_OK), -1);
	cr_assert_eq(files_in_dir(), 2);
}

/* ----------------------------------------------------------- chrome */

/* Self time of @fn in nanoseconds from --report's SELF column, or -1. */
static double report_self_ns(const char *report, const char *fn)
{
	for (const char *line = report; line && *line;) {
		const char *next = strchr(line, '\n');
		char name[128];
		double total, self;
		long calls;

		if (line[0] != '#' &&
		    sscanf(line, "%ld %lf %lf %*f %*f %*f %127s", &calls, &total, &self,
			   name) == 4 && !strcmp(name, fn))
			return self * 1000.0;
		line = next ? next + 1 : NULL;
	}
	return -1;
}

static const char *const calltree_funcs[] = {
	"dispatch", "run_threads", "thread_main", "work", "a", "b", "c", "leaf",
};
/* Most traced calls each one makes directly (work: "run 3" makes 3 a). */
static const int calltree_children[] = { 1, 0, 1, 3, 2, 1, 2, 0 };

Test(exports, chrome_json_parses_and_matches_the_report)
{
	const char *saved = in_dir("t.tsave"), *json = in_dir("t.json");
	char *report, *check;
	size_t nfuncs = sizeof(calltree_funcs) / sizeof(calltree_funcs[0]);

	save_calltree(saved);
	report = treadf(0, NULL, "-i %s --report", saved);
	cr_assert_str_eq(treadf(0, NULL, "-i %s --export chrome -o %s", saved, json), "");
	check = checker("chrome", json);
	cr_assert_eq(value_of(check, "procs", ""), 1, "%s", check);
	cr_assert_eq(value_of(check, "threads", ""), 3, "%s", check);
	for (size_t i = 0; i < nfuncs; i++) {
		long want = report_calls(report, calltree_funcs[i]);

		cr_assert_gt(want, 0, "%s not in the report:\n%s", calltree_funcs[i], report);
		cr_assert_eq(value_of(check, "calls", calltree_funcs[i]), want,
			     "calls of %s", calltree_funcs[i]);
	}
	/* work(3) on the main thread: 3 a() inside it, in order */
	cr_assert_eq(value_of(check, "calls", "leaf"), 3 * 3 + 2 * 3);
	/* main was running at --enable: adopted, one call flagged so (its
	 * "ts" is the enable); nothing else is */
	cr_assert_eq(value_of(check, "calls", "main"), 1, "%s", check);
	cr_assert_eq(value_of(check, "early", "main"), 1, "%s", check);
	for (size_t i = 0; i < nfuncs; i++)
		cr_assert_eq(value_of(check, "early", calltree_funcs[i]), -1,
			     "%s flagged entered before tracing", calltree_funcs[i]);
}

/* ---------------------------------------------------- folded and svg */

/* Sum of the folded weights of the lines whose last frame is @fn. */
static long long folded_self(const char *folded, const char *fn, long long *all)
{
	long long sum = 0;

	*all = 0;
	for (const char *line = folded; line && *line;) {
		const char *next = strchr(line, '\n'), *sp = strrchr(line, ' ');
		const char *leaf = line;
		size_t len;

		cr_assert_not_null(next, "unterminated line");
		for (sp = next; sp > line && sp[-1] != ' '; sp--)
			;
		cr_assert_gt(sp, line, "no weight: %.*s", (int)(next - line), line);
		for (const char *p = line; p < sp - 1; p++)
			if (*p == ';')
				leaf = p + 1;
		len = (size_t)(sp - 1 - leaf);
		*all += strtoll(sp, NULL, 10);
		if (len == strlen(fn) && !strncmp(leaf, fn, len))
			sum += strtoll(sp, NULL, 10);
		line = next + 1;
	}
	return sum;
}

/*
 * The exports keep what the graph and --report keep under the same
 * filters: -F (a function and what it calls), -N (all but a subtree).
 */
Test(exports, exports_honour_the_filters)
{
	const char *saved = in_dir("f.tsave"), *json = in_dir("f.json");
	size_t nfuncs = sizeof(calltree_funcs) / sizeof(calltree_funcs[0]);
	static const char *const filters[] = { "-F a", "-N b", "-F c -N leaf" };

	save_calltree(saved);
	for (size_t k = 0; k < sizeof(filters) / sizeof(filters[0]); k++) {
		char *report, *check, *folded;
		long long all, total = 0;

		report = treadf(0, NULL, "-i %s --report %s", saved, filters[k]);
		unlink(json);
		cr_assert_str_eq(treadf(0, NULL, "-i %s --export chrome -o %s %s", saved,
					json, filters[k]), "");
		check = checker("chrome", json);
		folded = treadf(0, NULL, "-i %s --export folded %s", saved, filters[k]);
		folded_self(folded, "", &all);
		for (size_t i = 0; i < nfuncs; i++) {
			long want = report_calls(report, calltree_funcs[i]);
			long long got = value_of(check, "calls", calltree_funcs[i]);

			cr_assert_eq(got < 0 ? 0 : got, want < 0 ? 0 : want,
				     "%s: calls of %s: export %lld, report %ld\n%s",
				     filters[k], calltree_funcs[i], got, want, report);
			if (want > 0)
				total += want;
		}
		cr_assert_gt(total, 0, "%s keeps some calls", filters[k]);
		cr_assert_gt(all, 0, "%s: folded has weights", filters[k]);
		free(report);
		free(check);
		free(folded);
	}
	/* and what a filter hides is really gone */
	cr_assert_eq(value_of(checker("chrome", json), "calls", "leaf"), -1,
		     "-N leaf leaves no leaf");
}

Test(exports, folded_and_flamegraph_agree_with_the_report)
{
	const char *saved = in_dir("t.tsave"), *svg = in_dir("t.svg");
	size_t nfuncs = sizeof(calltree_funcs) / sizeof(calltree_funcs[0]);
	char *report, *folded, *check;
	long long all = 0, self_sum = 0;

	save_calltree(saved);
	report = treadf(0, NULL, "-i %s --report", saved);
	folded = treadf(0, NULL, "-i %s --export folded", saved);
	cr_assert_not_null(strstr(folded, "dispatch;work;a;b;leaf "), "%s", folded);
	cr_assert_not_null(strstr(folded, "thread_main;work;a;c;leaf "), "%s", folded);
	for (size_t i = 0; i < nfuncs; i++) {
		long long got = folded_self(folded, calltree_funcs[i], &all);
		double want = report_self_ns(report, calltree_funcs[i]);
		long calls = report_calls(report, calltree_funcs[i]);

		/* The report converts summed ticks, folded sums differences
		 * of converted times: each slice of a call's own time (one,
		 * plus two per traced child) may be up to 1 ns off; +1 for
		 * the report's rounding. */
		long slices = calls * (1 + 2 * calltree_children[i]);

		cr_assert_leq(llabs(got - (long long)(want + 0.5)), slices + 1,
			      "%s: folded %lld ns, report %.0f ns", calltree_funcs[i], got, want);
		self_sum += got;
	}
	/* main was running at --enable and still is: adopted, it is the
	 * root of the main thread's stacks, with the time from the enable
	 * to the end as its own (--report leaves such calls out) */
	cr_assert_not_null(strstr(folded, "main;dispatch;work;a;b;leaf "), "%s", folded);
	cr_assert_eq(report_calls(report, "main"), -1, "%s", report);
	{
		long long main_self = folded_self(folded, "main", &all);

		cr_assert_gt(main_self, 0, "%s", folded);
		self_sum += main_self;
	}
	cr_assert_eq(self_sum, all, "lines for other functions:\n%s", folded);

	/* -o FILE writes the same lines */
	cr_assert_str_eq(treadf(0, NULL, "-i %s --export folded -o %s", saved,
				in_dir("t.folded")), "");
	{
		char *argv[] = { "cat", (char *)in_dir("t.folded"), NULL }, *same, *e;

		cr_assert_eq(run_capture(argv, &same, &e), 0);
		cr_assert_str_eq(same, folded);
	}

	/* All threads: the checker's own checks, and the same total.  Frames
	 * under 0.1 pixel may be left out (thread creation in run_threads
	 * can dwarf a leaf): data-hidden-ns accounts for them. */
	cr_assert_str_eq(treadf(0, NULL, "-i %s --export flamegraph -o %s", saved, svg), "");
	check = checker("svg", svg);
	cr_assert_eq(value_of(check, "total", ""), all, "%s", check);

	/* One worker thread, where every frame is wide: frame by frame */
	{
		int tids[8];
		char *graph = treadf(0, NULL, "-i %s", saved), *one;
		long long one_all;

		cr_assert_eq(graph_tids(graph, tids, 8), 3);
		one = treadf(0, NULL, "-i %s --tid %d --export folded", saved, tids[2]);
		cr_assert_str_eq(treadf(0, NULL, "-i %s --tid %d --export flamegraph -o %s",
					saved, tids[2], svg), "");
		check = checker("svg", svg);
		folded_self(one, "leaf", &one_all);
		cr_assert_eq(value_of(check, "total", ""), one_all, "%s", check);
		cr_assert_eq(value_of(check, "hidden", ""), 0, "%s", check);
		for (size_t i = 2; i < nfuncs; i++)	/* thread_main and below */
			cr_assert_eq(value_of(check, "self", calltree_funcs[i]),
				     folded_self(one, calltree_funcs[i], &one_all),
				     "self of %s", calltree_funcs[i]);
	}
}

/* ---------------------------------------------- several processes */

static int count_substr(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

struct round_times {
	long long send, handle, answered;	/* ns */
};

/*
 * From the merged graph with --time abs: the entry of the i-th
 * send_message and handle_message, the end of the i-th wait_answer, and
 * which process printed each.
 */
static void merged_rounds(const char *graph, pid_t a, pid_t b, struct round_times *r,
			  int n)
{
	int sends = 0, handles = 0, waits = 0;

	for (const char *line = graph; line && *line;) {
		const char *next = strchr(line, '\n');
		long long sec, nsec, dur_ns = 0;
		double dur = 0;
		char fn[64];
		int pid, tid, k;

		/* "}" lines end calls (main, adopted at --enable, is still
		 * running: closed at the end, "exit not traced") */
		size_t len = next ? (size_t)(next - line) : strlen(line);

		if (line[0] != '#' && !memmem(line, len, "| }", 3)) {
			/* "SEC.NSEC  [DUR us]  PID [TID] | name();" */
			k = sscanf(line, "%lld.%lld %lf us %d [%d] | %63[a-z_]", &sec, &nsec,
				   &dur, &pid, &tid, fn);
			if (k != 6) {
				dur = 0;
				k = sscanf(line, "%lld.%lld %d [%d] | %63[a-z_]", &sec, &nsec,
					   &pid, &tid, fn) + 1;
			}
			cr_assert_eq(k, 6, "bad line: %.*s", (int)(next - line), line);
			dur_ns = (long long)(dur * 1000.0 + 0.5);
			if (!strcmp(fn, "send_message")) {
				cr_assert_eq(pid, a);
				cr_assert_lt(sends, n);
				r[sends++].send = sec * 1000000000ll + nsec;
			} else if (!strcmp(fn, "handle_message")) {
				cr_assert_eq(pid, b);
				cr_assert_lt(handles, n);
				r[handles++].handle = sec * 1000000000ll + nsec;
			} else if (!strcmp(fn, "wait_answer")) {
				cr_assert_eq(pid, a);
				cr_assert_lt(waits, n);
				/* a leaf line: entry time plus its duration */
				r[waits++].answered = sec * 1000000000ll + nsec + dur_ns;
			}
		}
		line = next ? next + 1 : NULL;
	}
	cr_assert_eq(sends, n, "%s", graph);
	cr_assert_eq(handles, n);
	cr_assert_eq(waits, n);
}

Test(exports, two_processes_on_one_time_line)
{
	const char *ring_a, *saved_b = in_dir("b.tsave"), *json = in_dir("pp.json");
	char *out, *err, *graph, *check, ring_a_buf[300], args[600];
	struct round_times r[20];
	struct target t;
	pid_t a, b;
	int n = 20;

	target_start(&t, build_path("tests/targets/pingpong"));
	cr_assert_eq(sscanf(t.ready, "ready %d %d", &a, &b), 2, "%s", t.ready);
	cr_assert_eq(tattach(a, "--enable", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(b, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "play 20"), "done");
	/* one process as a ring, the other as a saved trace */
	snprintf(args, sizeof(args), "--save %s", saved_b);
	cr_assert_eq(tread(b, args, &out, &err), 0, "%s", err);
	snprintf(ring_a_buf, sizeof(ring_a_buf), "%s/tattach-%d.ring",
		 getenv("TATTACH_RING_DIR") ? getenv("TATTACH_RING_DIR") : "/dev/shm", a);
	ring_a = ring_a_buf;

	graph = treadf(0, &err, "-i %s -i %s --time abs", ring_a, saved_b);
	cr_assert_not_null(strstr(graph, " DURATION        PID     TID     FUNCTION\n"), "%s", graph);
	merged_rounds(graph, a, b, r, n);
	/* both mains were running at --enable: adopted, shown as in tread's
	 * own graph, and closed at the end (still running) */
	{
		char open_a[96], open_b[96];

		snprintf(open_a, sizeof(open_a), "%d [%6d] | main() { /* entered before "
			 "tracing */\n", a, a);
		snprintf(open_b, sizeof(open_b), "%d [%6d] | main() { /* entered before "
			 "tracing */\n", b, b);
		cr_assert_not_null(strstr(graph, open_a), "%s", graph);
		cr_assert_not_null(strstr(graph, open_b), "%s", graph);
		cr_assert_eq(count_substr(graph, "| } /* main (exit not traced) */ /* entered "
					  "before tracing */\n"), 2, "%s", graph);
	}
	for (int i = 0; i < n; i++) {
		cr_assert_lt(r[i].send, r[i].handle, "round %d: handled before it was sent (%lld %lld)\n%s", i, r[i].send, r[i].handle, graph);
		cr_assert_lt(r[i].handle, r[i].answered, "round %d: answered before handled", i);
	}
	/* and the lines are in time order across the two processes */
	{
		long long prev = 0;

		for (const char *line = graph; line && *line;) {
			long long sec, nsec;

			if (line[0] != '#' && sscanf(line, "%lld.%lld", &sec, &nsec) == 2) {
				cr_assert_geq(sec * 1000000000ll + nsec, prev);
				prev = sec * 1000000000ll + nsec;
			}
			line = strchr(line, '\n');
			line = line ? line + 1 : NULL;
		}
	}

	/* the Chrome export of both: two processes, the same order */
	cr_assert_str_eq(treadf(0, NULL, "-i %s -i %s --export chrome -o %s", ring_a,
				saved_b, json), "");
	check = checker("chrome", json);
	cr_assert_eq(value_of(check, "procs", ""), 2, "%s", check);
	cr_assert_eq(value_of(check, "calls", "send_message"), n);
	cr_assert_eq(value_of(check, "calls", "handle_message"), n);
	cr_assert_eq(value_of(check, "early", "main"), 2, "%s", check);
	{
		int round = 0;
		long long send_ts = -1;

		for (const char *line = strstr(check, "event "); line && *line;) {
			char fn[64];
			long long ts, dur;
			int pid, tid;

			cr_assert_eq(sscanf(line, "event %d %d %63s %lld %lld", &pid, &tid, fn,
					    &ts, &dur), 5);
			if (!strcmp(fn, "send_message")) {
				cr_assert_eq(pid, a);
				send_ts = ts;
			} else if (!strcmp(fn, "handle_message")) {
				cr_assert_eq(pid, b);
				cr_assert_gt(ts, send_ts, "round %d", round);
				round++;
			}
			line = strchr(line, '\n');
			line = line ? line + 1 : NULL;
		}
		cr_assert_eq(round, n);
	}

	/* the same process twice: one line, nothing written */
	out = treadf(1, &err, "-i %s -i %s --export chrome -o %s", ring_a, ring_a,
		     in_dir("dup.json"));
	cr_assert_str_eq(out, "");
	cr_assert_not_null(strstr(err, "are traces of the same process"), "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s", err);
	cr_assert_eq(access(in_dir("dup.json"), F_OK), -1);
	target_stop(&t);
	ring_remove(b);
}

/* ------------------------------------------------------- bad outputs */

Test(exports, bad_outputs_are_refused_and_leave_nothing)
{
	const char *saved = in_dir("t.tsave");
	char *out, *err;

	save_calltree(saved);
	/* a folder where a file should go */
	cr_assert_eq(mkdir(in_dir("adir"), 0755), 0);
	out = treadf(1, &err, "-i %s --export chrome -o %s", saved, in_dir("adir"));
	cr_assert_str_eq(out, "");
	cr_assert_not_null(strstr(err, "adir: is a folder"), "%s", err);
	/* a folder that cannot hold files (a file is in the way) */
	out = treadf(1, &err, "-i %s --export flamegraph -o %s/x.svg", saved, saved);
	cr_assert_not_null(strstr(err, "cannot create: Not a directory"), "%s", err);
	out = treadf(1, &err, "-i %s --save %s/x.tsave", saved, saved);
	cr_assert_not_null(strstr(err, "cannot create: Not a directory"), "%s", err);
	/* usage errors: exit 2 */
	out = treadf(2, &err, "-i %s --export chrome", saved);
	cr_assert_not_null(strstr(err, "--export chrome needs -o FILE"), "%s", err);
	out = treadf(2, &err, "-i %s --export svg -o x", saved);
	cr_assert_not_null(strstr(err, "invalid --export 'svg'"), "%s", err);
	out = treadf(2, &err, "-i %s -i %s --save x", saved, saved);
	cr_assert_not_null(strstr(err, "--save writes one trace"), "%s", err);
	/* a saved trace has nothing to follow */
	out = treadf(1, &err, "-i %s -f", saved);
	cr_assert_not_null(strstr(err, "t.tsave: a saved trace cannot be followed (-f is for "
				  "live ring files)\n"), "%s", err);
	/* nothing but the trace and the folder is left */
	cr_assert_eq(files_in_dir(), 2);
	/* a failed write replaces nothing: the old file stays whole */
	{
		FILE *f = fopen(in_dir("keep.json"), "w");

		fputs("old\n", f);
		fclose(f);
		out = treadf(1, &err, "-i %s -i %s --export chrome -o %s", saved, saved,
			     in_dir("keep.json"));
		f = fopen(in_dir("keep.json"), "r");
		cr_assert_not_null(f);
		cr_assert_eq(fgetc(f), 'o');
		fclose(f);
	}
}
