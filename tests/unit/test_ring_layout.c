// SPDX-License-Identifier: MIT
/*
 * The regions of the ring file that stats mode, the frames in flight and
 * the argument specs (tattach -A/-R) add: where tattach puts them, and the memory bound docs/ring-format.md
 * states ("Memory": 45 MiB for 10 000 functions and 64 threads).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/ring/ringfile.h"

static char dir[] = "/tmp/tattach-layout.XXXXXX";

static void setup(void)
{
	cr_assert(mkdtemp(dir));
	setenv("TATTACH_RING_DIR", dir, 1);
}

static void teardown(void)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/tattach-%d.ring", dir, (int)getpid());
	unlink(path);
	rmdir(dir);
}

TestSuite(ring_layout, .init = setup, .fini = teardown);

/* tattach's geometry for 10 000 functions: site_cap is the next power of
 * two above 2 x sites + 4096 (attach/session.c). */
Test(ring_layout, ten_thousand_functions_and_64_threads_fit_in_45_MiB)
{
	struct ring_geometry geo = { .max_threads = 64, .ring_shift = 17,
				     .site_cap = 32768, .module_cap = 64 };
	const struct tat_ring_header *h;
	struct ringfile rf;
	uint64_t stats_bytes;

	cr_assert_eq(ringfile_create(getpid(), 1, getuid(), getgid(), &geo, &rf), 0);
	h = rf.hdr;
	cr_assert_eq(h->frames_off, h->data_off + (64ull << (17 + 3)), "right after the rings");
	cr_assert_eq(h->frames_per_thread, TAT_FRAMES_MAX);
	cr_assert_eq(h->stats_index_off - h->frames_off, 64ull * 1024 * 16);	/* 1 MiB */
	cr_assert_eq(h->stats_shared_off - h->stats_index_off, 64ull * 32768 * 4); /* 8 MiB */
	cr_assert_eq(h->stats_off - h->stats_shared_off, 32768ull * 384);	/* 12 MiB */
	cr_assert_eq(h->stats_cap, TAT_STATS_POOL);
	cr_assert_eq(h->args_off - h->stats_off, 65536ull * 384);		/* 24 MiB */
	/* tattach -A/-R: one 32-byte tat_argspec per site, last */
	cr_assert_eq(h->file_size - h->args_off, 32768ull * 32);		/* 1 MiB */
	stats_bytes = h->args_off - h->frames_off;
	cr_assert_eq(stats_bytes, 47185920, "%llu", (unsigned long long)stats_bytes);
	cr_assert_leq(stats_bytes, 64ull << 20);
	cr_assert_eq(h->stats_used, 0);
	cr_assert_eq(h->max_depth, 0);
	ringfile_close(&rf);
}

/* Few threads and sites: the pool is no bigger than every pair. */
Test(ring_layout, small_geometry_pool_is_threads_times_sites)
{
	struct ring_geometry geo = { .max_threads = 2, .ring_shift = 10,
				     .site_cap = 4096, .module_cap = 4 };
	struct ringfile rf;

	cr_assert_eq(ringfile_create(getpid(), 1, getuid(), getgid(), &geo, &rf), 0);
	cr_assert_eq(rf.hdr->stats_cap, 8192);
	cr_assert_eq(rf.hdr->file_size % 4096, 0);
	cr_assert_eq(rf.hdr->file_size, rf.size);
	ringfile_close(&rf);
}

/* Register @n sites of @kind for module @m at the end of the site table;
 * @own: they are the module's own (-pg) sites, as register_module() puts
 * them.  Returns the first one's index. */
static uint32_t add_sites(struct ringfile *rf, uint32_t m, unsigned kind, uint32_t n, int own)
{
	struct tat_ring_header *h = rf->hdr;
	struct tat_module *tm = &ringfile_modules(rf)[m];
	uint32_t first = h->site_count;

	if (m >= h->module_count)
		h->module_count = m + 1;
	if (own) {
		tm->first_site = first;
		tm->site_count = n;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct tat_site *s = &ringfile_sites(rf)[first + i];

		s->addr = 0x1000 * (m + 1) + i;
		s->module = m;
		s->kind = (uint8_t)kind;
	}
	h->site_count += n;
	return first;
}

/*
 * ringfile_site_run() steps over each module's own sites when it looks
 * for library calls or entries (a stop at 100 000 sites need not read
 * them): it must still find every run, wherever it was registered, the
 * one right after a module's own sites too, and a module's without any.
 */
Test(ring_layout, site_runs_are_found_past_the_modules_own_sites)
{
	struct ring_geometry geo = { .max_threads = 2, .ring_shift = 10,
				     .site_cap = 4096, .module_cap = 4 };
	struct ringfile rf;
	struct { uint32_t module; unsigned kind; uint32_t first, count; } want[10];
	size_t n = 0;
	uint32_t count;

	cr_assert_eq(ringfile_create(getpid(), 1, getuid(), getgid(), &geo, &rf), 0);
#define RUN(m, k, c, own) \
	want[n++] = (typeof(want[0])){ m, k, add_sites(&rf, m, k, c, own), c }
	RUN(0, TAT_SITE_MCOUNT, 5, 1);
	RUN(1, TAT_SITE_FENTRY, 3, 1);
	RUN(0, TAT_SITE_LIBCALL, 2, 0);
	RUN(1, TAT_SITE_ENTRY, 4, 0);
	RUN(2, TAT_SITE_MCOUNT, 2, 1);
	RUN(2, TAT_SITE_LIBCALL, 3, 0);		/* right after module 2's own */
	RUN(3, TAT_SITE_MCOUNT, 0, 1);		/* no site of its own */
	RUN(3, TAT_SITE_LIBCALL, 2, 0);
#undef RUN
	for (size_t i = 0; i < n; i++) {
		uint32_t first = ringfile_site_run(&rf, want[i].module, want[i].kind, &count);

		cr_assert_eq(first, want[i].count ? want[i].first : 0, "run %zu", i);
		cr_assert_eq(count, want[i].count, "run %zu", i);
	}
	cr_assert_eq(ringfile_site_run(&rf, 0, TAT_SITE_ENTRY, &count), 0);
	cr_assert_eq(count, 0);
	cr_assert_eq(ringfile_site_run(&rf, 1, TAT_SITE_LIBCALL, &count), 0);
	ringfile_close(&rf);
}
