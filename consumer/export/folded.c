// SPDX-License-Identifier: MIT
/*
 * --export folded: one line per call path with its self time,
 *
 *   main;handle;parse 1234
 *
 * the input format of flamegraph.pl, speedscope, inferno and others.  The
 * weight is nanoseconds of self time (calltree.h), so the weights of the
 * lines ending in a function add up to its self time in --report.  Paths
 * with no self time are left out.  With several processes each path
 * starts with "comm (pid N)".  Lines come in depth-first order, children
 * by name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/atomic_file.h"
#include "consumer/export/calltree.h"
#include "consumer/export/export.h"

/* The path from below the root to @node, separated by ';'. */
static void put_path(FILE *f, const struct tread_ctree *t, uint32_t node,
		     uint32_t *path)
{
	uint32_t depth = 0;

	for (uint32_t n = node; n != 0 && n != TREAD_CTREE_NONE; n = t->nodes[n].parent)
		path[depth++] = n;
	while (depth--) {
		/* ';' and ' ' would split the line: no C name has them, but a
		 * saved trace may say anything. */
		for (const char *s = t->nodes[path[depth]].name; *s; s++)
			fputc(*s == ';' || *s == ' ' || *s == '\n' ? '_' : *s, f);
		if (depth)
			fputc(';', f);
	}
}

/* Depth-first without recursion: a call path can be 64K calls deep. */
static int put_tree(FILE *f, const struct tread_ctree *t)
{
	uint32_t n = t->n > 1 ? t->nodes[0].first_child : TREAD_CTREE_NONE;
	uint32_t *path = malloc((t->n ? t->n : 1) * sizeof(*path));

	if (!path)
		return -ENOMEM;

	while (n != TREAD_CTREE_NONE) {
		const struct tread_ctree_node *node = &t->nodes[n];

		if (node->self_ns) {
			put_path(f, t, n, path);
			fprintf(f, " %" PRIu64 "\n", node->self_ns);
		}
		if (node->first_child != TREAD_CTREE_NONE) {
			n = node->first_child;
			continue;
		}
		while (n != TREAD_CTREE_NONE && t->nodes[n].next_sibling == TREAD_CTREE_NONE)
			n = t->nodes[n].parent ? t->nodes[n].parent : TREAD_CTREE_NONE;
		if (n != TREAD_CTREE_NONE)
			n = t->nodes[n].next_sibling;
	}
	free(path);
	return 0;
}

int tread_export_folded(const struct tread_xtrace *x, const char *out,
			char *err, size_t errlen)
{
	struct tread_atomic_file af = { 0 };
	struct tread_ctree t;
	FILE *f = stdout;
	int ret;

	ret = tread_ctree_build(x, &t);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	if (out) {
		ret = tread_atomic_open(&af, out, err, errlen);
		if (ret)
			goto out;
		f = af.f;
	}
	ret = put_tree(f, &t);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		if (out)
			tread_atomic_abort(&af);
		goto out;
	}
	if (out) {
		ret = tread_atomic_commit(&af, err, errlen);
	} else {
		errno = 0;
		if (fflush(stdout) == EOF || ferror(stdout)) {
			ret = errno ? -errno : -EIO;
			snprintf(err, errlen, "write error: %s", strerror(-ret));
		}
	}
out:
	tread_ctree_free(&t);
	return ret;
}
