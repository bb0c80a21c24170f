/* SPDX-License-Identifier: MIT */
/*
 * The traced descendants of a process, from the ring files of the folder:
 * a ring made by a fork child (attach/tramp/tramp_fork.c) names the
 * process whose ring it copied (header.parent_pid, parent_start_time).
 * A process that called exec has one ring per traced program: those of
 * the programs before are kept as tattach-PID.START.imageN.ring
 * (attach/ring/ringdir.h).
 */
#ifndef TATTACH_RINGTREE_H
#define TATTACH_RINGTREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ring_node {
	pid_t pid;
	uint64_t start_time;
	pid_t parent_pid;		/* the traced process it was forked from */
	uint64_t parent_start_time;
	int depth;			/* 1: a child, 2: a grandchild...; 0: the
					 * process itself (ringtree_family()) */
	unsigned image;			/* N of tattach-PID.START.imageN.ring: a
					 * program the process ran before an
					 * exec; 0: its current (or last) one */
	char path[300];			/* its ring file */
};

/*
 * ringtree_descendants - every ring in the ring folder (ringfiles_dir())
 * whose chain of parents leads to the process (@pid, @start_time), its
 * children before their own children (breadth first).  A process is
 * found through any of its rings, and all of them are listed together,
 * in the order its programs ran: those it ran before an exec (kept
 * images) by their number, then its current one.  Rings of exited
 * processes are included, also those kept under tattach-PID.START.ring.
 * A kept image whose header cannot be read is listed by what its name
 * says (pid, start time; no parent), for the caller to say so.  Returns
 * the count (*@out malloc'ed, NULL if 0) or -errno.
 */
int ringtree_descendants(pid_t pid, uint64_t start_time, struct ring_node **out);

/*
 * ringtree_family - the kept images of the process (@pid, @start_time)
 * itself, by their number (depth 0), then its descendants as
 * ringtree_descendants() lists them: every ring of its tree but its
 * current one.  Returns the count (*@out malloc'ed, NULL if 0) or -errno.
 */
int ringtree_family(pid_t pid, uint64_t start_time, struct ring_node **out);

#endif
