// SPDX-License-Identifier: MIT
/*
 * The pieces behind tread's summary views and filters, on synthetic rings
 * (1 GHz TSC: one tick is one nanosecond) whose sites point into the real
 * calltree binary: durations and time points as options spell them, the
 * bpftrace histogram layout, percentiles, --min-duration with exact
 * timestamps, --stuck from events, and the readers of the frames in
 * flight and the stats-mode counters on hand-made file regions.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/cli.h"
#include "consumer/filter.h"
#include "consumer/views/graph.h"
#include "consumer/decode/inflight.h"
#include "consumer/views/report.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/input/site_names.h"
#include "consumer/decode/stats_reader.h"
#include "consumer/decode/trace.h"
#include "consumer/units.h"
#include "consumer/views/views.h"
#include "lib/graph_parse.h"
#include "lib/ringgen.h"

#define T1 1234
#define T2 5678

static uint32_t S[RG_NFUNCS];

static void setup(struct ringgen *g)
{
	struct ringgen_config cfg = { 0 };

	cr_assert_eq(ringgen_init(g, &cfg), 0);
	if (ringgen_calltree(g, 0, S))
		cr_skip_test("calltree.pg.O2 not built: run 'make targets'");
	ringgen_thread(g, 0, T1);
	ringgen_thread(g, 1, T2);
}

/* ------------------------------------------------------------- units */

Test(units, durations_need_a_unit_and_are_exact)
{
	uint64_t ns;

	cr_assert_eq(tread_parse_duration("2ms", &ns), 0);
	cr_assert_eq(ns, 2000000);
	cr_assert_eq(tread_parse_duration("1.1ms", &ns), 0);
	cr_assert_eq(ns, 1100000);
	cr_assert_eq(tread_parse_duration("250us", &ns), 0);
	cr_assert_eq(ns, 250000);
	cr_assert_eq(tread_parse_duration("1.5s", &ns), 0);
	cr_assert_eq(ns, 1500000000);
	cr_assert_eq(tread_parse_duration("7ns", &ns), 0);
	cr_assert_eq(ns, 7);
	cr_assert_eq(tread_parse_duration("0.000000001s", &ns), 0);
	cr_assert_eq(ns, 1);
	cr_assert_eq(tread_parse_duration("5", &ns), -EINVAL);
	cr_assert_eq(tread_parse_duration("5 ms", &ns), -EINVAL);
	cr_assert_eq(tread_parse_duration("ms", &ns), -EINVAL);
	cr_assert_eq(tread_parse_duration("5min", &ns), -EINVAL);
	cr_assert_eq(tread_parse_duration("-5ms", &ns), -EINVAL);
	cr_assert_eq(tread_parse_duration("99999999999999999999s", &ns), -ERANGE);
}

Test(units, time_points_as_time_prints_them)
{
	struct tread_time_point p;

	cr_assert_eq(tread_parse_time_point("1764651234.5", &p), 0);
	cr_assert(p.kind == TREAD_TIME_POINT_ABS && p.ns == 1764651234500000000ull);
	cr_assert_eq(tread_parse_time_point("12:34:56.25", &p), 0);
	cr_assert(p.kind == TREAD_TIME_POINT_TOD &&
		  p.ns == (12 * 3600 + 34 * 60 + 56) * 1000000000ull + 250000000);
	cr_assert_eq(tread_parse_time_point("+1.5", &p), 0);
	cr_assert(p.kind == TREAD_TIME_POINT_REL && p.ns == 1500000000);
	cr_assert_eq(tread_parse_time_point("25:00:00", &p), -EINVAL);
	cr_assert_eq(tread_parse_time_point("12:60:00", &p), -EINVAL);
	cr_assert_eq(tread_parse_time_point("yesterday", &p), -EINVAL);
	cr_assert_eq(tread_parse_time_point("+", &p), -EINVAL);
}

Test(units, durations_print_with_a_unit)
{
	char b[32];

	cr_assert_str_eq(tread_format_duration(812, b, sizeof(b)), "812 ns");
	cr_assert_str_eq(tread_format_duration(3250, b, sizeof(b)), "3.250 us");
	cr_assert_str_eq(tread_format_duration(2004000, b, sizeof(b)), "2.004 ms");
	cr_assert_str_eq(tread_format_duration(1500000000, b, sizeof(b)), "1.500 s");
}

/* --------------------------------------------------------- histograms */

Test(hist, bpftrace_layout)
{
	struct tread_log2_hist h = { 0 };
	char *text = NULL;
	size_t len;
	FILE *out = open_memstream(&text, &len);

	for (int i = 0; i < 12; i++)
		tread_hist_add(&h, 1500);
	for (int i = 0; i < 3; i++)
		tread_hist_add(&h, 2048);
	tread_hist_add(&h, 8191);
	cr_assert_eq(tread_hist_print(out, "ns[f]", &h), 0);
	fclose(out);
	cr_assert_str_eq(text,
		"@ns[f]:\n"
		"[1K, 2K)              12 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[2K, 4K)               3 |@@@@@@@@@@@@@                                       |\n"
		"[4K, 8K)               1 |@@@@                                                |\n"
		"\n");
	free(text);
}

Test(hist, small_values_and_suffixes)
{
	struct tread_log2_hist h = { 0 };
	char *text = NULL;
	size_t len;
	FILE *out = open_memstream(&text, &len);

	tread_hist_add(&h, 0);
	tread_hist_add(&h, 1);
	tread_hist_add(&h, 3);
	tread_hist_add(&h, 1ull << 30);
	cr_assert_eq(tread_hist_print(out, "x", &h), 0);
	fclose(out);
	cr_assert(strstr(text, "\n[0]                    1 |"), "%s", text);
	cr_assert(strstr(text, "\n[1]                    1 |"), "%s", text);
	cr_assert(strstr(text, "\n[2, 4)                 1 |"), "%s", text);
	cr_assert(strstr(text, "\n[512M, 1G)             0 |"), "%s", text);
	cr_assert(strstr(text, "\n[1G, 2G)               1 |"), "%s", text);
	free(text);
}

Test(hist, percentiles_interpolate_inside_the_bucket)
{
	struct tread_log2_hist h = { 0 };

	cr_assert_eq(tread_hist_percentile(&h, 50), 0);
	for (int i = 0; i < 10; i++)
		tread_hist_add(&h, 1500);
	cr_assert_eq(tread_hist_percentile(&h, 50), 1536);
	cr_assert_eq(tread_hist_percentile(&h, 100), 2048);
	for (int i = 0; i < 10; i++)
		tread_hist_add(&h, 5000);
	/* the upper half is in [4096, 8192) */
	cr_assert_eq(tread_hist_percentile(&h, 75), 6144);
	cr_assert(tread_hist_percentile(&h, 99) >= 4096 && tread_hist_percentile(&h, 99) < 8192);
}

/* ------------------------------------------------------------ filters */

struct pipe_out {
	struct tread_ring *ring;
	struct tread_site_names *names;
	struct tread_trace *trace;
	struct tread_filter *filter;
	FILE *out;
	char *text;
	size_t len;
};

static void pipe_open(struct pipe_out *p, struct ringgen *g, const struct tread_filter_spec *spec)
{
	char err[256] = "";

	memset(p, 0, sizeof(*p));
	cr_assert_eq(tread_ring_open_buffer(g->buf, g->size, &p->ring, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(tread_site_names_open(p->ring, 0, NULL, NULL, &p->names), 0);
	cr_assert_eq(tread_trace_open(p->ring, &p->trace), 0);
	cr_assert_eq(tread_filter_open(spec, p->trace, p->names, &p->filter), 0);
	p->out = open_memstream(&p->text, &p->len);
}

static char *pipe_close(struct pipe_out *p)
{
	fclose(p->out);
	tread_filter_close(p->filter);
	tread_trace_close(p->trace);
	tread_site_names_close(p->names);
	tread_ring_close(p->ring);
	return p->text;
}

/* The graph of @g through @spec, as a writer that has exited left it. */
static char *graph(struct ringgen *g, const struct tread_filter_spec *spec)
{
	struct tread_graph *gr;
	struct pipe_out p;

	pipe_open(&p, g, spec);
	cr_assert_eq(tread_graph_open(p.ring, p.names, p.out, 0, &gr), 0);
	tread_graph_set_filter(gr, p.filter);
	cr_assert_eq(tread_graph_header(gr), 0);
	cr_assert_eq(tread_trace_refresh(p.trace, true, true), 0);
	tread_filter_begin_round(p.filter, true);
	cr_assert_eq(tread_graph_round(gr, p.trace), 0);
	tread_graph_close(gr);
	return pipe_close(&p);
}

/*
 * T1:  work 0..3000 { a 10..2010 { b 20..50 { leaf 30..40 }
 *                                  c 60..2000 { leaf 70..71  leaf 80..81 } } }
 * T2:  b 100..1500 { leaf 200..1300 }
 */
static void two_threads(struct ringgen *g)
{
	setup(g);
	ringgen_entry(g, 0, S[RG_WORK], 0);
	ringgen_entry(g, 0, S[RG_A], 10);
	ringgen_entry(g, 0, S[RG_B], 20);
	ringgen_entry(g, 0, S[RG_LEAF], 30);
	ringgen_exit(g, 0, S[RG_LEAF], 40);
	ringgen_exit(g, 0, S[RG_B], 50);
	ringgen_entry(g, 0, S[RG_C], 60);
	ringgen_entry(g, 0, S[RG_LEAF], 70);
	ringgen_exit(g, 0, S[RG_LEAF], 71);
	ringgen_entry(g, 0, S[RG_LEAF], 80);
	ringgen_exit(g, 0, S[RG_LEAF], 81);
	ringgen_entry(g, 1, S[RG_B], 100);
	ringgen_entry(g, 1, S[RG_LEAF], 200);
	ringgen_exit(g, 1, S[RG_LEAF], 1300);
	ringgen_exit(g, 1, S[RG_B], 1500);
	ringgen_exit(g, 0, S[RG_C], 2000);
	ringgen_exit(g, 0, S[RG_A], 2010);
	ringgen_exit(g, 0, S[RG_WORK], 3000);
}

static void expect_trees(struct ringgen *g, const struct tread_filter_spec *spec,
			 const char *want1, const char *want2)
{
	char *out = graph(g, spec), *c1 = graph_canon(out, T1), *c2 = graph_canon(out, T2);

	cr_assert_str_eq(c1, want1, "%s", out);
	cr_assert_str_eq(c2, want2, "%s", out);
	free(c1);
	free(c2);
	free(out);
}

Test(filter, none_is_no_filter)
{
	struct tread_filter_spec spec = { 0 };
	struct ringgen g;

	two_threads(&g);
	cr_assert_not(tread_filter_spec_active(&spec));
	expect_trees(&g, &spec, "work(a(b(leaf) c(leaf leaf)))", "b(leaf)");
	ringgen_free(&g);
}

Test(filter, min_duration_by_exact_durations)
{
	struct tread_filter_spec spec = { .min_duration_ns = 1000 };
	struct ringgen g;

	two_threads(&g);
	/* c lasts 1940 ns, b on T1 30 ns, T2's b 1400 and its leaf 1100 */
	expect_trees(&g, &spec, "work(a(c))", "b(leaf)");
	spec.min_duration_ns = 1101;
	expect_trees(&g, &spec, "work(a(c))", "b");
	spec.min_duration_ns = 1100;	/* at least: 1100 is kept */
	expect_trees(&g, &spec, "work(a(c))", "b(leaf)");
	spec.min_duration_ns = 2991;
	expect_trees(&g, &spec, "work", "");
	ringgen_free(&g);
}

/* Holding undecided calls must not reorder the threads' lines. */
Test(filter, min_duration_keeps_time_order)
{
	struct tread_filter_spec spec = { .min_duration_ns = 1000 };
	struct ringgen g;
	char *out;

	two_threads(&g);
	out = graph(&g, &spec);
	cr_assert(strstr(out, "work() {") && strstr(out, "[  5678] | } /* b */"), "%s", out);
	cr_assert(strstr(out, "c();") < strstr(out, "[  5678] | b() {"), "%s", out);
	cr_assert(strstr(out, "[  5678] | } /* b */") < strstr(out, "} /* a */"), "%s", out);
	free(out);
	ringgen_free(&g);
}

/* A call still open when the trace ends is shown: its length is unknown. */
Test(filter, min_duration_shows_calls_open_at_the_end)
{
	struct tread_filter_spec spec = { .min_duration_ns = 100 };
	struct ringgen g;
	char *out;

	setup(&g);
	ringgen_entry(&g, 0, S[RG_WORK], 0);
	ringgen_entry(&g, 0, S[RG_LEAF], 10);
	ringgen_exit(&g, 0, S[RG_LEAF], 20);
	out = graph(&g, &spec);
	cr_assert(strstr(out, "work() {"), "%s", out);
	cr_assert_null(strstr(out, "leaf"), "%s", out);
	free(out);
	ringgen_free(&g);
}

Test(filter, filter_notrace_depth_tid)
{
	struct tread_filter_spec spec = { 0 };
	struct ringgen g;

	two_threads(&g);
	spec.filter_re[spec.nfilter++] = "c";
	expect_trees(&g, &spec, "c(leaf leaf)", "");
	spec.nfilter = 0;
	spec.notrace_re[spec.nnotrace++] = "b";
	expect_trees(&g, &spec, "work(a(c(leaf leaf)))", "");
	spec.max_depth = 2;
	expect_trees(&g, &spec, "work(a)", "");
	spec.nnotrace = 0;
	spec.tids[spec.ntids++] = T2;
	expect_trees(&g, &spec, "", "b(leaf)");
	ringgen_free(&g);
}

Test(filter, since_and_until_by_entry)
{
	struct tread_filter_spec spec = { 0 };
	struct ringgen g;

	two_threads(&g);
	/* rel: after the first event, which is work's entry at tick 0 */
	spec.since = (struct tread_time_point){ TREAD_TIME_POINT_REL, 60 };
	expect_trees(&g, &spec, "c(leaf leaf)", "b(leaf)");
	spec.until = (struct tread_time_point){ TREAD_TIME_POINT_REL, 100 };
	expect_trees(&g, &spec, "c(leaf leaf)", "b");
	ringgen_free(&g);
}

Test(filter, names_match_whole_or_before_a_clone_suffix)
{
	char err[128];

	cr_assert_eq(tread_filter_name_matches("leaf", "leaf"), 1);
	cr_assert_eq(tread_filter_name_matches("leaf", "leaf.constprop.0"), 1);
	cr_assert_eq(tread_filter_name_matches("lea", "leaf"), 0);
	cr_assert_eq(tread_filter_name_matches("a|b", "b"), 1);
	cr_assert_eq(tread_filter_name_matches("l.*", "leaf"), 1);
	cr_assert_eq(tread_filter_check_re("(", err, sizeof(err)), -EINVAL);
	cr_assert(err[0]);
}

/* ------------------------------------------------- --stuck from events */

/* tread --stuck of @g's events, its writer gone, calls at least @older_than_ns old */
static char *stuck_of(struct ringgen *g, uint64_t older_than_ns)
{
	struct tread_view_ctx v = { 0 };
	struct pipe_out p;
	char err[128] = "";

	pipe_open(&p, g, NULL);
	v = (struct tread_view_ctx){ .ring = p.ring, .names = p.names, .trace = p.trace,
				     .out = p.out, .err = err, .errlen = sizeof(err) };
	cr_assert_eq(tread_stuck_run(&v, older_than_ns, true), 0, "%s", err);
	return pipe_close(&p);
}

Test(stuck, from_events_oldest_first_with_ages)
{
	struct ringgen g;
	char *out;

	setup(&g);
	ringgen_entry(&g, 1, S[RG_C], 100000000);
	ringgen_entry(&g, 0, S[RG_WORK], 0);
	ringgen_entry(&g, 0, S[RG_A], 500000000);
	ringgen_entry(&g, 0, S[RG_B], 750000000);
	ringgen_entry(&g, 0, S[RG_LEAF], 800000000);
	ringgen_exit(&g, 0, S[RG_LEAF], 1000000000);
	out = stuck_of(&g, 0);
	cr_assert_str_eq(out,
		"# 4 calls in flight in 2 threads (from the events), ages at the last "
		"event (the process has ended)\n"
		"# thread 1234\n"
		"#          AGE  FUNCTION\n"
		"     1.000000 s  work\n"
		"     0.500000 s    a\n"
		"     0.250000 s      b\n"
		"# thread 5678\n"
		"#          AGE  FUNCTION\n"
		"     0.900000 s  c\n");
	free(out);

	out = stuck_of(&g, 600000000);
	cr_assert_str_eq(out,
		"# 2 calls in flight in 2 threads (from the events), ages at the last "
		"event (the process has ended)\n"
		"# thread 1234\n"
		"#          AGE  FUNCTION\n"
		"     1.000000 s  work\n"
		"# thread 5678\n"
		"#          AGE  FUNCTION\n"
		"     0.900000 s  c\n");
	free(out);
	ringgen_free(&g);
}

/* A thread that switched stacks (coroutines): each stack's calls are shown
 * apart, nested in themselves, oldest stack first; the stack a switch
 * left keeps its calls open. */
Test(stuck, from_events_one_stack_at_a_time)
{
	struct ringgen g;
	char *out;

	setup(&g);
	ringgen_entry(&g, 0, S[RG_WORK], 0);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_STACK, 1));
	ringgen_entry(&g, 0, S[RG_A], 100000000);
	ringgen_entry(&g, 0, S[RG_LEAF], 200000000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_STACK, 2));
	ringgen_entry(&g, 0, S[RG_A], 300000000);
	ringgen_entry(&g, 0, S[RG_B], 400000000);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_STACK, 0));
	ringgen_entry(&g, 0, S[RG_C], 500000000);
	ringgen_exit(&g, 0, S[RG_C], 1000000000);
	out = stuck_of(&g, 0);
	cr_assert_str_eq(out,
		"# 5 calls in flight in 1 thread on 3 stacks (from the events), ages at the "
		"last event (the process has ended)\n"
		"# thread 1234\n"
		"#          AGE  FUNCTION\n"
		"     1.000000 s  work\n"
		"# thread 1234, stack 1\n"
		"#          AGE  FUNCTION\n"
		"     0.900000 s  a\n"
		"     0.800000 s    leaf\n"
		"# thread 1234, stack 2\n"
		"#          AGE  FUNCTION\n"
		"     0.700000 s  a\n"
		"     0.600000 s    b\n");
	free(out);
	ringgen_free(&g);
}

/* ----------------------------------- frames in flight, stats counters */

/* A copy of @g's image with @extra bytes after it (returned, size in *n). */
static uint8_t *grow(struct ringgen *g, size_t extra, size_t *n)
{
	uint8_t *buf = calloc(1, g->size + extra);
	struct tat_ring_header *h = (struct tat_ring_header *)buf;

	cr_assert(buf);
	memcpy(buf, g->buf, g->size);
	*n = g->size + extra;
	h->file_size = *n;
	return buf;
}

static struct tat_thread_ctl *ctl(uint8_t *buf, uint32_t slot)
{
	struct tat_ring_header *h = (struct tat_ring_header *)buf;

	return (struct tat_thread_ctl *)(buf + h->thread_off) + slot;
}

Test(inflight, frames_equal_in_both_copies_below_the_depth)
{
	struct tread_inflight_frame f[4];
	struct tread_ring *ring;
	struct ringgen g;
	struct tat_ring_header *h;
	struct tat_frame *fr;
	char err[128];
	uint8_t *buf;
	size_t n;

	setup(&g);
	buf = grow(&g, 4 * 4 * sizeof(struct tat_frame), &n);
	h = (struct tat_ring_header *)buf;
	h->frames_off = g.size;
	h->frames_per_thread = 4;
	fr = (struct tat_frame *)(buf + g.size);
	fr[0] = (struct tat_frame){ .tsc = 100, .site = S[RG_WORK] };
	fr[1] = (struct tat_frame){ .tsc = 200, .site = S[RG_A] | TAT_FRAME_STATS, .stack = 3 };
	fr[2] = (struct tat_frame){ .tsc = 300, .site = S[RG_B] };
	fr[3] = (struct tat_frame){ .tsc = 400, .site = S[RG_LEAF] };	/* stale */
	ctl(buf, 0)->open_depth = 3;
	cr_assert_eq(tread_ring_open_buffer(buf, n, &ring, err, sizeof(err)), 0, "%s", err);
	cr_assert(tread_inflight_present(ring));
	cr_assert_eq(tread_inflight_read(ring, 0, f), 3);
	cr_assert(f[0].site == S[RG_WORK] && f[0].tsc == 100 && !f[0].stats_mode);
	cr_assert(f[0].stack == 0);
	cr_assert(f[1].site == S[RG_A] && f[1].stats_mode && f[1].stack == 3);
	cr_assert(f[2].site == S[RG_B] && f[2].tsc == 300);
	cr_assert_eq(tread_inflight_read(ring, 1, f), 0);
	/* a frame left by longjmp, or not a site, ends the stack */
	fr[1].site |= TAT_FRAME_ENDED;
	cr_assert_eq(tread_inflight_read(ring, 0, f), 1);
	fr[1].site = 0;
	cr_assert_eq(tread_inflight_read(ring, 0, f), 1);
	/* a depth past the array is clamped to it */
	fr[1].site = S[RG_A];
	ctl(buf, 0)->open_depth = 1000;
	cr_assert_eq(tread_inflight_read(ring, 0, f), 4);
	tread_ring_close(ring);

	/* a region that does not fit in the file is not read */
	h->frames_per_thread = 1000;
	cr_assert_eq(tread_ring_open_buffer(buf, n, &ring, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(tread_inflight_present(ring));
	cr_assert_eq(tread_inflight_read(ring, 0, f), 0);
	tread_ring_close(ring);
	free(buf);
	ringgen_free(&g);
}

/* @text without the AGE column (ages from frames are to the clock now). */
static char *without_ages(const char *text)
{
	char *out = calloc(1, strlen(text) + 1), *o = out;

	cr_assert(out);
	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		size_t skip = line[0] == '#' || end - line < 17 ? 0 : 17;	/* "%13.6f s  " */

		o += sprintf(o, "%.*s\n", (int)(end - line - skip), line + skip);
		line = *end ? end + 1 : end;
	}
	return out;
}

/* The frames in flight of a thread that switches stacks interleave: each
 * stack is shown apart, its frames in their order. */
Test(stuck, from_frames_one_stack_at_a_time)
{
	struct tread_view_ctx v = { 0 };
	struct tread_ring *ring;
	struct tread_site_names *names;
	struct ringgen g;
	struct tat_ring_header *h;
	struct tat_frame *fr;
	char err[128] = "", *text = NULL, *got;
	size_t n, len;
	uint8_t *buf;

	setup(&g);
	buf = grow(&g, 4 * 8 * sizeof(struct tat_frame), &n);
	h = (struct tat_ring_header *)buf;
	h->frames_off = g.size;
	h->frames_per_thread = 8;
	fr = (struct tat_frame *)(buf + g.size);
	fr[0] = (struct tat_frame){ .tsc = 100, .site = S[RG_WORK] };
	fr[1] = (struct tat_frame){ .tsc = 200, .site = S[RG_A], .stack = 1 };
	fr[2] = (struct tat_frame){ .tsc = 300, .site = S[RG_LEAF], .stack = 1 };
	fr[3] = (struct tat_frame){ .tsc = 400, .site = S[RG_A], .stack = 2 };
	fr[4] = (struct tat_frame){ .tsc = 500, .site = S[RG_C] };
	ctl(buf, 0)->open_depth = 5;
	cr_assert_eq(tread_ring_open_buffer(buf, n, &ring, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tread_site_names_open(ring, 0, NULL, NULL, &names), 0);
	v = (struct tread_view_ctx){ .ring = ring, .names = names,
				     .out = open_memstream(&text, &len), .err = err,
				     .errlen = sizeof(err) };
	cr_assert_eq(tread_stuck_run(&v, 0, true), 0, "%s", err);
	fclose(v.out);
	got = without_ages(text);
	cr_assert_str_eq(got,
		"# 5 calls in flight in 1 thread on 3 stacks (from the frames in flight), ages "
		"now (the process has ended)\n"
		"# thread 1234\n"
		"#          AGE  FUNCTION\n"
		"work\n"
		"  c\n"
		"# thread 1234, stack 1\n"
		"#          AGE  FUNCTION\n"
		"a\n"
		"  leaf\n"
		"# thread 1234, stack 2\n"
		"#          AGE  FUNCTION\n"
		"a\n", "%s", text);
	free(got);
	free(text);
	tread_site_names_close(names);
	tread_ring_close(ring);
	free(buf);
	ringgen_free(&g);
}

Test(stats_reader, sums_pool_and_shared_records)
{
	struct tread_site_stats *st;
	struct tread_ring *ring;
	struct tat_ring_header *h;
	struct tat_stat *pool, *shared;
	struct ringgen g;
	char err[128];
	uint8_t *buf;
	size_t n, site_cap;

	setup(&g);
	site_cap = ((struct tat_ring_header *)g.buf)->site_cap;
	buf = grow(&g, (3 + site_cap) * sizeof(struct tat_stat), &n);
	h = (struct tat_ring_header *)buf;
	h->stats_off = g.size;
	h->stats_cap = 3;
	h->stats_used = 7;	/* more than the pool: read 3 */
	h->stats_shared_off = g.size + 3 * sizeof(struct tat_stat);
	pool = (struct tat_stat *)(buf + h->stats_off);
	shared = (struct tat_stat *)(buf + h->stats_shared_off);
	pool[0] = (struct tat_stat){ .site = S[RG_A], .slot = 0, .calls = 3, .total = 300,
				     .self = 30, .max = 120 };
	pool[0].hist[6] = 3;
	pool[1] = (struct tat_stat){ .site = S[RG_A], .slot = 1, .calls = 2, .total = 200,
				     .self = 20, .max = 150 };
	pool[1].hist[7] = 2;
	pool[2] = (struct tat_stat){ .site = S[RG_B], .slot = 99, .calls = 9 }; /* bad slot */
	shared[S[RG_B]] = (struct tat_stat){ .slot = TAT_STAT_SHARED, .calls = 1, .total = 5 };
	cr_assert_eq(tread_ring_open_buffer(buf, n, &ring, err, sizeof(err)), 0, "%s", err);
	cr_assert(tread_stats_present(ring));
	st = calloc(ring->site_cap, sizeof(*st));
	tread_stats_sum(ring, st);
	cr_assert_eq(st[S[RG_A]].calls, 5);
	cr_assert_eq(st[S[RG_A]].total, 500);
	cr_assert_eq(st[S[RG_A]].self, 50);
	cr_assert_eq(st[S[RG_A]].max, 150);
	cr_assert(st[S[RG_A]].hist[6] == 3 && st[S[RG_A]].hist[7] == 2);
	cr_assert_eq(st[S[RG_B]].calls, 1);
	cr_assert_eq(st[S[RG_B]].total, 5);
	cr_assert_eq(tread_stats_total_calls(ring), 6);
	free(st);
	tread_ring_close(ring);
	free(buf);
	ringgen_free(&g);
}

/* ------------------------------------------------------------ options */

static void parse(struct tread_options *o, int ret, char *a1, char *a2, char *a3, char *a4)
{
	char *argv[] = { "tread", "-p", "1", a1, a2, a3, a4, NULL };
	int argc = 3;
	char err[256] = "";

	while (argv[argc])
		argc++;
	cr_assert_eq(tread_parse_args(argc, argv, o, err, sizeof(err)), ret, "%s", err);
}

Test(options, views_and_their_arguments)
{
	struct tread_options o;

	parse(&o, 0, "--stat", NULL, NULL, NULL);
	cr_assert(o.stat && o.stat_interval_ns == 1000000000);
	parse(&o, 0, "--stat", "2", NULL, NULL);
	cr_assert_eq(o.stat_interval_ns, 2000000000);
	parse(&o, 0, "--stat", "0.5", "-n", "3");
	cr_assert(o.stat_interval_ns == 500000000 && o.rows == 3);
	parse(&o, 0, "--stat", "250ms", NULL, NULL);
	cr_assert_eq(o.stat_interval_ns, 250000000);
	parse(&o, -EINVAL, "--stat", "5ms", NULL, NULL);	/* under 10 ms */
	parse(&o, 0, "--hist", "nap", "sleeper", NULL);
	cr_assert(o.hist && o.nhist_funcs == 2 && !strcmp(o.hist_funcs[1], "sleeper"));
	parse(&o, 0, "--stuck", "--older-than", "2s", NULL);
	cr_assert(o.stuck && o.older_than_ns == 2000000000);
	parse(&o, -EINVAL, "--older-than", "2s", NULL, NULL);	/* only with --stuck */
	parse(&o, -EINVAL, "--report", "--stat", NULL, NULL);
	parse(&o, -EINVAL, "-s", "calls", NULL, NULL);		/* only with --report */
	parse(&o, 0, "--report", "-s", "self,name", NULL);
	cr_assert(o.sort_keys[0] == TREAD_REPORT_KEY_SELF &&
		  o.sort_keys[1] == TREAD_REPORT_KEY_NAME && !o.sort_keys[2]);
	parse(&o, -EINVAL, "--report", "-s", "self,", NULL);
	parse(&o, -EINVAL, "--hist", "-f", NULL, NULL);
	parse(&o, -EINVAL, "--stuck", "--srcline", NULL, NULL);
}

Test(options, filters)
{
	struct tread_options o;

	parse(&o, 0, "--tid", "5", NULL, NULL);
	cr_assert(o.tid == 5 && o.filter.ntids == 1);
	parse(&o, 0, "--tid", "5,6,7", NULL, NULL);
	cr_assert(o.tid == 0 && o.filter.ntids == 3 && o.filter.tids[2] == 7);
	parse(&o, 0, "-F", "a", "-F", "b|c");
	cr_assert(o.filter.nfilter == 2);
	parse(&o, 0, "-N", "x", "-D", "3");
	cr_assert(o.filter.nnotrace == 1 && o.filter.max_depth == 3);
	parse(&o, 0, "--min-duration", "1.5ms", NULL, NULL);
	cr_assert_eq(o.filter.min_duration_ns, 1500000);
	parse(&o, 0, "--since", "+2", "--until", "12:00:00");
	cr_assert(o.filter.since.kind == TREAD_TIME_POINT_REL &&
		  o.filter.until.kind == TREAD_TIME_POINT_TOD);
	parse(&o, -EINVAL, "-F", "(", NULL, NULL);
	parse(&o, -EINVAL, "--min-duration", "3", NULL, NULL);
	parse(&o, -EINVAL, "--tid", ",", NULL, NULL);
	parse(&o, -EINVAL, "-D", "-1", NULL, NULL);
}

/* ------------------------------------------------- --stat post mortem */

/*
 * Over [0, 1 s]:  T1  a 0..500 ms, a 600..700 ms;  T2  a 100..300 ms,
 * and b 0..1000 ms.  a: 3 calls, busy (at least one in flight) 0..500 and
 * 600..700 = 60%; b: 1 call, 100%.  Exact figures.
 */
Test(stat, post_mortem_table_of_exact_timestamps)
{
	struct tread_view_ctx v;
	struct pipe_out p;
	struct ringgen g;
	char err[128] = "";
	char *out;

	setup(&g);
	ringgen_entry(&g, 1, S[RG_B], 0);
	ringgen_entry(&g, 0, S[RG_A], 0);
	ringgen_entry(&g, 1, S[RG_A], 100000000);
	ringgen_exit(&g, 1, S[RG_A], 300000000);
	ringgen_exit(&g, 0, S[RG_A], 500000000);
	ringgen_entry(&g, 0, S[RG_A], 600000000);
	ringgen_exit(&g, 0, S[RG_A], 700000000);
	ringgen_exit(&g, 1, S[RG_B], 1000000000);
	pipe_open(&p, &g, NULL);
	v = (struct tread_view_ctx){ .ring = p.ring, .names = p.names, .trace = p.trace,
				     .out = p.out, .err = err, .errlen = sizeof(err) };
	cr_assert_eq(tread_stat_run(&v, 1000000000, 0), 0, "%s", err);
	out = pipe_close(&p);
	cr_assert_str_eq(out,
		"# pid 2147483632, 1.000 s interval\n"
		"#    CALLS/s  INFLIGHT         AVG         P50         P99   %UTIL  FUNCTION\n"
		/* p50, p99: inside the log2 buckets [512M, 1G) ns and so on */
		"        1.00         0     1.000 s  805.306 ms     1.068 s  100.00  b\n"
		"        3.00         0  266.667 ms  201.327 ms  528.818 ms   60.00  a\n"
		"        4.00         0  450.000 ms  268.435 ms     1.052 s  100.00  TOTAL\n"
		"\n");
	free(out);
	ringgen_free(&g);
}

/*
 * tread -f with --min-duration: a call undecided at the end of a round is
 * held, with everything after it, until a later round decides it.  The
 * output is the same as reading everything at once.
 */
Test(filter, min_duration_across_follow_rounds)
{
	struct tread_filter_spec spec = { .min_duration_ns = 1000 };
	struct tread_graph *gr;
	struct pipe_out p;
	struct ringgen g;
	char *once, *followed, *c;

	setup(&g);
	ringgen_entry(&g, 0, S[RG_WORK], 0);
	ringgen_entry(&g, 0, S[RG_A], 10);
	ringgen_entry(&g, 0, S[RG_LEAF], 20);
	ringgen_exit(&g, 0, S[RG_LEAF], 30);
	ringgen_entry(&g, 1, S[RG_B], 40);

	pipe_open(&p, &g, &spec);
	cr_assert_eq(tread_graph_open(p.ring, p.names, p.out, 0, &gr), 0);
	tread_graph_set_filter(gr, p.filter);
	cr_assert_eq(tread_graph_header(gr), 0);
	for (int round = 0; round < 2; round++) {	/* the second hands out */
		cr_assert_eq(tread_trace_refresh(p.trace, false, false), 0);
		tread_filter_begin_round(p.filter, false);
		cr_assert_eq(tread_graph_round(gr, p.trace), 0);
	}
	fflush(p.out);
	/* work, a, b: nothing decided yet, nothing printed */
	cr_assert_str_eq(p.text, "# DURATION     TID     FUNCTION\n");
	ringgen_exit(&g, 1, S[RG_B], 100);		/* short: hidden */
	ringgen_exit(&g, 0, S[RG_A], 1500);		/* long: shown */
	ringgen_exit(&g, 0, S[RG_WORK], 1600);
	for (int round = 0; round < 2; round++) {
		bool final = round == 1;

		cr_assert_eq(tread_trace_refresh(p.trace, final, final), 0);
		tread_filter_begin_round(p.filter, final);
		cr_assert_eq(tread_graph_round(gr, p.trace), 0);
	}
	tread_graph_close(gr);
	followed = pipe_close(&p);
	once = graph(&g, &spec);
	cr_assert_str_eq(followed, once);
	c = graph_canon(followed, T1);
	cr_assert_str_eq(c, "work(a)", "%s", followed);
	free(c);
	c = graph_canon(followed, T2);
	cr_assert_str_eq(c, "", "%s", followed);
	free(c);
	free(once);
	free(followed);
	ringgen_free(&g);
}
