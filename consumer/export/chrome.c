// SPDX-License-Identifier: MIT
/*
 * --export chrome: the Trace Event Format's JSON object form, which
 * Perfetto's UI and chrome://tracing open.
 *
 *   {"displayTimeUnit":"ns",
 *    "otherData":{"clock":"CLOCK_REALTIME","base_ns":"1700000000123456789",...},
 *    "traceEvents":[
 *     {"ph":"M","name":"process_name","pid":42,"tid":42,"args":{"name":"prog"}},
 *     {"ph":"M","name":"thread_name","pid":42,"tid":43,"args":{"name":"worker"}},
 *     {"ph":"X","name":"main","cat":"function","pid":42,"tid":42,
 *      "ts":0.000,"dur":1234.567},
 *     {"ph":"i","s":"t","name":"lost 12 events","pid":42,"tid":43,"ts":...},
 *     {"ph":"s","id":1,"name":"cond 0x...","cat":"sync","pid":42,"tid":42,"ts":...},
 *     {"ph":"f","bp":"e","id":1,...,"tid":43,"ts":...,"args":{"waited_ns":N}}]}
 *
 * One complete ("X") event per call, in entry order, so a viewer nests
 * them by time; then a flow ("s" to "f") per interaction between threads
 * (interactions.h): a release to the end of the wait it ended.  Times are microseconds since base_ns (the first event,
 * CLOCK_REALTIME nanoseconds): written from integers with three decimals,
 * so no nanosecond is lost, and small enough that a reader parsing them
 * as doubles keeps every nanosecond too (an absolute epoch time in
 * microseconds would not fit a double's 53 bits at nanosecond precision).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/atomic_file.h"
#include "consumer/decode/marks.h"
#include "consumer/export/export.h"
#include "consumer/export/interactions.h"
#include "consumer/export/text_escape.h"

/* Processes of several hosts may share a pid: a viewer must not merge them. */
static int64_t chrome_pid(const struct tread_xtrace *x, uint32_t proc)
{
	for (uint32_t i = 0; i < proc; i++)
		if (x->procs[i].pid == x->procs[proc].pid)
			return 0x40000000ll + proc;
	return x->procs[proc].pid;
}

static void put_us(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

/* Records are separated, not terminated, by commas. */
static void sep(FILE *f, bool *first)
{
	if (!*first)
		fputs(",\n", f);
	*first = false;
}

static void put_metadata(FILE *f, const struct tread_xtrace *x, uint64_t base,
			 bool *first)
{
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":"
		"\"CLOCK_REALTIME\",\"base_ns\":\"%" PRIu64 "\",\"writer\":\"tread\"},\n"
		"\"traceEvents\":[\n", base);
	for (uint32_t p = 0; p < x->nprocs; p++) {
		const struct tread_xproc *pr = &x->procs[p];
		int64_t pid = chrome_pid(x, p);

		sep(f, first);
		fprintf(f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%" PRId64
			",\"tid\":%d,\"args\":{\"name\":\"", pid, pr->pid);
		tread_put_json(f, pr->comm[0] ? pr->comm : pr->exe);
		fputs("\"}}", f);
		sep(f, first);
		fprintf(f, "{\"ph\":\"M\",\"name\":\"process_labels\",\"pid\":%" PRId64
			",\"tid\":%d,\"args\":{\"labels\":\"pid %d", pid, pr->pid, pr->pid);
		if (pr->image)	/* a program the pid ran before an exec */
			fprintf(f, " image %u", pr->image);
		if (pr->host[0]) {
			fputs(" on ", f);
			tread_put_json(f, pr->host);
		}
		fputs("\"}}", f);
	}
	for (uint32_t t = 0; t < x->nthreads; t++) {
		const struct tread_xthread *th = &x->threads[t];

		sep(f, first);
		fprintf(f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRId64
			",\"tid\":%d,\"args\":{\"name\":\"", chrome_pid(x, th->proc), th->tid);
		if (th->name[0])
			tread_put_json(f, th->name);
		else
			fprintf(f, "tid %d", th->tid);
		fputs("\"}}", f);
	}
}

static void put_call(FILE *f, const struct tread_xtrace *x, const struct tread_xevent *e,
		     const struct tread_xevent *end, uint64_t base, bool *first)
{
	const struct tread_xthread *th = &x->threads[e->thread];
	const struct tread_xfunc *fn = &x->funcs[e->func];
	uint64_t dur = end->real_ns > e->real_ns ? end->real_ns - e->real_ns : 0;
	bool ended = end == e || end->synthetic || end->unwound || end->cut;

	sep(f, first);
	fputs("{\"ph\":\"X\",\"name\":\"", f);
	tread_put_json(f, fn->name);
	fprintf(f, "\",\"cat\":\"function\",\"pid\":%" PRId64 ",\"tid\":%d,\"ts\":",
		chrome_pid(x, th->proc), th->tid);
	put_us(f, e->real_ns - base);
	fputs(",\"dur\":", f);
	put_us(f, dur);
	if (ended || e->early || e->args || (end != e && end->ret)) {
		bool more = false;

		fputs(",\"args\":{", f);
		/* tattach -A/-R: what the call was given and gave back */
		if (e->args) {
			fputs("\"arguments\":\"", f);
			tread_put_json(f, e->args);
			fputc('"', f);
			more = true;
		}
		if (end != e && end->ret) {
			fprintf(f, "%s\"return\":\"", more ? "," : "");
			tread_put_json(f, end->ret);
			fputc('"', f);
			more = true;
		}
		/* adopted at --enable: "ts" is the enable, not the call */
		if (e->early) {
			fprintf(f, "%s\"entered_before_tracing\":true", more ? "," : "");
			more = true;
		}
		if (ended)
			fprintf(f, "%s\"end\":\"%s\"", more ? "," : "", end->unwound ? "unwound" :
				end->cut ? "still running at --disable" :
				"not traced (exit lost or still running)");
		fputc('}', f);
	}
	fputc('}', f);
}

/* <tattach/mark.h>: a mark or label is an instant event on its thread, a
 * counter a counter event of its process (a track per name). */
static void put_mark(FILE *f, const struct tread_xtrace *x, const struct tread_xevent *e,
		     uint64_t base, bool *first)
{
	const struct tread_xthread *th = &x->threads[e->thread];

	sep(f, first);
	if (e->mark == TREAD_MARK_COUNTER) {
		fputs("{\"ph\":\"C\",\"name\":\"", f);
		tread_put_json(f, e->text);
		fprintf(f, "\",\"cat\":\"counter\",\"pid\":%" PRId64 ",\"tid\":%d,\"ts\":",
			chrome_pid(x, th->proc), th->tid);
		put_us(f, e->real_ns - base);
		fprintf(f, ",\"args\":{\"value\":%" PRId64 "}}", e->value);
		return;
	}
	fputs("{\"ph\":\"i\",\"s\":\"t\",\"name\":\"", f);
	tread_put_json(f, e->text);
	fprintf(f, "\",\"cat\":\"%s\",\"pid\":%" PRId64 ",\"tid\":%d,\"ts\":",
		tread_mark_kind_name((enum tread_mark_kind)e->mark), chrome_pid(x, th->proc),
		th->tid);
	put_us(f, e->real_ns - base);
	fputc('}', f);
}

/*
 * A flow from the call that released an object to the end of the call
 * that waited for it (interactions.h): "s" inside the release, "f" just
 * before the wait returns, bound to the slice around it ("bp":"e").
 */
static void put_flow(FILE *f, const struct tread_xtrace *x, const struct tread_xflow *fl,
		     uint64_t id, uint64_t base, bool *first)
{
	const struct tread_xevent *rel = &x->events[fl->release];
	const struct tread_xevent *end = &x->events[fl->wait_end];
	const struct tread_xevent *start = &x->events[fl->wait_start];
	const struct tread_xthread *from = &x->threads[rel->thread];
	const struct tread_xthread *to = &x->threads[end->thread];
	uint64_t at = end->real_ns > start->real_ns ? end->real_ns - 1 : end->real_ns;

	sep(f, first);
	fprintf(f, "{\"ph\":\"s\",\"id\":%" PRIu64 ",\"name\":\"%s 0x%" PRIx64 "\","
		"\"cat\":\"sync\",\"pid\":%" PRId64 ",\"tid\":%d,\"ts\":",
		id, tread_sync_name(fl->sync), fl->object, chrome_pid(x, from->proc), from->tid);
	put_us(f, rel->real_ns - base);
	fputc('}', f);
	sep(f, first);
	fprintf(f, "{\"ph\":\"f\",\"bp\":\"e\",\"id\":%" PRIu64 ",\"name\":\"%s 0x%" PRIx64 "\","
		"\"cat\":\"sync\",\"pid\":%" PRId64 ",\"tid\":%d,\"ts\":",
		id, tread_sync_name(fl->sync), fl->object, chrome_pid(x, to->proc), to->tid);
	put_us(f, at - base);
	fprintf(f, ",\"args\":{\"waited_ns\":%" PRIu64 "}}", fl->wait_ns);
}

static void put_lost(FILE *f, const struct tread_xtrace *x, const struct tread_xevent *e,
		     uint64_t base, bool *first)
{
	const struct tread_xthread *th = &x->threads[e->thread];

	sep(f, first);
	fprintf(f, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"lost %" PRIu64 " events\","
		"\"cat\":\"loss\",\"pid\":%" PRId64 ",\"tid\":%d,\"ts\":",
		e->count, chrome_pid(x, th->proc), th->tid);
	put_us(f, e->real_ns - base);
	fputc('}', f);
}

int tread_export_chrome(const struct tread_xtrace *x, const char *out,
			char *err, size_t errlen)
{
	struct tread_atomic_file af;
	uint64_t base = UINT64_MAX;
	size_t *exit_of = NULL, nflows = 0;
	struct tread_xflow *flows = NULL;
	bool first = true;
	int ret;

	ret = tread_match_exits(x, &exit_of);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	ret = tread_atomic_open(&af, out, err, errlen);
	if (ret)
		goto out;
	setvbuf(af.f, NULL, _IOFBF, 1 << 20);
	/* Events are by time, except that a thread may go back (a signal
	 * handler's events precede the interrupted code's): take the least. */
	for (size_t i = 0; i < x->nevents; i++)
		if (x->events[i].real_ns < base)
			base = x->events[i].real_ns;
	if (base == UINT64_MAX)
		base = 0;
	put_metadata(af.f, x, base, &first);
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];

		if (e->kind == TREAD_X_ENTRY && e->mark)
			put_mark(af.f, x, e, base, &first);
		else if (e->kind == TREAD_X_ENTRY)
			put_call(af.f, x, e, &x->events[exit_of[i]], base, &first);
		else if (e->kind == TREAD_X_LOST)
			put_lost(af.f, x, e, base, &first);
	}
	ret = tread_find_interactions(x, exit_of, &flows, &nflows);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		tread_atomic_abort(&af);
		goto out;
	}
	for (size_t i = 0; i < nflows; i++)
		put_flow(af.f, x, &flows[i], i + 1, base, &first);
	fputs("\n]}\n", af.f);
	ret = tread_atomic_commit(&af, err, errlen);
out:
	free(flows);
	free(exit_of);
	return ret;
}
