// SPDX-License-Identifier: MIT
/*
 * The reading side of the ring format: word decoding, per-thread windows
 * in both modes, commit bits, losses, and files that lie.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/decode/event_decoder.h"
#include "consumer/input/proc_alive.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/decode/trace.h"
#include "lib/ringgen.h"

#define TID 100

/* ------------------------------------------------------------- helpers */

struct collected {
	struct tread_event ev[8192];
	size_t n;
};

static struct tread_ring *open_ring(struct ringgen *g)
{
	struct tread_ring *ring;
	char err[256] = "";

	cr_assert_eq(tread_ring_open_writable_buffer(g->buf, g->size, &ring, err,
						     sizeof(err)), 0, "%s", err);
	return ring;
}

/* One round of @t into @c. */
static void drain(struct tread_trace *t, struct collected *c)
{
	struct tread_event ev;

	while (tread_trace_next(t, &ev) == 1) {
		cr_assert_lt(c->n, sizeof(c->ev) / sizeof(c->ev[0]));
		c->ev[c->n++] = ev;
	}
}

/* Read everything there is, once, like plain tread. */
static void read_all(struct ringgen *g, bool writer_gone, struct collected *c,
		     struct tread_trace_totals *tot)
{
	struct tread_ring *ring = open_ring(g);
	struct tread_trace *t;

	c->n = 0;
	cr_assert_eq(tread_trace_open(ring, &t), 0);
	cr_assert_eq(tread_trace_refresh(t, true, writer_gone), 0);
	drain(t, c);
	if (tot)
		tread_trace_totals(t, 0, tot);
	tread_trace_close(t);
	tread_ring_close(ring);
}

static void expect_ev(const struct tread_event *ev, int kind, uint32_t site,
		      uint64_t tsc)
{
	cr_assert_eq(ev->kind, kind, "kind %d, want %d", ev->kind, kind);
	if (kind == TREAD_EV_ENTRY || kind == TREAD_EV_EXIT)
		cr_assert_eq(ev->site, site);
	cr_assert_eq(ev->tsc, tsc, "tsc %#llx, want %#llx",
		     (unsigned long long)ev->tsc, (unsigned long long)tsc);
}

static void gen(struct ringgen *g, uint32_t mode, uint32_t shift)
{
	struct ringgen_config cfg = { .mode = mode, .ring_shift = shift };

	cr_assert_eq(ringgen_init(g, &cfg), 0);
	ringgen_add_module(g, "/nonexistent/module", 0);
	for (int i = 0; i < 8; i++)
		ringgen_add_site(g, 0, 0x1000 + 0x10 * i);
	ringgen_thread(g, 0, TID);
}

/* ----------------------------------------------------- decoder alone */

Test(decoder, words_to_events)
{
	struct tread_decoder d;
	struct tread_event out[TREAD_DECODER_MAX_OUT];
	uint64_t hi = 0x123;

	tread_decoder_init(&d, 3, 77);
	/* undated: counted, not produced */
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, 1, 5), 0, out), 0);
	cr_assert_eq(d.stats.lost[TREAD_LOST_NO_TIMESTAMP], 1);

	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_TIME, hi), 1, out), 0);
	/* the pending loss comes first, stamped like the event after it */
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, 2, 10), 2, out), 2);
	cr_assert_eq(out[0].kind, TREAD_EV_LOST);
	cr_assert_eq(out[0].count, 1);
	cr_assert_eq(out[0].lost[TREAD_LOST_NO_TIMESTAMP], 1);
	cr_assert_eq(out[0].tsc, (hi << 40) | 10);
	cr_assert_eq(out[1].kind, TREAD_EV_ENTRY);
	cr_assert_eq(out[1].site, 2);
	cr_assert_eq(out[1].slot, 3);
	cr_assert_eq(out[1].tid, 77);
	cr_assert_eq(out[1].pos, 2);
	cr_assert_eq(out[1].tsc, (hi << 40) | 10);

	/* LOST special: reported before the next event */
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_LOST, 42), 3, out), 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_EXIT, 2, 20), 4, out), 2);
	cr_assert_eq(out[0].count, 42);
	cr_assert_eq(out[0].lost[TREAD_LOST_RING_FULL], 42);
	cr_assert_eq(out[1].kind, TREAD_EV_EXIT);
	cr_assert_not(out[1].unwound);

	/* UNWIND 2: the next two exits are unwound, the third is not */
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_UNWIND, 2), 5, out);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_EXIT, 1, 30 + i),
						6 + i, out), 1);
		cr_assert_eq(out[0].unwound, i < 2);
	}

	/* a new owner */
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_TID, 88), 9, out), 1);
	cr_assert_eq(out[0].kind, TREAD_EV_TID);
	cr_assert_eq(out[0].tid, 88);
	/* the same owner again is no news */
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_TID, 88), 10, out), 0);

	/* junk is counted, never produced */
	cr_assert_eq(tread_decoder_word(&d, 3ull << TAT_EV_TYPE_SHIFT, 11, out), 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(31, 0), 12, out), 0);
	cr_assert_eq(d.stats.bad_words, 2);

	/* a gap forgets the time base */
	tread_decoder_gap(&d, 5, TREAD_LOST_OVERWRITTEN);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, 1, 40), 20, out), 0);
	cr_assert_eq(tread_decoder_flush(&d, 21, out), 1);
	cr_assert_eq(out[0].count, 6);
	cr_assert_eq(out[0].lost[TREAD_LOST_OVERWRITTEN], 5);
	cr_assert_eq(out[0].lost[TREAD_LOST_NO_TIMESTAMP], 1);
	cr_assert_eq(tread_decoder_flush(&d, 21, out), 0);
}

Test(decoder, lost_counts_saturate)
{
	struct tread_decoder d;
	struct tread_event out[TREAD_DECODER_MAX_OUT];

	tread_decoder_init(&d, 0, 1);
	/* the largest count (larger ones are negative: see the next test) */
	for (int i = 0; i < 600; i++)
		tread_decoder_word(&d, tat_ev_special(TAT_SUB_LOST, TREAD_LOST_NEGATIVE - 1),
				   i, out);
	cr_assert_eq(d.stats.lost[TREAD_LOST_RING_FULL], UINT64_MAX);
	cr_assert_eq(tread_decoder_flush(&d, 0, out), 1);
	cr_assert_eq(out[0].count, UINT64_MAX);
}

/* A LOST count of 2^55 or more is the writer's pending count gone below
 * zero: it takes back what is pending, then corrects what was reported. */
Test(decoder, negative_lost_counts)
{
	struct tread_decoder d;
	struct tread_event out[TREAD_DECODER_MAX_OUT];
	const uint64_t minus = 1ull << 56;

	tread_decoder_init(&d, 0, 1);
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_TIME, 0), 0, out);
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_LOST, 10), 1, out);
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_LOST, minus - 4), 2, out);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, 1, 5), 3, out), 2);
	cr_assert_eq(out[0].kind, TREAD_EV_LOST);
	cr_assert_eq(out[0].count, 6);
	cr_assert_eq(tread_event_missing(&out[0]), 6);
	cr_assert_eq(d.stats.lost[TREAD_LOST_RING_FULL], 6);
	/* now more taken back than is pending: a correction */
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_LOST, 1), 4, out);
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_LOST, minus - 5), 5, out);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_EXIT, 1, 6), 6, out), 2);
	cr_assert_eq(tread_event_missing(&out[0]), 0);
	cr_assert_eq(out[0].lost[TREAD_LOST_OVERCOUNTED], 4);
	cr_assert_eq(out[0].count, 4);
	cr_assert_eq(d.stats.lost[TREAD_LOST_RING_FULL], 6);
	cr_assert_eq(d.stats.lost[TREAD_LOST_OVERCOUNTED], 4);
}

/* ------------------------------------------------------ whole windows */

Test(window, events_in_order_with_full_tsc)
{
	struct ringgen g;
	struct collected c;
	struct tread_trace_totals tot;

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_entry(&g, 0, 1, 1000);
	ringgen_entry(&g, 0, 2, 1100);
	ringgen_exit(&g, 0, 2, 1200);
	ringgen_exit(&g, 0, 1, 1300);
	read_all(&g, true, &c, &tot);
	cr_assert_eq(c.n, 4);
	expect_ev(&c.ev[0], TREAD_EV_ENTRY, 1, 1000);
	expect_ev(&c.ev[1], TREAD_EV_ENTRY, 2, 1100);
	expect_ev(&c.ev[2], TREAD_EV_EXIT, 2, 1200);
	expect_ev(&c.ev[3], TREAD_EV_EXIT, 1, 1300);
	for (size_t i = 0; i < c.n; i++)
		cr_assert_eq(c.ev[i].tid, TID);
	for (int r = 0; r < TREAD_LOST_REASONS; r++)
		cr_assert_eq(tot.lost[r], 0);
	cr_assert_eq(tot.unread, 0);
	ringgen_free(&g);
}

Test(window, time_wraps_40_bits)
{
	const uint64_t edge = 1ull << 40;
	struct ringgen g;
	struct collected c;

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_entry(&g, 0, 1, 7 * edge - 500);
	ringgen_entry(&g, 0, 2, 7 * edge - 10);
	ringgen_exit(&g, 0, 2, 7 * edge + 20);	/* the writer puts a TIME first */
	ringgen_exit(&g, 0, 1, 8 * edge + 5);	/* and again */
	read_all(&g, true, &c, NULL);
	cr_assert_eq(c.n, 4);
	expect_ev(&c.ev[0], TREAD_EV_ENTRY, 1, 7 * edge - 500);
	expect_ev(&c.ev[1], TREAD_EV_ENTRY, 2, 7 * edge - 10);
	expect_ev(&c.ev[2], TREAD_EV_EXIT, 2, 7 * edge + 20);
	expect_ev(&c.ev[3], TREAD_EV_EXIT, 1, 8 * edge + 5);
	ringgen_free(&g);
}

Test(window, threads_merged_by_time)
{
	struct ringgen g;
	struct collected c;

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_thread(&g, 2, 300);
	ringgen_entry(&g, 0, 1, 10);
	ringgen_entry(&g, 2, 3, 15);
	ringgen_exit(&g, 0, 1, 20);
	ringgen_exit(&g, 2, 3, 25);
	ringgen_entry(&g, 0, 1, 30);
	ringgen_exit(&g, 0, 1, 40);
	read_all(&g, true, &c, NULL);
	cr_assert_eq(c.n, 6);
	for (size_t i = 1; i < c.n; i++)
		cr_assert_leq(c.ev[i - 1].tsc, c.ev[i].tsc);
	cr_assert_eq(c.ev[1].tid, 300);
	cr_assert_eq(c.ev[1].slot, 2);
	cr_assert_eq(c.ev[3].tid, 300);
	cr_assert_eq(c.ev[4].tid, TID);
	ringgen_free(&g);
}

Test(window, uncommitted_word_stops_a_live_reader)
{
	struct ringgen g;
	struct collected c;
	struct tread_trace_totals tot;

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_entry(&g, 0, 1, 100);
	ringgen_entry(&g, 0, 2, 200);
	ringgen_reserve(&g, 0);		/* reserved, still being written */
	ringgen_exit(&g, 0, 2, 300);
	ringgen_exit(&g, 0, 1, 400);

	read_all(&g, false, &c, &tot);
	cr_assert_eq(c.n, 2);
	expect_ev(&c.ev[1], TREAD_EV_ENTRY, 2, 200);
	cr_assert_eq(tot.unread, 3);
	cr_assert_eq(tot.lost[TREAD_LOST_UNCOMMITTED], 0);

	/* once the writer is gone, the hole is skipped and counted; it might
	 * have been a TIME, so what follows up to the next TIME is undated */
	read_all(&g, true, &c, &tot);
	cr_assert_eq(c.n, 3);
	cr_assert_eq(c.ev[2].kind, TREAD_EV_LOST);
	cr_assert_eq(c.ev[2].lost[TREAD_LOST_UNCOMMITTED], 1);
	cr_assert_eq(c.ev[2].lost[TREAD_LOST_NO_TIMESTAMP], 2);
	cr_assert_eq(c.ev[2].count, 3);
	cr_assert_eq(tot.unread, 0);

	/* with a TIME after the hole, reading resumes there */
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_TIME, 0));
	ringgen_entry(&g, 0, 3, 500);
	read_all(&g, true, &c, &tot);
	cr_assert_eq(c.n, 4);
	cr_assert_eq(c.ev[2].kind, TREAD_EV_LOST);
	expect_ev(&c.ev[3], TREAD_EV_ENTRY, 3, 500);
	ringgen_free(&g);
}

Test(window, stale_word_of_previous_lap_is_uncommitted)
{
	struct ringgen g;
	struct collected c;
	struct tread_trace_totals tot;

	/* 16-word ring in flight mode: lap 1 leaves lap-0 words behind */
	gen(&g, TAT_MODE_FLIGHT, 4);
	for (int i = 0; i < 7; i++) {
		ringgen_entry(&g, 0, 1, 100 + 10 * i);
		ringgen_exit(&g, 0, 1, 105 + 10 * i);
	}
	/* head 16; reserve 16, write 17: slot 0 still holds lap 0's TID */
	ringgen_reserve(&g, 0);
	ringgen_exit(&g, 0, 1, 999);
	read_all(&g, false, &c, &tot);
	/* window [2, 18): the reader stops at 16 */
	cr_assert_eq(tot.unread, 2);
	ringgen_free(&g);
}

Test(window, reserved_word_skipped_after_a_long_stall)
{
	struct ringgen g;
	struct tread_ring *ring;
	struct tread_trace *t;
	struct collected c = { .n = 0 };
	struct tread_trace_totals tot;

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_entry(&g, 0, 1, 100);
	ringgen_reserve(&g, 0);
	ringgen_entry(&g, 0, 2, 200);
	ring = open_ring(&g);
	cr_assert_eq(tread_trace_open(ring, &t), 0);
	for (int i = 0; i < TREAD_STREAM_STALL_ROUNDS + 3; i++) {
		cr_assert_eq(tread_trace_refresh(t, false, false), 0);
		drain(t, &c);
	}
	tread_trace_totals(t, 0, &tot);
	cr_assert_eq(tot.lost[TREAD_LOST_UNCOMMITTED], 1);
	tread_trace_close(t);
	tread_ring_close(ring);
	ringgen_free(&g);
}

/* Flight mode, read once: the window starts head - N, positions before it
 * were overwritten before anyone read them, and words before the first
 * chunk TIME in the window cannot be dated. */
Test(window, flight_window_and_undated_start)
{
	struct ringgen g;
	struct collected c;
	struct tread_trace_totals tot;
	uint64_t head, tsc = 1000, n = 1024;

	gen(&g, TAT_MODE_FLIGHT, 10);
	while (ringgen_ctl(&g, 0)->head < 2600) {
		ringgen_entry(&g, 0, 1, tsc++);
		ringgen_exit(&g, 0, 1, tsc++);
	}
	head = ringgen_ctl(&g, 0)->head;
	read_all(&g, true, &c, &tot);
	/* the window is [head - N, head); chunk TIMEs at 2048 and 2560 */
	cr_assert_eq(tot.lost[TREAD_LOST_NO_TIMESTAMP], 2048 - (head - n));
	cr_assert_eq(tot.lost[TREAD_LOST_OVERWRITTEN], head - n);
	cr_assert_eq(c.ev[0].kind, TREAD_EV_LOST);
	cr_assert_eq(c.ev[0].count, 2048);
	cr_assert_eq(c.ev[0].lost[TREAD_LOST_OVERWRITTEN], head - n);
	cr_assert_eq(c.ev[0].lost[TREAD_LOST_NO_TIMESTAMP], 2048 - (head - n));
	/* everything after 2048 but the TIME at 2560 is an event */
	cr_assert_eq(c.n, 1 + (head - 2049) - 1);
	for (size_t i = 2; i < c.n; i++)
		cr_assert_eq(c.ev[i].tsc, c.ev[i - 1].tsc + 1);
	ringgen_free(&g);
}

/* The writer laps the reader between two chunks: the lapped positions are
 * reported as overwritten, never decoded from the new lap. */
Test(window, flight_overwrite_while_reading)
{
	struct ringgen g;
	struct tread_ring *ring;
	struct tread_stream *s;
	const struct tread_event *ev;
	uint64_t tsc = 1, delivered = 0, lost = 0, n = 1024;

	gen(&g, TAT_MODE_FLIGHT, 10);
	while (ringgen_ctl(&g, 0)->head < n - 2) {
		ringgen_entry(&g, 0, 1, tsc++);
		ringgen_exit(&g, 0, 1, tsc++);
	}
	ring = open_ring(&g);
	s = tread_stream_new(ring, 0);
	cr_assert_not_null(s);
	tread_stream_refresh(s, true, false);
	/* the first chunk (256 words) is copied... */
	for (int i = 0; i < 10; i++) {
		ev = tread_stream_peek(s, 0);
		cr_assert_not_null(ev);
		tread_stream_pop(s);
		delivered++;
	}
	/* ...then the writer goes around the ring twice */
	for (int i = 0; i < (int)n; i++) {
		ringgen_entry(&g, 0, 2, 1000000 + tsc++);
		ringgen_exit(&g, 0, 2, 1000000 + tsc++);
	}
	while ((ev = tread_stream_peek(s, 0))) {
		if (ev->kind == TREAD_EV_LOST)
			lost += ev->count;
		else
			cr_assert_eq(ev->site, 1, "decoded a word of the new lap");
		tread_stream_pop(s);
	}
	cr_assert_eq(s->dec.stats.lost[TREAD_LOST_OVERWRITTEN],
		     ringgen_ctl(&g, 0)->head - n - TREAD_STREAM_CHUNK);
	cr_assert_eq(lost, s->dec.stats.lost[TREAD_LOST_OVERWRITTEN]);
	free(s);
	tread_ring_close(ring);
	ringgen_free(&g);
}

/* A reader starting after the tail, inside a chunk, dates its first events
 * from the chunk's TIME instead of losing them. */
Test(window, start_inside_a_chunk_is_dated)
{
	struct ringgen g;
	struct collected c;
	struct tread_trace_totals tot;

	gen(&g, TAT_MODE_DISCARD, 10);
	for (uint64_t i = 0; i < 300; i++) {
		ringgen_entry(&g, 0, 1, (5ull << 40) + 2 * i);
		ringgen_exit(&g, 0, 1, (5ull << 40) + 2 * i + 1);
	}
	ringgen_set_tail(&g, 0, 101);	/* a consumer took 0..100 */
	read_all(&g, true, &c, &tot);
	for (int r = 0; r < TREAD_LOST_REASONS; r++)
		cr_assert_eq(tot.lost[r], 0, "reason %d", r);
	cr_assert_eq(c.n, 602 - 101);
	/* position 101 is word 99 after TID, TIME: an exit */
	expect_ev(&c.ev[0], TREAD_EV_EXIT, 1, (5ull << 40) + 99);
	ringgen_free(&g);
}

Test(window, reading_does_not_consume_but_consume_does)
{
	struct ringgen g;
	struct collected c1, c2;
	struct tread_ring *ring;
	struct tread_trace *t;

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_entry(&g, 0, 1, 10);
	ringgen_exit(&g, 0, 1, 20);
	read_all(&g, true, &c1, NULL);
	read_all(&g, true, &c2, NULL);
	cr_assert_eq(c1.n, 2);
	cr_assert_eq(c2.n, 2);
	cr_assert_eq(ringgen_ctl(&g, 0)->tail, 0);

	ring = open_ring(&g);
	cr_assert_eq(tread_trace_open(ring, &t), 0);
	cr_assert_eq(tread_trace_refresh(t, true, false), 0);
	c1.n = 0;
	drain(t, &c1);
	cr_assert_eq(tread_trace_consume(t), 0);
	cr_assert_eq(ringgen_ctl(&g, 0)->tail, 4);	/* TID TIME E X */
	tread_trace_close(t);
	tread_ring_close(ring);
	read_all(&g, true, &c2, NULL);
	cr_assert_eq(c2.n, 0);
	ringgen_free(&g);
}

Test(window, read_only_ring_cannot_consume)
{
	struct ringgen g;
	struct tread_ring *ring;
	struct tread_trace *t;

	gen(&g, TAT_MODE_DISCARD, 8);
	cr_assert_eq(tread_ring_open_buffer(g.buf, g.size, &ring, NULL, 0), 0);
	cr_assert_eq(tread_trace_open(ring, &t), 0);
	cr_assert_eq(tread_trace_refresh(t, true, false), 0);
	cr_assert_eq(tread_trace_consume(t), -EROFS);
	tread_trace_close(t);
	tread_ring_close(ring);
	ringgen_free(&g);
}

Test(window, live_rounds_hold_back_fresh_events)
{
	struct ringgen g;
	struct tread_ring *ring;
	struct tread_trace *t;
	struct collected c = { .n = 0 };

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_entry(&g, 0, 1, 10);
	ring = open_ring(&g);
	cr_assert_eq(tread_trace_open(ring, &t), 0);
	cr_assert_eq(tread_trace_refresh(t, false, false), 0);
	drain(t, &c);
	cr_assert_eq(c.n, 0, "an event visible for less than a round was handed out");
	cr_assert_eq(tread_trace_refresh(t, false, false), 0);
	drain(t, &c);
	cr_assert_eq(c.n, 1);
	ringgen_exit(&g, 0, 1, 20);
	cr_assert_eq(tread_trace_refresh(t, true, false), 0);
	drain(t, &c);
	cr_assert_eq(c.n, 2);
	tread_trace_close(t);
	tread_ring_close(ring);
	ringgen_free(&g);
}

Test(window, slot_reused_by_another_thread)
{
	struct ringgen g;
	struct collected c;

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_entry(&g, 0, 1, 10);
	ringgen_retid(&g, 0, 555);
	ringgen_entry(&g, 0, 2, 20);
	read_all(&g, true, &c, NULL);
	/* ctl.tid names the current owner; the ring's first TID the first */
	cr_assert_eq(c.n, 4);
	cr_assert_eq(c.ev[0].kind, TREAD_EV_TID);
	cr_assert_eq(c.ev[0].tid, TID);
	cr_assert_eq(c.ev[1].tid, TID);
	cr_assert_eq(c.ev[2].kind, TREAD_EV_TID);
	cr_assert_eq(c.ev[2].tid, 555);
	cr_assert_eq(c.ev[3].tid, 555);
	ringgen_free(&g);
}

/* ---------------------------------------------------- hostile headers */

struct mutation {
	const char *name;
	void (*apply)(struct tat_ring_header *h);
};

#define MUT(n, body) \
	static void mut_##n(struct tat_ring_header *h) { body; }
MUT(magic, h->magic ^= 1)
MUT(version, h->version = 99)
MUT(header_small, h->header_size = 8)
MUT(header_huge, h->header_size = 0xffffffffu)
MUT(file_size_big, h->file_size += 4096)
MUT(file_size_small, h->file_size = 16)
MUT(shift_zero, h->ring_shift = 0)
MUT(shift_huge, h->ring_shift = 63)
MUT(shift_big, h->ring_shift = 30)
MUT(threads_zero, h->max_threads = 0)
MUT(threads_huge, h->max_threads = 0xffffffffu)
MUT(module_off_out, h->module_off = 1ull << 62)
MUT(module_cap_huge, h->module_cap = 0xffffffffu)
MUT(module_count, h->module_count = h->module_cap + 1)
MUT(site_off_unaligned, h->site_off += 4)
MUT(site_cap_huge, h->site_cap = 0xffffffffu)
MUT(site_count, h->site_count = h->site_cap + 1)
MUT(thread_off_wrap, h->thread_off = ~0ull - 63)
MUT(data_over_threads, h->data_off = h->thread_off)
MUT(tables_overlap, h->site_off = h->module_off)
MUT(data_in_header, h->data_off = 0)
MUT(tsc_zero, h->tsc_hz = 0)
MUT(tsc_absurd, h->tsc_hz = ~0ull)
MUT(clock, h->clock = 7)
/* an empty table between two that overlap must not hide the overlap */
MUT(overlap_past_empty, h->thread_off = 0; h->module_cap = 0; h->module_off = 0)
/* nor may a table that spans two others */
MUT(table_spans_two, h->site_off = h->module_off;
    h->site_cap = (h->data_off + 4096 - h->module_off) / sizeof(struct tat_site))

static const struct mutation mutations[] = {
#define M(n) { #n, mut_##n }
	M(magic), M(version), M(header_small), M(header_huge), M(file_size_big),
	M(file_size_small), M(shift_zero), M(shift_huge), M(shift_big),
	M(threads_zero), M(threads_huge), M(module_off_out), M(module_cap_huge),
	M(module_count), M(site_off_unaligned), M(site_cap_huge), M(site_count),
	M(thread_off_wrap), M(data_over_threads), M(tables_overlap),
	M(data_in_header), M(tsc_zero), M(tsc_absurd), M(clock),
	M(overlap_past_empty), M(table_spans_two),
#undef M
};

Test(corrupt, headers_are_rejected_with_a_reason)
{
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		struct ringgen g;
		struct tread_ring *ring = (void *)1;
		char err[256] = "";

		gen(&g, TAT_MODE_DISCARD, 8);
		mutations[i].apply(g.hdr);
		cr_assert_eq(tread_ring_open_buffer(g.buf, g.size, &ring, err, sizeof(err)),
			     -EBADMSG, "%s accepted", mutations[i].name);
		cr_assert_null(ring);
		cr_assert_neq(err[0], 0, "%s: no reason", mutations[i].name);
		cr_assert_null(strchr(err, '\n'), "%s: not one line", mutations[i].name);
		ringgen_free(&g);
	}
}

Test(corrupt, short_buffers)
{
	struct ringgen g;
	struct tread_ring *ring;
	char err[256];

	gen(&g, TAT_MODE_DISCARD, 8);
	cr_assert_eq(tread_ring_open_buffer(g.buf, 0, &ring, err, sizeof(err)), -EBADMSG);
	cr_assert_eq(tread_ring_open_buffer(g.buf, 100, &ring, err, sizeof(err)), -EBADMSG);
	cr_assert_eq(tread_ring_open_buffer(g.buf, g.size - 1, &ring, err, sizeof(err)),
		     -EBADMSG);
	cr_assert(strstr(err, "truncated"), "%s", err);
	cr_assert_eq(tread_ring_open_buffer(NULL, 0, &ring, err, sizeof(err)), -EINVAL);
	ringgen_free(&g);
}

Test(corrupt, files_that_are_not_rings)
{
	struct tread_ring *ring;
	char err[256], path[] = "/tmp/tread-notring-XXXXXX";
	int fd;

	cr_assert_eq(tread_ring_open_file("/nonexistent/x.ring", false, &ring, err,
					  sizeof(err)), -ENOENT);
	cr_assert_eq(tread_ring_open_file("/tmp", false, &ring, err, sizeof(err)),
		     -EBADMSG);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "hello world", 11), 11);
	close(fd);
	cr_assert_eq(tread_ring_open_file(path, false, &ring, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "not a ring file"), "%s", err);
	unlink(path);
}

Test(corrupt, ring_file_round_trip)
{
	struct ringgen g;
	struct tread_ring *ring;
	char err[256], path[] = "/tmp/tread-ring-XXXXXX";
	int fd;

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_entry(&g, 0, 1, 10);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(ringgen_write_file(&g, path), 0);
	cr_assert_eq(tread_ring_open_file(path, true, &ring, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tread_ring_head(ring, 0), 3);
	cr_assert_eq(tread_ring_set_tail(ring, 0, 3), 0);
	tread_ring_close(ring);
	cr_assert_eq(tread_ring_open_file(path, false, &ring, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tread_ring_tail(ring, 0), 3);
	cr_assert_eq(tread_ring_set_tail(ring, 0, 0), -EROFS);
	tread_ring_close(ring);
	unlink(path);
	ringgen_free(&g);
}

/* Live fields may be anything: heads far away, tails past heads. */
Test(corrupt, hostile_thread_fields)
{
	struct ringgen g;
	struct collected c;
	struct tread_trace_totals tot;

	gen(&g, TAT_MODE_DISCARD, 8);
	ringgen_thread(&g, 1, 200);
	ringgen_thread(&g, 2, 300);
	ringgen_entry(&g, 0, 1, 10);
	ringgen_entry(&g, 1, 1, 10);
	ringgen_entry(&g, 2, 1, 10);
	ringgen_ctl(&g, 0)->head = ~0ull;
	ringgen_ctl(&g, 1)->tail = 1ull << 50;
	ringgen_ctl(&g, 2)->head = 1ull << 63;
	ringgen_ctl(&g, 2)->tail = 5;
	g.hdr->site_count = 2;		/* site 1 only; events use more */
	read_all(&g, true, &c, &tot);
	cr_assert_leq(c.n, 3);
	ringgen_free(&g);
}

Test(corrupt, table_accessors_bound_indexes)
{
	struct ringgen g;
	struct tread_ring *ring;
	struct tread_module m;
	struct tat_site s;
	struct tat_module *raw;

	gen(&g, TAT_MODE_DISCARD, 8);
	raw = (struct tat_module *)(g.buf + g.hdr->module_off);
	memset(raw->path, 'x', sizeof(raw->path));	/* no terminator */
	raw->build_id_len = 1000;
	ring = open_ring(&g);
	cr_assert_eq(tread_ring_module(ring, 0, &m), 0);
	cr_assert_eq(strlen(m.path), TAT_PATH_MAX - 1);
	cr_assert_eq(m.build_id_len, 0);
	cr_assert_eq(tread_ring_module(ring, 1, &m), -ERANGE);
	cr_assert_eq(tread_ring_module(ring, ~0u, &m), -ERANGE);
	cr_assert_eq(tread_ring_site(ring, 0, &s), -ERANGE);
	cr_assert_eq(tread_ring_site(ring, 1, &s), 0);
	cr_assert_eq(s.addr, 0x1000);
	cr_assert_eq(tread_ring_site(ring, 9, &s), -ERANGE);
	/* a live count beyond capacity is clamped */
	g.hdr->site_count = 0xffffffffu;
	g.hdr->module_count = 0xffffffffu;
	cr_assert_eq(tread_ring_site_count(ring), g.hdr->site_cap);
	cr_assert_eq(tread_ring_module_count(ring), g.hdr->module_cap);
	cr_assert_eq(tread_ring_site(ring, g.hdr->site_cap, &s), -ERANGE);
	tread_ring_close(ring);
	ringgen_free(&g);
}

/* Both event clocks are accepted: the mono one is CLOCK_MONOTONIC ns. */
Test(clock, mono_clock_accepted)
{
	struct ringgen g;
	struct tread_ring *ring;

	cr_assert_eq(ringgen_init(&g, NULL), 0);
	g.hdr->clock = TAT_CLOCK_MONO;
	g.hdr->tsc_hz = 1000000000ull;
	g.hdr->calib_tsc = g.hdr->calib_mono_ns = 7000000000ull;
	g.hdr->calib_real_ns = 1700000000000000000ull;
	ring = open_ring(&g);
	cr_assert_eq(tread_ring_clock_ns(ring, 7000000123ull, TREAD_CLOCK_MONOTONIC),
		     7000000123ll);
	cr_assert_eq(tread_ring_clock_ns(ring, 7000000123ull, TREAD_CLOCK_REALTIME),
		     1700000000000000123ll);
	cr_assert_eq(tread_ring_clock_ns(ring, 6999999999ull, TREAD_CLOCK_REALTIME),
		     1699999999999999999ll);
	tread_ring_close(ring);
	ringgen_free(&g);
}

Test(clock, conversions)
{
	struct ringgen g;
	struct ringgen_config cfg = { .tsc_hz = 2000000000ull };
	struct tread_ring *ring;

	cr_assert_eq(ringgen_init(&g, &cfg), 0);
	g.hdr->calib_tsc = 1000000;
	g.hdr->calib_real_ns = 5000000000ull;
	ring = open_ring(&g);
	cr_assert_float_eq(tread_ring_ticks_to_us(ring, 3000), 1.5, 1e-9);
	cr_assert_eq(tread_ring_ticks_to_ns(ring, 3000), 1500);
	cr_assert_eq(tread_ring_ticks_to_ns(ring, ~0ull), 9223372036854775807ull);
	cr_assert_eq(tread_ring_tsc_to_real_ns(ring, 1000000 + 2000), 5000001000ull);
	cr_assert_eq(tread_ring_tsc_to_real_ns(ring, 1000000 - 2000), 4999999000ull);
	/* rounded down, before and after the calibration point */
	cr_assert_eq(tread_ring_clock_ns(ring, 1000000 + 3, TREAD_CLOCK_REALTIME),
		     5000000001ll);
	cr_assert_eq(tread_ring_clock_ns(ring, 1000000 - 3, TREAD_CLOCK_REALTIME),
		     4999999998ll);
	/* saturated, never wrapped */
	cr_assert_eq(tread_ring_clock_ns(ring, ~0ull, TREAD_CLOCK_REALTIME), INT64_MAX);
	g.hdr->calib_tsc = ~0ull;
	g.hdr->tsc_hz = 1000000;
	tread_ring_close(ring);
	ring = open_ring(&g);
	cr_assert_eq(tread_ring_clock_ns(ring, 0, TREAD_CLOCK_MONOTONIC), INT64_MIN);
	cr_assert_eq(tread_ring_tsc_to_real_ns(ring, 0), 0);
	tread_ring_close(ring);
	ringgen_free(&g);
}

/* ---------------------------------------------------------- liveness */

Test(proc, parse_stat_line)
{
	char state;
	uint64_t start;

	cr_assert_eq(tread_parse_proc_stat("123 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 "
					   "13 14 15 16 17 18 424242 19 20", &state,
					   &start), 0);
	cr_assert_eq(state, 'S');
	cr_assert_eq(start, 424242);
	cr_assert_eq(tread_parse_proc_stat("123 (x) R 1 2", &state, &start), -EINVAL);
	cr_assert_eq(tread_parse_proc_stat("garbage", &state, &start), -EINVAL);
	cr_assert_eq(tread_parse_proc_stat("", &state, &start), -EINVAL);
}

Test(proc, alive_means_same_pid_and_start)
{
	char buf[1024], state;
	uint64_t start;
	FILE *f = fopen("/proc/self/stat", "r");

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_eq(tread_parse_proc_stat(buf, &state, &start), 0);
	cr_assert(tread_process_alive(getpid(), start));
	cr_assert(tread_process_alive(getpid(), 0));
	cr_assert_not(tread_process_alive(getpid(), start + 1));
	cr_assert_not(tread_process_alive(0x7ffffff0, 0));
	cr_assert_not(tread_process_alive(0, 0));
	cr_assert_not(tread_process_alive(-1, 0));
}

/* STACK records tag the events that follow with their sub-stack, until a
 * TID or a gap puts the reader back on 0. */
Test(decoder, stack_records_tag_events)
{
	struct tread_decoder d;
	struct tread_event out[TREAD_DECODER_MAX_OUT];
	uint64_t pos = 0;

	tread_decoder_init(&d, 0, 1);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_TIME, 0), pos++, out), 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, 1, 10), pos++, out), 1);
	cr_assert_eq(out[0].stack, 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_STACK, 7), pos++, out), 0);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, 2, 11), pos++, out), 1);
	cr_assert_eq(out[0].stack, 7);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_EXIT, 2, 12), pos++, out), 1);
	cr_assert_eq(out[0].stack, 7);
	cr_assert_eq(d.stats.bad_words, 0);
	/* a new thread in the slot starts on its stack 0 */
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_TID, 2), pos++, out);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, 3, 13), pos++, out), 1);
	cr_assert_eq(out[0].stack, 0);
	/* after a gap the STACK record may have been lost: 0 until the next */
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_STACK, 9), pos++, out);
	tread_decoder_gap(&d, 3, TREAD_LOST_OVERWRITTEN);
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_TIME, 0), pos++, out);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_EXIT, 3, 14), pos++, out), 2);
	cr_assert_eq(out[1].stack, 0);
}

/* EARLY n marks the next n ENTRYs as calls running when tracing began. */
Test(decoder, early_records_mark_entries)
{
	struct tread_decoder d;
	struct tread_event out[TREAD_DECODER_MAX_OUT];
	uint64_t pos = 0;

	tread_decoder_init(&d, 0, 1);
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_TIME, 0), pos++, out);
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_EARLY, 2), pos++, out);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, 1 + i, 10), pos++,
						out), 1);
		cr_assert_eq(out[0].early, i < 2, "entry %d", i);
	}
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_EXIT, 3, 11), pos++, out), 1);
	cr_assert_eq(out[0].early, 0);
	cr_assert_eq(d.stats.bad_words, 0);
}

/* CUT n marks the next n EXITs as calls --disable cut loose; a TID
 * (another thread) takes back what is left of it. */
Test(decoder, cut_records_mark_exits)
{
	struct tread_decoder d;
	struct tread_event out[TREAD_DECODER_MAX_OUT];
	uint64_t pos = 0;

	tread_decoder_init(&d, 0, 1);
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_TIME, 0), pos++, out);
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_CUT, 2), pos++, out);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_ENTRY, 4, 9), pos++, out), 1);
	cr_assert_eq(out[0].cut, 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_EXIT, 1 + i, 10), pos++,
						out), 1);
		cr_assert_eq(out[0].cut, i < 2, "exit %d", i);
		cr_assert_eq(out[0].unwound, 0);
	}
	tread_decoder_word(&d, tat_ev_special(TAT_SUB_CUT, 5), pos++, out);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_special(TAT_SUB_TID, 2), pos++, out), 1);
	cr_assert_eq(tread_decoder_word(&d, tat_ev_make(TAT_EV_EXIT, 3, 11), pos++, out), 1);
	cr_assert_eq(out[0].cut, 0);
	cr_assert_eq(d.stats.bad_words, 0);
}
