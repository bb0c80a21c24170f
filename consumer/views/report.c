// SPDX-License-Identifier: MIT
/*
 * Per-function time accounting for --report.
 *
 * The calls are paired by calls.h, per thread slot and sub-stack
 * (coroutine, sigaltstack), each open call with the time its traced
 * children took; a call closed by its exit charges its function.  Stats
 * live in a dense array, reached from the site index through a map, so
 * memory follows the number of functions seen, not the site table size.
 *
 * TOTAL counts a recursion once: a call of a function completed inside an
 * open call of the same function is covered by that call's duration, so it
 * is kept aside in the nearest such call (nested) until that one ends.
 * Counted, it covers them; not counted (still running at the end, its exit
 * lost, cut loose by --disable), it hands them on to the next call of the
 * function below it, or to the total.  Until then they are in the row's
 * nested_open, which the table adds: an interpreter's luaV_execute() whose
 * outermost call was running at --enable still has a TOTAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/views/report.h"
#include "consumer/decode/calls.h"
#include "consumer/decode/stats_reader.h"
#include "consumer/views/summary.h"

/* What the report keeps of an open call (its data in calls.h). */
struct open_call {
	uint64_t children;	/* ticks spent in traced callees */
	uint64_t nested;	/* ticks of completed calls of the same function
				 * inside it, not yet in a total */
	int32_t  nested_tid;	/* their row's thread (--per-thread) */
};

struct func_stats {
	uint32_t site;
	int32_t  tid;		/* --per-thread: the thread, else 0 */
	const char *name;
	uint64_t calls;
	uint64_t total;		/* outermost counted activations only */
	uint64_t nested_open;	/* ticks of completed calls inside open calls
				 * of the function (open_call.nested): shown
				 * in the total, see total_of() */
	uint64_t sum;		/* all activations, for the average */
	uint64_t self;
	uint64_t min;
	uint64_t max;
	bool     from_counters;	/* stats mode added calls: no minimum known */
};

struct tread_report {
	const struct tread_ring *ring;
	struct tread_site_names *names;
	int32_t tid;

	struct tread_calls *calls;	/* the open calls, by slot and sub-stack */
	uint32_t *stats_of_site;	/* [site_cap]: index + 1, 0 = none */
	struct func_stats *stats;
	uint32_t nstats;
	uint32_t stats_cap;

	/* --per-thread: (tid, site) -> index + 1, open addressing */
	uint32_t *by_tid_site;
	uint32_t  hash_cap;		/* power of two, 0 until first use */

	char keys[TREAD_REPORT_MAX_KEYS + 1];	/* -s, 0-ended; empty: total */
	bool per_thread;
	bool srcline;

	bool counters_left_out;		/* stats mode counters, not shown */

	uint64_t unmatched_exits;	/* exit without a traced entry */
	uint64_t outside_table;		/* calls of sites past the site table */
	uint64_t unclosed;		/* calls whose exit was lost */
	uint64_t cut;			/* calls still running at --disable */
};

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

static int closed(void *arg, const struct tread_call *call);
static int unmatched(void *arg, const struct tread_event *ev, uint32_t depth);

int tread_report_open(const struct tread_ring *ring, struct tread_site_names *names,
		      int32_t tid, struct tread_report **out)
{
	struct tread_report *r = calloc(1, sizeof(*r));
	struct tread_call_ops ops = {
		.closed = closed, .unmatched = unmatched, .arg = r,
		.data_size = sizeof(struct open_call), .by_stack = true,
	};

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->ring = ring;
	r->names = names;
	r->tid = tid;
	r->stats_of_site = calloc(ring->site_cap ? ring->site_cap : 1, sizeof(uint32_t));
	if (!r->stats_of_site || tread_calls_open(ring, &ops, &r->calls)) {
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
	tread_calls_close(r->calls);
	free(r->stats_of_site);
	free(r->by_tid_site);
	free(r->stats);
	free(r);
}

static uint32_t hash_slot(const struct tread_report *r, int32_t tid, uint32_t site)
{
	uint64_t k = ((uint64_t)(uint32_t)tid << 32 | site) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(k >> 32) & (r->hash_cap - 1);
}

/* Index + 1 of the row of (tid, site) in the hash, or where it goes. */
static uint32_t *hash_find(struct tread_report *r, int32_t tid, uint32_t site)
{
	uint32_t i = hash_slot(r, tid, site);

	for (;; i = (i + 1) & (r->hash_cap - 1)) {
		uint32_t idx = r->by_tid_site[i];

		if (!idx || (r->stats[idx - 1].tid == tid && r->stats[idx - 1].site == site))
			return &r->by_tid_site[i];
	}
}

/* Keep the hash at most half full. */
static int hash_grow(struct tread_report *r)
{
	uint32_t cap = r->hash_cap ? r->hash_cap * 2 : 256;
	uint32_t *old = r->by_tid_site;

	if (r->hash_cap && r->nstats + 1 <= r->hash_cap / 2)
		return 0;
	r->by_tid_site = calloc(cap, sizeof(*r->by_tid_site));
	if (!r->by_tid_site) {
		r->by_tid_site = old;
		return -ENOMEM;
	}
	r->hash_cap = cap;
	for (uint32_t i = 0; i < r->nstats; i++)
		*hash_find(r, r->stats[i].tid, r->stats[i].site) = i + 1;
	free(old);
	return 0;
}

static struct func_stats *stats_for(struct tread_report *r, uint32_t site, int32_t tid)
{
	struct func_stats *f;
	uint32_t *idx;

	if (r->per_thread) {
		if (hash_grow(r))
			return NULL;
		idx = hash_find(r, tid, site);
	} else {
		idx = &r->stats_of_site[site];
		tid = 0;
	}
	if (*idx)
		return &r->stats[*idx - 1];
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
	f->tid = tid;
	f->min = UINT64_MAX;
	*idx = r->nstats;
	return f;
}

/* The total shown: the counted calls, and those inside calls not counted
 * (yet). */
static uint64_t total_of(const struct func_stats *f)
{
	return add_sat(f->total, f->nested_open);
}

/* The nearest call of @call's function open below it (@call is a recursive
 * call), or NULL. */
static struct open_call *same_below(const struct tread_call *call)
{
	for (uint32_t i = call->depth; i-- > 0;) {
		const struct tread_open_call *o = tread_call_below(call, i);

		if (o->site == call->site)
			return tread_open_call_data(o);
	}
	return NULL;
}

/*
 * @call ends without being counted: the calls of its function completed
 * inside it are not covered by a duration of its own.  They go on to the
 * next call of the function below it, or to the total.  (Plain adds and
 * subtractions for nested and nested_open: what is added is taken off
 * again, exactly, even past a wrap.)
 */
static int uncounted(struct tread_report *r, const struct tread_call *call)
{
	const struct open_call *c = call->data;
	struct open_call *below;
	struct func_stats *f;

	if (!c->nested)
		return 0;
	below = same_below(call);
	if (below) {		/* still open: stays in nested_open */
		below->nested += c->nested;
		below->nested_tid = c->nested_tid;
		return 0;
	}
	f = stats_for(r, call->site, c->nested_tid);	/* there: they made it */
	if (!f)
		return -ENOMEM;
	f->nested_open -= c->nested;
	f->total = add_sat(f->total, c->nested);
	return 0;
}

/* A call closed by the pairing (calls.h): by its exit, charge it. */
static int closed(void *arg, const struct tread_call *call)
{
	struct tread_report *r = arg;
	const struct open_call *c = call->data;
	struct open_call *below;
	struct func_stats *f;
	uint64_t d, self;

	switch (call->end) {
	case TREAD_CALL_RETURNED:
		break;
	case TREAD_CALL_TID:
	case TREAD_CALL_SETTLED:
		/* the old owner's calls: not counted, not told */
		return uncounted(r, call);
	default:
		r->unclosed++;	/* its exit was lost */
		return uncounted(r, call);
	}
	/* cut loose by --disable: its return was never seen, like a call
	 * still running at the end (so is its callers', cut with it) */
	if (call->by->cut) {
		r->cut++;
		return uncounted(r, call);
	}

	d = call->exit_tsc - call->entry_tsc;
	self = d > c->children ? d - c->children : 0;
	below = same_below(call);
	if (call->depth > 0) {
		struct open_call *caller =
			tread_open_call_data(tread_call_below(call, call->depth - 1));

		caller->children = add_sat(caller->children, d);
	}

	if (call->site >= r->ring->site_cap) {	/* corrupt: no name, no row */
		r->outside_table++;
		return 0;
	}
	if (c->nested) {	/* covered by its own duration */
		f = stats_for(r, call->site, c->nested_tid);
		if (!f)
			return -ENOMEM;
		f->nested_open -= c->nested;
	}
	f = stats_for(r, call->site, call->by->tid);
	if (!f)
		return -ENOMEM;
	f->calls++;
	f->sum = add_sat(f->sum, d);
	f->self = add_sat(f->self, self);
	if (below) {		/* covered by that one, if it is counted */
		below->nested += d;
		below->nested_tid = call->by->tid;
		f->nested_open += d;
	} else {
		f->total = add_sat(f->total, d);
	}
	if (d < f->min)
		f->min = d;
	if (d > f->max)
		f->max = d;
	return 0;
}

static int unmatched(void *arg, const struct tread_event *ev, uint32_t depth)
{
	struct tread_report *r = arg;

	(void)ev;
	(void)depth;
	r->unmatched_exits++;
	return 0;
}

int tread_report_round(struct tread_report *r, struct tread_trace *t)
{
	return tread_report_round_filtered(r, t, NULL);
}

int tread_report_round_filtered(struct tread_report *r, struct tread_trace *t,
				struct tread_filter *flt)
{
	struct tread_event ev;
	int ret = 0;

	/* A TID event (the slot changed hands) ends the calls of any thread;
	 * --tid leaves out the other threads' events. */
	while (!ret && tread_filter_next(flt, t, &ev) == 1)
		if (ev.kind == TREAD_EV_TID || !r->tid || ev.tid == r->tid)
			ret = tread_calls_feed(r->calls, &ev);
	return ret;
}

static const char *const key_names[] = {
	[TREAD_REPORT_KEY_CALLS] = "calls",
	[TREAD_REPORT_KEY_TOTAL] = "total",
	[TREAD_REPORT_KEY_SELF]  = "self",
	[TREAD_REPORT_KEY_AVG]   = "avg",
	[TREAD_REPORT_KEY_MAX]   = "max",
	[TREAD_REPORT_KEY_NAME]  = "name",
};

int tread_report_parse_keys(const char *list, char *keys, const char **bad)
{
	static char word[32];
	const char *p = list;
	unsigned n = 0;

	while (*p) {
		size_t len = strcspn(p, ",");
		int k = 0;

		for (int i = TREAD_REPORT_KEY_CALLS; i <= TREAD_REPORT_KEY_NAME; i++)
			if (strlen(key_names[i]) == len && !strncmp(p, key_names[i], len))
				k = i;
		if (!k || n == TREAD_REPORT_MAX_KEYS) {
			snprintf(word, sizeof(word), "%.*s", (int)(len < 31 ? len : 31), p);
			*bad = word;
			return -EINVAL;
		}
		keys[n++] = (char)k;
		p += len;
		if (*p == ',' && *++p == '\0') {
			*bad = "";
			return -EINVAL;
		}
	}
	keys[n] = 0;
	if (!n) {
		*bad = "";
		return -EINVAL;
	}
	return 0;
}

void tread_report_set_view(struct tread_report *r, const char *keys, bool per_thread,
			   bool srcline)
{
	size_t n = keys ? strnlen(keys, TREAD_REPORT_MAX_KEYS) : 0;

	memcpy(r->keys, keys ? keys : "", n);
	r->keys[n] = 0;
	r->per_thread = per_thread;
	r->srcline = srcline;
}

int tread_report_add_counters(struct tread_report *r, bool filtered)
{
	const struct tread_ring *ring = r->ring;
	struct tread_site_stats *st;
	bool any = false;

	if (!tread_stats_present(ring))
		return 0;
	st = calloc(ring->site_cap, sizeof(*st));
	if (!st)
		return -ENOMEM;
	tread_stats_sum(ring, st);
	for (uint32_t s = 1; s < ring->site_cap; s++) {
		struct func_stats *f;

		if (!st[s].calls)
			continue;
		any = true;
		if (filtered || r->per_thread)
			continue;
		f = stats_for(r, s, 0);
		if (!f) {
			free(st);
			return -ENOMEM;
		}
		f->calls = add_sat(f->calls, st[s].calls);
		f->total = add_sat(f->total, st[s].total);
		f->sum = add_sat(f->sum, st[s].total);
		f->self = add_sat(f->self, st[s].self);
		if (st[s].max > f->max)
			f->max = st[s].max;
		f->from_counters = true;
	}
	r->counters_left_out = any && (filtered || r->per_thread);
	free(st);
	return 0;
}

static double avg_of(const struct func_stats *f)
{
	return f->calls ? (double)f->sum / (double)f->calls : 0;
}

/* <0 if @x comes first by @key; sizes largest first, names A to Z. */
static int cmp_key(const struct func_stats *x, const struct func_stats *y, int key)
{
	uint64_t a, b;

	switch (key) {
	case TREAD_REPORT_KEY_CALLS:	a = x->calls; b = y->calls; break;
	case TREAD_REPORT_KEY_SELF:	a = x->self; b = y->self; break;
	case TREAD_REPORT_KEY_MAX:	a = x->max; b = y->max; break;
	case TREAD_REPORT_KEY_AVG:
		return avg_of(x) != avg_of(y) ? (avg_of(x) > avg_of(y) ? -1 : 1) : 0;
	case TREAD_REPORT_KEY_NAME:	return strcmp(x->name, y->name);
	case TREAD_REPORT_KEY_TOTAL:
	default:			a = total_of(x); b = total_of(y); break;
	}
	return a != b ? (a > b ? -1 : 1) : 0;
}

/* qsort has no context argument: the keys of the report being sorted. */
static const char *sort_keys;
static bool sort_per_thread;

static int by_keys(const void *a, const void *b)
{
	const struct func_stats *x = a, *y = b;
	int c;

	if (sort_per_thread && x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	for (const char *k = *sort_keys ? sort_keys : "\2"; *k; k++) {
		c = cmp_key(x, y, *k);
		if (c)
			return c;
	}
	/* ties: by total, then by name, as without -s */
	c = cmp_key(x, y, TREAD_REPORT_KEY_TOTAL);
	return c ? c : strcmp(x->name, y->name);
}

static int put(int ret)
{
	if (ret >= 0)
		return 0;
	return errno ? -errno : -EIO;
}

/* --per-thread: rows are (thread, function) pairs, sorted by thread. */
static uint32_t distinct_tids(const struct tread_report *r)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->nstats; i++)
		n += !i || r->stats[i].tid != r->stats[i - 1].tid;
	return n;
}

static uint32_t distinct_sites(const struct tread_report *r)
{
	uint8_t *seen = calloc(r->ring->site_cap ? r->ring->site_cap : 1, 1);
	uint32_t n = 0;

	if (!seen)
		return r->nstats;	/* an upper bound, and no worse than that */
	for (uint32_t i = 0; i < r->nstats; i++)
		if (!seen[r->stats[i].site]) {
			seen[r->stats[i].site] = 1;
			n++;
		}
	free(seen);
	return n;
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
	running = tread_calls_running(r->calls);
	sort_keys = r->keys;
	sort_per_thread = r->per_thread;
	if (r->nstats)		/* qsort(NULL, 0) is undefined */
		qsort(r->stats, r->nstats, sizeof(*r->stats), by_keys);
	for (uint32_t i = 0; i < r->nstats; i++)	/* sorting moved them */
		if (r->per_thread)
			*hash_find(r, r->stats[i].tid, r->stats[i].site) = i + 1;
		else
			r->stats_of_site[r->stats[i].site] = i + 1;

	errno = 0;
	if (r->per_thread)
		ret = put(fprintf(out, "# %" PRIu64 " calls of %" PRIu32 " functions in %"
				  PRIu32 " threads\n", calls, distinct_sites(r),
				  distinct_tids(r)));
	else
		ret = put(fprintf(out, "# %" PRIu64 " calls of %" PRIu32 " functions\n",
				  calls, r->nstats));
	if (!ret)
		ret = put(fprintf(out, "%s       TOTAL us        SELF us         AVG us"
			  "         MIN us         MAX us  FUNCTION%s\n",
			  r->per_thread ? "#    TID       CALLS" : "#      CALLS",
			  r->srcline ? "  SOURCE" : ""));
	for (uint32_t i = 0; !ret && i < r->nstats; i++) {
		const struct func_stats *f = &r->stats[i];
		const struct tread_ring *ring = r->ring;
		const char *src = r->srcline ? tread_site_srcline(r->names, f->site) : NULL;

		if (r->per_thread)
			ret = put(fprintf(out, " %7" PRId32, f->tid));
		if (ret)
			break;
		char min[32] = "             -";

		if (!f->from_counters)
			snprintf(min, sizeof(min), "%14.3f", tread_ring_ticks_to_us(ring, f->min));
		ret = put(fprintf(out, "%12" PRIu64 " %14.3f %14.3f %14.3f %14s %14.3f  %s%s%s\n",
				  f->calls,
				  tread_ring_ticks_to_us(ring, total_of(f)),
				  tread_ring_ticks_to_us(ring, f->self),
				  tread_ring_ticks_to_us(ring, f->sum) / (double)f->calls,
				  min,
				  tread_ring_ticks_to_us(ring, f->max),
				  f->name, r->srcline ? "  " : "",
				  r->srcline ? (src ? src : "?") : ""));
	}
	if (!ret && running)
		ret = put(fprintf(out, "# %" PRIu64 " calls still running at the end "
				  "are not counted\n", running));
	if (!ret && r->cut)
		ret = put(fprintf(out, "# %" PRIu64 " calls still running at --disable "
				  "are not counted\n", r->cut));
	if (!ret && r->unmatched_exits)
		ret = put(fprintf(out, "# %" PRIu64 " exits without a traced entry "
				  "are not counted\n", r->unmatched_exits));
	if (!ret && r->outside_table)
		ret = put(fprintf(out, "# %" PRIu64 " calls of sites outside the site "
				  "table are not counted\n", r->outside_table));
	if (!ret && r->counters_left_out)
		ret = put(fprintf(out, "# stats-mode counters are left out: filters and "
				  "--per-thread apply to events only\n"));
	if (!ret && r->unclosed)
		ret = put(fprintf(out, "# %" PRIu64 " calls whose exit was lost are "
				  "not counted\n", r->unclosed));
	if (!ret)
		ret = tread_print_losses(out, t, r->tid);
	return ret;
}
