// SPDX-License-Identifier: MIT
/*
 * Threads parked in read, epoll_wait, nanosleep, futex and accept while
 * tattach stops and resumes the process again and again: none of them may
 * see an EINTR, a short sleep or a lost byte.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proc_harness.h"

static void cycles(const char *bin, int n)
{
	char *out = NULL, *err = NULL;
	struct target t;

	target_start(&t, build_path(bin));
	ring_remove(t.pid);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
		cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
		free(out);
		free(err);
	}
	cr_assert(strncmp(target_cmd(&t, "wake"), "ok", 2) == 0,
		  "after %d cycles the program saw: %s", n, target_cmd(&t, "wake"));
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
}

Test(blocking, no_eintr_across_enable_disable, .timeout = 120)
{
	cycles("tests/targets/blocking", 25);
}
