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

#define HIDDEN __attribute__((visibility("hidden")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

extern const struct tp_config tp_config_area HIDDEN;
extern char tp_return[] HIDDEN;

HIDDEN void tp_enter(uint64_t *slot, uint64_t after_site, uint64_t key);
HIDDEN uint64_t tp_exit(uint64_t *slot, uint64_t key);

#define FRAME_ENDED (1ull << 63)	/* tp_frame.site: its EXIT was written */
#define FRAME_STATS (1ull << 62)	/* tp_frame.site: entered in stats mode */
#define FRAME_SITE  ((uint64_t)TAT_EV_SITE_MAX)	/* tp_frame.site: the index */
#define SAME_STACK  (8ull << 20)	/* farther apart: another stack */

_Static_assert(TP_DEPTH_MAX == TAT_FRAMES_MAX, "one shared frame per shadow frame");

#define READ_ONCE(x)     (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

struct tp_timespec {
	long tv_sec;
	long tv_nsec;
};

/*
 * The event clock: the TSC, or where it is not invariant the vDSO's
 * CLOCK_MONOTONIC (a plain function call, no system call; the vDSO is
 * built without SSE like us).
 */
static inline uint64_t now(const struct tp_state *st)
{
	if (unlikely(st->clock_gettime)) {
		int (*fn)(int, struct tp_timespec *) = (void *)st->clock_gettime;
		struct tp_timespec ts = { 0, 0 };

		fn(1 /* CLOCK_MONOTONIC */, &ts);
		return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	return rdtsc();
}

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

static inline uint64_t hash64(uint64_t x, uint32_t bits)
{
	return (x * 0x9e3779b97f4a7c15ull) >> (64 - bits);
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

/* Calls a reader sees open among the first @lim frames of @t. */
static uint64_t open_calls(const struct tp_thread *t, uint64_t lim)
{
	uint64_t n = 0;

	for (uint64_t j = 0; j < lim && j < TP_DEPTH_MAX; j++)
		n += !(t->stack[j].site & FRAME_ENDED);
	return n;
}

/*
 * Write an ENTRY or EXIT, preceded by the records a reader needs first: a
 * TIME when the upper clock bits change or a chunk starts, a LOST with the
 * count of events dropped since the last write, and after either a DEPTH
 * telling how many calls are open below this event (frames [0, @lim) of
 * the shadow stack), so a reader that missed events can resynchronise.
 */
static inline __attribute__((always_inline)) void emit(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, unsigned type, uint64_t site,
		uint64_t tsc, uint64_t lim)
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
	    !ring_put(st, ring, t, tat_ev_special(TAT_SUB_DEPTH, open_calls(t, lim)), 0))
		goto drop;
	ring_put(st, ring, t, tat_ev_make(type, (uint32_t)site, tsc), 1);
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
 * End shadow frame @j at @tsc by the mode it entered in: an EXIT event,
 * or its stats record.  Its time goes to its caller's callee time either
 * way, so the caller's self time excludes it.
 */
static inline __attribute__((always_inline)) void frame_close(const struct tp_state *st,
		uint64_t ring, struct tp_thread *t, uint64_t j, uint64_t tsc)
{
	struct tp_frame *f = &t->stack[j];
	uint64_t dur = tsc > f->tsc ? tsc - f->tsc : 0;

	if (j > 0)
		local_add(&t->stack[j - 1].child, dur);
	if (f->site & FRAME_STATS)
		stats_account(st, ring, t, f->site & FRAME_SITE, dur, f->child);
	else
		emit(st, ring, t, TAT_EV_EXIT, f->site & FRAME_SITE, tsc, j + 1);
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

/* Open event-mode frames in (@lo, @hi): what an UNWIND announces. */
static inline uint64_t event_frames_open(const struct tp_thread *t, uint64_t lo,
					 uint64_t hi)
{
	uint64_t n = 0;

	for (uint64_t j = hi; j-- > lo + 1;)
		n += !(t->stack[j].site & (FRAME_ENDED | FRAME_STATS));
	return n;
}

static int32_t sys_gettid(void)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "0"(186L) : "rcx", "r11", "memory");
	return (int32_t)ret;
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
static void thread_check_owner(struct tp_state *st, uint64_t ring,
			       struct tp_thread *t, uint64_t key)
{
	int32_t tid = *(const volatile int32_t *)(key + st->tid_offset);

	if (likely(tid == t->tid) || tid <= 0)
		return;
	t->tid = tid;
	ring_ctl(st, ring, t->index)->tid = tid;
	ring_put(st, ring, t, tat_ev_special(TAT_SUB_TID, (uint32_t)tid), 0);
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

/*
 * A frame whose return slot lies below the slot of a new call on the same
 * stack can no longer return: longjmp() or siglongjmp() left it.  Say so in
 * the ring now, so the new call is not shown as its child, and mark it
 * ended.  It stays on the shadow stack all the same: were it alive after
 * all (a handler on a sigaltstack placed just above the stack), its return
 * still finds its frame.
 */

/* Is @addr the return entry of one of the trampoline copies? */
static int is_tramp_return(const struct tp_state *st, uint64_t addr)
{
	for (int i = 0; i < 8 && st->tramp_return[i]; i++)
		if (st->tramp_return[i] == addr)
			return 1;
	return 0;
}

static inline int abandoned(const struct tp_frame *f, uint64_t slot, int fresh)
{
	return (f->slot < slot || (f->slot == slot && fresh)) &&
	       slot - f->slot <= SAME_STACK && !(f->site & FRAME_ENDED);
}

static inline void end_abandoned(const struct tp_state *st, uint64_t ring,
				 struct tp_thread *t, uint64_t *slot)
{
	uint64_t d = READ_ONCE(t->depth), n = 0, tsc, ev;
	/* A tail call reuses its caller's slot, which then holds tp_return:
	 * that caller is still alive.  A fresh return address means the
	 * frame that had this slot is gone. */
	int fresh = !is_tramp_return(st, *slot);

	if (likely(d == 0 || d > TP_DEPTH_MAX ||
		   !abandoned(&t->stack[d - 1], (uint64_t)slot, fresh)))
		return;
	while (n < d && abandoned(&t->stack[d - 1 - n], (uint64_t)slot, fresh))
		n++;
	tsc = now(st);
	ev = event_frames_open(t, d - n - 1, d);
	if (ev)
		ring_put(st, ring, t, tat_ev_special(TAT_SUB_UNWIND, ev), 0);
	for (uint64_t j = d; j-- > d - n;) {
		frame_close(st, ring, t, j, tsc);
		frame_mark_ended(st, ring, t, j);
	}
	/*
	 * A frame whose very slot the new call's fresh return address now
	 * holds can never return, nor can anything it called: pop them, or a
	 * loop that longjmps out of traced calls fills the shadow stack.  The
	 * others stay (see above).
	 */
	for (uint64_t j = d - n; j < d; j++)
		if (t->stack[j].slot == (uint64_t)slot && fresh) {
			WRITE_ONCE(t->depth, j);
			if (st->frames_off)
				WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, j);
			break;
		}
}

void tp_enter(uint64_t *slot, uint64_t after_site, uint64_t key)
{
	struct tp_state *st = state();
	uint64_t ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	const struct tat_ring_header *hdr = (const void *)ring;
	struct tp_thread *t;
	struct tp_frame *f;
	uint64_t site, idx, tsc, flags;
	uint32_t max_depth;

	/* Not recording (a fork child, see tramp_abi.h), or no TLS yet. */
	if (unlikely(!ring || !key))
		return;
	t = thread_find(st, key);
	if (unlikely(!t)) {
		t = thread_claim(st, ring, key);
		if (!t)
			return;
	}
	if (st->tid_offset)
		thread_check_owner(st, ring, t, key);

	/* Every site rewritten is 5 bytes up to the return address. */
	site = site_index(st, after_site - 5);
	end_abandoned(st, ring, t, slot);
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
	f->site = site | flags;
	f->tsc = tsc;
	f->child = 0;
	if (likely(st->frames_off)) {
		struct tat_frame *sf = &shared_frames(st, ring, t->index)[idx];

		WRITE_ONCE(sf->tsc, tsc);
		WRITE_ONCE(sf->site, (uint32_t)site | (flags ? TAT_FRAME_STATS : 0));
		WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, idx + 1);
	}
	*slot = (uint64_t)tp_return;
	if (!flags)
		emit(st, ring, t, TAT_EV_ENTRY, site, tsc, idx);
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

uint64_t tp_exit(uint64_t *slot, uint64_t key)
{
	struct tp_state *st = state();
	uint64_t tsc = now(st);
	uint64_t ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	struct tp_thread *t = key ? thread_find(st, key) : NULL;
	uint64_t depth, i, ret, skipped;

	if (unlikely(!t)) {
		t = thread_by_frame(st, (uint64_t)slot);
		if (!t)
			return 0;
	}
	depth = READ_ONCE(t->depth);
	if (depth > TP_DEPTH_MAX)
		depth = TP_DEPTH_MAX;
	/*
	 * Normally the innermost frame is ours.  If not, longjmp() (or a
	 * siglongjmp out of a handler) skipped the frames above ours: they
	 * will never return, so end them here.
	 */
	for (i = depth; i-- > 0;)
		if (t->stack[i].slot == (uint64_t)slot)
			break;
	if (unlikely(i == (uint64_t)-1))
		return 0;
	ret = t->stack[i].ret;
	if (ring) {
		skipped = event_frames_open(t, i, depth);
		if (unlikely(skipped))
			ring_put(st, ring, t, tat_ev_special(TAT_SUB_UNWIND, skipped), 0);
		for (uint64_t j = depth - 1; j > i; j--)
			if (!(t->stack[j].site & FRAME_ENDED))
				frame_close(st, ring, t, j, tsc);
		if (likely(!(t->stack[i].site & FRAME_ENDED)))
			frame_close(st, ring, t, i, tsc);
		if (likely(st->frames_off))
			WRITE_ONCE(ring_ctl(st, ring, t->index)->open_depth, i);
	}
	WRITE_ONCE(t->depth, i);
	return ret;
}
