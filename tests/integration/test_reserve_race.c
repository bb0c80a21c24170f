// SPDX-License-Identifier: MIT
/*
 * A signal in the fast path's window.  The fast paths (attach/tramp/
 * fast_paths.inc) look at the ring's head, check that the event needs no
 * record before it (TIME, LOST, STACK), then take the place: in flight
 * mode with an xadd, after which a place that is not the one looked at
 * means a signal handler wrote in between; it gets a TIME record that
 * changes nothing and the event goes the general way, with the records it
 * needs now.  In discard mode the compare-and-swap from the head looked
 * at fails instead.
 *
 * A signal lands in that window of a few instructions once in a long
 * while.  Here it lands there every time: the thread is held with ptrace
 * on a breakpoint at the reservation of an ENTRY (or of an EXIT), and let
 * go from it with SIGUSR2, whose handler runs on a sigaltstack and calls
 * traced functions.  So the handler's events come in between, after a
 * STACK record of their own sub-stack, and the interrupted event needs a
 * STACK record back: taken as it was looked at, it would be put on the
 * handler's sub-stack, and without the TIME record in its place the
 * reader would stop at a word never written.  Exact trees of both
 * sub-stacks, counts, and nothing lost.
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
#include "lib/ring_view.h"

#define MAX_MARKS 16
#define LEAVES 20

static struct target t;

static void start(void)
{
	target_start(&t, build_path("tests/targets/hazards"));
	ring_remove(t.pid);
	/* the handler in place before any breakpoint can be hit */
	cr_assert_str_eq(target_cmd(&t, "window 0"), "done 0");
}

static void stop(void)
{
	if (t.pid > 0) {
		pid_t pid = t.pid;

		cr_expect_eq(WEXITSTATUS(target_stop(&t)), 0);
		ring_remove(pid);
	}
}

TestSuite(reserve_race, .init = start, .fini = stop, .timeout = 120);

/* The reservations named tp_reserve_@kind_* in the trampoline's symbols
 * (flight mode's xadd, discard mode's compare-and-swap), at @base. */
static int reservations(const char *kind, uint64_t base, uint64_t *at)
{
	char *argv[] = { "nm", (char *)build_path("attach/tramp/tramp.elf"), NULL };
	char *out = NULL, *err = NULL, prefix[64];
	const char *line, *next;
	int n = 0;

	cr_assert_eq(run_capture(argv, &out, &err), 0, "nm: %s", err);
	snprintf(prefix, sizeof(prefix), "tp_reserve_%s_", kind);
	for (line = out; line && *line; line = next) {
		const char *nl = strchr(line, '\n');
		unsigned long long off;
		char type, name[128];

		next = nl ? nl + 1 : NULL;
		if (sscanf(line, "%llx %c %127s", &off, &type, name) == 3 &&
		    !strncmp(name, prefix, strlen(prefix)) && n < MAX_MARKS)
			at[n++] = base + off;
	}
	free(out);
	free(err);
	cr_assert_gt(n, 0, "no %s* symbol in tramp.elf", prefix);
	return n;
}

/* Put back the @n bytes under the breakpoints at @at. */
static void unbreak(pid_t pid, const uint64_t *at, const long *orig, int n)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(ptrace(PTRACE_POKETEXT, pid, (void *)at[i], (void *)orig[i]), 0,
			     "poke: %s", strerror(errno));
}

/*
 * Run "window LEAVES" with tracing enabled (@mode), and SIGUSR2 delivered
 * at the first reservation of a @kind event; returns tread's graph.
 */
static char *run_window(const char *mode, const char *kind)
{
	char enable[64], cmd[32], answer[128], *out = NULL, *err = NULL;
	uint64_t at[MAX_MARKS];
	long orig[MAX_MARKS];
	struct user_regs_struct regs;
	struct ring_view v;
	int n, status, hit = -1;

	snprintf(enable, sizeof(enable), "--enable -m %s", mode);
	cr_assert_eq(tattach(t.pid, enable, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	n = reservations(kind, v.h->tramp_addr[0], at);
	ring_view_close(&v);

	/* hold the thread, and a breakpoint on every such reservation */
	cr_assert_eq(ptrace(PTRACE_SEIZE, t.pid, NULL, NULL), 0, "seize: %s", strerror(errno));
	cr_assert_eq(ptrace(PTRACE_INTERRUPT, t.pid, NULL, NULL), 0);
	cr_assert_eq(waitpid(t.pid, &status, __WALL), t.pid);
	for (int i = 0; i < n; i++) {
		errno = 0;
		orig[i] = ptrace(PTRACE_PEEKTEXT, t.pid, (void *)at[i], NULL);
		cr_assert_eq(errno, 0, "peek: %s", strerror(errno));
		cr_assert_eq(ptrace(PTRACE_POKETEXT, t.pid, (void *)at[i],
				    (void *)((orig[i] & ~0xffL) | 0xcc)), 0);
	}
	cr_assert_eq(ptrace(PTRACE_CONT, t.pid, NULL, NULL), 0);
	snprintf(cmd, sizeof(cmd), "window %d\n", LEAVES);
	cr_assert_eq(write(t.in, cmd, strlen(cmd)), (ssize_t)strlen(cmd));

	/* the first traced event of that kind that takes the fast path */
	cr_assert_eq(waitpid(t.pid, &status, __WALL), t.pid);
	cr_assert(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP,
		  "the thread stopped with status %#x, not at a breakpoint", status);
	cr_assert_eq(ptrace(PTRACE_GETREGS, t.pid, NULL, &regs), 0);
	for (int i = 0; i < n; i++)
		if (regs.rip == at[i] + 1)
			hit = i;
	unbreak(t.pid, at, orig, n);
	cr_assert_geq(hit, 0, "stopped at %#llx, not at a reservation", regs.rip);
	/* back onto the reservation, and the handler runs first */
	regs.rip = at[hit];
	cr_assert_eq(ptrace(PTRACE_SETREGS, t.pid, NULL, &regs), 0);
	cr_assert_eq(ptrace(PTRACE_DETACH, t.pid, NULL, (void *)(long)SIGUSR2), 0);

	cr_assert(fgets(answer, sizeof(answer), t.out), "no answer to window");
	cr_assert_str_eq(answer, "done 1\n", "the handler ran once");
	return disable_then_read(t.pid);
}

/*
 * Every duration tread prints is a real one: more than 0 (a traced call
 * spans at least the trampoline's own instructions, about 10 ns here) and
 * less than a minute.  An event finished the general way with a wrong
 * time (the clock's upper bits lost on the way) shows as 0.000 us.
 */
static void assert_durations(const char *out)
{
	const char *line, *next;
	int n = 0;

	for (line = out; line && *line; line = next) {
		const char *nl = strchr(line, '\n');
		double us;

		next = nl ? nl + 1 : NULL;
		if (sscanf(line, " %lf us [", &us) != 1)
			continue;
		n++;
		cr_assert(us > 0 && us < 60e6, "a duration of %.3f us:\n%.4000s", us, out);
	}
	cr_assert_gt(n, LEAVES, "no durations in:\n%.4000s", out);
}

/* @first: how the first leaf() shows: "leaf()" when the handler's events
 * came between its ENTRY and its EXIT (then tread prints it open, with
 * the other sub-stack's lines in between, and graph_canon() writes the
 * call without children) */
static void assert_window(const char *out, const char *first)
{
	char *want = NULL, *got;

	str_append(&want, "dispatch(cmd_window(work(");
	str_append(&want, first);
	for (int i = 1; i < LEAVES; i++)
		str_append(&want, " leaf");
	str_append(&want, ")))");
	got = graph_canon_stack(out, t.pid, 0);
	cr_assert_str_eq(got, want, "the thread's own stack:\n got: %s\nwant: %s\n%.4000s",
			 got, want, out);
	free(got);
	free(want);
	got = graph_canon_stack(out, t.pid, 1);
	cr_assert_str_eq(got, "on_usr2(handler_work(leaf))",
			 "the handler's sigaltstack:\n%.4000s", out);
	free(got);
	assert_durations(out);
	cr_assert_null(strstr(out, "lost"), "%.4000s", out);
	cr_assert_null(strstr(out, "not traced"), "%.4000s", out);
}

/* "window" traced in @mode, the signal at a @kind's reservation */
static void window_case(const char *mode, const char *kind, const char *first)
{
	char *out = run_window(mode, kind);

	assert_window(out, first);
	free(out);
}

Test(reserve_race, flight_signal_before_an_entrys_place_is_taken)
{
	window_case("flight", "entry", "leaf");
}

Test(reserve_race, flight_signal_before_an_exits_place_is_taken)
{
	window_case("flight", "exit", "leaf()");
}

Test(reserve_race, discard_signal_before_an_entrys_place_is_taken)
{
	window_case("discard", "entry", "leaf");
}

Test(reserve_race, discard_signal_before_an_exits_place_is_taken)
{
	window_case("discard", "exit", "leaf()");
}
