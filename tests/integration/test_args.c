// SPDX-License-Identifier: MIT
/*
 * tattach -A/-R on tests/targets/argvals (its header lists the calls of
 * one "run" and their values): the arguments and return values tread
 * shows, by DWARF type and by explicit SPEC, at -pg (mcount) and
 * -pg -mfentry sites; a NULL and a wild char * (the target must live on);
 * functions without -A/-R unchanged; an --enable without them stops the
 * recording; and the bad requests, refused before anything is written to
 * the target.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/browser.h"
#include "lib/argvals.h"
#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

#define FUNCS ARGVALS_FUNCS

/* the calls calltree's threads make, with their values */
static const char *const leaf_and_a[] = { "leaf", "a", NULL };

static struct target t;

static void teardown(void)
{
	target_stop(&t);
	ring_remove(t.pid);
}

TestSuite(args, .fini = teardown, .timeout = 60);

static void enable(const char *args)
{
	char *out = NULL, *err = NULL;
	char all[512];

	snprintf(all, sizeof(all), "--enable %s", args);
	cr_assert_eq(tattach(t.pid, all, &out, &err), 0, "%s: %s", all, err);
	free(out);
	free(err);
}

/* One "run": the graph texts of its calls (the trace's last round);
 * @pick gets pick()'s result. */
static char *run_round(char *pick, size_t len)
{
	char *out = NULL, *err = NULL, *res;
	const char *done = target_cmd(&t, "run");

	cr_assert_eq(strncmp(done, "done 0x", 7), 0, "%s", done);
	snprintf(pick, len, "%s", done + 5);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	res = graph_texts(out);
	free(out);
	free(err);
	/* this round: from the last sum_signed line on */
	for (char *p = res + strlen(res); p > res; p--)
		if (p[-1] == '\n' && !strncmp(p, "sum_signed", 10)) {
			memmove(res, p, strlen(p) + 1);
			break;
		}
	return res;
}

static void start(const char *bin)
{
	target_start(&t, build_path(bin));
	ring_remove(t.pid);
}

static void dwarf_types(const char *bin)
{
	char pick[64], want[2048], *got;

	start(bin);
	enable("-A " FUNCS " -R " FUNCS);
	got = run_round(pick, sizeof(pick));
	snprintf(want, sizeof(want), ARGVALS_DWARF_ROUND, pick);
	cr_assert_str_eq(got, want);
	free(got);
}

Test(args, dwarf_types_mcount)
{
	dwarf_types("tests/targets/argvals");
}

Test(args, dwarf_types_fentry)
{
	dwarf_types("tests/targets/argvals.fentry");
}

/* uftrace's SPEC: chosen registers and formats; -R alone has no "()". */
Test(args, explicit_spec)
{
	char pick[64], *got;

	start("tests/targets/argvals");
	enable("-A sum_signed@arg1,arg3/x -A scale@fparg2/32,fparg1,arg1/u8 "
	       "-A greet@arg2/s,arg3/s,arg1/s -A umix@arg2/d16 -R paint@retval/x32 "
	       "-R umix@retval/u32");
	got = run_round(pick, sizeof(pick));
	cr_assert_str_eq(got,
		 "sum_signed(a=-5, c=0x11f71fb04cb);\n"
		 "umix(y=10240) = 4000000200;\n"
		 "paint() = 0x6;\n"
		 "paint() = 0xffffffff;\n"
		 "greet(none=NULL, wild=0x10 (unreadable), who=\"world\");\n"
		 "scale(f=0.25, x=2.5, k=3);\n"
		 "pick();\n"
		 "shout();\n"
		 "plain();\n");
	free(got);
}

/* A later --enable without -A/-R records no values; with them again, it
 * does: the sites move between the two trampoline entries both ways. */
Test(args, switch_off_and_on)
{
	char pick[64], *got;

	start("tests/targets/argvals");
	enable("-A sum_signed -R sum_signed");
	got = run_round(pick, sizeof(pick));
	cr_assert(strstr(got, "sum_signed(a=-5, b=-300, c=1234567890123) = 1234567889818;\n"),
		  "%s", got);
	free(got);
	enable("");
	got = run_round(pick, sizeof(pick));
	cr_assert_eq(strncmp(got, "sum_signed();\numix();\n", 22), 0, "%s", got);
	free(got);
	enable("-R paint");
	got = run_round(pick, sizeof(pick));
	cr_assert_eq(strncmp(got, "sum_signed();\numix();\npaint() = 6;\npaint() = -1;\n", 49), 0,
		     "%s", got);
	free(got);
}

/*
 * Stats mode writes no events, so no values: --enable says so, counts
 * every call all the same, and once the mode is switched (no new
 * --enable) the values asked for are recorded.
 */
Test(args, stats_mode_records_none_until_the_mode_changes)
{
	char pick[64], *out = NULL, *err = NULL, *got;
	const char *args = "--enable -m stats -A sum_signed@arg1 -R umix@retval";
	const char *want = "sum_signed(a=-5);\numix() = 4000000200;\npaint();\n";

	start("tests/targets/argvals");
	cr_assert_eq(tattach(t.pid, args, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "stats mode records no values: -A/-R apply once the mode is "
			      "flight or discard"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(strncmp(target_cmd(&t, "run"), "done 0x", 7), 0);
	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "# 9 calls of 8 functions\n"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_null(strstr(out, "sum_signed"), "a call as an event in stats mode:\n%s", out);
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--mode flight", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	got = run_round(pick, sizeof(pick));
	cr_assert_eq(strncmp(got, want, strlen(want)), 0, "%s", got);
	free(got);
}

/* Refused with one line and a non-zero status, the process untouched (no
 * ring: tattach --status says it was never attached). */
static void refused(const char *args, int status, const char *says)
{
	char *out = NULL, *err = NULL, all[256];

	snprintf(all, sizeof(all), "--enable %s", args);
	cr_assert_eq(tattach(t.pid, all, &out, &err), status, "%s: %s", all, err);
	cr_assert(strstr(err, says), "%s: %s", all, err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "%s: not one line: %s", all, err);
	free(out);
	free(err);
	cr_assert_neq(tattach(t.pid, "--status", &out, &err), 0, "%s", out);
	free(out);
	free(err);
}

Test(args, bad_requests)
{
	start("tests/targets/argvals");
	refused("-A no_such_function", 1, "no function with a site matches 'no_such_function'");
	refused("-R no_such_function", 1, "no function with a site matches");
	refused("-A sum_signed@arg4", 1, "sum_signed() has 3 integer/pointer arguments, so no arg4");
	refused("-A scale@fparg3", 1, "scale() has 2 floating point arguments, so no fparg3");
	refused("-A sum_signed@arg0", 2, "argN: N is 1 to 6");
	refused("-A sum_signed@arg7", 2, "argN: N is 1 to 6");
	refused("-A sum_signed@foo", 2, "each item is argN[/FMT] or fpargN[/32|/64]");
	refused("-A sum_signed@arg1/z", 2, "FMT is one of");
	refused("-A sum_signed@arg1/d12", 2, "FMT is one of");
	refused("-A sum_signed@fparg1/16", 2, "fpargN/SIZE: SIZE is 32 or 64");
	refused("-A sum_signed@", 2, "empty SPEC");
	refused("-A @arg1", 2, "no function pattern");
	refused("-R sum_signed@arg1", 2, "-R takes only 'retval[/FMT]'");
	refused("-R sum_signed@retval/s", 2, "not read as a string");
	refused("-A sum_signed(", 2, "bad sum_signed(");
	/* still alive, still untraced */
	cr_assert_eq(strncmp(target_cmd(&t, "run"), "done 0x", 7), 0);
}

/* Wild and NULL strings over many calls: the target keeps running. */
Test(args, wild_pointer_never_faults)
{
	char pick[64], *got;

	start("tests/targets/argvals");
	enable("-A greet");
	for (int i = 0; i < 50; i++)
		cr_assert_eq(strncmp(target_cmd(&t, "run"), "done 0x", 7), 0);
	got = run_round(pick, sizeof(pick));
	cr_assert(strstr(got, "greet(who=\"world\", none=NULL, wild=0x10 (unreadable));\n"),
		  "%s", got);
	free(got);
}

/* The values in the exports: Chrome JSON "args", and the --html viewer's
 * details of a clicked call (in a real browser).  Only the -A/-R
 * functions are traced (-F), so sum_signed() is the first call, at 0. */
Test(args, exports_chrome_and_viewer, .timeout = 180)
{
	char pick[64], path[128], arg[160], why[512] = "", *out = NULL, *err = NULL, *text, *d;

	start("tests/targets/argvals");
	enable("-F " FUNCS " -A " FUNCS " -R " FUNCS);
	free(run_round(pick, sizeof(pick)));
	snprintf(path, sizeof(path), "/tmp/tattach-args-%d.json", (int)getpid());
	snprintf(arg, sizeof(arg), "--export chrome -o %s", path);
	cr_assert_eq(tread(t.pid, arg, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	text = file_text(path);
	unlink(path);
	cr_expect(strstr(text, "\"name\":\"sum_signed\"") &&
		  strstr(text, "\"args\":{\"arguments\":\"a=-5, b=-300, c=1234567890123\","
			 "\"return\":\"1234567889818\"}"), "%s", text);
	cr_expect(strstr(text, "\"args\":{\"arguments\":\"who=\\\"world\\\", none=NULL, "
			 "wild=0x10 (unreadable)\",\"return\":\"5\"}"), "%s", text);
	cr_expect(strstr(text, "\"args\":{\"arguments\":\"x=2.5, f=0.25, k=3\","
			 "\"return\":\"1.875\"}"), "%s", text);
	free(text);

	snprintf(path, sizeof(path), "/tmp/tattach-args-%d.html", (int)getpid());
	snprintf(arg, sizeof(arg), "--html %s", path);
	cr_assert_eq(tread(t.pid, arg, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	text = browser_selftest(path, "selftest&at=1", why, sizeof(why));
	unlink(path);
	cr_assert_not_null(text, "browser: %s", why);
	cr_expect(strstr(text, "\nerrors 0\n"), "%s", text);
	d = strstr(text, "\ndetails ");
	cr_assert_not_null(d, "%s", text);
	cr_expect(strstr(d, " | arguments=a=-5, b=-300, c=1234567890123 | "
			 "return value=1234567889818") != NULL, "%s", text);
	free(text);
}

/* The texts of the last "run"'s lines from greet() on (malloc'ed). */
static char *round_from_greet(void)
{
	char *out = NULL, *err = NULL, *texts, *p;

	cr_assert_eq(strncmp(target_cmd(&t, "run"), "done 0x", 7), 0);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	texts = graph_texts(out);
	free(out);
	free(err);
	p = strstr(texts, "greet(");
	for (char *q = p; q; q = strstr(q + 1, "\ngreet("))
		p = q[0] == '\n' ? q + 1 : q;
	cr_assert_not_null(p, "%s", texts);
	memmove(texts, p, strlen(p) + 1);
	return texts;
}

/* --libcalls: the arguments of library calls, by import name and SPEC
 * (a library has no DWARF here); the stubs go back to the plain entry. */
Test(args, library_calls)
{
	char *got;

	start("tests/targets/argvals");
	enable("--libcalls -F greet|strlen -A strlen@arg1/s -R strlen@retval/u");
	got = round_from_greet();
	cr_assert_str_eq(got,
		"greet() {\n"
		"strlen(arg1=\"world\") = 5;\n"
		"} /* greet */\n"
		"strlen(arg1=\"0123456789012345678901234567890123456789012345678901234567890123\"...) = 70;\n");
	free(got);
	enable("--libcalls -F greet|strlen");
	got = round_from_greet();
	cr_assert_str_eq(got, "greet() {\nstrlen();\n} /* greet */\nstrlen();\n");
	free(got);
	/* an import needs a SPEC: without DWARF there is nothing to go by */
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(t.pid, "--enable --libcalls -A strlen", &out, &err), 1, "%s", err);
	cr_assert(strstr(err, "no function with a site matches 'strlen' (or none has DWARF)"),
		  "%s", err);
	free(out);
	free(err);
}

/* Every compile mode tattach supports (calltree, tests/targets/targets.mk),
 * at -O0 and -O2, from two threads at once: each thread's a(0) and
 * leaf() calls with their values. */
Test(args, every_compile_mode_two_threads, .timeout = 240)
{
	static const char *const modes[] = { "pg", "pg-nopie", "fentry", "fentry-nopie",
					     "nop-mcount", "record-mcount", "pfe" };

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		for (int o = 0; o <= 2; o += 2) {
			char bin[96], *out = NULL, *err = NULL;
			int tids[8];
			size_t n, workers = 0;

			snprintf(bin, sizeof(bin), "tests/targets/calltree.%s.O%d", modes[m], o);
			start(bin);
			enable("-A leaf|a -R leaf");
			cr_assert_str_eq(target_cmd(&t, "mt 2 1"), "done", "%s", bin);
			cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s: %s", bin, err);
			n = graph_tids(out, tids, 8);
			for (size_t i = 0; i < n; i++) {
				char *got;

				if (tids[i] == t.pid)
					continue;
				got = graph_call_lines(out, tids[i], leaf_and_a);
				cr_expect_str_eq(got, "a(x=0) {\nleaf(x=0) = 0;\nleaf(x=0) = 0;\n"
						 "leaf(x=1) = 3;\n", "%s thread %d:\n%s", bin, tids[i], out);
				free(got);
				workers++;
			}
			cr_expect_eq(workers, 2, "%s: %s", bin, out);
			free(out);
			free(err);
			target_stop(&t);
			ring_remove(t.pid);
		}
}
