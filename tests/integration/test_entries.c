// SPDX-License-Identifier: MIT
/*
 * tattach --entry on programs built without -pg: calltree by gcc and
 * clang at -O0, -O2 and -O3, PIE with CET landing pads and non-PIE, gives
 * the exact call tree on 1 and 8 threads, and --disable leaves .text byte
 * for byte as in the file.  Functions that are unsafe to patch are
 * refused with their reason; bad input is one line and touches nothing.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"
#include "lib/ring_view.h"
#include "lib/tramp_scan.h"

struct variant {
	char name[32];
};

ParameterizedTestParameters(entries, compilers)
{
	static struct variant v[12];
	static const char *const cc[] = { "gcc", "clang" }, *const opt[] = { "O0", "O2", "O3" },
			  *const layout[] = { "pie-cet", "nopie" };
	size_t n = 0;

	for (int c = 0; c < 2; c++)
		for (int o = 0; o < 3; o++)
			for (int l = 0; l < 2; l++)
				snprintf(v[n++].name, sizeof(v[0].name), "%s.%s.%s", cc[c], opt[o],
					 layout[l]);
	return cr_make_param_array(struct variant, v, n);
}

static void run(pid_t pid, const char *args)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(pid, args, &out, &err), 0, "tattach %s:\n%s%s", args, out, err);
	free(out);
	free(err);
}

/* Does .text of @pid hold exactly the bytes of the file @bin? */
static int text_as_in_file(const char *bin, pid_t pid)
{
	int fd = open(bin, O_RDONLY), memfd, same;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	uint64_t addr = 0, bias = 0;
	uint8_t *file = NULL, *mem;
	unsigned long long start, off;
	char path[64], line[512];
	GElf_Ehdr eh;
	GElf_Shdr sh = { 0 };
	Elf *elf;
	FILE *maps;

	cr_assert_geq(fd, 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert(elf && gelf_getehdr(elf, &eh) && !elf_getshdrstrndx(elf, &shstrndx));
	while ((scn = elf_nextscn(elf, scn))) {
		gelf_getshdr(scn, &sh);
		if (!strcmp(elf_strptr(elf, shstrndx, sh.sh_name), ".text")) {
			Elf_Data *d = elf_getdata(scn, NULL);

			addr = sh.sh_addr;
			file = malloc(sh.sh_size);
			memcpy(file, d->d_buf, sh.sh_size);
			break;
		}
	}
	cr_assert(file, "%s: no .text", bin);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "r");
	while (eh.e_type == ET_DYN && fgets(line, sizeof(line), maps))
		if (strstr(line, strrchr(bin, '/')) &&
		    sscanf(line, "%llx-%*x %*s %llx", &start, &off) == 2 && off == 0) {
			bias = start;
			break;
		}
	fclose(maps);
	mem = malloc(sh.sh_size);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	memfd = open(path, O_RDONLY);
	cr_assert(pread(memfd, mem, sh.sh_size, addr + bias) == (ssize_t)sh.sh_size);
	same = !memcmp(mem, file, sh.sh_size);
	close(memfd);
	free(mem);
	free(file);
	elf_end(elf);
	close(fd);
	return same;
}

static char *expect_wrapped(const char *fn, long n)
{
	char *w = expect_work(n), *s = NULL;

	str_append(&s, fn);
	str_append(&s, "(");
	str_append(&s, w);
	str_append(&s, ")");
	free(w);
	return s;
}

ParameterizedTest(struct variant *v, entries, compilers, .timeout = 120)
{
	char bin[96], *out = NULL, *err = NULL, *got, *want;
	struct target t;
	int tids[16];
	size_t nt;

	snprintf(bin, sizeof(bin), "tests/targets/calltree.plain.%s", v->name);
	target_start(&t, build_path(bin));
	ring_remove(t.pid);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");	/* before: not traced */
	/* expected_work checks the results; it is not part of the tree. */
	run(t.pid, "--enable --entry -N ^expected_work$");
	cr_assert(!text_as_in_file(build_path(bin), t.pid), "%s: nothing patched", v->name);
	cr_assert_str_eq(target_cmd(&t, "run 5"), "done");
	cr_assert_str_eq(target_cmd(&t, "mt 8 3"), "done");
	run(t.pid, "--disable");
	cr_assert(text_as_in_file(build_path(bin), t.pid),
		  "%s: .text differs from the file after --disable", v->name);
	cr_assert_str_eq(target_cmd(&t, "run 7"), "done");	/* after: not traced */

	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "tread: %s", err);
	got = graph_canon(out, t.pid);
	want = expect_wrapped("dispatch", 5);
	str_append(&want, " dispatch(run_threads)");
	cr_assert_str_eq(got, want, "main thread of %s:\n%s", v->name, out);
	nt = graph_tids(out, tids, 16);
	cr_assert_eq(nt, 9, "%s: expected 9 threads, saw %zu:\n%s", v->name, nt, out);
	free(want);
	want = expect_wrapped("thread_main", 3);
	for (size_t i = 0; i < nt; i++) {
		if (tids[i] == t.pid)
			continue;
		free(got);
		got = graph_canon(out, tids[i]);
		cr_assert_str_eq(got, want, "thread %d of %s:\n%s", tids[i], v->name, out);
	}
	free(got);
	free(want);
	free(out);
	target_stop(&t);
}

/* Unsafe entries are refused, each with its reason; the others traced. */
Test(entries, refused, .timeout = 60)
{
	static const char *const reasons[] = {
		"  loop_head: refused: a branch lands in the bytes the jmp would replace\n",
		"  loop_head_cet: refused: a branch lands in the bytes the jmp would replace\n",
		"  tiny: refused: too short: fewer than 5 bytes after its entry\n",
		"  early_ret: refused: the function returns within its first 5 bytes\n",
		"  jump_table: refused: an indirect jump (a jump table?) may land in the "
		"patched bytes\n",
	};
	char *out = NULL, *err = NULL, *got;
	struct target t;

	target_start(&t, build_path("tests/targets/entryrefuse"));
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable --entry -v", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "4 function entries patched, 6 refused as unsafe"), "%s", out);
	cr_assert(strstr(err, "loop_head not patched: a branch lands in the bytes"), "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(tattach(t.pid, "--status -v", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "entries:      4 of 10 functions patched in "), "%s", out);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		cr_assert(strstr(out, reasons[i]), "missing: %s\nin:\n%s", reasons[i], out);
	cr_assert(strstr(out, "\n  plain_rip\n"), "%s", out);
	free(out);
	run(t.pid, "--disable");
	cr_assert(text_as_in_file(build_path("tests/targets/entryrefuse"), t.pid));
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, "drive(plain plain_rip plain plain_rip)", "%s", out);
	free(got);
	free(out);
	target_stop(&t);
}

/* Stats mode and -F work on patched entries like on -pg sites. */
Test(entries, stats_and_filter, .timeout = 60)
{
	struct ring_view v;
	struct target t;

	target_start(&t, build_path("tests/targets/calltree.plain.gcc.O2.nopie"));
	ring_remove(t.pid);
	run(t.pid, "--enable --entry --mode stats -F ^(leaf|work)$");
	cr_assert_str_eq(target_cmd(&t, "run 5"), "done");
	cr_assert_str_eq(target_cmd(&t, "mt 4 2"), "done");
	run(t.pid, "--disable");
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	{
		struct site_totals s;
		uint32_t leaf = ring_view_site(&v, "leaf"), work = ring_view_site(&v, "work");

		cr_assert(leaf && work);
		ring_view_stats(&v, leaf, &s);
		cr_assert_eq(s.calls, 3 * 5 + 4 * 3 * 2);
		ring_view_stats(&v, work, &s);
		cr_assert_eq(s.calls, 1 + 4);
		ring_view_stats(&v, ring_view_site(&v, "a"), &s);
		cr_assert_eq(s.calls, 0, "a was filtered out");
	}
	ring_view_close(&v);
	target_stop(&t);
}

/* Bad input: one line, exit 1, no ring file, nothing written. */
Test(entries, bad_input, .timeout = 60)
{
	char *out = NULL, *err = NULL, path[64];
	struct target t;

	target_start(&t, build_path("tests/targets/calltree.nosyms"));
	ring_remove(t.pid);
	snprintf(path, sizeof(path), "/dev/shm/tattach-%d.ring", (int)t.pid);
	cr_assert_eq(tattach(t.pid, "--enable --entry", &out, &err), 1);
	cr_assert(strstr(err, "has no function symbols and no .eh_frame describing "
			 "functions"), "%s", err);
	cr_assert_eq(access(path, F_OK), -1, "a ring file was made");
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--enable --module libnosuch", &out, &err), 1);
	cr_assert(strstr(err, "no module named 'libnosuch' is loaded in pid"), "%s", err);
	cr_assert_eq(access(path, F_OK), -1, "a ring file was made");
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--disable --entry", &out, &err), 2);
	cr_assert(strstr(err, "--entry and --module go with --enable"), "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	target_stop(&t);
}

/* The ELF address of function @name in @bin, 0 if none. */
static uint64_t symbol_addr(const char *bin, const char *name)
{
	int fd = open(bin, O_RDONLY);
	Elf_Scn *scn = NULL;
	uint64_t addr = 0;
	Elf *elf;

	cr_assert_geq(fd, 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && (scn = elf_nextscn(elf, scn)) && !addr) {
		GElf_Shdr sh;
		Elf_Data *d;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;

			gelf_getsym(d, (int)i, &sym);
			if (!strcmp(elf_strptr(elf, sh.sh_link, sym.st_name), name))
				addr = sym.st_value;
		}
	}
	elf_end(elf);
	close(fd);
	return addr;
}

/* Replace every whole-word @name in *@s by @by. */
static void rename_in(char **s, const char *name, const char *by)
{
	char *out = NULL, *p = *s;
	size_t nl = strlen(name);

	while (*p) {
		char *q = strstr(p, name);

		if (!q) {
			str_append(&out, p);
			break;
		}
		if ((q == *s || strchr(" (", q[-1])) && strchr(" ()", q[nl])) {
			*q = 0;
			str_append(&out, p);
			str_append(&out, by);
			*q = name[0];
		} else {
			char c = q[nl];

			q[nl] = 0;
			str_append(&out, p);
			q[nl] = c;
		}
		p = q + nl;
	}
	free(*s);
	*s = out;
}

/* @bin's GNU build-id as lowercase hex into @hex (41+ bytes), 0 if none. */
static int build_id_hex(const char *bin, char *hex, size_t max)
{
	int fd = open(bin, O_RDONLY), found = 0;
	Elf_Scn *scn = NULL;
	Elf *elf;

	cr_assert_geq(fd, 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !found && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, name_off, desc_off;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while (!found && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			const unsigned char *id = (const unsigned char *)d->d_buf + desc_off;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)d->d_buf + name_off, "GNU", 4) ||
			    2 * nh.n_descsz + 1 > max)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", id[i]);
			found = 1;
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

/*
 * A stripped program: functions from .eh_frame, named module+0xOFFSET.
 * strip moves no code, so the unstripped build says which is which.
 * Then its debug file (objcopy --only-keep-debug of the unstripped build)
 * under a debug root, at .build-id/XX/YYYY.debug as /usr/lib/debug keeps
 * them: the same ring reads with the real names.
 */
Test(entries, stripped_eh_frame, .timeout = 60)
{
	static const char *const fns[] = { "dispatch", "work", "leaf", "a", "b", "c" };
	const char *full = build_path("tests/targets/calltree.plain.gcc.O2.nopie");
	char *out = NULL, *err = NULL, *got, *want, by[64], args[96];
	char root[] = "/tmp/tattach-debugroot.XXXXXX", id[130], dir[256], dbg[512], cmd[1024];
	uint64_t skip;
	struct target t;
	int rc;

	want = expect_wrapped("dispatch", 2);
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		uint64_t a = symbol_addr(full, fns[i]);

		cr_assert(a, "no %s in %s", fns[i], full);
		snprintf(by, sizeof(by), "calltree.stripped+0x%llx", (unsigned long long)a);
		rename_in(&want, fns[i], by);
	}
	target_start(&t, build_path("tests/targets/calltree.stripped"));
	ring_remove(t.pid);
	skip = symbol_addr(full, "expected_work");
	if (skip)
		snprintf(args, sizeof(args), "--enable --entry -N ^0x%llx$",
			 (unsigned long long)skip);
	else
		snprintf(args, sizeof(args), "--enable --entry");
	run(t.pid, args);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	run(t.pid, "--disable");
	cr_assert(text_as_in_file(build_path("tests/targets/calltree.stripped"), t.pid));
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, want, "%s", out);
	free(got);
	free(want);
	free(out);
	free(err);

	/* The debug file appears: tread finds it by the build-id. */
	cr_assert(build_id_hex(build_path("tests/targets/calltree.stripped"), id, sizeof(id)),
		  "calltree.stripped has no build-id");
	cr_assert_not_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/.build-id/%.2s", root, id);
	snprintf(dbg, sizeof(dbg), "%s/%s.debug", dir, id + 2);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && objcopy --only-keep-debug %s %s",
		 dir, full, dbg);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	setenv("TATTACH_DEBUGINFO_PATH", root, 1);
	out = err = NULL;
	rc = tread(t.pid, "", &out, &err);
	unsetenv("TATTACH_DEBUGINFO_PATH");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_assert_eq(rc, 0, "%s", err);
	got = graph_canon(out, t.pid);
	want = expect_wrapped("dispatch", 2);
	cr_assert_str_eq(got, want, "%s", out);
	cr_assert_null(strstr(out, "calltree.stripped+0x"), "%s", out);
	free(got);
	free(want);
	free(out);
	free(err);
	target_stop(&t);
}

/* --module: a library's exported functions (libc is stripped: .dynsym). */
Test(entries, module_libc, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got, libc[256] = "";
	struct target t;
	FILE *maps;
	char path[64], line[512];

	target_start(&t, build_path("tests/targets/calltree.plain.gcc.O2.nopie"));
	ring_remove(t.pid);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t.pid);
	maps = fopen(path, "r");
	while (fgets(line, sizeof(line), maps))
		if (strstr(line, "/libc.so") && sscanf(line, "%*s %*s %*s %*s %*s %255s", libc) == 1)
			break;
	fclose(maps);
	cr_assert(libc[0], "no libc in the map");
	run(t.pid, "--enable --module libc.so -F ^__isoc99_sscanf$");
	cr_assert(!text_as_in_file(libc, t.pid));
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");	/* 1 sscanf */
	cr_assert_str_eq(target_cmd(&t, "mt 2 1"), "done");	/* 2: "run", "mt" */
	run(t.pid, "--disable");
	cr_assert(text_as_in_file(libc, t.pid), "libc's .text differs after --disable");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, "__isoc99_sscanf __isoc99_sscanf __isoc99_sscanf", "%s", out);
	free(got);
	free(out);
	target_stop(&t);
}

/*
 * A call in flight through an entry stub at --disable: the blocking
 * target's sleeper thread loops on nanosleep(20 ms), libc's, entry-patched.
 * Once it has entered one after --enable, its slot holds the stub's
 * landing (the return primed, tramp_abi.h) until --disable puts the
 * return address back; then that nanosleep returns to its caller, which
 * checks it slept 20 ms, and the program ends as it would.  With @listed
 * 0 the stub's area was not listed in the target (the list full): the
 * stub hijacks the return instead, and the slot holds tp_return.
 */
static void blocked_at_disable(int listed)
{
	char *out = NULL, *err = NULL, *got, *call, *save, where[256] = "";
	uint64_t landing = 0;
	struct target t;
	size_t calls = 0;

	target_start(&t, build_path("tests/targets/blocking"));
	ring_remove(t.pid);
	run(t.pid, "--enable --module libc.so -F ^__nanosleep$");
	/* a sleeper round ended since: the nanosleep it is in began after */
	cr_assert_eq(strncmp(target_cmd(&t, "wake"), "ok", 2), 0);
	cr_assert_eq(tramp_scan_stacks_first(t.pid, &landing, where, sizeof(where)), 1,
		     "%s", where);
	cr_assert_eq(tramp_near_landing(t.pid, landing), listed ? TAT_SITE_ENTRY : 0, "%s", where);
	run(t.pid, "--disable");
	cr_assert_eq(tramp_scan_stacks(t.pid, where, sizeof(where)), 0, "%s", where);
	cr_assert_eq(strncmp(target_cmd(&t, "wake"), "ok", 2), 0);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	/* the sleeper's: the tid on the first call's line */
	call = strstr(out, "] | __nanosleep");
	cr_assert(call, "%s", out);
	while (call > out && call[-1] != '[')
		call--;
	got = graph_canon(out, atoi(call));
	/* nanosleep after nanosleep, the last one cut at --disable */
	for (call = strtok_r(got, " ", &save); call; call = strtok_r(NULL, " ", &save)) {
		calls++;
		if (strcmp(call, "__nanosleep"))
			break;
	}
	cr_assert(call && !strcmp(call, "__nanosleep(!)") && !strtok_r(NULL, " ", &save),
		  "after %zu calls: %s in\n%s", calls, call ? call : "the end", out);
	free(got);
	free(out);
	free(err);
	target_stop(&t);
}

Test(entries, blocked_at_disable, .timeout = 60)
{
	blocked_at_disable(1);
}

/* No room left in the target's list of stub areas (TATTACH_TEST_NEAR_AREAS
 * makes it 0 long): the stubs hijack the return, and all else is the same. */
Test(entries, blocked_at_disable_list_full, .timeout = 60)
{
	setenv("TATTACH_TEST_NEAR_AREAS", "0", 1);
	blocked_at_disable(0);
	unsetenv("TATTACH_TEST_NEAR_AREAS");
}

/*
 * Four threads run work(100) in a loop, checking every result, while
 * tattach patches and restores every entry twenty times: threads caught
 * inside a window are moved to its stub, threads in a stub at --disable
 * go back to the restored code.  No crash, no wrong result, and the
 * spinners' calls are traced.
 */
Test(entries, while_threads_run, .timeout = 120)
{
	char *out = NULL, *err = NULL;
	struct target t;

	target_start(&t, build_path("tests/targets/calltree.plain.gcc.O2.pie-cet"));
	ring_remove(t.pid);
	cr_assert_str_eq(target_cmd(&t, "spin 4"), "done");
	for (int i = 0; i < 20; i++) {
		run(t.pid, "--enable --entry -N ^expected_work$");
		run(t.pid, "--disable");
	}
	cr_assert_str_eq(target_cmd(&t, "stop"), "done", "a spinner saw a wrong result");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_gt(graph_count_calls(out, "leaf"), 0, "%s", out);
	free(out);
	target_stop(&t);
}
