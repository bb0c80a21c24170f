/* SPDX-License-Identifier: MIT */
/*
 * Building an export model (struct tread_xtrace) by hand in a test:
 * processes, threads and functions, then calls and returns in time order
 * per thread; xb_finish() merges the threads by time as the collector
 * does.  Also: a fresh temporary folder, and a check that a client
 * program (uftrace, babeltrace2) is installed.
 */
#ifndef TATTACH_TEST_XMODEL_H
#define TATTACH_TEST_XMODEL_H

#include <stdint.h>

#include "consumer/export/export.h"

struct xbuild {
	struct tread_xtrace x;
	size_t cap_procs, cap_threads, cap_funcs, cap_events;
	/* per thread: stack of open functions (depth = its height) */
	uint32_t **stack;
	uint32_t  *height;
};

uint32_t xb_proc(struct xbuild *b, int32_t pid, const char *host, const char *exe,
		 const char *comm, uint64_t mono_ns, uint64_t real_ns);
uint32_t xb_thread(struct xbuild *b, uint32_t proc, int32_t tid, const char *name);
uint32_t xb_func(struct xbuild *b, uint32_t proc, const char *name,
		 const char *module, uint64_t base, uint64_t addr);
/* An ENTRY of @func on @thread at @t. */
void xb_call(struct xbuild *b, uint32_t thread, uint32_t func, uint64_t t);
/* The EXIT of the innermost open call of @thread. */
void xb_ret(struct xbuild *b, uint32_t thread, uint64_t t);
/* The same, flagged as made up by the collector. */
void xb_ret_synthetic(struct xbuild *b, uint32_t thread, uint64_t t);
void xb_lost(struct xbuild *b, uint32_t thread, uint64_t t, uint64_t count);
/* Sort the events by time (stable: ties keep their order). */
void xb_finish(struct xbuild *b);
void xb_free(struct xbuild *b);

/* A new empty folder under /tmp (static buffer, one per call site use). */
char *xtmpdir(void);
/* Remove a folder made by xtmpdir and what it holds. */
void xrmdir(const char *dir);
/* Fail the test, saying to run make deps, unless @prog runs. */
void require_client(const char *prog);
/* Run a shell command line, capture stdout; returns the exit status,
 * and fails the test with stderr when it is not 0 and @must_succeed. */
int sh_capture(const char *cmd, char **out, int must_succeed);

#endif
