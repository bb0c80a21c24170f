// SPDX-License-Identifier: MIT
/*
 * tread's filters on real call trees, asserted as whole canonical trees
 * (graph_parse.h): calltree's work(2) on the main thread, then one
 * work(1) on each of two threads:
 *
 *   main:     dispatch(work(a(b(leaf) c(leaf leaf)) a(...)))  dispatch(run_threads)
 *             (inside main, adopted at --enable: left out by graph_canon)
 *   threads:  thread_main(work(a(b(leaf) c(leaf leaf))))
 *
 * and --report -s / --per-thread / --srcline on the same trace.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

static struct target t;
static int threads[2];

static void setup(void)
{
	char *out = NULL, *err = NULL;
	int tids[8];
	size_t n;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_str_eq(target_cmd(&t, "mt 2 1"), "done");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	n = graph_tids(out, tids, 8);
	cr_assert_eq(n, 3, "%s", out);
	for (size_t i = 0, k = 0; i < n; i++)
		if (tids[i] != t.pid)
			threads[k++] = tids[i];
	free(out);
	free(err);
}

static void teardown(void)
{
	target_stop(&t);
	ring_remove(t.pid);
}

TestSuite(filters, .init = setup, .fini = teardown, .timeout = 60);

/* tread ARGS, the tree of thread @tid (malloc'ed). */
static char *tree(const char *args, int tid)
{
	char *out = NULL, *err = NULL, *canon;

	cr_assert_eq(tread(t.pid, args, &out, &err), 0, "tread %s: %s", args, err);
	canon = graph_canon(out, tid);
	free(out);
	free(err);
	return canon;
}

static void expect(const char *args, int tid, const char *want)
{
	char *got = tree(args, tid);

	cr_assert_str_eq(got, want, "tread %s, thread %d", args, tid);
	free(got);
}

#define W2 "a(b(leaf) c(leaf leaf)) a(b(leaf) c(leaf leaf))"

Test(filters, none)
{
	expect("", t.pid, "dispatch(work(" W2 ")) dispatch(run_threads)");
	expect("", threads[0], "thread_main(work(a(b(leaf) c(leaf leaf))))");
}

Test(filters, filter_shows_matches_and_their_callees)
{
	expect("-F c", t.pid, "c(leaf leaf) c(leaf leaf)");
	expect("-F c", threads[1], "c(leaf leaf)");
	/* whole names: "c" is not "dispatch" nor "thread_main" */
	expect("--filter work", t.pid, "work(" W2 ")");
	/* extended regular expressions; leaf under a c shows as a root */
	expect("-F b|leaf", t.pid, "b(leaf) leaf leaf b(leaf) leaf leaf");
	/* several -F: either */
	expect("-F b -F c", threads[0], "b(leaf) c(leaf leaf)");
}

Test(filters, notrace_hides_the_function_and_its_callees)
{
	expect("-N c", t.pid, "dispatch(work(a(b(leaf)) a(b(leaf)))) dispatch(run_threads)");
	expect("--notrace a", threads[0], "thread_main(work)");
	expect("-F work -N b", t.pid, "work(a(c(leaf leaf)) a(c(leaf leaf)))");
	expect("-N leaf -N run_threads", t.pid, "dispatch(work(a(b c) a(b c))) dispatch");
}

/* tread ARGS: the tree of thread @tid with its calls adopted at --enable
 * ("^f(": running when tracing began) must be @want. */
static void expect_early(const char *args, int tid, const char *want)
{
	char *out = NULL, *err = NULL, *got;

	cr_assert_eq(tread(t.pid, args, &out, &err), 0, "tread %s: %s", args, err);
	got = graph_canon_early(out, tid);
	cr_assert_str_eq(got, want, "tread %s, thread %d", args, tid);
	free(got);
	free(out);
	free(err);
}

/*
 * main was running at --enable: adopted, it is the outermost shown call
 * of the main thread, so -D 1 is main alone and dispatch is level 2, as
 * tattach --max-depth counts them (still running: no closing ")").
 */
Test(filters, depth_counts_from_the_outermost_shown_call)
{
	expect_early("-D 1", t.pid, "^main(");
	expect_early("-D 2", t.pid, "^main(dispatch dispatch");
	expect_early("-D 3", t.pid, "^main(dispatch(work) dispatch(run_threads)");
	expect("--depth 2", threads[0], "thread_main(work)");
	expect("-F a -D 2", t.pid, "a(b c) a(b c)");
	expect("-F a -D 1", threads[1], "a");
}

Test(filters, tid_list)
{
	char *out = NULL, *err = NULL, args[64];
	int tids[8];

	snprintf(args, sizeof(args), "--tid %d,%d", threads[0], threads[1]);
	cr_assert_eq(tread(t.pid, args, &out, &err), 0, "%s", err);
	cr_assert_eq(graph_tids(out, tids, 8), 2, "%s", out);
	cr_assert(tids[0] != t.pid && tids[1] != t.pid);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "--tid %d", t.pid);
	expect(args, t.pid, "dispatch(work(" W2 ")) dispatch(run_threads)");
	expect(args, threads[0], "");
	/* a filter and a thread */
	snprintf(args, sizeof(args), "--tid %d -F b", threads[1]);
	expect(args, threads[1], "b(leaf)");
	expect(args, t.pid, "");
}

Test(filters, min_duration)
{
	/* every call lasts at least 1 ns; none lasts an hour (the ones still
	 * open at the end would be shown: there are none) */
	expect("--min-duration 1ns", t.pid, "dispatch(work(" W2 ")) dispatch(run_threads)");
	expect("--min-duration 3600s", t.pid, "");
}

/* Times as --time prints them. */
Test(filters, since_and_until)
{
	char *out = NULL, *err = NULL, args[96], stamp[40];
	const char *second;

	expect("--since +3600", t.pid, "");
	expect("--until +3600", t.pid, "dispatch(work(" W2 ")) dispatch(run_threads)");
	expect("--since 0", threads[0], "thread_main(work(a(b(leaf) c(leaf leaf))))");
	expect("--until 1000000000", t.pid, "");
	/* the second dispatch() of the main thread, by its --time abs stamp */
	cr_assert_eq(tread(t.pid, "--time abs", &out, &err), 0, "%s", err);
	second = strstr(strstr(out, "dispatch() {") + 1, "dispatch() {");
	cr_assert(second, "%s", out);
	while (second > out && second[-1] != '\n')
		second--;
	cr_assert_eq(sscanf(second, "%39s", stamp), 1);
	snprintf(args, sizeof(args), "--since %s", stamp);
	expect(args, t.pid, "dispatch(run_threads)");
	expect(args, threads[0], "thread_main(work(a(b(leaf) c(leaf leaf))))");
	free(out);
	free(err);
}

Test(filters, report_and_hist_follow_filters)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tread(t.pid, "--report -F c", &out, &err), 0, "%s", err);
	cr_assert_eq(report_calls(out, "c"), 4, "%s", out);
	cr_assert_eq(report_calls(out, "leaf"), 8, "%s", out);
	cr_assert_eq(report_calls(out, "a"), -1, "%s", out);
	cr_assert(strstr(out, "# 12 calls of 2 functions\n"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--hist leaf -N c", &out, &err), 0, "%s", err);
	/* b's leaf only: 4 calls */
	cr_assert(strstr(out, "# leaf: 4 calls, avg "), "%s", out);
	free(out);
	free(err);
}

/* ------------------------------------------------------------ --report */

/* The function names of the rows of a report, in order, space separated. */
static char *row_names(const char *report)
{
	char *names = NULL;

	for (const char *l = report; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *nl = strchr(l, '\n'), *name = nl;
		char buf[128];

		if (*l == '#' || !nl)
			continue;
		while (name > l && name[-1] != ' ')
			name--;
		snprintf(buf, sizeof(buf), "%s%.*s", names ? " " : "", (int)(nl - name), name);
		str_append(&names, buf);
	}
	return names ? names : strdup("");
}

Test(filters, report_sort_keys)
{
	char *out = NULL, *err = NULL, *names;

	cr_assert_eq(tread(t.pid, "--report -s calls,name", &out, &err), 0, "%s", err);
	names = row_names(out);
	/* 12 leaf; 4 a, b, c; 3 work; 2 dispatch, thread_main; 1 run_threads */
	cr_assert_str_eq(names, "leaf a b c work dispatch thread_main run_threads");
	free(names);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--report --sort name", &out, &err), 0, "%s", err);
	names = row_names(out);
	cr_assert_str_eq(names, "a b c dispatch leaf run_threads thread_main work");
	free(names);
	free(out);
	free(err);
}

Test(filters, report_per_thread)
{
	char *out = NULL, *err = NULL, want[128];
	int rows = 0, tid, last = 0;
	long calls;
	char name[64];

	cr_assert_eq(tread(t.pid, "--report --per-thread -s name", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "#    TID       CALLS       TOTAL us"), "%s", out);
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (*l == '#')
			continue;
		cr_assert_eq(sscanf(l, "%d %ld %*f %*f %*f %*f %*f %63s", &tid, &calls, name), 3,
			     "%s", l);
		cr_assert(tid >= last, "grouped by thread, smallest first:\n%s", out);
		last = tid;
		if (tid == threads[0] || tid == threads[1]) {
			if (!strcmp(name, "leaf"))
				cr_assert_eq(calls, 3);
			else
				cr_assert_eq(calls, !strcmp(name, "a") || !strcmp(name, "b") ||
						    !strcmp(name, "c") || !strcmp(name, "work") ||
						    !strcmp(name, "thread_main") ? 1 : -1,
					     "%s", l);
		} else {
			cr_assert_eq(tid, t.pid, "%s", l);
			snprintf(want, sizeof(want), "%s", name);
			cr_assert_eq(calls, !strcmp(name, "leaf") ? 6 :
					    !strcmp(name, "dispatch") || !strcmp(name, "a") ||
					    !strcmp(name, "b") || !strcmp(name, "c") ? 2 : 1, "%s", l);
		}
		rows++;
	}
	/* main: dispatch work a b c leaf run_threads; each thread: 6 */
	cr_assert_eq(rows, 7 + 6 + 6, "%s", out);
	free(out);
	free(err);
}

/* ----------------------------------------------------------- --srcline */

/* Line of "NOINLINE long @fn(" in calltree.c. */
static int decl_line(const char *fn)
{
	FILE *f = fopen("tests/targets/calltree.c", "r");
	char line[256], want[64];
	int n = 0;

	cr_assert(f, "run from the source tree");
	snprintf(want, sizeof(want), " %s(", fn);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (!strncmp(line, "NOINLINE", 8) && strstr(line, want)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return -1;
}

Test(filters, srcline)
{
	char *out = NULL, *err = NULL, want[64];
	const char *p;
	int line;

	cr_assert_eq(tread(t.pid, "--srcline -F c", &out, &err), 0, "%s", err);
	p = strstr(out, "c() { /* ");
	cr_assert(p, "%s", out);
	p = strstr(p, "calltree.c:");
	cr_assert(p && sscanf(p, "calltree.c:%d */", &line) == 1, "%s", out);
	/* the function's line or its opening brace's */
	cr_assert(line == decl_line("c") || line == decl_line("c") + 1, "%d\n%s", line, out);
	cr_assert(strstr(out, "leaf(); /* "), "%s", out);
	free(out);
	free(err);

	cr_assert_eq(tread(t.pid, "--report --srcline", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "FUNCTION  SOURCE\n"), "%s", out);
	p = strstr(out, "  work  ");
	cr_assert(p, "%s", out);
	p = strstr(p, "calltree.c:");
	cr_assert(p && sscanf(p, "calltree.c:%d", &line) == 1, "%s", out);
	snprintf(want, sizeof(want), "work");
	cr_assert(line == decl_line(want) || line == decl_line(want) + 1, "%d\n%s", line, out);
	free(out);
	free(err);
}
