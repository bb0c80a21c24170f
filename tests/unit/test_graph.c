// SPDX-License-Identifier: MIT
/*
 * The function-graph and --report printers (and calls.c, the pairing of
 * the summary views), on synthetic rings whose sites
 * point into the real calltree test binary, compared line for line.
 * 1 GHz TSC: one tick is one nanosecond.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/decode/calls.h"
#include "consumer/filter.h"
#include "consumer/views/graph.h"
#include "consumer/views/report.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/input/site_names.h"
#include "consumer/decode/trace.h"
#include "lib/ringgen.h"

#define T1 1234
#define T2 5678

static uint32_t S[RG_NFUNCS];
static char warnings[4096];

static void collect_warning(void *arg, const char *msg)
{
	(void)arg;
	strncat(warnings, msg, sizeof(warnings) - strlen(warnings) - 2);
	strcat(warnings, "\n");
}

static void setup(struct ringgen *g, const struct ringgen_config *cfg, uint64_t bias)
{
	warnings[0] = 0;
	cr_assert_eq(ringgen_init(g, cfg), 0);
	if (ringgen_calltree(g, bias, S))
		cr_skip_test("calltree.pg.O2 not built: run 'make targets'");
	ringgen_thread(g, 0, T1);
}

struct printer {
	struct tread_ring *ring;
	struct tread_site_names *names;
	struct tread_trace *trace;
	struct tread_graph *graph;
	struct tread_report *report;
	FILE *out;
	char *text;
	size_t len;
};

static void printer_open(struct printer *p, struct ringgen *g, int32_t tid, bool report)
{
	char err[256] = "";

	memset(p, 0, sizeof(*p));
	cr_assert_eq(tread_ring_open_writable_buffer(g->buf, g->size, &p->ring, err,
						     sizeof(err)), 0, "%s", err);
	cr_assert_eq(tread_site_names_open(p->ring, 0, collect_warning, NULL, &p->names), 0);
	cr_assert_eq(tread_trace_open(p->ring, &p->trace), 0);
	p->out = open_memstream(&p->text, &p->len);
	cr_assert_not_null(p->out);
	if (report) {
		cr_assert_eq(tread_report_open(p->ring, p->names, tid, &p->report), 0);
	} else {
		cr_assert_eq(tread_graph_open(p->ring, p->names, p->out, tid, &p->graph), 0);
		cr_assert_eq(tread_graph_header(p->graph), 0);
	}
}

static void printer_round(struct printer *p, bool final, bool gone)
{
	cr_assert_eq(tread_trace_refresh(p->trace, final, gone), 0);
	if (p->report)
		cr_assert_eq(tread_report_round(p->report, p->trace), 0);
	else
		cr_assert_eq(tread_graph_round(p->graph, p->trace), 0);
}

/* Finish and return the whole output (caller frees). */
static char *printer_close(struct printer *p)
{
	if (p->report)
		cr_assert_eq(tread_report_print(p->report, p->trace, p->out), 0);
	else
		cr_assert_eq(tread_graph_summary(p->graph, p->trace), 0);
	fclose(p->out);
	tread_report_close(p->report);
	tread_graph_close(p->graph);
	tread_trace_close(p->trace);
	tread_site_names_close(p->names);
	tread_ring_close(p->ring);
	return p->text;
}

/* What plain tread prints for a file whose writer has exited. */
static char *render(struct ringgen *g, int32_t tid, bool gone)
{
	struct printer p;

	printer_open(&p, g, tid, false);
	printer_round(&p, true, gone);
	return printer_close(&p);
}

static void expect_output(struct ringgen *g, int32_t tid, bool gone, const char *want)
{
	char *got = render(g, tid, gone);

	cr_assert_str_eq(got, want, "got:\n%s\nwant:\n%s", got, want);
	free(got);
}

#define HDR "# DURATION     TID     FUNCTION\n"

/* work() { a() { b() { leaf(); } c() { leaf(); leaf(); } } } */
static void calltree_work(struct ringgen *g, uint32_t slot, uint64_t t0)
{
	ringgen_entry(g, slot, S[RG_WORK], t0 + 0);
	ringgen_entry(g, slot, S[RG_A], t0 + 1000);
	ringgen_entry(g, slot, S[RG_B], t0 + 2000);
	ringgen_entry(g, slot, S[RG_LEAF], t0 + 3000);
	ringgen_exit(g, slot, S[RG_LEAF], t0 + 3500);
	ringgen_exit(g, slot, S[RG_B], t0 + 4000);
	ringgen_entry(g, slot, S[RG_C], t0 + 5000);
	ringgen_entry(g, slot, S[RG_LEAF], t0 + 5100);
	ringgen_exit(g, slot, S[RG_LEAF], t0 + 5300);
	ringgen_entry(g, slot, S[RG_LEAF], t0 + 5400);
	ringgen_exit(g, slot, S[RG_LEAF], t0 + 5900);
	ringgen_exit(g, slot, S[RG_C], t0 + 6000);
	ringgen_exit(g, slot, S[RG_A], t0 + 7000);
	ringgen_exit(g, slot, S[RG_WORK], t0 + 8000);
}

Test(graph, nesting_and_leaves)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	calltree_work(&g, 0, 10000);
	expect_output(&g, 0, true, HDR
		"              [  1234] | work() {\n"
		"              [  1234] |   a() {\n"
		"              [  1234] |     b() {\n"
		"     0.500 us [  1234] |       leaf();\n"
		"     2.000 us [  1234] |     } /* b */\n"
		"              [  1234] |     c() {\n"
		"     0.200 us [  1234] |       leaf();\n"
		"     0.500 us [  1234] |       leaf();\n"
		"     1.000 us [  1234] |     } /* c */\n"
		"     6.000 us [  1234] |   } /* a */\n"
		"     8.000 us [  1234] | } /* work */\n");
	ringgen_free(&g);
}

Test(graph, names_with_a_pie_load_bias)
{
	struct ringgen g;

	setup(&g, NULL, 0x5617a2c00000ull);
	ringgen_entry(&g, 0, S[RG_C], 100);
	ringgen_exit(&g, 0, S[RG_C], 1100);
	expect_output(&g, 0, true, HDR
		"     1.000 us [  1234] | c();\n");
	cr_assert_str_eq(warnings, "");
	ringgen_free(&g);
}

Test(graph, threads_merged_in_time_order)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_thread(&g, 1, T2);
	ringgen_entry(&g, 0, S[RG_A], 1000);
	ringgen_entry(&g, 1, S[RG_WORK], 1500);
	ringgen_entry(&g, 0, S[RG_B], 2000);
	ringgen_entry(&g, 1, S[RG_LEAF], 2500);
	ringgen_exit(&g, 1, S[RG_LEAF], 2600);
	ringgen_exit(&g, 0, S[RG_B], 3000);
	ringgen_exit(&g, 0, S[RG_A], 4000);
	ringgen_exit(&g, 1, S[RG_WORK], 4500);
	expect_output(&g, 0, true, HDR
		"              [  1234] | a() {\n"
		"              [  5678] | work() {\n"
		"     1.000 us [  1234] |   b();\n"
		"     0.100 us [  5678] |   leaf();\n"
		"     3.000 us [  1234] | } /* a */\n"
		"     3.000 us [  5678] | } /* work */\n");
	/* one thread only */
	expect_output(&g, T2, true, HDR
		"              [  5678] | work() {\n"
		"     0.100 us [  5678] |   leaf();\n"
		"     3.000 us [  5678] | } /* work */\n");
	ringgen_free(&g);
}

Test(graph, durations_across_a_40_bit_wrap)
{
	const uint64_t edge = 3ull << 40;
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_A], edge - 2000);
	ringgen_entry(&g, 0, S[RG_LEAF], edge - 250);
	ringgen_exit(&g, 0, S[RG_LEAF], edge + 250);
	ringgen_exit(&g, 0, S[RG_A], edge + 1234567);
	expect_output(&g, 0, true, HDR
		"              [  1234] | a() {\n"
		"     0.500 us [  1234] |   leaf();\n"
		"  1236.567 us [  1234] | } /* a */\n");
	ringgen_free(&g);
}

Test(graph, open_calls_at_the_end)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_WORK], 100);
	ringgen_entry(&g, 0, S[RG_A], 200);
	ringgen_entry(&g, 0, S[RG_LEAF], 300);
	ringgen_exit(&g, 0, S[RG_LEAF], 400);
	ringgen_entry(&g, 0, S[RG_C], 500);
	expect_output(&g, 0, true, HDR
		"              [  1234] | work() {\n"
		"              [  1234] |   a() {\n"
		"     0.100 us [  1234] |     leaf();\n"
		"              [  1234] |     c() {\n");
	ringgen_free(&g);
}

Test(graph, exits_whose_entry_was_not_traced)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	/* tracing began inside work() -> a() */
	ringgen_entry(&g, 0, S[RG_LEAF], 100);
	ringgen_exit(&g, 0, S[RG_LEAF], 200);
	ringgen_exit(&g, 0, S[RG_A], 300);
	ringgen_entry(&g, 0, S[RG_A], 400);
	ringgen_exit(&g, 0, S[RG_A], 500);
	ringgen_exit(&g, 0, S[RG_WORK], 600);
	expect_output(&g, 0, true, HDR
		"     0.100 us [  1234] | leaf();\n"
		"              [  1234] | } /* a (entry not traced) */\n"
		"     0.100 us [  1234] | a();\n"
		"              [  1234] | } /* work (entry not traced) */\n");
	ringgen_free(&g);
}

Test(graph, an_outer_exit_closes_calls_whose_exit_was_lost)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_WORK], 100);
	ringgen_entry(&g, 0, S[RG_A], 200);
	ringgen_entry(&g, 0, S[RG_B], 300);
	ringgen_entry(&g, 0, S[RG_LEAF], 400);
	ringgen_exit(&g, 0, S[RG_WORK], 1100);	/* a, b and leaf never exit */
	expect_output(&g, 0, true, HDR
		"              [  1234] | work() {\n"
		"              [  1234] |   a() {\n"
		"              [  1234] |     b() {\n"
		"              [  1234] |       leaf() {\n"
		"              [  1234] |       } /* leaf (exit lost) */\n"
		"              [  1234] |     } /* b (exit lost) */\n"
		"              [  1234] |   } /* a (exit lost) */\n"
		"     1.000 us [  1234] | } /* work */\n");
	ringgen_free(&g);
}

Test(graph, recursion_matches_the_innermost_call)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_A], 0);
	ringgen_entry(&g, 0, S[RG_A], 100);
	ringgen_entry(&g, 0, S[RG_A], 200);
	ringgen_exit(&g, 0, S[RG_A], 300);
	ringgen_exit(&g, 0, S[RG_A], 1100);
	ringgen_exit(&g, 0, S[RG_A], 2000);
	expect_output(&g, 0, true, HDR
		"              [  1234] | a() {\n"
		"              [  1234] |   a() {\n"
		"     0.100 us [  1234] |     a();\n"
		"     1.000 us [  1234] |   } /* a */\n"
		"     2.000 us [  1234] | } /* a */\n");
	ringgen_free(&g);
}

Test(graph, longjmp_unwound_frames)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_WORK], 0);
	ringgen_entry(&g, 0, S[RG_A], 100);
	ringgen_entry(&g, 0, S[RG_B], 200);
	ringgen_entry(&g, 0, S[RG_LEAF], 300);
	/* leaf longjmps back into work: leaf, b and a end at once */
	ringgen_unwind(&g, 0, 3, 1000);
	ringgen_exit(&g, 0, S[RG_LEAF], 1000);
	ringgen_exit(&g, 0, S[RG_B], 1000);
	ringgen_exit(&g, 0, S[RG_A], 1000);
	ringgen_exit(&g, 0, S[RG_WORK], 3000);
	expect_output(&g, 0, true, HDR
		"              [  1234] | work() {\n"
		"              [  1234] |   a() {\n"
		"              [  1234] |     b() {\n"
		"              [  1234] |       leaf() {\n"
		"     0.700 us [  1234] |       } /* leaf */ /* unwound */\n"
		"     0.800 us [  1234] |     } /* b */ /* unwound */\n"
		"     0.900 us [  1234] |   } /* a */ /* unwound */\n"
		"     3.000 us [  1234] | } /* work */\n");
	ringgen_free(&g);
}

Test(graph, uncommitted_tail_of_a_live_writer)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_A], 100);
	ringgen_entry(&g, 0, S[RG_LEAF], 200);
	ringgen_reserve(&g, 0);			/* leaf's exit, in flight */
	ringgen_exit(&g, 0, S[RG_A], 400);
	expect_output(&g, 0, false, HDR
		"              [  1234] | a() {\n"
		"              [  1234] |   leaf() {\n"
		"# 2 events still being written were not shown\n");
	ringgen_free(&g);
}

/* What tread -f sees in discard mode: the ring fills, the writer drops,
 * the reader consumes, and the next event carries the LOST count. */
Test(graph, discard_mode_lost_marker)
{
	struct ringgen_config cfg = { .ring_shift = 4 };	/* 16 words */
	struct printer p;
	struct ringgen g;
	char *got;

	setup(&g, &cfg, 0);
	for (int i = 0; i < 7; i++) {		/* TID TIME + 14 = full */
		cr_assert(ringgen_entry(&g, 0, S[RG_LEAF], 1000 * i));
		cr_assert(ringgen_exit(&g, 0, S[RG_LEAF], 1000 * i + 100));
	}
	cr_assert_not(ringgen_entry(&g, 0, S[RG_B], 9000));
	cr_assert_not(ringgen_exit(&g, 0, S[RG_B], 9100));

	printer_open(&p, &g, 0, false);
	printer_round(&p, false, false);	/* visible, not yet ripe */
	printer_round(&p, false, false);	/* printed... */
	tread_trace_consume(p.trace);		/* ...and consumed */
	cr_assert_eq(ringgen_ctl(&g, 0)->tail, 16);

	cr_assert(ringgen_entry(&g, 0, S[RG_C], 10000));
	cr_assert(ringgen_exit(&g, 0, S[RG_C], 12000));
	printer_round(&p, true, true);
	got = printer_close(&p);
	cr_assert_str_eq(got, HDR
		"     0.100 us [  1234] | leaf();\n"
		"     0.100 us [  1234] | leaf();\n"
		"     0.100 us [  1234] | leaf();\n"
		"     0.100 us [  1234] | leaf();\n"
		"     0.100 us [  1234] | leaf();\n"
		"     0.100 us [  1234] | leaf();\n"
		"     0.100 us [  1234] | leaf();\n"
		"              [  1234] | /* lost 2 events */\n"
		"     2.000 us [  1234] | c();\n"
		"# lost 2 events (ring full: 2)\n"
		"# writer counters since attach: 2 events dropped (ring full)\n", "%s", got);
	free(got);
	ringgen_free(&g);
}

/* Flight mode read once: the window is [head - N, head); what came before
 * it was overwritten before anyone read it, and what comes before its
 * first chunk TIME (position 1536 here) cannot be dated: one marker for
 * all 1536 positions.  The exit of work() then has no entry. */
Test(graph, flight_mode_overwritten_start)
{
	struct ringgen_config cfg = { .ring_shift = 10, .mode = TAT_MODE_FLIGHT };
	struct ringgen g;
	uint64_t tsc = 0, head;
	char *got, want[256];

	setup(&g, &cfg, 0);
	ringgen_entry(&g, 0, S[RG_WORK], tsc);
	while (ringgen_ctl(&g, 0)->head < 2100) {	/* 2 laps and a bit */
		ringgen_entry(&g, 0, S[RG_LEAF], tsc += 10);
		ringgen_exit(&g, 0, S[RG_LEAF], tsc += 10);
	}
	ringgen_exit(&g, 0, S[RG_WORK], tsc += 10);
	head = ringgen_ctl(&g, 0)->head;
	got = render(&g, 0, true);
	snprintf(want, sizeof(want), HDR "              [  1234] | /* lost 1536 events */\n");
	cr_assert(strncmp(got, want, strlen(want)) == 0, "%s", got);
	cr_assert(strstr(got, "              [  1234] | } /* work (entry not traced) */\n"),
		  "%s", got);
	snprintf(want, sizeof(want), "# lost 1536 events (overwritten before read: %llu, "
		 "before the first timestamp: %llu)\n", (unsigned long long)(head - 1024),
		 (unsigned long long)(1536 - (head - 1024)));
	cr_assert(strstr(got, want), "%s", got);
	free(got);
	ringgen_free(&g);
}

/*
 * A flight window whose first words, before its first chunk TIME (1536),
 * hold an UNWIND record with the two exits it marks, a CUT record with
 * its exit and an EARLY record with its entry: those events cannot be
 * dated, and the marks go with them.  They went on to the first events
 * after the TIME: two leaf() calls shown "unwound", one "still running at
 * --disable" (found tracing Lua's interpreter, enabled and disabled in
 * flight mode while it threw errors).
 */
Test(graph, flight_window_starting_before_an_unwind_dated)
{
	struct ringgen_config cfg = { .ring_shift = 10, .mode = TAT_MODE_FLIGHT };
	struct ringgen g;
	uint64_t tsc = 0;
	char *got;

	setup(&g, &cfg, 0);
	while (ringgen_ctl(&g, 0)->head < 1200) {
		ringgen_entry(&g, 0, S[RG_LEAF], tsc += 10);
		ringgen_exit(&g, 0, S[RG_LEAF], tsc += 10);
	}
	/* window [head - 1024, head) with head about 2100: these are in it,
	 * before its first TIME */
	ringgen_entry(&g, 0, S[RG_A], tsc += 10);
	ringgen_entry(&g, 0, S[RG_B], tsc += 10);
	ringgen_unwind(&g, 0, 2, tsc += 10);
	ringgen_exit(&g, 0, S[RG_B], tsc);
	ringgen_exit(&g, 0, S[RG_A], tsc);
	ringgen_entry(&g, 0, S[RG_WORK], tsc += 10);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_CUT, 1));
	ringgen_exit(&g, 0, S[RG_WORK], tsc += 10);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_EARLY, 1));
	ringgen_entry(&g, 0, S[RG_WORK], tsc += 10);
	ringgen_exit(&g, 0, S[RG_WORK], tsc += 10);
	cr_assert_lt(ringgen_ctl(&g, 0)->head, 1536);
	while (ringgen_ctl(&g, 0)->head < 2100) {
		ringgen_entry(&g, 0, S[RG_LEAF], tsc += 10);
		ringgen_exit(&g, 0, S[RG_LEAF], tsc += 10);
	}
	got = render(&g, 0, true);
	cr_assert(strstr(got, "| /* lost "), "%s", got);	/* the start */
	cr_assert_null(strstr(got, "unwound"), "%s", got);
	cr_assert_null(strstr(got, "still running at --disable"), "%s", got);
	cr_assert_null(strstr(got, "entered before tracing"), "%s", got);
	cr_assert_null(strstr(got, "leaf() {"), "%s", got);
	free(got);
	ringgen_free(&g);
}

Test(graph, sites_that_cannot_be_named)
{
	struct ringgen g;
	int m;

	setup(&g, NULL, 0);
	m = ringgen_add_module(&g, "/nonexistent/libgone.so", 0x7f0000000000ull);
	uint32_t gone = ringgen_add_site(&g, m, 0x7f0000001234ull);
	ringgen_entry(&g, 0, gone, 100);
	ringgen_exit(&g, 0, gone, 200);
	ringgen_entry(&g, 0, 60, 300);		/* inside the cap, never added */
	ringgen_exit(&g, 0, 60, 400);
	ringgen_entry(&g, 0, 0, 500);		/* index 0 is never a site */
	ringgen_exit(&g, 0, 0, 600);
	expect_output(&g, 0, true, HDR
		"     0.100 us [  1234] | 0x7f0000001234();\n"
		"     0.100 us [  1234] | bad_site_60();\n"
		"     0.100 us [  1234] | bad_site_0();\n");
	cr_assert(strstr(warnings, "/nonexistent/libgone.so"), "%s", warnings);
	ringgen_free(&g);
}

Test(graph, slot_reused_by_a_new_thread)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_WORK], 100);	/* T1 exits inside work() */
	ringgen_retid(&g, 0, T2);
	ringgen_entry(&g, 0, S[RG_A], 200);
	ringgen_exit(&g, 0, S[RG_A], 300);
	expect_output(&g, 0, true, HDR
		"              [  1234] | work() {\n"
		"     0.100 us [  5678] | a();\n");
	ringgen_free(&g);
}

Test(report, per_function_times)
{
	struct ringgen g;
	struct printer p;
	char *got;

	setup(&g, NULL, 0);
	calltree_work(&g, 0, 10000);
	calltree_work(&g, 0, 30000);
	ringgen_entry(&g, 0, S[RG_A], 50000);		/* still running */
	printer_open(&p, &g, 0, true);
	printer_round(&p, true, true);
	got = printer_close(&p);
	cr_assert_str_eq(got,
		"# 14 calls of 5 functions\n"
		"#      CALLS       TOTAL us        SELF us         AVG us         MIN us         MAX us  FUNCTION\n"
		"           2         16.000          4.000          8.000          8.000          8.000  work\n"
		"           2         12.000          6.000          6.000          6.000          6.000  a\n"
		"           2          4.000          3.000          2.000          2.000          2.000  b\n"
		"           6          2.400          2.400          0.400          0.200          0.500  leaf\n"
		"           2          2.000          0.600          1.000          1.000          1.000  c\n"
		"# 1 calls still running at the end are not counted\n", "%s", got);
	free(got);
	ringgen_free(&g);
}

/* A recursive function's inner calls are not added to its total again. */
Test(report, recursion_counted_once)
{
	struct ringgen g;
	struct printer p;
	char *got;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_A], 0);
	ringgen_entry(&g, 0, S[RG_A], 1000);
	ringgen_entry(&g, 0, S[RG_LEAF], 2000);
	ringgen_exit(&g, 0, S[RG_LEAF], 3000);
	ringgen_exit(&g, 0, S[RG_A], 4000);
	ringgen_exit(&g, 0, S[RG_A], 10000);
	ringgen_exit(&g, 0, S[RG_WORK], 11000);		/* entry not traced */
	printer_open(&p, &g, 0, true);
	printer_round(&p, true, true);
	got = printer_close(&p);
	cr_assert_str_eq(got,
		"# 3 calls of 2 functions\n"
		"#      CALLS       TOTAL us        SELF us         AVG us         MIN us         MAX us  FUNCTION\n"
		"           2         10.000          9.000          6.500          3.000         10.000  a\n"
		"           1          1.000          1.000          1.000          1.000          1.000  leaf\n"
		"# 1 exits without a traced entry are not counted\n", "%s", got);
	free(got);
	ringgen_free(&g);
}

/*
 * A recursive function whose outermost call is not counted (still running
 * at the end: an interpreter's luaV_execute() running when tracing began)
 * still has a total: its calls completed inside that one, once each.  a@0
 * never returns; a@1000 (3 us) covers a@1500; a@5000 (1 us).  It was
 * 0.000, below its 4 us of self time.
 */
Test(report, recursion_inside_a_call_still_running)
{
	struct ringgen g;
	struct printer p;
	char *got;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_A], 0);
	ringgen_entry(&g, 0, S[RG_A], 1000);
	ringgen_entry(&g, 0, S[RG_A], 1500);
	ringgen_exit(&g, 0, S[RG_A], 2500);
	ringgen_exit(&g, 0, S[RG_A], 4000);
	ringgen_entry(&g, 0, S[RG_A], 5000);
	ringgen_exit(&g, 0, S[RG_A], 6000);
	ringgen_entry(&g, 0, S[RG_LEAF], 7000);
	ringgen_exit(&g, 0, S[RG_LEAF], 7500);
	printer_open(&p, &g, 0, true);
	printer_round(&p, true, true);
	got = printer_close(&p);
	cr_assert_str_eq(got,
		"# 4 calls of 2 functions\n"
		"#      CALLS       TOTAL us        SELF us         AVG us         MIN us         MAX us  FUNCTION\n"
		"           3          4.000          4.000          1.667          1.000          3.000  a\n"
		"           1          0.500          0.500          0.500          0.500          0.500  leaf\n"
		"# 1 calls still running at the end are not counted\n", "%s", got);
	free(got);
	ringgen_free(&g);
}

Test(report, one_thread_only)
{
	struct ringgen g;
	struct printer p;
	char *got;

	setup(&g, NULL, 0);
	ringgen_thread(&g, 1, T2);
	ringgen_entry(&g, 0, S[RG_A], 0);
	ringgen_exit(&g, 0, S[RG_A], 1000);
	ringgen_entry(&g, 1, S[RG_B], 0);
	ringgen_exit(&g, 1, S[RG_B], 2000);
	printer_open(&p, &g, T2, true);
	printer_round(&p, true, true);
	got = printer_close(&p);
	cr_assert_str_eq(got,
		"# 1 calls of 1 functions\n"
		"#      CALLS       TOTAL us        SELF us         AVG us         MIN us         MAX us  FUNCTION\n"
		"           1          2.000          2.000          2.000          2.000          2.000  b\n",
		"%s", got);
	free(got);
	ringgen_free(&g);
}

/* Two coroutines on one thread: each stack nests its own calls, a switch
 * is announced, and an exit is matched on its own stack only. */
Test(graph, sub_stacks_nest_apart)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_WORK], 10000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_STACK, 1));
	ringgen_entry(&g, 0, S[RG_A], 11000);
	ringgen_entry(&g, 0, S[RG_LEAF], 12000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_STACK, 2));
	ringgen_entry(&g, 0, S[RG_A], 13000);
	ringgen_entry(&g, 0, S[RG_LEAF], 14000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_STACK, 1));
	ringgen_exit(&g, 0, S[RG_LEAF], 15000);
	ringgen_exit(&g, 0, S[RG_A], 16000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_STACK, 0));
	ringgen_exit(&g, 0, S[RG_WORK], 17000);
	expect_output(&g, 0, true, HDR
		"              [  1234] | work() {\n"
		"              [  1234] | /* stack 1 */\n"
		"              [  1234] | a() {\n"
		"              [  1234] |   leaf() {\n"
		"              [  1234] | /* stack 2 */\n"
		"              [  1234] | a() {\n"
		"              [  1234] |   leaf() {\n"
		"              [  1234] | /* stack 1 */\n"
		"     3.000 us [  1234] |   } /* leaf */\n"
		"     5.000 us [  1234] | } /* a */\n"
		"              [  1234] | /* stack 0 */\n"
		"     7.000 us [  1234] | } /* work */\n");
	ringgen_free(&g);
}

/* Calls adopted at --enable carry a note on both lines, never folded. */
Test(graph, calls_entered_before_tracing)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_EARLY, 2));
	ringgen_entry(&g, 0, S[RG_WORK], 10000);
	ringgen_entry(&g, 0, S[RG_A], 10000);
	ringgen_exit(&g, 0, S[RG_A], 12000);
	ringgen_entry(&g, 0, S[RG_A], 13000);
	ringgen_exit(&g, 0, S[RG_A], 14000);
	ringgen_exit(&g, 0, S[RG_WORK], 15000);
	expect_output(&g, 0, true, HDR
		"              [  1234] | work() { /* entered before tracing */\n"
		"              [  1234] |   a() { /* entered before tracing */\n"
		"     2.000 us [  1234] |   } /* a */ /* entered before tracing */\n"
		"     1.000 us [  1234] |   a();\n"
		"     5.000 us [  1234] | } /* work */ /* entered before tracing */\n");
	ringgen_free(&g);
}

/* A ring full of distinct STACK ids (the file is the traced process's)
 * must not grow tread without bound, nor break it. */
Test(graph, a_flood_of_sub_stacks)
{
	struct ringgen_config cfg = { 0 };
	struct ringgen g;
	char *got;

	cfg.ring_shift = 16;
	setup(&g, &cfg, 0);
	for (uint64_t i = 1; i <= 10000; i++) {
		ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_STACK, i));
		ringgen_entry(&g, 0, S[RG_LEAF], 10000 + i);
	}
	got = render(&g, 0, true);
	cr_assert(strstr(got, "/* stack 10000 */"), "%.300s", got);
	free(got);
	ringgen_free(&g);
}

/* A VALUES block of @site (tattach -A/-R): one signed value, from rdi
 * (arguments) or rax (@ret), as the trampoline writes it. */
static void values_block(struct ringgen *g, uint32_t site, bool ret, int64_t v)
{
	uint8_t b[14] = { TAT_VAL_SIGNED, 0 };
	uint64_t lo = 0, hi = 0;

	for (int i = 0; i < 8; i++)
		b[2 + i] = (uint8_t)((uint64_t)v >> (8 * i));
	for (int i = 0; i < 7; i++) {
		lo |= (uint64_t)b[i] << (8 * i);
		hi |= (uint64_t)b[7 + i] << (8 * i);
	}
	ringgen_raw(g, 0, tat_ev_special(TAT_SUB_VALUES, site | (10ull << TAT_VALUES_BYTES_SHIFT) |
					 (ret ? TAT_VALUES_RETURN : 0)));
	ringgen_raw(g, 0, tat_ev_special(TAT_SUB_VALDATA, lo));
	ringgen_raw(g, 0, tat_ev_special(TAT_SUB_VALDATA, hi));
}

/* Arguments and return values, named from calltree's DWARF: a leaf stays
 * one line even with a resync DEPTH between its return value and exit. */
Test(graph, arguments_and_return_values)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_entry(&g, 0, S[RG_WORK], 10000);
	values_block(&g, S[RG_WORK], false, 3);
	ringgen_entry(&g, 0, S[RG_LEAF], 11000);
	values_block(&g, S[RG_LEAF], false, -4);
	values_block(&g, S[RG_LEAF], true, -12);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_DEPTH, 2));
	ringgen_exit(&g, 0, S[RG_LEAF], 11500);
	values_block(&g, S[RG_WORK], true, 99);
	ringgen_exit(&g, 0, S[RG_WORK], 12000);
	expect_output(&g, 0, true, HDR
		"              [  1234] | work(n=3) {\n"
		"     0.500 us [  1234] |   leaf(x=-4) = -12;\n"
		"     2.000 us [  1234] | } = 99 /* work */\n");
	ringgen_free(&g);
}

/* Calls --disable cut loose end with a note, never folded into a leaf. */
Test(graph, calls_cut_loose_by_disable)
{
	struct ringgen g;

	setup(&g, NULL, 0);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_EARLY, 1));
	ringgen_entry(&g, 0, S[RG_WORK], 10000);
	ringgen_entry(&g, 0, S[RG_A], 11000);
	ringgen_exit(&g, 0, S[RG_A], 12000);
	ringgen_entry(&g, 0, S[RG_A], 13000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_CUT, 2));
	ringgen_exit(&g, 0, S[RG_A], 14000);
	ringgen_exit(&g, 0, S[RG_WORK], 14000);
	expect_output(&g, 0, true, HDR
		"              [  1234] | work() { /* entered before tracing */\n"
		"     1.000 us [  1234] |   a();\n"
		"              [  1234] |   a() {\n"
		"     1.000 us [  1234] |   } /* a */ /* still running at --disable */\n"
		"     4.000 us [  1234] | } /* work */ /* still running at --disable */ "
		"/* entered before tracing */\n");
	ringgen_free(&g);
}

/*
 * A gap in the middle of a stream: a full discard ring, then consumed as
 * tread -f does.  Before it, work() { a@1000 { a@1500 { leaf() x5,
 * leaf@3000 { were open; in it, leaf() and a@1500 returned and another
 * a() began in a@1000.  The frames in flight (what the trampoline
 * publishes) say which calls run on: work() and a@1000.
 *
 * leaf@3000 and a@1500 end "exit lost" at the gap.  The exit of the
 * a() that began in the gap (6000) is read while a@1000 is still in
 * flight, so it is not a@1000's, which would give a@1000 5 us that are
 * not its own; a@1000's own exit (6500) and work()'s then close them.
 */
static void gap_in_the_middle(struct ringgen *g, void (*read_all)(void *arg, bool final),
			      void *arg)
{
	uint32_t sites[3] = { S[RG_WORK], S[RG_A], S[RG_A] };
	uint64_t tscs[3] = { 0, 1000, 5100 };

	cr_assert(ringgen_entry(g, 0, S[RG_WORK], 0));
	cr_assert(ringgen_entry(g, 0, S[RG_A], 1000));
	cr_assert(ringgen_entry(g, 0, S[RG_A], 1500));
	for (int i = 0; i < 5; i++) {
		cr_assert(ringgen_entry(g, 0, S[RG_LEAF], 2000 + 200 * i));
		cr_assert(ringgen_exit(g, 0, S[RG_LEAF], 2100 + 200 * i));
	}
	cr_assert(ringgen_entry(g, 0, S[RG_LEAF], 3000));	/* 16 words: full */
	cr_assert_not(ringgen_exit(g, 0, S[RG_LEAF], 3100));
	cr_assert_not(ringgen_exit(g, 0, S[RG_A], 5000));
	cr_assert_not(ringgen_entry(g, 0, S[RG_A], 5100));
	ringgen_in_flight(g, 0, sites, tscs, 3);
	read_all(arg, false);
	/* the a() of the gap returns: work() and a@1000 run on */
	ringgen_in_flight(g, 0, sites, tscs, 2);
	cr_assert(ringgen_exit(g, 0, S[RG_A], 6000));
	read_all(arg, false);
	ringgen_in_flight(g, 0, sites, tscs, 1);
	cr_assert(ringgen_exit(g, 0, S[RG_A], 6500));
	ringgen_in_flight(g, 0, sites, tscs, 0);
	cr_assert(ringgen_exit(g, 0, S[RG_WORK], 9000));
	read_all(arg, true);
}

/* As tread -f: all there is now (visible, then ripe), then consumed. */
static void printer_read_all(void *arg, bool final)
{
	struct printer *p = arg;

	if (final) {
		printer_round(p, true, true);
		return;
	}
	printer_round(p, false, false);
	printer_round(p, false, false);
	tread_trace_consume(p->trace);
}

Test(graph, a_gap_keeps_only_the_calls_still_in_flight)
{
	struct ringgen_config cfg = { .ring_shift = 4, .frames = 8 };	/* 16 words */
	struct printer p;
	struct ringgen g;
	char *got;

	setup(&g, &cfg, 0);
	printer_open(&p, &g, 0, false);
	gap_in_the_middle(&g, printer_read_all, &p);
	got = printer_close(&p);
	cr_assert_str_eq(got, HDR
		"              [  1234] | work() {\n"
		"              [  1234] |   a() {\n"
		"              [  1234] |     a() {\n"
		"     0.100 us [  1234] |       leaf();\n"
		"     0.100 us [  1234] |       leaf();\n"
		"     0.100 us [  1234] |       leaf();\n"
		"     0.100 us [  1234] |       leaf();\n"
		"     0.100 us [  1234] |       leaf();\n"
		"              [  1234] |       leaf() {\n"
		"              [  1234] | /* lost 3 events */\n"
		"              [  1234] |       } /* leaf (exit lost) */\n"
		"              [  1234] |     } /* a (exit lost) */\n"
		"              [  1234] |     } /* a (entry not traced) */\n"
		"     5.500 us [  1234] |   } /* a */\n"
		"     9.000 us [  1234] | } /* work */\n"
		"# lost 3 events (ring full: 3)\n"
		"# writer counters since attach: 3 events dropped (ring full)\n", "%s", got);
	free(got);
	ringgen_free(&g);
}

/* The same for --report: a@1000 counted once, with its own 5.5 us. */
Test(report, a_gap_keeps_only_the_calls_still_in_flight)
{
	struct ringgen_config cfg = { .ring_shift = 4, .frames = 8 };
	struct printer p;
	struct ringgen g;
	char *got;

	setup(&g, &cfg, 0);
	printer_open(&p, &g, 0, true);
	gap_in_the_middle(&g, printer_read_all, &p);
	got = printer_close(&p);
	cr_assert(strstr(got, "\n           1          9.000          3.500"), "%s", got);
	cr_assert(strstr(got, "\n           1          5.500          5.500"), "%s", got);
	cr_assert(strstr(got, "# 1 exits without a traced entry are not counted"), "%s", got);
	cr_assert(strstr(got, "# 2 calls whose exit was lost are not counted"), "%s", got);
	free(got);
	ringgen_free(&g);
}

/* ------------------------------------ calls.c: --stat, --hist, --stuck */

struct calls_reader {
	struct tread_ring *ring;
	struct tread_trace *trace;
	struct tread_calls *calls;
	char log[512];
};

static const char *rg_name(uint32_t site)
{
	return site == S[RG_WORK] ? "work" : site == S[RG_A] ? "a" :
	       site == S[RG_LEAF] ? "leaf" : "?";
}

/* Each call closed: "name:ticks" when its exit was read, "name~" if not. */
static int log_closed(void *arg, const struct tread_call *c)
{
	struct calls_reader *r = arg;
	size_t len = strlen(r->log);

	if (c->completed)
		snprintf(r->log + len, sizeof(r->log) - len, "%s%s:%llu", len ? " " : "",
			 rg_name(c->site), (unsigned long long)(c->exit_tsc - c->entry_tsc));
	else
		snprintf(r->log + len, sizeof(r->log) - len, "%s%s~", len ? " " : "",
			 rg_name(c->site));
	return 0;
}

static void calls_read_all(void *arg, bool final)
{
	struct calls_reader *r = arg;
	struct tread_event ev;

	for (int round = 0; round < (final ? 1 : 2); round++) {
		cr_assert_eq(tread_trace_refresh(r->trace, final, final), 0);
		while (tread_filter_next(NULL, r->trace, &ev) == 1)
			cr_assert_eq(tread_calls_feed(r->calls, &ev), 0);
	}
	if (!final)
		tread_trace_consume(r->trace);
}

/* The same gap for the pairing behind the summary views: a@1500 and the
 * open leaf() end unfinished at the gap, a@1000 is closed by its own exit. */
Test(calls, a_gap_keeps_only_the_calls_still_in_flight)
{
	struct ringgen_config cfg = { .ring_shift = 4, .frames = 8 };
	struct calls_reader r = { 0 };
	struct tread_call_ops ops = { .closed = log_closed, .arg = &r };
	struct ringgen g;
	char err[256] = "";

	setup(&g, &cfg, 0);
	cr_assert_eq(tread_ring_open_writable_buffer(g.buf, g.size, &r.ring, err,
						     sizeof(err)), 0, "%s", err);
	cr_assert_eq(tread_trace_open(r.ring, &r.trace), 0);
	cr_assert_eq(tread_calls_open(r.ring, &ops, &r.calls), 0);
	gap_in_the_middle(&g, calls_read_all, &r);
	cr_assert_str_eq(r.log, "leaf:100 leaf:100 leaf:100 leaf:100 leaf:100 "
			 "leaf~ a~ a:5500 work:9000", "%s", r.log);
	tread_calls_close(r.calls);
	tread_trace_close(r.trace);
	tread_ring_close(r.ring);
	ringgen_free(&g);
}
