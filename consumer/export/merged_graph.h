/* SPDX-License-Identifier: MIT */
/*
 * The call graph of several traces (tread -i A -i B ...), merged on
 * CLOCK_REALTIME from the export model (collect.h).
 *
 * The lines are tread's graph lines (graph.h) with a PID column before
 * the tid, so each process is its own track however the lines interleave:
 *
 *   # process 1234 (server) on host1: /usr/bin/server
 *   # process 1240 (client) on host1: /usr/bin/client
 *   # DURATION        PID     TID     FUNCTION
 *                   1240 [  1240] | ask() {
 *        2.345 us   1234 [  1234] | handle();
 *        9.876 us   1240 [  1240] | }    <- the end of ask, as in graph.h
 *
 * A program a process ran before an exec (its kept ring, export.h) is a
 * process of its own, "PID:N" in the PID column and its "# process" line
 * (N: its image number), so that its lines are told from those of the
 * pid's current program.
 *
 * The model is balanced (export.h), so two things read differently from
 * the one-trace graph: exits whose entry was not traced are left out
 * (counted in a '#' line), and a call whose exit was lost, or that was
 * still running at the end, is closed by a "} name (exit not traced)"
 * line without a duration.
 */
#ifndef TATTACH_CONSUMER_EXPORT_MERGED_GRAPH_H
#define TATTACH_CONSUMER_EXPORT_MERGED_GRAPH_H

#include <stdio.h>

#include "consumer/export/collect.h"
#include "consumer/views/graph.h"

/*
 * tread_merged_graph_print - write the merged graph of @x to @out
 * @time:  the --time column (graph.h); rel and delta are wall-clock
 *         differences, mono each process's own CLOCK_MONOTONIC
 * @stats: what the collector dropped, for the '#' lines
 *
 * Returns 0, -ENOMEM, or -errno of a failed write.
 */
int tread_merged_graph_print(const struct tread_xtrace *x,
			     const struct tread_collect_stats *stats,
			     enum tread_time_mode time, FILE *out);

#endif /* TATTACH_CONSUMER_EXPORT_MERGED_GRAPH_H */
