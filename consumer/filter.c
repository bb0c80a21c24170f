// SPDX-License-Identifier: MIT
/*
 * The event filter described in filter.h.
 *
 * Every event pulled from the trace goes into a queue with a verdict:
 * shown, hidden, or pending (an entry whose duration decides, under
 * --min-duration).  Events leave the queue from its head, in the order
 * they came, and the head waits while it is pending: so the output stays
 * in time order across threads, and without --min-duration nothing waits.
 *
 * Per thread slot, a stack of the calls open in it remembers each call's
 * verdict (its exit gets the same), whether -F matched it or an outer call,
 * whether -N hides what it calls, and its depth in the shown tree.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer/filter.h"
#include "symbols/name_match.h"

#define NO_SEQ UINT64_MAX

enum verdict {
	SHOW = 0,
	HIDE,
	PENDING,	/* entry: shown if it lasts at least min_duration */
	TAKEN,		/* handed out by pop_same: skip */
};

struct queued {
	struct tread_event ev;
	uint8_t verdict;
};

struct frame {
	uint32_t site;
	uint32_t level;		/* depth in the shown tree, 1 = outermost */
	bool     shown;		/* what -F/-N/-D/--tid/time said at entry */
	bool     inside;	/* this call or an outer one matched -F */
	bool     hide_below;	/* -N matched it or an outer call */
	uint64_t tsc;
	uint64_t seq;		/* its entry in the queue while PENDING */
};

struct slot_stack {
	struct frame *frames;
	uint32_t depth;
	uint32_t cap;
};

enum match_state { UNKNOWN = 0, MATCH, NO_MATCH };

struct tread_filter {
	const struct tread_filter_spec *spec;
	struct tread_trace *trace;
	const struct tread_ring *ring;
	struct tread_site_names *names;

	regex_t re_filter[TREAD_FILTER_MAX_RE];
	regex_t re_notrace[TREAD_FILTER_MAX_RE];
	unsigned nfilter, nnotrace;	/* compiled */
	uint8_t *f_match;		/* [site_cap] enum match_state */
	uint8_t *n_match;

	struct slot_stack *stacks;	/* by slot */
	uint32_t nslots;

	struct queued *q;		/* ring of queued events */
	uint64_t q_cap;			/* power of two */
	uint64_t q_head;		/* index of the oldest */
	uint64_t q_len;
	uint64_t q_first_seq;		/* sequence number of q[q_head] */

	bool     final;
	bool     failed;		/* out of memory: events were hidden */
	int32_t  last_slot;		/* of the last event handed out, -1 */
	uint64_t latest_tsc;		/* newest timestamp pulled */
	uint64_t min_ticks;		/* min_duration_ns in event clock ticks */

	/* --since/--until in CLOCK_REALTIME ns (rel: CLOCK_MONOTONIC ns),
	 * fixed at the first dated event. */
	bool     times_known;
	bool     rel_clock;
	int64_t  since_ns, until_ns;
};

/* ------------------------------------------------------------ the spec */

bool tread_filter_spec_active(const struct tread_filter_spec *s)
{
	return s && (s->nfilter || s->nnotrace || s->ntids || s->max_depth ||
		     s->min_duration_ns || s->since.kind || s->until.kind);
}

bool tread_filter_spec_tid(const struct tread_filter_spec *s, int32_t tid)
{
	if (!s || !s->ntids)
		return true;
	for (unsigned i = 0; i < s->ntids; i++)
		if (s->tids[i] == tid)
			return true;
	return false;
}

/* Whole-name matching, shared with tattach (symbols/name_match.h). */
static int compile(regex_t *re, const char *text)
{
	return name_match_compile(re, text, NULL, 0) ? REG_BADPAT : 0;
}

int tread_filter_check_re(const char *text, char *err, size_t errlen)
{
	regex_t re;

	if (name_match_compile(&re, text, err, errlen))
		return -EINVAL;
	regfree(&re);
	return 0;
}

static bool name_matches(const regex_t *re, const char *name)
{
	return name_match(re, name);
}

int tread_filter_name_matches(const char *text, const char *name)
{
	regex_t re;
	bool m;

	if (compile(&re, text))
		return -EINVAL;
	m = name_matches(&re, name);
	regfree(&re);
	return m;
}

/* ------------------------------------------------------------ lifecycle */

int tread_filter_open(const struct tread_filter_spec *spec, struct tread_trace *t,
		      struct tread_site_names *names, struct tread_filter **out)
{
	const struct tread_ring *ring = t->ring;
	struct tread_filter *f;
	uint32_t sites = ring->site_cap ? ring->site_cap : 1;
	int ret = -ENOMEM;

	*out = NULL;
	if (!tread_filter_spec_active(spec))
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->spec = spec;
	f->trace = t;
	f->ring = ring;
	f->names = names;
	f->nslots = ring->hdr.max_threads;
	f->last_slot = -1;
	f->stacks = calloc(f->nslots, sizeof(*f->stacks));
	f->f_match = calloc(sites, 1);
	f->n_match = calloc(sites, 1);
	f->q_cap = 256;
	f->q = malloc(f->q_cap * sizeof(*f->q));
	if (!f->stacks || !f->f_match || !f->n_match || !f->q)
		goto fail;
	for (; f->nfilter < spec->nfilter; f->nfilter++)
		if (compile(&f->re_filter[f->nfilter], spec->filter_re[f->nfilter])) {
			ret = -EINVAL;
			goto fail;
		}
	for (; f->nnotrace < spec->nnotrace; f->nnotrace++)
		if (compile(&f->re_notrace[f->nnotrace], spec->notrace_re[f->nnotrace])) {
			ret = -EINVAL;
			goto fail;
		}
	/* ticks = ns * hz / 1e9, rounded up so "at least" stays true */
	if (spec->min_duration_ns) {
		unsigned __int128 t128 = (unsigned __int128)spec->min_duration_ns *
					 ring->hdr.tsc_hz + 999999999u;

		t128 /= 1000000000u;
		f->min_ticks = t128 > UINT64_MAX ? UINT64_MAX : (uint64_t)t128;
		if (!f->min_ticks)
			f->min_ticks = 1;
	}
	*out = f;
	return 0;
fail:
	tread_filter_close(f);
	return ret;
}

void tread_filter_close(struct tread_filter *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->nfilter; i++)
		regfree(&f->re_filter[i]);
	for (unsigned i = 0; i < f->nnotrace; i++)
		regfree(&f->re_notrace[i]);
	for (uint32_t i = 0; f->stacks && i < f->nslots; i++)
		free(f->stacks[i].frames);
	free(f->stacks);
	free(f->f_match);
	free(f->n_match);
	free(f->q);
	free(f);
}

bool tread_filter_failed(const struct tread_filter *f)
{
	return f && f->failed;
}

void tread_filter_begin_round(struct tread_filter *f, bool final)
{
	if (f)
		f->final = final;
}

/* ------------------------------------------------------------ matching */

static bool site_matches(struct tread_filter *f, uint8_t *cache, const regex_t *res,
			 unsigned n, uint32_t site)
{
	const char *name;
	bool m = false;

	if (!n)
		return false;
	if (site < f->ring->site_cap && cache[site])
		return cache[site] == MATCH;
	name = tread_site_name(f->names, site);
	for (unsigned i = 0; i < n && !m; i++)
		m = name_matches(&res[i], name);
	if (site < f->ring->site_cap)
		cache[site] = m ? MATCH : NO_MATCH;
	return m;
}

/* Local midnight of the day CLOCK_REALTIME @real_ns falls in. */
static int64_t local_midnight_ns(int64_t real_ns)
{
	time_t sec = (time_t)(real_ns / 1000000000);
	struct tm tm;

	if (!localtime_r(&sec, &tm))
		return 0;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000000000;
}

static int64_t point_ns(const struct tread_time_point *p, int64_t first_real,
			int64_t first_mono, int64_t open_end)
{
	switch (p->kind) {
	case TREAD_TIME_POINT_ABS:	return (int64_t)p->ns;
	case TREAD_TIME_POINT_TOD:	return local_midnight_ns(first_real) + (int64_t)p->ns;
	case TREAD_TIME_POINT_REL:	return first_mono + (int64_t)p->ns;
	default:			return open_end;
	}
}

/* Fix the time range at the first dated event. */
static void learn_times(struct tread_filter *f, uint64_t tsc)
{
	const struct tread_filter_spec *s = f->spec;
	int64_t real = tread_ring_clock_ns(f->ring, tsc, TREAD_CLOCK_REALTIME);
	int64_t mono = tread_ring_clock_ns(f->ring, tsc, TREAD_CLOCK_MONOTONIC);

	/* rel points are monotonic; mixing rel with abs/tod compares each
	 * in its own clock, so keep one clock: realtime, with rel moved. */
	f->since_ns = point_ns(&s->since, real, mono, INT64_MIN);
	f->until_ns = point_ns(&s->until, real, mono, INT64_MAX);
	if (s->since.kind == TREAD_TIME_POINT_REL)
		f->since_ns += real - mono;
	if (s->until.kind == TREAD_TIME_POINT_REL)
		f->until_ns += real - mono;
	f->times_known = true;
}

static bool in_time(struct tread_filter *f, uint64_t tsc)
{
	int64_t real;

	if (!f->spec->since.kind && !f->spec->until.kind)
		return true;
	if (!f->times_known)
		learn_times(f, tsc);
	real = tread_ring_clock_ns(f->ring, tsc, TREAD_CLOCK_REALTIME);
	return real >= f->since_ns && real <= f->until_ns;
}

/* --------------------------------------------------------------- queue */

static struct queued *at_seq(struct tread_filter *f, uint64_t seq)
{
	if (seq == NO_SEQ || seq < f->q_first_seq || seq - f->q_first_seq >= f->q_len)
		return NULL;
	return &f->q[(f->q_head + (seq - f->q_first_seq)) & (f->q_cap - 1)];
}

/* Append @ev with @verdict; returns its sequence number or NO_SEQ. */
static uint64_t enqueue(struct tread_filter *f, const struct tread_event *ev,
			enum verdict verdict)
{
	struct queued *q;

	if (f->q_len == f->q_cap) {
		uint64_t cap = f->q_cap * 2;

		q = malloc(cap * sizeof(*q));
		if (!q) {
			f->failed = true;
			return NO_SEQ;
		}
		for (uint64_t i = 0; i < f->q_len; i++)
			q[i] = f->q[(f->q_head + i) & (f->q_cap - 1)];
		free(f->q);
		f->q = q;
		f->q_cap = cap;
		f->q_head = 0;
	}
	q = &f->q[(f->q_head + f->q_len) & (f->q_cap - 1)];
	q->ev = *ev;
	q->verdict = (uint8_t)verdict;
	f->q_len++;
	return f->q_first_seq + f->q_len - 1;
}

static void dequeue(struct tread_filter *f)
{
	f->q_head = (f->q_head + 1) & (f->q_cap - 1);
	f->q_len--;
	f->q_first_seq++;
}

/* A pending call whose duration will not be known: shown. */
static void settle_shown(struct tread_filter *f, struct frame *fr)
{
	struct queued *q = at_seq(f, fr->seq);

	if (q && q->verdict == PENDING)
		q->verdict = SHOW;
	fr->seq = NO_SEQ;
}

/* Drop the frames above @keep of @st; their exits were lost. */
static void truncate_stack(struct tread_filter *f, struct slot_stack *st, uint32_t keep)
{
	while (st->depth > keep)
		settle_shown(f, &st->frames[--st->depth]);
}

/* ------------------------------------------------------------- verdicts */

static int push_frame(struct tread_filter *f, struct slot_stack *st,
		      const struct frame *fr)
{
	if (st->depth == st->cap) {
		uint32_t cap = st->cap ? st->cap * 2 : 32;
		struct frame *p = reallocarray(st->frames, cap, sizeof(*p));

		if (!p) {
			f->failed = true;
			return -ENOMEM;
		}
		st->frames = p;
		st->cap = cap;
	}
	st->frames[st->depth++] = *fr;
	return 0;
}

static void on_call_entry(struct tread_filter *f, const struct tread_event *ev)
{
	const struct tread_filter_spec *s = f->spec;
	struct slot_stack *st = &f->stacks[ev->slot];
	const struct frame *parent = st->depth ? &st->frames[st->depth - 1] : NULL;
	struct frame fr = { .site = ev->site, .tsc = ev->tsc, .seq = NO_SEQ };
	bool ok;

	fr.hide_below = (parent && parent->hide_below) ||
			site_matches(f, f->n_match, f->re_notrace, f->nnotrace, ev->site);
	if (f->nfilter) {
		fr.inside = parent && parent->inside;
		if (fr.inside)
			fr.level = parent->level + 1;
		else if (site_matches(f, f->f_match, f->re_filter, f->nfilter, ev->site)) {
			fr.inside = true;
			fr.level = 1;
		}
	} else {
		fr.inside = true;
		fr.level = parent ? parent->level + 1 : 1;
	}
	ok = !fr.hide_below && fr.inside &&
	     (!s->max_depth || fr.level <= s->max_depth) &&
	     tread_filter_spec_tid(s, ev->tid) && in_time(f, ev->tsc);
	fr.shown = ok;
	if (ok && f->min_ticks) {
		fr.seq = enqueue(f, ev, PENDING);
		if (fr.seq == NO_SEQ)
			return;
	} else if (enqueue(f, ev, ok ? SHOW : HIDE) == NO_SEQ) {
		return;
	}
	push_frame(f, st, &fr);	/* on failure, f->failed says so */
}

static void on_call_exit(struct tread_filter *f, const struct tread_event *ev)
{
	const struct tread_filter_spec *s = f->spec;
	struct slot_stack *st = &f->stacks[ev->slot];
	enum verdict v;
	struct queued *entry;
	struct frame fr;
	int64_t k;

	for (k = (int64_t)st->depth - 1; k >= 0; k--)
		if (st->frames[k].site == ev->site)
			break;
	if (k < 0) {
		/* No entry read: nothing to judge -F, -D, durations or the
		 * time of entry by; -N hides it if an open call says so. */
		bool below_notrace = st->depth && st->frames[st->depth - 1].hide_below;

		v = !f->nfilter && !s->max_depth && !f->min_ticks &&
		    !s->since.kind && !s->until.kind && !below_notrace &&
		    tread_filter_spec_tid(s, ev->tid) ? SHOW : HIDE;
		enqueue(f, ev, v);
		return;
	}
	truncate_stack(f, st, (uint32_t)k + 1);
	fr = st->frames[--st->depth];
	v = fr.shown ? SHOW : HIDE;
	entry = at_seq(f, fr.seq);
	if (entry && entry->verdict == PENDING) {
		uint64_t d = ev->tsc > fr.tsc ? ev->tsc - fr.tsc : 0;

		v = d >= f->min_ticks ? SHOW : HIDE;
		entry->verdict = (uint8_t)v;
	}
	enqueue(f, ev, v);
}

/* Judge one event from the trace and queue it. */
static void take(struct tread_filter *f, const struct tread_event *ev)
{
	const struct tread_filter_spec *s = f->spec;
	struct slot_stack *st = &f->stacks[ev->slot];
	struct tread_event copy;
	uint32_t shown = 0;

	if (ev->kind == TREAD_EV_ENTRY || ev->kind == TREAD_EV_EXIT ||
	    (ev->kind == TREAD_EV_LOST && !ev->undated))
		if (ev->tsc > f->latest_tsc)
			f->latest_tsc = ev->tsc;
	switch (ev->kind) {
	case TREAD_EV_ENTRY:
		on_call_entry(f, ev);
		return;
	case TREAD_EV_EXIT:
		on_call_exit(f, ev);
		return;
	case TREAD_EV_TID:
		/* A new owner: the old one's calls are over.  Views need it. */
		truncate_stack(f, st, 0);
		enqueue(f, ev, SHOW);
		return;
	case TREAD_EV_DEPTH:
		/* The writer had ev->open calls open; views count only the
		 * shown ones, so say how many of those remain. */
		if (st->depth > ev->open)
			truncate_stack(f, st, (uint32_t)ev->open);
		for (uint32_t i = 0; i < st->depth; i++) {
			settle_shown(f, &st->frames[i]);
			shown += st->frames[i].shown;
		}
		copy = *ev;
		copy.open = shown;
		enqueue(f, &copy, tread_filter_spec_tid(s, ev->tid) ? SHOW : HIDE);
		return;
	case TREAD_EV_LOST:
	default:
		enqueue(f, ev, tread_filter_spec_tid(s, ev->tid) &&
			(ev->undated || in_time(f, ev->tsc)) ? SHOW : HIDE);
		return;
	}
}

/* Pull one event from the trace into the queue: false if the round is over. */
static bool pull(struct tread_filter *f)
{
	struct tread_event ev;

	if (tread_trace_next(f->trace, &ev) != 1)
		return false;
	take(f, &ev);
	return true;
}

/*
 * Settle the head if time alone decides it; true if it is settled.
 * @exhausted: the round has nothing more, so in the last round a call
 * still pending never exits: shown.
 */
static bool head_settled(struct tread_filter *f, bool exhausted)
{
	struct queued *q = &f->q[f->q_head];

	if (q->verdict != PENDING)
		return true;
	if (f->latest_tsc - q->ev.tsc >= f->min_ticks || (f->final && exhausted)) {
		/* long enough already, or the trace ends with it open */
		q->verdict = SHOW;
		return true;
	}
	return false;
}

int tread_filter_next(struct tread_filter *f, struct tread_trace *t,
		      struct tread_event *ev)
{
	if (!f)
		return tread_trace_next(t, ev);
	for (;;) {
		if (!f->q_len || !head_settled(f, false)) {
			if (pull(f))
				continue;
			if (!f->q_len || !head_settled(f, true))
				return 0;
		}
		if (f->q[f->q_head].verdict == SHOW) {
			*ev = f->q[f->q_head].ev;
			dequeue(f);
			f->last_slot = (int32_t)ev->slot;
			return 1;
		}
		dequeue(f);	/* hidden or taken */
	}
}

const struct tread_event *tread_filter_peek_same(struct tread_filter *f,
						 struct tread_trace *t)
{
	if (!f)
		return tread_trace_peek_same(t);
	if (f->last_slot < 0)
		return NULL;
	for (uint64_t i = 0;; i++) {
		struct queued *q;

		if (i == f->q_len && !pull(f))
			return NULL;
		q = &f->q[(f->q_head + i) & (f->q_cap - 1)];
		if (q->ev.slot != (uint32_t)f->last_slot ||
		    q->verdict == HIDE || q->verdict == TAKEN)
			continue;
		if (q->verdict == SHOW)
			return &q->ev;
		/* A pending entry: if it turns out hidden, the exit we look
		 * for may come next.  Read on until it is settled. */
		if (!pull(f))
			return NULL;
		i--;
	}
}

void tread_filter_pop_same(struct tread_filter *f, struct tread_trace *t)
{
	if (!f) {
		tread_trace_pop_same(t);
		return;
	}
	for (uint64_t i = 0; i < f->q_len; i++) {
		struct queued *q = &f->q[(f->q_head + i) & (f->q_cap - 1)];

		if (q->ev.slot == (uint32_t)f->last_slot && q->verdict == SHOW) {
			q->verdict = TAKEN;
			return;
		}
	}
}
