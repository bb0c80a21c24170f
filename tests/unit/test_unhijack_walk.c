// SPDX-License-Identifier: MIT
/*
 * attach/frames/unhijack.c unhijack_walk_in_tramp(): from the walk of a
 * held thread's stack, is it (maybe) inside trampoline code, half way
 * through a shadow-stack update that --disable must not cut under it?
 * The walks here are made up: a trampoline copy at TRAMP (its tp_return
 * at TRET), a signal handler whose own traced call put a hijacked return
 * above its signal frame, and what the handler interrupted below.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <tattach/ring.h>
#include "attach/frames/shadow.h"
#include "attach/frames/unhijack.h"
#include "attach/process/stackwalk.h"
#include "attach/ring/ringfile.h"

#define TRAMP 0x10000ull
#define TRET  (TRAMP + 0xb4)
#define SLOT  0x7ffc1000ull	/* the handler's traced call's return slot */

static struct tat_ring_header hdr;
static struct ringfile rf = { .hdr = &hdr };
static struct shadow s;

static void setup(void)
{
	memset(&hdr, 0, sizeof(hdr));
	memset(&s, 0, sizeof(s));
	hdr.tramp_count = 1;
	hdr.tramp_addr[0] = TRAMP;
	hdr.tramp_size = 0x8000;
	s.st.tramp_return[0] = TRET;
}

/* A frame of ordinary code with unwind information. */
static struct walk_frame code(uint64_t ip, uint64_t sp)
{
	return (struct walk_frame){ .ip = ip, .sp = sp, .start = ip - 0x10, .end = ip + 0x10 };
}

TestSuite(unhijack_walk, .init = setup);

/* The walk that went on past the handler's hijacked return (with the
 * address its shadow frame kept) finds the trampoline code the handler
 * interrupted: inside.  Stopping at that return, as the walk once did,
 * saw nothing below it. */
Test(unhijack_walk, trampoline_below_a_traced_signal_handler)
{
	struct walk_frame f[5] = {
		code(0x401100, SLOT - 0x40),		/* the handler's traced callee */
		code(0x401200, SLOT + 8),		/* the handler, reached through it */
		code(0x7f0000001000, SLOT + 0x100),	/* __restore_rt */
		code(TRAMP + 0x500, SLOT + 0x400),	/* interrupted: tp_ct_enter_fast */
		code(0x401300, SLOT + 0x480),
	};

	f[1].hijacked = 1;
	f[2].sigframe = 1;
	cr_assert_eq(unhijack_walk_in_tramp(&rf, &s, f, 5, SLOT, 1), 1);
	/* the same stack with ordinary code interrupted: outside */
	f[3] = code(0x401280, SLOT + 0x400);
	cr_assert_eq(unhijack_walk_in_tramp(&rf, &s, f, 5, SLOT, 1), 0);
}

/* A hijacked return right below a signal frame: the signal came when
 * the traced function had returned into the trampoline and tp_return
 * had not begun; its frame is about to be popped. */
Test(unhijack_walk, interrupted_at_a_return_into_the_trampoline)
{
	struct walk_frame f[3] = {
		code(0x7f0000001000, SLOT - 0x100),	/* __restore_rt */
		code(0x401200, SLOT + 8),		/* its caller, through the shadow */
		code(0x401300, SLOT + 0x80),
	};

	f[0].sigframe = 1;
	f[1].hijacked = 1;
	cr_assert_eq(unhijack_walk_in_tramp(&rf, &s, f, 3, SLOT, 1), 1);
	f[0].sigframe = 0;	/* a return address, not an interrupted ip */
	cr_assert_eq(unhijack_walk_in_tramp(&rf, &s, f, 3, SLOT, 1), 0);
}

/* A walk that ended before the innermost hijacked return may have missed
 * trampoline code: unknown, so inside. */
Test(unhijack_walk, a_walk_short_of_the_expected_slot)
{
	struct walk_frame f[2] = {
		code(0x401100, SLOT - 0x40),
		code(0x401200, SLOT - 0x20),
	};

	cr_assert_eq(unhijack_walk_in_tramp(&rf, &s, f, 2, SLOT, 1), 1);
	cr_assert_eq(unhijack_walk_in_tramp(&rf, &s, f, 2, 0, 1), 0);
}

/* A frame without unwind information above the innermost hijacked
 * return: stepped over by guesswork, which may have skipped a signal
 * frame, so unknown.  Below it (the callers of traced calls, in a
 * program built without unwind tables): the walk looks on, and finds no
 * trampoline code. */
Test(unhijack_walk, frames_without_unwind_information)
{
	struct walk_frame f[4] = {
		code(0x401100, SLOT - 0x40),
		code(0x401200, SLOT + 8),		/* through the shadow */
		{ .ip = 0x401300, .sp = SLOT + 0x40 },	/* no unwind information */
		code(0x401400, SLOT + 0x80),
	};

	f[1].hijacked = 1;
	cr_assert_eq(unhijack_walk_in_tramp(&rf, &s, f, 4, SLOT, 1), 0);
	f[0] = (struct walk_frame){ .ip = 0x401100, .sp = SLOT - 0x40 };
	cr_assert_eq(unhijack_walk_in_tramp(&rf, &s, f, 4, SLOT, 1), 1);
	cr_assert_eq(unhijack_walk_in_tramp(&rf, &s, f, 4, SLOT, 0), 0);
}
