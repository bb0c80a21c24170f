/* SPDX-License-Identifier: MIT */
/* What the parts of the follower share. */
#ifndef TATTACH_FOLLOW_PRIV_H
#define TATTACH_FOLLOW_PRIV_H

#include <sys/types.h>

#include "attach/follow/lock.h"
#include "attach/follow/tree.h"
#include "attach/session.h"

#define FOLLOW_PTRACE_OPTS (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | \
			    PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | \
			    PTRACE_O_TRACEEXEC)

struct follower {
	struct ftree tree;
	const struct session_opts *opts;
	struct follow_lock lock;
	pid_t root;
	int ending;		/* stop resuming anything: we let go */
	size_t images;		/* program images traced (exec'd ones too) */
};

/* stopping.c: bring every thread of process @tgid to a stop we hold
 * (0, or -ESRCH when none is left), and let them all go again. */
int follow_stop_process(struct follower *f, pid_t tgid);
void follow_resume_process(struct follower *f, pid_t tgid);
/* Is @t a main thread that has exited while other threads run on? */
int follow_zombie_leader(const struct ftask *t);
/* Resume one held thread as its stop asks (a deferred event is handled). */
void follow_resume_task(struct follower *f, pid_t tid);
/* Let hold_all()/release_all() (session_enable) use the held threads. */
void follow_hold_as_session(struct follower *f, int on);
/* Wait for the next stop of @tid and record it (the thread marked as
 * stopped, its status kept); 0, or -ESRCH when it has exited. */
int follow_wait_stop(struct follower *f, pid_t tid);

/* events.c: act on wait status @status of thread @tid. */
void follow_event(struct follower *f, pid_t tid, int status);

/* images.c: the dlopen hook into the held image of @tgid (0, 1 when it
 * has no dynamic linker to hook, -errno); enable the libraries now loaded
 * in @tgid, whose thread @tid trapped in the hook.  A program just exec'd
 * is enabled once that hook traps: follow_new_image(). */
int follow_hook_image(struct follower *f, pid_t tgid);
void follow_new_image(struct follower *f, pid_t tgid);
struct dlhook_stub;
void follow_enable_loaded(struct follower *f, pid_t tid, const struct dlhook_stub *st);

#endif
