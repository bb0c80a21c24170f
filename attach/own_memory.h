/* SPDX-License-Identifier: MIT */
/*
 * tattach's own memory, made resident before it stops a process.
 *
 * In a VM a page fault costs microseconds, and tattach used to take a few
 * hundred of them while the target was held (fresh heap for its plans of
 * 10k sites, code run for the first time): about a millisecond of the
 * target's pause at 10k sites, several at 100k.
 */
#ifndef TATTACH_ATTACH_OWN_MEMORY_H
#define TATTACH_ATTACH_OWN_MEMORY_H

#include <stddef.h>

/*
 * own_memory_ready - make @heap_bytes of heap (at most 256 MiB) resident
 * and kept (freed memory stays with the process, large blocks come from
 * the heap, not from fresh mappings), and map every page of tattach's
 * read-only file mappings of up to 64 MiB now (its code and its
 * libraries', the object files libunwind reads).  Call it just before
 * stopping the target; failures only bring the faults back.
 */
void own_memory_ready(size_t heap_bytes);

/* Heap a stop uses per site (plans, partitions, indexes), with room. */
#define OWN_HEAP_PER_SITE 256
#define OWN_HEAP_BASE (2u << 20)

#endif
