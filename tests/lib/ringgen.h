/* SPDX-License-Identifier: MIT */
/*
 * ringgen: build ring files (include/tattach/ring.h) in memory for tests,
 * the way the trampoline writes them.
 *
 * The writer rules it follows (docs/ring-format.md):
 *   - a thread's first words are TID then TIME;
 *   - TIME again whenever the upper TSC bits change, and at every
 *     position that is a multiple of TAT_CHUNK_EVENTS (after position 0);
 *   - discard mode: an event that does not fit before tail + N is dropped
 *     and counted; a LOST special with the count precedes the next event
 *     that fits;
 *   - flight mode: always written, the oldest words are overwritten;
 *   - every word carries the commit bit of its position.
 *
 * Tests can also break the rules on purpose: reserve a position without
 * writing it, store raw words, or scribble over the header.
 */
#ifndef TATTACH_TESTS_RINGGEN_H
#define TATTACH_TESTS_RINGGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tattach/ring.h"

struct ringgen_config {
	uint32_t max_threads;	/* default 4 */
	uint32_t ring_shift;	/* default 12 */
	uint32_t module_cap;	/* default 4 */
	uint32_t site_cap;	/* default 64 */
	uint32_t mode;		/* enum tat_mode, default discard */
	uint64_t tsc_hz;	/* default 1 GHz: 1 tick = 1 ns */
	int32_t  pid;		/* default 0x7ffffff0: no such process */
	uint64_t start_time;
	uint32_t frames;	/* frames in flight per thread; default 0:
				 * the file has no such region */
};

struct ringgen_thread {
	bool     started;	/* TID + TIME written */
	bool     have_time;
	uint64_t time_hi;	/* of the last TIME written */
	uint64_t pending_lost;	/* dropped since the last written event */
};

struct ringgen {
	uint8_t *buf;		/* the whole file image */
	size_t   size;
	struct tat_ring_header *hdr;
	uint64_t nevents;	/* 1 << ring_shift */
	struct ringgen_thread *threads;
	bool     mapped;	/* buf is a shared mapping of a file */
};

/* Fill @g with an empty, valid file.  Returns 0 or -ENOMEM. */
int ringgen_init(struct ringgen *g, const struct ringgen_config *cfg);
void ringgen_free(struct ringgen *g);

/*
 * ringgen_add_module - append a module table entry
 * @path: recorded as is; when it is a readable ELF file its build id is
 *        recorded too
 *
 * Returns the module index, or -1 when the table is full.
 */
int ringgen_add_module(struct ringgen *g, const char *path, uint64_t load_bias);

/* Append a site at runtime address @addr; returns its index (>= 1) or -1. */
int ringgen_add_site(struct ringgen *g, uint32_t module, uint64_t addr);

/* Claim thread slot @slot for @tid (sets ctl.tid and header.threads_used). */
void ringgen_thread(struct ringgen *g, uint32_t slot, int32_t tid);

/* The writer's actions.  They return false when discard mode dropped it. */
bool ringgen_entry(struct ringgen *g, uint32_t slot, uint32_t site, uint64_t tsc);
bool ringgen_exit(struct ringgen *g, uint32_t slot, uint32_t site, uint64_t tsc);
bool ringgen_unwind(struct ringgen *g, uint32_t slot, uint64_t frames, uint64_t tsc);

/*
 * The calls in flight of @slot, outermost first (@sites, @tscs: each
 * one's site and entry time), as the trampoline publishes them (the file
 * needs cfg.frames >= @n).  Set by the test, not kept in step with the
 * events: what a reader finds when it looks.
 */
void ringgen_in_flight(struct ringgen *g, uint32_t slot, const uint32_t *sites,
		       const uint64_t *tscs, uint32_t n);

/* A new owner for the slot (thread exited, slot reused): TID + TIME next. */
void ringgen_retid(struct ringgen *g, uint32_t slot, int32_t tid);

/* Reserve a position and never write it (head++ only). */
void ringgen_reserve(struct ringgen *g, uint32_t slot);

/* Store @word (commit bit added) at the next position, no rules applied. */
void ringgen_raw(struct ringgen *g, uint32_t slot, uint64_t word);

/* Consumer side. */
void ringgen_set_tail(struct ringgen *g, uint32_t slot, uint64_t tail);

struct tat_thread_ctl *ringgen_ctl(struct ringgen *g, uint32_t slot);

/* Write the image to @path: 0 or -errno. */
int ringgen_write_file(const struct ringgen *g, const char *path);

/*
 * ringgen_map_file - write the image to @path and keep writing into the
 * file itself (a MAP_SHARED mapping), like the trampoline does, so a
 * reader that has the file open sees later events.  Returns 0 or -errno.
 */
int ringgen_map_file(struct ringgen *g, const char *path);

/*
 * ringgen_elf_symbol - ELF virtual address of function @name in @path
 *
 * Returns 0, or -ENOENT if there is no such symbol (or no such file).
 */
int ringgen_elf_symbol(const char *path, const char *name, uint64_t *vaddr);

/* The functions of tests/targets/calltree.c that ringgen_calltree() adds. */
enum ringgen_func {
	RG_WORK,
	RG_A,
	RG_B,
	RG_C,
	RG_LEAF,
	RG_NFUNCS
};

/* Offset of each site from its function's start, like an mcount call. */
#define RINGGEN_SITE_OFFSET 4

/*
 * ringgen_calltree - add build/tests/targets/calltree.pg.O2 as a module
 * loaded at @bias, and one site inside each of work, a, b, c and leaf
 * @sites: receives the site indexes, by enum ringgen_func
 *
 * Returns 0, or -ENOENT when the target is not built (make targets).
 */
int ringgen_calltree(struct ringgen *g, uint64_t bias, uint32_t sites[RG_NFUNCS]);

/* "$TATTACH_BUILD/tests/targets/<name>" (build/ by default), static buffer. */
const char *ringgen_target_path(const char *name);

#endif /* TATTACH_TESTS_RINGGEN_H */

/* ------------------------------------------------------------------
 * seqcheck: check tread's call graph of tests/targets/seqwriter.
 *
 * seqwriter's workers call s0() ... s7() in a fixed cycle, and a signal
 * handler calls h() in between, anywhere.  Fed tread's output line by
 * line, seqcheck follows each thread's events in the order printed and
 * counts:
 *
 *   breaks     an s event that is not the one the cycle says comes next,
 *              with no loss marker of that thread since the previous one
 *              (the first s event must be s0's entry, or follow a marker);
 *   bad_h      an h() that is not an entry directly followed by its exit
 *              in that thread (again, unless a loss marker came between);
 *   bad_lines  lines that are neither a graph line naming s0..s7 or h
 *              nor a header or '#' line.
 *
 * and, per thread, the ENTRY/EXIT events read (a "name();" line is two),
 * the events the loss markers say are missing, and whether the newest
 * events are there (last_code, events_since_marker).
 * ------------------------------------------------------------------ */

#define SEQCHECK_MAX_THREADS 64

struct seqcheck_thread {
	int      tid;
	uint64_t events;	/* ENTRY + EXIT events read */
	uint64_t s_calls;	/* s entries read */
	uint64_t h_calls;	/* h entries read */
	uint64_t lost;		/* sum of this thread's loss markers, minus
				 * tread's corrections ("N events reported
				 * lost above were not lost") */
	uint64_t markers;
	uint64_t corrections;
	uint64_t breaks;
	uint64_t bad_h;
	int      last_code;	/* last s event: 2 * k + (exit), -1 before one */
	bool     marker_since_s; /* a loss marker since the last s event */
	bool     h_open;	/* h entered, exit not seen yet */
	bool     marker_since_h;
	uint64_t events_since_marker;
};

struct seqcheck {
	/* Set after seqcheck_init() for a reader that may start anywhere
	 * (after another one consumed): a thread's first s or h event may
	 * be any. */
	bool     free_start;
	struct seqcheck_thread th[SEQCHECK_MAX_THREADS];
	size_t   nthreads;
	uint64_t lines;
	uint64_t graph_lines;
	uint64_t bad_lines;
	uint64_t breaks;	/* sums over the threads */
	uint64_t bad_h;
	char     first_error[512];	/* the first bad line or break, and why */

	/* The '#' summary lines (0 when absent). */
	bool     header;
	uint64_t sum_lost;		/* "# lost N events (...)" */
	uint64_t sum_ring_full;		/* "ring full: N" */
	uint64_t sum_overwritten;	/* "overwritten before read: N" */
	uint64_t sum_no_time;		/* "before the first timestamp: N" */
	uint64_t sum_unwritten;		/* "never written: N" */
	uint64_t sum_unread;		/* "# N events still being written" */
	uint64_t sum_overcounted;	/* "# the writer reported N lost events twice" */
	uint64_t writer_dropped;	/* "# writer counters ...: N events dropped (ring full)" */
};

void seqcheck_init(struct seqcheck *c);
/* One line of tread's output, without its newline. */
void seqcheck_line(struct seqcheck *c, const char *line, size_t len);
/* A whole output. */
void seqcheck_text(struct seqcheck *c, const char *text);
/* The thread @tid (NULL if it printed nothing). */
struct seqcheck_thread *seqcheck_thread(struct seqcheck *c, int tid);
