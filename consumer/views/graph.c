// SPDX-License-Identifier: MIT
/*
 * Function-graph output.  The only state is the pairing of calls.h, per
 * thread slot and sub-stack: it gives the indentation and the start time
 * of each exit's call, and tells a normal exit from one whose entry we
 * never saw; each of its ends is a line.  When a thread switches stacks
 * (coroutines), a "stack N" comment line says so, and indentation follows
 * that stack.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer/views/graph.h"
#include "consumer/decode/calls.h"
#include "consumer/decode/marks.h"
#include "consumer/decode/values.h"
#include "consumer/input/site_params.h"
#include "consumer/views/summary.h"

/* What the graph keeps of an open call (its data in calls.h). */
struct frame {
	bool     early;		/* entered before tracing: its entry time is
				 * the --enable */
	uint64_t ret;		/* tattach -R: its return value (values.h), 0 */
};

struct tread_graph {
	const struct tread_ring *ring;
	struct tread_site_names *names;
	FILE *out;
	int32_t tid;
	struct tread_filter *filter;	/* NULL: every event */
	bool srcline;			/* --srcline */
	struct tread_calls *calls;	/* the open calls, by slot and sub-stack */
	uint64_t *shown;		/* by slot: sub-stack of the last event shown */
	uint64_t entry_ret;		/* for entered(): the return value of the
					 * call being pushed when print_entry()
					 * read it already, else 0 */
	struct tread_site_params *params; /* tattach -A/-R: parameter names */

	/* --time */
	enum tread_time_mode time;
	int      time_width;		/* of the TIMESTAMP column */
	bool     have_first;		/* rel: first_ns is set */
	int64_t  first_ns;
	bool     have_prev;		/* delta: prev_ns is set */
	int64_t  prev_ns;
	int64_t  tod_sec;		/* tod: the second tod_text shows */
	char     tod_text[16];

	/* The line being built: written with one fwrite. */
	char    *buf;
	size_t   len;
	size_t   cap;
	bool     oom;
};

static int entered(void *arg, const struct tread_event *ev, uint32_t depth, void *data);
static int closed(void *arg, const struct tread_call *call);
static int unmatched(void *arg, const struct tread_event *ev, uint32_t depth);

int tread_graph_open(const struct tread_ring *ring, struct tread_site_names *names,
		     FILE *out, int32_t tid, struct tread_graph **out_g)
{
	struct tread_graph *g = calloc(1, sizeof(*g));
	struct tread_call_ops ops = {
		.entered = entered, .closed = closed, .unmatched = unmatched, .arg = g,
		.data_size = sizeof(struct frame), .by_stack = true,
	};

	*out_g = NULL;
	if (!g)
		return -ENOMEM;
	g->shown = calloc(ring->hdr.max_threads ? ring->hdr.max_threads : 1,
			  sizeof(*g->shown));
	g->cap = 256;
	g->buf = malloc(g->cap);
	if (!g->shown || !g->buf || tread_calls_open(ring, &ops, &g->calls) ||
	    tread_site_params_open(ring, &g->params)) {
		tread_calls_close(g->calls);
		free(g->shown);
		free(g->buf);
		free(g);
		return -ENOMEM;
	}
	g->ring = ring;
	g->names = names;
	g->out = out;
	g->tid = tid;
	*out_g = g;
	return 0;
}

void tread_graph_close(struct tread_graph *g)
{
	if (!g)
		return;
	tread_calls_close(g->calls);
	free(g->shown);
	free(g->buf);
	tread_site_params_close(g->params);
	free(g);
}

/* Width of the TIMESTAMP column; longer values push the line right. */
static int time_width(enum tread_time_mode mode)
{
	switch (mode) {
	case TREAD_TIME_ABS:	return 20;	/* 1700000000.123456789 */
	case TREAD_TIME_TOD:	return 18;	/* 12:34:56.123456789 */
	case TREAD_TIME_MONO:	return 18;	/*   123456.123456789 */
	case TREAD_TIME_REL:
	case TREAD_TIME_DELTA:	return 14;	/*    1.123456789 */
	default:		return 0;
	}
}

int tread_graph_set_time(struct tread_graph *g, enum tread_time_mode mode)
{
	if (!time_width(mode) && mode != TREAD_TIME_NONE)
		return -EINVAL;
	g->time = mode;
	g->time_width = time_width(mode);
	g->have_first = g->have_prev = false;
	g->tod_sec = INT64_MIN;
	return 0;
}

static int write_error(void)
{
	return errno ? -errno : -EIO;
}

/* ------------------------------------------------------- line building */

static bool reserve(struct tread_graph *g, size_t more)
{
	size_t cap = g->cap;
	char *p;

	if (g->oom)
		return false;
	if (g->len + more <= cap)
		return true;
	while (cap < g->len + more)
		cap *= 2;
	p = realloc(g->buf, cap);
	if (!p) {
		g->oom = true;
		return false;
	}
	g->buf = p;
	g->cap = cap;
	return true;
}

static void put_mem(struct tread_graph *g, const char *s, size_t n)
{
	if (!reserve(g, n))
		return;
	memcpy(g->buf + g->len, s, n);
	g->len += n;
}

static void put_str(struct tread_graph *g, const char *s)
{
	put_mem(g, s, strlen(s));
}

static void put_spaces(struct tread_graph *g, size_t n)
{
	if (!reserve(g, n))
		return;
	memset(g->buf + g->len, ' ', n);
	g->len += n;
}

/* Decimal digits of @v, right-aligned in at least @width characters
 * (zero-padded when @zeros), preceded by '-' when @neg. */
static void put_uint(struct tread_graph *g, uint64_t v, int width, bool zeros,
		     bool neg)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (zeros)
		while (n < width && n < (int)sizeof(tmp) - 1)
			tmp[sizeof(tmp) - 1 - n++] = '0';
	if (neg)
		tmp[sizeof(tmp) - 1 - n++] = '-';
	if (n < width)
		put_spaces(g, width - n);
	put_mem(g, tmp + sizeof(tmp) - n, n);
}

/* "%10.3f us " of a duration in microseconds, as printf would. */
static void put_duration(struct tread_graph *g, double us)
{
	double r = us * 1000.0, f, d;
	char tmp[64];
	uint64_t ns;
	int n;

	/* The fast way is exact unless the value lies on a rounding edge
	 * (or is out of uint64_t range): then printf decides.  us >= 0. */
	f = r < 9e15 ? (double)(uint64_t)r : 0;
	d = r - f - 0.5;
	if (r < 9e15 && (d > 1e-6 || d < -1e-6)) {
		ns = (uint64_t)f + (d > 0);
		put_uint(g, ns / 1000, 6, false, false);
		put_mem(g, ".", 1);
		put_uint(g, ns % 1000, 3, true, false);
		put_mem(g, " us ", 4);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%10.3f us ", us);
	if (n > 0)
		put_mem(g, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Seconds with 9 decimals, right-aligned in @width. */
static void put_seconds(struct tread_graph *g, int64_t ns, int width, bool sign)
{
	bool neg = ns < 0 && sign;
	uint64_t mag = neg ? -(uint64_t)ns : (uint64_t)ns;

	if (ns < 0 && !sign)
		mag = 0;	/* a wall clock before 1970: corrupt calibration */
	put_uint(g, mag / 1000000000u, width - 10, false, neg);
	put_mem(g, ".", 1);
	put_uint(g, mag % 1000000000u, 9, true, false);
}

static void put_tod(struct tread_graph *g, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (sec != g->tod_sec) {
		time_t t = (time_t)sec;
		struct tm tm;

		if (localtime_r(&t, &tm))
			snprintf(g->tod_text, sizeof(g->tod_text), "%02d:%02d:%02d",
				 tm.tm_hour, tm.tm_min, tm.tm_sec);
		else
			snprintf(g->tod_text, sizeof(g->tod_text), "??:??:??");
		g->tod_sec = sec;
	}
	put_str(g, g->tod_text);
	put_mem(g, ".", 1);
	put_uint(g, (uint64_t)frac, 9, true, false);
}

/* The TIMESTAMP column and its separating space. */
static void put_time(struct tread_graph *g, bool dated, uint64_t tsc)
{
	int64_t ns, mono;

	if (!dated) {
		put_spaces(g, g->time_width + 1);
		return;
	}
	switch (g->time) {
	case TREAD_TIME_ABS:
		ns = tread_ring_clock_ns(g->ring, tsc, TREAD_CLOCK_REALTIME);
		put_seconds(g, ns, g->time_width, false);
		break;
	case TREAD_TIME_TOD:
		put_tod(g, tread_ring_clock_ns(g->ring, tsc, TREAD_CLOCK_REALTIME));
		break;
	case TREAD_TIME_MONO:
		ns = tread_ring_clock_ns(g->ring, tsc, TREAD_CLOCK_MONOTONIC);
		put_seconds(g, ns, g->time_width, false);
		break;
	case TREAD_TIME_REL:
	case TREAD_TIME_DELTA:
		mono = tread_ring_clock_ns(g->ring, tsc, TREAD_CLOCK_MONOTONIC);
		if (!g->have_first) {
			g->first_ns = mono;
			g->have_first = true;
		}
		if (!g->have_prev)
			g->prev_ns = mono;
		if (__builtin_sub_overflow(mono, g->time == TREAD_TIME_REL ?
					   g->first_ns : g->prev_ns, &ns))
			ns = mono < 0 ? INT64_MIN : INT64_MAX;
		g->prev_ns = mono;
		g->have_prev = true;
		put_seconds(g, ns, g->time_width, true);
		break;
	default:
		return;
	}
	put_mem(g, " ", 1);
}

#define NO_DURATION (-1.0)

/*
 * Start a line: timestamp column (with --time), duration column, tid,
 * indentation.  The caller adds the text and calls end_line().
 */
static void begin_line(struct tread_graph *g, bool dated, uint64_t tsc, double us,
		       int32_t tid, uint32_t depth)
{
	g->len = 0;
	g->oom = false;
	if (g->time)
		put_time(g, dated, tsc);
	if (us >= 0)
		put_duration(g, us);
	else
		put_spaces(g, 14);
	put_mem(g, "[", 1);
	put_uint(g, tid < 0 ? -(uint64_t)(int64_t)tid : (uint64_t)tid, 6, false, tid < 0);
	put_mem(g, "] | ", 4);
	put_spaces(g, 2 * (size_t)depth);
}

static int end_line(struct tread_graph *g)
{
	put_mem(g, "\n", 1);
	if (g->oom)
		return -ENOMEM;
	errno = 0;
	if (fwrite_unlocked(g->buf, 1, g->len, g->out) != g->len)
		return write_error();
	return 0;
}

static double duration_us(struct tread_graph *g, uint64_t from, uint64_t to)
{
	/* A clock that went backwards (corrupt data) shows as 0, not as -ve. */
	return tread_ring_ticks_to_us(g->ring, to > from ? to - from : 0);
}

static const char *name_of(struct tread_graph *g, uint32_t site)
{
	return tread_site_name(g->names, site);
}

/* A call running when tracing began: its duration counts from --enable. */
#define EARLY_NOTE " /* entered before tracing */"

static const char *unwound_note(const struct tread_event *ev)
{
	if (ev->cut)	/* its return was given back to it, unrecorded */
		return " /* still running at --disable */";
	return ev->unwound ? " /* unwound */" : "";
}

/* Open the call @ev enters, whose line is printed; @ret: its return value
 * when already read (tattach -R), else 0. */
static int push(struct tread_graph *g, const struct tread_event *ev, uint64_t ret)
{
	g->entry_ret = ret;
	return tread_calls_feed(g->calls, ev);
}

static int entered(void *arg, const struct tread_event *ev, uint32_t depth, void *data)
{
	struct tread_graph *g = arg;
	struct frame *f = data;

	(void)depth;
	f->early = ev->early;
	f->ret = g->entry_ret;
	return 0;
}

/* A "stack N" comment line when @ev runs on another stack than the slot's last
 * event shown: the indentation that follows is that stack's. */
static int show_stack(struct tread_graph *g, const struct tread_event *ev)
{
	if (ev->stack == g->shown[ev->slot])
		return 0;
	g->shown[ev->slot] = ev->stack;
	begin_line(g, true, ev->tsc, NO_DURATION, ev->tid, 0);
	put_str(g, "/* stack ");
	put_uint(g, ev->stack, 0, false, false);
	put_str(g, " */");
	return end_line(g);
}

/* --srcline: a "file:line" comment after the function name. */
static void put_srcline(struct tread_graph *g, uint32_t site)
{
	const char *src;

	if (!g->srcline)
		return;
	src = tread_site_srcline(g->names, site);
	put_str(g, " /* ");
	put_str(g, src ? src : "?");
	put_str(g, " */");
}

/* tattach -A/-R: "(a=1, b=2)" after a name, or "()" */
static void put_args(struct tread_graph *g, uint32_t site, uint64_t args)
{
	char text[1024];

	put_mem(g, "(", 1);
	if (args) {
		tread_values_format(args, tread_site_params_get(g->params, site), 0, text,
				    sizeof(text));
		put_str(g, text);
	}
	put_mem(g, ")", 1);
}

/* tattach -R: " = 0" */
static void put_ret(struct tread_graph *g, uint32_t site, uint64_t ret)
{
	char text[256];

	if (!ret)
		return;
	tread_values_format(ret, tread_site_params_get(g->params, site), 1, text, sizeof(text));
	put_str(g, " = ");
	put_str(g, text);
}

/* The next event is the VALUES record of the call @ev entered (arguments,
 * or with @is_return its return value)?  Then take it: its id, else 0. */
static uint64_t take_values(struct tread_graph *g, struct tread_trace *t,
			    const struct tread_event *ev, bool is_return)
{
	const struct tread_event *next = tread_filter_peek_same(g->filter, t);
	uint64_t id;

	if (!next || next->kind != TREAD_EV_VALUES || next->site != ev->site ||
	    next->stack != ev->stack || (bool)next->is_return != is_return)
		return 0;
	id = next->values;
	tread_filter_pop_same(g->filter, t);
	return id;
}

/* A return value read on its own: it belongs to the innermost open call
 * of its function, which its EXIT closes next. */
static int note_return(struct tread_graph *g, const struct tread_event *ev)
{
	struct tread_open_call *o;
	int ret = tread_calls_innermost(g->calls, ev, &o);

	if (ret || !ev->is_return)
		return ret;	/* or arguments whose entry was not shown */
	if (o)
		((struct frame *)tread_open_call_data(o))->ret = ev->values;
	return 0;
}

/*
 * A call of a <tattach/mark.h> hook with its recorded text: one comment
 * line (docs/tread.md: "mark: cache miss", "label: worker 3", "counter:
 * queue = 5" between comment delimiters) at the depth it was made; its
 * exit is taken with it.
 */
static int print_mark(struct tread_graph *g, struct tread_trace *t,
		      const struct tread_event *ev, uint32_t depth,
		      enum tread_mark_kind kind, uint64_t args)
{
	const struct tread_event *next;
	char text[512];
	int64_t value;
	int ret;

	tread_mark_read(args, kind, text, sizeof(text), &value);
	begin_line(g, true, ev->tsc, NO_DURATION, ev->tid, depth);
	put_str(g, "/* ");
	put_str(g, tread_mark_kind_name(kind));
	put_str(g, ": ");
	put_str(g, text);
	if (kind == TREAD_MARK_COUNTER) {
		put_str(g, " = ");
		put_uint(g, value < 0 ? -(uint64_t)value : (uint64_t)value, 0, false, value < 0);
	}
	put_str(g, " */");
	ret = end_line(g);
	if (ret)
		return ret;
	next = tread_filter_peek_same(g->filter, t);
	while (next && next->kind == TREAD_EV_DEPTH && next->stack == ev->stack &&
	       next->open == (uint64_t)depth + 1) {
		tread_filter_pop_same(g->filter, t);
		next = tread_filter_peek_same(g->filter, t);
	}
	if (next && next->kind == TREAD_EV_EXIT && next->site == ev->site &&
	    next->stack == ev->stack && !next->unwound) {
		tread_filter_pop_same(g->filter, t);
		return 0;
	}
	return push(g, ev, 0);	/* its exit comes later, on a line of its own */
}

static int print_entry(struct tread_graph *g, struct tread_trace *t,
		       const struct tread_event *ev)
{
	const struct tread_event *next;
	const char *name = name_of(g, ev->site);
	uint64_t args = take_values(g, t, ev, false), retval = 0;
	uint32_t depth;
	int ret = tread_calls_depth(g->calls, ev, &depth);

	if (ret)
		return ret;
	if (args && !ev->early && tread_mark_kind_of(name) != TREAD_MARK_NONE)
		return print_mark(g, t, ev, depth, tread_mark_kind_of(name), args);
	next = tread_filter_peek_same(g->filter, t);
	/* A resync DEPTH that says the writer had just this call open more
	 * than our stack (after a TIME record, every 512 events) tells
	 * nothing: it must not keep a leaf from being folded. */
	while (next && next->kind == TREAD_EV_DEPTH && next->stack == ev->stack &&
	       next->open == (uint64_t)depth + 1) {
		tread_filter_pop_same(g->filter, t);
		next = tread_filter_peek_same(g->filter, t);
	}
	/* a leaf's return value comes just before its exit (and a resync
	 * DEPTH that tells nothing, as above, may come between them) */
	if (next && next->kind == TREAD_EV_VALUES) {
		retval = take_values(g, t, ev, true);
		next = tread_filter_peek_same(g->filter, t);
		while (retval && next && next->kind == TREAD_EV_DEPTH && next->stack == ev->stack &&
		       next->open == (uint64_t)depth + 1) {
			tread_filter_pop_same(g->filter, t);
			next = tread_filter_peek_same(g->filter, t);
		}
	}
	/* An unwound exit keeps two lines, so its note ends a "}" line. */
	if (next && next->kind == TREAD_EV_EXIT && next->site == ev->site &&
	    next->stack == ev->stack && !next->unwound && !next->cut && !ev->early) {
		begin_line(g, true, ev->tsc, duration_us(g, ev->tsc, next->tsc),
			   ev->tid, depth);
		put_str(g, name);
		put_args(g, ev->site, args);
		put_ret(g, ev->site, retval);
		put_mem(g, ";", 1);
		put_srcline(g, ev->site);
		tread_filter_pop_same(g->filter, t);
		return end_line(g);
	}
	begin_line(g, true, ev->tsc, NO_DURATION, ev->tid, depth);
	put_str(g, name);
	put_args(g, ev->site, args);
	put_mem(g, " {", 2);
	if (ev->early)
		put_str(g, EARLY_NOTE);
	put_srcline(g, ev->site);
	ret = end_line(g);
	if (ret)
		return ret;
	return push(g, ev, retval);
}

/* A call closed by the pairing (calls.h): its "}" line. */
static int closed(void *arg, const struct tread_call *call)
{
	struct tread_graph *g = arg;
	const struct tread_event *ev = call->by;
	const struct frame *f = call->data;

	switch (call->end) {
	case TREAD_CALL_RETURNED:
		break;
	case TREAD_CALL_TID:
	case TREAD_CALL_SETTLED:
		return 0;	/* the old owner's calls end without a line */
	default:		/* an exit lost: above a call that returned,
				 * gone at DEPTH, or in a gap */
		begin_line(g, true, ev->tsc, NO_DURATION, ev->tid, call->depth);
		put_str(g, "} /* ");
		put_str(g, name_of(g, call->site));
		put_str(g, " (exit lost) */");
		return end_line(g);
	}
	begin_line(g, true, ev->tsc, duration_us(g, call->entry_tsc, ev->tsc), ev->tid,
		   call->depth);
	put_str(g, "}");
	put_ret(g, ev->site, f->ret);
	put_str(g, " /* ");
	put_str(g, name_of(g, ev->site));
	put_str(g, " */");
	put_str(g, unwound_note(ev));
	if (f->early)
		put_str(g, EARLY_NOTE);
	return end_line(g);
}

static int unmatched(void *arg, const struct tread_event *ev, uint32_t depth)
{
	struct tread_graph *g = arg;

	begin_line(g, true, ev->tsc, NO_DURATION, ev->tid, depth);
	put_str(g, "} /* ");
	put_str(g, name_of(g, ev->site));
	put_str(g, " (entry not traced) */");
	put_str(g, unwound_note(ev));
	return end_line(g);
}

static int print_lost(struct tread_graph *g, const struct tread_event *ev)
{
	uint64_t missing = tread_event_missing(ev);
	int ret = 0;

	if (missing) {
		begin_line(g, !ev->undated, ev->tsc, NO_DURATION, ev->tid, 0);
		put_str(g, "/* lost ");
		put_uint(g, missing, 0, false, false);
		put_str(g, " events */");
		ret = end_line(g);
	}
	if (!ret && ev->lost[TREAD_LOST_OVERCOUNTED]) {
		begin_line(g, !ev->undated, ev->tsc, NO_DURATION, ev->tid, 0);
		put_str(g, "/* ");
		put_uint(g, ev->lost[TREAD_LOST_OVERCOUNTED], 0, false, false);
		put_str(g, " events reported lost above were not lost */");
		ret = end_line(g);
	}
	return ret;
}

void tread_graph_set_filter(struct tread_graph *g, struct tread_filter *f)
{
	g->filter = f;
}

void tread_graph_set_srcline(struct tread_graph *g, bool on)
{
	g->srcline = on;
}

int tread_graph_header(struct tread_graph *g)
{
	errno = 0;
	if (g->time && fprintf(g->out, "# %-*s ", g->time_width - 1, "TIMESTAMP") < 0)
		return write_error();
	if (fputs(g->time ? " DURATION     TID     FUNCTION\n" :
		  "# DURATION     TID     FUNCTION\n", g->out) == EOF)
		return write_error();
	return 0;
}

int tread_graph_round(struct tread_graph *g, struct tread_trace *t)
{
	struct tread_event ev;
	int ret = 0;

	while (!ret && tread_filter_next(g->filter, t, &ev) == 1) {
		if (ev.kind == TREAD_EV_TID) {
			/* The slot has a new owner: the old one's calls are over. */
			g->shown[ev.slot] = 0;
			ret = tread_calls_feed(g->calls, &ev);
			continue;
		}
		if (g->tid && ev.tid != g->tid)
			continue;
		if (ev.kind == TREAD_EV_ENTRY || ev.kind == TREAD_EV_EXIT)
			ret = show_stack(g, &ev);
		if (ret)
			break;
		switch (ev.kind) {
		case TREAD_EV_ENTRY:
			ret = print_entry(g, t, &ev);
			break;
		case TREAD_EV_EXIT:
		case TREAD_EV_DEPTH:	/* the writer had fewer calls open */
			ret = tread_calls_feed(g->calls, &ev);
			break;
		case TREAD_EV_LOST:	/* its line, then the calls it ends */
			ret = print_lost(g, &ev);
			if (!ret)
				ret = tread_calls_feed(g->calls, &ev);
			break;
		case TREAD_EV_VALUES:
			ret = note_return(g, &ev);
			break;
		}
	}
	return ret;
}

int tread_graph_summary(struct tread_graph *g, const struct tread_trace *t)
{
	int ret = tread_print_losses(g->out, t, g->tid);

	if (ret || !tread_calls_too_deep(g->calls))
		return ret;
	errno = 0;
	if (fprintf(g->out, "# %" PRIu64 " calls nested deeper than %u were not "
		    "indented\n", tread_calls_too_deep(g->calls), TREAD_GRAPH_MAX_DEPTH) < 0)
		return write_error();
	return 0;
}
