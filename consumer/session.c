// SPDX-License-Identifier: MIT
/*
 * The read-print(-consume) loop behind tread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "consumer/graph.h"
#include "consumer/proc_alive.h"
#include "consumer/report.h"
#include "consumer/ring_reader.h"
#include "consumer/session.h"
#include "consumer/site_names.h"
#include "consumer/trace.h"
#include "consumer/trace_input.h"

struct session {
	const struct tread_session_config *cfg;
	struct tread_input *input;	/* owns ring and names */
	struct tread_ring *ring;
	struct tread_site_names *names;
	struct tread_trace *trace;
	struct tread_graph *graph;
	struct tread_report *report;
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int open_input(struct session *s, char *err, size_t errlen)
{
	const struct tread_session_config *c = s->cfg;
	struct tread_input_config ic = {
		.pid = c->pid, .writable = c->follow,
		.warn = c->warn, .warn_arg = c->warn_arg,
	};
	int ret = tread_input_open(c->path, &ic, &s->input, err, errlen);

	if (ret)
		return ret;
	s->ring = s->input->ring;
	s->names = s->input->names;
	return 0;
}

static bool stop_requested(const struct tread_session_config *c)
{
	return c->stop && *c->stop;
}

static int write_failed(const struct tread_session_config *c, int ret, char *err,
			size_t errlen)
{
	/* The reader went away, or ^C hit us blocked on a full pipe: quiet. */
	if (ret == -EPIPE || (ret == -EINTR && stop_requested(c)))
		return -EPIPE;
	if (ret == -ENOMEM)
		return fail(err, errlen, ret, "out of memory");
	return fail(err, errlen, ret, "write error: %s", strerror(-ret));
}

static int flush_out(FILE *out)
{
	errno = 0;
	if (fflush(out) == EOF || ferror(out))
		return errno ? -errno : -EIO;
	return 0;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	/* A signal cuts it short, which is what --follow wants. */
	nanosleep(&ts, NULL);
}

static int rounds(struct session *s)
{
	const struct tread_session_config *c = s->cfg;
	int ret;

	for (;;) {
		bool gone = tread_input_writer_gone(s->input);
		bool final = !c->follow || gone || stop_requested(c);

		ret = tread_trace_refresh(s->trace, final, gone);
		if (ret)
			return ret;
		if (s->report)
			ret = tread_report_round(s->report, s->trace);
		else
			ret = tread_graph_round(s->graph, s->trace);
		if (ret)
			return ret;
		if (c->follow) {
			tread_trace_consume(s->trace);
			ret = flush_out(c->out);
			if (ret)
				return ret;
		}
		if (final)
			return 0;
		pause_ms(c->poll_ms ? c->poll_ms : 20);
	}
}

int tread_session_run(const struct tread_session_config *c, char *err,
		      size_t errlen)
{
	struct session s = { .cfg = c };
	int ret;

	ret = open_input(&s, err, errlen);
	if (ret)
		return ret;

	ret = tread_trace_open(s.ring, &s.trace);
	if (!ret && c->report)
		ret = tread_report_open(s.ring, s.names, c->tid, &s.report);
	else if (!ret)
		ret = tread_graph_open(s.ring, s.names, c->out, c->tid, &s.graph);
	if (ret) {
		ret = fail(err, errlen, ret, "out of memory");
		goto out;
	}

	if (s.graph && tread_graph_set_time(s.graph, c->time)) {
		ret = fail(err, errlen, -EINVAL, "unknown --time mode %d", (int)c->time);
		goto out;
	}
	if (s.graph)
		ret = tread_graph_header(s.graph);
	if (!ret)
		ret = rounds(&s);
	if (!ret && s.graph)
		ret = tread_graph_summary(s.graph, s.trace);
	if (!ret && s.report)
		ret = tread_report_print(s.report, s.trace, c->out);
	if (!ret)
		ret = flush_out(c->out);
	if (ret)
		ret = write_failed(c, ret, err, errlen);
out:
	tread_report_close(s.report);
	tread_graph_close(s.graph);
	tread_trace_close(s.trace);
	tread_input_close(s.input);
	return ret;
}
