// SPDX-License-Identifier: MIT
/*
 * Printing the merged call graph from the export model.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer/export/merged_graph.h"

/* As in tread's own graph: a call running when tracing began, whose
 * duration counts from the --enable. */
#define EARLY_NOTE " /* entered before tracing */"

/* "PID" or "PID:N" (pid_label()), with room for any int and unsigned. */
#define PID_LABEL_MAX 24

struct printer {
	const struct tread_xtrace *x;
	FILE *out;
	enum tread_time_mode time;
	uint64_t first_ns, prev_ns;
	bool have_first;
	uint64_t **entry_ns;	/* [thread][depth]: when the open calls began */
	uint32_t *cap;		/* [thread] */
	char (*pid_label)[PID_LABEL_MAX];	/* [proc]: its PID column */
	int pid_width;		/* of the PID column: 6, or the widest label */
};

static int time_width(enum tread_time_mode mode)
{
	switch (mode) {
	case TREAD_TIME_ABS:	return 20;
	case TREAD_TIME_TOD:
	case TREAD_TIME_MONO:	return 18;
	case TREAD_TIME_REL:
	case TREAD_TIME_DELTA:	return 14;
	default:		return 0;
	}
}

static void put_seconds(FILE *f, int64_t ns, int width)
{
	uint64_t mag = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
	char sec[32];

	snprintf(sec, sizeof(sec), "%s%" PRIu64, ns < 0 ? "-" : "", mag / 1000000000u);
	fprintf(f, "%*s.%09" PRIu64 " ", width - 10, sec, mag % 1000000000u);
}

static void put_time(struct printer *p, const struct tread_xevent *e)
{
	const struct tread_xproc *pr = &p->x->procs[p->x->threads[e->thread].proc];
	int w = time_width(p->time);
	int64_t ns;

	switch (p->time) {
	case TREAD_TIME_ABS:
		put_seconds(p->out, (int64_t)e->real_ns, w);
		break;
	case TREAD_TIME_TOD: {
		time_t t = (time_t)(e->real_ns / 1000000000u);
		struct tm tm;

		if (localtime_r(&t, &tm))
			fprintf(p->out, "%02d:%02d:%02d.%09" PRIu64 " ", tm.tm_hour,
				tm.tm_min, tm.tm_sec, e->real_ns % 1000000000u);
		else
			fprintf(p->out, "??:??:??.%09" PRIu64 " ", e->real_ns % 1000000000u);
		break;
	}
	case TREAD_TIME_MONO:
		/* this process's CLOCK_MONOTONIC: its calibration pairs them */
		ns = (int64_t)(e->real_ns - pr->calib_real_ns + pr->calib_mono_ns);
		put_seconds(p->out, ns, w);
		break;
	case TREAD_TIME_REL:
	case TREAD_TIME_DELTA:
		if (!p->have_first) {
			p->first_ns = p->prev_ns = e->real_ns;
			p->have_first = true;
		}
		ns = (int64_t)(e->real_ns - (p->time == TREAD_TIME_REL ? p->first_ns
								  : p->prev_ns));
		p->prev_ns = e->real_ns;
		put_seconds(p->out, ns, w);
		break;
	default:
		break;
	}
}

static void begin_line(struct printer *p, const struct tread_xevent *e, int64_t dur_ns,
		       uint32_t depth)
{
	const struct tread_xthread *th = &p->x->threads[e->thread];

	if (p->time)
		put_time(p, e);
	if (dur_ns >= 0)
		fprintf(p->out, "%10.3f us ", dur_ns / 1000.0);
	else
		fputs("              ", p->out);
	fprintf(p->out, "%*s [%6d] | %*s", p->pid_width, p->pid_label[th->proc], th->tid,
		(int)(2 * depth), "");
}

/*
 * The PID column of a process: its pid, and for a program it ran before
 * an exec (a kept ring) ":N" after it, N its image number, so that its
 * lines are told from those of the pid's current program.
 */
static void pid_label(const struct tread_xproc *pr, char *buf, size_t len)
{
	if (pr->image)
		snprintf(buf, len, "%d:%u", (int)pr->pid, pr->image);
	else
		snprintf(buf, len, "%d", (int)pr->pid);
}

/* Remember when the call at @depth of @thread began. */
static int note_entry(struct printer *p, uint32_t thread, uint32_t depth, uint64_t ns)
{
	if (depth >= p->cap[thread]) {
		uint32_t cap = p->cap[thread] ? p->cap[thread] : 32;
		uint64_t *v;

		while (cap <= depth)
			cap *= 2;
		v = reallocarray(p->entry_ns[thread], cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->entry_ns[thread] = v;
		p->cap[thread] = cap;
	}
	p->entry_ns[thread][depth] = ns;
	return 0;
}

static int64_t since_entry(const struct printer *p, const struct tread_xevent *e)
{
	uint64_t start = e->depth < p->cap[e->thread] ? p->entry_ns[e->thread][e->depth]
						       : e->real_ns;

	return e->real_ns > start ? (int64_t)(e->real_ns - start) : 0;
}

static void put_header(struct printer *p)
{
	for (uint32_t i = 0; i < p->x->nprocs; i++) {
		const struct tread_xproc *pr = &p->x->procs[i];

		fprintf(p->out, "# process %s (%s)", p->pid_label[i],
			pr->comm[0] ? pr->comm : "?");
		if (pr->host[0])
			fprintf(p->out, " on %s", pr->host);
		fprintf(p->out, "%s%s", pr->exe[0] ? ": " : "", pr->exe);
		if (pr->image)
			fprintf(p->out, " (pid %d ran it before an exec: image %u)", (int)pr->pid,
				pr->image);
		fputc('\n', p->out);
	}
	if (p->time)
		fprintf(p->out, "# %-*s ", time_width(p->time) - 1, "TIMESTAMP");
	fprintf(p->out, "%s DURATION  %*s     TID     FUNCTION\n", p->time ? "" : "#",
		p->pid_width + 3, "PID");
}

/* For each event, the index of the next event of its thread (or n). */
static size_t *next_of_thread(const struct tread_xtrace *x)
{
	size_t *next = malloc((x->nevents ? x->nevents : 1) * sizeof(*next));
	size_t *last = malloc((x->nthreads ? x->nthreads : 1) * sizeof(*last));

	if (!next || !last) {
		free(next);
		free(last);
		return NULL;
	}
	for (size_t t = 0; t < x->nthreads; t++)
		last[t] = x->nevents;
	for (size_t i = x->nevents; i-- > 0;) {
		next[i] = last[x->events[i].thread];
		last[x->events[i].thread] = i;
	}
	free(last);
	return next;
}

static int print_events(struct printer *p, const size_t *next, bool *done)
{
	const struct tread_xtrace *x = p->x;
	int ret;

	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];
		const char *name = x->funcs[e->func].name;

		if (done[i])
			continue;
		switch (e->kind) {
		case TREAD_X_ENTRY: {
			const struct tread_xevent *n = next[i] < x->nevents ?
						       &x->events[next[i]] : NULL;

			/* An adopted call keeps its "{" line, which says so. */
			if (n && n->kind == TREAD_X_EXIT && !n->synthetic && !n->unwound &&
			    !n->cut && !e->early) {
				begin_line(p, e, (int64_t)(n->real_ns > e->real_ns ?
					   n->real_ns - e->real_ns : 0), e->depth);
				fprintf(p->out, "%s();\n", name);
				done[next[i]] = true;
				break;
			}
			ret = note_entry(p, e->thread, e->depth, e->real_ns);
			if (ret)
				return ret;
			begin_line(p, e, -1, e->depth);
			fprintf(p->out, "%s() {%s\n", name, e->early ? EARLY_NOTE : "");
			break;
		}
		case TREAD_X_EXIT:
			begin_line(p, e, e->synthetic ? -1 : since_entry(p, e), e->depth);
			fprintf(p->out, "} /* %s%s */%s%s\n", name,
				e->synthetic ? " (exit not traced)" : "",
				e->cut ? " /* still running at --disable */" :
				e->unwound ? " /* unwound */" : "",
				e->early ? EARLY_NOTE : "");
			break;
		case TREAD_X_LOST:
			begin_line(p, e, -1, 0);
			fprintf(p->out, "/* lost %" PRIu64 " events */\n", e->count);
			break;
		}
	}
	return 0;
}

int tread_merged_graph_print(const struct tread_xtrace *x,
			     const struct tread_collect_stats *stats,
			     enum tread_time_mode time, FILE *out)
{
	struct printer p = { .x = x, .out = out, .time = time };
	size_t *next = next_of_thread(x);
	bool *done = calloc(x->nevents ? x->nevents : 1, sizeof(*done));
	int ret = -ENOMEM;

	p.entry_ns = calloc(x->nthreads ? x->nthreads : 1, sizeof(*p.entry_ns));
	p.cap = calloc(x->nthreads ? x->nthreads : 1, sizeof(*p.cap));
	p.pid_label = calloc(x->nprocs ? x->nprocs : 1, sizeof(*p.pid_label));
	if (!next || !done || !p.entry_ns || !p.cap || !p.pid_label)
		goto out;
	p.pid_width = 6;
	for (size_t i = 0; i < x->nprocs; i++) {
		pid_label(&x->procs[i], p.pid_label[i], sizeof(p.pid_label[i]));
		if ((int)strlen(p.pid_label[i]) > p.pid_width)
			p.pid_width = (int)strlen(p.pid_label[i]);
	}
	errno = 0;
	put_header(&p);
	ret = print_events(&p, next, done);
	if (!ret && stats && stats->unmatched_exits)
		fprintf(out, "# %" PRIu64 " exits whose entry was not traced were left "
			"out\n", stats->unmatched_exits);
	if (!ret && stats && stats->too_deep)
		fprintf(out, "# %" PRIu64 " calls nested deeper than %u were left out\n",
			stats->too_deep, TREAD_COLLECT_MAX_DEPTH);
	if (!ret && (fflush(out) == EOF || ferror(out)))
		ret = errno ? -errno : -EIO;
out:
	for (size_t t = 0; p.entry_ns && t < x->nthreads; t++)
		free(p.entry_ns[t]);
	free(p.entry_ns);
	free(p.cap);
	free(p.pid_label);
	free(next);
	free(done);
	return ret;
}
