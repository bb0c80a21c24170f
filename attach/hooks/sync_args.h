/* SPDX-License-Identifier: MIT */
/*
 * --libcalls records the object of every synchronisation call: the first
 * argument of pthread_mutex_lock/unlock, the pthread_rwlock_*, the
 * pthread_cond_* waits and signals, sem_wait/sem_post.  With it tread
 * pairs a release in one thread with the end of a wait in another
 * (consumer/export/interactions.c: arrows in the viewer, flow events in
 * the Chrome export).  Only imports hooked anyway take it, and only where
 * the user's -A gives no arguments.
 */
#ifndef TATTACH_ATTACH_HOOKS_SYNC_ARGS_H
#define TATTACH_ATTACH_HOOKS_SYNC_ARGS_H

#include <stddef.h>

#include "attach/values/args_plan.h"

/* Append the request to *@reqs (*@n of them, realloc'd); 0 or -ENOMEM. */
int sync_args_append(struct args_req **reqs, size_t *n);

#endif /* TATTACH_ATTACH_HOOKS_SYNC_ARGS_H */
