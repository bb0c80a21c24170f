// SPDX-License-Identifier: MIT
/*
 * Ring modes and clocks against the real tracer: discard counts what it
 * drops, the mode can be switched on a live trace without stopping the
 * process, and --clock mono (the vDSO's CLOCK_MONOTONIC, for machines
 * without an invariant TSC) records the same calls, as does a ring with
 * one thread slot.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

static unsigned long long status_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	unsigned long long v = 0;

	cr_assert(p, "no '%s' in:\n%s", key, status);
	cr_assert(sscanf(p + strlen(key), " %llu", &v) == 1, "%s", p);
	return v;
}

/* Sum of "events written" over all threads of --status. */
static unsigned long long events_written(const char *status)
{
	unsigned long long sum = 0, n;
	const char *p = status;

	while ((p = strstr(p, "tid "))) {
		int tid;

		if (sscanf(p, "tid %d %llu events written", &tid, &n) == 2)
			sum += n;
		p += 4;
	}
	return sum;
}

Test(modes, discard_counts_then_flight_overwrites, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	unsigned long long dropped, dropped2, written, written2;
	struct target t;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	cr_assert_eq(tattach(t.pid, "--enable -b 8K", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 2000"), "done");	/* ~24000 events */
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "mode:         discard"), "%s", out);
	dropped = status_field(out, "dropped:");
	written = events_written(out);
	cr_assert_gt(dropped, 0, "an 8K ring cannot hold 2000 runs:\n%s", out);
	cr_assert_leq(written, 1024, "discard mode overwrote:\n%s", out);

	/* switched live: no stop, the trampoline reads the mode at each write */
	cr_assert_eq(tattach(t.pid, "--mode flight", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "mode is now flight"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 2000"), "done");
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "mode:         flight"), "%s", out);
	dropped2 = status_field(out, "dropped:");
	written2 = events_written(out);
	cr_assert_eq(dropped2, dropped, "flight mode dropped:\n%s", out);
	cr_assert_gt(written2, written + 20000, "flight mode did not keep writing:\n%s", out);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	/* tread reads the newest events of the overwritten ring */
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_gt(graph_count_calls(out, "leaf"), 100, "%s", out);
	cr_assert(!strstr(out, "bad_site") && !strstr(out, "0x"), "garbage in:\n%.2000s", out);
	target_stop(&t);
	free(out);
	free(err);
}

/*
 * Trace "run 3" with tattach --enable @opts and compare the exact tree;
 * returns --status, for the caller to look at (free it).
 */
static char *records_run_3(const char *opts)
{
	char *out = NULL, *err = NULL, *got, *want = NULL, *w = expect_work(3), *status;
	char enable[128];
	struct target t;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	snprintf(enable, sizeof(enable), "--enable %s", opts);
	cr_assert_eq(tattach(t.pid, enable, &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--status", &status, &err), 0, "%s", err);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	str_append(&want, "dispatch(");
	str_append(&want, w);
	str_append(&want, ")");
	cr_assert_str_eq(got, want, "%s: %s", opts, out);
	target_stop(&t);
	free(got);
	free(want);
	free(w);
	free(out);
	free(err);
	return status;
}

Test(modes, clock_mono, .timeout = 60)
{
	char *status = records_run_3("--clock mono");

	cr_assert(strstr(status, "clock:        CLOCK_MONOTONIC"), "%s", status);
	free(status);
}

/*
 * -t 1: one thread slot, so the slot hash has 0 bits; every lookup of the
 * trampoline (its fast paths included) must land on that one slot.
 */
Test(modes, one_thread_slot, .timeout = 60)
{
	char *status = records_run_3("-t 1 -b 64K");

	cr_assert(strstr(status, "threads with rings: 1 of 1\n"), "%s", status);
	/* --status reads the one key of the live process's one slot */
	cr_assert(strstr(status, "\nslot search:  1.00 slots read per search on average, 1 at "
			 "most (1 of 1 slots taken)\n"), "%s", status);
	free(status);
}
