// SPDX-License-Identifier: MIT
/*
 * --html FILE: the trace as one self-contained web page.
 *
 * The page is the viewer (consumer/export/viewer/, compiled into tread as
 * one string by the build) with the trace put in at its data marker, as
 * two inert <script> blocks the viewer reads at load:
 *
 *   tattach-meta   JSON: processes, threads, functions, the column list
 *   tattach-calls  base64 of unsigned LEB128 varints: per thread, one
 *                  column after the other, one value per call
 *
 * Calls are listed per thread in entry order (so by start time, a parent
 * before its children).  Columns: "start" (ns since the previous call's
 * start in that thread, the first since the trace's first event), "dur"
 * (ns), "func" (index into funcs), "depth" (calls open in the thread
 * around it) and, only when some call needs it, "flags" (1: its end was
 * not seen, 2: it ended by longjmp, 4: it was running when tracing
 * began, adopted at --enable: its start is the enable), and only when some
 * call has them, "args" and "ret": the arguments and return value tattach
 * -A/-R recorded, as 1 + an index into the meta's "strings" (0: none;
 * each distinct text once).  A column the viewer does not know is
 * skipped, so the format grows by columns without breaking older pages.
 * Marks of <tattach/mark.h> are in the meta: per thread "marks" [time,
 * kind, 1 + string], and "counters" per process and name, [time, value]
 * points; "flows", one thread letting another go on (interactions.h:
 * [from thread, at, depth, to thread, at, depth, kind, object, waited])
 * (docs/viewer.md).  docs/viewer.md
 * describes the format; for the million calls of tests/bench/html_gen.c
 * the varints take 5.1 bytes a call (6.8 in base64), where JSON arrays of
 * the same numbers take 12.4 (17.6 with absolute start times).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/atomic_file.h"
#include "consumer/export/html.h"
#include "consumer/export/interactions.h"
#include "consumer/decode/marks.h"
#include "consumer/export/viewer_page.h"	/* generated: tread_viewer_page */

#define DATA_MARKER "<!--@TATTACH_TRACE@-->"

enum {
	CALL_END_NOT_SEEN = 1,	/* closed by the collector, not by an exit */
	CALL_UNWOUND      = 2,	/* its frame was left by longjmp */
	CALL_ENTERED_BEFORE = 4, /* running at --enable: start is the enable */
};

struct call {
	uint64_t start;		/* ns since the trace's first event */
	uint64_t dur;
	uint32_t func;
	uint32_t depth;
	uint8_t  flags;
	uint32_t args;		/* 1 + index into the string table, 0: none */
	uint32_t ret;
};

/* Distinct argument and return value texts, each once (open addressing). */
struct strtab {
	const char **v;		/* in order of first use */
	size_t n, cap;
	uint32_t *slot;		/* 1 + index into v, 0: empty */
	size_t nslots;
};

struct lost_mark {
	uint64_t at;		/* ns since the trace's first event */
	uint64_t count;
};

/* <tattach/mark.h>: a mark or label on a thread, a counter's point. */
struct mark_at {
	uint64_t at;		/* ns since the trace's first event */
	uint32_t kind;		/* enum tread_mark_kind: MARK or LABEL */
	uint32_t text;		/* 1 + index into the string table */
};

struct counter_point {
	uint64_t at;
	int64_t  value;
};

struct counter {
	uint32_t proc;
	uint32_t name;		/* 1 + index into the string table */
	struct counter_point *v;
	size_t n, cap;
};

struct counters {
	struct counter *v;
	size_t n, cap;
};

struct thread_calls {
	struct call *calls;	/* entry order */
	size_t ncalls, cap;
	size_t *open;		/* stack of indices into calls */
	size_t nopen, opencap;
	struct lost_mark *lost;
	size_t nlost, lostcap;
	struct mark_at *marks;
	size_t nmarks, markcap;
	uint32_t max_depth;
	uint64_t last;		/* time of the thread's last event */
};

struct bytes {
	unsigned char *p;
	size_t n, cap;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int put_varint(struct bytes *b, uint64_t v)
{
	if (grow((void **)&b->p, &b->cap, b->n + 10, 1))
		return -ENOMEM;
	while (v >= 0x80) {
		b->p[b->n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b->p[b->n++] = (unsigned char)v;
	return 0;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* 1 + the index of @s in @st, added if new; 0 for NULL or no memory
 * (then the call just shows no values). */
static uint32_t str_intern(struct strtab *st, const char *s)
{
	size_t i;

	if (!s)
		return 0;
	if ((st->n + 1) * 2 > st->nslots) {
		size_t ns = st->nslots ? st->nslots * 2 : 256;
		uint32_t *slot = calloc(ns, sizeof(*slot));

		if (!slot)
			return 0;
		for (size_t k = 0; k < st->n; k++) {
			for (i = str_hash(st->v[k]) & (ns - 1); slot[i]; i = (i + 1) & (ns - 1))
				;
			slot[i] = (uint32_t)k + 1;
		}
		free(st->slot);
		st->slot = slot;
		st->nslots = ns;
	}
	for (i = str_hash(s) & (st->nslots - 1); st->slot[i]; i = (i + 1) & (st->nslots - 1))
		if (!strcmp(st->v[st->slot[i] - 1], s))
			return st->slot[i];
	if (grow((void **)&st->v, &st->cap, st->n + 1, sizeof(*st->v)))
		return 0;
	st->v[st->n++] = s;
	st->slot[i] = (uint32_t)st->n;
	return (uint32_t)st->n;
}

static void free_threads(struct thread_calls *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++) {
		free(t[i].calls);
		free(t[i].open);
		free(t[i].lost);
		free(t[i].marks);
	}
	free(t);
}

/* t->open entry of a mark.h hook call: not a call of the page */
#define NOT_A_CALL SIZE_MAX

static void close_call(struct thread_calls *t, uint64_t at, uint8_t flags)
{
	struct call *c;

	if (t->open[--t->nopen] == NOT_A_CALL)
		return;
	c = &t->calls[t->open[t->nopen]];

	c->dur = at > c->start ? at - c->start : 0;
	c->flags |= flags;
}

/*
 * Replays the events into calls, per thread.  The model promises balanced
 * events; an exit with nothing open is skipped and a call still open at
 * the end is closed at its thread's last event, so a page is drawn even
 * from a model that breaks the promise.
 */
/* A counter's next point: its series is found by process and name. */
static int add_point(struct counters *cs, uint32_t proc, uint32_t name, uint64_t at,
		     int64_t value)
{
	struct counter *c = NULL;

	for (size_t i = 0; i < cs->n && !c; i++)
		if (cs->v[i].proc == proc && cs->v[i].name == name)
			c = &cs->v[i];
	if (!c) {
		if (grow((void **)&cs->v, &cs->cap, cs->n + 1, sizeof(*cs->v)))
			return -ENOMEM;
		c = &cs->v[cs->n++];
		*c = (struct counter){ .proc = proc, .name = name };
	}
	if (grow((void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v)))
		return -ENOMEM;
	c->v[c->n++] = (struct counter_point){ at, value };
	return 0;
}

static void free_counters(struct counters *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->v[i].v);
	free(cs->v);
}

/* A mark.h hook call: a mark of its thread or a counter's point, not a
 * call; its exit is skipped (NOT_A_CALL). */
static int add_mark(const struct tread_xtrace *x, struct thread_calls *t, struct strtab *strs,
		    struct counters *cs, const struct tread_xevent *e, uint64_t at)
{
	uint32_t text = str_intern(strs, e->text);

	if (grow((void **)&t->open, &t->opencap, t->nopen + 1, sizeof(*t->open)))
		return -ENOMEM;
	t->open[t->nopen++] = NOT_A_CALL;
	if (!text)
		return 0;
	if (e->mark == TREAD_MARK_COUNTER)
		return add_point(cs, x->threads[e->thread].proc, text, at, e->value);
	if (grow((void **)&t->marks, &t->markcap, t->nmarks + 1, sizeof(*t->marks)))
		return -ENOMEM;
	t->marks[t->nmarks++] = (struct mark_at){ at, e->mark, text };
	return 0;
}

static int build_calls(const struct tread_xtrace *x, uint64_t t0, struct strtab *strs,
		       struct counters *cs, struct thread_calls **out, char *err, size_t errlen)
{
	struct thread_calls *threads = calloc(x->nthreads ? x->nthreads : 1, sizeof(*threads));

	if (!threads)
		goto nomem;
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];
		uint64_t at = e->real_ns > t0 ? e->real_ns - t0 : 0;
		struct thread_calls *t;
		struct call *c;

		if (e->thread >= x->nthreads || (e->kind != TREAD_X_LOST && e->func >= x->nfuncs)) {
			snprintf(err, errlen, "event %zu names thread %" PRIu32 " or function %" PRIu32
				 " that the trace does not have", i, e->thread, e->func);
			free_threads(threads, x->nthreads);
			return -EINVAL;
		}
		t = &threads[e->thread];
		if (at < t->last)	/* keeps start times in order per thread */
			at = t->last;
		t->last = at;
		switch (e->kind) {
		case TREAD_X_ENTRY:
			if (e->mark) {
				if (add_mark(x, t, strs, cs, e, at))
					goto nomem;
				break;
			}
			if (grow((void **)&t->calls, &t->cap, t->ncalls + 1, sizeof(*t->calls)) ||
			    grow((void **)&t->open, &t->opencap, t->nopen + 1, sizeof(*t->open)))
				goto nomem;
			c = &t->calls[t->ncalls];
			*c = (struct call){ .start = at, .func = e->func, .depth = (uint32_t)t->nopen,
					    .flags = e->early ? CALL_ENTERED_BEFORE : 0,
					    .args = str_intern(strs, e->args) };
			if (c->depth > t->max_depth)
				t->max_depth = c->depth;
			t->open[t->nopen++] = t->ncalls++;
			break;
		case TREAD_X_EXIT:
			if (t->nopen && e->ret && t->open[t->nopen - 1] != NOT_A_CALL)
				t->calls[t->open[t->nopen - 1]].ret = str_intern(strs, e->ret);
			if (t->nopen)
				close_call(t, at, (e->synthetic ? CALL_END_NOT_SEEN : 0) |
					   (e->unwound ? CALL_UNWOUND : 0));
			break;
		case TREAD_X_LOST:
			if (grow((void **)&t->lost, &t->lostcap, t->nlost + 1, sizeof(*t->lost)))
				goto nomem;
			t->lost[t->nlost++] = (struct lost_mark){ .at = at, .count = e->count };
			break;
		}
	}
	for (size_t i = 0; i < x->nthreads; i++)
		while (threads[i].nopen)
			close_call(&threads[i], threads[i].last, CALL_END_NOT_SEEN);
	*out = threads;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory for %zu events", x->nevents);
	free_threads(threads, x->nthreads);
	return -ENOMEM;
}

/* One thread's columns, appended to @b; returns the bytes added or < 0. */
static long long encode_thread(struct bytes *b, const struct thread_calls *t, bool flags,
			       bool values)
{
	size_t from = b->n;
	uint64_t prev = 0;
	int rc = 0;

	for (size_t i = 0; i < t->ncalls && !rc; i++) {
		rc = put_varint(b, t->calls[i].start - prev);
		prev = t->calls[i].start;
	}
	for (size_t i = 0; i < t->ncalls && !rc; i++)
		rc = put_varint(b, t->calls[i].dur);
	for (size_t i = 0; i < t->ncalls && !rc; i++)
		rc = put_varint(b, t->calls[i].func);
	for (size_t i = 0; i < t->ncalls && !rc; i++)
		rc = put_varint(b, t->calls[i].depth);
	for (size_t i = 0; flags && i < t->ncalls && !rc; i++)
		rc = put_varint(b, t->calls[i].flags);
	for (size_t i = 0; values && i < t->ncalls && !rc; i++)
		rc = put_varint(b, t->calls[i].args);
	for (size_t i = 0; values && i < t->ncalls && !rc; i++)
		rc = put_varint(b, t->calls[i].ret);
	return rc ? rc : (long long)(b->n - from);
}

/*
 * A JSON string that is also safe inside a <script> element: '<', '>'
 * and '&' are escaped so no "</script>" can end the block early.
 */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&' || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/*
 * Interactions (interactions.h): [from thread, at, depth, to thread, at,
 * depth, kind, object, waited ns]: from inside the releasing call to the
 * end of the wait, times in ns since @t0, kinds as tread_sync_name().
 */
static void write_flows(FILE *f, const struct tread_xtrace *x, uint64_t t0,
			const struct tread_xflow *flows, size_t nflows)
{
	fputs("],\n\"flows\":[", f);
	for (size_t i = 0; i < nflows; i++) {
		const struct tread_xevent *r = &x->events[flows[i].release];
		const struct tread_xevent *w = &x->events[flows[i].wait_end];

		fprintf(f, "%s[%" PRIu32 ",%" PRIu64 ",%" PRIu32 ",%" PRIu32 ",%" PRIu64 ",%" PRIu32
			",\"%s\",\"0x%" PRIx64 "\",%" PRIu64 "]", i ? ",\n" : "",
			r->thread, r->real_ns - t0, r->depth, w->thread, w->real_ns - t0, w->depth,
			tread_sync_name(flows[i].sync), flows[i].object, flows[i].wait_ns);
	}
}

static void write_meta(FILE *f, const struct tread_xtrace *x, uint64_t t0,
		       const struct thread_calls *threads, const long long *nbytes, bool flags,
		       bool values, const struct strtab *strs, const struct counters *cs,
		       const struct tread_xflow *flows, size_t nflows)
{
	fprintf(f, "{\"format\":\"tattach-viewer\",\"version\":1,\"t0\":\"%" PRIu64 "\","
		"\"columns\":[\"start\",\"dur\",\"func\",\"depth\"%s%s],\"strings\":[",
		t0, flags ? ",\"flags\"" : "", values ? ",\"args\",\"ret\"" : "");
	for (size_t i = 0; i < strs->n; i++) {
		if (i)
			fputc(',', f);
		json_str(f, strs->v[i]);
	}
	fputs("],\n\"procs\":[", f);
	for (size_t i = 0; i < x->nprocs; i++) {
		const struct tread_xproc *p = &x->procs[i];

		fprintf(f, "%s{\"pid\":%" PRId32 ",\"host\":", i ? "," : "", p->pid);
		json_str(f, p->host);
		fputs(",\"exe\":", f);
		json_str(f, p->exe);
		fputs(",\"comm\":", f);
		json_str(f, p->comm);
		if (p->image)	/* a program the pid ran before an exec */
			fprintf(f, ",\"image\":%u", p->image);
		fputc('}', f);
	}
	fputs("],\n\"threads\":[", f);
	for (size_t i = 0; i < x->nthreads; i++) {
		const struct tread_xthread *t = &x->threads[i];
		const struct thread_calls *c = &threads[i];

		fprintf(f, "%s{\"proc\":%" PRIu32 ",\"tid\":%" PRId32 ",\"name\":", i ? ",\n" : "",
			t->proc, t->tid);
		json_str(f, t->name);
		fprintf(f, ",\"calls\":%zu,\"bytes\":%lld,\"depth\":%" PRIu32 ",\"lost\":[",
			c->ncalls, nbytes[i], c->ncalls ? c->max_depth + 1 : 0);
		for (size_t k = 0; k < c->nlost; k++)
			fprintf(f, "%s[%" PRIu64 ",%" PRIu64 "]", k ? "," : "",
				c->lost[k].at, c->lost[k].count);
		fputc(']', f);
		/* <tattach/mark.h>: [time, 1 mark | 2 label, 1 + string] */
		if (c->nmarks)
			fputs(",\"marks\":[", f);
		for (size_t k = 0; k < c->nmarks; k++)
			fprintf(f, "%s[%" PRIu64 ",%" PRIu32 ",%" PRIu32 "]", k ? "," : "",
				c->marks[k].at, c->marks[k].kind, c->marks[k].text);
		fputs(c->nmarks ? "]}" : "}", f);
	}
	/* <tattach/mark.h>: each counter's points, [time, value] */
	fputs("],\n\"counters\":[", f);
	for (size_t i = 0; i < cs->n; i++) {
		fprintf(f, "%s{\"proc\":%" PRIu32 ",\"name\":%" PRIu32 ",\"points\":[",
			i ? ",\n" : "", cs->v[i].proc, cs->v[i].name);
		for (size_t k = 0; k < cs->v[i].n; k++)
			fprintf(f, "%s[%" PRIu64 ",%" PRId64 "]", k ? "," : "",
				cs->v[i].v[k].at, cs->v[i].v[k].value);
		fputs("]}", f);
	}
	write_flows(f, x, t0, flows, nflows);
	fputs("],\n\"funcs\":[", f);
	for (size_t i = 0; i < x->nfuncs; i++) {
		const struct tread_xfunc *fn = &x->funcs[i];

		fputs(i ? ",\n[" : "[", f);
		json_str(f, fn->name);
		fputc(',', f);
		json_str(f, fn->file);
		fprintf(f, ",%" PRIu32 ",", fn->line);
		json_str(f, fn->module);
		fputc(']', f);
	}
	fputs("]}", f);
}

static void write_base64(FILE *f, const unsigned char *p, size_t n)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = digits[v >> 18 & 63];
		q[1] = digits[v >> 12 & 63];
		q[2] = i + 1 < n ? digits[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? digits[v & 63] : '=';
		fwrite(q, 1, 4, f);
		/* Lines keep the page readable by editors and grep; the
		 * browser's base64 decoder skips the breaks. */
		if ((col += 4) >= 120) {
			fputc('\n', f);
			col = 0;
		}
	}
}

static int write_page(FILE *f, const struct tread_xtrace *x, uint64_t t0,
		      const struct thread_calls *threads, const struct strtab *strs,
		      const struct counters *cs, const struct tread_xflow *flows,
		      size_t nflows, char *err, size_t errlen)
{
	const char *page = tread_viewer_page;
	const char *mark = strstr(page, DATA_MARKER);
	struct bytes blob = { 0 };
	long long *nbytes = calloc(x->nthreads ? x->nthreads : 1, sizeof(*nbytes));
	bool flags = false, values = false;
	int rc = 0;

	if (!mark) {	/* the build checks for it; this guards an edited page */
		snprintf(err, errlen, "the viewer page has no data marker %s", DATA_MARKER);
		rc = -EINVAL;
		goto out;
	}
	if (!nbytes)
		goto nomem;
	for (size_t i = 0; i < x->nthreads; i++)
		for (size_t k = 0; k < threads[i].ncalls && !flags; k++)
			flags = threads[i].calls[k].flags != 0;
	for (size_t i = 0; i < x->nthreads; i++)
		for (size_t k = 0; k < threads[i].ncalls && !values; k++)
			values = threads[i].calls[k].args || threads[i].calls[k].ret;
	for (size_t i = 0; i < x->nthreads; i++)
		if ((nbytes[i] = encode_thread(&blob, &threads[i], flags, values)) < 0)
			goto nomem;

	fwrite(page, 1, (size_t)(mark - page), f);
	fputs("<script type=\"application/json\" id=\"tattach-meta\">", f);
	write_meta(f, x, t0, threads, nbytes, flags, values, strs, cs, flows, nflows);
	fputs("</script>\n<script type=\"text/plain\" id=\"tattach-calls\">\n", f);
	write_base64(f, blob.p, blob.n);
	fputs("\n</script>", f);
	fputs(mark + strlen(DATA_MARKER), f);
	goto out;
nomem:
	snprintf(err, errlen, "out of memory encoding %zu events", x->nevents);
	rc = -ENOMEM;
out:
	free(blob.p);
	free(nbytes);
	return rc;
}

int tread_export_html(const struct tread_xtrace *x, const char *out,
		      char *err, size_t errlen)
{
	struct thread_calls *threads = NULL;
	struct strtab strs = { 0 };
	struct counters cs = { 0 };
	struct tread_atomic_file af;
	struct tread_xflow *flows = NULL;
	size_t *exit_of = NULL, nflows = 0;
	uint64_t t0 = UINT64_MAX;
	size_t ncalls = 0;
	int rc;

	for (size_t i = 0; i < x->nevents; i++) {
		if (x->events[i].real_ns < t0)
			t0 = x->events[i].real_ns;
		ncalls += x->events[i].kind == TREAD_X_ENTRY;
	}
	if (!ncalls) {
		snprintf(err, errlen, "the trace has no calls: nothing to draw, %s not written", out);
		return -ENODATA;
	}
	rc = build_calls(x, t0, &strs, &cs, &threads, err, errlen);
	if (rc)
		goto out;
	rc = tread_match_exits(x, &exit_of);
	if (!rc)
		rc = tread_find_interactions(x, exit_of, &flows, &nflows);
	if (rc) {
		snprintf(err, errlen, "out of memory pairing the calls on one lock");
		goto out;
	}
	rc = tread_atomic_open(&af, out, err, errlen);
	if (rc)
		goto out;
	setvbuf(af.f, NULL, _IOFBF, 1 << 20);
	rc = write_page(af.f, x, t0, threads, &strs, &cs, flows, nflows, err, errlen);
	if (rc)
		tread_atomic_abort(&af);
	else
		rc = tread_atomic_commit(&af, err, errlen);
out:
	free(flows);
	free(exit_of);
	free_threads(threads, x->nthreads);
	free(strs.v);
	free(strs.slot);
	free_counters(&cs);
	return rc;
}
