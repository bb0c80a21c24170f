// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/proc_harness.h"

#define ANSWER_TIMEOUT_MS 60000

const char *build_path(const char *rel)
{
	static char buf[8][512];
	static int k;
	const char *dir = getenv("TATTACH_BUILD");

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir && *dir ? dir : "build", rel);
	return buf[k];
}

/* One line from the target, waiting at most ANSWER_TIMEOUT_MS for it. */
static char *read_answer(FILE *f, char *buf, size_t len)
{
	struct pollfd p = { fileno(f), POLLIN, 0 };

	/* The stream is unbuffered (see target_start): poll sees all. */
	if (poll(&p, 1, ANSWER_TIMEOUT_MS) <= 0)
		return NULL;
	return fgets(buf, (int)len, f);
}

void target_start(struct target *t, const char *bin)
{
	target_start_as(t, bin, (uid_t)-1, (gid_t)-1);
}

void shell(const char *fmt, ...)
{
	char cmd[1024], *out = NULL, *err = NULL;
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(run_capture(argv, &out, &err), 0, "%s: %s", cmd, err);
	free(out);
	free(err);
}

/* The copies public_copy() made in this test's process, removed when it
 * exits (a failed assertion too): /tmp would keep three per run. */
#define PUBLIC_COPIES 8
static char copies[PUBLIC_COPIES][160];
static int ncopies;

static void remove_public_copies(void)
{
	for (int i = 0; i < ncopies; i++) {
		char *slash = strrchr(copies[i], '/');

		unlink(copies[i]);
		*slash = 0;
		rmdir(copies[i]);
	}
	ncopies = 0;
}

const char *public_copy(const char *bin)
{
	static char path[160];
	char dir[] = "/tmp/tattach-public-XXXXXX", cmd[800];
	char *sh[] = { "/bin/sh", "-c", cmd, NULL };
	const char *base = strrchr(bin, '/');

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, base ? base + 1 : bin);
	snprintf(cmd, sizeof(cmd), "chmod 755 %s && cp %s %s && chmod 755 %s", dir, bin,
		 path, path);
	cr_assert_eq(run_capture(sh, NULL, NULL), 0, "%s", cmd);
	if (ncopies < PUBLIC_COPIES) {
		if (!ncopies)
			atexit(remove_public_copies);
		snprintf(copies[ncopies++], sizeof(copies[0]), "%s", path);
	}
	return path;
}

/*
 * Where the -pg targets a test binary run by hand write their gmon.out.N
 * (not its working directory, nor /tmp, where thousands would pile up):
 * the build's tests/gmon, made here, by absolute path, as a target may
 * change directory.  tests/run-all.sh empties it and sets the same.
 */
static const char *gmon_prefix(void)
{
	static char prefix[PATH_MAX + 16];
	char dir[PATH_MAX];

	if (prefix[0])
		return prefix;
	if (!realpath(build_path("tests"), dir))
		return "/tmp/tattach-test-gmon";
	snprintf(prefix, sizeof(prefix), "%s/gmon", dir);
	/* world-writable, as /tmp: some targets run as another user */
	if ((mkdir(prefix, 0755) && errno != EEXIST) || chmod(prefix, 01777))
		return "/tmp/tattach-test-gmon";
	strcat(prefix, "/gmon");
	return prefix;
}

/*
 * TATTACH_TARGET_FLAVOR=pfe (tests/run-all.sh "pfe:"): a target of
 * tests/targets that was also built with that suffix (targets.mk,
 * PFE_SCENARIOS) runs in that build instead.
 */
static const char *flavoured(const char *bin)
{
	static char path[PATH_MAX];
	const char *f = getenv("TATTACH_TARGET_FLAVOR");

	if (!f || !*f || !strstr(bin, "tests/targets/"))
		return bin;
	snprintf(path, sizeof(path), "%s.%s", bin, f);
	return access(path, X_OK) == 0 ? path : bin;
}

void target_start_as(struct target *t, const char *bin, uid_t uid, gid_t gid)
{
	const char *gmon = gmon_prefix();
	int in[2], out[2];
	char line[128];

	memset(t, 0, sizeof(*t));
	bin = flavoured(bin);
	/* a target that died must fail an assertion, not kill the test */
	signal(SIGPIPE, SIG_IGN);
	cr_assert(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
	t->pid = fork();
	cr_assert(t->pid >= 0);
	if (t->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		/* -pg programs write gmon output at exit: tests/run-all.sh gives
		 * it a directory of the build it empties; run by hand, here */
		setenv("GMON_OUT_PREFIX", gmon, 0);
		if (uid != (uid_t)-1 && (setgid(gid) || setuid(uid)))
			_exit(126);
		execl(bin, bin, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->in = in[1];
	t->out = fdopen(out[0], "r");
	cr_assert(t->out);
	setvbuf(t->out, NULL, _IONBF, 0);
	cr_assert(read_answer(t->out, line, sizeof(line)), "%s did not start", bin);
	cr_assert(strncmp(line, "ready ", 6) == 0, "%s said: %s", bin, line);
	snprintf(t->ready, sizeof(t->ready), "%s", line);
}

/*
 * What a target that did not answer did instead, for the failing
 * assertion to say.  No answer is either 60 s of silence or the end of
 * its stdout; then it is exiting, and its pidfd says when it is gone (a
 * few seconds at most: a core dump takes time).  A target that ended is
 * reaped here and its status kept for target_stop().
 */
static const char *no_answer(struct target *t, char *buf, size_t len)
{
	int fd = (int)syscall(SYS_pidfd_open, t->pid, 0), status;
	struct pollfd p = { fd, POLLIN, 0 };
	pid_t got;

	if (fd >= 0) {
		poll(&p, 1, 5000);
		close(fd);
	}
	got = waitpid(t->pid, &status, WNOHANG);
	if (got == 0) {
		snprintf(buf, len, "(no answer: pid %d still running)", (int)t->pid);
		return buf;
	}
	if (got < 0) {
		snprintf(buf, len, "(no answer: waitpid: %s)", strerror(errno));
		return buf;
	}
	t->reaped = 1;
	t->status = status;
	if (WIFSIGNALED(status))
		snprintf(buf, len, "(no answer: pid %d killed by signal %d%s)", (int)t->pid,
			 WTERMSIG(status), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "(no answer: pid %d exited with status %d)", (int)t->pid,
			 WEXITSTATUS(status));
	return buf;
}

const char *target_cmd(struct target *t, const char *cmd)
{
	static char line[256];
	size_t len = strlen(cmd);

	cr_assert(write(t->in, cmd, len) == (ssize_t)len);
	cr_assert(write(t->in, "\n", 1) == 1);
	if (!read_answer(t->out, line, sizeof(line)))
		return no_answer(t, line, sizeof(line));
	line[strcspn(line, "\n")] = 0;
	return line;
}

int target_stop(struct target *t)
{
	int status = 0;

	if (t->pid <= 0)
		return -1;
	if (write(t->in, "quit\n", 5) < 0) {
		/* it is gone already; waitpid tells how */
	}
	close(t->in);
	fclose(t->out);
	if (t->reaped)
		status = t->status;
	else
		waitpid(t->pid, &status, 0);
	if (!t->keep_ring)
		ring_remove(t->pid);
	t->pid = 0;
	return status;
}

void target_kill(struct target *t)
{
	if (t->pid <= 0)
		return;
	if (!t->reaped) {	/* else its pid may be another's now */
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
	}
	close(t->in);
	fclose(t->out);
	if (!t->keep_ring)
		ring_remove(t->pid);
	t->pid = 0;
}

static char *slurp(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

int run_capture(char *const argv[], char **out, char **err)
{
	char errfile[] = "/tmp/tattach-test-err-XXXXXX";
	int p[2], efd, status;
	pid_t pid;
	char *o;

	cr_assert(pipe(p) == 0);
	efd = mkstemp(errfile);
	cr_assert(efd >= 0);
	unlink(errfile);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(efd, 2);
		close(p[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	o = slurp(p[0]);
	close(p[0]);
	waitpid(pid, &status, 0);
	if (out)
		*out = o;
	else
		free(o);
	if (err) {
		lseek(efd, 0, SEEK_SET);
		*err = slurp(efd);
	}
	close(efd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * TATTACH_TOOL_WRAPPER (e.g. "valgrind -q --error-exitcode=99
 * --leak-check=full") runs tattach and tread under another program: `make
 * check-valgrind`.
 */
static int run_tool(const char *tool, pid_t pid, const char *args, char **out, char **err)
{
	char pidbuf[16], copy[512], wrap[512], *tok, *save = NULL;
	const char *wrapper = getenv("TATTACH_TOOL_WRAPPER");
	char *argv[32];
	int i = 0;

	if (wrapper && *wrapper) {
		snprintf(wrap, sizeof(wrap), "%s", wrapper);
		for (tok = strtok_r(wrap, " ", &save); tok && i < 12; tok = strtok_r(NULL, " ", &save))
			argv[i++] = tok;
	}
	argv[i++] = (char *)build_path(tool);

	if (pid) {
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
		argv[i++] = "-p";
		argv[i++] = pidbuf;
	}
	snprintf(copy, sizeof(copy), "%s", args ? args : "");
	for (tok = strtok_r(copy, " ", &save); tok && i < 31; tok = strtok_r(NULL, " ", &save))
		argv[i++] = tok;
	argv[i] = NULL;
	return run_capture(argv, out, err);
}

int tattach(pid_t pid, const char *args, char **out, char **err)
{
	return run_tool("tattach", pid, args, out, err);
}

int tread(pid_t pid, const char *args, char **out, char **err)
{
	return run_tool("tread", pid, args, out, err);
}

char *disable_then_read(pid_t pid)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	err = NULL;
	cr_assert_eq(tread(pid, "", &out, &err), 0, "%s", err);
	free(err);
	return out;
}

void ring_remove(pid_t pid)
{
	const char *dir = getenv("TATTACH_RING_DIR");
	char path[300], prefix[64], kept[64];
	struct dirent *de;
	DIR *d;

	if (!dir || !*dir)
		dir = "/dev/shm";
	snprintf(path, sizeof(path), "%s/tattach-%d.ring", dir, (int)pid);
	unlink(path);
	/* temporary files of a tattach killed while creating the ring, and
	 * the rings of the programs the process ran before an exec */
	snprintf(prefix, sizeof(prefix), ".tattach-%d.", (int)pid);
	snprintf(kept, sizeof(kept), "tattach-%d.", (int)pid);
	d = opendir(dir);
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)) ||
		    (!strncmp(de->d_name, kept, strlen(kept)) && strstr(de->d_name, ".image"))) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
}

uint64_t proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	cr_assert(f, "%s: %s", path, strerror(errno));
	cr_assert(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	cr_assert(p);
	cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d "
			    "%*d %*d %*d %*d %*d %llu", &start), 1);
	return start;
}

char task_state(pid_t pid, pid_t tid)
{
	char path[96], buf[512], *p = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		p = strrchr(buf, ')');
	fclose(f);
	return p ? p[2] : 0;
}

uint64_t mapped_at(pid_t pid, const char *name, int code)
{
	char path[64], line[512];
	unsigned long long start = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	cr_assert(f, "%s: %s", path, strerror(errno));
	while (!start && fgets(line, sizeof(line), f)) {
		char *slash = strrchr(line, '/'), perms[8];
		unsigned long long s;

		line[strcspn(line, "\n")] = 0;
		if (slash && !strcmp(slash + 1, name) &&
		    sscanf(line, "%llx-%*x %7s", &s, perms) == 2 && (!code || perms[2] == 'x'))
			start = s;
	}
	fclose(f);
	return start;
}

void poke_breakpoint(pid_t pid, uint64_t addr)
{
	char path[64];
	uint8_t int3 = 0xcc;
	int fd;

	cr_assert(addr, "pid %d: no code to put a breakpoint in", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(pwrite(fd, &int3, 1, (off_t)addr), 1, "%s: %s", path, strerror(errno));
	close(fd);
}

char *file_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	if (getdelim(&buf, &len, '\0', f) < 0) {	/* empty: "" */
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	cr_assert_not_null(buf);
	return buf;
}

