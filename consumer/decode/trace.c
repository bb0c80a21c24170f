// SPDX-License-Identifier: MIT
/*
 * K-way merge of the thread streams.
 *
 * The heap holds every stream that has an event readable this round, keyed
 * by that event's timestamp.  A stream whose next event is readable but not
 * ripe stays in the heap: it is what stops the round, because another
 * thread's later events must not be printed before it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/decode/trace.h"

int tread_trace_open(const struct tread_ring *ring, struct tread_trace **out)
{
	struct tread_trace *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->ring = ring;
	t->nslots = ring->hdr.max_threads;
	t->streams = calloc(t->nslots, sizeof(*t->streams));
	t->heap = calloc(t->nslots, sizeof(*t->heap));
	if (!t->streams || !t->heap) {
		tread_trace_close(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void tread_trace_close(struct tread_trace *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; t->streams && i < t->nslots; i++)
		free(t->streams[i]);
	free(t->streams);
	free(t->heap);
	free(t);
}

/* ------------------------------------------------------------------ heap */

static bool sooner(struct tread_stream *a, struct tread_stream *b)
{
	const struct tread_event *x = tread_stream_peek(a, 0);
	const struct tread_event *y = tread_stream_peek(b, 0);

	if (x->tsc != y->tsc)
		return x->tsc < y->tsc;
	return a->slot < b->slot;
}

static void sift_up(struct tread_trace *t, uint32_t i)
{
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		struct tread_stream *tmp;

		if (!sooner(t->heap[i], t->heap[parent]))
			break;
		tmp = t->heap[i];
		t->heap[i] = t->heap[parent];
		t->heap[parent] = tmp;
		i = parent;
	}
}

static void sift_down(struct tread_trace *t, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, min = i;
		struct tread_stream *tmp;

		if (l < t->heap_len && sooner(t->heap[l], t->heap[min]))
			min = l;
		if (r < t->heap_len && sooner(t->heap[r], t->heap[min]))
			min = r;
		if (min == i)
			return;
		tmp = t->heap[i];
		t->heap[i] = t->heap[min];
		t->heap[min] = tmp;
		i = min;
	}
}

/* Put @s in the heap if it has a readable event. */
static void heap_add(struct tread_trace *t, struct tread_stream *s)
{
	if (!tread_stream_peek(s, 0))
		return;
	t->heap[t->heap_len] = s;
	sift_up(t, t->heap_len++);
}

static void heap_remove_top(struct tread_trace *t)
{
	t->heap[0] = t->heap[--t->heap_len];
	if (t->heap_len)
		sift_down(t, 0);
}

/* ----------------------------------------------------------------- rounds */

int tread_trace_refresh(struct tread_trace *t, bool final, bool writer_gone)
{
	t->heap_len = 0;
	t->current = NULL;
	for (uint32_t slot = 0; slot < t->nslots; slot++) {
		struct tread_stream *s = t->streams[slot];

		if (!s) {
			/* A slot never written has nothing to merge yet. */
			if (tread_ring_head(t->ring, slot) == 0)
				continue;
			s = tread_stream_new(t->ring, slot);
			if (!s)
				return -ENOMEM;
			t->streams[slot] = s;
		}
		tread_stream_refresh(s, final, writer_gone);
		heap_add(t, s);
	}
	return 0;
}

int tread_trace_next(struct tread_trace *t, struct tread_event *ev)
{
	struct tread_stream *s = t->current;
	const struct tread_event *e;

	t->current = NULL;
	/* The stream of the last event goes on while it stays the soonest,
	 * without going through the heap: a thread's events mostly come in
	 * runs (a ring of one thread, only that). */
	if (s && (e = tread_stream_peek(s, 0)) && (!t->heap_len || sooner(s, t->heap[0])) &&
	    tread_stream_ripe(s, e)) {
		tread_event_copy(ev, e);
		tread_stream_pop(s);
		t->current = s;
		return 1;
	}
	if (s)
		heap_add(t, s);
	if (!t->heap_len)
		return 0;
	s = t->heap[0];
	e = tread_stream_peek(s, 0);
	if (!tread_stream_ripe(s, e))
		return 0;
	tread_event_copy(ev, e);
	tread_stream_pop(s);
	heap_remove_top(t);
	t->current = s;
	return 1;
}

const struct tread_event *tread_trace_peek_same(struct tread_trace *t)
{
	return t->current ? tread_stream_peek(t->current, 0) : NULL;
}

void tread_trace_pop_same(struct tread_trace *t)
{
	if (t->current)
		tread_stream_pop(t->current);
}

/*
 * The tail to publish when everything below @done was handed out.  A
 * discard-mode writer whose ring fills up with its head on a chunk
 * boundary counts the TIME record it then owes as one more dropped event
 * at every attempt (ring-format.md, known writer miscounts); its head
 * stops at tail + N, on a boundary when the tail is.  So a tail that would
 * land on a boundary stays one word short when that word is a TIME or TID
 * record: nothing a later reader would show twice.
 */
static uint64_t tail_to_publish(const struct tread_trace *t, uint32_t slot,
				uint64_t done, uint64_t tail)
{
	uint64_t w;

	if (done % TAT_CHUNK_EVENTS || done <= tail + 1)
		return done;
	w = tread_ring_word(t->ring, slot, done - 1);
	if (tread_word_committed(t->ring, w, done - 1) &&
	    tat_ev_type(w) == TAT_EV_SPECIAL &&
	    (tat_ev_sub(w) == TAT_SUB_TIME || tat_ev_sub(w) == TAT_SUB_TID))
		return done - 1;
	return done;
}

int tread_trace_consume(struct tread_trace *t)
{
	if (!t->ring->writable)
		return -EROFS;
	for (uint32_t slot = 0; slot < t->nslots; slot++) {
		struct tread_stream *s = t->streams[slot];
		uint64_t done, tail;

		if (!s)
			continue;
		tail = tread_ring_tail(t->ring, slot);
		done = tail_to_publish(t, slot, tread_stream_consumed(s), tail);
		if (done > tail)
			tread_ring_set_tail(t->ring, slot, done);
	}
	return 0;
}

void tread_trace_totals(const struct tread_trace *t, int32_t tid,
			struct tread_trace_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t slot = 0; slot < t->nslots; slot++) {
		struct tread_stream *s = t->streams[slot];

		if (tid && tread_ring_tid(t->ring, slot) != tid &&
		    (!s || s->dec.tid != tid))
			continue;
		out->ring_dropped += tread_ring_dropped(t->ring, slot);
		out->too_deep += tread_ring_deep(t->ring, slot);
		if (!s)
			continue;
		for (int r = 0; r < TREAD_LOST_REASONS; r++)
			out->lost[r] += s->dec.stats.lost[r];
		out->bad_words += s->dec.stats.bad_words;
		out->unread += tread_stream_unread(s);
	}
	if (!tid)
		out->no_slot = tread_ring_threads_overflow(t->ring);
}
