/* SPDX-License-Identifier: MIT */
/*
 * Building the export model (export.h) from one or more traces.
 *
 * Each input (a ring file or a saved trace) is read once, to the end, the
 * way `tread` reads it: every thread's events in timestamp order.  Event
 * times become CLOCK_REALTIME nanoseconds with the input's own clock
 * calibration, so inputs from different processes (or machines whose
 * clocks agree) land on one time line; they are merged on that time,
 * each thread keeping its own order.
 *
 * Each thread's calls are balanced on the way (export.h), one stack per
 * thread slot and sub-stack, by the pairing of calls.h (a sub-stack other
 * than 0, a coroutine's, is a thread of its own in the model: export.h):
 *   - an exit whose entry was not traced is dropped;
 *   - an exit that matches an outer open call first closes the calls
 *     above it, whose exits were lost (synthetic exits at its time);
 *   - after a loss, the writer's DEPTH record says how many calls were
 *     still open; the others are closed at the time of that record;
 *   - at a loss that hides events, the calls no longer in flight are
 *     closed at the time of the loss;
 *   - a thread slot taken over by a new thread closes the old one's calls;
 *   - calls still open at the end are closed at the time of the input's
 *     last event.
 * A call tattach adopted at --enable (running when tracing began; an
 * EARLY record marks its ENTRY) is a call like the others, dated at the
 * enable, with @early set on its entry and on its exit, made up or not.
 */
#ifndef TATTACH_CONSUMER_EXPORT_COLLECT_H
#define TATTACH_CONSUMER_EXPORT_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "consumer/decode/calls.h"
#include "consumer/export/export.h"
#include "consumer/filter.h"
#include "consumer/input/site_names.h"

struct tread_collect_config {
	const char *const *inputs;	/* ring files and saved traces */
	size_t      ninputs;
	int32_t     tid;		/* only this thread, 0 = all */
	tread_warn_fn warn;		/* unreadable modules...; may be NULL */
	void       *warn_arg;
	int         pid;		/* the -p PID, for the "not attached" hint; 0 */
	/* tread's filters (-F -N --tid -D --min-duration --since --until),
	 * applied to every input as to the graph; NULL for none */
	const struct tread_filter_spec *filter;
};

/* What the balancing threw away or made up, for a summary line. */
struct tread_collect_stats {
	uint64_t unmatched_exits;	/* exits without a traced entry: dropped */
	uint64_t synthetic_exits;	/* exits the collector made up */
	uint64_t too_deep;		/* entries past TREAD_COLLECT_MAX_DEPTH */
	uint64_t lost;			/* events the traces say are missing */
};

/* Deepest nesting kept per thread, as in the graph. */
#define TREAD_COLLECT_MAX_DEPTH TREAD_CALLS_MAX_DEPTH

/*
 * tread_collect - read every input into one model
 * @out:  the model; free with tread_xtrace_free()
 * @stats: may be NULL
 * @err, @errlen: one line on failure, e.g. "a.ring: corrupt ring file:
 *        ..." or "a.ring and b.tsave are traces of the same process (pid
 *        42): give each process once"
 *
 * Returns 0, -EINVAL (same process twice, no input), -EBADMSG (not a
 * trace), -ENOMEM, or -errno from opening a file.
 */
int tread_collect(const struct tread_collect_config *c, struct tread_xtrace **out,
		  struct tread_collect_stats *stats, char *err, size_t errlen);

void tread_xtrace_free(struct tread_xtrace *x);

#endif /* TATTACH_CONSUMER_EXPORT_COLLECT_H */
