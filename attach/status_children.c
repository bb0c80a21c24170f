// SPDX-License-Identifier: MIT
/* --status: what fork children of the process do, and whose child it is. */
#include <stdio.h>

#include <tattach/ring.h>
#include "attach/status_children.h"

void status_print_children(FILE *out, const struct tat_ring_header *h)
{
	fprintf(out, "children:     %s\n", h->children ?
		"fork children trace themselves (tread -p PID --children)" :
		"fork children record nothing (--no-children, or a pid namespace of its own)");
	if (h->parent_pid > 0)
		fprintf(out, "forked from:  pid %d, traced too ('tread -p %d --children' "
			"reads both)\n", (int)h->parent_pid, (int)h->parent_pid);
}
