// SPDX-License-Identifier: MIT
/*
 * Coroutines: 100 coroutines on one thread, each yielding from inside
 * traced calls, switched with swapcontext() or a hand-written stack
 * switch, built -O2 and -O0.  Every coroutine's stack must show exactly
 * its own calls, nested, with no frame closed as unwound because another
 * stack ran, and the counts must be the program's.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

#define NCO 100
#define ROUNDS 3

/* What coroutine @id calls each round (tests/targets/coro.c). */
static const char *step_tree(int id)
{
	static const char *const tree[] = {
		"step(yield_now())",
		"step(inner(yield_now()))",
		"step(inner(deeper(yield_now())))",
	};
	return tree[id % 3];
}

/* The calls of @name that tread --hist counted ("# NAME: N calls, ..."),
 * or -1. */
static long hist_calls(const char *out, const char *name)
{
	char head[128];
	const char *p;

	snprintf(head, sizeof(head), "# %s: ", name);
	for (p = out; (p = strstr(p, head)); p++)
		if (p == out || p[-1] == '\n')
			return strtol(p + strlen(head), NULL, 10);
	return -1;
}

/* The calls of each function the program makes, as @count_of reads them
 * from @view's output @out. */
static void assert_counts(const char *view, const char *out,
			  long (*count_of)(const char *, const char *))
{
	static const struct { const char *fn; long calls; } want[] = {
		{ "co_main", NCO }, { "step", NCO * ROUNDS }, { "yield_now", NCO * ROUNDS },
		{ "inner", 66 * ROUNDS }, { "deeper", 33 * ROUNDS },
		{ "account", NCO * (ROUNDS + 1) },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_eq(count_of(out, want[i].fn), want[i].calls, "%s, %s:\n%s", view,
			     want[i].fn, out);
}

/*
 * --export folded: each coroutine's stack is a thread of its own in the
 * exports, so its calls nest from co_main() (co_main only ever at the
 * root of a stack), and each of its three shapes is there.  Paired per
 * thread, a switch of stacks cut them short and nested them in another
 * coroutine's frames.
 */
static void assert_folded_per_stack(const char *out)
{
	static const char *const shapes[] = {
		"co_main;step;yield_now ", "co_main;step;inner;yield_now ",
		"co_main;step;inner;deeper;yield_now ",
	};
	const char *line = out;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *co = strstr(line, "co_main");

		cr_assert(!co || co >= line + len || co == line, "co_main not at the root: %.*s",
			  (int)len, line);
		line += len + (end != NULL);
	}
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const char *p = strstr(out, shapes[i]);

		cr_assert(p && (p == out || p[-1] == '\n'), "no stack %s in:\n%s", shapes[i], out);
	}
}

/* --export chrome: no call ended "not traced" (an exit made up): a switch
 * of stacks ends no call. */
static void assert_no_call_cut_short(const struct target *t)
{
	char json[] = "/tmp/tattach-coro-XXXXXX.json", args[96], *out = NULL, *err = NULL;
	char *text;
	int fd = mkstemps(json, 5);

	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(args, sizeof(args), "--export chrome -o %s", json);
	cr_assert_eq(tread(t->pid, args, &out, &err), 0, "%s", err);
	text = file_text(json);
	unlink(json);
	cr_assert_null(strstr(text, "not traced"), "a call cut short: %.2000s", strstr(text, "not traced"));
	cr_assert(strstr(text, "stack "), "no thread of a coroutine's stack");
	free(text);
	free(out);
	free(err);
}

static void check(const char *bin, const char *mode)
{
	char *out = NULL, *err = NULL, cmd[64], want[64];
	char *got, *expect = NULL;
	struct target t;

	target_start(&t, build_path(bin));
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	snprintf(cmd, sizeof(cmd), "%s %d", mode, ROUNDS);
	snprintf(want, sizeof(want), "done %d", NCO * ROUNDS);
	cr_assert_str_eq(target_cmd(&t, cmd), want);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_null(strstr(out, "unwound"), "%.4000s", out);
	cr_assert_null(strstr(out, "not traced"), "%.4000s", out);
	cr_assert_null(strstr(out, "exit lost"), "%.4000s", out);

	/* the scheduler's stack: every switch back is one account(): a
	 * coroutine comes back ROUNDS times from yield_now(), once at its end */
	str_append(&expect, "dispatch(schedule(");
	for (int i = 0; i < NCO; i++)
		str_append(&expect, i ? " co_prepare" : "co_prepare");
	for (int i = 0; i < NCO * (ROUNDS + 1); i++)
		str_append(&expect, " account");
	str_append(&expect, "))");
	got = graph_canon_stack(out, t.pid, 0);
	cr_assert_str_eq(got, expect, "stack 0:\n got: %s\nwant: %s", got, expect);
	free(got);
	free(expect);

	/* coroutine i started i-th: stack i + 1 (mode "down": the last
	 * started first) */
	for (int i = 0; i < NCO; i++) {
		int stack = strcmp(mode, "down") ? i + 1 : NCO - i;

		expect = NULL;
		str_append(&expect, "co_main(");
		for (int r = 0; r < ROUNDS; r++) {
			if (r)
				str_append(&expect, " ");
			str_append(&expect, step_tree(i));
		}
		str_append(&expect, ")");
		got = graph_canon_stack(out, t.pid, stack);
		cr_assert_str_eq(got, expect, "coroutine %d: %s", i, got);
		free(got);
		free(expect);
	}
	free(out);

	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	assert_counts("--report", out, report_calls);
	/* main() was still running at --disable (adopted at --enable), which
	 * cut it loose; nothing else */
	cr_assert(strstr(out, "# 1 calls still running at --disable are not counted"), "%s",
		  out);
	cr_assert_null(strstr(out, "still running at the end"), "%s", out);
	cr_assert_null(strstr(out, "exits without a traced entry"), "%s", out);
	cr_assert_null(strstr(out, "whose exit was lost"), "%s", out);
	free(out);

	/* --hist pairs calls per sub-stack too: each coroutine's own */
	cr_assert_eq(tread(t.pid, "--hist", &out, &err), 0, "%s", err);
	assert_counts("--hist", out, hist_calls);
	free(out);

	cr_assert_eq(tread(t.pid, "--export folded", &out, &err), 0, "%s", err);
	assert_folded_per_stack(out);
	free(out);
	assert_no_call_cut_short(&t);
	free(err);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
}

TestSuite(coroutines, .timeout = 120);

/* Append @fn's --stuck line, @depth deep, without its age. */
static void stuck_line(char **expect, int depth, const char *fn)
{
	char line[96];

	snprintf(line, sizeof(line), "%*s%s\n", 2 * depth, "", fn);
	str_append(expect, line);
}

/* tread --stuck's output without the AGE column of its call lines. */
static char *stuck_without_ages(const char *out)
{
	char *text = NULL;

	for (const char *line = out; *line;) {
		const char *end = strchrnul(line, '\n');
		char buf[256];

		/* "%13.6f s  " before each call, indented by its depth */
		snprintf(buf, sizeof(buf), "%.*s\n", (int)(end - line - (*line == '#' ? 0 : 17)),
			 line + (*line == '#' ? 0 : 17));
		str_append(&text, buf);
		line = *end ? end + 1 : end;
	}
	return text;
}

/*
 * tread --stuck while every coroutine is suspended in its yield_now() and
 * the scheduler waits in wait_go(): the calls in flight of each stack,
 * apart and nested in themselves, oldest first (the scheduler's stack,
 * then the coroutines in the order they started).  As one stack, the
 * coroutines' calls would nest under each other and under the scheduler.
 */
Test(coroutines, stuck_shows_each_stack_apart)
{
	char *out = NULL, *err = NULL, *got, *expect = NULL, head[160], cmd[32];
	struct target t;

	target_start(&t, build_path("tests/targets/coro"));
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	cr_assert_str_eq(target_cmd(&t, "park 1"), "parked");
	cr_assert_eq(tread(t.pid, "--stuck", &out, &err), 0, "%s", err);

	/* main (adopted at --enable) and the scheduler: 4; coroutine i: 3,
	 * 4 or 5 by i % 3 (34, 33 and 33 of them) */
	snprintf(head, sizeof(head), "# 403 calls in flight in 1 thread on %d stacks "
		 "(from the frames in flight), ages now\n", NCO + 1);
	str_append(&expect, head);
	snprintf(head, sizeof(head), "# thread %d\n#          AGE  FUNCTION\n", (int)t.pid);
	str_append(&expect, head);
	stuck_line(&expect, 0, "main");
	stuck_line(&expect, 1, "dispatch");
	stuck_line(&expect, 2, "schedule");
	stuck_line(&expect, 3, "wait_go");
	for (int i = 0; i < NCO; i++) {
		int d = 0;

		snprintf(head, sizeof(head), "# thread %d, stack %d\n#          AGE  FUNCTION\n",
			 (int)t.pid, i + 1);
		str_append(&expect, head);
		stuck_line(&expect, d++, "co_main");
		stuck_line(&expect, d++, "step");
		if (i % 3 >= 1)
			stuck_line(&expect, d++, "inner");
		if (i % 3 == 2)
			stuck_line(&expect, d++, "deeper");
		stuck_line(&expect, d, "yield_now");
	}
	got = stuck_without_ages(out);
	cr_assert_str_eq(got, expect, "got:\n%.3000s\nwant:\n%.3000s", got, expect);
	free(got);
	free(expect);
	free(out);

	snprintf(cmd, sizeof(cmd), "done %d", NCO);
	cr_assert_str_eq(target_cmd(&t, "go"), cmd);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
}

Test(coroutines, ucontext_O2) { check("tests/targets/coro", "ucontext"); }
Test(coroutines, ucontext_O0) { check("tests/targets/coro.O0", "ucontext"); }
Test(coroutines, hand_written_switch_O2) { check("tests/targets/coro", "asm"); }
Test(coroutines, hand_written_switch_O0) { check("tests/targets/coro.O0", "asm"); }

/*
 * Resumed from the last to the first, each coroutine runs on the stack
 * just below the last one's (they are neighbours in the heap, 64 KiB
 * apart): its calls then lie as near the frames left there as a nested
 * call's would.  The general code tells the stacks apart; a fast path
 * that took such a call for a callee of the frame on top would nest each
 * coroutine's calls in another's (the gate of tramp.c must be shut while
 * frames of several stacks are open).
 */
Test(coroutines, resumed_last_to_first_on_neighbouring_stacks)
{
	check("tests/targets/coro", "down");
}

/*
 * 8 KiB stacks side by side, started one above the other by a scheduler
 * that makes no traced call: each new stack is taken for a longjmp() on
 * the one below (the guess of docs/limitations.md), and a later return
 * drops the other stack's frames as its own skipped callees.  Their own
 * returns must still go back where they belong (tramp.c, grave_take()):
 * the program runs to the end as it would untraced, and every call is
 * counted once (the trees are the guess's).  It was killed by SIGILL.
 */
Test(coroutines, small_neighbouring_stacks_and_an_untraced_scheduler)
{
	static const struct { const char *fn; long calls; } want[] = {
		{ "co_main", NCO }, { "step", NCO * ROUNDS }, { "yield_now", NCO * ROUNDS },
		{ "inner", 66 * ROUNDS }, { "deeper", 33 * ROUNDS },
	};
	char *out = NULL, *err = NULL, cmd[64], answer[64];
	struct target t;

	target_start(&t, build_path("tests/targets/coro"));
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	snprintf(cmd, sizeof(cmd), "small %d", ROUNDS);
	snprintf(answer, sizeof(answer), "done %d", NCO * ROUNDS);
	cr_assert_str_eq(target_cmd(&t, cmd), answer);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_eq(report_calls(out, want[i].fn), want[i].calls, "%s:\n%s",
			     want[i].fn, out);
	free(out);
	free(err);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
}
