/* SPDX-License-Identifier: MIT */
/* tattach's side of the ring file: create it, find it again, check it. */
#ifndef TATTACH_RINGFILE_H
#define TATTACH_RINGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <tattach/ring.h>

struct ring_geometry {
	uint32_t max_threads;		/* power of two */
	uint32_t ring_shift;		/* events per thread = 1 << ring_shift */
	uint32_t site_cap;
	uint32_t module_cap;
	uint32_t clock;			/* enum tat_clock */
	uint32_t stats_cap;		/* stats pool records; 0: the default
					 * (smaller only, for tests) */
};

/* Is @ip inside trampoline code: a copy, or the rescue page? */
static inline int ring_in_tramp(const struct tat_ring_header *hdr, uint64_t ip)
{
	for (uint32_t i = 0; i < hdr->tramp_count && i < TAT_TRAMP_MAX; i++)
		if (ip >= hdr->tramp_addr[i] && ip < hdr->tramp_addr[i] + hdr->tramp_size)
			return 1;
	return hdr->rescue_addr && ip >= hdr->rescue_addr && ip < hdr->rescue_addr + 4096;
}

struct ringfile {
	int fd;
	size_t size;
	struct tat_ring_header *hdr;	/* our own shared mapping */
	char path[256];
};

void ringfile_path(pid_t pid, char *buf, size_t len);

#define RINGFILE_LOCK 1	/* hold an exclusive lock while it is open */

/*
 * ringfile_open - open the ring file of the process (@pid, @start_time),
 * which must be a regular file of @uid (or of root, or of our own user)
 * with no group or other access.
 * With RINGFILE_LOCK, fail rather than wait if another tattach holds it.
 * Returns 0, -ENOENT (none), -EPERM (not a private file of @uid), -EBUSY
 * (locked), -ESTALE (it belongs to an earlier process with the same pid),
 * -EXDEV (its header names another pid: a ring file renamed or copied
 * there), -EBADMSG (not a ring file of this version).
 */
int ringfile_open(pid_t pid, uint64_t start_time, uid_t uid, int flags,
		  struct ringfile *rf);

/*
 * ringfile_create - create a new ring file for the target, owned by its
 * user, mode 0600, and return it locked.  An existing file (or a planted
 * symlink) is never reused: -EEXIST then (the caller removes a stale one
 * first, or another tattach run just created it).
 */
int ringfile_create(pid_t pid, uint64_t start_time, uid_t uid, gid_t gid,
		    const struct ring_geometry *geo, struct ringfile *rf);

/*
 * ringfile_open_readonly - open the ring file at @path of a process with
 * @pid that may have exited (post mortem): a regular file private to its
 * owner, with a valid header and layout, mapped read-only.  Returns 0,
 * -ENOENT, -EPERM (not a private regular file), -EBADMSG, -errno.
 */
int ringfile_open_readonly(const char *path, pid_t pid, struct ringfile *rf);

/*
 * Does process @pid see @rf's file at @rf->path, the path it will open
 * itself?  Not when it runs in another mount namespace or root (a
 * container) with its own folder there: -EXDEV.  0 when it does, and when
 * it cannot be told (same namespace and root, a relative path, /proc
 * refused): then the process's own open decides, as before.  A best
 * effort: an absolute symbolic link on the way resolves in tattach's root.
 */
int ringfile_seen_by(const struct ringfile *rf, pid_t pid);

void ringfile_close(struct ringfile *rf);

/* Pointers into the file; the caller has checked the geometry. */
struct tat_module *ringfile_modules(struct ringfile *rf);
struct tat_site *ringfile_sites(struct ringfile *rf);

/*
 * ringfile_make_resident - map the header and the tables a stop writes
 * (modules, sites and what -A/-R record at each, with room for
 * @more_modules and @more_sites new ones; the thread controls) into our
 * page tables now: a page first
 * written while the target is held costs it a fault's time.  The rings
 * and the stats region are left alone (sparse, and not ours to write).
 */
void ringfile_make_resident(struct ringfile *rf, uint32_t more_modules, uint32_t more_sites);

/* Index of the module loaded from @path at @bias in the table, or -1. */
int ringfile_module_index(struct ringfile *rf, const char *path, uint64_t bias);

/*
 * ringfile_site_run - the sites of @kind of module @module, which are
 * registered together: the index of the first one (0 if there is none)
 * and, in *@count, how many follow it without a gap.
 */
uint32_t ringfile_site_run(struct ringfile *rf, uint32_t module, unsigned kind,
			   uint32_t *count);
struct tat_thread_ctl *ringfile_threads(struct ringfile *rf);

/* Bytes the geometry needs, or 0 if it is not valid. */
uint64_t ring_geometry_size(const struct ring_geometry *geo);
/* The part of it only stats mode writes (index, shared records, pool). */
uint64_t ring_geometry_stats_size(const struct ring_geometry *geo);

/*
 * What tattach writes into a ring for a held thread (the calls running at
 * --enable, the calls cut loose at --disable): the time in the ring's
 * event clock (what the trampoline would stamp now), and one word at the
 * writer's head of ring @idx.  The thread writing that ring must be held
 * (we are then its only writer); no room check.
 */
uint64_t ringfile_event_clock(const struct tat_ring_header *hdr);
void ringfile_append(struct ringfile *rf, uint32_t idx, uint64_t word);

#endif
