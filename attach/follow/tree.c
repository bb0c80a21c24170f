// SPDX-License-Identifier: MIT
/* A small array: a process tree has tens of threads, not thousands. */
#include <stdlib.h>
#include <string.h>

#include "attach/follow/tree.h"
#include "attach/process/proc.h"

struct ftask *tree_find(struct ftree *tr, pid_t tid)
{
	for (size_t i = 0; i < tr->n; i++)
		if (tr->v[i].tid == tid)
			return &tr->v[i];
	return NULL;
}

struct ftask *tree_add(struct ftree *tr, pid_t tid, pid_t tgid)
{
	struct ftask *t = tree_find(tr, tid);
	long v;

	if (!tgid)
		tgid = proc_status_long(tid, "Tgid", &v) == 0 ? (pid_t)v : tid;
	if (t) {
		t->tgid = tgid;
		return t;
	}
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? 2 * tr->cap : 16;
		struct ftask *nv = realloc(tr->v, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		tr->v = nv;
		tr->cap = cap;
	}
	t = &tr->v[tr->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->tgid = tgid;
	return t;
}

void tree_del(struct ftree *tr, pid_t tid)
{
	struct ftask *t = tree_find(tr, tid);

	if (t)
		*t = tr->v[--tr->n];
}

size_t tree_count(const struct ftree *tr, pid_t tgid)
{
	size_t n = 0;

	for (size_t i = 0; i < tr->n; i++)
		n += tr->v[i].tgid == tgid;
	return n;
}

void tree_free(struct ftree *tr)
{
	free(tr->v);
	memset(tr, 0, sizeof(*tr));
}
