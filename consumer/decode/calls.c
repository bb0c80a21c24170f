// SPDX-License-Identifier: MIT
/*
 * Entry/exit pairing per thread slot (calls.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "consumer/decode/calls.h"
#include "consumer/decode/inflight.h"

/* Deeper nesting is not tracked: its exits count as unmatched. */
#define MAX_DEPTH 65536

struct slot_calls {
	struct tread_open_call *open;
	uint32_t depth;
	uint32_t cap;
	int32_t  tid;
};

struct tread_calls {
	const struct tread_ring *ring;
	struct tread_call_ops ops;
	struct tread_inflight_frame *live;	/* frames in flight, after a gap */
	struct slot_calls *slots;
	uint32_t nslots;
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
	c->nslots = ring->hdr.max_threads;
	c->slots = calloc(c->nslots ? c->nslots : 1, sizeof(*c->slots));
	if (tread_inflight_max(ring))
		c->live = calloc(tread_inflight_max(ring), sizeof(*c->live));
	if (!c->slots || (tread_inflight_max(ring) && !c->live)) {
		free(c->slots);
		free(c->live);
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void tread_calls_close(struct tread_calls *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->nslots; i++)
		free(c->slots[i].open);
	free(c->slots);
	free(c->live);
	free(c);
}

static int closed(struct tread_calls *c, const struct tread_event *ev,
		  struct slot_calls *s, bool completed)
{
	const struct tread_open_call *o = &s->open[s->depth];
	struct tread_call call = {
		.site = o->site, .slot = ev->slot, .tid = s->tid, .depth = s->depth,
		.completed = completed, .entry_tsc = o->entry_tsc,
		.exit_tsc = ev->tsc < o->entry_tsc ? o->entry_tsc : ev->tsc,
	};

	return c->ops.closed ? c->ops.closed(c->ops.arg, &call) : 0;
}

/* Close the calls above the first @keep: their exits were not read. */
static int close_above(struct tread_calls *c, const struct tread_event *ev,
		       struct slot_calls *s, uint64_t keep)
{
	int ret = 0;

	while (!ret && s->depth > keep) {
		s->depth--;
		ret = closed(c, ev, s, false);
	}
	return ret;
}

static int enter(struct tread_calls *c, const struct tread_event *ev,
		 struct slot_calls *s)
{
	if (s->depth == MAX_DEPTH)
		return 0;
	if (s->depth == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 32;
		struct tread_open_call *p = reallocarray(s->open, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->open = p;
		s->cap = cap;
	}
	s->open[s->depth].site = ev->site;
	s->open[s->depth].crossed = false;
	s->open[s->depth].entry_tsc = ev->tsc;
	s->depth++;
	return c->ops.entered ? c->ops.entered(c->ops.arg, ev, s->depth - 1) : 0;
}

static int leave(struct tread_calls *c, const struct tread_event *ev,
		 struct slot_calls *s)
{
	int64_t k;
	int ret;

	for (k = (int64_t)s->depth - 1; k >= 0; k--) {
		const struct tread_open_call *o = &s->open[k];

		/* a call kept across a gap that is still running: this exit
		 * is another call's, whose entry was in the gap */
		if (o->site == ev->site &&
		    !(o->crossed && tread_inflight_still_open(c->ring, ev->slot, c->live,
							       o->site, o->entry_tsc)))
			break;
	}
	if (k < 0)
		return 0;	/* entry not read: no duration to tell */
	ret = close_above(c, ev, s, (uint64_t)k + 1);
	if (ret)
		return ret;
	s->depth--;
	return closed(c, ev, s, true);
}

/*
 * A gap in the slot's events (tread_event_is_gap()): keep the calls open
 * before it that are still in flight now (so they were all through it);
 * the others may have returned in the gap, and are closed unfinished.  A
 * file without frames in flight tells nothing: its calls stay open.
 */
static int settle_gap(struct tread_calls *c, const struct tread_event *ev,
		      struct slot_calls *s)
{
	uint32_t n, keep = 0;

	if (!c->live)
		return 0;
	n = tread_inflight_read(c->ring, ev->slot, c->live);

	while (keep < s->depth &&
	       tread_inflight_has(c->live, n, s->open[keep].site, s->open[keep].entry_tsc))
		s->open[keep++].crossed = true;
	return close_above(c, ev, s, keep);
}

int tread_calls_feed(struct tread_calls *c, const struct tread_event *ev)
{
	struct slot_calls *s;

	if (ev->slot >= c->nslots)
		return 0;
	s = &c->slots[ev->slot];
	if (ev->kind == TREAD_EV_ENTRY || ev->kind == TREAD_EV_EXIT) {
		if (!c->dated || ev->tsc < c->earliest)
			c->earliest = ev->tsc;
		if (!c->dated || ev->tsc > c->latest)
			c->latest = ev->tsc;
		c->dated = true;
		s->tid = ev->tid;
	}
	switch (ev->kind) {
	case TREAD_EV_ENTRY:
		return enter(c, ev, s);
	case TREAD_EV_EXIT:
		return leave(c, ev, s);
	case TREAD_EV_DEPTH:
		return close_above(c, ev, s, ev->open);
	case TREAD_EV_LOST:
		return tread_event_is_gap(ev) ? settle_gap(c, ev, s) : 0;
	case TREAD_EV_TID: {
		int ret = close_above(c, ev, s, 0);

		s->tid = ev->tid;
		return ret;
	}
	default:
		return 0;
	}
}

int tread_calls_settle(struct tread_calls *c, uint32_t slot,
		       const struct tread_open_call *live, uint32_t nlive, uint64_t when)
{
	struct tread_event ev = { .kind = TREAD_EV_DEPTH, .slot = slot, .tsc = when };
	struct slot_calls *s;
	uint32_t keep = 0;

	if (slot >= c->nslots)
		return 0;
	s = &c->slots[slot];
	while (keep < s->depth && keep < nlive && s->open[keep].site == live[keep].site &&
	       s->open[keep].entry_tsc == live[keep].entry_tsc)
		keep++;
	return close_above(c, &ev, s, keep);
}

const struct tread_open_call *tread_calls_open_in(const struct tread_calls *c,
						  uint32_t slot, uint32_t *depth)
{
	if (slot >= c->nslots) {
		*depth = 0;
		return NULL;
	}
	*depth = c->slots[slot].depth;
	return c->slots[slot].open;
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
