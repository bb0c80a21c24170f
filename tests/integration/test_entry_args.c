// SPDX-License-Identifier: MIT
/*
 * tattach --entry/--module with -A/-R: tests/targets/argvals built
 * WITHOUT -pg (PIE, CET landing pads; -O0 and -O2), whose function entries
 * are patched, gives the same values as the -pg build in test_args.c
 * (ints, negative, unsigned, enum, strings, NULL and a wild char * that
 * must not fault, doubles, return values), in the graph, the Chrome
 * export and the viewer; the stubs switch between the two trampoline entries both ways;
 * a library's entries (--module libc.so); without DWARF or symbols a SPEC
 * is needed and the message says so; a function --entry refuses is named
 * with its reason.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/browser.h"
#include "lib/argvals.h"
#include "lib/graph_parse.h"
#include "lib/proc_harness.h"
#include "lib/ring_view.h"
#include "attach/hooks/near_stub.h"

#define FUNCS ARGVALS_FUNCS

/* the calls calltree's threads make, with their values */
static const char *const leaf_and_a[] = { "leaf", "a", NULL };

static struct target t;

static void teardown(void)
{
	if (t.pid <= 0)
		return;
	target_stop(&t);
	ring_remove(t.pid);
}

TestSuite(entry_args, .fini = teardown, .timeout = 60);

static void start(const char *bin)
{
	target_start(&t, build_path(bin));
	ring_remove(t.pid);
}

static void enable(const char *args)
{
	char *out = NULL, *err = NULL;
	char all[512];

	snprintf(all, sizeof(all), "--enable --entry %s", args);
	cr_assert_eq(tattach(t.pid, all, &out, &err), 0, "%s: %s%s", all, out, err);
	free(out);
	free(err);
}

/* One "run": the graph texts of its calls, from its sum_signed() line to
 * its plain() line (at -O0 round_of_calls() is traced around them); @pick
 * gets pick()'s result. */
static char *run_round(const char *first, char *pick, size_t len)
{
	char *out = NULL, *err = NULL, *res, *end;
	const char *done = target_cmd(&t, "run");

	cr_assert_eq(strncmp(done, "done 0x", 7), 0, "%s", done);
	snprintf(pick, len, "%s", done + 5);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	res = graph_texts(out);
	free(out);
	free(err);
	for (char *p = res + strlen(res); p > res; p--)
		if ((p == res + 1 || p[-1] == '\n') && !strncmp(p, first, strlen(first))) {
			memmove(res, p, strlen(p) + 1);
			break;
		}
	end = strstr(res, "\nplain(");
	if (end && (end = strchr(end + 1, '\n')))
		end[1] = '\0';
	return res;
}

static void dwarf_types(const char *bin)
{
	char pick[64], want[2048], *got;

	start(bin);
	enable("-A " FUNCS " -R " FUNCS);
	got = run_round("sum_signed", pick, sizeof(pick));
	snprintf(want, sizeof(want), ARGVALS_DWARF_ROUND, pick);
	cr_assert_str_eq(got, want);
	free(got);
	/* the wild pointer over many more calls: the target lives on */
	for (int i = 0; i < 50; i++)
		cr_assert_eq(strncmp(target_cmd(&t, "run"), "done 0x", 7), 0);
}

Test(entry_args, dwarf_types_O0)
{
	dwarf_types("tests/targets/argvals.plain.O0");
}

Test(entry_args, dwarf_types_O2)
{
	dwarf_types("tests/targets/argvals.plain.O2");
}

/* The pointer P of function @name's entry stub: the trampoline entry its
 * stub calls (attach/hooks/entries.c). */
static uint64_t stub_target(const char *name)
{
	struct ring_view v;
	const struct tat_site *sites;
	uint64_t word = 0;
	uint32_t i;
	struct iovec local = { &word, sizeof(word) }, remote;

	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	i = ring_view_site(&v, name);
	cr_assert(i, "no site for %s", name);
	sites = (const void *)((const char *)v.base + v.h->site_off);
	cr_assert_eq(sites[i].kind, TAT_SITE_ENTRY, "%s", name);
	remote.iov_base = (void *)(uintptr_t)(sites[i].addr - TP_NS_KEY + NEAR_ENTRY_PTR);
	remote.iov_len = sizeof(word);
	cr_assert_eq(process_vm_readv(t.pid, &local, 1, &remote, 1, 0), (ssize_t)sizeof(word));
	ring_view_close(&v);
	return word;
}

/* A later --enable without -A/-R records no values, and the stubs call
 * tp_fentry again (as plain()'s stub always does); with them again, the
 * entry that saves the arguments. */
Test(entry_args, switch_off_and_on)
{
	char pick[64], *got;

	start("tests/targets/argvals.plain.O2");
	enable("-A sum_signed -R sum_signed");
	got = run_round("sum_signed", pick, sizeof(pick));
	cr_assert_eq(strncmp(got, "sum_signed(a=-5, b=-300, c=1234567890123) = 1234567889818;\n"
			     "umix();\n", 67), 0, "%s", got);
	free(got);
	cr_assert_neq(stub_target("sum_signed"), stub_target("plain"));
	enable("");
	got = run_round("sum_signed", pick, sizeof(pick));
	cr_assert_eq(strncmp(got, "sum_signed();\numix();\n", 22), 0, "%s", got);
	free(got);
	cr_assert_eq(stub_target("sum_signed"), stub_target("plain"));
	enable("-R paint");
	got = run_round("sum_signed", pick, sizeof(pick));
	cr_assert_eq(strncmp(got, "sum_signed();\numix();\npaint() = 6;\npaint() = -1;\n", 49), 0,
		     "%s", got);
	free(got);
	cr_assert_eq(stub_target("sum_signed"), stub_target("plain"));
	cr_assert_neq(stub_target("paint"), stub_target("plain"));
}

/* Chrome JSON "args" and the --html viewer's details (in a real browser)
 * of patched entries; -F leaves only sum_signed, the other -A/-R
 * functions are patched even so, plain() is not. */
Test(entry_args, exports_chrome_and_viewer, .timeout = 180)
{
	char pick[64], path[128], arg[160], why[512] = "", *out = NULL, *err = NULL, *text, *d;

	start("tests/targets/argvals.plain.O2");
	enable("-F ^sum_signed$ -A " FUNCS " -R " FUNCS);
	free(run_round("sum_signed", pick, sizeof(pick)));
	snprintf(path, sizeof(path), "/tmp/tattach-entry-args-%d.json", (int)getpid());
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
	cr_expect_null(strstr(text, "\"name\":\"plain\""), "filtered out: %s", text);
	free(text);

	/* the --html viewer's details of the first call, sum_signed() */
	snprintf(path, sizeof(path), "/tmp/tattach-entry-args-%d.html", (int)getpid());
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

/* Refused with one line and status 1, the process untouched. */
static void refused(const char *args, const char *says)
{
	char *out = NULL, *err = NULL, all[256];

	snprintf(all, sizeof(all), "--enable --entry %s", args);
	cr_assert_eq(tattach(t.pid, all, &out, &err), 1, "%s: %s", all, err);
	cr_assert(strstr(err, says), "%s:\n%s\nnot in:\n%s", all, says, err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "%s: not one line: %s", all, err);
	free(out);
	free(err);
	cr_assert_neq(tattach(t.pid, "--status", &out, &err), 0, "%s", out);
	free(out);
	free(err);
}

/* Symbols but no DWARF (strip --strip-debug): a SPEC says what to read. */
Test(entry_args, no_dwarf_needs_spec)
{
	char pick[64], *got;

	start("tests/targets/argvals.nodebug");
	refused("-A sum_signed", "sum_signed: sum_signed() has no DWARF (a stripped file?): "
		"give its arguments as a SPEC, as for library calls: -A 'sum_signed@arg1,...'");
	enable("-A sum_signed@arg1/d32,arg2/d16,arg3 -R sum_signed@retval/d "
	       "-A greet@arg1/s,arg2/s,arg3/s -A scale@fparg1,fparg2/32,arg1/d32");
	got = run_round("sum_signed", pick, sizeof(pick));
	cr_assert_str_eq(got,
		 "sum_signed(arg1=-5, arg2=-300, arg3=1234567890123) = 1234567889818;\n"
		 "umix();\n"
		 "paint();\n"
		 "paint();\n"
		 "greet(arg1=\"world\", arg2=NULL, arg3=0x10 (unreadable));\n"
		 "scale(fparg1=2.5, fparg2=0.25, arg1=3);\n"
		 "pick();\n"
		 "shout();\n"
		 "plain();\n");
	free(got);
}

/* The ELF address of @fn in @bin (nm), as "0x..." */
static void symbol_hex(const char *bin, const char *fn, char *out, size_t len)
{
	char cmd[512], line[256];
	FILE *p;

	out[0] = '\0';
	snprintf(cmd, sizeof(cmd), "nm %s", build_path(bin));
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long long a;
		char type, name[128];

		if (sscanf(line, "%llx %c %127s", &a, &type, name) == 3 && !strcmp(name, fn))
			snprintf(out, len, "0x%llx", a);
	}
	pclose(p);
	cr_assert(out[0], "no %s in %s", fn, bin);
}

/* No symbol table at all: functions are named by address, the message
 * says so, and '^0xADDR$@SPEC' records the values. */
Test(entry_args, stripped_by_address)
{
	char pick[64], addr[32], args[256], first[64], *got;

	symbol_hex("tests/targets/argvals.plain.O2", "sum_signed", addr, sizeof(addr));
	start("tests/targets/argvals.stripped");
	refused("-A sum_signed", "sum_signed: no function matches 'sum_signed'; ");
	refused("-A sum_signed", "has no symbol table (stripped): its functions are named by "
		"address, as 0x");
	snprintf(args, sizeof(args), "-A ^%s$@arg1/d32,arg2/d16,arg3 -R ^%s$@retval/d", addr,
		 addr);
	enable(args);
	snprintf(first, sizeof(first), "argvals.stripped+%s(", addr);
	got = run_round(first, pick, sizeof(pick));
	snprintf(args, sizeof(args), "argvals.stripped+%s(arg1=-5, arg2=-300, arg3=1234567890123) "
		 "= 1234567889818;\n", addr);
	cr_assert_eq(strncmp(got, args, strlen(args)), 0, "%s\nnot at the start of:\n%s", args,
		     got);
	free(got);
}

/* A function --entry refuses (a loop jumps back into its first bytes):
 * asked for alone, an error naming the reason; among others, a warning,
 * and the others record. */
Test(entry_args, refused_function)
{
	char *out = NULL, *err = NULL;

	start("tests/targets/entryrefuse");
	refused("-A loop_head@arg1", "loop_head@arg1: loop_head() cannot record values: --entry "
		"refuses to patch it (a branch lands in the bytes the jmp would replace)");
	cr_assert_eq(tattach(t.pid, "--enable --entry -A loop_head|plain", &out, &err), 0, "%s",
		     err);
	cr_assert(strstr(err, "warning: loop_head|plain: 1 matching function refused by "
			 "--entry, loop_head() first (a branch lands in the bytes the jmp "
			 "would replace): no values recorded there"), "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
}

/* --module: a library's function entries, by SPEC (libc: its DWARF may
 * or may not be installed, so the name shown is not asserted). */
Test(entry_args, module_libc)
{
	char *out = NULL, *err = NULL, want[128];
	const char *done;

	start("tests/targets/argvals.plain.O2");
	cr_assert_eq(tattach(t.pid, "--enable --module libc.so -F ^(_IO_)?printf$ "
			     "-A ^(_IO_)?printf$@arg1/s -R ^(_IO_)?printf$@retval/d", &out, &err),
		     0, "%s", err);
	free(out);
	free(err);
	done = target_cmd(&t, "run");
	/* printf("done %p\n") returned the length of the line it printed; its
	 * return is certain once the next round answered: the line comes
	 * from inside the call */
	done = target_cmd(&t, "run");
	snprintf(want, sizeof(want), "=\"done %%p\\n\") = %zu;", strlen(done) + 1);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "| printf(") && strstr(out, want), "%s\nnot in:\n%s", want, out);
	free(out);
	free(err);
}

/* calltree built without -pg by gcc and clang at -O0, -O2 and -O3, PIE
 * with CET and non-PIE (tests/targets/targets.mk), from two threads at
 * once: each thread's a(0) and leaf() calls with their values, as
 * args.every_compile_mode_two_threads sees them at -pg sites. */
Test(entry_args, every_compiler_two_threads, .timeout = 240)
{
	static const char *const cc[] = { "gcc", "clang" }, *const opt[] = { "O0", "O2", "O3" },
			  *const layout[] = { "pie-cet", "nopie" };

	for (int c = 0; c < 2; c++)
		for (int o = 0; o < 3; o++)
			for (int l = 0; l < 2; l++) {
				char bin[96], *out = NULL, *err = NULL;
				int tids[8];
				size_t n, workers = 0;

				snprintf(bin, sizeof(bin), "tests/targets/calltree.plain.%s.%s.%s",
					 cc[c], opt[o], layout[l]);
				start(bin);
				enable("-A ^(leaf|a)$ -R ^leaf$");
				cr_assert_str_eq(target_cmd(&t, "mt 2 1"), "done", "%s", bin);
				cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s: %s", bin, err);
				n = graph_tids(out, tids, 8);
				for (size_t i = 0; i < n; i++) {
					char *got;

					if (tids[i] == t.pid)
						continue;
					got = graph_call_lines(out, tids[i], leaf_and_a);
					cr_expect_str_eq(got, "a(x=0) {\nleaf(x=0) = 0;\nleaf(x=0) = 0;\n"
							 "leaf(x=1) = 3;\n", "%s thread %d:\n%s", bin,
							 tids[i], out);
					free(got);
					workers++;
				}
				cr_expect_eq(workers, 2, "%s: %s", bin, out);
				free(out);
				free(err);
				target_stop(&t);
				ring_remove(t.pid);
				t.pid = 0;
			}
}
