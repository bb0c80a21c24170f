// SPDX-License-Identifier: MIT
/*
 * Signals in the first traced call of new threads, for a while (make
 * stress): the slot claim that a handler of the thread's own beats
 * (tests/integration/test_claimrace.c, 200 threads, is in make check).
 *
 *   claims_by_the_thousand  TATTACH_TRIALS targets (default 20), events
 *                           and stats mode in turn, 1000 racer threads
 *                           each: the target lives, one slot per thread
 *   statswork_hazard_runs   TATTACH_TRIALS * 10 runs of statswork's
 *                           "hazard 8 3000" (8 threads, 10 kHz SIGPROF,
 *                           longjmp), the test that failed 1 run in 100
 *                           with a SIGILL before the fix: every run ends
 *                           with "done" and the target's exit status 0
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/proc_harness.h"
#include "lib/ring_view.h"

static int trials(void)
{
	const char *env = getenv("TATTACH_TRIALS");

	return env && atoi(env) > 0 ? atoi(env) : 20;
}

/* How @t ended after @cmd got @ans instead of "done ...". */
static void fail_run(struct target *t, int trial, const char *cmd, const char *ans)
{
	int status = target_stop(t);

	cr_assert_fail("trial %d: '%s' answered '%s'; the target %s %d", trial, cmd, ans,
		       WIFSIGNALED(status) ? "was killed by signal" : "exited with",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void enable(struct target *t, const char *args)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(t->pid, args, &out, &err), 0, "tattach %s: %s%s", args, out, err);
	free(out);
	free(err);
}

Test(claimrace_stress, claims_by_the_thousand, .timeout = 1800)
{
	for (int i = 0, n = trials(); i < n; i++) {
		struct target t;
		struct ring_view v;
		const char *ans;

		target_start(&t, build_path("tests/targets/claimrace"));
		enable(&t, i % 2 ? "--enable --mode stats -t 1024 -b 16K" : "--enable -t 1024 -b 16K");
		ans = target_cmd(&t, "claims 1000");
		if (strncmp(ans, "done 1000 ", 10))
			fail_run(&t, i, "claims 1000", ans);
		cr_assert_eq(ring_view_open(t.pid, &v), 0);
		cr_assert_eq(v.h->threads_used, 1000, "trial %d: %u slots for 1000 threads", i,
			     v.h->threads_used);
		ring_view_close(&v);
		cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	}
}

Test(claimrace_stress, statswork_hazard_runs, .timeout = 1800)
{
	for (int i = 0, n = trials() * 10; i < n; i++) {
		struct target t;
		const char *ans;

		target_start(&t, build_path("tests/targets/statswork"));
		enable(&t, i % 2 ? "--enable -t 16 -b 64K" : "--enable --mode stats -t 16 -b 64K");
		ans = target_cmd(&t, "hazard 8 3000");
		if (strncmp(ans, "done ", 5))
			fail_run(&t, i, "hazard 8 3000", ans);
		cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	}
}
