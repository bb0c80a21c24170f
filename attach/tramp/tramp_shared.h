// SPDX-License-Identifier: MIT
/*
 * What the C files of the trampoline's calls and returns share: tramp.c
 * (entry and exit), tramp_threads.c (thread slots), tramp_ring.c
 * (writing the ring), tramp_stacks.c (which stack a call runs on) and
 * tramp_hooks.c (unwinders, backtrace(), vfork()).  Here: the shadow frame's flags,
 * the ring's places, the updates a signal cannot split, and what each
 * file offers the others.  Header-only, so the hot path keeps them
 * inlined.
 *
 * Signal safety.  A signal handler may run a traced function while this
 * code is half way through an event for the same thread.  Every update of
 * per-thread state that a nested call could also make is one instruction
 * (an unlocked xadd, add or cmpxchg: atomic against interrupts on the same
 * CPU, and no other CPU writes these fields), and a reservation always
 * precedes the write it protects.  So a nested call works strictly above
 * the outer one and leaves everything as it found it.
 *
 * Stats mode updates the thread's own records the same way.  Locked
 * instructions (shared with other CPUs) are used only to take a record
 * from the pool, once per thread and function, and for the shared
 * records of a full pool (docs/ring-format.md, "Stats mode").
 */
#ifndef TATTACH_TRAMP_SHARED_H
#define TATTACH_TRAMP_SHARED_H

#include <stddef.h>
#include <stdint.h>

#include <tattach/ring.h>
#include "tramp_abi.h"
#include "tramp_common.h"
#include "tramp_asm.h"

extern const struct tp_config tp_config_area HIDDEN;
extern char tp_return[] HIDDEN;

#define FRAME_ENDED TP_FRAME_ENDED
#define FRAME_STATS TP_FRAME_STATS
#define FRAME_SITE  ((uint64_t)TAT_EV_SITE_MAX)	/* tp_frame.site: the index */
#define FRAME_RESTORED TP_FRAME_RESTORED	/* for an unwinder: tp_hook() */
#define FRAME_STACK_SHIFT TP_FRAME_STACK_SHIFT
#define FRAME_STACK_MASK  TP_FRAME_STACK_MASK
#define STACK_UNTOLD 0xffffffffu	/* tp_thread.ring_stack: tell the reader */
/* A traced call's return slot lies at most this far below its traced
 * caller's on the same stack; farther means another stack. */
#define CALL_REACH  (64ull << 10)
/* ... but only this far when the thread's last traced event ran on
 * another stack: a switch came in between, back to the caller's stack
 * (then the call is near it: the untraced frames of the switch's caller
 * only) or onto a new stack that may start just below it. */
#define SWITCH_REACH (4ull << 10)
/* A new call at most this far above every frame of a sub-stack is taken
 * for a longjmp() out of all of them (same stack); farther, another stack. */
#define JUMP_REACH  (16ull << 10)
#define NO_FRAME    (~0ull)

_Static_assert(TP_DEPTH_MAX == TAT_FRAMES_MAX, "one shared frame per shadow frame");
TPA_CHECK(CALL_REACH, TPA_CALL_REACH);
TPA_CHECK(TP_HASH_MULT, TPA_HASH_MULT);

/* The sub-stack a shadow frame belongs to (see place_call()). */
static inline uint32_t frame_stack(const struct tp_frame *f)
{
	return (uint32_t)((f->site >> FRAME_STACK_SHIFT) & FRAME_STACK_MASK);
}

/* Frames [0, @d) all belong to one sub-stack: the common case, in which
 * the innermost frame is the running stack's. */
static inline int one_stack(const struct tp_thread *t, uint64_t d)
{
	uint64_t m = READ_ONCE(t->mixed_at);

	return m == 0 || d <= m;
}

/* No case only the general code handles is under way on @t: frames of
 * sub-stacks out of order (mixed_at), addresses put back for backtrace()
 * (bt_sp), a vfork() (vfork_pending).  The fast paths' gate (tramp.c,
 * fast_open()) is open only then. */
static inline int thread_plain(const struct tp_thread *t)
{
	return !(READ_ONCE(t->mixed_at) | READ_ONCE(t->bt_sp) | READ_ONCE(t->vfork_pending));
}

/* Shut the fast paths' gate of @t: after each change that makes its state
 * not plain, so that a fast path that looks at the gate afterwards finds
 * it shut. */
static inline void fast_close(struct tp_thread *t)
{
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(t->fast_ring, 0);
}

/*
 * Frame @f, newer than a frame of sub-stack @s whose slot is @slot, is
 * one of that frame's callees: of the same sub-stack, and deeper.  A
 * frame with that sub-stack's id but at or above @slot cannot be (a
 * stack grows down): it runs on another stack, which a call's placement
 * took for this one (tramp_stacks.c, the rules' guesses).  Such a frame
 * is still alive: when the frame below returns it stays, where dropping
 * it would leave its own return with no frame to find.
 */
static inline int skipped_callee(const struct tp_frame *f, uint32_t s, uint64_t slot)
{
	return frame_stack(f) == s && f->slot < slot;
}

/*
 * Frame @f is dropped on a guess (a skipped callee, or a frame above one
 * whose slot a fresh call took): keep its way back, for a return that
 * would find no frame were the guess wrong.  One entry per slot, the
 * newest: an older one for the same slot is stale.  A signal handler
 * doing the same in between takes another entry (local_xadd()).
 */
static inline void grave_keep(struct tp_thread *t, const struct tp_frame *f)
{
	uint64_t slot = f->slot, k;

	for (k = 0; k < TP_GRAVE_MAX; k++)
		if (READ_ONCE(t->grave[k].slot) == slot)
			WRITE_ONCE(t->grave[k].slot, 0);
	k = local_xadd(&t->grave_next, 1) & (TP_GRAVE_MAX - 1);
	WRITE_ONCE(t->grave[k].slot, 0);
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(t->grave[k].ret, f->ret);
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(t->grave[k].slot, slot);
}

/* Frame @idx's sub-stack may differ from the one below it. */
static inline void note_mixed(struct tp_thread *t, uint64_t idx)
{
	uint64_t m = READ_ONCE(t->mixed_at);

	while ((m == 0 || idx < m) && !local_cmpxchg(&t->mixed_at, &m, idx))
		;
	fast_close(t);
}

static inline struct tp_state *state(void)
{
	return (struct tp_state *)tp_config_area.state;
}

static inline struct tat_thread_ctl *ring_ctl(const struct tp_state *st,
					      uint64_t ring, uint32_t index)
{
	return (struct tat_thread_ctl *)(ring + st->thread_off) + index;
}

static inline uint64_t *ring_data(const struct tp_state *st, uint64_t ring,
				  uint32_t index)
{
	return (uint64_t *)(ring + st->data_off +
			    ((uint64_t)index << (st->ring_shift + 3)));
}

/* The slot's frames in flight in the ring file (docs/ring-format.md). */
static inline struct tat_frame *shared_frames(const struct tp_state *st,
					      uint64_t ring, uint32_t index)
{
	return (struct tat_frame *)(ring + st->frames_off) +
	       (uint64_t)index * TAT_FRAMES_MAX;
}

/* log2 bucket, in nanoseconds, of a duration in event-clock ticks. */
static inline unsigned hist_bucket(const struct tp_state *st, uint64_t ticks)
{
	uint64_t ns = (uint64_t)(((unsigned __int128)ticks * st->ns_mult) >> 32);
	unsigned b;

	if (ns < 2)
		return 0;
	b = 63u - (unsigned)__builtin_clzll(ns);
	return b < TAT_HIST_BUCKETS ? b : TAT_HIST_BUCKETS - 1;
}

/* Is @addr a return into the trampoline (tp_return or a stub's)? */
static inline int is_tramp_return(const struct tp_state *st, uint64_t addr)
{
	return tramp_return_in(st, addr);
}

/* The slot of the calling thread, or NULL when it has none yet.  The
 * place its hash points at first, then on (open addressing, 0 = free). */
static inline struct tp_thread *thread_find(const struct tp_state *st, uint64_t key)
{
	struct tp_thread *threads = (struct tp_thread *)st->threads;
	uint32_t n = 1u << st->thread_bits;
	uint32_t h = (uint32_t)hash_at(key, st->thread_shift);
	uint64_t cur = READ_ONCE(threads[h].key);

	if (likely(cur == key))
		return &threads[h];
	for (uint32_t i = 1; cur != 0 && i < n; i++) {
		struct tp_thread *t = &threads[(h + i) & (n - 1)];

		cur = READ_ONCE(t->key);
		if (cur == key)
			return t;
	}
	return NULL;
}

/* Add a call of @dur ticks (@self of them its own) to a thread's own
 * stats record @r: only that thread writes it, each field with one
 * unlocked instruction (tramp_ring.c stats_account(), tramp.c
 * exit_fast()). */
static inline __attribute__((always_inline)) void stats_record_add(const struct tp_state *st,
		struct tat_stat *r, uint64_t dur, uint64_t self)
{
	local_add(&r->total, dur);
	local_add(&r->self, self);
	local_inc(&r->hist[hist_bucket(st, dur)]);
	local_max(&r->max, dur);
	local_inc(&r->calls);
}

/* tramp_threads.c: the calling thread's slot */
HIDDEN struct tp_thread *tp_thread_find(struct tp_state *st, uint64_t key);	/* or NULL */
HIDDEN struct tp_thread *thread_claim(struct tp_state *st, uint64_t ring, uint64_t key);
HIDDEN int thread_check_owner(struct tp_state *st, uint64_t ring, struct tp_thread *t,
			       uint64_t key);
HIDDEN struct tp_thread *thread_by_frame(struct tp_state *st, uint64_t slot);
HIDDEN int vfork_child(const struct tp_state *st, struct tp_thread *t, uint64_t key);
HIDDEN uint64_t vfork_child_return(const struct tp_thread *t, const uint64_t *slot);

/* tramp_ring.c: events, records and stats into the ring */
HIDDEN int ring_put(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
		    uint64_t word, int counted);
HIDDEN void emit(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
		 unsigned type, uint64_t site, uint64_t tsc, uint64_t lim, uint32_t stack);
HIDDEN void frame_close_returned(const struct tp_state *st, uint64_t ring,
				 struct tp_thread *t, uint64_t j, uint64_t tsc,
				 const uint64_t *returned);
HIDDEN void frame_close(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
			uint64_t j, uint64_t tsc);
HIDDEN void frame_mark_ended(const struct tp_state *st, uint64_t ring,
			     struct tp_thread *t, uint64_t j);
HIDDEN int slot_populate(const struct tp_state *st, uint64_t ring, uint32_t index, int *later);
HIDDEN int ring_absent(const struct tp_state *st, uint64_t ring, struct tp_thread *t);
/* May nothing be written to @t's ring (not all present, and its pages
 * cannot be had)?  One load when it is present: every writer outside the
 * fast paths asks. */
static inline int ring_unusable(const struct tp_state *st, uint64_t ring, struct tp_thread *t)
{
	return unlikely(READ_ONCE(t->populate_pending)) && ring_absent(st, ring, t);
}
/* tp_thread.populate_pending: 1 = its ring waits for its first event */
#define POPULATE_FAILED 2	/* its ring's pages could not be had */
HIDDEN void tp_args_put_block(const struct tp_state *st, uint64_t ring,
			      struct tp_thread *t, const uint64_t *words, uint64_t n);

/* tramp_stacks.c: the sub-stack of a new call (ends the frames it shows dead) */
HIDDEN uint32_t place_call(const struct tp_state *st, uint64_t ring,
			   struct tp_thread *t, uint64_t *slotp);

/* tramp_hooks.c: put back the returns taken from a backtrace() once its
 * caller is seen alive again */
HIDDEN void bt_rehijack_slow(const struct tp_state *st, struct tp_thread *t,
			     uint64_t slot, uint32_t s);

#endif /* TATTACH_TRAMP_SHARED_H */
