// SPDX-License-Identifier: MIT
/*
 * The trace is as private as the process: the ring file belongs to the
 * target's user with mode 0600 (also when root attaches), another user
 * cannot read it, and nothing planted at its path is ever used or
 * followed.  A ring the folder cannot hold is refused before anything is
 * injected.  (Run as root: it switches users.)
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/proc_harness.h"

#define NOBODY 65534
#define OTHER  65533

static void ring_path(pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/shm/tattach-%d.ring", (int)pid);
}

/* @dir (a mkdtemp() template) becomes a 4 MiB tmpfs, the ring folder of
 * the tattach runs that follow; the test is skipped where it cannot. */
static void small_ring_folder(char *dir)
{
	cr_assert(mkdtemp(dir));
	if (mount("tmpfs", dir, "tmpfs", 0, "size=4m") != 0) {
		rmdir(dir);
		cr_skip_test("cannot mount a small tmpfs here");
	}
	setenv("TATTACH_RING_DIR", dir, 1);
}

static void small_ring_folder_gone(const char *dir)
{
	unsetenv("TATTACH_RING_DIR");
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* Run tread -p PID as @uid; exit status, stderr in @err. */
static int tread_as(uid_t uid, pid_t pid, char *err, size_t len)
{
	char pidbuf[16];
	char *argv[] = { (char *)public_copy(build_path("tread")), "-p", pidbuf, NULL };
	int p[2], status;
	ssize_t n;
	pid_t child;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	cr_assert(pipe(p) == 0);
	child = fork();
	if (child == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		dup2(p[1], 2);
		if (setgid(uid) || setuid(uid))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], err, len - 1);
	err[n > 0 ? n : 0] = 0;
	close(p[0]);
	waitpid(child, &status, 0);
	return WEXITSTATUS(status);
}

Test(security, ring_private_to_the_target_user, .timeout = 60)
{
	char path[64], *out = NULL, *err = NULL, msg[512];
	struct target t;
	struct stat st;

	cr_assert(getuid() == 0, "run as root");
	target_start_as(&t, public_copy(build_path("tests/targets/calltree.pg.O2")), NOBODY,
			NOBODY);
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	ring_path(t.pid, path, sizeof(path));
	cr_assert(lstat(path, &st) == 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_uid, NOBODY, "ring owned by uid %u", st.st_uid);
	cr_assert_eq(st.st_mode & 0777, 0600, "ring mode %o", st.st_mode & 0777);
	/* its owner may read it; another user may not */
	cr_assert_eq(tread_as(NOBODY, t.pid, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(tread_as(OTHER, t.pid, msg, sizeof(msg)), 1, "%s", msg);
	cr_assert(strstr(msg, "Permission denied"), "%s", msg);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	target_stop(&t);
	ring_remove(t.pid);
}

Test(security, planted_symlink_is_not_followed, .timeout = 60)
{
	char path[64], victim[] = "/tmp/tattach-victim-XXXXXX", *out = NULL, *err = NULL;
	struct target t;
	struct stat before, after;
	int fd, rc;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	ring_remove(t.pid);
	fd = mkstemp(victim);
	cr_assert(fd >= 0 && write(fd, "precious\n", 9) == 9);
	close(fd);
	cr_assert(stat(victim, &before) == 0);
	ring_path(t.pid, path, sizeof(path));
	cr_assert(symlink(victim, path) == 0);
	rc = tattach(t.pid, "--enable", &out, &err);
	cr_assert_eq(rc, 1, "%s%s", out, err);
	cr_assert(stat(victim, &after) == 0);
	cr_assert_eq(after.st_size, before.st_size, "the symlink was followed");
	cr_assert_eq(after.st_mtime, before.st_mtime);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	unlink(path);
	unlink(victim);
	target_stop(&t);
}

Test(security, planted_file_of_another_user_is_refused, .timeout = 60)
{
	char path[64], *out = NULL, *err = NULL;
	struct target t;
	int fd, rc;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	ring_remove(t.pid);
	ring_path(t.pid, path, sizeof(path));
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
	cr_assert(fd >= 0);
	cr_assert(fchown(fd, OTHER, OTHER) == 0);
	close(fd);
	rc = tattach(t.pid, "--enable", &out, &err);
	cr_assert_eq(rc, 1, "%s", out);
	cr_assert(strstr(err, "not a private file"), "%s", err);
	unlink(path);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	target_stop(&t);
}

Test(security, ring_too_big_for_the_folder, .timeout = 60)
{
	char dir[] = "/tmp/tattach-small-XXXXXX", *out = NULL, *err = NULL;
	struct target t;
	int rc;

	small_ring_folder(dir);
	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	rc = tattach(t.pid, "--enable -b 1M -t 64", &out, &err);
	cr_assert_eq(rc, 1, "%s", out);
	cr_assert(strstr(err, "MiB free"), "%s", err);
	/* refused before anything was injected or created */
	rc = tattach(t.pid, "--status", &out, &err);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(err, "not traced"), "%s", err);
	cr_assert_eq(tattach(t.pid, "--enable -b 16K -t 8", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	target_stop(&t);
	small_ring_folder_gone(dir);
}

/* Fill the folder @dir to its last byte with a file of its own. */
static void fill_folder(const char *dir)
{
	static char chunk[4096];
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/fill", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	while (write(fd, chunk, sizeof(chunk)) > 0)
		;
	close(fd);
}

/*
 * The ring folder fills up after --enable (another program's files in a
 * small /dev/shm, say): a thread started then has no room for its pages.
 * A store to one of them raised SIGBUS: the target died (exit status
 * 135).  Now the thread is not traced, counted, said, and the next
 * --enable, once there is room again, traces new threads.
 */
Test(security, ring_folder_filled_up_after_enable, .timeout = 60)
{
	char dir[] = "/tmp/tattach-full-XXXXXX", path[256], *out = NULL, *err = NULL;
	struct target t;
	pid_t pid;

	small_ring_folder(dir);
	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	pid = t.pid;
	cr_assert_eq(tattach(pid, "--enable -b 16K -t 8", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	fill_folder(dir);
	/* 3 threads, thread_main(5) each: 32 calls apiece, none traced */
	cr_assert_str_eq(target_cmd(&t, "mt 3 5"), "done");
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");	/* main: traced */
	cr_assert_eq(tattach(pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "threads with rings: 1 of 8"), "%s", out);
	cr_assert(strstr(out, "96 (no thread slot)"), "%s", out);
	cr_assert(strstr(out, "no room:      the ring folder"), "%s", out);
	free(out);
	free(err);
	/* tread reads only pages that were written: it works in a full folder */
	cr_assert_eq(tread(pid, "--report", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "96 calls not traced (no free thread slot)"), "%s", out);
	cr_assert(strstr(out, " work\n"), "%s", out);
	free(out);
	free(err);
	/* room again: the next --enable lets new threads try */
	snprintf(path, sizeof(path), "%s/fill", dir);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(tattach(pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(err, "filled up after the ring file was made"), "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "mt 2 5"), "done");
	cr_assert_eq(tattach(pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "threads with rings: 3 of 8"), "%s", out);
	cr_assert(strstr(out, "96 (no thread slot)"), "%s", out);
	cr_assert_null(strstr(out, "no room:"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tattach(pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	small_ring_folder_gone(dir);
}
