/*
 * floor: the least a function tracer can do per call, as a reference.
 *
 * Linked into a -finstrument-functions build of percall.c (and compiled
 * itself without instrumentation).  Entry and exit each read the TSC and
 * store one 8-byte event into a per-thread array, wrapping like a flight
 * recorder.  No function id, no thread registration, no shared memory,
 * no mode, no drop accounting: nothing a real tracer could skip.
 */
#include <stdint.h>

#define FLOOR_EVENTS 8192		/* 64 KiB per thread, like -b 64K */

static __thread uint64_t floor_buf[FLOOR_EVENTS];
static __thread uint64_t floor_idx;

static inline __attribute__((always_inline)) uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

__attribute__((no_instrument_function))
void __cyg_profile_func_enter(void *fn, void *site)
{
	(void)fn;
	(void)site;
	floor_buf[floor_idx++ & (FLOOR_EVENTS - 1)] = rdtsc();
}

__attribute__((no_instrument_function))
void __cyg_profile_func_exit(void *fn, void *site)
{
	(void)fn;
	(void)site;
	floor_buf[floor_idx++ & (FLOOR_EVENTS - 1)] = rdtsc() | 1;
}

/* Events stored by the calling thread so far. */
__attribute__((no_instrument_function))
unsigned long floor_events(void)
{
	return floor_idx;
}
