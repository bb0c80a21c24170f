// SPDX-License-Identifier: MIT
/*
 * Writes the seed corpus of tests/fuzz/fuzz_ring.c:
 *
 *	mkcorpus DIR
 *
 * Each seed is a valid ring file image built with tests/lib/ringgen.c (the
 * reference writer), covering one situation tread must handle: nesting,
 * several threads, flight-mode wrap, a full ring, slot reuse, TSC carries,
 * odd module and site tables, consumed tails, malformed words...  ringgen
 * lays files out like tattach does (page-aligned tables); most seeds are
 * then packed (tables back to back after the header) so they stay a few
 * KiB and the fuzzer spends its time on bytes that matter.  One seed keeps
 * the real layout.
 *
 * header.reserved[0] holds the harness options (enum knob in fuzz_ring.c);
 * the seeds spread them so every path of the harness starts covered.
 * The output is deterministic: rerunning it rewrites the same files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ringgen.h"

/* Keep in sync with enum knob in fuzz_ring.c. */
#define K_WRITABLE   (1u << 0)
#define K_GONE       (1u << 1)
#define K_ROUNDS(n)  ((unsigned)(n) << 2)
#define K_TID_FILTER (1u << 4)
#define K_FAIL_WRITE (1u << 5)
#define K_SESSION    (1u << 6)
#define K_REPORT     (1u << 7)
#define K_FAIL_AFTER(n) ((unsigned)(n) << 8)	/* n * 16 bytes */
#define K_TIME(m)    ((unsigned)(m) << 16)	/* enum tread_time_mode */
#define K_WRITER(c)  ((unsigned)(c) << 19)	/* writer between rounds */

#define BIAS 0x555555554000ull

static const char *outdir;
static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "mkcorpus: %s\n", what);
		exit(1);
	}
}

static void init(struct ringgen *g, uint32_t threads, uint32_t shift,
		 uint32_t modules, uint32_t sites, uint32_t mode)
{
	struct ringgen_config cfg = {
		.max_threads = threads, .ring_shift = shift, .module_cap = modules,
		.site_cap = sites, .mode = mode, .tsc_hz = 2400000000ull,
	};

	check(ringgen_init(g, &cfg) == 0, "ringgen_init failed");
}

/* One module, @n sites at BIAS + 0x1000 + 0x40 * i. */
static void std_tables(struct ringgen *g, int n)
{
	int m = ringgen_add_module(g, "/usr/lib/tattach-fuzz/libdemo.so.1", BIAS);

	check(m == 0, "module");
	for (int i = 0; i < n; i++)
		check(ringgen_add_site(g, m, BIAS + 0x1000 + 0x40 * i) > 0, "site");
}

/* Tables back to back after the header, rings right after them. */
static void pack(struct ringgen *g)
{
	struct tat_ring_header *h = g->hdr;
	uint64_t mod_len = (uint64_t)h->module_cap * sizeof(struct tat_module);
	uint64_t site_len = (uint64_t)h->site_cap * sizeof(struct tat_site);
	uint64_t thr_len = (uint64_t)h->max_threads * sizeof(struct tat_thread_ctl);
	uint64_t data_len = (uint64_t)h->max_threads << (h->ring_shift + 3);
	uint64_t off = (h->header_size + 7) & ~7ull;
	uint64_t mod_off = off, site_off = mod_off + mod_len;
	uint64_t thr_off = site_off + site_len, data_off = thr_off + thr_len;
	uint64_t size = data_off + data_len;
	uint8_t *buf = calloc(1, size);
	struct tat_ring_header *nh = (struct tat_ring_header *)buf;

	check(buf && !g->mapped, "pack");
	memcpy(buf, g->buf, h->header_size);
	memcpy(buf + mod_off, g->buf + h->module_off, mod_len);
	memcpy(buf + site_off, g->buf + h->site_off, site_len);
	memcpy(buf + thr_off, g->buf + h->thread_off, thr_len);
	memcpy(buf + data_off, g->buf + h->data_off, data_len);
	nh->module_off = mod_off;
	nh->site_off = site_off;
	nh->thread_off = thr_off;
	nh->data_off = data_off;
	nh->file_size = size;
	free(g->buf);
	g->buf = buf;
	g->hdr = nh;
	g->size = size;
}

static void save(struct ringgen *g, const char *name, uint64_t knobs, int packed)
{
	char path[4096];
	int ret;

	if (packed)
		pack(g);
	g->hdr->reserved[0] = knobs;
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	ret = ringgen_write_file(g, path);
	if (ret) {
		fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(-ret));
		failures++;
	} else {
		printf("  %-28s %6zu bytes\n", name, g->size);
	}
	ringgen_free(g);
}

static struct tat_module *module(struct ringgen *g, uint32_t i)
{
	return (struct tat_module *)(g->buf + g->hdr->module_off) + i;
}

static struct tat_site *site(struct ringgen *g, uint32_t i)
{
	return (struct tat_site *)(g->buf + g->hdr->site_off) + i;
}

/* A call tree: work -> a -> b -> leaf, c -> leaf, repeated. */
static uint64_t calltree(struct ringgen *g, uint32_t slot, uint64_t t, int reps)
{
	for (int i = 0; i < reps; i++) {
		ringgen_entry(g, slot, 1, t += 11);
		ringgen_entry(g, slot, 2, t += 13);
		ringgen_entry(g, slot, 3, t += 17);
		ringgen_entry(g, slot, 5, t += 5);
		ringgen_exit(g, slot, 5, t += 23);
		ringgen_exit(g, slot, 3, t += 7);
		ringgen_exit(g, slot, 2, t += 3);
		ringgen_entry(g, slot, 4, t += 19);
		ringgen_entry(g, slot, 5, t += 5);
		ringgen_exit(g, slot, 5, t += 29);
		ringgen_exit(g, slot, 4, t += 2);
		ringgen_exit(g, slot, 1, t += 31);
	}
	return t;
}

static void seed_calltree(void)
{
	struct ringgen g;

	init(&g, 1, 7, 1, 8, TAT_MODE_DISCARD);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 4242);
	calltree(&g, 0, 1000000, 6);
	save(&g, "seed-01-calltree", K_TIME(1), 1);
}

static void seed_threads(void)
{
	struct ringgen g;
	uint64_t t = 5000000;

	init(&g, 4, 6, 1, 16, TAT_MODE_DISCARD);
	std_tables(&g, 6);
	ringgen_thread(&g, 0, 11);
	ringgen_thread(&g, 1, 22);
	ringgen_thread(&g, 2, 33);
	for (int i = 0; i < 12; i++) {
		uint32_t slot = i % 3, s = 1 + i % 5;

		ringgen_entry(&g, slot, s, t += 7);
		ringgen_entry(&g, slot, s + 1, t += 7);
		ringgen_exit(&g, slot, s + 1, t += 7);
		ringgen_exit(&g, slot, s, t += 7);
	}
	save(&g, "seed-02-threads", K_ROUNDS(2) | K_TIME(4) | K_WRITER(3), 1);
}

static void seed_unwind(void)
{
	struct ringgen g;
	uint64_t t = 77777;

	init(&g, 2, 6, 1, 8, TAT_MODE_DISCARD);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 100);
	ringgen_thread(&g, 1, 101);
	for (int i = 0; i < 4; i++) {
		ringgen_entry(&g, i & 1, 1, t += 10);
		ringgen_entry(&g, i & 1, 2, t += 10);
		ringgen_entry(&g, i & 1, 3, t += 10);
		ringgen_unwind(&g, i & 1, 2, t += 10);	/* longjmp out of 3 and 2 */
		ringgen_exit(&g, i & 1, 3, t);
		ringgen_exit(&g, i & 1, 2, t);
		ringgen_exit(&g, i & 1, 1, t += 10);
	}
	ringgen_reserve(&g, 1);			/* reserved, never written */
	ringgen_entry(&g, 1, 4, t += 10);
	save(&g, "seed-03-unwind-reserved", K_GONE | K_REPORT | K_SESSION, 1);
}

static void seed_flight(void)
{
	struct ringgen g;

	init(&g, 2, 5, 1, 8, TAT_MODE_FLIGHT);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 7);
	ringgen_thread(&g, 1, 8);
	calltree(&g, 0, 900, 9);	/* wraps the 32-word ring several times */
	calltree(&g, 1, 905, 2);
	save(&g, "seed-04-flight-wrap", K_GONE | K_TIME(5) | K_ROUNDS(1) | K_WRITER(9), 1);
}

static void seed_full(void)
{
	struct ringgen g;

	init(&g, 1, 6, 1, 8, TAT_MODE_DISCARD);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 9);
	calltree(&g, 0, 1000, 6);	/* the 64-word ring fills up: drops */
	ringgen_set_tail(&g, 0, 16);	/* a consumer read some */
	/* LOST special before what fits; a new TSC epoch, so TIME follows */
	calltree(&g, 0, (1ull << 40) + 5000, 1);
	save(&g, "seed-05-discard-full", K_WRITABLE | K_ROUNDS(1) | K_WRITER(5), 1);
}

static void seed_retid(void)
{
	struct ringgen g;
	uint64_t t = 123456;

	init(&g, 2, 7, 1, 8, TAT_MODE_DISCARD);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 500);
	ringgen_entry(&g, 0, 1, t += 5);
	ringgen_entry(&g, 0, 2, t += 5);	/* thread exits inside calls */
	ringgen_retid(&g, 0, 501);
	t = calltree(&g, 0, t, 2);
	ringgen_retid(&g, 0, 502);
	ringgen_exit(&g, 0, 3, t += 5);		/* exit without entry */
	ringgen_thread(&g, 1, 600);
	calltree(&g, 1, 123460, 1);
	save(&g, "seed-06-slot-reuse", K_TID_FILTER | K_TIME(2), 1);
}

static void seed_tsc_carry(void)
{
	struct ringgen g;
	uint64_t t = (1ull << 40) - 200;	/* upper bits change midway */

	init(&g, 1, 8, 1, 8, TAT_MODE_DISCARD);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 31337);
	t = calltree(&g, 0, t, 3);
	calltree(&g, 0, (5ull << 40) - 60, 2);	/* and again, far later */
	save(&g, "seed-07-tsc-carry", K_REPORT, 1);
}

static void seed_chunk_time(void)
{
	struct ringgen g;

	/* Past TAT_CHUNK_EVENTS, so chunk TIME words appear; flight mode so
	 * the reader starts inside a chunk and primes its time base. */
	init(&g, 1, 9, 1, 8, TAT_MODE_FLIGHT);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 77);
	calltree(&g, 0, 10000, 60);
	save(&g, "seed-08-chunk-time", K_ROUNDS(3) | K_TIME(3), 1);
}

static void seed_modules(void)
{
	struct ringgen g;
	struct tat_module *m;
	uint64_t t = 1ull << 30;

	init(&g, 1, 6, 6, 16, TAT_MODE_DISCARD);
	ringgen_add_module(&g, "/usr/lib/tattach-fuzz/prog", BIAS);
	ringgen_add_module(&g, "relative/libnot-absolute.so", 0x7f0000000000ull);
	ringgen_add_module(&g, "/usr/lib/tattach-fuzz/libstale.so", 0x7f1000000000ull);
	ringgen_add_module(&g, "/usr/lib/tattach-fuzz/libfull.so", 0x7f2000000000ull);
	ringgen_add_module(&g, "", 0x7f3000000000ull);	/* empty path */
	/* build ids: a good one, an odd-length one, an oversized length */
	m = module(&g, 0);
	for (int i = 0; i < 20; i++)
		m->build_id[i] = (uint8_t)(0x5a ^ i);
	m->build_id_len = 20;
	module(&g, 2)->build_id_len = 7;
	module(&g, 3)->build_id_len = 0xffff;
	/* a path filling the field, without its NUL */
	memset(module(&g, 3)->path, 'p', TAT_PATH_MAX);
	module(&g, 3)->path[0] = '/';
	for (uint32_t i = 0; i < 6; i++)	/* module 5 is past the count */
		ringgen_add_site(&g, i, (i < 5 ? module(&g, i)->load_bias : 0) + 0x1000 + i);
	ringgen_add_site(&g, 0, BIAS + 0x2000000);	/* outside the module text */
	ringgen_add_site(&g, 0xffffffffu, 0x1234);	/* module index far off */
	ringgen_thread(&g, 0, 1);
	for (uint32_t s = 1; s <= 8; s++) {
		ringgen_entry(&g, 0, s, t += 3);
		ringgen_exit(&g, 0, s, t += 3);
	}
	save(&g, "seed-09-module-table", 0, 1);
}

static void seed_sites(void)
{
	struct ringgen g;
	uint64_t t = 42;

	init(&g, 1, 6, 1, 8, TAT_MODE_DISCARD);
	std_tables(&g, 3);
	site(&g, 2)->kind = TAT_SITE_FENTRY;
	site(&g, 3)->len = 5;
	ringgen_thread(&g, 0, 2);
	ringgen_entry(&g, 0, 1, t += 4);
	ringgen_entry(&g, 0, 6, t += 4);	/* in the table, not in use */
	ringgen_exit(&g, 0, 6, t += 4);
	ringgen_entry(&g, 0, 8, t += 4);	/* past site_cap */
	ringgen_exit(&g, 0, 8, t += 4);
	ringgen_entry(&g, 0, 0, t += 4);	/* index 0: never used */
	ringgen_exit(&g, 0, 0, t += 4);
	ringgen_entry(&g, 0, TAT_EV_SITE_MAX, t += 4);
	ringgen_exit(&g, 0, 1, t += 4);		/* closes through the others */
	save(&g, "seed-10-bad-sites", K_REPORT | K_SESSION | K_WRITABLE, 1);
}

static void seed_bad_words(void)
{
	struct ringgen g;
	uint64_t t = 999;

	init(&g, 2, 6, 1, 8, TAT_MODE_DISCARD);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 3);
	ringgen_entry(&g, 0, 1, t += 9);
	ringgen_raw(&g, 0, 3ull << TAT_EV_TYPE_SHIFT);		/* type 3 */
	ringgen_raw(&g, 0, tat_ev_special(0, 0));		/* sub 0 */
	ringgen_raw(&g, 0, tat_ev_special(31, 12345));		/* sub 31 */
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_LOST, TAT_EV_PAYLOAD_MASK));
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_UNWIND, 1ull << 50));
	ringgen_exit(&g, 0, 1, t += 9);
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_TID, 0xffffffffull));
	ringgen_raw(&g, 0, tat_ev_make(TAT_EV_ENTRY, 2, 5));	/* no TIME yet */
	ringgen_raw(&g, 0, tat_ev_special(TAT_SUB_TIME, 0));
	ringgen_raw(&g, 0, tat_ev_make(TAT_EV_EXIT, 2, 1));
	/* slot 1: words before any TIME, then a gap */
	ringgen_thread(&g, 1, 4);
	ringgen_raw(&g, 1, tat_ev_make(TAT_EV_ENTRY, 3, 100));
	ringgen_reserve(&g, 1);
	ringgen_raw(&g, 1, tat_ev_special(TAT_SUB_TIME, 1));
	ringgen_raw(&g, 1, tat_ev_make(TAT_EV_EXIT, 3, 200));
	save(&g, "seed-11-bad-words", K_GONE | K_ROUNDS(1), 1);
}

static void seed_deep(void)
{
	struct ringgen g;
	uint64_t t = 1;

	init(&g, 1, 9, 1, 8, TAT_MODE_DISCARD);
	std_tables(&g, 3);
	ringgen_thread(&g, 0, 8);
	for (int i = 0; i < 150; i++)		/* recursion */
		ringgen_entry(&g, 0, 1 + (i % 2), t += 2);
	for (int i = 149; i >= 40; i--)
		ringgen_exit(&g, 0, 1 + (i % 2), t += 2);
	save(&g, "seed-12-recursion", K_REPORT | K_SESSION, 1);
}

static void seed_tails(void)
{
	struct ringgen g;

	init(&g, 3, 6, 1, 8, TAT_MODE_FLIGHT);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 10);
	ringgen_thread(&g, 1, 20);
	ringgen_thread(&g, 2, 30);
	calltree(&g, 0, 100, 2);
	calltree(&g, 1, 101, 2);
	calltree(&g, 2, 102, 8);
	ringgen_set_tail(&g, 0, 9);			/* consumed part of it */
	ringgen_set_tail(&g, 1, 1000000);		/* past the head */
	ringgen_ctl(&g, 2)->dropped = 17;
	ringgen_ctl(&g, 2)->deep = 3;
	g.hdr->threads_overflow = 5;
	save(&g, "seed-13-tails-counters",
	     K_WRITABLE | K_ROUNDS(2) | K_SESSION | K_WRITER(12), 1);
}

static void seed_tiny_rings(void)
{
	struct ringgen g;

	init(&g, 8, 2, 1, 8, TAT_MODE_FLIGHT);	/* 4-word rings, 8 slots */
	std_tables(&g, 5);
	for (uint32_t s = 0; s < 5; s++) {
		ringgen_thread(&g, s, 200 + s);
		calltree(&g, s, 1000 + s, 1);
	}
	save(&g, "seed-14-tiny-rings", K_GONE | K_REPORT, 1);
}

static void seed_fail_write(void)
{
	struct ringgen g;

	init(&g, 2, 7, 1, 8, TAT_MODE_DISCARD);
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 1);
	ringgen_thread(&g, 1, 2);
	calltree(&g, 0, 1000, 3);
	calltree(&g, 1, 1001, 3);
	save(&g, "seed-15-output-fails",
	     K_FAIL_WRITE | K_FAIL_AFTER(20) | K_SESSION | K_REPORT, 1);
}

static void seed_real_layout(void)
{
	struct ringgen g;

	init(&g, 2, 6, 2, 16, TAT_MODE_DISCARD);
	std_tables(&g, 5);
	ringgen_add_module(&g, "/usr/lib/tattach-fuzz/libc.so.6", 0x7ffff7d80000ull);
	ringgen_add_site(&g, 1, 0x7ffff7d80000ull + 0x29000);
	ringgen_thread(&g, 0, 4000);
	ringgen_thread(&g, 1, 4001);
	calltree(&g, 0, 77, 1);
	ringgen_entry(&g, 1, 6, 80);
	ringgen_exit(&g, 1, 6, 99);
	save(&g, "seed-16-page-layout", K_SESSION | K_TIME(1), 0);
}

static void seed_clock_mono(void)
{
	struct ringgen g;

	/* The event clock is CLOCK_MONOTONIC in ns (no invariant TSC). */
	init(&g, 1, 7, 1, 8, TAT_MODE_DISCARD);
	g.hdr->clock = TAT_CLOCK_MONO;
	g.hdr->tsc_hz = 1000000000ull;
	g.hdr->calib_mono_ns = 86400ull * 1000000000ull;
	g.hdr->calib_tsc = g.hdr->calib_mono_ns;
	std_tables(&g, 5);
	ringgen_thread(&g, 0, 321);
	calltree(&g, 0, g.hdr->calib_mono_ns - 5000, 2);	/* before calibration */
	calltree(&g, 0, g.hdr->calib_mono_ns + 1000000, 2);
	save(&g, "seed-17-clock-mono", K_TIME(4) | K_SESSION, 1);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	seed_calltree();
	seed_threads();
	seed_unwind();
	seed_flight();
	seed_full();
	seed_retid();
	seed_tsc_carry();
	seed_chunk_time();
	seed_modules();
	seed_sites();
	seed_bad_words();
	seed_deep();
	seed_tails();
	seed_tiny_rings();
	seed_fail_write();
	seed_real_layout();
	seed_clock_mono();
	return failures ? 1 : 0;
}
