/* SPDX-License-Identifier: MIT */
/*
 * What every file of the trampoline uses (tramp.c, tramp_args.c,
 * tramp_fork.c): freestanding, header-only, so that each file keeps its
 * functions static and the hot path inlined.  The event clock must be one
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

#endif /* TATTACH_TRAMP_COMMON_H */
