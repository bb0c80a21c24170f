// SPDX-License-Identifier: MIT
/*
 * Writing a thread's ring: reserving a position (discard or flight mode),
 * the records a reader needs before an event (TIME, LOST, DEPTH, STACK),
 * the end of a shadow frame as an EXIT or a stats record, and a thread's
 * ring made resident.  tramp_shared.h says why every update here is one
 * instruction.
 *
 * Stats mode updates the thread's own records the same way.  Locked
 * instructions (shared with other CPUs) are used only to take a record
 * from the pool, once per thread and function, and for the shared
 * records of a full pool (docs/ring-format.md, "Stats mode").
 */
#include "tramp_shared.h"

/*
 * Reserve one position of the thread's ring.  In discard mode a full ring
 * refuses and, for an ENTRY or EXIT (@counted), counts the event as
 * dropped; the records around events are not counted, so every lost event
 * counts once.  In flight mode the oldest event is overwritten.  Returns 0
 * if refused.
 */
static inline __attribute__((always_inline)) int ring_reserve(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, int counted, uint64_t *posp)
{
	const struct tat_ring_header *hdr = (const void *)ring;
	struct tat_thread_ctl *ctl = ring_ctl(st, ring, t->index);
	uint64_t size = 1ull << st->ring_shift;
	uint64_t pos;

	if (ring_unusable(st, ring, t)) {
		if (counted) {
			local_inc(&ctl->dropped);
			local_inc(&t->lost_pending);
		}
		return 0;
	}
	if (READ_ONCE(hdr->mode) == TAT_MODE_FLIGHT) {
		pos = local_xadd(&ctl->head, 1);
	} else {
		pos = READ_ONCE(ctl->head);
		do {
			if (pos - READ_ONCE(ctl->tail) >= size) {
				if (counted) {
					local_inc(&ctl->dropped);
					local_inc(&t->lost_pending);
				}
				return 0;
			}
		} while (!local_cmpxchg(&ctl->head, &pos, pos + 1));
	}
	*posp = pos;
	return 1;
}

static inline __attribute__((always_inline)) void ring_store(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t pos, uint64_t word)
{
	uint64_t size = 1ull << st->ring_shift;

	WRITE_ONCE(ring_data(st, ring, t->index)[pos & (size - 1)],
		   word | tat_ev_commit_bit(pos, st->ring_shift));
}

/* Reserve and store @word; 0 if it was refused. */
int ring_put(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
	     uint64_t word, int counted)
{
	uint64_t pos;

	if (!ring_reserve(st, ring, t, counted, &pos))
		return 0;
	ring_store(st, ring, t, pos, word);
	return 1;
}

/* Calls a reader sees open on sub-stack @s among the first @lim frames. */
static uint64_t open_calls(const struct tp_thread *t, uint64_t lim, uint32_t s)
{
	uint64_t n = 0;

	for (uint64_t j = 0; j < lim && j < TP_DEPTH_MAX; j++)
		n += !(t->stack[j].site & FRAME_ENDED) && frame_stack(&t->stack[j]) == s;
	return n;
}

/*
 * Store @word so that the reader takes it for an event of sub-stack @s:
 * preceded by a STACK record when the reader was last told of another
 * one (or, after a resync, @force, of any but 0).
 *
 * A signal handler of this thread may write its own events, on its own
 * stack, at any point in here.  So: the head is read before ring_stack
 * and the place is taken with a compare-and-swap from that head, which
 * fails if anyone wrote in between (then we look again); a writer that
 * will write a STACK record first marks ring_stack untold, so a handler
 * running before that record is stored writes its own; and the record's
 * stack becomes ring_stack only if no handler told of another meanwhile.
 * STACK and event are taken as one pair: nothing can come between them.
 */
static inline __attribute__((always_inline)) int ring_put_in_stack(
		const struct tp_state *st, uint64_t ring, struct tp_thread *t,
		uint64_t word, uint32_t s, int force)
{
	const struct tat_ring_header *hdr = (const void *)ring;
	struct tat_thread_ctl *ctl = ring_ctl(st, ring, t->index);
	uint64_t size = 1ull << st->ring_shift;

	if (ring_unusable(st, ring, t)) {
		local_inc(&ctl->dropped);
		local_inc(&t->lost_pending);
		return 0;
	}
	for (;;) {
		uint64_t pos = READ_ONCE(ctl->head);
		uint32_t told = READ_ONCE(t->ring_stack);
		int need = told != s || (force && s != 0);
		uint64_t n = need ? 2 : 1;

		if (need && told != STACK_UNTOLD)
			WRITE_ONCE(t->ring_stack, STACK_UNTOLD);
		if (READ_ONCE(hdr->mode) != TAT_MODE_FLIGHT &&
		    pos + n - READ_ONCE(ctl->tail) > size) {
			local_inc(&ctl->dropped);
			local_inc(&t->lost_pending);
			return 0;
		}
		if (!local_cmpxchg(&ctl->head, &pos, pos + n))
			continue;
		if (need)
			ring_store(st, ring, t, pos++, tat_ev_special(TAT_SUB_STACK, s));
		ring_store(st, ring, t, pos, word);
		if (need)
			local_cmpxchg32(&t->ring_stack, STACK_UNTOLD, s);
		return 1;
	}
}

/*
 * Write an ENTRY or EXIT, preceded by the records a reader needs first: a
 * TIME when the upper clock bits change or a chunk starts, a LOST with the
 * count of events dropped since the last write, and after either a DEPTH
 * telling how many calls are open below this event (frames [0, @lim) of
 * the shadow stack), so a reader that missed events can resynchronise.
 */
void emit(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, unsigned type, uint64_t site,
		uint64_t tsc, uint64_t lim, uint32_t stack)
{
	struct tat_thread_ctl *ctl = ring_ctl(st, ring, t->index);
	uint64_t hi = tsc >> TAT_EV_TSC_BITS;
	int resync = 0;

	/*
	 * A record the event needs that does not fit drops the event too
	 * (counted): the ring may have room again a moment later, and an
	 * event written after a refused LOST would stand after a gap that
	 * nothing marks.
	 */
	if (unlikely(hi != t->last_hi ||
		     (READ_ONCE(ctl->head) & (TAT_CHUNK_EVENTS - 1)) == 0)) {
		if (!ring_put(st, ring, t, tat_ev_special(TAT_SUB_TIME, hi), 0))
			goto drop;
		WRITE_ONCE(t->last_hi, hi);
		resync = 1;
	}
	if (unlikely(READ_ONCE(t->lost_pending))) {
		uint64_t pos;

		/*
		 * The place first, then the count, taken whole: a signal handler
		 * writing in between puts its own LOST after ours and takes the
		 * count itself (ours then says 0), so every loss is told once
		 * and before any event written after it.
		 */
		if (!ring_reserve(st, ring, t, 0, &pos))
			goto drop;
		ring_store(st, ring, t, pos, tat_ev_special(TAT_SUB_LOST,
				local_take(&t->lost_pending)));
		resync = 1;
	}
	if (unlikely(resync) &&
	    !ring_put(st, ring, t, tat_ev_special(TAT_SUB_DEPTH,
						  open_calls(t, lim, stack)), 0))
		goto drop;
	ring_put_in_stack(st, ring, t, tat_ev_make(type, (uint32_t)site, tsc), stack,
			  resync);
	return;
drop:
	local_inc(&ctl->dropped);
	local_inc(&t->lost_pending);
}

/* Store @want into the u32 *@index if it is still 0, signal-safely (the
 * aligned u64 around it is swapped); returns what *@index holds now. */
static uint32_t index_publish(uint32_t *index, uint32_t want)
{
	uint64_t *word = (uint64_t *)((uintptr_t)index & ~(uintptr_t)7);
	unsigned shift = ((uintptr_t)index & 4) ? 32 : 0;
	uint64_t old = READ_ONCE(*word);

	for (;;) {
		uint32_t v = (uint32_t)(old >> shift);

		if (v)
			return v;	/* a signal handler of ours got there first */
		if (local_cmpxchg(word, &old, old | ((uint64_t)want << shift)))
			return want;
	}
}

/*
 * The thread's first stats-mode call of @site: take the next pool record
 * (a locked add on a shared counter, but once per thread and function),
 * or when the pool is full send the site to its shared record.  A signal
 * handler doing the same in between wins; our record then stays unused
 * (calls 0), which readers skip.
 */
static uint32_t stats_take(const struct tp_state *st, uint64_t ring,
			   struct tp_thread *t, uint64_t site, uint32_t *index)
{
	struct tat_ring_header *hdr = (void *)ring;
	uint32_t want = TAT_STAT_SHARED, n;
	struct tat_stat *r;

	/* Looked at first so that stats_used stops growing once full. */
	if (READ_ONCE(hdr->stats_used) < st->stats_cap) {
		n = __sync_fetch_and_add(&hdr->stats_used, 1);
		if (n < st->stats_cap) {
			r = (struct tat_stat *)(ring + st->stats_off) + n;
			WRITE_ONCE(r->slot, t->index);
			WRITE_ONCE(r->site, (uint32_t)site);
			want = n + 1;
		}
	}
	if (want == TAT_STAT_SHARED) {
		r = (struct tat_stat *)(ring + st->stats_shared_off) + site;
		WRITE_ONCE(r->slot, TAT_STAT_SHARED);
		WRITE_ONCE(r->site, (uint32_t)site);
	}
	return index_publish(index, want);
}

/* Pool full: the site's record is shared between threads, so locked. */
static void stats_account_shared(struct tat_stat *r, uint64_t dur, uint64_t self,
				 unsigned b)
{
	uint64_t cur = READ_ONCE(r->max);

	__sync_fetch_and_add(&r->total, dur);
	__sync_fetch_and_add(&r->self, self);
	__sync_fetch_and_add(&r->hist[b], 1);
	while (dur > cur) {
		uint64_t seen = __sync_val_compare_and_swap(&r->max, cur, dur);

		if (seen == cur)
			break;
		cur = seen;
	}
	__sync_fetch_and_add(&r->calls, 1);
}

/*
 * Account one stats-mode call of @site that lasted @dur ticks, @child of
 * them in traced callees.  Only this thread writes its records, each
 * field with one unlocked instruction, so its own signal handlers cannot
 * tear them and no other CPU ever writes these lines.
 */
static inline __attribute__((always_inline)) void stats_account(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t site, uint64_t dur,
		uint64_t child)
{
	uint64_t self = dur > child ? dur - child : 0;
	struct tat_stat *r;
	uint32_t *index, v;

	if (unlikely(!st->stats_off || site >= st->site_cap))
		return;
	index = (uint32_t *)(ring + st->stats_index_off) +
		(uint64_t)t->index * st->site_cap + site;
	v = READ_ONCE(*index);
	if (unlikely(!v))
		v = stats_take(st, ring, t, site, index);
	if (unlikely(v == TAT_STAT_SHARED)) {
		stats_account_shared((struct tat_stat *)(ring + st->stats_shared_off) + site,
				     dur, self, hist_bucket(st, dur));
		local_inc(&ring_ctl(st, ring, t->index)->stats_shared);
		return;
	}
	if (unlikely(v - 1 >= st->stats_cap))
		return;
	r = (struct tat_stat *)(ring + st->stats_off) + (v - 1);
	stats_record_add(st, r, dur, self);
}

/*
 * tattach -R: tp_args_return() through a thunk that keeps every register
 * (tramp_args.c), so that the compiler need not keep anything out of the
 * caller-saved registers around this rare call: the exit of a call
 * without -R runs the same instructions as before -R existed.
 */
static inline __attribute__((always_inline)) void args_return_keep_regs(
		struct tp_thread *t, uint64_t site, const uint64_t *returned)
{
	__asm__ volatile("call tp_args_return_keep"
			 : : "D"(t), "S"(site), "d"(returned) : "memory", "cc");
}

/*
 * End shadow frame @j at @tsc by the mode it entered in: an EXIT event,
 * or its stats record.  Its time goes to its caller's callee time either
 * way, so the caller's self time excludes it.  @returned: the frame's
 * function returned through tp_return, whose saved %rax lies just below
 * this slot (for tattach -R); NULL when it ended otherwise.
 */
void frame_close_returned(
		const struct tp_state *st, uint64_t ring, struct tp_thread *t, uint64_t j,
		uint64_t tsc, const uint64_t *returned)
{
	struct tp_frame *f = &t->stack[j];
	uint64_t dur = tsc > f->tsc ? tsc - f->tsc : 0;
	uint32_t s = frame_stack(f);
	uint64_t k = j;

	/* the caller: the nearest frame below on the same sub-stack */
	while (k-- > 0)
		if (frame_stack(&t->stack[k]) == s) {
			local_add(&t->stack[k].child, dur);
			break;
		}
	/* one test for both rare cases: stats mode, and tattach -R */
	if (f->site & (FRAME_STATS | TP_FRAME_RETVAL)) {
		if (f->site & FRAME_STATS) {
			stats_account(st, ring, t, f->site & FRAME_SITE, dur, f->child);
			return;
		}
		/* tramp_args.c: the return value before the EXIT */
		if (returned)
			args_return_keep_regs(t, f->site & FRAME_SITE, returned);
	}
	emit(st, ring, t, TAT_EV_EXIT, f->site & FRAME_SITE, tsc, j + 1, s);
}

void frame_close(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t j, uint64_t tsc)
{
	frame_close_returned(st, ring, t, j, tsc, NULL);
}

/* Frame @j was left by longjmp: say so in its shared copy too. */
void frame_mark_ended(const struct tp_state *st, uint64_t ring,
				    struct tp_thread *t, uint64_t j)
{
	t->stack[j].site |= FRAME_ENDED;
	if (st->frames_off) {
		struct tat_frame *sf = &shared_frames(st, ring, t->index)[j];

		WRITE_ONCE(sf->site, sf->site | TAT_FRAME_ENDED);
	}
}

/*
 * MADV_POPULATE_WRITE (Linux 5.14+) over the pages of [@p, @p + @len):
 * they are allocated, their contents unchanged.  Returns 1 when they
 * cannot all be had: the ring folder filled up after the file was made,
 * and a store to such a page would raise SIGBUS in this process.  An
 * older kernel answers EINVAL and cannot tell: 0, the pages then fault in
 * at their first store as before.
 */
static int populate(const void *p, uint64_t len)
{
	uint64_t lo = (uint64_t)p & ~4095ull, hi = ((uint64_t)p + len + 4095) & ~4095ull;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(28L /* madvise */), "D"(lo), "S"(hi - lo),
			   "d"(23L /* MADV_POPULATE_WRITE */)
			 : "rcx", "r11", "memory");
	return ret < 0 && ret != -22 /* EINVAL */;
}

/*
 * The pages of slot @index, made present before the slot is claimed
 * (thread_claim()), so that no store of its thread faults on them: its
 * control block, its frames in flight and, outside stats mode, its whole
 * ring (in discard mode every 256th call would otherwise fault in a fresh
 * /dev/shm page: ~6 us); in stats mode only the ring's first page, for
 * the TID record, and *@later says the rest waits for its first write
 * (ring_absent()).  Returns 1 when a page cannot be had:
 * the slot must not be used.
 */
int slot_populate(const struct tp_state *st, uint64_t ring, uint32_t index, int *later)
{
	*later = READ_ONCE(((const struct tat_ring_header *)ring)->mode) == TAT_MODE_STATS;
	if (populate(ring_ctl(st, ring, index), sizeof(struct tat_thread_ctl)))
		return 1;
	if (st->frames_off &&
	    populate(shared_frames(st, ring, index), TAT_FRAMES_MAX * sizeof(struct tat_frame)))
		return 1;
	return populate(ring_data(st, ring, index), *later ? 8 : 8ull << st->ring_shift);
}

/*
 * Is the ring of @t (one claimed in stats mode, or by tattach for the
 * calls it adopted: populate_pending) still not present?  At its first
 * write it is made present, off the per-call path; 1 when its pages
 * cannot be had: nothing is written to it then (the fast paths never
 * are: their TIME record is not), and no other thread tries again until
 * tattach has looked at the room again (hdr->no_room cleared).
 */
int ring_absent(const struct tp_state *st, uint64_t ring, struct tp_thread *t)
{
	struct tat_ring_header *hdr = (void *)ring;

	if ((READ_ONCE(t->populate_pending) == POPULATE_FAILED && READ_ONCE(hdr->no_room)) ||
	    populate(ring_data(st, ring, t->index), 8ull << st->ring_shift)) {
		WRITE_ONCE(t->populate_pending, POPULATE_FAILED);
		WRITE_ONCE(hdr->no_room, 1);
		return 1;
	}
	WRITE_ONCE(t->populate_pending, 0);
	return 0;
}

/*
 * For tramp_args.c (tattach -A/-R): a block of @n words written as one (a
 * VALUES record and its data: a reader must find them together).  In
 * discard mode a block that does not fit is left out, uncounted: the
 * call's events are whole without it.
 */
void tp_args_put_block(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
		       const uint64_t *words, uint64_t n)
{
	const struct tat_ring_header *hdr = (const void *)ring;
	struct tat_thread_ctl *ctl = ring_ctl(st, ring, t->index);
	uint64_t size = 1ull << st->ring_shift, pos;

	if (n > size / 4 || ring_unusable(st, ring, t))
		return;
	if (READ_ONCE(hdr->mode) == TAT_MODE_FLIGHT) {
		pos = local_xadd(&ctl->head, n);
	} else {
		pos = READ_ONCE(ctl->head);
		do {
			if (pos + n - READ_ONCE(ctl->tail) > size)
				return;
		} while (!local_cmpxchg(&ctl->head, &pos, pos + n));
	}
	for (uint64_t i = 0; i < n; i++)
		ring_store(st, ring, t, pos + i, words[i]);
}
