// SPDX-License-Identifier: MIT
/*
 * The Chrome, folded and flame graph writers on models built by hand
 * (consumer/export/export.h): exact output for small cases, names that
 * need escaping, two processes, an empty trace, and files that always
 * parse (checked with tests/integration/check_export.py, i.e. Python's
 * json and xml.etree; run from the repository root).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/export/export.h"

static char dir[] = "/tmp/test_export_formats.XXXXXX";

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(formats, .init = make_dir, .fini = remove_dir);

static char *slurp(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "%s", path);
	if (getdelim(&text, &len, '\0', f) < 0) {
		cr_assert(feof(f), "%s: read error", path);
		free(text);
		text = strdup("");	/* an empty file */
	}
	fclose(f);
	return text;
}

static const char *path_of(const char *name)
{
	static char p[4][256];
	static int next;
	char *s = p[next++ % 4];

	snprintf(s, 256, "%s/%s", dir, name);
	return s;
}

/* check_export.py's verdict on @file: 0 = parses and checks out. */
static int checked(const char *what, const char *file)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "python3 tests/integration/check_export.py %s %s "
		 ">/dev/null", what, file);
	return system(cmd);
}

#define E(t, th, fn, k, d) { .real_ns = (t), .thread = (th), .func = (fn), .kind = (k), .depth = (d) }

/*
 * Two processes with the same pid (two hosts): main { "quote\"d" { } }
 * on one, a name with invalid UTF-8 and XML specials on the other, an
 * unwound exit and a synthetic one, and a loss.
 */
static struct tread_xproc procs[] = {
	{ .pid = 7, .host = "h1", .exe = "/bin/a", .comm = "a" },
	{ .pid = 7, .host = "h2", .exe = "/bin/b", .comm = "b<&>" },
};
static struct tread_xthread threads[] = {
	{ .proc = 0, .tid = 7, .name = "main" },
	{ .proc = 1, .tid = 7, .name = "" },
};
static struct tread_xfunc funcs[] = {
	{ .name = "main", .proc = 0 },
	{ .name = "quote\"d\\", .proc = 0 },
	{ .name = "bad\xff<&>'utf8", .proc = 1 },
};
static struct tread_xevent events[] = {
	E(1000000000000ull, 0, 0, TREAD_X_ENTRY, 0),
	E(1000000000100ull, 0, 1, TREAD_X_ENTRY, 1),
	E(1000000000150ull, 1, 2, TREAD_X_ENTRY, 0),
	E(1000000001250ull, 0, 1, TREAD_X_EXIT, 1),
	{ .real_ns = 1000000001300ull, .thread = 1, .kind = TREAD_X_LOST, .count = 5 },
	{ .real_ns = 1000000002150ull, .thread = 1, .func = 2, .kind = TREAD_X_EXIT,
	  .unwound = 1 },
	{ .real_ns = 1000000003000ull, .thread = 0, .func = 0, .kind = TREAD_X_EXIT,
	  .synthetic = 1 },
};
static const struct tread_xtrace two = {
	procs, 2, threads, 2, funcs, 3, events, sizeof(events) / sizeof(events[0]),
};

Test(formats, chrome)
{
	char err[256] = "", *text;

	cr_assert_eq(tread_export_chrome(&two, path_of("t.json"), err, sizeof(err)), 0, "%s", err);
	text = slurp(path_of("t.json"));
	cr_assert_str_eq(text,
		"{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"CLOCK_REALTIME\","
		"\"base_ns\":\"1000000000000\",\"writer\":\"tread\"},\n\"traceEvents\":[\n"
		"{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":7,\"tid\":7,\"args\":{\"name\":\"a\"}},\n"
		"{\"ph\":\"M\",\"name\":\"process_labels\",\"pid\":7,\"tid\":7,\"args\":{\"labels\":\"pid 7 on h1\"}},\n"
		"{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1073741825,\"tid\":7,\"args\":{\"name\":\"b<&>\"}},\n"
		"{\"ph\":\"M\",\"name\":\"process_labels\",\"pid\":1073741825,\"tid\":7,\"args\":{\"labels\":\"pid 7 on h2\"}},\n"
		"{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":7,\"tid\":7,\"args\":{\"name\":\"main\"}},\n"
		"{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1073741825,\"tid\":7,\"args\":{\"name\":\"tid 7\"}},\n"
		"{\"ph\":\"X\",\"name\":\"main\",\"cat\":\"function\",\"pid\":7,\"tid\":7,\"ts\":0.000,"
		"\"dur\":3.000,\"args\":{\"end\":\"not traced (exit lost or still running)\"}},\n"
		"{\"ph\":\"X\",\"name\":\"quote\\\"d\\\\\",\"cat\":\"function\",\"pid\":7,\"tid\":7,"
		"\"ts\":0.100,\"dur\":1.150},\n"
		"{\"ph\":\"X\",\"name\":\"bad\xef\xbf\xbd<&>'utf8\",\"cat\":\"function\","
		"\"pid\":1073741825,\"tid\":7,\"ts\":0.150,\"dur\":2.000,\"args\":{\"end\":\"unwound\"}},\n"
		"{\"ph\":\"i\",\"s\":\"t\",\"name\":\"lost 5 events\",\"cat\":\"loss\","
		"\"pid\":1073741825,\"tid\":7,\"ts\":1.300}\n]}\n");
	free(text);
	cr_assert_eq(checked("chrome", path_of("t.json")), 0);
}

/*
 * Calls adopted at --enable (entered before tracing, dated at the enable):
 * main, still running (closed by the collector), and loop, which returned.
 */
static struct tread_xevent adopted_events[] = {
	{ .real_ns = 1000000000000ull, .thread = 0, .func = 0, .kind = TREAD_X_ENTRY,
	  .early = 1 },
	{ .real_ns = 1000000000000ull, .thread = 0, .func = 1, .kind = TREAD_X_ENTRY,
	  .depth = 1, .early = 1 },
	{ .real_ns = 1000000000500ull, .thread = 0, .func = 1, .kind = TREAD_X_EXIT,
	  .depth = 1, .early = 1 },
	{ .real_ns = 1000000002000ull, .thread = 0, .func = 0, .kind = TREAD_X_EXIT,
	  .synthetic = 1, .early = 1 },
};

Test(formats, chrome_marks_calls_entered_before_tracing)
{
	const struct tread_xtrace adopted = {
		procs, 1, threads, 1, funcs, 2, adopted_events,
		sizeof(adopted_events) / sizeof(adopted_events[0]),
	};
	char err[256] = "", *text;

	cr_assert_eq(tread_export_chrome(&adopted, path_of("a.json"), err, sizeof(err)), 0,
		     "%s", err);
	text = slurp(path_of("a.json"));
	cr_assert_not_null(strstr(text,
		"{\"ph\":\"X\",\"name\":\"main\",\"cat\":\"function\",\"pid\":7,\"tid\":7,\"ts\":0.000,"
		"\"dur\":2.000,\"args\":{\"entered_before_tracing\":true,"
		"\"end\":\"not traced (exit lost or still running)\"}},\n"
		"{\"ph\":\"X\",\"name\":\"quote\\\"d\\\\\",\"cat\":\"function\",\"pid\":7,\"tid\":7,"
		"\"ts\":0.000,\"dur\":0.500,\"args\":{\"entered_before_tracing\":true}}\n"), "%s", text);
	free(text);
	cr_assert_eq(checked("chrome", path_of("a.json")), 0);
}

Test(formats, folded)
{
	char err[256] = "", *text;

	cr_assert_eq(tread_export_folded(&two, path_of("t.folded"), err, sizeof(err)), 0,
		     "%s", err);
	text = slurp(path_of("t.folded"));
	/* main: 100 + 1750 ns alone; quote"d\: 1150; the other process's
	 * call: 2000; paths start with the process */
	cr_assert_str_eq(text,
		"a_(pid_7);main 1850\n"
		"a_(pid_7);main;quote\"d\\ 1150\n"
		"b<&>_(pid_7);bad\xff<&>'utf8 2000\n");
	free(text);
}

Test(formats, flamegraph)
{
	char err[256] = "", *text;

	cr_assert_eq(tread_export_flamegraph(&two, path_of("t.svg"), err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(checked("svg", path_of("t.svg")), 0);
	text = slurp(path_of("t.svg"));
	cr_assert_not_null(strstr(text, "data-total-ns=\"5000\" data-hidden-ns=\"0\""));
	cr_assert_not_null(strstr(text, "data-n=\"bad\xef\xbf\xbd&lt;&amp;&gt;&apos;utf8\" "
				  "data-t=\"2000\" data-s=\"2000\" data-d=\"2\""));
	cr_assert_not_null(strstr(text, "data-n=\"quote&quot;d\\\" data-t=\"1150\" "
				  "data-s=\"1150\" data-d=\"3\""));
	cr_assert_not_null(strstr(text, "<title>main (3.000 us, 60.00%)</title>"));
	free(text);
}

Test(formats, an_empty_trace)
{
	struct tread_xtrace empty = { procs, 1, threads, 1, funcs, 0, NULL, 0 };
	char err[256] = "", *text;

	cr_assert_eq(tread_export_chrome(&empty, path_of("e.json"), err, sizeof(err)), 0);
	cr_assert_eq(checked("chrome", path_of("e.json")), 0);
	cr_assert_eq(tread_export_folded(&empty, path_of("e.folded"), err, sizeof(err)), 0);
	text = slurp(path_of("e.folded"));
	cr_assert_str_eq(text, "");
	free(text);
	cr_assert_eq(tread_export_flamegraph(&empty, path_of("e.svg"), err, sizeof(err)), 0);
	text = slurp(path_of("e.svg"));
	cr_assert_not_null(strstr(text, "data-n=\"all\" data-t=\"0\" data-s=\"0\" data-d=\"0\" "
				  "data-x=\"0.000000000000\" data-w=\"1.000000000000\""), "%s", text);
	free(text);
}

Test(formats, a_file_that_cannot_be_written_leaves_nothing)
{
	char err[256] = "", where[300];

	snprintf(where, sizeof(where), "%s/no/such/folder/t.json", dir);
	cr_assert_lt(tread_export_chrome(&two, where, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "t.json: cannot create: No such file or directory"),
			   "%s", err);
	cr_assert_lt(tread_export_flamegraph(&two, dir, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, ": is a folder"), "%s", err);
}
