// SPDX-License-Identifier: MIT
/*
 * Processes in awkward states: a thread waiting in vfork() (tattach waits
 * a little for its child, never for good), a main thread that has exited
 * while others run (the live threads are traced), threads that exit while
 * they are being stopped (gone, not "not permitted").
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

static struct target t;

static void start(void)
{
	target_start(&t, build_path("tests/targets/states"));
	ring_remove(t.pid);
}

static void stop(void)
{
	if (t.pid > 0) {
		pid_t pid = t.pid;

		cr_expect_eq(WEXITSTATUS(target_stop(&t)), 0);
		ring_remove(pid);
	}
}

TestSuite(states, .init = start, .fini = stop, .timeout = 120);

static long tracer_of(pid_t pid)
{
	char path[64], line[256];
	long tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %ld", &tracer) == 1)
			break;
	if (f)
		fclose(f);
	return tracer;
}

static int ring_exists(pid_t pid)
{
	char path[96];

	snprintf(path, sizeof(path), "/dev/shm/tattach-%d.ring", (int)pid);
	return access(path, F_OK) == 0;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* "vforked CHILD TID": the child, and the thread that waits in vfork() */
static pid_t vforked_child(const char *answer, pid_t *vforker)
{
	int pid = 0, tid = 0;

	cr_assert_eq(sscanf(answer, "vforked %d %d", &pid, &tid), 2, "answer: %s", answer);
	*vforker = (pid_t)tid;
	return (pid_t)pid;
}

/* Sites patched in all modules, from --status. */
static long patched_sites(const char *status)
{
	const char *p = status;
	long sum = 0, n;

	while ((p = strstr(p, " sites, "))) {
		p += strlen(" sites, ");
		cr_assert_eq(sscanf(p, "%ld patched", &n), 1, "%s", status);
		sum += n;
	}
	return sum;
}

/*
 * tattach @args must have failed, in one line, because thread @vforker
 * waits in vfork() (for good: its child blocks until told): it returned
 * after its wait while the child still blocks and the vforking thread
 * still waits, and left nothing attached.
 */
static void assert_refused_in_vfork(const char *args, pid_t vforker, pid_t child)
{
	char *out = NULL, *err = NULL, want[128];
	int rc = tattach(t.pid, args, &out, &err);

	cr_assert_eq(rc, 1, "tattach %s: exit %d\n%s%s", args, rc, out, err);
	cr_assert_eq(count_lines(err), 1, "one line expected:\n%s", err);
	cr_assert(strstr(err, "waits in vfork() until its child calls exec or exits"),
		  "%s", err);
	if (vforker != t.pid) {
		snprintf(want, sizeof(want), "thread %d of pid %d", (int)vforker, (int)t.pid);
		cr_assert(strstr(err, want), "want '%s' in: %s", want, err);
	}
	/* returned while the child was still blocked, not after */
	cr_assert_eq(task_state(child, child), 'S', "the vfork child is no longer blocked");
	cr_assert_eq(task_state(t.pid, vforker), 'D', "the parent left vfork()");
	cr_assert_eq(tracer_of(t.pid), 0, "pid %d is still traced", (int)t.pid);
	cr_assert_eq(tracer_of(vforker), 0, "thread %d is still traced", (int)vforker);
	free(out);
	free(err);
}

/* Traced already: run @n, disable, and the graph is work(@n)'s. */
static void run_disable(long n)
{
	char *out = NULL, *err = NULL, *want = NULL, *w = expect_work(n), *got, cmd[32];
	int tids[8];

	snprintf(cmd, sizeof(cmd), "run %ld", n);
	cr_assert_str_eq(target_cmd(&t, cmd), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_eq(graph_tids(out, tids, 8), 1, "%s", out);
	got = graph_canon(out, tids[0]);
	str_append(&want, "dispatch(");
	str_append(&want, w);
	str_append(&want, ")");
	cr_assert_str_eq(got, want, "\n%s", out);
	free(got);
	free(want);
	free(w);
	free(out);
	free(err);
}

static void enable_run_disable(long n)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	run_disable(n);
}

Test(states, enable_with_the_main_thread_in_vfork_for_good_is_refused)
{
	pid_t vforker, child = vforked_child(target_cmd(&t, "vfork"), &vforker);

	cr_assert_eq(vforker, t.pid);
	assert_refused_in_vfork("--enable", t.pid, child);
	cr_assert(!ring_exists(t.pid), "a refused enable left a ring file");
	cr_assert_str_eq(target_cmd(&t, "release"), "done");
	/* once the child is gone the same process is traced as usual */
	enable_run_disable(2);
}

/*
 * A vfork() that ends while tattach waits: tattach seizes the thread in
 * vfork() (seen as its tracer in /proc), the child then exits, and the
 * enable goes on and succeeds, the process traced as usual.
 */
Test(states, enable_waits_for_a_vfork_that_ends)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	char pid_arg[16], err[512] = "";
	pid_t vforker, child = vforked_child(target_cmd(&t, "vfork"), &vforker);
	int errpipe[2], status;
	ssize_t n;
	pid_t tp;

	cr_assert_eq(vforker, t.pid);
	cr_assert_eq(pipe(errpipe), 0);
	snprintf(pid_arg, sizeof(pid_arg), "%d", (int)t.pid);
	tp = fork();
	cr_assert(tp >= 0);
	if (tp == 0) {
		dup2(errpipe[1], 2);
		dup2(errpipe[1], 1);
		execl(build_path("tattach"), "tattach", "-p", pid_arg, "--enable", (char *)NULL);
		_exit(127);
	}
	close(errpipe[1]);
	/* tattach waits on the thread in vfork(): it is its tracer now */
	while (tracer_of(vforker) != tp) {
		if (waitpid(tp, &status, WNOHANG) == tp) {
			n = read(errpipe[0], err, sizeof(err) - 1);
			err[n > 0 ? n : 0] = 0;
			cr_assert_fail("tattach ended (status %#x) without waiting:\n%s",
				       status, err);
		}
		nanosleep(&tick, NULL);
	}
	cr_assert_eq(task_state(child, child), 'S', "the child still blocks");
	cr_assert_str_eq(target_cmd(&t, "release"), "done");
	cr_assert_eq(waitpid(tp, &status, 0), tp);
	n = read(errpipe[0], err, sizeof(err) - 1);
	err[n > 0 ? n : 0] = 0;
	close(errpipe[0]);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "tattach --enable: status %#x\n%s", status, err);
	cr_assert(ring_exists(t.pid), "no ring after the enable");
	run_disable(2);
}

Test(states, enable_and_disable_with_a_thread_in_vfork_for_good_are_refused)
{
	char *out = NULL, *err = NULL;
	pid_t child, vforker;

	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	child = vforked_child(target_cmd(&t, "vfork-thread"), &vforker);
	cr_assert_neq(vforker, t.pid);
	assert_refused_in_vfork("--disable", vforker, child);
	assert_refused_in_vfork("--enable", vforker, child);
	assert_refused_in_vfork("--stacks", vforker, child);
	/* --status does not stop anything: it works meanwhile */
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing:      enabled"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "release-thread"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert_eq(patched_sites(out), 0, "%s", out);
	free(out);
	free(err);
}

Test(states, main_thread_exited_the_others_are_traced)
{
	char *out = NULL, *err = NULL, *want = NULL, *w = expect_work(3), *got;
	int tids[8];

	cr_assert_str_eq(target_cmd(&t, "exit-main"), "main exited");
	cr_assert_eq(task_state(t.pid, t.pid), 'Z');
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "1 thread stopped"), "%s", out);
	/* a zombie leader cannot make the injection's system calls: all of
	 * it was done with every live thread held */
	cr_assert(!strstr(out, "held alone"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing:      enabled"), "%s", out);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");	/* not traced */
	free(out);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	/* only the thread that took over serving, exactly its calls */
	cr_assert_eq(graph_tids(out, tids, 8), 1, "%s", out);
	cr_assert_neq(tids[0], t.pid);
	cr_assert_eq(task_state(t.pid, tids[0]), 'S', "tid %d is not the server", tids[0]);
	got = graph_canon(out, tids[0]);
	str_append(&want, "dispatch(");
	str_append(&want, w);
	str_append(&want, ")");
	cr_assert_str_eq(got, want, "\n%s", out);
	free(got);
	free(want);
	free(w);
	free(out);
	free(err);
}

/*
 * The first --enable injects with the main thread held alone, the others
 * running (session.c, inject_early()); then stops them all for the
 * rewrite.  Threads busy in traced calls all along (spin) lose nothing
 * and are traced from the rewrite on; a later --enable injects nothing.
 */
Test(states, first_enable_injects_with_one_thread_held)
{
	char *out = NULL, *err = NULL, *w = expect_work(2), *want = NULL, *got, tid[32];
	int tids[8], n;

	cr_assert_str_eq(target_cmd(&t, "spin 3"), "done");
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "4 threads stopped"), "%s", out);
	cr_assert(strstr(out, "before that, 1 thread was held alone for"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "stop"), "done");	/* spin results checked */
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(!strstr(out, "held alone"), "injected again:\n%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	/* the main thread, exactly: "stop" traced under the first enable,
	 * "run 2" under the second, in its main() that the first adopted
	 * (the spinning threads' many calls are left out of the output) */
	snprintf(tid, sizeof(tid), "--tid %d", (int)t.pid);
	cr_assert_eq(tread(t.pid, tid, &out, &err), 0, "%s", err);
	n = graph_tids(out, tids, 8);
	cr_assert_eq(n, 1, "%s", out);
	got = graph_canon(out, t.pid);
	str_append(&want, "dispatch dispatch(");
	str_append(&want, w);
	str_append(&want, ")");
	cr_assert_str_eq(got, want, "\n%s", out);
	free(got);
	free(want);
	free(w);
	free(out);
	free(err);
}

/*
 * Threads born and dying all the time while enable and disable stop the
 * process over and over: a thread that exits while being stopped is gone,
 * never "not permitted", and every disable leaves no site patched.
 */
Test(states, threads_exiting_while_being_stopped)
{
	char *out = NULL, *err = NULL;

	cr_assert_str_eq(target_cmd(&t, "churn 4"), "done");
	for (int i = 0; i < 100; i++) {
		int rc = tattach(t.pid, "--enable", &out, &err);

		cr_assert_eq(rc, 0, "cycle %d: --enable: exit %d: %s", i, rc, err);
		rc = tattach(t.pid, "--disable", &out, &err);
		cr_assert_eq(rc, 0, "cycle %d: --disable: exit %d: %s", i, rc, err);
		cr_assert(strstr(out, "tracing disabled: "), "cycle %d: %s", i, out);
		cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
		cr_assert_eq(patched_sites(out), 0, "cycle %d: %s", i, out);
		cr_assert(strstr(out, "tracing:      disabled"), "cycle %d: %s", i, out);
	}
	cr_assert_str_eq(target_cmd(&t, "stop"), "done");
	free(out);
	free(err);
}
