// SPDX-License-Identifier: MIT
/*
 * The export model built by the collector (consumer/export/collect.c), from
 * synthetic ring files whose sites point into the real calltree binary:
 * names, CLOCK_REALTIME times, balancing and merging, event by event.
 * 1 GHz TSC: one tick is one nanosecond; ringgen's calibration puts tick
 * 0 at 1700000000 s on CLOCK_REALTIME.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/export/collect.h"
#include "consumer/export/merged_graph.h"
#include "lib/ringgen.h"

#define T1 1234
#define T2 5678
#define EPOCH_NS (1700000000ull * 1000000000ull)

static uint32_t S[RG_NFUNCS];
static char dir[] = "/tmp/test_collect.XXXXXX";
static char paths[4][128];

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	for (int i = 0; i < 4; i++)
		if (paths[i][0])
			unlink(paths[i]);
	rmdir(dir);
}

TestSuite(collect, .init = make_dir, .fini = remove_dir);

static void setup_with(struct ringgen *g, const struct ringgen_config *cfg)
{
	cr_assert_eq(ringgen_init(g, cfg), 0);
	if (ringgen_calltree(g, 0, S))
		cr_skip_test("calltree.pg.O2 not built: run 'make targets'");
	ringgen_thread(g, 0, T1);
}

static void setup(struct ringgen *g, int32_t pid)
{
	struct ringgen_config cfg = { .pid = pid };

	setup_with(g, &cfg);
}

static const char *save(struct ringgen *g, int n)
{
	snprintf(paths[n], sizeof(paths[n]), "%s/%d.ring", dir, n);
	cr_assert_eq(ringgen_write_file(g, paths[n]), 0);
	ringgen_free(g);
	return paths[n];
}

static struct tread_xtrace *collect(const char *const *in, size_t n, int32_t tid,
				    struct tread_collect_stats *st)
{
	struct tread_collect_config c = { .inputs = in, .ninputs = n, .tid = tid };
	struct tread_xtrace *x = NULL;
	char err[512] = "";

	cr_assert_eq(tread_collect(&c, &x, st, err, sizeof(err)), 0, "%s", err);
	return x;
}

/*
 * The events as text: "+name@ns" entry, "-name@ns" exit ("~" synthetic,
 * "^" unwound), "!N@ns" a loss; ns relative to EPOCH_NS, tid after '/'
 * when @tids.
 */
static char *events_text(const struct tread_xtrace *x, bool tids)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];
		const char *name = e->kind == TREAD_X_LOST ? "" : x->funcs[e->func].name;
		char mark = e->kind == TREAD_X_ENTRY ? '+' :
			    e->kind == TREAD_X_LOST ? '!' :
			    e->synthetic ? '~' : e->unwound ? '^' : '-';

		if (e->kind == TREAD_X_LOST)
			fprintf(f, "%s!%llu@%llu", i ? " " : "", (unsigned long long)e->count,
				(unsigned long long)(e->real_ns - EPOCH_NS));
		else
			fprintf(f, "%s%c%s@%llu", i ? " " : "", mark, name,
				(unsigned long long)(e->real_ns - EPOCH_NS));
		if (tids)
			fprintf(f, "/%d", x->threads[e->thread].tid);
	}
	fclose(f);
	return text;
}

Test(collect, names_times_and_depths)
{
	struct ringgen g;
	const char *in[1];
	struct tread_xtrace *x;
	char *t;

	setup(&g, 0x7ffffff0);
	ringgen_entry(&g, 0, S[RG_WORK], 100);
	ringgen_entry(&g, 0, S[RG_A], 110);
	ringgen_entry(&g, 0, S[RG_LEAF], 120);
	ringgen_exit(&g, 0, S[RG_LEAF], 125);
	ringgen_exit(&g, 0, S[RG_A], 130);
	ringgen_exit(&g, 0, S[RG_WORK], 200);
	in[0] = save(&g, 0);
	x = collect(in, 1, 0, NULL);

	t = events_text(x, false);
	cr_assert_str_eq(t, "+work@100 +a@110 +leaf@120 -leaf@125 -a@130 -work@200");
	free(t);
	cr_assert_eq(x->nprocs, 1);
	cr_assert_eq(x->procs[0].pid, 0x7ffffff0);
	cr_assert_eq(x->procs[0].calib_real_ns, EPOCH_NS);
	cr_assert_eq(x->nthreads, 1);
	cr_assert_eq(x->threads[0].tid, T1);
	cr_assert_eq(x->nfuncs, 3);
	/* depth: calls open before an entry; an exit has its entry's */
	cr_assert_eq(x->events[2].depth, 2);
	cr_assert_eq(x->events[3].depth, 2);
	cr_assert_eq(x->events[5].depth, 0);
	/* the site address and module of each function */
	cr_assert_str_eq(x->funcs[x->events[0].func].module, ringgen_target_path("calltree.pg.O2"));
	cr_assert_neq(x->funcs[x->events[0].func].addr, 0);
	tread_xtrace_free(x);
}

Test(collect, balancing)
{
	struct tread_collect_stats st;
	struct ringgen g;
	const char *in[1];
	struct tread_xtrace *x;
	char *t;

	setup(&g, 0x7ffffff0);
	ringgen_exit(&g, 0, S[RG_C], 90);		/* entry before tracing: dropped */
	ringgen_entry(&g, 0, S[RG_WORK], 100);
	ringgen_entry(&g, 0, S[RG_A], 110);
	ringgen_entry(&g, 0, S[RG_B], 120);		/* b's exit is lost */
	ringgen_exit(&g, 0, S[RG_A], 130);		/* closes b first */
	ringgen_entry(&g, 0, S[RG_LEAF], 140);		/* still running at the end */
	ringgen_unwind(&g, 0, 1, 150);
	ringgen_exit(&g, 0, S[RG_LEAF], 150);		/* ended by longjmp */
	ringgen_entry(&g, 0, S[RG_C], 160);		/* open at the end */
	in[0] = save(&g, 0);
	x = collect(in, 1, 0, &st);

	t = events_text(x, false);
	cr_assert_str_eq(t, "+work@100 +a@110 +b@120 ~b@130 -a@130 +leaf@140 ^leaf@150 "
			 "+c@160 ~c@160 ~work@160");
	free(t);
	cr_assert_eq(st.unmatched_exits, 1);
	cr_assert_eq(st.synthetic_exits, 3);
	tread_xtrace_free(x);
}

Test(collect, a_new_owner_closes_the_slot)
{
	struct ringgen g;
	const char *in[1];
	struct tread_xtrace *x;
	char *t;

	setup(&g, 0x7ffffff0);
	ringgen_entry(&g, 0, S[RG_WORK], 100);
	ringgen_retid(&g, 0, T2);	/* closed at the old owner's last time */
	ringgen_entry(&g, 0, S[RG_A], 300);
	ringgen_exit(&g, 0, S[RG_A], 310);
	in[0] = save(&g, 0);
	x = collect(in, 1, 0, NULL);

	t = events_text(x, true);
	cr_assert_str_eq(t, "+work@100/1234 ~work@100/1234 +a@300/5678 -a@310/5678");
	free(t);
	cr_assert_eq(x->nthreads, 2);
	tread_xtrace_free(x);
}

Test(collect, tid_filter_and_losses)
{
	struct ringgen_config cfg = { .pid = 0x7ffffff0, .ring_shift = 10 };
	struct ringgen g;
	const char *in[1];
	struct tread_xtrace *x;
	char *t;

	setup_with(&g, &cfg);
	ringgen_thread(&g, 1, T2);
	ringgen_entry(&g, 1, S[RG_B], 105);
	ringgen_exit(&g, 1, S[RG_B], 106);
	/* fill T1's ring: the rest is dropped and reported as lost */
	for (uint64_t i = 0; i < 600; i++) {
		ringgen_entry(&g, 0, S[RG_LEAF], 1000 + 2 * i);
		ringgen_exit(&g, 0, S[RG_LEAF], 1001 + 2 * i);
	}
	in[0] = save(&g, 0);
	x = collect(in, 1, T2, NULL);
	t = events_text(x, true);
	cr_assert_str_eq(t, "+b@105/5678 -b@106/5678");
	free(t);
	tread_xtrace_free(x);

	x = collect(in, 1, T1, NULL);
	t = events_text(x, false);
	/* 1024 positions: TID, TIME, TIME at 512 and 1021 events; the 179
	 * dropped after are told at the end, then leaf's lost exit is made */
	cr_assert_str_eq(t + strlen(t) - 42, "-leaf@2019 +leaf@2020 !179@2020 ~leaf@2020");
	free(t);
	for (size_t i = 0; i < x->nevents; i++)
		cr_assert_eq(x->threads[x->events[i].thread].tid, T1);
	tread_xtrace_free(x);
}

/* Two processes; the second's calibration says its tick 0 is @shift_ns
 * later on the wall clock than the first's says. */
static char *two_processes(uint64_t shift_ns)
{
	struct ringgen g;
	const char *in[2];
	struct tread_xtrace *x;
	char *t;

	setup(&g, 0x7ffffff0);
	ringgen_entry(&g, 0, S[RG_A], 100);
	ringgen_exit(&g, 0, S[RG_A], 300);
	in[0] = save(&g, 0);
	setup(&g, 0x7ffffff1);
	ringgen_thread(&g, 0, T2);
	ringgen_entry(&g, 0, S[RG_B], 200);
	ringgen_exit(&g, 0, S[RG_B], 250);
	g.hdr->calib_real_ns += shift_ns;
	in[1] = save(&g, 1);
	x = collect(in, 2, 0, NULL);
	t = events_text(x, true);
	cr_assert_eq(x->nprocs, 2);
	for (size_t i = 0; i < x->nevents; i++) {
		cr_assert_eq(x->threads[x->events[i].thread].proc,
			     x->threads[x->events[i].thread].tid == T2);
		cr_assert_eq(x->funcs[x->events[i].func].proc,
			     x->threads[x->events[i].thread].tid == T2);
	}
	tread_xtrace_free(x);
	return t;
}

Test(collect, one_machine_one_clock)
{
	/* Calibrations 1 us apart: the same TSC, measured twice.  The
	 * first one's conversion dates both, so they interleave exactly. */
	char *t = two_processes(1000);

	cr_assert_str_eq(t, "+a@100/1234 +b@200/5678 -b@250/5678 -a@300/1234");
	free(t);
}

Test(collect, other_machines_by_their_wall_clocks)
{
	/* 20 ms apart: not one clock (another machine, or boot); each
	 * trace is dated by its own calibration. */
	char *t = two_processes(20000000);

	cr_assert_str_eq(t, "+a@100/1234 -a@300/1234 +b@20000200/5678 -b@20000250/5678");
	free(t);
}

Test(collect, the_same_process_twice_is_refused)
{
	struct tread_collect_config c = { .ninputs = 2 };
	struct ringgen g;
	const char *in[2];
	struct tread_xtrace *x = (void *)1;
	char err[512] = "";

	setup(&g, 0x7ffffff0);
	in[0] = save(&g, 0);
	setup(&g, 0x7ffffff0);
	in[1] = save(&g, 1);
	c.inputs = in;
	cr_assert_eq(tread_collect(&c, &x, NULL, err, sizeof(err)), -EINVAL);
	cr_assert_null(x);
	cr_assert_not_null(strstr(err, "are traces of the same process (pid 2147483632)"),
			   "%s", err);
	cr_assert_null(strchr(err, '\n'));
}

/* Save @g under @name in the test folder, as paths[@n]. */
static const char *save_as(struct ringgen *g, int n, const char *name)
{
	snprintf(paths[n], sizeof(paths[n]), "%s/%s", dir, name);
	cr_assert_eq(ringgen_write_file(g, paths[n]), 0);
	ringgen_free(g);
	return paths[n];
}

/*
 * The ring kept of a program a process ran before an exec
 * (tattach-PID.START.imageN.ring) and the ring of its current program:
 * the same pid and start time, yet two processes of the model, told
 * apart by the image number that the file name gives, and in the merged
 * graph by "PID:N".
 */
Test(collect, an_earlier_program_and_the_current_one_are_told_apart)
{
	struct ringgen g;
	const char *in[2];
	struct tread_xtrace *x;
	char *t, *graph = NULL;
	size_t len = 0;
	FILE *f;

	setup(&g, 0x7ffffff0);
	ringgen_entry(&g, 0, S[RG_A], 100);
	ringgen_exit(&g, 0, S[RG_A], 300);
	in[0] = save_as(&g, 0, "tattach-2147483632.99.image1.ring");
	setup(&g, 0x7ffffff0);
	ringgen_entry(&g, 0, S[RG_B], 400);
	ringgen_exit(&g, 0, S[RG_B], 450);
	in[1] = save_as(&g, 1, "tattach-2147483632.ring");
	x = collect(in, 2, 0, NULL);
	cr_assert_eq(x->nprocs, 2);
	cr_assert_eq(x->procs[0].image, 1);
	cr_assert_eq(x->procs[1].image, 0);
	cr_assert_eq(x->procs[0].pid, x->procs[1].pid);
	t = events_text(x, false);
	cr_assert_str_eq(t, "+a@100 -a@300 +b@400 -b@450");
	free(t);

	f = open_memstream(&graph, &len);
	cr_assert_eq(tread_merged_graph_print(x, NULL, TREAD_TIME_NONE, f), 0);
	fclose(f);
	cr_assert(strstr(graph, "# process 2147483632:1 (calltree.pg.O2) ") &&
		  strstr(graph, "calltree.pg.O2 (pid 2147483632 ran it before an exec: "
			 "image 1)\n# process 2147483632 (calltree.pg.O2) "), "%s", graph);
	/* the PID column as wide as its widest label */
	cr_assert(strstr(graph, "\n# DURATION              PID     TID     FUNCTION\n"
			 "     0.200 us 2147483632:1 [  1234] | a();\n"
			 "     0.050 us   2147483632 [  1234] | b();\n"), "%s", graph);
	free(graph);
	tread_xtrace_free(x);
}

Test(collect, a_bad_input_is_named)
{
	struct tread_collect_config c = { .ninputs = 1 };
	const char *in[1] = { "/nonexistent/x.ring" };
	struct tread_xtrace *x;
	char err[512] = "";

	c.inputs = in;
	cr_assert_eq(tread_collect(&c, &x, NULL, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "/nonexistent/x.ring: No such file or directory");
}

/*
 * A gap in the middle of what is read (a full discard ring that a
 * tread -f consumed in part): work() { a@1000 { a@1500 { were open before
 * it; in it, a@1500 returned and another a() began.  Only work() is in
 * flight in the file: a@1000 and a@1500 end at the gap (synthetic), and
 * the two exits of a() read after it close neither with a time that is
 * not theirs; work() stays open to the end.
 */
Test(collect, a_gap_ends_the_calls_no_longer_in_flight)
{
	struct ringgen_config cfg = { .pid = 0x7ffffff0, .ring_shift = 4, .frames = 8 };
	const uint64_t T = 1ull << 40;		/* a TIME record before work() */
	uint32_t work_site;
	uint64_t work_tsc = T;
	struct tread_collect_stats st;
	struct ringgen g;
	const char *in[1];
	struct tread_xtrace *x;
	char *t;

	setup_with(&g, &cfg);
	for (int i = 0; i < 5; i++) {		/* TID TIME + 10: read already */
		cr_assert(ringgen_entry(&g, 0, S[RG_LEAF], 10 * i));
		cr_assert(ringgen_exit(&g, 0, S[RG_LEAF], 10 * i + 5));
	}
	cr_assert(ringgen_entry(&g, 0, S[RG_WORK], T));	/* TIME + 3: full */
	cr_assert(ringgen_entry(&g, 0, S[RG_A], T + 1000));
	cr_assert(ringgen_entry(&g, 0, S[RG_A], T + 1500));
	cr_assert_not(ringgen_exit(&g, 0, S[RG_A], T + 5000));
	cr_assert_not(ringgen_entry(&g, 0, S[RG_A], T + 5100));
	ringgen_set_tail(&g, 0, 12);
	cr_assert(ringgen_exit(&g, 0, S[RG_A], T + 6000));
	cr_assert(ringgen_exit(&g, 0, S[RG_A], T + 6500));
	work_site = S[RG_WORK];
	ringgen_in_flight(&g, 0, &work_site, &work_tsc, 1);
	in[0] = save(&g, 0);
	x = collect(in, 1, 0, &st);

	t = events_text(x, false);
	cr_assert_str_eq(t, "+work@1099511627776 +a@1099511628776 +a@1099511629276 "
			 "!2@1099511633776 ~a@1099511633776 ~a@1099511633776 "
			 "~work@1099511634276", "%s", t);
	free(t);
	cr_assert_eq(st.unmatched_exits, 2);
	tread_xtrace_free(x);
}
