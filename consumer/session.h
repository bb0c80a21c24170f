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

#include "consumer/graph.h"
#include "consumer/site_names.h"

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
};

/*
 * tread_session_run - do what @c says
 * @err, @errlen: on failure, "<what>: <why>" in one line
 *
 * Returns 0, -EPIPE when the output was closed by its reader or a stop
 * signal interrupted a blocked write (not worth a message), or another
 * -errno with @err set.
 */
int tread_session_run(const struct tread_session_config *c, char *err,
		      size_t errlen);

#endif /* TATTACH_CONSUMER_SESSION_H */
