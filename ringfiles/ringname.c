// SPDX-License-Identifier: MIT
/*
 * Kept images' ring names: tattach-PID.START.imageN.ring.
 */
#include <stdio.h>
#include <string.h>

#include "ringfiles/ringname.h"

int ringname_image(const char *name, pid_t *pid, uint64_t *start_time, unsigned *image)
{
	unsigned long long start;
	unsigned n_image;
	int p, n = 0;

	if (sscanf(name, "tattach-%d.%llu.image%u.ring%n", &p, &start, &n_image, &n) != 3 ||
	    !n || name[n] || p <= 0 || !n_image)
		return 0;
	if (pid)
		*pid = p;
	if (start_time)
		*start_time = start;
	if (image)
		*image = n_image;
	return 1;
}

unsigned ringname_image_of(const char *path)
{
	const char *base = strrchr(path, '/');
	unsigned image;

	return ringname_image(base ? base + 1 : path, NULL, NULL, &image) ? image : 0;
}
