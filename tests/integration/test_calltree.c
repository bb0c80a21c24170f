// SPDX-License-Identifier: MIT
/*
 * End to end, in every compile mode: start calltree, enable, drive an
 * exactly known workload, disable, and compare tread's call tree with the
 * one the workload must make.  Also checks the bytes left at every site.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "attach/tramp/tramp_abi.h"
#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

struct mode {
	char name[32];
};

static const char *const modes[] = {
	"pg.O0", "pg.O2", "pg-nopie.O0", "pg-nopie.O2", "fentry.O0", "fentry.O2",
	"fentry-nopie.O0", "fentry-nopie.O2", "nop-mcount.O0", "nop-mcount.O2",
	"record-mcount.O0", "record-mcount.O2", "pfe.O0", "pfe.O2",
};

ParameterizedTestParameters(calltree, modes)
{
	static struct mode params[sizeof(modes) / sizeof(modes[0])];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		snprintf(params[i].name, sizeof(params[i].name), "%s", modes[i]);
	return cr_make_param_array(struct mode, params, sizeof(params) / sizeof(params[0]));
}

static char *expect_dispatch_work(long n)
{
	char *w = expect_work(n), *s = NULL;

	str_append(&s, "dispatch(");
	str_append(&s, w);
	str_append(&s, ")");
	free(w);
	return s;
}

static char *expect_thread(long n)
{
	char *w = expect_work(n), *s = NULL;

	str_append(&s, "thread_main(");
	str_append(&s, w);
	str_append(&s, ")");
	free(w);
	return s;
}

/* Where the call or jmp at @at (its bytes @b) goes. */
static uint64_t rel_target(uint64_t at, const unsigned char *b)
{
	int32_t rel;

	memcpy(&rel, b + 1, 4);
	return at + 5 + (int64_t)rel;
}

static int in_tramp(const struct tat_ring_header *h, uint64_t a)
{
	for (uint32_t k = 0; k < h->tramp_count && k < TAT_TRAMP_MAX; k++)
		if (a >= h->tramp_addr[k] && a < h->tramp_addr[k] + h->tramp_size)
			return 1;
	return 0;
}

/*
 * Every site of the ring holds @want (5 bytes) in the live process; or,
 * @enabled, the call of a trampoline copy, or the jmp to its stub in one
 * (tramp_abi.h: a fentry or patchable-entry site's calls its body, a -pg
 * site's primes the return), but with CALLS_ONLY
 * (TATTACH_CALL_THROUGH=0) always the call.
 */
#define CALLS_ONLY 2
static void assert_stub(int memfd, const struct tat_ring_header *h, uint32_t i,
			const struct tat_site *s, uint64_t at)
{
	unsigned char stub[TP_CT_STUB];

	cr_assert(in_tramp(h, at), "site %u jumps to %#lx", i, at);
	cr_assert(pread(memfd, stub, sizeof(stub), at) == sizeof(stub));
	cr_assert(stub[0] == 0xe8 && in_tramp(h, rel_target(at, stub)),
		  "stub of site %u: %02x", i, stub[0]);
	cr_assert(stub[10] == 0xe9 && in_tramp(h, rel_target(at + 10, stub + 10)),
		  "stub of site %u: %02x at +10", i, stub[10]);
	if (s->kind == TAT_SITE_FENTRY) {
		/* call (the entry), call site + 5, jmp (the exit) */
		cr_assert(stub[5] == 0xe8 && rel_target(at + 5, stub + 5) == s->addr + 5,
			  "stub of site %u does not call its body", i);
	} else {
		/* call (the entry), call +15, jmp (the exit), movb
		 * $0,(%rsp) (spoil the copy of the landing), lea
		 * 8(%rsp),%rsp, jmp site + 5 */
		static const unsigned char spoil_drop[9] = {
			0xc6, 0x04, 0x24, 0x00, 0x48, 0x8d, 0x64, 0x24, 0x08,
		};

		cr_assert(stub[5] == 0xe8 && rel_target(at + 5, stub + 5) == at + 15,
			  "stub of -pg site %u does not prime its return", i);
		cr_assert(memcmp(stub + 15, spoil_drop, 9) == 0, "stub of -pg site %u at +15", i);
		cr_assert(stub[TP_PG_BODY] == 0xe9 &&
			  rel_target(at + TP_PG_BODY, stub + TP_PG_BODY) == s->addr + 5,
			  "stub of -pg site %u does not go on into its body", i);
	}
}

static void assert_sites_hold(pid_t pid, const unsigned char *want, int enabled)
{
	char path[128];
	struct tat_ring_header h;
	int fd, memfd;

	snprintf(path, sizeof(path), "/dev/shm/tattach-%d.ring", (int)pid);
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "no ring file %s", path);
	cr_assert(pread(fd, &h, sizeof(h), 0) == sizeof(h));
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	memfd = open(path, O_RDONLY);
	cr_assert(memfd >= 0);
	cr_assert_gt(h.site_count, 1);
	for (uint32_t i = 1; i < h.site_count; i++) {
		struct tat_site s;
		unsigned char cur[8];

		cr_assert(pread(fd, &s, sizeof(s), h.site_off + i * sizeof(s)) == sizeof(s));
		cr_assert(pread(memfd, cur, s.len, s.addr) == s.len);
		if (enabled == 1) {
			cr_assert_eq(cur[0], 0xe9, "site %u at %#lx is not a jmp", i, s.addr);
			assert_stub(memfd, &h, i, &s, rel_target(s.addr, cur));
		} else if (enabled) {
			cr_assert_eq(cur[0], 0xe8, "site %u at %#lx is not a call", i, s.addr);
			cr_assert(in_tramp(&h, rel_target(s.addr, cur)), "site %u", i);
		} else {
			cr_assert(memcmp(cur, want, 5) == 0,
				  "site %u at %#lx holds %02x %02x %02x %02x %02x", i, s.addr,
				  cur[0], cur[1], cur[2], cur[3], cur[4]);
		}
		if (s.len == 6)
			cr_assert_eq(cur[5], 0x90);
		cr_assert_eq(s.patched, enabled != 0);
	}
	close(memfd);
	close(fd);
}

ParameterizedTest(struct mode *m, calltree, modes, .timeout = 120)
{
	static const unsigned char nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	char bin[64], *out = NULL, *err = NULL, *got, *want;
	struct target t;
	int tids[16];
	size_t nt;

	snprintf(bin, sizeof(bin), "tests/targets/calltree.%s", m->name);
	target_start(&t, build_path(bin));
	ring_remove(t.pid);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");	/* before: not traced */

	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "enable: %s", err);
	assert_sites_hold(t.pid, NULL, 1);
	cr_assert_str_eq(target_cmd(&t, "run 5"), "done");
	cr_assert_str_eq(target_cmd(&t, "mt 8 3"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "disable: %s", err);
	assert_sites_hold(t.pid, nop5, 0);
	cr_assert_str_eq(target_cmd(&t, "run 7"), "done");	/* after: not traced */

	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "tread: %s", err);
	got = graph_canon(out, t.pid);
	want = expect_dispatch_work(5);
	str_append(&want, " dispatch(run_threads)");
	cr_assert_str_eq(got, want, "main thread of %s:\n%s", m->name, out);
	nt = graph_tids(out, tids, 16);
	cr_assert_eq(nt, 9, "expected 9 threads, saw %zu:\n%s", nt, out);
	free(want);
	want = expect_thread(3);
	for (size_t i = 0; i < nt; i++) {
		if (tids[i] == t.pid)
			continue;
		free(got);
		got = graph_canon(out, tids[i]);
		cr_assert_str_eq(got, want, "thread %d of %s", tids[i], m->name);
	}
	cr_assert_eq(graph_count_calls(out, "leaf"), 3 * 5 + 8 * 3 * 3);
	/* One stack per thread: no switch.  Each command's dispatch() starts
	 * with no traced frame open, the fast path's root call, which must
	 * stay on the thread's stack as place_call() would. */
	cr_assert_null(strstr(out, "/* stack "), "a stack switch in %s:\n%s", m->name, out);

	/* reading does not consume: the same again */
	{
		char *again = NULL;

		cr_assert_eq(tread(t.pid, "", &again, NULL), 0);
		cr_assert_str_eq(again, out);
		free(again);
	}
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	free(got);
	free(want);
	free(out);
	free(err);
}

/*
 * TATTACH_CALL_THROUGH=0: patchable-entry and -pg sites call the
 * trampoline; a --disable then (which plans jumps to stubs, and knows the
 * call too) and an --enable without it: jumps.  The trace is the same.
 */
static void call_through_off_then_on(const char *bin)
{
	static const unsigned char nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	char *out = NULL, *err = NULL, *got, *want = NULL, *w;
	struct target t;

	target_start(&t, build_path(bin));
	ring_remove(t.pid);
	setenv("TATTACH_CALL_THROUGH", "0", 1);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s: %s", bin, err);
	unsetenv("TATTACH_CALL_THROUGH");
	assert_sites_hold(t.pid, NULL, CALLS_ONLY);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s: %s", bin, err);
	assert_sites_hold(t.pid, nop5, 0);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s: %s", bin, err);
	assert_sites_hold(t.pid, NULL, 1);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s: %s", bin, err);
	assert_sites_hold(t.pid, nop5, 0);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");	/* not traced */

	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	w = expect_dispatch_work(2);
	str_append(&want, w);
	free(w);
	str_append(&want, " ");
	w = expect_dispatch_work(3);
	str_append(&want, w);
	free(w);
	cr_assert_str_eq(got, want, "%s:\n%s", bin, out);
	free(got);
	free(want);
	free(out);
	free(err);
	target_stop(&t);
	ring_remove(t.pid);
}

Test(calltree, call_through_off_then_on, .timeout = 60)
{
	call_through_off_then_on("tests/targets/calltree.pfe.O2");
	call_through_off_then_on("tests/targets/calltree.pg.O2");
}

/* --enable twice, --disable twice, enable again: same ring, more events. */
Test(calltree, reenable, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got, *want = NULL, *w;
	struct target t;

	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "already enabled"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "already disabled"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 4"), "done");
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	w = expect_dispatch_work(1);
	str_append(&want, w);
	free(w);
	w = expect_dispatch_work(2);
	str_append(&want, " ");
	str_append(&want, w);
	free(w);
	cr_assert_str_eq(got, want, "%s", out);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "enables:      2, disables: 2"), "%s", out);
	target_stop(&t);
	ring_remove(t.pid);
}
