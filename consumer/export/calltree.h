/* SPDX-License-Identifier: MIT */
/*
 * The calls of a trace folded into one tree of call paths, with the time
 * spent in each: what folded stacks and flame graphs show.
 *
 * A node is a call path (main -> handle -> parse); every call that took
 * that path adds to it.  Its self time is the time its thread spent in it
 * with no traced child running (between the thread's consecutive events,
 * given to the innermost open call), its total time is self plus the
 * totals of its children.  Time a thread spends outside every traced
 * call is nobody's.  Calls the collector closed itself count until the
 * time it closed them (collect.h).
 *
 * Node 0 is the root ("all").  With several processes, each has a node
 * under the root named "comm (pid N)" and its call paths below it;
 * with one, the call paths start at the root.
 */
#ifndef TATTACH_CONSUMER_EXPORT_CALLTREE_H
#define TATTACH_CONSUMER_EXPORT_CALLTREE_H

#include <stddef.h>
#include <stdint.h>

#include "consumer/export/export.h"

#define TREAD_CTREE_NONE UINT32_MAX

struct tread_ctree_node {
	const char *name;	/* function, process label, or "all" */
	uint32_t parent;	/* TREAD_CTREE_NONE for the root */
	uint32_t first_child;	/* children sorted by name; NONE if a leaf */
	uint32_t next_sibling;
	uint32_t depth;		/* root 0 */
	uint64_t self_ns;
	uint64_t total_ns;
};

struct tread_ctree {
	struct tread_ctree_node *nodes;
	size_t n;
	char **labels;		/* process labels we made; freed with the tree */
	size_t nlabels;
};

/* Returns 0 or -ENOMEM. */
int tread_ctree_build(const struct tread_xtrace *x, struct tread_ctree *out);
void tread_ctree_free(struct tread_ctree *t);

#endif /* TATTACH_CONSUMER_EXPORT_CALLTREE_H */
