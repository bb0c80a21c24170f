/* SPDX-License-Identifier: MIT */
/*
 * One trace to read: a ring file, or a saved trace (consumer/input/savefile.h),
 * opened the same way so the graph, the report and the exports never ask
 * which one it is.
 *
 * Besides the ring (events, site and module tables, clock calibration) an
 * input knows what a reader elsewhere would miss: the host name, the
 * program, the names of the threads and where each module starts.  For a
 * ring these come from this machine (/proc/PID while the process lives);
 * for a saved trace from the file, and nothing on this machine is read.
 */
#ifndef TATTACH_CONSUMER_TRACE_INPUT_H
#define TATTACH_CONSUMER_TRACE_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/decode/ring_reader.h"
#include "consumer/input/site_names.h"

#define TREAD_COMM_MAX 16	/* a thread name, NUL included (TASK_COMM_LEN) */
#define TREAD_HOST_MAX 256

struct tread_input_thread {
	int32_t tid;
	char    name[TREAD_COMM_MAX];
};

struct tread_saved;

struct tread_input {
	const char *path;
	struct tread_ring *ring;
	struct tread_site_names *names;
	bool     saved;		/* a saved trace: nothing writes it any more */
	bool     alive;		/* the traced program runs now (rings only) */
	unsigned image;		/* N: the kept ring of a program its process
				 * ran before an exec, named
				 * tattach-PID.START.imageN.ring; 0: any other */
	char     host[TREAD_HOST_MAX];	/* "" when unknown */
	char     exe[TAT_PATH_MAX];	/* "" when unknown */
	char     comm[TREAD_COMM_MAX];	/* "" when unknown */
	struct tread_input_thread *threads;	/* names known, by tid */
	size_t   nthreads;
	uint64_t *module_base;	/* [hdr.module_cap]: see module_base.h */
	struct tread_saved *saved_file;	/* owns what a saved trace points to */
};

struct tread_input_config {
	int  pid;		/* the -p PID, for the "not attached" hint; 0 */
	bool writable;		/* tread -f: map the ring read-write */
	tread_warn_fn warn;	/* modules that cannot be read...; may be NULL */
	void *warn_arg;
};

/*
 * tread_input_open - open @path, a ring file or a saved trace
 * @err, @errlen: "<path>: <why>" in one line on failure
 *
 * Returns 0, -errno from the file system, -EBADMSG for contents that are
 * not a usable trace, -EROFS for a saved trace opened writable (tread -f
 * has nothing to follow in it), -ENOMEM.
 */
int tread_input_open(const char *path, const struct tread_input_config *c,
		     struct tread_input **out, char *err, size_t errlen);

/*
 * tread_input_open_saved_buffer - a saved trace held in memory (copied);
 * @name stands for the path in messages.  For tests and fuzzing.
 */
int tread_input_open_saved_buffer(const char *name, const void *buf, size_t len,
				  struct tread_input **out, char *err, size_t errlen);

void tread_input_close(struct tread_input *in);

/* The name of thread @tid, "" when unknown. */
const char *tread_input_thread_name(const struct tread_input *in, int32_t tid);

/* No more events will ever be written (saved trace, or process gone). */
bool tread_input_writer_gone(const struct tread_input *in);

#endif /* TATTACH_CONSUMER_TRACE_INPUT_H */
