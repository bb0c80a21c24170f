// SPDX-License-Identifier: MIT
/*
 * Reading while writing, at full speed, for a while (make stress):
 * tests/targets/seqwriter's two workers call s0() .. s7() as fast as they
 * can (tens of millions of events a second), a timer signal at 4 kHz per
 * worker calls h() in the middle of their writes, tread -f reads in
 * discard mode.  Every thread's sequence must be unbroken except where a
 * loss marker says events are missing, every h() nested, and events read
 * + events counted lost = events made, exactly.
 *
 * TATTACH_STRESS_SECONDS (default 10) sets how long the workers run.
 * The check itself is follow_run() in tests/integration/test_ring_live.c,
 * whose 3-second version is part of make check.  (The Makefile's
 * dependency files do not record that #include: after changing
 * test_ring_live.c, remove build/tests/stress/test_ring_stress.)
 */
#define RING_STRESS 1
#include "integration/test_ring_live.c"

TestSuite(ring_stress, .init = start, .fini = stop, .timeout = 600);

/* One test, so that make stress (criterion --jobs=2) never runs two of
 * these at once: each wants both cores. */
Test(ring_stress, follow_at_full_speed)
{
	const char *env = getenv("TATTACH_STRESS_SECONDS");
	double seconds = env && atof(env) > 0 ? atof(env) : 10;
	struct follow_result r;

	follow_run(seconds, 0, &r);
	print_result("ring stress", &r);
	cr_assert_geq(r.made / r.seconds, 10e6, "the target wrote only %.1f M events/s",
		      r.made / r.seconds / 1e6);

	/* The same with plain treads reading snapshots all along. */
	start();
	follow_run(seconds, (int)seconds * 2, &r);
	print_result("ring stress with snapshots", &r);
}
