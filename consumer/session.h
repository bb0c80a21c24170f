/* SPDX-License-Identifier: MIT */
/*
 * One run of tread: open the ring, print the graph or the report, once or
 * (with follow) round after round until told to stop or the traced
 * process is gone.
 */
#ifndef TATTACH_CONSUMER_SESSION_H
#define TATTACH_CONSUMER_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "consumer/filter.h"
#include "consumer/views/graph.h"
#include "consumer/input/site_names.h"

struct tread_session_config {
	const char *path;		/* ring file */
	int         pid;		/* the -p PID, for the "not attached" hint; 0 */
	bool        follow;		/* keep reading and consume */
	bool        report;		/* --report instead of the graph */
	int32_t     tid;		/* only this thread, 0 = all */
	enum tread_time_mode time;	/* graph: the TIMESTAMP column */
	FILE       *out;
	unsigned    poll_ms;		/* follow: pause between rounds */
	volatile sig_atomic_t *stop;	/* follow: set (by a signal) to finish */
	tread_warn_fn warn;		/* non-fatal problems, may be NULL */
	void       *warn_arg;
	const struct tread_filter_spec *filter;	/* which calls to show; may be NULL */
	bool        srcline;		/* graph, report: file:line of functions */
	const char *sort_keys;		/* report: -s keys, 0-ended; may be NULL */
	bool        per_thread;		/* report: rows per thread */
	bool        hist;		/* --hist instead of the graph */
	char *const *hist_funcs;	/* --hist FUNC..., @nhist_funcs of them */
	unsigned    nhist_funcs;
	bool        stat;		/* --stat: live table */
	uint64_t    stat_interval_ns;
	unsigned    stat_rows;		/* -n, 0 = all */
	bool        stuck;		/* --stuck: calls in flight */
	uint64_t    older_than_ns;	/* --stuck --older-than */
	bool        out_is_tty;		/* --stat redraws in place */
};

/*
 * tread_session_run - do what @c says
 * @err, @errlen: on failure, "<what>: <why>" in one line
 *
 * Returns 0, -EPIPE when the output was closed by its reader or a stop
 * signal interrupted a blocked write (not worth a message), -EDOM when the
 * options ask for something the trace does not have (a usage error, such
 * as an unknown --hist function), or another -errno with @err set.
 */
int tread_session_run(const struct tread_session_config *c, char *err,
		      size_t errlen);

#endif /* TATTACH_CONSUMER_SESSION_H */
