// SPDX-License-Identifier: MIT
/*
 * tattach killed with SIGKILL at random moments of --enable and --disable,
 * while four threads of the target hammer traced functions and check every
 * result.  After each kill the target must still answer correctly, and at
 * the end a normal enable/disable must bring it to a consistent state.
 * A fresh target every 10 trials, so the first injection is hit as well.
 * TATTACH_TRIALS sets the number of trials (default 200).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

/* Start tattach, kill it after @delay_us, reap it; returns its status. */
static int kill_after(pid_t target, const char *action, long delay_us)
{
	char pidbuf[16];
	char *argv[] = { (char *)build_path("tattach"), "-p", pidbuf, (char *)action, NULL };
	struct timespec ts = { 0, delay_us * 1000 };
	int status;
	pid_t pid;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)target);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", 1);

		dup2(devnull, 1);
		dup2(devnull, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	nanosleep(&ts, NULL);	/* the random moment itself, not a wait */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

Test(stress, tracer_killed_at_random_moments, .timeout = 3600)
{
	const char *env = getenv("TATTACH_TRIALS");
	int trials = env ? atoi(env) : 200, killed = 0, finished = 0;
	char *out = NULL, *err = NULL;
	struct target t = { 0 };

	srand((unsigned)time(NULL));
	for (int i = 0; i < trials; i++) {
		int status;

		if (i % 10 == 0) {
			if (t.pid) {
				cr_assert_str_eq(target_cmd(&t, "stop"), "done");
				cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
				ring_remove(t.pid);
			}
			target_start(&t, build_path("tests/targets/calltree.pg.O2"));
			ring_remove(t.pid);
			cr_assert_str_eq(target_cmd(&t, "spin 4"), "done");
		}
		status = kill_after(t.pid, i % 2 ? "--disable" : "--enable", rand() % 30000);
		if (WIFSIGNALED(status))
			killed++;
		else
			finished++;
		/* the target still works, and checks its own results */
		{
			const char *ans = target_cmd(&t, "run 5");
			char status_line[128] = "";
			char path[64], line[128];
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%d/status", (int)t.pid);
			f = fopen(path, "r");
			while (f && fgets(line, sizeof(line), f))
				if (!strncmp(line, "State:", 6))
					snprintf(status_line, sizeof(status_line), "%s", line);
			if (f)
				fclose(f);
			cr_assert_str_eq(ans, "done", "trial %d (%s after %s): target answered '%s', %s",
					 i, i % 2 ? "--disable" : "--enable", "a random delay", ans,
					 status_line[0] ? status_line : "gone");
		}
	}
	/* a normal run brings it to a consistent state */
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing:      disabled"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "stop"), "done");
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	printf("tracer death: %d trials, %d killed mid-run, %d finished first\n", trials,
	       killed, finished);
}
