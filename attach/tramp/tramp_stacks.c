// SPDX-License-Identifier: MIT
/*
 * Which of a thread's stacks a traced call runs on, and which frames it
 * shows dead (longjmp(), coroutines, sigaltstack handlers); the general
 * entry path (tramp.c, enter_slow()) asks place_call().
 */
#include "tramp_shared.h"

/*
 * Sub-stacks.  A thread may run on several stacks: coroutines
 * (swapcontext(), hand-written switches), a signal handler on a
 * sigaltstack.  Each stack's frames nest among themselves, but frames of
 * different stacks interleave on the thread's one shadow stack.  Every
 * frame carries the id of its sub-stack; a return ends its own frame and
 * the newer frames of the same sub-stack only (those longjmp() skipped),
 * and removes them from the shadow stack, moving other sub-stacks' frames
 * above down.  The ring tells the reader which sub-stack runs with STACK
 * records (ring_put_in_stack()).
 *
 * A return finds its frame by its slot: exact.  A call has to be placed
 * (place_call()) from its slot alone, by these rules:
 *
 *  - P, the open frame with the nearest slot above the call's (or the
 *    same slot, when that holds a tp_return: a tail call), is on the
 *    same stack if some open frame of P's sub-stack lies below the call:
 *    a stack is contiguous, so the call runs between two frames of it,
 *    and those below it are dead (longjmp); or if P is at most
 *    CALL_REACH above it: then the call is P's callee.  SWITCH_REACH
 *    instead of CALL_REACH when the thread's last traced event was on
 *    another sub-stack: a switch since then may have started a stack
 *    just below P's (coroutine stacks are often neighbours).
 *  - Else a sub-stack whose frames all lie at most JUMP_REACH below the
 *    call, and on which the thread's last traced event ran, is taken as
 *    the same stack left by a longjmp(): its frames are dead.  A frame whose very slot a fresh return address now holds is
 *    dead in any case.
 *  - Else the call starts a sub-stack: the thread's current one when it
 *    has no open frames (so a program that never switches stacks uses
 *    sub-stack 0 and writes no STACK record), the newest one when that is
 *    empty, else a new id.
 *
 * So the places where this guesses are: two frames of one stack more than
 * CALL_REACH apart with no traced frame in between (SWITCH_REACH after a
 * switch), and a new stack that starts less than SWITCH_REACH below
 * (CALL_REACH, when no traced event ran between the switch and it), or
 * JUMP_REACH above, a suspended one's frames (docs/limitations.md).  A
 * wrong guess puts frames of two stacks under one id; a return then
 * ends only frames deeper than its own (skipped_callee()), so the other
 * stack's frames stay and their own returns find them.
 */

static int stack_has_open(const struct tp_thread *t, uint64_t d, uint32_t s)
{
	for (uint64_t j = 0; j < d; j++)
		if (!(t->stack[j].site & FRAME_ENDED) && frame_stack(&t->stack[j]) == s)
			return 1;
	return 0;
}

static uint32_t stack_for_root(struct tp_thread *t, uint64_t d)
{
	uint32_t cur = READ_ONCE(t->cur_stack);
	uint32_t newest = (uint32_t)(READ_ONCE(t->stack_next) & FRAME_STACK_MASK);

	if (!stack_has_open(t, d, cur))
		return cur;
	if (newest && !stack_has_open(t, d, newest))
		return newest;
	return (uint32_t)((local_xadd(&t->stack_next, 1) + 1) & FRAME_STACK_MASK);
}

/* Is frame @f dead for a new call of sub-stack @s at @slot? */
static inline int dead_below(const struct tp_frame *f, uint32_t s, uint64_t slot,
			     int fresh)
{
	return !(f->site & FRAME_ENDED) && frame_stack(f) == s &&
	       (f->slot < slot || (f->slot == slot && fresh));
}

/*
 * End the frames of sub-stack @s that a call at @slot shows dead: an
 * UNWIND record, then their EXITs now.  They stay on the shadow stack,
 * marked ended: were one alive after all, its return still finds its
 * frame.  But a frame whose very slot the new call's fresh return address
 * holds can never return, nor can anything it called: when only its
 * sub-stack's frames lie above it, they are popped (else a loop that
 * longjmps out of traced calls fills the shadow stack).
 */
static void end_dead(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
		     uint64_t d, uint32_t s, uint64_t slot, int fresh)
{
	uint64_t n = 0, tsc = now(st), j;

	for (j = 0; j < d; j++)
		n += dead_below(&t->stack[j], s, slot, fresh) &&
		     !(t->stack[j].site & FRAME_STATS);
	if (n)
		ring_put(st, ring, t, tat_ev_special(TAT_SUB_UNWIND, n), 0);
	for (j = d; j-- > 0;)
		if (dead_below(&t->stack[j], s, slot, fresh)) {
			frame_close(st, ring, t, j, tsc);
			frame_mark_ended(st, ring, t, j);
		}
	if (!fresh)
		return;
	for (j = 0; j < d; j++)
		if (t->stack[j].slot == slot && frame_stack(&t->stack[j]) == s)
			break;
	/* only when all above are its own callees (or tail calls, on the
	 * same slot): another stack's frame taken for this one's stays */
	for (uint64_t k = j + 1; k < d; k++)
		if (frame_stack(&t->stack[k]) != s || t->stack[k].slot > slot)
			return;
	if (j < d) {
		/* frame j is gone for certain (a fresh return address holds
		 * its slot); those above it on a guess */
		for (uint64_t k = j + 1; k < d; k++)
			grave_keep(t, &t->stack[k]);
		WRITE_ONCE(t->depth, j);
		if (st->frames_off)
			WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, j);
	}
}

/* The sub-stack of a new call whose return address is at @slotp; ends
 * the frames the call shows dead (rules above). */
uint32_t place_call(const struct tp_state *st, uint64_t ring,
			   struct tp_thread *t, uint64_t *slotp)
{
	uint64_t slot = (uint64_t)slotp, d = READ_ONCE(t->depth);
	uint64_t p = NO_FRAME, q = NO_FRAME;
	int fresh;

	if (d > TP_DEPTH_MAX)
		d = TP_DEPTH_MAX;
	/* The common case: one sub-stack, and the call is its innermost
	 * frame's callee (or its tail call). */
	if (likely(d > 0 && one_stack(t, d))) {
		const struct tp_frame *top = &t->stack[d - 1];

		if (likely(!(top->site & FRAME_ENDED) &&
			   frame_stack(top) == READ_ONCE(t->cur_stack) &&
			   ((top->slot > slot && top->slot - slot <= CALL_REACH) ||
			    (top->slot == slot && is_tramp_return(st, *slotp)))))
			return frame_stack(top);
	}
	fresh = !is_tramp_return(st, *slotp);
	for (uint64_t j = 0; j < d; j++) {
		const struct tp_frame *f = &t->stack[j];

		if (f->site & FRAME_ENDED)
			continue;
		if (f->slot > slot || (f->slot == slot && !fresh)) {
			if (p == NO_FRAME || f->slot < t->stack[p].slot)
				p = j;
		} else if (q == NO_FRAME || f->slot > t->stack[q].slot) {
			q = j;
		}
	}
	if (p != NO_FRAME) {
		uint32_t s = frame_stack(&t->stack[p]);

		for (uint64_t j = 0; j < d; j++)
			if (dead_below(&t->stack[j], s, slot, fresh)) {
				end_dead(st, ring, t, d, s, slot, fresh);
				return s;
			}
		if (t->stack[p].slot - slot <=
		    (s == READ_ONCE(t->cur_stack) ? CALL_REACH : SWITCH_REACH))
			return s;
	}
	/* a longjmp() runs on: a switch since the last traced event (on
	 * another sub-stack) more likely started a stack just above */
	if (q != NO_FRAME && slot - t->stack[q].slot <= JUMP_REACH &&
	    frame_stack(&t->stack[q]) == READ_ONCE(t->cur_stack)) {
		uint32_t s = frame_stack(&t->stack[q]);

		end_dead(st, ring, t, d, s, slot, fresh);
		return s;
	}
	return stack_for_root(t, d);
}
