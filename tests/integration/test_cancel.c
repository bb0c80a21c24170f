// SPDX-License-Identifier: MIT
/*
 * pthread_cancel() of a C++ thread blocked in read() three traced frames
 * deep (tests/targets/cancelxx.cc, g++ -pg).  glibc unwinds it with
 * libgcc_s's _Unwind_ForcedUnwind, reached through a pointer: tattach
 * patches that function's entry (attach/frames/forced_hook.c) so the
 * thread's hijacked return addresses are put back first, as for
 * pthread_exit().  Every destructor and the catch (...) must run, as
 * untraced, the thread must end cancelled, the frames must be closed as
 * unwound in the graph, and --disable must put the entry's bytes back
 * exactly as in the file.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

#define ENTRY_LEN 16

static uint64_t forced_addr(struct target *t)
{
	uint64_t a = 0;

	cr_assert_eq(sscanf(target_cmd(t, "forced"), "forced %" SCNx64, &a), 1);
	cr_assert_neq(a, 0);
	return a;
}

/* The first bytes at @addr in the process's memory. */
static void mem_bytes(pid_t pid, uint64_t addr, uint8_t *b)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, b, ENTRY_LEN, (off_t)addr), ENTRY_LEN);
	close(fd);
}

/* The same bytes in the file mapped there (/proc/PID/maps: start, offset). */
static void file_bytes(pid_t pid, uint64_t addr, uint8_t *b)
{
	char path[64], line[512], file[300] = "";
	uint64_t lo, hi, off = 0, where = 0;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %299s", &lo, &hi,
			   &off, file) == 4 && addr >= lo && addr < hi) {
			where = addr - lo + off;
			break;
		}
	fclose(f);
	cr_assert(strstr(file, "libgcc_s"), "%#" PRIx64 " is in %s", addr, file);
	fd = open(file, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, b, ENTRY_LEN, (off_t)where), ENTRY_LEN);
	close(fd);
}

static size_t occurrences(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(cancel, cxx_destructors_run_above_traced_frames_and_entry_goes_back, .timeout = 120)
{
	uint8_t in_file[ENTRY_LEN], in_mem[ENTRY_LEN];
	char *out = NULL, *err = NULL, *got, untraced[64];
	struct target t;
	uint64_t addr;
	int tids[8];

	target_start(&t, build_path("tests/targets/cancelxx"));
	ring_remove(t.pid);
	snprintf(untraced, sizeof(untraced), "%s", target_cmd(&t, "cancel"));
	cr_assert_str_eq(untraced, "done 3 1 canceled");	/* the target works at all */
	addr = forced_addr(&t);
	file_bytes(t.pid, addr, in_file);
	mem_bytes(t.pid, addr, in_mem);
	cr_assert_arr_eq(in_mem, in_file, ENTRY_LEN);

	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	/* patched: not the file's bytes any more */
	mem_bytes(t.pid, addr, in_mem);
	cr_assert(memcmp(in_mem, in_file, ENTRY_LEN), "_Unwind_ForcedUnwind not patched");
	/* every destructor runs, as untraced; the process lives on */
	cr_assert_str_eq(target_cmd(&t, "cancel"), untraced);
	cr_assert_str_eq(target_cmd(&t, "cancel"), untraced);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	mem_bytes(t.pid, addr, in_mem);
	cr_assert_arr_eq(in_mem, in_file, ENTRY_LEN, "entry not put back at --disable");

	/* each cancelled thread: its four frames closed as unwound when the
	 * forced unwind starts, then the three destructors, innermost first */
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_eq(graph_tids(out, tids, 8), 3, "%s", out);
	for (int i = 1; i < 3; i++) {
		got = graph_canon(out, tids[i]);
		cr_assert_str_eq(got, "_ZL13cancel_threadPv(_ZL12cancel_outerv("
				      "_ZL13cancel_middlev(_ZL12cancel_innerv()))) "
				      "_ZN7counterD1Ev _ZN7counterD1Ev _ZN7counterD1Ev",
				 "%s", out);
		free(got);
	}
	cr_assert_eq(occurrences(out, "/* unwound */"), 2 * 4, "%s", out);
	cr_assert_null(strstr(out, "exit lost"), "%s", out);
	free(out);
	free(err);

	/* still as untraced after --disable, and a later --enable hooks again */
	cr_assert_str_eq(target_cmd(&t, "cancel"), untraced);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	mem_bytes(t.pid, addr, in_mem);
	cr_assert(memcmp(in_mem, in_file, ENTRY_LEN), "not patched again at --enable");
	cr_assert_str_eq(target_cmd(&t, "cancel"), untraced);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	mem_bytes(t.pid, addr, in_mem);
	cr_assert_arr_eq(in_mem, in_file, ENTRY_LEN, "entry not put back the second time");
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
}
