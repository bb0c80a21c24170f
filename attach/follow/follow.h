/* SPDX-License-Identifier: MIT */
/*
 * tattach -p PID --enable --follow: stay attached and keep the process and
 * every process it starts traced (fork, vfork, posix_spawn, daemon, exec
 * from any thread, dlopen).  See docs/how-it-works.md, "Following".
 */
#ifndef TATTACH_FOLLOW_H
#define TATTACH_FOLLOW_H

#include <sys/types.h>

#include "attach/session.h"

/*
 * follow_run - enable tracing of @o->pid as --enable does, then follow it
 * and its descendants until they have all exited, or SIGINT/SIGTERM (also
 * from 'tattach -p PID --disable') ends it.  With @background, return in
 * the calling process once following has begun (its pid printed) and
 * follow in a child.  Returns tattach's exit status: 0 or 1 (said why).
 */
int follow_run(struct session_opts *o, int background);

/*
 * follow_end_holder - if a follower (tattach --follow) traces @pid, ask it
 * to end (SIGTERM) and wait until it has let go of the whole tree.
 * Returns 0 (none, or it ended: then *@follower is its pid), or -errno
 * (said why).
 */
int follow_end_holder(pid_t pid, pid_t *follower);

#endif
