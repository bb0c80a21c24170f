// SPDX-License-Identifier: MIT
/*
 * tattach's own memory made resident before a stop (own_memory.h).
 */
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attach/own_memory.h"
#include "attach/process/proc.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22	/* Linux 5.14 */
#endif

/* Largest block glibc still takes from the heap (its ceiling, 32 MiB). */
#define HEAP_BLOCK_MAX (32u << 20)

static void keep_heap(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	/* Blocks up to 32 MiB from the heap, whose pages stay resident once
	 * touched; without this, each 128 KiB+ block is a new mapping that
	 * faults in page by page, inside the stop. */
	mallopt(M_MMAP_THRESHOLD, HEAP_BLOCK_MAX);
	mallopt(M_TRIM_THRESHOLD, INT_MAX);	/* never give the top back */
}

/*
 * Page tables for every read-only file mapping of ours: the code a stop
 * runs for the first time, and the object files libunwind maps to find
 * unwind tables (stackwalk.c), fault in no more.  Pages already in the
 * page cache: a few microseconds per megabyte.  A mapping larger than
 * POPULATE_MAX (a program with gigabytes of debug information, mapped
 * whole) is left to fault in as it is read: populating it would read
 * all of it from disk.
 */
#define POPULATE_MAX (64ull << 20)

static void populate_own_files(void)
{
	struct maps maps;

	if (proc_read_maps(getpid(), &maps))
		return;
	for (size_t i = 0; i < maps.n; i++)
		if (!(maps.v[i].prot & PROT_WRITE) && (maps.v[i].prot & PROT_READ) &&
		    maps.v[i].path[0] == '/' &&
		    maps.v[i].end - maps.v[i].start <= POPULATE_MAX)
			madvise((void *)(uintptr_t)maps.v[i].start,
				maps.v[i].end - maps.v[i].start, MADV_POPULATE_READ);
	proc_free_maps(&maps);
}

/*
 * The stack a stop needs, touched now: the walks and the shadow stacks
 * keep large frames on it (a thread slot's frames alone are 40 KiB), and
 * the pages of a stack, once there, stay.
 */
#define STACK_READY (256u << 10)

static __attribute__((noinline)) void touch_stack(void)
{
	volatile char room[STACK_READY];

	for (size_t off = 0; off < sizeof(room); off += 4096)
		room[off] = 1;
}

/* Past this, the stop's allocations fault in as before (a million sites). */
#define HEAP_READY_MAX (256u << 20)

void own_memory_ready(size_t heap_bytes)
{
	size_t chunk = heap_bytes < HEAP_BLOCK_MAX ? heap_bytes : HEAP_BLOCK_MAX;
	void *blocks[HEAP_READY_MAX / HEAP_BLOCK_MAX];
	size_t n = 0;

	keep_heap();
	populate_own_files();
	touch_stack();
	/* Touch the heap in blocks glibc keeps, then give them back to it:
	 * the stop's allocations reuse these resident pages. */
	while (heap_bytes && n < sizeof(blocks) / sizeof(blocks[0])) {
		size_t len = heap_bytes < chunk ? heap_bytes : chunk;

		blocks[n] = malloc(len);
		if (!blocks[n])
			break;
		/* a write per page (a memset of zeros after malloc becomes a
		 * calloc, which skips the fresh pages it knows are zero) */
		for (size_t off = 0; off < len; off += 4096)
			((volatile char *)blocks[n])[off] = 1;
		heap_bytes -= len;
		n++;
	}
	while (n)
		free(blocks[--n]);
}
