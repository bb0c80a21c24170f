/* SPDX-License-Identifier: MIT */
/*
 * What tattach and the injected trampoline agree on, besides the ring file.
 *
 * The trampoline is position independent code copied into the target, once
 * per module cluster that is more than +-2 GiB from the others (a rel32
 * call must reach it).  Each copy is followed by one config page it finds
 * RIP-relative; the config points at state shared by all copies:
 *
 *   copy k:  [ code (R-X) ][ struct tp_config (R--) ][ stubs (R-X) ]
 *   state:   [ struct tp_state | tp_thread[max_threads] | tp_hent[...] ]  private RW
 *   live:    [ struct tp_live ]  private RW, MADV_WIPEONFORK
 *   ring:    the ring file, MAP_SHARED RW
 *
 * The stubs let a traced function return with its own "ret" to an
 * address the CPU predicted (entry.S says why that matters).  Site i of a
 * module that calls copy k jumps to the TP_CT_STUB bytes at stubs +
 * TP_CT_STUB * i of copy k.  A fentry or patchable-entry site's stub is a
 * call-through: it calls the function's body, so that the body's "ret"
 * returns to that call:
 *
 *   +0   call tp_ct_enter     record the entry, and take the return slot
 *   +5   call site + 5        the traced function's body
 *   +10  jmp  tp_ct_exit      (TP_CT_RET) record the exit and return
 *   +15  int3 ...
 *
 * A -pg site (after the prologue: the body cannot be called, its pushes
 * lie between the return slot and %rsp) primes the return instead:
 *
 *   +0   call tp_pg_enter     record the entry; the slot now holds +10
 *   +5   call +15             the CPU's return-stack buffer now says +10
 *   +10  jmp  tp_ct_exit      (TP_CT_RET) where the function's "ret" goes
 *   +15  movb $0, (%rsp)      spoil the copy of +10 that call left
 *   +19  lea  8(%rsp), %rsp   the stack as the site left it
 *   +24  jmp  site + 5        (TP_PG_BODY) on into the function
 *   +29  int3 ...
 *
 * Either way the stub's own call put +10 where the function's "ret" will
 * look for its prediction.  The copy of it the priming call leaves below
 * the stack pointer is spoiled before the function can make it part of
 * its frame: a return into the trampoline on a stack is then always a
 * slot's, and after --disable none is left (tests/lib/tramp_scan.c
 * looks).  tattach writes the stubs once per site
 * (tp_state.ct_synced), before any site jumps there; they never change
 * after, and stay for as long as the copy.
 *
 * Library calls (--libcalls) and patched entries (--entry) have stubs of
 * their own, mapped near their module (attach/hooks/), which reach the
 * trampoline through pointers in the stub.  They are entered as a fentry
 * site is, with the return into the caller on top of the stack, and prime
 * the return as a -pg site's stub does; the same head for both:
 *
 *   +0   endbr64              a GOT slot may call it indirectly
 *   +4   call *P              tp_ns_enter: record the entry; the slot now
 *                             holds +15.  (tp_fentry or tp_fentry_args
 *                             instead hijack the return: -A/-R, or no
 *                             room left in tp_state.near_stubs)
 *   +10  call +25             the CPU's return-stack buffer now says +15
 *   +15  jmp  *E              (TP_NS_RET) the function's "ret": tp_ct_exit
 *   +21  u32 the site's index (TP_NS_INDEX) for tp_ns_enter, no lookup
 *   +25  movb $0, (%rsp)      spoil the copy of +15 that call left
 *   +29  lea  8(%rsp), %rsp   the stack as the caller left it
 *   +34  the function         (TP_NS_BODY) a library call's "jmp *GOT";
 *                             an entry's moved instructions and jmp back
 *
 * The call at +4 ends at +10: the site's key (tp_enter()'s hash) is +5.
 * Their areas are listed in tp_state.near_stubs, before any stub calls
 * tp_ns_enter, so that a slot holding +15 is a return into the trampoline
 * for every reader of slots (tramp_return_in()).
 *
 * Shadow stacks live in private memory so that a fork child inherits a copy
 * and can still return through frames hijacked before the fork.  The ring
 * address lives on a wipe-on-fork page so that the child reads 0 and never
 * writes into its parent's rings: at its first traced call or return it
 * makes a ring of its own (tramp_fork.c), or records nothing.
 */
#ifndef TATTACH_TRAMP_ABI_H
#define TATTACH_TRAMP_ABI_H

#include <stddef.h>
#include <stdint.h>

#define TP_CONFIG_MAGIC 0x47464354504d4154ull	/* "TAMPTCFG" */
/* Changed with struct tp_state's layout or the stubs' shape: a tattach
 * then finds the state a build of another layout left in a process not
 * its own (--enable fails rather than write into the wrong fields or
 * stubs).  Also changed with struct tp_thread's. */
#define TP_STATE_MAGIC  0x5441545350504d59ull
#define TP_DEPTH_MAX    1024	/* shadow stack entries per thread */
#define TP_GRAVE_MAX    64	/* frames dropped on a guess, kept per thread */
#define TP_CT_STUB      32	/* bytes of one stub (a power of two: entry.S) */
#define TP_CT_RET       10	/* where in a stub a traced function returns */
#define TP_PG_BODY      24	/* a -pg site's stub: the jmp on into the body */
/* Stubs near their module (above): where things are in one */
#define TP_NS_KEY       5	/* the site's key: its call ends at +10 */
#define TP_NS_CALLED    10	/* where that call returns */
#define TP_NS_RET       15	/* where a traced function returns */
#define TP_NS_INDEX     21	/* u32: the site's index */
#define TP_NS_BODY      34	/* where the function goes on */
#define TP_NS_AREAS     32	/* areas tp_state.near_stubs holds */

/* One module's stubs of one kind: len bytes from start, 1 << shift apart. */
struct tp_near_area {
	uint64_t start;		/* 0: the end of the list */
	uint32_t len;
	uint32_t shift;
};

struct tp_config {
	uint64_t magic;
	uint64_t state;		/* address of struct tp_state */
};

struct tp_live {
	uint64_t ring;		/* address of the ring mapping; 0: do not record */
	uint64_t fork_state;	/* TP_FORK_*: how far a fork child got in
				 * making its own ring (tramp_fork.c); wiped
				 * with ring, so each child starts at 0 */
	uint64_t fork_pid;	/* TP_FORK_WAIT_MAIN: the child's pid */
};

#define TP_FORK_UNSEEN 0	/* not looked at yet (every fork child starts here) */
#define TP_FORK_BUSY   1	/* a thread of this process is making its ring now */
#define TP_FORK_DONE   2	/* it has its own ring (ring != 0) */
#define TP_FORK_NONE   3	/* it does not record: not a child, children off,
				 * or its ring could not be made */
#define TP_FORK_WAIT_MAIN 4	/* a child, whose ring its main thread (the one
				 * that forked) makes at its next traced event */

/* tp_frame.site: the site index in the low bits, then these. */
#define TP_FRAME_STACK_SHIFT 32			/* sub-stack id, 29 bits */
#define TP_FRAME_STACK_MASK  0x1fffffffull
#define TP_FRAME_RETVAL      (1ull << 31)	/* tattach -R: record its return
						 * value (tramp_args.c) */
#define TP_FRAME_RESTORED    (1ull << 61)	/* return address put back */
#define TP_FRAME_STATS       (1ull << 62)	/* entered in stats mode */
#define TP_FRAME_ENDED       (1ull << 63)	/* its EXIT was written */

struct tp_frame {
	uint64_t slot;		/* stack slot holding the hijacked return address */
	uint64_t ret;		/* the original return address */
	uint64_t site;		/* site index | FRAME_* flags (tramp_shared.h) */
	uint64_t tsc;		/* entry time */
	uint64_t child;		/* time spent in traced callees so far: read
				 * only in a FRAME_STATS frame, so
				 * fast_paths.inc, which pushes none, leaves
				 * it as it was */
};

/*
 * A thread's slot.  Two cache lines of head, then the frames.  The first
 * holds what a search for a slot reads (thread_find(): the key of every
 * slot its hash passes over, which may be other threads' slots) and what
 * changes only when a thread claims a slot or a ring, or (stack_next)
 * when a root call opens one more sub-stack: rarely.  The second holds
 * what every traced call writes.  Were they one line, each thread whose
 * search passes over another's slot would pull that line away from its
 * owner at every call (seen with 8 threads in 16 slots, whose keys
 * hashed to 3 places), and the owner would pull it back
 * (docs/performance-rounds.md, "Fifteenth round").
 */
struct tp_thread {
	/* read by any thread's search, rarely written */
	uint64_t key;		/* thread pointer (%fs:0) of the owner, 0 = free */
	uint32_t index;		/* slot index = ring index */
	int32_t  tid;
	uint64_t stack_next;	/* sub-stack ids handed out so far
				 * (tramp_stacks.c, "Sub-stacks") */
	uint64_t populate_pending; /* its ring is not all present yet (a slot
				    * tattach claimed for calls it adopted, or
				    * one claimed in stats mode): made present
				    * at its first write (tramp_ring.c
				    * ring_absent()); POPULATE_FAILED: it
				    * could not be, nothing is written to it */
	/* Where this slot's parts of the ring are, for the fast paths
	 * (tramp.c fast_places()): worked out from the state once per ring,
	 * so that a traced call does no address arithmetic.  They hold while
	 * fast_ring is the ring being written; a fresh or cleared slot has 0
	 * there, and whoever changes index or the ring clears it. */
	uint64_t fast_ring;
	uint64_t fast_ctl;	/* struct tat_thread_ctl * */
	uint64_t fast_data;	/* the slot's events (uint64_t *) */
	uint64_t fast_frames;	/* struct tat_frame * (the gate opens only for
				 * a ring file that has them) */

	/* the owner's alone, written by its traced calls */
	uint64_t depth;		/* frames on the shadow stack */
	uint64_t last_hi;	/* TSC >> 40 of the last TIME record written */
	uint64_t lost_pending;	/* events dropped since the last LOST record */
	/* Sub-stacks (coroutines, sigaltstack handlers): */
	uint32_t cur_stack;	/* sub-stack of the latest traced call or return */
	uint32_t ring_stack;	/* sub-stack the ring's reader is in, or ~0 */
	uint64_t mixed_at;	/* 0, or an index <= the first frame whose
				 * sub-stack differs from the one below it */
	uint64_t bt_sp;		/* backtrace() put return addresses back for
				 * a caller whose %rsp was this (0: none) */
	uint64_t bt_stack;	/* ... on this sub-stack */
	uint64_t vfork_pending;	/* the thread called vfork() (GOT hook): until
				 * its tid is seen again, a traced event may
				 * be its child's, which shares this memory
				 * (tramp.c vfork_child) */
	struct tp_frame stack[TP_DEPTH_MAX];
	/* The way back of the newest frames dropped on a guess (a longjmp()
	 * taken for one where a coroutine's stack started: tramp_stacks.c),
	 * one per slot, 0 = free: a return that finds no frame looks here
	 * before it gives up (tramp.c, grave_take()). */
	struct tp_grave {
		uint64_t slot;
		uint64_t ret;
	} grave[TP_GRAVE_MAX];
	uint64_t grave_next;	/* entries kept so far (the next is this % max) */
	uint64_t grave_pad[7];
};
/* the two lines above, each its own (the slots start page-aligned) */
_Static_assert(offsetof(struct tp_thread, depth) == 64 &&
	       offsetof(struct tp_thread, stack) == 128 &&
	       sizeof(struct tp_thread) % 64 == 0, "tp_thread: key line, hot line");

/* Site address -> site index, open addressing, addr 0 = empty. */
struct tp_hent {
	uint64_t addr;
	uint64_t site;
};

#define TP_HOOK_SAVED_MAX 96

struct tp_state {
	uint64_t magic;
	uint64_t live;		/* address of struct tp_live */
	uint64_t threads;	/* address of tp_thread[max_threads] */
	uint64_t site_hash;	/* address of tp_hent[1 << site_bits] */
	uint32_t thread_bits;	/* max_threads = 1 << thread_bits */
	uint32_t site_bits;
	uint32_t ring_shift;	/* copied from the ring header (immutable) */
	int32_t  tid_offset;	/* offset of the tid in the TCB, 0 = unknown */
	/* Worked out once, so that a traced call does not: hash_at()'s
	 * shifts (63 - thread_bits, 63 - site_bits) and the ring's index
	 * mask ((1 << ring_shift) - 1). */
	uint32_t thread_shift;
	uint32_t site_shift;
	uint64_t ring_mask;
	uint64_t thread_off;	/* ring header fields, copied so the hot path */
	uint64_t data_off;	/* never trusts the shared file for addresses */
	uint64_t tramp_return[8]; /* tp_return of every copy, 0 = no copy */
	uint64_t clock_gettime;	/* the vDSO's clock_gettime, or 0: use rdtsc */
	/* Calls in flight and stats mode: ring header fields, copied like
	 * thread_off; 0 in frames_off when the ring file has no such regions. */
	uint64_t frames_off;
	uint64_t stats_index_off;
	uint64_t stats_shared_off;
	uint64_t stats_off;
	uint32_t stats_cap;
	uint32_t site_cap;
	uint64_t ns_mult;	/* ns = ticks * ns_mult >> 32 (histogram buckets) */
	/* C++ exceptions (attach/frames/unwind_hooks.c): where tp_hook_raise and
	 * tp_hook_catch go on to, by TP_HOOK_*; 0 = not hooked */
	uint64_t hook_next[8];
	/* tattach's bookkeeping, unused by the trampoline: sites 1 ..
	 * hash_synced - 1 of the ring's site table are in site_hash, so an
	 * enable writes only the entries of sites added since. */
	uint64_t hash_synced;
	/* tattach's bookkeeping too (unwind_hooks.c): the GOT entries
	 * pointed at the hooks and what they held before, so that --disable
	 * can put them back; hook_saved = TP_HOOK_SAVED_MAX + 1 when more
	 * were hooked than this table holds (then they all stay hooked). */
	uint64_t hook_saved;
	uint64_t hook_slot[TP_HOOK_SAVED_MAX];
	uint64_t hook_orig[TP_HOOK_SAVED_MAX];
	/* Fork children (tramp_fork.c): the ring this process writes and whose
	 * it is, so that a fork child (which inherits this private page but
	 * reads 0 on the wiped live page) finds its parent's ring, still
	 * mapped, and makes its own beside it.  The child rewrites them for
	 * its own children.  0 in ring_addr: set up by a tattach without fork
	 * children: a child records nothing. */
	uint64_t ring_addr;
	int32_t  ring_pid;
	uint32_t ring_pad;
	char     ring_path[256];	/* the ring file's path (TAT_PATH_MAX) */
	/* Arguments and return values (tattach -A/-R, tramp_args.c): the
	 * ring header's args_off, copied like thread_off; 0: none. */
	uint64_t args_off;
	/* tattach's bookkeeping (attach/frames/forced_hook.c): the patched
	 * entry of _Unwind_ForcedUnwind (0 = not patched) and its stub page,
	 * kept mapped and reused by a later --enable. */
	uint64_t forced_entry;
	uint64_t forced_stub;
	/* Call-through stubs: those of copy k are the ct_len bytes from
	 * tramp_return[k] + ct_off (0 in ct_len: none).  ct_synced is
	 * tattach's bookkeeping, like hash_synced: the stubs of sites 1 ..
	 * ct_synced - 1 are written. */
	uint64_t ct_off;
	uint64_t ct_len;
	uint64_t ct_synced;
	/* Stubs near their module that prime the return (above), in the
	 * order tattach made them; written before any of them is called. */
	struct tp_near_area near_stubs[TP_NS_AREAS];
};

#define TP_HOOK_RAISE   0	/* _Unwind_RaiseException */
#define TP_HOOK_RETHROW 1	/* _Unwind_Resume_or_Rethrow */
#define TP_HOOK_CATCH   2	/* __cxa_begin_catch */
#define TP_HOOK_PEXIT   3	/* pthread_exit */
#define TP_HOOK_BT      4	/* backtrace */
#define TP_HOOK_VFORK   5	/* vfork: not an unwinder, but hooked the same way */
#define TP_HOOKS        6
/* _Unwind_ForcedUnwind (pthread_cancel): an entry patch, not a GOT hook
 * (attach/frames/forced_hook.c), so past TP_HOOKS */
#define TP_HOOK_FORCED  6

/*
 * Where the search for a thread pointer's slot, or a site address's
 * entry, starts among 1 << @bits: tattach fills the tables and the
 * trampoline looks them up, so both use this one.  Two shifts, so that
 * @bits 0 (one slot, -t 1) gives 0 without a mask.  hash_at() takes the
 * second shift itself, 63 - @bits, as the trampoline keeps it
 * (tp_state.thread_shift, site_shift).
 */
#define TP_HASH_MULT 0x9e3779b97f4a7c15ull

static inline uint64_t hash_at(uint64_t x, uint32_t shift)
{
	return ((x * TP_HASH_MULT) >> 1) >> shift;
}

static inline uint64_t hash64(uint64_t x, uint32_t bits)
{
	return hash_at(x, 63 - bits);
}

/*
 * Is @v a return into the trampoline: tp_return of one of the copies
 * (tp_state.tramp_return, filled in the order the copies were made: the
 * first 0 ends it), the return into one of their call-through stubs, or
 * into a stub near its module (tp_state.near_stubs)?
 * A slot that holds one belongs to a traced call in flight.  The
 * trampoline asks it of its own state, tattach of the copy it read; both
 * ask it here, so that both change together if a return may ever land
 * elsewhere.
 */
static inline int tramp_return_in(const struct tp_state *st, uint64_t v)
{
	for (unsigned i = 0; i < sizeof(st->tramp_return) / 8 && st->tramp_return[i]; i++) {
		uint64_t d = v - (st->tramp_return[i] + st->ct_off);

		if (st->tramp_return[i] == v || (d < st->ct_len && d % TP_CT_STUB == TP_CT_RET))
			return 1;
	}
	for (unsigned i = 0; i < TP_NS_AREAS && st->near_stubs[i].start; i++) {
		const struct tp_near_area *a = &st->near_stubs[i];
		uint64_t d = v - a->start;

		if (d < a->len && (d & ((1ull << a->shift) - 1)) == TP_NS_RET)
			return 1;
	}
	return 0;
}
#endif
