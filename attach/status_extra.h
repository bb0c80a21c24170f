/* SPDX-License-Identifier: MIT */
/* The parts of --status about depth limits, stats mode, filters, memory
 * and the thread slots' search. */
#ifndef TATTACH_STATUS_EXTRA_H
#define TATTACH_STATUS_EXTRA_H

#include <stdio.h>
#include <sys/types.h>

#include "attach/ring/ringfile.h"

/* max depth, and the calls it left unrecorded */
void status_print_depth(FILE *out, struct ringfile *rf);
/* stats-mode memory: pool records in use, shared-record calls, region size */
void status_print_stats(FILE *out, struct ringfile *rf);
struct maps;
/* how many sites are patched, of those of the modules still loaded
 * (@maps, the map now; NULL: not known); with @list, which functions */
void status_print_patched(FILE *out, struct ringfile *rf, const struct maps *maps, int list);
/* memory the ring file holds (allocated pages), and how much of it is rings */
void status_print_resident(FILE *out, struct ringfile *rf);

/* how many slots the trampoline reads to find a thread's: read from the
 * live process @pid, so nothing when it is gone */
void status_print_lookup(FILE *out, struct ringfile *rf, pid_t pid);

#endif
