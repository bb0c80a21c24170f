// SPDX-License-Identifier: MIT
/*
 * Interactions between threads: which release let which waiter go on
 * (interactions.h).
 *
 * Two passes over the model, which is in time order:
 *   1. every release call (its ENTRY) goes into a list per object and
 *      process, kept in time order;
 *   2. for every wait call, the last release of the same object by
 *      another thread of the same process between the wait's ENTRY and
 *      its EXIT, found by binary search.
 * The lists are one array sorted by (process, object, time): the model's
 * order already sorts by time, and qsort is stable enough for the rest
 * once the event index breaks ties.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/export/interactions.h"

struct role {
	const char *name;
	uint8_t     sync;
	bool        releases;
};

/* Functions whose first argument is the object they wait on or release. */
static const struct role roles[] = {
	{ "pthread_mutex_lock",      TREAD_SYNC_MUTEX,  false },
	{ "pthread_mutex_timedlock", TREAD_SYNC_MUTEX,  false },
	{ "pthread_mutex_clocklock", TREAD_SYNC_MUTEX,  false },
	{ "pthread_mutex_unlock",    TREAD_SYNC_MUTEX,  true },
	{ "pthread_rwlock_rdlock",   TREAD_SYNC_RWLOCK, false },
	{ "pthread_rwlock_wrlock",   TREAD_SYNC_RWLOCK, false },
	{ "pthread_rwlock_timedrdlock", TREAD_SYNC_RWLOCK, false },
	{ "pthread_rwlock_timedwrlock", TREAD_SYNC_RWLOCK, false },
	{ "pthread_rwlock_unlock",   TREAD_SYNC_RWLOCK, true },
	{ "pthread_cond_wait",       TREAD_SYNC_COND,   false },
	{ "pthread_cond_timedwait",  TREAD_SYNC_COND,   false },
	{ "pthread_cond_clockwait",  TREAD_SYNC_COND,   false },
	{ "pthread_cond_signal",     TREAD_SYNC_COND,   true },
	{ "pthread_cond_broadcast",  TREAD_SYNC_COND,   true },
	{ "sem_wait",                TREAD_SYNC_SEM,    false },
	{ "sem_timedwait",           TREAD_SYNC_SEM,    false },
	{ "sem_clockwait",           TREAD_SYNC_SEM,    false },
	{ "sem_post",                TREAD_SYNC_SEM,    true },
};

int tread_sync_role(const char *name, uint8_t *sync, int *releases)
{
	size_t len = strcspn(name, "@");	/* "sem_wait@GLIBC_2.34" */

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strlen(roles[i].name) == len && !strncmp(roles[i].name, name, len)) {
			*sync = roles[i].sync;
			*releases = roles[i].releases;
			return 0;
		}
	return -1;
}

const char *tread_sync_name(uint8_t sync)
{
	switch (sync) {
	case TREAD_SYNC_MUTEX:	return "mutex";
	case TREAD_SYNC_RWLOCK:	return "rwlock";
	case TREAD_SYNC_COND:	return "cond";
	case TREAD_SYNC_SEM:	return "semaphore";
	}
	return "object";
}

int tread_match_exits(const struct tread_xtrace *x, size_t **out)
{
	size_t n = x->nthreads ? x->nthreads : 1;
	size_t *exit_of = malloc((x->nevents ? x->nevents : 1) * sizeof(*exit_of));
	size_t **stack = calloc(n, sizeof(*stack));
	uint32_t *depth = calloc(n, sizeof(*depth));
	uint32_t *cap = calloc(n, sizeof(*cap));
	int ret = 0;

	if (!exit_of || !stack || !depth || !cap) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];
		uint32_t t = e->thread;

		exit_of[i] = i;
		if (e->kind == TREAD_X_ENTRY) {
			if (depth[t] == cap[t]) {
				uint32_t ncap = cap[t] ? cap[t] * 2 : 64;
				size_t *ns = reallocarray(stack[t], ncap, sizeof(*ns));

				if (!ns) {
					ret = -ENOMEM;
					goto out;
				}
				stack[t] = ns;
				cap[t] = ncap;
			}
			stack[t][depth[t]++] = i;
		} else if (e->kind == TREAD_X_EXIT && depth[t]) {
			exit_of[stack[t][--depth[t]]] = i;
		}
	}
out:
	for (size_t t = 0; stack && t < n; t++)
		free(stack[t]);
	free(stack);
	free(depth);
	free(cap);
	if (ret) {
		free(exit_of);
		return ret;
	}
	*out = exit_of;
	return 0;
}

/* A release, in the list of its object. */
struct release {
	uint32_t proc;
	uint8_t  sync;
	uint64_t object;
	uint64_t real_ns;
	size_t   event;
};

static int release_cmp(const void *a, const void *b)
{
	const struct release *x = a, *y = b;

	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	if (x->sync != y->sync)
		return x->sync < y->sync ? -1 : 1;
	if (x->object != y->object)
		return x->object < y->object ? -1 : 1;
	if (x->real_ns != y->real_ns)
		return x->real_ns < y->real_ns ? -1 : 1;
	return x->event < y->event ? -1 : x->event > y->event;
}

/* The object an event's call acts on, if it is one of the roles. */
static int sync_call(const struct tread_xtrace *x, size_t i, uint8_t *sync,
		     int *releases, uint64_t *object)
{
	const struct tread_xevent *e = &x->events[i];

	if (e->kind != TREAD_X_ENTRY || !e->args)
		return -1;
	if (tread_sync_role(x->funcs[e->func].name, sync, releases))
		return -1;
	*object = e->first_arg;
	return 0;
}

/* The first release in r[] that does not sort before @key. */
static size_t lower_bound(const struct release *r, size_t n, const struct release *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (release_cmp(&r[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The last release of @key's object by a thread other than @waiter at or
 * before @to (the end of the wait); the caller checks that it falls in
 * the wait.
 */
static const struct release *last_release(const struct tread_xtrace *x,
					  const struct release *r, size_t n,
					  struct release key, uint64_t to,
					  uint32_t waiter)
{
	size_t i;

	key.real_ns = to;
	key.event = SIZE_MAX;
	i = lower_bound(r, n, &key);
	while (i > 0) {
		const struct release *c = &r[--i];

		if (c->proc != key.proc || c->sync != key.sync || c->object != key.object)
			return NULL;
		if (x->events[c->event].thread != waiter)
			return c;
	}
	return NULL;
}

int tread_find_interactions(const struct tread_xtrace *x, const size_t *exit_of,
			    struct tread_xflow **out, size_t *nout)
{
	struct release *rel = NULL;
	struct tread_xflow *flows = NULL;
	size_t nrel = 0, nflows = 0, capflows = 0;
	int ret = 0;

	*out = NULL;
	*nout = 0;
	rel = malloc((x->nevents ? x->nevents : 1) * sizeof(*rel));
	if (!rel)
		return -ENOMEM;
	for (size_t i = 0; i < x->nevents; i++) {
		uint8_t sync;
		int releases;
		uint64_t object;

		if (sync_call(x, i, &sync, &releases, &object) || !releases)
			continue;
		rel[nrel++] = (struct release){
			.proc = x->threads[x->events[i].thread].proc,
			.sync = sync, .object = object,
			.real_ns = x->events[i].real_ns, .event = i,
		};
	}
	qsort(rel, nrel, sizeof(*rel), release_cmp);

	for (size_t i = 0; i < x->nevents && nrel; i++) {
		const struct tread_xevent *e = &x->events[i];
		const struct release *r;
		struct release key;
		uint8_t sync;
		int releases;
		uint64_t object;
		size_t end = exit_of[i];

		if (sync_call(x, i, &sync, &releases, &object) || releases || end == i)
			continue;
		key = (struct release){
			.proc = x->threads[e->thread].proc, .sync = sync,
			.object = object, .real_ns = e->real_ns,
		};
		r = last_release(x, rel, nrel, key, x->events[end].real_ns, e->thread);
		if (!r || r->real_ns < e->real_ns)
			continue;
		if (nflows == capflows) {
			size_t ncap = capflows ? capflows * 2 : 64;
			struct tread_xflow *nf = reallocarray(flows, ncap, sizeof(*nf));

			if (!nf) {
				ret = -ENOMEM;
				goto out;
			}
			flows = nf;
			capflows = ncap;
		}
		flows[nflows++] = (struct tread_xflow){
			.release = r->event, .wait_end = end, .wait_start = i,
			.object = object, .sync = sync,
			.wait_ns = x->events[end].real_ns - e->real_ns,
		};
	}
out:
	free(rel);
	if (ret) {
		free(flows);
		return ret;
	}
	*out = flows;
	*nout = nflows;
	return 0;
}
