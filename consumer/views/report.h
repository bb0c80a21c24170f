/* SPDX-License-Identifier: MIT */
/*
 * tread --report: time spent per function instead of the call graph.
 *
 * For every function that completed at least one call:
 *
 *   calls  completed calls
 *   total  time inside the function, children included; a recursive call
 *          inside another call of the same function is not added again,
 *          unless that call is never counted (still running, cut loose,
 *          its exit lost)
 *   self   time inside the function minus the time in its traced children
 *   avg    mean duration of one call (children included)
 *   min, max  shortest and longest call
 *
 * sorted by total, largest first.  Calls still running at the end (or
 * when --disable cut them loose) and exits whose entry was not traced
 * have no duration: they are only counted in the trailing "#" lines.
 */
#ifndef TATTACH_CONSUMER_REPORT_H
#define TATTACH_CONSUMER_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "consumer/filter.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/input/site_names.h"
#include "consumer/decode/trace.h"

struct tread_report;

/* -s KEY: what the rows are sorted by (largest first, name: A to Z). */
enum tread_report_key {
	TREAD_REPORT_KEY_END = 0,
	TREAD_REPORT_KEY_CALLS,
	TREAD_REPORT_KEY_TOTAL,
	TREAD_REPORT_KEY_SELF,
	TREAD_REPORT_KEY_AVG,
	TREAD_REPORT_KEY_MAX,
	TREAD_REPORT_KEY_NAME,
};

#define TREAD_REPORT_MAX_KEYS 7

/*
 * tread_report_parse_keys - "total,name" -> keys, 0-ended
 * @keys: room for TREAD_REPORT_MAX_KEYS + 1
 *
 * Returns 0, or -EINVAL with @bad pointing at the unknown key.
 */
int tread_report_parse_keys(const char *list, char *keys, const char **bad);

/* @tid: only this thread, 0 for all.  Returns 0 or -ENOMEM. */
int tread_report_open(const struct tread_ring *ring, struct tread_site_names *names,
		      int32_t tid, struct tread_report **r);

void tread_report_close(struct tread_report *r);

/* Account every event the current round of @t hands out: 0 or -ENOMEM. */
int tread_report_round(struct tread_report *r, struct tread_trace *t);

/* The same, for the events @f shows (@f NULL: all). */
int tread_report_round_filtered(struct tread_report *r, struct tread_trace *t,
				struct tread_filter *f);

/*
 * tread_report_set_view - how the table looks (before the first round)
 * @keys:       -s keys, 0-ended (NULL or empty: by total)
 * @per_thread: one row per thread and function, a TID column, grouped by
 *              thread (smallest tid first)
 * @srcline:    a SOURCE column with file:line of each function
 */
void tread_report_set_view(struct tread_report *r, const char *keys, bool per_thread,
			   bool srcline);

/*
 * tread_report_add_counters - add the stats-mode counters (calls made
 * while the process was in stats mode: no events) to the table, unless
 * @filtered or per thread: filters need events (a "#" line then says the
 * counters were left out).  Functions with counters have no MIN.
 * Returns 0 or -ENOMEM.
 */
int tread_report_add_counters(struct tread_report *r, bool filtered);

/* Print the table and the summary lines: 0 or -errno of a failed write. */
int tread_report_print(struct tread_report *r, const struct tread_trace *t,
		       FILE *out);

#endif /* TATTACH_CONSUMER_REPORT_H */
