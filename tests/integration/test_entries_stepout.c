// SPDX-License-Identifier: MIT
/*
 * tattach --enable --entry while threads run the very bytes it replaces.
 * entryspin's four threads spend their time inside the first instructions
 * of six functions (tests/targets/lib/entryspin.c), so at nearly every
 * --enable some are stopped between two instructions of a window about to
 * become a jmp, and must be moved to the same instruction in the stub; at
 * --disable some run the stub's copy of those instructions, and go on
 * there.  Over several processes and enable/disable cycles: the program
 * never crashes nor computes a wrong result, the calls tread counts per
 * function are exactly those the program saw traced (its return address
 * hijacked), and both paths really ran (tattach -v says how many threads
 * it stepped out, and how many it found in stubs): else the test fails.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

#define ROUNDS  3		/* fresh processes */
#define CYCLES  8		/* enable/disable cycles in each */
#define NFN     6

static const char *const fns[NFN] = {
	"spin_two", "spin_three", "spin_rip", "spin_call", "spin_cet", "spin_rep",
};

/* The number in the "tattach: N <what>" line of @out, 0 without one. */
static long said(const char *out, const char *what)
{
	char fmt[160];
	long n;

	snprintf(fmt, sizeof(fmt), "tattach: %%ld %s", what);
	for (const char *p = strstr(out, "tattach: "); p; p = strstr(p + 1, "tattach: "))
		if (sscanf(p, fmt, &n) == 1)
			return n;
	return 0;
}

/* A stepped thread that crashed would kill the process: tattach fails. */
static void cycle(pid_t pid, int round, int c, long *stepped, long *in_stubs)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(pid, "--enable --entry -F spin_.* -b 8M -v", &out, &err), 0,
		     "round %d cycle %d: --enable:\n%s%s", round, c, out, err);
	cr_assert_null(strstr(err, "inside an instruction"), "%s", err);
	*stepped += said(out, "threads stepped out of a function entry");
	free(out);
	free(err);
	cr_assert_eq(tattach(pid, "--disable -v", &out, &err), 0,
		     "round %d cycle %d: --disable:\n%s%s", round, c, out, err);
	*in_stubs += said(out, "threads were running in an entry stub");
	free(out);
	free(err);
}

Test(entries_stepout, threads_inside_patched_bytes, .timeout = 60)
{
	long stepped = 0, in_stubs = 0;

	for (int round = 0; round < ROUNDS; round++) {
		char *out = NULL, *err = NULL, line[256];
		long calls, errors, traced[NFN];
		struct target t;

		target_start(&t, build_path("tests/targets/entryspin"));
		ring_remove(t.pid);
		cr_assert_str_eq(target_cmd(&t, "spin 4"), "done");
		for (int c = 0; c < CYCLES; c++)
			cycle(t.pid, round, c, &stepped, &in_stubs);
		cr_assert_str_eq(target_cmd(&t, "stop"), "done", "round %d", round);
		snprintf(line, sizeof(line), "%s", target_cmd(&t, "counts"));
		cr_assert_eq(sscanf(line, "counts %ld %ld %ld %ld %ld %ld %ld %ld", &calls, &errors,
				    &traced[0], &traced[1], &traced[2], &traced[3], &traced[4],
				    &traced[5]), 8, "round %d: '%s'", round, line);
		cr_assert_eq(errors, 0, "round %d: %ld wrong results in %ld calls", round, errors,
			     calls);

		cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
		cr_assert(strstr(out, "dropped:      0 events (ring full), 0 (no thread slot)"),
			  "round %d: the ring lost events, counts cannot match:\n%s", round, out);
		free(out);
		free(err);
		cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
		for (int f = 0; f < NFN; f++) {
			cr_assert_gt(traced[f], 0, "round %d: %s never traced", round, fns[f]);
			cr_assert_eq(report_calls(out, fns[f]), traced[f],
				     "round %d: %s: tread counts %ld calls, the program saw %ld "
				     "traced:\n%s", round, fns[f], report_calls(out, fns[f]),
				     traced[f], out);
		}
		cr_assert_null(strstr(out, "exits without a traced entry"), "%s", out);
		/* calls in flight at the last --disable were cut loose: their
		 * returns, unrecorded, did not count as traced in the program
		 * either (their return address was the caller's again) */
		cr_assert_null(strstr(out, "still running at the end"), "%s", out);
		free(out);
		free(err);
		cr_assert_eq(target_stop(&t), 0, "round %d: the program did not exit cleanly",
			     round);
	}
	cr_log_info("%d cycles in %d processes: %ld threads stepped out of an entry, %ld "
		    "found in a stub at --disable", ROUNDS * CYCLES, ROUNDS, stepped, in_stubs);
	cr_assert_gt(stepped, 0, "in %d enable cycles no thread was stopped inside a window "
		     "being patched: the step-out path was not exercised", ROUNDS * CYCLES);
	cr_assert_gt(in_stubs, 0, "in %d disable cycles no thread was inside an entry stub: "
		     "that path was not exercised", ROUNDS * CYCLES);
}

/* The signals blocked in thread @tid of @pid (SigBlk in its status). */
static unsigned long long blocked(pid_t pid, pid_t tid)
{
	char path[96], line[256];
	unsigned long long mask = ~0ull;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "r");
	cr_assert(f, "%s", path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &mask) == 1)
			break;
	fclose(f);
	return mask;
}

#define KILL_TRIES 8

/*
 * One fresh entryspin whose main thread spins with one other, and a first
 * --enable --entry that tattach dies in at its kill point @n: the program
 * must be unharmed, the main thread with its own signal mask.  Returns
 * 1 when tattach died there, having stepped the main thread (the thread
 * it calls with, parked in its rescue code), 0 when it died elsewhere,
 * -1 when it did not die (fewer kill points).
 */
static int kill_at(int n)
{
	char *out = NULL, *err = NULL, env[16], line[256], mine[64];
	long calls, errors;
	struct target t;
	int rc, parked;

	target_start(&t, build_path("tests/targets/entryspin"));
	ring_remove(t.pid);
	cr_assert_str_eq(target_cmd(&t, "spinmain 1"), "done");
	snprintf(env, sizeof(env), "%d", n);
	setenv("TATTACH_TEST_DIE_AT", env, 1);
	rc = tattach(t.pid, "--enable --entry -F spin_.* -b 8M -v", &out, &err);
	unsetenv("TATTACH_TEST_DIE_AT");
	snprintf(mine, sizeof(mine), "thread %d stepped out of", (int)t.pid);
	parked = rc == 128 + 9 && strstr(err, mine) && strstr(err, "the thread tattach calls with");
	cr_assert(rc == 0 || rc == 128 + 9, "killed at point %d: exit %d: %s", n, rc, err);
	/* answered once the main thread left the rescue code */
	cr_assert_str_eq(target_cmd(&t, "stop"), "done", "killed at point %d: the program is hurt",
			 n);
	cr_assert_eq(blocked(t.pid, t.pid), 0, "killed at point %d%s: the main thread goes on "
		     "with signals blocked (%#llx)", n, parked ? ", after stepping it" : "",
		     blocked(t.pid, t.pid));
	free(out);
	free(err);
	/* the next run brings it to a consistent state */
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "after %d: %s", n, err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "spin 2"), "done");
	cr_assert_str_eq(target_cmd(&t, "stop"), "done");
	snprintf(line, sizeof(line), "%s", target_cmd(&t, "counts"));
	cr_assert_eq(sscanf(line, "counts %ld %ld", &calls, &errors), 2, "'%s'", line);
	cr_assert_eq(errors, 0, "killed at point %d: %ld wrong results in %ld calls", n, errors,
		     calls);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	return rc == 0 ? -1 : parked;
}

/*
 * The thread tattach makes its system calls with (the main thread, here
 * spinning in the windows too) waits in the rescue code with every signal
 * blocked, and a tattach killed then lets it go on from the rescue
 * context.  Stepped out of a window, it must go on in the stub from there
 * too: tattach is killed at each of its kill points of a first enable,
 * the last one just after the entries were written and threads stepped
 * out, then at that one again until the main thread was among them.
 */
Test(entries_stepout, tattach_killed_after_stepping_its_own_thread, .timeout = 60)
{
	int n, last = 0, parked = 0, tries = 0;

	for (n = 1; n < 64; n++) {
		int r = kill_at(n);

		if (r < 0)
			break;
		last = n;
		parked += r;
	}
	cr_assert_gt(last, 0, "tattach was never killed: TATTACH_TEST_DIE_AT has no effect");
	for (; !parked && tries < KILL_TRIES; tries++)
		parked += kill_at(last) > 0;
	cr_log_info("%d kill points; the main thread was stepped out and tattach killed "
		    "after it %d times (%d more tries at point %d)", last, parked, tries, last);
	cr_assert_gt(parked, 0, "in %d tries tattach never stepped out its own thread before "
		     "being killed at point %d", KILL_TRIES, last);
}
