// SPDX-License-Identifier: MIT
/*
 * A soak (make stress): the hazards target, built -pg, with patchable
 * entries, and without either at -O0 (enabled with --entry), runs its
 * commands one after the other (signals at 5 kHz on a
 * sigaltstack, fork, fork + exec, vfork + exec, a vfork child calling
 * traced code, longjmp, siglongjmp, recursion, tail calls, threads that
 * come and go, cancelled threads, a plugin library loaded, called and
 * unloaded), each checking its own results, while
 * tattach and tread do everything they can to it at random: enable in
 * each mode and ring size (library calls hooked or not), enable with a
 * filter, disable, switch modes,
 * set a depth limit, status, stacks, reports; and SIGSTOP and SIGCONT
 * come in between, as a shell's job control would send them.  Every tattach and tread
 * must end (a minute at most) and succeed, or refuse with one of the
 * answers a busy process may get; every command of the targets must
 * answer "done"; they must exit 0 at the end.
 *
 * This is how two hangs were found: a signal between tattach's interrupt
 * and the thread's stop made the kernel forget the interrupt, and a
 * thread in vfork() for a millisecond made tattach refuse the process
 * (tests/unit/test_seize.c has both).
 *
 * TATTACH_STRESS_SECONDS (default 120) sets how long it runs; the seed
 * of the random choices is printed, and TATTACH_SOAK_SEED replays one.
 * The rings (fork children make their own) live in a folder of their own.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/proc_harness.h"

#define ACTION_TIMEOUT "60"	/* seconds: longer is a hang */

static const char *const commands[] = {
	"signals 20000", "fork", "forkexec", "vforkexec", "vforkcall", "longjmp 200",
	"siglongjmp 200", "recurse 300", "tail 500", "churn 8 3", "cancel 3",
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

struct driver {
	struct target t;
	const char *name;
	int entry;		/* built without -pg: enabled with --entry */
	const char *lib;	/* its plugin: tests/targets/<lib> */
	char plugin[600];	/* the command that loads, calls and unloads it */
	unsigned seed;
	volatile int stop;
	long done;		/* commands answered "done" */
	char error[256];	/* the first wrong answer, or "" */
	pthread_t thread;
};

/* Commands at random until told to stop or an answer is wrong.  No
 * Criterion assertion here (another thread): the test checks error. */
static void *drive(void *arg)
{
	struct driver *d = arg;
	char answer[256];

	while (!d->stop) {
		unsigned k = rand_r(&d->seed) % (NCOMMANDS + 1);
		const char *cmd = k < NCOMMANDS ? commands[k] : d->plugin;
		size_t len = strlen(cmd);

		if (write(d->t.in, cmd, len) != (ssize_t)len || write(d->t.in, "\n", 1) != 1 ||
		    !fgets(answer, sizeof(answer), d->t.out)) {
			snprintf(d->error, sizeof(d->error), "%s: no answer to '%s'", d->name, cmd);
			break;
		}
		if (strncmp(answer, "done", 4)) {
			snprintf(d->error, sizeof(d->error), "%s: '%s' answered %.180s", d->name,
				 cmd, answer);
			break;
		}
		d->done++;
	}
	return NULL;
}

/* Run @argv (after "timeout"), return its exit status; 137: it hung and
 * was killed. */
static int run_timed(char **argv, char **out, char **err)
{
	char *full[24] = { "timeout", "-s", "KILL", ACTION_TIMEOUT };
	int i;

	for (i = 0; argv[i] && i < 19; i++)
		full[4 + i] = argv[i];
	full[4 + i] = NULL;
	return run_capture(full, out, err);
}

/* The answers a busy, forking process may get: a thread in vfork() for
 * longer than tattach waits, and a tread before the first enable. */
static int acceptable_refusal(const char *err)
{
	return strstr(err, "waits in vfork()") || strstr(err, "no ring file");
}

static const char *pick(unsigned *seed, const char *const *v, size_t n)
{
	return v[rand_r(seed) % n];
}

#define PICK(seed, ...) pick(seed, (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* One random action on @pid (@entry: its functions are patched with
 * --entry); fails the test on a hang or an error. */
static void act(unsigned *seed, pid_t pid, int entry, long *count, long *refused)
{
	char pidarg[16], *out = NULL, *err = NULL, line[256];
	char *argv[14] = { NULL };
	int action = rand_r(seed) % 12, rc, n = 0;

	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	if (action >= 10) {	/* job control between the runs: stopped, then on again */
		kill(pid, rand_r(seed) % 3 ? SIGCONT : SIGSTOP);
		(*count)++;
		return;
	}
	argv[n++] = (char *)build_path(action < 8 ? "tattach" : "tread");
	switch (action) {
	case 0:
	case 1:
		argv[n++] = "--enable";
		if (entry)
			argv[n++] = "--entry";
		argv[n++] = "-m";
		argv[n++] = (char *)PICK(seed, "flight", "discard", "stats");
		argv[n++] = "-b";
		argv[n++] = (char *)PICK(seed, "64K", "1M");
		if (rand_r(seed) % 3 == 0)
			argv[n++] = "--libcalls";
		break;
	case 2:
		argv[n++] = "--enable";
		if (entry)
			argv[n++] = "--entry";
		argv[n++] = "-F";
		argv[n++] = (char *)PICK(seed, "leaf", "work", "jump.*", "tail.*", "on_prof");
		break;
	case 3:
		argv[n++] = "--disable";
		break;
	case 4:
		argv[n++] = "--mode";
		argv[n++] = (char *)PICK(seed, "flight", "discard", "stats");
		break;
	case 5:
		argv[n++] = "--max-depth";
		argv[n++] = (char *)PICK(seed, "0", "3", "50");
		break;
	case 6:
		argv[n++] = "--status";
		break;
	case 7:
		argv[n++] = "--stacks";
		break;
	default:
		argv[n++] = (char *)PICK(seed, "--report", "--hist", "--stuck", "--per-thread");
		if (!strcmp(argv[n - 1], "--per-thread")) {
			argv[n - 1] = "--report";
			argv[n++] = "--per-thread";
		}
		break;
	}
	argv[n++] = "-p";
	argv[n++] = pidarg;
	rc = run_timed(argv, &out, &err);
	snprintf(line, sizeof(line), "%s %s", argv[0], argv[1]);
	cr_assert_neq(rc, 137, "%s -p %d hung (killed after " ACTION_TIMEOUT " s)", line,
		      (int)pid);
	if (rc != 0) {
		cr_assert(rc == 1 && acceptable_refusal(err), "%s ... -p %d: exit %d\n%s", line,
			  (int)pid, rc, err);
		(*refused)++;
	}
	(*count)++;
	free(out);
	free(err);
}

/* The targets and their drivers.  File-scope for soak_fini(): a
 * failed assertion ends the test early, and a target left stopped by a
 * last SIGSTOP keeps its output open, on which tests/run-all.sh would
 * wait for ever (seen: the failed soak of 2026-12-05).  A pid of 0:
 * not started, or reaped already. */
static struct driver d[] = {
	{ .name = "hazards", .lib = "libwork.so" },
	{ .name = "hazards.pfe", .lib = "libwork.pfe.so" },
	{ .name = "hazards.plain.O0", .entry = 1, .lib = "libwork.plain.so" },
};
#define NDRIVERS (sizeof(d) / sizeof(d[0]))

static void soak_fini(void)
{
	for (size_t i = 0; i < NDRIVERS; i++)
		if (d[i].t.pid > 0)
			kill(d[i].t.pid, SIGKILL);
}

TestSuite(soak, .timeout = 1800, .fini = soak_fini);

Test(soak, hazards_under_every_tattach_action)
{
	const char *env = getenv("TATTACH_STRESS_SECONDS");
	double seconds = env && atof(env) > 0 ? atof(env) : 120;
	const char *seed_env = getenv("TATTACH_SOAK_SEED");
	unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 0) : (unsigned)time(NULL);
	char dir[] = "/dev/shm/tattach-soak-XXXXXX", *out = NULL, *err = NULL;
	char *clean[] = { NULL, "--clean", NULL };
	long count = 0, refused = 0;
	struct timespec start, now;
	int status;

	cr_log_info("soak: seed %u (TATTACH_SOAK_SEED replays it), %.0f s", seed, seconds);
	cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	cr_assert_eq(setenv("TATTACH_RING_DIR", dir, 1), 0);
	for (size_t i = 0; i < NDRIVERS; i++) {
		char bin[64], lib[512];

		snprintf(bin, sizeof(bin), "tests/targets/%s", d[i].lib);
		cr_assert(realpath(build_path(bin), lib), "%s: %s", bin, strerror(errno));
		snprintf(d[i].plugin, sizeof(d[i].plugin), "plugin %s 50", lib);
		snprintf(bin, sizeof(bin), "tests/targets/%s", d[i].name);
		target_start(&d[i].t, build_path(bin));
		d[i].seed = seed + 1 + (unsigned)i;
		cr_assert_eq(pthread_create(&d[i].thread, NULL, drive, &d[i]), 0);
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		struct driver *on = &d[rand_r(&seed) % NDRIVERS];

		act(&seed, on->t.pid, on->entry, &count, &refused);
		for (size_t i = 0; i < NDRIVERS; i++)
			cr_assert_str_eq(d[i].error, "");
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < seconds);

	for (size_t i = 0; i < NDRIVERS; i++) {
		d[i].stop = 1;
		kill(d[i].t.pid, SIGCONT);	/* left stopped by a last SIGSTOP */
		pthread_join(d[i].thread, NULL);
		cr_assert_str_eq(d[i].error, "");
		cr_assert_eq(tattach(d[i].t.pid, "--disable", &out, &err), 0, "%s", err);
		status = target_stop(&d[i].t);
		d[i].t.pid = 0;		/* reaped: nothing for soak_fini() */
		cr_assert_eq(WEXITSTATUS(status), 0, "%s did not exit 0", d[i].name);
	}
	cr_log_info("soak: %ld actions (%ld refused: vfork, no ring yet); commands done: "
		    "%ld, %ld and %ld", count, refused, d[0].done, d[1].done, d[2].done);
	for (size_t i = 0; i < NDRIVERS; i++)
		cr_assert_gt(d[i].done, 0, "%s answered no command", d[i].name);
	/* the rings of the targets and of their fork children (build_path()
	 * reuses its buffers: taken now) */
	clean[0] = (char *)build_path("tattach");
	cr_assert_eq(run_capture(clean, &out, &err), 0, "%s", err);
	cr_assert_eq(rmdir(dir), 0, "%s not empty after --clean: %s", dir, strerror(errno));
	free(out);
	free(err);
}
