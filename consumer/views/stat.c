// SPDX-License-Identifier: MIT
/*
 * tread --stat: an iostat-like table of the traced functions, refreshed
 * every interval while the process runs.
 *
 * Event mode: the events are read round after round as tread -f reads
 * them, but never consumed (the tails stay where they are): each round's
 * entries and exits update, per function,
 *
 *   in flight   calls entered and not returned, now;
 *   busy        time with at least one call in flight, this interval
 *               (a call in flight the whole interval makes it 100%);
 *   calls, sum, log2 histogram of the calls that returned this interval
 *               (calls/s, average service time, p50, p99).
 *
 * Calls in flight whose ENTRY was never read (overwritten, dropped,
 * consumed) are taken from the frames in flight (inflight.h).
 *
 * The table of an interval covers [previous print, now] in the event
 * clock.  Events reach us a poll interval (20 ms) after they are written,
 * so a call returning just before a print may be counted in the next
 * interval.  Calls that returned before tread started are not counted;
 * calls open since before then are in flight from the first interval on.
 *
 * Stats mode: at each print the counters (stats_reader.h) are summed
 * again; the table shows what they gained since the last print (calls,
 * time, histogram), and the frames in flight (inflight.h) that entered in
 * stats mode are the calls in flight.  The call time spent inside the
 * interval is exact:
 *
 *   busy = (total gained) + (time of the calls open now since their entry)
 *                         - (the same at the last print)
 *
 * but it is summed over calls, not the time with at least one in flight:
 * calls of one function overlapping on several threads add up, capped at
 * 100%.  TOTAL's %util is then at least the largest row's.  A trace switched
 * between the modes has its calls in either, never both: the two add up.
 *
 * When the process has already ended (post mortem), one table covers the
 * whole trace, from its first event to its last (stats mode: from the
 * attach to now).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer/decode/calls.h"
#include "consumer/decode/inflight.h"
#include "consumer/input/proc_alive.h"
#include "consumer/decode/stats_reader.h"
#include "consumer/units.h"
#include "consumer/views/views.h"

struct row {
	uint32_t site;
	const char *name;
	uint64_t inflight;	/* calls open now (events) */
	uint64_t inflight_stats; /* calls open now, entered in stats mode */
	uint64_t inflight_unseen; /* open now by the frames, entry not read */
	uint64_t unseen_since;	/* the oldest of those, clipped to the interval */
	uint64_t busy_since;	/* when inflight last went from 0 to 1 */
	/* this interval */
	uint64_t calls;
	uint64_t sum_ns;
	uint64_t busy_ticks;
	struct tread_log2_hist h;
	/* for printing */
	double util;
	double rate;
};

struct stat_view {
	struct tread_view_ctx *v;
	uint32_t *of_site;	/* [site_cap] index + 1 */
	struct row *rows;
	uint32_t n, cap;
	struct row total;	/* any traced call */
	uint64_t count_from;	/* calls returning before this are not counted */
	uint64_t start;		/* interval start, event clock */
	uint64_t dropped;	/* writer's drop counters at the last print */
	struct row **order;	/* print order */
	uint32_t order_cap;

	/* stats mode, per site: counters and open call time at the last print */
	bool stats;
	struct tread_site_stats *prev, *cur;
	uint64_t *prev_open, *cur_open;	/* ticks since entry, summed */
	struct tread_inflight_frame *frames;
	struct tread_calls *calls;	/* the calls the events left open */
	bool live;			/* the process runs: frames are current */
};

static struct row *row_for(struct stat_view *sv, uint32_t site)
{
	if (site >= sv->v->ring->site_cap)
		return NULL;
	if (!sv->of_site[site]) {
		if (sv->n == sv->cap) {
			uint32_t cap = sv->cap ? sv->cap * 2 : 64;
			struct row *p = reallocarray(sv->rows, cap, sizeof(*p));

			if (!p)
				return NULL;
			sv->rows = p;
			sv->cap = cap;
		}
		memset(&sv->rows[sv->n], 0, sizeof(sv->rows[0]));
		sv->rows[sv->n].site = site;
		sv->of_site[site] = ++sv->n;
	}
	return &sv->rows[sv->of_site[site] - 1];
}

static void start_busy(struct row *r, uint64_t tsc)
{
	if (r->inflight++ == 0)
		r->busy_since = tsc;
}

static void end_busy(struct stat_view *sv, struct row *r, uint64_t tsc)
{
	uint64_t from;

	if (!r->inflight || --r->inflight)
		return;
	from = r->busy_since > sv->start ? r->busy_since : sv->start;
	if (tsc > from)
		r->busy_ticks += tsc - from;
}

static int entered(void *arg, const struct tread_event *ev, uint32_t depth, void *data)
{
	struct stat_view *sv = arg;
	struct row *r = row_for(sv, ev->site);

	(void)depth;
	(void)data;
	if (!r)
		return ev->site >= sv->v->ring->site_cap ? 0 : -ENOMEM;
	start_busy(r, ev->tsc);
	start_busy(&sv->total, ev->tsc);
	return 0;
}

static void count(struct row *r, uint64_t ns)
{
	r->calls++;
	r->sum_ns += ns;
	tread_hist_add(&r->h, ns);
}

static int closed(void *arg, const struct tread_call *c)
{
	struct stat_view *sv = arg;
	struct row *r = row_for(sv, c->site);
	uint64_t ns;

	if (!r)
		return c->site >= sv->v->ring->site_cap ? 0 : -ENOMEM;
	end_busy(sv, r, c->exit_tsc);
	end_busy(sv, &sv->total, c->exit_tsc);
	if (!c->completed || c->exit_tsc < sv->count_from)
		return 0;
	ns = tread_ring_ticks_to_ns(sv->v->ring, c->exit_tsc - c->entry_tsc);
	count(r, ns);
	count(&sv->total, ns);
	return 0;
}

/*
 * A full ring not in flight mode (discard, or stats mode after events):
 * the writer drops every event from now on, exits included, and no DEPTH record will tell which calls ended.
 * The frames in flight do: calls the events left open that are no longer
 * among them have ended (their exits were dropped) and stop counting as
 * in flight, else a ring that filled up would show its last calls busy
 * for ever.  Only then: while events flow, their exits are still to come.
 */
static int settle_full_rings(struct stat_view *sv)
{
	const struct tread_ring *ring = sv->v->ring;
	uint64_t size = 1ull << ring->hdr.ring_shift;
	struct tread_open_call *live = NULL;
	uint32_t max = tread_inflight_max(ring);
	int ret = 0;

	if (!sv->frames || !max || tread_ring_mode(ring) == TAT_MODE_FLIGHT)
		return 0;
	live = calloc(max, sizeof(*live));
	if (!live)
		return -ENOMEM;
	for (uint32_t slot = 0; !ret && slot < ring->hdr.max_threads; slot++) {
		uint64_t used = tread_ring_head(ring, slot) - tread_ring_tail(ring, slot);
		uint32_t n;

		/* room for no more than an event and its TIME and LOST */
		if (!tread_ring_dropped(ring, slot) || used + 3 < size)
			continue;
		n = tread_inflight_read(ring, slot, sv->frames);
		for (uint32_t i = 0; i < n; i++) {
			live[i].site = sv->frames[i].site;
			live[i].entry_tsc = sv->frames[i].tsc;
		}
		ret = tread_calls_settle(sv->calls, slot, live, n,
					 tread_calls_latest(sv->calls));
	}
	free(live);
	return ret;
}

/*
 * Event mode: calls in flight whose ENTRY was not read (overwritten in a
 * flight ring, dropped from a full one, consumed by a tread -f) are still
 * in the frames in flight: count them, and their time since the interval
 * began as busy.  A frame whose entry the events did show is theirs.
 */
/* Did the events show the entry of frame @f, open on one of @slot's
 * stacks? */
static bool opened(const struct tread_calls *calls, uint32_t slot,
		   const struct tread_inflight_frame *f)
{
	const struct tread_open_call *open;
	uint32_t depth;

	for (uint32_t i = 0; tread_calls_open_in(calls, slot, i, &open, &depth); i++)
		for (uint32_t k = 0; k < depth; k++)
			if (open[k].site == f->site && open[k].entry_tsc == f->tsc)
				return true;
	return false;
}

static int add_unseen_frames(struct stat_view *sv)
{
	const struct tread_ring *ring = sv->v->ring;

	for (uint32_t i = 0; i < sv->n; i++)
		sv->rows[i].inflight_unseen = 0;
	if (!sv->live || !sv->frames || tread_filter_spec_active(sv->v->spec))
		return 0;
	for (uint32_t slot = 0; slot < ring->hdr.max_threads; slot++) {
		uint32_t n = tread_inflight_read(ring, slot, sv->frames);

		if (!n || !tread_view_thread_alive(ring->hdr.pid, tread_ring_tid(ring, slot)))
			continue;
		for (uint32_t i = 0; i < n; i++) {
			const struct tread_inflight_frame *f = &sv->frames[i];
			uint64_t since = f->tsc > sv->start ? f->tsc : sv->start;
			struct row *r;

			if (f->stats_mode)
				continue;	/* counted by add_stats() */
			if (opened(sv->calls, slot, f))
				continue;
			r = row_for(sv, f->site);
			if (!r)
				return -ENOMEM;
			if (!r->inflight_unseen++ || since < r->unseen_since)
				r->unseen_since = since;
		}
	}
	return 0;
}

/* Busy share and rate of @r over [sv->start, end]. */
static void finish_row(struct stat_view *sv, struct row *r, uint64_t end)
{
	uint64_t busy = r->busy_ticks, span = end > sv->start ? end - sv->start : 0;
	uint64_t from = r->busy_since > sv->start ? r->busy_since : sv->start;
	double secs = tread_ring_ticks_to_ns(sv->v->ring, span) / 1e9;

	if (r->inflight && end > from)
		busy += end - from;
	r->util = span ? 100.0 * (double)busy / (double)span : 0;
	/* a call in flight by its frame only: busy since (at least) then */
	if (r->inflight_unseen && span && end > r->unseen_since &&
	    100.0 * (double)(end - r->unseen_since) / (double)span > r->util)
		r->util = 100.0 * (double)(end - r->unseen_since) / (double)span;
	if (r->util > 100.0)	/* events of the last round dated past @end */
		r->util = 100.0;
	r->rate = secs > 0 ? r->calls / secs : 0;
}

static void reset_row(struct row *r)
{
	r->calls = r->sum_ns = r->busy_ticks = 0;
	memset(&r->h, 0, sizeof(r->h));
}

/* Stats mode: what the counters and frames gained up to @end. */
static int add_stats(struct stat_view *sv, uint64_t end, bool apply)
{
	const struct tread_ring *ring = sv->v->ring;
	uint32_t sites = ring->site_cap;
	struct tread_site_stats *tmp;
	uint64_t *tmp_open;

	if (!sv->stats)
		return 0;
	tread_stats_sum(ring, sv->cur);
	memset(sv->cur_open, 0, sites * sizeof(*sv->cur_open));
	for (uint32_t i = 0; i < sv->n; i++)
		sv->rows[i].inflight_stats = 0;
	for (uint32_t slot = 0; slot < ring->hdr.max_threads; slot++) {
		uint32_t n = tread_inflight_read(ring, slot, sv->frames);

		for (uint32_t i = 0; i < n; i++) {
			const struct tread_inflight_frame *f = &sv->frames[i];
			struct row *r;

			if (!f->stats_mode)
				continue;	/* its events tell */
			sv->cur_open[f->site] += end > f->tsc ? end - f->tsc : 0;
			if (!apply)
				continue;
			r = row_for(sv, f->site);
			if (!r)
				return -ENOMEM;
			r->inflight_stats++;
		}
	}
	for (uint32_t site = 1; apply && site < sites; site++) {
		const struct tread_site_stats *c = &sv->cur[site], *p = &sv->prev[site];
		int64_t busy;
		struct row *r;

		if (c->calls == p->calls && !sv->cur_open[site] && !sv->prev_open[site])
			continue;
		r = row_for(sv, site);
		if (!r)
			return -ENOMEM;
		r->calls += c->calls - p->calls;
		sv->total.calls += c->calls - p->calls;
		r->sum_ns += tread_ring_ticks_to_ns(ring, c->total - p->total);
		sv->total.sum_ns += tread_ring_ticks_to_ns(ring, c->total - p->total);
		for (unsigned k = 0; k < TAT_HIST_BUCKETS && k + 1 < TREAD_HIST_BUCKETS; k++) {
			uint64_t d = c->hist[k] - p->hist[k];

			r->h.count[k + 1] += d;
			r->h.total += d;
			sv->total.h.count[k + 1] += d;
			sv->total.h.total += d;
		}
		busy = (int64_t)(c->total - p->total) + (int64_t)sv->cur_open[site] -
		       (int64_t)sv->prev_open[site];
		if (busy > 0)
			r->busy_ticks += (uint64_t)busy;
	}
	tmp = sv->prev;
	sv->prev = sv->cur;
	sv->cur = tmp;
	tmp_open = sv->prev_open;
	sv->prev_open = sv->cur_open;
	sv->cur_open = tmp_open;
	return 0;
}

static int by_util(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a;
	const struct row *y = *(const struct row *const *)b;

	if (x->util != y->util)
		return x->util > y->util ? -1 : 1;
	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int wrote(int ret)
{
	return ret < 0 ? (errno ? -errno : -EIO) : 0;
}

static int print_row(FILE *out, const struct row *r, const char *name)
{
	char avg[24] = "-", p50[24] = "-", p99[24] = "-";

	if (r->calls) {
		tread_format_duration(r->sum_ns / r->calls, avg, sizeof(avg));
		tread_format_duration(tread_hist_percentile(&r->h, 50), p50, sizeof(p50));
		tread_format_duration(tread_hist_percentile(&r->h, 99), p99, sizeof(p99));
	}
	return wrote(fprintf(out, "%12.2f %9" PRIu64 " %11s %11s %11s %7.2f  %s\n",
			     r->rate, r->inflight + r->inflight_stats + r->inflight_unseen,
			     avg, p50, p99,
			     r->util, name));
}

static uint64_t dropped_now(const struct tread_ring *ring)
{
	uint64_t n = 0;

	for (uint32_t s = 0; s < ring->hdr.max_threads; s++)
		n += tread_ring_dropped(ring, s);
	return n;
}

/* Print the table of [sv->start, end] and start the next interval. */
static int print_table(struct stat_view *sv, uint64_t end, unsigned max_rows)
{
	struct tread_view_ctx *v = sv->v;
	uint32_t shown = 0;
	uint64_t dropped = dropped_now(v->ring), stats_inflight = 0;
	double max_util = 0;
	char span[24];
	int ret;

	ret = add_stats(sv, end, true);
	if (!ret && sv->live && !tread_filter_spec_active(v->spec))
		ret = settle_full_rings(sv);
	if (!ret)
		ret = add_unseen_frames(sv);
	if (ret)
		return ret;

	if (sv->order_cap < sv->n) {
		struct row **p = reallocarray(sv->order, sv->n, sizeof(*p));

		if (!p)
			return -ENOMEM;
		sv->order = p;
		sv->order_cap = sv->n;
	}
	for (uint32_t i = 0; i < sv->n; i++) {
		struct row *r = &sv->rows[i];

		finish_row(sv, r, end);
		stats_inflight += r->inflight_stats + r->inflight_unseen;
		if (r->util > max_util)
			max_util = r->util;
		if (!r->calls && !r->inflight && !r->inflight_stats && !r->inflight_unseen &&
		    r->util <= 0)
			continue;
		r->name = tread_site_name(v->names, r->site);
		sv->order[shown++] = r;
	}
	finish_row(sv, &sv->total, end);
	sv->total.inflight_stats = stats_inflight;
	/* at least one call in flight is at least any one function's share
	 * (it is more than the events show with counters or frames) */
	if (max_util > sv->total.util)
		sv->total.util = max_util;
	if (shown)
		qsort(sv->order, shown, sizeof(*sv->order), by_util);
	if (max_rows && shown > max_rows)
		shown = max_rows;

	tread_format_duration(tread_ring_ticks_to_ns(v->ring, end > sv->start ?
			      end - sv->start : 0), span, sizeof(span));
	errno = 0;
	ret = wrote(fprintf(v->out, "%s# pid %" PRId32 ", %s interval\n"
			    "#    CALLS/s  INFLIGHT         AVG         P50         P99"
			    "   %%UTIL  FUNCTION\n",
			    v->out_is_tty ? "\033[H\033[2J" : "", v->ring->hdr.pid, span));
	for (uint32_t i = 0; !ret && i < shown; i++)
		ret = print_row(v->out, sv->order[i], sv->order[i]->name);
	if (!ret)
		ret = print_row(v->out, &sv->total, "TOTAL");
	if (!ret && dropped > sv->dropped)
		ret = wrote(fprintf(v->out, "# %" PRIu64 " events dropped by a full ring: "
				    "figures are low (nothing consumes the ring; use "
				    "--mode flight, or run tread -f beside)\n",
				    dropped - sv->dropped));
	if (!ret && !sv->stats && tread_filter_spec_active(v->spec) &&
	    tread_stats_total_calls(v->ring) > 0)
		ret = wrote(fprintf(v->out, "# stats-mode counters are left out: filters "
				    "apply to events only\n"));
	if (!ret && !v->out_is_tty)
		ret = wrote(fputc('\n', v->out) == EOF ? -1 : 0);
	if (!ret)
		ret = wrote(fflush(v->out) == EOF ? -1 : 0);
	sv->dropped = dropped;
	for (uint32_t i = 0; i < sv->n; i++)
		reset_row(&sv->rows[i]);
	reset_row(&sv->total);
	sv->start = end;
	return ret;
}

/* One round: every event ripe now. */
static int read_round(struct stat_view *sv, struct tread_calls *calls, bool final,
		      bool gone)
{
	struct tread_view_ctx *v = sv->v;
	struct tread_event ev;
	int ret = tread_trace_refresh(v->trace, final, gone);

	tread_filter_begin_round(v->filter, final);
	while (!ret && tread_filter_next(v->filter, v->trace, &ev) == 1)
		ret = tread_calls_feed(calls, &ev);
	if (!ret && tread_filter_failed(v->filter))
		ret = -ENOMEM;
	return ret;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);	/* a signal cuts it short: we want that */
}

static bool stopped(const struct tread_view_ctx *v)
{
	return v->stop && *v->stop;
}

static int run(struct stat_view *sv, struct tread_calls *calls, uint64_t interval_ns,
	       unsigned rows)
{
	struct tread_view_ctx *v = sv->v;
	const struct tat_ring_header *h = &v->ring->hdr;
	uint64_t next_print;
	int ret;

	if (!tread_process_alive(h->pid, h->start_time)) {
		/* post mortem: the whole trace in one table */
		uint64_t first, last;

		ret = read_round(sv, calls, true, true);
		first = tread_calls_earliest(calls);
		last = tread_calls_latest(calls);
		if (sv->stats) {	/* counters: since the attach */
			if (!first || v->ring->hdr.calib_tsc < first)
				first = v->ring->hdr.calib_tsc;
			last = tread_view_now_tsc(v->ring);
		}
		sv->start = first;
		return ret ? ret : print_table(sv, last, rows);
	}
	sv->live = true;
	sv->count_from = sv->start = tread_view_now_tsc(v->ring);
	sv->dropped = dropped_now(v->ring);
	ret = add_stats(sv, sv->start, false);	/* count from here on */
	if (ret)
		return ret;
	next_print = mono_ns() + interval_ns;
	for (;;) {
		bool gone = !tread_process_alive(h->pid, h->start_time);

		ret = read_round(sv, calls, gone, gone);
		if (ret || stopped(v))
			return ret;
		if (gone) {
			uint64_t last = tread_calls_latest(calls);

			return print_table(sv, last > sv->start ? last : sv->start, rows);
		}
		if (mono_ns() >= next_print) {
			ret = print_table(sv, tread_view_now_tsc(v->ring), rows);
			if (ret)
				return ret;
			next_print += interval_ns;
		}
		pause_ms(v->poll_ms ? v->poll_ms : 20);
	}
}

int tread_stat_run(struct tread_view_ctx *v, uint64_t interval_ns, unsigned rows)
{
	struct stat_view sv = { .v = v };
	/* per sub-stack: a coroutine's calls nest on its own stack */
	struct tread_call_ops ops = { .entered = entered, .closed = closed, .arg = &sv,
				      .by_stack = true };
	struct tread_calls *calls = NULL;
	int ret;

	uint32_t sites = v->ring->site_cap ? v->ring->site_cap : 1;

	sv.of_site = calloc(sites, sizeof(uint32_t));
	ret = sv.of_site ? tread_calls_open(v->ring, &ops, &calls) : -ENOMEM;
	sv.calls = calls;
	/* counters know nothing of filters, which need events */
	sv.stats = tread_stats_present(v->ring) && !tread_filter_spec_active(v->spec);
	if (!ret && sv.stats) {
		sv.prev = calloc(sites, sizeof(*sv.prev));
		sv.cur = calloc(sites, sizeof(*sv.cur));
		sv.prev_open = calloc(sites, sizeof(*sv.prev_open));
		sv.cur_open = calloc(sites, sizeof(*sv.cur_open));
		if (!sv.prev || !sv.cur || !sv.prev_open || !sv.cur_open)
			ret = -ENOMEM;
	}
	if (!ret && tread_inflight_present(v->ring)) {
		sv.frames = calloc(tread_inflight_max(v->ring), sizeof(*sv.frames));
		if (!sv.frames)
			ret = -ENOMEM;
	}
	if (!ret)
		ret = run(&sv, calls, interval_ns, rows);
	if (ret == -ENOMEM)
		snprintf(v->err, v->errlen, "out of memory");
	tread_calls_close(calls);
	free(sv.of_site);
	free(sv.rows);
	free(sv.order);
	free(sv.prev);
	free(sv.cur);
	free(sv.prev_open);
	free(sv.cur_open);
	free(sv.frames);
	return ret;
}
