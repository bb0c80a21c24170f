/* SPDX-License-Identifier: MIT */
/* tread -p PID --children: the rings of PID and of its traced descendants,
 * with those kept of the programs each ran before an exec. */
#ifndef TATTACH_CONSUMER_CHILDREN_H
#define TATTACH_CONSUMER_CHILDREN_H

#include <stddef.h>

/*
 * tread_children_inputs - the rings kept of the programs pid @pid ran
 * before an exec, @root_path (its current ring), then the rings of its
 * traced descendants, each's earlier programs first
 * (ringfiles/ringtree.h), at most @max (>= 1) in all, into @inputs;
 * @root_path is always one.  A kept ring that cannot be read is left
 * out, with one line on stderr.  The paths live in *@keep until the
 * caller frees it (free()).  Returns the count, or -errno with @err set
 * (the root's ring cannot be read).
 */
int tread_children_inputs(const char *root_path, int pid, const char **inputs,
			  size_t max, void **keep, char *err, size_t errlen);

#endif
