/* SPDX-License-Identifier: MIT */
/*
 * The traced descendants of a process, from the ring files of the folder:
 * a ring made by a fork child (attach/tramp/tramp_fork.c) names the
 * process whose ring it copied (header.parent_pid, parent_start_time).
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
	int depth;			/* 1: a child, 2: a grandchild... */
	char path[300];			/* its ring file */
};

/*
 * ringtree_descendants - every ring in the ring folder (ringdir_path())
 * whose chain of parents leads to the process (@pid, @start_time), its
 * children before their own children (breadth first), each process once.
 * Rings of exited processes are included, also those kept under
 * tattach-PID.START.ring.  Returns the count (*@out malloc'ed, NULL if 0)
 * or -errno.
 */
int ringtree_descendants(pid_t pid, uint64_t start_time, struct ring_node **out);

#endif
