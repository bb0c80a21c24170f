// SPDX-License-Identifier: MIT
/* The known model of xmodel.h. */
#include <stdlib.h>

#include "lib/html_model.h"

static struct tread_xproc procs[] = {
	{ .pid = 100, .host = "hostA", .exe = "/usr/bin/server", .comm = "server" },
	{ .pid = 200, .host = "hostB", .exe = "/usr/bin/client", .comm = "client" },
};

static struct tread_xthread threads[XMODEL_NTHREADS] = {
	{ .proc = 0, .tid = 100, .name = "server" },
	{ .proc = 0, .tid = 101, .name = "worker" },
	{ .proc = 1, .tid = 200, .name = "client" },
};

static struct tread_xfunc funcs[XM_NFUNCS] = {
	[XM_MAIN]   = { .name = "main", .file = "main.c", .line = 10, .module = "/usr/bin/server" },
	[XM_HANDLE] = { .name = "handle", .file = "srv.c", .line = 20, .module = "/usr/bin/server" },
	[XM_PARSE]  = { .name = "parse", .file = "srv.c", .line = 40, .module = "/usr/bin/server" },
	[XM_LOOKUP] = { .name = "lookup</script>&x", .module = "" },
	[XM_SEND]   = { .name = "send", .file = "cli.c", .line = 7, .module = "/usr/bin/client" },
};

const struct xmodel_call xmodel_calls[] = {
	{ 0, XM_MAIN,      0, 10000, 0, 0 },
	{ 0, XM_HANDLE, 1000,  6000, 1, 0 },
	{ 0, XM_PARSE,  1500,  2500, 2, 0 },
	{ 0, XM_LOOKUP, 3000,  3100, 2, 0 },
	{ 0, XM_LOOKUP, 3200,  3300, 2, 0 },
	{ 0, XM_HANDLE, 7000,  9000, 1, 0 },
	{ 0, XM_LOOKUP, 7500,  7600, 2, 0 },
	{ 1, XM_HANDLE, 2000,  4000, 0, 0 },
	{ 1, XM_LOOKUP, 2100,  2200, 1, 0 },
	{ 1, XM_HANDLE, 6000,  8000, 0, 1 },	/* closed by the collector */
	{ 2, XM_MAIN,    500,  9500, 0, 0 },
	{ 2, XM_SEND,    600,   700, 1, 2 },	/* left by longjmp */
	{ 2, XM_SEND,    800,  5800, 1, 0 },
	{ 2, XM_LOOKUP,  900,  1000, 2, 0 },
};
const size_t xmodel_ncalls = sizeof(xmodel_calls) / sizeof(xmodel_calls[0]);

static int by_time(const void *a, const void *b)
{
	const struct tread_xevent *x = a, *y = b;

	/* no two events of one thread share a time in this model */
	return x->real_ns < y->real_ns ? -1 : x->real_ns > y->real_ns;
}

void xmodel_build(struct tread_xtrace *x)
{
	size_t n = 0, cap = 2 * xmodel_ncalls + 1;
	struct tread_xevent *ev = calloc(cap, sizeof(*ev));

	if (!ev)
		abort();
	for (size_t i = 0; i < xmodel_ncalls; i++) {
		const struct xmodel_call *c = &xmodel_calls[i];

		ev[n++] = (struct tread_xevent){ .real_ns = XMODEL_T0 + c->start, .thread = c->thread,
			.func = c->func, .kind = TREAD_X_ENTRY, .depth = c->depth };
		ev[n++] = (struct tread_xevent){ .real_ns = XMODEL_T0 + c->end, .thread = c->thread,
			.func = c->func, .kind = TREAD_X_EXIT, .depth = c->depth,
			.synthetic = c->flags & 1, .unwound = (c->flags & 2) != 0 };
	}
	ev[n++] = (struct tread_xevent){ .real_ns = XMODEL_T0 + XMODEL_LOST_AT, .thread = 1,
		.kind = TREAD_X_LOST, .count = XMODEL_LOST_COUNT };
	qsort(ev, n, sizeof(*ev), by_time);
	*x = (struct tread_xtrace){ .procs = procs, .nprocs = 2, .threads = threads,
		.nthreads = XMODEL_NTHREADS, .funcs = funcs, .nfuncs = XM_NFUNCS,
		.events = ev, .nevents = n };
}

void xmodel_free(struct tread_xtrace *x)
{
	free(x->events);
	x->events = NULL;
	x->nevents = 0;
}

size_t xmodel_thread_calls(uint32_t thread)
{
	size_t n = 0;

	for (size_t i = 0; i < xmodel_ncalls; i++)
		n += xmodel_calls[i].thread == thread;
	return n;
}

size_t xmodel_func_calls(uint32_t func)
{
	size_t n = 0;

	for (size_t i = 0; i < xmodel_ncalls; i++)
		n += xmodel_calls[i].func == func;
	return n;
}
