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
 * The table of an interval covers [previous print, now] in the event
 * clock.  Events reach us a poll interval (20 ms) after they are written,
 * so a call returning just before a print may be counted in the next
 * interval.  Calls that returned before tread started are not counted;
 * calls open since before then are in flight from the first interval on.
 *
 * When the process has already ended (post mortem), one table covers the
 * whole trace, from its first event to its last.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer/calls.h"
#include "consumer/proc_alive.h"
#include "consumer/units.h"
#include "consumer/views/views.h"

struct row {
	uint32_t site;
	const char *name;
	uint64_t inflight;	/* calls open now */
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

static int entered(void *arg, const struct tread_event *ev, uint32_t depth)
{
	struct stat_view *sv = arg;
	struct row *r = row_for(sv, ev->site);

	(void)depth;
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

/* Busy share and rate of @r over [sv->start, end]. */
static void finish_row(struct stat_view *sv, struct row *r, uint64_t end)
{
	uint64_t busy = r->busy_ticks, span = end > sv->start ? end - sv->start : 0;
	uint64_t from = r->busy_since > sv->start ? r->busy_since : sv->start;
	double secs = tread_ring_ticks_to_ns(sv->v->ring, span) / 1e9;

	if (r->inflight && end > from)
		busy += end - from;
	r->util = span ? 100.0 * (double)busy / (double)span : 0;
	if (r->util > 100.0)	/* events of the last round dated past @end */
		r->util = 100.0;
	r->rate = secs > 0 ? r->calls / secs : 0;
}

static void reset_row(struct row *r)
{
	r->calls = r->sum_ns = r->busy_ticks = 0;
	memset(&r->h, 0, sizeof(r->h));
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
			     r->rate, r->inflight, avg, p50, p99, r->util, name));
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
	uint64_t dropped = dropped_now(v->ring);
	char span[24];
	int ret;

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
		if (!r->calls && !r->inflight && r->util <= 0)
			continue;
		r->name = tread_site_name(v->names, r->site);
		sv->order[shown++] = r;
	}
	finish_row(sv, &sv->total, end);
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
		ret = read_round(sv, calls, true, true);
		sv->start = tread_calls_earliest(calls);
		return ret ? ret : print_table(sv, tread_calls_latest(calls), rows);
	}
	sv->count_from = sv->start = tread_view_now_tsc(v->ring);
	sv->dropped = dropped_now(v->ring);
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
	struct tread_call_ops ops = { .entered = entered, .closed = closed, .arg = &sv };
	struct tread_calls *calls = NULL;
	int ret;

	sv.of_site = calloc(v->ring->site_cap ? v->ring->site_cap : 1, sizeof(uint32_t));
	ret = sv.of_site ? tread_calls_open(v->ring, &ops, &calls) : -ENOMEM;
	if (!ret)
		ret = run(&sv, calls, interval_ns, rows);
	if (ret == -ENOMEM)
		snprintf(v->err, v->errlen, "out of memory");
	tread_calls_close(calls);
	free(sv.of_site);
	free(sv.rows);
	free(sv.order);
	return ret;
}
