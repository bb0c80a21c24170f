/* SPDX-License-Identifier: MIT */
/*
 * The events of one thread slot, read from its ring a chunk at a time.
 *
 * A stream owns the reading side of one ring: which positions are still
 * readable, whether each word is committed, whether the writer overwrote
 * what we were copying (flight mode, or a second consumer moving the
 * tail), and the decoder that turns the words into events.
 *
 * Reading happens in rounds.  Each round starts with tread_stream_refresh(),
 * which looks at the writer's head again; then events are peeked/popped
 * until none is left.  Two limits matter in a round:
 *
 *   visible  positions below the head seen at the refresh: may be copied
 *   ripe     events from positions below it may be handed out
 *
 * In a final round (one-shot reading, or the last round of --follow) both
 * are the head.  In a live round, ripe is the head of the previous round:
 * an event is only printed once it was visible a whole poll interval ago,
 * which gives the other threads time to commit the events they stamped
 * earlier, so the merged output stays in timestamp order.
 */
#ifndef TATTACH_CONSUMER_THREAD_STREAM_H
#define TATTACH_CONSUMER_THREAD_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "consumer/decode/event_decoder.h"
#include "consumer/decode/ring_reader.h"

#define TREAD_STREAM_CHUNK 256	/* words copied per look at the ring */
#define TREAD_STREAM_QUEUE (1 + TREAD_DECODER_MAX_OUT)	/* decoded events waiting; see peek */
/* Rounds a reserved word may stay unwritten before it counts as lost. */
#define TREAD_STREAM_STALL_ROUNDS 100

struct tread_stream {
	const struct tread_ring *ring;
	uint32_t slot;

	uint64_t pos;		/* next position to copy */
	uint64_t visible;	/* copy below this */
	uint64_t ripe;		/* hand out events from below this */
	bool     final;		/* no later round: flush pending losses */
	bool     writer_gone;	/* unwritten words will never be written */

	/* Drops the writer has not reported with a LOST record yet (see
	 * unreported_drops() in thread_stream.c). */
	uint64_t dropped0;	/* ctl.dropped when the stream started */
	uint64_t head0;		/* head when the stream started */
	uint64_t lost_after0;	/* LOST payloads at positions >= head0 */
	bool     from_zero;	/* started at position 0: sees every LOST */
	bool     gapped;	/* words were skipped: LOST records may be missed */
	bool     trailer_done;	/* unreported drops were added (final round) */

	uint64_t blocked_at;	/* uncommitted position that stopped us, or ~0 */
	uint64_t stall_pos;
	unsigned stall_rounds;

	struct tread_event queue[TREAD_STREAM_QUEUE];
	unsigned q_first;
	unsigned q_len;

	struct tread_decoder dec;

	/* Words copied and checked, not decoded yet. */
	uint64_t chunk_pos;
	uint32_t chunk_len;
	uint32_t chunk_idx;
	uint32_t chunk_cap;	/* min(TREAD_STREAM_CHUNK, ring size) */
	uint64_t chunk[];
};

/*
 * tread_stream_new - allocate a stream for @slot of @ring and start it
 *
 * The chunk buffer is never larger than the ring, so a file with many tiny
 * rings cannot make us allocate much more than its own size.
 * Returns NULL when out of memory.  Free with free().
 */
struct tread_stream *tread_stream_new(const struct tread_ring *ring, uint32_t slot);

/*
 * tread_stream_init - start reading @slot of @ring (chunk_cap must be set)
 *
 * Reading starts at the oldest readable position: max(tail, head - N).
 * Positions between the tail and that start were overwritten before
 * anyone read them (flight mode): they are reported as lost with the first
 * event.  When the start is inside a TIME chunk, the intact words before
 * it are used to learn the time base, so the first events need not be
 * thrown away.
 *
 * In the final round, drops the writer counted (ctl.dropped) but has not
 * reported with a LOST record yet -- it writes one only before its next
 * event that fits -- are reported as lost at the end of the stream, when
 * they can be known: the stream saw every word from position 0, or from
 * its start on (then only the drops counted since it started).
 */
void tread_stream_init(struct tread_stream *s, const struct tread_ring *ring,
		       uint32_t slot);

/*
 * tread_stream_refresh - begin a round
 * @final:       everything visible is ripe and pending losses are reported
 * @writer_gone: the process has exited: skip words it never wrote
 */
void tread_stream_refresh(struct tread_stream *s, bool final, bool writer_gone);

/*
 * tread_stream_peek - look at upcoming event @idx (0 = next, 1 = the one
 * after), decoding more words as needed within the visible limit
 *
 * Returns NULL when that event is not available this round.  @idx must be
 * 0 or 1.
 */
const struct tread_event *tread_stream_peek(struct tread_stream *s, unsigned idx);

/* True if @ev (from peek) may be handed out this round. */
static inline bool tread_stream_ripe(const struct tread_stream *s,
				     const struct tread_event *ev)
{
	return s->final || ev->pos < s->ripe;
}

/* Drop the next event (after peeking it). */
void tread_stream_pop(struct tread_stream *s);

/* Positions below this were fully handed out: the tail a consumer may set. */
uint64_t tread_stream_consumed(const struct tread_stream *s);

/* Visible positions not copied: reserved but not (yet) committed. */
uint64_t tread_stream_unread(const struct tread_stream *s);

#endif /* TATTACH_CONSUMER_THREAD_STREAM_H */
