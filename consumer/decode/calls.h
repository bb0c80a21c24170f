/* SPDX-License-Identifier: MIT */
/*
 * Events -> calls: pairs each thread's entries with their exits, for every
 * reader of the events (the graph, --report, --stat, --hist, --stuck and
 * the export model), so that the rules below live here and only here.
 *
 * Per thread slot it keeps the stack of calls open:
 *   - an exit closes the innermost open call of its function, and the
 *     calls open above that one lost their exits;
 *   - a DEPTH event (the writer had fewer calls open) or a TID event (the
 *     slot changed hands) closes calls unseen too;
 *   - at a LOST event that hides events (tread_event_is_gap()) only the
 *     calls still among the thread's frames in flight (inflight.h) stay
 *     open, marked crossed; the others may have returned in the gap and
 *     end there (a file without frames in flight tells nothing: its calls
 *     stay open);
 *   - an exit does not close a crossed call that is still in flight: it
 *     is another call's, whose entry was in the gap.
 * Each call closed is handed to a callback, with why it ended.
 *
 * What a view does at each end is its own: the graph prints a line,
 * --report charges a function, the export model writes an EXIT.  What it
 * needs to remember of each open call (a return value, the time of its
 * children, an event index) it keeps in the call's data: @data_size bytes
 * the pairing stores with each open call and never reads.
 */
#ifndef TATTACH_CONSUMER_CALLS_H
#define TATTACH_CONSUMER_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/decode/event_decoder.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/decode/sub_stacks.h"

/* Deepest nesting kept per stack: deeper entries are not pushed (their
 * exits find no entry), and counted (tread_calls_too_deep()). */
#define TREAD_CALLS_MAX_DEPTH 65536

/* An open call.  The view's data (tread_call_ops.data_size bytes) follows
 * it: tread_open_call_data(). */
struct tread_open_call {
	uint32_t site;
	bool     crossed;	/* open before a gap in the events and still
				 * in flight after it (tread_event_is_gap()) */
	uint64_t entry_tsc;
};

/* Why a call was closed. */
enum tread_call_end {
	TREAD_CALL_RETURNED,	/* its exit was read */
	TREAD_CALL_EXIT_LOST,	/* the exit of a call below it was read */
	TREAD_CALL_DEPTH,	/* a DEPTH event: the writer had fewer open */
	TREAD_CALL_GAP,		/* no longer in flight after a gap */
	TREAD_CALL_TID,		/* the slot changed hands */
	TREAD_CALL_SETTLED,	/* tread_calls_settle() */
};

struct tread_call {
	uint32_t site;
	uint32_t slot;
	int32_t  tid;		/* the slot's, as last read */
	uint32_t depth;		/* open calls below it on its stack */
	enum tread_call_end end;
	bool     completed;	/* end == TREAD_CALL_RETURNED: exit_tsc -
				 * entry_tsc is its duration; else exit_tsc is
				 * when we learnt it had ended */
	uint64_t entry_tsc;
	uint64_t exit_tsc;	/* never before entry_tsc */
	const struct tread_event *by;	/* the event that closed it (EXIT,
					 * DEPTH, LOST, TID; made up for
					 * tread_calls_settle()) */
	void    *data;		/* the view's bytes of it */
	/* for tread_call_below() */
	const struct tread_call_stack *stack_;
	size_t   elem_;
};

/*
 * What a view wants to hear, and what it keeps per call.  Any callback may
 * be NULL; each returns 0 or -errno, which stops the feed and is returned.
 */
struct tread_call_ops {
	/* a call was pushed, @depth calls below it; @data is zeroed */
	int (*entered)(void *arg, const struct tread_event *ev, uint32_t depth, void *data);
	/* a call was closed; calls above it are closed first, innermost first */
	int (*closed)(void *arg, const struct tread_call *call);
	/* an exit whose entry is not among the open calls; @depth: the open
	 * calls of its stack */
	int (*unmatched)(void *arg, const struct tread_event *ev, uint32_t depth);
	void  *arg;
	size_t data_size;	/* bytes of view data per open call */
	/*
	 * Nest calls per sub-stack (sub_stacks.h: coroutines, sigaltstack),
	 * as the graph, --report, --stat and --hist do: a coroutine's exit
	 * closes its own call, and indentation and self time follow the
	 * stack that runs.  Else one stack per thread slot, as the export
	 * model needs (one well-nested stream of ENTRY/EXIT per thread: a
	 * switch of stacks there ends the calls of the stack left) and
	 * --stuck's stacks read from events.
	 */
	bool   by_stack;
};

struct tread_calls;

/* Returns 0 or -ENOMEM. */
int tread_calls_open(const struct tread_ring *ring, const struct tread_call_ops *ops,
		     struct tread_calls **out);
void tread_calls_close(struct tread_calls *c);

/* Account one event.  Returns 0, -ENOMEM, or what a callback returned. */
int tread_calls_feed(struct tread_calls *c, const struct tread_event *ev);

/*
 * tread_calls_settle - @slot's calls open now are @live (as the frames in
 * flight say; same site, same entry time): on each of the slot's stacks,
 * close, as exits not read, the open calls from the first that is not
 * among them, at @when.  For a ring the writer can add nothing to (a full
 * discard ring), whose lost exits no DEPTH record will ever tell; with no
 * @live, for the end of a trace.  Returns 0 or what the closed callback
 * returned.
 */
int tread_calls_settle(struct tread_calls *c, uint32_t slot,
		       const struct tread_open_call *live, uint32_t nlive, uint64_t when);

/*
 * The calls open on stack @i of @slot (0: sub-stack 0, then the others in
 * the order they came, with by_stack), outermost first: *@open, *@depth
 * of them.  Returns false past the last stack, and always with view data
 * (data_size not 0: no array of tread_open_call to give).
 */
bool tread_calls_open_in(const struct tread_calls *c, uint32_t slot, uint32_t i,
			 const struct tread_open_call **open, uint32_t *depth);

/* The id of that stack @i (the events' and the frames' sub-stack id);
 * 0 for stack 0 or past the last. */
uint64_t tread_calls_stack_id(const struct tread_calls *c, uint32_t slot, uint32_t i);

/* How many calls are open on @ev's stack (the indentation of its line).
 * Returns 0 or -ENOMEM. */
int tread_calls_depth(struct tread_calls *c, const struct tread_event *ev,
		      uint32_t *depth);

/*
 * The innermost open call of @ev's site on @ev's stack, crossed or not, in
 * *@out (NULL if none): the call a VALUES event belongs to (its arguments
 * follow its entry, its return value precedes its exit).  Returns 0 or
 * -ENOMEM.
 */
int tread_calls_innermost(struct tread_calls *c, const struct tread_event *ev,
			  struct tread_open_call **out);

/* The view's bytes of @o. */
static inline void *tread_open_call_data(const struct tread_open_call *o)
{
	return (void *)(o + 1);
}

/* Open call @i (0: outermost; i < @call->depth) below @call on its stack:
 * its callers. */
static inline struct tread_open_call *tread_call_below(const struct tread_call *call,
						       uint32_t i)
{
	return tread_call_at(call->stack_, i, call->elem_);
}

/* Calls open now, on every stack of every slot. */
uint64_t tread_calls_running(const struct tread_calls *c);

/* Entries not pushed: nested deeper than TREAD_CALLS_MAX_DEPTH. */
uint64_t tread_calls_too_deep(const struct tread_calls *c);

/* The tid that last wrote to @slot (0 if none was read). */
int32_t tread_calls_tid(const struct tread_calls *c, uint32_t slot);

/* Newest timestamp of an event fed so far (0 before one). */
uint64_t tread_calls_latest(const struct tread_calls *c);

/* Oldest timestamp of an event fed so far (0 before one). */
uint64_t tread_calls_earliest(const struct tread_calls *c);

#endif /* TATTACH_CONSUMER_CALLS_H */
