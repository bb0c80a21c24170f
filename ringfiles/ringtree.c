// SPDX-License-Identifier: MIT
/*
 * Descendants from ring headers.  The folder is read once; a child's ring
 * is matched to its parent by (pid, start time), so a ring left by an
 * earlier process with a reused pid is never taken for a parent.  A
 * process that called exec has several rings, one per traced program
 * (the earlier ones kept as tattach-PID.START.imageN.ring): they share
 * its (pid, start time), and are taken together.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringfiles/ringfiles.h"
#include "ringfiles/ringname.h"
#include "ringfiles/ringtree.h"

/* tattach-PID.ring, tattach-PID.START.ring or tattach-PID.START.imageN.ring */
static int ring_name(const char *name)
{
	unsigned long long start;
	int pid, n = 0;

	if (sscanf(name, "tattach-%d.ring%n", &pid, &n) == 1 && n && !name[n])
		return 1;
	n = 0;
	if (sscanf(name, "tattach-%d.%llu.ring%n", &pid, &start, &n) == 2 && n && !name[n])
		return 1;
	return ringname_image(name, NULL, NULL, NULL);
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
	x->image = ringname_image_of(name);
	snprintf(x->path, sizeof(x->path), "%s/%s", dir, name);
	return 0;
}

/*
 * The header of ring @name, or for a kept image that cannot be read, what
 * its name says (pid and start time, no parent): it belongs to its
 * process all the same, and the reader should hear that it was left out.
 * 0 when @name is to be skipped.
 */
static int header_of(int dir_fd, const char *name, struct tat_ring_header *h)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int ok = fd >= 0 && !ringfiles_read_header(fd, h) && h->pid > 0;

	if (fd >= 0)
		close(fd);
	if (ok)
		return 1;
	memset(h, 0, sizeof(*h));
	return ringname_image(name, &h->pid, &h->start_time, NULL);
}

/* Every ring of the folder (depth 0). */
static int read_all(struct ring_node **v, size_t *n)
{
	const char *dir = ringfiles_dir();
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

		/* others gone meanwhile, or not ours to read: skipped */
		if (ring_name(de->d_name) && header_of(dirfd(d), de->d_name, &h))
			ret = node_add(v, n, &cap, dir, de->d_name, &h);
	}
	closedir(d);
	if (ret) {
		free(*v);
		*v = NULL;
	}
	return ret;
}

/* The programs of one process in the order they ran: the kept images by
 * their number, the current program's ring (image 0) last. */
static int by_image(const void *a, const void *b)
{
	unsigned x = ((const struct ring_node *)a)->image;
	unsigned y = ((const struct ring_node *)b)->image;

	if (!x != !y)
		return !x ? 1 : -1;
	return x < y ? -1 : x > y;
}

/*
 * Move the rings of the process (@pid, @start_time) from @all to the end
 * of @found, at @depth, in the order its programs ran; only its kept
 * images if @images_only.  A ring taken gets pid 0 in @all.
 */
static void take_process(struct ring_node *all, size_t n, pid_t pid, uint64_t start_time,
			 bool images_only, int depth, struct ring_node *found,
			 size_t *nfound)
{
	size_t first = *nfound;

	for (size_t i = 0; i < n; i++) {
		if (all[i].pid != pid || all[i].start_time != start_time ||
		    (images_only && !all[i].image))
			continue;
		found[*nfound] = all[i];
		found[(*nfound)++].depth = depth;
		all[i].pid = 0;
	}
	qsort(found + first, *nfound - first, sizeof(*found), by_image);
}

/* ringtree_descendants(), after the root's own kept images if @own_images. */
static int tree(pid_t pid, uint64_t start_time, bool own_images, struct ring_node **out)
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
	if (own_images)
		take_process(all, n, pid, start_time, true, 0, found, &nfound);
	/*
	 * Breadth first: a process joins once one of its rings names the
	 * root or a process found before it as its parent (a program
	 * exec'd after its parent ended names none, its earlier program's
	 * ring does).  Each ring joins at most once (taken out of the list
	 * by pid 0), so a loop of headers cannot make this run forever.
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
			take_process(all, n, all[i].pid, all[i].start_time, false, depth, found,
				     &nfound);
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

int ringtree_descendants(pid_t pid, uint64_t start_time, struct ring_node **out)
{
	return tree(pid, start_time, false, out);
}

int ringtree_family(pid_t pid, uint64_t start_time, struct ring_node **out)
{
	return tree(pid, start_time, true, out);
}
