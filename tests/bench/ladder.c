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
 * What tattach does on top of step 3 is its own bookkeeping: finding the
 * thread's slot without TLS, the site index, the shared ring (reserve,
 * commit bit, TIME records), the calls in flight, sub-stacks, modes.
 *
 * floor_events() counts the stored events (steps 2 - 4), so percall
 * checks 2 events per call as for the floor.
 */
#include <stdint.h>

#ifndef LADDER_STEP
#error "build with -DLADDER_STEP=0..4"
#endif

#define NOTRACE __attribute__((noinline, no_instrument_function, used))
#define LADDER_EVENTS 8192	/* 64 KiB per thread, like the floor */
#define LADDER_DEPTH  4096

struct shadow {
	uint64_t *slot;
	uint64_t ret;
};

/* Not static: gcc must not drop stores nothing in this file reads. */
__thread uint64_t ev_buf[LADDER_EVENTS];
__thread uint64_t ev_idx;
__thread struct shadow sh[LADDER_DEPTH];
__thread uint64_t sh_depth;

NOTRACE void ladder_enter(uint64_t *slot);
NOTRACE uint64_t ladder_exit(void);

static inline __attribute__((always_inline)) uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline __attribute__((always_inline)) void event(uint64_t low)
{
	ev_buf[ev_idx++ & (LADDER_EVENTS - 1)] = rdtsc() | low;
}

#if LADDER_STEP == 0
__asm__(".text\n"
	".globl mcount\n"
	".type mcount, @function\n"
	"mcount:\n"
	"	ret\n"
	".size mcount, . - mcount\n");
#else
/* tp_mcount's frame, with the slot of the return into the caller in %rdi. */
__asm__(".text\n"
	".macro LADDER_SAVE\n"
	"	push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n"
	"	push %r8; push %r9; push %r10; push %r11\n"
	".endm\n"
	".macro LADDER_RESTORE\n"
	"	pop %r11; pop %r10; pop %r9; pop %r8\n"
	"	pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n"
	".endm\n"
	".macro LADDER_CALL fn\n"
	"	push %rbx; mov %rsp, %rbx; and $-16, %rsp\n"
	"	call \\fn\n"
	"	mov %rbx, %rsp; pop %rbx\n"
	".endm\n"
	".globl mcount\n"
	".type mcount, @function\n"
	"mcount:\n"
	"	LADDER_SAVE\n"
	"	lea 8(%rbp), %rdi\n"
	"	LADDER_CALL ladder_enter\n"
	"	LADDER_RESTORE\n"
	"	ret\n"
	".size mcount, . - mcount\n"
	".globl ladder_return\n"
	".type ladder_return, @function\n"
	"ladder_return:\n"
	"	sub $8, %rsp\n"
	"	LADDER_SAVE\n"
	"	LADDER_CALL ladder_exit\n"
	"	mov %rax, 72(%rsp)\n"
	"	LADDER_RESTORE\n"
#if LADDER_STEP == 4
	"	ret\n"
#else
	"	lea 8(%rsp), %rsp\n"
	"	jmp *-8(%rsp)\n"
#endif
	".size ladder_return, . - ladder_return\n");
#endif

extern char ladder_return[];

void ladder_enter(uint64_t *slot)
{
#if LADDER_STEP == 2
	event(0);
	event(1);
#elif LADDER_STEP >= 3
	struct shadow *f = &sh[sh_depth++ & (LADDER_DEPTH - 1)];

	event(0);
	f->slot = slot;
	f->ret = *slot;
	*slot = (uint64_t)ladder_return;
#endif
	(void)slot;
	__asm__ volatile("" ::: "memory");	/* step 1: a real, empty call */
}

uint64_t ladder_exit(void)
{
#if LADDER_STEP >= 3
	event(1);
	return sh[--sh_depth & (LADDER_DEPTH - 1)].ret;
#else
	return 0;
#endif
}

#if LADDER_STEP >= 2
/* Events stored by the calling thread so far (percall's check). */
NOTRACE unsigned long floor_events(void)
{
	return ev_idx;
}
#endif
