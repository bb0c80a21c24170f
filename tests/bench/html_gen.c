// SPDX-License-Identifier: MIT
/*
 * html_gen CALLS OUT.html: a made-up trace of about CALLS calls (two
 * processes, four threads, call trees up to 10 deep with many short
 * leaves, a fixed pseudo-random seed) written by tread's --html exporter,
 * to measure how the viewer copes with a big trace (tests/bench/run.sh).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/export/html.h"

#define NTHREADS 4
#define MAXDEPTH 10

static const char *const names[] = {
	"main", "serve_forever", "handle_request", "parse_request", "parse_header",
	"hash_bytes", "lookup_key", "tree_find", "cmp_keys", "build_response",
	"format_int", "append_bytes", "write_reply", "flush_buffer", "log_line",
	"arena_alloc", "arena_free", "checksum", "memcpy_small", "strlen_fast",
};
#define NFUNCS (sizeof(names) / sizeof(names[0]))

struct gen {
	struct tread_xevent *ev;
	size_t nev, cap;
	uint64_t t;		/* this thread's clock */
	uint64_t calls, target;
	uint32_t thread;
	uint64_t rng;
};

static uint32_t rnd(struct gen *g)
{
	g->rng = g->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(g->rng >> 33);
}

static void emit(struct gen *g, uint8_t kind, uint32_t func, uint32_t depth)
{
	if (g->nev == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 1024;
		g->ev = realloc(g->ev, g->cap * sizeof(*g->ev));
		if (!g->ev) {
			perror("html_gen");
			exit(1);
		}
	}
	g->ev[g->nev++] = (struct tread_xevent){
		.real_ns = g->t, .thread = g->thread, .func = func, .kind = kind, .depth = depth,
	};
}

static void call(struct gen *g, uint32_t depth)
{
	/* deeper calls are shorter and come from the end of the name list */
	uint32_t func = depth < 3 ? depth : 3 + rnd(g) % (NFUNCS - 3);
	uint32_t kids = depth >= MAXDEPTH ? 0 : rnd(g) % (depth < 3 ? 9 : 4);

	emit(g, TREAD_X_ENTRY, func, depth);
	g->calls++;
	g->t += 15 + rnd(g) % 40;
	for (uint32_t i = 0; i < kids && g->calls < g->target; i++) {
		call(g, depth + 1);
		g->t += rnd(g) % 60;
	}
	g->t += rnd(g) % (depth < 3 ? 4000 : 150);
	emit(g, TREAD_X_EXIT, func, depth);
}

static int by_time(const void *a, const void *b)
{
	const struct tread_xevent *x = a, *y = b;

	if (x->real_ns != y->real_ns)
		return x->real_ns < y->real_ns ? -1 : 1;
	/* same time: keep each thread's own order (its events are
	 * contiguous in the input and carry increasing depth changes) */
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static struct tread_xproc procs[2] = {
		{ .pid = 4242, .host = "bench", .exe = "/usr/bin/kvserver", .comm = "kvserver" },
		{ .pid = 4343, .host = "bench", .exe = "/usr/bin/kvclient", .comm = "kvclient" },
	};
	static struct tread_xthread threads[NTHREADS] = {
		{ .proc = 0, .tid = 4242, .name = "kvserver" },
		{ .proc = 0, .tid = 4244, .name = "worker-1" },
		{ .proc = 0, .tid = 4245, .name = "worker-2" },
		{ .proc = 1, .tid = 4343, .name = "kvclient" },
	};
	struct tread_xfunc funcs[NFUNCS];
	struct gen g = { 0 };
	struct tread_xtrace x;
	char err[256];
	uint64_t want;

	if (argc != 3 || !(want = strtoull(argv[1], NULL, 10))) {
		fprintf(stderr, "usage: html_gen CALLS OUT.html\n");
		return 2;
	}
	for (size_t i = 0; i < NFUNCS; i++)
		funcs[i] = (struct tread_xfunc){ .name = names[i], .file = "kvserver.c",
			.line = (uint32_t)(10 + 20 * i), .module = "/usr/bin/kvserver" };
	for (uint32_t th = 0; th < NTHREADS; th++) {
		g.thread = th;
		g.t = 1764655200000000000ULL + th * 1000;
		g.rng = 42 + th;
		g.target = g.calls + want / NTHREADS;
		emit(&g, TREAD_X_ENTRY, 0, 0);
		g.calls++;
		while (g.calls < g.target) {
			call(&g, 1);
			g.t += rnd(&g) % 20000;
		}
		emit(&g, TREAD_X_EXIT, 0, 0);
	}
	qsort(g.ev, g.nev, sizeof(*g.ev), by_time);
	x = (struct tread_xtrace){ .procs = procs, .nprocs = 2, .threads = threads, .nthreads = NTHREADS,
		.funcs = funcs, .nfuncs = NFUNCS, .events = g.ev, .nevents = g.nev };
	if (tread_export_html(&x, argv[2], err, sizeof(err))) {
		fprintf(stderr, "html_gen: %s\n", err);
		return 1;
	}
	printf("%llu calls, %zu events\n", (unsigned long long)g.calls, g.nev);
	free(g.ev);
	return 0;
}
