// SPDX-License-Identifier: MIT
/*
 * Thread slots: which slot of the state is the calling thread's.  A
 * thread's first event claims one, keyed by its thread pointer (%fs:0):
 * the trampoline has no TLS of its own in a process it did not start.  A
 * slot whose thread ended may pass to a new thread with the same thread
 * pointer, and a vfork() child runs on its parent's slot for a while:
 * both are told apart here.
 */
#include "tramp_shared.h"

static int32_t sys_gettid(void)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "0"(186L) : "rcx", "r11", "memory");
	return (int32_t)ret;
}

/* First event of a thread: claim a free slot (any CPU may race for it). */
struct tp_thread *thread_claim(struct tp_state *st, uint64_t ring,
				      uint64_t key)
{
	struct tat_ring_header *hdr = (void *)ring;
	struct tp_thread *threads = (struct tp_thread *)st->threads;
	uint32_t n = 1u << st->thread_bits;
	uint32_t h = (uint32_t)hash64(key, st->thread_bits);

	for (uint32_t i = 0; i < n; i++) {
		struct tp_thread *t = &threads[(h + i) & (n - 1)];
		uint64_t cur = READ_ONCE(t->key);
		int later;

		if (cur == key)
			return t;
		if (cur != 0)
			continue;
		/* Its pages first, whoever wins it: a slot whose pages the
		 * ring folder cannot hold any more is not used, and no other
		 * is tried (each try is a system call) until tattach has
		 * looked at the room again (hdr->no_room). */
		if (READ_ONCE(hdr->no_room) ||
		    slot_populate(st, ring, (h + i) & (n - 1), &later)) {
			WRITE_ONCE(hdr->no_room, 1);
			break;
		}
		/* Before the key: a signal handler of ours that finds the slot
		 * right after the swap must already write to the right ring.
		 * Every claimer writes the same value. */
		t->index = (h + i) & (n - 1);
		cur = __sync_val_compare_and_swap(&t->key, 0, key);
		/*
		 * A signal handler of ours may have claimed this very slot
		 * between our look and the swap: the first write to a slot's
		 * page faults, and the kernel delivers signals on the way
		 * back (a -pg program's own ITIMER_PROF is enough).  The slot
		 * is then ours already; a second one for the same thread
		 * would hold only this call's frame, and its return would
		 * find no frame in the slot thread_find() returns.
		 */
		if (cur == key)
			return t;
		if (cur != 0)
			continue;	/* another thread won this one */
		t->tid = sys_gettid();
		t->last_hi = ~0ull;
		ring_ctl(st, ring, t->index)->tid = t->tid;
		__sync_fetch_and_add(&hdr->threads_used, 1);
		ring_put(st, ring, t, tat_ev_special(TAT_SUB_TID, (uint32_t)t->tid), 0);
		/* in stats mode only the TID's page is there yet */
		t->populate_pending = (uint64_t)later;
		return t;
	}
	__sync_fetch_and_add(&hdr->threads_overflow, 1);
	return NULL;
}

/*
 * A slot is keyed by the thread pointer, which glibc hands to a new thread
 * once the old one is gone.  The tid in the TCB tells them apart; the new
 * thread keeps the slot (and any stale frames, which only cost depth) and
 * says who it is in the ring.
 */
/*
 * A new thread in the slot (same thread pointer, another tid: glibc gave
 * it the stack and TCB of one that ended).  The frames left in the slot
 * are the old thread's, which it left without returning (pthread_exit(),
 * pthread_cancel(), or it ended with calls adopted at --enable): end
 * them as unwound, under the old tid, before the new one's TID record;
 * the new thread starts with an empty shadow stack.
 */
static void thread_end_old_owner(const struct tp_state *st, uint64_t ring,
				 struct tp_thread *t)
{
	uint64_t d = READ_ONCE(t->depth), n = 0, tsc = now(st);

	if (d > TP_DEPTH_MAX)
		d = TP_DEPTH_MAX;
	for (uint64_t j = 0; j < d; j++)
		n += !(t->stack[j].site & (FRAME_ENDED | FRAME_STATS));
	if (n)
		ring_put(st, ring, t, tat_ev_special(TAT_SUB_UNWIND, n), 0);
	for (uint64_t j = d; j-- > 0;)
		if (!(t->stack[j].site & FRAME_ENDED)) {
			frame_close(st, ring, t, j, tsc);
			frame_mark_ended(st, ring, t, j);
		}
	if (st->frames_off)
		WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, 0);
	WRITE_ONCE(t->depth, 0);
	WRITE_ONCE(t->mixed_at, 0);
	WRITE_ONCE(t->bt_sp, 0);
	WRITE_ONCE(t->vfork_pending, 0);
	for (uint64_t k = 0; k < TP_GRAVE_MAX; k++)
		WRITE_ONCE(t->grave[k].slot, 0);
}

int thread_check_owner(struct tp_state *st, uint64_t ring,
			       struct tp_thread *t, uint64_t key)
{
	int32_t tid = *(const volatile int32_t *)(key + st->tid_offset);

	if (likely(tid == t->tid) || tid <= 0)
		return 0;
	if (t->tid > 0)
		thread_end_old_owner(st, ring, t);
	t->tid = tid;
	ring_ctl(st, ring, t->index)->tid = tid;
	ring_put(st, ring, t, tat_ev_special(TAT_SUB_TID, (uint32_t)tid), 0);
	/* a TID puts the reader back on sub-stack 0: tell it ours again */
	WRITE_ONCE(t->ring_stack, STACK_UNTOLD);
	return 1;
}

/*
 * vfork(): the child runs on its parent's memory and thread pointer, so
 * it finds its parent thread's slot, shadow stack and ring, until it
 * calls exec or _exit while the parent waits.  The GOT hook of vfork
 * (TP_HOOK_VFORK) flags the slot; while it is flagged, one system call
 * per traced event tells the two apart: the parent's tid is the slot's.
 * The parent's first event after the child left clears the flag.  The
 * child records nothing and changes nothing of its parent's state.
 */
int vfork_child(const struct tp_state *st,
						  struct tp_thread *t, uint64_t key)
{
	/* The child's TCB is its parent's, tid included; a TCB with another
	 * tid is a new thread in a slot whose owner ended in vfork(). */
	if (sys_gettid() != t->tid &&
	    !(st->tid_offset && *(const volatile int32_t *)(key + st->tid_offset) != t->tid))
		return 1;
	WRITE_ONCE(t->vfork_pending, 0);
	return 0;
}

/* A vfork child returns through a frame of its parent's: where to, only. */
uint64_t vfork_child_return(const struct tp_thread *t, const uint64_t *slot)
{
	uint64_t d = READ_ONCE(t->depth);

	if (d > TP_DEPTH_MAX)
		d = TP_DEPTH_MAX;
	while (d-- > 0)
		if (t->stack[d].slot == (uint64_t)slot)
			return t->stack[d].ret;
	return 0;
}

/* Last resort when the thread has no slot of its own: search them all. */
struct tp_thread *thread_by_frame(struct tp_state *st, uint64_t slot)
{
	struct tp_thread *threads = (struct tp_thread *)st->threads;
	uint32_t n = 1u << st->thread_bits;

	for (uint32_t i = 0; i < n; i++) {
		struct tp_thread *t = &threads[i];
		uint64_t d = READ_ONCE(t->depth);

		for (uint64_t j = d < TP_DEPTH_MAX ? d : TP_DEPTH_MAX; j-- > 0;)
			if (t->stack[j].slot == slot)
				return t;
	}
	return NULL;
}

/* thread_find() as a call, for the slow paths (tramp.c's general ones,
 * tramp_hooks.c, tramp_args.c): the fast paths inline it. */
struct tp_thread *tp_thread_find(struct tp_state *st, uint64_t key)
{
	return thread_find(st, key);
}
