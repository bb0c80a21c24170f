// SPDX-License-Identifier: MIT
/*
 * Building the call-path tree: a hash of (parent, function) -> node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/export/calltree.h"

struct key_slot {
	uint32_t parent;	/* TREAD_CTREE_NONE = empty */
	uint32_t key;		/* function index, or process index for labels */
	uint32_t node;
};

struct builder {
	struct tread_ctree *t;
	size_t cap;
	struct key_slot *hash;
	size_t hash_cap, used;
};

static uint32_t hash_of(uint32_t parent, uint32_t key, size_t cap)
{
	uint64_t h = ((uint64_t)parent << 32 | key) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & (uint32_t)(cap - 1);
}

static int rehash(struct builder *b)
{
	size_t ncap = b->hash_cap ? b->hash_cap * 2 : 1024;
	struct key_slot *nh = malloc(ncap * sizeof(*nh));

	if (!nh)
		return -ENOMEM;
	for (size_t i = 0; i < ncap; i++)
		nh[i].parent = TREAD_CTREE_NONE;
	for (size_t i = 0; i < b->hash_cap; i++) {
		uint32_t k;

		if (b->hash[i].parent == TREAD_CTREE_NONE)
			continue;
		for (k = hash_of(b->hash[i].parent, b->hash[i].key, ncap);
		     nh[k].parent != TREAD_CTREE_NONE; k = (k + 1) & (ncap - 1))
			;
		nh[k] = b->hash[i];
	}
	free(b->hash);
	b->hash = nh;
	b->hash_cap = ncap;
	return 0;
}

static int add_node(struct builder *b, uint32_t parent, const char *name, uint32_t *out)
{
	struct tread_ctree *t = b->t;
	struct tread_ctree_node *n;

	if (t->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct tread_ctree_node *nn = reallocarray(t->nodes, cap, sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		t->nodes = nn;
		b->cap = cap;
	}
	n = &t->nodes[t->n];
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->parent = parent;
	n->first_child = n->next_sibling = TREAD_CTREE_NONE;
	n->depth = parent == TREAD_CTREE_NONE ? 0 : t->nodes[parent].depth + 1;
	*out = (uint32_t)t->n++;
	return 0;
}

/* The child of @parent for @key (named @name), made on first use. */
static int child(struct builder *b, uint32_t parent, uint32_t key, const char *name,
		 uint32_t *out)
{
	uint32_t k;
	int ret;

	if ((b->used + 1) * 2 > b->hash_cap && (ret = rehash(b)))
		return ret;
	for (k = hash_of(parent, key, b->hash_cap); b->hash[k].parent != TREAD_CTREE_NONE;
	     k = (k + 1) & (b->hash_cap - 1)) {
		if (b->hash[k].parent == parent && b->hash[k].key == key) {
			*out = b->hash[k].node;
			return 0;
		}
	}
	ret = add_node(b, parent, name, out);
	if (ret)
		return ret;
	b->hash[k] = (struct key_slot){ parent, key, *out };
	b->used++;
	return 0;
}

static struct tread_ctree *sort_tree;

static int by_name(const void *a, const void *b)
{
	const struct tread_ctree_node *x = &sort_tree->nodes[*(const uint32_t *)a];
	const struct tread_ctree_node *y = &sort_tree->nodes[*(const uint32_t *)b];

	return strcmp(x->name, y->name);
}

/* Totals bottom-up, then children linked in name order. */
static int finish(struct tread_ctree *t)
{
	uint32_t *order = malloc((t->n ? t->n : 1) * sizeof(*order));

	if (!order)
		return -ENOMEM;
	for (size_t i = t->n; i-- > 0;) {
		t->nodes[i].total_ns += t->nodes[i].self_ns;
		if (t->nodes[i].parent != TREAD_CTREE_NONE)
			t->nodes[t->nodes[i].parent].total_ns += t->nodes[i].total_ns;
	}
	for (size_t i = 0; i < t->n; i++)
		order[i] = (uint32_t)i;
	sort_tree = t;
	qsort(order + 1, t->n - 1, sizeof(*order), by_name);
	/* Prepend in reverse name order: each list ends up in name order. */
	for (size_t i = t->n; i-- > 1;) {
		struct tread_ctree_node *n = &t->nodes[order[i]];

		n->next_sibling = t->nodes[n->parent].first_child;
		t->nodes[n->parent].first_child = order[i];
	}
	free(order);
	return 0;
}

static int proc_label(struct tread_ctree *t, const struct tread_xproc *p, const char **out)
{
	char **v = reallocarray(t->labels, t->nlabels + 1, sizeof(*v));
	const char *comm = p->comm[0] ? p->comm : "?";
	int ret;

	if (!v)
		return -ENOMEM;
	t->labels = v;
	/* a program the pid ran before an exec: told from its current one */
	if (p->image)
		ret = asprintf(&v[t->nlabels], "%s (pid %d image %u)", comm, p->pid, p->image);
	else
		ret = asprintf(&v[t->nlabels], "%s (pid %d)", comm, p->pid);
	if (ret < 0)
		return -ENOMEM;
	*out = v[t->nlabels++];
	return 0;
}

int tread_ctree_build(const struct tread_xtrace *x, struct tread_ctree *t)
{
	struct builder b = { .t = t };
	uint32_t *cur = NULL, *base = NULL, *proc_base = NULL, root;
	uint64_t *last = NULL;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = add_node(&b, TREAD_CTREE_NONE, "all", &root);
	cur = calloc(x->nthreads ? x->nthreads : 1, sizeof(*cur));
	base = calloc(x->nthreads ? x->nthreads : 1, sizeof(*base));
	last = calloc(x->nthreads ? x->nthreads : 1, sizeof(*last));
	proc_base = calloc(x->nprocs ? x->nprocs : 1, sizeof(*proc_base));
	if (ret || !cur || !base || !last || !proc_base) {
		ret = -ENOMEM;
		goto out;
	}
	/* Where each process's call paths start. */
	for (uint32_t p = 0; p < x->nprocs; p++) {
		const char *label;

		proc_base[p] = root;
		if (x->nprocs == 1)
			continue;
		ret = proc_label(t, &x->procs[p], &label);
		if (!ret)
			ret = add_node(&b, root, label, &proc_base[p]);
		if (ret)
			goto out;
	}
	for (size_t i = 0; i < x->nthreads; i++)
		cur[i] = base[i] = proc_base[x->threads[i].proc];
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];
		uint32_t th = e->thread;

		if (cur[th] != base[th] && e->real_ns > last[th])
			t->nodes[cur[th]].self_ns += e->real_ns - last[th];
		/* A thread's time may go back (a signal handler's events come
		 * before those of the code it interrupted): never count twice. */
		if (e->real_ns > last[th])
			last[th] = e->real_ns;
		if (e->kind == TREAD_X_ENTRY) {
			ret = child(&b, cur[th], e->func, x->funcs[e->func].name, &cur[th]);
			if (ret)
				goto out;
		} else if (e->kind == TREAD_X_EXIT && cur[th] != base[th]) {
			cur[th] = t->nodes[cur[th]].parent;
		}
	}
	ret = finish(t);
out:
	free(cur);
	free(base);
	free(last);
	free(proc_base);
	free(b.hash);
	if (ret)
		tread_ctree_free(t);
	return ret;
}

void tread_ctree_free(struct tread_ctree *t)
{
	for (size_t i = 0; i < t->nlabels; i++)
		free(t->labels[i]);
	free(t->labels);
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}
