/* SPDX-License-Identifier: MIT */
/* --disable of a process also disables its traced descendants. */
#ifndef TATTACH_CHILDREN_H
#define TATTACH_CHILDREN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/session.h"

struct children_report {
	size_t disabled;		/* descendants whose tracing was turned off */
	size_t failed;			/* ... that could not be (each said why) */
	char pids[512];			/* the disabled ones, "101 102 ..." */
};

/*
 * children_disable - turn tracing off in every live traced descendant of
 * the process (@pid, @start_time) that still has it on: the rings of the
 * folder say who they are (ringfiles/ringtree.h).  @o gives the other
 * options of --disable.  Returns 0 or -errno (the folder could not be
 * read); a descendant that fails is counted in @rep->failed.
 */
int children_disable(pid_t pid, uint64_t start_time, const struct session_opts *o,
		     struct children_report *rep);

#endif
