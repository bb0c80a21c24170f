// SPDX-License-Identifier: MIT
/*
 * Reading the frames in flight (inflight.h).  The region's place comes
 * from the header copy taken at open, and is checked here against the
 * mapping before anything is read: the file is written by the process we
 * trace, which we do not trust.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/decode/inflight.h"

bool tread_inflight_present(const struct tread_ring *ring)
{
	const struct tat_ring_header *h = &ring->hdr;
	uint64_t bytes;

	if (!h->frames_off || h->frames_off % 8 || !h->frames_per_thread ||
	    h->frames_per_thread > TAT_FRAMES_MAX)
		return false;
	bytes = (uint64_t)h->max_threads * h->frames_per_thread * sizeof(struct tat_frame);
	return h->frames_off <= ring->size && bytes <= ring->size - h->frames_off;
}

uint32_t tread_inflight_max(const struct tread_ring *ring)
{
	return tread_inflight_present(ring) ? ring->hdr.frames_per_thread : 0;
}

static uint64_t open_depth(const struct tread_ring *ring, uint32_t slot)
{
	uint64_t off = ring->hdr.thread_off + (uint64_t)slot * sizeof(struct tat_thread_ctl) +
		       offsetof(struct tat_thread_ctl, open_depth);
	uint64_t d = __atomic_load_n((const uint64_t *)(ring->base + off), __ATOMIC_ACQUIRE);

	return d < ring->hdr.frames_per_thread ? d : ring->hdr.frames_per_thread;
}

static void copy_frames(const struct tread_ring *ring, uint32_t slot, uint64_t n,
			struct tat_frame *to)
{
	const struct tat_frame *from = (const struct tat_frame *)(ring->base +
		ring->hdr.frames_off +
		(uint64_t)slot * ring->hdr.frames_per_thread * sizeof(struct tat_frame));

	for (uint64_t i = 0; i < n; i++) {
		to[i].tsc = __atomic_load_n(&from[i].tsc, __ATOMIC_RELAXED);
		to[i].site = __atomic_load_n(&from[i].site, __ATOMIC_RELAXED);
		to[i].stack = __atomic_load_n(&from[i].stack, __ATOMIC_RELAXED);
	}
}

uint32_t tread_inflight_read(const struct tread_ring *ring, uint32_t slot,
			     struct tread_inflight_frame *out)
{
	static __thread struct tat_frame a[TAT_FRAMES_MAX], b[TAT_FRAMES_MAX];
	uint32_t sites = tread_ring_site_count(ring), n = 0;
	uint64_t d1, d2;

	if (!tread_inflight_present(ring) || slot >= ring->hdr.max_threads)
		return 0;
	d1 = open_depth(ring, slot);
	copy_frames(ring, slot, d1, a);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	d2 = open_depth(ring, slot);
	if (d2 < d1)
		d1 = d2;
	copy_frames(ring, slot, d1, b);
	for (; n < d1; n++) {
		uint32_t site = a[n].site & TAT_FRAME_SITE_MASK;

		if (a[n].tsc != b[n].tsc || a[n].site != b[n].site || a[n].stack != b[n].stack ||
		    (a[n].site & TAT_FRAME_ENDED) || site == 0 || site >= sites)
			break;	/* returned while we looked, or not a call */
		out[n].site = site;
		out[n].stats_mode = a[n].site & TAT_FRAME_STATS;
		out[n].stack = a[n].stack;
		out[n].tsc = a[n].tsc;
	}
	return n;
}

bool tread_inflight_has(const struct tread_inflight_frame *live, uint32_t n,
			uint32_t site, uint64_t tsc)
{
	for (uint32_t i = 0; i < n; i++)
		if (live[i].site == site && live[i].tsc == tsc)
			return true;
	return false;
}

bool tread_inflight_still_open(const struct tread_ring *ring, uint32_t slot,
			       struct tread_inflight_frame *buf, uint32_t site, uint64_t tsc)
{
	return buf && tread_inflight_has(buf, tread_inflight_read(ring, slot, buf), site, tsc);
}
