/* SPDX-License-Identifier: MIT */
/*
 * Events -> calls: pairs each thread's entries with their exits, for the
 * views that count calls rather than print events (hist, stat, stuck).
 *
 * Per thread slot it keeps the stack of calls open, as the graph does: an
 * exit closes the innermost open call of its function, and the calls open
 * above that one lost their exits; a DEPTH event (the writer had fewer
 * calls open) or a TID event (the slot changed hands) closes calls unseen
 * too.  Each closed call is handed to a callback, with its duration when
 * its exit was read.
 */
#ifndef TATTACH_CONSUMER_CALLS_H
#define TATTACH_CONSUMER_CALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "consumer/decode/event_decoder.h"
#include "consumer/decode/ring_reader.h"

struct tread_open_call {
	uint32_t site;
	bool     crossed;	/* open before a gap in the events and still
				 * in flight after it (tread_event_is_gap()) */
	uint64_t entry_tsc;
};

struct tread_call {
	uint32_t site;
	uint32_t slot;
	int32_t  tid;
	uint32_t depth;		/* open calls below it in its thread */
	bool     completed;	/* its exit was read: exit_tsc - entry_tsc is its
				 * duration; else exit_tsc is when we learnt
				 * it had ended */
	uint64_t entry_tsc;
	uint64_t exit_tsc;
};

/* What a view wants to hear; either may be NULL.  Return 0 or -errno. */
struct tread_call_ops {
	int (*entered)(void *arg, const struct tread_event *ev, uint32_t depth);
	int (*closed)(void *arg, const struct tread_call *call);
	void *arg;
};

struct tread_calls;

/* Returns 0 or -ENOMEM. */
int tread_calls_open(const struct tread_ring *ring, const struct tread_call_ops *ops,
		     struct tread_calls **out);
void tread_calls_close(struct tread_calls *c);

/* Account one event.  Returns 0, -ENOMEM, or what a callback returned. */
int tread_calls_feed(struct tread_calls *c, const struct tread_event *ev);

/*
 * tread_calls_settle - @slot's calls open now are @live (outermost first,
 * as the frames in flight say): close, as exits not read, the open calls
 * above the ones that still match (same site, same entry time), at @when.
 * For a ring the writer can add nothing to (a full discard ring), whose
 * lost exits no DEPTH record will ever tell.  Returns 0 or what the
 * closed callback returned.
 */
int tread_calls_settle(struct tread_calls *c, uint32_t slot,
		       const struct tread_open_call *live, uint32_t nlive, uint64_t when);

/* The calls open in @slot, outermost first; *@depth of them. */
const struct tread_open_call *tread_calls_open_in(const struct tread_calls *c,
						  uint32_t slot, uint32_t *depth);

/* The tid that last wrote to @slot (0 if none was read). */
int32_t tread_calls_tid(const struct tread_calls *c, uint32_t slot);

/* Newest timestamp of an event fed so far (0 before one). */
uint64_t tread_calls_latest(const struct tread_calls *c);

/* Oldest timestamp of an event fed so far (0 before one). */
uint64_t tread_calls_earliest(const struct tread_calls *c);

#endif /* TATTACH_CONSUMER_CALLS_H */
