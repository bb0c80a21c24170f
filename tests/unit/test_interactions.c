// SPDX-License-Identifier: MIT
/*
 * Pairing releases with the waits they ended (consumer/export/
 * interactions.c), on hand-made models: which release is taken, and
 * which waits make no flow.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/export/interactions.h"

static struct tread_xproc procs[2] = { { .pid = 10 }, { .pid = 20 } };
static struct tread_xthread threads[3] = {
	{ .proc = 0, .tid = 10 }, { .proc = 0, .tid = 11 }, { .proc = 1, .tid = 20 },
};
static struct tread_xfunc funcs[] = {
	{ .name = "pthread_mutex_lock" }, { .name = "pthread_mutex_unlock" },
	{ .name = "pthread_cond_wait" }, { .name = "pthread_cond_signal" },
	{ .name = "sem_wait@GLIBC_2.34" }, { .name = "work" },
};
enum { LOCK, UNLOCK, CWAIT, SIGNAL, SEMWAIT, WORK };

static struct tread_xevent ev[64];
static size_t nev;

/* An ENTRY (with @object as its first argument, unless 0) or EXIT of
 * @func in thread @th at @t; the tests add them in time order. */
static void event(uint32_t th, uint32_t func, int entry, uint64_t t, uint64_t object)
{
	struct tread_xevent *e = &ev[nev++];

	memset(e, 0, sizeof(*e));
	e->real_ns = t;
	e->thread = th;
	e->func = func;
	e->kind = entry ? TREAD_X_ENTRY : TREAD_X_EXIT;
	if (entry && object) {
		e->args = "arg1=...";
		e->first_arg = object;
	}
}

static size_t flows_of(struct tread_xflow **fl)
{
	struct tread_xtrace x = {
		.procs = procs, .nprocs = 2, .threads = threads, .nthreads = 3,
		.funcs = funcs, .nfuncs = sizeof(funcs) / sizeof(funcs[0]),
		.events = ev, .nevents = nev,
	};
	size_t *exit_of, n;

	cr_assert_eq(tread_match_exits(&x, &exit_of), 0);
	cr_assert_eq(tread_find_interactions(&x, exit_of, fl, &n), 0);
	free(exit_of);
	return n;
}

Test(interactions, the_last_release_of_another_thread_during_the_wait)
{
	struct tread_xflow *fl;

	nev = 0;
	event(1, LOCK, 1, 100, 0xa0);		/* 11 waits from 100 to 500 */
	event(0, UNLOCK, 1, 200, 0xa0);		/* 10 releases twice meanwhile */
	event(0, UNLOCK, 0, 210, 0);
	event(0, UNLOCK, 1, 300, 0xa0);
	event(0, UNLOCK, 0, 310, 0);
	event(1, UNLOCK, 1, 400, 0xb0);		/* another object: not it */
	event(1, UNLOCK, 0, 410, 0);
	event(1, LOCK, 0, 500, 0);
	cr_assert_eq(flows_of(&fl), 1);
	cr_expect_eq(fl[0].release, 3);
	cr_expect_eq(fl[0].wait_start, 0);
	cr_expect_eq(fl[0].wait_end, 7);
	cr_expect_eq(fl[0].object, 0xa0);
	cr_expect_eq(fl[0].wait_ns, 400);
	cr_expect_eq(fl[0].sync, TREAD_SYNC_MUTEX);
	free(fl);
}

Test(interactions, no_flow_without_a_release_by_another_thread_during_the_wait)
{
	struct tread_xflow *fl;

	nev = 0;
	event(0, UNLOCK, 1, 10, 0xa0);		/* before the wait: not it */
	event(0, UNLOCK, 0, 20, 0);
	event(1, LOCK, 1, 100, 0xa0);
	event(1, LOCK, 0, 150, 0);
	event(1, UNLOCK, 1, 160, 0xa0);		/* the waiter's own release */
	event(1, UNLOCK, 0, 170, 0);
	event(2, UNLOCK, 1, 180, 0xa0);		/* same address, another process */
	event(2, UNLOCK, 0, 190, 0);
	event(1, LOCK, 1, 200, 0xa0);
	event(1, LOCK, 0, 300, 0);
	event(1, WORK, 1, 310, 0);		/* not a synchronisation call */
	event(1, WORK, 0, 320, 0);
	cr_expect_eq(flows_of(&fl), 0);
	free(fl);
}

Test(interactions, conditions_and_versioned_semaphore_names)
{
	struct tread_xflow *fl;

	nev = 0;
	event(1, CWAIT, 1, 100, 0xc0);
	event(1, SEMWAIT, 1, 110, 0x50);	/* no sem_post: no flow */
	event(0, SIGNAL, 1, 150, 0xc0);
	event(0, SIGNAL, 0, 160, 0);
	event(1, SEMWAIT, 0, 170, 0);
	event(1, CWAIT, 0, 180, 0);
	cr_assert_eq(flows_of(&fl), 1);
	cr_expect_eq(fl[0].sync, TREAD_SYNC_COND);
	cr_expect_eq(fl[0].object, 0xc0);
	cr_expect_eq(fl[0].wait_ns, 80);
	free(fl);
	{
		uint8_t sync;
		int releases;

		cr_expect_eq(tread_sync_role("sem_wait@GLIBC_2.34", &sync, &releases), 0);
		cr_expect_eq(sync, TREAD_SYNC_SEM);
		cr_expect_eq(releases, 0);
		cr_expect_eq(tread_sync_role("sem_waiter", &sync, &releases), -1);
	}
}
