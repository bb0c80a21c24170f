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
 * A thread that switches stacks (coroutines, swapcontext(), a handler on
 * a sigaltstack) has a stack of calls in flight on each: each is shown
 * apart, nested in itself, under "# thread TID, stack N" (N as the
 * graph's "stack N" lines say it), since a suspended coroutine's calls
 * are not callers of what runs after them.
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

/* The calls in flight on one stack of one thread. */
struct stuck_stack {
	int32_t  tid;
	uint64_t stack;			/* its sub-stack id (0: the thread's own) */
	uint64_t oldest_tsc;
	struct tread_open_call *calls;	/* outermost first */
	uint32_t ncalls;
};

/* The stacks with calls to show, grown as needed. */
struct stuck_list {
	struct stuck_stack *v;
	uint32_t n, cap;
};

static int by_age(const void *a, const void *b)
{
	const struct stuck_stack *x = a, *y = b;

	if (x->oldest_tsc != y->oldest_tsc)
		return x->oldest_tsc < y->oldest_tsc ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* The entry after the last, zeroed, or NULL when out of memory. */
static struct stuck_stack *next_entry(struct stuck_list *l)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 16;
		struct stuck_stack *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	return &l->v[l->n];
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

static int print_stack(struct tread_view_ctx *v, const struct stuck_stack *t,
			uint64_t now)
{
	int ret;

	errno = 0;
	if (t->stack)
		ret = wrote(fprintf(v->out, "# thread %" PRId32 ", stack %" PRIu64 "\n"
				    "#          AGE  FUNCTION\n", t->tid, t->stack));
	else
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

/* Add the calls of one stack of a thread at least @min_ticks old. */
static int add_stack(struct tread_view_ctx *v, struct stuck_list *l, int32_t tid,
		     uint64_t stack, const struct tread_open_call *open, uint32_t depth,
		     uint64_t now, uint64_t min_ticks)
{
	struct stuck_stack *t;
	uint32_t old = 0, first;

	if (!tread_filter_spec_tid(v->spec, tid) || !depth)
		return 0;
	t = next_entry(l);
	if (!t)
		return -ENOMEM;
	while (old < depth && age_ticks(now, open[old].entry_tsc) >= min_ticks)
		old++;
	t->calls = malloc((old ? old : 1) * sizeof(*t->calls));
	if (!t->calls)
		return -ENOMEM;
	memcpy(t->calls, open, old * sizeof(*open));
	first = filter_stack(v, t->calls, &old);
	if (first >= old) {
		free(t->calls);
		t->calls = NULL;
		return 0;
	}
	memmove(t->calls, t->calls + first, (old - first) * sizeof(*open));
	t->ncalls = old - first;
	t->tid = tid;
	t->stack = stack;
	t->oldest_tsc = t->calls[0].entry_tsc;
	l->n++;
	return 0;
}

/* The stacks from the frames in flight: a slot's frames, one stack at a
 * time in the order each first appears (they interleave when the thread
 * switches stacks), each stack's in their order. */
static int from_frames(struct tread_view_ctx *v, struct stuck_list *l, uint64_t now,
		       uint64_t min_ticks, bool gone)
{
	const struct tread_ring *ring = v->ring;
	uint32_t max = tread_inflight_max(ring);
	struct tread_inflight_frame *f = calloc(max, sizeof(*f));
	struct tread_open_call *open = calloc(max, sizeof(*open));
	bool *taken = calloc(max, sizeof(*taken));
	int ret = f && open && taken ? 0 : -ENOMEM;

	for (uint32_t s = 0; !ret && s < ring->hdr.max_threads; s++) {
		int32_t tid = tread_ring_tid(ring, s);
		uint32_t n = tread_inflight_read(ring, s, f);

		/* while the process runs, a slot whose thread exited keeps
		 * stale frames */
		if (!n || (!gone && !tread_view_thread_alive(ring->hdr.pid, tid)))
			continue;
		memset(taken, 0, n * sizeof(*taken));
		for (uint32_t first = 0; !ret && first < n; first++) {
			uint32_t k = 0;

			if (taken[first])
				continue;
			for (uint32_t i = first; i < n; i++)
				if (!taken[i] && f[i].stack == f[first].stack) {
					taken[i] = true;
					open[k++] = (struct tread_open_call){
						.site = f[i].site, .entry_tsc = f[i].tsc };
				}
			ret = add_stack(v, l, tid, f[first].stack, open, k, now, min_ticks);
		}
	}
	free(f);
	free(open);
	free(taken);
	return ret;
}

/* The stacks left open by the events readable now, nested per sub-stack
 * as the graph nests them. */
static int from_events(struct tread_view_ctx *v, struct stuck_list *l, uint64_t *now,
		       uint64_t min_ticks, bool gone)
{
	const struct tread_ring *ring = v->ring;
	const struct tread_call_ops ops = { .by_stack = true };
	struct tread_calls *calls = NULL;
	struct tread_event ev;
	uint32_t depth;
	int ret;

	ret = tread_calls_open(ring, &ops, &calls);
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

		for (uint32_t i = 0; !ret && tread_calls_open_in(calls, s, i, &open, &depth); i++)
			ret = add_stack(v, l, tread_calls_tid(calls, s),
					tread_calls_stack_id(calls, s, i), open, depth, *now,
					min_ticks);
	}
	tread_calls_close(calls);
	return ret;
}

/* The threads the stacks of @l are on (a thread with calls in flight on
 * several stacks has an entry for each). */
static uint32_t count_threads(const struct stuck_list *l)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < l->n; i++) {
		uint32_t j = 0;

		while (j < i && l->v[j].tid != l->v[i].tid)
			j++;
		n += j == i;
	}
	return n;
}

int tread_stuck_run(struct tread_view_ctx *v, uint64_t older_than_ns, bool writer_gone)
{
	const struct tread_ring *ring = v->ring;
	struct stuck_list l = { 0 };
	bool frames = tread_inflight_present(ring);
	uint64_t now = tread_view_now_tsc(ring), ncalls = 0, min_ticks;
	uint32_t nthreads;
	char stacks[48] = "";
	int ret;

	min_ticks = (uint64_t)((double)older_than_ns * ring->hdr.tsc_hz / 1e9);
	if (frames)
		ret = from_frames(v, &l, now, min_ticks, writer_gone);
	else
		ret = from_events(v, &l, &now, min_ticks, writer_gone);
	if (ret) {
		snprintf(v->err, v->errlen, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < l.n; i++)
		ncalls += l.v[i].ncalls;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_age);
	nthreads = count_threads(&l);
	if (l.n > nthreads)
		snprintf(stacks, sizeof(stacks), " on %" PRIu32 " stacks", l.n);

	errno = 0;
	ret = wrote(fprintf(v->out, "# %" PRIu64 " call%s in flight in %" PRIu32
			    " thread%s%s (from the %s), ages %s\n", ncalls,
			    ncalls == 1 ? "" : "s", nthreads, nthreads == 1 ? "" : "s", stacks,
			    frames ? "frames in flight" : "events",
			    !writer_gone ? "now" : frames ? "now (the process has ended)" :
			    "at the last event (the process has ended)"));
	for (uint32_t i = 0; !ret && i < l.n; i++)
		ret = print_stack(v, &l.v[i], now);
out:
	for (uint32_t i = 0; i < l.n; i++)
		free(l.v[i].calls);
	free(l.v);
	return ret;
}
