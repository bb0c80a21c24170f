// SPDX-License-Identifier: MIT
/*
 * --export uftrace, read by the real uftrace: a model built by hand is
 * exported, then `uftrace replay/report/graph/info/dump --chrome` must
 * show exactly its calls, names, threads and times.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/xmodel.h"
#include <tattach/ring.h>

#define T0 UINT64_C(1700000000000000000)	/* 2023-11-14T22:13:20Z */
#define APP "/opt/demo/app"
#define LIBX "/usr/lib/libx.so.1"
#define APP_BASE UINT64_C(0x555555554000)
#define LIBX_BASE UINT64_C(0x7f0000000000)

struct demo {
	struct xbuild b;
	uint32_t main_t, work_t;
	char *dir;
	char *out;	/* DIR/data: the export */
};

/*
 * Two threads of one process:
 *   4242: main { work { leaf leaf } helper }   (helper is in libx)
 *   4243: work { leaf }                        (runs while 4242 is in work)
 * Every duration is a whole number of ns chosen so uftrace's output can
 * be checked exactly (e.g. the first leaf takes 1.234 us).
 */
static void demo_build(struct demo *d)
{
	struct xbuild *b = &d->b;
	uint32_t p, fmain, fwork, fleaf, fhelp;

	memset(d, 0, sizeof(*d));
	p = xb_proc(b, 4242, "hostA", APP, "app", 5000000000, T0);
	d->main_t = xb_thread(b, p, 4242, "app");
	d->work_t = xb_thread(b, p, 4243, "worker");
	fmain = xb_func(b, p, "main", APP, APP_BASE, APP_BASE + 0x1150);
	fwork = xb_func(b, p, "work", APP, APP_BASE, APP_BASE + 0x1200);
	fleaf = xb_func(b, p, "leaf", APP, APP_BASE, APP_BASE + 0x1250);
	fhelp = xb_func(b, p, "helper", LIBX, LIBX_BASE, LIBX_BASE + 0x3000);

	xb_call(b, d->main_t, fmain, T0 + 1000);
	xb_call(b, d->main_t, fwork, T0 + 2000);
	xb_call(b, d->main_t, fleaf, T0 + 3000);
	xb_ret(b, d->main_t, T0 + 4234);
	xb_call(b, d->main_t, fleaf, T0 + 5000);
	xb_ret(b, d->main_t, T0 + 6000);
	xb_ret(b, d->main_t, T0 + 7000);
	xb_call(b, d->main_t, fhelp, T0 + 8000);
	xb_ret(b, d->main_t, T0 + 9500);
	xb_ret(b, d->main_t, T0 + 10000);

	xb_call(b, d->work_t, fwork, T0 + 2500);
	xb_call(b, d->work_t, fleaf, T0 + 2600);
	xb_ret(b, d->work_t, T0 + 2700);
	xb_ret(b, d->work_t, T0 + 3100);
	xb_finish(b);

	d->dir = xtmpdir();
	cr_assert(asprintf(&d->out, "%s/data", d->dir) > 0);
}

static void demo_export(struct demo *d)
{
	char err[512] = "";
	int ret = tread_export_uftrace(&d->b.x, d->out, err, sizeof(err));

	cr_assert_eq(ret, 0, "export failed: %d %s", ret, err);
}

static void demo_free(struct demo *d)
{
	xrmdir(d->dir);
	free(d->dir);
	free(d->out);
	xb_free(&d->b);
}

static char *uftrace(const struct demo *d, const char *cmd)
{
	char *line = NULL, *out = NULL;

	/* Moved binaries must not matter: names come from the export alone. */
	cr_assert(asprintf(&line, "uftrace %s -d '%s' 2>&1", cmd, d->out) > 0);
	sh_capture(line, &out, 1);
	free(line);
	return out;
}

/*
 * Canonical tree of @tid in uftrace replay output.  When threads
 * interleave, replay splits a leaf into an opening "leaf() {" and a
 * closing line, which reads "leaf()" in the canonical form: the same call.
 */
static char *replay_canon(const char *out, int tid)
{
	char *c = graph_canon(out, tid), *r = c, *w = c;

	while (*r) {
		if (r[0] == '(' && r[1] == ')')
			r += 2;
		else
			*w++ = *r++;
	}
	*w = 0;
	return c;
}

/* The graph without its time column ("  9.000 us : (1) main" -> "(1) main"). */
static char *graph_shape(const char *out)
{
	char *shape = NULL;

	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n'), *colon = strstr(l, " : ");
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (colon && colon < l + len) {
			char line[256];
			size_t n = len - (size_t)(colon + 3 - l);

			if (n >= sizeof(line))
				n = sizeof(line) - 1;
			memcpy(line, colon + 3, n);
			line[n] = 0;
			/* trailing blanks are uftrace's, not the tree's */
			while (n && line[n - 1] == ' ')
				line[--n] = 0;
			str_append(&shape, line);
			str_append(&shape, "\n");
		}
		l = nl ? nl + 1 : NULL;
	}
	return shape ? shape : strdup("");
}

/* "  Total  Self  Calls  Function" row of @fn: its total and calls. */
static int report_row(const char *out, const char *fn, char *total, size_t tlen, long *calls)
{
	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n');
		char t[32], tu[8], s[32], su[8], name[128];
		long c;

		if (sscanf(l, "%31s %7s %31s %7s %ld %127s", t, tu, s, su, &c, name) == 6 &&
		    !strcmp(name, fn)) {
			snprintf(total, tlen, "%s %s", t, tu);
			*calls = c;
			return 1;
		}
		l = nl ? nl + 1 : NULL;
	}
	return 0;
}

TestSuite(export_uftrace, .timeout = 60);

Test(export_uftrace, replay_shows_the_same_trees_names_and_times)
{
	struct demo d;
	char *out, *c;

	require_client("uftrace");
	demo_build(&d);
	demo_export(&d);
	out = uftrace(&d, "replay");
	c = replay_canon(out, 4242);
	cr_assert_str_eq(c, "main(work(leaf leaf) helper)", "replay:\n%s", out);
	free(c);
	c = replay_canon(out, 4243);
	cr_assert_str_eq(c, "work(leaf)", "replay:\n%s", out);
	free(c);
	/* Durations are the model's own (whole ns), not measurements. */
	cr_assert(strstr(out, "1.234 us [  4242] |     } /* leaf */"), "%s", out);
	cr_assert(strstr(out, "1.500 us [  4242] |   helper();"), "%s", out);
	cr_assert(strstr(out, "9.000 us [  4242] | } /* main */"), "%s", out);
	cr_assert(strstr(out, "0.100 us [  4243] |   leaf();"), "%s", out);
	free(out);
	demo_free(&d);
}

Test(export_uftrace, report_counts_calls_and_times)
{
	static const struct { const char *fn, *total; long calls; } want[] = {
		{ "main", "9.000 us", 1 }, { "work", "5.600 us", 2 },
		{ "leaf", "2.334 us", 3 }, { "helper", "1.500 us", 1 },
	};
	struct demo d;
	char *out, total[64];
	long calls;

	require_client("uftrace");
	demo_build(&d);
	demo_export(&d);
	out = uftrace(&d, "report");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert(report_row(out, want[i].fn, total, sizeof(total), &calls),
			  "no row for %s:\n%s", want[i].fn, out);
		cr_assert_eq(calls, want[i].calls, "%s: %ld calls:\n%s", want[i].fn, calls, out);
		cr_assert_str_eq(total, want[i].total, "%s:\n%s", want[i].fn, out);
	}
	free(out);
	demo_free(&d);
}

Test(export_uftrace, graph_has_the_whole_call_graph)
{
	struct demo d;
	char *out, *shape;

	require_client("uftrace");
	demo_build(&d);
	demo_export(&d);
	out = uftrace(&d, "graph");
	shape = graph_shape(out);
	cr_assert_str_eq(shape,
			 "(1) app\n"
			 " +-(1) main\n"
			 " |  +-(1) work\n"
			 " |  | (2) leaf\n"
			 " |  |\n"
			 " |  +-(1) helper\n"
			 " |\n"
			 " +-(1) work\n"
			 "   (1) leaf\n", "graph:\n%s", out);
	free(shape);
	free(out);
	demo_free(&d);
}

Test(export_uftrace, info_names_program_host_and_tasks)
{
	struct demo d;
	char *out;

	require_client("uftrace");
	demo_build(&d);
	demo_export(&d);
	out = uftrace(&d, "info");
	cr_assert(strstr(out, "# hostname            : hostA\n"), "%s", out);
	cr_assert(strstr(out, "# number of tasks     : 2\n"), "%s", out);
	cr_assert(strstr(out, "# task list           : 4242(app), 4243(app)\n"), "%s", out);
	cr_assert(strstr(out, "# exe image           : /opt/demo/app\n"), "%s", out);
	cr_assert(strstr(out, "# elapsed time        : 0.000009000 sec\n"), "%s", out);
	cr_assert(!strstr(out, "(null)"), "%s", out);
	free(out);
	demo_free(&d);
}

/* dump --chrome must be valid JSON with the same begin/end pairs. */
Test(export_uftrace, dump_chrome_is_json_with_every_call)
{
	struct demo d;
	char *cmd = NULL, *out;

	require_client("uftrace");
	require_client("python3");
	demo_build(&d);
	demo_export(&d);
	cr_assert(asprintf(&cmd,
		"uftrace dump --chrome -d '%s' | python3 -c '"
		"import json, sys\n"
		"ev = json.load(sys.stdin, parse_float=str)[\"traceEvents\"]\n"
		"for e in ev:\n"
		"    if e[\"ph\"] in \"BE\":\n"
		"        print(e[\"ph\"], e.get(\"tid\", e[\"pid\"]), e[\"name\"], e[\"ts\"])\n"
		"'", d.out) > 0);
	sh_capture(cmd, &out, 1);
	cr_assert_str_eq(out,
			 "B 4242 main 1700000000000001.000\n"
			 "B 4242 work 1700000000000002.000\n"
			 "B 4243 work 1700000000000002.500\n"
			 "B 4243 leaf 1700000000000002.600\n"
			 "E 4243 leaf 1700000000000002.700\n"
			 "B 4242 leaf 1700000000000003.000\n"
			 "E 4243 work 1700000000000003.100\n"
			 "E 4242 leaf 1700000000000004.234\n"
			 "B 4242 leaf 1700000000000005.000\n"
			 "E 4242 leaf 1700000000000006.000\n"
			 "E 4242 work 1700000000000007.000\n"
			 "B 4242 helper 1700000000000008.000\n"
			 "E 4242 helper 1700000000000009.500\n"
			 "E 4242 main 1700000000000010.000\n", "%s", out);
	free(out);
	free(cmd);
	demo_free(&d);
}

/* The raw records: real times to the ns, depths, addresses. */
Test(export_uftrace, dump_shows_records_on_the_wall_clock)
{
	struct demo d;
	char *out;

	require_client("uftrace");
	demo_build(&d);
	demo_export(&d);
	out = uftrace(&d, "dump");
	cr_assert(strstr(out, "1700000000.000004234   4242: [exit ] leaf(555555555250) depth: 2\n"),
		  "%s", out);
	cr_assert(strstr(out, "1700000000.000008000   4242: [entry] helper(7f0000003000) depth: 1\n"),
		  "%s", out);
	free(out);
	demo_free(&d);
}

/*
 * Two processes, each with the same program at a different base (ASLR),
 * and a function the collector could not place in a module: names resolve
 * per process, and both processes share one time line.
 */
Test(export_uftrace, two_processes_same_program_other_bases)
{
	struct xbuild b = { 0 };
	uint32_t pa, pb, ta, tb, amain, aping, bmain, bpong, anon;
	char *dir = xtmpdir(), *out = NULL, *line = NULL, *c, err[512] = "";

	require_client("uftrace");
	pa = xb_proc(&b, 100, "hostA", APP, "app", 1, T0);
	pb = xb_proc(&b, 200, "hostB", APP, "app", 1, T0);
	ta = xb_thread(&b, pa, 100, "app");
	tb = xb_thread(&b, pb, 200, "app");
	amain = xb_func(&b, pa, "main", APP, 0x555500000000, 0x555500001150);
	aping = xb_func(&b, pa, "ping", APP, 0x555500000000, 0x555500001300);
	anon = xb_func(&b, pa, "0x7f1234567890", "", 0, 0x7f1234567890);
	bmain = xb_func(&b, pb, "main", APP, 0x566600000000, 0x566600001150);
	bpong = xb_func(&b, pb, "pong", APP, 0x566600000000, 0x566600001400);
	xb_call(&b, ta, amain, T0 + 100);
	xb_call(&b, ta, aping, T0 + 200);
	xb_ret(&b, ta, T0 + 300);
	xb_call(&b, ta, anon, T0 + 350);
	xb_ret(&b, ta, T0 + 360);
	xb_call(&b, tb, bmain, T0 + 400);
	xb_call(&b, tb, bpong, T0 + 500);
	xb_ret(&b, tb, T0 + 600);
	xb_ret(&b, tb, T0 + 700);
	xb_ret(&b, ta, T0 + 800);
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), 0, "%s", err);
	cr_assert(asprintf(&line, "uftrace replay -d '%s'", out) > 0);
	free(out);
	sh_capture(line, &out, 1);
	c = replay_canon(out, 100);
	cr_assert_str_eq(c, "main(ping 0x7f1234567890)", "%s", out);
	free(c);
	c = replay_canon(out, 200);
	cr_assert_str_eq(c, "main(pong)", "%s", out);
	free(c);
	/* One time line: B's pong lies inside A's main. */
	cr_assert(strstr(out, "[   100] |   0x7f1234567890();\n"
			      "            [   200] | main() {\n"), "%s", out);
	free(out);
	free(line);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* Two modules with the same base name in different folders. */
Test(export_uftrace, modules_with_the_same_file_name)
{
	struct xbuild b = { 0 };
	uint32_t p, t, f1, f2;
	char *dir = xtmpdir(), *out = NULL, *line = NULL, *c, err[512] = "";

	require_client("uftrace");
	p = xb_proc(&b, 300, "h", APP, "app", 1, T0);
	t = xb_thread(&b, p, 300, "app");
	f1 = xb_func(&b, p, "from_a", "/a/libsame.so", 0x7f0000000000, 0x7f0000001000);
	f2 = xb_func(&b, p, "from_b", "/b/libsame.so", 0x7f1000000000, 0x7f1000001000);
	xb_call(&b, t, f1, T0 + 1);
	xb_call(&b, t, f2, T0 + 2);
	xb_ret(&b, t, T0 + 3);
	xb_ret(&b, t, T0 + 4);
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), 0, "%s", err);
	cr_assert(asprintf(&line, "uftrace replay -d '%s'", out) > 0);
	free(out);
	sh_capture(line, &out, 1);
	c = replay_canon(out, 300);
	cr_assert_str_eq(c, "from_a(from_b)", "%s", out);
	free(c);
	free(out);
	free(line);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/*
 * A loss: the collector closed the open calls (synthetic exits) and put a
 * LOST event; the trees before and after it stay whole, and the LOST
 * record is in the data.
 */
Test(export_uftrace, loss_keeps_trees_whole)
{
	struct xbuild b = { 0 };
	uint32_t p, t, fa, fb, fc;
	char *dir = xtmpdir(), *out = NULL, *line = NULL, *c, err[512] = "";

	require_client("uftrace");
	p = xb_proc(&b, 400, "h", APP, "app", 1, T0);
	t = xb_thread(&b, p, 400, "app");
	fa = xb_func(&b, p, "a", APP, APP_BASE, APP_BASE + 0x1000);
	fb = xb_func(&b, p, "b", APP, APP_BASE, APP_BASE + 0x1100);
	fc = xb_func(&b, p, "c", APP, APP_BASE, APP_BASE + 0x1200);
	xb_call(&b, t, fa, T0 + 10);
	xb_call(&b, t, fb, T0 + 20);
	xb_ret_synthetic(&b, t, T0 + 30);
	xb_ret_synthetic(&b, t, T0 + 30);
	xb_lost(&b, t, T0 + 30, 7);
	xb_call(&b, t, fc, T0 + 40);
	xb_ret(&b, t, T0 + 50);
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), 0, "%s", err);
	cr_assert(asprintf(&line, "uftrace replay -d '%s'", out) > 0);
	sh_capture(line, &c, 1);
	free(line);
	line = c;
	c = replay_canon(line, 400);
	cr_assert_str_eq(c, "a(b) c", "%s", line);
	cr_assert(!strstr(line, "inverted"), "%s", line);
	free(c);
	free(line);
	cr_assert(asprintf(&line, "uftrace dump -d '%s'", out) > 0);
	sh_capture(line, &c, 1);
	cr_assert(strstr(c, "1700000000.000000030    400: [lost ] <7>(7) depth: 0\n"), "%s", c);
	free(c);
	free(line);
	free(out);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

static int count_entries(const char *dir)
{
	char *cmd = NULL, *out;
	int n;

	cr_assert(asprintf(&cmd, "ls -A '%s' | wc -l", dir) > 0);
	sh_capture(cmd, &out, 1);
	n = atoi(out);
	free(out);
	free(cmd);
	return n;
}

Test(export_uftrace, refuses_a_folder_that_is_not_empty)
{
	struct demo d;
	char *keep = NULL, err[512] = "";
	FILE *f;

	demo_build(&d);
	cr_assert_eq(mkdir(d.out, 0755), 0);
	cr_assert(asprintf(&keep, "%s/mine.txt", d.out) > 0);
	f = fopen(keep, "w");
	cr_assert(f);
	fputs("keep me\n", f);
	fclose(f);
	cr_assert_eq(tread_export_uftrace(&d.b.x, d.out, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "exists and is not empty"), "%s", err);
	cr_assert(!strchr(err, '\n'), "one line: %s", err);
	/* Nothing added, next to it or in it. */
	cr_assert_eq(count_entries(d.out), 1);
	cr_assert_eq(count_entries(d.dir), 1);
	free(keep);
	demo_free(&d);
}

Test(export_uftrace, fills_an_empty_folder)
{
	struct demo d;

	demo_build(&d);
	cr_assert_eq(mkdir(d.out, 0755), 0);
	demo_export(&d);
	cr_assert_eq(count_entries(d.dir), 1);
	cr_assert_gt(count_entries(d.out), 5);
	demo_free(&d);
}

Test(export_uftrace, unwritable_place_leaves_nothing)
{
	struct demo d;
	char *ro = NULL, *bad = NULL, err[512] = "";

	demo_build(&d);
	cr_assert(asprintf(&bad, "%s/no/such/folder", d.dir) > 0);
	cr_assert_lt(tread_export_uftrace(&d.b.x, bad, err, sizeof(err)), 0);
	cr_assert(strstr(err, "cannot create folder next to"), "%s", err);
	cr_assert_eq(count_entries(d.dir), 0);
	/* A folder we may not write into (root ignores modes: use /proc). */
	cr_assert(asprintf(&ro, "/proc/self/tattach-export") > 0);
	cr_assert_lt(tread_export_uftrace(&d.b.x, ro, err, sizeof(err)), 0);
	cr_assert(err[0] && !strchr(err, '\n'), "%s", err);
	free(ro);
	free(bad);
	demo_free(&d);
}

Test(export_uftrace, refuses_calls_deeper_than_uftrace_can_record)
{
	struct xbuild b = { 0 };
	uint32_t p, t, f;
	char *dir = xtmpdir(), *out = NULL, err[512] = "";

	p = xb_proc(&b, 500, "h", APP, "app", 1, T0);
	t = xb_thread(&b, p, 500, "app");
	f = xb_func(&b, p, "rec", APP, APP_BASE, APP_BASE + 0x1000);
	for (int i = 0; i < 1025; i++)
		xb_call(&b, t, f, T0 + (uint64_t)i);
	for (int i = 0; i < 1025; i++)
		xb_ret(&b, t, T0 + 2000 + (uint64_t)i);
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), -ERANGE);
	cr_assert(strstr(err, "nests 1025 calls"), "%s", err);
	cr_assert_eq(count_entries(dir), 0);
	free(out);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* A tid used by two threads of one process, one after the other: one
 * uftrace task holding both threads' calls in order. */
Test(export_uftrace, reused_tid_is_one_task)
{
	struct xbuild b = { 0 };
	uint32_t p, t1, t2, f, g;
	char *dir = xtmpdir(), *out = NULL, *line = NULL, *c, err[512] = "";

	require_client("uftrace");
	p = xb_proc(&b, 600, "h", APP, "app", 1, T0);
	t1 = xb_thread(&b, p, 601, "first");
	t2 = xb_thread(&b, p, 601, "second");
	f = xb_func(&b, p, "early", APP, APP_BASE, APP_BASE + 0x1000);
	g = xb_func(&b, p, "late", APP, APP_BASE, APP_BASE + 0x1100);
	xb_call(&b, t1, f, T0 + 1);
	xb_ret(&b, t1, T0 + 2);
	xb_call(&b, t2, g, T0 + 3);
	xb_ret(&b, t2, T0 + 4);
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), 0, "%s", err);
	cr_assert(asprintf(&line, "uftrace replay -d '%s'; uftrace info -d '%s' | grep 'task list'",
			   out, out) > 0);
	sh_capture(line, &c, 1);
	free(line);
	line = c;
	c = replay_canon(line, 601);
	cr_assert_str_eq(c, "early late", "%s", line);
	cr_assert(strstr(line, "# task list           : 601(app)\n"), "%s", line);
	free(c);
	free(line);
	free(out);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* One tid in two processes (two machines): uftrace could not tell them
 * apart, so the export is refused, with nothing written. */
Test(export_uftrace, same_tid_in_two_processes_is_refused)
{
	struct xbuild b = { 0 };
	uint32_t p, q, f;
	char *dir = xtmpdir(), *out = NULL, err[512] = "";

	p = xb_proc(&b, 700, "hostA", APP, "app", 1, T0);
	q = xb_proc(&b, 701, "hostB", APP, "app", 1, T0);
	xb_thread(&b, p, 700, "app");
	xb_thread(&b, q, 702, "app");
	xb_thread(&b, q, 700, "app");
	f = xb_func(&b, p, "f", APP, APP_BASE, APP_BASE + 0x1000);
	xb_call(&b, 0, f, T0 + 1);
	xb_ret(&b, 0, T0 + 2);
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "uftrace export: thread id 700 occurs in two processes; "
			 "uftrace cannot tell them apart; export them one at a time");
	cr_assert_eq(count_entries(dir), 0);
	free(out);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* A write that fails half way (here: the file size limit, as a full disk
 * would): one line, and neither DIR nor its temporary folder is left. */
Test(export_uftrace, failed_write_leaves_nothing)
{
	struct rlimit small = { 64 * 1024, 64 * 1024 };
	struct xbuild b = { 0 };
	uint32_t p, t, f;
	char *dir = xtmpdir(), *out = NULL, err[512] = "";

	p = xb_proc(&b, 800, "h", APP, "app", 1, T0);
	t = xb_thread(&b, p, 800, "app");
	f = xb_func(&b, p, "f", APP, APP_BASE, APP_BASE + 0x1000);
	for (uint64_t i = 0; i < 20000; i++) {
		xb_call(&b, t, f, T0 + 2 * i);
		xb_ret(&b, t, T0 + 2 * i + 1);
	}
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), -EFBIG, "%s", err);
	cr_assert(strstr(err, "cannot write '") && strstr(err, "/u/800.dat': File too large"),
		  "%s", err);
	cr_assert_eq(count_entries(dir), 0);
	free(out);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* A module path with a space (uftrace reads map paths as one word). */
Test(export_uftrace, module_path_with_a_space)
{
	struct xbuild b = { 0 };
	uint32_t p, t, f1, f2;
	char *dir = xtmpdir(), *out = NULL, *line = NULL, *c, err[512] = "";

	require_client("uftrace");
	p = xb_proc(&b, 900, "h", "/home/me/My Apps/app", "app", 1, T0);
	t = xb_thread(&b, p, 900, "app");
	f1 = xb_func(&b, p, "outer", "/home/me/My Apps/app", APP_BASE, APP_BASE + 0x1000);
	f2 = xb_func(&b, p, "inner", "/home/me/My Apps/libz z.so", 0x7f0000000000,
		     0x7f0000002000);
	xb_call(&b, t, f1, T0 + 1);
	xb_call(&b, t, f2, T0 + 2);
	xb_ret(&b, t, T0 + 3);
	xb_ret(&b, t, T0 + 4);
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), 0, "%s", err);
	cr_assert(asprintf(&line, "uftrace replay -d '%s'", out) > 0);
	sh_capture(line, &c, 1);
	free(line);
	line = c;
	c = replay_canon(line, 900);
	cr_assert_str_eq(c, "outer(inner)", "%s", line);
	free(c);
	free(line);
	free(out);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* No calls at all: uftrace could not read the folder, so none is made. */
Test(export_uftrace, trace_without_calls_is_refused)
{
	struct xbuild b = { 0 };
	uint32_t p, t;
	char *dir = xtmpdir(), *out = NULL, err[512] = "";

	p = xb_proc(&b, 950, "h", APP, "app", 1, T0);
	t = xb_thread(&b, p, 950, "app");
	xb_lost(&b, t, T0 + 1, 3);
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), -ENODATA);
	cr_assert_str_eq(err, "uftrace export: the trace holds no calls, and uftrace cannot "
			 "read a folder without any; nothing written");
	cr_assert_eq(count_entries(dir), 0);
	free(out);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* Losses before the first call, one the collector could not date (time
 * 0): placed at the first call, the date and elapsed time stay right. */
Test(export_uftrace, losses_before_the_first_call)
{
	struct xbuild b = { 0 };
	uint32_t p, t, f;
	char *dir = xtmpdir(), *out = NULL, *line = NULL, *c, err[512] = "";

	require_client("uftrace");
	p = xb_proc(&b, 960, "h", APP, "app", 1, T0);
	t = xb_thread(&b, p, 960, "app");
	f = xb_func(&b, p, "f", APP, APP_BASE, APP_BASE + 0x1000);
	xb_lost(&b, t, 0, 2);
	xb_lost(&b, t, T0 + 5, 3);
	xb_call(&b, t, f, T0 + 10);
	xb_ret(&b, t, T0 + 20);
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	/* record_date is local time, as uftrace record writes it */
	setenv("TZ", "UTC", 1);
	tzset();
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), 0, "%s", err);
	cr_assert(asprintf(&line, "uftrace replay -d '%s' && uftrace info -d '%s' && "
			   "uftrace dump -d '%s'", out, out, out) > 0);
	sh_capture(line, &c, 1);
	free(line);
	line = c;
	c = replay_canon(line, 960);
	cr_assert_str_eq(c, "f", "%s", line);
	cr_assert(strstr(line, "# recorded on         : Tue Nov 14 22:13:20 2023\n"), "%s", line);
	cr_assert(strstr(line, "# elapsed time        : 0.000000010 sec\n"), "%s", line);
	cr_assert(strstr(line, "1700000000.000000010    960: [lost ] <2>(2) depth: 0\n"
			       "1700000000.000000010    960: [lost ] <3>(3) depth: 0\n"
			       "1700000000.000000010    960: [entry] f(555555555000) depth: 0\n"),
		  "%s", line);
	free(c);
	free(line);
	free(out);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* Where DWARF gave a function's file and line, replay --srcline shows it
 * (from <module>.dbg, the binaries being absent). */
Test(export_uftrace, srcline_from_the_model)
{
	struct demo d;
	char *out;

	require_client("uftrace");
	demo_build(&d);
	d.b.x.funcs[0].file = "src/main.c";	/* main */
	d.b.x.funcs[0].line = 12;
	d.b.x.funcs[2].file = "src/work space/leaf.c";	/* leaf */
	d.b.x.funcs[2].line = 7;
	demo_export(&d);
	out = uftrace(&d, "replay --srcline --tid 4242");
	cr_assert(strstr(out, "[  4242] | main() { /* src/main.c:12 */\n"), "%s", out);
	cr_assert(strstr(out, "[  4242] |     leaf(); /* src/work space/leaf.c:7 */\n"), "%s", out);
	/* work has no file: no comment */
	cr_assert(strstr(out, "[  4242] |   work() {\n"), "%s", out);
	free(out);
	demo_free(&d);
}

/* The canonical tree of @thread in the model, as replay_canon() writes it. */
static char *model_tree(const struct tread_xtrace *x, uint32_t thread)
{
	char *c = NULL, *r, *w;
	int need_sep = 0;

	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];

		if (e->thread != thread || e->kind == TREAD_X_LOST)
			continue;
		if (e->kind == TREAD_X_ENTRY) {
			if (need_sep)
				str_append(&c, " ");
			str_append(&c, x->funcs[e->func].name);
			str_append(&c, "(");
			need_sep = 0;
		} else {
			str_append(&c, ")");
			need_sep = 1;
		}
	}
	if (!c)
		return strdup("");
	for (r = w = c; *r;) {
		if (r[0] == '(' && r[1] == ')')
			r += 2;
		else
			*w++ = *r++;
	}
	*w = 0;
	return c;
}

/*
 * Random call trees (fixed seed) on three threads of two processes,
 * functions in three modules, losses that close every open call: uftrace
 * replay shows each thread's tree exactly as the model has it, and report
 * the same number of calls per function.
 */
Test(export_uftrace, random_trees_replay_exactly)
{
	static const char *const names[] = {
		"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
		"iota", "kappa", "lambda", "mu",
	};
	struct xbuild b = { 0 };
	uint32_t p[2], t[3], f[2][12];
	unsigned seed = 12345;
	uint64_t now = T0;
	char *dir = xtmpdir(), *out = NULL, *cmd = NULL, *rep, err[512] = "";
	long calls[12] = { 0 };

	require_client("uftrace");
	p[0] = xb_proc(&b, 1000, "h", APP, "app", 1, T0);
	p[1] = xb_proc(&b, 2000, "h", "/opt/other", "other", 1, T0);
	t[0] = xb_thread(&b, p[0], 1000, "app");
	t[1] = xb_thread(&b, p[0], 1001, "app2");
	t[2] = xb_thread(&b, p[1], 2000, "other");
	for (int pi = 0; pi < 2; pi++) {
		for (int i = 0; i < 12; i++) {
			const char *mod = i < 8 ? (pi ? "/opt/other" : APP) : LIBX;
			uint64_t base = i < 8 ? APP_BASE + (uint64_t)pi * 0x100000000 : LIBX_BASE;

			f[pi][i] = xb_func(&b, p[pi], names[i], mod, base,
					   base + 0x1000 + 0x40 * (uint64_t)i);
		}
	}
	for (int n = 0; n < 3000; n++) {
		uint32_t th = t[rand_r(&seed) % 3];
		int r = rand_r(&seed) % 100;

		now += 1 + (uint64_t)(rand_r(&seed) % 500);
		if (r < 2 && b.height[th]) {
			while (b.height[th])
				xb_ret_synthetic(&b, th, now);
			xb_lost(&b, th, now, 1 + (uint64_t)(rand_r(&seed) % 50));
		} else if (r < 52 && b.height[th] < 40) {
			int fi = rand_r(&seed) % 12;

			xb_call(&b, th, f[th == t[2]][fi], now);
			calls[fi]++;
		} else if (b.height[th]) {
			xb_ret(&b, th, now);
		}
	}
	for (uint32_t th = 0; th < 3; th++) {
		while (b.height[th])
			xb_ret_synthetic(&b, th, ++now);
	}
	xb_finish(&b);
	cr_assert(asprintf(&out, "%s/u", dir) > 0);
	cr_assert_eq(tread_export_uftrace(&b.x, out, err, sizeof(err)), 0, "%s", err);
	cr_assert(asprintf(&cmd, "uftrace replay -d '%s'", out) > 0);
	sh_capture(cmd, &rep, 1);
	for (uint32_t th = 0; th < 3; th++) {
		char *want = model_tree(&b.x, th);
		char *got = replay_canon(rep, b.x.threads[th].tid);

		cr_assert_str_eq(got, want, "thread %d differs", b.x.threads[th].tid);
		free(got);
		free(want);
	}
	free(rep);
	free(cmd);
	cr_assert(asprintf(&cmd, "uftrace report -d '%s'", out) > 0);
	sh_capture(cmd, &rep, 1);
	for (int i = 0; i < 12; i++) {
		char total[64];
		long got = -1;

		cr_assert(report_row(rep, names[i], total, sizeof(total), &got), "%s", rep);
		cr_assert_eq(got, calls[i], "%s: %ld calls, model %ld\n%s", names[i], got,
			     calls[i], rep);
	}
	free(rep);
	free(cmd);
	free(out);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* tattach -A/-R values, as the ring records them (docs/ring-format.md). */
struct vrec {
	uint8_t b[256];
	uint32_t n;
};

static void v_item(struct vrec *v, unsigned format, unsigned src, uint64_t value)
{
	v->b[v->n++] = (uint8_t)format;
	v->b[v->n++] = (uint8_t)src;
	for (int i = 0; i < 8; i++, value >>= 8)
		v->b[v->n++] = (uint8_t)value;
}

/* A string item: @len = its bytes' count, with TAT_STR_* flags. */
static void v_str(struct vrec *v, unsigned src, uint64_t ptr, const char *s, unsigned len)
{
	v_item(v, TAT_VAL_STR, src, ptr);
	v->b[v->n++] = (uint8_t)len;
	if (len != TAT_STR_UNREADABLE) {
		memcpy(v->b + v->n, s, len & ~TAT_STR_TRUNCATED);
		v->n += len & ~TAT_STR_TRUNCATED;
	}
}

/* Give the @nth call of @func (0 first) these arguments or return value. */
static void set_values(struct xbuild *b, uint32_t func, int nth, int is_return,
		       const struct vrec *v)
{
	struct tread_xtrace *x = &b->x;
	uint32_t depth = 0;
	int seen = -1;

	for (size_t i = 0; i < x->nevents; i++) {
		struct tread_xevent *e = &x->events[i];

		if (e->func != func || e->kind == TREAD_X_LOST)
			continue;
		if (e->kind == TREAD_X_ENTRY && ++seen == nth) {
			depth = e->depth;
			if (!is_return) {
				e->arg_bytes = v->b;
				e->arg_nbytes = v->n;
				return;
			}
		}
		if (e->kind == TREAD_X_EXIT && seen == nth && e->depth == depth && is_return) {
			e->ret_bytes = v->b;
			e->ret_nbytes = v->n;
			return;
		}
	}
	cr_assert_fail("no call %d of function %u", nth, func);
}

/*
 * Every format uftrace can show, in one thread:
 *   f(-7, 300, 0xbeef, NULL) = 'q'       ints, hex, NULL pointer; a char
 *   g('\n', 0.5, 1.25, 1)                 char, float, double, bool (as 1)
 *   s("ab"c\t\\\x1b", NULL, "<0xdead>", "x...")
 *                                         control bytes and '\\' escaped (replay
 *                                         prints bytes raw), NULL, unreadable,
 *                                         truncated
 *   d() = -0.125                          a double returned
 *   leaf.cold.1("zz")  leaf.cold('z')     '.' is escaped and the name anchored
 *                                         in uftrace's regex (else leaf.cold
 *                                         would take leaf.cold.1's spec)
 *   ns::h(int)(), bad()                   a name uftrace cannot match and an
 *                                         unreadable record: no values, the
 *                                         rest of the thread still reads
 *   f() again, another spec               one spec per name: none shown
 */
Test(export_uftrace, values_in_each_format)
{
	struct xbuild b = { 0 };
	struct vrec vf = { 0 }, rf = { 0 }, vg = { 0 }, vs = { 0 }, rd = { 0 }, vc = { 0 },
		    vx = { 0 }, vh = { 0 }, vbad = { 0 }, vf2 = { 0 };
	uint32_t p, th, f, g, s, d, c, xc, h, bad;
	char err[512] = "", *dir, *out, *cmd = NULL, *got;
	double quarter = -0.125, dd = 1.25;
	float ff = 0.5f;
	uint64_t bits = 0;
	uint32_t fbits;
	int ret;

	require_client("uftrace");
	p = xb_proc(&b, 77, "h", APP, "app", 1, T0);
	th = xb_thread(&b, p, 77, "app");
	f = xb_func(&b, p, "f", APP, APP_BASE, APP_BASE + 0x1000);
	g = xb_func(&b, p, "g", APP, APP_BASE, APP_BASE + 0x1100);
	s = xb_func(&b, p, "s", APP, APP_BASE, APP_BASE + 0x1200);
	d = xb_func(&b, p, "d", APP, APP_BASE, APP_BASE + 0x1300);
	c = xb_func(&b, p, "leaf.cold", APP, APP_BASE, APP_BASE + 0x1400);
	xc = xb_func(&b, p, "leaf.cold.1", APP, APP_BASE, APP_BASE + 0x1500);
	h = xb_func(&b, p, "ns::h(int)", APP, APP_BASE, APP_BASE + 0x1600);
	bad = xb_func(&b, p, "bad", APP, APP_BASE, APP_BASE + 0x1700);
	{
		const uint32_t order[] = { f, g, s, d, xc, c, h, bad, f };

		for (uint32_t k = 0; k < 9; k++) {
			xb_call(&b, th, order[k], T0 + 1000 + 100 * k);
			xb_ret(&b, th, T0 + 1050 + 100 * k);
		}
	}
	xb_finish(&b);

	v_item(&vf, TAT_VAL_SIGNED, 0, (uint64_t)-7);
	v_item(&vf, TAT_VAL_UNSIGNED, 1, 300);
	v_item(&vf, TAT_VAL_HEX, 2, 0xbeef);
	v_item(&vf, TAT_VAL_PTR, 3, 0);
	v_item(&rf, TAT_VAL_CHAR, TAT_SRC_RET, 'q');
	set_values(&b, f, 0, 0, &vf);
	set_values(&b, f, 0, 1, &rf);

	v_item(&vg, TAT_VAL_CHAR, 0, '\n');
	memcpy(&fbits, &ff, 4);
	v_item(&vg, TAT_VAL_FLOAT, TAT_SRC_FP(0), fbits);
	memcpy(&bits, &dd, 8);
	v_item(&vg, TAT_VAL_DOUBLE, TAT_SRC_FP(1), bits);
	v_item(&vg, TAT_VAL_BOOL, 1, 1);
	set_values(&b, g, 0, 0, &vg);

	v_str(&vs, 0, 0x1000, "ab\"c\t\\\x1b", 7);
	v_str(&vs, 1, 0, "", 0);
	v_str(&vs, 2, 0xdead, NULL, TAT_STR_UNREADABLE);
	v_str(&vs, 3, 0x2000, "x", 1 | TAT_STR_TRUNCATED);
	set_values(&b, s, 0, 0, &vs);

	memcpy(&bits, &quarter, 8);
	v_item(&rd, TAT_VAL_DOUBLE, TAT_SRC_FP(0), bits);
	set_values(&b, d, 0, 1, &rd);

	v_item(&vc, TAT_VAL_CHAR, 0, 'z');
	set_values(&b, c, 0, 0, &vc);
	v_str(&vx, 0, 0x3000, "zz", 2);
	set_values(&b, xc, 0, 0, &vx);
	v_item(&vh, TAT_VAL_SIGNED, 0, 1);
	set_values(&b, h, 0, 0, &vh);
	v_item(&vbad, 99, 0, 1);	/* no such format */
	set_values(&b, bad, 0, 0, &vbad);
	v_item(&vf2, TAT_VAL_HEX, 0, 1);
	set_values(&b, f, 1, 0, &vf2);

	dir = xtmpdir();
	cr_assert(asprintf(&cmd, "%s/data", dir) > 0);
	ret = tread_export_uftrace(&b.x, cmd, err, sizeof(err));
	cr_assert_eq(ret, 0, "%s", err);
	free(cmd);
	cr_assert(asprintf(&cmd, "uftrace replay -d '%s/data' 2>&1 | sed 's/^.*] | //'", dir) > 0);
	sh_capture(cmd, &out, 1);
	got = out;
	cr_assert_str_eq(got,
		"# DURATION     TID     FUNCTION\n"
		"f(-7, 300, 0xbeef, 0) = 'q';\n"
		"g('\\n', 0.500000, 1.250000, 1);\n"
		"s(\"ab\"c\\t\\\\\\x1b\", NULL, \"<0xdead>\", \"x...\");\n"
		"d() = -0.125000;\n"
		"leaf.cold.1(\"zz\");\n"
		"leaf.cold('z');\n"
		"ns::h(int);\n"
		"bad();\n"
		"f();\n");
	free(out);
	free(cmd);
	cr_assert(asprintf(&cmd, "uftrace info -d '%s/data' | grep -E '^# (arguments|return)'",
			   dir) > 0);
	sh_capture(cmd, &out, 1);
	cr_assert_str_eq(out,
		"# arguments           : f@arg1/i64,arg2/u64,arg3/x64,arg4/p;"
		"g@arg1/c,fparg1/32,fparg2/64,arg2/i64;s@arg1/s,arg2/s,arg3/s,arg4/s;"
		"^leaf\\.cold\\.1$@arg1/s;^leaf\\.cold$@arg1/c\n"
		"# return values       : f@retval/c;d@retval/f64\n");
	free(out);
	free(cmd);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}
