/* SPDX-License-Identifier: MIT */
/*
 * A small export model with known calls, for the tests of the --html
 * page (tests/unit/test_export_html.c, tests/integration/
 * test_html_browser.c): two processes, three threads, a lost-events
 * mark, a call whose end was not seen, one left by longjmp and a function
 * name that would end a <script> element if it were not escaped.
 */
#ifndef TATTACH_TESTS_HTML_MODEL_H
#define TATTACH_TESTS_HTML_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "consumer/export/export.h"

#define XMODEL_T0 1764655200123456789ULL	/* CLOCK_REALTIME of time 0 */

enum { XM_MAIN, XM_HANDLE, XM_PARSE, XM_LOOKUP, XM_SEND, XM_NFUNCS };

struct xmodel_call {
	uint32_t thread;
	uint32_t func;
	uint64_t start, end;	/* ns after XMODEL_T0 */
	uint32_t depth;
	uint8_t  flags;		/* 1: end not seen, 2: unwound */
};

/* In entry order per thread, threads one after the other. */
extern const struct xmodel_call xmodel_calls[];
extern const size_t xmodel_ncalls;
#define XMODEL_NTHREADS 3
#define XMODEL_LOST_AT 5000	/* thread 1 lost 7 events here */
#define XMODEL_LOST_COUNT 7

/* Fills @x (events in time order); xmodel_free() releases it. */
void xmodel_build(struct tread_xtrace *x);
void xmodel_free(struct tread_xtrace *x);

/* Calls of @thread, and of function @func in any thread. */
size_t xmodel_thread_calls(uint32_t thread);
size_t xmodel_func_calls(uint32_t func);

#endif
