// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attach/log.h"
#include "attach/ringfile.h"

#define PAGE 4096ull
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

void ringfile_path(pid_t pid, char *buf, size_t len)
{
	const char *dir = getenv("TATTACH_RING_DIR");

	snprintf(buf, len, "%s/tattach-%d.ring", dir && *dir ? dir : TAT_RING_DIR,
		 (int)pid);
}

struct layout {
	uint64_t module_off, site_off, thread_off, data_off, size;
};

static int layout_of(const struct ring_geometry *geo, struct layout *l)
{
	if (!geo->max_threads || (geo->max_threads & (geo->max_threads - 1)) ||
	    geo->ring_shift < 10 || geo->ring_shift > 30 || !geo->site_cap ||
	    geo->site_cap > TAT_EV_SITE_MAX + 1 || !geo->module_cap)
		return -EINVAL;
	l->module_off = PAGE;
	l->site_off = ALIGN_UP(l->module_off +
			       (uint64_t)geo->module_cap * sizeof(struct tat_module), PAGE);
	l->thread_off = ALIGN_UP(l->site_off +
				 (uint64_t)geo->site_cap * sizeof(struct tat_site), PAGE);
	l->data_off = ALIGN_UP(l->thread_off + (uint64_t)geo->max_threads *
			       sizeof(struct tat_thread_ctl), PAGE);
	l->size = l->data_off + ((uint64_t)geo->max_threads << (geo->ring_shift + 3));
	return 0;
}

uint64_t ring_geometry_size(const struct ring_geometry *geo)
{
	struct layout l;

	return layout_of(geo, &l) ? 0 : l.size;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * One (clock, monotonic, realtime) triple to put events on the wall clock
 * and, for the TSC, its rate measured against CLOCK_MONOTONIC over 20 ms.
 * With TAT_CLOCK_MONO the event clock is CLOCK_MONOTONIC itself.
 */
static void calibrate(struct tat_ring_header *h, uint32_t clock)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	uint64_t t0, m0, t1, m1;

	h->clock = clock;
	if (clock == TAT_CLOCK_MONO) {
		h->calib_mono_ns = ns_of(CLOCK_MONOTONIC);
		h->calib_real_ns = ns_of(CLOCK_REALTIME);
		h->calib_tsc = h->calib_mono_ns;
		h->tsc_hz = 1000000000ull;
		return;
	}
	t0 = rdtsc();
	m0 = ns_of(CLOCK_MONOTONIC);
	h->calib_real_ns = ns_of(CLOCK_REALTIME);
	nanosleep(&pause, NULL);
	t1 = rdtsc();
	m1 = ns_of(CLOCK_MONOTONIC);
	h->calib_tsc = t0;
	h->calib_mono_ns = m0;
	h->tsc_hz = (uint64_t)((double)(t1 - t0) * 1e9 / (double)(m1 - m0));
}

static int map_file(struct ringfile *rf, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, rf->fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	rf->hdr = p;
	rf->size = size;
	return 0;
}

/* Does the header describe a valid layout, which is the file's size? */
static int layout_matches(const struct tat_ring_header *h, const struct stat *st)
{
	struct ring_geometry geo = { h->max_threads, h->ring_shift, h->site_cap,
				     h->module_cap };
	struct layout l;

	return !layout_of(&geo, &l) && l.size == h->file_size &&
	       (uint64_t)st->st_size == h->file_size && l.site_off == h->site_off &&
	       l.thread_off == h->thread_off && l.data_off == h->data_off &&
	       l.module_off == h->module_off;
}

int ringfile_read_header(int fd, struct tat_ring_header *h)
{
	if (pread(fd, h, sizeof(*h), 0) != sizeof(*h))
		return -EBADMSG;
	if (h->magic != TAT_RING_MAGIC || h->version != TAT_RING_VERSION ||
	    h->header_size != sizeof(*h))
		return -EBADMSG;
	return 0;
}

int ringfile_open_readonly(const char *path, pid_t pid, struct ringfile *rf)
{
	struct tat_ring_header h;
	struct stat st;
	void *p;
	int ret;

	memset(rf, 0, sizeof(*rf));
	snprintf(rf->path, sizeof(rf->path), "%s", path);
	rf->fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (rf->fd < 0)
		return -errno;
	if (fstat(rf->fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	/* private to its owner, as tattach made it; anything else was planted */
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		ret = -EPERM;
		goto fail;
	}
	ret = ringfile_read_header(rf->fd, &h);
	if (!ret && (h.pid != pid || !layout_matches(&h, &st)))
		ret = -EBADMSG;
	if (ret)
		goto fail;
	p = mmap(NULL, h.file_size, PROT_READ, MAP_SHARED, rf->fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto fail;
	}
	rf->hdr = p;
	rf->size = h.file_size;
	return 0;
fail:
	close(rf->fd);
	rf->fd = -1;
	return ret;
}

int ringfile_open(pid_t pid, uint64_t start_time, uid_t uid, int flags,
		  struct ringfile *rf)
{
	struct tat_ring_header h;
	struct stat st;
	int ret;

	memset(rf, 0, sizeof(*rf));
	ringfile_path(pid, rf->path, sizeof(rf->path));
	rf->fd = open(rf->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (rf->fd < 0)
		return -errno;
	if (fstat(rf->fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	/* Only a file of the target's user, private to it, is ever used:
	 * anything else in a shared folder may have been planted. */
	if (!S_ISREG(st.st_mode) || st.st_uid != uid || (st.st_mode & 077)) {
		ret = -EPERM;
		goto fail;
	}
	if ((flags & RINGFILE_LOCK) && flock(rf->fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	ret = ringfile_read_header(rf->fd, &h);
	if (ret)
		goto fail;
	if (h.pid != pid || h.start_time != start_time) {
		ret = -ESTALE;
		goto fail;
	}
	if (!layout_matches(&h, &st)) {
		ret = -EBADMSG;
		goto fail;
	}
	ret = map_file(rf, h.file_size);
	if (ret)
		goto fail;
	return 0;
fail:
	close(rf->fd);	/* drops the lock too */
	rf->fd = -1;
	return ret;
}

int ringfile_create(pid_t pid, uint64_t start_time, uid_t uid, gid_t gid,
		    const struct ring_geometry *geo, struct ringfile *rf)
{
	char tmp[sizeof(rf->path) + 16];
	const char *dir;
	struct tat_ring_header *h;
	struct layout l;
	int ret;

	memset(rf, 0, sizeof(*rf));
	ret = layout_of(geo, &l);
	if (ret)
		return ret;
	ringfile_path(pid, rf->path, sizeof(rf->path));
	/*
	 * Built under a private temporary name (mkostemp: O_EXCL, 0600) and
	 * linked into place only when complete and locked, so nobody ever
	 * sees a half-made ring file under its real name, and of two
	 * tattach runs racing to create it exactly one wins.
	 */
	dir = getenv("TATTACH_RING_DIR");
	snprintf(tmp, sizeof(tmp), "%s/.tattach-%d.XXXXXX",
		 dir && *dir ? dir : TAT_RING_DIR, (int)pid);
	rf->fd = mkostemp(tmp, O_CLOEXEC);
	if (rf->fd < 0)
		return -errno;
	/* The target opens it as itself; nobody else may read its trace. */
	if (fchown(rf->fd, uid, gid) < 0 && geteuid() == 0) {
		ret = -errno;
		goto fail_unlink;
	}
	if (ftruncate(rf->fd, (off_t)l.size) < 0) {
		ret = -errno;
		goto fail_unlink;
	}
	ret = map_file(rf, l.size);
	if (ret)
		goto fail_unlink;
	h = rf->hdr;
	h->version = TAT_RING_VERSION;
	h->header_size = sizeof(*h);
	h->file_size = l.size;
	h->pid = pid;
	h->uid = uid;
	h->start_time = start_time;
	h->max_threads = geo->max_threads;
	h->ring_shift = geo->ring_shift;
	h->module_off = l.module_off;
	h->module_cap = geo->module_cap;
	h->site_off = l.site_off;
	h->site_cap = geo->site_cap;
	h->site_count = 1;	/* index 0 means "unknown site" */
	h->thread_off = l.thread_off;
	h->data_off = l.data_off;
	h->state = TAT_STATE_NEW;
	calibrate(h, geo->clock);
	__atomic_store_n(&h->magic, TAT_RING_MAGIC, __ATOMIC_RELEASE);
	if (flock(rf->fd, LOCK_EX) < 0 || link(tmp, rf->path) < 0) {
		ret = -errno;	/* EEXIST: another run made it first */
		goto fail_unlink;
	}
	unlink(tmp);
	return 0;
fail_unlink:
	unlink(tmp);
	if (rf->hdr)
		munmap(rf->hdr, rf->size);
	rf->hdr = NULL;
	close(rf->fd);
	rf->fd = -1;
	return ret;
}

void ringfile_close(struct ringfile *rf)
{
	if (rf->hdr)
		munmap(rf->hdr, rf->size);
	if (rf->fd >= 0)
		close(rf->fd);
	rf->hdr = NULL;
	rf->fd = -1;
}

struct tat_module *ringfile_modules(struct ringfile *rf)
{
	return (struct tat_module *)((char *)rf->hdr + rf->hdr->module_off);
}

struct tat_site *ringfile_sites(struct ringfile *rf)
{
	return (struct tat_site *)((char *)rf->hdr + rf->hdr->site_off);
}

struct tat_thread_ctl *ringfile_threads(struct ringfile *rf)
{
	return (struct tat_thread_ctl *)((char *)rf->hdr + rf->hdr->thread_off);
}
