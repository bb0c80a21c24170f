// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the input is a whole saved trace (consumer/savefile.h,
 * docs/trace-file-format.md), as anyone could hand one to `tread -i`.
 *
 * It goes through what tread does with a saved trace, output thrown away:
 *
 *   1. consumer/savefile.c      the header and section walk, every section
 *      parser (process, threads, sites and their strings, modules), and
 *      the ring section through consumer/ring_reader.c;
 *   2. consumer/site_names.c    the names table: a name (and file, line)
 *      for every site index and some past the table;
 *   3. consumer/trace.c + graph.c + report.c  the graph, with a --time
 *      column chosen by the input's last byte, and the report.
 *
 * Promises checked: an input is refused only with -EBADMSG,
 * -EPROTONOSUPPORT or -ENOMEM and a one-line reason; an accepted one has
 * terminated strings and tables as large as the ring says.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/graph.h"
#include "consumer/report.h"
#include "consumer/savefile.h"
#include "consumer/trace.h"
#include "consumer/trace_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
	volatile char last;

	(void)cookie;
	if (len)
		last = buf[len - 1];	/* the buffer must be readable */
	(void)last;
	return (ssize_t)len;
}

static FILE *sink_open(void)
{
	cookie_io_functions_t io = { .write = sink_write };
	FILE *f = fopencookie(NULL, "w", io);

	CHECK(f);
	return f;
}

static void check_input(struct tread_input *in)
{
	const struct tread_ring *ring = in->ring;

	CHECK(in->saved && ring && in->names && in->module_base);
	CHECK(strnlen(in->host, sizeof(in->host)) < sizeof(in->host));
	CHECK(strnlen(in->exe, sizeof(in->exe)) < sizeof(in->exe));
	CHECK(strnlen(in->comm, sizeof(in->comm)) < sizeof(in->comm));
	for (size_t i = 0; i < in->nthreads; i++)
		CHECK(strnlen(in->threads[i].name, TREAD_COMM_MAX) < TREAD_COMM_MAX);
	for (uint32_t i = 0; i < ring->hdr.module_cap; i++)
		(void)*(volatile uint64_t *)&in->module_base[i];
	/* every entry in use and a few past it (not all of a capacity of
	 * 2M: each unnamed one formats an address) */
	for (uint32_t s = 0; s < tread_ring_site_count(ring) + 3; s++) {
		struct tread_site_detail d;

		tread_site_detail(in->names, s, &d);
		CHECK(d.name && strlen(d.name) < 1u << 20);
		CHECK(!d.file || strlen(d.file) < 1u << 20);
		CHECK(d.file || d.line == 0);
	}
	CHECK(tread_input_writer_gone(in));
	CHECK(tread_input_thread_name(in, 12345) != NULL);
}

static void run_views(struct tread_input *in, enum tread_time_mode time)
{
	struct tread_trace *trace;
	struct tread_graph *graph;
	struct tread_report *report;
	FILE *out = sink_open();

	CHECK(tread_trace_open(in->ring, &trace) == 0);
	CHECK(tread_graph_open(in->ring, in->names, out, 0, &graph) == 0);
	CHECK(tread_graph_set_time(graph, time) == 0);
	CHECK(tread_graph_header(graph) == 0);
	CHECK(tread_trace_refresh(trace, true, true) == 0);
	CHECK(tread_graph_round(graph, trace) == 0);
	CHECK(tread_graph_summary(graph, trace) == 0);
	tread_graph_close(graph);
	tread_trace_close(trace);

	CHECK(tread_trace_open(in->ring, &trace) == 0);
	CHECK(tread_report_open(in->ring, in->names, 0, &report) == 0);
	CHECK(tread_trace_refresh(trace, true, true) == 0);
	CHECK(tread_report_round(report, trace) == 0);
	CHECK(tread_report_print(report, trace, out) == 0);
	tread_report_close(report);
	tread_trace_close(trace);
	fclose(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tread_input *in = NULL;
	char err[512] = "";
	int ret;

	ret = tread_input_open_saved_buffer("fuzz", data, size, &in, err, sizeof(err));
	if (ret) {
		CHECK(ret == -EBADMSG || ret == -EPROTONOSUPPORT || ret == -ENOMEM);
		CHECK(in == NULL);
		CHECK(err[0] && strnlen(err, sizeof(err)) < sizeof(err));
		CHECK(!strchr(err, '\n'));
		return 0;
	}
	check_input(in);
	run_views(in, size ? data[size - 1] % 6 : TREAD_TIME_NONE);
	tread_input_close(in);
	return 0;
}
