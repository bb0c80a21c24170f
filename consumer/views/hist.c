// SPDX-License-Identifier: MIT
/*
 * tread --hist: log2 histograms of call durations, one per function.
 *
 * Event mode: every call whose entry and exit were both read counts once,
 * with its duration (children included).  Calls still running and calls
 * whose exit was lost have no duration and are counted in a "#" line.
 *
 * Stats mode: the histograms the threads keep (stats_reader.h) are added
 * in; they count every call that returned, in the same log2 buckets.  A
 * trace switched between the modes has calls in both, each call in one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/decode/calls.h"
#include "consumer/decode/stats_reader.h"
#include "consumer/views/views.h"

struct func_hist {
	uint32_t site;
	const char *name;
	struct tread_log2_hist h;
	uint64_t sum_ns;
};

struct hist_view {
	struct tread_view_ctx *v;
	char *const *wanted_funcs;	/* --hist FUNC...: only these */
	unsigned nwanted;
	uint32_t *of_site;		/* [site_cap] index + 1 */
	struct func_hist *funcs;
	uint32_t n, cap;
	uint64_t no_duration;		/* closed without an exit read */
	bool stats_skipped;		/* filters given: counters left out */
};

static bool wanted(const char *name, char *const *funcs, unsigned n)
{
	if (!n)
		return true;
	for (unsigned i = 0; i < n; i++)
		if (tread_view_name_is(name, funcs[i]))
			return true;
	return false;
}

static struct func_hist *hist_of(struct hist_view *hv, uint32_t site)
{
	if (!hv->of_site[site]) {
		if (hv->n == hv->cap) {
			uint32_t cap = hv->cap ? hv->cap * 2 : 32;
			struct func_hist *p = reallocarray(hv->funcs, cap, sizeof(*p));

			if (!p)
				return NULL;
			hv->funcs = p;
			hv->cap = cap;
		}
		memset(&hv->funcs[hv->n], 0, sizeof(hv->funcs[0]));
		hv->funcs[hv->n].site = site;
		hv->of_site[site] = ++hv->n;
	}
	return &hv->funcs[hv->of_site[site] - 1];
}

static int add_call(void *arg, const struct tread_call *c)
{
	struct hist_view *hv = arg;
	struct func_hist *f;
	uint64_t ns;

	if (!c->completed) {
		hv->no_duration += wanted(tread_site_name(hv->v->names, c->site),
					  hv->wanted_funcs, hv->nwanted);
		return 0;
	}
	if (c->site >= hv->v->ring->site_cap)
		return 0;
	f = hist_of(hv, c->site);
	if (!f)
		return -ENOMEM;
	ns = tread_ring_ticks_to_ns(hv->v->ring, c->exit_tsc - c->entry_tsc);
	tread_hist_add(&f->h, ns);
	f->sum_ns += ns;
	return 0;
}

/* Every FUNC must name a function of the trace's site table. */
static int check_funcs(struct tread_view_ctx *v, char *const *funcs, unsigned n)
{
	uint32_t sites = tread_ring_site_count(v->ring);

	for (unsigned i = 0; i < n; i++) {
		bool found = false;

		for (uint32_t s = 1; s < sites && !found; s++)
			found = tread_view_name_is(tread_site_name(v->names, s), funcs[i]);
		if (!found) {
			snprintf(v->err, v->errlen, "--hist: no function '%s' in this trace "
				 "(tread --report lists the functions called)", funcs[i]);
			return TREAD_VIEW_USAGE;
		}
	}
	return 0;
}

static int by_calls(const void *a, const void *b)
{
	const struct func_hist *x = a, *y = b;

	if (x->h.total != y->h.total)
		return x->h.total > y->h.total ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int print(struct hist_view *hv, char *const *funcs, unsigned nfuncs)
{
	FILE *out = hv->v->out;
	char title[512];
	uint32_t printed = 0;
	int ret = 0;

	for (uint32_t i = 0; i < hv->n; i++)
		hv->funcs[i].name = tread_site_name(hv->v->names, hv->funcs[i].site);
	if (hv->n)
		qsort(hv->funcs, hv->n, sizeof(*hv->funcs), by_calls);
	for (uint32_t i = 0; !ret && i < hv->n; i++) {
		const struct func_hist *f = &hv->funcs[i];

		if (!wanted(f->name, funcs, nfuncs))
			continue;
		printed++;
		snprintf(title, sizeof(title), "ns[%s]", f->name);
		errno = 0;
		if (fprintf(out, "# %s: %" PRIu64 " calls, avg %" PRIu64 " ns\n", f->name,
			    f->h.total, f->sum_ns / f->h.total) < 0)
			return errno ? -errno : -EIO;
		ret = tread_hist_print(out, title, &f->h);
	}
	if (!ret && !printed) {
		errno = 0;
		if (fprintf(out, "# no call%s returned in this trace\n",
			    nfuncs ? " of these functions" : "") < 0)
			ret = errno ? -errno : -EIO;
	}
	if (!ret && hv->stats_skipped) {
		errno = 0;
		if (fprintf(out, "# stats-mode counters are left out: filters apply "
			    "to events only\n") < 0)
			ret = errno ? -errno : -EIO;
	}
	if (!ret && hv->no_duration) {
		errno = 0;
		if (fprintf(out, "# %" PRIu64 " calls still running or whose exit "
			    "was lost are not counted\n", hv->no_duration) < 0)
			ret = errno ? -errno : -EIO;
	}
	return ret;
}

/*
 * Add the stats-mode histograms.  Their bucket k is [2^k, 2^(k+1)) ns, ours
 * k + 1 (ours has a bucket of its own for 0 ns; theirs counts 0 and 1 ns
 * in bucket 0, shown here as [1]).  Filters need events: with any, the
 * counters are left out (and a "#" line says so).
 */
static int add_stats(struct hist_view *hv)
{
	const struct tread_ring *ring = hv->v->ring;
	const struct tread_filter_spec *sp = hv->v->spec;
	struct tread_site_stats *st;

	if (!tread_stats_present(ring))
		return 0;
	if (tread_filter_spec_active(sp)) {
		hv->stats_skipped = true;
		return 0;
	}
	st = calloc(ring->site_cap, sizeof(*st));
	if (!st)
		return -ENOMEM;
	tread_stats_sum(ring, st);
	for (uint32_t s = 1; s < ring->site_cap; s++) {
		struct func_hist *f;

		if (!st[s].calls)
			continue;
		f = hist_of(hv, s);
		if (!f) {
			free(st);
			return -ENOMEM;
		}
		for (unsigned k = 0; k < TAT_HIST_BUCKETS && k + 1 < TREAD_HIST_BUCKETS; k++) {
			f->h.count[k + 1] += st[s].hist[k];
			f->h.total += st[s].hist[k];
		}
		f->sum_ns += tread_ring_ticks_to_ns(ring, st[s].total);
	}
	free(st);
	return 0;
}

int tread_hist_run(struct tread_view_ctx *v, char *const *funcs, unsigned nfuncs,
		   bool writer_gone)
{
	struct hist_view hv = { .v = v, .wanted_funcs = funcs, .nwanted = nfuncs };
	/* per sub-stack: a coroutine's calls nest on its own stack */
	struct tread_call_ops ops = { .closed = add_call, .arg = &hv, .by_stack = true };
	struct tread_calls *calls = NULL;
	struct tread_event ev;
	uint32_t depth;
	int ret;

	ret = check_funcs(v, funcs, nfuncs);
	if (ret)
		return ret;
	hv.of_site = calloc(v->ring->site_cap ? v->ring->site_cap : 1, sizeof(uint32_t));
	ret = hv.of_site ? tread_calls_open(v->ring, &ops, &calls) : -ENOMEM;
	if (ret)
		goto out;
	ret = tread_trace_refresh(v->trace, true, writer_gone);
	tread_filter_begin_round(v->filter, true);
	while (!ret && tread_filter_next(v->filter, v->trace, &ev) == 1)
		ret = tread_calls_feed(calls, &ev);
	if (!ret && tread_filter_failed(v->filter))
		ret = -ENOMEM;
	if (!ret)
		ret = add_stats(&hv);
	if (ret)
		goto out;
	/* still running: no duration either */
	for (uint32_t s = 0; s < v->ring->hdr.max_threads; s++) {
		const struct tread_open_call *open;

		for (uint32_t k = 0; tread_calls_open_in(calls, s, k, &open, &depth); k++)
			for (uint32_t i = 0; i < depth; i++)
				hv.no_duration += wanted(tread_site_name(v->names, open[i].site),
							 funcs, nfuncs);
	}
	ret = print(&hv, funcs, nfuncs);
out:
	if (ret == -ENOMEM)
		snprintf(v->err, v->errlen, "out of memory");
	tread_calls_close(calls);
	free(hv.of_site);
	free(hv.funcs);
	return ret;
}
