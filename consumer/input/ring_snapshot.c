// SPDX-License-Identifier: MIT
/*
 * Copying the readable part of every ring into a smaller ring image.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/input/ring_snapshot.h"

#define MIN_SHIFT 10	/* >= TAT_CHUNK_EVENTS: a TIME chunk fits */
#define COMMIT (1ull << TAT_EV_COMMIT_SHIFT)

struct kept {
	uint32_t slot;
	uint64_t head, tail;
	uint64_t lo;		/* first position copied */
};

static uint64_t align8(uint64_t n)
{
	return (n + 7) & ~7ull;
}

static uint32_t log2_ceil(uint64_t n)
{
	uint32_t s = 0;

	while ((1ull << s) < n)
		s++;
	return s;
}

/* The window a reader would use now (thread_stream.c: tread_stream_init). */
static bool window(const struct tread_ring *ring, struct kept *k)
{
	uint64_t n = ring->ring_events, start, oldest;

	k->head = tread_ring_head(ring, k->slot);
	k->tail = tread_ring_tail(ring, k->slot);
	oldest = k->head > n ? k->head - n : 0;
	start = k->tail > oldest ? k->tail : oldest;
	if (start > k->head)
		start = k->head;
	/* From the start of its TIME chunk, if still intact: dates the
	 * first events (prime_time_base). */
	k->lo = start & ~(uint64_t)(TAT_CHUNK_EVENTS - 1);
	if (k->lo < oldest)
		k->lo = oldest;
	return start > k->tail;		/* positions were overwritten */
}

/* Copy the words of @k into @dst (a ring of 1 << @shift words). */
static void copy_ring(const struct tread_ring *ring, const struct kept *k,
		      uint64_t *dst, uint32_t shift)
{
	uint64_t mask = (1ull << shift) - 1, oldest, head2;

	for (uint64_t p = k->lo; p < k->head; p++) {
		uint64_t w = tread_ring_word(ring, k->slot, p);
		uint64_t bit = tat_ev_commit_bit(p, shift);

		if (!tread_word_committed(ring, w, p))
			bit ^= COMMIT;
		dst[p & mask] = (w & ~COMMIT) | bit;
	}
	/* Words more than a ring behind the head now may be a later lap's. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head2 = tread_ring_head(ring, k->slot);
	oldest = head2 > ring->ring_events ? head2 - ring->ring_events : 0;
	for (uint64_t p = k->lo; p < oldest && p < k->head; p++)
		dst[p & mask] = (dst[p & mask] & ~COMMIT) |
				(tat_ev_commit_bit(p, shift) ^ COMMIT);
}

int tread_ring_snapshot(const struct tread_ring *ring, bool keep_site_cap,
			uint8_t **out, size_t *outlen)
{
	const struct tat_ring_header *h = &ring->hdr;
	uint32_t modules = tread_ring_module_count(ring);
	uint32_t sites = tread_ring_site_count(ring);
	uint32_t site_cap = keep_site_cap ? ring->site_cap : sites;
	uint32_t nkept = 0, shift = MIN_SHIFT;
	uint64_t need = 0, module_off, site_off, thread_off, data_off, size;
	struct tat_ring_header nh;
	bool overwritten = false;
	struct kept *kept;
	uint8_t *img;

	*out = NULL;
	kept = calloc(h->max_threads, sizeof(*kept));
	if (!kept)
		return -ENOMEM;
	for (uint32_t s = 0; s < h->max_threads; s++) {
		if (!tread_ring_head(ring, s))
			continue;	/* never written */
		kept[nkept].slot = s;
		overwritten |= window(ring, &kept[nkept]);
		if (kept[nkept].head - kept[nkept].lo > need)
			need = kept[nkept].head - kept[nkept].lo;
		nkept++;
	}
	if (log2_ceil(need) > shift)
		shift = log2_ceil(need);
	if (overwritten || shift > h->ring_shift)
		shift = h->ring_shift;

	module_off = align8(sizeof(nh));
	site_off = module_off + (uint64_t)modules * sizeof(struct tat_module);
	thread_off = site_off + (uint64_t)site_cap * sizeof(struct tat_site);
	data_off = thread_off + (uint64_t)(nkept ? nkept : 1) * sizeof(struct tat_thread_ctl);
	size = data_off + ((uint64_t)(nkept ? nkept : 1) << (shift + 3));
	img = calloc(1, size);
	if (!img) {
		free(kept);
		return -ENOMEM;
	}

	nh = *h;
	nh.header_size = sizeof(nh);
	nh.file_size = size;
	/* A ring has at least one slot: an empty one when nothing was written. */
	nh.max_threads = nkept ? nkept : 1;
	nh.threads_used = nkept;
	nh.ring_shift = shift;
	nh.module_off = module_off;
	nh.module_count = nh.module_cap = modules;
	nh.site_off = site_off;
	nh.site_count = sites;
	nh.site_cap = site_cap;
	nh.thread_off = thread_off;
	nh.data_off = data_off;
	nh.mode = tread_ring_mode(ring);
	nh.threads_overflow = tread_ring_threads_overflow(ring);
	memcpy(img, &nh, sizeof(nh));
	memcpy(img + module_off, ring->base + h->module_off,
	       (size_t)modules * sizeof(struct tat_module));
	memcpy(img + site_off, ring->base + h->site_off,
	       (size_t)sites * sizeof(struct tat_site));

	for (uint32_t i = 0; i < nkept; i++) {
		struct tat_thread_ctl *ctl = (struct tat_thread_ctl *)
			(img + thread_off + (uint64_t)i * sizeof(*ctl));

		ctl->tid = tread_ring_tid(ring, kept[i].slot);
		ctl->dropped = tread_ring_dropped(ring, kept[i].slot);
		ctl->deep = tread_ring_deep(ring, kept[i].slot);
		ctl->head = kept[i].head;
		ctl->tail = kept[i].tail;
		copy_ring(ring, &kept[i],
			  (uint64_t *)(img + data_off + ((uint64_t)i << (shift + 3))), shift);
	}
	free(kept);
	*out = img;
	*outlen = size;
	return 0;
}
