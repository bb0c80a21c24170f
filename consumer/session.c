// SPDX-License-Identifier: MIT
/*
 * The read-print(-consume) loop behind tread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "consumer/errmsg.h"
#include "consumer/views/graph.h"
#include "consumer/input/proc_alive.h"
#include "consumer/views/report.h"
#include "consumer/decode/ring_reader.h"
#include "consumer/session.h"
#include "consumer/decode/stats_reader.h"
#include "consumer/input/site_names.h"
#include "consumer/decode/trace.h"
#include "consumer/views/views.h"
#include "consumer/input/trace_input.h"

struct session {
	const struct tread_session_config *cfg;
	struct tread_input *input;	/* owns ring and names */
	struct tread_ring *ring;
	struct tread_site_names *names;
	struct tread_trace *trace;
	struct tread_graph *graph;
	struct tread_report *report;
	struct tread_filter *filter;
};


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
		return tread_errf(err, errlen, ret, "out of memory");
	return tread_errf(err, errlen, ret, "write error: %s", strerror(-ret));
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
		tread_filter_begin_round(s->filter, final);
		if (s->report)
			ret = tread_report_round_filtered(s->report, s->trace, s->filter);
		else
			ret = tread_graph_round(s->graph, s->trace);
		if (!ret && tread_filter_failed(s->filter))
			ret = -ENOMEM;
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

/* The graph shows events: say when calls were counted without any. */
static int stats_mode_note(FILE *out, const struct tread_ring *ring)
{
	int64_t n = tread_stats_total_calls(ring);

	if (n <= 0)
		return n < 0 ? -ENOMEM : 0;
	errno = 0;
	if (fprintf(out, "# %" PRId64 " calls were counted in stats mode, without "
		    "events: see --report, --hist, --stat\n", n) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

/* --hist, --stat, --stuck: the views of consumer/views/. */
static int run_view(struct session *s, bool writer_gone, char *err, size_t errlen)
{
	const struct tread_session_config *c = s->cfg;
	struct tread_view_ctx v = {
		.ring = s->ring, .names = s->names, .trace = s->trace,
		.filter = s->filter, .spec = c->filter, .out = c->out,
		.out_is_tty = c->out_is_tty, .poll_ms = c->poll_ms, .stop = c->stop,
		.err = err, .errlen = errlen,
	};
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (c->hist)
		ret = tread_hist_run(&v, c->hist_funcs, c->nhist_funcs, writer_gone);
	else if (c->stuck)
		ret = tread_stuck_run(&v, c->older_than_ns, writer_gone);
	else
		ret = tread_stat_run(&v, c->stat_interval_ns, c->stat_rows);
	if (!ret)
		ret = flush_out(c->out);
	if (ret && ret != TREAD_VIEW_USAGE && !(err && errlen && err[0]))
		ret = write_failed(c, ret, err, errlen);
	return ret;
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
	/* the regular expressions were checked with the options */
	if (!ret)
		ret = tread_filter_open(c->filter, s.trace, s.names, &s.filter);
	if (!ret && (c->hist || c->stat || c->stuck)) {
		ret = run_view(&s, tread_input_writer_gone(s.input), err, errlen);
		goto out;
	}
	if (!ret && c->report)
		ret = tread_report_open(s.ring, s.names, c->tid, &s.report);
	else if (!ret)
		ret = tread_graph_open(s.ring, s.names, c->out, c->tid, &s.graph);
	if (ret) {
		ret = tread_errf(err, errlen, ret, "out of memory");
		goto out;
	}

	if (s.report)
		tread_report_set_view(s.report, c->sort_keys, c->per_thread, c->srcline);
	if (s.graph) {
		tread_graph_set_filter(s.graph, s.filter);
		tread_graph_set_srcline(s.graph, c->srcline);
	}
	if (s.graph && tread_graph_set_time(s.graph, c->time)) {
		ret = tread_errf(err, errlen, -EINVAL, "unknown --time mode %d", (int)c->time);
		goto out;
	}
	if (s.graph)
		ret = tread_graph_header(s.graph);
	if (!ret)
		ret = rounds(&s);
	if (!ret && s.graph)
		ret = tread_graph_summary(s.graph, s.trace);
	if (!ret && s.graph)
		ret = stats_mode_note(c->out, s.ring);
	if (!ret && s.report)
		ret = tread_report_add_counters(s.report, s.filter != NULL);
	if (!ret && s.report)
		ret = tread_report_print(s.report, s.trace, c->out);
	if (!ret)
		ret = flush_out(c->out);
	if (ret)
		ret = write_failed(c, ret, err, errlen);
out:
	tread_filter_close(s.filter);
	tread_report_close(s.report);
	tread_graph_close(s.graph);
	tread_trace_close(s.trace);
	tread_input_close(s.input);
	return ret;
}
