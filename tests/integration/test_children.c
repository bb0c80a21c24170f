// SPDX-License-Identifier: MIT
/*
 * Fork children of a traced process trace themselves, each into a ring of
 * its own (attach/tramp/tramp_fork.c): exact trees from each ring, the
 * parent's ring without the children's calls, grandchildren, a fork from
 * a multi-threaded parent, --no-children, the --disable cascade, tread
 * --children, and a prefork server whose workers' rings count exactly
 * what the workers count themselves.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tattach/ring.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

#define KIDS_MAX 16

static struct target t;
static pid_t kids[KIDS_MAX];	/* children seen: their rings go at the end */
static size_t nkids;

static void note_kid(pid_t pid)
{
	if (nkids < KIDS_MAX)
		kids[nkids++] = pid;
}

static void start(const char *bin)
{
	target_start(&t, build_path(bin));
	ring_remove(t.pid);
	nkids = 0;
}

static void start_forks(void)
{
	start("tests/targets/forks");
}

static void start_prefork(void)
{
	start("tests/targets/prefork");
}

static void stop(void)
{
	if (t.pid > 0) {
		pid_t pid = t.pid;

		cr_expect_eq(WEXITSTATUS(target_stop(&t)), 0);
		ring_remove(pid);
	}
	for (size_t i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);	/* a worker left by a failed test */
		ring_remove(kids[i]);
	}
}

TestSuite(children, .init = start_forks, .fini = stop, .timeout = 120);
TestSuite(prefork, .init = start_prefork, .fini = stop, .timeout = 180);

static void enable(const char *opts)
{
	char args[128], *out = NULL, *err = NULL;

	snprintf(args, sizeof(args), "--enable %s", opts);
	cr_assert_eq(tattach(t.pid, args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
}

static char *graph_of(pid_t pid, const char *args)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tread(pid, args, &out, &err), 0, "tread -p %d %s: %s", (int)pid, args, err);
	free(err);
	return out;
}

static void assert_tree(const char *out, int tid, const char *want, int early)
{
	char *got = early ? graph_canon_early(out, tid) : graph_canon(out, tid);

	cr_assert_str_eq(got, want, "thread %d:\n got: %s\nwant: %s\n%.3000s", tid, got,
			 want, out);
	free(got);
}

/* The answer "WORD PID" to @cmd; the pid is noted for clean-up. */
static pid_t cmd_pid(const char *cmd, const char *word)
{
	const char *ans = target_cmd(&t, cmd);
	char fmt[64];
	int pid = 0;

	snprintf(fmt, sizeof(fmt), "%s %%d", word);
	cr_assert(sscanf(ans, fmt, &pid) == 1 && pid > 0, "%s: %s", cmd, ans);
	note_kid(pid);
	return pid;
}

/* Did @pid make a ring as a fork child of @parent?  (A ring of an earlier
 * process with the same pid may lie at that path: that one does not count.) */
static int child_ring_exists(pid_t pid, pid_t parent)
{
	const char *dir = getenv("TATTACH_RING_DIR");
	struct tat_ring_header h;
	char path[300];
	int fd, made;

	snprintf(path, sizeof(path), "%s/tattach-%d.ring", dir && *dir ? dir : "/dev/shm",
		 (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	made = pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && h.pid == pid &&
	       h.parent_pid == parent;
	close(fd);
	return made;
}

/* The "# process PID" lines of a merged graph: how many, and is @pid one? */
static int has_process(const char *out, pid_t pid)
{
	char want[64];

	snprintf(want, sizeof(want), "# process %d ", (int)pid);
	return strstr(out, want) != NULL;
}

static size_t processes(const char *out)
{
	size_t n = 0;

	for (const char *p = out; (p = strstr(p, "# process ")); p++)
		n++;
	return n;
}

/* The frames a child of "child N" inherited: spawn() returns in the
 * child; the others never do (it exits), and stay open in its graph (in a
 * merged graph they are closed at the end, "exit not traced"). */
#define INHERITED_OPEN "^main(^dispatch(^cmd_child(^spawn("
#define INHERITED_END  "))"
#define MERGED_END     ")) ?cmd_child) ?dispatch) ?main)"

Test(children, child_traces_itself_into_its_own_ring)
{
	pid_t child;
	char *out;

	enable("");
	child = cmd_pid("child 5", "child");
	/* the child's ring: exactly its calls, after the frames it inherited */
	out = graph_of(child, "");
	assert_tree(out, child, INHERITED_OPEN "work(leaf leaf leaf leaf leaf" INHERITED_END, 1);
	assert_tree(out, child, "work(leaf leaf leaf leaf leaf)", 0);
	free(out);
	/* tattach knows it as a child */
	{
		char *err = NULL, want[96];

		cr_assert_eq(tattach(child, "--status", &out, &err), 0, "%s", err);
		snprintf(want, sizeof(want), "forked from:  pid %d, traced too ", (int)t.pid);
		cr_assert(strstr(out, want), "%s", out);
		cr_assert(strstr(out, "tracing:      enabled"), "%s", out);
		free(out);
		free(err);
	}
	/* the parent's: none of them */
	out = graph_of(t.pid, "");
	assert_tree(out, t.pid, "dispatch(cmd_child(spawn))", 0);
	cr_assert_eq(graph_count_calls(out, "work") + graph_count_calls(out, "leaf"), 0, "%s", out);
	free(out);
	out = graph_of(t.pid, "--report");
	cr_assert_eq(report_calls(out, "leaf"), -1, "%s", out);
	free(out);
}

/* -A/-R in a child: what to record at each site comes with its ring. */
Test(children, child_records_arguments_and_return_values)
{
	pid_t child;
	char *out;

	enable("-A work -A leaf -R leaf");
	child = cmd_pid("child 2", "child");
	out = graph_of(child, "");
	cr_assert(strstr(out, "work(n=2) {"), "%s", out);
	cr_assert(strstr(out, "leaf(x=0) = 1;"), "%s", out);
	cr_assert(strstr(out, "leaf(x=1) = 2;"), "%s", out);
	free(out);
}

Test(children, grandchild_and_tread_children)
{
	char line[128], *out;
	pid_t child, grand;
	int g = 0;

	enable("");
	grand = cmd_pid("grand 2", "grandchild");
	cr_assert_not_null(fgets(line, sizeof(line), t.out));
	cr_assert(sscanf(line, "grand %d", &g) == 1, "%s", line);
	child = g;
	note_kid(child);
	/* the child: work(1), then its child, then work(2) */
	out = graph_of(child, "");
	assert_tree(out, child, INHERITED_OPEN "work(leaf) work(leaf leaf" INHERITED_END, 1);
	free(out);
	/* the grandchild: the child's frames at its fork, then work(3) */
	out = graph_of(grand, "");
	assert_tree(out, grand, INHERITED_OPEN "work(leaf leaf leaf" INHERITED_END, 1);
	free(out);
	/* every one as its own process, from the top or from the middle */
	out = graph_of(t.pid, "--children");
	cr_assert_eq(processes(out), 3, "%s", out);
	cr_assert(has_process(out, t.pid) && has_process(out, child) && has_process(out, grand),
		  "%s", out);
	assert_tree(out, grand, INHERITED_OPEN "work(leaf leaf leaf" MERGED_END, 1);
	assert_tree(out, t.pid, "dispatch(cmd_child(spawn))", 0);
	free(out);
	out = graph_of(child, "--children");
	cr_assert_eq(processes(out), 2, "%s", out);
	cr_assert(has_process(out, child) && has_process(out, grand), "%s", out);
	free(out);
}

Test(children, another_thread_first_waits_for_the_main_one)
{
	int tids[4];
	pid_t child;
	char *out;

	enable("");
	child = cmd_pid("threadfirst 3", "child");
	out = graph_of(child, "");
	/* the thread's calls came before the ring (only the main thread, which
	 * holds the inherited frames, makes it): not recorded */
	cr_assert_eq(graph_tids(out, tids, 4), 1, "%s", out);
	assert_tree(out, child, INHERITED_OPEN "work(leaf leaf leaf" INHERITED_END, 1);
	free(out);
}

Test(children, first_event_a_return)
{
	pid_t child;
	char *out;

	enable("");
	child = cmd_pid("retfirst 2", "child");
	out = graph_of(child, "");
	/* bare_fork() returned first: the ring was made by that return */
	assert_tree(out, child, "^main(^dispatch(^cmd_retfirst(^bare_fork() work(leaf leaf)",
		    1);
	free(out);
}

Test(children, fork_in_a_signal_handler)
{
	pid_t child;
	char *out;

	enable("");
	child = cmd_pid("sigfork 3", "child");
	out = graph_of(child, "");
	/* the handler's frame, over the interrupted ones, is inherited too */
	assert_tree(out, child, "^main(^dispatch(^cmd_sigfork(^on_usr1(work(leaf leaf leaf)",
		    1);
	free(out);
	out = graph_of(t.pid, "");
	assert_tree(out, t.pid, "dispatch(cmd_sigfork(on_usr1))", 0);
	free(out);
}

Test(children, fork_from_a_multithreaded_parent)
{
	int tids[8];
	pid_t child;
	char *out;

	enable("");
	child = cmd_pid("threads 4", "child");
	out = graph_of(child, "");
	/* only the forking thread lives on in the child, then its own new
	 * thread: none of the parent's threads' frames or calls */
	cr_assert_eq(graph_tids(out, tids, 8), 2, "%s", out);
	cr_assert_eq(tids[0], child, "%s", out);
	assert_tree(out, child, "^main(^dispatch(^cmd_threads(^cmd_child(^spawn("
		    "work(leaf leaf leaf leaf))", 1);
	assert_tree(out, tids[1], "worker_work2(work(leaf leaf))", 1);
	free(out);
	/* the parent's spinning threads wrote theirs, none of the child's */
	out = graph_of(t.pid, "--report");
	cr_assert_eq(report_calls(out, "work"), -1, "%s", out);
	cr_assert_eq(report_calls(out, "spinner"), 3, "%s", out);
	cr_assert_eq(report_calls(out, "leaf"), 3, "%s", out);
	free(out);
}

Test(children, no_children_keeps_them_untraced)
{
	pid_t child;
	char *out;

	enable("--no-children");
	{
		char *err = NULL;

		cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
		cr_assert(strstr(out, "children:     fork children record nothing"), "%s", out);
		free(out);
		free(err);
	}
	child = cmd_pid("child 3", "child");
	cr_assert_not(child_ring_exists(child, t.pid), "--no-children, yet pid %d has a ring",
		      (int)child);
	out = graph_of(t.pid, "");
	assert_tree(out, t.pid, "dispatch(cmd_child(spawn))", 0);
	free(out);
	/* and on again with a plain --enable */
	enable("");
	child = cmd_pid("child 2", "child");
	out = graph_of(child, "");
	assert_tree(out, child, "work(leaf leaf)", 0);
	free(out);
}

Test(children, a_child_that_cannot_make_its_ring_runs_on_unrecorded)
{
	pid_t child;
	char *out;

	enable("");
	/* the child exits 0 only if work(6) and its returns were right */
	child = cmd_pid("nocreate 6", "child");
	cr_assert_not(child_ring_exists(child, t.pid), "pid %d made a ring despite EPERM",
		      (int)child);
	out = graph_of(t.pid, "");
	assert_tree(out, t.pid, "dispatch(cmd_child(spawn))", 0);
	cr_assert_eq(graph_count_calls(out, "leaf"), 0, "%s", out);
	free(out);
	/* the next child is traced again */
	child = cmd_pid("child 1", "child");
	out = graph_of(child, "");
	assert_tree(out, child, "work(leaf)", 0);
	free(out);
}

Test(children, disable_cascades_to_live_descendants)
{
	char *out = NULL, *err = NULL, want[128];
	pid_t kept[3];

	enable("");
	for (int i = 0; i < 3; i++)
		kept[i] = cmd_pid("keep 2", "kept");
	/* traced, then exec'd: nothing left to disable there, and no failure */
	cmd_pid("execkeep 1", "kept");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "and 3 traced descendants disabled: "), "%s", out);
	cr_assert_str_eq(err, "");
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%d", (int)kept[i]);
		cr_assert(strstr(strstr(out, "descendants disabled: "), want), "%s", out);
	}
	free(out);
	free(err);
	/* after --disable the children call work(4): not recorded */
	cr_assert_str_eq(target_cmd(&t, "release 4"), "released 4");
	for (int i = 0; i < 3; i++) {
		out = graph_of(kept[i], "");
		assert_tree(out, kept[i], "work(leaf leaf)", 0);
		free(out);
	}
	/* nothing left to disable: no descendant counted again */
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_null(strstr(out, "descendant"), "%s", out);
	free(out);
	free(err);
}

/*
 * A child that drops root after its ring was made (as a prefork server's
 * workers do) keeps a ring owned by root, in a process of another user:
 * tattach must still act on it, alone and through the parent's cascade.
 */
Test(children, a_child_that_drops_root_is_still_disabled)
{
	char *out = NULL, *err = NULL;
	pid_t kept;

	enable("");
	kept = cmd_pid("userkeep 2", "kept");
	cr_assert_eq(tattach(kept, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "enabled"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "and 1 traced descendant disabled: "), "%s", out);
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "release 4"), "released 1");
	out = graph_of(kept, "");
	assert_tree(out, kept, "work(leaf leaf)", 0);
	free(out);
}

/* ---------------------------------------------------------------- prefork */

#define WORKERS 4

static void worker_counts(int i, long c[3])
{
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "count %d", i);
	cr_assert(sscanf(target_cmd(&t, cmd), "count %*d %ld %ld %ld", &c[0], &c[1], &c[2]) == 3);
}

/* The worker's ring counts exactly what the worker counted itself. */
static void assert_ring_counts(pid_t pid, const long c[3])
{
	char *out = graph_of(pid, "--report");

	cr_assert_eq(report_calls(out, "handle_request"), c[0], "worker %d:\n%s", (int)pid, out);
	cr_assert_eq(report_calls(out, "parse_request"), c[1], "worker %d:\n%s", (int)pid, out);
	cr_assert_eq(report_calls(out, "compute"), c[2], "worker %d:\n%s", (int)pid, out);
	cr_assert_eq(report_calls(out, "worker_loop"), -1, "worker %d: its loop never "
		     "returned\n%s", (int)pid, out);
	free(out);
}

Test(prefork, workers_count_exactly_what_they_serve)
{
	pid_t w[WORKERS], dead;
	long c[WORKERS][3], dead_c[3];
	char cmd[64], *out = NULL, *err = NULL;
	const char *ans;
	int n = 0;

	enable("");
	ans = target_cmd(&t, "spawn 4");
	cr_assert(sscanf(ans, "workers %d %d %d %d%n", &w[0], &w[1], &w[2], &w[3], &n) == 4,
		  "%s", ans);
	for (int i = 0; i < WORKERS; i++)
		note_kid(w[i]);
	for (int i = 0; i < WORKERS; i++) {
		long total;

		snprintf(cmd, sizeof(cmd), "serve %d %d", i, 100 * (i + 1));
		cr_assert(sscanf(target_cmd(&t, cmd), "served %*d %ld", &total) == 1);
		cr_assert_eq(total, 100 * (i + 1));
	}
	/* worker 2 dies; the master forks another in its place */
	worker_counts(2, dead_c);
	dead = w[2];
	cr_assert_eq(kill(dead, SIGKILL), 0);
	w[2] = cmd_pid("respawn 2", "respawned 2");
	snprintf(cmd, sizeof(cmd), "serve 2 %d", 77);
	cr_assert_str_eq(target_cmd(&t, cmd), "served 2 77");
	for (int i = 0; i < WORKERS; i++)
		target_cmd(&t, "serve 0 5");	/* more for worker 0, in between */
	for (int i = 0; i < WORKERS; i++)
		worker_counts(i, c[i]);
	cr_assert_eq(c[0][0], 100 + 4 * 5);
	cr_assert_eq(c[2][0], 77);
	/* each worker's ring, the dead one's too (post mortem) */
	for (int i = 0; i < WORKERS; i++)
		assert_ring_counts(w[i], c[i]);
	assert_ring_counts(dead, dead_c);
	/* the master's ring: none of the workers' calls */
	out = graph_of(t.pid, "--report");
	cr_assert_eq(report_calls(out, "handle_request"), -1, "%s", out);
	cr_assert_eq(report_calls(out, "spawn_worker"), 5, "%s", out);
	free(out);
	/* the master and all five workers, each as its own process */
	out = graph_of(t.pid, "--children");
	cr_assert_eq(processes(out), 1 + WORKERS + 1, "%.2000s", out);
	free(out);
	/* --disable: the master and its four live workers */
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "and 4 traced descendants disabled: "), "%s", out);
	free(out);
	free(err);
	/* served after --disable: the workers count, their rings do not */
	cr_assert_str_eq(target_cmd(&t, "serve 1 9"), "served 1 209");
	assert_ring_counts(w[1], c[1]);
}

/* ---------------------------------------------------------------- bash */

/* bash (not built with -pg: traced with --entry), reading commands from
 * a pipe: the real program whose subshells are fork children. */
static void start_bash(struct target *b)
{
	int in[2], out[2], pid = 0;
	const char *ans;

	memset(b, 0, sizeof(*b));
	cr_assert(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
	b->pid = fork();
	cr_assert(b->pid >= 0);
	if (b->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl("/bin/bash", "bash", "--norc", "--noprofile", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	b->in = in[1];
	b->out = fdopen(out[0], "r");
	cr_assert_not_null(b->out);
	setvbuf(b->out, NULL, _IONBF, 0);
	ans = target_cmd(b, "echo ready $$");
	cr_assert(sscanf(ans, "ready %d", &pid) == 1 && pid == b->pid, "%s", ans);
}

static int stop_bash(struct target *b)
{
	int status = -1;

	if (write(b->in, "exit 0\n", 7) != 7)
		kill(b->pid, SIGKILL);
	close(b->in);
	fclose(b->out);
	waitpid(b->pid, &status, 0);
	ring_remove(b->pid);
	return status;
}

/* Each subshell of a real bash traces itself into its own ring. */
Test(children, bash_subshells)
{
	struct target b;
	char line[128], *out = NULL, *err = NULL;
	pid_t sub[3];

	start_bash(&b);
	ring_remove(b.pid);
	cr_assert_eq(tattach(b.pid, "--enable --entry", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert(sscanf(target_cmd(&b, "for i in 1 2 3; do (echo sub $BASHPID); done; "
				    "echo done"), "sub %d", &sub[0]) == 1);
	for (int i = 1; i < 3; i++) {
		cr_assert_not_null(fgets(line, sizeof(line), b.out));
		cr_assert(sscanf(line, "sub %d", &sub[i]) == 1, "%s", line);
	}
	cr_assert_not_null(fgets(line, sizeof(line), b.out));
	cr_assert_str_eq(line, "done\n");
	for (int i = 0; i < 3; i++) {
		note_kid(sub[i]);
		/* the subshell: its echo, under the make_child() it forked in */
		out = graph_of(sub[i], "");
		cr_assert(strstr(out, "make_child() { /* entered before tracing */"), "%.3000s",
			  out);
		free(out);
		out = graph_of(sub[i], "--report");
		cr_assert_eq(report_calls(out, "echo_builtin"), 1, "%s", out);
		free(out);
	}
	/* bash itself: three forks, no echo of theirs */
	out = graph_of(b.pid, "--report");
	cr_assert_eq(report_calls(out, "make_child"), 3, "%s", out);
	cr_assert_eq(report_calls(out, "echo_builtin"), 1, "%s", out);	/* "echo done" */
	free(out);
	out = graph_of(b.pid, "--children");
	cr_assert_eq(processes(out), 4, "%.2000s", out);
	free(out);
	cr_assert_eq(tattach(b.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(stop_bash(&b), 0);
}

/*
 * A process in a pid namespace below tattach's (a container): its fork
 * children would name their rings by their pids in that namespace, pids
 * tattach, tread and --clean know as other processes (or none): --list
 * called a live child's ring an exited one's, and --clean would remove it.
 * --enable says so and they record nothing, as with --no-children.
 */
static struct target ns_target;
static pid_t ns_host;		/* the program's pid, here */

static void stop_ns(void)
{
	if (ns_target.pid > 0)
		target_stop(&ns_target);
	if (ns_host > 0)
		ring_remove(ns_host);
}

TestSuite(pidns, .fini = stop_ns, .timeout = 60);

Test(pidns, children_of_a_process_in_its_own_pid_namespace_record_nothing)
{
	char wrapper[128], path[96], *out = NULL, *err = NULL, *kids_line;
	const char *ans;
	pid_t host = 0;
	int child = 0;
	FILE *f;

	cr_assert(getuid() == 0, "run as root (unshare -p)");
	snprintf(wrapper, sizeof(wrapper), "/tmp/tattach-pidns-%d.sh", (int)getpid());
	f = fopen(wrapper, "w");
	cr_assert(f);
	fprintf(f, "#!/bin/sh\nexec unshare -p -f --mount-proc %s\n",
		build_path("tests/targets/forks"));
	fclose(f);
	cr_assert_eq(chmod(wrapper, 0755), 0);
	target_start(&ns_target, wrapper);
	unlink(wrapper);
	cr_assert(strncmp(ns_target.ready, "ready 1", 7) == 0 && (unsigned char)ns_target.ready[7] <= 32,
		  "pid 1 of its namespace: %s", ns_target.ready);
	/* unshare -f forks: the program is unshare's child */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)ns_target.pid,
		 (int)ns_target.pid);
	kids_line = file_text(path);
	cr_assert(sscanf(kids_line, "%d", &host) == 1 && host > 0, "%s", kids_line);
	free(kids_line);
	ns_host = host;
	ring_remove(host);

	cr_assert_eq(tattach(host, "--enable", &out, &err), 0, "%s", err);
	snprintf(path, sizeof(path), "pid %d runs in a pid namespace of its own", (int)host);
	cr_assert(strstr(err, path), "%s", err);
	cr_assert_eq(tattach(host, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "children:     fork children record nothing"), "%s", out);
	ans = target_cmd(&ns_target, "child 2");
	cr_assert(sscanf(ans, "child %d", &child) == 1 && child > 0, "%s", ans);
	cr_assert_not(child_ring_exists(child, host),
		      "child %d of its namespace made a ring at that pid", child);
	cr_assert_eq(tattach(host, "--disable", &out, &err), 0, "%s", err);
	ans = target_cmd(&ns_target, "child 1");
	cr_assert(strncmp(ans, "child ", 6) == 0, "the program goes on: %s", ans);
	ring_remove(host);
	free(out);
	free(err);
}
