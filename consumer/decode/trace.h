/* SPDX-License-Identifier: MIT */
/*
 * All threads of a ring file as one stream of events in timestamp order.
 *
 * Each thread's ring is already in order, so a k-way merge (a min-heap of
 * the threads' next events) is enough.  Printers pull events with
 * tread_trace_next() and may look one event ahead in the same thread with
 * tread_trace_peek_same(), which is how a call with no children becomes
 * one "leaf();" line.
 *
 * Usage, once per round (see thread_stream.h for what a round is):
 *
 *	tread_trace_refresh(t, final, writer_gone);
 *	while (tread_trace_next(t, &ev) == 1)
 *		print(ev);
 *	tread_trace_consume(t);		// tread -f only
 */
#ifndef TATTACH_CONSUMER_TRACE_H
#define TATTACH_CONSUMER_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "consumer/decode/event_decoder.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/decode/thread_stream.h"

struct tread_trace {
	const struct tread_ring *ring;
	struct tread_stream **streams;	/* by slot; NULL until the slot is used */
	uint32_t nslots;
	struct tread_stream **heap;	/* streams with an event, soonest first */
	uint32_t heap_len;
	struct tread_stream *current;	/* gave the last event; out of the heap */
};

/* What was read, for the summary lines. */
struct tread_trace_totals {
	uint64_t lost[TREAD_LOST_REASONS];	/* as decoded (see event_decoder.h) */
	uint64_t bad_words;
	uint64_t unread;		/* reserved, not committed when we stopped */
	uint64_t ring_dropped;		/* sum of ctl.dropped: writer's own count */
	uint64_t too_deep;		/* sum of ctl.deep */
	uint64_t no_slot;		/* header.threads_overflow */
};

/* Returns 0 or -ENOMEM. */
int tread_trace_open(const struct tread_ring *ring, struct tread_trace **out);
void tread_trace_close(struct tread_trace *t);

/*
 * tread_trace_refresh - start a round: pick up new threads and new events
 * @final:       hand out everything readable now (one-shot, last round)
 * @writer_gone: the traced process exited; its unwritten words never will be
 *
 * Returns 0 or -ENOMEM.
 */
int tread_trace_refresh(struct tread_trace *t, bool final, bool writer_gone);

/*
 * tread_trace_next - the next event of all threads in timestamp order
 *
 * Returns 1 with @ev filled, or 0 when the round has nothing more.
 */
int tread_trace_next(struct tread_trace *t, struct tread_event *ev);

/*
 * tread_trace_peek_same - the event following the last one returned by
 * tread_trace_next() in the same thread slot, or NULL if it is not
 * readable yet.  It may be newer than what the round hands out.
 */
const struct tread_event *tread_trace_peek_same(struct tread_trace *t);

/* Drop the event tread_trace_peek_same() returned. */
void tread_trace_pop_same(struct tread_trace *t);

/*
 * tread_trace_consume - move every thread's tail past what was handed out
 *
 * Returns 0, or -EROFS when the ring was not opened writable.
 */
int tread_trace_consume(struct tread_trace *t);

/*
 * tread_trace_totals - sum the counters of the threads
 * @tid: only slots whose current tid is @tid, or 0 for all
 */
void tread_trace_totals(const struct tread_trace *t, int32_t tid,
			struct tread_trace_totals *out);

#endif /* TATTACH_CONSUMER_TRACE_H */
