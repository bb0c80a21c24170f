// SPDX-License-Identifier: MIT
/*
 * <tattach/mark.h> in a real program (tests/targets/marks.c, whose header
 * lists the calls of "run N"): tattach traces the hooks without being
 * asked, sets tattach_marks_on while tracing and clears it at --disable;
 * tread shows the exact texts and counter values, in order, in the graph,
 * the Chrome export and the --html viewer (in a real browser).  Built with
 * -pg and with -fpatchable-function-entry=5.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/browser.h"
#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

static struct target t;

static void teardown(void)
{
	target_stop(&t);
	ring_remove(t.pid);
}

TestSuite(marks, .fini = teardown, .timeout = 180);

static const char run3[] =
	"work() {\n"
	"/* label: worker 0 */\n"
	"/* counter: queue = -5 */\n"
	"step();\n"
	"} /* work */\n"
	"work() {\n"
	"/* label: worker 1 */\n"
	"/* counter: queue = 5 */\n"
	"step() {\n"
	"/* mark: cache miss */\n"
	"} /* step */\n"
	"} /* work */\n"
	"work() {\n"
	"/* label: worker 2 */\n"
	"/* counter: queue = 15 */\n"
	"step();\n"
	"} /* work */\n"
	"/* counter: queue = 0 */\n";

static void tool(int (*fn)(pid_t, const char *, char **, char **), const char *args)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(fn(t.pid, args, &out, &err), 0, "%s: %s", args, err);
	free(out);
	free(err);
}

static void graph_of_run3(const char *bin)
{
	char *out = NULL, *err = NULL, *texts;

	target_start(&t, build_path(bin));
	ring_remove(t.pid);
	/* not traced: tattach_label() does not even format */
	cr_assert_str_eq(target_cmd(&t, "label"), "done 0");
	tool(tattach, "--enable");
	cr_assert_str_eq(target_cmd(&t, "label"), "done 1");
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	texts = graph_texts(out);
	/* the "label" command above made one label too, "x" */
	cr_assert_eq(strncmp(texts, "/* label: x */\n", 15), 0, "%s", texts);
	cr_assert_str_eq(texts + 15, run3, "%s", out);
	free(texts);
	free(out);
	free(err);
	tool(tattach, "--disable");
	cr_assert_str_eq(target_cmd(&t, "label"), "done 0");
	/* again: the flag found before the stop this time */
	tool(tattach, "--enable");
	cr_assert_str_eq(target_cmd(&t, "label"), "done 1");
	tool(tattach, "--disable");
	cr_assert_str_eq(target_cmd(&t, "label"), "done 0");
}

Test(marks, graph_pg)
{
	graph_of_run3("tests/targets/marks");
}

Test(marks, graph_patchable_entry)
{
	graph_of_run3("tests/targets/marks.pfe");
}

/* The "ph":"i" and "ph":"C" records of a Chrome export, in order, without
 * pid, tid and ts (malloc'ed). */
static char *chrome_marks(const char *json, pid_t pid)
{
	char *res = NULL, prefix[64];

	snprintf(prefix, sizeof(prefix), ",\"pid\":%d,\"tid\":%d,\"ts\":", (int)pid, (int)pid);
	for (const char *p = strstr(json, "{\"ph\":\""); p; p = strstr(p + 1, "{\"ph\":\"")) {
		const char *end = strchr(p, '\n'), *ids;
		char line[512];

		if (strncmp(p, "{\"ph\":\"i\"", 9) && strncmp(p, "{\"ph\":\"C\"", 9))
			continue;
		if (strstr(p, "\"cat\":\"loss\"") && strstr(p, "\"cat\":\"loss\"") < end)
			continue;
		snprintf(line, sizeof(line), "%.*s\n", (int)(end - p), p);
		ids = strstr(line, prefix);
		cr_assert_not_null(ids, "%s", line);
		/* drop pid, tid and the time up to the next ',' or '}' */
		memmove((char *)ids, ids + strlen(prefix) + strcspn(ids + strlen(prefix), ",}"),
			strlen(ids + strlen(prefix) + strcspn(ids + strlen(prefix), ",}")) + 1);
		str_append(&res, line);
	}
	return res ? res : strdup("");
}

Test(marks, chrome_and_viewer)
{
	char path[128], arg[160], why[512] = "", *json, *got, *text;

	target_start(&t, build_path("tests/targets/marks"));
	ring_remove(t.pid);
	tool(tattach, "--enable");
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	tool(tattach, "--disable");

	snprintf(path, sizeof(path), "/tmp/tattach-marks-%d.json", (int)getpid());
	snprintf(arg, sizeof(arg), "--export chrome -o %s", path);
	tool(tread, arg);
	json = file_text(path);
	unlink(path);
	got = chrome_marks(json, t.pid);
	cr_assert_str_eq(got,
		"{\"ph\":\"i\",\"s\":\"t\",\"name\":\"worker 0\",\"cat\":\"label\"},\n"
		"{\"ph\":\"C\",\"name\":\"queue\",\"cat\":\"counter\",\"args\":{\"value\":-5}},\n"
		"{\"ph\":\"i\",\"s\":\"t\",\"name\":\"worker 1\",\"cat\":\"label\"},\n"
		"{\"ph\":\"C\",\"name\":\"queue\",\"cat\":\"counter\",\"args\":{\"value\":5}},\n"
		"{\"ph\":\"i\",\"s\":\"t\",\"name\":\"cache miss\",\"cat\":\"mark\"},\n"
		"{\"ph\":\"i\",\"s\":\"t\",\"name\":\"worker 2\",\"cat\":\"label\"},\n"
		"{\"ph\":\"C\",\"name\":\"queue\",\"cat\":\"counter\",\"args\":{\"value\":15}},\n"
		"{\"ph\":\"C\",\"name\":\"queue\",\"cat\":\"counter\",\"args\":{\"value\":0}}\n",
		"%s", json);
	/* the hooks are marks there, not calls */
	cr_assert_null(strstr(json, "tattach_mark_hook"), "%s", json);
	free(got);
	free(json);

	snprintf(path, sizeof(path), "/tmp/tattach-marks-%d.html", (int)getpid());
	snprintf(arg, sizeof(arg), "--html %s", path);
	tool(tread, arg);
	text = browser_selftest(path, "selftest", why, sizeof(why));
	unlink(path);
	cr_assert_not_null(text, "browser: %s", why);
	cr_expect(strstr(text, "\nerrors 0\n"), "%s", text);
	/* marks and labels in order, each drawn (on view), then the counter */
	got = NULL;
	for (const char *p = strstr(text, "\nlabel lane "); p && *p; p = strchr(p + 1, '\n')) {
		char line[256];

		if (strncmp(p, "\nlabel lane ", 12) && strncmp(p, "\nmark lane ", 11) &&
		    strncmp(p, "\ncounter ", 9))
			break;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
		/* "label lane 0 at T text": drop the time */
		char *at = strstr(line, " at ");
		if (at)
			memmove(at + 1, at + 4 + strcspn(at + 4, " "), strlen(at + 4 + strcspn(at + 4, " ")) + 1);
		str_append(&got, line);
		str_append(&got, "\n");
	}
	cr_assert_not_null(got, "%s", text);
	cr_assert_str_eq(got,
		"label lane 0  worker 0\n"
		"label lane 0  worker 1\n"
		"mark lane 0  cache miss\n"
		"label lane 0  worker 2\n"
		"counter queue proc 0 values -5,5,15,0 range -5 15 track yes\n", "%s", text);
	free(got);
	free(text);
}

/*
 * The program replaced on disk while it runs (by another program, which
 * has no tattach_marks_on): the flag is found in the file the process
 * mapped, set by --enable and cleared by --disable, not looked for (or
 * written) where the new file would put it.
 */
Test(marks, program_replaced_on_disk)
{
	char dir[] = "/tmp/tattach-marks-XXXXXX", bin[128];

	cr_assert(mkdtemp(dir));
	snprintf(bin, sizeof(bin), "%s/marks", dir);
	shell("cp %s %s", build_path("tests/targets/marks"), bin);
	target_start(&t, bin);
	ring_remove(t.pid);
	shell("cp %s %s.new && mv %s.new %s", build_path("tests/targets/calltree.pg.O2"), bin, bin,
	      bin);
	cr_assert_str_eq(target_cmd(&t, "label"), "done 0");
	tool(tattach, "--enable");
	cr_assert_str_eq(target_cmd(&t, "label"), "done 1");
	tool(tattach, "--disable");
	cr_assert_str_eq(target_cmd(&t, "label"), "done 0");
	shell("rm -rf %s", dir);
}
