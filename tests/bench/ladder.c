/*
 * ladder: what each piece of a traced call costs, one piece at a time.
 *
 * Linked into a -pg build of percall.c, this file's mcount replaces
 * glibc's (the executable's definition wins).  It is built once per step,
 * -DLADDER_STEP=N, each step adding one piece of what tattach does per
 * call, in tattach's own way (entry.S: every register the traced code can
 * see is kept, the C part runs on an aligned stack):
 *
 *   0  the site: "call mcount", and mcount is a bare "ret"
 *   1  + the register saves and restores around a call of a C function
 *        (empty), as tp_mcount does
 *   2  + two TSC reads, each stored (8 bytes) into a per-thread array:
 *        the floor probe's work (floor.c), both done at entry
 *   3  + the return hijack: the return address is pushed on a per-thread
 *        shadow stack and replaced by a stub's; the function's "ret" goes
 *        to the stub, which saves the registers, pops the shadow frame
 *        and jumps to the real return address as tp_return does
 *        ("jmp *", not "ret"); the second TSC read and store move there.
 *        This is the floor probe plus a hijacked return: the least a
 *        tracer that catches the exit by hijacking the return can do
 *   4  the same as 3 with "ret" at the end of the stub instead of
 *        "jmp *" (what tattach did before: shows the return-stack
 *        buffer's cost)
 *
 * Steps 5 - 7 go on from 3 with what a tracer attached to a running
 * process needs besides, one requirement per step, each in its least
 * form:
 *
 *   5  + no TLS: a tracer injected into a process it did not start has
 *        no thread-local variable of its own.  The thread's state (its
 *        shadow stack and events) is a slot in a table found by a hash of
 *        the thread pointer (%fs:0), at entry and again at exit, and the
 *        slot's owner is checked against the tid in the thread's TCB (a
 *        new thread can reuse an old one's TCB)
 *   6  + the site's index: the event says which function, found by a
 *        hash of the call site's address (what the reader resolves)
 *   7  + signal safety and live readers: the depth taken with an xadd and
 *        the ring word reserved with a compare-and-swap (a signal handler
 *        running a traced function in between must not take the same
 *        word), the word marked with its lap's commit bit (a reader of a
 *        wrapped ring tells new words from old), and the frame also
 *        written where readers see the calls in flight
 *
 * Steps 8 - 11 ask whether the hijacked return's cost is the hijack's
 * or its shape.  They are linked into a -fpatchable-function-entry=5
 * build instead (the 5-byte NOP first in each traced function, which
 * ladder_patch_sites() rewrites at start-up, as tattach would), with
 * step 3's work (8, 9) or step 7's (10, 11):
 *
 *   8  = 3 at patchable-entry sites: the site calls ladder_fentry, the
 *        return is hijacked as in 3 (the function's "ret" to the stub is
 *        mispredicted: the return-stack buffer said the caller)
 *   9  = 8 with the return caught by calling the function's body instead
 *        (call-through): the site jumps to a stub of its own, which calls
 *        ladder_ct_enter, then calls the body, then jumps to
 *        ladder_ct_exit.  ladder_ct_enter drops the return address into
 *        the caller (kept in the shadow frame) with "ret $8", so the
 *        stub's call of the body puts its own return address in that very
 *        slot: the stack is bit for bit what the site would have had.
 *        Every call has its "ret", so every return is predicted
 *  10  = 7 with 9's sites and call-through: what the least tracer with
 *        tattach's requirements would cost without the hijack
 *  11  = 10 with the site's index taken from the stub's place (stub i
 *        is site i's), as tattach's stubs give it, instead of a hash of
 *        the site's address: the least such tracer, each requirement in
 *        the least form tattach knows
 *
 * What tattach does on top of step 7 is choosing its case: the checks
 * that the call is the common one (one stack, no longjmp() skipped
 * frames, no backtrace() or vfork() under way, no depth limit, no record
 * the reader needs first), the callee time kept for self time, and the
 * modes.
 *
 * floor_events() counts the stored events (steps 2 - 10), so percall
 * checks 2 events per call as for the floor.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LADDER_STEP
#error "build with -DLADDER_STEP=0..11"
#endif

/* A step is the work it does (LADDER_LEVEL: that of step 0 - 7), at which
 * sites (-pg's mcount, or patchable entry: LADDER_PFE) and how the return
 * is caught (hijacked, or by calling the body: LADDER_CT). */
#if LADDER_STEP <= 7
#define LADDER_LEVEL LADDER_STEP
#define LADDER_PFE 0
#elif LADDER_STEP <= 11
#define LADDER_LEVEL (LADDER_STEP >= 10 ? 7 : 3)
#define LADDER_PFE 1
#else
#error "build with -DLADDER_STEP=0..11"
#endif
#define LADDER_CT (LADDER_STEP >= 9)
/* step 11: the site's index from the stub's place, no hash */
#define LADDER_STUB_INDEX (LADDER_STEP == 11)
#define STUB_SIZE 16

#define NOTRACE __attribute__((noinline, no_instrument_function, used))
#define LADDER_EVENTS_SHIFT 13
#define LADDER_EVENTS (1u << LADDER_EVENTS_SHIFT)	/* 64 KiB per thread, like the floor */
#define LADDER_DEPTH  4096
/* steps 5 - 7: the thread's state without TLS */
#define LADDER_NO_TLS (LADDER_LEVEL >= 5)

#if LADDER_CT
uint8_t *ladder_stubs;	/* steps 9 - 11: stub i, STUB_SIZE bytes, is site i's */
#endif

struct shadow {
	uint64_t *slot;
	uint64_t ret;
#if LADDER_LEVEL >= 6
	uint64_t site;		/* for the exit's event */
#endif
};

static inline __attribute__((always_inline)) uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * The C part gets the slot of the return into the caller in %rdi; from
 * step 5 on also, as tp_mcount, the return into the function (site + 5,
 * or the stub's second call) in %rsi and the thread pointer in %rdx (%rdi
 * at the return).
 */
#if LADDER_NO_TLS
#define LADDER_ENTER_ARGS "	mov 72(%rsp), %rsi; mov %fs:0, %rdx\n"
#define LADDER_EXIT_ARGS  "	mov %fs:0, %rdi\n"
#else
#define LADDER_ENTER_ARGS ""
#define LADDER_EXIT_ARGS  ""
#endif

/* Every register the traced code can see kept, as entry.S keeps them;
 * the C part called on an aligned stack. */
#define LADDER_MACROS \
	".macro LADDER_SAVE\n" \
	"	push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n" \
	"	push %r8; push %r9; push %r10; push %r11\n" \
	".endm\n" \
	".macro LADDER_RESTORE\n" \
	"	pop %r11; pop %r10; pop %r9; pop %r8\n" \
	"	pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n" \
	".endm\n" \
	".macro LADDER_CALL fn\n" \
	"	push %rbx; mov %rsp, %rbx; and $-16, %rsp\n" \
	"	call \\fn\n" \
	"	mov %rbx, %rsp; pop %rbx\n" \
	".endm\n"

/* An entry @name: ladder_enter() with @slot, the place of the return
 * into the caller, then @leave. */
#define LADDER_ENTRY(name, slot, leave) \
	".globl " name "\n" \
	".type " name ", @function\n" \
	name ":\n" \
	"	LADDER_SAVE\n" \
	"	lea " slot ", %rdi\n" \
	LADDER_ENTER_ARGS \
	"	LADDER_CALL ladder_enter\n" \
	"	LADDER_RESTORE\n" \
	leave \
	".size " name ", . - " name "\n"

/* An exit @name, entered with %rsp one above the slot that held the
 * return into the caller: ladder_exit() says where that return goes,
 * written back into the slot, then @leave. */
#define LADDER_EXIT(name, leave) \
	".globl " name "\n" \
	".type " name ", @function\n" \
	name ":\n" \
	"	sub $8, %rsp\n" \
	"	LADDER_SAVE\n" \
	LADDER_EXIT_ARGS \
	"	LADDER_CALL ladder_exit\n" \
	"	mov %rax, 72(%rsp)\n" \
	"	LADDER_RESTORE\n" \
	leave \
	".size " name ", . - " name "\n"

/* As tp_return leaves: not "ret", which would pop the CPU's return-stack
 * entry of the caller's caller (step 4 does, to show what that costs). */
#define LADDER_JMP_BACK "	lea 8(%rsp), %rsp\n	jmp *-8(%rsp)\n"

#if LADDER_PFE
/*
 * Steps 8 - 11, at the function's first instruction, as tp_fentry:
 *     on entry to ladder_fentry and ladder_ct_enter:
 *     (%rsp) = site + 5 (8) or the stub's second call (9, 10),
 *     8(%rsp) = the return address into the caller
 */
__asm__(".text\n"
	LADDER_MACROS
#if !LADDER_CT
	LADDER_ENTRY("ladder_fentry", "80(%rsp)", "	ret\n")
	LADDER_EXIT("ladder_return", LADDER_JMP_BACK)
#else
	/* to the stub, the return into the caller dropped from the stack
	 * (kept in the shadow frame): the stub's call of the body puts its
	 * own return address in that slot */
	LADDER_ENTRY("ladder_ct_enter", "80(%rsp)", "	ret $8\n")
	/* the body returned into its stub, which jumped here; "ret" is
	 * predicted: the caller's own call pushed that return */
	LADDER_EXIT("ladder_ct_exit", "	ret\n")
#endif
	);
#elif LADDER_STEP == 0
__asm__(".text\n"
	".globl mcount\n"
	".type mcount, @function\n"
	"mcount:\n"
	"	ret\n"
	".size mcount, . - mcount\n");
#else
/* tp_mcount's frame: the return into the caller is at 8(%rbp). */
__asm__(".text\n"
	LADDER_MACROS
	LADDER_ENTRY("mcount", "8(%rbp)", "	ret\n")
#if LADDER_STEP == 4
	LADDER_EXIT("ladder_return", "	ret\n")
#else
	LADDER_EXIT("ladder_return", LADDER_JMP_BACK)
#endif
	);
#endif

extern char ladder_return[];

#if !LADDER_NO_TLS
/* Steps 0 - 4, 8 and 9: the thread's state in TLS, as a tracer linked in
 * has it.
 * Not static: gcc must not drop stores nothing in this file reads. */
__thread uint64_t ev_buf[LADDER_EVENTS];
__thread uint64_t ev_idx;
__thread struct shadow sh[LADDER_DEPTH];
__thread uint64_t sh_depth;

NOTRACE void ladder_enter(uint64_t *slot);
NOTRACE uint64_t ladder_exit(void);

static inline __attribute__((always_inline)) void event(uint64_t low)
{
	ev_buf[ev_idx++ & (LADDER_EVENTS - 1)] = rdtsc() | low;
}

void ladder_enter(uint64_t *slot)
{
#if LADDER_LEVEL == 2
	event(0);
	event(1);
#elif LADDER_LEVEL >= 3
	struct shadow *f = &sh[sh_depth++ & (LADDER_DEPTH - 1)];

	event(0);
	f->slot = slot;
	f->ret = *slot;
#if !LADDER_CT	/* 9, 10: the stub's call of the body writes the slot */
	*slot = (uint64_t)ladder_return;
#endif
#endif
	(void)slot;
	__asm__ volatile("" ::: "memory");	/* step 1: a real, empty call */
}

uint64_t ladder_exit(void)
{
#if LADDER_LEVEL >= 3
	event(1);
	return sh[--sh_depth & (LADDER_DEPTH - 1)].ret;
#else
	return 0;
#endif
}

#if LADDER_LEVEL >= 2
/* Events stored by the calling thread so far (percall's check). */
NOTRACE unsigned long floor_events(void)
{
	return ev_idx;
}
#endif

#else /* LADDER_NO_TLS */
/*
 * Steps 5 - 7: no TLS.  Each thread's state is a slot of a table, found
 * by a hash of its thread pointer (open addressing, key 0 = free), as
 * tattach's trampoline finds its tp_thread.  A thread claims its slot at
 * its first call (the slow path, not measured).
 */
#define SLOT_BITS 8	/* 256 threads: each mt run of percall makes new ones */
#define SITE_BITS 12

struct lslot {
	uint64_t key;		/* the thread pointer; 0: free */
	int32_t tid;		/* its owner, as the TCB says */
	uint64_t depth;
	uint64_t head;		/* events stored */
	uint64_t open_depth;	/* step 7: the calls in flight a reader sees */
	struct shadow sh[LADDER_DEPTH];
	uint64_t ev[LADDER_EVENTS];
#if LADDER_LEVEL >= 7
	struct { uint64_t tsc, site; } frames[LADDER_DEPTH];
#endif
};

struct lslot ladder_slots[1u << SLOT_BITS];
long ladder_tid_off;	/* where the TCB keeps its thread's tid */

NOTRACE void ladder_enter(uint64_t *slot, uint64_t after_site, uint64_t key);
NOTRACE uint64_t ladder_exit(uint64_t key);

/* tramp_abi.h's hash64(): @bits of a multiplicative hash */
static inline uint32_t lhash(uint64_t x, unsigned bits)
{
	return (uint32_t)(((x * 0x9e3779b97f4a7c15ull) >> 1) >> (63 - bits));
}

static inline struct lslot *slot_find(uint64_t key)
{
	uint32_t h = lhash(key, SLOT_BITS);

	for (uint32_t i = 0; i < (1u << SLOT_BITS); i++) {
		struct lslot *t = &ladder_slots[(h + i) & ((1u << SLOT_BITS) - 1)];
		uint64_t k = __atomic_load_n(&t->key, __ATOMIC_RELAXED);

		if (__builtin_expect(k == key, 1))
			return t;
		if (k == 0)
			break;
	}
	return NULL;
}

/* The calling thread's slot, claimed (or taken over from a thread that
 * ended and left its TCB to this one). */
NOTRACE static struct lslot *slot_claim(uint64_t key, struct lslot *t)
{
	int32_t tid = (int32_t)syscall(SYS_gettid);
	uint32_t h = lhash(key, SLOT_BITS);

	if (!ladder_tid_off) {
		for (long o = 16; o < 0x800 && !ladder_tid_off; o += 4)
			if (*(const int32_t *)(key + o) == tid)
				ladder_tid_off = o;
		if (!ladder_tid_off)
			abort();	/* this libc keeps no tid in its TCB */
	}
	for (uint32_t i = 0; !t && i < (1u << SLOT_BITS); i++) {
		struct lslot *c = &ladder_slots[(h + i) & ((1u << SLOT_BITS) - 1)];
		uint64_t free = 0;

		if (__atomic_compare_exchange_n(&c->key, &free, key, 0,
						__ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			t = c;
	}
	if (!t)
		abort();	/* more threads than slots */
	t->depth = 0;
	t->tid = tid;
	return t;
}

#if LADDER_LEVEL >= 6
struct lsite {
	uint64_t addr;		/* 0: free */
	uint64_t index;
};

struct lsite ladder_sites[1u << SITE_BITS];
uint64_t ladder_nsites;

/* The first call at @addr: give it an index. */
NOTRACE static uint64_t site_add(uint64_t addr)
{
	uint32_t h = lhash(addr, SITE_BITS);

	for (uint32_t i = 0; i < (1u << SITE_BITS); i++) {
		struct lsite *e = &ladder_sites[(h + i) & ((1u << SITE_BITS) - 1)];
		uint64_t free = 0;

		if (__atomic_compare_exchange_n(&e->addr, &free, addr, 0,
						__ATOMIC_SEQ_CST, __ATOMIC_RELAXED) ||
		    free == addr) {
			if (free == 0)
				__atomic_store_n(&e->index,
						 __atomic_add_fetch(&ladder_nsites, 1, __ATOMIC_SEQ_CST),
						 __ATOMIC_SEQ_CST);
			while (!__atomic_load_n(&e->index, __ATOMIC_SEQ_CST))
				;
			return e->index;
		}
	}
	abort();	/* more sites than places */
}

static inline uint64_t site_index(uint64_t addr)
{
	uint32_t h = lhash(addr, SITE_BITS);

	for (uint32_t i = 0; i < (1u << SITE_BITS); i++) {
		const struct lsite *e = &ladder_sites[(h + i) & ((1u << SITE_BITS) - 1)];
		uint64_t a = __atomic_load_n(&e->addr, __ATOMIC_RELAXED);

		if (__builtin_expect(a == addr, 1)) {
			uint64_t index = __atomic_load_n(&e->index, __ATOMIC_RELAXED);

			if (__builtin_expect(index != 0, 1))
				return index;
			break;
		}
		if (a == 0)
			break;
	}
	return site_add(addr);
}
#endif

/* One event: tattach's event word (docs/how-it-works.md): commit bit 63,
 * type 62..61 (0 ENTRY, 1 EXIT), site 60..40, clock 39..0. */
static inline __attribute__((always_inline)) void put(struct lslot *t, uint64_t type,
		uint64_t site, uint64_t tsc)
{
	uint64_t w = (tsc & ((1ull << 40) - 1)) | ((site & ((1ull << 21) - 1)) << 40) |
		     (type << 61);
#if LADDER_LEVEL >= 7
	/* A signal handler's traced call between the read and the
	 * reservation took the word: take the next (tramp_common.h's
	 * local_cmpxchg, no lock prefix: only this thread writes it). */
	uint64_t pos = __atomic_load_n(&t->head, __ATOMIC_RELAXED), seen;
	unsigned char ok;

	for (;;) {
		seen = pos;
		__asm__ volatile("cmpxchgq %3, %1; sete %2"
				 : "+a"(seen), "+m"(t->head), "=q"(ok)
				 : "r"(pos + 1) : "cc", "memory");
		if (__builtin_expect(ok, 1))
			break;
		pos = seen;
	}
	/* the lap's commit bit: a reader tells this lap's words from the last */
	w |= (~(pos >> LADDER_EVENTS_SHIFT) & 1) << 63;
	__atomic_store_n(&t->ev[pos & (LADDER_EVENTS - 1)], w, __ATOMIC_RELAXED);
#else
	t->ev[t->head++ & (LADDER_EVENTS - 1)] = w;
#endif
}

void ladder_enter(uint64_t *slot, uint64_t after_site, uint64_t key)
{
	struct lslot *t = slot_find(key);
	struct shadow *f;
	uint64_t d, tsc, site = 0;

	if (__builtin_expect(!t || *(const int32_t *)(key + ladder_tid_off) != t->tid, 0))
		t = slot_claim(key, t);
#if LADDER_STUB_INDEX
	/* after_site: the stub's first call's return, 5 bytes into stub i */
	site = (after_site - 5 - (uint64_t)ladder_stubs) / STUB_SIZE + 1;
#elif LADDER_LEVEL >= 6
	site = site_index(after_site - 5);	/* every site is 5 bytes */
#else
	(void)after_site;
#endif
#if LADDER_LEVEL >= 7
	d = 1;
	__asm__ volatile("xaddq %0, %1" : "+r"(d), "+m"(t->depth) :: "memory");
#else
	d = t->depth++;
#endif
	tsc = rdtsc();
	f = &t->sh[d & (LADDER_DEPTH - 1)];
	f->slot = slot;
	f->ret = *slot;
#if LADDER_LEVEL >= 6
	f->site = site;
#endif
#if LADDER_LEVEL >= 7
	__atomic_store_n(&t->frames[d & (LADDER_DEPTH - 1)].tsc, tsc, __ATOMIC_RELAXED);
	__atomic_store_n(&t->frames[d & (LADDER_DEPTH - 1)].site, site, __ATOMIC_RELAXED);
	__atomic_store_n(&t->open_depth, d + 1, __ATOMIC_RELAXED);
#endif
#if !LADDER_CT	/* 10: the stub's call of the body writes the slot */
	*slot = (uint64_t)ladder_return;
#endif
	put(t, 0, site, tsc);
}

uint64_t ladder_exit(uint64_t key)
{
	uint64_t tsc = rdtsc(), d, ret, site = 0;
	struct lslot *t = slot_find(key);
	const struct shadow *f;

	if (__builtin_expect(!t, 0))
		abort();	/* a return hijacked by no thread */
	d = t->depth - 1;
	f = &t->sh[d & (LADDER_DEPTH - 1)];
	ret = f->ret;
#if LADDER_LEVEL >= 6
	site = f->site;
#endif
	put(t, 1, site, tsc);
#if LADDER_LEVEL >= 7
	__atomic_store_n(&t->open_depth, d, __ATOMIC_RELAXED);
#endif
	__atomic_store_n(&t->depth, d, __ATOMIC_RELAXED);
	return ret;
}

/* Events stored by the calling thread so far (percall's check). */
NOTRACE unsigned long floor_events(void)
{
	uint64_t key;
	const struct lslot *t;

	__asm__("mov %%fs:0, %0" : "=r"(key));
	t = slot_find(key);
	return t ? t->head : 0;
}
#endif /* LADDER_NO_TLS */

#if LADDER_PFE
/*
 * Steps 8 - 11: rewrite each 5-byte NOP of the -fpatchable-function-entry
 * build (the linker lists them in __patchable_function_entries) before
 * main() runs, as tattach would rewrite them in a running process.
 */
extern const uint64_t __start___patchable_function_entries[] __attribute__((weak));
extern const uint64_t __stop___patchable_function_entries[] __attribute__((weak));

extern char ladder_fentry[];

/* gcc pads with five one-byte NOPs; an assembler might use one of 5 */
static const uint8_t nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
static const uint8_t nop1x5[5] = { 0x90, 0x90, 0x90, 0x90, 0x90 };

/* @out: the 5 bytes of "@op rel32" at @at, to @to (0xe8 call, 0xe9 jmp) */
static void branch(uint8_t *out, uint8_t op, const uint8_t *at, const void *to)
{
	int64_t rel = (int64_t)((const uint8_t *)to - (at + 5));
	int32_t rel32 = (int32_t)rel;

	if (rel != rel32)
		abort();	/* out of a rel32's reach */
	out[0] = op;
	memcpy(out + 1, &rel32, 4);
}

static void text_write(uint8_t *at, const uint8_t *bytes, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *start = (uint8_t *)((uintptr_t)at & ~(uintptr_t)(pg - 1));
	size_t span = (size_t)(at + len - start + pg - 1) & ~(size_t)(pg - 1);

	if (mprotect(start, span, PROT_READ | PROT_WRITE | PROT_EXEC))
		abort();
	memcpy(at, bytes, len);
	if (mprotect(start, span, PROT_READ | PROT_EXEC))
		abort();
}

#if LADDER_CT
extern char ladder_ct_enter[], ladder_ct_exit[];

/* Room for the stubs within a rel32 of @near: below the executable. */
static uint8_t *stub_area(const void *near, size_t len)
{
	uintptr_t at = ((uintptr_t)near & ~(uintptr_t)0xfffff) - (64u << 20);

	for (int i = 0; i < 16; i++, at -= 64u << 20) {
		void *p = mmap((void *)at, len, PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p != MAP_FAILED)
			return p;
	}
	abort();
}
#endif

__attribute__((constructor, no_instrument_function)) static void ladder_patch_sites(void)
{
	const uint64_t *e = __start___patchable_function_entries;
	size_t n = (size_t)(__stop___patchable_function_entries - e);
#if LADDER_CT
	uint8_t *stubs = n ? stub_area((const void *)e[0], n * STUB_SIZE) : NULL;

	ladder_stubs = stubs;
#endif

	if (!n)
		abort();	/* not a -fpatchable-function-entry=5 build */
	for (size_t i = 0; i < n; i++) {
		uint8_t *site = (uint8_t *)e[i], code[5];

		if (memcmp(site, nop5, 5) && memcmp(site, nop1x5, 5))
			abort();
#if !LADDER_CT
		branch(code, 0xe8, site, ladder_fentry);
#else
		/* stub: call ladder_ct_enter; call the body; jmp ladder_ct_exit */
		uint8_t *stub = stubs + i * STUB_SIZE;

		branch(stub, 0xe8, stub, ladder_ct_enter);
		branch(stub + 5, 0xe8, stub + 5, site + 5);
		branch(stub + 10, 0xe9, stub + 10, ladder_ct_exit);
		stub[15] = 0xcc;
		branch(code, 0xe9, site, stub);
#endif
		text_write(site, code, 5);
	}
#if LADDER_CT
	if (mprotect(stubs, n * STUB_SIZE, PROT_READ | PROT_EXEC))
		abort();
#endif
}
#endif
