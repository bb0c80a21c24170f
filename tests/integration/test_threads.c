// SPDX-License-Identifier: MIT
/*
 * Threads and their rings, against tests/targets/manythreads:
 *
 *   a thread's whole ring is resident right after its first traced call
 *   (the trampoline populates it when the thread claims its slot), so no
 *   event write takes a page fault; checked with mincore() on our own
 *   mapping of the ring file, and in tattach --status;
 *
 *   1000 threads alive at once, enabled while they wait and all traced
 *   while all are alive: every thread gets a slot, and the counts are
 *   exact;
 *
 *   without -t, the ring has twice as many thread slots as the process
 *   has threads (at least 128), fewer when the ring folder is small.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

static struct target t;

static void start(void)
{
	target_start(&t, build_path("tests/targets/manythreads"));
}

static void stop(void)
{
	if (t.pid > 0)
		target_kill(&t);
}

/* Pages of [@off, @off + @len) of the ring file that are in memory. */
static size_t resident_pages(int fd, uint64_t off, uint64_t len)
{
	size_t pages = len / 4096, n = 0;
	unsigned char *vec = calloc(pages, 1);
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);

	cr_assert(vec && p != MAP_FAILED);
	cr_assert_eq(mincore(p, len, vec), 0);
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	munmap(p, len);
	free(vec);
	return n;
}

Test(threads, ring_resident_after_first_call, .init = start, .fini = stop, .timeout = 60)
{
	char path[64], *out, *err;
	struct tat_ring_header h;
	struct tat_thread_ctl ctl;
	uint64_t ring_bytes;
	int fd, slot = -1;

	cr_assert_eq(tattach(t.pid, "--enable -m discard -b 1M -t 4", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	snprintf(path, sizeof(path), "/dev/shm/tattach-%d.ring", (int)t.pid);
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "%s", path);
	cr_assert_eq(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	ring_bytes = 8ull << h.ring_shift;
	cr_assert_eq(ring_bytes, 1u << 20);
	/* Nothing traced yet: no ring is resident, but for the first page of
	 * a thread whose running calls --enable adopted (main(): tattach
	 * wrote their ENTRY events itself). */
	for (uint32_t i = 0; i < h.max_threads; i++)
		cr_assert_leq(resident_pages(fd, h.data_off + i * ring_bytes, ring_bytes), 1,
			      "ring %u resident before any call", i);

	/* A few calls write a few hundred bytes: one page without populating. */
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	for (uint32_t i = 0; i < h.max_threads; i++) {
		cr_assert_eq(pread(fd, &ctl, sizeof(ctl), h.thread_off + i * sizeof(ctl)),
			     (ssize_t)sizeof(ctl));
		if (ctl.tid == t.pid)
			slot = (int)i;
	}
	cr_assert(slot >= 0, "no slot for the main thread");
	cr_assert_eq(resident_pages(fd, h.data_off + slot * ring_bytes, ring_bytes),
		     ring_bytes / 4096, "the main thread's ring is not wholly resident");
	for (uint32_t i = 0; i < h.max_threads; i++)
		if ((int)i != slot)
			cr_assert_eq(resident_pages(fd, h.data_off + i * ring_bytes, ring_bytes), 0,
				     "ring %u of no thread is resident", i);
	close(fd);

	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "resident:") && strstr(out, "(a whole 1024 KiB ring per thread"),
		  "%s", out);
	free(out);
	free(err);
}

/* Stats mode writes no call events: its rings are not populated. */
Test(threads, stats_mode_rings_stay_sparse, .init = start, .fini = stop, .timeout = 60)
{
	char path[64], *out, *err;
	struct tat_ring_header h;
	int fd;

	cr_assert_eq(tattach(t.pid, "--enable -m stats -b 1M -t 2", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	snprintf(path, sizeof(path), "/dev/shm/tattach-%d.ring", (int)t.pid);
	fd = open(path, O_RDONLY);
	cr_assert(fd >= 0, "%s", path);
	cr_assert_eq(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	/* The main thread's TID record, written when it claims its slot,
	 * makes one page; a populated ring would be 256. */
	cr_assert_leq(resident_pages(fd, h.data_off,
				     (uint64_t)h.max_threads << (h.ring_shift + 3)), 1);
	close(fd);
}

/*
 * --status's "slot search" line, of @taken threads in @slots slots: the
 * keys read per search on average (@taken searches whose lengths are whole
 * numbers, each at least 1) and at most (at least the average, at most
 * the whole table).  tests/unit/test_slot_search.c checks the counting.
 */
static void expect_slot_search(const char *status, int taken, int slots)
{
	const char *line = strstr(status, "slot search:  ");
	const char *advice;
	double avg, total, off;
	unsigned longest, k, n;

	cr_assert(line, "%s", status);
	cr_assert_eq(sscanf(line, "slot search:  %lf slots read per search on average, %u at "
			    "most (%u of %u slots taken", &avg, &longest, &k, &n), 4, "%s", line);
	cr_assert_eq(k, (unsigned)taken, "%s", line);
	cr_assert_eq(n, (unsigned)slots, "%s", line);
	cr_assert(avg >= 1.0 && avg <= longest && longest <= (unsigned)slots, "%s", line);
	/* the average, to two places, of whole numbers of reads */
	total = avg * taken;
	off = total - (double)(long)(total + 0.5);
	cr_assert(off <= 0.005 * taken && -off <= 0.005 * taken, "%s", line);
	/* the advice comes with searches half a read longer or more */
	advice = strstr(line, "a larger -t");
	if (avg < 1.495 || avg > 1.505)
		cr_assert_eq(advice && advice < strchr(line, '\n'), avg > 1.5, "%s", line);
}

#define THREADS 1000
#define ROUNDS 50

Test(threads, thousand_threads_alive, .init = start, .fini = stop, .timeout = 120)
{
	char *out, *err, line[64];
	long calls;
	int tids = 0;

	/* All alive before the enable: tattach stops each of them. */
	snprintf(line, sizeof(line), "start %d", THREADS);
	cr_assert_str_eq(target_cmd(&t, line), "done");
	cr_assert_eq(tattach(t.pid, "--enable -b 8K -t 1024", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	snprintf(line, sizeof(line), "go %d", ROUNDS);
	cr_assert_str_eq(target_cmd(&t, line), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);

	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "0 (no thread slot)"), "%s", out);
	cr_assert(strstr(out, "dropped:      0 events (ring full)"), "%s", out);
	for (char *p = out; (p = strstr(p, "  tid ")); p++)
		tids++;
	/* The worker threads, and the main thread (its "go" is traced). */
	cr_assert_geq(tids, THREADS, "%s", out);
	expect_slot_search(out, tids, 1024);
	free(out);
	free(err);

	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	calls = report_calls(out, "work");
	cr_assert_eq(calls, THREADS, "work: %ld calls\n%s", calls, out);
	cr_assert_eq(report_calls(out, "mid"), (long)THREADS * ROUNDS);
	cr_assert_eq(report_calls(out, "leaf"), (long)THREADS * ROUNDS);
	free(out);
	free(err);
}

/*
 * tattach learns where a TCB keeps its thread's tid from the main thread
 * alone (the first --enable holds only it to inject).  A word whose high
 * half equals the pid (as a pointer into 0x7fXX... does when the pid is
 * 0x7fXX, seen once in 7000 runs with pid_max 32768) must not be taken
 * for it: the trampoline would then take every spinning thread for a new
 * one at its next call, drop the calls adopted at --enable, and crash the
 * process with ud2 when spin_main() returns into tp_return.
 */
/* Plant @decoy in the TCBs (calltree), then spin, enable and stop: the
 * ring's tid place must not be @wrong, and the spinners' adopted
 * spin_main() calls return through tattach. */
static void decoy_then_spin(const char *decoy, int32_t wrong)
{
	char *out = NULL, *err = NULL, path[300];
	const char *dir = getenv("TATTACH_RING_DIR");
	struct tat_ring_header h;
	struct target c;
	int fd;

	target_start(&c, build_path("tests/targets/calltree.pg.O2"));
	ring_remove(c.pid);
	cr_assert_str_eq(target_cmd(&c, decoy), "done");
	cr_assert_str_eq(target_cmd(&c, "spin 4"), "done");
	cr_assert_eq(tattach(c.pid, "--enable", &out, &err), 0, "%s", err);
	snprintf(path, sizeof(path), "%s/tattach-%d.ring", dir && *dir ? dir : "/dev/shm",
		 (int)c.pid);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	cr_assert_neq(h.tid_offset, wrong, "%s: the decoy was taken for the tid", decoy);
	cr_assert_neq(h.tid_offset, 0);
	cr_assert_str_eq(target_cmd(&c, "stop"), "done");
	cr_assert_str_eq(target_cmd(&c, "run 3"), "done");
	cr_assert_eq(tattach(c.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(WEXITSTATUS(target_stop(&c)), 0);
	free(out);
	free(err);
}

Test(threads, tid_place_not_fooled_by_a_pointers_high_half, .timeout = 60)
{
	decoy_then_spin("decoy", 60);
}

/* A whole 32-bit field holding the pid fools the main thread's look: the
 * stop that holds every thread learns the place again from all of them. */
Test(threads, tid_place_checked_against_every_thread, .timeout = 60)
{
	decoy_then_spin("decoy32", 64);
}

/*
 * 300 threads and no -t: 1024 slots, so that every thread gets one (the
 * default 128 left 173 of them untraced) and the table stays under half
 * full.  -t is taken as given.
 */
Test(threads, slots_for_the_threads_it_has, .init = start, .fini = stop, .timeout = 120)
{
	char *out, *err, want[128];

	cr_assert_str_eq(target_cmd(&t, "start 300"), "done");
	cr_assert_eq(tattach(t.pid, "--enable -b 64K", &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "pid %d: 1024 thread slots, for its 301 threads (-t sets "
		 "the number)\n", (int)t.pid);
	cr_assert(strstr(out, want), "%s", out);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "go 5"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "65536 bytes per thread, 1024 thread slots\n"), "%s", out);
	cr_assert(strstr(out, "threads with rings: 301 of 1024\n"), "%s", out);
	cr_assert(strstr(out, ", 0 (no thread slot)"), "%s", out);
	expect_slot_search(out, 301, 1024);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	cr_assert_eq(report_calls(out, "work"), 300, "%s", out);
	cr_assert_eq(report_calls(out, "mid"), 300 * 5);
	free(out);
	free(err);
}

Test(threads, slots_as_given_with_t, .init = start, .fini = stop, .timeout = 120)
{
	char *out, *err;

	cr_assert_str_eq(target_cmd(&t, "start 300"), "done");
	cr_assert_eq(tattach(t.pid, "--enable -b 64K -t 256", &out, &err), 0, "%s", err);
	cr_assert(!strstr(out, "thread slots"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "65536 bytes per thread, 256 thread slots\n"), "%s", out);
	free(out);
	free(err);
}

/* The slots are fixed when the ring is made: threads started after it
 * may outnumber them, and a later --enable says so. */
Test(threads, more_threads_than_slots_said_at_enable, .init = start, .fini = stop,
     .timeout = 120)
{
	char *out, *err, want[128];

	cr_assert_eq(tattach(t.pid, "--enable -b 64K", &out, &err), 0, "%s", err);
	cr_assert(!strstr(err, "thread slots"), "%s", err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(&t, "start 200"), "done");
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "warning: pid %d has 201 threads for 128 thread slots: ",
		 (int)t.pid);
	cr_assert(strstr(err, want), "%s", err);
	free(out);
	free(err);
}

/* A ring folder without room for 1024 slots of 64 KiB: as many as fit,
 * said on stderr. */
static char small_dir[] = "/tmp/tattach-slots-XXXXXX";
static int small_mounted;

static void start_small(void)
{
	cr_assert(mkdtemp(small_dir));
	small_mounted = mount("tmpfs", small_dir, "tmpfs", 0, "size=48m") == 0;
	setenv("TATTACH_RING_DIR", small_dir, 1);
	start();
}

static void stop_small(void)
{
	stop();
	unsetenv("TATTACH_RING_DIR");
	if (small_mounted)
		umount2(small_dir, MNT_DETACH);
	rmdir(small_dir);
}

Test(threads, fewer_slots_in_a_small_ring_folder, .init = start_small, .fini = stop_small,
     .timeout = 120)
{
	char *out = NULL, *err = NULL, want[160];

	if (!small_mounted)
		cr_skip_test("cannot mount a small tmpfs here");
	cr_assert_str_eq(target_cmd(&t, "start 300"), "done");
	cr_assert_eq(tattach(t.pid, "--enable -b 64K", &out, &err), 0, "%s", err);
	snprintf(want, sizeof(want), "pid %d: 512 thread slots, for its 301 threads", (int)t.pid);
	cr_assert(strstr(out, want), "%s", out);
	snprintf(want, sizeof(want), "warning: the ring folder has room for 512 thread slots, "
		 "not 1024 (twice pid %d's threads)", (int)t.pid);
	cr_assert(strstr(err, want), "%s", err);
	cr_assert_str_eq(target_cmd(&t, "go 2"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	cr_assert_eq(report_calls(out, "work"), 300, "%s", out);
	free(out);
	free(err);
}
