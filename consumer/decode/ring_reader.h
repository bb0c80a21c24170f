/* SPDX-License-Identifier: MIT */
/*
 * Read access to a ring file (include/tattach/ring.h).
 *
 * The file is written by the traced process, which we do not trust: at
 * open the header is copied once and every offset, count and size in it is
 * checked against the real size of the mapping.  Later code only uses that
 * checked copy for geometry; the few fields that legitimately change while
 * tracing (heads, tails, tids, counters, table counts) are re-read through
 * the accessors below, which load them atomically and clamp them to the
 * checked geometry.
 *
 * A ring can come from a file (mapped) or from a caller's buffer, so the
 * decoder can be unit-tested and fuzzed without touching the file system.
 */
#ifndef TATTACH_CONSUMER_RING_READER_H
#define TATTACH_CONSUMER_RING_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tattach/ring.h"

struct tread_ring {
	const uint8_t *base;	/* first byte of the file */
	size_t         size;	/* bytes we may touch: min(mapping, file_size) */
	size_t         map_size; /* what we mapped (0 for a caller's buffer) */
	bool           writable; /* mapped read-write: tails may be stored */

	struct tat_ring_header hdr; /* checked copy taken at open */
	uint64_t       ring_events;  /* 1 << ring_shift */
	uint64_t       ring_mask;
	uint32_t       site_cap;     /* hdr.site_cap, clamped to what events can index */
};

/* One module table entry, copied out with its strings terminated. */
struct tread_module {
	char     path[TAT_PATH_MAX];
	uint8_t  build_id[TAT_BUILD_ID_MAX];
	uint32_t build_id_len;
	uint64_t load_bias;
};

/*
 * tread_ring_open_file - map and check a ring file
 * @path:     file to open
 * @writable: map read-write, needed to advance tails (tread -f)
 * @out:      the ring; free with tread_ring_close()
 * @err, @errlen: one-line reason on failure, without the path
 *
 * Returns 0, -errno from open/mmap, or -EBADMSG when the contents are not
 * a usable ring file (bad magic, version, geometry...).
 */
int tread_ring_open_file(const char *path, bool writable, struct tread_ring **out,
			 char *err, size_t errlen);

/*
 * tread_ring_open_buffer - check a ring file image held in memory
 * @buf, @len: the image; must stay valid and unchanged in size until close.
 *             It is never written.
 *
 * Same checks and return values as tread_ring_open_file().
 */
int tread_ring_open_buffer(const void *buf, size_t len, struct tread_ring **out,
			   char *err, size_t errlen);

/*
 * tread_ring_open_writable_buffer - like tread_ring_open_buffer(), but
 * tails may be stored into @buf (to test what tread -f does to a file)
 */
int tread_ring_open_writable_buffer(void *buf, size_t len, struct tread_ring **out,
				    char *err, size_t errlen);

void tread_ring_close(struct tread_ring *ring);

/* Live per-thread fields; @slot must be < hdr.max_threads. */
uint64_t tread_ring_head(const struct tread_ring *ring, uint32_t slot);
uint64_t tread_ring_tail(const struct tread_ring *ring, uint32_t slot);
int32_t  tread_ring_tid(const struct tread_ring *ring, uint32_t slot);
uint64_t tread_ring_dropped(const struct tread_ring *ring, uint32_t slot);
uint64_t tread_ring_deep(const struct tread_ring *ring, uint32_t slot);

/*
 * tread_ring_set_tail - tell the writer positions before @tail are consumed
 *
 * Returns 0, or -EROFS when the ring is not writable.
 */
int tread_ring_set_tail(const struct tread_ring *ring, uint32_t slot, uint64_t tail);

/* The raw word at ring position @pos of @slot (no commit check). */
uint64_t tread_ring_word(const struct tread_ring *ring, uint32_t slot, uint64_t pos);

/* True if @word holds what the writer stores at position @pos. */
static inline bool tread_word_committed(const struct tread_ring *ring,
					uint64_t word, uint64_t pos)
{
	return (word & (1ull << TAT_EV_COMMIT_SHIFT)) ==
	       tat_ev_commit_bit(pos, ring->hdr.ring_shift);
}

/* Live header fields. */
uint32_t tread_ring_mode(const struct tread_ring *ring);
uint64_t tread_ring_threads_overflow(const struct tread_ring *ring);
uint32_t tread_ring_site_count(const struct tread_ring *ring);   /* <= site_cap */
uint32_t tread_ring_module_count(const struct tread_ring *ring); /* <= module_cap */

/*
 * tread_ring_site - copy site table entry @index
 *
 * Returns 0, or -ERANGE if @index is 0 (never used), beyond the entries in
 * use, or beyond what events can name.
 */
int tread_ring_site(const struct tread_ring *ring, uint32_t index, struct tat_site *out);

/*
 * tread_ring_module - copy module table entry @index, strings terminated
 *
 * Returns 0, -ERANGE for an index beyond the entries in use, or -EBADMSG
 * for an entry with an empty path.
 */
int tread_ring_module(const struct tread_ring *ring, uint32_t index,
		      struct tread_module *out);

/* TSC ticks -> microseconds / nanoseconds, with the file's calibration. */
double   tread_ring_ticks_to_us(const struct tread_ring *ring, uint64_t ticks);
uint64_t tread_ring_ticks_to_ns(const struct tread_ring *ring, uint64_t ticks);

/*
 * Event timestamps -> clock readings.  The header's calibration says what
 * CLOCK_REALTIME and CLOCK_MONOTONIC read when the event clock read
 * calib_tsc; the event clock ticks tsc_hz times a second.  With
 * TAT_CLOCK_MONO the event clock is CLOCK_MONOTONIC in nanoseconds itself
 * (tsc_hz 1e9, calib_tsc = calib_mono_ns), so one formula serves both:
 *
 *   ns = (tsc - calib_tsc) * 1e9 / tsc_hz + calib_<clock>_ns
 */
enum tread_clock {
	TREAD_CLOCK_REALTIME,	/* nanoseconds since the epoch */
	TREAD_CLOCK_MONOTONIC,	/* CLOCK_MONOTONIC nanoseconds */
};

/* Exact integer arithmetic, saturated to the int64_t range. */
int64_t tread_ring_clock_ns(const struct tread_ring *ring, uint64_t tsc,
			    enum tread_clock which);

/* CLOCK_REALTIME nanoseconds, 0 for a (corrupt) time before the epoch. */
uint64_t tread_ring_tsc_to_real_ns(const struct tread_ring *ring, uint64_t tsc);

#endif /* TATTACH_CONSUMER_RING_READER_H */
