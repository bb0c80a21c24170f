// SPDX-License-Identifier: MIT
/*
 * Descendants from ring headers.  The folder is read once; a child's ring
 * is matched to its parent by (pid, start time), so a ring left by an
 * earlier process with a reused pid is never taken for a parent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/ring/ringdir.h"
#include "attach/ring/ringfile.h"
#include "attach/ring/ringtree.h"

/* tattach-PID.ring or tattach-PID.START.ring */
static int ring_name(const char *name)
{
	unsigned long long start;
	int pid, n = 0;

	if (sscanf(name, "tattach-%d.ring%n", &pid, &n) == 1 && n && !name[n])
		return 1;
	n = 0;
	return sscanf(name, "tattach-%d.%llu.ring%n", &pid, &start, &n) == 2 && n &&
	       !name[n];
}

static int node_add(struct ring_node **v, size_t *n, size_t *cap, const char *dir,
		    const char *name, const struct tat_ring_header *h)
{
	struct ring_node *x;

	if (*n == *cap) {
		size_t want = *cap ? 2 * *cap : 64;
		struct ring_node *grown = realloc(*v, want * sizeof(**v));

		if (!grown)
			return -ENOMEM;
		*v = grown;
		*cap = want;
	}
	x = &(*v)[(*n)++];
	memset(x, 0, sizeof(*x));
	x->pid = h->pid;
	x->start_time = h->start_time;
	x->parent_pid = h->parent_pid;
	x->parent_start_time = h->parent_start_time;
	snprintf(x->path, sizeof(x->path), "%s/%s", dir, name);
	return 0;
}

/* Every readable ring header of the folder (depth 0). */
static int read_all(struct ring_node **v, size_t *n)
{
	const char *dir = ringdir_path();
	struct dirent *de;
	size_t cap = 0;
	DIR *d = opendir(dir);
	int ret = 0;

	*v = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		struct tat_ring_header h;
		int fd;

		if (!ring_name(de->d_name))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;	/* gone meanwhile, or not ours to read */
		if (!ringfile_read_header(fd, &h) && h.pid > 0)
			ret = node_add(v, n, &cap, dir, de->d_name, &h);
		close(fd);
	}
	closedir(d);
	if (ret) {
		free(*v);
		*v = NULL;
	}
	return ret;
}

int ringtree_descendants(pid_t pid, uint64_t start_time, struct ring_node **out)
{
	struct ring_node *all, *found = NULL;
	size_t n, nfound = 0;
	int ret = read_all(&all, &n);

	*out = NULL;
	if (ret)
		return ret;
	found = calloc(n ? n : 1, sizeof(*found));
	if (!found) {
		free(all);
		return -ENOMEM;
	}
	/*
	 * Breadth first: a node joins once its parent is the root or a node
	 * found before it.  Each ring joins at most once (taken out of the
	 * list by pid 0), so a loop of headers cannot make this run forever.
	 */
	for (size_t scan = 0; scan <= nfound; scan++) {
		pid_t ppid = scan == 0 ? pid : found[scan - 1].pid;
		uint64_t pstart = scan == 0 ? start_time : found[scan - 1].start_time;
		int depth = scan == 0 ? 1 : found[scan - 1].depth + 1;

		for (size_t i = 0; i < n; i++) {
			if (!all[i].pid || all[i].parent_pid != ppid ||
			    all[i].parent_start_time != pstart ||
			    (all[i].pid == pid && all[i].start_time == start_time))
				continue;
			found[nfound] = all[i];
			found[nfound++].depth = depth;
			all[i].pid = 0;
		}
	}
	free(all);
	if (!nfound) {
		free(found);
		found = NULL;
	}
	*out = found;
	return (int)nfound;
}
