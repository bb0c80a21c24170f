// SPDX-License-Identifier: MIT
/*
 * tattach [options] -- COMMAND: the command runs traced from before its
 * constructors, tattach exits with its status (128+N when signal N killed
 * it, 127 and 126 as a shell for a command not found or not runnable, 125
 * when tattach itself failed), forwards the signals sent to it, and the
 * ring options apply as for an attach.  Every trace is read afterwards by
 * tread, post mortem, and compared whole.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

/* The whole trace of "launched N" (see tests/targets/launched.c). */
static char *expect_launched(long n, int main_ends)
{
	char *s = NULL;

	str_append(&s, "early(setup(leaf)) main(work(");
	for (long i = 0; i < n; i++)
		str_append(&s, i ? " step(leaf)" : "step(leaf)");
	str_append(&s, main_ends ? ") finish)" : ") finish");
	return s;
}

static const char *launched(void)
{
	return build_path("tests/targets/launched");
}

/* The pid tattach said it started, from its first line on stderr; the
 * line must name the ring file. */
static pid_t started_pid(const char *err, char *ring, size_t len)
{
	const char *p = strstr(err, "tattach: started PID ");
	char want[80];
	int pid = 0;

	cr_assert(p, "no 'started PID' line in:\n%s", err);
	cr_assert(sscanf(p, "tattach: started PID %d", &pid) == 1 && pid > 0, "%s", err);
	snprintf(want, sizeof(want), "(ring /dev/shm/tattach-%d.ring)", pid);
	cr_assert(strstr(p, want), "no '%s' in:\n%s", want, err);
	if (ring)
		snprintf(ring, len, "/dev/shm/tattach-%d.ring", pid);
	return pid;
}

/* tattach OPTIONS -- launched ARGS; the command's pid in *@pid. */
static int launch(const char *opts, const char *args, pid_t *pid, char **out, char **err)
{
	char cmd[600];
	int ret;

	snprintf(cmd, sizeof(cmd), "%s -- %s %s", opts, launched(), args);
	ret = tattach(0, cmd, out, err);
	*pid = started_pid(*err, NULL, 0);
	return ret;
}

/* tread -p PID, canonical tree of its main thread. */
static char *trace_of(pid_t pid)
{
	char *out = NULL, *err = NULL, *canon;

	cr_assert_eq(tread(pid, "", &out, &err), 0, "%s", err);
	canon = graph_canon(out, pid);
	free(out);
	free(err);
	return canon;
}

Test(launch, constructor_and_main_traced, .timeout = 60)
{
	char *out = NULL, *err = NULL, end[128];
	pid_t pid;

	cr_assert_eq(launch("", "2", &pid, &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "", "tattach wrote on the command's standard output");
	snprintf(end, sizeof(end),
		 "tattach: pid %d exited with status 0; read its trace with 'tread -p %d'\n",
		 (int)pid, (int)pid);
	cr_assert(strstr(err, end), "no '%s' in:\n%s", end, err);
	cr_assert_str_eq(trace_of(pid), expect_launched(2, 1));
	ring_remove(pid);
}

Test(launch, libraries_loaded_at_start_traced, .timeout = 60)
{
	char cmd[600], *out = NULL, *err = NULL;
	char *sh[] = { "/bin/sh", "-c", cmd, NULL };
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "printf 'run 2\\nquit\\n' | %s -- %s",
		 build_path("tattach"), build_path("tests/targets/uselib"));
	cr_assert_eq(run_capture(sh, &out, &err), 0, "%s", err);
	pid = started_pid(err, NULL, 0);
	cr_assert(strstr(err, "4 sites in 2 modules traced"), "%s", err);
	cr_assert(strstr(out, "done\n"), "the command's output: %s", out);
	cr_assert_str_eq(trace_of(pid), "main(app_work(lib_work(lib_leaf lib_leaf)))");
	ring_remove(pid);
}

Test(launch, exit_status_of_the_command, .timeout = 60)
{
	static const struct {
		const char *args;
		int want;
		int main_ends;
	} cases[] = {
		{ "1 exit 3", 3, 0 },
		{ "1 exit 0", 0, 0 },
		{ "1 exit 255", 255, 0 },
		{ "1 signal 15", 128 + SIGTERM, 0 },
		{ "1 signal 9", 128 + SIGKILL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL, *err = NULL;
		pid_t pid;

		cr_assert_eq(launch("", cases[i].args, &pid, &out, &err), cases[i].want,
			     "launched %s: %s", cases[i].args, err);
		/* exit() and raise() leave main unfinished; what ran is there */
		cr_assert_str_eq(trace_of(pid), expect_launched(1, cases[i].main_ends),
				 "launched %s", cases[i].args);
		ring_remove(pid);
		free(out);
		free(err);
	}
}

Test(launch, killed_says_by_what)
{
	char *out = NULL, *err = NULL, want[128];
	pid_t pid;

	cr_assert_eq(launch("", "1 signal 15", &pid, &out, &err), 143, "%s", err);
	snprintf(want, sizeof(want), "tattach: pid %d was killed by signal 15 (Terminated)",
		 (int)pid);
	cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
	ring_remove(pid);
}

/* Exactly one line on stderr, nothing on stdout. */
static void one_line(const char *args, int want_status, const char *want_err)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(0, args, &out, &err), want_status, "%s: %s", args, err);
	cr_assert_str_eq(err, want_err);
	cr_assert_str_eq(out, "");
	free(out);
	free(err);
}

Test(launch, command_not_found_or_not_runnable)
{
	char path[] = "/tmp/tattach-launch-XXXXXX", args[128], want[160];
	int fd = mkstemp(path);

	one_line("-- tattach-no-such-command", 127,
		 "tattach: cannot run 'tattach-no-such-command': command not found\n");
	one_line("-- /nonexistent/tattach", 127,
		 "tattach: cannot run '/nonexistent/tattach': No such file or directory\n");
	/* a file without execute permission */
	cr_assert(fd >= 0);
	close(fd);
	snprintf(args, sizeof(args), "-- %s", path);
	snprintf(want, sizeof(want), "tattach: cannot run '%s': Permission denied\n", path);
	one_line(args, 126, want);
	unlink(path);
}

/* A program without sites is refused before it runs a line of its own. */
Test(launch, untraceable_command_never_runs, .timeout = 60)
{
	char dir[] = "/tmp/tattach-launch-XXXXXX", args[256], mark[128];
	char *out = NULL, *err = NULL;
	struct stat st;

	cr_assert(mkdtemp(dir));
	snprintf(mark, sizeof(mark), "%s/ran", dir);
	snprintf(args, sizeof(args), "-- /usr/bin/touch %s", mark);
	cr_assert_eq(tattach(0, args, &out, &err), 125, "%s", err);
	cr_assert(strstr(err, "no patchable call sites found"), "%s", err);
	cr_assert(stat(mark, &st) < 0, "touch ran although tracing failed");
	cr_assert(!strstr(err, "started PID"), "%s", err);
	rmdir(dir);
}

/* The dynamic linker fails (a library is missing): its status, its word. */
Test(launch, ends_before_its_entry_point, .timeout = 60)
{
	const char *copy = public_copy(build_path("tests/targets/uselib"));
	char args[256], *out = NULL, *err = NULL, dir[200];

	snprintf(args, sizeof(args), "-- %s", copy);
	cr_assert_eq(tattach(0, args, &out, &err), 127, "%s", err);
	cr_assert(strstr(err, "libwork.so"), "the loader's own message: %s", err);
	cr_assert(strstr(err, "ended before its entry point (status 127): nothing was "
			      "traced"), "%s", err);
	unlink(copy);
	snprintf(dir, sizeof(dir), "%s", copy);
	*strrchr(dir, '/') = 0;
	rmdir(dir);
}

/*
 * In a forked child about to exec tattach: the signals these tests send
 * caught by default and not blocked.  Both survive exec, and tattach
 * keeps an ignored one ignored, as nohup wants: run from a shell's
 * background job (SIGINT and SIGQUIT ignored there), the test would wait
 * for a tattach that never hears its SIGINT.
 */
static void plain_signals(void)
{
	sigset_t none;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * tattach -- launched 2 wait, its stdin and stdout pipes of ours: returns
 * tattach's pid once the command has said "ready" (it runs, traced, and
 * tattach waits for it); the command's pid in *@pid, the end of its stdin
 * in *@in, its stdout in *@out.
 */
static pid_t start_waiting(pid_t *pid, int *in, FILE **out)
{
	int ip[2], op[2];
	char line[128], readyline[64];
	pid_t tat;

	cr_assert(pipe(ip) == 0 && pipe(op) == 0);
	tat = fork();
	cr_assert(tat >= 0);
	if (tat == 0) {
		char *argv[] = { (char *)build_path("tattach"), "--", (char *)launched(),
				 "2", "wait", NULL };

		int null = open("/dev/null", O_WRONLY);

		dup2(ip[0], 0);
		dup2(op[1], 1);
		dup2(null, 2);	/* tattach's lines are checked elsewhere */
		close(ip[1]);
		close(op[0]);
		plain_signals();
		execv(argv[0], argv);
		_exit(99);
	}
	close(ip[0]);
	close(op[1]);
	*in = ip[1];
	*out = fdopen(op[0], "r");
	cr_assert(*out);
	cr_assert(fgets(line, sizeof(line), *out), "the command did not start");
	cr_assert(sscanf(line, "ready %d", pid) == 1, "%s", line);
	snprintf(readyline, sizeof(readyline), "ready %d\n", (int)*pid);
	cr_assert_str_eq(line, readyline);
	return tat;
}

/*
 * tattach killed with SIGTERM or SIGINT by someone (not the terminal)
 * while the command runs: the command gets it, and tattach exits as the
 * command did.
 */
static void forwards(int sig)
{
	int in, status;
	FILE *f;
	pid_t tat, pid;

	tat = start_waiting(&pid, &in, &f);
	cr_assert_eq(kill(tat, sig), 0);
	cr_assert_eq(waitpid(tat, &status, 0), tat);
	cr_assert(WIFEXITED(status), "tattach itself was killed (status %#x)", status);
	cr_assert_eq(WEXITSTATUS(status), 128 + sig);
	/* gone: the command is not left behind */
	cr_assert(kill(pid, 0) < 0);
	close(in);
	fclose(f);
	cr_assert_str_eq(trace_of(pid), expect_launched(2, 0));
	ring_remove(pid);
}

Test(launch, forwards_sigterm, .timeout = 60)
{
	forwards(SIGTERM);
}

Test(launch, forwards_sigint, .timeout = 60)
{
	forwards(SIGINT);
}

/*
 * tattach killed outright (SIGKILL: nothing to pass on) while the command
 * runs: the command goes on, traced, its trace readable with tread -p as
 * it runs and after it ends.  The test is the orphan's new parent (a
 * subreaper), so that it can wait for it.
 */
Test(launch, killed_tattach_leaves_the_command_running, .timeout = 60)
{
	int in, status;
	FILE *f;
	pid_t tat, pid;

	char state;

	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	signal(SIGPIPE, SIG_IGN);	/* a dead command: a failed write, not our end */
	tat = start_waiting(&pid, &in, &f);
	cr_assert_eq(kill(tat, SIGKILL), 0);
	cr_assert_eq(waitpid(tat, &status, 0), tat);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	/* neither stopped nor a zombie: main() is in flight, waiting for us */
	state = task_state(pid, pid);
	cr_assert(state == 'S' || state == 'R', "the command is in state %c", state);
	cr_assert_str_eq(trace_of(pid), expect_launched(2, 0));
	cr_assert(write(in, "go\n", 3) == 3, "the command died with tattach");
	cr_assert_eq(waitpid(pid, &status, 0), pid, "the command is not ours to wait for");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	close(in);
	fclose(f);
	cr_assert_str_eq(trace_of(pid), expect_launched(2, 1));
	ring_remove(pid);
}

/*
 * Ctrl-C on the terminal: the kernel sends SIGINT to the whole foreground
 * process group, the command included, so tattach must not send it a
 * second one.  To see what tattach alone does, the command here leaves
 * tattach's process group: the terminal's SIGINT reaches tattach only.
 * Then a SIGTERM sent to tattach, which it passes on, ends the command,
 * which says which SIGINTs it got.  (A SIGINT tattach passed on would
 * come before the SIGTERM.)
 */
Test(launch, terminal_interrupt_not_passed_on, .timeout = 60)
{
	int master, in[2], out[2], status, pid = 0;
	char line[128];
	FILE *f;
	pid_t tat;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	cr_assert(pipe(in) == 0 && pipe(out) == 0);
	tat = fork();
	cr_assert(tat >= 0);
	if (tat == 0) {
		char *argv[] = { (char *)build_path("tattach"), "--", (char *)launched(),
				 "1", "interrupt", NULL };
		int slave;

		setsid();
		slave = open(ptsname(master), O_RDWR);	/* the controlling tty */
		if (slave < 0)
			_exit(98);
		dup2(slave, 2);
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(master);
		close(in[1]);
		close(out[0]);
		plain_signals();
		execv(argv[0], argv);
		_exit(99);
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	cr_assert(f);
	cr_assert(fgets(line, sizeof(line), f), "the command did not start");
	cr_assert(sscanf(line, "ready %d", &pid) == 1, "%s", line);
	cr_assert(write(master, "\003", 1) == 1);	/* Ctrl-C */
	/* the terminal echoes "^C" once it has sent the signal (after
	 * tattach's own lines, also on the terminal) */
	{
		char echo[4096] = "";
		size_t used = 0;

		while (!strstr(echo, "^C")) {
			ssize_t n = read(master, echo + used, sizeof(echo) - 1 - used);

			cr_assert(n > 0 && used + n < sizeof(echo) - 1, "no echo of ^C: %s",
				  echo);
			used += n;
			echo[used] = 0;
		}
	}
	cr_assert_eq(kill(tat, SIGTERM), 0);
	cr_assert(fgets(line, sizeof(line), f), "no answer from the command");
	cr_assert_str_eq(line, "sigint kernel=0 user=0\n",
			 "tattach passed the terminal's SIGINT on");
	cr_assert_eq(waitpid(tat, &status, 0), tat);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	fclose(f);
	close(in[1]);
	close(master);
	ring_remove(pid);
}

/* The ring header of a launched command's ring file. */
static void read_header(pid_t pid, struct tat_ring_header *h, off_t *size)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/tattach-%d.ring", (int)pid);
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "%s", path);
	cr_assert(read(fd, h, sizeof(*h)) == (ssize_t)sizeof(*h));
	cr_assert(fstat(fd, &st) == 0);
	*size = st.st_size;
	close(fd);
}

Test(launch, ring_options_apply, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	struct tat_ring_header h;
	off_t size;
	pid_t pid;

	cr_assert_eq(launch("-t 4 -b 64K --clock mono --mode flight", "3", &pid, &out, &err),
		     0, "%s", err);
	read_header(pid, &h, &size);
	cr_assert_eq(h.max_threads, 4);
	cr_assert_eq(h.ring_shift, 13, "64K rings hold 8192 events");
	cr_assert_eq(h.clock, TAT_CLOCK_MONO);
	cr_assert_eq(h.mode, TAT_MODE_FLIGHT);
	/* 4 rings of 64K, then (page-aligned) the frames in flight */
	cr_assert_geq(h.frames_off, h.data_off + (4ull << 16));
	cr_assert_lt(h.frames_off, h.data_off + (4ull << 16) + 4096,
		     "rings of 64K each (frames at %llu, data at %llu)",
		     (unsigned long long)h.frames_off, (unsigned long long)h.data_off);
	cr_assert_leq(h.frames_off, (uint64_t)size);
	cr_assert_str_eq(trace_of(pid), expect_launched(3, 1));
	ring_remove(pid);

	cr_assert_eq(launch("", "1", &pid, &out, &err), 0, "%s", err);
	read_header(pid, &h, &size);
	cr_assert_eq(h.max_threads, 128);
	cr_assert_eq(h.ring_shift, 17);
	cr_assert_eq(h.mode, TAT_MODE_DISCARD);
	ring_remove(pid);
}

/*
 * A command with more threads than its ring's slots: tattach says, once
 * it ended, how many calls were not traced; every call is in the trace
 * or in that count.  -t 4: the main thread and 3 of the 8 threads get a
 * slot; each of the 5 others makes 6 calls untraced (thread_work(),
 * work(2): work, 2 step, 2 leaf).
 */
Test(launch, more_threads_than_slots_said_at_the_end, .timeout = 60)
{
	char *out = NULL, *err = NULL, want[160];
	pid_t pid;

	cr_assert_eq(launch("-t 4 -b 64K", "2 threads 8", &pid, &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "tattach: pid %d had more threads than its 4 thread slots: "
		 "30 calls of the others were not traced (-t sets the number)\n", (int)pid);
	cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
	cr_assert_eq(tread(pid, "--report", &out, &err), 0, "%s", err);
	/* tread says it too */
	cr_assert(strstr(out, "# writer counters since attach: 30 calls not traced (no free "
			 "thread slot)\n"), "%s", out);
	cr_assert_eq(report_calls(out, "thread_work"), 3, "%s", out);
	cr_assert_eq(report_calls(out, "work"), 1 + 3, "%s", out);
	cr_assert_eq(report_calls(out, "step"), 2 + 3 * 2, "%s", out);
	ring_remove(pid);
	free(out);
	free(err);

	/* enough slots: nothing to say */
	cr_assert_eq(launch("-t 16 -b 64K", "2 threads 8", &pid, &out, &err), 0, "%s", err);
	cr_assert(!strstr(err, "were not traced"), "%s", err);
	ring_remove(pid);
	free(out);
	free(err);
}

/*
 * Too many calls for an 8K ring: discard mode keeps the start (the
 * constructor's calls) and loses the end, flight mode the opposite.
 */
Test(launch, modes_discard_and_flight, .timeout = 60)
{
	char *out = NULL, *err = NULL, *t;
	pid_t pid;

	cr_assert_eq(launch("-b 8K --mode discard", "3000", &pid, &out, &err), 0, "%s", err);
	t = trace_of(pid);
	{
		const char *start = "early(setup(leaf)) main(work(step(leaf) step(leaf)";

		cr_assert(!strncmp(t, start, strlen(start)), "%s", t);
	}
	cr_assert(!strstr(t, "finish"), "discard mode kept the last calls");
	ring_remove(pid);

	cr_assert_eq(launch("-b 8K --mode flight", "3000", &pid, &out, &err), 0, "%s", err);
	t = trace_of(pid);
	cr_assert(!strstr(t, "early"), "flight mode kept the first calls");
	/* the last calls, whose callers' entries were overwritten */
	{
		const char *end = "step(leaf) ?work) finish ?main)";
		size_t len = strlen(t);

		cr_assert(len > strlen(end) && !strcmp(t + len - strlen(end), end),
			  "%s", t + (len > 200 ? len - 200 : 0));
	}
	ring_remove(pid);
}

/* Stats mode with -A: the command runs, every call counted; the line
 * says why no values show (a --mode switch while it runs would record
 * them: args.stats_mode_records_none_until_the_mode_changes). */
Test(launch, stats_mode_with_values_says_when_they_apply, .timeout = 60)
{
	char *out = NULL, *err = NULL, want[160];
	pid_t pid;

	cr_assert_eq(launch("--mode stats -A leaf", "2", &pid, &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "tattach: pid %d: stats mode records no values: -A/-R "
		 "apply once the mode is flight or discard", (int)pid);
	cr_assert(strstr(err, want), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(tread(pid, "--report", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "# 10 calls of 7 functions\n"), "%s", out);
	free(out);
	free(err);
	ring_remove(pid);
}

/* The command's own options and "--" are its own. */
Test(launch, command_arguments_untouched, .timeout = 60)
{
	char *out = NULL, *err = NULL;
	pid_t pid;

	cr_assert_eq(launch("-m flight", "2 exit 7 --status -p 1 --", &pid, &out, &err), 7,
		     "%s", err);
	cr_assert_str_eq(trace_of(pid), expect_launched(2, 0));
	ring_remove(pid);
}

Test(launch, usage_errors)
{
	static const char *bad[] = {
		"-p 1 -- /bin/true",
		"--disable -- /bin/true",
		"--status -- /bin/true",
		"--",
		"-o /tmp/x.tat",
		"extra -- /bin/true",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL, *err = NULL;

		cr_assert_eq(tattach(0, bad[i], &out, &err), 2, "'%s': %s", bad[i], err);
		cr_assert(strstr(err, "Try 'tattach --help'"), "'%s': %s", bad[i], err);
		free(out);
		free(err);
	}
}

/* -o into a folder that cannot be written: refused before the command runs. */
Test(launch, save_folder_checked_first)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(0, "-o /nonexistent/t.tat -- /bin/true", &out, &err), 125);
	cr_assert_str_eq(err, "tattach: cannot save the trace to /nonexistent/t.tat: "
			      "folder /nonexistent: No such file or directory\n");
}

/* tread cannot write the file (here, a folder is in the way): tattach says
 * so, exits 125, and keeps the ring for another try. */
Test(launch, save_failure_keeps_the_ring, .timeout = 60)
{
	char dir[] = "/tmp/tattach-launch-XXXXXX", opts[128], ring[64];
	char *out = NULL, *err = NULL;
	struct stat st;
	pid_t pid;

	cr_assert(mkdtemp(dir));
	snprintf(opts, sizeof(opts), "-o %s", dir);
	cr_assert_eq(launch(opts, "2", &pid, &out, &err), 125, "%s", err);
	started_pid(err, ring, sizeof(ring));
	cr_assert(strstr(err, "the trace was not saved to"), "%s", err);
	cr_assert(stat(ring, &st) == 0, "the ring is gone:\n%s", err);
	cr_assert_str_eq(trace_of(pid), expect_launched(2, 1));
	ring_remove(pid);
	rmdir(dir);
}

/* -o FILE: tread saves the trace there once the command ended; the ring
 * goes, and the file reads back to the same tree. */
Test(launch, saves_the_trace, .timeout = 60)
{
	char dir[] = "/tmp/tattach-launch-XXXXXX", file[128], opts[160], ring[64];
	char want[256], *out = NULL, *err = NULL, *canon;
	char *argv[] = { (char *)build_path("tread"), "-i", file, NULL };
	struct stat st;
	pid_t pid;

	cr_assert(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/t.tat", dir);
	snprintf(opts, sizeof(opts), "-o %s", file);
	cr_assert_eq(launch(opts, "2 exit 5", &pid, &out, &err), 5, "%s", err);
	started_pid(err, ring, sizeof(ring));
	snprintf(want, sizeof(want), "tattach: trace of pid %d saved to %s\n", (int)pid, file);
	cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
	cr_assert(stat(ring, &st) < 0, "the ring was left in /dev/shm");
	cr_assert_eq(run_capture(argv, &out, &err), 0, "%s", err);
	canon = graph_canon(out, pid);
	cr_assert_str_eq(canon, expect_launched(2, 0));
	unlink(file);
	rmdir(dir);
}
