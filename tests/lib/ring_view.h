/* SPDX-License-Identifier: MIT */
/*
 * A small, trusting reader of a live ring file for tests: stats records
 * summed per function, ENTRY/EXIT events counted per function, frames in
 * flight, site names.  The real, hostile-input reader is tread.
 */
#ifndef TATTACH_TEST_RING_VIEW_H
#define TATTACH_TEST_RING_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tattach/ring.h"

struct ring_view {
	void *base;
	size_t size;
	const struct tat_ring_header *h;
	char **names;			/* function name of each site index */
};

/* Map the ring file of @pid read-only and name its sites; 0 or -errno. */
int ring_view_open(pid_t pid, struct ring_view *v);
void ring_view_close(struct ring_view *v);

/* The site index of function @name, 0 if none. */
uint32_t ring_view_site(const struct ring_view *v, const char *name);

struct site_totals {
	uint64_t calls, total, self, max;
	uint64_t hist[TAT_HIST_BUCKETS];
	uint32_t records;		/* records (thread slots) that counted it */
	uint64_t slot_calls[8];		/* calls of the first 8 records, as found */
};

/* Sum the stats records of @site over every slot (pool and shared). */
void ring_view_stats(const struct ring_view *v, uint32_t site, struct site_totals *out);

/* ENTRY and EXIT events of @site in every ring.  -EOVERFLOW if a ring
 * wrapped or dropped events (then the counts are not the whole story). */
int ring_view_events(const struct ring_view *v, uint32_t site, uint64_t *entries,
		     uint64_t *exits);

/* EXIT events that do not end the innermost open ENTRY of their ring,
 * over every ring read from position 0 (-EOVERFLOW if one wrapped). */
int ring_view_unmatched_exits(const struct ring_view *v, uint64_t *unmatched);

/* Sum of a u64 field of struct tat_thread_ctl over every slot. */
uint64_t ring_view_ctl_sum(const struct ring_view *v, size_t field_offset);

/* Frames in flight of the slot of thread @tid: up to @max site indexes
 * (outermost first), their TAT_FRAME_* flags (@flags may be NULL) and
 * entry times; returns how many, -ENOENT if the tid has no slot. */
int ring_view_frames(const struct ring_view *v, int32_t tid, uint32_t *sites,
		     uint32_t *flags, uint64_t *tsc, int max);

/* Event-clock ticks to nanoseconds. */
uint64_t ring_view_ns(const struct ring_view *v, uint64_t ticks);

#endif
