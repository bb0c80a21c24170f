// SPDX-License-Identifier: MIT
/*
 * The part of the trampoline written in C: a traced call's entry and
 * return, the fast paths first.  It runs inside the traced process, on
 * the traced thread, between two instructions of its code: no libc, no
 * allocation, no locks, and no system call except gettid() once per
 * thread.  entry.S describes the register contract, tramp_shared.h the
 * signal safety.  Finding the thread's slot is in tramp_threads.c,
 * writing the ring in tramp_ring.c, placing a call on one of a thread's
 * stacks in tramp_stacks.c, the hooks for unwinders in tramp_hooks.c.
 */
#include "tramp_shared.h"

HIDDEN int tp_enter_fast(uint64_t *slot, uint64_t after_site, uint64_t key);
HIDDEN int tp_ct_enter_fast(uint64_t *slot, uint64_t site, uint64_t key, uint64_t tsc);
HIDDEN void tp_enter(uint64_t *slot, uint64_t after_site, uint64_t key);
HIDDEN uint64_t tp_exit_fast(uint64_t *slot, uint64_t key, uint64_t tsc);
HIDDEN uint64_t tp_exit(uint64_t *slot, uint64_t key);
HIDDEN uint64_t tp_fork_ring(struct tp_state *st, uint64_t key);	/* tramp_fork.c */
/* the C fast paths' way out when the ring word cannot be had, and
 * fast_paths.inc's (entry.S) */
HIDDEN int enter_fast_emit(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
			   uint64_t idx);
HIDDEN uint64_t exit_fast_emit(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
			       uint64_t d, uint64_t tsc);

static inline uint64_t site_index(const struct tp_state *st, uint64_t addr)
{
	const struct tp_hent *tab = (const struct tp_hent *)st->site_hash;
	uint64_t mask = (1ull << st->site_bits) - 1;
	uint64_t h = hash_at(addr, st->site_shift), cur = tab[h].addr;

	/* where its hash points first, then on (open addressing, 0 = free) */
	if (likely(cur == addr))
		return tab[h].site;
	for (uint64_t i = 1; cur != 0 && i <= mask; i++) {
		const struct tp_hent *e = &tab[(h + i) & mask];

		cur = e->addr;
		if (cur == addr)
			return e->site;
	}
	return 0;
}

/*
 * The fast paths.  Most calls are the innermost frame's callee on the one
 * stack a thread runs on, or a call from untraced code with no traced
 * frame open (a root call), with nothing pending: no record a reader needs
 * first (TIME, LOST, DEPTH, STACK), no depth limit, no backtrace() to
 * undo, no vfork() under way.  enter_fast(), exit_fast() and emit_fast()
 * do exactly that case, straight-line; anything else makes them return 0
 * before they changed anything, and the general code, which handles every
 * case, runs instead.  The order of the updates, and so the signal safety
 * argued at the top of this file, is the general code's.
 *
 * entry.S calls them first through tp_enter_fast() and tp_exit_fast(),
 * before tp_enter() and tp_exit(): leaf functions for a thread that has a
 * slot already, which take the TSC themselves, and so need few
 * callee-saved registers, no stack frame and no aligned stack.  (At the
 * stubs and at returns, entry.S first does the commonest of these cases
 * in assembly: fast_paths.inc, which follows the same order.)
 *
 * One test lets them in: the thread's fast_ring is the ring in use.  The
 * ring's addresses come from the slot (fast_open()), worked out once per
 * ring, and the gate is open only while the thread's state is plain
 * (thread_plain(): no longjmp()ed or coroutine frames out of order, no
 * backtrace() to undo, no vfork() under way); whoever makes it otherwise
 * closes it (fast_close()), and the general code opens it again once the
 * state is plain.  The one thing that can go
 * wrong after a fast path began to change state is the ring word's
 * place, taken from under it by a signal handler of the thread that wrote
 * in between (emit_fast()): the general emit() then finishes the event,
 * from a function called as the fast path's last act (a jump, so the
 * fast path stays a leaf).
 */

/*
 * The gate's value when open for @ring: the ring itself, or with --clock
 * mono the ring + 1 (it is page-aligned): tp_enter_fast() and
 * tp_exit_fast() read the TSC and look for the ring, so they never pass;
 * tp_exit() still takes exit_fast() with the time it read itself.
 */
static inline uint64_t fast_gate(const struct tp_state *st, uint64_t ring)
{
	return ring | (st->clock_gettime != 0);
}

/*
 * Open @t's gate to the fast paths for @ring, when it is not open and the
 * thread's state is plain: work out its places in the ring (tp_thread.
 * fast_*), then the gate.  Returns 1 when it opened it.  A signal handler
 * doing the same in between writes the same values.  One that makes the
 * state not plain meanwhile closes the gate after its change: looked at
 * again once the gate is open, the state then says so, and the gate
 * closes again.
 */
static int fast_open(const struct tp_state *st, uint64_t ring, struct tp_thread *t)
{
	/* the fast paths write the calls in flight, which every ring file
	 * this tattach makes has room for (frames_off 0: never, in practice) */
	if (READ_ONCE(t->fast_ring) == fast_gate(st, ring) || !thread_plain(t) ||
	    !st->frames_off)
		return 0;
	WRITE_ONCE(t->fast_ring, 0);
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(t->fast_ctl, (uint64_t)ring_ctl(st, ring, t->index));
	WRITE_ONCE(t->fast_data, (uint64_t)ring_data(st, ring, t->index));
	WRITE_ONCE(t->fast_frames, (uint64_t)shared_frames(st, ring, t->index));
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(t->fast_ring, fast_gate(st, ring));
	__asm__ volatile("" ::: "memory");
	if (unlikely(!thread_plain(t))) {
		fast_close(t);
		return 0;
	}
	return 1;
}

/* @word at @pos of @t's ring (fast_open()'s places), with its commit bit */
static inline void fast_store(const struct tp_state *st, struct tp_thread *t, uint64_t pos,
			      uint64_t word)
{
	WRITE_ONCE(((uint64_t *)t->fast_data)[pos & st->ring_mask],
		   word | tat_ev_commit_bit(pos, st->ring_shift));
}

/* One ENTRY or EXIT of sub-stack @s when the reader needs nothing before
 * it; 0 (nothing written) otherwise.  @mode: the ring's, read once.
 * @site is an index, at most TAT_EV_SITE_MAX (the site table's, or a
 * frame's FRAME_SITE bits), so the word is tat_ev_make()'s without its
 * mask. */
static inline __attribute__((always_inline)) int emit_fast(const struct tp_state *st,
		struct tp_thread *t, unsigned type, uint64_t site, uint64_t tsc,
		uint32_t s, uint32_t mode)
{
	struct tat_thread_ctl *ctl = (struct tat_thread_ctl *)t->fast_ctl;
	uint64_t pos = READ_ONCE(ctl->head), got;

	/* ring_put_in_stack()'s order: the head first, then what the
	 * reader was told; a signal handler that writes after this look
	 * moves the head, which the reservation sees. */
	if (unlikely((tsc >> TAT_EV_TSC_BITS) != READ_ONCE(t->last_hi) ||
		     (pos & (TAT_CHUNK_EVENTS - 1)) == 0 ||
		     READ_ONCE(t->lost_pending) || READ_ONCE(t->ring_stack) != s))
		return 0;
	if (mode != TAT_MODE_FLIGHT) {
		/* discard mode: only where the reader has read, so the place
		 * is taken from that head or not at all */
		if (pos - READ_ONCE(ctl->tail) > st->ring_mask)	/* full */
			return 0;
		if (unlikely(!local_cmpxchg(&ctl->head, &pos, pos + 1)))
			return 0;
	} else if (unlikely((got = local_xadd(&ctl->head, 1)) != pos)) {
		/* A handler wrote in between: the checks may not hold for
		 * the place we got, which takes a TIME record that changes
		 * nothing (the time base a reader has there: the last one
		 * written); the event goes the general way.  (An xadd, as
		 * ring_reserve() takes a place in flight mode: cheaper than
		 * the compare-and-swap, docs/performance-rounds.md, "Nineteenth
		 * round".) */
		fast_store(st, t, got, tat_ev_special(TAT_SUB_TIME, READ_ONCE(t->last_hi)));
		return 0;
	}
	fast_store(st, t, pos, ((uint64_t)type << TAT_EV_TYPE_SHIFT) |
		   (site << TAT_EV_SITE_SHIFT) | (tsc & TAT_EV_TSC_MASK));
	return 1;
}

/* enter_fast() pushed frame @idx but emit_fast() was refused: its ENTRY
 * the general way.  Returns 1, for enter_fast() to return.  @ring: the
 * one the call came in with; fast_paths.inc, which keeps no register for
 * it, passes the live page's, read again: 0 when that is gone since (a
 * fork child: tp_fork_ring()), and then, as tp_enter() with no ring,
 * nothing is recorded. */
__attribute__((noinline)) int enter_fast_emit(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t idx)
{
	const struct tp_frame *f = &t->stack[idx];

	if (likely(ring))
		emit(st, ring, t, TAT_EV_ENTRY, f->site & FRAME_SITE, f->tsc, idx,
		     frame_stack(f));
	return 1;
}

/* A call nested in the innermost frame (or its tail call), on one stack,
 * or a call with no frame open: pushed and recorded; 0 (nothing changed)
 * for any other case.  The site: index @site, or when that is 0 the one
 * whose call returns to @after_site.  @tsc: the time of the call when
 * read already (enter_first(), fast_paths.inc), else 0. */
static inline __attribute__((always_inline)) int enter_fast(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t *slot, uint64_t after_site,
		uint64_t site, uint64_t tsc)
{
	const struct tat_ring_header *hdr = (const void *)ring;
	uint64_t d = READ_ONCE(t->depth), idx, flags, top_site, top_slot;
	struct tat_frame *sf;
	struct tp_frame *f;
	uint32_t stack, mode;

	if (unlikely(d >= TP_DEPTH_MAX || READ_ONCE(t->fast_ring) != ring ||
		     READ_ONCE(hdr->max_depth)))
		return 0;
	if (d == 0) {
		/* place_call() with no frame open: the current stack */
		stack = READ_ONCE(t->cur_stack);
	} else {
		top_site = READ_ONCE(t->stack[d - 1].site);
		top_slot = READ_ONCE(t->stack[d - 1].slot);
		if (unlikely(top_site & FRAME_ENDED))
			return 0;
		/* place_call()'s common case: the top frame's callee, at most
		 * CALL_REACH below it (one unsigned test), or its tail call,
		 * on the same slot, which holds our tp_return */
		if (unlikely(top_slot - (uint64_t)slot - 1 >= CALL_REACH) &&
		    (top_slot != (uint64_t)slot || !is_tramp_return(st, *slot)))
			return 0;
		stack = (uint32_t)((top_site >> FRAME_STACK_SHIFT) & FRAME_STACK_MASK);
	}
	/* only now: a call that goes the general way pays for no lookup */
	if (!site)
		site = site_index(st, after_site - 5);	/* every site is 5 bytes */
	mode = READ_ONCE(hdr->mode);
	flags = mode == TAT_MODE_STATS ? FRAME_STATS : 0;
	idx = local_xadd(&t->depth, 1);
	if (!tsc)	/* tp_enter()'s retry: not read yet */
		tsc = rdtsc();	/* the callers checked that the clock is the TSC */
	f = &t->stack[idx];
	f->slot = (uint64_t)slot;
	f->ret = *slot;
	f->tsc = tsc;
	f->child = 0;
	__asm__ volatile("" ::: "memory");	/* as in enter_slow() */
	WRITE_ONCE(f->site, site | flags | ((uint64_t)stack << FRAME_STACK_SHIFT));
	WRITE_ONCE(t->cur_stack, stack);
	sf = (struct tat_frame *)t->fast_frames + idx;	/* the gate says there are */
	WRITE_ONCE(sf->tsc, tsc);
	WRITE_ONCE(sf->site, (uint32_t)site | (flags ? TAT_FRAME_STATS : 0));
	WRITE_ONCE(sf->stack, stack);
	WRITE_ONCE(((struct tat_thread_ctl *)t->fast_ctl)->open_depth, idx + 1);
	/* At a call-through site too, though the stub's call of the body
	 * writes stub + TP_CT_RET here next: between tp_ct_enter's "ret $8"
	 * and that call the slot lies in the red zone, and a signal handler
	 * meanwhile must find it ours (place_call(), the tail-call test),
	 * not a return address that makes the new frame look dead. */
	*slot = (uint64_t)tp_return;
	if (flags || likely(emit_fast(st, t, TAT_EV_ENTRY, site, tsc, stack, mode)))
		return 1;
	return enter_fast_emit(st, ring, t, idx);
}

/* The first call entry.S makes at a site: the fast path, or 0 for
 * tp_enter() to do it all.  @site: its index when the caller knows it (a
 * call-through stub's place says it), else 0. */
static inline __attribute__((always_inline)) int enter_first(uint64_t *slot,
		uint64_t after_site, uint64_t site, uint64_t key, uint64_t tsc)
{
	const struct tp_state *st = state();
	uint64_t ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	struct tp_thread *t;

	if (unlikely(!ring || !key))
		return 0;
	t = thread_find(st, key);
	if (unlikely(!t))
		return 0;
	/* thread_check_owner()'s case: a new thread in this slot */
	if (likely(st->tid_offset) &&
	    unlikely(*(const volatile int32_t *)(key + st->tid_offset) != t->tid))
		return 0;
	/* The clock here, once the gate lets the call in, rather than
	 * after the depth's xadd: read while the frame checks' loads are
	 * under way, it costs less (as in fast_paths.inc) */
	if (!tsc) {
		if (READ_ONCE(t->fast_ring) != ring ||
		    READ_ONCE(((const struct tat_ring_header *)ring)->max_depth))
			return 0;
		tsc = rdtsc();
	}
	return enter_fast(st, ring, t, slot, after_site, site, tsc);
}

int tp_enter_fast(uint64_t *slot, uint64_t after_site, uint64_t key)
{
	return enter_first(slot, after_site, 0, key, 0);
}

/* tp_ct_enter's: the stub of site i is the i-th (tramp_abi.h), so no
 * lookup of its address */
int tp_ct_enter_fast(uint64_t *slot, uint64_t site, uint64_t key, uint64_t tsc)
{
	return enter_first(slot, 0, site, key, tsc);
}

/* Every other call: placed on its sub-stack (ending the frames it shows
 * dead), checked against the depth limits, pushed and recorded. */
static __attribute__((noinline)) void enter_slow(struct tp_state *st, uint64_t ring,
		struct tp_thread *t, uint64_t *slot, uint64_t site, uint64_t key)
{
	const struct tat_ring_header *hdr = (const void *)ring;
	struct tp_frame *f;
	uint64_t idx, tsc, flags;
	uint32_t max_depth, stack;

	/* a vfork child records nothing (vfork_child()) */
	if (unlikely(READ_ONCE(t->vfork_pending)) && vfork_child(st, t, key))
		return;
	stack = place_call(st, ring, t, slot);
	if (unlikely(READ_ONCE(t->bt_sp)))
		bt_rehijack_slow(st, t, (uint64_t)slot, stack);
	/* A signal handler between the look and the push pops what it
	 * pushes, so the depth it leaves is the one we saw. */
	max_depth = READ_ONCE(hdr->max_depth);
	if (unlikely(max_depth) && READ_ONCE(t->depth) >= max_depth) {
		local_inc(&ring_ctl(st, ring, t->index)->below_max_depth);
		return;
	}
	idx = local_xadd(&t->depth, 1);
	if (unlikely(idx >= TP_DEPTH_MAX)) {
		local_dec(&t->depth);
		local_inc(&ring_ctl(st, ring, t->index)->deep);
		return;
	}
	/* The mode at entry decides how the call is accounted at its exit. */
	flags = READ_ONCE(hdr->mode) == TAT_MODE_STATS ? FRAME_STATS : 0;
	tsc = now(st);
	f = &t->stack[idx];
	f->slot = (uint64_t)slot;
	f->ret = *slot;
	f->tsc = tsc;
	f->child = 0;
	/* The frame is live from this store on.  A signal handler running a
	 * traced function before it sees the slot's previous frame, which
	 * tp_exit marked ended when it dropped it: never a live-looking
	 * stale frame on top. */
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(f->site, site | flags | ((uint64_t)stack << FRAME_STACK_SHIFT));
	if (unlikely(idx > 0 && frame_stack(&t->stack[idx - 1]) != stack))
		note_mixed(t, idx);
	WRITE_ONCE(t->cur_stack, stack);
	if (likely(st->frames_off)) {
		struct tat_frame *sf = &shared_frames(st, ring, t->index)[idx];

		WRITE_ONCE(sf->tsc, tsc);
		WRITE_ONCE(sf->site, (uint32_t)site | (flags ? TAT_FRAME_STATS : 0));
		WRITE_ONCE(sf->stack, stack);
		WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, idx + 1);
	}
	*slot = (uint64_t)tp_return;
	if (!flags)
		emit(st, ring, t, TAT_EV_ENTRY, site, tsc, idx, stack);
}

void tp_enter(uint64_t *slot, uint64_t after_site, uint64_t key)
{
	struct tp_state *st = state();
	uint64_t ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	struct tp_thread *t;
	uint64_t site;
	int changed = 0;

	/* Not recording (a fork child, see tramp_abi.h), or no TLS yet. */
	if (unlikely(!ring || !key)) {
		/* a fork child's first call: its own ring (tramp_fork.c) */
		if (!key || !(ring = tp_fork_ring(st, key)))
			return;
	}
	t = tp_thread_find(st, key);
	if (unlikely(!t)) {
		t = thread_claim(st, ring, key);
		if (!t)
			return;
		changed = 1;
	}
	if (st->tid_offset)
		changed |= thread_check_owner(st, ring, t, key);
	changed |= fast_open(st, ring, t);
	/* tp_enter_fast() was refused just now: only what changed since
	 * can make enter_fast() take the call */
	if (changed && !st->clock_gettime && enter_fast(st, ring, t, slot, after_site, 0, 0))
		return;
	/* Every site rewritten is 5 bytes up to the return address. */
	site = site_index(st, after_site - 5);
	enter_slow(st, ring, t, slot, site, key);
}

/*
 * Frame @i returned: drop it and its callees above it (skipped_callee():
 * ended already), keeping every other frame in its order.  Returns the
 * new depth.  A signal handler coming in meanwhile works above the old
 * depth, which is left as it is until the caller sets it.
 */
static uint64_t shadow_remove(const struct tp_state *st, uint64_t ring,
			      struct tp_thread *t, uint64_t i, uint64_t depth, uint32_t s)
{
	struct tat_frame *sf = ring && st->frames_off ?
			       shared_frames(st, ring, t->index) : NULL;
	uint64_t w = i, slot = t->stack[i].slot;

	for (uint64_t r = i + 1; r < depth; r++) {
		struct tp_frame *from = &t->stack[r], *to = &t->stack[w];

		if (skipped_callee(from, s, slot)) {
			grave_keep(t, from);
			continue;
		}
		/* field by field: a struct copy may become a memcpy() call */
		to->slot = from->slot;
		to->ret = from->ret;
		to->site = from->site;
		to->tsc = from->tsc;
		to->child = from->child;
		if (sf) {
			WRITE_ONCE(sf[w].tsc, sf[r].tsc);
			WRITE_ONCE(sf[w].site, sf[r].site);
			WRITE_ONCE(sf[w].stack, sf[r].stack);
		}
		w++;
	}
	if (w > i)
		note_mixed(t, i ? i : 1);
	return w;
}

/* The fast return's last act: frame @f, the innermost of @d (sub-stack
 * @s, its site word @site), popped; returns where it returns to. */
static inline __attribute__((always_inline)) uint64_t fast_pop(struct tp_thread *t,
		struct tp_frame *f, uint64_t d, uint64_t site, uint32_t s)
{
	uint64_t ret;

	/* before the depth drops: then a signal handler's call may take the
	 * frame (both volatile, so in this order) */
	ret = READ_ONCE(f->ret);
	WRITE_ONCE(f->site, site | FRAME_ENDED);
	WRITE_ONCE(t->depth, d - 1);
	/*
	 * The ring's count after the depth, as a push writes it after the
	 * depth grew: a handler's traced call that comes in between pushes
	 * and pops on top of d - 1 either way and leaves the count where we
	 * put it.  Written first, the count dropped, a handler's call put it
	 * back to d when it returned, and the depth dropped after: a call in
	 * flight that no return would ever end (seen after --disable).
	 */
	WRITE_ONCE(((struct tat_thread_ctl *)t->fast_ctl)->open_depth, d - 1);
	WRITE_ONCE(t->cur_stack, s);
	return ret;
}

/* The last acts of exit_fast() (and fast_paths.inc's), from the EXIT
 * on, when emit_fast() was refused: the EXIT of the innermost of @d
 * frames at @tsc the general way, then the pop.  Returns where the frame
 * returns to, for exit_fast() to return.  @ring as enter_fast_emit()
 * says. */
__attribute__((noinline)) uint64_t exit_fast_emit(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t d, uint64_t tsc)
{
	struct tp_frame *f = &t->stack[d - 1];
	uint64_t site = READ_ONCE(f->site);
	uint32_t s = frame_stack(f);

	if (likely(ring))
		emit(st, ring, t, TAT_EV_EXIT, site & FRAME_SITE, tsc, d, s);
	return fast_pop(t, f, d, site, s);
}

/* Frame @f's duration if it ends at @tsc (0 if the clock went back). */
static inline uint64_t frame_dur(const struct tp_frame *f, uint64_t tsc)
{
	return tsc > f->tsc ? tsc - f->tsc : 0;
}

/* The stats record of @site in @t's pool when it has one already (the
 * plain case of stats_account()); NULL otherwise. */
static inline struct tat_stat *stats_own_record(const struct tp_state *st, uint64_t ring,
						 const struct tp_thread *t, uint64_t site)
{
	uint32_t v;

	if (unlikely(!st->stats_off || site >= st->site_cap))
		return NULL;
	v = READ_ONCE(((const uint32_t *)(ring + st->stats_index_off))
		      [(uint64_t)t->index * st->site_cap + site]);
	if (unlikely(v - 1 >= st->stats_cap))	/* 0 (none yet), or shared */
		return NULL;
	return (struct tat_stat *)(ring + st->stats_off) + (v - 1);
}

/* The innermost frame of one stack returned at @tsc: recorded (an EXIT,
 * or its stats record) and popped; returns where it returns to, or 0
 * (nothing changed) for any other case. */
static inline __attribute__((always_inline)) uint64_t exit_fast(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t *slot, uint64_t tsc, uint64_t gate)
{
	uint64_t d = READ_ONCE(t->depth), site;
	struct tat_stat *r = NULL;
	struct tp_frame *f;
	uint32_t s;

	/* @gate: the gate's value that lets this caller in (fast_gate()) */
	if (unlikely(!ring || d - 1 >= TP_DEPTH_MAX || READ_ONCE(t->fast_ring) != gate))
		return 0;
	f = &t->stack[d - 1];
	site = READ_ONCE(f->site);
	/* tattach -R (tramp_args.c): the return value first, in exit_slow() */
	if (unlikely(f->slot != (uint64_t)slot || (site & (FRAME_ENDED | TP_FRAME_RETVAL))))
		return 0;
	if ((site & FRAME_STATS) && !(r = stats_own_record(st, ring, t, site & FRAME_SITE)))
		return 0;
	s = (uint32_t)((site >> FRAME_STACK_SHIFT) & FRAME_STACK_MASK);
	/* frame_close(): one stack, so the caller is the frame below, whose
	 * callee time counts only when it is a stats frame (the only kind
	 * whose callee time is read) */
	if (likely(!r)) {
		if (d > 1 && unlikely(READ_ONCE(t->stack[d - 2].site) & FRAME_STATS))
			local_add(&t->stack[d - 2].child, frame_dur(f, tsc));
		if (unlikely(!emit_fast(st, t, TAT_EV_EXIT, site & FRAME_SITE, tsc, s,
					READ_ONCE(((const struct tat_ring_header *)ring)->mode))))
			return exit_fast_emit(st, ring, t, d, tsc);
	} else {
		uint64_t dur = frame_dur(f, tsc), child = f->child;

		if (d > 1)
			local_add(&t->stack[d - 2].child, dur);
		/* stats_account(), its own record */
		stats_record_add(st, r, dur, dur > child ? dur - child : 0);
	}
	return fast_pop(t, f, d, site, s);
}

/* The first call tp_return makes: the fast path, or 0 for tp_exit() to
 * do it all. */
uint64_t tp_exit_fast(uint64_t *slot, uint64_t key, uint64_t tsc)
{
	const struct tp_state *st = state();
	uint64_t ring;
	struct tp_thread *t;

	ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	if (unlikely(!key))
		return 0;
	t = thread_find(st, key);
	if (unlikely(!t))
		return 0;
	if (!tsc)	/* not read by fast_paths.inc: after the lookup, as there */
		tsc = rdtsc();
	return exit_fast(st, ring, t, slot, tsc, ring);
}

/*
 * A return with no frame: one dropped on a guess that was wrong (its
 * EXIT was written as unwound).  Where it returns to, from the frames
 * kept (grave_keep()), or 0.
 */
static uint64_t grave_take(struct tp_thread *t, const uint64_t *slot)
{
	for (uint64_t k = 0; k < TP_GRAVE_MAX; k++)
		if (READ_ONCE(t->grave[k].slot) == (uint64_t)slot) {
			uint64_t ret = READ_ONCE(t->grave[k].ret);

			WRITE_ONCE(t->grave[k].slot, 0);
			return ret;
		}
	return 0;
}

/* Open event-mode callees of frame @lo (sub-stack @s) in (@lo, @hi),
 * which a longjmp() skipped: what an UNWIND announces. */
static inline uint64_t event_frames_open(const struct tp_thread *t, uint64_t lo,
					 uint64_t hi, uint32_t s)
{
	uint64_t n = 0;

	for (uint64_t j = hi; j-- > lo + 1;)
		n += !(t->stack[j].site & (FRAME_ENDED | FRAME_STATS)) &&
		     skipped_callee(&t->stack[j], s, t->stack[lo].slot);
	return n;
}

/* Every other return: its frame found below, the frames it skipped
 * ended, other sub-stacks' frames kept. */
static __attribute__((noinline)) uint64_t exit_slow(struct tp_state *st, uint64_t ring,
		struct tp_thread *t, uint64_t *slot, uint64_t tsc, uint64_t key)
{
	uint64_t depth, i, ret, skipped, left;
	uint32_t s;

	/* a vfork child changes nothing of its parent's (vfork_child()) */
	if (unlikely(READ_ONCE(t->vfork_pending)) && key && vfork_child(st, t, key))
		return vfork_child_return(t, slot);
	depth = READ_ONCE(t->depth);
	if (depth > TP_DEPTH_MAX)
		depth = TP_DEPTH_MAX;
	/*
	 * Normally the innermost frame is ours.  If not, either longjmp() (or
	 * a siglongjmp out of a handler) skipped the frames of our sub-stack
	 * above ours: they will never return, so end them here; or frames of
	 * other sub-stacks (suspended coroutines) lie above: they stay.
	 */
	for (i = depth; i-- > 0;)
		if (t->stack[i].slot == (uint64_t)slot)
			break;
	if (unlikely(i == (uint64_t)-1))
		return grave_take(t, slot);
	ret = t->stack[i].ret;
	s = frame_stack(&t->stack[i]);
	if (unlikely(READ_ONCE(t->bt_sp)))
		bt_rehijack_slow(st, t, (uint64_t)slot, s);
	if (ring) {
		skipped = event_frames_open(t, i, depth, s);
		if (unlikely(skipped))
			ring_put(st, ring, t, tat_ev_special(TAT_SUB_UNWIND, skipped), 0);
		for (uint64_t j = depth - 1; j > i; j--)
			if (!(t->stack[j].site & FRAME_ENDED) &&
			    skipped_callee(&t->stack[j], s, (uint64_t)slot))
				frame_close(st, ring, t, j, tsc);
		if (likely(!(t->stack[i].site & FRAME_ENDED)))
			frame_close_returned(st, ring, t, i, tsc, slot);
	}
	left = likely(i + 1 == depth) ? i : shadow_remove(st, ring, t, i, depth, s);
	/* What lies above the new depth is dead: say so before the depth
	 * drops, for a handler that enters before tp_enter rewrites it. */
	for (uint64_t j = left; j < depth; j++)
		WRITE_ONCE(t->stack[j].site, t->stack[j].site | FRAME_ENDED);
	WRITE_ONCE(t->depth, left);
	/* the ring's count after the depth, as fast_pop() writes it */
	if (ring && likely(st->frames_off))
		WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, left);
	WRITE_ONCE(t->cur_stack, s);
	if (unlikely(READ_ONCE(t->mixed_at)) && left <= READ_ONCE(t->mixed_at))
		WRITE_ONCE(t->mixed_at, 0);
	return ret;
}

uint64_t tp_exit(uint64_t *slot, uint64_t key)
{
	struct tp_state *st = state();
	uint64_t tsc = now(st);
	uint64_t ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	struct tp_thread *t;
	uint64_t ret;
	int changed = 0;

	/* a fork child's first return: its own ring (tramp_fork.c) */
	if (unlikely(!ring))
		ring = tp_fork_ring(st, key);
	t = key ? tp_thread_find(st, key) : NULL;
	if (unlikely(!t)) {
		t = thread_by_frame(st, (uint64_t)slot);
		if (!t)
			return 0;
		changed = 1;
	}
	if (ring)
		changed |= fast_open(st, ring, t);
	/* tp_exit_fast() was refused just now: exit_fast() can take the
	 * return only when something changed since, or when the clock is
	 * not the TSC (tp_exit_fast() reads the TSC, exit_fast() does not) */
	if ((changed || st->clock_gettime) &&
	    (ret = exit_fast(st, ring, t, slot, tsc, fast_gate(st, ring))))
		return ret;
	return exit_slow(st, ring, t, slot, tsc, key);
}


