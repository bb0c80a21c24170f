// SPDX-License-Identifier: MIT
/*
 * Two tattach runs on one process at the same moment: one does the work,
 * the other either finds it done or fails with one clear line; never do
 * both rewrite sites, and the process keeps working.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/proc_harness.h"

static pid_t spawn(pid_t target, const char *action, int *errfd)
{
	char pidbuf[16];
	char *argv[] = { (char *)build_path("tattach"), "-p", pidbuf, (char *)action, "-v", NULL };
	int p[2];
	pid_t pid;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)target);
	cr_assert(pipe(p) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*errfd = p[0];
	return pid;
}

static int finish(pid_t pid, int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);
	int status;

	buf[n > 0 ? n : 0] = 0;
	close(fd);
	waitpid(pid, &status, 0);
	return WEXITSTATUS(status);
}

Test(concurrency, two_runs_at_once, .timeout = 120)
{
	char *out = NULL, *err = NULL;
	struct target t;
	int refused = 0;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	ring_remove(t.pid);
	cr_assert_str_eq(target_cmd(&t, "spin 2"), "done");
	for (int i = 0; i < 40; i++) {
		const char *action = i % 2 ? "--disable" : "--enable";
		const char *want = i % 2 ? "tracing:      disabled" : "tracing:      enabled";
		char b1[1024], b2[1024];
		int fd1, fd2, rc1, rc2;
		pid_t p1 = spawn(t.pid, action, &fd1);
		pid_t p2 = spawn(t.pid, action, &fd2);

		rc1 = finish(p1, fd1, b1, sizeof(b1));
		rc2 = finish(p2, fd2, b2, sizeof(b2));
		cr_assert(rc1 == 0 || rc2 == 0, "neither run succeeded:\n%s%s", b1, b2);
		if (rc1 || rc2) {
			const char *msg = rc1 ? b1 : b2;

			refused++;
			cr_assert(strstr(msg, "another tattach") || strstr(msg, "already traced"),
				  "unclear refusal: %s", msg);
		}
		cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
		cr_assert(strstr(out, want), "round %d: %s\nrun 1: %s\nrun 2: %s", i, out, b1, b2);
	}
	cr_assert_str_eq(target_cmd(&t, "stop"), "done");
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	cr_log_info("%d of 40 rounds had one run refused", refused);
}
