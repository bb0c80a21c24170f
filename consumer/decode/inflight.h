/* SPDX-License-Identifier: MIT */
/*
 * The calls in flight as the threads publish them in the ring file
 * (docs/ring-format.md, "Frames in flight"): per thread slot, the stack of
 * traced calls entered and not left, with their entry times, in every
 * mode -- also when a flight ring has overwritten their ENTRY events, and
 * in stats mode, which writes no events.
 *
 * The owning thread rewrites its frames while we copy them, so a stack is
 * copied twice and only the frames equal in both copies, below both
 * depths, are kept (outermost first, stopping at the first that differs).
 */
#ifndef TATTACH_CONSUMER_INFLIGHT_H
#define TATTACH_CONSUMER_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "consumer/decode/ring_reader.h"

struct tread_inflight_frame {
	uint32_t site;		/* site index, flags removed */
	bool     stats_mode;	/* entered in stats mode (TAT_FRAME_STATS) */
	uint32_t stack;		/* the thread's sub-stack it runs on (0: the
				 * only one, unless the thread switches) */
	uint64_t tsc;		/* entry time, event clock */
};

/*
 * tread_inflight_present - true if the file has frames in flight (a file
 * made before them, or one whose region does not fit, has not)
 */
bool tread_inflight_present(const struct tread_ring *ring);

/* Most frames one slot can have: header.frames_per_thread (checked). */
uint32_t tread_inflight_max(const struct tread_ring *ring);

/*
 * tread_inflight_read - the calls in flight in @slot, in the order they
 * were entered: on each sub-stack (.stack), outermost first; the frames
 * of a thread that switches stacks interleave
 * @out: room for tread_inflight_max() frames
 *
 * Returns how many were stored (0 when the file has no frames).
 */
uint32_t tread_inflight_read(const struct tread_ring *ring, uint32_t slot,
			     struct tread_inflight_frame *out);

/*
 * tread_inflight_has - is the call of @site entered at @tsc among
 * @live[0, @n) (from tread_inflight_read())?  The entry time tells one
 * call of a site from another.
 */
bool tread_inflight_has(const struct tread_inflight_frame *live, uint32_t n,
			uint32_t site, uint64_t tsc);

/*
 * tread_inflight_still_open - is that call in flight in @slot now?  For
 * the calls a reader kept open across a gap in a thread's events
 * (tread_event_is_gap()): an exit read after the gap is theirs only once
 * they have left the frames in flight.  @buf: room for
 * tread_inflight_max() frames; false without frames in flight.
 */
bool tread_inflight_still_open(const struct tread_ring *ring, uint32_t slot,
			       struct tread_inflight_frame *buf, uint32_t site, uint64_t tsc);

#endif /* TATTACH_CONSUMER_INFLIGHT_H */
