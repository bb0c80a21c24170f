// SPDX-License-Identifier: MIT
/*
 * Stats mode against the real tracer, read straight from the ring file
 * (tests/lib/ring_view.c): exact call counts on known workloads, equal to
 * the target's own counters under threads, signals and longjmp; live
 * switches between events and stats that lose and double nothing; the
 * frames in flight, readable in every mode; --max-depth counted.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/proc_harness.h"
#include "lib/ring_view.h"

#define TARGET "tests/targets/statswork"

struct counts {
	long nap, leaf, mid, ja, jb, jc, deep, handler, outer;
};

static struct counts target_counts(struct target *t)
{
	const char *ans = target_cmd(t, "counts");
	struct counts c;

	cr_assert_eq(sscanf(ans, "done %ld %ld %ld %ld %ld %ld %ld %ld %ld", &c.nap, &c.leaf,
			    &c.mid, &c.ja, &c.jb, &c.jc, &c.deep, &c.handler, &c.outer), 9,
		     "%s", ans);
	return c;
}

static void enable(struct target *t, const char *args)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(t->pid, args, &out, &err), 0, "tattach %s:\n%s%s", args, out, err);
	free(out);
	free(err);
}

static uint64_t stat_calls(const struct ring_view *v, const char *fn)
{
	struct site_totals s;
	uint32_t site = ring_view_site(v, fn);

	cr_assert(site, "no site named %s", fn);
	ring_view_stats(v, site, &s);
	return s.calls;
}

/*
 * 10 calls of a 2 ms sleep, 4 on one thread and 6 on another.  Exact:
 * the counts, the split, self = total (nap calls nothing traced), no
 * event written.  Bounded by what a sleep is: no call shorter than 2 ms,
 * so none in a bucket below 20 ([1.05, 2.10) ms), the total at least
 * 20 ms; the histogram must agree with the total and the max (each call
 * lies inside its bucket).  Not asserted, since a loaded machine
 * oversleeps: that the calls are in bucket 20 or 21 (under 4.19 ms) --
 * they are on an idle one.
 */
Test(stats, ten_naps_from_two_threads, .timeout = 60)
{
	struct target t;
	struct ring_view v;
	struct site_totals s;
	uint64_t ent, ex, lo, hi;
	uint32_t site;

	target_start(&t, build_path(TARGET));
	enable(&t, "--enable --mode stats -t 8 -b 64K");
	cr_assert_str_eq(target_cmd(&t, "naps 4 6"), "done 10");
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	site = ring_view_site(&v, "nap");
	cr_assert(site);
	ring_view_stats(&v, site, &s);
	cr_assert_eq(s.calls, 10);
	cr_assert_eq(s.records, 2, "one record per thread, got %u", s.records);
	lo = s.slot_calls[0] < s.slot_calls[1] ? s.slot_calls[0] : s.slot_calls[1];
	hi = s.slot_calls[0] + s.slot_calls[1] - lo;
	cr_assert(lo == 4 && hi == 6, "split %llu + %llu", (unsigned long long)lo,
		  (unsigned long long)hi);
	cr_assert_geq(ring_view_ns(&v, s.total), 20000000, "total %llu ns",
		      (unsigned long long)ring_view_ns(&v, s.total));
	cr_assert_geq(ring_view_ns(&v, s.max), 2000000);
	/* nap() calls nothing traced: all of its time is its own */
	cr_assert_eq(s.self, s.total);
	{
		uint64_t in = 0, lo_ns = 0, hi_ns = 0, top = 0, total_ns = ring_view_ns(&v, s.total);

		for (unsigned b = 0; b < TAT_HIST_BUCKETS; b++) {
			cr_assert(b >= 20 || s.hist[b] == 0, "%llu calls in bucket %u",
				  (unsigned long long)s.hist[b], b);
			in += s.hist[b];
			lo_ns += s.hist[b] << b;
			hi_ns += s.hist[b] << (b + 1);
			if (s.hist[b])
				top = b;
		}
		cr_assert_eq(in, 10);
		/* 1 us of slack for the tick to ns rounding */
		cr_assert(lo_ns <= total_ns + 1000 && total_ns <= hi_ns + 1000,
			  "total %llu ns outside [%llu, %llu]", (unsigned long long)total_ns,
			  (unsigned long long)lo_ns, (unsigned long long)hi_ns);
		cr_assert(ring_view_ns(&v, s.max) + 1000 >= (1ull << top) &&
			  ring_view_ns(&v, s.max) < (2ull << top) + 1000,
			  "max %llu ns, top bucket %llu", (unsigned long long)ring_view_ns(&v, s.max),
			  (unsigned long long)top);
	}
	/* stats mode writes no ENTRY or EXIT event */
	cr_assert_eq(ring_view_events(&v, site, &ent, &ex), 0);
	cr_assert_eq(ent + ex, 0);
	ring_view_close(&v);
	target_stop(&t);
}

/* Self time: mid() calls leaf(); its self time is its total minus theirs. */
Test(stats, self_time_excludes_traced_callees, .timeout = 60)
{
	struct target t;
	struct ring_view v;
	struct site_totals m, l;

	target_start(&t, build_path(TARGET));
	enable(&t, "--enable --mode stats -t 8 -b 64K");
	cr_assert_str_eq(target_cmd(&t, "mids 1000"), "done");
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	ring_view_stats(&v, ring_view_site(&v, "mid"), &m);
	ring_view_stats(&v, ring_view_site(&v, "leaf"), &l);
	cr_assert_eq(m.calls, 1000);
	cr_assert_lt(m.self, m.total);
	/* leaf() runs only inside mid() here, so mid's total = its self +
	 * the leaf time, exactly */
	cr_assert_eq(m.total - m.self, l.total, "mid total %llu self %llu, leaf %llu",
		     (unsigned long long)m.total, (unsigned long long)m.self,
		     (unsigned long long)l.total);
	ring_view_close(&v);
	target_stop(&t);
}

/* 8 threads, a 10 kHz SIGPROF whose handler calls a traced function, a
 * longjmp out of three traced frames every round: nothing lost, nothing
 * counted twice. */
Test(stats, counts_equal_the_targets_under_threads_signals_longjmp, .timeout = 120)
{
	struct target t;
	struct ring_view v;
	struct counts c;

	target_start(&t, build_path(TARGET));
	enable(&t, "--enable --mode stats -t 16 -b 64K");
	{
		const char *ans = target_cmd(&t, "hazard 8 3000");

		cr_assert(!strncmp(ans, "done ", 5), "hazard: %s (target wait status %#x)",
			  ans, strncmp(ans, "done ", 5) ? target_stop(&t) : 0);
	}
	c = target_counts(&t);
	cr_assert_gt(c.handler, 0, "no signal arrived");
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	cr_assert_eq(stat_calls(&v, "leaf"), (uint64_t)c.leaf);
	cr_assert_eq(stat_calls(&v, "mid"), (uint64_t)c.mid);
	cr_assert_eq(stat_calls(&v, "ja"), (uint64_t)c.ja);
	cr_assert_eq(stat_calls(&v, "jb"), (uint64_t)c.jb);
	cr_assert_eq(stat_calls(&v, "jc"), (uint64_t)c.jc);
	cr_assert_eq(stat_calls(&v, "on_prof"), (uint64_t)c.handler);
	cr_assert_eq(c.ja, 8 * 3000);
	cr_assert_eq(ring_view_ctl_sum(&v, offsetof(struct tat_thread_ctl, deep)), 0);
	cr_assert_eq(ring_view_ctl_sum(&v, offsetof(struct tat_thread_ctl, stats_shared)), 0);
	ring_view_close(&v);
	target_stop(&t);
}

/* Wait until the load threads made @n more calls of mid(): a real signal
 * of progress, not a sleep. */
static long wait_progress(struct target *t, long since, long n)
{
	struct counts c;

	do
		c = target_counts(t);
	while (c.mid < since + n);
	return c.mid;
}

/*
 * Switched live both ways while two threads call outer() non-stop, and
 * are nearly always inside one (asleep), so most switches fall between
 * the entry and the exit of a call.  Each call is accounted by the mode
 * it entered in, so for every function: calls in the stats records +
 * ENTRY events = the calls the target made, and every ENTRY has its EXIT
 * (even when the exit ran in stats mode).
 */
Test(stats, live_switches_under_load_miscount_nothing, .timeout = 120)
{
	struct target t;
	struct ring_view v;
	uint64_t ent, ex, lent, lex, oent, oex, unmatched;
	struct counts c;
	long seen = 0;

	target_start(&t, build_path(TARGET));
	enable(&t, "--enable -t 8 -b 16M");
	cr_assert_str_eq(target_cmd(&t, "load 2"), "done");
	/* an odd number of switches: an exit accounted by the mode at its
	 * exit would count one way more often than the other */
	for (int round = 0; round < 7; round++) {
		seen = wait_progress(&t, seen, 300);
		enable(&t, round % 2 ? "--mode discard" : "--mode stats");
	}
	seen = wait_progress(&t, seen, 300);
	cr_assert_str_eq(target_cmd(&t, "stop"), "done");
	c = target_counts(&t);
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	cr_assert_eq(ring_view_events(&v, ring_view_site(&v, "mid"), &ent, &ex), 0,
		     "a ring overflowed: the event counts are incomplete");
	cr_assert_eq(ring_view_events(&v, ring_view_site(&v, "leaf"), &lent, &lex), 0);
	cr_assert_eq(ring_view_events(&v, ring_view_site(&v, "outer"), &oent, &oex), 0);
	cr_assert_eq(ring_view_unmatched_exits(&v, &unmatched), 0);
	cr_assert_eq(unmatched, 0, "%llu EXIT events without their ENTRY",
		     (unsigned long long)unmatched);
	cr_assert_gt(ent, 0, "no call in event mode");
	cr_assert_gt(stat_calls(&v, "mid"), 0, "no call in stats mode");
	cr_assert_eq(ent, ex, "unbalanced: %llu ENTRY, %llu EXIT", (unsigned long long)ent,
		     (unsigned long long)ex);
	cr_assert_eq(lent, lex);
	cr_assert_eq(stat_calls(&v, "mid") + ent, (uint64_t)c.mid,
		     "stats %llu + events %llu != %ld calls",
		     (unsigned long long)stat_calls(&v, "mid"), (unsigned long long)ent, c.mid);
	cr_assert_eq(stat_calls(&v, "leaf") + lent, (uint64_t)c.leaf);
	cr_assert_eq(oent, oex, "unbalanced outer: %llu ENTRY, %llu EXIT",
		     (unsigned long long)oent, (unsigned long long)oex);
	cr_assert_eq(stat_calls(&v, "outer") + oent, (uint64_t)c.outer,
		     "outer: stats %llu + events %llu != %ld calls",
		     (unsigned long long)stat_calls(&v, "outer"), (unsigned long long)oent,
		     c.outer);
	ring_view_close(&v);
	target_stop(&t);
}

/* The blocked thread's stack, from the frames in flight, each marked as
 * entered in stats mode or not as @stats says (the outer frame is a
 * thread's first call, pushed in C; the inner one a nested call, which
 * the assembly fast path pushes: attach/tramp/fast_paths.inc). */
static void expect_blocked_stack(struct target *t, const char *mode_args, bool stats)
{
	struct ring_view v;
	uint32_t sites[16], flags[16];
	uint64_t tsc[16];
	const char *ans;
	int tid, n;

	target_start(t, build_path(TARGET));
	enable(t, mode_args);
	ans = target_cmd(t, "block");
	cr_assert_eq(sscanf(ans, "done %d", &tid), 1, "%s", ans);
	cr_assert_eq(ring_view_open(t->pid, &v), 0);
	n = ring_view_frames(&v, tid, sites, flags, tsc, 16);
	cr_assert_eq(n, 2, "%d frames in flight", n);
	cr_assert_str_eq(v.names[sites[0]], "block_thread");
	cr_assert_str_eq(v.names[sites[1]], "hold");
	cr_assert(tsc[0] && tsc[0] <= tsc[1]);
	for (int i = 0; i < n; i++)
		cr_assert_eq(flags[i], stats ? TAT_FRAME_STATS : 0u, "frame %d: flags %#x", i,
			     flags[i]);
	ring_view_close(&v);
	cr_assert_str_eq(target_cmd(t, "unblock"), "done");
	cr_assert_eq(ring_view_open(t->pid, &v), 0);
	cr_assert_eq(ring_view_frames(&v, tid, sites, NULL, tsc, 16), 0,
		     "frames left after return");
	ring_view_close(&v);
	target_stop(t);
}

Test(frames, in_flight_in_stats_mode, .timeout = 60)
{
	struct target t;

	expect_blocked_stack(&t, "--enable --mode stats -t 8 -b 64K", true);
}

Test(frames, in_flight_in_event_mode, .timeout = 60)
{
	struct target t;

	expect_blocked_stack(&t, "--enable -t 8 -b 1M", false);
}

/* An 8K flight ring (1024 events) has long overwritten hold()'s ENTRY
 * (5000 calls since): the frames still say where the thread is. */
Test(frames, in_flight_after_a_flight_ring_overwrote_the_entry, .timeout = 60)
{
	struct target t;

	expect_blocked_stack(&t, "--enable --mode flight -t 8 -b 8K", false);
}

Test(stats, max_depth_records_shallow_calls_and_counts_the_rest, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct target t;
	struct ring_view v;
	uint64_t below;

	target_start(&t, build_path(TARGET));
	/* the thread's start routine is depth 0, deep(10) depth 1, ... */
	enable(&t, "--enable --mode stats --max-depth 4 -t 8 -b 64K");
	cr_assert_str_eq(target_cmd(&t, "deep 10"), "done");
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	cr_assert_eq(stat_calls(&v, "deep"), 3);
	below = ring_view_ctl_sum(&v, offsetof(struct tat_thread_ctl, below_max_depth));
	cr_assert_eq(below, 7);
	ring_view_close(&v);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "max depth:    4 (calls deeper, not recorded: 7)"), "%s", out);
	/* lifted live */
	cr_assert_eq(tattach(t.pid, "--max-depth 0", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "deep 10"), "done");
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	cr_assert_eq(stat_calls(&v, "deep"), 13);
	cr_assert_eq(ring_view_ctl_sum(&v, offsetof(struct tat_thread_ctl, below_max_depth)), 7);
	ring_view_close(&v);
	target_stop(&t);
	free(out);
	free(err);
}

Test(stats, status_shows_stats_memory, .timeout = 60)
{
	char *out = NULL, *err = NULL, want[128];
	struct ring_view v;
	struct target t;

	target_start(&t, build_path(TARGET));
	enable(&t, "--enable --mode stats -t 8 -b 64K");
	cr_assert_str_eq(target_cmd(&t, "naps 1 1"), "done 2");
	/* answer() took its record when its first call returned, which is
	 * after we read "done 2" but before we read the next answer */
	target_counts(&t);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "mode:         stats"), "%s", out);
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	/* nap_thread and nap on each of the two threads, and whatever the
	 * main thread called: one record per thread and function */
	cr_assert_geq(v.h->stats_used, 4);
	snprintf(want, sizeof(want), "stats memory: %u of 65536 records in use (%.1f KiB",
		 v.h->stats_used, v.h->stats_used * 384 / 1024.0);
	ring_view_close(&v);
	cr_assert(strstr(out, want), "no '%s' in:\n%s", want, out);
	cr_assert_eq(tattach(t.pid, "--mode flight", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "mode is now flight"), "%s", out);
	target_stop(&t);
	free(out);
	free(err);
}

/* Bytes of the ring file of @pid its filesystem holds (allocated blocks). */
static long long ring_allocated(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/tattach-%d.ring", (int)pid);
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (long long)st.st_blocks * 512;
}

/*
 * In event mode the stats region was never written, and reading it would
 * make tmpfs give it pages: tread's look for stats records read every
 * shared record (8192 sites x 384 bytes: the ring file took 3 MiB more at
 * each tread, 96 MiB for a program of 100 000 functions, and raised
 * SIGBUS in a full /dev/shm).  A shared record is written only once the
 * pool is full: until then they are not read.
 */
Test(stats, tread_in_event_mode_reads_no_unwritten_stats, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct target t;
	long long before, after;

	target_start(&t, build_path(TARGET));
	enable(&t, "--enable -t 8 -b 64K");
	cr_assert_str_eq(target_cmd(&t, "mids 3"), "done");
	before = ring_allocated(t.pid);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, " mid\n"), "%s", out);
	free(out);
	free(err);
	after = ring_allocated(t.pid);
	cr_assert_lt(after - before, 64 * 1024, "tread made %lld bytes of the ring file resident",
		     after - before);
	target_stop(&t);
}

/* Stats mode writes a region event mode never touches: a folder without
 * room for it refuses the switch (a page tmpfs cannot allocate would kill
 * the target with SIGBUS), and event mode goes on. */
Test(stats, no_room_for_stats_refuses_the_switch, .timeout = 60)
{
	char dir[] = "/tmp/tattach-nostats-XXXXXX", *out = NULL, *err = NULL;
	struct target t;

	cr_assert(mkdtemp(dir));
	if (mount("tmpfs", dir, "tmpfs", 0, "size=4m") != 0) {
		rmdir(dir);
		cr_skip_test("cannot mount a small tmpfs here");
	}
	setenv("TATTACH_RING_DIR", dir, 1);
	target_start(&t, build_path(TARGET));
	cr_assert_eq(tattach(t.pid, "--enable -b 16K -t 8", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--mode stats", &out, &err), 1, "%s", out);
	cr_assert(strstr(err, "stats mode needs "), "%s", err);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "mode:         discard"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "mids 3"), "done");
	target_stop(&t);
	unsetenv("TATTACH_RING_DIR");
	umount(dir);
	rmdir(dir);
	free(out);
	free(err);
}

/* A pool of 4 records (TATTACH_TEST_STATS_POOL) runs out at once: the
 * other (thread, function) pairs count in the shared per-function records,
 * with locked instructions, 8 threads at a time: still exact. */
Test(stats, pool_full_falls_back_to_shared_records_exactly, .timeout = 120)
{
	char *out = NULL, *err = NULL;
	struct target t;
	struct ring_view v;
	struct counts c;
	uint64_t shared;

	target_start(&t, build_path(TARGET));
	setenv("TATTACH_TEST_STATS_POOL", "4", 1);
	enable(&t, "--enable --mode stats -t 16 -b 64K");
	unsetenv("TATTACH_TEST_STATS_POOL");
	cr_assert(!strncmp(target_cmd(&t, "hazard 8 2000"), "done ", 5));
	c = target_counts(&t);
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	cr_assert_eq(v.h->stats_cap, 4);
	cr_assert_geq(v.h->stats_used, 4);
	cr_assert_eq(stat_calls(&v, "leaf"), (uint64_t)c.leaf);
	cr_assert_eq(stat_calls(&v, "mid"), (uint64_t)c.mid);
	cr_assert_eq(stat_calls(&v, "ja"), (uint64_t)c.ja);
	cr_assert_eq(stat_calls(&v, "jc"), (uint64_t)c.jc);
	cr_assert_eq(stat_calls(&v, "on_prof"), (uint64_t)c.handler);
	shared = ring_view_ctl_sum(&v, offsetof(struct tat_thread_ctl, stats_shared));
	cr_assert_gt(shared, 0);
	ring_view_close(&v);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "stats memory: 4 of 4 records in use") && strstr(out, "pool full"),
		  "%s", out);
	cr_assert(strstr(out, "stats shared: "), "%s", out);
	target_stop(&t);
	free(out);
	free(err);
}
