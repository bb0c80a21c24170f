/* SPDX-License-Identifier: MIT */
/* The threads a follower traces, and the stop each is in. */
#ifndef TATTACH_FOLLOW_TREE_H
#define TATTACH_FOLLOW_TREE_H

#include <stddef.h>
#include <sys/types.h>

struct ftask {
	pid_t tid;
	pid_t tgid;		/* its process */
	int stopped;		/* in a ptrace stop we have not resumed yet */
	int status;		/* that stop's wait status, acted on when it is
				 * resumed; 0: our own interrupt, nothing to do */
	int inherited;		/* its process runs an image it got by fork,
				 * not by exec: the parent's trace */
	int unstoppable;	/* left as it was by the last hold: it waits
				 * in vfork(), or it is an exited main thread */
	int first;		/* its first stop is still to come: that one
				 * is no group stop, whatever its signal */
	int execed;		/* it called exec before its parent's fork,
				 * vfork or clone event was seen: the process
				 * of its own image, whatever that event says */
};

struct ftree {
	struct ftask *v;
	size_t n, cap;
};

struct ftask *tree_find(struct ftree *tr, pid_t tid);
/* Add @tid of process @tgid (found in /proc when 0).  NULL: no memory. */
struct ftask *tree_add(struct ftree *tr, pid_t tid, pid_t tgid);
void tree_del(struct ftree *tr, pid_t tid);
/* How many threads of process @tgid are traced. */
size_t tree_count(const struct ftree *tr, pid_t tgid);
void tree_free(struct ftree *tr);

#endif
