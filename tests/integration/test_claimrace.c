// SPDX-License-Identifier: MIT
/*
 * A thread's first traced call claims its slot; a signal handler that runs
 * traced code in the middle of that claim claims too (the first write to
 * a fresh slot page faults, and the kernel delivers signals on the way
 * back).  The trampoline once gave the thread two slots there: the first
 * call's frame went to one, its return looked in the other and the target
 * died of SIGILL.  Seen 1 run in 100 of stats/counts_equal_*, where a -pg
 * program's own ITIMER_PROF hit a new thread; the target claimrace aims
 * SIGPROF at 200 first calls and, without the fix, never lived through
 * them.  Exact: one slot per thread, every call counted once.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "lib/proc_harness.h"
#include "lib/ring_view.h"

#define TARGET  "tests/targets/claimrace"
#define THREADS 200

/* Run the race under tattach @enable; the target's counts of first() and
 * handled() calls.  The target must live through it. */
static void race(struct target *t, const char *enable, long *first, long *handled)
{
	char *out = NULL, *err = NULL;
	char cmd[32];
	const char *ans;

	target_start(t, build_path(TARGET));
	cr_assert_eq(tattach(t->pid, enable, &out, &err), 0, "%s%s", out, err);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "claims %d", THREADS);
	ans = target_cmd(t, cmd);
	if (sscanf(ans, "done %ld %ld", first, handled) != 2) {
		int status = target_stop(t);

		cr_assert_fail("claims: answered '%s', target %s %d", ans,
			       WIFSIGNALED(status) ? "killed by signal" : "exited with",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	cr_assert_eq(*first, THREADS);
}

/* One slot per racer thread, none short. */
static void assert_one_slot_each(const struct ring_view *v)
{
	cr_assert_eq(v->h->threads_used, THREADS, "%u slots for %d threads",
		     v->h->threads_used, THREADS);
	cr_assert_eq(v->h->threads_overflow, 0);
}

Test(claimrace, signals_in_the_first_call_of_threads_events, .timeout = 120)
{
	struct target t;
	struct ring_view v;
	long first, handled;
	uint64_t ent, ex;

	race(&t, "--enable -t 256 -b 64K", &first, &handled);
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	assert_one_slot_each(&v);
	cr_assert_eq(ring_view_events(&v, ring_view_site(&v, "first"), &ent, &ex), 0);
	cr_assert(ent == THREADS && ex == THREADS, "first: %llu entries, %llu exits",
		  (unsigned long long)ent, (unsigned long long)ex);
	cr_assert_eq(ring_view_events(&v, ring_view_site(&v, "handled"), &ent, &ex), 0);
	cr_assert(ent == (uint64_t)handled && ex == (uint64_t)handled,
		  "handled: %llu entries, %llu exits, %ld calls", (unsigned long long)ent,
		  (unsigned long long)ex, handled);
	ring_view_close(&v);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
}

Test(claimrace, signals_in_the_first_call_of_threads_stats, .timeout = 120)
{
	struct target t;
	struct ring_view v;
	struct site_totals s;
	long first, handled;

	race(&t, "--enable --mode stats -t 256 -b 64K", &first, &handled);
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	assert_one_slot_each(&v);
	ring_view_stats(&v, ring_view_site(&v, "first"), &s);
	cr_assert_eq(s.calls, THREADS);
	ring_view_stats(&v, ring_view_site(&v, "handled"), &s);
	cr_assert_eq(s.calls, (uint64_t)handled);
	ring_view_close(&v);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
}
