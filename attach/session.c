// SPDX-License-Identifier: MIT
/*
 * --enable, --disable and --status.
 *
 * Everything that reads files (ELF, DWARF-free site discovery, the TSC
 * calibration of a new ring) happens before the target is stopped; while
 * it is held we only make the few remote calls a first enable needs and
 * rewrite code through /proc/PID/mem.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "attach/hooks/entries.h"
#include "attach/inject.h"
#include "attach/hooks/libcalls.h"
#include "attach/hooks/sync_args.h"
#include "attach/log.h"
#include "attach/modules.h"
#include "attach/process/proc.h"
#include "attach/process/remote.h"
#include "attach/ring/ringdir.h"
#include "attach/ring/ringfile.h"
#include "ringfiles/ringfiles.h"
#include "attach/process/seccomp.h"
#include "attach/frames/running.h"
#include "attach/frames/sigframes.h"
#include "attach/process/seize.h"
#include "attach/process/stackwalk.h"
#include "attach/frames/unwind_hooks.h"
#include "attach/frames/forced_hook.h"
#include "attach/frames/unhijack.h"
#include "attach/session.h"
#include "attach/site_filter.h"
#include "attach/status_children.h"
#include "attach/status_extra.h"
#include "attach/process/target.h"
#include "attach/process/vdso.h"
#include "attach/rewrite.h"
#include "patcher/patch.h"
#include "attach/values/args_plan.h"
#include "attach/values/marks.h"
#include "attach/phase_time.h"
#include "attach/own_memory.h"
#include "attach/text_prefault.h"

static unsigned log2_ceil(uint64_t v)
{
	unsigned b = 0;

	while ((1ull << b) < v)
		b++;
	return b;
}

static int release(struct held *h, struct session_report *rep)
{
	int ret;

	rep->threads = h->n;
	ret = release_all(h);
	rep->stopped_us = held_elapsed_us(h);
	rep->eintr_fixed = h->eintr_fixed;
	if (ret)
		pr_err("resuming pid %d: %s", (int)h->pid, strerror(-ret));
	return ret;
}

/* Free bytes in the ring folder, or -errno (said). */
static int64_t ring_dir_free(const char **dirp)
{
	const char *dir = ringfiles_dir();
	struct statvfs vfs;

	*dirp = dir;
	if (statvfs(dir, &vfs) < 0) {
		pr_err("cannot use the ring folder %s: %s", dir, strerror(errno));
		return -errno;
	}
	return (int64_t)((uint64_t)vfs.f_bavail * vfs.f_frsize);
}

/*
 * Stats mode writes the stats region of the file, which event mode never
 * touches: switching to it needs room for that region too, and the room
 * is taken now (fallocate): a write to a page tmpfs cannot allocate any
 * more, the ring folder having filled up since, would kill the target
 * with SIGBUS, and so would a read of a page never written (tmpfs gives
 * a page even to a reader), which stats mode's return does in the
 * thread's row of the index.  It is memory: --status says how much.
 */
static int check_stats_room(const struct ringfile *rf)
{
	const struct tat_ring_header *h = rf->hdr;
	uint64_t need = h->file_size - h->stats_index_off;
	const char *dir;
	int64_t avail;

	if (h->mode == TAT_MODE_STATS || !h->stats_index_off)
		return 0;
	avail = ring_dir_free(&dir);
	if (avail < 0)
		return (int)avail;
	if (need > (uint64_t)avail ||
	    (fallocate(rf->fd, 0, (off_t)h->stats_index_off, (off_t)need) < 0 &&
	     errno == ENOSPC)) {
		pr_err("stats mode needs %llu MiB for its records but %s has %llu MiB free; "
		       "a ring made with fewer --max-threads needs less",
		       (unsigned long long)(need >> 20), dir, (unsigned long long)(avail >> 20));
		return -ENOSPC;
	}
	return 0;	/* or a filesystem without fallocate: as before it */
}

/*
 * The rings are sparse, but a busy process fills them: refuse, before
 * anything is injected, a size the ring folder cannot hold.  The stats
 * region counts only for a ring made in stats mode (check_stats_room()
 * checks it when a ring switches to stats mode later).
 */
static int check_room(const struct ring_geometry *geo, int stats, int say)
{
	uint64_t need = ring_geometry_size(geo), avail;
	const char *dir = ringfiles_dir();
	struct statvfs vfs;
	int ret;

	if (!need)
		return 0;	/* invalid geometry: ringfile_create says so */
	if (!stats)
		need -= ring_geometry_stats_size(geo);
	if (statvfs(dir, &vfs) < 0) {
		ret = -errno;
		if (say)
			pr_err("cannot use the ring folder %s: %s", dir, strerror(-ret));
		return ret;
	}
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (need > avail) {
		if (say)
			pr_err("the ring file needs %llu MiB (%u threads x %llu KiB) but %s has "
			       "%llu MiB free: use a smaller --buffer-size or --max-threads",
			       (unsigned long long)(need >> 20), geo->max_threads,
			       (unsigned long long)((8ull << geo->ring_shift) >> 10), dir,
			       (unsigned long long)(avail >> 20));
		return -ENOSPC;
	}
	return 0;
}

/*
 * Without -t: twice as many thread slots as the process has threads now,
 * and at least the default.  A table of slots more than half full makes
 * the trampoline's search for a thread's slot long, at every traced call
 * (tattach --status, "slot search"); threads beyond it are not traced.
 */
static uint32_t slots_for(pid_t pid)
{
	uint32_t slots = SESSION_DEFAULT_THREADS;
	long n = 0;

	if (proc_status_long(pid, "Threads", &n) == 0)
		while ((long)slots < 2 * n && slots < SESSION_MAX_THREADS)
			slots <<= 1;
	return slots;
}

static int ring_create(const struct session_opts *o, uint64_t start_time,
		       size_t sites, uid_t uid, gid_t gid, struct ringfile *rf)
{
	uint64_t buf = o->buffer_size ? o->buffer_size : SESSION_DEFAULT_BUFFER;
	int stats = o->mode == TAT_MODE_STATS;
	struct ring_geometry geo;
	uint32_t wanted;
	int ret;

	geo.max_threads = o->max_threads ? o->max_threads : slots_for(o->pid);
	geo.ring_shift = log2_ceil(buf / 8);
	/* room to grow for libraries loaded later, load factor <= 1/2 */
	geo.site_cap = 1u << log2_ceil(sites * 2 + 4096);
	if (geo.site_cap > TAT_EV_SITE_MAX + 1)
		geo.site_cap = TAT_EV_SITE_MAX + 1;
	geo.module_cap = 64;
	/* For tests only: a small stats pool, to reach the pool-full path. */
	geo.stats_cap = getenv("TATTACH_TEST_STATS_POOL") ?
			(uint32_t)strtoul(getenv("TATTACH_TEST_STATS_POOL"), NULL, 10) : 0;
	geo.clock = o->clock >= 0 ? (uint32_t)o->clock : TAT_CLOCK_TSC;
	if (o->clock < 0 && !tsc_is_invariant()) {
		pr_warn("this CPU's TSC is not invariant (constant_tsc, nonstop_tsc): "
			"timing calls with CLOCK_MONOTONIC from the vDSO instead (slower)");
		geo.clock = TAT_CLOCK_MONO;
	}
	/* slots chosen for the threads: fewer, down to the default, rather
	 * than a ring file that does not fit */
	wanted = geo.max_threads;
	while (!o->max_threads && geo.max_threads > SESSION_DEFAULT_THREADS &&
	       check_room(&geo, stats, 0) == -ENOSPC)
		geo.max_threads >>= 1;
	if (geo.max_threads < wanted)
		pr_warn("the ring folder has room for %u thread slots, not %u (twice pid %d's "
			"threads): finding a thread's slot will take longer", geo.max_threads,
			wanted, (int)o->pid);
	ret = check_room(&geo, stats, 1);
	if (ret)
		return ret;
	ret = ringfile_create(o->pid, start_time, uid, gid, &geo, rf);
	if (ret == -EINVAL)
		pr_err("invalid ring geometry (buffer %llu bytes, %u threads)",
		       (unsigned long long)buf, geo.max_threads);
	else if (ret && ret != -EEXIST)
		pr_err("cannot create %s: %s", rf->path, strerror(-ret));
	return ret;
}

/* The pid the header of the ring file at @path names; -1 if unreadable. */
static pid_t header_pid(const char *path)
{
	struct tat_ring_header h;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	pid_t pid = -1;

	if (fd < 0)
		return -1;
	if (ringfiles_read_header(fd, &h) == 0)
		pid = (pid_t)h.pid;
	close(fd);
	return pid;
}

/* One line for each way opening an existing ring file can fail. */
static void explain_open(int ret, pid_t pid, const struct ringfile *rf)
{
	if (ret == -EBUSY)
		pr_err("another tattach is working on pid %d right now; try again "
		       "when it is done", (int)pid);
	else if (ret == -EPERM)
		pr_err("%s is not a private file of pid %d's user, root or yours: not using it; "
		       "remove it if it is not yours", rf->path, (int)pid);
	else if (ret == -ENOENT)
		pr_err("pid %d is not traced: no ring file %s (run 'tattach -p %d --enable')",
		       (int)pid, rf->path, (int)pid);
	else if (ret == -ESTALE)
		pr_err("%s belongs to an earlier process with pid %d; pid %d is not traced",
		       rf->path, (int)pid, (int)pid);
	else if (ret == -EXDEV)
		pr_err("%s is the ring file of pid %d, not of pid %d (renamed or copied "
		       "there?): move it away ('tread -i' reads it where it goes) and try again",
		       rf->path, (int)header_pid(rf->path), (int)pid);
	else
		pr_err("cannot open %s: %s", rf->path, strerror(-ret));
}

/*
 * The file at the ring's path could not be used (@why: -ESTALE, -EPERM).
 * If it is the ring of an earlier process with this pid, move it to its
 * kept name; otherwise say why it is refused.  0 when the path is free.
 */
static int set_aside(pid_t pid, uint64_t start_time, struct ringfile *rf, int why)
{
	char kept[300];
	uid_t owner = 0;
	int ret = ringdir_set_aside(pid, start_time, kept, sizeof(kept), &owner);

	if (ret == 1) {
		pr_info("%s was left by an earlier process with pid %d: kept as %s",
			rf->path, (int)pid, kept);
		return 0;
	}
	if (ret == -EPERM || ret == -EACCES) {
		pr_err("%s was left by an earlier process with pid %d, of uid %u, and only "
		       "that user or root may move it: run 'tattach --clean' as one of them",
		       rf->path, (int)pid, (unsigned)owner);
		return ret;
	}
	if (ret == -EAGAIN || (ret == 0 && why == -ESTALE))
		return 0;	/* it changed under us: look again */
	if (ret < 0) {
		pr_err("cannot move %s (left by an earlier process with pid %d) to %s: %s",
		       rf->path, (int)pid, kept, strerror(-ret));
		return ret;
	}
	explain_open(why, pid, rf);
	return why;
}

/*
 * Open (locked) the ring of a live process, creating it or replacing a
 * stale one; 1 if created.
 */
static int ring_get(const struct session_opts *o, const struct proc_stat *ps,
		    size_t sites, struct ringfile *rf)
{
	uid_t uid;
	gid_t gid;
	int ret;

	ret = proc_owner(o->pid, &uid, &gid);
	if (ret)
		return ret;
	for (int attempt = 0; attempt < 2; attempt++) {
		ret = ringfile_open(o->pid, ps->start_time, uid, RINGFILE_LOCK, rf);
		if (ret == 0)
			return 0;
		if (ret == -ESTALE || ret == -EPERM) {
			/* left by an earlier process that had this pid, maybe of
			 * another user: keep it for reading post mortem, under a
			 * name of its own, and make ours */
			ret = set_aside(o->pid, ps->start_time, rf, ret);
			if (ret)
				return ret;
		} else if (ret == -EBADMSG) {
			/* not a ring of this format: nothing tread could read */
			pr_info("replacing stale %s", rf->path);
			if (unlink(rf->path) < 0 && errno != ENOENT) {
				pr_err("cannot remove stale %s: %s", rf->path, strerror(errno));
				return -errno;
			}
		} else if (ret != -ENOENT) {
			explain_open(ret, o->pid, rf);
			return ret;
		}
		ret = ring_create(o, ps->start_time, sites, uid, gid, rf);
		if (ret != -EEXIST)
			return ret ? ret : 1;
		/* another run created it meanwhile: open theirs (it is locked) */
	}
	explain_open(-EBUSY, o->pid, rf);
	return -EBUSY;
}

/* How many modules with sites the ring does not know yet. */
static size_t unregistered_modules(struct ringfile *rf, const struct module_set *set)
{
	const struct tat_module *mods = ringfile_modules(rf);
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct module *m = &set->v[i];
		uint32_t k;

		if (!m->sites.n || m->changed)
			continue;
		for (k = 0; k < rf->hdr->module_count; k++)
			if (!strcmp(mods[k].path, m->path) && mods[k].load_bias == m->bias)
				break;
		n += k == rf->hdr->module_count;
	}
	return n;
}

/* Find or add @m in the ring's module table; returns its index. */
static int register_module(struct ringfile *rf, const struct module *m)
{
	struct tat_ring_header *h = rf->hdr;
	struct tat_module *mods = ringfile_modules(rf);
	struct tat_site *sites = ringfile_sites(rf);
	struct tat_module *tm;
	uint32_t idx;

	for (idx = 0; idx < h->module_count; idx++)
		if (strcmp(mods[idx].path, m->path) == 0 && mods[idx].load_bias == m->bias)
			return (int)idx;
	if (h->module_count >= h->module_cap) {
		pr_warn("%s: module table full, not traced", m->path);
		return -ENOSPC;
	}
	if (h->site_count + m->sites.n > h->site_cap) {
		pr_warn("%s: site table full (%u), not traced", m->path, h->site_cap);
		return -ENOSPC;
	}
	tm = &mods[idx];
	memset(tm, 0, sizeof(*tm));
	snprintf(tm->path, sizeof(tm->path), "%s", m->path);
	memcpy(tm->build_id, m->facts.build_id, sizeof(tm->build_id));
	tm->build_id_len = m->facts.build_id_len;
	tm->load_bias = m->bias;
	tm->text_start = m->text_start;
	tm->text_end = m->text_end;
	tm->first_site = h->site_count;
	tm->site_count = (uint32_t)m->sites.n;
	for (size_t i = 0; i < m->sites.n; i++) {
		struct tat_site *s = &sites[h->site_count + i];

		s->addr = m->sites.v[i].vaddr + m->bias;
		s->module = idx;
		s->kind = m->sites.v[i].kind;
		s->len = m->sites.v[i].len;
		s->patched = 0;
	}
	h->site_count += (uint32_t)m->sites.n;
	h->module_count++;
	return (int)idx;
}

/*
 * In discard mode a full ring records nothing more until a reader consumes
 * it (tread -f): say so, or an enable looks like it traced and records
 * nothing for those threads.
 */
static void warn_full_rings(struct ringfile *rf)
{
	const struct tat_ring_header *h = rf->hdr;
	const struct tat_thread_ctl *ctl = ringfile_threads(rf);
	uint64_t size = 1ull << h->ring_shift;
	unsigned full = 0;

	if (h->mode != TAT_MODE_DISCARD)
		return;
	for (uint32_t i = 0; i < h->max_threads; i++)
		if (ctl[i].head - ctl[i].tail >= size)
			full++;
	if (full)
		pr_warn("%u thread ring%s already full (discard mode): nothing more is "
			"recorded for %s until 'tread -f' consumes it; use --mode flight to "
			"keep the newest events instead", full, full == 1 ? " is" : "s are",
			full == 1 ? "that thread" : "those threads");
}

/* Give each module a trampoline copy it can reach. */
static int place_trampolines(struct remote *r, struct ringfile *rf, pid_t pid)
{
	struct tat_ring_header *h = rf->hdr;
	struct tat_module *mods = ringfile_modules(rf);
	struct maps maps = { 0 };
	uint32_t copies = UINT32_MAX;	/* copies the map was read with */
	int ret = 0;

	/* The target is stopped: read its map again only once a new copy
	 * changed it, not once per module. */
	for (uint32_t i = 0; i < h->module_count && !ret; i++) {
		int idx;

		if (copies != h->tramp_count) {
			proc_free_maps(&maps);
			ret = proc_read_maps(pid, &maps);
			if (ret)
				break;
			copies = h->tramp_count;
		}
		idx = inject_tramp_for(r, rf, &maps, mods[i].text_start, mods[i].text_end);
		if (idx == -ENOSPC)
			pr_err("%s: no free address range within 2 GiB for the trampoline "
			       "(or already %d copies)", mods[i].path, TAT_TRAMP_MAX);
		else if (idx < 0)
			pr_err("%s: placing a trampoline copy: %s", mods[i].path, strerror(-idx));
		if (idx < 0) {
			ret = idx;
			break;
		}
		mods[i].tramp = (uint32_t)idx;
	}
	proc_free_maps(&maps);
	return ret;
}

/*
 * Zero padding after the end of an executable segment, inside its last
 * page: no code runs there, so it can hold the rescue code for the one
 * remote call made before the rescue page exists.  0 if none is found.
 */
static uint64_t scratch_of(const struct module_set *set, const struct maps *maps)
{
	uint64_t need = remote_rescue_size();

	for (size_t i = 0; i < set->n; i++) {
		const struct module *m = &set->v[i];
		uint64_t start = (m->text_end + 15) & ~15ull;
		uint64_t page_end = (m->text_end + 4095) & ~4095ull;
		const struct map *map = maps_find(maps, start);

		if (m->changed || !m->text_end || start + need > page_end || !map ||
		    !(map->prot & PROT_EXEC) || map->end < page_end)
			continue;
		return start;
	}
	return 0;
}

/* The rescue page an earlier run left, if it is still there. */
static uint64_t rescue_of(const struct ringfile *rf, pid_t pid)
{
	uint64_t addr = rf->hdr->rescue_addr;
	const struct map *m;
	struct maps maps;

	if (!addr || proc_read_maps(pid, &maps))
		return 0;
	m = maps_find(&maps, addr);
	if (!m || m->start != addr || m->end != addr + 4096 || m->inode ||
	    m->prot != (PROT_READ | PROT_EXEC))
		addr = 0;
	proc_free_maps(&maps);
	return addr;
}

static void report_no_sites(pid_t pid, const struct module_set *set)
{
	pr_err("pid %d (%s): no patchable call sites found; rebuild it with -pg, "
	       "-pg -mfentry, or -fpatchable-function-entry=5", (int)pid,
	       set->n ? set->v[0].path : "?");
}

/* -F/-N: which sites of each module to patch; NULL @want: all of them. */
static int plan_filters(const struct session_opts *o, const struct module_set *set,
			size_t libcalls_matched, uint8_t ***want)
{
	struct site_filter *f;
	size_t matched;
	int ret;

	*want = NULL;
	if (!o->nfilters && !o->nnotraces)
		return 0;
	ret = site_filter_open(o->filters, o->nfilters, o->notraces, o->nnotraces, &f);
	if (ret)
		return ret;
	ret = site_filter_plan(f, set, want, &matched);
	site_filter_close(f);
	if (ret)
		return ret;
	pr_info("%zu of %zu sites pass the filters", matched, set->total_sites);
	if (!matched && !libcalls_matched) {
		pr_err("no function of pid %d matches the filters: nothing to trace",
		       (int)o->pid);
		site_filter_plan_free(*want, set->n);
		*want = NULL;
		return -ENOENT;
	}
	return 0;
}

/* -A/-R, and the hooks of <tattach/mark.h> (marks.c): the specs of the
 * functions they name, which are traced even where -F/-N would leave them
 * out. */
static int plan_args(const struct session_opts *o, const struct module_set *set,
		     struct libcalls *lc, struct entry_plan *ep, uint8_t *const *want,
		     struct args_plan *ap)
{
	struct args_req *reqs;
	size_t n;
	int ret = marks_requests(o->args, o->nargs, set, &reqs, &n);

	if (!ret && o->libcalls)	/* the objects of lock calls: interactions */
		ret = sync_args_append(&reqs, &n);
	if (!ret)
		ret = args_plan_make(reqs, n, set, lc, ep, ap);
	marks_requests_free(reqs, n, o->nargs);
	if (ret || !want)
		return ret;
	for (size_t j = 0; j < ap->nmods; j++)
		for (size_t i = 0; ap->spec[j] && want[j] && i < set->v[j].sites.n; i++)
			if (args_site_on(ap->spec[j], (uint32_t)i))
				want[j][i] = 1;
	return 0;
}

/*
 * Is a site of a loaded module patched where the filters say not, or the
 * other way round?  Without filters every site is wanted.  (A site that
 * held unexpected bytes stays unpatched, so a plain --enable then always
 * runs again: it costs a short stop, and says what it found.)
 */
static int patched_set_differs(struct ringfile *rf, const struct module_set *set,
			       uint8_t *const *want)
{
	const struct tat_module *mods = ringfile_modules(rf);
	const struct tat_site *sites = ringfile_sites(rf);

	for (size_t j = 0; j < set->n; j++) {
		const struct module *m = &set->v[j];

		if (!m->sites.n || m->changed)
			continue;
		for (uint32_t k = 0; k < rf->hdr->module_count; k++) {
			const struct tat_module *tm = &mods[k];

			if (strcmp(tm->path, m->path) || tm->load_bias != m->bias)
				continue;
			for (uint32_t i = 0; i < tm->site_count && i < m->sites.n; i++) {
				uint64_t idx = (uint64_t)tm->first_site + i;
				int wanted = want && want[j] ? want[j][i] : 1;

				if (idx < rf->hdr->site_count && sites[idx].patched != wanted)
					return 1;
			}
			break;
		}
	}
	return 0;
}

/*
 * Under seccomp filters: hold the process a moment (nothing else done to
 * it) to read them, and refuse unless every call tattach makes is allowed.
 */
static int seccomp_allows(pid_t pid)
{
	struct held h = { 0 };
	int ret = seccomp_mode_check(pid);

	if (ret <= 0)
		return ret;
	ret = target_hold(pid, &h);
	if (ret)
		return ret;
	ret = seccomp_check_held(&h);
	if (release_all(&h) && !ret) {
		pr_err("resuming pid %d after reading its seccomp filters", (int)pid);
		ret = -EIO;
	}
	return ret;
}

/* --libcalls: the imports to hook, by the same -F/-N as the sites. */
static int plan_libcalls(const struct session_opts *o, const struct module_set *set,
			 struct libcalls *lc)
{
	struct site_filter *f = NULL;
	int ret;

	if (o->libcalls && (o->nfilters || o->nnotraces)) {
		ret = site_filter_open(o->filters, o->nfilters, o->notraces, o->nnotraces, &f);
		if (ret)
			return ret;
	}
	ret = libcalls_plan(o->pid, o->libcalls, f, set, lc);
	site_filter_close(f);
	if (!ret && o->libcalls)
		pr_info("%zu of %zu library calls pass the filters", lc->matched, lc->imports);
	return ret;
}

/* --entry, --module: the function entries to patch, by -F/-N too. */
static int plan_entries(const struct session_opts *o, const struct module_set *set,
			struct entry_plan *ep)
{
	struct site_filter *f = NULL;
	int ret;

	if ((o->entry || o->module) && (o->nfilters || o->nnotraces)) {
		ret = site_filter_open(o->filters, o->nfilters, o->notraces, o->nnotraces, &f);
		if (ret)
			return ret;
	}
	ret = entries_plan(o->pid, o->entry, o->module, f, set, ep);
	site_filter_close(f);
	if (!ret && (o->entry || o->module) && !ep->matched && !set->total_sites) {
		pr_err("pid %d: none of its %zu functions can have its entry patched "
		       "(%zu refused as unsafe%s; tattach -v lists them)", (int)o->pid,
		       ep->functions, ep->refused,
		       o->nfilters || o->nnotraces ? ", the others filtered out" : "");
		ret = -ENOENT;
	}
	return ret;
}

/* The text pages the first --enable rewrites, copied while the process
 * runs (text_prefault.c); only modules whose every site is wanted: with
 * filters, pages without a wanted site would be copied for nothing. */
static void prefault_new_text(pid_t pid, const struct module_set *set, uint8_t *const *want)
{
	uint8_t *fresh = calloc(set->n + 1, 1);

	if (!fresh)
		return;
	for (size_t i = 0; i < set->n; i++)
		fresh[i] = set->v[i].sites.n && (!want || !want[i]);
	text_prefault(pid, set, fresh);
	free(fresh);
	phase_mark("copy the text pages to rewrite");
}

/*
 * The first --enable injects: the rescue page, the ring and state
 * mappings, the trampoline copies, the site hash (8 MiB at 100 000
 * sites).  That takes one thread making system calls, not the process
 * stopped: no site calls the trampoline before the rewrite, and the other
 * threads never run what is set up meanwhile (remote calls use a syscall
 * instruction that is already there, or zero padding; a mapping taken
 * meanwhile is looked for elsewhere, inject.c).  So it is done with the
 * main thread held alone, and only the rewrite stops every thread.  When
 * that thread cannot be held alone (a zombie leader), or anything here
 * fails, the caller does what is left while every thread is held, as it
 * does for a later --enable: so no error is returned, only the number of
 * modules it placed trampolines for (0: none).
 */
static uint32_t inject_early(const struct session_opts *o, struct ringfile *rf,
			     const struct module_set *set, const struct maps *maps,
			     const struct libcalls *lc, const struct entry_plan *ep,
			     const struct site_hash *pre, struct session_report *rep)
{
	struct remote r = { .memfd = -1 };
	struct held h1;
	uint32_t placed = 0;
	double held_us;
	int ret;

	if (rf->hdr->state != TAT_STATE_NEW)
		return 0;
	/* the ring file only (100 000 sites: a millisecond): before the hold */
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].sites.n || libcalls_has(lc, &set->v[i]) ||
		    entries_has(ep, &set->v[i]))
			register_module(rf, &set->v[i]);
	if (hold_thread(o->pid, o->pid, &h1))
		return 0;
	phase_mark("early: main thread held");
	ret = remote_open(&r, &h1, rescue_of(rf, o->pid));
	if (!ret && !r.rescue) {
		uint64_t scratch = scratch_of(set, maps);

		if (!scratch || remote_use_scratch(&r, scratch))
			pr_info("no padding for the first remote call: using the vDSO's "
				"(a tattach killed during it would hurt pid %d)", (int)o->pid);
		ret = remote_make_rescue(&r);
		if (!ret)
			rf->hdr->rescue_addr = r.rescue;
	}
	if (!ret)
		ret = inject_setup(&r, rf);
	if (!ret)
		rf->hdr->state = TAT_STATE_DISABLED;
	phase_mark("early: rescue, inject");
	if (!ret && !place_trampolines(&r, rf, o->pid))
		placed = rf->hdr->module_count;
	phase_mark("early: trampolines");
	release_all(&h1);
	held_us = held_elapsed_us(&h1);
	/* No site calls the trampoline yet: its site hash and call-through
	 * stubs (milliseconds at 100k sites) go in while the process runs,
	 * through the /proc/PID/mem opened while it was held. */
	if (placed && inject_sync_sites_with(&r, rf, pre))
		placed = 0;
	phase_mark("early: site hash, stubs (process running)");
	remote_close(&r);
	if (rf->hdr->state != TAT_STATE_NEW)	/* injected: say how long it held */
		rep->inject_us = held_us;
	return placed;
}

int session_enable(const struct session_opts *o, struct session_report *rep)
{
	struct module_set set = { 0 };
	const struct module *changed;
	struct ringfile rf = { .fd = -1 };
	struct proc_stat ps;
	struct maps maps = { 0 };
	struct remote r = { .memfd = -1 };
	struct held h = { 0 };
	struct site_hash pre = { 0 };
	uint8_t **want = NULL;
	struct libcalls lc = { 0 };
	struct libcalls_report lrep;
	struct entry_plan ep = { 0 };
	struct entries_report erep = { 0 };
	struct saved_contexts handlers = { 0 };
	struct args_plan ap = { 0 };
	struct rewrite_prep prep = { 0 };
	struct marks_flags mf = { 0 };
	size_t args_differ, reloaded;
	struct maps held_maps = { 0 };
	uint32_t args_sites;
	int ret, created, no_children;
	uint32_t placed;

	memset(rep, 0, sizeof(*rep));
	phase_start();
	ret = target_check(o->pid, &ps);
	if (!ret)
		ret = target_check_stoppable(o->pid);
	if (!ret)
		ret = seccomp_allows(o->pid);
	if (ret)
		return ret;
	ret = proc_read_maps(o->pid, &maps);
	if (ret) {
		pr_err("reading the memory map of pid %d: %s", (int)o->pid, strerror(-ret));
		return ret;
	}
	ret = modules_discover(o->pid, &maps, &set);
	if (ret)
		goto out;
	for (size_t i = 0; i < set.n; i++)
		if (set.v[i].changed && &set.v[i] != modules_changed(o->pid, &set))
			pr_warn("%s %s: its sites (if any) are not traced", set.v[i].path,
				set.v[i].changed);
	changed = modules_changed(o->pid, &set);
	if (changed) {
		pr_err("%s %s: not attaching (restart pid %d to trace it)", changed->path, changed->changed,
		       (int)o->pid);
		ret = -ESTALE;
		goto out;
	}
	ret = plan_libcalls(o, &set, &lc);
	if (!ret)
		ret = plan_entries(o, &set, &ep);
	if (ret)
		goto out;
	rep->entries_refused = ep.refused;
	if (!set.total_sites && !lc.imports && !ep.matched) {
		if (!o->no_sites_quiet)
			report_no_sites(o->pid, &set);
		ret = -ENOENT;
		goto out;
	}
	/* Names are looked up before the process is stopped: that takes a while. */
	ret = plan_filters(o, &set, lc.matched + ep.matched, &want);
	if (!ret)
		ret = plan_args(o, &set, &lc, &ep, want, &ap);
	if (ret)
		goto out;
	created = ring_get(o, &ps, set.total_sites + lc.imports + ep.functions, &rf);
	if (created < 0) {
		ret = created;
		goto out;
	}
	snprintf(rep->ring_path, sizeof(rep->ring_path), "%s", rf.path);
	rf.hdr->owner = getpid();
	/* Read the map again now that we hold the ring: another run may have
	 * injected since the first look. */
	proc_free_maps(&maps);
	ret = proc_read_maps(o->pid, &maps);
	if (ret) {
		pr_err("reading the memory map of pid %d: %s", (int)o->pid, strerror(-ret));
		goto out;
	}
	if (!created && !inject_present(&rf, &maps) && rf.hdr->state != TAT_STATE_NEW) {
		/* Same pid and start time, but our mappings are gone: the
		 * process called exec.  Keep the earlier image's trace under
		 * a name of its own, and start afresh. */
		int kept;

		ringfile_close(&rf);
		kept = ringdir_keep_image(o->pid, ps.start_time, rep->kept_image,
					  sizeof(rep->kept_image));
		if (kept < 0) {
			pr_err("pid %d called exec since it was traced, and its earlier trace "
			       "%s cannot be kept: %s; move it away to trace the new program",
			       (int)o->pid, rep->ring_path, strerror(-kept));
			ret = kept;
			goto out;
		}
		if (!kept)
			rep->kept_image[0] = 0;
		created = ring_get(o, &ps, set.total_sites + lc.imports + ep.functions, &rf);
		if (created < 0) {
			ret = created;
			goto out;
		}
	}
	rep->slots = rf.hdr->max_threads;
	if (created && !o->max_threads && rf.hdr->max_threads > SESSION_DEFAULT_THREADS)
		rep->slots_chosen = rf.hdr->max_threads;
	/* --follow: an exec'd child is its traced parent's descendant, as a
	 * fork child's own ring says (tread --children, --disable) */
	if (created && o->parent_pid > 0) {
		rf.hdr->parent_pid = o->parent_pid;
		rf.hdr->parent_start_time = o->parent_start_time;
	}
	/* The process opens its ring file itself, by this path.  In a
	 * container with a folder of its own there it would find no file, or
	 * another: said now, before anything is done to it. */
	if (rf.hdr->state == TAT_STATE_NEW && ringfile_seen_by(&rf, o->pid)) {
		pr_err("pid %d runs in another mount namespace or root (a container?) and does "
		       "not see %s: set TATTACH_RING_DIR to a folder it sees under the same path; "
		       "nothing was changed", (int)o->pid, rf.path);
		if (created)
			unlink(rep->ring_path);
		ret = -EXDEV;
		goto out;
	}
	if (o->nargs && !args_table(&rf)) {
		pr_err("%s predates argument recording (-A/-R): restart pid %d to use them",
		       rf.path, (int)o->pid);
		ret = -EPROTO;
		goto out;
	}
	if (o->mode == TAT_MODE_STATS) {
		ret = check_stats_room(&rf);
		if (ret)
			goto out;
	}
	if (o->mode >= 0)
		rf.hdr->mode = (uint32_t)o->mode;
	rep->mode = (int)rf.hdr->mode;
	if (o->max_depth >= 0)
		__atomic_store_n(&rf.hdr->max_depth, (uint32_t)o->max_depth, __ATOMIC_RELEASE);
	/* Read by a fork child at its first traced call (tramp_fork.c): every
	 * --enable says it, as it says the mode.  A child names its ring by
	 * its own pid, which in a pid namespace below ours is not the pid
	 * tattach, tread and --clean know it by: no rings for those. */
	no_children = o->no_children;
	if (!no_children && proc_in_child_pid_ns(o->pid) == 1) {
		pr_warn("pid %d runs in a pid namespace of its own (a container?): processes it "
			"forks would name their ring files by pids tattach does not see, so they "
			"record nothing, as with --no-children", (int)o->pid);
		no_children = 1;
	}
	__atomic_store_n(&rf.hdr->children, no_children ? 0u : 1u, __ATOMIC_RELEASE);
	/* The trampoline found no room for a slot's pages (tramp_ring.c):
	 * this --enable lets threads try again, and says why some were not
	 * traced. */
	if (__atomic_load_n(&rf.hdr->no_room, __ATOMIC_ACQUIRE)) {
		pr_warn("pid %d: the ring folder %s filled up after the ring file was made: "
			"threads that needed ring pages since were not traced (their calls "
			"count as 'no thread slot'); they try again now", (int)o->pid,
			ringfiles_dir());
		__atomic_store_n(&rf.hdr->no_room, 0u, __ATOMIC_RELEASE);
	}
	/* Enabled already: nothing to do, unless a library with sites was
	 * loaded since (dlopen), or unloaded and loaded again: then trace it
	 * too; or the filters ask for another set of sites. */
	reloaded = rewrite_forget_reloaded(&rf, &set, o->pid);
	if (rf.hdr->state == TAT_STATE_ENABLED && !reloaded && !unregistered_modules(&rf, &set) &&
	    !patched_set_differs(&rf, &set, want) && !libcalls_differs(&rf, &lc) &&
	    !entries_differs(&rf, &ep, o->pid) && !args_plan_sync(&ap, &rf, &set, &lc, 0)) {
		rep->already = 1;
		rep->sites = rf.hdr->patched_sites;
		ret = 0;
		goto out;
	}

	for (size_t i = 0; i < set.n; i++) {
		const struct module *m = &set.v[i];

		if ((m->sites.n || libcalls_has(&lc, m) || entries_has(&ep, m)) &&
		    !inject_can_reach(&rf, &maps, m->text_start, m->text_end)) {
			pr_err("%s: no free address range within 2 GiB of its code for the "
			       "trampoline; not attaching", m->path);
			ret = -ENOSPC;
			goto out;
		}
	}
	/* The site hash is built now, while the process runs: at 100k sites
	 * that is most of what it would otherwise wait for.  Without memory
	 * for it, it is built while stopped, as before.  Only new modules add
	 * sites: with none, the target's table is whole already. */
	if (unregistered_modules(&rf, &set))
		inject_hash_predict(&rf, &set, &pre);
	unwind_hooks_prepare(o->pid, &maps);
	phase_mark("unwinder GOT entries found");
	stackwalk_prepare(o->pid);	/* for running_adopt() */
	phase_mark("unwind tables loaded");
	if (rf.hdr->state == TAT_STATE_NEW)
		prefault_new_text(o->pid, &set, want);
	own_memory_ready(OWN_HEAP_BASE + OWN_HEAP_PER_SITE *
			 ((size_t)rf.hdr->site_count + set.total_sites));
	ringfile_make_resident(&rf, (uint32_t)set.n, (uint32_t)set.total_sites);
	phase_mark("before stopping (ELF, ring, own memory)");
	placed = inject_early(o, &rf, &set, &maps, &lc, &ep, &pre, rep);
	rewrite_prepare(&rf, &set, want, &maps, o->pid, PATCH_ENABLE, &prep);
	/* only tattach writes the specs, and the ring is ours (locked) */
	args_differ = args_plan_sync(&ap, &rf, &set, &lc, 0);
	args_sites = rf.hdr->site_count;
	if (!args_differ)
		marks_flags_find(&rf, &mf);	/* the specs the stop keeps */
	phase_mark("plan the rewrite");
	ret = target_hold(o->pid, &h);
	if (ret)
		goto out;
	phase_mark("stop threads");
	ret = remote_open(&r, &h, rescue_of(&rf, o->pid));
	if (ret) {
		pr_err("cannot drive pid %d: %s", (int)o->pid, strerror(-ret));
		goto out_release;
	}
	if (!r.rescue) {
		uint64_t scratch = scratch_of(&set, &maps);

		if (!scratch || remote_use_scratch(&r, scratch))
			pr_info("no padding for the first remote call: using the vDSO's "
				"(a tattach killed during it would hurt pid %d)", (int)o->pid);
		ret = remote_make_rescue(&r);
		if (ret) {
			pr_err("setting up pid %d: %s", (int)o->pid, strerror(-ret));
			goto out_release;
		}
		rf.hdr->rescue_addr = r.rescue;
		phase_mark("remote set-up: rescue");
	}
	if (rf.hdr->state == TAT_STATE_NEW) {
		ret = inject_setup(&r, &rf);
		if (ret) {
			pr_err("setting up pid %d: %s", (int)o->pid, strerror(-ret));
			goto out_release;
		}
		rf.hdr->state = TAT_STATE_DISABLED;
	}
	phase_mark("remote set-up (rescue, inject)");
	inject_check_tid_offset(&r, &rf);
	for (size_t i = 0; i < set.n; i++)
		if (set.v[i].sites.n || libcalls_has(&lc, &set.v[i]) ||
		    entries_has(&ep, &set.v[i]))
			rep->modules += register_module(&rf, &set.v[i]) >= 0;
	phase_mark("register modules");
	/* inject_early() placed them already, unless a module came since */
	ret = placed && placed == rf.hdr->module_count ? 0 :
	      place_trampolines(&r, &rf, o->pid);
	if (!ret)
		ret = libcalls_prepare(&r, &rf, &lc);
	if (!ret)
		ret = entries_prepare(&r, &rf, &ep);
	phase_mark("register modules, trampolines");
	if (!ret) {
		ret = inject_sync_sites_with(&r, &rf, &pre);
		phase_mark("site hash into the target");
		if (ret == -EBADMSG)
			pr_err("pid %d runs a trampoline that another tattach build injected: "
			       "enable it with that build, or restart the process", (int)o->pid);
		else if (ret)
			pr_err("writing the site table into pid %d: %s", (int)o->pid,
			       strerror(-ret));
	}
	if (ret)
		goto out_release;
	rf.hdr->state = TAT_STATE_BUSY;
	/* -A/-R: the specs before the sites that read them are patched */
	if ((args_differ || rf.hdr->site_count != args_sites) &&
	    args_plan_sync(&ap, &rf, &set, &lc, 1)) {
		rewrite_prep_free(&prep);	/* it chose entries by the old specs */
		marks_flags_free(&mf);		/* and found flags by them */
	}
	libcalls_set_entries(&r, &rf);	/* --libcalls -A/-R: the stubs' entries */
	/* the map while held: a library dlclose()d since is left alone */
	ret = proc_read_maps(o->pid, &held_maps);
	if (!ret)
		ret = libcalls_apply(&r, &rf, &lc, &held_maps, &lrep);
	if (!ret)
		ret = entries_apply(&r, &rf, &ep, &held_maps, &handlers, &erep);
	/* entries written, threads stepped out: the process must survive
	 * our death from here on (test_entries_stepout) */
	if (!ret && erep.patched)
		remote_test_kill_point();
	if (!ret)
		ret = rewrite_sites(&r, &rf, &set, want, PATCH_ENABLE, &held_maps, &prep,
				    &handlers, rep);
	sigframes_free(&handlers);
	rep->libcalls = lrep.hooked;
	rep->entries = erep.patched;
	rep->entries_stepped = erep.stepped;
	rep->handlers_stepped += erep.handlers_stepped;
	rf.hdr->state = rf.hdr->patched_sites ? TAT_STATE_ENABLED : TAT_STATE_DISABLED;
	if (!ret && !rf.hdr->patched_sites) {
		pr_err("no site of pid %d could be enabled: %zu held unexpected bytes "
		       "(already rewritten by another tracer, or a fork of a traced "
		       "process?)", (int)o->pid, rep->mismatched);
		ret = -EILSEQ;
	}
	if (!ret) {
		struct running_report rr;

		/* the calls running now: their returns are traced too */
		running_adopt(&rf, &h, &rr);
		rep->adopted = rr.calls;
		/* <tattach/mark.h>: tattach_label() formats from now on */
		marks_flags_put(&r, &rf, &mf, 1);
		phase_mark("adopt running calls");
		/* C++ exceptions must not meet a hijacked return */
		if (unwind_hooks_install(&r, &rf, &maps) < 0)
			pr_warn("pid %d: C++ exceptions thrown through traced calls will "
				"end the program (the unwinder's GOT entries could not be "
				"hooked)", (int)o->pid);
		/* pthread_cancel(): its forced unwind has no GOT entry */
		if (forced_hook_install(&r, &rf) < 0)
			pr_warn("pid %d: _Unwind_ForcedUnwind could not be patched: C++ "
				"destructors above a traced call are skipped when a thread "
				"is cancelled", (int)o->pid);
		rf.hdr->enable_count++;
		phase_mark("unwinder hooks");
	}
	warn_full_rings(&rf);
out_release:
	remote_close(&r);
	phase_mark("remote close");
	if (release(&h, rep) && !ret)
		ret = -EIO;
	phase_mark("resume threads");
	stackwalk_done();	/* the walks' state, torn down outside the stop */
out:
	if (rf.hdr)
		rf.hdr->owner = 0;
	ringfile_close(&rf);
	inject_hash_free(&pre);
	site_filter_plan_free(want, set.n);
	libcalls_free(&lc);
	entries_plan_free(&ep);
	args_plan_free(&ap);
	rewrite_prep_free(&prep);
	marks_flags_free(&mf);
	modules_free(&set);
	proc_free_maps(&maps);
	proc_free_maps(&held_maps);
	return ret;
}

static int ring_of_live(const struct session_opts *o, struct proc_stat *ps,
			int flags, struct ringfile *rf)
{
	uid_t uid;
	gid_t gid;
	int ret = target_check(o->pid, ps);

	if (!ret)
		ret = proc_owner(o->pid, &uid, &gid);
	if (ret)
		return ret;
	ret = ringfile_open(o->pid, ps->start_time, uid, flags, rf);
	if (ret)
		explain_open(ret, o->pid, rf);
	return ret;
}

/*
 * Once nothing is traced: the unwinder's GOT entries back as they were,
 * when no call still returns through the trampoline.  An entry --libcalls
 * had hooked before the unwinder hook went on it is --libcalls' again
 * then: unhook the library calls once more.
 */
static int unhook_unwinder(struct remote *r, struct ringfile *rf, struct held *h,
			   const struct maps *maps, struct libcalls_report *lrep,
			   const unsigned char *walked)
{
	int n = unwind_hooks_remove(r, rf, h, walked);

	/* and _Unwind_ForcedUnwind's entry, when the GOT entries go back */
	if (n >= 0 && forced_hook_remove(r, rf) < 0)
		pr_warn("pid %d: _Unwind_ForcedUnwind's entry could not be put back",
			(int)h->pid);

	if (n == -EBADMSG)
		pr_warn("pid %d: the unwinder's GOT entries stay on the trampoline another "
			"tattach build injected (it keeps working)", (int)h->pid);
	else if (n < 0 && n != -EBUSY)
		pr_warn("pid %d: the unwinder's GOT entries could not all be put back: %s",
			(int)h->pid, strerror(-n));
	return n > 0 ? libcalls_apply(r, rf, NULL, maps, lrep) : 0;
}

/*
 * A thread stopped inside the trampoline keeps its calls in flight
 * (unhijack.c).  The sites are NOPs now, so it leaves the trampoline at
 * once and enters it again only to return through those calls: stop the
 * process again, briefly, and cut them loose then; a few times at most.
 */
#define CUT_TRIES 8

#define CUT_WAIT_MS 100	/* for a kept thread to run, each time */
/* CPU time it must have had first: 200 us, then twice as much each try.
 * A thread caught in a signal handler that runs on top of the trampoline
 * (a -pg program's SIGPROF, say) is still there after a mere tick. */
#define CUT_RAN_NS 200000ull

static void cut_kept(const struct session_opts *o, struct ringfile *rf,
		     struct session_report *rep, struct unhijack_report *urep)
{
	for (int tries = 0; tries < CUT_TRIES && rep->cut_kept; tries++) {
		struct remote r = { .memfd = -1 };
		struct session_report again = { 0 };
		struct libcalls_report lrep;
		struct held h = { 0 };
		int ret;

		/* stopped again before it ran, it would still be where it was */
		unhijack_wait_ran(o->pid, urep, CUT_WAIT_MS, CUT_RAN_NS << tries);
		if (target_hold(o->pid, &h))
			return;
		unhijack_report_free(urep);
		ret = remote_open(&r, &h, rescue_of(rf, o->pid));
		if (!ret)
			ret = unhijack_all(&r, rf, &h, urep);
		if (!ret) {
			rep->cut += urep->calls;
			rep->cut_later += rep->cut_kept - urep->kept;
			rep->cut_kept = urep->kept;
			rep->stub_stepped += urep->stepped;
			struct maps maps = { 0 };

			/* a library unloaded meanwhile is left alone (NULL: not
			 * checked, should the map not be read) */
			if (proc_read_maps(o->pid, &maps))
				memset(&maps, 0, sizeof(maps));
			unhook_unwinder(&r, rf, &h, maps.v ? &maps : NULL, &lrep, urep->walked);
			proc_free_maps(&maps);
		}
		remote_close(&r);
		release(&h, &again);
		rep->cut_stops++;
		if (ret)
			return;
	}
}

int session_disable(const struct session_opts *o, struct session_report *rep)
{
	struct unhijack_report urep = { 0 };
	struct ringfile rf = { .fd = -1 };
	struct remote r = { .memfd = -1 };
	struct rewrite_prep prep = { 0 };
	struct marks_flags mf = { 0 };
	struct maps maps = { 0 };
	struct proc_stat ps;
	struct held h = { 0 };
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = target_check_stoppable(o->pid);
	if (!ret)
		ret = ring_of_live(o, &ps, RINGFILE_LOCK, &rf);
	if (ret)
		return ret;
	snprintf(rep->ring_path, sizeof(rep->ring_path), "%s", rf.path);
	rf.hdr->owner = getpid();
	if (o->mode >= 0)
		rf.hdr->mode = (uint32_t)o->mode;
	/* disabled, unless calls in flight are still to be cut loose */
	if (rf.hdr->state != TAT_STATE_ENABLED && rf.hdr->state != TAT_STATE_BUSY &&
	    !rf.hdr->cut_pending) {
		rep->already = 1;
		goto out;
	}
	phase_start();
	/* the walks that cut calls in flight loose read these tables */
	stackwalk_prepare(o->pid);
	own_memory_ready(OWN_HEAP_BASE + OWN_HEAP_PER_SITE * (size_t)rf.hdr->site_count);
	ringfile_make_resident(&rf, 0, 0);
	rewrite_prepare(&rf, NULL, NULL, NULL, o->pid, PATCH_DISABLE, &prep);
	marks_flags_find(&rf, &mf);
	phase_mark("before stopping (unwind tables, own memory, plan)");
	ret = target_hold(o->pid, &h);
	if (ret)
		goto out;
	phase_mark("stop threads");
	ret = proc_read_maps(o->pid, &maps);
	if (!ret && !inject_present(&rf, &maps)) {
		pr_err("pid %d no longer has tattach's mappings (did it exec?); "
		       "nothing to disable", (int)o->pid);
		ret = -ESTALE;
	}
	if (!ret) {
		ret = remote_open(&r, &h, rescue_of(&rf, o->pid));
		if (ret)
			pr_err("cannot drive pid %d: %s", (int)o->pid, strerror(-ret));
	}
	phase_mark("read maps, open memory");
	if (!ret) {
		struct libcalls_report lrep;
		struct entries_report erep = { 0 };
		struct saved_contexts handlers = { 0 };

		rf.hdr->state = TAT_STATE_BUSY;
		ret = libcalls_apply(&r, &rf, NULL, &maps, &lrep);
		if (!ret)
			ret = entries_apply(&r, &rf, NULL, &maps, NULL, &erep);
		if (!ret)
			ret = rewrite_sites(&r, &rf, NULL, NULL, PATCH_DISABLE, &maps, &prep,
					    &handlers, rep);
		sigframes_free(&handlers);
		if (!ret)
			marks_flags_put(&r, &rf, &mf, 0);	/* <tattach/mark.h> */
		if (!ret && !rf.hdr->patched_sites) {
			/* calls in flight return straight to their callers from
			 * now on: then the unwinder needs no hook (unhijack.c) */
			phase_mark("rewrite sites, hooks");
			if (unhijack_all(&r, &rf, &h, &urep) == 0) {
				rep->cut = urep.calls;
				rep->cut_kept = urep.kept;
				rep->stub_stepped = urep.stepped;
			}
			phase_mark("cut calls in flight loose");
			ret = unhook_unwinder(&r, &rf, &h, &maps, &lrep, urep.walked);
			phase_mark("unwinder hooks off");
		}
		rep->entries_in_stubs = erep.in_stubs;
		rf.hdr->state = rf.hdr->patched_sites ? TAT_STATE_ENABLED : TAT_STATE_DISABLED;
		if (!ret)
			rf.hdr->disable_count++;
	}
	remote_close(&r);
	if (release(&h, rep) && !ret)
		ret = -EIO;
	phase_mark("resume threads");
	if (!ret) {
		cut_kept(o, &rf, rep, &urep);
		rf.hdr->cut_pending = rep->cut_kept > 0;
	}
	unhijack_report_free(&urep);
out:
	stackwalk_done();	/* the walks' state, torn down outside the stop */
	rf.hdr->owner = 0;
	rewrite_prep_free(&prep);
	marks_flags_free(&mf);
	proc_free_maps(&maps);
	ringfile_close(&rf);
	return ret;
}

int session_set_mode(const struct session_opts *o)
{
	struct ringfile rf = { .fd = -1 };
	struct proc_stat ps;
	int ret = ring_of_live(o, &ps, RINGFILE_LOCK, &rf);

	if (ret)
		return ret;
	if (o->mode == TAT_MODE_STATS) {
		ret = check_stats_room(&rf);
		if (ret) {
			ringfile_close(&rf);
			return ret;
		}
	}
	if (o->mode >= 0)
		__atomic_store_n(&rf.hdr->mode, (uint32_t)o->mode, __ATOMIC_RELEASE);
	if (o->max_depth >= 0)
		__atomic_store_n(&rf.hdr->max_depth, (uint32_t)o->max_depth, __ATOMIC_RELEASE);
	ringfile_close(&rf);
	return 0;
}

void session_say_values_wait(FILE *out, const struct session_opts *o,
			     const struct session_report *rep)
{
	/* said also when nothing else changed: the values wait for the mode */
	if (o->nargs && rep->mode == TAT_MODE_STATS)
		fprintf(out, "tattach: pid %d: stats mode records no values: -A/-R apply once "
			"the mode is flight or discard ('tattach -p %d --mode flight')\n",
			(int)o->pid, (int)o->pid);
}

const char *session_mode_name(int mode)
{
	switch (mode) {
	case TAT_MODE_DISCARD: return "discard";
	case TAT_MODE_FLIGHT:  return "flight";
	case TAT_MODE_STATS:   return "stats";
	}
	return "unknown";
}

static const char *state_name(uint32_t s)
{
	switch (s) {
	case TAT_STATE_NEW:      return "attaching";
	case TAT_STATE_DISABLED: return "disabled";
	case TAT_STATE_ENABLED:  return "enabled";
	case TAT_STATE_BUSY:     return "busy (a tattach run is rewriting sites)";
	}
	return "unknown";
}

/*
 * The ring --status shows: that of the running process, or post mortem
 * (*@exited set) the one its pid's last traced process left, read-only.
 */
static int ring_for_status(const struct session_opts *o, struct ringfile *rf,
			   int *exited)
{
	struct proc_stat ps;
	char path[256];
	uid_t uid;
	gid_t gid;
	int ret;

	*exited = 0;
	if (proc_read_stat(o->pid, &ps) == 0 && proc_live_thread(o->pid)) {
		ret = target_check(o->pid, &ps);
		if (!ret)
			ret = proc_owner(o->pid, &uid, &gid);
		if (ret)
			return ret;
		ret = ringfile_open(o->pid, ps.start_time, uid, 0, rf);
		if (ret != -ESTALE) {
			if (ret)
				explain_open(ret, o->pid, rf);
			return ret;
		}
		/* the file is an earlier process's: show it post mortem */
	}
	*exited = 1;
	ringfile_path(o->pid, path, sizeof(path));
	ret = ringfile_open_readonly(path, o->pid, rf);
	if (ret == -ENOENT)
		pr_err("pid %d is not running and left no ring file %s (see 'tattach "
		       "--list' for rings kept under other names)", (int)o->pid, path);
	else if (ret)
		explain_open(ret, o->pid, rf);
	return ret;
}

int session_status(const struct session_opts *o, FILE *out)
{
	struct ringfile rf = { .fd = -1 };
	struct tat_ring_header *h;
	struct tat_thread_ctl *ctl;
	struct tat_module *mods;
	struct tat_site *sites;
	struct maps maps = { 0 };
	struct proc_stat ps;
	uint64_t used = 0, dropped = 0, deep = 0, size;
	unsigned live_threads = 0;
	int ret, present = 0, exited;

	ret = ring_for_status(o, &rf, &exited);
	if (ret)
		return ret;
	h = rf.hdr;
	mods = ringfile_modules(&rf);
	sites = ringfile_sites(&rf);
	ctl = ringfile_threads(&rf);
	size = 1ull << h->ring_shift;
	if (!exited)
		present = proc_read_maps(o->pid, &maps) == 0 && inject_present(&rf, &maps);

	fprintf(out, "pid:          %d\n", (int)o->pid);
	if (exited)
		fprintf(out, "process:      exited (%s); this is what it left, read it "
			"with 'tread -p %d'\n", proc_read_stat(o->pid, &ps) == 0 ?
			"its pid now belongs to another process" : "no process has its pid now",
			(int)o->pid);
	fprintf(out, "ring file:    %s (%.1f MiB)\n", rf.path, h->file_size / 1048576.0);
	fprintf(out, "attached:     %s\n", present ? "yes (trampoline and ring mapped)" : "no");
	fprintf(out, "tracing:      %s\n", state_name(h->state));
	status_print_children(out, h);
	fprintf(out, "mode:         %s\n", session_mode_name((int)h->mode));
	fprintf(out, "clock:        %s\n", h->clock == TAT_CLOCK_MONO ?
		"CLOCK_MONOTONIC (vDSO)" : "TSC");
	fprintf(out, "buffer:       %llu bytes per thread, %u thread slots\n",
		(unsigned long long)(size * 8), h->max_threads);
	fprintf(out, "enables:      %llu, disables: %llu\n",
		(unsigned long long)h->enable_count, (unsigned long long)h->disable_count);
	fprintf(out, "modules:\n");
	for (uint32_t i = 0; i < h->module_count && i < h->module_cap; i++) {
		uint32_t on = 0;

		for (uint32_t j = 0; j < mods[i].site_count; j++) {
			uint64_t k = (uint64_t)mods[i].first_site + j;

			if (k < h->site_count && k < h->site_cap)
				on += sites[k].patched;
		}
		/* dlclose()d: what the table says is of before (the next
		 * tattach run marks it unpatched) */
		if (present && !module_mapped(&maps, &mods[i]))
			fprintf(out, "  %-50s %6u sites, not loaded now\n", mods[i].path,
				mods[i].site_count);
		else
			fprintf(out, "  %-50s %6u sites, %6u patched%s\n", mods[i].path,
				mods[i].site_count, on, present && module_replaced(&maps, &mods[i]) ?
				" (file replaced on disk since it was loaded)" : "");
	}
	fprintf(out, "threads:\n");
	for (uint32_t i = 0; i < h->max_threads; i++) {
		uint64_t n;

		if (!ctl[i].tid && !ctl[i].head)
			continue;
		live_threads++;
		n = ctl[i].head < size ? ctl[i].head : size;
		used += n * 8;
		dropped += ctl[i].dropped;
		deep += ctl[i].deep;
		fprintf(out, "  tid %-8d %10llu events written, %8llu dropped\n", ctl[i].tid,
			(unsigned long long)ctl[i].head, (unsigned long long)ctl[i].dropped);
	}
	fprintf(out, "threads with rings: %u of %u\n", live_threads, h->max_threads);
	if (present)
		status_print_lookup(out, &rf, o->pid);
	fprintf(out, "bytes used:   %llu\n", (unsigned long long)used);
	fprintf(out, "dropped:      %llu events (ring full), %llu (no thread slot), "
		"%llu calls too deep\n", (unsigned long long)dropped,
		(unsigned long long)h->threads_overflow, (unsigned long long)deep);
	if (h->no_room)
		fprintf(out, "no room:      the ring folder %s filled up after the ring file was made: "
			"threads that needed ring pages since are not traced; free space there, "
			"then --enable again\n", ringfiles_dir());
	status_print_resident(out, &rf);
	status_print_depth(out, &rf);
	status_print_stats(out, &rf);
	status_print_patched(out, &rf, present ? &maps : NULL, o->verbose);
	libcalls_status(out, &rf, o->pid, present ? &maps : NULL, o->verbose);
	entries_status(out, &rf, o->pid, present ? &maps : NULL, o->verbose);
	proc_free_maps(&maps);
	ringfile_close(&rf);
	return 0;
}
