// SPDX-License-Identifier: MIT
/*
 * tread --stuck: the calls that entered and have not returned.
 *
 * From events: every event readable now goes through the entry/exit
 * pairing (calls.h); what is left open in each thread at the end is the
 * stack of calls in flight there.  A call's age is measured to now while
 * the process runs, else to the last event of the trace.
 *
 * Output, threads with the oldest call first, each call indented by its
 * depth under its caller:
 *
 *   # 3 calls in flight in 1 thread, ages now
 *   # thread 4242
 *   #          AGE  FUNCTION
 *       2.004512 s  main_loop
 *       2.004398 s    wait_request
 *       2.004301 s      read_pipe
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/calls.h"
#include "consumer/views/views.h"

struct stuck_thread {
	uint32_t slot;
	int32_t  tid;
	uint64_t oldest_tsc;
};

static int by_age(const void *a, const void *b)
{
	const struct stuck_thread *x = a, *y = b;

	if (x->oldest_tsc != y->oldest_tsc)
		return x->oldest_tsc < y->oldest_tsc ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int wrote(int ret)
{
	return ret < 0 ? (errno ? -errno : -EIO) : 0;
}

/* A clock a little ahead in one thread shows as age 0, not as huge. */
static uint64_t age_ticks(uint64_t now, uint64_t tsc)
{
	return now > tsc ? now - tsc : 0;
}

static double age_s(const struct tread_ring *ring, uint64_t now, uint64_t tsc)
{
	return tread_ring_ticks_to_ns(ring, age_ticks(now, tsc)) / 1e9;
}

static int print_thread(struct tread_view_ctx *v, struct tread_calls *calls,
			const struct stuck_thread *t, uint64_t now, uint64_t min_ticks)
{
	uint32_t depth;
	const struct tread_open_call *open = tread_calls_open_in(calls, t->slot, &depth);
	int ret;

	errno = 0;
	ret = wrote(fprintf(v->out, "# thread %" PRId32 "\n#          AGE  FUNCTION\n",
			    t->tid));
	for (uint32_t i = 0; !ret && i < depth; i++) {
		if (age_ticks(now, open[i].entry_tsc) < min_ticks)
			break;	/* the calls inside are younger still */
		ret = wrote(fprintf(v->out, "%13.6f s  %*s%s\n",
				    age_s(v->ring, now, open[i].entry_tsc), (int)(2 * i), "",
				    tread_site_name(v->names, open[i].site)));
	}
	return ret;
}

int tread_stuck_run(struct tread_view_ctx *v, uint64_t older_than_ns, bool writer_gone)
{
	const struct tread_ring *ring = v->ring;
	uint32_t nslots = ring->hdr.max_threads, nthreads = 0, depth;
	struct stuck_thread *threads = calloc(nslots ? nslots : 1, sizeof(*threads));
	struct tread_calls *calls = NULL;
	struct tread_event ev;
	uint64_t now, ncalls = 0, min_ticks;
	int ret;

	ret = threads ? tread_calls_open(ring, NULL, &calls) : -ENOMEM;
	if (!ret)
		ret = tread_trace_refresh(v->trace, true, writer_gone);
	tread_filter_begin_round(v->filter, true);
	while (!ret && tread_filter_next(v->filter, v->trace, &ev) == 1)
		ret = tread_calls_feed(calls, &ev);
	if (ret) {
		snprintf(v->err, v->errlen, "out of memory");
		goto out;
	}

	now = writer_gone ? tread_calls_latest(calls) : tread_view_now_tsc(ring);
	min_ticks = (uint64_t)((double)older_than_ns * ring->hdr.tsc_hz / 1e9);
	for (uint32_t s = 0; s < nslots; s++) {
		const struct tread_open_call *open = tread_calls_open_in(calls, s, &depth);
		uint32_t old = 0;

		while (old < depth && age_ticks(now, open[old].entry_tsc) >= min_ticks)
			old++;
		if (!old)
			continue;
		threads[nthreads++] = (struct stuck_thread){
			.slot = s, .tid = tread_calls_tid(calls, s),
			.oldest_tsc = open[0].entry_tsc,
		};
		ncalls += old;
	}
	if (nthreads)
		qsort(threads, nthreads, sizeof(*threads), by_age);

	errno = 0;
	ret = wrote(fprintf(v->out, "# %" PRIu64 " call%s in flight in %" PRIu32
			    " thread%s, ages %s\n", ncalls, ncalls == 1 ? "" : "s",
			    nthreads, nthreads == 1 ? "" : "s",
			    writer_gone ? "at the last event (the process has ended)" :
			    "now"));
	for (uint32_t i = 0; !ret && i < nthreads; i++)
		ret = print_thread(v, calls, &threads[i], now, min_ticks);
out:
	tread_calls_close(calls);
	free(threads);
	return ret;
}
