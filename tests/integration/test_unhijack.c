// SPDX-License-Identifier: MIT
/*
 * --disable with traced calls still running (tests/targets/exc_held.cc,
 * g++ -pg): each thread sits in traced frames that --enable adopted, and
 * --disable gives them their return addresses back.  Then no thread's
 * stack holds a return into the trampoline, no GOT entry points into it,
 * and every GOT holds byte for byte what a never-traced twin's holds;
 * a C++ exception, pthread_exit() (forced unwinding) and backtrace()
 * through those frames answer as untraced, and nothing more is written
 * to the ring.  A second --enable adopts the same frames again.  The
 * graph shows every such call closed "still running at --disable".
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"
#include "lib/tramp_scan.h"

struct hold {
	const char *cmd;
	size_t calls;			/* adopted at --enable, cut at --disable */
	const char *main_tree;		/* of one --enable/--disable round */
	const char *thread_tree;	/* of the pexit thread's, or NULL */
};

#define D(x) "^main(^_ZL8dispatchPKc(" x "!)!)"
static const struct hold holds[] = {
	{ "hold throw", 6,
	  D("^_ZL12hold_catcherv(^_ZL8hold_midv(^_ZL10hold_innerv(^_ZL7wait_gov(!)!)!)!)"), NULL },
	{ "hold pexit", 8, D("^_ZL10hold_pexitv(^_ZL7wait_gov(!)!)"),
	  "^_ZL12pexit_threadPv(^_ZL11pexit_outerv(^_ZL9pexit_midv(^_ZL11thread_waitv(!)!)!)!)" },
	{ "hold bt", 5, D("^_ZL8bt_outerv(^_ZL8bt_innerv(^_ZL7wait_gov(!)!)!)"), NULL },
};
#define NHOLDS (sizeof(holds) / sizeof(holds[0]))
#define ROUNDS 2	/* --enable, --disable, and again: adopted again */

static void start(struct target *t)
{
	setenv("TATTACH_NORAND", "1", 1);
	target_start(t, build_path("tests/targets/exc_held"));
	unsetenv("TATTACH_NORAND");
	ring_remove(t->pid);
}

/* "hold ..." then "go": the answer (static buffer of target_cmd). */
static const char *hold_and_go(struct target *t, const char *cmd)
{
	cr_assert_str_eq(target_cmd(t, cmd), "held", "%s", cmd);
	return target_cmd(t, "go");
}

static char *tattach_ok(pid_t pid, const char *args)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(pid, args, &out, &err), 0, "tattach %s:\n%s%s", args, out, err);
	free(err);
	return out;
}

static char *graph(pid_t pid)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tread(pid, "", &out, &err), 0, "%s", err);
	free(err);
	return out;
}

static void expect_count(const char *out, size_t n, const char *what)
{
	char want[96];

	snprintf(want, sizeof(want), "%zu calls %s", n, what);
	cr_assert(strstr(out, want), "expected '%s' in:\n%s", want, out);
}

Test(unhijack, unwinding_through_calls_cut_at_disable, .timeout = 120)
{
	char want[NHOLDS][64], where[256], *out, *before, *after, *got, *exp = NULL;
	struct target t, twin;
	int tids[4];

	start(&t);
	start(&twin);
	/* untraced, once each: what they answer, in both twins (lazy GOT
	 * entries get bound now, alike) */
	for (size_t i = 0; i < NHOLDS; i++) {
		snprintf(want[i], sizeof(want[i]), "%s", hold_and_go(&t, holds[i].cmd));
		cr_assert_str_eq(hold_and_go(&twin, holds[i].cmd), want[i], "%s", holds[i].cmd);
	}
	cr_assert_str_eq(want[0], "done 1201");	/* strlen * 100 + the guard */
	cr_assert_str_eq(want[1], "done 1");	/* the witness was destroyed */
	cr_assert(tramp_same_got(t.pid, twin.pid, where, sizeof(where)), "before: %s", where);

	for (size_t i = 0; i < NHOLDS; i++) {
		cr_assert_str_eq(target_cmd(&t, holds[i].cmd), "held");
		cr_assert_str_eq(target_cmd(&twin, holds[i].cmd), "held");
		for (int round = 0; round < ROUNDS; round++) {
			out = tattach_ok(t.pid, "--enable");
			expect_count(out, holds[i].calls, "already running");
			free(out);
			/* the scans see what --enable did */
			where[0] = 0;
			cr_assert_gt(tramp_scan_stacks(t.pid, where, sizeof(where)), 0,
				     "%s, round %d: %s", holds[i].cmd, round, where);
			cr_assert_gt(tramp_scan_got(t.pid, where, sizeof(where)), 0,
				     "%s, round %d: %s", holds[i].cmd, round, where);
			out = tattach_ok(t.pid, "--disable");
			expect_count(out, holds[i].calls, "still running now return");
			free(out);
			cr_assert_eq(tramp_scan_stacks(t.pid, where, sizeof(where)), 0,
				     "%s, round %d: %s", holds[i].cmd, round, where);
			cr_assert_eq(tramp_scan_got(t.pid, where, sizeof(where)), 0,
				     "%s, round %d: %s", holds[i].cmd, round, where);
			cr_assert(tramp_same_got(t.pid, twin.pid, where, sizeof(where)),
				  "%s, round %d: the GOTs differ from the twin's: %s",
				  holds[i].cmd, round, where);
		}
		before = graph(t.pid);
		/* the throw, pthread_exit() or backtrace() through the cut frames */
		cr_assert_str_eq(target_cmd(&t, "go"), want[i], "%s", holds[i].cmd);
		cr_assert_str_eq(target_cmd(&twin, "go"), want[i], "%s (twin)", holds[i].cmd);
		/* their returns wrote nothing */
		after = graph(t.pid);
		cr_assert_str_eq(after, before, "%s", holds[i].cmd);
		free(before);
		free(after);
		for (int round = 0; round < ROUNDS; round++) {
			if (exp)
				str_append(&exp, " ");
			str_append(&exp, holds[i].main_tree);
		}
	}
	cr_assert(tramp_same_got(t.pid, twin.pid, where, sizeof(where)), "after: %s", where);

	out = graph(t.pid);
	got = graph_canon_early(out, t.pid);
	cr_assert_str_eq(got, exp, "%s", out);
	free(got);
	cr_assert_eq(graph_tids(out, tids, 4), 2, "%s", out);
	got = graph_canon_early(out, tids[0] == t.pid ? tids[1] : tids[0]);
	free(exp);
	exp = NULL;
	for (int round = 0; round < ROUNDS; round++) {
		if (exp)
			str_append(&exp, " ");
		str_append(&exp, holds[1].thread_tree);
	}
	cr_assert_str_eq(got, exp, "%s", out);
	cr_assert_null(strstr(out, "not traced"), "%s", out);
	cr_assert_null(strstr(out, "exit lost"), "%s", out);
	cr_assert_null(strstr(out, "unwound"), "%s", out);
	free(got);
	free(exp);
	free(out);
	cr_assert_eq(WEXITSTATUS(target_stop(&twin)), 0);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
}

/*
 * A thread that spends most of its time inside the trampoline
 * (tests/targets/spinner.c: a tight loop of traced calls) is often
 * stopped there by --disable, half way through an event: its shadow
 * stack is not to be touched then.  --disable lets it run on past the
 * trampoline (the sites are NOPs by then) and stops it again to cut its
 * calls loose.  With @signals, a slow SIGPROF handler often runs on top
 * of the trampoline when the thread is stopped (a -pg program's own
 * profil() timer does the same, briefly): only a walk through the signal
 * frame sees it, and a thread interrupted right at tp_return (its traced
 * function had returned) must not lose its frame.  Repeated @rounds
 * times, or until the thread was seen in the trampoline @want times: each
 * --disable must leave no traced call in flight, and the program alive.
 */
static int spin_rounds(int signals, int rounds, int want)
{
	char *out, *err = NULL;
	struct target t;
	int seen = 0, round;
	long before, after;

	target_start(&t, build_path("tests/targets/spinner"));
	ring_remove(t.pid);
	if (signals)
		cr_assert_str_eq(target_cmd(&t, "signals"), "done");
	for (round = 0; round < rounds && seen < want; round++) {
		free(tattach_ok(t.pid, "--enable"));
		out = tattach_ok(t.pid, "-v --disable");
		seen += strstr(out, "cut loose when stopped again") != NULL;
		/* still inside after every later stop (a handler over the
		 * trampoline each time, rare): said so, and the next
		 * --disable cuts it loose, as documented */
		for (int again = 0; strstr(out, "still return through it"); again++) {
			cr_assert_lt(again, 3, "round %d: still not cut loose:\n%s", round, out);
			free(out);
			out = tattach_ok(t.pid, "-v --disable");
		}
		free(out);
		/* no hijacked return left: a walk meets none */
		out = tattach_ok(t.pid, "--stacks");
		cr_assert_null(strstr(out, "[traced]"), "round %d:\n%s", round, out);
		free(out);
		out = tattach_ok(t.pid, "--status");
		cr_assert(strstr(out, "in flight:    0 traced calls"), "round %d:\n%s", round, out);
		free(out);
	}
	/* and it runs on, untraced */
	cr_assert_eq(sscanf(target_cmd(&t, "ticks"), "done %ld", &before), 1);
	cr_assert_eq(sscanf(target_cmd(&t, "stop"), "done %ld", &after), 1);
	cr_assert_gt(after, before);
	/* the trace reads whole: every return recorded had its entry (the
	 * graph itself is too long to show here) */
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%.2000s", err);
	cr_assert_null(strstr(out, "not traced"), "a return without its entry");
	free(out);
	free(err);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	return seen;
}

Test(unhijack, threads_stopped_inside_the_trampoline, .timeout = 300)
{
	cr_assert_eq(spin_rounds(0, 100, 3), 3, "in 100 rounds --disable did not stop the "
		     "spinning thread inside the trampoline 3 times");
}

/* Before the walk knew signal frames, the process died within 40 rounds
 * (SIGILL: a return into tp_return whose frame --disable had taken). */
Test(unhijack, signal_handlers_over_the_trampoline, .timeout = 300)
{
	cr_assert_gt(spin_rounds(1, 100, 100), 0);
}
