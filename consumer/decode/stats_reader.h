/* SPDX-License-Identifier: MIT */
/*
 * The counters of stats mode (docs/ring-format.md, "Stats mode"): per
 * (thread slot, function) records that only their thread writes, summed
 * here per function.  Nothing in them is ever lost; calls in flight are
 * not in them (see inflight.h).
 */
#ifndef TATTACH_CONSUMER_STATS_READER_H
#define TATTACH_CONSUMER_STATS_READER_H

#include <stdbool.h>
#include <stdint.h>

#include "consumer/decode/ring_reader.h"

/* One function's counters, summed over the threads. */
struct tread_site_stats {
	uint64_t calls;			/* calls that returned */
	uint64_t total;			/* their time, ticks */
	uint64_t self;			/* minus traced callees, ticks */
	uint64_t max;			/* longest, ticks */
	uint64_t hist[TAT_HIST_BUCKETS];	/* [2^k, 2^(k+1)) ns */
};

/* True if the file has the stats regions and they fit in it. */
bool tread_stats_present(const struct tread_ring *ring);

/*
 * tread_stats_sum - add up every record, per site
 * @out: ring->site_cap entries, overwritten
 *
 * Returns the number of records read (0 without stats regions).
 */
uint64_t tread_stats_sum(const struct tread_ring *ring, struct tread_site_stats *out);

/* All calls the counters hold (0 without stats regions); -1 when out of memory. */
int64_t tread_stats_total_calls(const struct tread_ring *ring);

#endif /* TATTACH_CONSUMER_STATS_READER_H */
