// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attach/log.h"
#include "attach/ring/ringfile.h"
#include "ringfiles/ringfiles.h"

#define PAGE 4096ull
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

void ringfile_path(pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/tattach-%d.ring", ringfiles_dir(), (int)pid);
}

struct layout {
	uint64_t module_off, site_off, thread_off, data_off;
	uint64_t frames_off, stats_index_off, stats_shared_off, stats_off;
	uint32_t stats_cap;
	uint64_t args_off;		/* tattach -A/-R: struct tat_argspec[site_cap] */
	uint64_t size;
};

/* Stats records in the pool: bounded, see docs/ring-format.md "Memory". */
static uint32_t stats_cap_of(const struct ring_geometry *geo)
{
	uint64_t pairs = (uint64_t)geo->max_threads * geo->site_cap;
	uint32_t cap = pairs < TAT_STATS_POOL ? (uint32_t)pairs : TAT_STATS_POOL;

	return geo->stats_cap && geo->stats_cap < cap ? geo->stats_cap : cap;
}

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
	l->frames_off = l->data_off + ((uint64_t)geo->max_threads << (geo->ring_shift + 3));
	l->stats_index_off = ALIGN_UP(l->frames_off + (uint64_t)geo->max_threads *
				      TAT_FRAMES_MAX * sizeof(struct tat_frame), PAGE);
	l->stats_shared_off = ALIGN_UP(l->stats_index_off + (uint64_t)geo->max_threads *
				       geo->site_cap * sizeof(uint32_t), PAGE);
	l->stats_off = ALIGN_UP(l->stats_shared_off +
				(uint64_t)geo->site_cap * sizeof(struct tat_stat), PAGE);
	l->stats_cap = stats_cap_of(geo);
	l->args_off = ALIGN_UP(l->stats_off + (uint64_t)l->stats_cap * sizeof(struct tat_stat),
			       PAGE);
	l->size = ALIGN_UP(l->args_off + (uint64_t)geo->site_cap * sizeof(struct tat_argspec),
			   PAGE);
	return 0;
}

uint64_t ring_geometry_size(const struct ring_geometry *geo)
{
	struct layout l;

	return layout_of(geo, &l) ? 0 : l.size;
}

uint64_t ring_geometry_stats_size(const struct ring_geometry *geo)
{
	struct layout l;

	return layout_of(geo, &l) ? 0 : l.size - l.stats_index_off;
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

#define CALIB_TRIES 16

/*
 * CLOCK_MONOTONIC and CLOCK_REALTIME at one instant: of several tries,
 * the realtime reading whose two bracketing monotonic readings were the
 * closest, paired with their midpoint (as LTTng's measure_clock_offset
 * does), so a preemption between two reads cannot skew the pair.
 */
static void mono_real_pair(uint64_t *mono, uint64_t *real)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < CALIB_TRIES; i++) {
		uint64_t m0 = ns_of(CLOCK_MONOTONIC);
		uint64_t r = ns_of(CLOCK_REALTIME);
		uint64_t m1 = ns_of(CLOCK_MONOTONIC);

		if (m1 - m0 < best) {
			best = m1 - m0;
			*mono = m0 + (m1 - m0) / 2;
			*real = r;
		}
	}
}

/* The same for the TSC and CLOCK_MONOTONIC. */
static void tsc_mono_pair(uint64_t *tsc, uint64_t *mono)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < CALIB_TRIES; i++) {
		uint64_t t0 = rdtsc();
		uint64_t m = ns_of(CLOCK_MONOTONIC);
		uint64_t t1 = rdtsc();

		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*mono = m;
		}
	}
}

/*
 * One (clock, monotonic, realtime) triple to put events on the wall clock
 * and, for the TSC, its rate measured against CLOCK_MONOTONIC over 20 ms.
 * With TAT_CLOCK_MONO the event clock is CLOCK_MONOTONIC itself.  Every
 * pair is read as tightly as the machine allows: traces of several
 * processes are merged on these numbers, and an error in them moves one
 * process's events against the other's.
 */
static void calibrate(struct tat_ring_header *h, uint32_t clock)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	uint64_t t0, m0, t1, m1, mono, real;

	h->clock = clock;
	if (clock == TAT_CLOCK_MONO) {
		mono_real_pair(&mono, &real);
		h->calib_mono_ns = mono;
		h->calib_real_ns = real;
		h->calib_tsc = mono;
		h->tsc_hz = 1000000000ull;
		return;
	}
	tsc_mono_pair(&t0, &m0);
	/* realtime at the TSC pair's instant: its offset to monotonic */
	mono_real_pair(&mono, &real);
	h->calib_real_ns = real - (mono - m0);
	nanosleep(&pause, NULL);
	tsc_mono_pair(&t1, &m1);
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
				     h->module_cap, h->clock, h->stats_cap };
	struct layout l;

	return !layout_of(&geo, &l) && l.size == h->file_size &&
	       (uint64_t)st->st_size == h->file_size && l.site_off == h->site_off &&
	       l.thread_off == h->thread_off && l.data_off == h->data_off &&
	       l.module_off == h->module_off && l.frames_off == h->frames_off &&
	       h->frames_per_thread == TAT_FRAMES_MAX &&
	       l.stats_index_off == h->stats_index_off &&
	       l.stats_shared_off == h->stats_shared_off && l.stats_off == h->stats_off &&
	       l.stats_cap == h->stats_cap && l.args_off == h->args_off;
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
	ret = ringfiles_read_header(rf->fd, &h);
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
	/* Only a private file of the target's user, of root or of our own
	 * user is ever used: anything else in a shared folder may have been
	 * planted.  Root's counts because a process may change user after
	 * its ring was made: a prefork server's worker makes its ring at its
	 * first traced call after the fork, as root, then calls setuid(). */
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) ||
	    (st.st_uid != uid && st.st_uid != 0 && st.st_uid != geteuid())) {
		ret = -EPERM;
		goto fail;
	}
	if ((flags & RINGFILE_LOCK) && flock(rf->fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	ret = ringfiles_read_header(rf->fd, &h);
	if (ret)
		goto fail;
	/* another pid in the header: a ring renamed or copied there */
	if (h.pid != pid || h.start_time != start_time) {
		ret = h.pid != pid ? -EXDEV : -ESTALE;
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
	snprintf(tmp, sizeof(tmp), "%s/.tattach-%d.XXXXXX", ringfiles_dir(), (int)pid);
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
	h->frames_off = l.frames_off;
	h->frames_per_thread = TAT_FRAMES_MAX;
	h->stats_index_off = l.stats_index_off;
	h->stats_shared_off = l.stats_shared_off;
	h->stats_off = l.stats_off;
	h->stats_cap = l.stats_cap;
	h->args_off = l.args_off;
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

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14 */
#endif

/* Map [off, off + len) of the file into our page tables, writable. */
static void populate(struct ringfile *rf, uint64_t off, uint64_t len)
{
	uint64_t lo = off & ~(uint64_t)(PAGE - 1), hi = ALIGN_UP(off + len, PAGE);

	if (hi > rf->size)
		hi = rf->size;
	if (lo < hi)
		madvise((char *)rf->hdr + lo, hi - lo, MADV_POPULATE_WRITE);
}

void ringfile_make_resident(struct ringfile *rf, uint32_t more_modules, uint32_t more_sites)
{
	const struct tat_ring_header *h = rf->hdr;
	uint64_t modules = (uint64_t)h->module_count + more_modules;
	uint64_t sites = (uint64_t)h->site_count + more_sites;

	if (modules > h->module_cap)
		modules = h->module_cap;
	if (sites > h->site_cap)
		sites = h->site_cap;
	populate(rf, 0, PAGE);
	populate(rf, h->module_off, modules * sizeof(struct tat_module));
	populate(rf, h->site_off, sites * sizeof(struct tat_site));
	populate(rf, h->thread_off, (uint64_t)h->max_threads * sizeof(struct tat_thread_ctl));
	if (h->args_off)	/* -A/-R: compared, and written, at every --enable */
		populate(rf, h->args_off, sizeof(struct tat_argspec) * sites);
	/* where tattach appends to the rings of threads it holds (the calls
	 * cut loose at --disable, adopted at --enable): each one's head */
	for (uint32_t i = 0; i < h->max_threads; i++) {
		const struct tat_thread_ctl *ctl = ringfile_threads(rf) + i;
		uint64_t mask = (1ull << h->ring_shift) - 1;

		if (__atomic_load_n(&ctl->tid, __ATOMIC_RELAXED))
			populate(rf, h->data_off + ((((uint64_t)i << h->ring_shift) +
						     (ctl->head & mask)) << 3), 8);
	}
}

int ringfile_module_index(struct ringfile *rf, const char *path, uint64_t bias)
{
	const struct tat_module *mods = ringfile_modules(rf);

	for (uint32_t k = 0; k < rf->hdr->module_count; k++)
		if (!strcmp(mods[k].path, path) && mods[k].load_bias == bias)
			return (int)k;
	return -1;
}

uint32_t ringfile_site_run(struct ringfile *rf, uint32_t module, unsigned kind,
			   uint32_t *count)
{
	const struct tat_site *sites = ringfile_sites(rf);
	const struct tat_module *mods = ringfile_modules(rf);
	uint32_t i, n = rf->hdr->site_count;
	/* A module's own sites (-pg, patchable entry) lie together from its
	 * first_site: a search for library calls or entries steps over them,
	 * a stop at 100 000 sites need not read them all (twice per stop). */
	int skip_own = kind != TAT_SITE_MCOUNT && kind != TAT_SITE_FENTRY;

	*count = 0;
	for (i = 1; i < n; i++) {
		uint32_t m = sites[i].module;

		if (skip_own && m < rf->hdr->module_count && i == mods[m].first_site &&
		    mods[m].site_count > 1) {
			i += mods[m].site_count - 1;
			continue;
		}
		if (sites[i].kind == kind && sites[i].module == module)
			break;
	}
	if (i >= n)
		return 0;
	while (i + *count < n && sites[i + *count].kind == kind &&
	       sites[i + *count].module == module)
		(*count)++;
	return i;
}

uint64_t ringfile_event_clock(const struct tat_ring_header *hdr)
{
	return hdr->clock == TAT_CLOCK_MONO ? ns_of(CLOCK_MONOTONIC) : rdtsc();
}

void ringfile_append(struct ringfile *rf, uint32_t idx, uint64_t word)
{
	struct tat_ring_header *hdr = rf->hdr;
	struct tat_thread_ctl *ctl = (struct tat_thread_ctl *)((char *)hdr + hdr->thread_off) + idx;
	uint64_t *data = (uint64_t *)((char *)hdr + hdr->data_off) +
			 ((uint64_t)idx << hdr->ring_shift);
	uint64_t pos = ctl->head;

	__atomic_store_n(&data[pos & ((1ull << hdr->ring_shift) - 1)],
			 word | tat_ev_commit_bit(pos, hdr->ring_shift), __ATOMIC_RELEASE);
	__atomic_store_n(&ctl->head, pos + 1, __ATOMIC_RELEASE);
}

/* Are /proc/self/@what and /proc/@pid/@what the same (namespace, root)? */
static int same_as_ours(pid_t pid, const char *what)
{
	char path[64];
	struct stat ours, theirs;

	snprintf(path, sizeof(path), "/proc/self/%s", what);
	if (stat(path, &ours) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if (stat(path, &theirs) < 0)
		return -1;
	return ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

int ringfile_seen_by(const struct ringfile *rf, pid_t pid)
{
	char there[PATH_MAX + 32];
	struct stat ours, theirs;
	int mnt = same_as_ours(pid, "ns/mnt"), root = same_as_ours(pid, "root");

	if ((mnt == 1 && root == 1) || mnt < 0 || root < 0 || rf->path[0] != '/' ||
	    fstat(rf->fd, &ours) < 0)
		return 0;
	/* /proc/PID/root: the process's root, in its mount namespace */
	snprintf(there, sizeof(there), "/proc/%d/root%s", (int)pid, rf->path);
	if (stat(there, &theirs) < 0)
		return errno == ENOENT || errno == ENOTDIR ? -EXDEV : 0;
	return ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino ? 0 : -EXDEV;
}
