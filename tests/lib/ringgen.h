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
