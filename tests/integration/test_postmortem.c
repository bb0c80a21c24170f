// SPDX-License-Identifier: MIT
/*
 * The target ends while traced (exit, abort, SIGKILL): its ring file keeps
 * everything it recorded, and tread shows the last calls, post mortem.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

static char *after_death(const char *how, int *status)
{
	char *out = NULL, *err = NULL;
	struct target t;
	pid_t pid;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	t.keep_ring = 1;	/* read after death, removed below */
	pid = t.pid;
	ring_remove(pid);
	cr_assert_eq(tattach(pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	if (!strcmp(how, "kill")) {
		kill(pid, SIGKILL);
		*status = target_stop(&t);
	} else {
		/* "crash 1" or "quit": no answer comes; the harness says why */
		const char *said = target_cmd(&t, how);
		char want[96];

		if (!strcmp(how, "quit"))
			snprintf(want, sizeof(want), "(no answer: pid %d exited with status 0)", pid);
		else
			snprintf(want, sizeof(want), "(no answer: pid %d killed by signal %d",
				 pid, SIGABRT);
		cr_assert(!strncmp(said, want, strlen(want)), "%s", said);
		*status = target_stop(&t);
	}
	cr_assert_eq(tread(pid, "", &out, &err), 0, "%s", err);
	ring_remove(pid);
	{
		char *canon = graph_canon(out, pid);

		free(out);
		return canon;
	}
}

Test(postmortem, killed)
{
	int status;
	char *got = after_death("kill", &status), *want = NULL, *w = expect_work(2);

	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	str_append(&want, "dispatch(");
	str_append(&want, w);
	str_append(&want, ")");
	cr_assert_str_eq(got, want);
}

Test(postmortem, aborted)
{
	int status;
	char *got = after_death("crash 1", &status), *want = NULL, *w = expect_work(2);

	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	/* the last calls before the crash are there; dispatch never ended */
	str_append(&want, "dispatch(");
	str_append(&want, w);
	str_append(&want, ") dispatch(work(a(b(leaf) c(leaf leaf)))");
	cr_assert_str_eq(got, want);
}

Test(postmortem, exited)
{
	int status;
	char *got = after_death("quit", &status), *want = NULL, *w = expect_work(2);

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	str_append(&want, "dispatch(");
	str_append(&want, w);
	str_append(&want, ") dispatch(");
	cr_assert_str_eq(got, want);
}
