// SPDX-License-Identifier: MIT
/*
 * What the GOT hooks of entry.S run (tp_hook()): C++ exceptions and
 * pthread_exit()/pthread_cancel() unwinding through hijacked returns,
 * backtrace(), and vfork().
 */
#include "tramp_shared.h"

HIDDEN uint64_t tp_hook(uint64_t key, uint64_t which, uint64_t sp);

/*
 * C++ exceptions.  An unwinder that meets tp_return finds no unwind
 * information there and gives up (std::terminate()).  So when a throw
 * starts (_Unwind_RaiseException, or _Unwind_Resume_or_Rethrow for a
 * rethrow: their GOT entries in libstdc++ point to tp_hook_raise and
 * tp_hook_rethrow), the hijacked return addresses of the throwing stack
 * are put back: the unwinder sees the stack as it would be untraced.  The
 * frames stay on the shadow stack, marked restored.  When a handler
 * catches it (__cxa_begin_catch, called from the catching function: every
 * traced module's GOT entry points to tp_hook_catch), the restored frames
 * below the catching function's stack pointer were unwound: they are
 * closed, as unwound, now; the others are alive, and their returns are
 * hijacked again.  Cleanup landing pads (destructors) run between the two
 * with the addresses put back; a traced call they make ends the unwound
 * frames below it, as after a longjmp.
 */
/* Returns the sub-stack whose addresses were put back, or ~0 if none. */
static uint32_t hook_raise(const struct tp_state *st, struct tp_thread *t, uint64_t sp)
{
	uint64_t d = READ_ONCE(t->depth), p = NO_FRAME;
	uint32_t s;

	if (d > TP_DEPTH_MAX)
		d = TP_DEPTH_MAX;
	/* the throwing stack: that of the traced frame nearest above */
	for (uint64_t j = 0; j < d; j++) {
		const struct tp_frame *f = &t->stack[j];

		if (!(f->site & FRAME_ENDED) && f->slot >= sp &&
		    (p == NO_FRAME || f->slot < t->stack[p].slot))
			p = j;
	}
	if (p == NO_FRAME)
		return ~0u;
	s = frame_stack(&t->stack[p]);
	/* innermost first: of a tail call's two frames on one slot, the
	 * outer one's address is the one left in the slot */
	for (uint64_t j = d; j-- > 0;) {
		struct tp_frame *f = &t->stack[j];
		uint64_t *slot = (uint64_t *)f->slot;

		if ((f->site & (FRAME_ENDED | FRAME_RESTORED)) || frame_stack(f) != s ||
		    f->slot < sp || !is_tramp_return(st, *slot))
			continue;
		*slot = f->ret;
		f->site |= FRAME_RESTORED;
	}
	return s;
}

/*
 * The restored frames below @sp were unwound (@sp: a catching function's
 * stack pointer; ~0: pthread_exit(), all of them); the others are hijacked
 * again.
 */
static void hook_catch(const struct tp_state *st, struct tp_thread *t, uint64_t sp)
{
	uint64_t ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	uint64_t d = READ_ONCE(t->depth), n = 0, tsc = now(st);

	if (d > TP_DEPTH_MAX)
		d = TP_DEPTH_MAX;
	for (uint64_t j = 0; j < d; j++) {
		const struct tp_frame *f = &t->stack[j];

		n += (f->site & (FRAME_RESTORED | FRAME_ENDED | FRAME_STATS)) == FRAME_RESTORED &&
		     f->slot < sp;
	}
	if (ring && n)
		ring_put(st, ring, t, tat_ev_special(TAT_SUB_UNWIND, n), 0);
	for (uint64_t j = d; j-- > 0;) {
		struct tp_frame *f = &t->stack[j];

		if ((f->site & (FRAME_RESTORED | FRAME_ENDED)) != FRAME_RESTORED || f->slot >= sp)
			continue;
		if (ring)
			frame_close(st, ring, t, j, tsc);
		f->site &= ~FRAME_RESTORED;
		frame_mark_ended(st, ring, t, j);
	}
	/* outermost first: the reverse of hook_raise() */
	for (uint64_t j = 0; j < d; j++) {
		struct tp_frame *f = &t->stack[j];
		uint64_t *slot = (uint64_t *)f->slot;

		if ((f->site & (FRAME_RESTORED | FRAME_ENDED)) != FRAME_RESTORED)
			continue;
		f->site &= ~FRAME_RESTORED;
		if (*slot == f->ret)
			*slot = (uint64_t)tp_return;
	}
}

/*
 * backtrace() walks the stack and returns: its caller and everything
 * above are alive until the caller returns.  So the addresses put back for
 * it are taken again at the thread's next traced call or return deeper
 * than the caller on that stack; one at or above it means the caller
 * returned meanwhile, unrecorded: the restored frames then stay as they
 * are (their returns are not recorded; a later call below ends them).
 */
void bt_rehijack_slow(const struct tp_state *st, struct tp_thread *t,
			     uint64_t slot, uint32_t s)
{
	uint64_t sp = READ_ONCE(t->bt_sp);

	if (!sp || s != READ_ONCE(t->bt_stack))
		return;
	WRITE_ONCE(t->bt_sp, 0);
	if (slot < sp)
		hook_catch(st, t, 0);	/* nothing below 0: all alive */
}

uint64_t tp_hook(uint64_t key, uint64_t which, uint64_t sp)
{
	struct tp_state *st = state();
	uint64_t next = READ_ONCE(st->hook_next[which & 7]);
	struct tp_thread *t = key ? tp_thread_find(st, key) : NULL;
	uint32_t s;

	if (!t)
		return next;
	switch (which) {
	case TP_HOOK_CATCH:
		hook_catch(st, t, sp);
		break;
	case TP_HOOK_FORCED:	/* pthread_cancel(): the same as pthread_exit() */
	case TP_HOOK_PEXIT:
		/* the thread ends: every frame of its stack is unwound, that of
		 * pthread_exit() itself too when --libcalls traces it (its
		 * return address is in the slot just below its caller's %rsp):
		 * the forced unwind must not meet its hijacked return */
		if (hook_raise(st, t, sp - 8) != ~0u)
			hook_catch(st, t, ~0ull);
		break;
	case TP_HOOK_VFORK:
		/* until this thread is seen again, its events may be its
		 * child's (vfork_child()) */
		WRITE_ONCE(t->vfork_pending, 1);
		fast_close(t);
		break;
	case TP_HOOK_BT:
		s = hook_raise(st, t, sp);
		if (s != ~0u) {
			WRITE_ONCE(t->bt_stack, s);
			WRITE_ONCE(t->bt_sp, sp);
			fast_close(t);
		}
		break;
	default:
		hook_raise(st, t, sp);
	}
	return next;
}
