// SPDX-License-Identifier: MIT
/*
 * Per-sub-stack call stacks of one thread slot (sub_stacks.h).  Lookup is
 * linear with the last hit tried first: a thread switches between a few
 * stacks, or a hundred coroutines at most in the programs we have seen,
 * and consecutive events are mostly on the same one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/decode/sub_stacks.h"

struct tread_call_stack *tread_sub_stack(struct tread_sub_stacks *ss, uint64_t id)
{
	uint32_t i;

	if (id == 0)
		return &ss->zero;
	if (ss->last < ss->n && ss->ids[ss->last] == id)
		return &ss->other[ss->last];
	for (i = 0; i < ss->n; i++)
		if (ss->ids[i] == id) {
			ss->last = i;
			return &ss->other[i];
		}
	if (ss->n == TREAD_SUB_STACKS_MAX) {
		/* The file is the traced process's: a flood of ids must not
		 * grow us without bound.  Reuse a stack with no open call, or
		 * as a last resort the last one (its nesting is then wrong). */
		for (i = 0; i < ss->n && ss->other[i].depth; i++)
			;
		if (i == ss->n)
			i = ss->n - 1;
		ss->ids[i] = id;
		ss->other[i].depth = 0;
		ss->last = i;
		return &ss->other[i];
	}
	if (ss->n == ss->cap) {
		uint32_t cap = ss->cap ? ss->cap * 2 : 8;
		uint64_t *ids = reallocarray(ss->ids, cap, sizeof(*ids));
		struct tread_call_stack *o;

		if (!ids)
			return NULL;
		ss->ids = ids;
		o = reallocarray(ss->other, cap, sizeof(*o));
		if (!o)
			return NULL;
		ss->other = o;
		ss->cap = cap;
	}
	ss->ids[ss->n] = id;
	memset(&ss->other[ss->n], 0, sizeof(ss->other[ss->n]));
	ss->last = ss->n;
	return &ss->other[ss->n++];
}

void *tread_call_push(struct tread_call_stack *cs, size_t size)
{
	uint64_t *e;

	if (cs->depth == cs->cap) {
		uint32_t cap = cs->cap ? cs->cap * 2 : 32;
		void *p = reallocarray(cs->calls, cap, size);

		if (!p)
			return NULL;
		cs->calls = p;
		cs->cap = cap;
	}
	e = tread_call_at(cs, cs->depth++, size);
	/* a few words: a loop, not a call of memset() per event */
	for (size_t i = 0; i < size / 8; i++)
		e[i] = 0;
	return e;
}

uint64_t tread_sub_stacks_depth(const struct tread_sub_stacks *ss)
{
	uint64_t n = ss->zero.depth;

	for (uint32_t i = 0; i < ss->n; i++)
		n += ss->other[i].depth;
	return n;
}

void tread_sub_stacks_free(struct tread_sub_stacks *ss)
{
	free(ss->zero.calls);
	for (uint32_t i = 0; i < ss->n; i++)
		free(ss->other[i].calls);
	free(ss->ids);
	free(ss->other);
	memset(ss, 0, sizeof(*ss));
}
