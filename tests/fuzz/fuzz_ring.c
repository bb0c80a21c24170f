// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the input is a whole ring file image
 * (include/tattach/ring.h), as a hostile traced process could leave it.
 *
 * It goes through everything tread does with a ring file, output thrown
 * away:
 *
 *   1. consumer/decode/ring_reader.c  open and check the image from a buffer
 *      (read-only, or writable like tread -f), then every accessor: live
 *      thread fields, the site table, the module table (tread_ring_module
 *      is the module table parser: the module table has no entry point of
 *      its own, so this one target covers it), clock conversions;
 *   2. consumer/input/site_names.c   a name for every site index in use (the
 *      events name others, past the table too); the resolver under it is
 *      tests/fuzz/sym_stub.c, so no module path from the input is opened;
 *   3. consumer/decode/thread_stream.c + event_decoder.c  every thread slot read
 *      directly, with the API's promises checked;
 *   4. consumer/decode/trace.c + graph.c + summary.c  the function graph, in 0-3
 *      live rounds and a final one, with any --time column (and invalid
 *      modes), consuming tails when writable, output failing or not;
 *   5. consumer/decode/trace.c + report.c  the --report table;
 *   6. consumer/session.c (+ ring_reader's file path) optionally: the whole
 *      tread pipeline on a memfd holding the image (pid zeroed, so no
 *      /proc/<pid> file is looked at, and never a pause).
 *
 * Between live rounds a simulated writer may append to every ring in use
 * (see writer_step()), so what changes under a live reader -- heads
 * moving, words overwritten between two looks, LOST records and drop
 * counters arriving late -- is fuzzed too.
 *
 * How an input is run is chosen by its own header.reserved[0], which the
 * reader ignores (see enum knob below), so the fuzzer can flip the options
 * and a saved input replays exactly.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "consumer/decode/event_decoder.h"
#include "consumer/views/graph.h"
#include "consumer/views/report.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/session.h"
#include "consumer/input/site_names.h"
#include "consumer/decode/thread_stream.h"
#include "consumer/decode/trace.h"
#include "tattach/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bits of header.reserved[0]. */
enum knob {
	KNOB_WRITABLE    = 1u << 0,	/* open like tread -f, consume tails */
	KNOB_GONE        = 1u << 1,	/* writer_gone: skip unwritten words */
	KNOB_ROUNDS_SHIFT = 2,		/* bits 2-3: live rounds before the final */
	KNOB_TID_FILTER  = 1u << 4,	/* --tid: only the tid owning slot 0 */
	KNOB_FAIL_WRITE  = 1u << 5,	/* output fails after bits 8-15 * 16 bytes */
	KNOB_SESSION     = 1u << 6,	/* also tread_session_run on a memfd */
	KNOB_REPORT      = 1u << 7,	/* session: --report rather than the graph */
};
#define KNOB_FAIL_SHIFT 8		/* bits 8-15 */
#define KNOB_TIME_SHIFT 16		/* bits 16-18: --time mode, 6 and 7 invalid */
#define KNOB_WRITER_SHIFT 19		/* bits 19-22: the writer between rounds */

/* A broken promise of the code under test: report it as a crash.  The
 * coverage build (make fuzz-cov) defines FUZZ_SOFT_CHECKS to go on. */
#ifdef FUZZ_SOFT_CHECKS
#define CHECK_FAILED() ((void)0)
#else
#define CHECK_FAILED() abort()
#endif
#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			CHECK_FAILED();					\
		}							\
	} while (0)

/* ---------------------------------------------------------- output sink */

struct sink {
	size_t written;
	size_t budget;		/* fail once this much was written */
	bool   fail;
};

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
	struct sink *s = cookie;
	volatile char last;

	if (len)
		last = buf[len - 1];	/* the buffer must be readable */
	(void)last;
	if (s->fail && s->written + len > s->budget) {
		errno = EPIPE;
		return -1;
	}
	s->written += len;
	return (ssize_t)len;
}

static FILE *sink_open(struct sink *s, uint64_t knobs)
{
	cookie_io_functions_t io = { .write = sink_write };
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->fail = knobs & KNOB_FAIL_WRITE;
	s->budget = ((knobs >> KNOB_FAIL_SHIFT) & 0xff) * 16;
	f = fopencookie(s, "w", io);
	CHECK(f);
	/* Unbuffered when failing, so the error reaches the printer at once. */
	if (s->fail)
		setvbuf(f, NULL, _IONBF, 0);
	return f;
}

static void warn_cb(void *arg, const char *msg)
{
	unsigned *n = arg;

	CHECK(msg && strnlen(msg, 4096) < 4096);
	(*n)++;
}

/* ------------------------------------------------ the simulated writer */

/* The image being read: the writer stores into it between rounds. */
static struct {
	uint8_t *buf;
	unsigned code;		/* knob bits 19-22, 0 = no writer */
} live;

static uint64_t *word_at(const struct tread_ring *ring, uint32_t slot, uint64_t pos)
{
	return (uint64_t *)(live.buf + ring->hdr.data_off +
			    ((uint64_t)slot << (ring->hdr.ring_shift + 3)) +
			    ((pos & ring->ring_mask) << 3));
}

/*
 * Append to every ring in use, like the trampoline would between two
 * rounds of a live reader (but with no regard for the tail): codes 1-7
 * add code^2 words, codes 8-15 add (code - 7) half rings, so a flight-mode
 * reader gets lapped.  The words are the ring's own older words, re-stamped
 * with the commit bit of their new position; odd codes start with a LOST
 * record and count the drops in ctl.dropped, as a discard-mode writer does.
 */
static void writer_step(const struct tread_ring *ring)
{
	const struct tat_ring_header *h = &ring->hdr;
	uint64_t n;

	if (!live.code)
		return;
	n = live.code <= 7 ? (uint64_t)live.code * live.code :
	    (live.code - 7) * (ring->ring_events / 2);
	for (uint32_t slot = 0; slot < h->max_threads; slot++) {
		uint8_t *ctl = live.buf + h->thread_off +
			       (uint64_t)slot * sizeof(struct tat_thread_ctl);
		uint64_t head, dropped, w;

		memcpy(&head, ctl + offsetof(struct tat_thread_ctl, head), 8);
		if (!head)
			continue;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t p = head + i;

			if (i == 0 && (live.code & 1)) {
				w = tat_ev_special(TAT_SUB_LOST, n);
				memcpy(&dropped, ctl + offsetof(struct tat_thread_ctl, dropped), 8);
				dropped += n;
				memcpy(ctl + offsetof(struct tat_thread_ctl, dropped), &dropped, 8);
			} else {
				w = *word_at(ring, slot, p + 1);
			}
			*word_at(ring, slot, p) = (w & ~(1ull << TAT_EV_COMMIT_SHIFT)) |
						  tat_ev_commit_bit(p, h->ring_shift);
		}
		head += n;	/* may wrap: a confused writer */
		memcpy(ctl + offsetof(struct tat_thread_ctl, head), &head, 8);
	}
}

/* ----------------------------------------------------- 1. the accessors */

/*
 * What open promises about the geometry (ring_reader.c): every table and
 * the ring data inside the file, and no two of them overlapping, so the
 * writer's ring stores never alias the tables.  Checked here independently
 * of the reader's own code.
 */
static void check_geometry(const struct tread_ring *ring)
{
	const struct tat_ring_header *h = &ring->hdr;
	struct { uint64_t off, len; } r[5] = {
		{ 0,             h->header_size },
		{ h->module_off, (uint64_t)h->module_cap * sizeof(struct tat_module) },
		{ h->site_off,   (uint64_t)h->site_cap * sizeof(struct tat_site) },
		{ h->thread_off, (uint64_t)h->max_threads * sizeof(struct tat_thread_ctl) },
		{ h->data_off,   (uint64_t)h->max_threads << (h->ring_shift + 3) },
	};

	static const char *const name[5] = {
		"header", "module table", "site table", "thread table", "ring data",
	};

	CHECK(h->ring_shift >= 1 && h->ring_shift <= 40 && h->max_threads >= 1);
	for (int i = 0; i < 5; i++) {
		CHECK(r[i].off % 8 == 0);
		CHECK(r[i].off <= ring->size && r[i].len <= ring->size - r[i].off);
		for (int j = 0; j < i; j++) {
			if (!r[i].len || !r[j].len)
				continue;
			if (r[i].off + r[i].len <= r[j].off ||
			    r[j].off + r[j].len <= r[i].off)
				continue;
			fprintf(stderr, "open accepted overlapping regions: %s "
				"[%#llx, +%#llx) and %s [%#llx, +%#llx)\n",
				name[j], (unsigned long long)r[j].off,
				(unsigned long long)r[j].len, name[i],
				(unsigned long long)r[i].off, (unsigned long long)r[i].len);
			CHECK(!"tables overlap");
		}
	}
}

static void check_accessors(const struct tread_ring *ring)
{
	const struct tat_ring_header *h = &ring->hdr;
	uint32_t modules = tread_ring_module_count(ring);
	uint32_t sites = tread_ring_site_count(ring);

	check_geometry(ring);
	CHECK(ring->size == h->file_size);
	CHECK(modules <= h->module_cap);
	CHECK(sites <= ring->site_cap && ring->site_cap <= TAT_EV_SITE_MAX + 1);
	CHECK(ring->ring_events == 1ull << h->ring_shift);

	for (uint32_t i = 0; i <= modules; i++) {
		struct tread_module m;
		int ret = tread_ring_module(ring, i, &m);

		if (i == modules) {
			CHECK(ret == -ERANGE);
			continue;
		}
		CHECK(ret == 0 || ret == -EBADMSG);
		CHECK(strnlen(m.path, sizeof(m.path)) < sizeof(m.path));
		CHECK(m.build_id_len <= TAT_BUILD_ID_MAX);
		CHECK((ret == 0) == (m.path[0] != 0));
	}
	for (uint32_t i = 0; i <= sites; i++) {
		struct tat_site s;
		int ret = tread_ring_site(ring, i, &s);

		CHECK(ret == 0 ? i > 0 && i < sites : ret == -ERANGE);
	}
	for (uint32_t slot = 0; slot < h->max_threads; slot++) {
		uint64_t head = tread_ring_head(ring, slot);

		(void)tread_ring_tail(ring, slot);
		(void)tread_ring_tid(ring, slot);
		(void)tread_ring_dropped(ring, slot);
		(void)tread_ring_deep(ring, slot);
		(void)tread_ring_word(ring, slot, head);
		(void)tread_ring_word(ring, slot, head - 1);
	}
	(void)tread_ring_mode(ring);
	(void)tread_ring_threads_overflow(ring);
	(void)tread_ring_ticks_to_us(ring, UINT64_MAX);
	(void)tread_ring_ticks_to_ns(ring, UINT64_MAX);
	(void)tread_ring_tsc_to_real_ns(ring, 0);
	(void)tread_ring_tsc_to_real_ns(ring, UINT64_MAX);
	(void)tread_ring_tsc_to_real_ns(ring, h->calib_tsc);
	(void)tread_ring_clock_ns(ring, 0, TREAD_CLOCK_REALTIME);
	(void)tread_ring_clock_ns(ring, UINT64_MAX, TREAD_CLOCK_REALTIME);
	(void)tread_ring_clock_ns(ring, h->calib_tsc, TREAD_CLOCK_MONOTONIC);
	(void)tread_ring_clock_ns(ring, 0, TREAD_CLOCK_MONOTONIC);
}

/* ----------------------------------------------------- 2. the site names */

static void check_names(const struct tread_ring *ring, struct tread_site_names *names)
{
	uint32_t sites = tread_ring_site_count(ring);
	uint32_t end = sites + 2 < ring->site_cap ? sites + 2 : ring->site_cap;
	const char *first = NULL;

	/* Indexes past the table are left to the events that name them: the
	 * first one costs a 16 MiB cache (site_names.c), too slow to pay
	 * for every input. */
	for (uint32_t i = 0; i < end; i++) {
		const char *n = tread_site_name(names, i);

		CHECK(n && strnlen(n, 4096) < 4096);
		if (i == 1)
			first = n;
	}
	/* Resolved once and kept: the same pointer the second time. */
	if (sites > 1)
		CHECK(tread_site_name(names, 1) == first);
	CHECK(tread_site_name(names, TAT_EV_SITE_MAX + 1) != NULL);
}

/* ---------------------------------------------- 3. every slot, directly */

static void check_event(const struct tread_event *ev, uint32_t slot)
{
	uint64_t sum = 0;

	/* No upper bound on kind: tread grows new kinds (TREAD_EV_DEPTH...). */
	CHECK(ev->slot == slot);
	CHECK(ev->site <= TAT_EV_SITE_MAX);
	if (ev->kind == TREAD_EV_LOST) {
		for (int r = 0; r < TREAD_LOST_REASONS; r++)
			sum = __builtin_add_overflow(sum, ev->lost[r], &sum) ? UINT64_MAX : sum;
		CHECK(ev->count == sum);
	}
	if (ev->kind != TREAD_EV_EXIT)
		CHECK(!ev->unwound);
	if (ev->undated)
		CHECK(ev->kind == TREAD_EV_LOST && ev->tsc == 0);
}

static void read_slot(const struct tread_ring *ring, uint32_t slot, bool gone,
		      unsigned live_rounds)
{
	struct tread_stream *s = tread_stream_new(ring, slot);
	uint64_t last_pos = 0, start;

	CHECK(s);
	start = s->pos;
	CHECK(s->chunk_cap >= 1 && s->chunk_cap <= TREAD_STREAM_CHUNK &&
	      s->chunk_cap <= ring->ring_events);
	for (unsigned round = 0; round <= live_rounds; round++) {
		bool final = round == live_rounds;
		const struct tread_event *ev;

		tread_stream_refresh(s, final, gone);
		CHECK(tread_stream_peek(s, 2) == NULL);
		while ((ev = tread_stream_peek(s, 0)) != NULL) {
			struct tread_event first = *ev;
			const struct tread_event *next = tread_stream_peek(s, 1);

			/* Looking further must not disturb the next event. */
			CHECK(memcmp(tread_stream_peek(s, 0), &first, sizeof(first)) == 0);
			check_event(&first, slot);
			if (next)
				check_event(next, slot);
			/* A LOST event carries the position of the first word that
			 * told of the loss, which may precede events already
			 * handed out; the others come in ring order. */
			CHECK(first.pos >= start && first.pos <= s->pos);
			if (first.kind != TREAD_EV_LOST)
				CHECK(first.pos >= last_pos);
			if (!tread_stream_ripe(s, &first))
				break;
			if (first.kind != TREAD_EV_LOST)
				last_pos = first.pos;
			tread_stream_pop(s);
			CHECK(tread_stream_consumed(s) <= s->pos);
		}
		CHECK(tread_stream_consumed(s) <= s->pos);
		(void)tread_stream_unread(s);
		if (!final)
			writer_step(ring);
	}
	free(s);
}

/* ------------------------------------------------ 4., 5. graph and report */

static enum tread_time_mode time_mode(uint64_t knobs)
{
	return (enum tread_time_mode)((knobs >> KNOB_TIME_SHIFT) & 7);
}

static void run_graph(const struct tread_ring *ring, struct tread_site_names *names,
		      uint64_t knobs, int32_t tid)
{
	unsigned live = (knobs >> KNOB_ROUNDS_SHIFT) & 3;
	bool gone = knobs & KNOB_GONE;
	struct tread_trace *trace;
	struct tread_graph *graph;
	struct sink sk;
	FILE *out = sink_open(&sk, knobs);
	int ret;

	CHECK(tread_trace_open(ring, &trace) == 0);
	CHECK(tread_graph_open(ring, names, out, tid, &graph) == 0);
	ret = tread_graph_set_time(graph, time_mode(knobs));
	CHECK(time_mode(knobs) <= TREAD_TIME_DELTA ? ret == 0 : ret == -EINVAL);
	ret = tread_graph_header(graph);
	for (unsigned round = 0; !ret && round <= live; round++) {
		ret = tread_trace_refresh(trace, round == live, gone);
		CHECK(ret == 0);
		ret = tread_graph_round(graph, trace);
		CHECK(ret == 0 || ret == -EPIPE);
		if (ring->writable)
			CHECK(tread_trace_consume(trace) == 0);
		else
			CHECK(tread_trace_consume(trace) == -EROFS);
		if (round < live)
			writer_step(ring);
	}
	if (!ret)
		ret = tread_graph_summary(graph, trace);
	CHECK(ret == 0 || ret == -EPIPE);
	CHECK(sk.fail || ret == 0);
	tread_graph_close(graph);
	tread_trace_close(trace);
	fclose(out);
}

static void run_report(const struct tread_ring *ring, struct tread_site_names *names,
		       uint64_t knobs, int32_t tid)
{
	unsigned live = (knobs >> KNOB_ROUNDS_SHIFT) & 3;
	bool gone = knobs & KNOB_GONE;
	struct tread_trace *trace;
	struct tread_report *report;
	struct sink sk;
	FILE *out = sink_open(&sk, knobs);
	int ret;

	CHECK(tread_trace_open(ring, &trace) == 0);
	CHECK(tread_report_open(ring, names, tid, &report) == 0);
	for (unsigned round = 0; round <= live; round++) {
		CHECK(tread_trace_refresh(trace, round == live, gone) == 0);
		CHECK(tread_report_round(report, trace) == 0);
		if (round < live)
			writer_step(ring);
	}
	ret = tread_report_print(report, trace, out);
	if (!ret && fflush(out) == EOF)
		ret = -EPIPE;
	CHECK(ret == 0 || (sk.fail && ret == -EPIPE));
	tread_report_close(report);
	tread_trace_close(trace);
	fclose(out);
}

/* ------------------------------------------------------------ 6. session */

static void run_session(const uint8_t *data, size_t size, uint64_t knobs)
{
	struct tread_session_config c = { 0 };
	volatile sig_atomic_t stop = 1;	/* --follow: the first round is the last */
	char path[64], err[512];
	struct sink sk;
	unsigned warnings = 0;
	int fd, ret;
	int32_t pid0 = 0;
	bool ok;

	fd = memfd_create("fuzz-ring", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	/* No liveness probe of whatever pid the input names. */
	if (size >= offsetof(struct tat_ring_header, pid) + sizeof(pid0) &&
	    pwrite(fd, &pid0, sizeof(pid0), offsetof(struct tat_ring_header, pid)) !=
	    sizeof(pid0))
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	c.path = path;
	c.follow = knobs & KNOB_WRITABLE;
	c.report = knobs & KNOB_REPORT;
	c.time = time_mode(knobs);
	c.out = sink_open(&sk, knobs);
	c.stop = &stop;
	c.warn = warn_cb;
	c.warn_arg = &warnings;
	err[0] = 0;
	ret = tread_session_run(&c, err, sizeof(err));
	CHECK(strnlen(err, sizeof(err)) < sizeof(err));
	ok = ret == 0 || ret == -EPIPE || ret == -EBADMSG ||
	     (ret == -EINVAL && !c.report && c.time > TREAD_TIME_DELTA);
	if (!ok)
		fprintf(stderr, "session: %d (%s): %s\n", ret, strerror(-ret), err);
	CHECK(ok);
	CHECK(ret != -EBADMSG || err[0]);
	fclose(c.out);
out:
	close(fd);
}

/* ------------------------------------------------------------------ all */

static uint64_t knobs_of(const uint8_t *data, size_t size)
{
	size_t off = offsetof(struct tat_ring_header, reserved);
	uint64_t k = 0;

	if (size >= off + sizeof(k))
		memcpy(&k, data + off, sizeof(k));
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t knobs = knobs_of(data, size);
	struct tread_site_names *names;
	struct tread_ring *ring;
	unsigned warnings = 0;
	char err[256];
	uint8_t *buf;
	int32_t tid = 0;
	int ret;

	/* A private, exactly sized copy: ASan sees any read past the end,
	 * and a writable ring may store tails into it. */
	buf = malloc(size ? size : 1);
	CHECK(buf);
	if (size)
		memcpy(buf, data, size);

	err[0] = 0;
	if (knobs & KNOB_WRITABLE)
		ret = tread_ring_open_writable_buffer(buf, size, &ring, err, sizeof(err));
	else
		ret = tread_ring_open_buffer(buf, size, &ring, err, sizeof(err));
	if (ret) {
		CHECK(ret == -EBADMSG && err[0] && ring == NULL);
		goto session;
	}
	CHECK(ring->writable == !!(knobs & KNOB_WRITABLE));

	check_accessors(ring);
	CHECK(tread_site_names_open(ring, 0, warn_cb, &warnings, &names) == 0);
	check_names(ring, names);

	live.buf = buf;
	live.code = (knobs >> KNOB_WRITER_SHIFT) & 15;
	/* Each pass starts from the input: the writer changed the image. */
	for (uint32_t slot = 0; slot < ring->hdr.max_threads; slot++) {
		read_slot(ring, slot, knobs & KNOB_GONE, (knobs >> KNOB_ROUNDS_SHIFT) & 3);
		if (live.code)
			memcpy(buf, data, size);
	}

	if (knobs & KNOB_TID_FILTER)
		tid = tread_ring_tid(ring, 0);
	run_graph(ring, names, knobs, tid);
	if (live.code)
		memcpy(buf, data, size);
	run_report(ring, names, knobs, tid);
	if (live.code)
		memcpy(buf, data, size);

	tread_site_names_close(names);
	tread_ring_close(ring);
session:
	if (knobs & KNOB_SESSION)
		run_session(buf, size, knobs);
	free(buf);
	return 0;
}
