/* SPDX-License-Identifier: MIT */
/*
 * tread's command line, parsed into a struct so it can be tested without
 * running anything.
 */
#ifndef TATTACH_CONSUMER_CLI_H
#define TATTACH_CONSUMER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "consumer/filter.h"
#include "consumer/export/export.h"
#include "consumer/views/graph.h"

#ifndef TATTACH_VERSION
#define TATTACH_VERSION "0.1"
#endif

enum tread_action {
	TREAD_ACTION_RUN = 0,
	TREAD_ACTION_HELP,
	TREAD_ACTION_VERSION,
};

/* Most -i options in one run. */
#define TREAD_MAX_INPUTS 64

/* "chrome" -> TREAD_EXPORT_CHROME...; -1 for an unknown name. */
int tread_export_format_parse(const char *name);

/* "abs" -> TREAD_TIME_ABS...; -1 for an unknown name. */
int tread_time_mode_parse(const char *name);

struct tread_options {
	enum tread_action action;
	int         pid;		/* -p: read /dev/shm/tattach-PID.ring */
	const char *input;		/* -i: read this file */
	bool        follow;		/* -f: keep reading, consume */
	bool        report;		/* --report: per-function table */
	int32_t     tid;		/* --tid: only this thread, 0 = all */
	enum tread_time_mode time;	/* --time */
	struct tread_filter_spec filter; /* -F -N --tid -D --min-duration --since --until */
	bool        hist;		/* --hist [FUNC...]: latency histograms */
	char      **hist_funcs;		/* the FUNC arguments (in argv), NULL-ended */
	unsigned    nhist_funcs;
	bool        stat;		/* --stat [INTERVAL]: live table */
	uint64_t    stat_interval_ns;	/* default 1 s */
	unsigned    rows;		/* -n: rows of --stat, 0 = all */
	bool        stuck;		/* --stuck: calls in flight */
	uint64_t    older_than_ns;	/* --older-than */
	bool        srcline;		/* --srcline: file:line of functions */
	char        sort_keys[8];	/* -s: enum tread_report_key, 0-ended */
	bool        per_thread;		/* --report --per-thread */
	/* Several -i: merged on CLOCK_REALTIME (docs/tread.md). */
	const char *inputs[TREAD_MAX_INPUTS];	/* every -i, in order */
	size_t      ninputs;
	const char *save;		/* --save FILE: write a saved trace */
	bool        export_set;		/* --export given */
	enum tread_export_format export_format;
	const char *output;		/* -o: the export's file or folder */
	const char *html;		/* --html FILE: the time line page */
	bool        children;		/* --children: -p PID and its traced
					 * descendants, merged as several -i */
};

/*
 * tread_parse_args - parse argv into @o
 * @err, @errlen: on failure, what is wrong (without "tread: ")
 *
 * Returns 0, or -EINVAL for a usage error.  Resets getopt, so it may be
 * called more than once.
 */
int tread_parse_args(int argc, char **argv, struct tread_options *o,
		     char *err, size_t errlen);

/* The --help text. */
void tread_print_usage(FILE *out);

/* The --version text. */
void tread_print_version(FILE *out);

#endif /* TATTACH_CONSUMER_CLI_H */
