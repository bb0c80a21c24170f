// SPDX-License-Identifier: MIT
/*
 * Calls already running when tracing begins: a worker blocked in
 * worker_main() -> main_loop() -> handle() -> read(pipe) at --enable.
 * Their returns must be traced, shown as entered before tracing; and
 * --stacks must name every frame, before and after --enable.  A --disable
 * while they still run gives them their return addresses back: closed
 * "still running at --disable", their real returns write nothing, and a
 * later --enable adopts them again.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"
#include "lib/tramp_scan.h"

static struct target t;
static int worker;

static void start(void)
{
	target_start(&t, build_path("tests/targets/stuck"));
	ring_remove(t.pid);
	cr_assert(sscanf(target_cmd(&t, "tid"), "done %d", &worker) == 1);
}

static void stop(void)
{
	if (t.pid > 0) {
		pid_t pid = t.pid;

		cr_expect_eq(WEXITSTATUS(target_stop(&t)), 0);
		ring_remove(pid);
	}
}

TestSuite(running, .init = start, .fini = stop, .timeout = 120);

/* The lines of "TID @tid:" in --stacks output, up to the next thread. */
static char *thread_stack(const char *out, int tid)
{
	char head[32], *from, *end, *s;

	snprintf(head, sizeof(head), "TID %d:\n", tid);
	from = strstr(out, head);
	cr_assert_not_null(from, "%s", out);
	end = strstr(from + 1, "\nTID ");
	s = strndup(from, end ? (size_t)(end - from) : strlen(from));
	cr_assert_not_null(s);
	return s;
}

/* The frame line of @fn in @stack ("#N  0x... fn+0x..."), or NULL. */
static const char *frame_of(const char *stack, const char *fn)
{
	char pat[64];

	snprintf(pat, sizeof(pat), " %s+0x", fn);
	return strstr(stack, pat);
}

static int traced_mark(const char *line)
{
	const char *eol = strchr(line, '\n');
	const char *mark = strstr(line, "[traced]");

	return mark && (!eol || mark < eol);
}

Test(running, blocked_calls_close_with_their_real_returns)
{
	char *out = NULL, *err = NULL, *got;

	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	/* main(), and the worker's three */
	cr_assert(strstr(out, "4 calls already running"), "%s", out);
	free(out);
	cr_assert_str_eq(target_cmd(&t, "poke"), "done 1");
	cr_assert_str_eq(target_cmd(&t, "stop"), "done 1");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon_early(out, worker);
	cr_assert_str_eq(got, "^worker_main(^main_loop(^handle(work) handle))", "%s", out);
	cr_assert_null(strstr(out, "not traced"), "%s", out);
	cr_assert_null(strstr(out, "exit lost"), "%s", out);
	free(got);
	free(out);
	/* the report counts the calls that returned, once each */
	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	cr_assert_eq(report_calls(out, "handle"), 2, "%s", out);
	cr_assert_eq(report_calls(out, "main_loop"), 1, "%s", out);
	free(out);
	free(err);
}

Test(running, stacks_name_the_frames_traced_or_not)
{
	char args[32], *out = NULL, *err = NULL, *st;

	snprintf(args, sizeof(args), "--stacks");
	cr_assert_eq(tattach(t.pid, args, &out, &err), 0, "%s", err);
	st = thread_stack(out, worker);
	cr_assert(frame_of(st, "read") && frame_of(st, "handle") &&
		  frame_of(st, "main_loop") && frame_of(st, "worker_main"), "%s", out);
	cr_assert(frame_of(st, "read") < frame_of(st, "handle") &&
		  frame_of(st, "handle") < frame_of(st, "main_loop") &&
		  frame_of(st, "main_loop") < frame_of(st, "worker_main"), "%s", st);
	cr_assert_null(strstr(out, "[traced]"), "%s", out);
	free(st);
	free(out);

	/* traced: the walk goes on through the hijacked returns */
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	cr_assert_eq(tattach(t.pid, args, &out, &err), 0, "%s", err);
	st = thread_stack(out, worker);
	cr_assert(frame_of(st, "worker_main"), "%s", out);
	cr_assert(!traced_mark(frame_of(st, "read")), "%s", st);
	cr_assert(traced_mark(frame_of(st, "handle")), "%s", st);
	cr_assert(traced_mark(frame_of(st, "main_loop")), "%s", st);
	cr_assert(traced_mark(frame_of(st, "worker_main")), "%s", st);
	free(st);
	free(out);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	/* and the program runs on unharmed */
	cr_assert_str_eq(target_cmd(&t, "poke"), "done 1");
	cr_assert_str_eq(target_cmd(&t, "stop"), "done 1");
}

static char *graph_of(pid_t pid)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tread(pid, "", &out, &err), 0, "%s", err);
	free(err);
	return out;
}

Test(running, blocked_across_enable_disable_then_returns)
{
	char *out = NULL, *err = NULL, *before, *after, *got, where[256];

	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "4 calls already running"), "%s", out);
	free(out);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	/* main(), and the worker's three, blocked in read() all along */
	cr_assert(strstr(out, "4 calls still running now return straight to their callers"),
		  "%s", out);
	free(out);
	cr_assert_eq(tramp_scan_stacks(t.pid, where, sizeof(where)), 0, "%s", where);
	cr_assert_eq(tramp_scan_got(t.pid, where, sizeof(where)), 0, "%s", where);
	before = graph_of(t.pid);
	/* handle() returns, straight to main_loop(), which calls it again */
	cr_assert_str_eq(target_cmd(&t, "poke"), "done 1");
	after = graph_of(t.pid);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);

	/* adopted again: the new handle() too */
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "4 calls already running"), "%s", out);
	free(out);
	cr_assert_str_eq(target_cmd(&t, "poke"), "done 2");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "4 calls still running"), "%s", out);
	free(out);
	cr_assert_eq(tramp_scan_stacks(t.pid, where, sizeof(where)), 0, "%s", where);
	cr_assert_str_eq(target_cmd(&t, "poke"), "done 3");

	out = graph_of(t.pid);
	got = graph_canon_early(out, worker);
	cr_assert_str_eq(got, "^worker_main(^main_loop(^handle(!)!)!) "
			      "^worker_main(^main_loop(^handle(work) handle(!)!)!)", "%s", out);
	free(got);
	got = graph_canon_early(out, t.pid);
	cr_assert_str_eq(got, "^main(!) ^main(!)", "%s", out);
	free(got);
	cr_assert_null(strstr(out, "not traced"), "%s", out);
	cr_assert_null(strstr(out, "exit lost"), "%s", out);
	free(out);
	free(err);
}

/*
 * libc upgraded on disk while the process runs (here a copy of it, loaded
 * through LD_LIBRARY_PATH, then replaced by a new file: the mapping reads
 * "libc.so.6 (deleted)").  libunwind's own accessors open that path and
 * find nothing, and every walk stopped at the first libc frame: --stacks
 * showed "read" and "??" only, and no call running at --enable was
 * adopted.  The tables in the process's memory and the file mapped serve
 * instead (attach/process/replaced_code.c).
 */
Test(running_replaced, libc_replaced_on_disk_still_unwinds, .timeout = 120)
{
	char dir[] = "/tmp/tattach-libc-XXXXXX", *out = NULL, *err = NULL, *st, *got;
	struct target r;
	int tid;

	cr_assert(mkdtemp(dir));
	shell("cp \"$(ldd %s | awk '/libc.so.6/ { print $3 }')\" %s/",
	      build_path("tests/targets/stuck"), dir);
	cr_assert_eq(setenv("LD_LIBRARY_PATH", dir, 1), 0);
	target_start(&r, build_path("tests/targets/stuck"));
	unsetenv("LD_LIBRARY_PATH");
	ring_remove(r.pid);
	cr_assert(sscanf(target_cmd(&r, "tid"), "done %d", &tid) == 1);
	shell("cd %s && cp libc.so.6 new && mv new libc.so.6", dir);
	/* libc mapped from the copy, now replaced */
	shell("grep -q '%s/libc.so.6 (deleted)' /proc/%d/maps", dir, (int)r.pid);

	cr_assert_eq(tattach(r.pid, "--stacks", &out, &err), 0, "%s", err);
	st = thread_stack(out, tid);
	cr_assert(frame_of(st, "read") && frame_of(st, "handle") &&
		  frame_of(st, "main_loop") && frame_of(st, "worker_main"), "%s", out);
	cr_assert(frame_of(st, "read") < frame_of(st, "handle") &&
		  frame_of(st, "handle") < frame_of(st, "main_loop") &&
		  frame_of(st, "main_loop") < frame_of(st, "worker_main"), "%s", st);
	free(st);
	free(out);
	free(err);
	cr_assert_eq(tattach(r.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "4 calls already running"), "%s", out);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&r, "poke"), "done 1");
	cr_assert_str_eq(target_cmd(&r, "stop"), "done 1");
	cr_assert_eq(tattach(r.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	out = graph_of(r.pid);
	got = graph_canon_early(out, tid);
	cr_assert_str_eq(got, "^worker_main(^main_loop(^handle(work) handle))", "%s", out);
	free(got);
	free(out);
	cr_assert_eq(WEXITSTATUS(target_stop(&r)), 0);
	ring_remove(r.pid);
	shell("rm -rf %s", dir);
}
