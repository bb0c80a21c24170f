// SPDX-License-Identifier: MIT
/*
 * tread --time (the TIMESTAMP column) and loss markers, on synthetic rings
 * whose sites point into the real calltree test binary, compared line for
 * line.
 *
 * Calibration used by most tests: a 2 GHz event clock that read
 * 5000000000 when CLOCK_REALTIME read 1700000000.123456789 and
 * CLOCK_MONOTONIC 86400.000000000, so tick calib + 2k is 1000*k/1000 ns
 * later.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer/cli.h"
#include "consumer/views/graph.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/input/site_names.h"
#include "consumer/decode/trace.h"
#include "lib/ringgen.h"

#define T1 1234
#define T2 5678
#define CALIB_TSC  5000000000ull
#define CALIB_REAL 1700000000123456789ull
#define CALIB_MONO 86400000000000ull

static uint32_t S[RG_NFUNCS];

static void setup(struct ringgen *g, const struct ringgen_config *cfg)
{
	cr_assert_eq(ringgen_init(g, cfg), 0);
	if (ringgen_calltree(g, 0, S))
		cr_skip_test("calltree.pg.O2 not built: run 'make targets'");
	ringgen_thread(g, 0, T1);
}

static void calibrate(struct ringgen *g)
{
	g->hdr->tsc_hz = 2000000000ull;
	g->hdr->calib_tsc = CALIB_TSC;
	g->hdr->calib_real_ns = CALIB_REAL;
	g->hdr->calib_mono_ns = CALIB_MONO;
}

struct printer {
	struct tread_ring *ring;
	struct tread_site_names *names;
	struct tread_trace *trace;
	struct tread_graph *graph;
	FILE *out;
	char *text;
	size_t len;
};

static void printer_open(struct printer *p, struct ringgen *g, int32_t tid,
			 enum tread_time_mode time)
{
	char err[256] = "";

	memset(p, 0, sizeof(*p));
	cr_assert_eq(tread_ring_open_writable_buffer(g->buf, g->size, &p->ring, err,
						     sizeof(err)), 0, "%s", err);
	cr_assert_eq(tread_site_names_open(p->ring, 0, NULL, NULL, &p->names), 0);
	cr_assert_eq(tread_trace_open(p->ring, &p->trace), 0);
	p->out = open_memstream(&p->text, &p->len);
	cr_assert_not_null(p->out);
	cr_assert_eq(tread_graph_open(p->ring, p->names, p->out, tid, &p->graph), 0);
	cr_assert_eq(tread_graph_set_time(p->graph, time), 0);
	cr_assert_eq(tread_graph_header(p->graph), 0);
}

static void printer_round(struct printer *p, bool final, bool gone)
{
	cr_assert_eq(tread_trace_refresh(p->trace, final, gone), 0);
	cr_assert_eq(tread_graph_round(p->graph, p->trace), 0);
}

static char *printer_close(struct printer *p)
{
	cr_assert_eq(tread_graph_summary(p->graph, p->trace), 0);
	fclose(p->out);
	tread_graph_close(p->graph);
	tread_trace_close(p->trace);
	tread_site_names_close(p->names);
	tread_ring_close(p->ring);
	return p->text;
}

static void expect_output(struct ringgen *g, enum tread_time_mode time, const char *want)
{
	struct printer p;
	char *got;

	printer_open(&p, g, 0, time);
	printer_round(&p, true, true);
	got = printer_close(&p);
	cr_assert_str_eq(got, want, "got:\n%s\nwant:\n%s", got, want);
	free(got);
}

/*
 * T1: work() { leaf(); }, T2: a() in between.  Event times (ns after the
 * calibration point): work 1000, a 1500 (1 ns long), leaf 2000 (500 ns),
 * end of work 5000.
 */
static void two_threads(struct ringgen *g)
{
	ringgen_thread(g, 1, T2);
	ringgen_entry(g, 0, S[RG_WORK], CALIB_TSC + 2000);
	ringgen_entry(g, 1, S[RG_A], CALIB_TSC + 3000);
	ringgen_exit(g, 1, S[RG_A], CALIB_TSC + 3002);
	ringgen_entry(g, 0, S[RG_LEAF], CALIB_TSC + 4000);
	ringgen_exit(g, 0, S[RG_LEAF], CALIB_TSC + 5000);
	ringgen_exit(g, 0, S[RG_WORK], CALIB_TSC + 10000);
}

#define BODY1 "              [  1234] | work() {\n"
#define BODY2 "     0.001 us [  5678] | a();\n"
#define BODY3 "     0.500 us [  1234] |   leaf();\n"
#define BODY4 "     4.000 us [  1234] | } /* work */\n"

Test(time, none_is_todays_output)
{
	struct ringgen g;

	setup(&g, NULL);
	calibrate(&g);
	two_threads(&g);
	expect_output(&g, TREAD_TIME_NONE,
		"# DURATION     TID     FUNCTION\n"
		BODY1 BODY2 BODY3 BODY4);
	ringgen_free(&g);
}

Test(time, abs_is_seconds_since_the_epoch)
{
	struct ringgen g;

	setup(&g, NULL);
	calibrate(&g);
	two_threads(&g);
	expect_output(&g, TREAD_TIME_ABS,
		"# TIMESTAMP            DURATION     TID     FUNCTION\n"
		"1700000000.123457789 " BODY1
		"1700000000.123458289 " BODY2
		"1700000000.123458789 " BODY3
		"1700000000.123461789 " BODY4);
	ringgen_free(&g);
}

Test(time, tod_is_local_time_of_day)
{
	struct ringgen g;

	setup(&g, NULL);
	calibrate(&g);
	two_threads(&g);
	setenv("TZ", "UTC0", 1);
	tzset();
	expect_output(&g, TREAD_TIME_TOD,
		"# TIMESTAMP          DURATION     TID     FUNCTION\n"
		"22:13:20.123457789 " BODY1
		"22:13:20.123458289 " BODY2
		"22:13:20.123458789 " BODY3
		"22:13:20.123461789 " BODY4);
	/* a zone 5:30 east of UTC, no tzdata needed */
	setenv("TZ", "XST-5:30", 1);
	tzset();
	expect_output(&g, TREAD_TIME_TOD,
		"# TIMESTAMP          DURATION     TID     FUNCTION\n"
		"03:43:20.123457789 " BODY1
		"03:43:20.123458289 " BODY2
		"03:43:20.123458789 " BODY3
		"03:43:20.123461789 " BODY4);
	ringgen_free(&g);
}

Test(time, mono_rel_and_delta)
{
	struct ringgen g;

	setup(&g, NULL);
	calibrate(&g);
	two_threads(&g);
	expect_output(&g, TREAD_TIME_MONO,
		"# TIMESTAMP          DURATION     TID     FUNCTION\n"
		"   86400.000001000 " BODY1
		"   86400.000001500 " BODY2
		"   86400.000002000 " BODY3
		"   86400.000005000 " BODY4);
	expect_output(&g, TREAD_TIME_REL,
		"# TIMESTAMP      DURATION     TID     FUNCTION\n"
		"   0.000000000 " BODY1
		"   0.000000500 " BODY2
		"   0.000001000 " BODY3
		"   0.000004000 " BODY4);
	expect_output(&g, TREAD_TIME_DELTA,
		"# TIMESTAMP      DURATION     TID     FUNCTION\n"
		"   0.000000000 " BODY1
		"   0.000000500 " BODY2
		"   0.000000500 " BODY3
		"   0.000003000 " BODY4);
	ringgen_free(&g);
}

/* Events before the calibration point, whole seconds, and a rate that does
 * not divide 1e9: the conversion is exact integer arithmetic, rounded down. */
Test(time, conversion_edges)
{
	struct ringgen_config cfg = { .tsc_hz = 3000000000ull };
	struct ringgen g;

	setup(&g, &cfg);
	g.hdr->calib_tsc = 30000000000ull;			/* 10 s of ticks */
	g.hdr->calib_real_ns = 1700000000000000000ull;
	g.hdr->calib_mono_ns = 5000000000ull;
	ringgen_entry(&g, 0, S[RG_A], 30000000000ull - 3000000001ull);	/* -1.000000000333 s */
	ringgen_exit(&g, 0, S[RG_A], 30000000000ull + 3000000002ull);	/* +1.000000000667 s */
	expect_output(&g, TREAD_TIME_ABS,
		"# TIMESTAMP            DURATION     TID     FUNCTION\n"
		"1699999998.999999999 2000000.001 us [  1234] | a();\n");
	expect_output(&g, TREAD_TIME_MONO,
		"# TIMESTAMP          DURATION     TID     FUNCTION\n"
		"       3.999999999 2000000.001 us [  1234] | a();\n");
	ringgen_free(&g);
}

/* TAT_CLOCK_MONO: the event clock is CLOCK_MONOTONIC in nanoseconds. */
Test(time, mono_clock_rings)
{
	struct ringgen g;

	setup(&g, NULL);
	g.hdr->clock = TAT_CLOCK_MONO;
	g.hdr->tsc_hz = 1000000000ull;
	g.hdr->calib_tsc = g.hdr->calib_mono_ns = 3600000000000ull;	/* 1 h */
	g.hdr->calib_real_ns = 1700000000000000000ull;
	ringgen_entry(&g, 0, S[RG_B], 3600001234567ull);
	ringgen_exit(&g, 0, S[RG_B], 3600001236567ull);
	expect_output(&g, TREAD_TIME_MONO,
		"# TIMESTAMP          DURATION     TID     FUNCTION\n"
		"    3600.001234567      2.000 us [  1234] | b();\n");
	expect_output(&g, TREAD_TIME_ABS,
		"# TIMESTAMP            DURATION     TID     FUNCTION\n"
		"1700000000.001234567      2.000 us [  1234] | b();\n");
	ringgen_free(&g);
}

/*
 * Calls that end out of time order (a signal handler's events written
 * before the interrupted event, which was stamped earlier): delta goes
 * negative rather than lying.  Every kind of line is stamped: an exit
 * whose entry was not traced, calls closed because their exit was lost
 * (with the time of the exit that closed them), a loss marker (with the
 * time of the event after it).
 */
Test(time, every_line_is_stamped)
{
	struct ringgen g;

	setup(&g, NULL);
	ringgen_exit(&g, 0, S[RG_C], 1000);		/* entry not traced */
	ringgen_entry(&g, 0, S[RG_WORK], 2000);
	ringgen_entry(&g, 0, S[RG_A], 2500);
	ringgen_entry(&g, 0, S[RG_LEAF], 4000);
	ringgen_exit(&g, 0, S[RG_LEAF], 4100);
	ringgen_entry(&g, 0, S[RG_B], 3000);		/* stamped before leaf */
	ringgen_exit(&g, 0, S[RG_WORK], 6000);		/* a and b: exit lost */
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_LOST, 7));
	ringgen_entry(&g, 0, S[RG_LEAF], 9000);
	ringgen_exit(&g, 0, S[RG_LEAF], 9001);
	expect_output(&g, TREAD_TIME_DELTA,
		"# TIMESTAMP      DURATION     TID     FUNCTION\n"
		"   0.000000000               [  1234] | } /* c (entry not traced) */\n"
		"   0.000001000               [  1234] | work() {\n"
		"   0.000000500               [  1234] |   a() {\n"
		"   0.000001500      0.100 us [  1234] |     leaf();\n"
		"  -0.000001000               [  1234] |     b() {\n"
		"   0.000003000               [  1234] |     } /* b (exit lost) */\n"
		"   0.000000000               [  1234] |   } /* a (exit lost) */\n"
		"   0.000000000      4.000 us [  1234] | } /* work */\n"
		"   0.000003000               [  1234] | /* lost 7 events */\n"
		"   0.000000000      0.001 us [  1234] | leaf();\n"
		"# lost 7 events (ring full: 7)\n");
	ringgen_free(&g);
}

/* A loss with no dated event in its thread has no time: blank column. */
Test(time, undated_loss_has_a_blank_timestamp)
{
	struct ringgen g;

	setup(&g, NULL);
	ringgen_thread(&g, 1, T2);
	ringgen_entry(&g, 0, S[RG_LEAF], 1000);
	ringgen_exit(&g, 0, S[RG_LEAF], 1500);
	/* slot 1: events but never a TIME record */
	ringgen_raw(&g, 1, tat_ev_special(TAT_SUB_TID, T2));
	ringgen_raw(&g, 1, tat_ev_make(TAT_EV_ENTRY, S[RG_A], 1));
	ringgen_raw(&g, 1, tat_ev_make(TAT_EV_EXIT, S[RG_A], 2));
	expect_output(&g, TREAD_TIME_REL,
		"# TIMESTAMP      DURATION     TID     FUNCTION\n"
		"                             [  5678] | /* lost 2 events */\n"
		"   0.000000000      0.500 us [  1234] | leaf();\n"
		"# lost 2 events (before the first timestamp: 2)\n");
	ringgen_free(&g);
}

Test(time, option_parsing)
{
	char err[256];
	struct tread_options o;
	char *ok[] = { "tread", "-p", "1", "--time", "abs", NULL };
	char *tod[] = { "tread", "-i", "x", "--time=tod", NULL };
	char *bad[] = { "tread", "-p", "1", "--time", "utc", NULL };
	char *rep[] = { "tread", "-p", "1", "--report", "--time", "rel", NULL };
	char *none[] = { "tread", "-p", "1", "--time", "none", NULL };

	cr_assert_eq(tread_parse_args(5, ok, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.time, TREAD_TIME_ABS);
	cr_assert_eq(tread_parse_args(4, tod, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.time, TREAD_TIME_TOD);
	cr_assert_eq(tread_parse_args(5, none, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.time, TREAD_TIME_NONE);
	cr_assert_neq(tread_parse_args(5, bad, &o, err, sizeof(err)), 0);
	cr_assert(strstr(err, "invalid --time 'utc'"), "%s", err);
	cr_assert_neq(tread_parse_args(6, rep, &o, err, sizeof(err)), 0);
	cr_assert(strstr(err, "--report"), "%s", err);
	cr_assert_eq(tread_time_mode_parse("mono"), TREAD_TIME_MONO);
	cr_assert_eq(tread_time_mode_parse("delta"), TREAD_TIME_DELTA);
	cr_assert_eq(tread_time_mode_parse("rel"), TREAD_TIME_REL);
	cr_assert_eq(tread_time_mode_parse(""), -1);
}

/* ------------------------------------------------------------- losses */

/* Fill a 16-word discard ring (TID, TIME and 7 leaf calls), then @drops
 * more events that do not fit. */
static void fill_and_drop(struct ringgen *g, int drops)
{
	for (int i = 0; i < 7; i++) {
		cr_assert(ringgen_entry(g, 0, S[RG_LEAF], 1000 * i));
		cr_assert(ringgen_exit(g, 0, S[RG_LEAF], 1000 * i + 100));
	}
	for (int i = 0; i < drops; i++)
		cr_assert_not(ringgen_entry(g, 0, S[RG_B], 9000 + i));
}

#define LEAF7 \
	"     0.100 us [  1234] | leaf();\n" \
	"     0.100 us [  1234] | leaf();\n" \
	"     0.100 us [  1234] | leaf();\n" \
	"     0.100 us [  1234] | leaf();\n" \
	"     0.100 us [  1234] | leaf();\n" \
	"     0.100 us [  1234] | leaf();\n" \
	"     0.100 us [  1234] | leaf();\n"

/* The writer reports drops only before its next event that fits; when
 * there is none (the ring stayed full), tread still says so, at the end. */
Test(losses, drops_not_yet_reported_by_the_writer)
{
	struct ringgen_config cfg = { .ring_shift = 4 };
	struct ringgen g;

	setup(&g, &cfg);
	fill_and_drop(&g, 5);
	cr_assert_eq(ringgen_ctl(&g, 0)->dropped, 5);
	expect_output(&g, TREAD_TIME_NONE,
		"# DURATION     TID     FUNCTION\n"
		LEAF7
		"              [  1234] | /* lost 5 events */\n"
		"# lost 5 events (ring full: 5)\n"
		"# writer counters since attach: 5 events dropped (ring full)\n");
	ringgen_free(&g);
}

/* tread -f: some drops reported by a LOST record it read, the rest (after
 * the last event) at the end; total = the writer's counter. */
Test(losses, follow_reports_every_drop_once)
{
	struct ringgen_config cfg = { .ring_shift = 4 };
	struct ringgen g;
	struct printer p;
	char *got;

	setup(&g, &cfg);
	fill_and_drop(&g, 2);
	printer_open(&p, &g, 0, TREAD_TIME_NONE);
	printer_round(&p, false, false);
	printer_round(&p, false, false);
	cr_assert_eq(tread_trace_consume(p.trace), 0);
	cr_assert_eq(ringgen_ctl(&g, 0)->tail, 16);
	cr_assert(ringgen_entry(&g, 0, S[RG_C], 10000));	/* LOST 2, c */
	cr_assert(ringgen_exit(&g, 0, S[RG_C], 12000));
	for (int i = 0; i < 20; i++)				/* 13 fit */
		ringgen_entry(&g, 0, S[RG_A], 13000 + i);
	cr_assert_eq(ringgen_ctl(&g, 0)->dropped, 2 + 7);
	printer_round(&p, true, false);
	got = printer_close(&p);
	cr_assert(strstr(got, LEAF7
		"              [  1234] | /* lost 2 events */\n"
		"     2.000 us [  1234] | c();\n"
		"              [  1234] | a() {\n"), "%s", got);
	cr_assert(strstr(got,
		"              [  1234] |                         a() {\n"
		"              [  1234] | /* lost 7 events */\n"
		"# lost 9 events (ring full: 9)\n"
		"# writer counters since attach: 9 events dropped (ring full)\n"), "%s", got);
	free(got);
	ringgen_free(&g);
}

/* A reader that starts after others consumed cannot see the LOST records
 * they read: it reports the drops counted since it started. */
Test(losses, late_reader_reports_drops_since_it_started)
{
	struct ringgen_config cfg = { .ring_shift = 4 };
	struct ringgen g;
	struct printer p;
	char *got;

	setup(&g, &cfg);
	fill_and_drop(&g, 3);
	ringgen_set_tail(&g, 0, 16);		/* someone read it all */
	printer_open(&p, &g, 0, TREAD_TIME_NONE);
	printer_round(&p, false, false);
	cr_assert(ringgen_entry(&g, 0, S[RG_C], 10000));	/* LOST 3, c */
	cr_assert(ringgen_exit(&g, 0, S[RG_C], 12000));
	for (int i = 0; i < 20; i++)				/* 13 fit */
		ringgen_entry(&g, 0, S[RG_A], 13000 + i);
	cr_assert_eq(ringgen_ctl(&g, 0)->dropped, 3 + 7);
	printer_round(&p, true, false);
	got = printer_close(&p);
	/* The record says 3, and 7 were dropped since the reader started,
	 * but it cannot know that the record's 3 were all from before: it
	 * says 7 - 3 at the end, a lower bound, and the writer's counter
	 * tells the whole story. */
	cr_assert(strstr(got,
		"              [  1234] | /* lost 3 events */\n"
		"     2.000 us [  1234] | c();\n"), "%s", got);
	cr_assert(strstr(got,
		"              [  1234] | /* lost 4 events */\n"
		"# lost 7 events (ring full: 7)\n"
		"# writer counters since attach: 10 events dropped (ring full)\n"), "%s", got);
	free(got);
	ringgen_free(&g);
}

/*
 * The writer's LOST count can go below zero: a signal handler that runs
 * while the interrupted code is writing a LOST record writes the same
 * count first, so the count is reported twice and the writer's pending
 * count ends up negative; its next LOST record carries that negative
 * number in 56 bits.  tread takes it back: a correction line where it
 * learns it, and totals that match the writer's drop counter.
 */
Test(losses, writer_reporting_a_loss_twice_is_corrected)
{
	struct ringgen g;

	setup(&g, NULL);
	ringgen_entry(&g, 0, S[RG_A], 1000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_LOST, 3));	/* the handler's */
	ringgen_entry(&g, 0, S[RG_LEAF], 2000);
	ringgen_exit(&g, 0, S[RG_LEAF], 2100);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_LOST, 3));	/* the same again */
	ringgen_exit(&g, 0, S[RG_A], 3000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_LOST, (1ull << 56) - 3));
	ringgen_entry(&g, 0, S[RG_B], 4000);
	ringgen_exit(&g, 0, S[RG_B], 4500);
	ringgen_ctl(&g, 0)->dropped = 3;
	expect_output(&g, TREAD_TIME_NONE,
		"# DURATION     TID     FUNCTION\n"
		"              [  1234] | a() {\n"
		"              [  1234] | /* lost 3 events */\n"
		"     0.100 us [  1234] |   leaf();\n"
		"              [  1234] | /* lost 3 events */\n"
		"     2.000 us [  1234] | } /* a */\n"
		"              [  1234] | /* 3 events reported lost above were not lost */\n"
		"     0.500 us [  1234] | b();\n"
		"# lost 3 events (ring full: 3)\n"
		"# the writer reported 3 lost events twice (counted once above)\n"
		"# writer counters since attach: 3 events dropped (ring full)\n");
	ringgen_free(&g);
}

/* A negative count that arrives before the next event only takes back
 * what is still pending: one marker with the net number. */
Test(losses, negative_count_cancels_pending_losses)
{
	struct ringgen g;

	setup(&g, NULL);
	ringgen_entry(&g, 0, S[RG_A], 1000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_LOST, 5));
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_LOST, (1ull << 56) - 2));
	ringgen_exit(&g, 0, S[RG_A], 3000);
	ringgen_ctl(&g, 0)->dropped = 3;
	expect_output(&g, TREAD_TIME_NONE,
		"# DURATION     TID     FUNCTION\n"
		"              [  1234] | a() {\n"
		"              [  1234] | /* lost 3 events */\n"
		"     2.000 us [  1234] | } /* a */\n"
		"# lost 3 events (ring full: 3)\n"
		"# writer counters since attach: 3 events dropped (ring full)\n");
	ringgen_free(&g);
}

/*
 * tread -f stops consuming before a LOST record it has not shown yet, not
 * after it: the writer puts that record where its head stopped, and the
 * event after it, with no TIME record, on the chunk boundary that follows
 * (here 1536).  A tail there would make the writer, once full again,
 * count a failed TIME record with every event it drops.
 */
Test(losses, tail_stops_at_an_unshown_lost_record)
{
	struct ringgen_config cfg = { .ring_shift = 10 };
	struct ringgen g;
	struct printer p;
	uint64_t tsc = 1000;
	char *got;

	setup(&g, &cfg);
	ringgen_set_tail(&g, 0, 511);		/* the head stops at 1535 */
	while (ringgen_exit(&g, 0, S[RG_LEAF], tsc++))	/* 1 word each */
		;
	cr_assert_eq(ringgen_ctl(&g, 0)->head, 1535);
	cr_assert_eq(ringgen_ctl(&g, 0)->dropped, 1);

	printer_open(&p, &g, 0, TREAD_TIME_NONE);
	printer_round(&p, false, false);
	cr_assert_eq(tread_trace_consume(p.trace), 0);
	printer_round(&p, false, false);	/* everything up to the head */
	cr_assert_eq(tread_trace_consume(p.trace), 0);
	cr_assert_eq(ringgen_ctl(&g, 0)->tail, 1535);

	/* what the trampoline writes then: LOST where it stopped, the event
	 * on the boundary */
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_LOST, 1));
	ringgen_raw(&g, 0, tat_ev_make(TAT_EV_ENTRY, S[RG_B], tsc++));
	ringgen_raw(&g, 0, tat_ev_make(TAT_EV_EXIT, S[RG_B], tsc++));
	printer_round(&p, false, false);	/* seen, not shown yet */
	cr_assert_eq(tread_trace_consume(p.trace), 0);
	cr_assert_eq(ringgen_ctl(&g, 0)->tail, 1535);
	printer_round(&p, true, false);
	cr_assert_eq(tread_trace_consume(p.trace), 0);
	cr_assert_eq(ringgen_ctl(&g, 0)->tail, 1538);
	got = printer_close(&p);
	cr_assert(strstr(got, "              [  1234] | } /* leaf (entry not traced) */\n"
			 "              [  1234] | /* lost 1 events */\n"
			 "     0.001 us [  1234] | b();\n"
			 "# lost 2 events (ring full: 1, before the first timestamp: 1)\n"),
		  "%s", got);
	free(got);
	ringgen_free(&g);
}
