/* SPDX-License-Identifier: MIT */
/*
 * The follower's "I am alive" word, which every followed process can read.
 *
 * A robust, process-shared mutex in a small file of the ring folder,
 * locked by the follower for as long as it follows.  Its first word holds
 * the owner's thread id; when the follower dies, however it dies (SIGKILL
 * too), the kernel walks its robust list and replaces that id with
 * FUTEX_OWNER_DIED before it lets go of its tracees.  The dlopen hook in
 * the targets (dlhook.c) traps only while the id is there.
 */
#ifndef TATTACH_FOLLOW_LOCK_H
#define TATTACH_FOLLOW_LOCK_H

#include <sys/types.h>

struct follow_lock {
	char path[256];
	void *map;		/* the file, one page, mapped here */
};

/* The id bits of the word: 0 once the follower unlocked or died. */
#define FOLLOW_LOCK_TID_MASK 0x3fffffffu
#define FOLLOW_LOCK_OWNER_DIED 0x40000000u	/* FUTEX_OWNER_DIED */

/* Path of the lock file of follower @follower. */
void follow_lock_path(pid_t follower, char *buf, size_t len);
/* Create, map and lock it.  Returns 0 or -errno (said why). */
int follow_lock_take(struct follow_lock *l);
/* Unlock (the hooks stop trapping), unmap, remove the file. */
void follow_lock_drop(struct follow_lock *l);
/* Remove the files of followers that are gone. */
void follow_lock_sweep(void);
/* Is @follower a live follower (its file there, its lock held)? */
int follow_lock_held_by(pid_t follower);

#endif
