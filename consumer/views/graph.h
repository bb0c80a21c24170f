/* SPDX-License-Identifier: MIT */
/*
 * The function-graph printer: one line per call event, indented by call
 * depth, all threads merged in timestamp order (docs/tread.md shows it).
 *
 * Every line is: with --time a TIMESTAMP column and a space (see
 * tread_graph_set_time), a "%10.3f us" duration (or 13 blanks), a space,
 * "[%6d]" with the tid, " | ", two spaces per call depth, then one of
 *
 *   name() {           an entry with children (or still running at the end)
 *   name();            an entry directly followed by its own exit (duration)
 *   } and a comment    the exit of a call, with its duration
 *
 * where the comment of an exit is the name between C comment markers,
 * with " (entry not traced)" after the name for an exit whose entry we
 * never saw (no duration), or " (exit lost)" for a call whose exit was
 * lost and that is closed when an outer call's exit arrives (no duration).
 * Exits ended by longjmp get an extra "unwound" comment, those of calls
 * still running when --disable cut them loose a "still running at
 * --disable" one (neither is ever folded into a leaf line).  Losses show as a "lost N events" comment line
 * without indentation, a writer's over-count as an "N events reported lost
 * above were not lost" one.
 */
#ifndef TATTACH_CONSUMER_GRAPH_H
#define TATTACH_CONSUMER_GRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "consumer/filter.h"
#include "consumer/decode/calls.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/input/site_names.h"
#include "consumer/decode/trace.h"

/* Deepest call nesting tracked per stack; deeper entries are not pushed. */
#define TREAD_GRAPH_MAX_DEPTH TREAD_CALLS_MAX_DEPTH

struct tread_graph;

/* tread --time: what the TIMESTAMP column shows (docs/tread.md). */
enum tread_time_mode {
	TREAD_TIME_NONE = 0,	/* no column (the default) */
	TREAD_TIME_ABS,		/* CLOCK_REALTIME, seconds since the epoch */
	TREAD_TIME_TOD,		/* CLOCK_REALTIME, local time of day */
	TREAD_TIME_MONO,	/* CLOCK_MONOTONIC seconds */
	TREAD_TIME_REL,		/* seconds since the first line printed */
	TREAD_TIME_DELTA,	/* seconds since the previous line printed */
};


/*
 * tread_graph_open - a printer writing to @out
 * @tid: print only this thread, 0 for all
 *
 * Returns 0 or -ENOMEM.
 */
int tread_graph_open(const struct tread_ring *ring, struct tread_site_names *names,
		     FILE *out, int32_t tid, struct tread_graph **g);

void tread_graph_close(struct tread_graph *g);

/*
 * tread_graph_set_time - add a TIMESTAMP column (before the header line)
 *
 * Returns 0, or -EINVAL for an unknown mode.
 */
int tread_graph_set_time(struct tread_graph *g, enum tread_time_mode mode);

/* Print only the events @f shows (NULL: all); before the first round. */
void tread_graph_set_filter(struct tread_graph *g, struct tread_filter *f);

/* --srcline: a "file:line" comment after each entry and leaf line. */
void tread_graph_set_srcline(struct tread_graph *g, bool on);

/* The column header line.  Returns 0 or -errno of the failed write. */
int tread_graph_header(struct tread_graph *g);

/*
 * tread_graph_round - print every event the current round of @t hands out
 *
 * Returns 0, -ENOMEM, or -errno of a failed write (-EPIPE when the reader
 * of a pipe went away).
 */
int tread_graph_round(struct tread_graph *g, struct tread_trace *t);

/*
 * tread_graph_summary - "# ..." lines for losses and writer counters,
 * printed only when nonzero
 */
int tread_graph_summary(struct tread_graph *g, const struct tread_trace *t);

#endif /* TATTACH_CONSUMER_GRAPH_H */
