// SPDX-License-Identifier: MIT
/*
 * The part of the trampoline written in C.  It runs inside the traced
 * process, on the traced thread, between two instructions of its code:
 * no libc, no allocation, no locks, and no system call except gettid()
 * once per thread.  entry.S describes the register contract.
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
#include <stddef.h>
#include <stdint.h>

#include <tattach/ring.h>
#include "tramp_abi.h"
#include "tramp_common.h"

extern const struct tp_config tp_config_area HIDDEN;
extern char tp_return[] HIDDEN;

HIDDEN int tp_enter_fast(uint64_t *slot, uint64_t after_site, uint64_t key);
HIDDEN void tp_enter(uint64_t *slot, uint64_t after_site, uint64_t key);
HIDDEN uint64_t tp_exit_fast(uint64_t *slot, uint64_t key);
HIDDEN uint64_t tp_exit(uint64_t *slot, uint64_t key);
HIDDEN uint64_t tp_hook(uint64_t key, uint64_t which, uint64_t sp);
HIDDEN uint64_t tp_fork_ring(struct tp_state *st, uint64_t key);	/* tramp_fork.c */
/* tattach -A/-R: tramp_args.c */
HIDDEN struct tp_thread *tp_args_thread(struct tp_state *st, uint64_t key);
HIDDEN void tp_args_put_block(const struct tp_state *st, uint64_t ring,
			      struct tp_thread *t, const uint64_t *words, uint64_t n);

static void bt_rehijack_slow(const struct tp_state *st, struct tp_thread *t,
			     uint64_t slot, uint32_t s);

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
/* A new call at most this far above every frame of a sub-stack is taken
 * for a longjmp() out of all of them (same stack); farther, another stack. */
#define JUMP_REACH  (16ull << 10)
#define NO_FRAME    (~0ull)

_Static_assert(TP_DEPTH_MAX == TAT_FRAMES_MAX, "one shared frame per shadow frame");

/* Fetch-and-add that a signal on this thread cannot split. */
static inline uint64_t local_xadd(uint64_t *p, uint64_t v)
{
	__asm__ volatile("xaddq %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

static inline void local_inc(uint64_t *p)
{
	__asm__ volatile("addq $1, %0" : "+m"(*p) : : "memory");
}

static inline void local_dec(uint64_t *p)
{
	__asm__ volatile("subq $1, %0" : "+m"(*p) : : "memory");
}

static inline void local_add(uint64_t *p, uint64_t v)
{
	__asm__ volatile("addq %1, %0" : "+m"(*p) : "r"(v) : "memory");
}

/* Unlocked compare-and-swap: one instruction, so signal-atomic. */
static inline int local_cmpxchg(uint64_t *p, uint64_t *old, uint64_t new)
{
	uint64_t prev = *old;
	uint8_t ok;

	__asm__ volatile("cmpxchgq %3, %1; sete %0"
			 : "=q"(ok), "+m"(*p), "+a"(prev)
			 : "r"(new)
			 : "memory", "cc");
	*old = prev;
	return ok;
}

static inline int local_cmpxchg32(uint32_t *p, uint32_t old, uint32_t new)
{
	uint8_t ok;

	__asm__ volatile("cmpxchgl %3, %1; sete %0"
			 : "=q"(ok), "+m"(*p), "+a"(old)
			 : "r"(new)
			 : "memory", "cc");
	return ok;
}

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

/* Frame @idx's sub-stack may differ from the one below it. */
static inline void note_mixed(struct tp_thread *t, uint64_t idx)
{
	uint64_t m = READ_ONCE(t->mixed_at);

	while ((m == 0 || idx < m) && !local_cmpxchg(&t->mixed_at, &m, idx))
		;
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
static inline __attribute__((always_inline)) int ring_put(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t word, int counted)
{
	uint64_t pos;

	if (!ring_reserve(st, ring, t, counted, &pos))
		return 0;
	ring_store(st, ring, t, pos, word);
	return 1;
}

/* Swap in 0 and return the old value: one instruction, so signal-safe. */
static inline uint64_t local_take(uint64_t *p)
{
	uint64_t v = 0;

	__asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
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

static void ring_populate(const struct tp_state *st, uint64_t ring, uint32_t index);

/*
 * Write an ENTRY or EXIT, preceded by the records a reader needs first: a
 * TIME when the upper clock bits change or a chunk starts, a LOST with the
 * count of events dropped since the last write, and after either a DEPTH
 * telling how many calls are open below this event (frames [0, @lim) of
 * the shadow stack), so a reader that missed events can resynchronise.
 */
static inline __attribute__((always_inline)) void emit(const struct tp_state *st,
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
		/* A slot tattach claimed for calls it adopted was never
		 * populated by thread_claim(): do it here, off the per-call
		 * path, before at most one page of events has faulted in. */
		if (unlikely(READ_ONCE(t->populate_pending))) {
			WRITE_ONCE(t->populate_pending, 0);
			ring_populate(st, ring, t->index);
		}
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

/* The slot's frames in flight in the ring file (docs/ring-format.md). */
static inline struct tat_frame *shared_frames(const struct tp_state *st,
					      uint64_t ring, uint32_t index)
{
	return (struct tat_frame *)(ring + st->frames_off) +
	       (uint64_t)index * TAT_FRAMES_MAX;
}

static inline void local_max(uint64_t *p, uint64_t v)
{
	uint64_t cur = READ_ONCE(*p);

	while (v > cur && !local_cmpxchg(p, &cur, v))
		;
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
	unsigned b = hist_bucket(st, dur);
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
				     dur, self, b);
		local_inc(&ring_ctl(st, ring, t->index)->stats_shared);
		return;
	}
	if (unlikely(v - 1 >= st->stats_cap))
		return;
	r = (struct tat_stat *)(ring + st->stats_off) + (v - 1);
	local_add(&r->total, dur);
	local_add(&r->self, self);
	local_inc(&r->hist[b]);
	local_max(&r->max, dur);
	local_inc(&r->calls);
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
static inline __attribute__((always_inline)) void frame_close_returned(
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

static inline __attribute__((always_inline)) void frame_close(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t j, uint64_t tsc)
{
	frame_close_returned(st, ring, t, j, tsc, NULL);
}

/* Frame @j was left by longjmp: say so in its shared copy too. */
static inline void frame_mark_ended(const struct tp_state *st, uint64_t ring,
				    struct tp_thread *t, uint64_t j)
{
	t->stack[j].site |= FRAME_ENDED;
	if (st->frames_off) {
		struct tat_frame *sf = &shared_frames(st, ring, t->index)[j];

		WRITE_ONCE(sf->site, sf->site | TAT_FRAME_ENDED);
	}
}

/* Open event-mode frames of sub-stack @s in (@lo, @hi): what an UNWIND
 * announces. */
static inline uint64_t event_frames_open(const struct tp_thread *t, uint64_t lo,
					 uint64_t hi, uint32_t s)
{
	uint64_t n = 0;

	for (uint64_t j = hi; j-- > lo + 1;)
		n += !(t->stack[j].site & (FRAME_ENDED | FRAME_STATS)) &&
		     frame_stack(&t->stack[j]) == s;
	return n;
}

static int32_t sys_gettid(void)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "0"(186L) : "rcx", "r11", "memory");
	return (int32_t)ret;
}

/*
 * Make the pages of a newly claimed ring present now, once per thread, so
 * that no event write of the hot path takes a page fault (in discard mode
 * every 256th call would otherwise fault in a fresh /dev/shm page: ~6 us).
 * MADV_POPULATE_WRITE (Linux 5.14+) allocates the file's pages without
 * changing their contents; an older kernel answers EINVAL and the pages
 * fault in on first write as before.  Stats mode writes no events: its
 * rings stay sparse.  Errors are ignored: the ring works either way.
 */
static void ring_populate(const struct tp_state *st, uint64_t ring, uint32_t index)
{
	long ret;

	if (READ_ONCE(((const struct tat_ring_header *)ring)->mode) == TAT_MODE_STATS)
		return;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(28L /* madvise */), "D"(ring_data(st, ring, index)),
			   "S"(8ull << st->ring_shift), "d"(23L /* MADV_POPULATE_WRITE */)
			 : "rcx", "r11", "memory");
	(void)ret;
}

/* First event of a thread: claim a free slot (any CPU may race for it). */
static struct tp_thread *thread_claim(struct tp_state *st, uint64_t ring,
				      uint64_t key)
{
	struct tat_ring_header *hdr = (void *)ring;
	struct tp_thread *threads = (struct tp_thread *)st->threads;
	uint32_t n = 1u << st->thread_bits;
	uint32_t h = (uint32_t)hash64(key, st->thread_bits);

	for (uint32_t i = 0; i < n; i++) {
		struct tp_thread *t = &threads[(h + i) & (n - 1)];
		uint64_t cur = READ_ONCE(t->key);

		if (cur == key)
			return t;
		if (cur != 0)
			continue;
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
		ring_populate(st, ring, t->index);
		ring_ctl(st, ring, t->index)->tid = t->tid;
		__sync_fetch_and_add(&hdr->threads_used, 1);
		ring_put(st, ring, t, tat_ev_special(TAT_SUB_TID, (uint32_t)t->tid), 0);
		return t;
	}
	__sync_fetch_and_add(&hdr->threads_overflow, 1);
	return NULL;
}

/* The slot of the calling thread, or NULL when it has none yet. */
static inline struct tp_thread *thread_find(struct tp_state *st, uint64_t key)
{
	struct tp_thread *threads = (struct tp_thread *)st->threads;
	uint32_t n = 1u << st->thread_bits;
	uint32_t h = (uint32_t)hash64(key, st->thread_bits);

	for (uint32_t i = 0; i < n; i++) {
		struct tp_thread *t = &threads[(h + i) & (n - 1)];
		uint64_t cur = READ_ONCE(t->key);

		if (likely(cur == key))
			return t;
		if (cur == 0)
			return NULL;
	}
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
}

static void thread_check_owner(struct tp_state *st, uint64_t ring,
			       struct tp_thread *t, uint64_t key)
{
	int32_t tid = *(const volatile int32_t *)(key + st->tid_offset);

	if (likely(tid == t->tid) || tid <= 0)
		return;
	if (t->tid > 0)
		thread_end_old_owner(st, ring, t);
	t->tid = tid;
	ring_ctl(st, ring, t->index)->tid = tid;
	ring_put(st, ring, t, tat_ev_special(TAT_SUB_TID, (uint32_t)tid), 0);
	/* a TID puts the reader back on sub-stack 0: tell it ours again */
	WRITE_ONCE(t->ring_stack, STACK_UNTOLD);
}

static inline uint64_t site_index(const struct tp_state *st, uint64_t addr)
{
	const struct tp_hent *tab = (const struct tp_hent *)st->site_hash;
	uint64_t mask = (1ull << st->site_bits) - 1;
	uint64_t h = hash64(addr, st->site_bits);

	for (uint64_t i = 0; i <= mask; i++) {
		const struct tp_hent *e = &tab[(h + i) & mask];

		if (likely(e->addr == addr))
			return e->site;
		if (e->addr == 0)
			break;
	}
	return 0;
}

/* Is @addr the return entry of one of the trampoline copies? */
static int is_tramp_return(const struct tp_state *st, uint64_t addr)
{
	for (int i = 0; i < 8 && st->tramp_return[i]; i++)
		if (st->tramp_return[i] == addr)
			return 1;
	return 0;
}

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
 *    CALL_REACH above it: then the call is P's callee.
 *  - Else a sub-stack whose frames all lie at most JUMP_REACH below the
 *    call is taken as the same stack left by a longjmp(): its frames are
 *    dead.  A frame whose very slot a fresh return address now holds is
 *    dead in any case.
 *  - Else the call starts a sub-stack: the thread's current one when it
 *    has no open frames (so a program that never switches stacks uses
 *    sub-stack 0 and writes no STACK record), the newest one when that is
 *    empty, else a new id.
 *
 * So the places where this guesses are: two frames of one stack more than
 * CALL_REACH apart with no traced frame in between, and a new stack
 * that starts less than CALL_REACH below, or JUMP_REACH above, a
 * suspended one's frames (docs/limitations.md).
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
	for (uint64_t k = j; k < d; k++)
		if (frame_stack(&t->stack[k]) != s)
			return;
	if (j < d) {
		WRITE_ONCE(t->depth, j);
		if (st->frames_off)
			WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, j);
	}
}

/* The sub-stack of a new call whose return address is at @slotp; ends
 * the frames the call shows dead (rules above). */
static uint32_t place_call(const struct tp_state *st, uint64_t ring,
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
		if (t->stack[p].slot - slot <= CALL_REACH)
			return s;
	}
	if (q != NO_FRAME && slot - t->stack[q].slot <= JUMP_REACH) {
		uint32_t s = frame_stack(&t->stack[q]);

		end_dead(st, ring, t, d, s, slot, fresh);
		return s;
	}
	return stack_for_root(t, d);
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
static __attribute__((noinline)) int vfork_child(const struct tp_state *st,
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
static uint64_t vfork_child_return(const struct tp_thread *t, const uint64_t *slot)
{
	uint64_t d = READ_ONCE(t->depth);

	if (d > TP_DEPTH_MAX)
		d = TP_DEPTH_MAX;
	while (d-- > 0)
		if (t->stack[d].slot == (uint64_t)slot)
			return t->stack[d].ret;
	return 0;
}

/*
 * The fast paths.  Most calls are the innermost frame's callee on the one
 * stack a thread runs on, with nothing pending: no record a reader needs
 * first (TIME, LOST, DEPTH, STACK), no depth limit, no backtrace() to
 * undo, no vfork() under way.  enter_fast(), exit_fast() and emit_fast()
 * do exactly that case, straight-line; anything else makes them return 0
 * before they changed anything, and the general code, which handles every
 * case, runs instead.  The order of the updates, and so the signal safety
 * argued at the top of this file, is the general code's.
 *
 * entry.S calls them first through tp_enter_fast() and tp_exit_fast(),
 * before tp_enter() and tp_exit(): leaf functions that look only where a
 * thread's slot and a site's index are found first, take the TSC
 * themselves, and so need no callee-saved register, no stack frame and no
 * aligned stack.  The ring's addresses come from the thread's slot
 * (fast_places()), computed once per ring.  The one thing that can go
 * wrong after a fast path began to change state is the ring word's
 * compare-and-swap, lost to a signal handler of the thread that wrote in
 * between: the general emit() then finishes the event, from a function
 * called as the fast path's last act (a jump, so the fast path stays a
 * leaf).
 */

/* Work out @t's places in @ring for the fast paths (tp_thread.fast_*).
 * A signal handler doing the same in between writes the same values. */
static void fast_places(const struct tp_state *st, uint64_t ring, struct tp_thread *t)
{
	WRITE_ONCE(t->fast_ring, 0);
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(t->fast_ctl, (uint64_t)ring_ctl(st, ring, t->index));
	WRITE_ONCE(t->fast_data, (uint64_t)ring_data(st, ring, t->index));
	WRITE_ONCE(t->fast_frames, st->frames_off ?
			(uint64_t)shared_frames(st, ring, t->index) : 0);
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(t->fast_ring, ring);
}

/* One ENTRY or EXIT of sub-stack @s when the reader needs nothing before
 * it; 0 (nothing written) otherwise.  @mode: the ring's, read once. */
static inline __attribute__((always_inline)) int emit_fast(const struct tp_state *st,
		struct tp_thread *t, unsigned type, uint64_t site, uint64_t tsc,
		uint32_t s, uint32_t mode)
{
	struct tat_thread_ctl *ctl = (struct tat_thread_ctl *)t->fast_ctl;
	const uint32_t shift = st->ring_shift;
	uint64_t pos = READ_ONCE(ctl->head);

	/* ring_put_in_stack()'s order: the head first, then what the
	 * reader was told; the compare-and-swap from that head fails if a
	 * signal handler wrote anything in between. */
	if (unlikely((tsc >> TAT_EV_TSC_BITS) != READ_ONCE(t->last_hi) ||
		     (pos & (TAT_CHUNK_EVENTS - 1)) == 0 ||
		     READ_ONCE(t->lost_pending) || READ_ONCE(t->ring_stack) != s))
		return 0;
	if (mode != TAT_MODE_FLIGHT && pos + 1 - READ_ONCE(ctl->tail) > (1ull << shift))
		return 0;
	if (unlikely(!local_cmpxchg(&ctl->head, &pos, pos + 1)))
		return 0;
	WRITE_ONCE(((uint64_t *)t->fast_data)[pos & ((1ull << shift) - 1)],
		   tat_ev_make(type, (uint32_t)site, tsc) | tat_ev_commit_bit(pos, shift));
	return 1;
}

/* enter_fast() pushed frame @idx but emit_fast() was refused: its ENTRY
 * the general way.  Returns 1, for enter_fast() to return. */
static __attribute__((noinline)) int enter_fast_emit(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t idx)
{
	const struct tp_frame *f = &t->stack[idx];

	emit(st, ring, t, TAT_EV_ENTRY, f->site & FRAME_SITE, f->tsc, idx, frame_stack(f));
	return 1;
}

/* A call nested in the innermost frame, on one stack: pushed and
 * recorded at @tsc; 0 (nothing changed) for any other case. */
static inline __attribute__((always_inline)) int enter_fast(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t *slot, uint64_t site, uint64_t tsc)
{
	const struct tat_ring_header *hdr = (const void *)ring;
	uint64_t d = READ_ONCE(t->depth), idx, flags, top_site, top_slot;
	struct tp_frame *f;
	uint32_t stack, mode;

	if (unlikely(d - 1 >= TP_DEPTH_MAX - 1 || READ_ONCE(t->fast_ring) != ring ||
		     (READ_ONCE(t->mixed_at) | READ_ONCE(t->bt_sp) | READ_ONCE(t->vfork_pending)) ||
		     READ_ONCE(hdr->max_depth)))
		return 0;
	top_site = READ_ONCE(t->stack[d - 1].site);
	top_slot = READ_ONCE(t->stack[d - 1].slot);
	if (unlikely((top_site & FRAME_ENDED) || top_slot <= (uint64_t)slot ||
		     top_slot - (uint64_t)slot > CALL_REACH))
		return 0;
	stack = (uint32_t)((top_site >> FRAME_STACK_SHIFT) & FRAME_STACK_MASK);
	mode = READ_ONCE(hdr->mode);
	flags = mode == TAT_MODE_STATS ? FRAME_STATS : 0;
	idx = local_xadd(&t->depth, 1);
	f = &t->stack[idx];
	f->slot = (uint64_t)slot;
	f->ret = *slot;
	f->tsc = tsc;
	f->child = 0;
	__asm__ volatile("" ::: "memory");	/* as in enter_slow() */
	WRITE_ONCE(f->site, site | flags | ((uint64_t)stack << FRAME_STACK_SHIFT));
	WRITE_ONCE(t->cur_stack, stack);
	if (likely(t->fast_frames)) {
		struct tat_frame *sf = (struct tat_frame *)t->fast_frames + idx;

		WRITE_ONCE(sf->tsc, tsc);
		WRITE_ONCE(sf->site, (uint32_t)site | (flags ? TAT_FRAME_STATS : 0));
		WRITE_ONCE(((struct tat_thread_ctl *)t->fast_ctl)->open_depth, idx + 1);
	}
	*slot = (uint64_t)tp_return;
	if (flags || likely(emit_fast(st, t, TAT_EV_ENTRY, site, tsc, stack, mode)))
		return 1;
	return enter_fast_emit(st, ring, t, idx);
}

/* The slot a thread's search starts at, if it is @key's: all the fast
 * paths look at (a thread whose slot is farther takes the general path). */
static inline struct tp_thread *thread_home(const struct tp_state *st, uint64_t key)
{
	struct tp_thread *t = (struct tp_thread *)st->threads + hash64(key, st->thread_bits);

	return likely(READ_ONCE(t->key) == key) ? t : NULL;
}

/* The first call entry.S makes at a site: the fast path, or 0 for
 * tp_enter() to do it all. */
int tp_enter_fast(uint64_t *slot, uint64_t after_site, uint64_t key)
{
	const struct tp_state *st = state();
	uint64_t ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	const struct tp_hent *e;
	struct tp_thread *t;

	if (unlikely(!ring || !key || st->clock_gettime))
		return 0;
	t = thread_home(st, key);
	if (unlikely(!t))
		return 0;
	/* thread_check_owner()'s case: a new thread in this slot */
	if (st->tid_offset &&
	    unlikely(*(const volatile int32_t *)(key + st->tid_offset) != t->tid))
		return 0;
	/* site_index(), first place only; every site is 5 bytes */
	e = (const struct tp_hent *)st->site_hash + hash64(after_site - 5, st->site_bits);
	if (unlikely(e->addr != after_site - 5))
		return 0;
	return enter_fast(st, ring, t, slot, e->site, rdtsc());
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

	/* Not recording (a fork child, see tramp_abi.h), or no TLS yet. */
	if (unlikely(!ring || !key)) {
		/* a fork child's first call: its own ring (tramp_fork.c) */
		if (!key || !(ring = tp_fork_ring(st, key)))
			return;
	}
	t = thread_find(st, key);
	if (unlikely(!t)) {
		t = thread_claim(st, ring, key);
		if (!t)
			return;
	}
	if (st->tid_offset)
		thread_check_owner(st, ring, t, key);
	if (unlikely(READ_ONCE(t->fast_ring) != ring))
		fast_places(st, ring, t);

	/* Every site rewritten is 5 bytes up to the return address. */
	site = site_index(st, after_site - 5);
	if (!st->clock_gettime && enter_fast(st, ring, t, slot, site, rdtsc()))
		return;
	enter_slow(st, ring, t, slot, site, key);
}

/* Last resort when the thread has no slot of its own: search them all. */
static struct tp_thread *thread_by_frame(struct tp_state *st, uint64_t slot)
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

/*
 * Frame @i returned: drop it and the frames of its sub-stack @s above it
 * (ended already), keeping the other sub-stacks' frames in their order.
 * Returns the new depth.  A signal handler coming in meanwhile works
 * above the old depth, which is left as it is until the caller sets it.
 */
static uint64_t shadow_remove(const struct tp_state *st, uint64_t ring,
			      struct tp_thread *t, uint64_t i, uint64_t depth, uint32_t s)
{
	struct tat_frame *sf = ring && st->frames_off ?
			       shared_frames(st, ring, t->index) : NULL;
	uint64_t w = i;

	for (uint64_t r = i + 1; r < depth; r++) {
		struct tp_frame *from = &t->stack[r], *to = &t->stack[w];

		if (frame_stack(from) == s)
			continue;
		/* field by field: a struct copy may become a memcpy() call */
		to->slot = from->slot;
		to->ret = from->ret;
		to->site = from->site;
		to->tsc = from->tsc;
		to->child = from->child;
		if (sf) {
			WRITE_ONCE(sf[w].tsc, sf[r].tsc);
			WRITE_ONCE(sf[w].site, sf[r].site);
		}
		w++;
	}
	if (w > i)
		note_mixed(t, i ? i : 1);
	return w;
}

/* The last acts of exit_fast(), from the EXIT on, when emit_fast() was
 * refused: the EXIT the general way, then the pop.  Returns where the
 * frame returns to, for exit_fast() to return. */
static __attribute__((noinline)) uint64_t exit_fast_emit(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t d, uint64_t tsc)
{
	struct tp_frame *f = &t->stack[d - 1];
	/* read while the frame is ours: once depth drops, a signal handler's
	 * call may take this frame */
	uint64_t site = READ_ONCE(f->site), ret = READ_ONCE(f->ret);
	uint32_t s = frame_stack(f);

	emit(st, ring, t, TAT_EV_EXIT, site & FRAME_SITE, tsc, d, s);
	if (likely(st->frames_off))
		WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, d - 1);
	WRITE_ONCE(f->site, site | FRAME_ENDED);
	WRITE_ONCE(t->depth, d - 1);
	WRITE_ONCE(t->cur_stack, s);
	return ret;
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
		uint64_t ring, struct tp_thread *t, uint64_t *slot, uint64_t tsc)
{
	uint64_t d = READ_ONCE(t->depth), site, dur, ret;
	struct tat_stat *r = NULL;
	struct tp_frame *f;
	uint32_t s;

	if (unlikely(!ring || d - 1 >= TP_DEPTH_MAX || READ_ONCE(t->fast_ring) != ring ||
		     (READ_ONCE(t->mixed_at) | READ_ONCE(t->bt_sp) | READ_ONCE(t->vfork_pending))))
		return 0;
	f = &t->stack[d - 1];
	site = READ_ONCE(f->site);
	/* tattach -R (tramp_args.c): the return value first, in exit_slow() */
	if (unlikely(f->slot != (uint64_t)slot || (site & (FRAME_ENDED | TP_FRAME_RETVAL))))
		return 0;
	if ((site & FRAME_STATS) && !(r = stats_own_record(st, ring, t, site & FRAME_SITE)))
		return 0;
	s = (uint32_t)((site >> FRAME_STACK_SHIFT) & FRAME_STACK_MASK);
	/* frame_close(): one stack, so the caller is the frame below */
	dur = tsc > f->tsc ? tsc - f->tsc : 0;
	if (d > 1)
		local_add(&t->stack[d - 2].child, dur);
	if (likely(!r)) {
		if (unlikely(!emit_fast(st, t, TAT_EV_EXIT, site & FRAME_SITE, tsc, s,
					READ_ONCE(((const struct tat_ring_header *)ring)->mode))))
			return exit_fast_emit(st, ring, t, d, tsc);
	} else {
		/* stats_account(), its own record */
		uint64_t child = f->child;

		local_add(&r->total, dur);
		local_add(&r->self, dur > child ? dur - child : 0);
		local_inc(&r->hist[hist_bucket(st, dur)]);
		local_max(&r->max, dur);
		local_inc(&r->calls);
	}
	if (likely(t->fast_frames))
		WRITE_ONCE(((struct tat_thread_ctl *)t->fast_ctl)->open_depth, d - 1);
	/* before the depth drops: then a signal handler's call may take the
	 * frame (both volatile, so in this order) */
	ret = READ_ONCE(f->ret);
	WRITE_ONCE(f->site, site | FRAME_ENDED);
	WRITE_ONCE(t->depth, d - 1);
	WRITE_ONCE(t->cur_stack, s);
	return ret;
}

/* The first call tp_return makes: the fast path, or 0 for tp_exit() to
 * do it all. */
uint64_t tp_exit_fast(uint64_t *slot, uint64_t key)
{
	const struct tp_state *st = state();
	uint64_t tsc = rdtsc();
	uint64_t ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	struct tp_thread *t;

	if (unlikely(!key || st->clock_gettime))
		return 0;
	t = thread_home(st, key);
	if (unlikely(!t))
		return 0;
	return exit_fast(st, ring, t, slot, tsc);
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
		return 0;
	ret = t->stack[i].ret;
	s = frame_stack(&t->stack[i]);
	if (unlikely(READ_ONCE(t->bt_sp)))
		bt_rehijack_slow(st, t, (uint64_t)slot, s);
	if (ring) {
		skipped = event_frames_open(t, i, depth, s);
		if (unlikely(skipped))
			ring_put(st, ring, t, tat_ev_special(TAT_SUB_UNWIND, skipped), 0);
		for (uint64_t j = depth - 1; j > i; j--)
			if (!(t->stack[j].site & FRAME_ENDED) && frame_stack(&t->stack[j]) == s)
				frame_close(st, ring, t, j, tsc);
		if (likely(!(t->stack[i].site & FRAME_ENDED)))
			frame_close_returned(st, ring, t, i, tsc, slot);
	}
	left = likely(i + 1 == depth || one_stack(t, depth)) ? i :
	       shadow_remove(st, ring, t, i, depth, s);
	if (ring && likely(st->frames_off))
		WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, left);
	/* What lies above the new depth is dead: say so before the depth
	 * drops, for a handler that enters before tp_enter rewrites it. */
	for (uint64_t j = left; j < depth; j++)
		WRITE_ONCE(t->stack[j].site, t->stack[j].site | FRAME_ENDED);
	WRITE_ONCE(t->depth, left);
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

	/* a fork child's first return: its own ring (tramp_fork.c) */
	if (unlikely(!ring))
		ring = tp_fork_ring(st, key);
	t = key ? thread_find(st, key) : NULL;
	if (unlikely(!t)) {
		t = thread_by_frame(st, (uint64_t)slot);
		if (!t)
			return 0;
	}
	if (ring && unlikely(READ_ONCE(t->fast_ring) != ring))
		fast_places(st, ring, t);
	if ((ret = exit_fast(st, ring, t, slot, tsc)))
		return ret;
	return exit_slow(st, ring, t, slot, tsc, key);
}

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
static void bt_rehijack_slow(const struct tp_state *st, struct tp_thread *t,
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
	struct tp_thread *t = key ? thread_find(st, key) : NULL;
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
		break;
	case TP_HOOK_BT:
		s = hook_raise(st, t, sp);
		if (s != ~0u) {
			WRITE_ONCE(t->bt_stack, s);
			WRITE_ONCE(t->bt_sp, sp);
		}
		break;
	default:
		hook_raise(st, t, sp);
	}
	return next;
}

/*
 * For tramp_args.c (tattach -A/-R), which only the sites chosen for it
 * reach: the thread's slot, and a block of @n words written as one (a
 * VALUES record and its data: a reader must find them together).  In
 * discard mode a block that does not fit is left out, uncounted: the
 * call's events are whole without it.
 */
struct tp_thread *tp_args_thread(struct tp_state *st, uint64_t key)
{
	return thread_find(st, key);
}

void tp_args_put_block(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
		       const uint64_t *words, uint64_t n)
{
	const struct tat_ring_header *hdr = (const void *)ring;
	struct tat_thread_ctl *ctl = ring_ctl(st, ring, t->index);
	uint64_t size = 1ull << st->ring_shift, pos;

	if (n > size / 4)
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
