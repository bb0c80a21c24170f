// SPDX-License-Identifier: MIT
/*
 * attach/frames/shadow.c shadow_lookup_lengths(): how many keys the
 * trampoline's thread_find() reads to find each taken slot, for
 * `tattach --status`.  The keys here are chosen by their hash, so that
 * each lands where the test wants it (as the trampoline's linear probing
 * would have put it).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "attach/frames/shadow.h"

#define BITS 4
#define N (1u << BITS)

/* The @nth key (from 1) whose hash is @home. */
static uint64_t key_at(uint32_t home, int nth)
{
	for (uint64_t k = 0x7f0000001000ull;; k += 0x1000)
		if (hash64(k, BITS) == home && --nth == 0)
			return k;
}

Test(slot_search, each_key_in_its_own_slot)
{
	uint64_t keys[N] = { 0 };
	struct shadow_lookup l;

	keys[3] = key_at(3, 1);
	keys[9] = key_at(9, 1);
	shadow_lookup_lengths(keys, BITS, &l);
	cr_assert_eq(l.taken, 2);
	cr_assert_eq(l.reads, 2);
	cr_assert_eq(l.longest, 1);
}

/* Three threads whose keys hash to slot 5: the second is found after
 * two reads, the third after three; one more, at home in 8, after one. */
Test(slot_search, keys_that_collide_are_found_further_on)
{
	uint64_t keys[N] = { 0 };
	struct shadow_lookup l;

	keys[5] = key_at(5, 1);
	keys[6] = key_at(5, 2);
	keys[7] = key_at(5, 3);
	keys[8] = key_at(8, 1);
	shadow_lookup_lengths(keys, BITS, &l);
	cr_assert_eq(l.taken, 4);
	cr_assert_eq(l.reads, 1 + 2 + 3 + 1);
	cr_assert_eq(l.longest, 3);
}

/* A key whose slot was taken at the table's end goes on at its start. */
Test(slot_search, the_search_wraps_at_the_end)
{
	uint64_t keys[N] = { 0 };
	struct shadow_lookup l;

	keys[N - 1] = key_at(N - 1, 1);
	keys[0] = key_at(N - 1, 2);
	keys[1] = key_at(N - 2, 1);
	shadow_lookup_lengths(keys, BITS, &l);
	cr_assert_eq(l.taken, 3);
	cr_assert_eq(l.reads, 1 + 2 + 4);
	cr_assert_eq(l.longest, 4);
}

Test(slot_search, one_slot_and_no_slot_taken)
{
	uint64_t one = 0x7f0000001740ull, none[N] = { 0 };
	struct shadow_lookup l;

	shadow_lookup_lengths(&one, 0, &l);
	cr_assert_eq(l.taken, 1);
	cr_assert_eq(l.reads, 1);
	cr_assert_eq(l.longest, 1);
	shadow_lookup_lengths(none, BITS, &l);
	cr_assert_eq(l.taken, 0);
	cr_assert_eq(l.reads, 0);
	cr_assert_eq(l.longest, 0);
}
