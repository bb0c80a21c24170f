// SPDX-License-Identifier: MIT
/*
 * The tread program itself: options, exit status, messages, pipes and
 * --follow against a ring file that a test writes while tread reads it.
 * Needs $TATTACH_BUILD/tread (make build/tread); skipped without it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "consumer/cli.h"
#include "consumer/input/proc_alive.h"
#include "lib/ringgen.h"

extern char **environ;

static char ring_path[64];

static const char *tread_bin(void)
{
	static char path[4096];
	const char *build = getenv("TATTACH_BUILD");

	snprintf(path, sizeof(path), "%s/tread", build && *build ? build : "build");
	if (access(path, X_OK))
		cr_skip_test("%s not built: run 'make build/tread'", path);
	return path;
}

static void make_ring_path(void)
{
	int fd;

	snprintf(ring_path, sizeof(ring_path), "/tmp/tread-cli-XXXXXX");
	fd = mkstemp(ring_path);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void remove_ring(void)
{
	if (ring_path[0])
		unlink(ring_path);
}

TestSuite(cli, .init = make_ring_path, .fini = remove_ring);

/* Start tread with @args; its stdout/stderr are pipes. */
static pid_t spawn_tread(const char *const *args, int *out_fd, int *err_fd)
{
	posix_spawn_file_actions_t fa;
	char *argv[16];
	int out[2], err[2], n = 0;
	pid_t pid;

	argv[n++] = (char *)tread_bin();
	for (; *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	cr_assert_eq(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	*out_fd = out[0];
	*err_fd = err[0];
	return pid;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	cr_assert_not_null(*buf);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = 0;
}

/* Read both pipes to the end; returns the exit status. */
static int finish(pid_t pid, int out_fd, int err_fd, char **out, char **err)
{
	size_t olen = 0, elen = 0;
	int status, open_fds = 2;
	struct pollfd p[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };

	*out = calloc(1, 1);
	*err = calloc(1, 1);
	while (open_fds) {
		char buf[4096];

		cr_assert_gt(poll(p, 2, 20000), 0, "tread hangs");
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0)
				append(out, &olen, buf, n);
			else
				append(err, &elen, buf, n);
		}
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static int run(const char *const *args, char **out, char **err)
{
	int o, e;
	pid_t pid = spawn_tread(args, &o, &e);
	int status = finish(pid, o, e, out, err);

	cr_assert(WIFEXITED(status), "tread died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

static uint32_t S[RG_NFUNCS];

static void calltree_ring(struct ringgen *g, const struct ringgen_config *cfg)
{
	cr_assert_eq(ringgen_init(g, cfg), 0);
	if (ringgen_calltree(g, 0, S))
		cr_skip_test("calltree.pg.O2 not built: run 'make targets'");
	ringgen_thread(g, 0, 4321);
}

#define HDR "# DURATION     TID     FUNCTION\n"

Test(cli, help_and_version)
{
	char *out, *err;

	cr_assert_eq(run((const char *[]){ "--help", NULL }, &out, &err), 0);
	cr_assert(strstr(out, "Usage: tread"), "%s", out);
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
	cr_assert_eq(run((const char *[]){ "-h", NULL }, &out, &err), 0);
	free(out);
	free(err);
	cr_assert_eq(run((const char *[]){ "-V", NULL }, &out, &err), 0);
	cr_assert(strstr(out, "tread"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(run((const char *[]){ "--version", NULL }, &out, &err), 0);
	free(out);
	free(err);
}

Test(cli, misuse_exits_2)
{
	static const char *const cases[][6] = {
		{ NULL },
		{ "--bogus", NULL },
		{ "-x", NULL },
		{ "-p", NULL },
		{ "-p", "abc", NULL },
		{ "-p", "-5", NULL },
		{ "-p", "1", "-i", "/x" },
		{ "-p", "1", "extra", NULL },
		{ "-p", "1", "--tid", "0" },
		{ "-p", "1", "--time", "utc" },
		{ "-p", "1", "--time" },
		{ "-p", "1", "--report", "--time", "abs" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out, *err;

		cr_assert_eq(run(cases[i], &out, &err), 2, "case %zu: %s", i, err);
		cr_assert(strstr(err, "Try 'tread --help'"), "case %zu: %s", i, err);
		cr_assert(strncmp(err, "tread: ", 7) == 0, "%s", err);
		cr_assert_str_eq(out, "");
		free(out);
		free(err);
	}
}

Test(cli, missing_ring_file_says_what_to_do)
{
	char *out, *err;

	cr_assert_eq(run((const char *[]){ "-p", "2147483000", NULL }, &out, &err), 1);
	cr_assert_str_eq(err, "tread: no ring file /dev/shm/tattach-2147483000.ring: "
			 "is tracing attached? run 'tattach -p 2147483000 --enable' first\n");
	free(out);
	free(err);
	cr_assert_eq(run((const char *[]){ "-i", "/nonexistent/r", NULL }, &out, &err), 1);
	cr_assert_str_eq(err, "tread: /nonexistent/r: No such file or directory\n");
	free(out);
	free(err);
}

Test(cli, corrupt_file_is_one_line)
{
	struct ringgen g;
	char *out, *err, want[256];

	calltree_ring(&g, NULL);
	g.hdr->ring_shift = 50;
	cr_assert_eq(ringgen_write_file(&g, ring_path), 0);
	cr_assert_eq(run((const char *[]){ "-i", ring_path, NULL }, &out, &err), 1);
	snprintf(want, sizeof(want), "tread: %s: corrupt ring file: ring_shift 50 "
		 "out of range 1..40\n", ring_path);
	cr_assert_str_eq(err, want);
	cr_assert_str_eq(out, "");
	free(out);
	free(err);
	ringgen_free(&g);
}

Test(cli, graph_and_report_of_a_file)
{
	struct ringgen g;
	char *out, *err, *again, *err2;

	calltree_ring(&g, NULL);
	ringgen_entry(&g, 0, S[RG_A], 1000);
	ringgen_entry(&g, 0, S[RG_LEAF], 2000);
	ringgen_exit(&g, 0, S[RG_LEAF], 2250);
	ringgen_exit(&g, 0, S[RG_A], 4000);
	cr_assert_eq(ringgen_write_file(&g, ring_path), 0);

	cr_assert_eq(run((const char *[]){ "-i", ring_path, NULL }, &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, HDR
			 "              [  4321] | a() {\n"
			 "     0.250 us [  4321] |   leaf();\n"
			 "     3.000 us [  4321] | } /* a */\n");
	cr_assert_str_eq(err, "");
	/* reading does not consume */
	cr_assert_eq(run((const char *[]){ "-i", ring_path, NULL }, &again, &err2), 0);
	cr_assert_str_eq(again, out);
	free(again);
	free(err2);
	free(out);
	free(err);

	cr_assert_eq(run((const char *[]){ "-i", ring_path, "--tid", "99", NULL },
			 &out, &err), 0);
	cr_assert_str_eq(out, HDR);
	free(out);
	free(err);

	cr_assert_eq(run((const char *[]){ "--report", "-i", ring_path, NULL }, &out, &err), 0);
	cr_assert(strstr(out, "           1          3.000          2.750          3.000"
			 "          3.000          3.000  a\n"), "%s", out);
	cr_assert(strstr(out, "  leaf\n"), "%s", out);
	free(out);
	free(err);
	ringgen_free(&g);
}

/* --time through the program: the column, the header, and a ring traced
 * with the CLOCK_MONOTONIC event clock. */
Test(cli, time_column)
{
	struct ringgen g;
	char *out, *err;

	calltree_ring(&g, NULL);
	g.hdr->clock = TAT_CLOCK_MONO;
	g.hdr->tsc_hz = 1000000000ull;
	g.hdr->calib_tsc = g.hdr->calib_mono_ns = 100000000000ull;	/* 100 s */
	g.hdr->calib_real_ns = 1700000000500000000ull;
	ringgen_entry(&g, 0, S[RG_A], 100000001000ull);
	ringgen_entry(&g, 0, S[RG_LEAF], 100000002000ull);
	ringgen_exit(&g, 0, S[RG_LEAF], 100000002250ull);
	ringgen_exit(&g, 0, S[RG_A], 100000004000ull);
	cr_assert_eq(ringgen_write_file(&g, ring_path), 0);

	cr_assert_eq(run((const char *[]){ "-i", ring_path, "--time", "mono", NULL },
			 &out, &err), 0, "%s", err);
	cr_assert_str_eq(out,
			 "# TIMESTAMP          DURATION     TID     FUNCTION\n"
			 "     100.000001000               [  4321] | a() {\n"
			 "     100.000002000      0.250 us [  4321] |   leaf();\n"
			 "     100.000004000      3.000 us [  4321] | } /* a */\n");
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
	cr_assert_eq(run((const char *[]){ "-i", ring_path, "--time=abs", NULL },
			 &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "\n1700000000.500004000      3.000 us [  4321] | } /* a */\n"),
		  "%s", out);
	free(out);
	free(err);
	cr_assert_eq(run((const char *[]){ "-i", ring_path, "--time", "delta", NULL },
			 &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "\n   0.000002000      3.000 us [  4321] | } /* a */\n"),
		  "%s", out);
	free(out);
	free(err);
	ringgen_free(&g);
}

/* `tread | head -1`: the reader goes away; tread stops quietly. */
Test(cli, closed_pipe_is_quiet)
{
	struct ringgen_config cfg = { .ring_shift = 16 };
	struct ringgen g;
	char line[256], *out, *err;
	int o, e, status;
	pid_t pid;
	ssize_t n;

	calltree_ring(&g, &cfg);
	for (uint64_t t = 0; ringgen_ctl(&g, 0)->head < 60000; t += 10) {
		ringgen_entry(&g, 0, S[RG_LEAF], t);
		ringgen_exit(&g, 0, S[RG_LEAF], t + 5);
	}
	cr_assert_eq(ringgen_write_file(&g, ring_path), 0);
	pid = spawn_tread((const char *[]){ "-i", ring_path, NULL }, &o, &e);
	n = read(o, line, sizeof(line));
	cr_assert_gt(n, 0);
	close(o);
	o = open("/dev/null", O_RDONLY);	/* finish() wants two fds */
	status = finish(pid, o, e, &out, &err);
	cr_assert(WIFEXITED(status) ? WEXITSTATUS(status) == 0 :
		  WTERMSIG(status) == SIGPIPE, "status %#x", status);
	cr_assert_str_eq(err, "", "%s", err);
	free(out);
	free(err);
	ringgen_free(&g);
}

/* -f on the file of an exited process: print everything, consume, stop. */
Test(cli, follow_an_exited_process_consumes)
{
	struct ringgen g;
	char *out, *err;

	calltree_ring(&g, NULL);
	ringgen_entry(&g, 0, S[RG_B], 1000);
	ringgen_exit(&g, 0, S[RG_B], 3000);
	cr_assert_eq(ringgen_write_file(&g, ring_path), 0);
	cr_assert_eq(run((const char *[]){ "-f", "-i", ring_path, NULL }, &out, &err), 0,
		     "%s", err);
	cr_assert_str_eq(out, HDR "     2.000 us [  4321] | b();\n");
	free(out);
	free(err);
	/* consumed: nothing left */
	cr_assert_eq(run((const char *[]){ "-i", ring_path, NULL }, &out, &err), 0);
	cr_assert_str_eq(out, HDR);
	free(out);
	free(err);
	ringgen_free(&g);
}

/* -f while the "process" (this test) keeps writing, then SIGINT. */
Test(cli, follow_live_until_interrupted, .timeout = 30)
{
	struct ringgen_config cfg = { .pid = getpid() };
	struct ringgen g;
	char stat[1024], state, buf[4096], *out = NULL, *err, *rest;
	size_t len = 0;
	uint64_t start;
	int o, e, status;
	pid_t pid;
	FILE *f;

	f = fopen("/proc/self/stat", "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(stat, sizeof(stat), f));
	fclose(f);
	cr_assert_eq(tread_parse_proc_stat(stat, &state, &start), 0);
	cfg.start_time = start;
	calltree_ring(&g, &cfg);
	cr_assert_eq(ringgen_map_file(&g, ring_path), 0);

	ringgen_entry(&g, 0, S[RG_WORK], 100);
	pid = spawn_tread((const char *[]){ "-f", "-i", ring_path, NULL }, &o, &e);
	for (int i = 0; i < 3; i++) {
		ringgen_entry(&g, 0, S[RG_LEAF], 1000 * (i + 1));
		ringgen_exit(&g, 0, S[RG_LEAF], 1000 * (i + 1) + 500);
	}
	/* wait until all three leaves are out */
	while (!out || !strstr(out, "leaf();\n     0.500 us [  4321] |   leaf();\n"
			       "     0.500 us [  4321] |   leaf();\n")) {
		struct pollfd p = { o, POLLIN, 0 };
		ssize_t n;

		cr_assert_gt(poll(&p, 1, 10000), 0, "tread -f printed nothing: %s",
			     out ? out : "");
		n = read(o, buf, sizeof(buf));
		cr_assert_gt(n, 0);
		append(&out, &len, buf, n);
	}
	/* the last event is still printed when tread is told to stop */
	ringgen_exit(&g, 0, S[RG_WORK], 9100);
	kill(pid, SIGINT);
	status = finish(pid, o, e, &rest, &err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	append(&out, &len, rest, strlen(rest));
	cr_assert_str_eq(out, HDR
			 "              [  4321] | work() {\n"
			 "     0.500 us [  4321] |   leaf();\n"
			 "     0.500 us [  4321] |   leaf();\n"
			 "     0.500 us [  4321] |   leaf();\n"
			 "     9.000 us [  4321] | } /* work */\n");
	cr_assert_str_eq(err, "");
	/* and it consumed what it printed */
	cr_assert_eq(ringgen_ctl(&g, 0)->tail, ringgen_ctl(&g, 0)->head);
	ringgen_free(&g);
	free(rest);
	free(out);
	free(err);
}

Test(options, parsed_into_the_struct)
{
	struct tread_options o;
	char err[256];
	char *a1[] = { "tread", "--pid", "42", "--follow", "--report", "--tid", "7", NULL };
	char *a2[] = { "tread", "-i", "/x", "-f", NULL };
	char *a3[] = { "tread", "-p", "1", "--help", NULL };
	char *a4[] = { "tread", "--tid", NULL };
	char *a5[] = { "tread", "-p", "99999999999", NULL };

	cr_assert_eq(tread_parse_args(7, a1, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.action, TREAD_ACTION_RUN);
	cr_assert_eq(o.pid, 42);
	cr_assert(o.follow && o.report);
	cr_assert_eq(o.tid, 7);
	cr_assert_null(o.input);
	/* parsing again starts over */
	cr_assert_eq(tread_parse_args(4, a2, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(o.input, "/x");
	cr_assert(o.follow);
	cr_assert_not(o.report);
	cr_assert_eq(o.pid, 0);
	cr_assert_eq(tread_parse_args(4, a3, &o, err, sizeof(err)), 0);
	cr_assert_eq(o.action, TREAD_ACTION_HELP);
	cr_assert_eq(tread_parse_args(2, a4, &o, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "--tid"), "%s", err);
	cr_assert_eq(tread_parse_args(3, a5, &o, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "invalid pid"), "%s", err);
}
