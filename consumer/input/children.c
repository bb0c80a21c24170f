// SPDX-License-Identifier: MIT
/*
 * A fork child of a traced process writes a ring of its own whose header
 * names its parent (docs/ring-format.md, "Fork children"); tread merges
 * the parent's and its descendants' rings as it merges several -i.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "attach/ring/ringfile.h"
#include "attach/ring/ringtree.h"
#include "consumer/input/children.h"

int tread_children_inputs(const char *root_path, int pid, const char **inputs,
			  size_t max, void **keep, char *err, size_t errlen)
{
	struct tat_ring_header h;
	struct ring_node *kids;
	int fd, n, ret;
	size_t k = 0;

	*keep = NULL;
	fd = open(root_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s%s", root_path, strerror(-ret),
			 ret == -ENOENT ? "; is the process traced (tattach -p PID --enable)?" :
			 "");
		return ret;
	}
	ret = ringfile_read_header(fd, &h);
	close(fd);
	if (ret || h.pid != pid) {
		snprintf(err, errlen, "%s is not a ring file of pid %d", root_path, pid);
		return -EBADMSG;
	}
	n = ringtree_descendants(pid, h.start_time, &kids);
	if (n < 0) {
		snprintf(err, errlen, "reading the ring folder for pid %d's descendants: %s",
			 pid, strerror(-n));
		return n;
	}
	inputs[k++] = root_path;
	for (int i = 0; i < n && k < max; i++)
		inputs[k++] = kids[i].path;
	if ((size_t)n + 1 > max)
		fprintf(stderr, "tread: pid %d has %d traced descendants: reading the first "
			"%zu only\n", pid, n, max - 1);
	*keep = kids;	/* the paths are the inputs */
	return (int)k;
}
