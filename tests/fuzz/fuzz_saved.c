// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the input is a whole saved trace (consumer/input/savefile.h,
 * docs/trace-file-format.md), as anyone could hand one to `tread -i`.
 *
 * It goes through what tread does with a saved trace, output thrown away:
 *
 *   1. consumer/input/savefile.c      the header and section walk, every section
 *      parser (process, threads, sites and their strings, modules), and
 *      the ring section through consumer/decode/ring_reader.c;
 *   2. consumer/input/site_names.c    the names table: a name (and file, line)
 *      for every site index and some past the table;
 *   3. consumer/decode/trace.c + graph.c + report.c  the graph, with a --time
 *      column chosen by the input's last byte, and the report;
 *   4. consumer/export/collect.c and the Chrome, folded and flame graph
 *      writers: the input, through a memfd, is collected into the export
 *      model (balancing hostile events) and written to files in a private
 *      temporary folder, which must then hold the three files and nothing
 *      else.
 *
 * Promises checked: an input is refused only with -EBADMSG,
 * -EPROTONOSUPPORT or -ENOMEM and a one-line reason; an accepted one has
 * terminated strings and tables as large as the ring says.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "consumer/export/collect.h"
#include "consumer/export/export.h"
#include "consumer/views/graph.h"
#include "consumer/views/report.h"
#include "consumer/input/savefile.h"
#include "consumer/decode/trace.h"
#include "consumer/input/trace_input.h"

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

/* The model keeps its promises (export.h): indexes in range, balanced. */
static void check_model(const struct tread_xtrace *x)
{
	uint32_t *depth = calloc(x->nthreads ? x->nthreads : 1, sizeof(*depth));

	CHECK(depth);
	CHECK(x->nprocs == 1);
	for (size_t i = 0; i < x->nthreads; i++)
		CHECK(x->threads[i].proc < x->nprocs && x->threads[i].name);
	for (size_t i = 0; i < x->nfuncs; i++)
		CHECK(x->funcs[i].name && x->funcs[i].module && x->funcs[i].proc == 0);
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];

		CHECK(e->thread < x->nthreads);
		if (e->kind == TREAD_X_ENTRY) {
			CHECK(e->func < x->nfuncs && e->depth == depth[e->thread]);
			depth[e->thread]++;
		} else if (e->kind == TREAD_X_EXIT) {
			CHECK(e->func < x->nfuncs && depth[e->thread] > 0);
			depth[e->thread]--;
			CHECK(e->depth == depth[e->thread]);
		} else {
			CHECK(e->kind == TREAD_X_LOST && e->count > 0);
		}
	}
	for (size_t t = 0; t < x->nthreads; t++)
		CHECK(depth[t] == 0);
	free(depth);
}

static char outdir[64];

static const struct {
	const char *file;
	int (*write)(const struct tread_xtrace *x, const char *out, char *err,
		     size_t errlen);
} writers[] = {
	{ "t.json", tread_export_chrome },
	{ "t.folded", tread_export_folded },
	{ "t.svg", tread_export_flamegraph },
};

static int count_files(void)
{
	struct dirent *de;
	DIR *d = opendir(outdir);
	int n = 0;

	CHECK(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The folder goes with the process. */
static void remove_outdir(void)
{
	char p[128];

	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", outdir, writers[i].file);
		unlink(p);
	}
	rmdir(outdir);
}

static void run_exports(const uint8_t *data, size_t size)
{
	struct tread_collect_config c = { .ninputs = 1 };
	struct tread_xtrace *x = NULL;
	char path[64], out[128], err[512] = "";
	const char *in[1] = { path };
	int fd, ret;

	if (!outdir[0]) {
		snprintf(outdir, sizeof(outdir), "/tmp/fuzz_saved.XXXXXX");
		CHECK(mkdtemp(outdir));
		atexit(remove_outdir);
	}
	fd = memfd_create("fuzz_saved", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	c.inputs = in;
	ret = tread_collect(&c, &x, NULL, err, sizeof(err));
	close(fd);
	if (ret) {
		CHECK(!x && err[0] && !strchr(err, '\n'));
		return;
	}
	check_model(x);
	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
		snprintf(out, sizeof(out), "%s/%s", outdir, writers[i].file);
		ret = writers[i].write(x, out, err, sizeof(err));
		if (ret)
			fprintf(stderr, "fuzz_saved: %s: %s\n", writers[i].file, err);
		CHECK(ret == 0);
	}
	CHECK(count_files() == 3);	/* no temporary file left */
	tread_xtrace_free(x);
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
	run_exports(data, size);
	return 0;
}
