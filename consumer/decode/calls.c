// SPDX-License-Identifier: MIT
/*
 * Entry/exit pairing per thread slot (calls.h).  Each open call is a
 * struct tread_open_call and the view's data after it, in the stacks of
 * sub_stacks.h: one per sub-stack with by_stack, else only sub-stack 0.
 */
#include <errno.h>
#include <stdlib.h>

#include "consumer/decode/calls.h"
#include "consumer/decode/inflight.h"

struct slot_calls {
	struct tread_sub_stacks stacks;
	int32_t  tid;
};

struct tread_calls {
	const struct tread_ring *ring;
	struct tread_call_ops ops;
	size_t   elem;			/* bytes per open call, data included */
	struct tread_inflight_frame *live;	/* frames in flight, after a gap */
	struct slot_calls *slots;
	uint32_t nslots;
	uint64_t too_deep;
	bool     dated;		/* earliest and latest are set */
	uint64_t earliest, latest;
};

int tread_calls_open(const struct tread_ring *ring, const struct tread_call_ops *ops,
		     struct tread_calls **out)
{
	struct tread_calls *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->ring = ring;
	if (ops)
		c->ops = *ops;
	/* the data after the header stays 8-byte aligned */
	c->elem = sizeof(struct tread_open_call) + (c->ops.data_size + 7) / 8 * 8;
	c->nslots = ring->hdr.max_threads;
	c->slots = calloc(c->nslots ? c->nslots : 1, sizeof(*c->slots));
	if (tread_inflight_max(ring))
		c->live = calloc(tread_inflight_max(ring), sizeof(*c->live));
	if (!c->slots || (tread_inflight_max(ring) && !c->live)) {
		tread_calls_close(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void tread_calls_close(struct tread_calls *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; c->slots && i < c->nslots; i++)
		tread_sub_stacks_free(&c->slots[i].stacks);
	free(c->slots);
	free(c->live);
	free(c);
}

static struct tread_open_call *call_at(const struct tread_calls *c,
				       const struct tread_call_stack *st, uint32_t i)
{
	return tread_call_at(st, i, c->elem);
}

/* The stack of @ev's calls (NULL: out of memory). */
static inline struct tread_call_stack *stack_of(struct tread_calls *c,
						const struct tread_event *ev)
{
	struct tread_sub_stacks *ss = &c->slots[ev->slot].stacks;

	if (!c->ops.by_stack || ev->stack == 0)
		return &ss->zero;	/* most events: no lookup */
	return tread_sub_stack(ss, ev->stack);
}

/* Pop the top call of @st, ended by @by for @end, and tell the view. */
static int pop(struct tread_calls *c, struct tread_call_stack *st,
	       const struct tread_event *by, enum tread_call_end end)
{
	const struct tread_open_call *o = call_at(c, st, --st->depth);
	struct tread_call call = {
		.site = o->site, .slot = by->slot, .tid = c->slots[by->slot].tid,
		.depth = st->depth, .end = end, .completed = end == TREAD_CALL_RETURNED,
		.entry_tsc = o->entry_tsc,
		.exit_tsc = by->tsc < o->entry_tsc ? o->entry_tsc : by->tsc,
		.by = by, .data = tread_open_call_data(o), .stack_ = st, .elem_ = c->elem,
	};

	return c->ops.closed ? c->ops.closed(c->ops.arg, &call) : 0;
}

/* Close the calls of @st above the first @keep: their exits were not read. */
static int close_above(struct tread_calls *c, struct tread_call_stack *st,
		       const struct tread_event *by, uint64_t keep, enum tread_call_end end)
{
	int ret = 0;

	while (!ret && st->depth > keep)
		ret = pop(c, st, by, end);
	return ret;
}

static int enter(struct tread_calls *c, const struct tread_event *ev)
{
	struct tread_call_stack *st = stack_of(c, ev);
	struct tread_open_call *o;

	if (!st)
		return -ENOMEM;
	if (st->depth == TREAD_CALLS_MAX_DEPTH) {
		c->too_deep++;
		return 0;	/* its exit will find no entry */
	}
	o = tread_call_push(st, c->elem);	/* zeroed: not crossed, no data */
	if (!o)
		return -ENOMEM;
	o->site = ev->site;
	o->entry_tsc = ev->tsc;
	if (!c->ops.entered)
		return 0;
	return c->ops.entered(c->ops.arg, ev, st->depth - 1, tread_open_call_data(o));
}

static int leave(struct tread_calls *c, const struct tread_event *ev)
{
	struct tread_call_stack *st = stack_of(c, ev);
	int64_t k;
	int ret;

	if (!st)
		return -ENOMEM;
	for (k = (int64_t)st->depth - 1; k >= 0; k--) {
		const struct tread_open_call *o = call_at(c, st, (uint32_t)k);

		/* a call kept across a gap that is still running: this exit
		 * is another call's, whose entry was in the gap */
		if (o->site == ev->site &&
		    !(o->crossed && tread_inflight_still_open(c->ring, ev->slot, c->live,
							       o->site, o->entry_tsc)))
			break;
	}
	if (k < 0)	/* entry not read: no duration to tell */
		return c->ops.unmatched ? c->ops.unmatched(c->ops.arg, ev, st->depth) : 0;
	ret = close_above(c, st, ev, (uint64_t)k + 1, TREAD_CALL_EXIT_LOST);
	return ret ? ret : pop(c, st, ev, TREAD_CALL_RETURNED);
}

static int close_depth(struct tread_calls *c, const struct tread_event *ev)
{
	struct tread_call_stack *st = stack_of(c, ev);

	return st ? close_above(c, st, ev, ev->open, TREAD_CALL_DEPTH) : -ENOMEM;
}

/* Sub-stack @i of @ss: 0, then the others in the order they came. */
static struct tread_call_stack *nth_stack(struct tread_sub_stacks *ss, uint32_t i)
{
	return i == 0 ? &ss->zero : &ss->other[i - 1];
}

/*
 * A gap in the slot's events (tread_event_is_gap()): keep the calls open
 * before it that are still in flight now (so they were all through it);
 * the others may have returned in the gap, and are closed unfinished: an
 * exit read after it could be another call's, and would give them a
 * duration not their own.  A file without frames in flight tells nothing:
 * its calls stay open.
 */
static int settle_gap(struct tread_calls *c, const struct tread_event *ev)
{
	struct tread_sub_stacks *ss = &c->slots[ev->slot].stacks;
	uint32_t n;
	int ret = 0;

	if (!c->live)
		return 0;
	n = tread_inflight_read(c->ring, ev->slot, c->live);

	for (uint32_t i = 0; !ret && i <= ss->n; i++) {
		struct tread_call_stack *st = nth_stack(ss, i);
		uint32_t keep = 0;

		while (keep < st->depth &&
		       tread_inflight_has(c->live, n, call_at(c, st, keep)->site,
					  call_at(c, st, keep)->entry_tsc))
			call_at(c, st, keep++)->crossed = true;
		ret = close_above(c, st, ev, keep, TREAD_CALL_GAP);
	}
	return ret;
}

/* The slot has a new owner: the old one's calls are over, on every stack. */
static int change_hands(struct tread_calls *c, const struct tread_event *ev)
{
	struct slot_calls *s = &c->slots[ev->slot];
	int ret = 0;

	for (uint32_t i = 0; !ret && i <= s->stacks.n; i++)
		ret = close_above(c, nth_stack(&s->stacks, i), ev, 0, TREAD_CALL_TID);
	s->tid = ev->tid;
	return ret;
}

int tread_calls_feed(struct tread_calls *c, const struct tread_event *ev)
{
	if (ev->slot >= c->nslots)
		return 0;
	if (ev->kind == TREAD_EV_ENTRY || ev->kind == TREAD_EV_EXIT) {
		if (!c->dated || ev->tsc < c->earliest)
			c->earliest = ev->tsc;
		if (!c->dated || ev->tsc > c->latest)
			c->latest = ev->tsc;
		c->dated = true;
		c->slots[ev->slot].tid = ev->tid;
	}
	switch (ev->kind) {
	case TREAD_EV_ENTRY:
		return enter(c, ev);
	case TREAD_EV_EXIT:
		return leave(c, ev);
	case TREAD_EV_DEPTH:
		return close_depth(c, ev);
	case TREAD_EV_LOST:
		return tread_event_is_gap(ev) ? settle_gap(c, ev) : 0;
	case TREAD_EV_TID:
		return change_hands(c, ev);
	default:
		return 0;
	}
}

static bool among(const struct tread_open_call *live, uint32_t n,
		  const struct tread_open_call *o)
{
	for (uint32_t i = 0; i < n; i++)
		if (live[i].site == o->site && live[i].entry_tsc == o->entry_tsc)
			return true;
	return false;
}

int tread_calls_settle(struct tread_calls *c, uint32_t slot,
		       const struct tread_open_call *live, uint32_t nlive, uint64_t when)
{
	struct tread_event ev = { .kind = TREAD_EV_DEPTH, .slot = slot, .tsc = when };
	struct tread_sub_stacks *ss;
	int ret = 0;

	if (slot >= c->nslots)
		return 0;
	ss = &c->slots[slot].stacks;
	ev.tid = c->slots[slot].tid;
	for (uint32_t i = 0; !ret && i <= ss->n; i++) {
		struct tread_call_stack *st = nth_stack(ss, i);
		uint32_t keep = 0;

		while (keep < st->depth && among(live, nlive, call_at(c, st, keep)))
			keep++;
		ret = close_above(c, st, &ev, keep, TREAD_CALL_SETTLED);
	}
	return ret;
}

bool tread_calls_open_in(const struct tread_calls *c, uint32_t slot, uint32_t i,
			 const struct tread_open_call **open, uint32_t *depth)
{
	const struct tread_sub_stacks *ss;
	const struct tread_call_stack *st;

	*open = NULL;
	*depth = 0;
	if (slot >= c->nslots || c->ops.data_size)
		return false;
	ss = &c->slots[slot].stacks;
	if (i > ss->n)
		return false;
	st = i == 0 ? &ss->zero : &ss->other[i - 1];
	*open = st->calls;
	*depth = st->depth;
	return true;
}

uint64_t tread_calls_stack_id(const struct tread_calls *c, uint32_t slot, uint32_t i)
{
	const struct tread_sub_stacks *ss;

	if (slot >= c->nslots || i == 0)
		return 0;
	ss = &c->slots[slot].stacks;
	return i <= ss->n ? ss->ids[i - 1] : 0;
}

/* @ev's stack into *@st, NULL for a slot out of range; 0 or -ENOMEM. */
static int stack_if_any(struct tread_calls *c, const struct tread_event *ev,
			struct tread_call_stack **st)
{
	*st = NULL;
	if (ev->slot >= c->nslots)
		return 0;
	*st = stack_of(c, ev);
	return *st ? 0 : -ENOMEM;
}

int tread_calls_depth(struct tread_calls *c, const struct tread_event *ev,
		      uint32_t *depth)
{
	struct tread_call_stack *st;
	int ret = stack_if_any(c, ev, &st);

	*depth = st ? st->depth : 0;
	return ret;
}

int tread_calls_innermost(struct tread_calls *c, const struct tread_event *ev,
			  struct tread_open_call **out)
{
	struct tread_call_stack *st;
	int ret = stack_if_any(c, ev, &st);

	*out = NULL;
	if (!st)
		return ret;
	for (int64_t k = (int64_t)st->depth - 1; k >= 0; k--)
		if (call_at(c, st, (uint32_t)k)->site == ev->site) {
			*out = call_at(c, st, (uint32_t)k);
			break;
		}
	return 0;
}

uint64_t tread_calls_running(const struct tread_calls *c)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < c->nslots; i++)
		n += tread_sub_stacks_depth(&c->slots[i].stacks);
	return n;
}

uint64_t tread_calls_too_deep(const struct tread_calls *c)
{
	return c->too_deep;
}

int32_t tread_calls_tid(const struct tread_calls *c, uint32_t slot)
{
	return slot < c->nslots ? c->slots[slot].tid : 0;
}

uint64_t tread_calls_latest(const struct tread_calls *c)
{
	return c->latest;
}

uint64_t tread_calls_earliest(const struct tread_calls *c)
{
	return c->earliest;
}
