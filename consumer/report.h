/* SPDX-License-Identifier: MIT */
/*
 * tread --report: time spent per function instead of the call graph.
 *
 * For every function that completed at least one call:
 *
 *   calls  completed calls
 *   total  time inside the function, children included; a recursive call
 *          inside another call of the same function is not added again
 *   self   time inside the function minus the time in its traced children
 *   avg    mean duration of one call (children included)
 *   min, max  shortest and longest call
 *
 * sorted by total, largest first.  Calls still running at the end and
 * exits whose entry was not traced have no duration: they are only
 * counted in the trailing "#" lines.
 */
#ifndef TATTACH_CONSUMER_REPORT_H
#define TATTACH_CONSUMER_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "consumer/ring_reader.h"
#include "consumer/site_names.h"
#include "consumer/trace.h"

struct tread_report;

/* @tid: only this thread, 0 for all.  Returns 0 or -ENOMEM. */
int tread_report_open(const struct tread_ring *ring, struct tread_site_names *names,
		      int32_t tid, struct tread_report **r);

void tread_report_close(struct tread_report *r);

/* Account every event the current round of @t hands out: 0 or -ENOMEM. */
int tread_report_round(struct tread_report *r, struct tread_trace *t);

/* Print the table and the summary lines: 0 or -errno of a failed write. */
int tread_report_print(struct tread_report *r, const struct tread_trace *t,
		       FILE *out);

#endif /* TATTACH_CONSUMER_REPORT_H */
