/* SPDX-License-Identifier: MIT */
/*
 * Turning one thread's committed ring words into events.
 *
 * The decoder is a pure state machine: it is fed words in ring order (and
 * told about gaps, i.e. positions that could not be read) and produces
 * events with full timestamps.  It knows nothing about files, so tests and
 * fuzzers can drive it with any word sequence.
 *
 * What it tracks per ring:
 *   - the upper TSC bits from the latest TIME special; until one is seen
 *     (start of data, or after a gap) ENTRY/EXIT words cannot be dated and
 *     are counted as lost;
 *   - the tid writing the ring (TID specials);
 *   - how many of the next EXITs end frames unwound by longjmp (UNWIND);
 *   - how many of the next EXITs end calls --disable cut loose (CUT);
 *   - the sub-stack the events belong to (STACK; 0 until one, and again
 *     after a TID or a gap: the writer repeats it after a TIME or LOST);
 *   - events lost (LOST specials, gaps, undated words), reported as one
 *     LOST event just before the next dated event;
 *   - LOST records with a negative count (see TREAD_LOST_OVERCOUNTED):
 *     they first cancel losses not reported yet, the rest is reported as
 *     a correction of the losses reported before.
 */
#ifndef TATTACH_CONSUMER_EVENT_DECODER_H
#define TATTACH_CONSUMER_EVENT_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <tattach/ring.h>

/* Why events are missing; indexes tread_event.lost[] and the stats. */
enum tread_lost_reason {
	TREAD_LOST_RING_FULL = 0,	/* writer dropped them: ring full (LOST special) */
	TREAD_LOST_OVERWRITTEN,		/* flight mode overwrote them before we read */
	TREAD_LOST_NO_TIMESTAMP,	/* read before the first TIME: cannot be dated */
	TREAD_LOST_UNCOMMITTED,		/* reserved but never written */
	/*
	 * Not a loss but a correction: the writer reported this many more
	 * lost events than it dropped.  A LOST record's payload is 56 bits
	 * of a counter that the writer can drive below zero (a signal handler
	 * that writes the same pending count again, docs/ring-format.md): a
	 * payload of 2^55 or more is that negative number, -(2^56 - payload).
	 * Events are missing: the sum of the other reasons, minus this.
	 */
	TREAD_LOST_OVERCOUNTED,
	TREAD_LOST_REASONS
};

enum tread_event_kind {
	TREAD_EV_ENTRY = 0,
	TREAD_EV_EXIT,
	TREAD_EV_LOST,		/* count events are missing here */
	TREAD_EV_TID,		/* another thread owns the ring from now on */
	TREAD_EV_DEPTH,		/* open: calls the writer had open here */
	TREAD_EV_VALUES,	/* tattach -A/-R: the arguments (after the
				 * ENTRY of @site) or return value (before
				 * its EXIT: is_return) of a call; the bytes
				 * are @values in values.h's store */
};

struct tread_event {
	uint8_t  kind;		/* enum tread_event_kind */
	uint8_t  unwound;	/* EXIT: frame ended by longjmp/siglongjmp */
	uint8_t  undated;	/* LOST: no dated event before it, tsc is 0 */
	uint8_t  early;		/* ENTRY: the call was running when tracing
				 * began; tsc is that time (EARLY record) */
	uint8_t  cut;		/* EXIT: the call was still running when
				 * --disable cut it loose; tsc is that time
				 * (CUT record) */
	uint32_t site;		/* ENTRY/EXIT: index into the site table */
	uint64_t stack;		/* ENTRY/EXIT/DEPTH: sub-stack (coroutine,
				 * sigaltstack) the call runs on; calls nest
				 * per (slot, stack) */
	uint32_t slot;		/* thread slot (ring) it was read from */
	int32_t  tid;		/* thread that wrote it */
	uint64_t tsc;		/* full timestamp (LOST/TID: of a neighbour event) */
	uint64_t pos;		/* ring position of the word that produced it;
				 * LOST: of the first word that told of the
				 * loss (a LOST record, an undated event), else
				 * of the event after it */
	uint64_t count;		/* LOST: sum of lost[] (see tread_event_missing) */
	uint64_t open;		/* DEPTH: calls open before the next event */
	uint64_t values;	/* VALUES: id in the value store (values.h) */
	uint8_t  is_return;	/* VALUES: a return value, not arguments */
	/* LOST: missing events by reason.  Last, and set for LOST events
	 * only: the others (nearly all) are cleared and copied up to here,
	 * TREAD_EVENT_HEAD bytes, not the whole of it. */
	uint64_t lost[TREAD_LOST_REASONS];
};

#define TREAD_EVENT_HEAD offsetof(struct tread_event, lost)

/* Copy event @from into @to: lost[] only for a LOST event. */
static inline void tread_event_copy(struct tread_event *to, const struct tread_event *from)
{
	memcpy(to, from, TREAD_EVENT_HEAD);	/* a constant size: inlined */
	if (from->kind == TREAD_EV_LOST)
		memcpy(to->lost, from->lost, sizeof(from->lost));
}

/* LOST payloads from here up are negative (TREAD_LOST_OVERCOUNTED). */
#define TREAD_LOST_NEGATIVE (1ull << 55)

/* LOST event: how many events are missing here (corrections aside). */
static inline uint64_t tread_event_missing(const struct tread_event *ev)
{
	uint64_t n = 0;

	for (int r = 0; r < TREAD_LOST_OVERCOUNTED; r++)
		n = __builtin_add_overflow(n, ev->lost[r], &n) ? UINT64_MAX : n;
	return n;
}

/*
 * A LOST event that hides events: entries and exits may have been among
 * them, whatever the reason (the writer dropped them, a flight ring
 * overwrote them before we read them, they could not be dated).  A DEPTH
 * record after a drop says how many calls the writer had open then, not
 * which: the calls open before the loss are known to be open after it
 * only if they are still in the frames in flight (inflight.h).
 */
static inline bool tread_event_is_gap(const struct tread_event *ev)
{
	return ev->kind == TREAD_EV_LOST && tread_event_missing(ev) > 0;
}

struct tread_decode_stats {
	uint64_t lost[TREAD_LOST_REASONS];
	uint64_t bad_words;	/* words of no known type or special kind */
	uint64_t events;	/* ENTRY/EXIT events produced */
};

struct tread_decoder {
	uint32_t slot;
	bool     have_time;
	bool     have_depth;	/* a DEPTH record waits for the next event */
	uint64_t depth;
	uint64_t time_hi;	/* payload of the latest TIME special */
	int32_t  tid;
	uint64_t unwind_pending;
	uint64_t stack;		/* payload of the latest STACK special */
	uint64_t early_pending;	/* ENTRYs still to mark early (EARLY) */
	uint64_t cut_pending;	/* EXITs still to mark cut (CUT) */
	uint64_t last_tsc;	/* of the latest dated event, 0 before one */
	bool     dated;		/* an event was dated: last_tsc is real */
	uint64_t pending[TREAD_LOST_REASONS]; /* not yet reported as a LOST event */
	uint64_t pending_pos;	/* first word behind pending[], ~0 if none */
	struct tread_decode_stats stats;
	/* a VALUES record being read (its VALDATA words follow it) */
	bool     vactive;
	bool     vreturn;
	uint32_t vsite;
	uint32_t vwant, vlen;
	uint8_t  vbuf[TAT_ARGS_MAX * (11 + TAT_STR_MAX)];
};

/* Most events one call of tread_decoder_word() can produce. */
#define TREAD_DECODER_MAX_OUT 3	/* LOST, DEPTH, then the event */

/*
 * tread_decoder_init - start decoding a ring
 * @slot: recorded in every event
 * @tid:  the tid to use until a TID special says otherwise (ctl.tid)
 */
void tread_decoder_init(struct tread_decoder *d, uint32_t slot, int32_t tid);

/*
 * tread_decoder_prime - learn TIME and TID from a word before the window
 *
 * For words that were already consumed or lie before the start position
 * but are still intact: they date the first events of the window without
 * being shown.  Other words are ignored.
 */
void tread_decoder_prime(struct tread_decoder *d, uint64_t word);

/*
 * tread_decoder_word - decode one committed word at ring position @pos
 * @out: room for TREAD_DECODER_MAX_OUT events
 *
 * Returns the number of events stored in @out (0..2): a pending LOST event
 * first, then the ENTRY/EXIT, or a TID event.
 */
int tread_decoder_word(struct tread_decoder *d, uint64_t word, uint64_t pos,
		       struct tread_event *out);

/*
 * tread_decoder_gap - @count positions could not be read
 *
 * They are reported as lost with @reason, and the time base is dropped:
 * a TIME special may have been among them.  So are the marks an UNWIND,
 * EARLY or CUT special still had to give: their events may have been.
 */
void tread_decoder_gap(struct tread_decoder *d, uint64_t count,
		       enum tread_lost_reason reason);

/*
 * tread_decoder_lost - @count events are missing at this point, for
 * @reason, without a gap in what was read (the time base stays valid):
 * reported with the next event, or by tread_decoder_flush()
 */
void tread_decoder_lost(struct tread_decoder *d, uint64_t count,
			enum tread_lost_reason reason);

/*
 * tread_decoder_flush - report losses still pending at the end of the data
 * @pos: position to record in the event
 *
 * Returns 1 with a LOST event in @out, or 0 if nothing was pending.
 */
int tread_decoder_flush(struct tread_decoder *d, uint64_t pos,
			struct tread_event *out);

#endif /* TATTACH_CONSUMER_EVENT_DECODER_H */
