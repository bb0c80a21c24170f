// SPDX-License-Identifier: MIT
/*
 * symbols/: runtime address -> function name for a real -pg binary, at
 * load bias 0 and at a PIE-like bias, plus the failure paths.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/ringgen.h"
#include "symbols/symbols.h"

static const char *const funcs[] = { "leaf", "a", "b", "c", "work" };

static const char *target(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s", ringgen_target_path("calltree.pg.O2"));
	if (access(path, R_OK))
		cr_skip_test("%s not built: run 'make targets'", path);
	return path;
}

static void resolve_all(uint64_t bias)
{
	const char *path = target();
	struct sym_resolver *r;
	char err[256];

	cr_assert_eq(sym_open(&r), 0);
	cr_assert_eq(sym_add_module(r, path, bias, NULL, 0, err, sizeof(err)), 0,
		     "%s", err);
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		struct sym_info info;
		uint64_t vaddr;

		cr_assert_eq(ringgen_elf_symbol(path, funcs[i], &vaddr), 0);
		/* the call site, inside the function */
		cr_assert_eq(sym_resolve(r, vaddr + bias + 4, &info), 0, "%s", funcs[i]);
		cr_assert_str_eq(info.name, funcs[i]);
		cr_assert_eq(info.offset, 4);
		cr_assert(info.known);
		cr_assert_str_eq(info.module, path);
		/* built with -g: the line is in calltree.c */
		cr_assert_not_null(info.file, "%s has no line info", funcs[i]);
		cr_assert(strstr(info.file, "calltree.c"), "%s", info.file);
		cr_assert_gt(info.line, 0);
		/* the first byte of the function, too */
		cr_assert_eq(sym_resolve(r, vaddr + bias, &info), 0);
		cr_assert_str_eq(info.name, funcs[i]);
		cr_assert_eq(info.offset, 0);
	}
	sym_close(r);
}

Test(symbols, bias_zero)
{
	resolve_all(0);
}

Test(symbols, pie_bias)
{
	resolve_all(0x55d4c3a00000ull);
}

Test(symbols, unknown_address_is_hex)
{
	const char *path = target();
	struct sym_resolver *r;
	struct sym_info info;

	cr_assert_eq(sym_open(&r), 0);
	cr_assert_eq(sym_add_module(r, path, 0x1000000, NULL, 0, NULL, 0), 0);
	cr_assert_eq(sym_resolve(r, 0x42, &info), -ENOENT);
	cr_assert_str_eq(info.name, "0x42");
	cr_assert_not(info.known);
	cr_assert_null(info.module);
	/* without the bias the address falls outside the module */
	cr_assert_eq(sym_resolve(r, 0x14c4, &info), -ENOENT);
	cr_assert_str_eq(info.name, "0x14c4");
	sym_close(r);
}

Test(symbols, empty_resolver)
{
	struct sym_resolver *r;
	struct sym_info info;

	cr_assert_eq(sym_open(&r), 0);
	cr_assert_eq(sym_resolve(r, 0xffffffffffffffffull, &info), -ENOENT);
	cr_assert_str_eq(info.name, "0xffffffffffffffff");
	cr_assert_eq(sym_module_count(r), 0);
	sym_close(r);
	sym_close(NULL);
}

Test(symbols, build_id_checked)
{
	const char *path = target();
	struct ringgen g;
	struct tat_module *m;
	struct sym_resolver *r;
	uint8_t wrong[20];
	char err[256];

	/* ringgen reads the real build id; a right one is accepted... */
	cr_assert_eq(ringgen_init(&g, NULL), 0);
	cr_assert_eq(ringgen_add_module(&g, path, 0), 0);
	m = (struct tat_module *)(g.buf + g.hdr->module_off);
	cr_assert_gt(m->build_id_len, 0, "calltree has no build id");
	cr_assert_eq(sym_open(&r), 0);
	cr_assert_eq(sym_add_module(r, path, 0, m->build_id, m->build_id_len,
				    err, sizeof(err)), 0, "%s", err);
	/* ...a different one means the file was replaced */
	memset(wrong, 0xab, sizeof(wrong));
	cr_assert_eq(sym_add_module(r, path, 0, wrong, sizeof(wrong), err,
				    sizeof(err)), -ESTALE);
	cr_assert(strstr(err, "build id"), "%s", err);
	cr_assert_eq(sym_module_count(r), 1);
	sym_close(r);
	ringgen_free(&g);
}

Test(symbols, unusable_files)
{
	struct sym_resolver *r;
	char err[256], fifo[] = "/tmp/tread-sym-fifo-XXXXXX";
	int fd;

	cr_assert_eq(sym_open(&r), 0);
	cr_assert_eq(sym_add_module(r, "/nonexistent/lib.so", 0, NULL, 0, err,
				    sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/lib.so"), "%s", err);
	cr_assert_eq(sym_add_module(r, "", 0, NULL, 0, err, sizeof(err)), -EINVAL);
	/* not ELF */
	fd = mkstemp(fifo);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "hello", 5), 5);
	close(fd);
	cr_assert_eq(sym_add_module(r, fifo, 0, NULL, 0, err, sizeof(err)), -ENOEXEC);
	unlink(fifo);
	/* a FIFO must not block us */
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(sym_add_module(r, fifo, 0, NULL, 0, err, sizeof(err)), -ENOEXEC);
	unlink(fifo);
	cr_assert_eq(sym_add_module(r, "/dev/zero", 0, NULL, 0, err, sizeof(err)),
		     -ENOEXEC);
	cr_assert_eq(sym_module_count(r), 0);
	sym_close(r);
}

/* No symbol table left, DWARF only: names come from DW_TAG_subprogram. */
Test(symbols, dwarf_without_symtab)
{
	const char *path = target();
	char copy[] = "/tmp/tread-nosym-XXXXXX", cmd[8192];
	struct sym_resolver *r;
	char err[256];
	int fd;

	fd = mkstemp(copy);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "objcopy --strip-all --keep-section='.debug_*' "
		 "'%s' '%s' 2>/dev/null", path, copy);
	if (system(cmd) != 0) {
		unlink(copy);
		cr_skip_test("objcopy unavailable");
	}
	cr_assert_eq(sym_open(&r), 0);
	cr_assert_eq(sym_add_module(r, copy, 0x400000, NULL, 0, err, sizeof(err)), 0,
		     "%s", err);
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		struct sym_info info;
		uint64_t vaddr;

		cr_assert_eq(ringgen_elf_symbol(path, funcs[i], &vaddr), 0);
		cr_assert_eq(sym_resolve(r, vaddr + 0x400000 + 4, &info), 0, "%s", funcs[i]);
		cr_assert_str_eq(info.name, funcs[i]);
		cr_assert_eq(info.offset, 4);
	}
	sym_close(r);
	unlink(copy);
}
