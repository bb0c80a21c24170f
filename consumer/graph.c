// SPDX-License-Identifier: MIT
/*
 * Function-graph output.  The only state is a stack of open calls per
 * thread slot: it gives the indentation and the start time of each exit's
 * call, and tells a normal exit from one whose entry we never saw.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/graph.h"
#include "consumer/summary.h"

struct frame {
	uint32_t site;
	uint64_t tsc;
};

struct thread_stack {
	struct frame *frames;
	uint32_t depth;
	uint32_t cap;
};

struct tread_graph {
	const struct tread_ring *ring;
	struct tread_site_names *names;
	FILE *out;
	int32_t tid;
	struct thread_stack *stacks;	/* by slot */
	uint64_t too_deep;		/* entries past TREAD_GRAPH_MAX_DEPTH */
};

#define NO_DURATION (-1.0)

int tread_graph_open(const struct tread_ring *ring, struct tread_site_names *names,
		     FILE *out, int32_t tid, struct tread_graph **out_g)
{
	struct tread_graph *g = calloc(1, sizeof(*g));

	*out_g = NULL;
	if (!g)
		return -ENOMEM;
	g->stacks = calloc(ring->hdr.max_threads, sizeof(*g->stacks));
	if (!g->stacks) {
		free(g);
		return -ENOMEM;
	}
	g->ring = ring;
	g->names = names;
	g->out = out;
	g->tid = tid;
	*out_g = g;
	return 0;
}

void tread_graph_close(struct tread_graph *g)
{
	if (!g)
		return;
	for (uint32_t i = 0; i < g->ring->hdr.max_threads; i++)
		free(g->stacks[i].frames);
	free(g->stacks);
	free(g);
}

static int write_error(void)
{
	return errno ? -errno : -EIO;
}

/* One output line: duration column, tid, indentation, then the text. */
static int line(struct tread_graph *g, double us, int32_t tid, uint32_t depth,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int line(struct tread_graph *g, double us, int32_t tid, uint32_t depth,
		const char *fmt, ...)
{
	va_list ap;
	int ret;

	errno = 0;
	if (us >= 0)
		ret = fprintf(g->out, "%10.3f us [%6d] | %*s", us, tid,
			      (int)(2 * depth), "");
	else
		ret = fprintf(g->out, "%14s[%6d] | %*s", "", tid,
			      (int)(2 * depth), "");
	if (ret < 0)
		return write_error();
	va_start(ap, fmt);
	ret = vfprintf(g->out, fmt, ap);
	va_end(ap);
	if (ret < 0 || fputc('\n', g->out) == EOF)
		return write_error();
	return 0;
}

static double duration_us(struct tread_graph *g, uint64_t from, uint64_t to)
{
	/* A clock that went backwards (corrupt data) shows as 0, not as -ve. */
	return tread_ring_ticks_to_us(g->ring, to > from ? to - from : 0);
}

static const char *name_of(struct tread_graph *g, uint32_t site)
{
	return tread_site_name(g->names, site);
}

static const char *unwound_note(const struct tread_event *ev)
{
	return ev->unwound ? " /* unwound */" : "";
}

static int push(struct tread_graph *g, struct thread_stack *st,
		const struct tread_event *ev)
{
	if (st->depth == TREAD_GRAPH_MAX_DEPTH) {
		g->too_deep++;
		return 0;
	}
	if (st->depth == st->cap) {
		uint32_t cap = st->cap ? st->cap * 2 : 32;
		struct frame *f = reallocarray(st->frames, cap, sizeof(*f));

		if (!f)
			return -ENOMEM;
		st->frames = f;
		st->cap = cap;
	}
	st->frames[st->depth].site = ev->site;
	st->frames[st->depth].tsc = ev->tsc;
	st->depth++;
	return 0;
}

static int print_entry(struct tread_graph *g, struct tread_trace *t,
		    const struct tread_event *ev)
{
	struct thread_stack *st = &g->stacks[ev->slot];
	const struct tread_event *next = tread_trace_peek_same(t);
	const char *name = name_of(g, ev->site);
	int ret;

	/* An unwound exit keeps two lines, so its note ends a "}" line. */
	if (next && next->kind == TREAD_EV_EXIT && next->site == ev->site &&
	    !next->unwound) {
		ret = line(g, duration_us(g, ev->tsc, next->tsc), ev->tid,
			   st->depth, "%s();", name);
		tread_trace_pop_same(t);
		return ret;
	}
	ret = line(g, NO_DURATION, ev->tid, st->depth, "%s() {", name);
	if (ret)
		return ret;
	return push(g, st, ev);
}

static int print_exit(struct tread_graph *g, const struct tread_event *ev)
{
	struct thread_stack *st = &g->stacks[ev->slot];
	const char *name = name_of(g, ev->site);
	int64_t k;
	int ret;

	for (k = (int64_t)st->depth - 1; k >= 0; k--)
		if (st->frames[k].site == ev->site)
			break;
	if (k < 0)
		return line(g, NO_DURATION, ev->tid, st->depth,
			    "} /* %s (entry not traced) */%s", name,
			    unwound_note(ev));

	/* Calls above the match lost their exits: close them first. */
	while (st->depth > k + 1) {
		st->depth--;
		ret = line(g, NO_DURATION, ev->tid, st->depth,
			   "} /* %s (exit lost) */",
			   name_of(g, st->frames[st->depth].site));
		if (ret)
			return ret;
	}
	st->depth--;
	return line(g, duration_us(g, st->frames[st->depth].tsc, ev->tsc),
		    ev->tid, st->depth, "} /* %s */%s", name, unwound_note(ev));
}

int tread_graph_header(struct tread_graph *g)
{
	errno = 0;
	if (fputs("# DURATION     TID     FUNCTION\n", g->out) == EOF)
		return write_error();
	return 0;
}

int tread_graph_round(struct tread_graph *g, struct tread_trace *t)
{
	struct tread_event ev;
	int ret = 0;

	while (!ret && tread_trace_next(t, &ev) == 1) {
		if (ev.kind == TREAD_EV_TID) {
			/* The slot has a new owner: the old one's calls are over. */
			g->stacks[ev.slot].depth = 0;
			continue;
		}
		if (g->tid && ev.tid != g->tid)
			continue;
		switch (ev.kind) {
		case TREAD_EV_ENTRY:
			ret = print_entry(g, t, &ev);
			break;
		case TREAD_EV_EXIT:
			ret = print_exit(g, &ev);
			break;
		case TREAD_EV_LOST:
			ret = line(g, NO_DURATION, ev.tid, 0,
				   "/* lost %" PRIu64 " events */", ev.count);
			break;
		}
	}
	return ret;
}

int tread_graph_summary(struct tread_graph *g, const struct tread_trace *t)
{
	int ret = tread_print_losses(g->out, t, g->tid);

	if (ret || !g->too_deep)
		return ret;
	errno = 0;
	if (fprintf(g->out, "# %" PRIu64 " calls nested deeper than %u were not "
		    "indented\n", g->too_deep, TREAD_GRAPH_MAX_DEPTH) < 0)
		return write_error();
	return 0;
}
