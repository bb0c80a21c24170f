/* SPDX-License-Identifier: MIT */
/*
 * The name of a ring kept of a program a process ran before an exec,
 * tattach-PID.START.imageN.ring (attach/ring/ringdir.h,
 * ringdir_keep_image()).  Its header says N too (header.image), but only
 * since tattach writes it there: for older rings, the name alone does.
 * Nothing here touches a file, so tread's fuzzed reader
 * (tests/fuzz/fuzz.mk) builds with it.
 */
#ifndef TATTACH_RINGNAME_H
#define TATTACH_RINGNAME_H

#include <stdint.h>
#include <sys/types.h>

/*
 * ringname_image - is @name (a file name, no folder) a kept earlier
 * program's ring, tattach-PID.START.imageN.ring?  Then 1, with its pid,
 * start time and N (>= 1) from the name; else 0.  Any pointer may be NULL.
 */
int ringname_image(const char *name, pid_t *pid, uint64_t *start_time, unsigned *image);

/*
 * ringname_image_of - N when the last component of @path names a kept
 * earlier program's ring (ringname_image()), 0 for any other name.
 */
unsigned ringname_image_of(const char *path);

#endif
