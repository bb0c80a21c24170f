// SPDX-License-Identifier: MIT
/*
 * Copying committed words out of one ring without trusting its writer.
 *
 * A chunk is copied first and checked after: once the copy is done the
 * head is read again, and any position more than a ring behind that head
 * may have been overwritten while we copied, whatever its commit bit says.
 * Only then are the words decoded.  This one rule covers flight mode, a
 * reader that fell behind, and another consumer advancing the tail.
 */
#include <stdlib.h>
#include <string.h>

#include "consumer/decode/thread_stream.h"

static uint64_t oldest_intact(const struct tread_stream *s, uint64_t head)
{
	uint64_t n = s->ring->ring_events;

	return head > n ? head - n : 0;
}

/* Learn the time base from the intact words of the chunk we start in. */
static void prime_time_base(struct tread_stream *s, uint64_t start)
{
	uint64_t chunk0 = start & ~(uint64_t)(TAT_CHUNK_EVENTS - 1);
	struct tread_decoder tmp = s->dec;

	if (chunk0 == start)
		return;
	for (uint64_t p = chunk0; p < start; p++) {
		uint64_t w = tread_ring_word(s->ring, s->slot, p);

		if (!tread_word_committed(s->ring, w, p))
			return;
		tread_decoder_prime(&tmp, w);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (chunk0 < oldest_intact(s, tread_ring_head(s->ring, s->slot)))
		return;		/* overwritten while we looked */
	s->dec.have_time = tmp.have_time;
	s->dec.time_hi = tmp.time_hi;
	s->dec.tid = tmp.tid;
}

void tread_stream_init(struct tread_stream *s, const struct tread_ring *ring,
		       uint32_t slot)
{
	uint64_t head, tail, start;
	uint32_t cap = s->chunk_cap;

	memset(s, 0, sizeof(*s));
	s->chunk_cap = cap;
	s->ring = ring;
	s->slot = slot;
	s->blocked_at = UINT64_MAX;
	s->stall_pos = UINT64_MAX;

	/* dropped before head: a drop in between is counted in neither
	 * dropped0 nor before head0, so the LOST record for it is after. */
	s->dropped0 = tread_ring_dropped(ring, slot);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = tread_ring_head(ring, slot);
	tail = tread_ring_tail(ring, slot);
	start = oldest_intact(s, head);
	if (tail > start)
		start = tail;
	if (start > head)	/* a tail past the head: nothing to read */
		start = head;
	s->pos = s->visible = s->ripe = start;
	s->chunk_pos = start;
	s->head0 = head;
	s->from_zero = start == 0;

	tread_decoder_init(&s->dec, slot, tread_ring_tid(ring, slot));
	/* Never consumed, and no longer in the ring: overwritten (flight). */
	if (start > tail)
		tread_decoder_gap(&s->dec, start - tail, TREAD_LOST_OVERWRITTEN);
	prime_time_base(s, start);
}

struct tread_stream *tread_stream_new(const struct tread_ring *ring, uint32_t slot)
{
	uint64_t cap = ring->ring_events < TREAD_STREAM_CHUNK ?
		       ring->ring_events : TREAD_STREAM_CHUNK;
	struct tread_stream *s;

	s = malloc(sizeof(*s) + cap * sizeof(s->chunk[0]));
	if (!s)
		return NULL;
	s->chunk_cap = cap;
	tread_stream_init(s, ring, slot);
	return s;
}

void tread_stream_refresh(struct tread_stream *s, bool final, bool writer_gone)
{
	uint64_t head = tread_ring_head(s->ring, s->slot);
	uint64_t prev_visible = s->visible;

	/* A head that went backwards is a confused writer: ignore it. */
	if (head > s->visible)
		s->visible = head;
	s->ripe = final ? s->visible : prev_visible;
	s->final = final;
	s->writer_gone = writer_gone;

	if (s->blocked_at != UINT64_MAX && s->blocked_at == s->stall_pos) {
		s->stall_rounds++;
	} else {
		s->stall_pos = s->blocked_at;
		s->stall_rounds = 0;
	}
}

static bool may_skip_unwritten(const struct tread_stream *s, uint64_t pos)
{
	return s->writer_gone ||
	       (pos == s->stall_pos && s->stall_rounds >= TREAD_STREAM_STALL_ROUNDS);
}

/*
 * Copy the next committed words into the chunk buffer.  Returns false when
 * nothing more can be read this round.
 */
static bool fill_chunk(struct tread_stream *s)
{
	for (;;) {
		uint64_t start = s->pos, n, oldest, len;

		if (start >= s->visible)
			return false;
		n = s->visible - start;
		if (n > s->chunk_cap)
			n = s->chunk_cap;
		for (uint64_t i = 0; i < n; i++)
			s->chunk[i] = tread_ring_word(s->ring, s->slot, start + i);
		/* Order the copy before the second look at the head. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		oldest = oldest_intact(s, tread_ring_head(s->ring, s->slot));

		if (oldest > start) {
			tread_decoder_gap(&s->dec, oldest - start,
					  TREAD_LOST_OVERWRITTEN);
			s->gapped = true;
			s->pos = oldest;
			if (oldest >= start + n)
				continue;
			memmove(s->chunk, s->chunk + (oldest - start),
				(start + n - oldest) * sizeof(s->chunk[0]));
			n -= oldest - start;
			start = oldest;
		}

		for (len = 0; len < n; len++)
			if (!tread_word_committed(s->ring, s->chunk[len], start + len))
				break;
		if (len == 0) {
			if (!may_skip_unwritten(s, start)) {
				s->blocked_at = start;
				return false;
			}
			tread_decoder_gap(&s->dec, 1, TREAD_LOST_UNCOMMITTED);
			s->gapped = true;
			s->pos = start + 1;
			continue;
		}
		s->blocked_at = UINT64_MAX;
		s->chunk_pos = start;
		s->chunk_len = len;
		s->chunk_idx = 0;
		s->pos = start + len;
		return true;
	}
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/*
 * Drops counted by the writer (ctl.dropped) that no LOST record we read
 * reported: the writer reports them only just before its next event that
 * fits, so at the end of the data they are still unsaid.
 *
 *   from position 0:  every LOST record ever written passed through us:
 *                     dropped - (sum of LOST payloads);
 *   otherwise:        the drops counted since we started, minus the LOST
 *                     records written since (a lower bound: a record may
 *                     also report drops from before we started).
 *
 * Not knowable if words were skipped (a LOST record may have been among
 * them), or if reading stopped before the head at a word still being
 * written (LOST records may follow it): then 0, and only the summary's
 * writer counters tell.
 */
static uint64_t unreported_drops(const struct tread_stream *s)
{
	uint64_t now = tread_ring_dropped(s->ring, s->slot), seen, since;

	if (s->gapped || s->pos < s->visible)
		return 0;
	if (s->from_zero) {
		seen = s->dec.stats.lost[TREAD_LOST_RING_FULL];
		seen = seen > s->dec.stats.lost[TREAD_LOST_OVERCOUNTED] ?
		       seen - s->dec.stats.lost[TREAD_LOST_OVERCOUNTED] : 0;
		return now > seen ? now - seen : 0;
	}
	since = now > s->dropped0 ? now - s->dropped0 : 0;
	return since > s->lost_after0 ? since - s->lost_after0 : 0;
}

/* A LOST record's count, negative ones included (event_decoder.h). */
static void lost_after0(struct tread_stream *s, uint64_t payload)
{
	uint64_t neg;

	if (payload < TREAD_LOST_NEGATIVE) {
		s->lost_after0 = add_sat(s->lost_after0, payload);
		return;
	}
	neg = TAT_EV_PAYLOAD_MASK - payload + 1;
	s->lost_after0 = s->lost_after0 > neg ? s->lost_after0 - neg : 0;
}

/*
 * Where the next decoded events go: the queue's free end, with room for
 * TREAD_DECODER_MAX_OUT.  The decoder writes them in place; a copy of an
 * event just written field by field stalls the CPU (its wide loads wait
 * for the narrow stores), and this runs once per event.  Decoding only
 * happens with at most one event queued (peek's idx <= 1), so moving that
 * one to the front always makes the room.
 */
static struct tread_event *queue_end(struct tread_stream *s)
{
	if (s->q_first + s->q_len + TREAD_DECODER_MAX_OUT > TREAD_STREAM_QUEUE) {
		for (unsigned i = 0; i < s->q_len; i++)
			s->queue[i] = s->queue[s->q_first + i];
		s->q_first = 0;
	}
	return &s->queue[s->q_first + s->q_len];
}

const struct tread_event *tread_stream_peek(struct tread_stream *s, unsigned idx)
{
	uint64_t w, p;
	int n;

	/* One word adds at most TREAD_DECODER_MAX_OUT events. */
	if (idx > 1)
		return NULL;
	while (s->q_len <= idx) {
		if (s->chunk_idx == s->chunk_len && !fill_chunk(s)) {
			if (!s->final)
				return NULL;
			if (!s->trailer_done) {
				uint64_t n_drops = unreported_drops(s);

				s->trailer_done = true;
				if (n_drops)
					tread_decoder_lost(&s->dec, n_drops,
							   TREAD_LOST_RING_FULL);
			}
			n = tread_decoder_flush(&s->dec, s->pos, queue_end(s));
			if (!n)
				return NULL;
			s->q_len += (unsigned)n;
			continue;
		}
		w = s->chunk[s->chunk_idx];
		p = s->chunk_pos + s->chunk_idx;
		if (tat_ev_type(w) == TAT_EV_SPECIAL && tat_ev_sub(w) == TAT_SUB_LOST &&
		    p >= s->head0)
			lost_after0(s, tat_ev_payload(w));
		n = tread_decoder_word(&s->dec, w, p, queue_end(s));
		s->chunk_idx++;
		s->q_len += (unsigned)n;
	}
	return &s->queue[s->q_first + idx];
}

void tread_stream_pop(struct tread_stream *s)
{
	if (!s->q_len)
		return;
	s->q_first++;
	if (!--s->q_len)
		s->q_first = 0;
}

uint64_t tread_stream_consumed(const struct tread_stream *s)
{
	uint64_t p;

	if (s->q_len)
		p = s->queue[s->q_first].pos;
	else if (s->chunk_idx < s->chunk_len)
		p = s->chunk_pos + s->chunk_idx;
	else
		p = s->pos;
	/* A flushed LOST event carries s->pos: never past what we read. */
	return p < s->pos ? p : s->pos;
}

uint64_t tread_stream_unread(const struct tread_stream *s)
{
	return s->visible > s->pos ? s->visible - s->pos : 0;
}
