// SPDX-License-Identifier: MIT
/*
 * A signal handler running at --enable, over code that --enable rewrites.
 *
 * gcc's -fpatchable-function-entry=5 leaves five one-byte NOPs at each
 * function's entry; --enable writes one five-byte instruction over them.
 * A thread stopped between those NOPs is moved past them, and so must be
 * the context a signal handler it is running will return to: the kernel
 * keeps it in the handler's signal frame, and resuming it between the
 * NOPs would land in the middle of the new instruction (SIGILL, seen once
 * in make stress's soak before the fix).
 *
 * Here that happens every time: the thread calls leaf() in a loop, is
 * single-stepped with ptrace to leaf()'s second NOP, and let go from there
 * with SIGUSR2, whose handler waits for SIGUSR1.  With the handler parked,
 * tattach --enable; then SIGUSR1: the handler calls a traced function and
 * returns.  The program must go on, and the trace be exact.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

#define STEPS_MAX 100000

static struct target t;

static void start(const char *bin)
{
	target_start(&t, build_path(bin));
	ring_remove(t.pid);
}

/* Between the signal let in and "park"'s answer: a failed test leaves the
 * target in a state only the test knew how to end. */
static int parking;

static void stop(void)
{
	if (t.pid > 0) {
		pid_t pid = t.pid;

		if (parking && !t.reaped) {
			target_kill(&t);	/* stopped, parked or looping */
		} else {
			cr_expect_eq(WEXITSTATUS(target_stop(&t)), 0);
		}
		ring_remove(pid);
	}
}

TestSuite(sigframes, .fini = stop, .timeout = 120);

static void send_line(const char *line)
{
	cr_assert_eq(write(t.in, line, strlen(line)), (ssize_t)strlen(line));
}

static void expect_line(const char *want)
{
	char line[128];

	if (!fgets(line, sizeof(line), t.out)) {
		int status = 0;

		waitpid(t.pid, &status, 0);
		t.reaped = 1;		/* for target_stop() */
		t.status = status;
		cr_assert_fail("the target ended before \"%.*s\": %s %d", (int)strlen(want) - 1,
			       want, WIFSIGNALED(status) ? "killed by signal" : "exit status",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	cr_assert_str_eq(line, want);
}

/* @n bytes of the target at @addr. */
static void peek(uint64_t addr, unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i += sizeof(long)) {
		long w;

		errno = 0;
		w = ptrace(PTRACE_PEEKTEXT, t.pid, (void *)(addr + i), NULL);
		cr_assert_eq(errno, 0, "peek: %s", strerror(errno));
		memcpy(b + i, &w, n - i < sizeof(w) ? n - i : sizeof(w));
	}
}

/* gcc's patchable entry: leaf()'s sled of five one-byte NOPs (after an
 * endbr64, if any); --entry: leaf() at -O0, whose first instruction is a
 * one-byte push.  Returns where the five bytes --enable rewrites begin. */
static uint64_t rewritten_at(uint64_t leaf, int entry)
{
	unsigned char b[16];
	int off;

	peek(leaf, b, sizeof(b));
	off = b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa ? 4 : 0;
	if (entry) {
		cr_assert_eq(b[off], 0x55, "leaf() does not begin with push %%rbp");
		return leaf + off;
	}
	for (int i = 0; i < 5; i++)
		cr_assert_eq(b[off + i], 0x90, "leaf() does not begin with five one-byte NOPs");
	return leaf + off;
}

/*
 * "park @altstack @lib": stop the thread inside the first five bytes of
 * leaf() (@entry: as --entry patches it; @lib: lib_leaf() of that
 * library, "" for none) and let signal @sig in there: SIGUSR2, and this
 * returns once its handler said "parked"; SIGSTOP, once the process is
 * stopped there.  Returns leaf()'s address.
 */
static uint64_t park_inside(int altstack, const char *lib, int entry, int sig)
{
	struct user_regs_struct regs;
	char cmd[600], line[128];
	unsigned long long leaf;
	uint64_t at;
	int status, steps = 0;

	snprintf(cmd, sizeof(cmd), "park %d %s\n", altstack, lib);
	send_line(cmd);
	cr_assert(fgets(line, sizeof(line), t.out), "no answer to park");
	cr_assert_eq(sscanf(line, "leaf %llx", &leaf), 1, "%s", line);

	cr_assert_eq(ptrace(PTRACE_SEIZE, t.pid, NULL, NULL), 0, "seize: %s", strerror(errno));
	cr_assert_eq(ptrace(PTRACE_INTERRUPT, t.pid, NULL, NULL), 0);
	cr_assert_eq(waitpid(t.pid, &status, __WALL), t.pid);
	at = rewritten_at(leaf, entry);
	/*
	 * At least one step, also if the interrupt stopped it there already:
	 * PTRACE_DETACH delivers its signal only from a signal-delivery stop
	 * (the step's SIGTRAP), not from the interrupt's stop, where it would
	 * be dropped and the thread run on (seen: a test waiting for ever).
	 */
	do {
		cr_assert_lt(++steps, STEPS_MAX, "never inside leaf()'s first bytes at %#llx",
			     (unsigned long long)at);
		cr_assert_eq(ptrace(PTRACE_SINGLESTEP, t.pid, NULL, NULL), 0);
		cr_assert_eq(waitpid(t.pid, &status, __WALL), t.pid);
		cr_assert(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP,
			  "status %#x while stepping", status);
		cr_assert_eq(ptrace(PTRACE_GETREGS, t.pid, NULL, &regs), 0);
	} while (regs.rip <= at || regs.rip >= at + 5);
	parking = 1;
	cr_assert_eq(ptrace(PTRACE_DETACH, t.pid, NULL, (void *)(long)sig), 0);
	if (sig == SIGUSR2) {
		expect_line("parked\n");
		return leaf;
	}
	cr_assert_eq(waitpid(t.pid, &status, WUNTRACED), t.pid);
	cr_assert(WIFSTOPPED(status), "status %#x after SIGSTOP", status);
	return leaf;
}

/* Once the handler has returned: one more command, traced, then
 * --disable; returns tread's output. */
static char *window_then_read(void)
{
	cr_assert_str_eq(target_cmd(&t, "window 3"), "done 0");
	return disable_then_read(t.pid);
}

/* Enable (@how) with the handler parked, release it; returns tread's
 * output. */
static char *enable_then_release(const char *how)
{
	char enable[64], *err = NULL, *said = NULL;

	snprintf(enable, sizeof(enable), "--enable -v %s", how);
	cr_assert_eq(tattach(t.pid, enable, &said, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(kill(t.pid, SIGUSR1), 0);
	/* the handler returns into leaf(): past the rewritten bytes, or dies */
	expect_line("done 1\n");
	parking = 0;
	cr_assert(strstr(said, "tattach: 1 contexts that signal handlers return to moved out "
			       "of a site or entry being patched\n"),
		  "tattach -v did not say it moved the handler's context:\n%s", said);
	free(said);
	return window_then_read();
}

/* Every call, those running at --enable too ("^f("). */
static void assert_tree(const char *out, const char *want)
{
	char *got = graph_canon_early(out, t.pid);

	cr_assert_str_eq(got, want, "\n got: %s\nwant: %s\n%.4000s", got, want, out);
	free(got);
}

/*
 * main() to on_park() were running at --enable: their ends are traced
 * (adopted), leaf() too, whose entry the thread skipped; on_park()'s
 * calls after it whole, then the next command's.
 */
#define PARKED_TREE "^main(^dispatch(^cmd_park(^leaf(^on_park(on_release handler_work(leaf))))) " \
		    "dispatch(cmd_window(work(leaf leaf leaf)))!)"

static void parked_case(const char *bin, int altstack, const char *how, const char *want)
{
	char *out;

	start(bin);
	park_inside(altstack, "", strstr(how, "--entry") != NULL, SIGUSR2);
	out = enable_then_release(how);
	assert_tree(out, want);
	free(out);
}

Test(sigframes, handler_on_the_threads_stack_returns_past_the_sled)
{
	parked_case("tests/targets/hazards.pfe", 0, "", PARKED_TREE);
}

Test(sigframes, handler_on_a_sigaltstack_returns_past_the_sled)
{
	parked_case("tests/targets/hazards.pfe", 1, "", PARKED_TREE);
}

/* leaf() filtered out at the first --enable: its sled becomes one 5-byte
 * NOP, and the handler's context inside it must move all the same */
Test(sigframes, handler_returns_past_the_sled_of_a_site_filtered_out)
{
	parked_case("tests/targets/hazards.pfe", 0, "-F ^(work|handler_work)$",
		    "handler_work work");
}

/*
 * --entry: the context goes on at the same instruction in leaf()'s stub.
 * Calls running at --enable are not adopted at entries (their site is
 * the stub's), so only what began after it shows.
 */
Test(sigframes, handler_returns_into_the_stub_of_a_patched_entry)
{
	parked_case("tests/targets/hazards.plain.O0", 1, "--entry",
		    "on_release handler_work(leaf) dispatch(cmd_window(work(leaf leaf leaf)))");
}

/*
 * The thread itself stopped (SIGSTOP) inside the sled of a site filtered
 * out at the first --enable: it is moved past it as past the sled of a
 * site enabled.  Then it runs on, and SIGUSR2 and SIGUSR1 end "park".
 */
Test(sigframes, thread_stopped_in_the_sled_of_a_site_filtered_out)
{
	char *out = NULL, *err = NULL;

	start("tests/targets/hazards.pfe");
	park_inside(0, "", 0, SIGSTOP);
	cr_assert_eq(tattach(t.pid, "--enable -v -F ^(work|handler_work)$", &out, &err), 0,
		     "%s", err);
	free(err);
	cr_assert_eq(kill(t.pid, SIGCONT), 0);
	cr_assert_eq(kill(t.pid, SIGUSR2), 0);
	expect_line("parked\n");
	cr_assert_eq(kill(t.pid, SIGUSR1), 0);
	expect_line("done 1\n");
	parking = 0;
	cr_assert(strstr(out, "tattach: 1 threads stepped past the NOP sled they were in\n"),
		  "%s", out);
	free(out);
	out = window_then_read();
	assert_tree(out, "handler_work work");
	free(out);
}

/*
 * A library loaded after the first --enable: the next --enable finds its
 * sleds, and the thread's handler, entered while tracing, has its return
 * hijacked: the walk to the signal frame must go on past it through the
 * shadow stack, or it never reaches the context to move.
 */
Test(sigframes, handler_entered_while_traced_returns_past_a_new_librarys_sled)
{
	char lib[512], *out = NULL, *err = NULL;

	cr_assert(realpath(build_path("tests/targets/libwork.pfe.so"), lib));
	start("tests/targets/hazards.pfe");
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	park_inside(0, lib, 0, SIGUSR2);
	out = enable_then_release("");
	/* entered while traced: dispatch, cmd_park, on_park; lib_leaf()'s
	 * entry was skipped, and adoption stops at on_park's hijacked return */
	assert_tree(out, "^main(dispatch(cmd_park(on_park(on_release handler_work(leaf)))) "
			 "dispatch(cmd_window(work(leaf leaf leaf)))!)");
	free(out);
}

/*
 * A library enabled, unloaded and loaded again at the same address, with
 * no tattach run in between: its sites hold the compiler's sleds again,
 * though tattach wrote them before.  What is in memory, not what tattach
 * wrote last time, must decide: --enable (@how) then writes them again
 * (it said "already enabled" and left them untraced), and looks for the
 * handler's context in them (with other filters, so that the sites were
 * rewritten, the target died of SIGSEGV).
 */
static void reloaded_case(const char *how, const char *want)
{
	char lib[400], cmd[512], *out = NULL, *err = NULL;
	const char *said;
	unsigned long long first;

	cr_assert(realpath(build_path("tests/targets/libwork.pfe.so"), lib));
	start("tests/targets/hazards.pfe");
	snprintf(cmd, sizeof(cmd), "dlopen %s", lib);
	said = target_cmd(&t, cmd);
	cr_assert_eq(sscanf(said, "done %llu", &first), 1, "%s", said);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "dlclose"), "done 0");
	cr_assert_eq(park_inside(0, lib, 0, SIGUSR2), first,
		     "the library came back elsewhere: the case is not made");
	out = enable_then_release(how);
	assert_tree(out, want);
	free(out);
}

Test(sigframes, handler_returns_past_the_sled_of_a_library_loaded_again)
{
	reloaded_case("", "^main(dispatch(cmd_dlclose) dispatch(cmd_park(on_park(on_release "
			  "handler_work(leaf)))) dispatch(cmd_window(work(leaf leaf leaf)))!)");
}

Test(sigframes, handler_returns_past_the_sled_of_a_library_loaded_again_filtered)
{
	reloaded_case("-F ^(work|leaf|handler_work|lib_leaf)$",
		      "^main(dispatch(cmd_dlclose) dispatch(cmd_park(on_park(handler_work(leaf))))"
		      " work(leaf leaf leaf)!)");
}
