// SPDX-License-Identifier: MIT
/*
 * Mapping a ring file and checking it before anything else reads it.
 *
 * Every check here exists because the traced process can write any byte
 * of the file: a geometry that points outside the mapping, tables that
 * overlap the rings, or counts larger than their capacity must turn into
 * an error message, not an out-of-bounds read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consumer/decode/ring_reader.h"

/* ring_shift beyond this cannot describe a ring anyone would map. */
#define RING_SHIFT_MAX 40
/* Clock rates outside [1 MHz, 1 THz] are not a TSC calibration. */
#define TSC_HZ_MIN 1000000ull
#define TSC_HZ_MAX 1000000000000ull

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

struct region {
	const char *name;
	uint64_t    off;
	uint64_t    len;
};

/* len = count * elem, and off + len within size, without overflowing. */
static int region_fits(struct region *r, uint64_t count, uint64_t elem,
		       uint64_t size, char *err, size_t errlen)
{
	uint64_t end;

	if (r->off % 8) {
		set_err(err, errlen, "%s offset %#llx is not 8-byte aligned",
			r->name, (unsigned long long)r->off);
		return -EBADMSG;
	}
	if (__builtin_mul_overflow(count, elem, &r->len) ||
	    __builtin_add_overflow(r->off, r->len, &end) || end > size) {
		set_err(err, errlen,
			"%s (offset %#llx, %llu entries) lies outside the %llu-byte file",
			r->name, (unsigned long long)r->off,
			(unsigned long long)count, (unsigned long long)size);
		return -EBADMSG;
	}
	return 0;
}

static int cmp_region(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Overlapping tables would let the writer's ring stores alias our tables.
 * In offset order, each non-empty region must start at or after the end of
 * every non-empty region before it (not only the one just before: an empty
 * region in between, or one region spanning several, must not hide it).
 */
static int regions_disjoint(struct region *r, size_t n, char *err, size_t errlen)
{
	const struct region *widest = NULL;	/* reaches furthest so far */

	qsort(r, n, sizeof(*r), cmp_region);
	for (size_t i = 0; i < n; i++) {
		if (!r[i].len)
			continue;
		if (widest && widest->off + widest->len > r[i].off) {
			set_err(err, errlen, "%s overlaps %s", widest->name, r[i].name);
			return -EBADMSG;
		}
		if (!widest || r[i].off + r[i].len > widest->off + widest->len)
			widest = &r[i];
	}
	return 0;
}

static int check_geometry(struct tread_ring *ring, char *err, size_t errlen)
{
	const struct tat_ring_header *h = &ring->hdr;
	uint64_t ring_bytes, size = ring->size;
	struct region regions[5] = {
		{ "header",        0,             h->header_size },
		{ "module table",  h->module_off, 0 },
		{ "site table",    h->site_off,   0 },
		{ "thread table",  h->thread_off, 0 },
		{ "ring data",     h->data_off,   0 },
	};
	int ret;

	if (h->max_threads == 0) {
		set_err(err, errlen, "max_threads is 0");
		return -EBADMSG;
	}
	if (h->ring_shift == 0 || h->ring_shift > RING_SHIFT_MAX) {
		set_err(err, errlen, "ring_shift %u out of range 1..%u",
			h->ring_shift, RING_SHIFT_MAX);
		return -EBADMSG;
	}
	if (h->module_count > h->module_cap || h->site_count > h->site_cap) {
		set_err(err, errlen, "table count larger than its capacity "
			"(modules %u/%u, sites %u/%u)", h->module_count,
			h->module_cap, h->site_count, h->site_cap);
		return -EBADMSG;
	}
	ring_bytes = 8ull << h->ring_shift;

	ret = region_fits(&regions[1], h->module_cap, sizeof(struct tat_module),
			  size, err, errlen);
	if (!ret)
		ret = region_fits(&regions[2], h->site_cap, sizeof(struct tat_site),
				  size, err, errlen);
	if (!ret)
		ret = region_fits(&regions[3], h->max_threads,
				  sizeof(struct tat_thread_ctl), size, err, errlen);
	if (!ret)
		ret = region_fits(&regions[4], h->max_threads, ring_bytes, size,
				  err, errlen);
	if (!ret)
		ret = regions_disjoint(regions, 5, err, errlen);
	return ret;
}

static int check_header(struct tread_ring *ring, size_t avail, char *err,
			size_t errlen)
{
	struct tat_ring_header *h = &ring->hdr;

	if (avail < sizeof(*h)) {
		set_err(err, errlen, "not a ring file (only %zu bytes)", avail);
		return -EBADMSG;
	}
	memcpy(h, ring->base, sizeof(*h));

	if (h->magic != TAT_RING_MAGIC) {
		set_err(err, errlen, "not a ring file (bad magic)");
		return -EBADMSG;
	}
	if (h->version != TAT_RING_VERSION) {
		set_err(err, errlen, "ring format version %u, this tread reads version %u",
			h->version, TAT_RING_VERSION);
		return -EBADMSG;
	}
	if (h->header_size < sizeof(*h) || h->header_size > avail) {
		set_err(err, errlen, "bad header_size %u", h->header_size);
		return -EBADMSG;
	}
	if (h->file_size < h->header_size || h->file_size > avail) {
		set_err(err, errlen, "file_size %llu does not match the %zu-byte file "
			"(truncated?)", (unsigned long long)h->file_size, avail);
		return -EBADMSG;
	}
	ring->size = h->file_size;

	/* Both clocks are converted the same way (tread_ring_clock_ns). */
	if (h->clock != TAT_CLOCK_TSC && h->clock != TAT_CLOCK_MONO) {
		set_err(err, errlen, "unknown clock %u", h->clock);
		return -EBADMSG;
	}
	if (h->tsc_hz < TSC_HZ_MIN || h->tsc_hz > TSC_HZ_MAX) {
		set_err(err, errlen, "tsc_hz %llu is not a clock calibration",
			(unsigned long long)h->tsc_hz);
		return -EBADMSG;
	}
	return check_geometry(ring, err, errlen);
}

static int finish_open(struct tread_ring *ring, size_t avail, char *err,
		       size_t errlen)
{
	int ret = check_header(ring, avail, err, errlen);

	if (ret)
		return ret;
	ring->ring_events = 1ull << ring->hdr.ring_shift;
	ring->ring_mask = ring->ring_events - 1;
	ring->site_cap = ring->hdr.site_cap;
	/* Events name at most TAT_EV_SITE_MAX; entries past it are unreachable. */
	if (ring->site_cap > TAT_EV_SITE_MAX + 1)
		ring->site_cap = TAT_EV_SITE_MAX + 1;
	return 0;
}

int tread_ring_open_buffer(const void *buf, size_t len, struct tread_ring **out,
			   char *err, size_t errlen)
{
	struct tread_ring *ring;
	int ret;

	*out = NULL;
	if (!buf) {
		set_err(err, errlen, "no buffer");
		return -EINVAL;
	}
	ring = calloc(1, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	ring->base = buf;
	ret = finish_open(ring, len, err, errlen);
	if (ret) {
		free(ring);
		return ret;
	}
	*out = ring;
	return 0;
}

int tread_ring_open_writable_buffer(void *buf, size_t len, struct tread_ring **out,
				    char *err, size_t errlen)
{
	int ret = tread_ring_open_buffer(buf, len, out, err, errlen);

	if (!ret)
		(*out)->writable = true;
	return ret;
}

int tread_ring_open_file(const char *path, bool writable, struct tread_ring **out,
			 char *err, size_t errlen)
{
	struct tread_ring *ring = NULL;
	struct stat st;
	void *map;
	int fd, ret;

	*out = NULL;
	fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY |
		  O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		set_err(err, errlen, "%s", strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		set_err(err, errlen, "%s", strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "not a regular file");
		ret = -EBADMSG;
		goto out_close;
	}
	if ((uint64_t)st.st_size < sizeof(struct tat_ring_header)) {
		set_err(err, errlen, "not a ring file (only %lld bytes)",
			(long long)st.st_size);
		ret = -EBADMSG;
		goto out_close;
	}
	map = mmap(NULL, st.st_size, PROT_READ | (writable ? PROT_WRITE : 0),
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		set_err(err, errlen, "mmap: %s", strerror(errno));
		goto out_close;
	}
	ring = calloc(1, sizeof(*ring));
	if (!ring) {
		munmap(map, st.st_size);
		ret = -ENOMEM;
		goto out_close;
	}
	ring->base = map;
	ring->map_size = st.st_size;
	ring->writable = writable;
	ret = finish_open(ring, st.st_size, err, errlen);
	if (ret) {
		tread_ring_close(ring);
		goto out_close;
	}
	*out = ring;
	ret = 0;
out_close:
	close(fd);
	return ret;
}

void tread_ring_close(struct tread_ring *ring)
{
	if (!ring)
		return;
	if (ring->map_size)
		munmap((void *)ring->base, ring->map_size);
	free(ring);
}

/* ----------------------------------------------------------- live fields */

static uint64_t load64(const struct tread_ring *ring, uint64_t off)
{
	return __atomic_load_n((const uint64_t *)(ring->base + off), __ATOMIC_ACQUIRE);
}

static uint32_t load32(const struct tread_ring *ring, uint64_t off)
{
	return __atomic_load_n((const uint32_t *)(ring->base + off), __ATOMIC_RELAXED);
}

static uint64_t ctl_off(const struct tread_ring *ring, uint32_t slot, size_t field)
{
	return ring->hdr.thread_off + (uint64_t)slot * sizeof(struct tat_thread_ctl) +
	       field;
}

uint64_t tread_ring_head(const struct tread_ring *ring, uint32_t slot)
{
	return load64(ring, ctl_off(ring, slot, offsetof(struct tat_thread_ctl, head)));
}

uint64_t tread_ring_tail(const struct tread_ring *ring, uint32_t slot)
{
	return load64(ring, ctl_off(ring, slot, offsetof(struct tat_thread_ctl, tail)));
}

int32_t tread_ring_tid(const struct tread_ring *ring, uint32_t slot)
{
	return (int32_t)load32(ring, ctl_off(ring, slot,
					     offsetof(struct tat_thread_ctl, tid)));
}

uint64_t tread_ring_dropped(const struct tread_ring *ring, uint32_t slot)
{
	return load64(ring, ctl_off(ring, slot,
				    offsetof(struct tat_thread_ctl, dropped)));
}

uint64_t tread_ring_deep(const struct tread_ring *ring, uint32_t slot)
{
	return load64(ring, ctl_off(ring, slot, offsetof(struct tat_thread_ctl, deep)));
}

int tread_ring_set_tail(const struct tread_ring *ring, uint32_t slot, uint64_t tail)
{
	uint64_t off = ctl_off(ring, slot, offsetof(struct tat_thread_ctl, tail));

	if (!ring->writable)
		return -EROFS;
	__atomic_store_n((uint64_t *)(ring->base + off), tail, __ATOMIC_RELEASE);
	return 0;
}

uint64_t tread_ring_word(const struct tread_ring *ring, uint32_t slot, uint64_t pos)
{
	uint64_t off = ring->hdr.data_off +
		       ((uint64_t)slot << (ring->hdr.ring_shift + 3)) +
		       ((pos & ring->ring_mask) << 3);

	return __atomic_load_n((const uint64_t *)(ring->base + off), __ATOMIC_RELAXED);
}

uint32_t tread_ring_mode(const struct tread_ring *ring)
{
	return load32(ring, offsetof(struct tat_ring_header, mode));
}

uint64_t tread_ring_threads_overflow(const struct tread_ring *ring)
{
	return load64(ring, offsetof(struct tat_ring_header, threads_overflow));
}

uint32_t tread_ring_site_count(const struct tread_ring *ring)
{
	uint32_t n = load32(ring, offsetof(struct tat_ring_header, site_count));

	return n < ring->site_cap ? n : ring->site_cap;
}

uint32_t tread_ring_module_count(const struct tread_ring *ring)
{
	uint32_t n = load32(ring, offsetof(struct tat_ring_header, module_count));

	return n < ring->hdr.module_cap ? n : ring->hdr.module_cap;
}

int tread_ring_site(const struct tread_ring *ring, uint32_t index, struct tat_site *out)
{
	if (index == 0 || index >= tread_ring_site_count(ring))
		return -ERANGE;
	memcpy(out, ring->base + ring->hdr.site_off +
	       (uint64_t)index * sizeof(struct tat_site), sizeof(*out));
	return 0;
}

int tread_ring_module(const struct tread_ring *ring, uint32_t index,
		      struct tread_module *out)
{
	struct tat_module m;

	if (index >= tread_ring_module_count(ring))
		return -ERANGE;
	memcpy(&m, ring->base + ring->hdr.module_off +
	       (uint64_t)index * sizeof(struct tat_module), sizeof(m));

	memset(out, 0, sizeof(*out));
	memcpy(out->path, m.path, sizeof(out->path) - 1);	/* terminated by memset */
	out->build_id_len = m.build_id_len <= TAT_BUILD_ID_MAX ? m.build_id_len : 0;
	memcpy(out->build_id, m.build_id, out->build_id_len);
	out->load_bias = m.load_bias;
	return out->path[0] ? 0 : -EBADMSG;
}

/* ----------------------------------------------------------------- clock */

double tread_ring_ticks_to_us(const struct tread_ring *ring, uint64_t ticks)
{
	return (double)ticks * 1e6 / (double)ring->hdr.tsc_hz;
}

uint64_t tread_ring_ticks_to_ns(const struct tread_ring *ring, uint64_t ticks)
{
	unsigned __int128 ns = (unsigned __int128)ticks * 1000000000u /
			       ring->hdr.tsc_hz;

	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

/*
 * (tsc - calib_tsc) * 1e9 / tsc_hz + base, in 128 bits so that no field
 * value can overflow it, rounded towards minus infinity, then saturated.
 */
static int64_t clock_ns(const struct tread_ring *ring, uint64_t tsc, uint64_t base)
{
	const struct tat_ring_header *h = &ring->hdr;
	__int128 d = (__int128)tsc - (__int128)h->calib_tsc;
	__int128 hz = (__int128)h->tsc_hz, ns, q;

	ns = d * 1000000000;
	q = ns / hz;
	if (ns % hz && ns < 0)
		q--;
	q += (__int128)base;
	if (q > INT64_MAX)
		return INT64_MAX;
	if (q < INT64_MIN)
		return INT64_MIN;
	return (int64_t)q;
}

int64_t tread_ring_clock_ns(const struct tread_ring *ring, uint64_t tsc,
			    enum tread_clock which)
{
	return clock_ns(ring, tsc, which == TREAD_CLOCK_REALTIME ?
			ring->hdr.calib_real_ns : ring->hdr.calib_mono_ns);
}

uint64_t tread_ring_tsc_to_real_ns(const struct tread_ring *ring, uint64_t tsc)
{
	int64_t ns = clock_ns(ring, tsc, ring->hdr.calib_real_ns);

	return ns < 0 ? 0 : (uint64_t)ns;
}
