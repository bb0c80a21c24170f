/* SPDX-License-Identifier: MIT */
/*
 * Interactions between threads, found in the library calls of a trace.
 *
 * With --libcalls, a trace holds the program's calls of pthread_mutex_lock,
 * pthread_cond_wait, sem_post... and, for these, their first argument: the
 * address of the synchronisation object.  Two calls on the same object in
 * two threads of one process say who let whom go on:
 *
 *   thread A  pthread_mutex_unlock(m)           B waited in lock(m) from t0,
 *   thread B  pthread_mutex_lock(m) [t0 .. t1]  A released at t in [t0, t1]
 *
 * makes a flow from A's release call to the end of B's wait, and B waited
 * t1 - t0.  Of the releases of other threads during B's wait, the last
 * one is taken: it is the one B could acquire after (an earlier release
 * was taken by someone else, or B had not started waiting yet on a
 * condition variable's mutex).  A wait that no other thread's release
 * falls in (the mutex was free) makes no flow.
 *
 * Pairs: mutex lock/timedlock/trylock-free lock with unlock; rwlock
 * rdlock/wrlock with unlock; cond wait/timedwait with signal/broadcast;
 * sem wait/timedwait with post.  Other calls are left alone.
 */
#ifndef TATTACH_CONSUMER_EXPORT_INTERACTIONS_H
#define TATTACH_CONSUMER_EXPORT_INTERACTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "consumer/export/export.h"

enum tread_xsync {
	TREAD_SYNC_MUTEX = 0,
	TREAD_SYNC_RWLOCK,
	TREAD_SYNC_COND,
	TREAD_SYNC_SEM,
};

/* One thread letting another go on. */
struct tread_xflow {
	size_t   release;		/* ENTRY event of the releasing call */
	size_t   wait_end;		/* EXIT event of the waiting call */
	size_t   wait_start;		/* ENTRY event of the waiting call */
	uint64_t object;		/* the object's address */
	uint64_t wait_ns;		/* how long the waiter waited */
	uint8_t  sync;			/* enum tread_xsync */
};

/* What a function's name says it does to its first argument; -1: nothing. */
int tread_sync_role(const char *name, uint8_t *sync, int *releases);

/* A short name of a kind of object: "mutex", "cond"... */
const char *tread_sync_name(uint8_t sync);

/*
 * tread_find_interactions - the flows of a trace
 * @x:       the model, with first arguments of library calls (export.h)
 * @exit_of: for each ENTRY event, the index of its EXIT (tread_match_exits)
 * @out, @nout: the flows, by the time of their wait's end; free(*out)
 *
 * Returns 0 or -ENOMEM.
 */
int tread_find_interactions(const struct tread_xtrace *x, const size_t *exit_of,
			    struct tread_xflow **out, size_t *nout);

/*
 * tread_match_exits - for each ENTRY event, the index of its EXIT
 * (balanced per thread, export.h); other events map to themselves.
 * Returns 0 or -ENOMEM; free(*out).
 */
int tread_match_exits(const struct tread_xtrace *x, size_t **out);

#endif /* TATTACH_CONSUMER_EXPORT_INTERACTIONS_H */
