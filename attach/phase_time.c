// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "attach/phase_time.h"

static int enabled = -1;
static struct timespec t_start, t_prev;
static long faults_prev;

/* Page faults of tattach itself: each costs microseconds in a VM, and
 * those taken while the target is stopped lengthen its pause. */
static long own_faults(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? 0 : ru.ru_minflt + ru.ru_majflt;
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static int wanted(void)
{
	if (enabled < 0)
		enabled = getenv("TATTACH_TIMING") != NULL;
	return enabled;
}

void phase_start(void)
{
	if (!wanted())
		return;
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	t_prev = t_start;
	faults_prev = own_faults();
}

void phase_mark(const char *what)
{
	struct timespec now;
	long faults;

	if (enabled <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	faults = own_faults();
	fprintf(stderr, "tattach: timing: %-28s %8.3f ms  %5ld faults  (%.3f ms since start)\n",
		what, ms_between(&t_prev, &now), faults - faults_prev,
		ms_between(&t_start, &now));
	t_prev = now;
	faults_prev = faults;
}

void phase_note(const char *fmt, ...)
{
	va_list ap;

	if (!wanted())
		return;
	fputs("tattach: timing: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
