/* SPDX-License-Identifier: MIT */
/* tread -p PID --children: the rings of PID and of its traced descendants. */
#ifndef TATTACH_CONSUMER_CHILDREN_H
#define TATTACH_CONSUMER_CHILDREN_H

#include <stddef.h>

/*
 * tread_children_inputs - @root_path (the ring of pid @pid), then the
 * rings of its traced descendants (attach/ring/ringtree.h), at most @max
 * in all, into @inputs.  The paths live in *@keep until the caller frees
 * it (free()).  Returns the count, or -errno with @err set (the root's
 * ring cannot be read).
 */
int tread_children_inputs(const char *root_path, int pid, const char **inputs,
			  size_t max, void **keep, char *err, size_t errlen);

#endif
