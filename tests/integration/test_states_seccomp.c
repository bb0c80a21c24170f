// SPDX-License-Identifier: MIT
/*
 * Processes under seccomp: tattach reads their filters and runs every
 * system call it would make through them.  A filter in the style of
 * systemd's SystemCallFilter=@system-service (its default kills) lets it
 * trace; one that answers EPERM to a call it needs, one that kills at one,
 * and one that looks at what tattach cannot know are refused, in one line
 * naming the call, before anything is injected or created: the process
 * runs on untouched and untraced.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

static struct target t;

static void start(void)
{
	target_start(&t, build_path("tests/targets/seccomp_filters"));
	ring_remove(t.pid);
}

static void stop(void)
{
	if (t.pid > 0) {
		pid_t pid = t.pid;
		int status = target_stop(&t);

		/* a filter that killed it would show here (SIGSYS) */
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
		ring_remove(pid);
	}
}

TestSuite(seccomp, .init = start, .fini = stop, .timeout = 60);

static long status_field(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtol(line + klen + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
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

static void filtered(const char *name)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "filter %s", name);
	cr_assert_str_eq(target_cmd(&t, cmd), "done");
	cr_assert_eq(status_field(t.pid, "Seccomp"), 2);
}

static void assert_refused(const char *want)
{
	char *out = NULL, *err = NULL;
	int rc = tattach(t.pid, "--enable", &out, &err);

	cr_assert_eq(rc, 1, "exit %d: %s%s", rc, out, err);
	cr_assert_eq(count_lines(err), 1, "one line expected:\n%s", err);
	cr_assert(strstr(err, want), "want '%s' in:\n%s", want, err);
	cr_assert(strstr(err, "not attaching"), "%s", err);
	/* untouched: not traced, nothing created, and it still works */
	cr_assert_eq(status_field(t.pid, "TracerPid"), 0);
	cr_assert(!ring_exists(t.pid), "a refused enable left a ring file");
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 1, "%s", out);
	cr_assert(strstr(err, "is not traced"), "%s", err);
	free(out);
	free(err);
}

Test(seccomp, system_service_filter_is_traced)
{
	char *out = NULL, *err = NULL, *want = NULL, *w = expect_work(2), *got;
	int tids[4];

	filtered("system-service");
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "", "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");	/* not traced */
	free(out);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_eq(graph_tids(out, tids, 4), 1, "%s", out);
	got = graph_canon(out, tids[0]);
	str_append(&want, "dispatch(");
	str_append(&want, w);
	str_append(&want, ")");
	cr_assert_str_eq(got, want, "\n%s", out);
	/* enabled again: the injected state is reused, still allowed */
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(got);
	free(want);
	free(w);
	free(out);
	free(err);
}

Test(seccomp, filter_answering_eperm_is_refused)
{
	filtered("mdwe");
	assert_refused("would answer Operation not permitted (errno 1) to "
		       "mprotect(PROT_READ|PROT_EXEC) of a trampoline copy");
}

Test(seccomp, filter_killing_is_refused)
{
	filtered("kill-madvise");
	assert_refused("would kill the process at madvise(MADV_WIPEONFORK) of its "
		       "live page");
}

Test(seccomp, filter_looking_at_the_unknown_is_refused)
{
	filtered("ip");
	assert_refused("looks at the instruction pointer of mmap(PROT_READ|PROT_EXEC) "
		       "of its rescue page");
}
