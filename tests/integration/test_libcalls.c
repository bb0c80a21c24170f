// SPDX-License-Identifier: MIT
/*
 * tattach --libcalls: calls from a traced program into libc and
 * libpthread (malloc, memcpy and strlen (IFUNCs), pthread_mutex_lock,
 * write, qsort with a traced comparator, exit with a traced atexit
 * handler, execve) show as calls under their caller, named by the import, with
 * lazy binding, -z now (full RELRO), -fno-plt (GOT slots), non-PIE and
 * the IBT PLT (endbr64 + jmp in .plt.sec).
 * After --disable the PLT and GOT hold byte for byte what a twin process
 * that was never traced holds after the same commands (both run without
 * address randomisation, so their layouts are the same).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"
#include "lib/ring_view.h"
#include "lib/tramp_scan.h"
#include "attach/hooks/near_stub.h"

#define USE_LIB "use_lib(malloc memcpy strlen pthread_mutex_lock pthread_mutex_unlock free)"

struct variant {
	char name[16];
};

ParameterizedTestParameters(libcalls, variants)
{
	static struct variant v[] = { { "lazy" }, { "now" }, { "noplt" }, { "nopie" }, { "ibt" } };

	return cr_make_param_array(struct variant, v, sizeof(v) / sizeof(v[0]));
}

static void start(struct target *t, const char *variant)
{
	char bin[64];

	snprintf(bin, sizeof(bin), "tests/targets/libcalls.%s", variant);
	setenv("TATTACH_NORAND", "1", 1);
	target_start(t, build_path(bin));
	unsetenv("TATTACH_NORAND");
	ring_remove(t->pid);
}

static void run(struct target *t, const char *args)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(tattach(t->pid, args, &out, &err), 0, "tattach %s:\n%s%s", args, out, err);
	free(out);
	free(err);
}

/* The PLT and GOT sections of @bin: where they are, how big. */
struct region {
	uint64_t addr, size;
};

static size_t plt_got_regions(const char *bin, struct region *v, size_t max, int *pie)
{
	static const char *const names[] = { ".got", ".got.plt", ".plt", ".plt.sec", ".plt.got" };
	int fd = open(bin, O_RDONLY);
	Elf_Scn *scn = NULL;
	size_t n = 0, shstrndx;
	GElf_Ehdr eh;
	Elf *elf;

	cr_assert_geq(fd, 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert(elf && gelf_getehdr(elf, &eh) && !elf_getshdrstrndx(elf, &shstrndx));
	*pie = eh.e_type == ET_DYN;
	while ((scn = elf_nextscn(elf, scn)) && n < max) {
		GElf_Shdr sh;
		const char *name;

		gelf_getshdr(scn, &sh);
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(name, names[i]))
				v[n++] = (struct region){ sh.sh_addr, sh.sh_size };
	}
	elf_end(elf);
	close(fd);
	return n;
}

/* Load bias of the program of @pid (the start of its file offset 0). */
static uint64_t bias_of(pid_t pid, int pie)
{
	char path[64], line[512];
	unsigned long long start = 0, off;
	FILE *f;

	if (!pie)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "libcalls.") &&
		    sscanf(line, "%llx-%*x %*s %llx", &start, &off) == 2 && off == 0)
			break;
	fclose(f);
	return start;
}

/*
 * The GOT entries of @bin (file addresses) that tattach points at the
 * trampoline's unwinder hooks (attach/frames/unwind_hooks.c), by symbol.
 */
static size_t unwinder_slots(const char *bin, uint64_t *v, size_t max)
{
	static const char *const hooked[] = {
		"_Unwind_RaiseException", "_Unwind_Resume_or_Rethrow", "__cxa_begin_catch",
		"pthread_exit", "backtrace",
	};
	int fd = open(bin, O_RDONLY);
	Elf_Scn *scn = NULL;
	size_t n = 0;
	Elf *elf;

	cr_assert_geq(fd, 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert(elf);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh, symsh;
		Elf_Data *d, *syms;
		Elf_Scn *symscn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA)
			continue;
		symscn = elf_getscn(elf, sh.sh_link);
		if (!symscn || !gelf_getshdr(symscn, &symsh) || symsh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		syms = elf_getdata(symscn, NULL);
		for (size_t i = 0; d && syms && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela rel;
			GElf_Sym sym;
			const char *name;

			if (!gelf_getrela(d, (int)i, &rel) ||
			    !gelf_getsym(syms, (int)GELF_R_SYM(rel.r_info), &sym))
				continue;
			name = elf_strptr(elf, symsh.sh_link, sym.st_name);
			for (size_t k = 0; name && k < sizeof(hooked) / sizeof(hooked[0]); k++)
				if (!strcmp(name, hooked[k]) && n < max)
					v[n++] = rel.r_offset;
		}
	}
	elf_end(elf);
	close(fd);
	return n;
}

/*
 * Does the GOT entry at @slot (file address) of @t lead to the trampoline's
 * hooks: point into it, or (-fno-plt, --libcalls hooked it first) at a
 * library call stub that jumps on through its saved word to them?
 */
static int points_at_tramp(const char *bin, struct target *t, uint64_t slot)
{
	struct region r[8];
	struct ring_view v;
	uint64_t val;
	char path[64];
	int pie, fd, in = 0;

	plt_got_regions(bin, r, 8, &pie);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)t->pid);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &val, 8, (off_t)(slot + bias_of(t->pid, pie))), 8);
	cr_assert_eq(ring_view_open(t->pid, &v), 0);
	for (int hop = 0; hop < 2 && !in; hop++) {
		for (uint32_t i = 0; i < v.h->tramp_count && i < TAT_TRAMP_MAX; i++)
			in |= val >= v.h->tramp_addr[i] &&
			      val < v.h->tramp_addr[i] + v.h->tramp_size;
		if (!in && pread(fd, &val, 8, (off_t)(val + NEAR_LIBCALL_SAVED)) != 8)
			break;
	}
	ring_view_close(&v);
	close(fd);
	return in;
}

/* Do the PLT and GOT of @a and @b hold the same bytes, but for the GOT
 * entries @skip (file addresses)?  Says where not. */
static int same_plt_got_but(const char *bin, pid_t a, pid_t b, const uint64_t *skip,
			    size_t nskip, char *where, size_t len)
{
	struct region r[8];
	int pie, fa, fb, same = 1;
	char path[64];
	size_t n = plt_got_regions(bin, r, 8, &pie);
	uint64_t bias = bias_of(a, pie);

	cr_assert_geq(n, 3, "%s: no PLT/GOT sections", bin);
	cr_assert_eq(bias, bias_of(b, pie), "the twins have different layouts");
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)a);
	fa = open(path, O_RDONLY);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)b);
	fb = open(path, O_RDONLY);
	cr_assert(fa >= 0 && fb >= 0);
	for (size_t i = 0; i < n && same; i++) {
		uint8_t *x = malloc(r[i].size), *y = malloc(r[i].size);

		cr_assert(pread(fa, x, r[i].size, r[i].addr + bias) == (ssize_t)r[i].size);
		cr_assert(pread(fb, y, r[i].size, r[i].addr + bias) == (ssize_t)r[i].size);
		for (uint64_t k = 0; k < r[i].size && same; k++) {
			int skipped = 0;

			for (size_t j = 0; j < nskip; j++)
				skipped |= r[i].addr + k >= skip[j] && r[i].addr + k < skip[j] + 8;
			if (x[k] != y[k] && !skipped) {
				snprintf(where, len, "%#llx: %02x vs %02x",
					 (unsigned long long)(r[i].addr + k), x[k], y[k]);
				same = 0;
			}
		}
		free(x);
		free(y);
	}
	close(fa);
	close(fb);
	return same;
}

static int same_plt_got(const char *bin, pid_t a, pid_t b, char *where, size_t len)
{
	return same_plt_got_but(bin, a, b, NULL, 0, where, len);
}

static char *expect_main(long compares)
{
	char *s = NULL;

	str_append(&s, "dispatch(" USE_LIB " " USE_LIB ") ");
	str_append(&s, "dispatch(do_sort(qsort(");
	for (long i = 0; i < compares; i++)
		str_append(&s, i ? " cmp_long" : "cmp_long");
	str_append(&s, "))) ");
	str_append(&s, "dispatch(run_threads(");
	for (int i = 0; i < 8; i++)
		str_append(&s, "pthread_create ");
	for (int i = 0; i < 8; i++)
		str_append(&s, i < 7 ? "pthread_join " : "pthread_join)) ");
	str_append(&s, "dispatch(do_write(write))");
	return s;
}

static const char *const commands[] = { "libs 2", "sort", "mt 8 1", "write" };

ParameterizedTest(struct variant *v, libcalls, variants, .timeout = 60)
{
	char bin[64], where[128], *out = NULL, *err = NULL, *got, *want;
	struct target t, twin;
	long compares = -1, twin_compares = -1;
	uint64_t slots[8];
	size_t nslots;
	int tids[16];
	size_t nt;

	snprintf(bin, sizeof(bin), "tests/targets/libcalls.%s", v->name);
	start(&t, v->name);
	start(&twin, v->name);
	cr_assert_str_eq(target_cmd(&t, "libs 1"), "done");	/* before: not traced */
	cr_assert_str_eq(target_cmd(&twin, "libs 1"), "done");
	cr_assert(same_plt_got(build_path(bin), t.pid, twin.pid, where, sizeof(where)),
		  "%s: twins differ before any tracing at %s", v->name, where);

	run(&t, "--enable --libcalls");
	/* Hooked: the PLT jumps (or, -fno-plt, the GOT slots) are rewritten. */
	cr_assert(!same_plt_got(build_path(bin), t.pid, twin.pid, where, sizeof(where)),
		  "%s: --enable --libcalls changed neither PLT nor GOT", v->name);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *a = target_cmd(&t, commands[i]);

		if (!strcmp(commands[i], "sort"))
			cr_assert_eq(sscanf(a, "done %ld", &compares), 1, "%s", a);
		a = target_cmd(&twin, commands[i]);
		if (!strcmp(commands[i], "sort"))
			cr_assert_eq(sscanf(a, "done %ld", &twin_compares), 1, "%s", a);
	}
	nslots = unwinder_slots(build_path(bin), slots, 8);
	cr_assert_geq(nslots, 1, "%s imports no pthread_exit?", v->name);
	run(&t, "--disable");
	cr_assert_str_eq(target_cmd(&t, "libs 1"), "done");	/* after: not traced */
	cr_assert_str_eq(target_cmd(&twin, "libs 1"), "done");
	/* main() was running at --enable: adopted, --disable gave it its
	 * return address back, so the unwinder's entries come off too: every
	 * byte is the never-traced twin's, those entries included. */
	for (size_t i = 0; i < nslots; i++)
		cr_assert(!points_at_tramp(build_path(bin), &t, slots[i]),
			  "%s: the GOT entry at %#llx is still hooked after --disable",
			  v->name, (unsigned long long)slots[i]);
	cr_assert(same_plt_got(build_path(bin), t.pid, twin.pid, where, sizeof(where)),
		  "%s: after --disable the PLT/GOT differ from a never-traced twin at %s",
		  v->name, where);

	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "tread: %s", err);
	got = graph_canon(out, t.pid);
	want = expect_main(compares);
	cr_assert_str_eq(got, want, "main thread of %s:\n%s", v->name, out);
	nt = graph_tids(out, tids, 16);
	cr_assert_eq(nt, 9, "%s: expected 9 threads:\n%s", v->name, out);
	for (size_t i = 0; i < nt; i++) {
		if (tids[i] == t.pid)
			continue;
		free(got);
		got = graph_canon(out, tids[i]);
		cr_assert_str_eq(got, "thread_main(" USE_LIB ")", "%s thread %d:\n%s", v->name,
				 tids[i], out);
	}
	free(got);
	free(want);
	free(out);
	target_stop(&twin);
	target_stop(&t);
}

ParameterizedTestParameters(libcalls, unwinder_entries_put_back)
{
	static struct variant v[] = { { "lazy" }, { "noplt" } };

	return cr_make_param_array(struct variant, v, sizeof(v) / sizeof(v[0]));
}

/*
 * With no call returning through the trampoline at --disable (main() and
 * dispatch() not traced, the thread that ended in pthread_exit() gone),
 * --disable puts the unwinder's GOT entries back too: the PLT and GOT are
 * the never-traced twin's, byte for byte.  With -fno-plt, pthread_exit's
 * GOT entry was --libcalls' before it was the hook's: both come off.
 * (Lazy binding: pthread_exit is not called, as an entry first called
 * while hooked is put back unbound, where the twin's is bound.)
 */
ParameterizedTest(struct variant *v, libcalls, unwinder_entries_put_back, .timeout = 60)
{
	char bin[64], where[128], *out = NULL, *err = NULL, *got;
	int texit = !strcmp(v->name, "noplt"), tids[4];
	struct target t, twin;
	uint64_t slots[8];
	size_t nslots, nt;

	snprintf(bin, sizeof(bin), "tests/targets/libcalls.%s", v->name);
	start(&t, v->name);
	start(&twin, v->name);
	run(&t, "--enable --libcalls -F use_lib -F strlen -F pthread_exit");
	nslots = unwinder_slots(build_path(bin), slots, 8);
	cr_assert_geq(nslots, 1, "%s imports no pthread_exit?", v->name);
	for (size_t i = 0; i < nslots; i++)
		cr_assert(points_at_tramp(build_path(bin), &t, slots[i]),
			  "%s: the GOT entry at %#llx is not hooked at --enable", v->name,
			  (unsigned long long)slots[i]);
	cr_assert_str_eq(target_cmd(&t, "libs 1"), "done");
	cr_assert_str_eq(target_cmd(&twin, "libs 1"), "done");
	if (texit) {
		cr_assert_str_eq(target_cmd(&t, "texit"), "done");
		cr_assert_str_eq(target_cmd(&twin, "texit"), "done");
	}
	run(&t, "--disable");
	for (size_t i = 0; i < nslots; i++)
		cr_assert(!points_at_tramp(build_path(bin), &t, slots[i]),
			  "%s: the GOT entry at %#llx is still hooked after --disable",
			  v->name, (unsigned long long)slots[i]);
	cr_assert(same_plt_got(build_path(bin), t.pid, twin.pid, where, sizeof(where)),
		  "%s: after --disable the PLT/GOT differ from a never-traced twin at %s",
		  v->name, where);
	/* untraced, pthread_exit() still works */
	cr_assert_str_eq(target_cmd(&t, "texit"), "done");

	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "tread: %s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, "use_lib(strlen)", "%s:\n%s", v->name, out);
	free(got);
	nt = graph_tids(out, tids, 4);
	cr_assert_eq(nt, 1 + texit, "%s:\n%s", v->name, out);
	if (texit) {
		got = graph_canon(out, tids[0] == t.pid ? tids[1] : tids[0]);
		cr_assert_str_eq(got, "pthread_exit()", "%s", out);
		free(got);
	}
	free(out);
	target_stop(&twin);
	target_stop(&t);
}

/* -F selects library calls by name, as it selects functions. */
Test(libcalls, filter, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got;
	struct target t;

	start(&t, "lazy");
	run(&t, "--enable --libcalls -F pthread_mutex_.*");
	cr_assert_str_eq(target_cmd(&t, "libs 2"), "done");
	cr_assert_eq(tattach(t.pid, "--status -v", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "library calls: 2 of "), "%s", out);
	cr_assert(strstr(out, "  pthread_mutex_lock (PLT)\n"), "%s", out);
	cr_assert(!strstr(out, "  malloc ("), "%s", out);
	free(out);
	/* Now without the filter, then without --libcalls: hooks follow. */
	run(&t, "--enable --libcalls");
	cr_assert_str_eq(target_cmd(&t, "libs 1"), "done");
	run(&t, "--enable");
	cr_assert_str_eq(target_cmd(&t, "libs 1"), "done");
	run(&t, "--disable");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got,
		"pthread_mutex_lock pthread_mutex_unlock pthread_mutex_lock pthread_mutex_unlock "
		"dispatch(" USE_LIB ") dispatch(use_lib)", "%s", out);
	free(got);
	free(out);
	target_stop(&t);
}

static uint64_t stat_calls(const struct ring_view *v, const char *fn)
{
	struct site_totals s;
	uint32_t site = ring_view_site(v, fn);

	if (!site)
		return 0;
	ring_view_stats(v, site, &s);
	return s.calls;
}

/* Stats mode counts library calls like functions. */
Test(libcalls, stats, .timeout = 60)
{
	struct ring_view v;
	struct target t;

	start(&t, "now");
	run(&t, "--enable --libcalls --mode stats");
	cr_assert_str_eq(target_cmd(&t, "libs 5"), "done");
	cr_assert_str_eq(target_cmd(&t, "mt 3 2"), "done");
	run(&t, "--disable");
	cr_assert_eq(ring_view_open(t.pid, &v), 0);
	cr_assert(ring_view_site(&v, "malloc"), "no site named malloc");
	cr_assert_eq(stat_calls(&v, "use_lib"), 5 + 3 * 2);
	cr_assert_eq(stat_calls(&v, "malloc"), 5 + 3 * 2);
	cr_assert_eq(stat_calls(&v, "strlen"), 5 + 3 * 2);
	cr_assert_eq(stat_calls(&v, "pthread_mutex_unlock"), 5 + 3 * 2);
	cr_assert_eq(stat_calls(&v, "pthread_create"), 3);
	cr_assert_eq(stat_calls(&v, "pthread_join"), 3);
	cr_assert_eq(stat_calls(&v, "qsort"), 0);
	ring_view_close(&v);
	target_stop(&t);
}

/* exit() never returns: its atexit handler nests under it, and the trace
 * read after the process is gone shows the calls open at its end. */
Test(libcalls, exit_inside, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got;
	struct target t;
	pid_t pid;
	int status;

	start(&t, "noplt");
	t.keep_ring = 1;
	pid = t.pid;
	run(&t, "--enable --libcalls");
	cr_assert_str_eq(target_cmd(&t, "write"), "done");
	target_cmd(&t, "exit");		/* no answer comes */
	status = target_stop(&t);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	cr_assert_eq(tread(pid, "", &out, &err), 0, "%s", err);
	ring_remove(pid);
	got = graph_canon(out, pid);
	cr_assert_str_eq(got, "dispatch(do_write(write)) "
			 /* crtstuff's destructor calls __cxa_finalize through
			  * the GOT, under exit too; the three calls that never
			  * returned stay open */
			 "dispatch(do_exit(exit(at_exit_handler(write) __cxa_finalize",
			 "%s", out);
	free(got);
	free(out);
}

/* execve() never returns: the new image replaces the traced one, runs
 * as it would untraced, and the old ring, read post mortem, shows the
 * call that made it still open with nothing after it. */
Test(libcalls, execve_inside, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got, want[32];
	struct target t;
	pid_t pid;
	int status;

	start(&t, "lazy");
	t.keep_ring = 1;
	pid = t.pid;
	run(&t, "--enable --libcalls");
	cr_assert_str_eq(target_cmd(&t, "write"), "done");
	snprintf(want, sizeof(want), "execed %d", (int)pid);
	cr_assert_str_eq(target_cmd(&t, "execve"), want);	/* the new image answers */
	status = target_stop(&t);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	cr_assert_eq(tread(pid, "", &out, &err), 0, "%s", err);
	ring_remove(pid);
	got = graph_canon(out, pid);
	cr_assert_str_eq(got, "dispatch(do_write(write)) dispatch(do_execve(execve(",
			 "%s\n%s", got, out);
	cr_assert(strstr(out, "execve() {"), "%s", out);
	cr_assert_null(strstr(out, "exit lost"), "%s", out);
	free(got);
	free(out);
}

/* longjmp() leaves two calls (itself, jumper) that the next call ends;
 * pthread_exit() ends a thread inside a traced call: both end, unwound;
 * pthread_once() calls back into traced code the first time. */
Test(libcalls, nonlocal_exits, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got;
	struct target t;
	int tids[4];
	size_t nt;

	start(&t, "lazy");
	run(&t, "--enable --libcalls");
	cr_assert_str_eq(target_cmd(&t, "jump"), "done");
	cr_assert_str_eq(target_cmd(&t, "texit"), "done");
	cr_assert_str_eq(target_cmd(&t, "once"), "done");
	cr_assert_str_eq(target_cmd(&t, "once"), "done");
	run(&t, "--disable");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	/* "()" : the frames longjmp left were ended by after_jump's entry */
	cr_assert_str_eq(got, "dispatch(do_jump(jumper(longjmp()) after_jump)) "
			 "dispatch(thread_exit(pthread_create pthread_join)) "
			 /* pthread_once's routine nests under it, the first time */
			 "dispatch(do_once(pthread_once(once_init))) "
			 "dispatch(do_once(pthread_once))", "%s", out);
	free(got);
	nt = graph_tids(out, tids, 4);
	cr_assert_eq(nt, 2, "%s", out);
	got = graph_canon(out, tids[0] == t.pid ? tids[1] : tids[0]);
	/* pthread_exit()'s hook ends them both, as unwound, itself too */
	cr_assert_str_eq(got, "thread_exit_main(pthread_exit())", "%s", out);
	cr_assert(strstr(out, "} /* pthread_exit */ /* unwound */"), "%s", out);
	cr_assert_null(strstr(out, "exit lost"), "%s", out);
	free(got);
	free(out);
	target_stop(&t);
}

/* A stock binary, not rebuilt, no -pg: cat's reads and writes. */
Test(libcalls, stock_cat, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got, buf[16], where[256] = "";
	int in[2], back[2], status;
	struct target t = { 0 };
	uint64_t landing = 0;

	cr_assert_eq(access("/usr/bin/cat", X_OK), 0);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(back), 0);
	t.pid = fork();
	cr_assert_geq(t.pid, 0);
	if (t.pid == 0) {
		dup2(in[0], 0);
		dup2(back[1], 1);
		close(in[1]);
		close(back[0]);
		execl("/usr/bin/cat", "cat", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(back[1]);
	/* cat is blocked in its first read() once it answers a line */
	cr_assert_eq(write(in[1], "a\n", 2), 2);
	cr_assert_eq(read(back[0], buf, sizeof(buf)), 2);
	ring_remove(t.pid);
	run(&t, "--enable --libcalls");
	cr_assert_eq(write(in[1], "b\n", 2), 2);
	cr_assert_eq(read(back[0], buf, sizeof(buf)), 2);
	cr_assert_eq(write(in[1], "c\n", 2), 2);
	cr_assert_eq(read(back[0], buf, sizeof(buf)), 2);
	/* the read cat now waits in went through its stub, which primed the
	 * return: its slot holds the stub's landing, not tp_return */
	cr_assert_eq(tramp_scan_stacks_first(t.pid, &landing, where, sizeof(where)), 1,
		     "%s", where);
	cr_assert_eq(tramp_near_landing(t.pid, landing), TAT_SITE_LIBCALL, "%s", where);
	run(&t, "--disable");
	cr_assert_eq(tramp_scan_stacks(t.pid, where, sizeof(where)), 0, "%s", where);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	/* the read in flight at --enable was not hooked; the last one was
	 * still running at --disable, which gave it its return address back */
	cr_assert_str_eq(got, "write read write read(!)", "%s", out);
	free(got);
	free(out);
	/* that read returns (end of input) to cat, which ends as it would */
	close(in[1]);
	cr_assert_eq(waitpid(t.pid, &status, 0), t.pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cat ended with status %#x",
		  status);
	close(back[0]);
	ring_remove(t.pid);
}
