// SPDX-License-Identifier: MIT
/*
 * --export ctf, read by the real babeltrace2: a model built by hand is
 * exported; babeltrace2 must print every event once, in time order, with
 * its function name, depth, process and thread ids, at the model's
 * CLOCK_REALTIME time to the nanosecond, and report losses.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "consumer/decode/marks.h"
#include "lib/graph_parse.h"
#include "lib/proc_harness.h"
#include "lib/xmodel.h"

#define T0 UINT64_C(1700000000000000000)	/* 2023-11-14T22:13:20Z */
#define MONO0 UINT64_C(5000000000)		/* CLOCK_MONOTONIC at T0 */
#define APP "/opt/demo/app"
#define APP_BASE UINT64_C(0x555555554000)

/* Appending to a long string with its length known (str_append measures
 * it every time, too slow for 30 000 lines). */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = 2 * (b->len + n + 1);
		b->s = realloc(b->s, b->cap);
		cr_assert(b->s);
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

static char *sb_done(struct sbuf *b)
{
	return b->s ? b->s : strdup("");
}

/*
 * One printed event, canonical: "SEC.NSEC PID TID entry|exit NAME DEPTH".
 * babeltrace2 --clock-seconds prints
 *   [1700000000.000001000] (+?.?????????) host:proc:(pid) func_entry:
 *   { vpid = 4242, vtid = 4242, procname = "app", thread_name = "app" },
 *   { addr = 0x..., depth = 0, name = "main" }
 * on one line; anything else on a line makes the parse fail.
 */
static char *canon_line(const char *l, size_t len)
{
	char ts[32], kind[16], name[128], *out = NULL, *line = strndup(l, len);
	const char *ctx, *pay;
	int pid, tid;
	unsigned depth;

	cr_assert(line);
	if (sscanf(line, "[%31[0-9.]]", ts) != 1)
		cr_assert_fail("no time stamp: %s", line);
	ctx = strstr(line, " func_");
	cr_assert(ctx, "no event name: %s", line);
	cr_assert_eq(sscanf(ctx + 1, "%15[a-z_]: { vpid = %d, vtid = %d,", kind, &pid, &tid), 3,
		     "%s", line);
	pay = strstr(ctx, "}, { addr = 0x");
	cr_assert(pay, "no payload: %s", line);
	pay = strstr(pay, "depth = ");
	cr_assert(pay && sscanf(pay, "depth = %u, name = \"%127[^\"]\"", &depth, name) == 2,
		  "%s", line);
	cr_assert(asprintf(&out, "%s %d %d %s %s %u", ts, pid, tid,
			   strcmp(kind, "func_entry") ? "exit" : "entry", name, depth) > 0);
	free(line);
	return out;
}

/* Every event line of babeltrace2's output, canonical, one per line. */
static char *bt_canon(const char *out)
{
	struct sbuf all = { 0 };

	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (len && l[0] == '[') {
			char *c = canon_line(l, len);

			sb_add(&all, c);
			sb_add(&all, "\n");
			free(c);
		}
		l = nl ? nl + 1 : NULL;
	}
	return sb_done(&all);
}

/* What babeltrace2 must print for @x: its events (not losses), by time. */
static char *model_canon(const struct tread_xtrace *x)
{
	struct sbuf all = { 0 };
	char line[256];

	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];
		const struct tread_xthread *t = &x->threads[e->thread];

		if (e->kind == TREAD_X_LOST)
			continue;
		snprintf(line, sizeof(line), "%" PRIu64 ".%09" PRIu64 " %d %d %s %s %u\n",
			 e->real_ns / 1000000000, e->real_ns % 1000000000,
			 (int)x->procs[t->proc].pid, (int)t->tid,
			 e->kind == TREAD_X_ENTRY ? "entry" : "exit",
			 x->funcs[e->func].name, e->depth);
		sb_add(&all, line);
	}
	return sb_done(&all);
}

/* babeltrace2's events (stdout), then its warnings (stderr): captured
 * apart, so a warning never lands inside an event's line. */
static char *babeltrace(const char *opts, const char *dirs)
{
	char *cmd = NULL, *out = NULL, *err = NULL;
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	int st;

	cr_assert(asprintf(&cmd, "babeltrace2 %s %s", opts, dirs) > 0);
	argv[2] = cmd;
	st = run_capture(argv, &out, &err);
	cr_assert_eq(st, 0, "`%s` exited %d: %s", cmd, st, err);
	str_append(&out, err);
	free(err);
	free(cmd);
	return out;
}

static char *export(const struct tread_xtrace *x, const char *dir, const char *name)
{
	char *out = NULL, err[512] = "";
	int ret;

	cr_assert(asprintf(&out, "%s/%s", dir, name) > 0);
	ret = tread_export_ctf(x, out, err, sizeof(err));
	cr_assert_eq(ret, 0, "export failed: %d %s", ret, err);
	return out;
}

/* Two threads of one process, interleaved, no two events at one time
 * across threads (the order of equal times across streams is the
 * reader's choice). */
static void demo(struct xbuild *b)
{
	uint32_t p, t1, t2, fmain, fwork, fleaf;

	p = xb_proc(b, 4242, "hostA", APP, "app", MONO0, T0);
	t1 = xb_thread(b, p, 4242, "app");
	t2 = xb_thread(b, p, 4243, "worker");
	fmain = xb_func(b, p, "main", APP, APP_BASE, APP_BASE + 0x1150);
	fwork = xb_func(b, p, "work", APP, APP_BASE, APP_BASE + 0x1200);
	fleaf = xb_func(b, p, "leaf", APP, APP_BASE, APP_BASE + 0x1250);
	xb_call(b, t1, fmain, T0 + 1000);
	xb_call(b, t1, fwork, T0 + 2000);
	xb_call(b, t1, fleaf, T0 + 3000);
	xb_ret(b, t1, T0 + 4234);
	xb_ret(b, t1, T0 + 7000);
	xb_ret(b, t1, T0 + 10000);
	xb_call(b, t2, fwork, T0 + 2500);
	xb_call(b, t2, fleaf, T0 + 2600);
	xb_ret(b, t2, T0 + 2700);
	xb_ret(b, t2, T0 + 3100);
	xb_finish(b);
}

TestSuite(export_ctf, .timeout = 60);

Test(export_ctf, babeltrace_prints_every_event_in_order)
{
	struct xbuild b = { 0 };
	char *dir = xtmpdir(), *ctf, *out, *got, *want;

	require_client("babeltrace2");
	demo(&b);
	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("--clock-seconds", ctf);
	got = bt_canon(out);
	want = model_canon(&b.x);
	cr_assert_str_eq(got, want, "babeltrace2:\n%s", out);
	/* and the names spelled out, once, by hand */
	cr_assert(strstr(got, "1700000000.000004234 4242 4242 exit leaf 2\n"), "%s", got);
	cr_assert(strstr(got, "1700000000.000002500 4242 4243 entry work 0\n"), "%s", got);
	cr_assert(strstr(out, "thread_name = \"worker\""), "%s", out);
	cr_assert(strstr(out, "hostA:app:(4242) func_entry"), "%s", out);
	cr_assert(strstr(out, "how = ( \"returned\""), "%s", out);
	cr_assert(strstr(out, "name = \"main\", entered = ( \"traced\" : container = 0 )"),
		  "%s", out);
	cr_assert_null(strstr(out, "before_tracing\""), "%s", out);
	free(got);
	free(want);
	free(out);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* Clock values are process 0's CLOCK_MONOTONIC; the offset puts them on
 * CLOCK_REALTIME (wall clock shown in UTC). */
Test(export_ctf, clock_offset_places_monotonic_on_realtime)
{
	struct xbuild b = { 0 };
	char *dir = xtmpdir(), *ctf, *out;

	require_client("babeltrace2");
	demo(&b);
	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("--clock-cycles", ctf);
	/* T0 + 1000 on the wall clock is MONO0 + 1000 on the process's clock */
	cr_assert(!strncmp(out, "[00000000005000001000]", 22), "%s", out);
	free(out);
	out = babeltrace("--clock-gmt", ctf);
	cr_assert(!strncmp(out, "[22:13:20.000001000]", 20), "%s", out);
	free(out);
	out = babeltrace("--clock-gmt --clock-date", ctf);
	cr_assert(!strncmp(out, "[2023-11-14 22:13:20.000001000]", 31), "%s", out);
	free(out);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

Test(export_ctf, one_stream_per_thread)
{
	struct xbuild b = { 0 };
	char *dir = xtmpdir(), *ctf, *cmd = NULL, *out;

	demo(&b);
	ctf = export(&b.x, dir, "ctf");
	cr_assert(asprintf(&cmd, "cd '%s' && ls", ctf) > 0);
	sh_capture(cmd, &out, 1);
	cr_assert_str_eq(out, "metadata\nstream-4242-4242\nstream-4242-4243\n");
	free(out);
	free(cmd);
	cr_assert(asprintf(&cmd, "head -c 13 '%s/metadata'", ctf) > 0);
	sh_capture(cmd, &out, 1);
	cr_assert_str_eq(out, "/* CTF 1.8 */");
	free(out);
	free(cmd);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* A loss: babeltrace2 reports the discarded events where they were. */
Test(export_ctf, losses_become_discarded_events)
{
	struct xbuild b = { 0 };
	uint32_t p, t, fa, fb;
	char *dir = xtmpdir(), *ctf, *out, *got, *want;

	require_client("babeltrace2");
	p = xb_proc(&b, 77, "h", APP, "app", MONO0, T0);
	t = xb_thread(&b, p, 77, "app");
	fa = xb_func(&b, p, "a", APP, APP_BASE, APP_BASE + 0x1000);
	fb = xb_func(&b, p, "b", APP, APP_BASE, APP_BASE + 0x1100);
	xb_call(&b, t, fa, T0 + 10);
	xb_call(&b, t, fb, T0 + 20);
	xb_ret_synthetic(&b, t, T0 + 30);
	xb_ret_synthetic(&b, t, T0 + 30);
	xb_lost(&b, t, T0 + 30, 123);
	xb_call(&b, t, fb, T0 + 40);
	xb_ret(&b, t, T0 + 50);
	xb_lost(&b, t, T0 + 60, 4);
	xb_finish(&b);
	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("--clock-seconds", ctf);
	got = bt_canon(out);
	want = model_canon(&b.x);
	cr_assert_str_eq(got, want, "%s", out);
	cr_assert(strstr(out, "WARNING: Tracer discarded 123 events between "
			      "[1700000000.000000030] and [1700000000.000000050]"), "%s", out);
	/* a loss at the very end still counts */
	cr_assert(strstr(out, "WARNING: Tracer discarded 4 events between "
			      "[1700000000.000000050] and [1700000000.000000060]"), "%s", out);
	cr_assert(strstr(out, "how = ( \"closed\""), "%s", out);
	free(got);
	free(want);
	free(out);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/*
 * Two processes exported separately (two CTF folders, their own clocks
 * and UUIDs) and given together to babeltrace2: one time line.  A sends
 * (send) and B handles (handle) alternately, 1 us apart.
 */
Test(export_ctf, two_exports_interleave_by_time)
{
	struct xbuild a = { 0 }, b = { 0 }, both = { 0 };
	char *dir = xtmpdir(), *ca, *cb, *dirs = NULL, *out, *got, *want;
	uint32_t pa, pb, ta, tb, fs, fh, qa, qb, qta, qtb, qs, qh;

	require_client("babeltrace2");
	/* Different boot times: their monotonic clocks disagree by hours. */
	pa = xb_proc(&a, 500, "hostA", "/bin/a", "a", 1000000000, T0);
	pb = xb_proc(&b, 600, "hostB", "/bin/b", "b", 9000000000000, T0);
	ta = xb_thread(&a, pa, 500, "a");
	tb = xb_thread(&b, pb, 600, "b");
	fs = xb_func(&a, pa, "send", "/bin/a", 0x400000, 0x401000);
	fh = xb_func(&b, pb, "handle", "/bin/b", 0x400000, 0x402000);
	/* the same calls in one model, for the expected output */
	qa = xb_proc(&both, 500, "hostA", "/bin/a", "a", 0, 0);
	qb = xb_proc(&both, 600, "hostB", "/bin/b", "b", 0, 0);
	qta = xb_thread(&both, qa, 500, "a");
	qtb = xb_thread(&both, qb, 600, "b");
	qs = xb_func(&both, qa, "send", "/bin/a", 0x400000, 0x401000);
	qh = xb_func(&both, qb, "handle", "/bin/b", 0x400000, 0x402000);
	for (uint64_t i = 0; i < 5; i++) {
		uint64_t t = T0 + i * 2000;

		xb_call(&a, ta, fs, t);
		xb_ret(&a, ta, t + 400);
		xb_call(&b, tb, fh, t + 1000);
		xb_ret(&b, tb, t + 1600);
		xb_call(&both, qta, qs, t);
		xb_ret(&both, qta, t + 400);
		xb_call(&both, qtb, qh, t + 1000);
		xb_ret(&both, qtb, t + 1600);
	}
	xb_finish(&a);
	xb_finish(&b);
	xb_finish(&both);
	ca = export(&a.x, dir, "a.ctf");
	cb = export(&b.x, dir, "b.ctf");
	cr_assert(asprintf(&dirs, "%s %s", cb, ca) > 0);
	out = babeltrace("--clock-seconds", dirs);
	got = bt_canon(out);
	want = model_canon(&both.x);
	cr_assert_str_eq(got, want, "%s", out);
	free(got);
	free(want);
	free(out);
	free(dirs);
	free(ca);
	free(cb);
	xrmdir(dir);
	free(dir);
	xb_free(&a);
	xb_free(&b);
	xb_free(&both);
}

/* More events than one packet holds, on three threads. */
Test(export_ctf, many_packets_stay_in_order)
{
	struct xbuild b = { 0 };
	uint32_t p, t[3], f[3];
	char *dir = xtmpdir(), *ctf, *out, *got, *want, *cmd = NULL;

	require_client("babeltrace2");
	p = xb_proc(&b, 900, "h", APP, "app", MONO0, T0);
	for (int i = 0; i < 3; i++) {
		t[i] = xb_thread(&b, p, 900 + i, "w");
		f[i] = xb_func(&b, p, i == 0 ? "f0" : i == 1 ? "f1" : "f2", APP, APP_BASE,
			       APP_BASE + 0x1000 + 0x100 * (uint64_t)i);
	}
	for (uint64_t n = 0; n < 5000; n++) {
		for (int i = 0; i < 3; i++) {
			uint64_t at = T0 + n * 100 + (uint64_t)i * 30;

			xb_call(&b, t[i], f[i], at);
			xb_ret(&b, t[i], at + 10);
		}
	}
	xb_finish(&b);
	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("--clock-seconds", ctf);
	got = bt_canon(out);
	want = model_canon(&b.x);
	cr_assert(!strcmp(got, want), "babeltrace2 output differs (%zu vs %zu bytes)",
		  strlen(got), strlen(want));
	cr_assert(!strstr(out, "WARNING"), "%.2000s", out);
	free(got);
	free(want);
	free(out);
	/* each thread's 10000 events took several packets */
	cr_assert(asprintf(&cmd, "babeltrace2 -c sink.text.details '%s' | "
			   "grep -c 'Packet beginning'", ctf) > 0);
	sh_capture(cmd, &out, 1);
	cr_assert_geq(atoi(out), 6, "%s", out);
	free(out);
	free(cmd);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* Names a TSDL string must escape; a process with no events. */
Test(export_ctf, odd_names_and_empty_threads)
{
	struct xbuild b = { 0 };
	uint32_t p, t, f;
	char *dir = xtmpdir(), *ctf, *out;

	require_client("babeltrace2");
	p = xb_proc(&b, 31, "we\"ird\\host", "/opt/x \"y\"", "x\"y", MONO0, T0);
	t = xb_thread(&b, p, 31, "t\"1");
	xb_thread(&b, p, 32, "idle");
	f = xb_func(&b, p, "operator\"\"_x", "/opt/x \"y\"", APP_BASE, APP_BASE + 0x10);
	xb_call(&b, t, f, T0 + 5);
	xb_ret(&b, t, T0 + 6);
	xb_finish(&b);
	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("", ctf);
	cr_assert(strstr(out, "name = \"operator\\\"\\\"_x\""), "%s", out);
	cr_assert(strstr(out, "thread_name = \"t\\\"1\""), "%s", out);
	free(out);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

Test(export_ctf, refuses_a_folder_that_is_not_empty)
{
	struct xbuild b = { 0 };
	char *dir = xtmpdir(), *ctf = NULL, *cmd = NULL, *out, err[512] = "";

	demo(&b);
	cr_assert(asprintf(&ctf, "%s/ctf", dir) > 0);
	cr_assert_eq(mkdir(ctf, 0755), 0);
	cr_assert(asprintf(&cmd, "touch '%s/metadata'", ctf) > 0);
	sh_capture(cmd, NULL, 1);
	cr_assert_eq(tread_export_ctf(&b.x, ctf, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "ctf export: folder '") &&
		  strstr(err, "exists and is not empty"), "%s", err);
	free(cmd);
	/* nothing next to it, nothing more in it, the file untouched */
	cr_assert(asprintf(&cmd, "ls -A '%s'; ls -A '%s'; stat -c %%s '%s/metadata'",
			   dir, ctf, ctf) > 0);
	sh_capture(cmd, &out, 1);
	cr_assert_str_eq(out, "ctf\nmetadata\n0\n");
	free(out);
	free(cmd);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* A tid reused within a process gets a second stream; an exit ended by
 * longjmp says so, and so does the entry of a call adopted at --enable. */
Test(export_ctf, reused_tid_and_unwound_exit)
{
	struct xbuild b = { 0 };
	uint32_t p, t1, t2, f, g;
	char *dir = xtmpdir(), *ctf, *out, *got, *want, *cmd = NULL;

	require_client("babeltrace2");
	p = xb_proc(&b, 600, "h", APP, "app", MONO0, T0);
	t1 = xb_thread(&b, p, 601, "first");
	t2 = xb_thread(&b, p, 601, "second");
	f = xb_func(&b, p, "early", APP, APP_BASE, APP_BASE + 0x1000);
	g = xb_func(&b, p, "late", APP, APP_BASE, APP_BASE + 0x1100);
	xb_call(&b, t1, f, T0 + 1);
	b.x.events[b.x.nevents - 1].early = 1;	/* adopted at --enable */
	xb_ret(&b, t1, T0 + 2);
	b.x.events[b.x.nevents - 1].unwound = 1;
	xb_call(&b, t2, g, T0 + 3);
	xb_ret(&b, t2, T0 + 4);
	xb_finish(&b);
	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("--clock-seconds", ctf);
	got = bt_canon(out);
	want = model_canon(&b.x);
	cr_assert_str_eq(got, want, "%s", out);
	cr_assert(strstr(out, "name = \"early\", how = ( \"unwound\" : container = 1 )"),
		  "%s", out);
	cr_assert(strstr(out, "name = \"early\", entered = ( \"before_tracing\" : container = 1 )"),
		  "%s", out);
	cr_assert(strstr(out, "name = \"late\", entered = ( \"traced\" : container = 0 )"),
		  "%s", out);
	cr_assert(strstr(out, "thread_name = \"second\""), "%s", out);
	free(out);
	cr_assert(asprintf(&cmd, "ls '%s'", ctf) > 0);
	sh_capture(cmd, &out, 1);
	cr_assert_str_eq(out, "metadata\nstream-600-601\nstream-600-601-1\n");
	free(out);
	free(cmd);
	free(got);
	free(want);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* A call that --disable cut loose while it was still running ends as
 * "closed" (tread closed it there), not as "returned". */
Test(export_ctf, call_cut_loose_at_disable_is_closed)
{
	struct xbuild b = { 0 };
	uint32_t p, t, f;
	char *dir = xtmpdir(), *ctf, *out;

	require_client("babeltrace2");
	p = xb_proc(&b, 700, "h", APP, "app", MONO0, T0);
	t = xb_thread(&b, p, 701, "main");
	f = xb_func(&b, p, "loop", APP, APP_BASE, APP_BASE + 0x1000);
	xb_call(&b, t, f, T0 + 1);
	xb_ret(&b, t, T0 + 2);
	b.x.events[b.x.nevents - 1].cut = 1;
	xb_finish(&b);
	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("--clock-seconds", ctf);
	cr_assert(strstr(out, "name = \"loop\", how = ( \"closed\" : container = 2 )"),
		  "%s", out);
	free(out);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* A write that fails half way (the file size limit, as a full disk
 * would): one line, and nothing is left. */
Test(export_ctf, failed_write_leaves_nothing)
{
	struct rlimit small = { 64 * 1024, 64 * 1024 };
	struct xbuild b = { 0 };
	uint32_t p, t, f;
	char *dir = xtmpdir(), *ctf = NULL, *cmd = NULL, *out, err[512] = "";

	p = xb_proc(&b, 800, "h", APP, "app", MONO0, T0);
	t = xb_thread(&b, p, 800, "app");
	f = xb_func(&b, p, "f", APP, APP_BASE, APP_BASE + 0x1000);
	for (uint64_t i = 0; i < 20000; i++) {
		xb_call(&b, t, f, T0 + 2 * i);
		xb_ret(&b, t, T0 + 2 * i + 1);
	}
	xb_finish(&b);
	cr_assert(asprintf(&ctf, "%s/c", dir) > 0);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	cr_assert_eq(tread_export_ctf(&b.x, ctf, err, sizeof(err)), -EFBIG, "%s", err);
	cr_assert(strstr(err, "/c/stream-800-800': File too large"), "%s", err);
	cr_assert(!strchr(err, '\n'), "%s", err);
	cr_assert(asprintf(&cmd, "ls -A '%s' | wc -l", dir) > 0);
	sh_capture(cmd, &out, 1);
	cr_assert_str_eq(out, "0\n");
	free(out);
	free(cmd);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* A stream that starts with a loss, and one that holds nothing else:
 * babeltrace2 still says how many events were lost. */
Test(export_ctf, loss_at_the_start_of_a_stream)
{
	struct xbuild b = { 0 };
	uint32_t p, t1, t2, t3, f;
	char *dir = xtmpdir(), *ctf, *out, *got, *want;

	require_client("babeltrace2");
	p = xb_proc(&b, 88, "h", APP, "app", MONO0, T0);
	t1 = xb_thread(&b, p, 88, "app");
	t2 = xb_thread(&b, p, 89, "idle");
	f = xb_func(&b, p, "main", APP, APP_BASE, APP_BASE + 0x1000);
	xb_lost(&b, t1, T0 + 500, 9);
	xb_call(&b, t1, f, T0 + 1000);
	xb_ret(&b, t1, T0 + 2000);
	xb_lost(&b, t2, T0 + 700, 4);
	/* a loss the collector could not date (time 0) before t3's first call */
	t3 = xb_thread(&b, p, 90, "late");
	xb_lost(&b, t3, 0, 6);
	xb_call(&b, t3, f, T0 + 3000);
	xb_ret(&b, t3, T0 + 4000);
	xb_finish(&b);
	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("--clock-seconds", ctf);
	got = bt_canon(out);
	want = model_canon(&b.x);
	cr_assert_str_eq(got, want, "%s", out);
	cr_assert(strstr(out, "WARNING: Tracer discarded 9 events between "
			      "[1700000000.000000500] and [1700000000.000002000]"), "%s", out);
	cr_assert(strstr(out, "WARNING: Tracer discarded 4 events between "
			      "[1700000000.000000700] and [1700000000.000000700]"), "%s", out);
	cr_assert(strstr(out, "WARNING: Tracer discarded 6 events between "
			      "[1700000000.000003000] and [1700000000.000004000]"), "%s", out);
	/* and the clock still counts process 88's CLOCK_MONOTONIC */
	free(out);
	out = babeltrace("--clock-cycles", ctf);
	cr_assert(strstr(out, "[00000000005000001000] (+\?\?\?\?\?\?\?\?\?\?\?\?) h:app:(88) func_entry"),
		  "%s", out);
	free(got);
	free(want);
	free(out);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/*
 * Random call trees (fixed seed) on three threads of two processes, with
 * losses that close every open call and exits ended by longjmp:
 * babeltrace2 prints every event of the model once, in time order, and
 * reports every loss with its count.
 */
Test(export_ctf, random_trees_print_exactly)
{
	static const char *const names[] = { "alpha", "beta", "gamma", "delta", "epsilon",
					     "zeta", "eta", "theta" };
	struct xbuild b = { 0 };
	uint32_t p[2], t[3], f[2][8];
	unsigned seed = 4242;
	uint64_t now = T0, lost = 0;
	char *dir = xtmpdir(), *ctf, *out, *got, *want;
	size_t nlost = 0, reported = 0;

	require_client("babeltrace2");
	p[0] = xb_proc(&b, 1000, "h", APP, "app", MONO0, T0);
	p[1] = xb_proc(&b, 2000, "h", "/opt/other", "other", MONO0, T0);
	t[0] = xb_thread(&b, p[0], 1000, "app");
	t[1] = xb_thread(&b, p[0], 1001, "app2");
	t[2] = xb_thread(&b, p[1], 2000, "other");
	for (int pi = 0; pi < 2; pi++) {
		for (int i = 0; i < 8; i++)
			f[pi][i] = xb_func(&b, p[pi], names[i], pi ? "/opt/other" : APP, APP_BASE,
					   APP_BASE + 0x1000 + 0x40 * (uint64_t)i);
	}
	for (int n = 0; n < 12000; n++) {
		uint32_t th = t[rand_r(&seed) % 3];
		int r = rand_r(&seed) % 100;

		/* distinct times, so the order across streams is the model's */
		now += 1 + (uint64_t)(rand_r(&seed) % 500);
		if (r < 1 && b.height[th]) {
			uint64_t count = 1 + (uint64_t)(rand_r(&seed) % 50);

			while (b.height[th])
				xb_ret_synthetic(&b, th, now);
			xb_lost(&b, th, now, count);
			lost += count;
			nlost++;
		} else if (r < 52 && b.height[th] < 40) {
			xb_call(&b, th, f[th == t[2]][rand_r(&seed) % 8], now);
		} else if (b.height[th]) {
			xb_ret(&b, th, now);
			if (r > 97)
				b.x.events[b.x.nevents - 1].unwound = 1;
		}
	}
	for (int i = 0; i < 3; i++) {
		while (b.height[t[i]])
			xb_ret_synthetic(&b, t[i], ++now);
	}
	xb_finish(&b);
	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("--clock-seconds", ctf);
	got = bt_canon(out);
	want = model_canon(&b.x);
	cr_assert(!strcmp(got, want), "babeltrace2 differs from the model (%zu vs %zu bytes)",
		  strlen(got), strlen(want));
	/* every loss reported, with its count */
	for (const char *l = strstr(out, "WARNING: Tracer discarded "); l;
	     l = strstr(l + 1, "WARNING: Tracer discarded ")) {
		reported += strtoull(l + strlen("WARNING: Tracer discarded "), NULL, 10);
		nlost--;
	}
	cr_assert_eq(nlost, 0);
	cr_assert_eq(reported, lost);
	free(got);
	free(want);
	free(out);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}

/* The payload of babeltrace2's line @n (0 first): from "}, { " on. */
static char *payload(const char *out, int n)
{
	const char *l = out, *p, *nl;

	for (int i = 0; i < n && l; i++) {
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	cr_assert(l && *l, "no line %d:\n%s", n, out);
	nl = strchr(l, '\n');
	p = strstr(l, "}, { ");
	cr_assert(p && (!nl || p < nl), "line %d:\n%s", n, out);
	return strndup(p + 3, nl ? (size_t)(nl - p - 3) : strlen(p + 3));
}

/*
 * tattach -A/-R values and <tattach/mark.h> marks:
 *   main { put("a=1, s=\"x\"") = "0"  leaf  label_hook [label "worker 0"]
 *          counter_hook [counter queue = -5]  mark_hook [mark "cache miss"] }
 * A call without values has no "args"/"retval" field at all (an empty
 * string would show the last one babeltrace2 2.0 read: leaf after put).
 */
Test(export_ctf, values_and_marks)
{
	struct xbuild b = { 0 };
	char *dir = xtmpdir(), *ctf, *out, *got;
	uint32_t p, t, fmain, fput, fleaf, flab, fcnt, fmark;
	static const char *const want[] = {
		"{ addr = 0x555555555150, depth = 0, name = \"main\", entered = ( \"traced\" : container = 0 ) }",
		"{ addr = 0x555555555200, depth = 1, name = \"put\", entered = ( \"traced\" : container = 0 ), args = \"a=1, s=\\\"x\\\"\" }",
		"{ addr = 0x555555555200, depth = 1, name = \"put\", how = ( \"returned\" : container = 0 ), retval = \"0\" }",
		"{ addr = 0x555555555250, depth = 1, name = \"leaf\", entered = ( \"traced\" : container = 0 ) }",
		"{ addr = 0x555555555250, depth = 1, name = \"leaf\", how = ( \"returned\" : container = 0 ) }",
		"{ addr = 0x555555555300, depth = 1, name = \"tattach_label_hook\", entered = ( \"traced\" : container = 0 ), args = \"text=\\\"worker 0\\\"\" }",
		"{ text = \"worker 0\" }",
		"{ addr = 0x555555555300, depth = 1, name = \"tattach_label_hook\", how = ( \"returned\" : container = 0 ) }",
		"{ addr = 0x555555555350, depth = 1, name = \"tattach_counter_hook\", entered = ( \"traced\" : container = 0 ), args = \"name=\\\"queue\\\", value=-5\" }",
		"{ name = \"queue\", value = -5 }",
		"{ addr = 0x555555555350, depth = 1, name = \"tattach_counter_hook\", how = ( \"returned\" : container = 0 ) }",
		"{ addr = 0x555555555400, depth = 1, name = \"tattach_mark_hook\", entered = ( \"traced\" : container = 0 ), args = \"text=\\\"cache miss\\\"\" }",
		"{ text = \"cache miss\" }",
		"{ addr = 0x555555555400, depth = 1, name = \"tattach_mark_hook\", how = ( \"returned\" : container = 0 ) }",
		"{ addr = 0x555555555150, depth = 0, name = \"main\", how = ( \"returned\" : container = 0 ) }",
	};
	static const char *const kinds[] = { "func_entry", "func_entry", "func_exit",
		"func_entry", "func_exit", "func_entry", "label", "func_exit", "func_entry",
		"counter", "func_exit", "func_entry", "mark", "func_exit", "func_exit" };

	require_client("babeltrace2");
	p = xb_proc(&b, 4242, "hostA", APP, "app", MONO0, T0);
	t = xb_thread(&b, p, 4242, "app");
	fmain = xb_func(&b, p, "main", APP, APP_BASE, APP_BASE + 0x1150);
	fput = xb_func(&b, p, "put", APP, APP_BASE, APP_BASE + 0x1200);
	fleaf = xb_func(&b, p, "leaf", APP, APP_BASE, APP_BASE + 0x1250);
	flab = xb_func(&b, p, "tattach_label_hook", APP, APP_BASE, APP_BASE + 0x1300);
	fcnt = xb_func(&b, p, "tattach_counter_hook", APP, APP_BASE, APP_BASE + 0x1350);
	fmark = xb_func(&b, p, "tattach_mark_hook", APP, APP_BASE, APP_BASE + 0x1400);
	xb_call(&b, t, fmain, T0 + 1000);
	xb_call(&b, t, fput, T0 + 2000);
	xb_ret(&b, t, T0 + 2100);
	xb_call(&b, t, fleaf, T0 + 3000);
	xb_ret(&b, t, T0 + 3100);
	xb_call(&b, t, flab, T0 + 4000);
	xb_ret(&b, t, T0 + 4100);
	xb_call(&b, t, fcnt, T0 + 5000);
	xb_ret(&b, t, T0 + 5100);
	xb_call(&b, t, fmark, T0 + 6000);
	xb_ret(&b, t, T0 + 6100);
	xb_ret(&b, t, T0 + 7000);
	xb_finish(&b);
	b.x.events[1].args = "a=1, s=\"x\"";
	b.x.events[2].ret = "0";
	b.x.events[5].args = "text=\"worker 0\"";
	b.x.events[5].mark = TREAD_MARK_LABEL;
	b.x.events[5].text = "worker 0";
	b.x.events[7].args = "name=\"queue\", value=-5";
	b.x.events[7].mark = TREAD_MARK_COUNTER;
	b.x.events[7].text = "queue";
	b.x.events[7].value = -5;
	b.x.events[9].args = "text=\"cache miss\"";
	b.x.events[9].mark = TREAD_MARK_MARK;
	b.x.events[9].text = "cache miss";

	ctf = export(&b.x, dir, "ctf");
	out = babeltrace("--clock-seconds", ctf);
	for (int i = 0; i < (int)(sizeof(want) / sizeof(want[0])); i++) {
		const char *l = out;
		char kind[32];

		got = payload(out, i);
		cr_expect_str_eq(got, want[i], "line %d:\n%s", i, out);
		free(got);
		for (int k = 0; k < i; k++)
			l = strchr(l, '\n') + 1;
		snprintf(kind, sizeof(kind), ") %s: ", kinds[i]);
		cr_expect(strstr(l, kind) && strstr(l, kind) < strchr(l, '\n'), "line %d: %s\n%s",
			  i, kind, out);
	}
	{
		size_t lines = 0;

		for (const char *l = out; (l = strchr(l, '\n')); l++)
			lines++;
		cr_assert_eq(lines, sizeof(want) / sizeof(want[0]), "%s", out);
	}
	free(out);
	free(ctf);
	xrmdir(dir);
	free(dir);
	xb_free(&b);
}
