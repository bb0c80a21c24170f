/* SPDX-License-Identifier: MIT */
/* The --status lines about fork children (attach/tramp/tramp_fork.c). */
#ifndef TATTACH_STATUS_CHILDREN_H
#define TATTACH_STATUS_CHILDREN_H

#include <stdio.h>

#include <tattach/ring.h>

/* "children:" (header.children) and, for a child's ring, "forked from:" */
void status_print_children(FILE *out, const struct tat_ring_header *h);

#endif
