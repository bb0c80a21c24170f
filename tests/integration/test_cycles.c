// SPDX-License-Identifier: MIT
/*
 * Enable and disable again and again while four threads hammer traced
 * functions (they check every result): the program must keep working and
 * its memory map and resident size must not grow per cycle.
 * `make stress` runs the same with 1000 cycles (TATTACH_CYCLES).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc_harness.h"

static int count_maps(pid_t pid)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * -fpatchable-function-entry=5 leaves five one-byte NOPs: a thread can be
 * stopped between two of them, and must be moved past the sled before it
 * is rewritten into one 5-byte call.  Only a first enable meets the sleds
 * (--disable writes one 5-byte NOP), so each round is a fresh process whose
 * four threads spin through such sites; a thread left inside would run the
 * tail of the call's bytes and crash or misbehave.
 */
Test(cycles, threads_inside_nop_sleds, .timeout = 600)
{
	const char *env = getenv("TATTACH_CYCLES");
	int rounds = env ? atoi(env) : 100;
	long stepped = 0;

	for (int i = 0; i < rounds; i++) {
		char *out = NULL, *err = NULL;
		struct target t;
		const char *p;
		long n;

		target_start(&t, build_path("tests/targets/calltree.pfe.O2"));
		cr_assert_str_eq(target_cmd(&t, "spin 4"), "done");
		cr_assert_eq(tattach(t.pid, "--enable -v -b 64K -m flight", &out, &err), 0,
			     "round %d: %s", i, err);
		for (p = strstr(out, "tattach: "); p; p = strstr(p + 1, "tattach: "))
			if (sscanf(p, "tattach: %ld threads stepped past", &n) == 1)
				stepped += n;
		cr_assert_str_eq(target_cmd(&t, "stop"), "done", "round %d", i);
		cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
		cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
		free(out);
		free(err);
	}
	cr_log_info("%d rounds, %ld threads stepped out of a NOP sled", rounds, stepped);
}

/*
 * Enable and disable, again and again, while four threads run through the
 * sites: the mappings stay those of the first enable and the memory does
 * not grow (-pg sites call the trampoline; patchable-entry sites jump to
 * call-through stubs, written once).
 */
static void enable_disable_under_load(const char *bin)
{
	const char *env = getenv("TATTACH_CYCLES");
	int cycles = env ? atoi(env) : 100, maps_after_first = 0;
	long rss_after_first = 0, rss;
	char *out = NULL, *err = NULL;
	struct target t;

	target_start(&t, build_path(bin));
	ring_remove(t.pid);
	cr_assert_str_eq(target_cmd(&t, "spin 4"), "done");
	for (int i = 0; i < cycles; i++) {
		cr_assert_eq(tattach(t.pid, "--enable -b 64K -m flight", &out, &err), 0,
			     "cycle %d: %s", i, err);
		cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "cycle %d: %s", i, err);
		free(out);
		free(err);
		if (i == 0) {
			maps_after_first = count_maps(t.pid);
			rss_after_first = rss_kb(t.pid);
		}
	}
	cr_assert_eq(count_maps(t.pid), maps_after_first, "mappings grew over %d cycles", cycles);
	rss = rss_kb(t.pid);
	/* the rings fill up to 64K a thread at most; allow that and noise */
	cr_assert_lt(rss - rss_after_first, 2048, "RSS grew %ld kB over %d cycles",
		     rss - rss_after_first, cycles);
	cr_assert_str_eq(target_cmd(&t, "stop"), "done");
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing:      disabled"), "%s", out);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
}

Test(cycles, enable_disable_under_load, .timeout = 600)
{
	enable_disable_under_load("tests/targets/calltree.pg.O2");
}

Test(cycles, enable_disable_under_load_call_through, .timeout = 600)
{
	enable_disable_under_load("tests/targets/calltree.pfe.O2");
}

/* How many times @needle occurs in @hay. */
static int occurrences(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/*
 * While it holds the threads, tattach runs at nice -20 (priority.c), so
 * that on a busy machine the scheduler does not keep it waiting while the
 * process is stopped; TATTACH_PRIORITY=0 leaves its priority alone.
 * TATTACH_TIMING says which, at each hold: the first --enable holds at
 * least twice (the main thread alone to inject, then every thread), the
 * others at least once (--disable again for the threads it left inside the
 * trampoline).
 */
Test(cycles, threads_held_at_high_priority, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct target t;

	if (geteuid() != 0)
		cr_skip_test("not root: tattach may not raise its priority");
	target_start(&t, build_path("tests/targets/calltree.pfe.O2"));
	ring_remove(t.pid);
	cr_assert_str_eq(target_cmd(&t, "spin 4"), "done");
	setenv("TATTACH_TIMING", "1", 1);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_geq(occurrences(err, "tattach: timing: threads held at nice -20 (was 0)\n"), 2,
		      "%s", err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_geq(occurrences(err, "threads held at nice -20 (was 0)\n"), 1, "%s", err);
	setenv("TATTACH_PRIORITY", "0", 1);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_geq(occurrences(err, "threads held at tattach's own priority (nice 0)\n"), 1,
		      "%s", err);
	cr_assert_eq(occurrences(err, "nice -20"), 0, "%s", err);
	unsetenv("TATTACH_PRIORITY");
	unsetenv("TATTACH_TIMING");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "stop"), "done");
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	free(out);
	free(err);
	ring_remove(t.pid);
}
