// SPDX-License-Identifier: MIT
/*
 * tread: print what tattach traced.  Everything but process-wide concerns
 * (exit codes, signals, stdout) lives in the library; see session.c.
 *
 * Exit status: 0 success (also when the reader of a pipe went away),
 * 1 runtime failure, 2 usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/cli.h"
#include "consumer/export/collect.h"
#include "consumer/input/children.h"
#include "consumer/export/formats.h"
#include "consumer/export/html.h"
#include "consumer/export/merged_graph.h"
#include "consumer/input/savefile.h"
#include "consumer/session.h"
#include "consumer/input/trace_input.h"
#include "ringfiles/ringfiles.h"
#include "tattach/ring.h"

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/*
 * The ring file is shared with the traced process, which could shrink it
 * under our mapping; touching the lost pages raises SIGBUS, and so does a
 * page of a part never written when the file is in a full tmpfs (which
 * gives a page even to a reader).  Say so in one line instead of dumping
 * core.
 */
static void on_sigbus(int sig)
{
	static const char msg[] =
		"tread: a page of the ring file could not be read: the file shrank (truncated "
		"by its writer?), or its folder is full (a tmpfs gives a page even to a "
		"reader); free space there and try again\n";
	ssize_t n;

	(void)sig;
	n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	_exit(1);
}

static void set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must cut the --follow pause short. */
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_sigbus;
	sigaction(SIGBUS, &sa, NULL);
	/* `tread | head`: see EPIPE on write and stop quietly. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void warn_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "tread: warning: %s\n", msg);
}

/* tread --save FILE */
static int save(const struct tread_options *opt, const char *path)
{
	struct tread_input_config ic = { .pid = opt->pid, .warn = warn_stderr };
	struct tread_input *in;
	char err[1024];
	int ret;

	ret = tread_input_open(path, &ic, &in, err, sizeof(err));
	if (!ret) {
		ret = tread_save(in, opt->save, err, sizeof(err));
		tread_input_close(in);
	}
	if (ret) {
		fprintf(stderr, "tread: %s\n", err);
		return 1;
	}
	return 0;
}

/* tread --export FORMAT [-o OUT], tread --html FILE */
static int export(const struct tread_options *opt, const char *pid_path)
{
	struct tread_collect_config cc = {
		.inputs = opt->pid ? &pid_path : opt->inputs,
		.ninputs = opt->pid ? 1 : opt->ninputs,
		.tid = opt->tid, .warn = warn_stderr, .pid = opt->pid,
		.filter = &opt->filter,
	};
	struct tread_xtrace *x;
	char err[1024];
	int ret;

	ret = tread_collect(&cc, &x, NULL, err, sizeof(err));
	if (!ret) {
		ret = opt->html ? tread_export_html(x, opt->html, err, sizeof(err)) :
		      tread_export_write(opt->export_format, x, opt->output, err,
					 sizeof(err));
		tread_xtrace_free(x);
	}
	if (ret == -EPIPE)
		return 0;
	if (ret) {
		fprintf(stderr, "tread: %s\n", err);
		return 1;
	}
	return 0;
}

/* tread -i A -i B ...: one graph of several traces */
static int merged_graph(const struct tread_options *opt)
{
	struct tread_collect_config cc = {
		.inputs = opt->inputs, .ninputs = opt->ninputs,
		.tid = opt->tid, .warn = warn_stderr, .filter = &opt->filter,
	};
	struct tread_collect_stats stats;
	struct tread_xtrace *x;
	char err[1024];
	int ret;

	ret = tread_collect(&cc, &x, &stats, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "tread: %s\n", err);
		return 1;
	}
	ret = tread_merged_graph_print(x, &stats, opt->time, stdout);
	tread_xtrace_free(x);
	if (ret == -EPIPE || ret == 0)
		return 0;
	fprintf(stderr, "tread: %s\n", ret == -ENOMEM ? "out of memory" : strerror(-ret));
	return 1;
}

int main(int argc, char **argv)
{
	struct tread_options opt;
	struct tread_session_config cfg = { 0 };
	char err[1024], path[4096 + 64];
	int ret;

	if (tread_parse_args(argc, argv, &opt, err, sizeof(err))) {
		fprintf(stderr, "tread: %s\nTry 'tread --help' for more information.\n",
			err);
		return 2;
	}
	if (opt.action == TREAD_ACTION_HELP) {
		tread_print_usage(stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (opt.action == TREAD_ACTION_VERSION) {
		tread_print_version(stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}

	set_signals();
	/* Lines come by the million: write them in big blocks (-f flushes
	 * after every round). */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 64 << 10);
	if (opt.pid)
		/* the same folder tattach uses */
		snprintf(path, sizeof(path), "%.4096s/tattach-%d.ring", ringfiles_dir(), opt.pid);
	if (opt.children) {
		void *kids;

		/* the parent and its traced descendants, as several -i */
		ret = tread_children_inputs(path, opt.pid, opt.inputs, TREAD_MAX_INPUTS,
					    &kids, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "tread: %s\n", err);
			return 1;
		}
		opt.ninputs = (size_t)ret;
		opt.input = opt.inputs[0];
		opt.pid = 0;
		ret = opt.export_set || opt.html ? export(&opt, path) : merged_graph(&opt);
		free(kids);
		return ret;
	}
	if (opt.save)
		return save(&opt, opt.pid ? path : opt.input);
	if (opt.export_set || opt.html)
		return export(&opt, path);
	if (opt.ninputs > 1)
		return merged_graph(&opt);
	cfg.path = opt.pid ? path : opt.input;
	cfg.pid = opt.pid;
	cfg.follow = opt.follow;
	cfg.report = opt.report;
	cfg.tid = opt.tid;
	cfg.time = opt.time;
	cfg.out = stdout;
	cfg.poll_ms = 20;
	cfg.stop = &stop_flag;
	cfg.warn = warn_stderr;
	cfg.filter = &opt.filter;
	cfg.srcline = opt.srcline;
	cfg.sort_keys = opt.sort_keys;
	cfg.per_thread = opt.per_thread;
	cfg.hist = opt.hist;
	cfg.hist_funcs = opt.hist_funcs;
	cfg.nhist_funcs = opt.nhist_funcs;
	cfg.stat = opt.stat;
	cfg.stat_interval_ns = opt.stat_interval_ns;
	cfg.stat_rows = opt.rows;
	cfg.stuck = opt.stuck;
	cfg.older_than_ns = opt.older_than_ns;
	cfg.out_is_tty = isatty(STDOUT_FILENO);

	ret = tread_session_run(&cfg, err, sizeof(err));
	if (ret == -EPIPE)
		return 0;
	if (ret == -EDOM) {	/* the options ask for what the trace lacks */
		fprintf(stderr, "tread: %s\n", err);
		return 2;
	}
	if (ret) {
		fprintf(stderr, "tread: %s\n", err);
		return 1;
	}
	return 0;
}
