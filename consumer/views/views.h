/* SPDX-License-Identifier: MIT */
/*
 * The views that summarise calls instead of printing them: --hist,
 * --stat and --stuck.  Each reads the trace through the filter (filter.h)
 * and pairs entries with exits (calls.h); the stat view also reads round
 * after round while the process runs.
 */
#ifndef TATTACH_CONSUMER_VIEWS_H
#define TATTACH_CONSUMER_VIEWS_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "consumer/filter.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/input/site_names.h"
#include "consumer/decode/trace.h"

/* What every view reads from and writes to. */
struct tread_view_ctx {
	const struct tread_ring *ring;
	struct tread_site_names *names;
	struct tread_trace *trace;
	struct tread_filter *filter;	/* NULL: every event */
	const struct tread_filter_spec *spec; /* the options behind @filter */
	FILE *out;
	bool  out_is_tty;		/* stat: redraw in place */
	unsigned poll_ms;		/* stat: pause between reads */
	volatile sig_atomic_t *stop;	/* stat: set by a signal to finish */
	char *err;			/* "<what>: <why>" on failure */
	size_t errlen;
};

/* Returned when the options name something the trace does not have
 * (an unknown --hist function): a usage error, exit status 2. */
#define TREAD_VIEW_USAGE (-EDOM)

/* ---------------------------------------------------- log2 histograms */

/* Bucket 0 holds 0 ns, bucket k >= 1 holds [2^(k-1), 2^k) ns. */
#define TREAD_HIST_BUCKETS 65

struct tread_log2_hist {
	uint64_t count[TREAD_HIST_BUCKETS];
	uint64_t total;		/* sum of the counts */
};

void tread_hist_add(struct tread_log2_hist *h, uint64_t ns);
void tread_hist_merge(struct tread_log2_hist *into, const struct tread_log2_hist *h);

/*
 * tread_hist_percentile - the value below which @pct percent of the
 * samples lie, interpolated linearly inside its bucket (so within a
 * factor of 2 of the truth).  0 for an empty histogram.
 */
uint64_t tread_hist_percentile(const struct tread_log2_hist *h, double pct);

/*
 * tread_hist_print - @h in bpftrace's hist() layout, under "@TITLE:":
 *
 *   [1M, 2M)              7 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
 *
 * K, M, G, T are powers of 1024.  Returns 0 or -errno of a failed write.
 */
int tread_hist_print(FILE *out, const char *title, const struct tread_log2_hist *h);

/* ---------------------------------------------------------- the views */

/*
 * tread_hist_run - tread --hist [FUNC...]: one histogram of call
 * durations per function (only @funcs when @nfuncs), from every event
 * readable now.  Returns 0, TREAD_VIEW_USAGE, -ENOMEM or -errno of a write.
 */
int tread_hist_run(struct tread_view_ctx *v, char *const *funcs, unsigned nfuncs,
		   bool writer_gone);

/*
 * tread_stuck_run - tread --stuck: the calls entered and not returned, per
 * thread, oldest first, with their ages (now, or at the last event of an
 * exited process).  Only calls at least @older_than_ns old.
 */
int tread_stuck_run(struct tread_view_ctx *v, uint64_t older_than_ns, bool writer_gone);

/*
 * tread_stat_run - tread --stat: the live table every @interval_ns, until
 * *v->stop or the process ends (or once for an exited process).
 * @rows: at most this many function rows, 0 = all.
 * The traced process (pid and start time from the header) is checked
 * every round, to notice its end.
 */
int tread_stat_run(struct tread_view_ctx *v, uint64_t interval_ns, unsigned rows);

/* The event clock now (CLOCK_MONOTONIC converted with the calibration). */
uint64_t tread_view_now_tsc(const struct tread_ring *ring);

/* Is thread @tid of @pid running?  A slot whose thread exited keeps its
 * last frames in flight: they are not calls in flight any more. */
bool tread_view_thread_alive(int32_t pid, int32_t tid);

/* Match a --hist FUNC against a name: exactly, or before a clone suffix. */
bool tread_view_name_is(const char *name, const char *func);

#endif /* TATTACH_CONSUMER_VIEWS_H */
