// SPDX-License-Identifier: MIT
/*
 * The --html viewer in a real browser (headless chromium): the page of a
 * known model (tests/lib/xmodel.c) loads without a script error, draws
 * every call of every lane, names the calls under a time through its hit
 * test, shows a clicked call's details, highlights exactly the calls a
 * search matches, sums a range per function, and zooms with a synthetic
 * wheel event around the pointer, pans with a drag and with A/D, zooms
 * with W/S.  The page drives itself (#selftest) and reports what it saw;
 * the numbers are checked here against the model.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/export/html.h"
#include "lib/browser.h"
#include "lib/proc_harness.h"
#include "lib/html_model.h"

static char page[64];

static void write_page(void)
{
	struct tread_xtrace x;
	char err[256] = "";
	int fd;

	snprintf(page, sizeof(page), "/tmp/tattach-view-XXXXXX.html");
	fd = mkstemps(page, 5);
	cr_assert_geq(fd, 0);
	close(fd);
	xmodel_build(&x);
	cr_assert_eq(tread_export_html(&x, page, err, sizeof(err)), 0, "%s", err);
	xmodel_free(&x);
}

static void remove_page(void)
{
	if (page[0])
		unlink(page);
}

TestSuite(html_browser, .init = write_page, .fini = remove_page, .timeout = 180);

static char *selftest(const char *hash)
{
	char why[512] = "";
	char *text = browser_selftest(page, hash, why, sizeof(why));

	cr_assert_not_null(text, "browser: %s", why);
	return text;
}

/* The rest of the line that starts with @prefix, in a new string. */
static char *line(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n))
			return strndup(p + n, strcspn(p + n, "\n"));
	cr_assert_fail("no line \"%s\" in:\n%s", prefix, text);
	return NULL;
}

static void expect_line(const char *text, const char *want)
{
	char *rest = line(text, want);

	cr_expect_str_eq(rest, "", "line \"%s%s\"", want, rest);
	free(rest);
}

static double number_after(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	cr_assert_not_null(p, "no \"%s\" in \"%s\"", key, s);
	return strtod(p + strlen(key), NULL);
}

static void expect_close(double got, double want, const char *what)
{
	double d = got > want ? got - want : want - got, m = want < 0 ? -want : want;

	cr_expect(d <= 1e-9 * (m > 1 ? m : 1), "%s: %.17g, want %.17g", what, got, want);
}

Test(html_browser, draws_names_clicks_searches_sums_and_navigates)
{
	char *t = selftest("selftest&at=3050&search=LOOKUP&search=no_such_function");
	char want[256], *s;

	expect_line(t, "errors 0");
	expect_line(t, "done");
	/* every call of every lane drawn: as a slice or in a block */
	snprintf(want, sizeof(want), "lanes %d", XMODEL_NTHREADS);
	expect_line(t, want);
	expect_line(t, "lane 0 tid 100 calls 7 rows 3 drawn 7 merged 0");
	expect_line(t, "lane 1 tid 101 calls 3 rows 2 drawn 3 merged 0");
	expect_line(t, "lane 2 tid 200 calls 4 rows 3 drawn 4 merged 0");
	/* the names under a time, through the hit test */
	expect_line(t, "at 3050 lane 0: main > handle > lookup</script>&x");
	expect_line(t, "at 3050 lane 1: handle");
	expect_line(t, "at 3050 lane 2: main > send");
	/* a click on main: its details; self = 10000 - 5000 - 2000 */
	expect_line(t, "click main dur 10000 self 3000 panel shows-name");
	/* hovering each depth there: name and duration */
	expect_line(t, "hover 0: main  10.0 us");
	expect_line(t, "hover 1: handle  5.00 us");
	expect_line(t, "hover 2: lookup</script>&x  100 ns");
	expect_line(t, "hover away: hidden");
	/* Enter in the search box: the matching calls in order, in view */
	expect_line(t, "next lookup</script>&x lane 0 start 3000 in_view true");
	expect_line(t, "next lookup</script>&x lane 0 start 3200 in_view true");
	/* shift+drag over two lanes: the calls of those lanes in the range */
	s = line(t, "range ");
	double r0 = strtod(s, NULL), r1 = strtod(strchr(s, ' ') + 1, NULL);
	size_t in_range = 0;
	for (size_t i = 0; i < xmodel_ncalls; i++)
		in_range += xmodel_calls[i].thread < 2 && xmodel_calls[i].end >= r0 && xmodel_calls[i].start <= r1;
	snprintf(want, sizeof(want), " lanes 0,1 calls %zu panel shown", in_range);
	cr_expect(strstr(s, want) != NULL, "range %s, want%s", s, want);
	cr_expect(r0 > 1900 && r0 < 2100 && r1 > 6400 && r1 < 6600, "range %s", s);
	free(s);
	/* search is case-blind; exactly the lookup calls light up */
	snprintf(want, sizeof(want), "search LOOKUP matches %zu highlighted %zu label %zu_calls",
		 xmodel_func_calls(XM_LOOKUP), xmodel_func_calls(XM_LOOKUP), xmodel_func_calls(XM_LOOKUP));
	expect_line(t, want);
	expect_line(t, "search no_such_function matches 0 highlighted 0 label 0_calls");
	/* the whole range, every thread: calls, self and inclusive time */
	snprintf(want, sizeof(want), "summary calls %zu functions %d", xmodel_ncalls, XM_NFUNCS);
	expect_line(t, want);
	expect_line(t, "sum handle calls 4 self 9600 incl 11000");
	expect_line(t, "sum main calls 2 self 6900 incl 19000");
	expect_line(t, "sum send calls 2 self 5000 incl 5100");
	expect_line(t, "sum parse calls 1 self 1000 incl 1000");
	expect_line(t, "sum lookup</script>&x calls 5 self 500 incl 500");

	/* wheel: deltaY -500 zooms in by e^-1, the time under the pointer stays */
	s = line(t, "zoom ");
	expect_close(number_after(s, "span_after ") / number_after(s, "span_before "), 1 / M_E, "zoom ratio");
	expect_close(number_after(s, "anchor_after "), number_after(s, "anchor_before "), "anchor");
	free(s);
	/* after the zoom, each lane draws exactly the calls in view */
	s = line(t, "view ");
	double v0 = strtod(s, NULL), v1 = strtod(strchr(s, ' ') + 1, NULL);
	free(s);
	cr_expect(v0 > 0 && v1 < 10000, "view %g %g", v0, v1);
	for (uint32_t th = 0; th < XMODEL_NTHREADS; th++) {
		size_t n = 0;

		for (size_t i = 0; i < xmodel_ncalls; i++)
			n += xmodel_calls[i].thread == th && xmodel_calls[i].end >= v0 && xmodel_calls[i].start <= v1;
		snprintf(want, sizeof(want), "visible lane %u %zu", th, n);
		expect_line(t, want);
	}
	/* a drag of 100 px to the left moves the view 100 px of time right */
	s = line(t, "drag px 100 ");
	expect_close(number_after(s, "shift "), number_after(s, "expected "), "drag");
	free(s);
	/* A/D pan by 5 % of the view, W/S zoom by 0.9 and back */
	s = line(t, "key d ");
	expect_close(number_after(s, "shift "), 0.05 * number_after(s, "span "), "key d");
	free(s);
	s = line(t, "key w ");
	expect_close(number_after(s, "span_after ") / number_after(s, "span_before "), 0.9, "key w");
	free(s);
	s = line(t, "key s ");
	expect_close(number_after(s, "span_after ") / number_after(s, "span_before "), 1 / 0.9, "key s");
	free(s);
	free(t);
}

/* A damaged page says so instead of drawing nonsense. */
Test(html_browser, damaged_data_is_reported)
{
	FILE *f = fopen(page, "r+");
	char *buf, *p, *t;
	long n;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	p = strstr(buf, "\"calls\":7,");
	cr_assert_not_null(p);
	p[8] = '6';		/* thread 100 now claims 6 calls */
	rewind(f);
	fwrite(buf, 1, (size_t)n, f);
	fclose(f);
	free(buf);

	t = selftest("selftest");
	expect_line(t, "errors 1");
	char *e = line(t, "error thread 100: ");
	cr_expect(strstr(e, "bytes of calls, the page says") != NULL, "%s", e);
	free(e);
	free(t);
}

/*
 * Many calls narrower than a pixel: merged into density blocks, yet each
 * is still counted once, a search still counts the matches inside blocks,
 * and after a zoom the walk over blocks stops exactly at the view's edges.
 */
#define DENSE_TICKS 20000

static void write_dense_page(void)
{
	static struct tread_xproc proc = { .pid = 7, .host = "", .exe = "/bin/dense", .comm = "dense" };
	static struct tread_xthread thr = { .proc = 0, .tid = 7, .name = "dense" };
	static struct tread_xfunc fn[4] = { { .name = "main" }, { .name = "tick" }, { .name = "tock" }, { .name = "slow" } };
	struct tread_xevent *ev = calloc(2 * DENSE_TICKS + 8, sizeof(*ev));
	size_t n = 0;
	char err[256] = "";
	int fd;

#define EV(t, k, f, d) ev[n++] = (struct tread_xevent){ .real_ns = XMODEL_T0 + (t), .kind = (k), .func = (f), .depth = (d) }
	EV(0, TREAD_X_ENTRY, 0, 0);
	for (uint64_t i = 0; i < DENSE_TICKS; i++) {
		uint32_t f = i % 7 ? 1 : 2;

		EV(100 + 40 * i, TREAD_X_ENTRY, f, 1);
		EV(110 + 40 * i, TREAD_X_EXIT, f, 1);
	}
	EV(900000, TREAD_X_ENTRY, 3, 1);
	EV(990000, TREAD_X_EXIT, 3, 1);
	EV(1000000, TREAD_X_EXIT, 0, 0);
#undef EV
	struct tread_xtrace x = { &proc, 1, &thr, 1, fn, 4, ev, n };

	remove_page();	/* the suite's, made first: Criterion runs both .init */
	snprintf(page, sizeof(page), "/tmp/tattach-dense-XXXXXX.html");
	fd = mkstemps(page, 5);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(tread_export_html(&x, page, err, sizeof(err)), 0, "%s", err);
	free(ev);
}

Test(html_browser, dense_calls_merge_into_blocks_and_each_counts_once,
     .init = write_dense_page, .fini = remove_page)
{
	char *t = selftest("selftest&search=tock");
	char want[128], *s;
	size_t tocks = (DENSE_TICKS + 6) / 7;

	expect_line(t, "errors 0");
	/* 20002 calls: main and slow as slices, the ticks in blocks */
	s = line(t, "lane 0 tid 7 calls 20002 rows 2 drawn ");
	unsigned drawn = 0, merged = 0;
	cr_assert_eq(sscanf(s, "%u merged %u", &drawn, &merged), 2, "%s", s);
	cr_expect_eq(drawn + merged, 20002);
	cr_expect(merged >= DENSE_TICKS - 2, "only %u calls merged", merged);
	free(s);
	snprintf(want, sizeof(want), "search tock matches %zu highlighted %zu", tocks, tocks);
	free(line(t, want));
	s = line(t, "view ");
	double v0 = strtod(s, NULL), v1 = strtod(strchr(s, ' ') + 1, NULL);
	size_t in = (v1 >= 0) + (v1 >= 900000 && v0 <= 990000);
	free(s);
	for (uint64_t i = 0; i < DENSE_TICKS; i++)
		in += 110.0 + 40 * i >= v0 && 100.0 + 40 * i <= v1;
	snprintf(want, sizeof(want), "visible lane 0 %zu", in);
	expect_line(t, want);
	free(t);
}

/*
 * tread --html on a real traced process: the demo server handles 40
 * requests (7 traced calls each: handle_request, parse_request, lookup,
 * 3 x hash_key, render_reply) spread over its worker threads.  main()
 * and the DEMO_WORKERS worker() loops were running at --enable: adopted,
 * each is one call per lane, flagged "entered before tracing", still
 * running at the end (which --report leaves out).
 */
#define DEMO_WORKERS 4
#define DEMO_REQUESTS 40

static void html_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/tmp/tattach-html-%d-%s", (int)getpid(), name);
	unlink(buf);
}

/* The calls of @func in tread --report's table (0 when absent). */
static unsigned report_calls(const char *report, const char *func)
{
	for (const char *p = report; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned n;
		char name[128];

		if (sscanf(p, "%u %*f %*f %*f %*f %*f %127s", &n, name) == 2 && !strcmp(name, func))
			return n;
	}
	return 0;
}

Test(html_cli, traced_program_opens_with_every_call, .timeout = 180)
{
	struct target t;
	char path[128], args[200], cmd[32], want[200], *out = NULL, *err = NULL, *report = NULL, *text;
	size_t calls = 0, lanes = 0, total, running, early = 0;

	target_start(&t, build_path("tests/targets/demo"));
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "serve %d", DEMO_REQUESTS);
	cr_assert_str_eq(target_cmd(&t, cmd), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	html_path(path, sizeof(path), "demo.html");
	snprintf(args, sizeof(args), "--html %s", path);
	cr_assert_eq(tread(t.pid, args, &out, &err), 0, "%s", err);
	cr_expect_str_eq(out, "");
	cr_expect_str_eq(err, "");
	free(out);
	free(err);
	/* the same ring as a table, for the counts to compare with */
	cr_assert_eq(tread(t.pid, "--report", &report, &err), 0, "%s", err);
	free(err);
	target_stop(&t);
	cr_assert_eq(sscanf(report, "# %zu calls", &total), 1, "%s", report);
	cr_assert_not_null(strstr(report, "\n# "), "%s", report);
	cr_assert_eq(sscanf(strrchr(report, '#'), "# %zu calls still running", &running), 1,
		     "%s", report);
	cr_assert_eq(running, 1 + DEMO_WORKERS, "%s", report);
	cr_assert_eq(report_calls(report, "handle_request"), DEMO_REQUESTS, "%s", report);

	char why[512] = "";
	text = browser_selftest(path, "selftest&search=hash_key", why, sizeof(why));
	unlink(path);
	cr_assert_not_null(text, "browser: %s", why);
	expect_line(text, "errors 0");
	/* every lane draws all its calls; together they are the workload */
	for (const char *p = strstr(text, "\nlane "); p; p = strstr(p + 1, "\nlane ")) {
		unsigned tid, n, rows, drawn, merged;

		cr_assert_eq(sscanf(p, "\nlane %*u tid %u calls %u rows %u drawn %u merged %u",
				    &tid, &n, &rows, &drawn, &merged), 5, "%.80s", p);
		cr_expect_eq(drawn + merged, n, "thread %u", tid);
		/* main alone, or a worker that served nothing: 1 row */
		cr_expect_eq(rows, n > 1 ? 4u : 1u,
			     "thread %u: worker > handle_request > lookup > hash_key", tid);
		calls += n;
		lanes++;
	}
	cr_expect_eq(lanes, 1 + DEMO_WORKERS, "%zu lanes", lanes);
	/* one adopted call per lane: main() or worker() */
	for (const char *p = strstr(text, "\nentered before tracing lane "); p;
	     p = strstr(p + 1, "\nentered before tracing lane ")) {
		unsigned lane, n;

		cr_assert_eq(sscanf(p, "\nentered before tracing lane %u calls %u", &lane, &n), 2,
			     "%.80s", p);
		cr_expect_eq(n, 1, "lane %u", lane);
		early += n;
	}
	cr_expect_eq(early, 1 + DEMO_WORKERS, "%s", text);
	/* the calls that ended, and the adopted ones, still running */
	cr_expect_eq(calls, total + running);
	/* per function, the page counts what tread --report counts */
	size_t nfuncs = 0;
	for (const char *p = report; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned n;
		char name[128];

		if (sscanf(p, "%u %*f %*f %*f %*f %*f %127s", &n, name) != 2)
			continue;
		snprintf(want, sizeof(want), "sum %s calls %u ", name, n);
		free(line(text, want));
		nfuncs++;
	}
	cr_expect_eq(nfuncs, 5, "%s", report);
	snprintf(want, sizeof(want), "search hash_key matches %u highlighted %u",
		 report_calls(report, "hash_key"), report_calls(report, "hash_key"));
	free(line(text, want));
	cr_expect_gt(report_calls(report, "hash_key"), 0);
	free(report);
	free(text);
}

Test(html_cli, failures_are_one_line_and_write_nothing, .timeout = 120)
{
	struct target t;
	char path[128], args[200], want[300], *out = NULL, *err = NULL;

	/* Only handle_request patched: main() and worker(), running at
	 * --enable, are not traced functions, so nothing is adopted and,
	 * with no request served, the trace has no calls at all. */
	target_start(&t, build_path("tests/targets/demo"));
	cr_assert_eq(tattach(t.pid, "--enable -F handle_request", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);

	/* traced, but nothing was called */
	html_path(path, sizeof(path), "empty.html");
	snprintf(args, sizeof(args), "--html %s", path);
	cr_expect_eq(tread(t.pid, args, &out, &err), 1);
	snprintf(want, sizeof(want), "tread: the trace has no calls: nothing to draw, %s not written\n", path);
	cr_expect_str_eq(err, want);
	cr_expect_neq(access(path, F_OK), 0, "%s was written", path);
	free(out);
	free(err);

	/* a folder that does not exist */
	cr_assert_str_eq(target_cmd(&t, "serve 1"), "done");
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "serve 2"), "done");
	cr_expect_eq(tread(t.pid, "--html /nonexistent-dir/t.html", &out, &err), 1);
	cr_expect_str_eq(err, "tread: /nonexistent-dir/t.html: cannot create: No such file or directory\n");
	free(out);
	free(err);

	/* usage errors: exit 2 */
	cr_expect_eq(tread(t.pid, "--html x.html --report", &out, &err), 2);
	cr_expect(strstr(err, "tread: --html writes a file: it takes no -f, --report or --time\n") == err, "%s", err);
	free(out);
	free(err);
	cr_expect_eq(tread(t.pid, "--html x.html --export chrome -o y.json", &out, &err), 2);
	cr_expect(strstr(err, "tread: --html cannot be used with --export\n") == err, "%s", err);
	free(out);
	free(err);
	cr_expect_eq(access("x.html", F_OK), -1);
	target_stop(&t);
}

/*
 * The page forbids itself any request (Content-Security-Policy): an image
 * from the network slipped into it is refused, and the refusal reported.
 */
Test(html_browser, page_refuses_and_reports_any_request)
{
	static const char img[] = "<img src=\"http://127.0.0.1:9/x.png\">";
	FILE *f = fopen(page, "r");
	char *buf, *end, *t;
	long n;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + sizeof(img));
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	end = strstr(buf, "</body>");
	cr_assert_not_null(end);
	memmove(end + sizeof(img) - 1, end, strlen(end) + 1);
	memcpy(end, img, sizeof(img) - 1);
	f = fopen(page, "w");
	fputs(buf, f);
	fclose(f);
	free(buf);

	t = selftest("selftest");
	expect_line(t, "errors 1");
	expect_line(t, "error blocked img-src http://127.0.0.1:9/x.png");
	free(t);
}

/*
 * Times past 2^32 ns (4.3 s): JavaScript's bit operators are 32-bit, so
 * the page's varint decoder must not use them there.  A 5 s call, then a
 * 1 ns call 7 s in (a start delta of 2 s above 2^32).
 */
static void write_long_page(void)
{
	static struct tread_xproc proc = { .pid = 9, .host = "", .exe = "/bin/long", .comm = "long" };
	static struct tread_xthread thr = { .proc = 0, .tid = 9, .name = "long" };
	static struct tread_xfunc fn[2] = { { .name = "five_seconds" }, { .name = "one_ns" } };
	static struct tread_xevent ev[4] = {
		{ .real_ns = XMODEL_T0, .kind = TREAD_X_ENTRY, .func = 0 },
		{ .real_ns = XMODEL_T0 + 5000000123ULL, .kind = TREAD_X_EXIT, .func = 0 },
		{ .real_ns = XMODEL_T0 + 7000000000ULL + (1ULL << 32), .kind = TREAD_X_ENTRY, .func = 1 },
		{ .real_ns = XMODEL_T0 + 7000000001ULL + (1ULL << 32), .kind = TREAD_X_EXIT, .func = 1 },
	};
	struct tread_xtrace x = { &proc, 1, &thr, 1, fn, 2, ev, 4 };
	char err[256] = "";
	int fd;

	remove_page();	/* the suite's, made first: Criterion runs both .init */
	snprintf(page, sizeof(page), "/tmp/tattach-long-XXXXXX.html");
	fd = mkstemps(page, 5);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(tread_export_html(&x, page, err, sizeof(err)), 0, "%s", err);
}

Test(html_browser, times_beyond_32_bits_decode_exactly, .init = write_long_page, .fini = remove_page)
{
	char *t = selftest("selftest");

	expect_line(t, "errors 0");
	expect_line(t, "lane 0 tid 9 calls 2 rows 1 drawn 1 merged 1");
	expect_line(t, "sum five_seconds calls 1 self 5000000123 incl 5000000123");
	expect_line(t, "sum one_ns calls 1 self 1 incl 1");
	free(t);
}

/*
 * The format grows by columns (docs/viewer.md): a page with the future
 * "args" and "ret" columns (indices into "strings") and a column this
 * viewer does not know still opens, and the details of a call show its
 * arguments and return value.  The columns are added here by rewriting
 * the page, as a newer tread would write it.
 */
static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	for (; v >= 0x80; v >>= 7)
		p[n++] = (unsigned char)(v | 0x80);
	p[n++] = (unsigned char)v;
	return n;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t unbase64(const char *s, unsigned char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *s && *s != '='; s++) {
		const char *d = strchr(b64, *s);

		if (!d || *s == '\n')
			continue;
		acc = acc << 6 | (uint32_t)(d - b64);
		if ((bits += 6) >= 8)
			out[n++] = (unsigned char)(acc >> (bits -= 8));
	}
	return n;
}

static void add_future_columns(void)
{
	FILE *f = fopen(page, "r");
	char *buf, *meta, *meta_end, *calls, *calls_end, *p;
	unsigned char *bin, *nbin;
	size_t nb, nn = 0, off = 0;
	long n;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	meta = strstr(buf, "id=\"tattach-meta\">") + 18;
	meta_end = strstr(meta, "</script>");
	calls = strstr(buf, "id=\"tattach-calls\">") + 19;
	calls_end = strstr(calls, "</script>");
	char *text = strndup(calls, (size_t)(calls_end - calls));
	bin = malloc(strlen(text) + 1);
	nb = unbase64(text, bin);
	free(text);
	nbin = malloc(nb + 64 * xmodel_ncalls);

	/* per thread: its columns, then args, ret and "future" */
	char *newmeta = NULL;
	size_t newlen = 0;
	FILE *m = open_memstream(&newmeta, &newlen);
	const char *q = meta;
	for (uint32_t t = 0; t < XMODEL_NTHREADS; t++) {
		size_t calls_n, bytes, added = 0;

		p = strstr(q, "\"calls\":");
		cr_assert_eq(sscanf(p, "\"calls\":%zu,\"bytes\":%zu", &calls_n, &bytes), 2);
		memcpy(nbin + nn, bin + off, bytes);
		nn += bytes;
		off += bytes;
		for (size_t i = 0; i < calls_n; i++)	/* args: strings[0] for the first call */
			added += put_varint(nbin + nn + added, t == 0 && i == 0 ? 1 : 0);
		for (size_t i = 0; i < calls_n; i++)	/* ret: strings[1] */
			added += put_varint(nbin + nn + added, t == 0 && i == 0 ? 2 : 0);
		for (size_t i = 0; i < calls_n; i++)	/* unknown to this viewer */
			added += put_varint(nbin + nn + added, 300);
		nn += added;
		/* copy the meta up to this thread's byte count, then the new one */
		char *b = strstr(p, "\"bytes\":") + 8;
		fwrite(q, 1, (size_t)(b - q), m);
		fprintf(m, "%zu", bytes + added);
		q = b + strspn(b, "0123456789");
	}
	fwrite(q, 1, (size_t)(meta_end - q), m);
	fclose(m);
	cr_assert_eq(off, nb);

	/* the new column names and their strings */
	static const char old_cols[] = "\"columns\":[\"start\",\"dur\",\"func\",\"depth\",\"flags\"],\"strings\":[]";
	static const char new_cols[] = "\"columns\":[\"start\",\"dur\",\"func\",\"depth\",\"flags\",\"args\",\"ret\",\"future\"],"
		"\"strings\":[\"fd=5, key=\\\"foo\\\"\",\"0\"]";
	p = strstr(newmeta, old_cols);
	cr_assert_not_null(p, "%s", newmeta);

	f = fopen(page, "w");
	fwrite(buf, 1, (size_t)(meta - buf), f);
	fwrite(newmeta, 1, (size_t)(p - newmeta), f);
	fputs(new_cols, f);
	fputs(p + strlen(old_cols), f);
	fputs("</script>\n<script type=\"text/plain\" id=\"tattach-calls\">", f);
	for (size_t i = 0; i < nn; i += 3) {
		uint32_t v = (uint32_t)nbin[i] << 16 | (i + 1 < nn ? nbin[i + 1] << 8 : 0) | (i + 2 < nn ? nbin[i + 2] : 0);

		fputc(b64[v >> 18 & 63], f);
		fputc(b64[v >> 12 & 63], f);
		fputc(i + 1 < nn ? b64[v >> 6 & 63] : '=', f);
		fputc(i + 2 < nn ? b64[v & 63] : '=', f);
	}
	fputs(calls_end, f);	/* </script> and the rest of the page */
	fclose(f);
	free(newmeta);
	free(nbin);
	free(bin);
	free(buf);
}

Test(html_browser, new_columns_show_arguments_and_return_values)
{
	char *t;

	add_future_columns();
	t = selftest("selftest&at=3050");
	expect_line(t, "errors 0");
	expect_line(t, "lane 0 tid 100 calls 7 rows 3 drawn 7 merged 0");
	expect_line(t, "click main dur 10000 self 3000 panel shows-name");
	char *d = line(t, "details ");
	cr_expect(strstr(d, " | arguments=fd=5, key=\"foo\" | return value=0") != NULL, "%s", d);
	free(d);
	free(t);
}
