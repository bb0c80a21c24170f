// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "attach/phase_time.h"
#include "attach/process/priority.h"

static int depth;		/* raises not yet restored */
static int saved_nice;		/* before the outermost raise */
static int raised;		/* the outermost raise changed the nice value */

/* The calling thread's nice value (Linux keeps one per thread, and
 * PRIO_PROCESS with 0 means the calling thread), or 1 when unknown. */
static int own_nice(void)
{
	int v;

	errno = 0;
	v = getpriority(PRIO_PROCESS, 0);
	return errno ? 1 : v;
}

static int wanted(void)
{
	const char *env = getenv("TATTACH_PRIORITY");

	return !env || strcmp(env, "0") != 0;
}

void priority_raise(void)
{
	if (depth++)
		return;
	saved_nice = own_nice();
	/* EACCES or EPERM without CAP_SYS_NICE: the pause is only longer */
	raised = wanted() && saved_nice != 1 && saved_nice > PRIORITY_HELD_NICE &&
		 setpriority(PRIO_PROCESS, 0, PRIORITY_HELD_NICE) == 0;
	if (raised)
		phase_note("threads held at nice %d (was %d)", own_nice(), saved_nice);
	else
		phase_note("threads held at tattach's own priority (nice %d)", saved_nice);
}

void priority_restore(void)
{
	if (depth == 0 || --depth)
		return;
	/* going back up needs no privilege */
	if (raised)
		setpriority(PRIO_PROCESS, 0, saved_nice);
	raised = 0;
}
