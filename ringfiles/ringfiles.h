/* SPDX-License-Identifier: MIT */
/*
 * The ring files as both programs find them: the folder they live in, and
 * whether a file is a ring of this format.  tattach (attach/) makes, keeps
 * and cleans them; tread (consumer/) reads them.  Both include this folder
 * and include/tattach/ring.h, and nothing else of each other.
 *
 *   ringfiles.h  the folder, a ring file's header
 *   ringname.h   what a ring's name says (a program run before an exec)
 *   ringtree.h   the rings of a process and of its traced descendants
 */
#ifndef TATTACH_RINGFILES_H
#define TATTACH_RINGFILES_H

#include <tattach/ring.h>

/* The folder of ring files: $TATTACH_RING_DIR, else TAT_RING_DIR. */
const char *ringfiles_dir(void);

/* Read the header of the ring file open at @fd: 0, or -EBADMSG when it is
 * not a ring of this format (magic, version, header size). */
int ringfiles_read_header(int fd, struct tat_ring_header *h);

#endif
