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
		cr_assert_null(strstr(out, "still running"), "%s", out);
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
