// SPDX-License-Identifier: MIT
/*
 * tattach killed at each of its remote system calls in a first --enable
 * (and just after the temporary rescue code is cleared),
 * stopped at the syscall exit (the thread it borrowed then runs on with the
 * registers tattach gave it): the target must carry on exactly as before,
 * every blocked call undisturbed, and a later run must finish the job.
 * `make stress` adds hundreds of kills at random moments.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proc_harness.h"

Test(tracer_death, killed_at_every_remote_call, .timeout = 120)
{
	int calls_seen = 0;

	for (int n = 1; n <= 16; n++) {
		char *out = NULL, *err = NULL, env[32];
		struct target t;
		int rc;

		target_start(&t, build_path("tests/targets/blocking"));
		ring_remove(t.pid);
		snprintf(env, sizeof(env), "%d", n);
		setenv("TATTACH_TEST_DIE_AT", env, 1);
		rc = tattach(t.pid, "--enable", &out, &err);
		unsetenv("TATTACH_TEST_DIE_AT");
		if (rc == 128 + 9)
			calls_seen = n;
		cr_assert(strncmp(target_cmd(&t, "wake"), "ok", 2) == 0,
			  "killed at kill point %d (remote calls and the rescue hand-over): the target is hurt", n);
		/* the next run brings it to a consistent state */
		cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "after %d: %s", n, err);
		cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "after %d: %s", n, err);
		cr_assert(strncmp(target_cmd(&t, "wake"), "ok", 2) == 0);
		cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
		free(out);
		free(err);
	}
	/* the seam really fired: a first enable makes about ten remote calls */
	cr_assert_geq(calls_seen, 8, "tattach died at only %d calls", calls_seen);
}
