// SPDX-License-Identifier: MIT
/*
 * From traces to the export model: read, name, date, balance, merge.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/errmsg.h"
#include "consumer/export/collect.h"
#include "consumer/decode/trace.h"
#include "consumer/decode/calls.h"
#include "consumer/decode/marks.h"
#include "consumer/decode/values.h"
#include "consumer/input/site_params.h"
#include "consumer/input/trace_input.h"

/* The model and everything its pointers point to, freed together. */
struct xtrace_owned {
	struct tread_xtrace x;		/* first: tread_xtrace_free casts back */
	char  **strings;
	size_t  nstrings, strings_cap;
	size_t  threads_cap, funcs_cap;
	int32_t stack_tids;		/* threads made for sub-stacks so far */
};

/* What the model keeps of an open call (its data in calls.h). */
struct frame {
	uint32_t func;
	uint32_t thread;
	bool     early;		/* adopted at --enable: its exit says so too */
	size_t   entry;		/* index of its ENTRY in reader.ev */
	const char *ret;	/* tattach -R: its return value, for its EXIT */
	const uint8_t *ret_bytes;	/* and that record's bytes */
	uint32_t ret_nbytes;
};

/* A site past the site table (corrupt) and its function. */
struct site_func {
	uint32_t site;
	uint32_t func;
};

struct tid_entry {
	int32_t  tid;		/* 0 = empty */
	uint32_t thread;
};

/* The thread of a sub-stack other than 0 of a thread (sub_stacks.h). */
struct stack_entry {
	int32_t  tid;
	uint64_t stack;
	uint32_t thread;
};

/* One input while it is read. */
struct reader {
	struct xtrace_owned *o;
	struct tread_input *in;
	int32_t  tid_filter;
	const struct tread_filter_spec *filter;	/* NULL: everything */
	uint32_t proc;
	uint32_t *func_of_site;		/* [site_cap]: func index + 1, 0 = none */
	struct site_func *beyond;	/* sites past the table (corrupt) */
	size_t   nbeyond;
	struct tid_entry *tids;		/* open addressing, power-of-two size */
	size_t   tids_cap, ntids;
	struct stack_entry *stacks;	/* few: searched from the last found */
	size_t   nstacks, stacks_cap, last_stack;
	struct tread_calls *calls;	/* the open calls, one stack per slot */
	uint64_t real;			/* real_ns of the event being read */
	struct tread_xevent *ev;	/* this input's events, in trace order */
	size_t   nev, ev_cap;
	uint64_t last_real;
	struct tread_collect_stats *stats;
	struct tread_site_params *params;	/* tattach -A/-R: parameter names */
	/* Whose calibration dates the events: this input's own ring, or an
	 * earlier input's of the same machine (same_clock()). */
	struct tread_ring clock;
};


/* Grow *@v (of @elem-byte items) so that @need fit; 0 or -ENOMEM. */
static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *nv;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nv = reallocarray(*v, ncap, elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* A copy of @s owned by the model; NULL when out of memory. */
static const char *keep(struct xtrace_owned *o, const char *s)
{
	char *copy;

	if (grow((void **)&o->strings, &o->strings_cap, o->nstrings + 1,
		 sizeof(*o->strings)))
		return NULL;
	copy = strdup(s ? s : "");
	if (!copy)
		return NULL;
	o->strings[o->nstrings++] = copy;
	return copy;
}

/* A copy of @len bytes owned by the model; NULL when out of memory. */
static const uint8_t *keep_bytes(struct xtrace_owned *o, const uint8_t *b, size_t len)
{
	char *copy;

	if (grow((void **)&o->strings, &o->strings_cap, o->nstrings + 1,
		 sizeof(*o->strings)))
		return NULL;
	copy = malloc(len ? len : 1);
	if (!copy)
		return NULL;
	memcpy(copy, b, len);
	o->strings[o->nstrings++] = copy;
	return (const uint8_t *)copy;
}

void tread_xtrace_free(struct tread_xtrace *x)
{
	struct xtrace_owned *o = (struct xtrace_owned *)x;

	if (!o)
		return;
	for (size_t i = 0; i < o->nstrings; i++)
		free(o->strings[i]);
	free(o->strings);
	free(x->procs);
	free(x->threads);
	free(x->funcs);
	free(x->events);
	free(o);
}

/* ------------------------------------------------------------ lookups */

static uint32_t tid_hash(int32_t tid, size_t cap)
{
	return ((uint32_t)tid * 2654435761u) & (uint32_t)(cap - 1);
}

static int new_thread(struct reader *r, int32_t tid, uint32_t *out)
{
	struct xtrace_owned *o = r->o;
	struct tread_xthread *t;
	const char *name = keep(o, tread_input_thread_name(r->in, tid));

	if (!name || grow((void **)&o->x.threads, &o->threads_cap, o->x.nthreads + 1,
			  sizeof(*o->x.threads)))
		return -ENOMEM;
	t = &o->x.threads[o->x.nthreads];
	t->proc = r->proc;
	t->tid = tid;
	t->name = name;
	*out = (uint32_t)o->x.nthreads++;
	return 0;
}

/* The thread index of @tid in this input's process, made on first use. */
static int thread_of(struct reader *r, int32_t tid, uint32_t *out)
{
	size_t i;
	int ret;

	if (r->ntids * 2 >= r->tids_cap) {
		size_t ncap = r->tids_cap ? r->tids_cap * 2 : 64;
		struct tid_entry *nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		for (size_t k = 0; k < r->tids_cap; k++) {
			if (!r->tids[k].tid)
				continue;
			for (i = tid_hash(r->tids[k].tid, ncap); nt[i].tid; i = (i + 1) & (ncap - 1))
				;
			nt[i] = r->tids[k];
		}
		free(r->tids);
		r->tids = nt;
		r->tids_cap = ncap;
	}
	/* tid 0 marks an empty entry: store a (corrupt) tid 0 as INT32_MIN. */
	if (!tid)
		tid = INT32_MIN;
	for (i = tid_hash(tid, r->tids_cap); r->tids[i].tid; i = (i + 1) & (r->tids_cap - 1)) {
		if (r->tids[i].tid == tid) {
			*out = r->tids[i].thread;
			return 0;
		}
	}
	ret = new_thread(r, tid == INT32_MIN ? 0 : tid, out);
	if (ret)
		return ret;
	r->tids[i].tid = tid;
	r->tids[i].thread = *out;
	r->ntids++;
	return 0;
}

/*
 * The thread index of sub-stack @stack of @tid (a coroutine's stack, a
 * handler's sigaltstack), made on first use.  Each format wants one
 * nested stream of calls per thread, and the calls of different stacks of
 * one thread do not nest in each other: so each sub-stack but 0 is a
 * thread of its own in the model, named after its thread and the stack,
 * ("tid T stack N" when the thread has no name), with a made-up tid
 * above any real one (TREAD_X_STACK_TID).
 */
static int thread_of_stack(struct reader *r, int32_t tid, uint64_t stack, uint32_t *out)
{
	struct xtrace_owned *o = r->o;
	struct stack_entry *e;
	struct tread_xthread *t;
	uint32_t owner;
	char name[320];
	int ret;

	if (stack == 0)
		return thread_of(r, tid, out);
	for (size_t k = 0; k < r->nstacks; k++) {
		size_t i = (r->last_stack + k) % r->nstacks;

		if (r->stacks[i].tid == tid && r->stacks[i].stack == stack) {
			r->last_stack = i;
			*out = r->stacks[i].thread;
			return 0;
		}
	}
	ret = thread_of(r, tid, &owner);
	if (ret)
		return ret;
	if (o->stack_tids == INT32_MAX - TREAD_X_STACK_TID)
		return thread_of(r, tid, out);	/* no tid left: its thread's */
	if (o->x.threads[owner].name[0])
		snprintf(name, sizeof(name), "%s stack %" PRIu64, o->x.threads[owner].name, stack);
	else
		snprintf(name, sizeof(name), "tid %" PRId32 " stack %" PRIu64, tid, stack);
	ret = new_thread(r, tid, out);
	if (!ret && grow((void **)&r->stacks, &r->stacks_cap, r->nstacks + 1, sizeof(*r->stacks)))
		ret = -ENOMEM;
	if (ret)
		return ret;
	t = &o->x.threads[*out];
	t->tid = TREAD_X_STACK_TID + o->stack_tids++;
	t->name = keep(o, name);
	if (!t->name)
		return -ENOMEM;
	e = &r->stacks[r->nstacks];
	*e = (struct stack_entry){ .tid = tid, .stack = stack, .thread = *out };
	r->last_stack = r->nstacks++;
	return 0;
}

static int new_func(struct reader *r, uint32_t site, uint32_t *out)
{
	struct xtrace_owned *o = r->o;
	const struct tread_ring *ring = r->in->ring;
	struct tread_site_detail d;
	struct tread_module m;
	struct tread_xfunc *f;
	struct tat_site s;

	if (grow((void **)&o->x.funcs, &o->funcs_cap, o->x.nfuncs + 1,
		 sizeof(*o->x.funcs)))
		return -ENOMEM;
	f = &o->x.funcs[o->x.nfuncs];
	memset(f, 0, sizeof(*f));
	tread_site_detail(r->in->names, site, &d);
	f->name = keep(o, d.name);
	f->file = d.file ? keep(o, d.file) : NULL;
	f->line = d.file ? d.line : 0;
	f->proc = r->proc;
	f->module = "";
	if (tread_ring_site(ring, site, &s) == 0) {
		f->addr = s.addr;
		if (tread_ring_module(ring, s.module, &m) == 0) {
			f->module = keep(o, m.path);
			f->module_base = r->in->module_base[s.module];
		}
	}
	if (!f->name || !f->module || (d.file && !f->file))
		return -ENOMEM;
	*out = (uint32_t)o->x.nfuncs++;
	return 0;
}

/* The function index of @site in this input, made on first use. */
static int func_of(struct reader *r, uint32_t site, uint32_t *out)
{
	int ret;

	if (site < r->in->ring->site_cap) {
		if (r->func_of_site[site]) {
			*out = r->func_of_site[site] - 1;
			return 0;
		}
		ret = new_func(r, site, out);
		if (!ret)
			r->func_of_site[site] = *out + 1;
		return ret;
	}
	/* Only a corrupt event names a site past the table: rare, search. */
	for (size_t i = 0; i < r->nbeyond; i++) {
		if (r->beyond[i].site == site) {
			*out = r->beyond[i].func;
			return 0;
		}
	}
	ret = new_func(r, site, out);
	if (ret)
		return ret;
	{
		size_t cap = r->nbeyond;	/* exact-size growth: rare */
		struct site_func *nb = reallocarray(r->beyond, cap + 1, sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		r->beyond = nb;
		nb[r->nbeyond].site = site;
		nb[r->nbeyond].func = *out;
		r->nbeyond++;
	}
	return 0;
}

/* ------------------------------------------------------------- events */

static int emit(struct reader *r, const struct tread_xevent *e)
{
	if (grow((void **)&r->ev, &r->ev_cap, r->nev + 1, sizeof(*r->ev)))
		return -ENOMEM;
	r->ev[r->nev++] = *e;
	return 0;
}

/* A call opened by the pairing (calls.h): its ENTRY. */
static int entered(void *arg, const struct tread_event *ev, uint32_t depth, void *data)
{
	struct reader *r = arg;
	struct frame *f = data;
	struct tread_xevent e = { .real_ns = r->real, .kind = TREAD_X_ENTRY,
				  .early = ev->early ? 1 : 0, .depth = depth };
	int ret = thread_of_stack(r, ev->tid, ev->stack, &e.thread);

	if (!ret)
		ret = func_of(r, ev->site, &e.func);
	if (ret)
		return ret;
	*f = (struct frame){ .func = e.func, .thread = e.thread, .early = e.early,
			     .entry = r->nev };
	return emit(r, &e);
}

/*
 * A call closed by the pairing: its EXIT, made up (synthetic) at the time
 * of the event that ended it when its own exit was not read.
 */
static int closed(void *arg, const struct tread_call *call)
{
	struct reader *r = arg;
	const struct frame *f = call->data;
	struct tread_xevent e = {
		.real_ns = r->real, .thread = f->thread, .func = f->func,
		.kind = TREAD_X_EXIT, .depth = call->depth, .early = f->early,
	};
	int ret;

	if (!call->completed) {
		e.synthetic = 1;
		ret = emit(r, &e);
		if (!ret)
			r->stats->synthetic_exits++;
		return ret;
	}
	e.unwound = call->by->unwound ? 1 : 0;
	e.cut = call->by->cut ? 1 : 0;
	e.ret = f->ret;
	e.ret_bytes = f->ret_bytes;
	e.ret_nbytes = f->ret_nbytes;
	return emit(r, &e);
}

static int unmatched(void *arg, const struct tread_event *ev, uint32_t depth)
{
	struct reader *r = arg;

	(void)ev;
	(void)depth;
	r->stats->unmatched_exits++;
	return 0;
}

/* A call of a <tattach/mark.h> hook: its text and value on its ENTRY. */
static int on_mark(struct reader *r, struct tread_xevent *e, uint64_t values)
{
	enum tread_mark_kind kind = tread_mark_kind_of(r->o->x.funcs[e->func].name);
	char text[512];

	if (kind == TREAD_MARK_NONE ||
	    tread_mark_read(values, kind, text, sizeof(text), &e->value))
		return 0;
	e->text = keep(r->o, text);
	if (!e->text)
		return -ENOMEM;
	e->mark = (uint8_t)kind;
	return 0;
}

/*
 * tattach -A/-R: arguments go on the ENTRY of the innermost open call of
 * their function (their ENTRY came just before), a return value on its
 * EXIT, which comes next.
 */
static int on_values(struct reader *r, const struct tread_event *ev)
{
	struct tread_open_call *o;
	struct frame *f;
	const char *text;
	const uint8_t *raw, *bytes = NULL;
	size_t nraw = 0;
	char buf[1024];
	int ret = tread_calls_innermost(r->calls, ev, &o);

	if (ret)
		return ret;
	if (!o)
		return 0;	/* its call was not kept (filtered, too deep) */
	f = tread_open_call_data(o);
	if (!r->params && tread_site_params_open(r->in->ring, &r->params))
		return -ENOMEM;
	tread_values_format(ev->values, tread_site_params_get(r->params, ev->site),
			    ev->is_return, buf, sizeof(buf));
	text = keep(r->o, buf);
	if (!text)
		return -ENOMEM;
	raw = tread_values_get(ev->values, &nraw);
	if (raw && nraw <= UINT32_MAX && !(bytes = keep_bytes(r->o, raw, nraw)))
		return -ENOMEM;
	if (ev->is_return) {
		f->ret = text;
		f->ret_bytes = bytes;
		f->ret_nbytes = bytes ? (uint32_t)nraw : 0;
		return 0;
	}
	r->ev[f->entry].args = text;
	r->ev[f->entry].arg_bytes = bytes;
	r->ev[f->entry].arg_nbytes = bytes ? (uint32_t)nraw : 0;
	tread_values_first(ev->values, &r->ev[f->entry].first_arg, &(unsigned){ 0 });
	return on_mark(r, &r->ev[f->entry], ev->values);
}

/* Its LOST event, then the calls the gap ends (calls.h). */
static int on_lost(struct reader *r, const struct tread_event *ev)
{
	struct tread_xevent e = { .real_ns = r->real, .kind = TREAD_X_LOST };
	int ret;

	e.count = tread_event_missing(ev);
	if (!e.count)
		return 0;	/* only a correction of earlier counts */
	ret = thread_of(r, ev->tid, &e.thread);
	if (ret)
		return ret;
	r->stats->lost = __builtin_add_overflow(r->stats->lost, e.count,
						&r->stats->lost) ? UINT64_MAX
								 : r->stats->lost;
	ret = emit(r, &e);
	return ret ? ret : tread_calls_feed(r->calls, ev);
}

static int on_event(struct reader *r, const struct tread_event *ev)
{
	uint64_t real = r->last_real;

	if (!(ev->kind == TREAD_EV_LOST && ev->undated)) {
		real = tread_ring_tsc_to_real_ns(&r->clock, ev->tsc);
		if (real > r->last_real)
			r->last_real = real;
	}
	r->real = real;
	if (ev->kind == TREAD_EV_TID)
		/* The slot has a new owner: the old one's calls are over. */
		return tread_calls_feed(r->calls, ev);
	if (r->tid_filter && ev->tid != r->tid_filter)
		return 0;
	switch (ev->kind) {
	case TREAD_EV_ENTRY:
	case TREAD_EV_EXIT:
	case TREAD_EV_DEPTH:	/* the writer had fewer calls open */
		return tread_calls_feed(r->calls, ev);
	case TREAD_EV_LOST:
		return on_lost(r, ev);
	case TREAD_EV_VALUES:
		return on_values(r, ev);
	}
	return 0;
}

/* -------------------------------------------------------------- inputs */

static int add_proc(struct xtrace_owned *o, const struct tread_input *in,
		    const struct tread_ring *clock)
{
	const struct tat_ring_header *h = &in->ring->hdr;
	struct tread_xproc *p = &o->x.procs[o->x.nprocs];

	p->pid = h->pid;
	p->host = keep(o, in->host);
	p->exe = keep(o, in->exe);
	p->comm = keep(o, in->comm);
	p->image = in->image;
	p->tsc_hz = h->tsc_hz;
	/* the pair that dated the events (same_clock) */
	p->calib_mono_ns = clock->hdr.calib_mono_ns;
	p->calib_real_ns = clock->hdr.calib_real_ns;
	if (!p->host || !p->exe || !p->comm)
		return -ENOMEM;
	o->x.nprocs++;
	return 0;
}

static void reader_free(struct reader *r)
{
	tread_calls_close(r->calls);
	r->calls = NULL;
	free(r->func_of_site);
	free(r->beyond);
	free(r->tids);
	free(r->stacks);
	r->stacks = NULL;
	r->nstacks = r->stacks_cap = 0;
	tread_site_params_close(r->params);
	r->params = NULL;
}

/* Read all of @in into r->ev (which the caller frees). */
static int read_input(struct reader *r)
{
	const struct tread_ring *ring = r->in->ring;
	struct tread_call_ops ops = {
		.entered = entered, .closed = closed, .unmatched = unmatched, .arg = r,
		.data_size = sizeof(struct frame), .by_stack = true,
	};
	struct tread_trace *t = NULL;
	struct tread_filter *f = NULL;
	struct tread_event ev;
	int ret;

	r->func_of_site = calloc(ring->site_cap ? ring->site_cap : 1,
				 sizeof(*r->func_of_site));
	if (!r->func_of_site || tread_calls_open(ring, &ops, &r->calls))
		return -ENOMEM;
	ret = add_proc(r->o, r->in, &r->clock);
	if (!ret)
		ret = tread_trace_open(ring, &t);
	if (!ret)
		ret = tread_trace_refresh(t, true, tread_input_writer_gone(r->in));
	/* the patterns were checked with the options; NULL: no filter */
	if (!ret)
		ret = tread_filter_open(r->filter, t, r->in->names, &f);
	tread_filter_begin_round(f, true);
	while (!ret && tread_filter_next(f, t, &ev) == 1)
		ret = on_event(r, &ev);
	if (!ret && tread_filter_failed(f))
		ret = -ENOMEM;
	/* calls still open at the end close at the input's last event */
	r->real = r->last_real;
	for (uint32_t i = 0; !ret && i < ring->hdr.max_threads; i++)
		ret = tread_calls_settle(r->calls, i, NULL, 0, tread_calls_latest(r->calls));
	r->stats->too_deep += tread_calls_too_deep(r->calls);
	tread_filter_close(f);
	tread_trace_close(t);
	return ret;
}

/* How far two calibrations of one clock may disagree and still be the
 * same clock (of one boot of one machine). */
#define SAME_CLOCK_SLACK_NS 10000000ll

/*
 * Do @a and @b count the same clock: the same machine's TSC (or its
 * CLOCK_MONOTONIC), since the same boot?  Then one conversion serves
 * both and their events order exactly; each one's own calibration would
 * put them up to microseconds apart (the TSC rate is measured at each
 * attach, and a rate error grows with the time since).
 */
static bool same_clock(const struct tread_input *a, const struct tread_input *b)
{
	const struct tat_ring_header *x = &a->ring->hdr, *y = &b->ring->hdr;
	int64_t at, diff;

	if (x->clock != y->clock || !a->host[0] || strcmp(a->host, b->host))
		return false;
	/* b's calibration instant, dated with a's: is it what b read? */
	at = tread_ring_clock_ns(a->ring, y->calib_tsc, TREAD_CLOCK_REALTIME);
	diff = at - (int64_t)y->calib_real_ns;
	return diff > -SAME_CLOCK_SLACK_NS && diff < SAME_CLOCK_SLACK_NS;
}

/*
 * Same pid and start time on the same host: the same process, and the
 * same program of it (a program it ran before an exec has a kept ring of
 * its own, told apart by its image number).
 */
static bool same_process(const struct tread_input *a, const struct tread_input *b)
{
	const struct tat_ring_header *x = &a->ring->hdr, *y = &b->ring->hdr;

	return x->pid == y->pid && x->start_time == y->start_time &&
	       a->image == b->image && strcmp(a->host, b->host) == 0;
}

/*
 * Merge the inputs' event lists on real_ns; each list keeps its order
 * (a thread's events may go back in time: a signal handler's come before
 * those of the code it interrupted), ties go to the earlier input.
 */
static int merge(struct xtrace_owned *o, struct reader *r, size_t n)
{
	size_t total = 0, *at;
	struct tread_xevent *out;

	if (n == 1) {
		o->x.events = r[0].ev;
		o->x.nevents = r[0].nev;
		r[0].ev = NULL;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		total += r[i].nev;
	out = malloc((total ? total : 1) * sizeof(*out));
	at = calloc(n, sizeof(*at));
	if (!out || !at) {
		free(out);
		free(at);
		return -ENOMEM;
	}
	for (size_t k = 0; k < total; k++) {
		size_t best = n;

		for (size_t i = 0; i < n; i++)
			if (at[i] < r[i].nev &&
			    (best == n || r[i].ev[at[i]].real_ns < r[best].ev[at[best]].real_ns))
				best = i;
		out[k] = r[best].ev[at[best]++];
	}
	free(at);
	o->x.events = out;
	o->x.nevents = total;
	return 0;
}

int tread_collect(const struct tread_collect_config *c, struct tread_xtrace **out,
		  struct tread_collect_stats *stats, char *err, size_t errlen)
{
	struct tread_input_config icfg = { .warn = c->warn, .warn_arg = c->warn_arg,
					   .pid = c->pid };
	struct tread_collect_stats local;
	struct xtrace_owned *o;
	struct reader *r;
	int ret = 0;

	*out = NULL;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (!c->ninputs)
		return tread_errf(err, errlen, -EINVAL, "no trace to read");
	o = calloc(1, sizeof(*o));
	r = calloc(c->ninputs, sizeof(*r));
	if (o)
		o->x.procs = calloc(c->ninputs, sizeof(*o->x.procs));
	if (!o || !r || !o->x.procs) {
		ret = tread_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	/* Open all first: a duplicate is refused before any reading. */
	for (size_t i = 0; i < c->ninputs; i++) {
		r[i].o = o;
		r[i].proc = (uint32_t)i;
		r[i].tid_filter = c->tid;
		r[i].filter = c->filter;
		r[i].stats = stats;
		ret = tread_input_open(c->inputs[i], &icfg, &r[i].in, err, errlen);
		if (ret)
			goto out;
		for (size_t j = 0; j < i; j++) {
			if (same_process(r[j].in, r[i].in)) {
				ret = tread_errf(err, errlen, -EINVAL, "%s and %s are traces of "
					   "the same process (pid %d): give each process "
					   "once", c->inputs[j], c->inputs[i],
					   (int)r[i].in->ring->hdr.pid);
				goto out;
			}
		}
	}
	for (size_t i = 0; i < c->ninputs; i++) {
		r[i].clock = *r[i].in->ring;
		for (size_t j = 0; j < i; j++) {
			if (same_clock(r[j].in, r[i].in)) {
				r[i].clock = r[j].clock;
				break;
			}
		}
	}
	for (size_t i = 0; i < c->ninputs; i++) {
		ret = read_input(&r[i]);
		if (ret) {
			ret = tread_errf(err, errlen, ret, "out of memory");
			goto out;
		}
		/* Names were copied: the debug information can go now. */
		reader_free(&r[i]);
		tread_input_close(r[i].in);
		r[i].in = NULL;
	}
	ret = merge(o, r, c->ninputs);
	if (ret)
		ret = tread_errf(err, errlen, ret, "out of memory");
out:
	for (size_t i = 0; r && i < c->ninputs; i++) {
		if (r[i].in) {
			reader_free(&r[i]);
			tread_input_close(r[i].in);
		}
		free(r[i].ev);
	}
	free(r);
	if (ret) {
		tread_xtrace_free(o ? &o->x : NULL);
		return ret;
	}
	*out = &o->x;
	return 0;
}
