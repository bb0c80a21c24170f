// SPDX-License-Identifier: MIT
/*
 * tattach killed with SIGKILL at random moments of --enable and --disable,
 * while four threads of the target hammer traced functions and check every
 * result.  After each kill the target must still answer correctly, and at
 * the end a normal enable/disable must bring it to a consistent state.
 * A fresh target every 10 trials, so the first injection is hit as well.
 * TATTACH_TRIALS sets the number of trials (default 200).
 *
 * A failure is printed to stdout (and appended to the file named by
 * TATTACH_STRESS_LOG, if set) before the assertion ends the test, with the
 * trial, the moment, how tattach and the target ended and the ring's state:
 * a failure in thousands of trials must never again leave no message.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

/* Say it everywhere it can be kept, then fail. */
static void __attribute__((format(printf, 1, 2))) report(const char *fmt, ...)
{
	const char *log = getenv("TATTACH_STRESS_LOG");
	char msg[4096];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("tracer death FAILED: %s\n", msg);
	fflush(stdout);
	f = log && *log ? fopen(log, "a") : NULL;
	if (f) {
		fprintf(f, "tracer death FAILED: %s\n", msg);
		fclose(f);
	}
	cr_assert_fail("%s", msg);
}

/* How the target is: its State line, or how it ended (it is our child). */
static void target_condition(pid_t pid, char *buf, size_t len)
{
	char path[64], line[128];
	int status;
	FILE *f;

	if (waitpid(pid, &status, WNOHANG) == pid) {
		if (WIFSIGNALED(status))
			snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
		else
			snprintf(buf, len, "exited with %d", WEXITSTATUS(status));
		return;
	}
	snprintf(buf, len, "no State line");
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "State:", 6)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line);
		}
	if (f)
		fclose(f);
}

/* Start tattach with @args (up to 6 words, the last NULL), kill it after
 * @delay_us, reap it; returns its status. */
static int kill_after(pid_t target, const char *const *args, long delay_us)
{
	char pidbuf[16];
	char *argv[10] = { (char *)build_path("tattach"), "-p", pidbuf };
	struct timespec ts = { 0, delay_us * 1000 };
	int status;
	pid_t pid;

	for (int k = 0; k < 6 && args[k]; k++)
		argv[3 + k] = (char *)args[k];
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

/*
 * The trials on @bin: --enable with @enable (NULL-terminated words after
 * it), then --disable, in turn, each killed at a random moment; the
 * target answers "run 5" right after every one.  Then a whole --enable
 * and --disable.
 */
static void trials_on(const char *bin, const char *const *enable)
{
	const char *env = getenv("TATTACH_TRIALS");
	int trials = env ? atoi(env) : 200, killed = 0, finished = 0, rc;
	const char *en_args[8] = { "--enable" }, *dis_args[] = { "--disable", NULL };
	char *out = NULL, *err = NULL, enable_line[128] = "--enable";
	struct target t = { 0 };

	for (int k = 0; enable[k] && k < 6; k++) {
		en_args[1 + k] = enable[k];
		snprintf(enable_line + strlen(enable_line), sizeof(enable_line) - strlen(enable_line),
			 " %s", enable[k]);
	}
	srand((unsigned)time(NULL));
	for (int i = 0; i < trials; i++) {
		const char *action;
		long delay;
		int status;

		if (i % 10 == 0) {
			if (t.pid) {
				const char *ans = target_cmd(&t, "stop");

				if (strcmp(ans, "done"))
					report("trial %d: the target answered '%s' to stop", i, ans);
				status = target_stop(&t);
				if (!WIFEXITED(status) || WEXITSTATUS(status))
					report("trial %d: the target ended with status %#x", i,
					       status);
				ring_remove(t.pid);
			}
			target_start(&t, build_path(bin));
			ring_remove(t.pid);
			cr_assert_str_eq(target_cmd(&t, "spin 4"), "done");
		}
		delay = rand() % 30000;
		action = i % 2 ? "--disable" : enable_line;
		status = kill_after(t.pid, i % 2 ? dis_args : en_args, delay);
		if (WIFSIGNALED(status))
			killed++;
		else
			finished++;
		/* the target still works, and checks its own results */
		{
			const char *ans = target_cmd(&t, "run 5");
			char cond[128], *sout = NULL, *serr = NULL;

			if (strcmp(ans, "done")) {
				char copy[256];

				snprintf(copy, sizeof(copy), "%s", ans);
				target_condition(t.pid, cond, sizeof(cond));
				tattach(t.pid, "--status", &sout, &serr);
				report("trial %d of %d (%s, trial %d of this target, tattach %s "
				       "after %ld us): target answered '%s'; target: %s; "
				       "status: %s%s", i, trials, action, i % 10,
				       WIFSIGNALED(status) ? "killed" : "finished first",
				       delay, copy, cond, sout ? sout : "", serr ? serr : "");
			}
		}
	}
	/* a normal run brings it to a consistent state */
	rc = tattach(t.pid, enable_line, &out, &err);
	if (rc)
		report("final %s: exit %d: %s", enable_line, rc, err);
	if (strcmp(target_cmd(&t, "run 2"), "done"))
		report("final run 2 failed");
	rc = tattach(t.pid, "--disable", &out, &err);
	if (rc)
		report("final --disable: exit %d: %s", rc, err);
	if (tattach(t.pid, "--status", &out, &err) || !strstr(out, "tracing:      disabled"))
		report("final --status: %s%s", out, err);
	if (strcmp(target_cmd(&t, "stop"), "done"))
		report("final stop failed");
	{
		int status = target_stop(&t);

		if (!WIFEXITED(status) || WEXITSTATUS(status))
			report("the target ended with status %#x", status);
	}
	ring_remove(t.pid);
	printf("tracer death (%s, %s): %d trials, %d killed mid-run, %d finished first\n", bin,
	       enable_line, trials, killed, finished);
	fflush(stdout);
}

Test(stress, tracer_killed_at_random_moments, .timeout = 3600)
{
	/* make stress runs it three times: -pg sites, "pfe:" (run-all.sh)
	 * patchable-entry sites with their call-through stubs, and
	 * "hijack:" with every return hijacked */
	const char *flavour = getenv("TATTACH_TARGET_FLAVOR");
	static const char *const none[] = { NULL };

	trials_on(flavour && !strcmp(flavour, "pfe") ? "tests/targets/calltree.pfe.O2" :
		  "tests/targets/calltree.pg.O2", none);
}

/* The stubs near their module: every function of a build without -pg
 * entry-patched, and every import of it hooked. */
Test(stress, tracer_killed_with_entry_and_library_call_stubs, .timeout = 3600)
{
	static const char *const any[] = { "--entry", "--libcalls", NULL };

	trials_on("tests/targets/calltree.plain.gcc.O2.pie-cet", any);
}
