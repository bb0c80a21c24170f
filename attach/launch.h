/* SPDX-License-Identifier: MIT */
/* tattach [options] -- COMMAND: start a program traced from its entry point. */
#ifndef TATTACH_LAUNCH_H
#define TATTACH_LAUNCH_H

#include "attach/session.h"

/* Exit statuses of tattach itself when it runs a command (as env(1),
 * timeout(1) and the shells use them): the command's own status
 * otherwise, or 128 + N when signal N killed it. */
#define LAUNCH_FAILED     125	/* tattach failed: the command did not run */
#define LAUNCH_CANNOT_RUN 126	/* found, but exec refused it */
#define LAUNCH_NOT_FOUND  127

struct launch_opts {
	char *const *argv;		/* the command and its arguments */
	const char *save_path;		/* -o FILE: save the trace there, or NULL */
	int verbose;
};

/*
 * launch_run - run @lo->argv with tracing enabled (the options of @o, whose
 * pid is filled in) before any code of the program itself runs, its
 * constructors included; wait for it, forwarding the SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT sent to tattach; then, with a save path, have tread
 * save the trace.
 * Returns the exit status tattach should exit with: the command's, 128 +
 * the signal that killed it, or one of the LAUNCH_* values (the reason
 * printed).
 */
int launch_run(struct session_opts *o, const struct launch_opts *lo);

/*
 * launch_save - write the trace in @ring to @file by running
 * 'tread -i RING --save FILE' (tread next to this tattach, else from PATH).
 * Returns 0 or tread's non-zero exit status (tread said why).
 */
int launch_save(const char *ring, const char *file);

#endif
