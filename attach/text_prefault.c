// SPDX-License-Identifier: MIT
/*
 * Copy-on-write ahead of the stop (text_prefault.h).
 *
 * The first write into a page of a program's text makes the kernel copy
 * it (the mapping is private, the page was the file's): at 100 000 sites,
 * 3.4 MiB of copies, milliseconds that the first --enable spent with
 * every thread stopped.  Writing a page's own bytes back onto it makes the
 * same copy without changing a byte, so it is done while the process
 * still runs: then the rewrite only writes into pages that are already
 * the process's own.
 *
 * A page is read and written back in one short step; its bytes can only
 * change meanwhile if the program rewrites its own code (it would need to
 * make it writable first) or another debugger does, and tattach has
 * checked that none is attached.  Only pages that hold a site of a
 * module about to be registered are touched: the ones the rewrite will
 * copy anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "attach/modules.h"
#include "attach/text_prefault.h"

#define PAGE     4096ull
#define RUN_MAX  (16 * PAGE)	/* read and written back at once */

/* Write [@lo, @hi) of @fd's process back onto itself; 0 or -errno. */
static int rewrite_same(int fd, uint64_t lo, uint64_t hi, unsigned char *buf)
{
	size_t len = (size_t)(hi - lo);

	if (pread(fd, buf, len, (off_t)lo) != (ssize_t)len)
		return errno ? -errno : -EIO;
	if (pwrite(fd, buf, len, (off_t)lo) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

size_t text_prefault(pid_t pid, const struct module_set *set, const uint8_t *fresh)
{
	unsigned char *buf = malloc(RUN_MAX);
	char path[64];
	size_t pages = 0;
	int fd;

	if (!buf)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return 0;
	}
	for (size_t m = 0; m < set->n; m++) {
		const struct site_list *sl = &set->v[m].sites;
		uint64_t lo = 0, hi = 0;

		if (!fresh[m] || !sl->n)
			continue;
		/* the sites are sorted: their pages come in order, in runs */
		for (size_t i = 0; i <= sl->n; i++) {
			uint64_t a = 0, b = 0;

			if (i < sl->n) {
				a = (sl->v[i].vaddr + set->v[m].bias) & ~(PAGE - 1);
				b = (sl->v[i].vaddr + set->v[m].bias + sl->v[i].len + PAGE - 1) &
				    ~(PAGE - 1);
				if (hi && a <= hi && b - lo <= RUN_MAX) {
					if (b > hi)
						hi = b;
					continue;
				}
			}
			if (hi) {
				if (rewrite_same(fd, lo, hi, buf))
					break;	/* unmapped meanwhile: leave it */
				pages += (hi - lo) / PAGE;
			}
			lo = a;
			hi = b;
		}
	}
	close(fd);
	free(buf);
	return pages;
}
