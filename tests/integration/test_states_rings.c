// SPDX-License-Identifier: MIT
/*
 * Ring files over time: a ring left by an exited process whose pid is now
 * another process's (maybe of another user) neither blocks tracing the new
 * process nor is lost (it is kept as tattach-PID.START.ring and stays
 * readable); --status works post mortem; --list shows every ring with
 * whether its process still runs, --clean removes those of exited ones
 * and never one of a running process.
 *
 * Every test uses a ring folder of its own (TATTACH_RING_DIR), so it never
 * sees or removes the rings of anything else on the machine.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

#define NOBODY 65534

static char dir[64];

static void private_ring_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tattach-rings-XXXXXX");
	cr_assert(mkdtemp(dir));
	setenv("TATTACH_RING_DIR", dir, 1);
}

static void remove_ring_dir(void)
{
	char cmd[128];
	char *sh[] = { "/bin/sh", "-c", cmd, NULL };

	unsetenv("TATTACH_RING_DIR");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	run_capture(sh, NULL, NULL);
}

TestSuite(rings, .init = private_ring_dir, .fini = remove_ring_dir, .timeout = 120);

static void path_of(char *buf, size_t len, const char *fmt, long pid)
{
	char name[64];

	snprintf(name, sizeof(name), fmt, pid);
	snprintf(buf, len, "%s/%s", dir, name);
}

/*
 * A real trace of work(2), left by a process that has exited: its ring
 * file's path (static buffer) and that process's start time.
 */
static const char *dead_ring(uint64_t *start, pid_t *dead_pid)
{
	static char path[128];
	char *out = NULL, *err = NULL;
	struct target t;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	t.keep_ring = 1;
	*dead_pid = t.pid;
	*start = proc_start_time(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	target_stop(&t);
	path_of(path, sizeof(path), "tattach-%ld.ring", *dead_pid);
	cr_assert(access(path, F_OK) == 0);
	free(out);
	free(err);
	return path;
}

/* Make @ring look left by an earlier process with @pid, owned by @uid. */
static void pretend_pid_reused(const char *ring, pid_t pid, uid_t uid, char *moved_to,
			       size_t len)
{
	struct tat_ring_header h;
	int fd = open(ring, O_RDWR);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	h.pid = pid;
	h.uid = uid;
	cr_assert_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	cr_assert_eq(fchown(fd, uid, uid), 0);
	close(fd);
	path_of(moved_to, len, "tattach-%ld.ring", pid);
	cr_assert_eq(rename(ring, moved_to), 0, "%s", strerror(errno));
}

/* The one thread's tree in tread's output for @args. */
static char *tree_of(pid_t pid, const char *args)
{
	char *out = NULL, *err = NULL, *got;
	int tids[8];

	cr_assert_eq(tread(pid, args, &out, &err), 0, "tread %s: %s", args, err);
	cr_assert_eq(graph_tids(out, tids, 8), 1, "%s", out);
	got = graph_canon(out, tids[0]);
	free(out);
	free(err);
	return got;
}

static char *dispatch_work(long n)
{
	char *want = NULL, *w = expect_work(n);

	str_append(&want, "dispatch(");
	str_append(&want, w);
	str_append(&want, ")");
	free(w);
	return want;
}

static void pid_reused(uid_t old_owner)
{
	char old[160], kept[160], args[200], *out = NULL, *err = NULL, *got, *want;
	pid_t dead_pid;
	uint64_t old_start;
	const char *ring = dead_ring(&old_start, &dead_pid);
	struct target t;
	struct stat st;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	cr_assert_neq(proc_start_time(t.pid), old_start);
	pretend_pid_reused(ring, t.pid, old_owner, old, sizeof(old));

	/* the new process is traced as if the old file were not there */
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "", "enable said: %s", err);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	got = tree_of(t.pid, "");
	want = dispatch_work(3);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);

	/* the old ring is kept, as it was, under its process's start time */
	snprintf(kept, sizeof(kept), "%s/tattach-%d.%llu.ring", dir, (int)t.pid,
		 (unsigned long long)old_start);
	cr_assert_eq(lstat(kept, &st), 0, "%s was not kept", kept);
	cr_assert_eq(st.st_uid, old_owner);
	cr_assert_eq(st.st_mode & 0777, 0600);
	snprintf(args, sizeof(args), "-i %s", kept);
	got = tree_of(0, args);
	want = dispatch_work(2);
	str_append(&want, " dispatch(");	/* "quit": exit() inside it */
	cr_assert_str_eq(got, want, "the kept ring no longer reads as it was");
	free(got);
	free(want);

	/* --list tells them apart; --clean removes only the old one */
	cr_assert_eq(tattach(0, "--list", &out, &err), 0, "%s", err);
	snprintf(args, sizeof(args), "%-8d %-6u %-8s", (int)t.pid, (unsigned)old_owner,
		 "exited");
	cr_assert(strstr(out, args) && strstr(out, kept), "want '%s':\n%s", args, out);
	snprintf(args, sizeof(args), "%-8d %-6u %-8s", (int)t.pid, (unsigned)getuid(), "running");
	cr_assert(strstr(out, args), "want '%s':\n%s", args, out);
	cr_assert(strstr(out, "2 ring files; 1 of exited processes"), "%s", out);
	cr_assert_eq(tattach(0, "--clean", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "removed 1 ring file of exited processes"), "%s", out);
	cr_assert(access(kept, F_OK) < 0 && errno == ENOENT, "%s is still there", kept);
	cr_assert(access(old, F_OK) == 0, "the running process's ring was removed");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	target_stop(&t);
	free(out);
	free(err);
	(void)dead_pid;
}

Test(rings, pid_reused_by_a_process_of_another_user)
{
	cr_assert(getuid() == 0, "run as root (the old ring is made uid %d's)", NOBODY);
	pid_reused(NOBODY);
}

Test(rings, pid_reused_by_a_process_of_the_same_user)
{
	pid_reused(getuid());
}

/*
 * Another process's ring renamed (or copied) to a live process's path:
 * neither tattach nor tread takes it for that process's, both say what it
 * is, and the file and the process are left as they were.
 */
Test(rings, ring_of_another_pid_at_the_path)
{
	char live_path[160], *out = NULL, *err = NULL, want[320];
	pid_t dead_pid;
	uint64_t start;
	const char *dead = dead_ring(&start, &dead_pid);
	struct target t;
	struct stat before, after;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	path_of(live_path, sizeof(live_path), "tattach-%ld.ring", t.pid);
	cr_assert_eq(rename(dead, live_path), 0, "%s", strerror(errno));
	cr_assert(stat(live_path, &before) == 0);
	snprintf(want, sizeof(want), "%s is the ring file of pid %d, not of pid %d",
		 live_path, (int)dead_pid, (int)t.pid);

	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 1, "%s", out);
	cr_assert(strstr(err, want), "%s", err);
	cr_assert(!strchr(err, '\n') || strchr(err, '\n') == err + strlen(err) - 1,
		  "one line: %s", err);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 1, "%s", out);
	cr_assert(strstr(err, want), "%s", err);
	cr_assert_eq(tread(t.pid, "", &out, &err), 1, "%s", out);
	cr_assert(strstr(err, want), "%s", err);
	cr_assert(strstr(err, "read it with 'tread -i "), "%s", err);
	/* untouched: the same file, and a process that runs as before */
	cr_assert(stat(live_path, &after) == 0);
	cr_assert_eq(after.st_ino, before.st_ino);
	cr_assert_eq(after.st_size, before.st_size);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	/* moved away, the process is traced as usual */
	cr_assert_eq(unlink(live_path), 0);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_eq(graph_count_calls(out, "work"), 1, "%s", out);
	target_stop(&t);
	free(out);
	free(err);
}

/* The maps of @pid mention "tattach" (a ring or trampoline mapping). */
static int maps_mention_tattach(pid_t pid)
{
	char path[64], *maps;
	int found;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = file_text(path);
	found = strstr(maps, "tattach") != NULL;
	free(maps);
	return found;
}

/*
 * A process in a mount namespace of its own where the ring folder is
 * another (a container with its own /dev/shm; here a tmpfs mounted over
 * the suite's folder): it would open no ring file, or another, at the
 * path.  --enable says so in one line before it touches the process and
 * leaves no ring file; with a folder both see, it traces it.
 */
Test(rings, process_in_another_mount_namespace)
{
	char wrapper[160], shared[64], cmd[512], ring[160], *out = NULL, *err = NULL;
	char *sh[] = { "/bin/sh", "-c", cmd, NULL };
	struct target t;
	FILE *f;

	cr_assert(getuid() == 0, "run as root (unshare -m, mount)");
	snprintf(wrapper, sizeof(wrapper), "%s/in-its-own-namespace.sh", dir);
	f = fopen(wrapper, "w");
	cr_assert(f);
	fprintf(f, "#!/bin/sh\nexec unshare -m --propagation private sh -c "
		"'mount -t tmpfs tattach-test %s && exec %s'\n",
		dir, build_path("tests/targets/calltree.pg.O2"));
	fclose(f);
	cr_assert_eq(chmod(wrapper, 0755), 0);
	target_start(&t, wrapper);
	path_of(ring, sizeof(ring), "tattach-%ld.ring", t.pid);

	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 1, "%s", out);
	snprintf(cmd, sizeof(cmd), "pid %d runs in another mount namespace or root (a "
		 "container?) and does not see %s: set TATTACH_RING_DIR", (int)t.pid, ring);
	cr_assert(strstr(err, cmd), "%s", err);
	cr_assert(strchr(err, '\n') == err + strlen(err) - 1, "one line: %s", err);
	cr_assert_neq(access(ring, F_OK), 0, "%s left behind", ring);
	cr_assert_not(maps_mention_tattach(t.pid), "the process was changed");
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");

	/* a folder both see under the same path */
	snprintf(shared, sizeof(shared), "/tmp/tattach-shared-XXXXXX");
	cr_assert(mkdtemp(shared));
	setenv("TATTACH_RING_DIR", shared, 1);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_eq(graph_count_calls(out, "work"), 1, "%s", out);
	target_stop(&t);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", shared);
	run_capture(sh, NULL, NULL);
	setenv("TATTACH_RING_DIR", dir, 1);
	free(out);
	free(err);
}

Test(rings, status_post_mortem)
{
	char *out = NULL, *err = NULL;
	pid_t dead_pid;
	uint64_t start;

	dead_ring(&start, &dead_pid);
	cr_assert_eq(tattach(dead_pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "process:      exited"), "%s", out);
	cr_assert(strstr(out, "attached:     no"), "%s", out);
	cr_assert(strstr(out, "tracing:      enabled"), "%s", out);
	cr_assert(strstr(out, "enables:      1, disables: 0"), "%s", out);
	cr_assert(strstr(out, "calltree.pg.O2"), "%s", out);
	/* nothing to disable in an exited process */
	cr_assert_eq(tattach(dead_pid, "--disable", &out, &err), 1);
	free(out);
	free(err);
}

Test(rings, clean_keeps_running_processes_rings)
{
	char live_ring[160], tmp[160], *out = NULL, *err = NULL;
	pid_t dead_pid;
	uint64_t start;
	const char *dead = dead_ring(&start, &dead_pid);
	struct target t;
	int fd;

	/* a ring half made by a killed run, for the exited process */
	path_of(tmp, sizeof(tmp), ".tattach-%ld.Ab12Cd", dead_pid);
	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY, 0600);
	cr_assert(fd >= 0);
	close(fd);
	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	path_of(live_ring, sizeof(live_ring), "tattach-%ld.ring", t.pid);

	cr_assert_eq(tattach(0, "--list", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "3 ring files; 1 of exited processes"), "%s", out);
	cr_assert_eq(tattach(0, "--clean", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "removed 2 ring files of exited processes"), "%s", out);
	cr_assert(strstr(out, "kept 1 of running processes"), "%s", out);
	cr_assert(access(dead, F_OK) < 0, "%s", dead);
	cr_assert(access(tmp, F_OK) < 0, "%s", tmp);
	cr_assert(access(live_ring, F_OK) == 0, "the running process's ring was removed");
	/* it still records and reads */
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_eq(graph_count_calls(out, "work"), 1, "%s", out);
	cr_assert_eq(tattach(0, "--list", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "1 ring file; 0 of exited processes"), "%s", out);
	/* --list and --clean act on the whole folder */
	cr_assert_eq(tattach(t.pid, "--clean", &out, &err), 2, "%s", err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	target_stop(&t);
	free(out);
	free(err);
}

/* --enable once the process has exec'd: the new program's ring takes the
 * ring's name, and the earlier program's trace is kept, under
 * tattach-PID.START.imageN.ring, as it was (N: 1 for the program the
 * process started with, 2 for the next). */
static void enable_after_exec(pid_t pid, uint64_t start, int image, char *kept, size_t len)
{
	char *out = NULL, *err = NULL, want[400];

	snprintf(kept, len, "%s/tattach-%d.%llu.image%d.ring", dir, (int)pid,
		 (unsigned long long)start, image);
	cr_assert_eq(tattach(pid, "--enable", &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "tattach: pid %d: it called exec since it was traced: the "
		 "trace of its earlier program is kept as %s (read it with 'tread -i %s')",
		 (int)pid, kept, kept);
	cr_assert(strstr(out, want), "want '%s' in:\n%s", want, out);
	free(out);
	free(err);
}

Test(rings, exec_keeps_the_earlier_programs_ring)
{
	char kept1[200], kept2[200], args[220], want[64], *out = NULL, *err = NULL, *got;
	struct target t;
	uint64_t start;

	target_start(&t, build_path("tests/targets/follower"));
	start = proc_start_time(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "work 2"), "done");
	snprintf(want, sizeof(want), "image %d", (int)t.pid);
	cr_assert_str_eq(target_cmd(&t, "exec 1"), want);	/* untraced: work(1) */

	enable_after_exec(t.pid, start, 1, kept1, sizeof(kept1));
	cr_assert_str_eq(target_cmd(&t, "work 3"), "done");
	got = tree_of(t.pid, "");
	cr_assert_str_eq(got, "work(leaf leaf leaf)");
	free(got);
	snprintf(args, sizeof(args), "-i %s", kept1);
	got = tree_of(0, args);
	cr_assert_str_eq(got, "work(leaf leaf)", "the first program's trace");
	free(got);

	/* a second exec: the second program's ring is kept too */
	cr_assert_str_eq(target_cmd(&t, "exec 1"), want);
	enable_after_exec(t.pid, start, 2, kept2, sizeof(kept2));
	cr_assert_str_eq(target_cmd(&t, "work 1"), "done");
	snprintf(args, sizeof(args), "-i %s", kept2);
	got = tree_of(0, args);
	cr_assert_str_eq(got, "work(leaf leaf leaf)", "the second program's trace");
	free(got);

	/* they belong to a running process: --clean keeps them, until it ends */
	cr_assert_eq(tattach(0, "--list", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "3 ring files; 0 of exited processes") && strstr(out, kept2),
		  "%s", out);
	cr_assert_eq(tattach(0, "--clean", &out, &err), 0, "%s", err);
	cr_assert(access(kept1, F_OK) == 0 && access(kept2, F_OK) == 0, "%s", out);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	t.keep_ring = 1;
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	cr_assert_eq(tattach(0, "--clean", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "removed 3 ring files of exited processes"), "%s", out);
	cr_assert(access(kept1, F_OK) < 0 && access(kept2, F_OK) < 0, "%s", out);
	free(out);
	free(err);
}
