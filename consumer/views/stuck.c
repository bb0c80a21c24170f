// SPDX-License-Identifier: MIT
/*
 * tread --stuck: the calls that entered and have not returned.
 *
 * From the frames in flight the threads publish in the ring file
 * (inflight.h) when it has them: in every mode, also when a flight ring
 * overwrote the ENTRY events long ago, and in stats mode.  A slot whose
 * thread has exited keeps its last frames: while the process runs, such
 * slots are skipped.  From a file without frames, from the events: every
 * event readable now goes through the entry/exit pairing (calls.h); what
 * is left open in each thread is the stack of calls in flight there.
 *
 * A call's age is measured to now while the process runs, else to the
 * last event of the trace (from events; from frames, to now: the process
 * does not say when it ended).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/decode/calls.h"
#include "consumer/decode/inflight.h"
#include "consumer/views/views.h"

struct stuck_thread {
	int32_t  tid;
	uint64_t oldest_tsc;
	struct tread_open_call *calls;	/* outermost first */
	uint32_t ncalls;
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

static int print_thread(struct tread_view_ctx *v, const struct stuck_thread *t,
			uint64_t now)
{
	int ret;

	errno = 0;
	ret = wrote(fprintf(v->out, "# thread %" PRId32 "\n#          AGE  FUNCTION\n",
			    t->tid));
	for (uint32_t i = 0; !ret && i < t->ncalls; i++)
		ret = wrote(fprintf(v->out, "%13.6f s  %*s%s\n",
				    age_s(v->ring, now, t->calls[i].entry_tsc), (int)(2 * i),
				    "", tread_site_name(v->names, t->calls[i].site)));
	return ret;
}

/* The part of a stack the filters keep: from the first -F match, up to
 * (not including) the first -N match.  Returns the first index kept. */
static uint32_t filter_stack(const struct tread_view_ctx *v, struct tread_open_call *c,
			     uint32_t *n)
{
	const struct tread_filter_spec *f = v->spec;
	uint32_t first = 0;

	if (!f)
		return 0;
	for (uint32_t i = 0; i < *n; i++)
		for (unsigned k = 0; k < f->nnotrace; k++)
			if (tread_filter_name_matches(f->notrace_re[k],
						      tread_site_name(v->names, c[i].site)) == 1) {
				*n = i;
				break;
			}
	if (!f->nfilter)
		return 0;
	for (first = 0; first < *n; first++)
		for (unsigned k = 0; k < f->nfilter; k++)
			if (tread_filter_name_matches(f->filter_re[k],
						      tread_site_name(v->names, c[first].site)) == 1)
				return first;
	return first;
}

/* Add the calls of one thread at least @min_ticks old. */
static int add_thread(struct tread_view_ctx *v, struct stuck_thread *t, int32_t tid,
		      const struct tread_open_call *open, uint32_t depth, uint64_t now,
		      uint64_t min_ticks)
{
	uint32_t old = 0, first;

	/* the entry of a slot that had nothing to show is reused */
	free(t->calls);
	t->calls = NULL;
	t->ncalls = 0;
	if (!tread_filter_spec_tid(v->spec, tid))
		return 0;
	while (old < depth && age_ticks(now, open[old].entry_tsc) >= min_ticks)
		old++;
	t->calls = malloc((old ? old : 1) * sizeof(*t->calls));
	if (!t->calls)
		return -ENOMEM;
	memcpy(t->calls, open, old * sizeof(*open));
	first = filter_stack(v, t->calls, &old);
	if (first >= old)
		return 0;
	memmove(t->calls, t->calls + first, (old - first) * sizeof(*open));
	t->ncalls = old - first;
	t->tid = tid;
	t->oldest_tsc = t->calls[0].entry_tsc;
	return 0;
}

/* The stacks from the frames in flight. */
static int from_frames(struct tread_view_ctx *v, struct stuck_thread *threads,
		       uint32_t *nthreads, uint64_t now, uint64_t min_ticks, bool gone)
{
	const struct tread_ring *ring = v->ring;
	uint32_t max = tread_inflight_max(ring);
	struct tread_inflight_frame *f = calloc(max, sizeof(*f));
	struct tread_open_call *open = calloc(max, sizeof(*open));
	int ret = f && open ? 0 : -ENOMEM;

	for (uint32_t s = 0; !ret && s < ring->hdr.max_threads; s++) {
		int32_t tid = tread_ring_tid(ring, s);
		uint32_t n = tread_inflight_read(ring, s, f);

		/* while the process runs, a slot whose thread exited keeps
		 * stale frames */
		if (!n || (!gone && !tread_view_thread_alive(ring->hdr.pid, tid)))
			continue;
		for (uint32_t i = 0; i < n; i++)
			open[i] = (struct tread_open_call){ .site = f[i].site,
							    .entry_tsc = f[i].tsc };
		ret = add_thread(v, &threads[*nthreads], tid, open, n, now, min_ticks);
		if (!ret && threads[*nthreads].ncalls)
			(*nthreads)++;
	}
	free(f);
	free(open);
	return ret;
}

/* The stacks left open by the events readable now. */
static int from_events(struct tread_view_ctx *v, struct stuck_thread *threads,
		       uint32_t *nthreads, uint64_t *now, uint64_t min_ticks, bool gone)
{
	const struct tread_ring *ring = v->ring;
	struct tread_calls *calls = NULL;
	struct tread_event ev;
	uint32_t depth;
	int ret;

	ret = tread_calls_open(ring, NULL, &calls);
	if (!ret)
		ret = tread_trace_refresh(v->trace, true, gone);
	tread_filter_begin_round(v->filter, true);
	while (!ret && tread_filter_next(v->filter, v->trace, &ev) == 1)
		ret = tread_calls_feed(calls, &ev);
	if (!ret && tread_filter_failed(v->filter))
		ret = -ENOMEM;
	if (gone && !ret)
		*now = tread_calls_latest(calls);
	for (uint32_t s = 0; !ret && s < ring->hdr.max_threads; s++) {
		const struct tread_open_call *open;

		tread_calls_open_in(calls, s, 0, &open, &depth);	/* one stack */

		ret = add_thread(v, &threads[*nthreads], tread_calls_tid(calls, s), open,
				 depth, *now, min_ticks);
		if (!ret && threads[*nthreads].ncalls)
			(*nthreads)++;
	}
	tread_calls_close(calls);
	return ret;
}

int tread_stuck_run(struct tread_view_ctx *v, uint64_t older_than_ns, bool writer_gone)
{
	const struct tread_ring *ring = v->ring;
	uint32_t nslots = ring->hdr.max_threads, nthreads = 0;
	struct stuck_thread *threads = calloc(nslots ? nslots : 1, sizeof(*threads));
	bool frames = tread_inflight_present(ring);
	uint64_t now = tread_view_now_tsc(ring), ncalls = 0, min_ticks;
	int ret;

	min_ticks = (uint64_t)((double)older_than_ns * ring->hdr.tsc_hz / 1e9);
	if (!threads)
		ret = -ENOMEM;
	else if (frames)
		ret = from_frames(v, threads, &nthreads, now, min_ticks, writer_gone);
	else
		ret = from_events(v, threads, &nthreads, &now, min_ticks, writer_gone);
	if (ret) {
		snprintf(v->err, v->errlen, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < nthreads; i++)
		ncalls += threads[i].ncalls;
	if (nthreads)
		qsort(threads, nthreads, sizeof(*threads), by_age);

	errno = 0;
	ret = wrote(fprintf(v->out, "# %" PRIu64 " call%s in flight in %" PRIu32
			    " thread%s (from the %s), ages %s\n", ncalls,
			    ncalls == 1 ? "" : "s", nthreads, nthreads == 1 ? "" : "s",
			    frames ? "frames in flight" : "events",
			    !writer_gone ? "now" : frames ? "now (the process has ended)" :
			    "at the last event (the process has ended)"));
	for (uint32_t i = 0; !ret && i < nthreads; i++)
		ret = print_thread(v, &threads[i], now);
out:
	for (uint32_t i = 0; threads && i < nslots; i++)
		free(threads[i].calls);
	free(threads);
	return ret;
}
