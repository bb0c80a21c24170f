// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "attach/phase_time.h"

static int enabled = -1;
static struct timespec t_start, t_prev;

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

void phase_start(void)
{
	if (enabled < 0)
		enabled = getenv("TATTACH_TIMING") != NULL;
	if (!enabled)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	t_prev = t_start;
}

void phase_mark(const char *what)
{
	struct timespec now;

	if (enabled <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	fprintf(stderr, "tattach: timing: %-28s %8.3f ms  (%.3f ms since start)\n", what,
		ms_between(&t_prev, &now), ms_between(&t_start, &now));
	t_prev = now;
}
