// SPDX-License-Identifier: MIT
/*
 * A fork child of a traced process writes a ring of its own whose header
 * names its parent (docs/ring-format.md, "Fork children"); tread merges
 * the parent's and its descendants' rings as it merges several -i.  A
 * process that called exec has kept the rings of the programs it ran
 * before (tattach-PID.START.imageN.ring): they are read too, each before
 * the process's current ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "ringfiles/ringfiles.h"
#include "ringfiles/ringtree.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/input/children.h"

/*
 * Can the kept ring of an earlier program be read?  If not, say so and
 * leave it out: that program has ended, and the rings of the processes
 * that run (or ran) last are what the view is first for.
 */
static bool kept_image_readable(const struct ring_node *r)
{
	struct tread_ring *ring;
	char why[256];
	int ret = tread_ring_open_file(r->path, false, &ring, why, sizeof(why));

	if (ret) {
		fprintf(stderr, "tread: warning: left out pid %d's program before its exec "
			"(image %u): %s: %s\n", (int)r->pid, r->image, r->path, why);
		return false;
	}
	tread_ring_close(ring);
	return true;
}

/* Append @path to @inputs if fewer than @max are there; counts what did
 * not fit. */
static void add_input(const char **inputs, size_t max, size_t *k, size_t *left_out,
		      const char *path)
{
	if (*k < max)
		inputs[(*k)++] = path;
	else
		(*left_out)++;
}

int tread_children_inputs(const char *root_path, int pid, const char **inputs,
			  size_t max, void **keep, char *err, size_t errlen)
{
	struct tat_ring_header h;
	struct ring_node *rings;
	size_t k = 0, left_out = 0;
	int fd, n, i, ret;

	*keep = NULL;
	fd = open(root_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s%s", root_path, strerror(-ret),
			 ret == -ENOENT ? "; is the process traced (tattach -p PID --enable)?" :
			 "");
		return ret;
	}
	ret = ringfiles_read_header(fd, &h);
	close(fd);
	if (ret || h.pid != pid) {
		snprintf(err, errlen, "%s is not a ring file of pid %d", root_path, pid);
		return -EBADMSG;
	}
	n = ringtree_family(pid, h.start_time, &rings);
	if (n < 0) {
		snprintf(err, errlen, "reading the ring folder for pid %d's descendants: %s",
			 pid, strerror(-n));
		return n;
	}
	/* the process's earlier programs (depth 0), its current one, then
	 * its descendants, each process's programs in the order they ran */
	for (i = 0; i < n && rings[i].depth == 0; i++)
		if (kept_image_readable(&rings[i]))	/* room kept for the current */
			add_input(inputs, max - 1, &k, &left_out, rings[i].path);
	add_input(inputs, max, &k, &left_out, root_path);
	for (; i < n; i++)
		if (!rings[i].image || kept_image_readable(&rings[i]))
			add_input(inputs, max, &k, &left_out, rings[i].path);
	if (left_out)
		fprintf(stderr, "tread: pid %d and its traced descendants have %zu ring files "
			"(earlier programs included): reading the first %zu only\n", pid,
			k + left_out, max);
	*keep = rings;	/* the paths are the inputs */
	return (int)k;
}
