// SPDX-License-Identifier: MIT
/*
 * Robustness: ring files with random damage must give an error or some
 * output, never a crash, a hang or a sanitizer report.  Deterministic
 * (fixed seeds), so a failure can be replayed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/decode/event_decoder.h"
#include "consumer/views/graph.h"
#include "consumer/views/report.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/input/site_names.h"
#include "consumer/decode/trace.h"
#include "lib/ringgen.h"

static FILE *sink(void)
{
	FILE *f = fopen("/dev/null", "w");

	cr_assert_not_null(f);
	return f;
}

/* A small but busy image: two threads, nesting, a wrap, losses. */
static void base_image(struct ringgen *g, uint32_t mode)
{
	struct ringgen_config cfg = { .ring_shift = 6, .mode = mode, .site_cap = 16 };
	uint64_t t = (1ull << 40) - 300;

	cr_assert_eq(ringgen_init(g, &cfg), 0);
	ringgen_add_module(g, "/nonexistent/fuzz.so", 0x1000);
	for (int i = 0; i < 6; i++)
		ringgen_add_site(g, 0, 0x2000 + 0x40 * i);
	ringgen_thread(g, 0, 11);
	ringgen_thread(g, 1, 22);
	for (int i = 0; i < 40; i++) {
		uint32_t slot = i & 1, site = 1 + i % 5;

		ringgen_entry(g, slot, site, t += 7);
		ringgen_entry(g, slot, site + 1, t += 7);
		ringgen_exit(g, slot, site + 1, t += 7);
		if (i % 9 == 0)
			ringgen_unwind(g, slot, 1, t);
		ringgen_exit(g, slot, site, t += 7);
	}
	ringgen_reserve(g, 1);
	ringgen_entry(g, 1, 2, t += 7);
}

/* Everything tread would do with the image, output thrown away. */
static void run_everything(uint8_t *buf, size_t len, bool gone)
{
	struct tread_ring *ring;
	struct tread_site_names *names;
	struct tread_trace *trace;
	struct tread_graph *graph;
	struct tread_report *report;
	FILE *out;
	char err[256];

	if (tread_ring_open_writable_buffer(buf, len, &ring, err, sizeof(err)))
		return;
	out = sink();
	cr_assert_eq(tread_site_names_open(ring, 0, NULL, NULL, &names), 0);
	cr_assert_eq(tread_trace_open(ring, &trace), 0);
	cr_assert_eq(tread_graph_open(ring, names, out, 0, &graph), 0);
	tread_graph_header(graph);
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(tread_trace_refresh(trace, round == 2, gone), 0);
		tread_graph_round(graph, trace);
		tread_trace_consume(trace);
	}
	tread_graph_summary(graph, trace);
	tread_graph_close(graph);
	tread_trace_close(trace);

	/* the report from a fresh start (tails were consumed: read anyway) */
	cr_assert_eq(tread_trace_open(ring, &trace), 0);
	cr_assert_eq(tread_report_open(ring, names, 0, &report), 0);
	cr_assert_eq(tread_trace_refresh(trace, true, gone), 0);
	tread_report_round(report, trace);
	tread_report_print(report, trace, out);
	tread_report_close(report);
	tread_trace_close(trace);

	tread_site_names_close(names);
	tread_ring_close(ring);
	fclose(out);
}

static void fuzz_bytes(uint32_t mode, unsigned seed, int iterations)
{
	struct ringgen g;
	uint8_t *copy;

	base_image(&g, mode);
	copy = malloc(g.size);
	cr_assert_not_null(copy);
	for (int i = 0; i < iterations; i++) {
		int flips = 1 + rand_r(&seed) % 12;
		size_t region = rand_r(&seed) % 4;

		memcpy(copy, g.buf, g.size);
		for (int k = 0; k < flips; k++) {
			size_t at;

			switch (region) {
			case 0:		/* header */
				at = rand_r(&seed) % sizeof(struct tat_ring_header);
				break;
			case 1:		/* tables and thread control */
				at = g.hdr->module_off + rand_r(&seed) %
				     (g.hdr->data_off - g.hdr->module_off);
				break;
			default:	/* ring words */
				at = g.hdr->data_off + rand_r(&seed) %
				     (g.size - g.hdr->data_off);
				break;
			}
			copy[at] = rand_r(&seed);
		}
		run_everything(copy, g.size, i & 1);
	}
	free(copy);
	ringgen_free(&g);
}

Test(fuzz, damaged_discard_files, .timeout = 120)
{
	fuzz_bytes(TAT_MODE_DISCARD, 1, 3000);
}

Test(fuzz, damaged_flight_files, .timeout = 120)
{
	fuzz_bytes(TAT_MODE_FLIGHT, 2, 3000);
}

/* Each header field set to values a parser typically trips over. */
Test(fuzz, header_fields_at_the_edges, .timeout = 120)
{
	static const uint64_t edges[] = {
		0, 1, 7, 8, 63, 64, 4095, 4096, 0x7fffffff, 0x80000000, 0xffffffff,
		0x100000000ull, 1ull << 62, ~0ull - 7, ~0ull,
	};
	struct ringgen g;
	uint8_t *copy;

	base_image(&g, TAT_MODE_DISCARD);
	copy = malloc(g.size);
	cr_assert_not_null(copy);
	for (size_t off = 8; off < offsetof(struct tat_ring_header, reserved); off += 4) {
		for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
			memcpy(copy, g.buf, g.size);
			memcpy(copy + off, &edges[e], 4);
			run_everything(copy, g.size, true);
			if (off % 8 == 0) {
				memcpy(copy + off, &edges[e], 8);
				run_everything(copy, g.size, false);
			}
		}
	}
	free(copy);
	ringgen_free(&g);
}

/* Any word sequence at all through the decoder. */
Test(fuzz, random_words)
{
	struct tread_decoder d;
	struct tread_event out[TREAD_DECODER_MAX_OUT];
	unsigned seed = 3;

	tread_decoder_init(&d, 0, 1);
	for (int i = 0; i < 200000; i++) {
		uint64_t w = ((uint64_t)rand_r(&seed) << 33) ^ ((uint64_t)rand_r(&seed) << 11) ^
			     rand_r(&seed);
		int n = tread_decoder_word(&d, w, i, out);

		cr_assert_leq(n, TREAD_DECODER_MAX_OUT);
		if (i % 1000 == 0)
			tread_decoder_gap(&d, rand_r(&seed), rand_r(&seed) % TREAD_LOST_REASONS);
	}
	tread_decoder_flush(&d, 0, out);
}
