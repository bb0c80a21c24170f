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
#include "attach/inject.h"
#include "attach/log.h"
#include "attach/process/proc.h"
#include "attach/ring/ringdir.h"
#include "attach/ring/ringfile.h"
#include "ringfiles/ringfiles.h"
#include "ringfiles/ringtree.h"

/*
 * Does the descendant still record into its ring: enabled, and the ring
 * and trampoline still mapped (a child that called exec since has
 * neither: nothing to disable there, and no failure either; nor has the
 * ring kept of a program it ran before an exec, which ringtree lists
 * with its current one)?
 */
static int ring_enabled(const struct ring_node *c)
{
	struct maps maps = { 0 };
	struct ringfile rf;
	int on;

	if (ringfile_open_readonly(c->path, c->pid, &rf))
		return 0;
	on = (rf.hdr->state == TAT_STATE_ENABLED || rf.hdr->state == TAT_STATE_BUSY) &&
	     proc_read_maps(c->pid, &maps) == 0 && inject_present(&rf, &maps);
	proc_free_maps(&maps);
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
		       ringfiles_dir(), (int)pid, strerror(-n));
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
		/* it exited or called exec meanwhile: nothing left to disable */
		if (ret == -ESRCH || ret == -ESTALE ||
		    (ret && !ringdir_process_alive(kids[i].pid, kids[i].start_time)))
			continue;
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
