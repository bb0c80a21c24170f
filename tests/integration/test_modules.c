// SPDX-License-Identifier: MIT
/*
 * Sites in a shared library as well as in the program, loaded more than
 * 2 GiB apart: each gets a trampoline copy it can reach, and what tattach
 * maps is never writable and executable at once.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tattach/ring.h>
#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

/* Anonymous executable mappings, and whether any mapping is w+x. */
static int scan_maps(pid_t pid, int *wx)
{
	char path[64], line[512], perms[8];
	unsigned long long start, end, off, inode;
	int anon_x = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	cr_assert(f);
	*wx = 0;
	while (fgets(line, sizeof(line), f)) {
		char name[256] = "";

		if (sscanf(line, "%llx-%llx %7s %llx %*s %llu %255s", &start, &end, perms,
			   &off, &inode, name) < 5)
			continue;
		if (perms[1] == 'w' && perms[2] == 'x')
			*wx = 1;
		if (perms[2] == 'x' && inode == 0 && name[0] == 0)
			anon_x++;
	}
	fclose(f);
	return anon_x;
}

/*
 * Everything tattach added to the map, checked by kind: the trampoline
 * copies and the rescue page (anonymous r-x), their config pages and the
 * private state (anonymous r-- / rw-), and the ring (its file, rw-s, never
 * executable).  Nothing else may appear.
 */
static void assert_only_ours(pid_t pid, const char *before)
{
	char path[64], line[512];
	int ring = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		char range[64], perms[8], name[256] = "";
		unsigned long long inode;

		if (sscanf(line, "%63s %7s %*s %*s %llu %255s", range, perms, &inode, name) < 3)
			continue;
		if (strstr(before, range))
			continue;	/* was there before --enable */
		if (strstr(name, "tattach-") && strstr(name, ".ring")) {
			cr_assert_str_eq(perms, "rw-s", "ring mapped %s", perms);
			ring++;
			continue;
		}
		cr_assert(inode == 0 && name[0] == 0, "unexpected new mapping: %s", line);
		cr_assert(!strcmp(perms, "r-xp") || !strcmp(perms, "r--p") ||
			  !strcmp(perms, "rw-p"), "unexpected new mapping: %s", line);
	}
	fclose(f);
	cr_assert_eq(ring, 1, "the ring is mapped %d times", ring);
}

static char *read_maps(pid_t pid)
{
	char path[64], *buf = calloc(1, 1 << 20);
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	cr_assert(f && buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

Test(modules, program_and_shared_library, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got;
	struct target t;
	int wx;

	target_start(&t, build_path("tests/targets/uselib"));
	ring_remove(t.pid);
	char *before;

	cr_assert_eq(scan_maps(t.pid, &wx), 0);
	before = read_maps(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	assert_only_ours(t.pid, before);
	free(before);
	cr_assert(strstr(out, "4 sites in 2 modules"), "%s", out);
	/* two trampoline copies, each its code and its call-through stubs
	 * (the config page between them is r--), and the rescue page
	 * (attach/tramp/rescue.S) */
	cr_assert_eq(scan_maps(t.pid, &wx), 5,
		     "expected two trampoline copies (code, stubs) and a rescue page");
	cr_assert_eq(wx, 0, "a writable and executable mapping exists");
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, "app_work(lib_work(lib_leaf lib_leaf lib_leaf))", "%s", out);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "libwork.so"), "%s", out);
	target_stop(&t);
	ring_remove(t.pid);
	free(got);
}

/* uselib and libwork.so copied into a new folder (@dir, a mkdtemp()
 * template), and started from there: files a test may replace. */
static void start_copy(struct target *t, char *dir)
{
	char bin[128];

	cr_assert(mkdtemp(dir));
	shell("cp %s %s %s", build_path("tests/targets/uselib"), build_path("tests/targets/libwork.so"),
	   dir);
	snprintf(bin, sizeof(bin), "%s/uselib", dir);
	target_start(t, bin);
	ring_remove(t->pid);
}

/*
 * The program and its library replaced on disk while the process runs, as
 * a deploy or a package upgrade does it (a new file renamed over the
 * old): the process still runs the old code, whose files the kernel keeps
 * as "PATH (deleted)".  tattach reads the files it mapped
 * (/proc/PID/map_files), and so does tread: the whole tree, named, and no
 * warning, though the files now at those paths are other programs (other
 * build ids: read, they would name nothing).  --libcalls and -F too;
 * --disable turns it all off.
 */
Test(modules, program_and_library_replaced_on_disk, .timeout = 60)
{
	char dir[] = "/tmp/tattach-replaced-XXXXXX", *out = NULL, *err = NULL, *got;
	struct target t;

	start_copy(&t, dir);
	shell("cp %s %s/uselib.new && mv %s/uselib.new %s/uselib",
	   build_path("tests/targets/calltree.pg.O0"), dir, dir, dir);
	shell("cp %s %s/libwork.new && mv %s/libwork.new %s/libwork.so",
	   build_path("tests/targets/libwork.pfe.so"), dir, dir, dir);
	cr_assert_eq(tattach(t.pid, "--enable --libcalls", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "4 sites in 2 modules"), "%s", out);
	/* main(), waiting in fgets(): its stack walked through the program
	 * replaced (attach/process/replaced_code.c) */
	cr_assert(strstr(out, "1 call already running when tracing began"), "%s", out);
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "/uselib ") && strstr(out, "/libwork.so "), "%s", out);
	cr_assert_null(strstr(out, "deleted"), "%s", out);
	/* both lines say so */
	for (int i = 0; i < 2; i++) {
		const char *says = "patched (file replaced on disk since it was loaded)\n";
		const char *line = strstr(out, i ? "/libwork.so " : "/uselib ");
		const char *end = line ? strchr(line, '\n') : NULL;

		cr_assert(end && !strncmp(end + 1 - strlen(says), says, strlen(says)), "%s", out);
	}
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "4 sites are NOPs again"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "");
	got = graph_canon(out, t.pid);
	/* library calls named from the program it runs (calltree has other
	 * imports), the main thread waiting in fgets() at --disable */
	cr_assert_str_eq(got, "__isoc99_sscanf app_work(lib_work(lib_work(lib_leaf lib_leaf "
			      "lib_leaf))) puts fgets(!)", "%s", out);
	free(got);
	free(out);
	free(err);
	/* -F names the sites from the mapped files too */
	cr_assert_eq(tattach(t.pid, "--enable -F lib_leaf", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing enabled: 1 site in "), "%s", out);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	target_stop(&t);
	ring_remove(t.pid);
	shell("rm -rf %s", dir);
}

/*
 * A program traced with --entry and --libcalls (calltree built without
 * -pg), then its file touched: its code now differs from the file where
 * the entries and calls were patched, yet --disable must read the file
 * mapped and put every one back.
 */
Test(modules, entries_and_calls_undone_after_the_file_was_touched, .timeout = 60)
{
	char dir[] = "/tmp/tattach-touched-XXXXXX", bin[128], *out = NULL, *err = NULL;
	struct target t;

	cr_assert(mkdtemp(dir));
	shell("cp %s %s/calltree", build_path("tests/targets/calltree.plain.gcc.O2.pie-cet"), dir);
	snprintf(bin, sizeof(bin), "%s/calltree", dir);
	target_start(&t, bin);
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, "--enable --entry --libcalls", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	shell("touch -d '+10 seconds' %s", bin);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "entries:      0 of "), "%s", out);
	cr_assert(strstr(out, "library calls: 0 of "), "%s", out);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	target_stop(&t);
	ring_remove(t.pid);
	shell("rm -rf %s", dir);
}

/*
 * A -pg program with entries patched (its no_instrument_function
 * functions) or library calls hooked (its PLT jumps), then its file
 * touched: its code differs from the file's where tattach wrote, and
 * only there.  The next --enable must see it as the file's and trace
 * (it refused: "modified on disk ... not attaching").
 */
static void touched_after_hooks(const char *hooks, const char *status_line)
{
	char dir[] = "/tmp/tattach-touched-XXXXXX", bin[128], args[128];
	char *out = NULL, *err = NULL;
	struct target t;

	cr_assert(mkdtemp(dir));
	shell("cp %s %s/calltree", build_path("tests/targets/calltree.pg.O2"), dir);
	snprintf(bin, sizeof(bin), "%s/calltree", dir);
	target_start(&t, bin);
	ring_remove(t.pid);
	cr_assert_eq(tattach(t.pid, hooks, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing enabled: 12 sites in 1 module"), "%s", out);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	shell("touch -d '+10 seconds' %s", bin);
	snprintf(args, sizeof(args), "%s -F work -v", hooks);
	cr_assert_eq(tattach(t.pid, args, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing enabled: 1 site in 1 module"), "%s", out);
	cr_assert(strstr(err, "/calltree was modified on disk after the process started, but "
			      "its code in memory is the file's"), "%s", err);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, status_line), "%s", out);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	target_stop(&t);
	ring_remove(t.pid);
	shell("rm -rf %s", dir);
}

Test(modules, touched_program_with_entries_patched_traced_again, .timeout = 60)
{
	touched_after_hooks("--enable --entry", "entries:      0 of ");
}

Test(modules, touched_program_with_library_calls_hooked_traced_again, .timeout = 60)
{
	touched_after_hooks("--enable --libcalls", "library calls: 0 of ");
}

/*
 * A program run from an anonymous file (memfd_create() and fexecve(), as
 * some launchers do): its mappings read "/memfd:memexec-program
 * (deleted)", and no file is at that path.  It is read as mapped, like a
 * replaced one: traced, named, its stack walked.
 */
Test(modules, program_run_from_a_memfd, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got;
	struct target t;

	cr_assert_eq(setenv("MEMEXEC", build_path("tests/targets/calltree.pg.O2"), 1), 0);
	target_start(&t, build_path("tests/targets/memexec"));
	unsetenv("MEMEXEC");
	ring_remove(t.pid);
	cr_assert(mapped_at(t.pid, "memfd:memexec-program (deleted)", 1), "not run from a memfd");
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "12 sites in 1 module"), "%s", out);
	cr_assert(strstr(out, "1 call already running when tracing began"), "%s", out);
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");
	cr_assert_eq(tattach(t.pid, "--stacks", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, " main+0x"), "%s", out);
	free(out);
	free(err);
	out = disable_then_read(t.pid);
	got = graph_canon_early(out, t.pid);
	cr_assert_str_eq(got, "^main(dispatch(work(a(b(leaf) c(leaf leaf))))!)", "%s", out);
	free(got);
	free(out);
	target_stop(&t);
	ring_remove(t.pid);
}

/*
 * Files written after the process started: the modification time says
 * they may not hold what was mapped, the bytes decide.  Only touched (as
 * a plugin rebuilt before its dlopen() would be), the program and the
 * library are traced; with a byte of the library's code changed in
 * memory (a debugger's breakpoint on its .init, run once at load) the
 * library is not, with a warning, and the program is.
 */
static void written_since_start(int breakpoint)
{
	char dir[] = "/tmp/tattach-modified-XXXXXX", *out = NULL, *err = NULL, *got;
	struct target t;

	start_copy(&t, dir);
	if (breakpoint)
		poke_breakpoint(t.pid, mapped_at(t.pid, "libwork.so", 1));
	shell("touch -d '+10 seconds' %s/libwork.so %s/uselib", dir, dir);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	if (breakpoint) {
		cr_assert(strstr(out, "2 sites in 1 module"), "%s", out);
		cr_assert(strstr(err, "/libwork.so was modified on disk after the process "
				      "started, and its code in memory differs from it: its sites "
				      "(if any) are not traced"), "%s", err);
	} else {
		cr_assert(strstr(out, "4 sites in 2 modules"), "%s", out);
		cr_assert_str_eq(err, "");
	}
	free(out);
	free(err);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, breakpoint ? "app_work" : "app_work(lib_work(lib_leaf lib_leaf))",
			 "%s", out);
	free(got);
	free(out);
	free(err);
	if (!breakpoint) {
		/* traced, the code differs from the file at the sites only: the
		 * library's two are patched again, the program's made NOPs */
		cr_assert_eq(tattach(t.pid, "--enable -F lib_work -F lib_leaf", &out, &err), 0, "%s", err);
		cr_assert(strstr(out, "tracing enabled: 2 sites in "), "%s", out);
		free(out);
		free(err);
	}
	target_stop(&t);
	ring_remove(t.pid);
	shell("rm -rf %s", dir);
}

Test(modules, files_written_since_start_traced_when_their_code_is_the_same, .timeout = 60)
{
	written_since_start(0);
}

Test(modules, library_written_since_start_with_other_code_not_traced, .timeout = 60)
{
	written_since_start(1);
}

/*
 * A library traced, unloaded and loaded again at the same address with
 * no tattach run in between: its sites hold the compiler's bytes again.
 * The next --enable writes them again (it said "already enabled" and left
 * the library untraced).
 */
Test(modules, library_loaded_again_at_the_same_address, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got;
	unsigned long long first;
	struct target t;

	target_start(&t, build_path("tests/targets/dlopener"));
	cr_assert_str_eq(target_cmd(&t, "load"), "done");
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "in 2 modules"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");
	first = mapped_at(t.pid, "libwork.so", 0);
	cr_assert_str_eq(target_cmd(&t, "unload"), "done");
	cr_assert_eq(mapped_at(t.pid, "libwork.so", 0), 0, "libwork.so still mapped after dlclose");
	cr_assert_str_eq(target_cmd(&t, "load"), "done");
	cr_assert_eq(mapped_at(t.pid, "libwork.so", 0), first,
		     "libwork.so came back elsewhere: the case is not made");
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");	/* not traced */
	cr_assert_eq(tattach(t.pid, "--enable -v", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing enabled") && strstr(out, "in 2 modules"), "%s", out);
	cr_assert(strstr(err, "libwork.so was unloaded and loaded again at the same address"),
		  "%s", err);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	out = disable_then_read(t.pid);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, "lib_work(lib_leaf lib_leaf) unload load lib_work(lib_leaf lib_leaf "
			      "lib_leaf)", "%s", out);
	target_stop(&t);
	ring_remove(t.pid);
	free(got);
}

/* dlopener with @lib loaded (its command into @load), enabled with
 * tattach @enable, then "run 2" traced. */
static void traced_library(struct target *t, const char *lib, const char *enable,
			   char *load, size_t len)
{
	char *out = NULL, *err = NULL;

	snprintf(load, len, "load %s", lib);
	target_start(t, build_path("tests/targets/dlopener"));
	cr_assert_str_eq(target_cmd(t, load), "done");
	cr_assert_eq(tattach(t->pid, enable, &out, &err), 0, "%s", err);
	cr_assert_str_eq(target_cmd(t, "run 2"), "done");
	free(out);
	free(err);
}

/*
 * @lib traced with --enable @how, unloaded and loaded again at the same
 * address with no tattach run in between; the next --enable @how must
 * trace it again.  Returns tread's tree after a "run 2" traced before and
 * a "run 3" traced after, then command @last (NULL: none).
 */
static char *reloaded_library(const char *lib, const char *how, const char *last)
{
	char *out = NULL, *err = NULL, *got, load[64], enable[128];
	unsigned long long first;
	struct target t;

	snprintf(enable, sizeof(enable), "--enable -v %s", how);
	traced_library(&t, lib, enable, load, sizeof(load));
	first = mapped_at(t.pid, lib, 0);
	cr_assert_str_eq(target_cmd(&t, "unload"), "done");
	cr_assert_eq(mapped_at(t.pid, lib, 0), 0, "%s still mapped after dlclose", lib);
	cr_assert_str_eq(target_cmd(&t, load), "done");
	cr_assert_eq(mapped_at(t.pid, lib, 0), first, "%s came back elsewhere: the case is not made",
		     lib);
	cr_assert_str_eq(target_cmd(&t, "run 1"), "done");	/* not traced */
	cr_assert_eq(tattach(t.pid, enable, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing enabled"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	if (last)
		cr_assert_str_eq(target_cmd(&t, last), "done");
	out = disable_then_read(t.pid);
	got = graph_canon(out, t.pid);
	target_stop(&t);
	ring_remove(t.pid);
	return got;
}

/* The same with a library without -pg, its entries patched (--module):
 * one entry is read back. */
Test(modules, library_loaded_again_has_its_entries_patched_again, .timeout = 60)
{
	char *got = reloaded_library("libwork.plain.so", "--module libwork.plain", NULL);

	cr_assert_str_eq(got, "lib_work(lib_leaf lib_leaf) unload load lib_work(lib_leaf lib_leaf "
			      "lib_leaf)");
	free(got);
}

/*
 * And its library calls hooked (--libcalls hooks modules with sites, whose
 * sites tell): libwork.so's one import, __cxa_finalize, called through
 * its GOT when dlclose() unloads it.
 */
Test(modules, library_loaded_again_has_its_calls_hooked_again, .timeout = 60)
{
	char *got = reloaded_library("libwork.so", "--libcalls -F ^(lib_work|lib_leaf|load|unload|"
				     "__cxa_finalize)$", "unload");

	cr_assert_str_eq(got, "lib_work(lib_leaf lib_leaf) unload(__cxa_finalize) load "
			      "lib_work(lib_leaf lib_leaf lib_leaf) unload(__cxa_finalize)");
	free(got);
}

/*
 * A library whose calls are hooked (--libcalls) or whose entries are
 * patched (--module), dlclose()d: the next --enable and --disable leave
 * its addresses alone and succeed (both failed, "rewriting the call path
 * of __cxa_finalize failed" and "Input/output error", tracing left on).
 */
static void unloaded_with_hooks(const char *lib, const char *how, const char *again,
				const char *unloaded, const char *status)
{
	char *out = NULL, *err = NULL, load[64], enable[128], enable_again[128];
	struct target t;

	snprintf(enable, sizeof(enable), "--enable %s", how);
	snprintf(enable_again, sizeof(enable_again), "--enable %s", again);
	traced_library(&t, lib, enable, load, sizeof(load));
	cr_assert_str_eq(target_cmd(&t, "unload"), "done");
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, lib) && strstr(strstr(out, lib), " sites, not loaded now\n"),
		  "%s", out);
	cr_assert(strstr(out, unloaded), "%s", out);
	cr_assert(strstr(out, "\npatched:      3 of 3 sites"), "%s", out);	/* dlopener's */
	cr_assert_eq(tattach(t.pid, enable_again, &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing enabled: 3 sites in 1 module,"), "%s", out);
	/* libwork.so, for "run" below (and the same library loaded again, with
	 * --libcalls: the run before marked it unhooked, as it is) */
	cr_assert_str_eq(target_cmd(&t, "load"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing disabled"), "%s", out);
	cr_assert_eq(tattach(t.pid, "--status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing:      disabled\n"), "%s", out);
	cr_assert(strstr(out, status), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 4"), "done");
	cr_assert_eq(WEXITSTATUS(target_stop(&t)), 0);
	ring_remove(t.pid);
	free(out);
	free(err);
}

Test(modules, library_with_calls_hooked_unloaded, .timeout = 60)
{
	unloaded_with_hooks("libwork.so", "--libcalls", "--libcalls", "library calls: 1 in ",
			    "library calls: 0 of 1 hooked in ");
}

Test(modules, library_with_entries_patched_unloaded, .timeout = 60)
{
	/* (--module names a library loaded: the next --enable is a plain one) */
	unloaded_with_hooks("libwork.plain.so", "--module libwork.plain", "",
			    "entries:      2 functions in ", "libwork.plain.so, not loaded now\n");
}

/* A library dlopen()ed after --enable is traced by the next --enable. */
Test(modules, library_loaded_after_enable, .timeout = 60)
{
	char *out = NULL, *err = NULL, *got;
	struct target t;

	target_start(&t, build_path("tests/targets/dlopener"));
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "in 1 module,"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "load"), "done");
	cr_assert_str_eq(target_cmd(&t, "run 2"), "done");	/* not traced yet */
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "tracing enabled") && strstr(out, "in 2 modules"), "%s", out);
	cr_assert_eq(tattach(t.pid, "--enable", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "already enabled"), "%s", out);
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);
	cr_assert_eq(tread(t.pid, "", &out, &err), 0, "%s", err);
	got = graph_canon(out, t.pid);
	cr_assert_str_eq(got, "load lib_work(lib_leaf lib_leaf lib_leaf)", "%s", out);
	target_stop(&t);
	free(got);
}
