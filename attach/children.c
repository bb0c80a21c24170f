// SPDX-License-Identifier: MIT
/*
 * A fork child of a traced process traces itself into a ring of its own
 * (attach/tramp/tramp_fork.c): it is a traced process like any other, so
 * turning it off is an ordinary --disable of its pid.  The parent's
 * --disable does that for each live descendant, children first found,
 * after the parent itself: from then on a child that has not made its
 * ring yet finds its parent's disabled and makes none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tattach/ring.h>
#include "attach/children.h"
#include "attach/log.h"
#include "attach/ring/ringdir.h"
#include "attach/ring/ringfile.h"
#include "attach/ring/ringtree.h"

/* Is the ring at @path still recording (its process may not know yet)? */
static int ring_enabled(const struct ring_node *c)
{
	struct tat_ring_header h;
	struct ringfile rf;
	int on;

	if (ringfile_open_readonly(c->path, c->pid, &rf))
		return 0;
	memcpy(&h, rf.hdr, sizeof(h));
	on = h.state == TAT_STATE_ENABLED || h.state == TAT_STATE_BUSY;
	ringfile_close(&rf);
	return on;
}

int children_disable(pid_t pid, uint64_t start_time, const struct session_opts *o,
		     struct children_report *rep)
{
	struct ring_node *kids;
	int n = ringtree_descendants(pid, start_time, &kids);
	size_t used = 0;

	memset(rep, 0, sizeof(*rep));
	if (n < 0) {
		pr_err("reading the ring folder %s for pid %d's descendants: %s",
		       ringdir_path(), (int)pid, strerror(-n));
		return n;
	}
	for (int i = 0; i < n; i++) {
		struct session_opts co = *o;
		struct session_report cr;
		int ret;

		if (!ringdir_process_alive(kids[i].pid, kids[i].start_time) ||
		    !ring_enabled(&kids[i]))
			continue;
		co.pid = kids[i].pid;
		ret = session_disable(&co, &cr);
		if (ret == -ESRCH || (ret && !ringdir_process_alive(kids[i].pid,
								     kids[i].start_time)))
			continue;	/* it exited meanwhile: nothing left to disable */
		if (ret) {
			rep->failed++;
			continue;
		}
		if (cr.already)
			continue;
		rep->disabled++;
		if (used < sizeof(rep->pids))
			used += (size_t)snprintf(rep->pids + used, sizeof(rep->pids) - used,
						 "%s%d", used ? " " : "", (int)kids[i].pid);
	}
	free(kids);
	return 0;
}
