// SPDX-License-Identifier: MIT
/*
 * Every refusal is one clear line on stderr, a non-zero exit, and a target
 * left exactly as it was.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tattach/ring.h>

#include "lib/proc_harness.h"

static int lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void assert_one_line_error(int rc, const char *err, const char *needle)
{
	cr_assert_eq(rc, 1, "exit status %d, stderr: %s", rc, err);
	cr_assert(strstr(err, needle), "stderr lacks \"%s\": %s", needle, err);
	cr_assert_eq(lines(err), 1, "not one line: %s", err);
}

static long tracer_of(pid_t pid)
{
	char path[64], line[256];
	long tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %ld", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

Test(errors, no_such_pid)
{
	char *out, *err;
	int rc = tattach(999999, "--enable", &out, &err);

	assert_one_line_error(rc, err, "no process with pid 999999");
}

Test(errors, kernel_thread)
{
	char *out, *err;
	int rc = tattach(2, "--enable", &out, &err);	/* kthreadd */

	assert_one_line_error(rc, err, "kernel thread");
}

Test(errors, zombie)
{
	char *out, *err;
	pid_t child = fork();
	siginfo_t si;
	int rc;

	cr_assert(child >= 0);
	if (child == 0)
		_exit(0);
	/* wait for the exit without reaping it */
	cr_assert(waitid(P_PID, child, &si, WEXITED | WNOWAIT) == 0);
	rc = tattach(child, "--enable", &out, &err);
	waitpid(child, NULL, 0);
	assert_one_line_error(rc, err, "zombie");
}

Test(errors, no_sites_untouched, .timeout = 30)
{
	char *out, *err, *cmd[] = { "/bin/sleep", "60", NULL }, c;
	int rc, p[2];
	pid_t pid;

	/* The write end closes at exec: EOF on the read end means "exec'd". */
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		execv(cmd[0], cmd);
		_exit(127);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	rc = tattach(pid, "--enable", &out, &err);
	assert_one_line_error(rc, err, "rebuild it with -pg");
	cr_assert_eq(tracer_of(pid), 0, "left traced");
	cr_assert_eq(kill(pid, 0), 0, "target died");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

Test(errors, tread_without_ring)
{
	char *out, *err;
	struct target t;
	int rc;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	ring_remove(t.pid);
	rc = tread(t.pid, "", &out, &err);
	cr_assert_eq(rc, 1, "%s", err);
	cr_assert(strstr(err, "no ring file"), "%s", err);
	cr_assert_eq(lines(err), 1, "%s", err);
	rc = tattach(t.pid, "--disable", &out, &err);
	assert_one_line_error(rc, err, "not traced");
	rc = tattach(t.pid, "--status", &out, &err);
	assert_one_line_error(rc, err, "not traced");
	target_stop(&t);
}

Test(errors, not_permitted, .timeout = 30)
{
	char pidbuf[16], *out, *err;
	char *argv[] = { (char *)build_path("tattach"), "-p", pidbuf, "--enable", NULL };
	struct target t;
	int p[2], status;
	pid_t child;
	char buf[4096] = "";

	char dir[] = "/tmp/tattach-eperm-XXXXXX", copy[64], cp[600];
	char *cpargv[] = { "/bin/sh", "-c", cp, NULL };

	cr_assert(getuid() == 0, "this test drops root to uid 65534; run as root");
	/* uid 65534 may not be able to reach the build tree: use a copy */
	cr_assert(mkdtemp(dir));
	snprintf(copy, sizeof(copy), "%s/tattach", dir);
	snprintf(cp, sizeof(cp), "chmod 755 %s && cp %s %s && chmod 755 %s", dir,
		 build_path("tattach"), copy, copy);
	cr_assert_eq(run_capture(cpargv, NULL, NULL), 0);
	argv[0] = copy;
	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)t.pid);
	cr_assert(pipe(p) == 0);
	child = fork();
	if (child == 0) {
		dup2(p[1], 2);
		dup2(p[1], 1);
		if (setgid(65534) || setuid(65534))
			_exit(99);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s as uid 65534\n", argv[0]);
		_exit(127);
	}
	close(p[1]);
	cr_assert(read(p[0], buf, sizeof(buf) - 1) > 0);
	waitpid(child, &status, 0);
	cr_assert_eq(WEXITSTATUS(status), 1, "%s", buf);
	cr_assert(strstr(buf, "not permitted") || strstr(buf, "Permission"), "%s", buf);
	cr_assert_eq(lines(buf), 1, "%s", buf);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	target_stop(&t);
	unlink(copy);
	rmdir(dir);
	(void)out;
	(void)err;
}

Test(errors, usage)
{
	char *out, *err;
	char *none[] = { (char *)build_path("tattach"), NULL };
	char *help[] = { (char *)build_path("tattach"), "--help", NULL };
	char *both[] = { (char *)build_path("tattach"), "-p", "1", "--enable", "--disable", NULL };

	cr_assert_eq(run_capture(none, &out, &err), 2);
	cr_assert(strstr(err, "Try 'tattach --help'"), "%s", err);
	cr_assert_eq(run_capture(both, &out, &err), 2);
	cr_assert_eq(run_capture(help, &out, &err), 0);
	cr_assert(strstr(out, "--enable") && strstr(out, "--disable") && strstr(out, "--status"));
}

/* Refused before anything is stopped: no tracer left, still working. */
static void assert_refused_untouched(const char *bin, const char *needle)
{
	char *out, *err;
	struct target t;
	int rc;

	target_start(&t, bin);
	ring_remove(t.pid);
	rc = tattach(t.pid, "--enable", &out, &err);
	assert_one_line_error(rc, err, needle);
	cr_assert_eq(tracer_of(t.pid), 0, "left traced");
	cr_assert_str_eq(target_cmd(&t, "run 4"), "done");
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
}

Test(errors, seccomp_refused)
{
	assert_refused_untouched(build_path("tests/targets/seccomp"), "seccomp");
}

Test(errors, no_room_for_a_trampoline)
{
	assert_refused_untouched(build_path("tests/targets/crowded"),
				 "no free address range within 2 GiB");
}

/*
 * The program's file written after it started (here only touched: a
 * running program cannot be opened for writing) while its code in memory
 * differs from it (a debugger's breakpoint on its .init, run once at
 * load): what runs is not what the file holds, so --enable refuses,
 * untouched.  (Touched only, it is traced:
 * modules.files_written_since_start_traced_when_their_code_is_the_same;
 * replaced by a new file, the old one is read where it is mapped:
 * modules.program_and_library_replaced_on_disk.)
 */
Test(errors, program_modified_on_disk, .timeout = 30)
{
	char dir[] = "/tmp/tattach-modified-XXXXXX", bin[128];

	cr_assert(mkdtemp(dir));
	snprintf(bin, sizeof(bin), "%s/calltree", dir);
	shell("cp %s %s", build_path("tests/targets/calltree.pg.O2"), bin);
	{
		char *out, *err;
		struct target t;
		int rc;

		target_start(&t, bin);
		ring_remove(t.pid);
		poke_breakpoint(t.pid, mapped_at(t.pid, "calltree", 1));
		shell("touch -d '+10 seconds' %s", bin);
		rc = tattach(t.pid, "--enable", &out, &err);
		assert_one_line_error(rc, err, "was modified on disk after the process started, "
				      "and its code in memory differs from it");
		cr_assert_eq(tracer_of(t.pid), 0, "left traced");
		cr_assert_str_eq(target_cmd(&t, "run 4"), "done");
		target_stop(&t);
		ring_remove(t.pid);
	}
	shell("rm -rf %s", dir);
}

/* Replaced on disk while traced: --disable still turns the sites off. */
Test(errors, disable_after_program_replaced, .timeout = 30)
{
	char dir[] = "/tmp/tattach-replaced-XXXXXX", bin[128], *out, *err;
	struct target t;

	cr_assert(mkdtemp(dir));
	snprintf(bin, sizeof(bin), "%s/calltree", dir);
	shell("cp %s %s", build_path("tests/targets/calltree.pg.O2"), bin);
	target_start(&t, bin);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	shell("cp %s %s.new && mv %s.new %s", build_path("tests/targets/calltree.pg.O0"), bin, bin,
	      bin);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "12 sites are NOPs again"), "%s", out);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "0 patched"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	target_stop(&t);
	shell("rm -rf %s", dir);
}

/*
 * A process whose trampoline another tattach build injected (its state
 * has another layout, so another TP_STATE_MAGIC; made here by changing
 * the magic through /proc/PID/mem): --enable refuses in one line before
 * it writes anything of that state, and the process runs on; --disable
 * still turns the sites off.
 */
Test(errors, trampoline_of_another_build, .timeout = 30)
{
	struct tat_ring_header h;
	struct target t;
	char path[128], *out, *err;
	uint64_t magic, other;
	int fd, rc;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	snprintf(path, sizeof(path), "/dev/shm/tattach-%d.ring", (int)t.pid);
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "no ring file %s", path);
	cr_assert(pread(fd, &h, sizeof(h), 0) == sizeof(h));
	close(fd);
	cr_assert_neq(h.private_addr, 0);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)t.pid);
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0);
	cr_assert(pread(fd, &magic, sizeof(magic), (off_t)h.private_addr) == sizeof(magic));
	other = magic ^ 0xff;
	cr_assert(pwrite(fd, &other, sizeof(other), (off_t)h.private_addr) == sizeof(other));

	rc = tattach(t.pid, "--enable", &out, &err);
	assert_one_line_error(rc, err, "another tattach build injected");
	cr_assert_eq(tracer_of(t.pid), 0, "left traced");
	cr_assert_str_eq(target_cmd(&t, "run 4"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 4"), "done");

	/* its own state back: this build enables it again */
	cr_assert(pwrite(fd, &magic, sizeof(magic), (off_t)h.private_addr) == sizeof(magic));
	close(fd);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 4"), "done");
	target_stop(&t);
	ring_remove(t.pid);
}
