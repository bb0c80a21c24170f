// SPDX-License-Identifier: MIT
/*
 * End to end: trace the real calltree target, export its trace, and have
 * the real clients read it.  uftrace replay must show, thread by thread,
 * the same call tree as tread's graph, and uftrace report the same call
 * counts as tread --report; babeltrace2 must print the same trees with
 * the right process and thread ids, in time order, on the wall clock;
 * two processes that take turns, exported separately and given together
 * to babeltrace2, must interleave in the order they ran.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"
#include "lib/xmodel.h"

#define TARGET "tests/targets/calltree.pg.O2"

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t graph_count_substr(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

typedef int (*tool_fn)(pid_t pid, const char *args, char **out, char **err);

/* Run tattach or tread; it must succeed.  Returns its stdout (malloc'ed). */
static char *run_ok(tool_fn tool, pid_t pid, const char *args)
{
	char *o = NULL, *e = NULL;
	int st = tool(pid, args, &o, &e);

	cr_assert_eq(st, 0, "%s %s: exit %d: %s", tool == tread ? "tread" : "tattach",
		     args, st, e);
	free(e);
	return o;
}

static void ok(tool_fn tool, pid_t pid, const char *args)
{
	free(run_ok(tool, pid, args));
}

/* tread -p PID --export FMT -o OUT: silent, exit 0, OUT complete. */
static void export_pid(pid_t pid, const char *fmt, const char *out)
{
	char *args = NULL, *o = NULL, *e = NULL;
	int st;

	cr_assert(asprintf(&args, "--export %s -o %s", fmt, out) > 0);
	st = tread(pid, args, &o, &e);
	cr_assert_eq(st, 0, "tread %s: exit %d: %s", args, st, e);
	cr_assert_str_eq(o, "", "tread %s printed: %s", args, o);
	free(args);
	free(o);
	free(e);
}

/* Canonical tree without "()" for calls that had no children, so both a
 * one-line leaf and one split over two lines read "leaf". */
static char *strip_empty(char *c)
{
	char *r = c, *w = c;

	while (*r) {
		if (r[0] == '(' && r[1] == ')')
			r += 2;
		else
			*w++ = *r++;
	}
	*w = 0;
	return c;
}

/*
 * tread's tree of @tid as the exports must show it: with the calls that
 * were running at --enable (adopted: "^f(" in graph_canon_early), since
 * every export carries them as calls entered at the enable; neither
 * uftrace nor CTF readers mark them, so the "^" goes; nor calls that
 * --disable cut loose while still running (main here: "!)"), which they
 * show as ended there, so the "!" goes too.  A call still running at the
 * end is open in tread's graph; an export is balanced, closing it at the
 * trace's last event, so it is closed here too.
 */
static char *tread_tree(const char *graph, int tid)
{
	char *c = graph_canon_early(graph, tid), *r = c, *w = c;
	size_t open = 0;

	while (*r) {
		if (*r == '(')
			open++;
		else if (*r == ')' && open)
			open--;
		if (*r == '^' || *r == '!')
			r++;
		else
			*w++ = *r++;
	}
	*w = 0;
	while (open--)
		str_append(&c, ")");
	return strip_empty(c);
}

/* One event line of babeltrace2 --clock-seconds output. */
struct bt_event {
	uint64_t ns;
	int pid, tid, entry;
	char name[64];
};

static int bt_parse(const char *l, struct bt_event *e)
{
	unsigned long long s, ns;
	const char *k = strstr(l, " func_"), *n;
	char kind[16];

	if (sscanf(l, "[%llu.%llu]", &s, &ns) != 2 || !k)
		return 0;
	if (sscanf(k + 1, "%15[a-z_]: { vpid = %d, vtid = %d,", kind, &e->pid, &e->tid) != 3)
		return 0;
	/* the payload's name, not the packet context's procname/thread_name */
	n = strstr(k, "}, { addr = ");
	n = n ? strstr(n, ", name = \"") : NULL;
	if (!n || sscanf(n, ", name = \"%63[^\"]\"", e->name) != 1)
		return 0;
	e->ns = (uint64_t)s * 1000000000u + ns;
	e->entry = !strcmp(kind, "func_entry");
	return 1;
}

/* The calls of @tid in babeltrace2 output, as graph_canon writes them. */
static char *bt_tree(const char *out, int tid)
{
	char *c = NULL;
	int need_sep = 0;

	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n');
		struct bt_event e;

		if (bt_parse(l, &e) && e.tid == tid) {
			if (e.entry) {
				if (need_sep)
					str_append(&c, " ");
				str_append(&c, e.name);
				str_append(&c, "(");
				need_sep = 0;
			} else {
				str_append(&c, ")");
				need_sep = 1;
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return strip_empty(c ? c : strdup(""));
}

static char *sh(const char *fmt, const char *arg)
{
	char *cmd = NULL, *out;

	cr_assert(asprintf(&cmd, fmt, arg, arg) > 0);
	sh_capture(cmd, &out, 1);
	free(cmd);
	return out;
}

/* calltree traced through "run 5" and two threads of "mt 2 3". */
static void traced_run(struct target *t, uint64_t *t_begin, uint64_t *t_end)
{
	char *out = NULL, *err = NULL;

	target_start(t, build_path(TARGET));
	ring_remove(t->pid);
	*t_begin = wall_ns();
	ok(tattach, t->pid, "--enable");
	cr_assert_str_eq(target_cmd(t, "run 5"), "done");
	cr_assert_str_eq(target_cmd(t, "mt 2 3"), "done");
	ok(tattach, t->pid, "--disable");
	*t_end = wall_ns();
	free(out);
	free(err);
}

TestSuite(export_clients, .timeout = 120);

Test(export_clients, uftrace_replay_and_report_match_tread)
{
	static const char *const fns[] = { "dispatch", "work", "a", "b", "c", "leaf",
					   "run_threads", "thread_main" };
	char *graph = NULL, *report = NULL, *err = NULL, *dir, *data = NULL, *out;
	struct target t;
	uint64_t t0, t1;
	int tids[16];
	size_t nt;

	require_client("uftrace");
	traced_run(&t, &t0, &t1);
	graph = run_ok(tread, t.pid, "");
	report = run_ok(tread, t.pid, "--report");
	dir = xtmpdir();
	cr_assert(asprintf(&data, "%s/uftrace.data", dir) > 0);
	export_pid(t.pid, "uftrace", data);

	out = sh("uftrace replay -d '%s'", data);
	nt = graph_tids(graph, tids, 16);
	cr_assert_eq(nt, 3, "%s", graph);
	for (size_t i = 0; i < nt; i++) {
		char *want = tread_tree(graph, tids[i]);
		char *got = strip_empty(graph_canon(out, tids[i]));

		cr_assert_str_eq(got, want, "thread %d: uftrace replay\n%s\ntread\n%s",
				 tids[i], out, graph);
		free(got);
		free(want);
	}
	free(out);

	out = sh("uftrace report -d '%s'", data);
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		long want = report_calls(report, fns[i]), got = -1;

		for (const char *l = out; l && *l;) {
			char a[32], b[8], c[32], d[8], name[64];
			long calls;

			if (sscanf(l, "%31s %7s %31s %7s %ld %63s", a, b, c, d, &calls, name) == 6 &&
			    !strcmp(name, fns[i]))
				got = calls;
			l = strchr(l, '\n');
			l = l ? l + 1 : NULL;
		}
		cr_assert_gt(want, 0, "%s not in tread --report:\n%s", fns[i], report);
		cr_assert_eq(got, want, "%s: uftrace %ld calls, tread %ld\n%s", fns[i], got,
			     want, out);
	}
	cr_assert_eq(report_calls(report, "leaf"), 3 * 5 + 2 * 3 * 3);
	free(out);

	/* the other commands read it too */
	out = sh("uftrace graph -d '%s'", data);
	cr_assert(strstr(out, "(5) a\n") || strstr(out, ") a\n"), "%s", out);
	free(out);
	out = sh("uftrace info -d '%s'", data);
	cr_assert(strstr(out, "# number of tasks     : 3\n"), "%s", out);
	free(out);
	out = sh("uftrace dump --chrome -d '%s' | python3 -m json.tool >/dev/null && echo ok", data);
	cr_assert_str_eq(out, "ok\n");
	free(out);
	/* file:line from DWARF, without the binary being read */
	out = sh("uftrace replay --srcline -d '%s'", data);
	cr_assert(strstr(out, "leaf(); /* ") && strstr(out, "calltree.c:"), "%s", out);
	free(out);
	/* (uftrace leaves out stacks whose self time is under 1 us) */
	out = sh("uftrace dump --flame-graph -d '%s'", data);
	cr_assert(strstr(out, "dispatch;run_threads ") && strstr(out, "thread_main"),
		  "%s", out);
	free(out);

	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	xrmdir(dir);
	free(dir);
	free(data);
	free(graph);
	free(report);
	free(err);
}

Test(export_clients, babeltrace_prints_trees_tids_and_wall_clock_times)
{
	char *graph = NULL, *err = NULL, *dir, *ctf = NULL, *out;
	struct target t;
	uint64_t t0, t1, prev = 0;
	size_t nev = 0;
	int tids[16];
	size_t nt;

	require_client("babeltrace2");
	traced_run(&t, &t0, &t1);
	graph = run_ok(tread, t.pid, "");
	dir = xtmpdir();
	cr_assert(asprintf(&ctf, "%s/ctf", dir) > 0);
	export_pid(t.pid, "ctf", ctf);
	out = sh("babeltrace2 --clock-seconds '%s'", ctf);

	nt = graph_tids(graph, tids, 16);
	cr_assert_eq(nt, 3, "%s", graph);
	for (size_t i = 0; i < nt; i++) {
		char *want = tread_tree(graph, tids[i]);
		char *got = bt_tree(out, tids[i]);

		cr_assert_str_eq(got, want, "thread %d: babeltrace2\n%s\ntread\n%s", tids[i], got, want);
		free(got);
		free(want);
	}
	/* every event: this process, a thread tread knows, in time order,
	 * between the wall clock read before --enable and after --disable */
	for (const char *l = out; l && *l;) {
		struct bt_event e;
		size_t k;

		if (bt_parse(l, &e)) {
			cr_assert_eq(e.pid, t.pid);
			for (k = 0; k < nt && tids[k] != e.tid; k++)
				;
			cr_assert_lt(k, nt, "thread %d not in tread's graph", e.tid);
			cr_assert_geq(e.ns, prev, "time goes back at: %.200s", l);
			cr_assert_geq(e.ns, t0);
			cr_assert_leq(e.ns, t1);
			prev = e.ns;
			nev++;
		} else if (*l == '[') {
			cr_assert_fail("unparsed line: %.300s", l);
		}
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	/* one entry and one exit per call of the graph */
	{
		static const char *const fns[] = { "dispatch", "work", "a", "b", "c", "leaf",
						   "run_threads", "thread_main" };
		size_t calls = 0;

		for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
			calls += graph_count_calls(graph, fns[i]);
		/* dispatch x2, work, 5 x (a b c leaf x3), run_threads; per thread:
		 * thread_main, work, 3 x (a b c leaf x3) */
		cr_assert_eq(calls, 2 + 1 + 5 * 6 + 1 + 2 * (2 + 3 * 6), "%zu calls:\n%s", calls, graph);
		/* and main, running at --enable: adopted, entered at the
		 * enable, closed at the end */
		cr_assert_eq(graph_count_substr(graph, "| main() { /* entered before tracing */\n"),
			     1, "%s", graph);
		cr_assert_eq(nev, 2 * (calls + 1));
		/* its func_entry says so; no other one does */
		cr_assert_eq(graph_count_substr(out, "entered = ( \"before_tracing\""), 1,
			     "%s", out);
		cr_assert_eq(graph_count_substr(out, "name = \"main\", entered = "
						"( \"before_tracing\""), 1, "%s", out);
	}
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	xrmdir(dir);
	free(dir);
	free(ctf);
	free(out);
	free(graph);
	free(err);
}

/*
 * Two processes take turns: the test waits for A's "done" before it
 * writes to B, and for B's before A again.  Exported separately, given
 * together to babeltrace2: the work() calls alternate A, B, A, B..., and
 * each of B's starts after the A call before it has returned.
 * Stamped with the TSC (the default): each export carries its own
 * conversion, measured at attach, and the two must agree to well under a
 * turn (pingpong_separate_exports_in_one_babeltrace does the same with
 * CLOCK_MONOTONIC).
 */
Test(export_clients, two_processes_interleave_in_babeltrace)
{
	char *err = NULL, *out = NULL, *dir, *ca = NULL, *cb = NULL, *both = NULL;
	struct target a, b;
	uint64_t last_exit_a = 0;
	int expect_a = 1, rounds = 0, open_a = 0;

	require_client("babeltrace2");
	target_start(&a, build_path(TARGET));
	target_start(&b, build_path(TARGET));
	ring_remove(a.pid);
	ring_remove(b.pid);
	ok(tattach, a.pid, "--enable");
	ok(tattach, b.pid, "--enable");
	for (int i = 0; i < 4; i++) {
		cr_assert_str_eq(target_cmd(&a, "run 1"), "done");
		cr_assert_str_eq(target_cmd(&b, "run 1"), "done");
	}
	ok(tattach, a.pid, "--disable");
	ok(tattach, b.pid, "--disable");
	dir = xtmpdir();
	cr_assert(asprintf(&ca, "%s/a", dir) > 0);
	cr_assert(asprintf(&cb, "%s/b", dir) > 0);
	export_pid(a.pid, "ctf", ca);
	export_pid(b.pid, "ctf", cb);
	free(out);
	cr_assert(asprintf(&both, "babeltrace2 --clock-seconds '%s' '%s'", cb, ca) > 0);
	sh_capture(both, &out, 1);
	for (const char *l = out; l && *l;) {
		struct bt_event e;

		if (bt_parse(l, &e) && !strcmp(e.name, "work")) {
			int is_a = e.pid == a.pid;

			cr_assert(is_a || e.pid == b.pid);
			if (e.entry) {
				cr_assert_eq(is_a, expect_a, "work() of %s out of turn: %.200s",
					     is_a ? "A" : "B", l);
				if (!is_a)
					cr_assert_gt(e.ns, last_exit_a);
				open_a = is_a;
				rounds += is_a;
			} else {
				if (is_a) {
					cr_assert(open_a);
					last_exit_a = e.ns;
				}
				expect_a = !is_a;
			}
		}
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	cr_assert_eq(rounds, 4, "%s", out);
	cr_assert(expect_a, "the last work() is B's");
	target_stop(&a);
	target_stop(&b);
	ring_remove(a.pid);
	ring_remove(b.pid);
	xrmdir(dir);
	free(dir);
	free(ca);
	free(cb);
	free(both);
	free(out);
	free(err);
}

static void ring_path(pid_t pid, char *buf, size_t len)
{
	const char *dir = getenv("TATTACH_RING_DIR");

	snprintf(buf, len, "%s/tattach-%d.ring", dir && *dir ? dir : "/dev/shm", (int)pid);
}

/* The order in which @tids' "work() {" lines (or one-line work calls)
 * appear in uftrace replay output, as a string of 'A' and 'B'. */
static char *replay_turns(const char *out, int tid_a, int tid_b)
{
	char *turns = NULL;

	for (const char *l = out; l && *l;) {
		const char *lb = strchr(l, '['), *nl = strchr(l, '\n');
		int tid;

		if (lb && (!nl || lb < nl) && sscanf(lb + 1, "%d", &tid) == 1) {
			const char *w = strstr(lb, "| ");

			while (w && w[2] == ' ')
				w++;
			if (w && (!nl || w < nl) && !strncmp(w + 2, "work()", 6) &&
			    (tid == tid_a || tid == tid_b))
				str_append(&turns, tid == tid_a ? "A" : "B");
		}
		l = nl ? nl + 1 : NULL;
	}
	return turns ? turns : strdup("");
}

/*
 * Several -i: the rings of two processes that took turns, merged into
 * one uftrace folder and one CTF folder.  uftrace replay shows each
 * process's tree as tread -p does and puts the turns in order;
 * babeltrace2 prints them in order from the one CTF trace.
 */
Test(export_clients, merged_inputs_in_one_export)
{
	char ra[300], rb[300], *args = NULL, *o = NULL, *e = NULL, *dir, *cmd = NULL;
	char *ga = NULL, *gb = NULL, *out, *got, *want, *turns;
	struct target a, b;

	require_client("uftrace");
	require_client("babeltrace2");
	target_start(&a, build_path(TARGET));
	target_start(&b, build_path(TARGET));
	ring_remove(a.pid);
	ring_remove(b.pid);
	ok(tattach, a.pid, "--enable");
	ok(tattach, b.pid, "--enable");
	for (int i = 0; i < 3; i++) {
		cr_assert_str_eq(target_cmd(&a, "run 1"), "done");
		cr_assert_str_eq(target_cmd(&b, "run 2"), "done");
	}
	ok(tattach, a.pid, "--disable");
	ok(tattach, b.pid, "--disable");
	ga = run_ok(tread, a.pid, "");
	gb = run_ok(tread, b.pid, "");
	ring_path(a.pid, ra, sizeof(ra));
	ring_path(b.pid, rb, sizeof(rb));
	dir = xtmpdir();

	cr_assert(asprintf(&args, "-i %s -i %s --export uftrace -o %s/u", ra, rb, dir) > 0);
	ok(tread, 0, args);
	free(args);
	cr_assert(asprintf(&cmd, "uftrace replay -d '%s/u'", dir) > 0);
	sh_capture(cmd, &out, 1);
	free(cmd);
	got = strip_empty(graph_canon(out, a.pid));
	want = tread_tree(ga, a.pid);
	cr_assert_str_eq(got, want, "A: uftrace %s\ntread %s", got, want);
	free(got);
	free(want);
	got = strip_empty(graph_canon(out, b.pid));
	want = tread_tree(gb, b.pid);
	cr_assert_str_eq(got, want, "B: uftrace %s\ntread %s", got, want);
	free(got);
	free(want);
	turns = replay_turns(out, a.pid, b.pid);
	cr_assert_str_eq(turns, "ABABAB", "%s", out);
	free(turns);
	free(out);

	cr_assert(asprintf(&args, "-i %s -i %s --export ctf -o %s/c", rb, ra, dir) > 0);
	ok(tread, 0, args);
	free(args);
	cr_assert(asprintf(&cmd, "babeltrace2 --clock-seconds '%s/c'", dir) > 0);
	sh_capture(cmd, &out, 1);
	free(cmd);
	turns = NULL;
	for (const char *l = out; l && *l;) {
		struct bt_event ev;

		if (bt_parse(l, &ev) && ev.entry && !strcmp(ev.name, "work"))
			str_append(&turns, ev.pid == a.pid ? "A" : ev.pid == b.pid ? "B" : "?");
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	cr_assert_str_eq(turns ? turns : "", "ABABAB", "%s", out);
	got = bt_tree(out, b.pid);
	want = tread_tree(gb, b.pid);
	cr_assert_str_eq(got, want, "B: babeltrace2 %s\ntread %s", got, want);
	free(got);
	free(want);
	free(turns);
	free(out);

	target_stop(&a);
	target_stop(&b);
	ring_remove(a.pid);
	ring_remove(b.pid);
	xrmdir(dir);
	free(dir);
	free(ga);
	free(gb);
	free(o);
	free(e);
}

/* --tid: only that thread is exported. */
Test(export_clients, tid_filter_keeps_one_thread)
{
	char *graph = NULL, *e = NULL, *o = NULL, *dir, *args = NULL, *out, *got, *want;
	struct target t;
	uint64_t t0, t1;

	require_client("uftrace");
	require_client("babeltrace2");
	traced_run(&t, &t0, &t1);
	graph = run_ok(tread, t.pid, "");
	dir = xtmpdir();
	cr_assert(asprintf(&args, "--tid %d --export uftrace -o %s/u", (int)t.pid, dir) > 0);
	ok(tread, t.pid, args);
	free(args);
	out = sh("uftrace info -d '%s/u'", dir);
	cr_assert(strstr(out, "# number of tasks     : 1\n"), "%s", out);
	free(out);
	out = sh("uftrace replay -d '%s/u'", dir);
	got = strip_empty(graph_canon(out, t.pid));
	want = tread_tree(graph, t.pid);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	free(out);
	cr_assert(asprintf(&args, "--tid %d --export ctf -o %s/c", (int)t.pid, dir) > 0);
	ok(tread, t.pid, args);
	free(args);
	out = sh("ls '%s/c'", dir);
	{
		char want_ls[128];

		snprintf(want_ls, sizeof(want_ls), "metadata\nstream-%d-%d\n", (int)t.pid,
			 (int)t.pid);
		cr_assert_str_eq(out, want_ls);
	}
	free(out);
	target_stop(&t);
	ring_remove(t.pid);
	xrmdir(dir);
	free(dir);
	free(graph);
	free(o);
	free(e);
}

/* A folder that holds something: one line, exit 1, nothing written. */
Test(export_clients, cli_refuses_a_used_folder)
{
	char *e = NULL, *o = NULL, *dir, *args = NULL, *out;
	static const char *const fmts[] = { "uftrace", "ctf" };
	struct target t;
	uint64_t t0, t1;

	traced_run(&t, &t0, &t1);
	dir = xtmpdir();
	out = sh("mkdir '%s/used' && echo mine > '%s/used/notes'", dir);
	free(out);
	for (size_t i = 0; i < 2; i++) {
		cr_assert(asprintf(&args, "--export %s -o %s/used", fmts[i], dir) > 0);
		cr_assert_eq(tread(t.pid, args, &o, &e), 1, "%s", e);
		cr_assert(strstr(e, "tread: ") == e && strstr(e, "export: folder '") &&
			  strstr(e, "/used' exists and is not empty"), "%s", e);
		cr_assert_eq(strchr(e, '\n'), e + strlen(e) - 1, "one line: %s", e);
		free(args);
		free(o);
		free(e);
		o = e = NULL;
	}
	out = sh("cd '%s' && ls -A . used && cat used/notes", dir);
	cr_assert_str_eq(out, ".:\nused\n\nused:\nnotes\nmine\n");
	free(out);
	target_stop(&t);
	ring_remove(t.pid);
	xrmdir(dir);
	free(dir);
	free(o);
	free(e);
}

/*
 * A trace that travels: saved while the process runs, exported after the
 * process and its program are gone.  The names uftrace and babeltrace2
 * show come from the export alone.
 */
Test(export_clients, saved_trace_exports_without_the_binary)
{
	char *e = NULL, *o = NULL, *dir, *args = NULL, *out, *graph = NULL, *got, *want;
	char bin[160], *bindir;
	struct target t;
	pid_t pid;

	require_client("uftrace");
	require_client("babeltrace2");
	snprintf(bin, sizeof(bin), "%s", public_copy(build_path(TARGET)));
	target_start(&t, bin);
	ring_remove(t.pid);
	ok(tattach, t.pid, "--enable");
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	ok(tattach, t.pid, "--disable");
	dir = xtmpdir();
	cr_assert(asprintf(&args, "--save %s/trace.tsave", dir) > 0);
	ok(tread, t.pid, args);
	free(args);
	pid = t.pid;
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(pid);
	bindir = strdup(bin);
	*strrchr(bindir, '/') = 0;
	out = sh("rm -rf '%s' && test ! -e '%s' && echo gone", bindir);
	cr_assert_str_eq(out, "gone\n");
	free(out);

	cr_assert(asprintf(&args, "-i %s/trace.tsave", dir) > 0);
	graph = run_ok(tread, 0, args);
	free(args);
	want = tread_tree(graph, pid);
	cr_assert(strstr(want, "dispatch(work(a(b(leaf) c(leaf leaf))"), "%s", graph);

	cr_assert(asprintf(&args, "-i %s/trace.tsave --export uftrace -o %s/u", dir, dir) > 0);
	ok(tread, 0, args);
	free(args);
	out = sh("uftrace replay -d '%s/u'", dir);
	got = strip_empty(graph_canon(out, pid));
	cr_assert_str_eq(got, want, "uftrace replay:\n%s", out);
	free(got);
	free(out);
	out = sh("uftrace replay --srcline -d '%s/u'", dir);
	cr_assert(strstr(out, "leaf(); /* ") && strstr(out, "calltree.c:"), "%s", out);
	free(out);

	cr_assert(asprintf(&args, "-i %s/trace.tsave --export ctf -o %s/c", dir, dir) > 0);
	ok(tread, 0, args);
	free(args);
	out = sh("babeltrace2 --clock-seconds '%s/c'", dir);
	got = bt_tree(out, pid);
	cr_assert_str_eq(got, want);
	free(got);
	free(out);

	free(want);
	free(graph);
	free(bindir);
	xrmdir(dir);
	free(dir);
	free(o);
	free(e);
}

/*
 * pingpong: A's send_message(i) writes to B over a pipe, B's
 * handle_message(i) reads it and answers, A's wait_answer(i) reads the
 * answer.  A read as its ring, B as a saved trace, merged (-i A -i B)
 * into one CTF trace and one uftrace folder: every handle_message lies
 * after the send_message that sent it and before the wait_answer that got
 * the answer.  (Exported separately, each process's trace keeps its own
 * TSC calibration, which can put them microseconds apart: merging gives
 * a machine's traces one conversion, which orders them exactly.)
 */
struct pp_round {
	uint64_t send, handle, answered;
};

/* babeltrace2 output of pingpong's @n rounds: each handle_message (B)
 * after its send_message (A), before A's wait_answer returned; printed
 * in that order. */
static void check_rounds(const char *out, pid_t a, pid_t b, int n)
{
	struct pp_round r[16] = { 0 };
	int nsend = 0, nhandle = 0, nanswer = 0;
	char *turns = NULL, *want = NULL;

	cr_assert_leq(n, 16);
	for (const char *l = out; l && *l;) {
		struct bt_event ev;

		if (bt_parse(l, &ev)) {
			if (ev.entry && !strcmp(ev.name, "send_message")) {
				cr_assert_eq(ev.pid, a);
				cr_assert_lt(nsend, n);
				r[nsend++].send = ev.ns;
				str_append(&turns, "S");
			} else if (ev.entry && !strcmp(ev.name, "handle_message")) {
				cr_assert_eq(ev.pid, b);
				cr_assert_lt(nhandle, n);
				r[nhandle++].handle = ev.ns;
				str_append(&turns, "H");
			} else if (!ev.entry && !strcmp(ev.name, "wait_answer")) {
				cr_assert_lt(nanswer, n);
				r[nanswer++].answered = ev.ns;
			}
		}
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	cr_assert_eq(nsend, n);
	cr_assert_eq(nhandle, n);
	cr_assert_eq(nanswer, n);
	for (int i = 0; i < n; i++) {
		cr_assert_lt(r[i].send, r[i].handle, "round %d handled before it was sent:\n%s",
			     i + 1, out);
		cr_assert_lt(r[i].handle, r[i].answered, "round %d answered before handled", i + 1);
		str_append(&want, "SH");
	}
	cr_assert_str_eq(turns, want);
	free(turns);
	free(want);
}

Test(export_clients, pingpong_on_one_time_line)
{
	char *e = NULL, *dir, *args = NULL, *out, ring_a[300], *turns = NULL;
	struct target t;
	pid_t a, b;

	require_client("uftrace");
	require_client("babeltrace2");
	target_start(&t, build_path("tests/targets/pingpong"));
	cr_assert_eq(sscanf(t.ready, "ready %d %d", &a, &b), 2, "%s", t.ready);
	ring_remove(a);
	ring_remove(b);
	ok(tattach, a, "--enable");
	ok(tattach, b, "--enable");
	cr_assert_str_eq(target_cmd(&t, "play 10"), "done");
	ok(tattach, a, "--disable");
	ok(tattach, b, "--disable");
	dir = xtmpdir();
	ring_path(a, ring_a, sizeof(ring_a));
	cr_assert(asprintf(&args, "--save %s/b.tsave", dir) > 0);
	ok(tread, b, args);
	free(args);

	/* one CTF trace of both processes */
	cr_assert(asprintf(&args, "-i %s -i %s/b.tsave --export ctf -o %s/c", ring_a, dir,
			   dir) > 0);
	ok(tread, 0, args);
	free(args);
	cr_assert(asprintf(&args, "babeltrace2 --clock-seconds '%s/c'", dir) > 0);
	sh_capture(args, &out, 1);
	free(args);
	check_rounds(out, a, b, 10);
	free(out);

	/* one uftrace folder with both processes: replay interleaves them */
	cr_assert(asprintf(&args, "-i %s -i %s/b.tsave --export uftrace -o %s/u", ring_a, dir,
			   dir) > 0);
	ok(tread, 0, args);
	free(args);
	out = sh("uftrace replay -d '%s/u'", dir);
	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n');
		const char *s = strstr(l, "send_message()"), *h = strstr(l, "handle_message()");

		if (s && (!nl || s < nl))
			str_append(&turns, "S");
		else if (h && (!nl || h < nl))
			str_append(&turns, "H");
		l = nl ? nl + 1 : NULL;
	}
	cr_assert_str_eq(turns, "SHSHSHSHSHSHSHSHSHSH", "%s", out);
	free(turns);
	free(out);
	out = sh("uftrace info -d '%s/u' | grep 'number of tasks'", dir);
	cr_assert_str_eq(out, "# number of tasks     : 2\n");
	free(out);

	target_stop(&t);
	ring_remove(a);
	ring_remove(b);
	xrmdir(dir);
	free(dir);
	free(e);
}

/*
 * The same with two CTF folders, one per process, given together to
 * babeltrace2: each export carries its own clock conversion, measured when
 * tattach attached, so the two must agree to well under a message's trip
 * through the pipe.  With the TSC (the default) and with CLOCK_MONOTONIC.
 */
static void pingpong_separate(const char *enable)
{
	char *dir, *args = NULL, *out;
	struct target t;
	pid_t a, b;

	target_start(&t, build_path("tests/targets/pingpong"));
	cr_assert_eq(sscanf(t.ready, "ready %d %d", &a, &b), 2, "%s", t.ready);
	ring_remove(a);
	ring_remove(b);
	ok(tattach, a, enable);
	ok(tattach, b, enable);
	cr_assert_str_eq(target_cmd(&t, "play 10"), "done");
	ok(tattach, a, "--disable");
	ok(tattach, b, "--disable");
	dir = xtmpdir();
	cr_assert(asprintf(&args, "--export ctf -o %s/a", dir) > 0);
	ok(tread, a, args);
	free(args);
	cr_assert(asprintf(&args, "--export ctf -o %s/b", dir) > 0);
	ok(tread, b, args);
	free(args);
	cr_assert(asprintf(&args, "babeltrace2 --clock-seconds '%s/b' '%s/a'", dir, dir) > 0);
	sh_capture(args, &out, 1);
	free(args);
	check_rounds(out, a, b, 10);
	free(out);
	target_stop(&t);
	ring_remove(a);
	ring_remove(b);
	xrmdir(dir);
	free(dir);
}

Test(export_clients, pingpong_separate_exports_in_one_babeltrace)
{
	require_client("babeltrace2");
	pingpong_separate("--enable");
	pingpong_separate("--enable --clock mono");
}

/* uftrace replay's lines without the duration and tid columns. */
static char *replay_calls(const char *out)
{
	char *c = NULL;

	for (const char *l = out; l && *l;) {
		const char *bar = strstr(l, "] | "), *nl = strchr(l, '\n');

		if (bar && (!nl || bar < nl)) {
			char *line = strndup(bar + 4, nl ? (size_t)(nl - bar - 4) : strlen(bar + 4));

			str_append(&c, line);
			str_append(&c, "\n");
			free(line);
		}
		l = nl ? nl + 1 : NULL;
	}
	return c ? c : strdup("");
}

#define ARGFUNCS "sum_signed|umix|paint|greet|scale|pick|shout"

/*
 * tattach -A/-R values in the exports, read by the real clients
 * (tests/targets/argvals lists the calls).  uftrace shows them as for its
 * own -A/-R: no names, its formats (unsigned above 100000 in hex, doubles
 * with %f, an enum as its number, a pointer it cannot read as "<0x10>").
 * A second --enable asks other values of sum_signed() (a name has one
 * argspec in uftrace: those calls show none) and of plain(), new.
 */
Test(export_clients, arguments_and_return_values, .timeout = 180)
{
	char *dir, *data = NULL, *out, *got, *want = NULL, pick[64];
	struct target t;
	const char *done;

	require_client("uftrace");
	require_client("babeltrace2");
	target_start(&t, build_path("tests/targets/argvals"));
	ring_remove(t.pid);
	ok(tattach, t.pid, "--enable -F " ARGFUNCS " -A " ARGFUNCS " -R " ARGFUNCS);
	done = target_cmd(&t, "run");
	cr_assert_eq(strncmp(done, "done 0x", 7), 0, "%s", done);
	snprintf(pick, sizeof(pick), "%s", done + 5);
	ok(tattach, t.pid, "--enable -F " ARGFUNCS "|plain -A sum_signed@arg1,arg3/x "
	   "-A plain@arg1/x -R plain@retval/u");
	cr_assert_eq(strncmp(target_cmd(&t, "run"), "done 0x", 7), 0);
	ok(tattach, t.pid, "--disable");
	dir = xtmpdir();
	cr_assert(asprintf(&data, "%s/u", dir) > 0);
	export_pid(t.pid, "uftrace", data);

	out = sh("uftrace replay -d '%s'", data);
	got = replay_calls(out);
	cr_assert(asprintf(&want,
		"sum_signed(-5, -300, 1234567890123) = 1234567889818;\n"
		"umix(200, 0xee6b2800) = 0xee6b28c8;\n"
		"paint(6, 3) = 6;\n"
		"paint(42, 1) = -1;\n"
		"greet(\"world\", NULL, \"<0x10>\") = 5;\n"
		"scale(2.500000, 0.250000, 3) = 1.875000;\n"
		"pick(1) = %s;\n"
		"shout(\"0123456789012345678901234567890123456789012345678901234567890123...\") = 70;\n"
		"sum_signed();\n"
		"umix();\n"
		"paint();\n"
		"paint();\n"
		"greet();\n"
		"scale();\n"
		"pick();\n"
		"shout();\n"
		"plain(0x7) = 8;\n", pick) > 0);
	cr_assert_str_eq(got, want, "uftrace replay:\n%s", out);
	free(got);
	free(want);
	free(out);
	/* the argspec uftrace reads, in `info` */
	out = sh("uftrace info -d '%s'", data);
	cr_assert(strstr(out, "# arguments           : sum_signed@arg1/i64,arg2/i64,arg3/i64;"
			 "umix@arg1/u64,arg2/u64;paint@arg1/i64,arg2/i64;greet@arg1/s,arg2/s,"
			 "arg3/s;scale@fparg1/64,fparg2/32,arg1/i64;pick@arg1/i64;shout@arg1/s;"
			 "plain@arg1/x64\n"), "%s", out);
	free(out);
	/* and uftrace's own Chrome export carries them */
	out = sh("uftrace dump --chrome -d '%s'", data);
	cr_assert(strstr(out, "\"args\":{\"arguments\":\"(\\\"world\\\", NULL, \\\"<0x10>\\\")\"}"),
		  "%s", out);
	free(out);

	/* CTF: the text tread shows, on func_entry ("args") and func_exit
	 * ("retval"); calls without values have neither field */
	free(data);
	cr_assert(asprintf(&data, "%s/c", dir) > 0);
	export_pid(t.pid, "ctf", data);
	out = sh("babeltrace2 '%s' | sed 's/^.*}, { addr = 0x[0-9A-F]*, //'", data);
	cr_assert(strstr(out,
		"depth = 0, name = \"sum_signed\", entered = ( \"traced\" : container = 0 ), "
		"args = \"a=-5, b=-300, c=1234567890123\" }\n"
		"depth = 0, name = \"sum_signed\", how = ( \"returned\" : container = 0 ), "
		"retval = \"1234567889818\" }\n"), "%s", out);
	cr_assert(strstr(out,
		"depth = 0, name = \"greet\", entered = ( \"traced\" : container = 0 ), "
		"args = \"who=\\\"world\\\", none=NULL, wild=0x10 (unreadable)\" }\n"
		"depth = 0, name = \"greet\", how = ( \"returned\" : container = 0 ), "
		"retval = \"5\" }\n"), "%s", out);
	cr_assert(strstr(out,
		"depth = 0, name = \"scale\", entered = ( \"traced\" : container = 0 ), "
		"args = \"x=2.5, f=0.25, k=3\" }\n"
		"depth = 0, name = \"scale\", how = ( \"returned\" : container = 0 ), "
		"retval = \"1.875\" }\n"), "%s", out);
	/* the second round: umix() without values */
	cr_assert(strstr(out,
		"depth = 0, name = \"umix\", entered = ( \"traced\" : container = 0 ) }\n"
		"depth = 0, name = \"umix\", how = ( \"returned\" : container = 0 ) }\n"),
		"%s", out);
	cr_assert(strstr(out,
		"depth = 0, name = \"plain\", entered = ( \"traced\" : container = 0 ), "
		"args = \"x=0x7\" }\n"
		"depth = 0, name = \"plain\", how = ( \"returned\" : container = 0 ), "
		"retval = \"8\" }\n"), "%s", out);
	free(out);

	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	xrmdir(dir);
	free(dir);
	free(data);
}

/*
 * Marks from the program (tests/targets/marks, <tattach/mark.h>): in
 * uftrace, the hook calls with their text and value as arguments, where
 * they were made; in CTF, mark, label and counter events besides.
 */
Test(export_clients, marks, .timeout = 180)
{
	char *dir, *data = NULL, *out, *got;
	struct target t;

	require_client("uftrace");
	require_client("babeltrace2");
	target_start(&t, build_path("tests/targets/marks"));
	ring_remove(t.pid);
	ok(tattach, t.pid, "--enable");
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	ok(tattach, t.pid, "--disable");
	dir = xtmpdir();
	cr_assert(asprintf(&data, "%s/u", dir) > 0);
	export_pid(t.pid, "uftrace", data);
	out = sh("uftrace replay -d '%s'", data);
	got = replay_calls(out);
	cr_assert_str_eq(got,
		"main() {\n"
		"  work() {\n"
		"    tattach_label_hook(\"worker 0\");\n"
		"    tattach_counter_hook(\"queue\", -5);\n"
		"    step();\n"
		"  } /* work */\n"
		"  work() {\n"
		"    tattach_label_hook(\"worker 1\");\n"
		"    tattach_counter_hook(\"queue\", 5);\n"
		"    step() {\n"
		"      tattach_mark_hook(\"cache miss\");\n"
		"    } /* step */\n"
		"  } /* work */\n"
		"  tattach_counter_hook(\"queue\", 0);\n"
		"} /* main */\n", "uftrace replay:\n%s", out);
	free(got);
	free(out);

	free(data);
	cr_assert(asprintf(&data, "%s/c", dir) > 0);
	export_pid(t.pid, "ctf", data);
	out = sh("babeltrace2 '%s' | grep -v ' func_e' | sed 's/^.*) \\([a-z]*\\): .*}, /\\1 /'",
		 data);
	cr_assert_str_eq(out,
		"label { text = \"worker 0\" }\n"
		"counter { name = \"queue\", value = -5 }\n"
		"label { text = \"worker 1\" }\n"
		"counter { name = \"queue\", value = 5 }\n"
		"mark { text = \"cache miss\" }\n"
		"counter { name = \"queue\", value = 0 }\n");
	free(out);

	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	xrmdir(dir);
	free(dir);
	free(data);
}
