// SPDX-License-Identifier: MIT
/*
 * C++ exceptions thrown through traced frames (tests/targets/exc.cc,
 * g++ -pg): thrown and caught in the program, across a shared library,
 * from a static initialiser, rethrown, nested, with a destructor on the
 * way; pthread_exit() (forced unwinding) with a destructor to run in an
 * outer traced frame; backtrace() from a traced frame.  The program must
 * answer exactly as it does untraced, and the graph must show the frames
 * the exception passed closed as unwound.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"
#include "lib/tramp_scan.h"

static const char *const cmds[] = { "throw 3", "rethrow", "nested", "lib", "static",
				    "cleanup", "pexit", "bt" };
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* What each command answers without tracing, in a fresh process, the
 * first time and the second ("static" succeeds the second time only). */
static void untraced_answers(char answers[NCMDS][64], char again[NCMDS][64])
{
	struct target t;

	target_start(&t, build_path("tests/targets/exc"));
	for (size_t i = 0; i < NCMDS; i++)
		snprintf(answers[i], 64, "%s", target_cmd(&t, cmds[i]));
	for (size_t i = 0; i < NCMDS; i++)
		snprintf(again[i], 64, "%s", target_cmd(&t, cmds[i]));
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
}

#define D(x) "_ZL8dispatchPKc(" x ")"
#define THROW3 "_ZL7throweri(_ZL7throweri(_ZL7throweri()))"
#define CATCH "_ZL7catcherv(_ZL13thrower_outerv(" THROW3 ") _ZL5afterv)"

Test(exceptions, behave_as_untraced_and_unwind_in_the_graph, .timeout = 120)
{
	char answers[NCMDS][64], again[NCMDS][64], *out = NULL, *err = NULL, *got;
	char where[256];
	struct target t;
	int tids[4];

	untraced_answers(answers, again);
	cr_assert_str_eq(answers[0], "done 12");	/* the target works at all */
	cr_assert_str_eq(answers[6], "done 1");
	target_start(&t, build_path("tests/targets/exc"));
	ring_remove(t.pid);
	/* backtrace()'s addresses: those of this process, untraced */
	snprintf(answers[7], 64, "%s", target_cmd(&t, "bt"));
	snprintf(again[7], 64, "%s", answers[7]);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	for (size_t i = 0; i < NCMDS; i++)
		cr_assert_str_eq(target_cmd(&t, cmds[i]), answers[i], "%s", cmds[i]);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got,
		D(CATCH " " CATCH " " CATCH) " "
		D("_ZL9rethrowerv(_ZL13rethrow_innerv(_ZL7throweri(_ZL7throweri()) _ZL5afterv))")
		" "
		D("_ZL6nesterv(_ZL7throweri(_ZL7throweri()) _ZL7throweri())") " "
		D("_ZL11lib_catcherv(lib_throw(lib_throw(lib_throw())))") " "
		D("_ZL14static_catcherv(_ZL11static_userv(_ZL10make_valuev()) "
		  "_ZL11static_userv(_ZL10make_valuev))") " "
		D("_ZL15cleanup_catcherv(_ZL7guardedv(_ZL7throweri(_ZL7throweri()) "
		  "_ZN5guardD1Ev))") " "
		D("_ZL7pexiterv") " "
		/* the addresses were taken again for after(): all returns seen */
		D("_ZL8bt_outerv(_ZL8bt_innerv(_ZL5afterv))"),
		"%s", out);
	free(got);
	/* the thread's frames end at pthread_exit(), then the destructor runs */
	cr_assert_eq(graph_tids(out, tids, 4), 2, "%s", out);
	got = graph_canon(out, tids[1]);
	cr_assert_str_eq(got, "_ZL12pexit_threadPv(_ZL11pexit_outerv(_ZL11pexit_innerv())) "
			      "_ZN7witnessD2Ev", "%s", out);
	free(got);
	/* every frame the exceptions passed is closed as unwound */
	cr_assert_eq(graph_count_calls(out, "_ZL7throweri"), 16, "%s", out);
	cr_assert_null(strstr(out, "not traced"), "%s", out);
	cr_assert_null(strstr(out, "exit lost"), "%s", out);
	free(out);
	free(err);
	/* --disable gave main(), adopted at --enable, its return address
	 * back: no hook is left, and backtrace() (and the rest) still answer
	 * as untraced (tests/integration/test_unhijack.c: through calls that
	 * were running all along). */
	cr_assert_eq(tramp_scan_got(t.pid, where, sizeof(where)), 0, "%s", where);
	cr_assert_eq(tramp_scan_stacks(t.pid, where, sizeof(where)), 0, "%s", where);
	for (size_t i = 0; i < NCMDS; i++)
		cr_assert_str_eq(target_cmd(&t, cmds[i]), again[i], "%s after --disable",
				 cmds[i]);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
}

/*
 * The program and its library replaced on disk while the process runs (a
 * deploy, an upgrade: new files renamed over the old).  tattach reads
 * the files the process mapped, for its sites and for the GOT entries it
 * hooks (attach/frames/unwind_hooks.c): exceptions through traced frames,
 * also across the library, still behave as untraced and unwind in the
 * graph.
 */
Test(exceptions, program_and_library_replaced_on_disk, .timeout = 120)
{
	char answers[NCMDS][64], again[NCMDS][64], *out = NULL, *err = NULL, *got;
	char dir[] = "/tmp/tattach-exc-XXXXXX", bin[128];
	struct target t;

	untraced_answers(answers, again);
	cr_assert(mkdtemp(dir));
	shell("cp %s %s %s", build_path("tests/targets/exc"), build_path("tests/targets/libthrow.so"),
	      dir);
	snprintf(bin, sizeof(bin), "%s/exc", dir);
	target_start(&t, bin);
	ring_remove(t.pid);
	shell("cd %s && for f in exc libthrow.so; do cp $f $f.new && mv $f.new $f; done", dir);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "throw 3"), answers[0]);
	cr_assert_str_eq(target_cmd(&t, "lib"), answers[3]);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, D(CATCH " " CATCH " " CATCH) " "
			 D("_ZL11lib_catcherv(lib_throw(lib_throw(lib_throw())))"), "%s", out);
	cr_assert_null(strstr(out, "exit lost"), "%s", out);
	free(got);
	free(out);
	free(err);
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	shell("rm -rf %s", dir);
}
