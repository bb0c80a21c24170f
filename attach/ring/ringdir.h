/* SPDX-License-Identifier: MIT */
/*
 * The ring folder over time: rings outlive their processes (so they can be
 * read post mortem), and pids are reused.  A ring of an exited process is
 * kept under a name of its own, tattach-PID.START.ring (START: the
 * process's start time, field 22 of /proc/PID/stat), so the pid's plain
 * name is free for the next process with that pid; --list shows every ring
 * and --clean removes those of exited processes.
 */
#ifndef TATTACH_RINGDIR_H
#define TATTACH_RINGDIR_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* DIR/tattach-PID.START.ring, the name a ring of an exited process keeps. */
void ringdir_kept_name(pid_t pid, uint64_t start_time, char *buf, size_t len);

/*
 * ringdir_keep_image - pid @pid (started at @start_time) called exec
 * since DIR/tattach-PID.ring was made: rename that ring, the trace of its
 * earlier image, to DIR/tattach-PID.START.imageN.ring (N: 1 for the
 * program it started with, then the first number free), so that the new
 * image's ring does not take its place.  1 when moved (@kept_as), 0 when
 * there is no such ring, -errno when it cannot be moved.
 */
int ringdir_keep_image(pid_t pid, uint64_t start_time, char *kept_as, size_t len);

/*
 * ringdir_set_aside - if DIR/tattach-PID.ring is a ring of an earlier
 * process with pid @pid (its start time differs from @start_time), whoever
 * owns it, rename it to its kept name (@kept_as) and return 1.  0 when
 * there is nothing to move (no file, or not a ring of an earlier process:
 * the caller decides).  -errno when it cannot be moved (-EPERM, -EACCES: a
 * file of another user in a sticky folder; @owner is set).
 */
int ringdir_set_aside(pid_t pid, uint64_t start_time, char *kept_as, size_t len,
		      uid_t *owner);

/* tattach --list: one line per ring file in the folder.  Returns 0 or -errno. */
int ringdir_list(FILE *out);

/*
 * tattach --clean: remove the rings of processes that have exited (and
 * temporary files of killed runs for them), never one of a live process.
 * Says what it removed on @out.  Returns 0, or -errno if some could not be
 * removed (each said).
 */
int ringdir_clean(FILE *out);

/* Is the process (@pid, @start_time) still running (any live thread)? */
int ringdir_process_alive(pid_t pid, uint64_t start_time);

#endif
