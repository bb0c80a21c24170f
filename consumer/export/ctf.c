// SPDX-License-Identifier: MIT
/*
 * --export ctf: a CTF 1.8 trace folder, for babeltrace2 (tested with
 * 2.0.4) and other CTF readers.
 *
 *   metadata          TSDL text, opening with the CTF 1.8 comment line
 *                     babeltrace2 requires; a fresh trace UUID each time
 *                     (two folders with one UUID would be merged as one
 *                     trace).
 *   stream-PID-TID    one data stream per thread, its events in time order
 *                     (a reader's muxer stops on time going backwards
 *                     within a stream).
 *
 * The clock class is named "monotonic": its values are the first
 * process's CLOCK_MONOTONIC nanoseconds, and its offset (offset_s +
 * offset, from the ring's paired MONOTONIC/REALTIME reading) places them
 * on CLOCK_REALTIME, as LTTng does.  It is absolute, so babeltrace2
 * given the CTF folders of several processes (or hosts) merges them on
 * the wall clock.  A model with several processes keeps one clock: their
 * events are already on CLOCK_REALTIME.
 *
 * Events: func_entry { addr, depth, name, entered } and func_exit { addr,
 * depth, name, how }.  A call with tattach -A/-R values is a func_entry
 * with "args" and a func_exit with "retval" (the text tread prints), two
 * more classes of the same names, declared only in a trace that has such
 * calls.  A <tattach/mark.h> call adds a mark { text }, label { text } or
 * counter { name, value } event after its entry.  The process and thread (ids and names) are in each
 * packet's context: a stream is one thread, so its events need not repeat
 * them (babeltrace2 prints the packet context on every line).  Losses
 * become CTF's own discarded-events counter: a packet ends at a loss and
 * the next one carries the raised events_discarded, which babeltrace2
 * reports as "discarded events" between the two packets.
 */
#include <errno.h>
#include <endian.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "consumer/decode/marks.h"
#include "consumer/export/export.h"
#include "consumer/export/outdir.h"

#define CTF_MAGIC		0xC1FC1FC1u
#define CTF_PACKET_EVENTS	4096	/* events per packet, at most */
#define CTF_EV_ENTRY		0
#define CTF_EV_EXIT		1
#define CTF_EV_MARK		2	/* <tattach/mark.h>, after the hook's entry */
#define CTF_EV_LABEL		3
#define CTF_EV_COUNTER		4
#define CTF_EV_ENTRY_ARGS	5	/* func_entry with "args" */
#define CTF_EV_EXIT_RETVAL	6	/* func_exit with "retval" */

enum ctf_how { CTF_RETURNED = 0, CTF_UNWOUND = 1, CTF_CLOSED = 2 };
/* func_entry's "entered": a call adopted at --enable (already running)
 * is dated at the enable, not at its real start */
enum ctf_entered { CTF_TRACED = 0, CTF_BEFORE_TRACING = 1 };

struct ctf_out {
	const struct tread_xtrace *x;
	struct xdir   dir;
	unsigned char uuid[16];
	uint64_t      clock_offset;	/* clock value 0 = this many ns after the epoch */
	/* Fields and classes only a trace with them declares, so a trace
	 * without -A/-R values or marks reads as before. */
	bool          has_args;		/* func_entry's "args" */
	bool          has_ret;		/* func_exit's "retval" */
	bool          has_marks;	/* the mark, label and counter classes */
	char         *err;
	size_t        errlen;
};

/* A TSDL string literal: quotes and backslashes escaped, controls dropped. */
static void put_tsdl_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

static void put_uuid(FILE *f, const unsigned char *u)
{
	for (int i = 0; i < 16; i++)
		fprintf(f, "%02x%s", u[i], i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
}

/*
 * func_entry or func_exit; with @extra, the class of the calls that have
 * -A/-R values, named the same, with that string field added.  Calls
 * without values never carry an empty string: babeltrace2 2.0 prints an
 * empty string field as the last non-empty one it read (fixed upstream
 * in review.lttng.org/c/babeltrace/+/4528, not in Debian 12's 2.0.4).
 */
static void put_call_class(FILE *f, int id, const char *extra)
{
	bool entry = id == CTF_EV_ENTRY || id == CTF_EV_ENTRY_ARGS;

	fprintf(f, "event {\n\tname = \"%s\";\n\tid = %d;\n\tstream_id = 0;\n"
		"\tfields := struct {\n"
		"\t\tuint64_hex_t addr;\n"
		"\t\tuint32_t depth;\n"
		"\t\tstring name;\n", entry ? "func_entry" : "func_exit", id);
	if (entry)
		fprintf(f, "\t\tenum : uint8_t { traced = %d, before_tracing = %d } entered;\n",
			CTF_TRACED, CTF_BEFORE_TRACING);
	else
		fprintf(f, "\t\tenum : uint8_t { returned = %d, unwound = %d, closed = %d } how;\n",
			CTF_RETURNED, CTF_UNWOUND, CTF_CLOSED);
	if (extra)
		fprintf(f, "\t\tstring %s;\n", extra);
	fputs("\t};\n};\n\n", f);
}

static int write_metadata(struct ctf_out *o)
{
	const struct tread_xtrace *x = o->x;
	const struct tread_xproc *p0 = x->nprocs ? &x->procs[0] : NULL;
	FILE *f;

	f = xdir_create(&o->dir, "metadata", o->err, o->errlen);
	if (!f)
		return -errno;
	fputs("/* CTF 1.8 */\n\n"
	      "typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
	      "typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
	      "typealias integer { size = 32; align = 8; signed = true; } := int32_t;\n"
	      "typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n"
	      "typealias integer { size = 64; align = 8; signed = false; base = 16; } "
	      ":= uint64_hex_t;\n\n"
	      "trace {\n\tmajor = 1;\n\tminor = 8;\n\tuuid = \"", f);
	put_uuid(f, o->uuid);
	fputs("\";\n\tbyte_order = le;\n"
	      "\tpacket.header := struct {\n"
	      "\t\tuint32_t magic;\n"
	      "\t\tuint8_t uuid[16];\n"
	      "\t\tuint32_t stream_id;\n"
	      "\t\tuint64_t stream_instance_id;\n"
	      "\t};\n};\n\n", f);

	fputs("env {\n\ttracer_name = \"tattach\";\n\thostname = ", f);
	put_tsdl_str(f, p0 && p0->host ? p0->host : "");
	if (x->nprocs == 1) {
		/* One process: name it for the whole trace, as LTTng does. */
		fputs(";\n\tprocname = ", f);
		put_tsdl_str(f, p0->comm);
		fputs(";\n\texe = ", f);
		put_tsdl_str(f, p0->exe);
		fprintf(f, ";\n\tvpid = %d", (int)p0->pid);
	}
	fputs(";\n};\n\n", f);

	fprintf(f, "clock {\n\tname = \"monotonic\";\n"
		"\tdescription = \"CLOCK_MONOTONIC of pid %d; the offset places it on "
		"CLOCK_REALTIME\";\n"
		"\tfreq = 1000000000;\n\tprecision = 1;\n"
		"\toffset_s = %" PRIu64 ";\n\toffset = %" PRIu64 ";\n"
		"\tabsolute = true;\n};\n\n",
		p0 ? (int)p0->pid : 0, o->clock_offset / 1000000000,
		o->clock_offset % 1000000000);

	fputs("typealias integer { size = 64; align = 8; signed = false; "
	      "map = clock.monotonic.value; } := clock_u64;\n\n"
	      "stream {\n\tid = 0;\n"
	      "\tpacket.context := struct {\n"
	      "\t\tclock_u64 timestamp_begin;\n"
	      "\t\tclock_u64 timestamp_end;\n"
	      "\t\tuint64_t content_size;\n"
	      "\t\tuint64_t packet_size;\n"
	      "\t\tuint64_t packet_seq_num;\n"
	      "\t\tuint64_t events_discarded;\n"
	      "\t\tint32_t vpid;\n"
	      "\t\tint32_t vtid;\n"
	      "\t\tstring procname;\n"
	      "\t\tstring thread_name;\n"
	      "\t};\n"
	      "\tevent.header := struct {\n"
	      "\t\tuint8_t id;\n"
	      "\t\tclock_u64 timestamp;\n"
	      "\t};\n};\n\n", f);
	put_call_class(f, CTF_EV_ENTRY, NULL);
	put_call_class(f, CTF_EV_EXIT, NULL);
	if (o->has_args)
		put_call_class(f, CTF_EV_ENTRY_ARGS, "args");
	if (o->has_ret)
		put_call_class(f, CTF_EV_EXIT_RETVAL, "retval");
	if (o->has_marks)
		fprintf(f, "event {\n\tname = \"mark\";\n\tid = %d;\n\tstream_id = 0;\n"
			"\tfields := struct {\n\t\tstring text;\n\t};\n};\n\n"
			"event {\n\tname = \"label\";\n\tid = %d;\n\tstream_id = 0;\n"
			"\tfields := struct {\n\t\tstring text;\n\t};\n};\n\n"
			"typealias integer { size = 64; align = 8; signed = true; } := int64_t;\n\n"
			"event {\n\tname = \"counter\";\n\tid = %d;\n\tstream_id = 0;\n"
			"\tfields := struct {\n\t\tstring name;\n\t\tint64_t value;\n"
			"\t};\n};\n", CTF_EV_MARK, CTF_EV_LABEL, CTF_EV_COUNTER);
	return xdir_close(&o->dir, f, "metadata", o->err, o->errlen);
}

/* A growing byte buffer: one packet is built in memory, then written. */
struct buf {
	unsigned char *b;
	size_t len, cap;
};

static int buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		unsigned char *nb;

		while (cap < b->len + n)
			cap *= 2;
		nb = realloc(b->b, cap);
		if (!nb)
			return -ENOMEM;
		b->b = nb;
		b->cap = cap;
	}
	memcpy(b->b + b->len, p, n);
	b->len += n;
	return 0;
}

static int buf_u8(struct buf *b, uint8_t v) { return buf_put(b, &v, 1); }
static int buf_u32(struct buf *b, uint32_t v) { v = htole32(v); return buf_put(b, &v, 4); }
static int buf_u64(struct buf *b, uint64_t v) { v = htole64(v); return buf_put(b, &v, 8); }
static int buf_str(struct buf *b, const char *s) { return buf_put(b, s ? s : "", strlen(s ? s : "") + 1); }

static void patch_u64(struct buf *b, size_t at, uint64_t v)
{
	v = htole64(v);
	memcpy(b->b + at, &v, 8);
}

/* Where the packet context fields that are known only at the end lie. */
#define PKT_TS_BEGIN	32
#define PKT_TS_END	40
#define PKT_CONTENT	48
#define PKT_SIZE	56

struct stream {
	struct ctf_out *o;
	uint32_t        thread;
	FILE           *f;
	const char     *fname;
	struct buf      pkt;
	uint64_t        seq;
	uint64_t        discarded;
	uint64_t        first_ts, last_ts;
	size_t          nevents;	/* in the open packet */
	bool            open;
};

static int packet_open(struct stream *s, uint64_t begin)
{
	const struct tread_xtrace *x = s->o->x;
	const struct tread_xthread *t = &x->threads[s->thread];
	const struct tread_xproc *p = &x->procs[t->proc];
	int r = 0;

	s->pkt.len = 0;
	r |= buf_u32(&s->pkt, CTF_MAGIC);
	r |= buf_put(&s->pkt, s->o->uuid, 16);
	r |= buf_u32(&s->pkt, 0);			/* stream_id */
	r |= buf_u64(&s->pkt, s->thread);		/* stream_instance_id */
	r |= buf_u64(&s->pkt, begin);			/* timestamp_begin */
	r |= buf_u64(&s->pkt, begin);			/* timestamp_end */
	r |= buf_u64(&s->pkt, 0);			/* content_size */
	r |= buf_u64(&s->pkt, 0);			/* packet_size */
	r |= buf_u64(&s->pkt, s->seq++);		/* packet_seq_num */
	r |= buf_u64(&s->pkt, s->discarded);		/* events_discarded */
	r |= buf_u32(&s->pkt, (uint32_t)p->pid);
	r |= buf_u32(&s->pkt, (uint32_t)t->tid);
	r |= buf_str(&s->pkt, p->comm);
	r |= buf_str(&s->pkt, t->name);
	s->first_ts = s->last_ts = begin;
	s->nevents = 0;
	s->open = true;
	return r ? -ENOMEM : 0;
}

static int packet_close(struct stream *s)
{
	struct ctf_out *o = s->o;

	if (!s->open)
		return 0;
	patch_u64(&s->pkt, PKT_TS_BEGIN, s->first_ts);
	patch_u64(&s->pkt, PKT_TS_END, s->last_ts);
	/* Sizes are in bits; no padding, so the packet ends with its content. */
	patch_u64(&s->pkt, PKT_CONTENT, (uint64_t)s->pkt.len * 8);
	patch_u64(&s->pkt, PKT_SIZE, (uint64_t)s->pkt.len * 8);
	s->open = false;
	if (fwrite(s->pkt.b, 1, s->pkt.len, s->f) != s->pkt.len) {
		int e = errno ? errno : EIO;

		xdir_err(o->err, o->errlen, "cannot write '%s/%s': %s", o->dir.final,
			 s->fname, strerror(e));
		return -e;
	}
	return 0;
}

/* A <tattach/mark.h> call: its own event, at the time of the hook's entry. */
static int put_mark(struct stream *s, const struct tread_xevent *e, uint64_t ts)
{
	int r = 0;

	switch (e->mark) {
	case TREAD_MARK_MARK:
	case TREAD_MARK_LABEL:
		r |= buf_u8(&s->pkt, e->mark == TREAD_MARK_MARK ? CTF_EV_MARK : CTF_EV_LABEL);
		r |= buf_u64(&s->pkt, ts);
		r |= buf_str(&s->pkt, e->text);
		break;
	case TREAD_MARK_COUNTER:
		r |= buf_u8(&s->pkt, CTF_EV_COUNTER);
		r |= buf_u64(&s->pkt, ts);
		r |= buf_str(&s->pkt, e->text);
		r |= buf_u64(&s->pkt, (uint64_t)e->value);
		break;
	default:
		return 0;
	}
	s->nevents++;
	return r ? -ENOMEM : 0;
}

static int put_event(struct stream *s, const struct tread_xevent *e, uint64_t ts)
{
	const struct tread_xtrace *x = s->o->x;
	const struct tread_xfunc *fn = &x->funcs[e->func];
	const char *extra = e->kind == TREAD_X_ENTRY ? e->args : e->ret;
	int r = 0;

	if (extra)
		r |= buf_u8(&s->pkt, e->kind == TREAD_X_ENTRY ? CTF_EV_ENTRY_ARGS
							      : CTF_EV_EXIT_RETVAL);
	else
		r |= buf_u8(&s->pkt, e->kind == TREAD_X_ENTRY ? CTF_EV_ENTRY : CTF_EV_EXIT);
	r |= buf_u64(&s->pkt, ts);
	r |= buf_u64(&s->pkt, fn->addr);
	r |= buf_u32(&s->pkt, e->depth);
	r |= buf_str(&s->pkt, fn->name);
	if (e->kind == TREAD_X_ENTRY)
		r |= buf_u8(&s->pkt, e->early ? CTF_BEFORE_TRACING : CTF_TRACED);
	else
		r |= buf_u8(&s->pkt, e->unwound ? CTF_UNWOUND :
			    e->synthetic || e->cut ? CTF_CLOSED : CTF_RETURNED);
	/* -A/-R: the text tread shows ("a=1, s=\"x\"", "0") */
	if (extra)
		r |= buf_str(&s->pkt, extra);
	s->last_ts = ts;
	s->nevents++;
	if (!r && e->kind == TREAD_X_ENTRY && e->mark && s->o->has_marks)
		r = put_mark(s, e, ts);
	return r ? -ENOMEM : 0;
}

/*
 * A loss the collector could not date comes before the clock's origin
 * (time 0): place it at the stream's next dated event, or its last one,
 * so the stream's time never goes back.
 */
static uint64_t undated_loss_ts(const struct ctf_out *o, const uint32_t *idx, size_t i,
				size_t n, uint64_t last)
{
	for (size_t k = i + 1; k < n; k++) {
		const struct tread_xevent *e = &o->x->events[idx[k]];

		if (e->real_ns >= o->clock_offset)
			return e->real_ns - o->clock_offset;
	}
	return last;
}

static int write_stream(struct ctf_out *o, uint32_t thread, const uint32_t *idx, size_t n)
{
	const struct tread_xtrace *x = o->x;
	const struct tread_xthread *t = &x->threads[thread];
	struct stream s = { .o = o, .thread = thread };
	char name[64];
	int ret = 0;

	snprintf(name, sizeof(name), "stream-%d-%d", (int)x->procs[t->proc].pid,
		 (int)t->tid);
	/* A tid reused by a later thread of the process: a stream of its own. */
	for (uint32_t u = 0; u < thread; u++) {
		if (x->threads[u].tid == t->tid && x->procs[x->threads[u].proc].pid ==
		    x->procs[t->proc].pid) {
			snprintf(name, sizeof(name), "stream-%d-%d-%u",
				 (int)x->procs[t->proc].pid, (int)t->tid, thread);
			break;
		}
	}
	s.fname = name;
	s.f = xdir_create(&o->dir, name, o->err, o->errlen);
	if (!s.f)
		return -errno;
	for (size_t i = 0; i < n && !ret; i++) {
		const struct tread_xevent *e = &x->events[idx[i]];
		uint64_t ts;

		if (e->real_ns >= o->clock_offset)
			ts = e->real_ns - o->clock_offset;
		else
			ts = undated_loss_ts(o, idx, i, n, s.open ? s.last_ts : 0);

		if (e->kind == TREAD_X_LOST) {
			/* The next packet carries the raised counter; the reader
			 * reports the loss between the two packets.  A stream that
			 * starts with a loss first gets an empty packet counting
			 * none, or babeltrace2 could not say how many were lost. */
			if (!s.open && s.seq == 0)
				ret = packet_open(&s, ts);
			if (!ret)
				ret = packet_close(&s);
			s.discarded += e->count;
			if (!ret)
				ret = packet_open(&s, ts);
			continue;
		}
		if (s.open && s.nevents >= CTF_PACKET_EVENTS)
			ret = packet_close(&s);
		if (!ret && !s.open)
			ret = packet_open(&s, ts);
		if (!ret)
			ret = put_event(&s, e, ts);
	}
	if (!ret)
		ret = packet_close(&s);
	if (ret == -ENOMEM)
		xdir_err(o->err, o->errlen, "ctf export: out of memory");
	free(s.pkt.b);
	if (ret) {
		fclose(s.f);
		return ret;
	}
	return xdir_close(&o->dir, s.f, name, o->err, o->errlen);
}

static int check_model(struct ctf_out *o)
{
	const struct tread_xtrace *x = o->x;

	for (size_t t = 0; t < x->nthreads; t++) {
		if (x->threads[t].proc >= x->nprocs) {
			xdir_err(o->err, o->errlen, "ctf export: thread %zu names "
				 "process %u of %zu", t, x->threads[t].proc, x->nprocs);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];

		if (e->thread >= x->nthreads || e->kind > TREAD_X_LOST ||
		    (e->kind != TREAD_X_LOST && e->func >= x->nfuncs)) {
			xdir_err(o->err, o->errlen, "ctf export: event %zu names a "
				 "thread or function that is not in the trace", i);
			return -EINVAL;
		}
	}
	if (x->nevents > UINT32_MAX) {
		xdir_err(o->err, o->errlen, "ctf export: more than %u events", UINT32_MAX);
		return -E2BIG;
	}
	return 0;
}

/*
 * Clock value 0 sits at CLOCK_REALTIME minus CLOCK_MONOTONIC of the first
 * process, so values are that process's monotonic times; never after the
 * first event (a clock value cannot be negative).
 */
static uint64_t clock_offset(const struct tread_xtrace *x)
{
	uint64_t off = 0;

	if (x->nprocs && x->procs[0].calib_real_ns >= x->procs[0].calib_mono_ns)
		off = x->procs[0].calib_real_ns - x->procs[0].calib_mono_ns;
	for (size_t i = 0; i < x->nevents; i++) {
		if (x->events[i].kind != TREAD_X_LOST && x->events[i].real_ns < off)
			off = x->events[i].real_ns;
	}
	return off;
}

static int write_all(struct ctf_out *o)
{
	const struct tread_xtrace *x = o->x;
	size_t *count = NULL, *start = NULL;
	uint32_t *idx = NULL;
	int ret;

	ret = write_metadata(o);
	if (ret)
		return ret;
	count = calloc(x->nthreads + 1, sizeof(size_t));
	start = calloc(x->nthreads + 1, sizeof(size_t));
	idx = malloc((x->nevents + 1) * sizeof(uint32_t));
	if (!count || !start || !idx) {
		xdir_err(o->err, o->errlen, "ctf export: out of memory");
		ret = -ENOMEM;
		goto out;
	}
	/* Each thread's events, in time order, one after another. */
	for (size_t i = 0; i < x->nevents; i++)
		count[x->events[i].thread]++;
	for (size_t t = 1; t <= x->nthreads; t++)
		start[t] = start[t - 1] + count[t - 1];
	for (size_t i = 0; i < x->nevents; i++)
		idx[start[x->events[i].thread]++] = (uint32_t)i;
	for (size_t t = 0; t < x->nthreads && !ret; t++) {
		if (count[t])
			ret = write_stream(o, (uint32_t)t, idx + start[t] - count[t], count[t]);
	}
out:
	free(idx);
	free(start);
	free(count);
	return ret;
}

int tread_export_ctf(const struct tread_xtrace *x, const char *out,
		     char *err, size_t errlen)
{
	struct ctf_out o = { .x = x, .err = err, .errlen = errlen };
	int ret;

	ret = check_model(&o);
	if (ret)
		return ret;
	if (getrandom(o.uuid, sizeof(o.uuid), 0) != (ssize_t)sizeof(o.uuid)) {
		ret = -errno;
		xdir_err(err, errlen, "ctf export: no random trace UUID: %s", strerror(-ret));
		return ret;
	}
	o.uuid[6] = (o.uuid[6] & 0x0f) | 0x40;	/* version 4: random */
	o.uuid[8] = (o.uuid[8] & 0x3f) | 0x80;
	o.clock_offset = clock_offset(x);
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];

		o.has_args |= e->kind == TREAD_X_ENTRY && e->args;
		o.has_ret |= e->kind == TREAD_X_EXIT && e->ret;
		o.has_marks |= e->kind == TREAD_X_ENTRY && e->mark;
	}

	ret = xdir_begin(&o.dir, out, "ctf", err, errlen);
	if (ret)
		return ret;
	ret = write_all(&o);
	if (ret)
		xdir_discard(&o.dir);
	else
		ret = xdir_commit(&o.dir, err, errlen);
	return ret;
}
