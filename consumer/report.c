// SPDX-License-Identifier: MIT
/*
 * Per-function time accounting for --report.
 *
 * Each thread slot keeps a stack of open calls per sub-stack (coroutine,
 * sigaltstack: sub_stacks.h) with the time their traced children took; an
 * exit pops its call and charges the function.  Stats
 * live in a dense array, reached from the site index through a map, so
 * memory follows the number of functions seen, not the site table size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/report.h"
#include "consumer/sub_stacks.h"
#include "consumer/summary.h"

struct open_call {
	uint32_t site;
	uint64_t start;
	uint64_t children;	/* ticks spent in traced callees */
};

struct func_stats {
	uint32_t site;
	const char *name;
	uint64_t calls;
	uint64_t total;		/* outermost activations only */
	uint64_t sum;		/* all activations, for the average */
	uint64_t self;
	uint64_t min;
	uint64_t max;
};

struct tread_report {
	const struct tread_ring *ring;
	struct tread_site_names *names;
	int32_t tid;

	struct tread_sub_stacks *stacks; /* by slot */
	uint32_t *stats_of_site;	/* [site_cap]: index + 1, 0 = none */
	struct func_stats *stats;
	uint32_t nstats;
	uint32_t stats_cap;

	uint64_t unmatched_exits;	/* exit without a traced entry */
	uint64_t outside_table;		/* calls of sites past the site table */
	uint64_t unclosed;		/* calls whose exit was lost */
};

#define MAX_DEPTH 65536

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

int tread_report_open(const struct tread_ring *ring, struct tread_site_names *names,
		      int32_t tid, struct tread_report **out)
{
	struct tread_report *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->ring = ring;
	r->names = names;
	r->tid = tid;
	r->stacks = calloc(ring->hdr.max_threads, sizeof(*r->stacks));
	r->stats_of_site = calloc(ring->site_cap ? ring->site_cap : 1, sizeof(uint32_t));
	if (!r->stacks || !r->stats_of_site) {
		tread_report_close(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void tread_report_close(struct tread_report *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; r->stacks && i < r->ring->hdr.max_threads; i++)
		tread_sub_stacks_free(&r->stacks[i]);
	free(r->stacks);
	free(r->stats_of_site);
	free(r->stats);
	free(r);
}

static struct func_stats *stats_for(struct tread_report *r, uint32_t site)
{
	struct func_stats *f;
	uint32_t idx = r->stats_of_site[site];

	if (idx)
		return &r->stats[idx - 1];
	if (r->nstats == r->stats_cap) {
		uint32_t cap = r->stats_cap ? r->stats_cap * 2 : 64;

		f = reallocarray(r->stats, cap, sizeof(*f));
		if (!f)
			return NULL;
		r->stats = f;
		r->stats_cap = cap;
	}
	f = &r->stats[r->nstats++];
	memset(f, 0, sizeof(*f));
	f->site = site;
	f->min = UINT64_MAX;
	r->stats_of_site[site] = r->nstats;
	return f;
}

static int enter(struct tread_report *r, const struct tread_event *ev)
{
	struct tread_call_stack *st = tread_sub_stack(&r->stacks[ev->slot], ev->stack);
	struct open_call c = { .site = ev->site, .start = ev->tsc };

	if (!st)
		return -ENOMEM;
	if (st->depth == MAX_DEPTH)
		return 0;	/* its exit will count as unmatched */
	return tread_call_push(st, &c, sizeof(c));
}

static int leave(struct tread_report *r, const struct tread_event *ev)
{
	struct tread_call_stack *cs = tread_sub_stack(&r->stacks[ev->slot], ev->stack);
	struct open_call *calls;
	struct open_call call;
	struct func_stats *f;
	uint64_t d, self;
	bool recursive = false;
	int64_t k;

	if (!cs)
		return -ENOMEM;
	calls = cs->calls;
	for (k = (int64_t)cs->depth - 1; k >= 0; k--)
		if (calls[k].site == ev->site)
			break;
	if (k < 0) {
		r->unmatched_exits++;
		return 0;
	}
	r->unclosed += cs->depth - (k + 1);
	cs->depth = k;
	call = calls[k];

	d = ev->tsc > call.start ? ev->tsc - call.start : 0;
	self = d > call.children ? d - call.children : 0;
	for (int64_t i = 0; i < k && !recursive; i++)
		recursive = calls[i].site == ev->site;
	if (k > 0)
		calls[k - 1].children = add_sat(calls[k - 1].children, d);

	if (ev->site >= r->ring->site_cap) {	/* corrupt: no name, no row */
		r->outside_table++;
		return 0;
	}
	f = stats_for(r, ev->site);
	if (!f)
		return -ENOMEM;
	f->calls++;
	f->sum = add_sat(f->sum, d);
	f->self = add_sat(f->self, self);
	if (!recursive)
		f->total = add_sat(f->total, d);
	if (d < f->min)
		f->min = d;
	if (d > f->max)
		f->max = d;
	return 0;
}

int tread_report_round(struct tread_report *r, struct tread_trace *t)
{
	struct tread_event ev;
	int ret = 0;

	while (!ret && tread_trace_next(t, &ev) == 1) {
		if (ev.kind == TREAD_EV_TID) {
			tread_sub_stacks_clear(&r->stacks[ev.slot]);
			continue;
		}
		if (r->tid && ev.tid != r->tid)
			continue;
		if (ev.kind == TREAD_EV_DEPTH) {
			struct tread_call_stack *st =
				tread_sub_stack(&r->stacks[ev.slot], ev.stack);

			/* the writer had fewer calls open: the rest ended unseen */
			if (!st)
				ret = -ENOMEM;
			else if (st->depth > ev.open) {
				r->unclosed += st->depth - ev.open;
				st->depth = (uint32_t)ev.open;
			}
		} else if (ev.kind == TREAD_EV_ENTRY)
			ret = enter(r, &ev);
		else if (ev.kind == TREAD_EV_EXIT)
			ret = leave(r, &ev);
	}
	return ret;
}

static int by_total(const void *a, const void *b)
{
	const struct func_stats *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int put(int ret)
{
	if (ret >= 0)
		return 0;
	return errno ? -errno : -EIO;
}

int tread_report_print(struct tread_report *r, const struct tread_trace *t,
		       FILE *out)
{
	uint64_t calls = 0, running = 0;
	int ret;

	for (uint32_t i = 0; i < r->nstats; i++) {
		r->stats[i].name = tread_site_name(r->names, r->stats[i].site);
		calls = add_sat(calls, r->stats[i].calls);
	}
	for (uint32_t i = 0; i < r->ring->hdr.max_threads; i++)
		running += tread_sub_stacks_depth(&r->stacks[i]);
	if (r->nstats)		/* qsort(NULL, 0) is undefined */
		qsort(r->stats, r->nstats, sizeof(*r->stats), by_total);
	for (uint32_t i = 0; i < r->nstats; i++)	/* sorting moved them */
		r->stats_of_site[r->stats[i].site] = i + 1;

	errno = 0;
	ret = put(fprintf(out, "# %" PRIu64 " calls of %" PRIu32 " functions\n"
			  "#      CALLS       TOTAL us        SELF us         AVG us"
			  "         MIN us         MAX us  FUNCTION\n",
			  calls, r->nstats));
	for (uint32_t i = 0; !ret && i < r->nstats; i++) {
		const struct func_stats *f = &r->stats[i];
		const struct tread_ring *ring = r->ring;

		ret = put(fprintf(out, "%12" PRIu64 " %14.3f %14.3f %14.3f %14.3f %14.3f  %s\n",
				  f->calls,
				  tread_ring_ticks_to_us(ring, f->total),
				  tread_ring_ticks_to_us(ring, f->self),
				  tread_ring_ticks_to_us(ring, f->sum) / (double)f->calls,
				  tread_ring_ticks_to_us(ring, f->min),
				  tread_ring_ticks_to_us(ring, f->max),
				  f->name));
	}
	if (!ret && running)
		ret = put(fprintf(out, "# %" PRIu64 " calls still running at the end "
				  "are not counted\n", running));
	if (!ret && r->unmatched_exits)
		ret = put(fprintf(out, "# %" PRIu64 " exits without a traced entry "
				  "are not counted\n", r->unmatched_exits));
	if (!ret && r->outside_table)
		ret = put(fprintf(out, "# %" PRIu64 " calls of sites outside the site "
				  "table are not counted\n", r->outside_table));
	if (!ret && r->unclosed)
		ret = put(fprintf(out, "# %" PRIu64 " calls whose exit was lost are "
				  "not counted\n", r->unclosed));
	if (!ret)
		ret = tread_print_losses(out, t, r->tid);
	return ret;
}
