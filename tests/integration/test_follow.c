// SPDX-License-Identifier: MIT
/*
 * tattach --enable --follow: libraries dlopen()ed later and programs
 * exec'd later (from the main thread, a second thread, posix_spawn(), after
 * daemon()) are traced, each into its own ring, with exact trees, and
 * 'tread --children' reads the rings kept of the programs before; signals
 * reach the program unchanged; Ctrl-C and 'tattach --disable' end the
 * follower cleanly; a SIGKILLed follower leaves the processes unharmed at
 * their next dlopen() and exec.  Target: tests/targets/follower.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

static long tracer_of(pid_t pid)
{
	char path[64], line[256];
	long tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	cr_assert(f, "no /proc/%d/status", (int)pid);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %ld", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

/* tattach --enable --follow --daemon: returns the follower's pid. */
static pid_t follow_bg(pid_t pid)
{
	char *out = NULL, *err = NULL, *at;
	int follower = 0;

	cr_assert_eq(tattach(pid, "--enable --follow --daemon", &out, &err), 0, "%s%s", out,
		     err);
	cr_assert(strstr(out, "tracing enabled") || strstr(out, "already enabled"), "%s", out);
	at = strstr(out, "in the background: tattach pid ");
	cr_assert(at && sscanf(at, "in the background: tattach pid %d", &follower) == 1,
		  "%s", out);
	cr_assert_eq(tracer_of(pid), follower, "pid %d is not traced by its follower %d",
		     (int)pid, follower);
	free(out);
	free(err);
	return (pid_t)follower;
}

/* Wait until @pid (not our child) has exited: its pidfd turns readable. */
static void wait_gone(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p;

	if (fd < 0) {
		cr_assert_eq(errno, ESRCH, "pidfd_open(%d): %s", (int)pid, strerror(errno));
		return;
	}
	p.fd = fd;
	p.events = POLLIN;
	cr_assert_eq(poll(&p, 1, 30000), 1, "pid %d did not exit", (int)pid);
	close(fd);
}

/* End the follower the documented way; tracing of @pid is then off. */
static void end_follow(pid_t pid, pid_t follower)
{
	char *out = NULL, *err = NULL, want[96];

	cr_assert_eq(tattach(pid, "--disable", &out, &err), 0, "%s%s", out, err);
	snprintf(want, sizeof(want), "its follower, tattach pid %d, has ended", (int)follower);
	cr_assert(strstr(out, want), "%s", out);
	cr_assert(strstr(out, "tracing disabled"), "%s", out);
	wait_gone(follower);
	cr_assert_eq(tracer_of(pid), 0);
	free(out);
	free(err);
}

static char *tree_of(pid_t pid)
{
	char *out = NULL, *err = NULL, *got;

	cr_assert_eq(tread(pid, "", &out, &err), 0, "tread -p %d: %s", (int)pid, err);
	got = graph_canon(out, pid);
	free(out);
	free(err);
	return got;
}

static void assert_tree(pid_t pid, const char *want)
{
	char *got = tree_of(pid);

	cr_assert_str_eq(got, want, "pid %d", (int)pid);
	free(got);
}

static void start(struct target *t)
{
	target_start(t, build_path("tests/targets/follower"));
	ring_remove(t->pid);
}

/* The first call into the library, straight after dlopen() returns, is
 * traced: the hook enabled it inside dlopen(). */
Test(follow, dlopen_traced_before_it_returns, .timeout = 60)
{
	struct target t;
	pid_t follower;

	start(&t);
	follower = follow_bg(t.pid);
	cr_assert_str_eq(target_cmd(&t, "loadrun 3"), "done");
	assert_tree(t.pid, "loadrun(lib_work(lib_leaf lib_leaf lib_leaf))");
	/* another tattach that must stop it is told who holds it */
	{
		char *out = NULL, *err = NULL, want[64];

		cr_assert_eq(tattach(t.pid, "--enable -F leaf", &out, &err), 1, "%s", out);
		snprintf(want, sizeof(want), "is followed by tattach pid %d", (int)follower);
		cr_assert(strstr(err, want), "%s", err);
		free(out);
		free(err);
	}
	end_follow(t.pid, follower);
	target_stop(&t);
}

/* exec from the main thread: the new image is traced from before main
 * (work() runs before it answers), and its own dlopen() too; what the
 * program before the exec recorded is kept in a ring of its own. */
Test(follow, exec_from_main_thread, .timeout = 60)
{
	char want[64], args[300], *out = NULL, *err = NULL, *got;
	const char *dir = getenv("TATTACH_RING_DIR");
	struct target t;
	pid_t follower;

	start(&t);
	follower = follow_bg(t.pid);
	cr_assert_str_eq(target_cmd(&t, "work 2"), "done");
	snprintf(want, sizeof(want), "image %d", (int)t.pid);
	cr_assert_str_eq(target_cmd(&t, "exec 3"), want);
	cr_assert_str_eq(target_cmd(&t, "loadrun 1"), "done");
	assert_tree(t.pid, "work(leaf leaf leaf) loadrun(lib_work(lib_leaf))");
	snprintf(args, sizeof(args), "-i %s/tattach-%d.%llu.image1.ring",
		 dir && *dir ? dir : "/dev/shm", (int)t.pid,
		 (unsigned long long)proc_start_time(t.pid));
	cr_assert_eq(tread(0, args, &out, &err), 0, "tread %s: %s", args, err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, "work(leaf leaf)", "the program before the exec: %s", out);
	free(got);
	free(out);
	free(err);
	end_follow(t.pid, follower);
	target_stop(&t);
}

/* The "# process" line tread prints for a process (PID column @proc)
 * whose program is @exe, as several -i print it. */
static char *process_line(const char *proc, const char *exe, const char *note)
{
	const char *base = strrchr(exe, '/') + 1;
	char host[256], *line = NULL;

	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	cr_assert_geq(asprintf(&line, "# process %s (%.15s) on %s: %s%s\n", proc, base, host, exe,
			       note), 0);
	return line;
}

static void exe_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, len - 1);
	cr_assert_gt(n, 0, "%s", path);
	buf[n] = 0;
}

/* Where @out has @line, which must be there. */
static const char *line_at(const char *out, const char *line)
{
	const char *at = strstr(out, line);

	cr_assert(at, "no '%s' in:\n%s", line, out);
	return at;
}

/* Copy @pid's kept ring of image 1 to a file of another name, outside
 * the ring folder (@copy: its path). */
static void copy_kept_image(pid_t pid, char *copy, size_t len)
{
	const char *dir = getenv("TATTACH_RING_DIR");
	char kept[PATH_MAX], *out = NULL, *err = NULL;
	int fd;

	snprintf(kept, sizeof(kept), "%s/tattach-%d.%llu.image1.ring", dir && *dir ? dir : "/dev/shm",
		 (int)pid, (unsigned long long)proc_start_time(pid));
	snprintf(copy, len, "/tmp/tattach-test-copy.XXXXXX");
	fd = mkstemp(copy);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	close(fd);
	cr_assert_eq(run_capture((char *const[]){ "cp", kept, copy, NULL }, &out, &err), 0,
		     "cp %s %s: %s", kept, copy, err);
	free(out);
	free(err);
}

static void assert_proc_tree(const char *out, const char *proc, int tid, const char *want)
{
	char *got = graph_canon_proc(out, proc, tid);

	cr_assert_str_eq(got, want, "process %s:\n%s", proc, out);
	free(got);
}

/*
 * tread -p PID --children reads the rings kept of the programs a process
 * ran before an exec, its own and its descendants': each as a process of
 * its own (PID column "PID:N", N its image) before the pid's current
 * program, named from its own program (the root's first program is
 * follower, its current one calltree); a child forked before the root's
 * exec is still found.  A kept ring that cannot be read is left out with
 * a one-line warning.
 */
Test(follow, children_reads_the_earlier_programs, .timeout = 60)
{
	char first[PATH_MAX], second[PATH_MAX], proc[32], note[96], bad[PATH_MAX];
	char *out = NULL, *err = NULL, *line[4], want[PATH_MAX + 128], copy[64];
	char args[PATH_MAX + 80], saved[80];
	const char *dir = getenv("TATTACH_RING_DIR"), *at[4];
	struct target t;
	pid_t follower;
	int child = 0, fd;

	start(&t);
	exe_of(t.pid, first, sizeof(first));
	follower = follow_bg(t.pid);
	cr_assert_str_eq(target_cmd(&t, "work 2"), "done");
	cr_assert_eq(sscanf(target_cmd(&t, "fork-exec 1 3"), "done %d", &child), 1);
	cr_assert_gt(child, 0);
	snprintf(want, sizeof(want), "ready %d", (int)t.pid);
	cr_assert_str_eq(target_cmd(&t, "exec-calltree"), want);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	exe_of(t.pid, second, sizeof(second));

	cr_assert_eq(tread(t.pid, "--children", &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "");
	/* one process line each, each program's before the pid's current one */
	snprintf(proc, sizeof(proc), "%d:1", (int)t.pid);
	snprintf(note, sizeof(note), " (pid %d ran it before an exec: image 1)", (int)t.pid);
	line[0] = process_line(proc, first, note);
	snprintf(proc, sizeof(proc), "%d", (int)t.pid);
	line[1] = process_line(proc, second, "");
	snprintf(proc, sizeof(proc), "%d:1", child);
	snprintf(note, sizeof(note), " (pid %d ran it before an exec: image 1)", child);
	line[2] = process_line(proc, first, note);
	snprintf(proc, sizeof(proc), "%d", child);
	line[3] = process_line(proc, first, "");
	for (int i = 0; i < 4; i++) {
		at[i] = line_at(out, line[i]);
		cr_assert(i == 0 || at[i] > at[i - 1], "'%s' before '%s':\n%s", line[i],
			  line[i - 1], out);
		free(line[i]);
	}
	/* exactly the calls of each program, with its own names */
	snprintf(proc, sizeof(proc), "%d:1", (int)t.pid);
	assert_proc_tree(out, proc, t.pid, "work(leaf leaf)");
	snprintf(proc, sizeof(proc), "%d", (int)t.pid);
	assert_proc_tree(out, proc, t.pid, "main(dispatch(work(a(b(leaf) c(leaf leaf)))) ?main)");
	snprintf(proc, sizeof(proc), "%d:1", child);
	assert_proc_tree(out, proc, child, "work(leaf)");
	snprintf(proc, sizeof(proc), "%d", child);
	assert_proc_tree(out, proc, child, "work(leaf leaf leaf)");

	/* a copy of a kept ring under another name is still that image (its
	 * header says it), not the pid's current program */
	copy_kept_image(t.pid, copy, sizeof(copy));
	snprintf(args, sizeof(args), "-i %s -i %s/tattach-%d.ring", copy,
		 dir && *dir ? dir : "/dev/shm", (int)t.pid);
	free(out);
	free(err);
	cr_assert_eq(tread(0, args, &out, &err), 0, "tread %s: %s", args, err);
	snprintf(proc, sizeof(proc), "%d:1", (int)t.pid);
	snprintf(note, sizeof(note), " (pid %d ran it before an exec: image 1)", (int)t.pid);
	line[0] = process_line(proc, first, note);
	snprintf(proc, sizeof(proc), "%d", (int)t.pid);
	line[1] = process_line(proc, second, "");
	for (int i = 0; i < 2; i++) {
		at[i] = line_at(out, line[i]);
		free(line[i]);
	}
	snprintf(proc, sizeof(proc), "%d:1", (int)t.pid);
	assert_proc_tree(out, proc, t.pid, "work(leaf leaf)");
	/* and so is a saved trace of it */
	free(out);
	free(err);
	snprintf(saved, sizeof(saved), "%s.saved", copy);
	snprintf(args, sizeof(args), "-i %s --save %s", copy, saved);
	cr_assert_eq(tread(0, args, &out, &err), 0, "tread %s: %s", args, err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "-i %s -i %s/tattach-%d.ring", saved,
		 dir && *dir ? dir : "/dev/shm", (int)t.pid);
	cr_assert_eq(tread(0, args, &out, &err), 0, "tread %s: %s", args, err);
	snprintf(proc, sizeof(proc), "%d:1", (int)t.pid);
	assert_proc_tree(out, proc, t.pid, "work(leaf leaf)");
	unlink(saved);
	unlink(copy);
	free(out);
	free(err);

	/* a kept ring that is not a ring: left out, said in one line */
	snprintf(bad, sizeof(bad), "%s/tattach-%d.%llu.image2.ring", dir && *dir ? dir : "/dev/shm",
		 (int)t.pid, (unsigned long long)proc_start_time(t.pid));
	fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0, "%s: %s", bad, strerror(errno));
	cr_assert_eq(write(fd, "not a ring\n", 11), 11);
	close(fd);
	cr_assert_eq(tread(t.pid, "--children", &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "tread: warning: left out pid %d's program before its exec "
		 "(image 2): %s: ", (int)t.pid, bad);
	cr_assert(!strncmp(err, want, strlen(want)) && strchr(err, '\n') == err + strlen(err) - 1,
		  "want one line '%s...', got:\n%s", want, err);
	snprintf(proc, sizeof(proc), "%d:1", (int)t.pid);
	assert_proc_tree(out, proc, t.pid, "work(leaf leaf)");
	snprintf(proc, sizeof(proc), "%d:2", (int)t.pid);
	cr_assert_null(strstr(out, proc), "%s", out);
	unlink(bad);
	free(out);
	free(err);
	ring_remove(child);
	end_follow(t.pid, follower);
	target_stop(&t);
}

/* exec from a second thread: the kernel gives the exec'ing thread the
 * process's pid; the new image is traced all the same. */
Test(follow, exec_from_second_thread, .timeout = 60)
{
	char want[64];
	struct target t;
	pid_t follower;

	start(&t);
	follower = follow_bg(t.pid);
	snprintf(want, sizeof(want), "image %d", (int)t.pid);
	cr_assert_str_eq(target_cmd(&t, "exec-thread 2"), want);
	cr_assert_str_eq(target_cmd(&t, "work 1"), "done");
	assert_tree(t.pid, "work(leaf leaf) work(leaf)");
	end_follow(t.pid, follower);
	target_stop(&t);
}

/* posix_spawn() (clone with CLONE_VFORK, then exec): the child's program
 * is traced into the child's ring, which names its traced parent, so that
 * 'tread -p PARENT --children' reads it and --status says whose it is. */
Test(follow, posix_spawn_child_traced, .timeout = 60)
{
	char *out = NULL, *err = NULL, want[96];
	struct target t;
	pid_t follower;
	int child = 0;

	start(&t);
	follower = follow_bg(t.pid);
	cr_assert_eq(sscanf(target_cmd(&t, "spawn 2"), "done %d", &child), 1);
	cr_assert_gt(child, 0);
	assert_tree(child, "work(leaf leaf)");
	cr_assert_eq(tread(t.pid, "--children", &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "# process %d (", child);
	cr_assert(strstr(out, want), "no '%s' in:\n%s", want, out);
	cr_assert_eq(tattach(child, "--status", &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "forked from:  pid %d, traced too", (int)t.pid);
	cr_assert(strstr(out, want), "%s", out);
	free(out);
	free(err);
	ring_remove(child);
	end_follow(t.pid, follower);
	target_stop(&t);
}

/* tattach -p PID --enable --follow [OPTION] in the foreground, its
 * standard output and error read through *@f; returns once it says it
 * follows. */
static pid_t follow_fg(pid_t pid, const char *option, FILE **f)
{
	char pidarg[16], line[512];
	int p[2], seen = 0;
	pid_t tat;

	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	cr_assert_eq(pipe(p), 0);
	tat = fork();
	cr_assert_geq(tat, 0);
	if (tat == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execl(build_path("tattach"), "tattach", "-p", pidarg, "--enable", "--follow",
		      option, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*f = fdopen(p[0], "r");
	cr_assert(*f);
	while (!seen && fgets(line, sizeof(line), *f))
		seen = strstr(line, "following pid") != NULL;
	cr_assert(seen, "the follower did not start");
	return tat;
}

/* The rest of what the follower prints, and its exit status. */
static char *follow_fg_end(pid_t tat, FILE *f, int *status)
{
	char line[512], *all = NULL;

	while (fgets(line, sizeof(line), f))
		str_append(&all, line);
	fclose(f);
	cr_assert_eq(waitpid(tat, status, 0), tat);
	return all ? all : strdup("");
}

/* Programs with nothing to trace (tests/targets/lib/relay.c): linked
 * dynamically, then statically (no dynamic linker to hook); each runs
 * "follower --child 2". */
static const struct {
	const char *name, *says;	/* its -v line, after "pid N (name)" */
} relays[] = {
	{ "relay.plain", "nothing to trace in it yet" },
	{ "relay.static", "no dynamic linker (statically linked?): not traced, what it "
			  "starts is followed" },
};

/*
 * A follower of a new follower target, in the foreground (-v if
 * @verbose): the target runs each relay, whose child must be traced; the
 * follower is then ended with SIGINT and must exit 0.  Returns all the
 * follower said, stdout and stderr.
 */
static char *follow_relays(int verbose)
{
	char cmd[PATH_MAX + 32], *all;
	struct target t;
	int status, child;
	pid_t tat;
	FILE *f;

	start(&t);
	tat = follow_fg(t.pid, verbose ? "-v" : NULL, &f);
	for (size_t i = 0; i < sizeof(relays) / sizeof(relays[0]); i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "tests/targets/%s", relays[i].name);
		snprintf(cmd, sizeof(cmd), "relay %s 2", build_path(path));
		child = 0;
		cr_assert_eq(sscanf(target_cmd(&t, cmd), "done %d", &child), 1, "%s", cmd);
		cr_assert_gt(child, 0, "%s: the relay or its child failed", relays[i].name);
		assert_tree(child, "work(leaf leaf)");
		ring_remove(child);
	}
	cr_assert_eq(kill(tat, SIGINT), 0);
	all = follow_fg_end(tat, f, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: %s", status,
		  all);
	cr_assert_str_eq(target_cmd(&t, "work 1"), "done");
	cr_assert_eq(target_stop(&t), 0);
	return all;
}

/*
 * Programs with nothing to trace, started by a followed process, are
 * followed all the same: what each starts is traced.  Nothing is said of
 * them (a service's shell scripts are no error); with -v, one line each
 * says why it is not traced.
 */
Test(follow, programs_with_nothing_to_trace_followed, .timeout = 60)
{
	char want[160], *all = follow_relays(0);

	for (size_t i = 0; i < sizeof(relays) / sizeof(relays[0]); i++)
		cr_assert_null(strstr(all, relays[i].name), "said of %s without -v:\n%s",
			       relays[i].name, all);
	free(all);
	all = follow_relays(1);
	for (size_t i = 0; i < sizeof(relays) / sizeof(relays[0]); i++) {
		snprintf(want, sizeof(want), " (%s): %s\n", relays[i].name, relays[i].says);
		cr_assert(strstr(all, want), "no '%s' in:\n%s", want, all);
	}
	free(all);
}

/* daemon(): fork, the parent exits, the grandchild execs: traced. */
Test(follow, daemon_grandchild_traced, .timeout = 60)
{
	struct target t;
	pid_t follower;
	int child = 0;

	start(&t);
	follower = follow_bg(t.pid);
	cr_assert_eq(sscanf(target_cmd(&t, "daemon 2"), "done %d", &child), 1);
	cr_assert_gt(child, 0);
	assert_tree(child, "work(leaf leaf)");
	ring_remove(child);
	end_follow(t.pid, follower);
	target_stop(&t);
}

/* Every signal stops a traced thread first: the follower hands each back
 * unchanged (SIGUSR1 five times; the SIGCHLD of a child that exits). */
Test(follow, signals_delivered_unchanged, .timeout = 60)
{
	struct target t;
	pid_t follower;

	start(&t);
	follower = follow_bg(t.pid);
	cr_assert_str_eq(target_cmd(&t, "sig 5"), "usr1 5 chld 1");
	cr_assert_str_eq(target_cmd(&t, "sig 1"), "usr1 1 chld 1");
	/* a group stop stays one (PTRACE_LISTEN), and its parent sees it */
	cr_assert_str_eq(target_cmd(&t, "stopchild"), "stopped 19 exited 7");
	end_follow(t.pid, follower);
	target_stop(&t);
}

/* Once the process and all it started have exited, the follower ends by
 * itself (a child that exits before its parent's fork event reaches the
 * follower must not stay in its table: without the check, this test
 * timed out in 1 run of 3 with 5 rounds; it makes 20). */
Test(follow, ends_when_all_have_exited, .timeout = 60)
{
	struct target t;
	int child = 0, status;
	char *all, want[128];
	FILE *f;
	pid_t tat;

	for (int i = 0; i < 20; i++) {
		pid_t pid;

		start(&t);
		pid = t.pid;
		tat = follow_fg(pid, NULL, &f);
		cr_assert_eq(sscanf(target_cmd(&t, "daemon 1"), "done %d", &child), 1);
		ring_remove(child);
		cr_assert_eq(target_stop(&t), 0);
		all = follow_fg_end(tat, f, &status);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%#x: %s", status, all);
		snprintf(want, sizeof(want), "pid %d and every process it started have ended "
			 "(2 program images traced)", (int)pid);
		cr_assert(strstr(all, want), "%s", all);
		free(all);
	}
}

/* Ctrl-C (SIGINT) ends a foreground follower: exit 0, every thread let go,
 * the hook out of the process (a library loaded after is not traced),
 * tracing left on (the program's own calls still are). */
Test(follow, ctrl_c_ends_cleanly, .timeout = 60)
{
	struct target t;
	int status;
	char *all;
	pid_t tat;
	FILE *f;

	start(&t);
	tat = follow_fg(t.pid, NULL, &f);
	cr_assert_str_eq(target_cmd(&t, "work 1"), "done");
	cr_assert_eq(kill(tat, SIGINT), 0);
	all = follow_fg_end(tat, f, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: %s", status,
		  all);
	cr_assert(strstr(all, "stopped following (Interrupt): 1 process let go"), "%s", all);
	cr_assert_eq(tracer_of(t.pid), 0);
	cr_assert_str_eq(target_cmd(&t, "loadrun 2"), "done");
	assert_tree(t.pid, "work(leaf) loadrun");
	cr_assert_eq(target_stop(&t), 0);
	free(all);
}

/* SIGKILLed, the follower leaves its hook in the process: the next
 * dlopen() and exec must not meet an int3 without a tracer. */
Test(follow, killed_follower_leaves_processes_unharmed, .timeout = 60)
{
	char want[64];
	struct target t;
	pid_t follower;
	int child = 0;

	start(&t);
	follower = follow_bg(t.pid);
	cr_assert_eq(kill(follower, SIGKILL), 0);
	wait_gone(follower);
	cr_assert_eq(tracer_of(t.pid), 0);
	cr_assert_str_eq(target_cmd(&t, "loadrun 2"), "done");
	cr_assert_eq(sscanf(target_cmd(&t, "spawn 1"), "done %d", &child), 1);
	cr_assert_gt(child, 0, "the spawned child failed");
	ring_remove(child);
	snprintf(want, sizeof(want), "image %d", (int)t.pid);
	cr_assert_str_eq(target_cmd(&t, "exec 1"), want);
	cr_assert_str_eq(target_cmd(&t, "ping"), "pong");
	cr_assert_eq(target_stop(&t), 0, "the target did not exit normally");
}

/* --follow and --daemon only with -p PID --enable: usage errors (2). */
Test(follow, usage_errors, .timeout = 30)
{
	static const struct {
		const char *args, *says;
	} cases[] = {
		{ "--disable --follow", "--follow and --daemon go with --enable" },
		{ "--enable --daemon", "--daemon goes with --follow" },
	};
	char *argv[] = { (char *)build_path("tattach"), "--follow", "--", "true", NULL };
	char *out = NULL, *err = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(tattach(1, cases[i].args, &out, &err), 2, "%s", cases[i].args);
		cr_assert(strstr(err, cases[i].says), "%s: %s", cases[i].args, err);
		free(out);
		free(err);
	}
	cr_assert_eq(run_capture(argv, &out, &err), 2);
	cr_assert(strstr(err, "not with a COMMAND"), "%s", err);
	free(out);
	free(err);
}

/* A follower killed while it handles a dlopen(), every thread of the
 * process held and the trapped one in the hook's park loop: the loop sees
 * the lock word lose the follower's tid and returns; dlopen() completes
 * (the library untraced), and the process runs on. */
Test(follow, killed_while_handling_dlopen, .timeout = 60)
{
	char want[64];
	struct target t;
	pid_t follower;

	start(&t);
	setenv("TATTACH_TEST_FOLLOW_DIE", "parked", 1);
	follower = follow_bg(t.pid);
	unsetenv("TATTACH_TEST_FOLLOW_DIE");
	cr_assert_str_eq(target_cmd(&t, "loadrun 2"), "done");
	wait_gone(follower);
	cr_assert_eq(tracer_of(t.pid), 0);
	assert_tree(t.pid, "loadrun");
	snprintf(want, sizeof(want), "image %d", (int)t.pid);
	cr_assert_str_eq(target_cmd(&t, "exec 1"), want);
	cr_assert_eq(target_stop(&t), 0, "the target did not exit normally");
}

/* dlopen() while four other threads run traced calls: every thread is
 * held for the enable, and the main thread's tree is exact. */
Test(follow, dlopen_while_threads_run, .timeout = 60)
{
	struct target t;
	pid_t follower;

	start(&t);
	follower = follow_bg(t.pid);
	cr_assert_str_eq(target_cmd(&t, "busy-loadrun 2"), "done");
	cr_assert_str_eq(target_cmd(&t, "busy-loadrun 1"), "done");
	assert_tree(t.pid, "loadrun(lib_work(lib_leaf lib_leaf)) loadrun(lib_work(lib_leaf))");
	end_follow(t.pid, follower);
	target_stop(&t);
}

/* A second follower after one was killed: it removes the dead one's lock
 * file, and the hook the dead one left in the process traps for it. */
Test(follow, refollow_after_a_killed_follower, .timeout = 60)
{
	char lock[300];
	const char *dir = getenv("TATTACH_RING_DIR");
	struct target t;
	pid_t first, second;

	start(&t);
	first = follow_bg(t.pid);
	cr_assert_eq(kill(first, SIGKILL), 0);
	wait_gone(first);
	snprintf(lock, sizeof(lock), "%s/tattach-follower-%d.lock",
		 dir && *dir ? dir : "/dev/shm", (int)first);
	cr_assert_eq(access(lock, F_OK), 0, "a killed follower's lock file stays");
	second = follow_bg(t.pid);
	cr_assert_neq(access(lock, F_OK), 0, "the next follower removes it");
	cr_assert_str_eq(target_cmd(&t, "loadrun 3"), "done");
	assert_tree(t.pid, "loadrun(lib_work(lib_leaf lib_leaf lib_leaf))");
	end_follow(t.pid, second);
	target_stop(&t);
}

/* The hook traps before the library's constructors run: what they call
 * inside dlopen() is traced too. */
Test(follow, dlopen_constructor_traced, .timeout = 60)
{
	struct target t;
	pid_t follower;

	start(&t);
	follower = follow_bg(t.pid);
	cr_assert_str_eq(target_cmd(&t, "loadctor"), "done");
	assert_tree(t.pid, "loadctor(ctor_init(ctor_leaf ctor_leaf))");
	end_follow(t.pid, follower);
	target_stop(&t);
}

/* A main thread that exits (pthread_exit) while another serves: the
 * process stays followed, and ending the follower does not wait for the
 * exited main thread (its exit is reported only after the last thread's). */
Test(follow, main_thread_exited, .timeout = 90)
{
	struct target t;
	pid_t follower;

	target_start(&t, build_path("tests/targets/states"));
	ring_remove(t.pid);
	follower = follow_bg(t.pid);
	cr_assert_str_eq(target_cmd(&t, "exit-main"), "main exited");
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	end_follow(t.pid, follower);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	target_stop(&t);
}
