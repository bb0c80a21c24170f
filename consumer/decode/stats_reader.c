// SPDX-License-Identifier: MIT
/*
 * Summing the stats-mode records (stats_reader.h).  The regions are
 * checked against the mapping first; a record naming a site or a slot
 * outside the tables is skipped, as the format says.
 */
#include <stdlib.h>
#include <string.h>

#include "consumer/decode/stats_reader.h"

static bool fits(const struct tread_ring *ring, uint64_t off, uint64_t n)
{
	uint64_t bytes = n * sizeof(struct tat_stat);

	return off && off % 8 == 0 && off <= ring->size &&
	       bytes / sizeof(struct tat_stat) == n && bytes <= ring->size - off;
}

bool tread_stats_present(const struct tread_ring *ring)
{
	const struct tat_ring_header *h = &ring->hdr;

	return fits(ring, h->stats_off, h->stats_cap) &&
	       fits(ring, h->stats_shared_off, h->site_cap);
}

/*
 * Add record @r (copied field by field: its thread may be writing it).
 * @site: of a shared record, its index; 0 for a pool record, which says.
 */
static void add(const struct tread_ring *ring, const struct tat_stat *r,
		struct tread_site_stats *out, uint32_t site)
{
	struct tread_site_stats *s;
	uint64_t max;

	if (!site) {
		site = __atomic_load_n(&r->site, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->slot, __ATOMIC_RELAXED) >= ring->hdr.max_threads)
			return;
	}
	if (site == 0 || site >= tread_ring_site_count(ring) || site >= ring->site_cap)
		return;
	s = &out[site];
	s->calls += __atomic_load_n(&r->calls, __ATOMIC_RELAXED);
	s->total += __atomic_load_n(&r->total, __ATOMIC_RELAXED);
	s->self += __atomic_load_n(&r->self, __ATOMIC_RELAXED);
	max = __atomic_load_n(&r->max, __ATOMIC_RELAXED);
	if (max > s->max)
		s->max = max;
	for (unsigned k = 0; k < TAT_HIST_BUCKETS; k++)
		s->hist[k] += __atomic_load_n(&r->hist[k], __ATOMIC_RELAXED);
}

uint64_t tread_stats_sum(const struct tread_ring *ring, struct tread_site_stats *out)
{
	const struct tat_ring_header *h = &ring->hdr;
	const struct tat_stat *pool, *shared;
	uint64_t off = offsetof(struct tat_ring_header, stats_used), used, n = 0;

	memset(out, 0, ring->site_cap * sizeof(*out));
	if (!tread_stats_present(ring))
		return 0;
	used = __atomic_load_n((const uint32_t *)(ring->base + off), __ATOMIC_ACQUIRE);
	pool = (const struct tat_stat *)(ring->base + h->stats_off);
	shared = (const struct tat_stat *)(ring->base + h->stats_shared_off);
	for (uint64_t i = 0; i < used && i < h->stats_cap; i++, n++)
		add(ring, &pool[i], out, 0);
	/*
	 * A shared record is written only once the pool is full (stats_used
	 * then passes stats_cap).  Until then the shared region was never
	 * written, and is not read: in a tmpfs, reading a page never written
	 * allocates it (3 MiB for a small program's 8192 sites, 96 MiB at
	 * 2^18), and in a full one raises SIGBUS.
	 */
	if (used < h->stats_cap)
		return n;
	for (uint32_t s = 1; s < ring->site_cap && s < h->site_cap; s++) {
		if (__atomic_load_n(&shared[s].calls, __ATOMIC_RELAXED)) {
			add(ring, &shared[s], out, s);
			n++;
		}
	}
	return n;
}

int64_t tread_stats_total_calls(const struct tread_ring *ring)
{
	struct tread_site_stats *st;
	uint64_t n = 0;

	if (!tread_stats_present(ring))
		return 0;
	st = calloc(ring->site_cap, sizeof(*st));
	if (!st)
		return -1;
	tread_stats_sum(ring, st);
	for (uint32_t s = 0; s < ring->site_cap; s++)
		n += st[s].calls;
	free(st);
	return n > INT64_MAX ? INT64_MAX : (int64_t)n;
}
