/* SPDX-License-Identifier: MIT */
/*
 * The open calls of one thread slot, one stack of them per sub-stack.
 *
 * A thread that switches stacks (coroutines, swapcontext(), a signal
 * handler on a sigaltstack) nests its calls per stack: the ring says which
 * one runs with STACK records (docs/ring-format.md), and each event
 * carries its sub-stack id.  Sub-stack 0 (every thread's only one unless
 * it switches) lives inline, so a thread that never switches costs
 * nothing more; the others are found by id.  The trampoline reuses the
 * ids of stacks that have no open call, so they stay few.
 *
 * The element type is the user's: the pairing (calls.h) keeps its open
 * calls in them, each with the data of the view that reads them.
 */
#ifndef TATTACH_CONSUMER_SUB_STACKS_H
#define TATTACH_CONSUMER_SUB_STACKS_H

#include <stddef.h>
#include <stdint.h>

/* Sub-stacks kept per slot besides 0; past it, empty ones are reused. */
#define TREAD_SUB_STACKS_MAX 4096u

struct tread_call_stack {
	void    *calls;		/* elements of the user's size */
	uint32_t depth;
	uint32_t cap;
};

struct tread_sub_stacks {
	struct tread_call_stack zero;	/* sub-stack 0 */
	uint64_t *ids;			/* the others, by id */
	struct tread_call_stack *other;
	uint32_t n, cap;
	uint32_t last;			/* index of the last one found */
};

/* The call stack of sub-stack @id (created empty), or NULL when out of
 * memory.  Valid until the next call for another id. */
struct tread_call_stack *tread_sub_stack(struct tread_sub_stacks *ss, uint64_t id);

/* Push one element of @size bytes (a multiple of 8), zeroed; returns it,
 * or NULL when out of memory. */
void *tread_call_push(struct tread_call_stack *cs, size_t size);

/* Element @i of @cs, of @size bytes each. */
static inline void *tread_call_at(const struct tread_call_stack *cs, uint32_t i,
				  size_t size)
{
	return (char *)cs->calls + (size_t)i * size;
}

/* Open calls on all sub-stacks. */
uint64_t tread_sub_stacks_depth(const struct tread_sub_stacks *ss);

void tread_sub_stacks_free(struct tread_sub_stacks *ss);

#endif /* TATTACH_CONSUMER_SUB_STACKS_H */
