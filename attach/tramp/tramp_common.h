/* SPDX-License-Identifier: MIT */
/*
 * What every file of the trampoline uses (the tramp*.c files, and
 * tramp_shared.h for those of calls and returns): freestanding, header-only, so
 * that each file keeps its functions static and the hot path inlined.  The event clock must be one
 * function for all of them: a fork child's first events are stamped by
 * tramp_fork.c.  (The slot hash, which tattach uses too, is in
 * tramp_abi.h.)
 */
#ifndef TATTACH_TRAMP_COMMON_H
#define TATTACH_TRAMP_COMMON_H

#include <stdint.h>

#include "tramp_abi.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
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

/*
 * Updates a signal handler of this thread cannot split: one instruction
 * each, unlocked (atomic against interrupts on this CPU; no other CPU
 * writes what they are used on).
 */

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
	int ok;

	/* ZF as the answer (a flag output): the caller branches on it */
	__asm__ volatile("cmpxchgq %3, %1"
			 : "=@ccz"(ok), "+m"(*p), "+a"(prev)
			 : "r"(new)
			 : "memory");
	*old = prev;
	return ok;
}

static inline int local_cmpxchg32(uint32_t *p, uint32_t old, uint32_t new)
{
	int ok;

	__asm__ volatile("cmpxchgl %3, %1"
			 : "=@ccz"(ok), "+m"(*p), "+a"(old)
			 : "r"(new)
			 : "memory");
	return ok;
}

/* Swap in 0 and return the old value: one instruction, so signal-safe. */
static inline uint64_t local_take(uint64_t *p)
{
	uint64_t v = 0;

	__asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

static inline void local_max(uint64_t *p, uint64_t v)
{
	uint64_t cur = READ_ONCE(*p);

	while (v > cur && !local_cmpxchg(p, &cur, v))
		;
}

#endif /* TATTACH_TRAMP_COMMON_H */
