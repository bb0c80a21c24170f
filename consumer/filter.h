/* SPDX-License-Identifier: MIT */
/*
 * Which calls a view shows: tread's -F, -N, --tid, -D, --min-duration,
 * --since and --until, applied to the decoded, time-ordered events of a
 * trace, so every view (graph, report, stat, hist, stuck, exports) gets
 * the same answer from the same options.
 *
 * The filter sits between the merged trace (trace.h) and a view and has
 * the same pull interface: tread_filter_next() instead of
 * tread_trace_next(), tread_filter_peek_same()/pop_same() for the one
 * event look-ahead in the same thread.  A NULL filter passes every event
 * through, at no cost.
 *
 * What each option keeps (uftrace's meanings, docs/tread.md):
 *
 *   -F RE     calls of matching functions and everything they call; the
 *             rest is hidden.  Several -F: any of them.
 *   -N RE     hides matching functions AND everything they call.
 *   --tid L   only events of these threads.
 *   -D N      nesting depth at most N in what is shown, counted from 1 at
 *             the outermost shown call (at the -F match with -F).
 *   --min-duration DUR  calls shorter than DUR are hidden (with their
 *             children, which are shorter still).  A call's fate is known
 *             at its exit, or once DUR has passed since its entry: until
 *             then the filter holds the events behind it (all threads,
 *             to keep the time order).  Calls still open when the trace
 *             ends are shown.
 *   --since/--until  calls entered in [since, until]; a call's exit is
 *             shown with its entry, so a call entered before until is
 *             shown whole.
 *
 * Regular expressions are POSIX extended and match the whole name, or the
 * name before a compiler clone suffix ("leaf" matches "leaf.constprop.0").
 * An exit's fate is its entry's; an exit whose entry was not read is shown
 * only when no -F, -D, --min-duration or time range asks about entries.
 */
#ifndef TATTACH_CONSUMER_FILTER_H
#define TATTACH_CONSUMER_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/input/site_names.h"
#include "consumer/decode/trace.h"
#include "consumer/units.h"

#define TREAD_FILTER_MAX_RE   16
#define TREAD_FILTER_MAX_TIDS 64

/* What the options asked for; plain data, filled by the command line. */
struct tread_filter_spec {
	const char *filter_re[TREAD_FILTER_MAX_RE];	/* -F */
	unsigned    nfilter;
	const char *notrace_re[TREAD_FILTER_MAX_RE];	/* -N */
	unsigned    nnotrace;
	int32_t     tids[TREAD_FILTER_MAX_TIDS];	/* --tid */
	unsigned    ntids;
	uint32_t    max_depth;				/* -D, 0 = any */
	uint64_t    min_duration_ns;			/* 0 = any */
	struct tread_time_point since, until;		/* kind 0 = open */
};

/* True if @spec filters anything. */
bool tread_filter_spec_active(const struct tread_filter_spec *spec);

/*
 * tread_filter_check_re - would @re compile?
 * @err, @errlen: regerror's words on failure
 *
 * Returns 0 or -EINVAL.
 */
int tread_filter_check_re(const char *re, char *err, size_t errlen);

/* Does @re (whole-name, as -F/-N use it) match @name?  1, 0 or -EINVAL. */
int tread_filter_name_matches(const char *re, const char *name);

/* True if @tid passes the --tid list of @spec. */
bool tread_filter_spec_tid(const struct tread_filter_spec *spec, int32_t tid);

struct tread_filter;

/*
 * tread_filter_open - a filter over @t doing what @spec says
 *
 * *@out is NULL when @spec filters nothing (pass everything through).
 * Returns 0, -EINVAL (a regular expression does not compile) or -ENOMEM.
 */
int tread_filter_open(const struct tread_filter_spec *spec, struct tread_trace *t,
		      struct tread_site_names *names, struct tread_filter **out);

void tread_filter_close(struct tread_filter *f);

/*
 * tread_filter_begin_round - say whether the coming round is the last
 * (then calls still undecided are shown).  Call after tread_trace_refresh.
 */
void tread_filter_begin_round(struct tread_filter *f, bool final);

/* As tread_trace_next(): 1 with @ev, 0 when the round has nothing more
 * to show.  With @f NULL, tread_trace_next(@t). */
int tread_filter_next(struct tread_filter *f, struct tread_trace *t,
		      struct tread_event *ev);

/* As tread_trace_peek_same(), among the events the filter shows. */
const struct tread_event *tread_filter_peek_same(struct tread_filter *f,
						 struct tread_trace *t);

/* As tread_trace_pop_same(). */
void tread_filter_pop_same(struct tread_filter *f, struct tread_trace *t);

/* Events the filter ran out of memory on are hidden; true if that happened. */
bool tread_filter_failed(const struct tread_filter *f);

#endif /* TATTACH_CONSUMER_FILTER_H */
