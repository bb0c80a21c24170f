/* SPDX-License-Identifier: MIT */
/*
 * Turning runtime code addresses of a (possibly exited) process back into
 * function names.
 *
 * The caller tells the resolver which ELF files were loaded and at which
 * load bias (runtime address = ELF vaddr + load_bias); the resolver reads
 * their symbol tables and DWARF through libdwfl.  Nothing here needs the
 * process to be alive: only the files on disk (or separate debuginfo found
 * by build id under /usr/lib/debug) are read.
 *
 * Function names come from the ELF symbol table (.symtab, else .dynsym, or
 * the symbol table of separate debuginfo); when no symbol covers an address
 * but DWARF does, the enclosing DW_TAG_subprogram names it.  Source file
 * and line come from DWARF when present.
 *
 * Every lookup that finds nothing still yields a printable name, "0x<addr>",
 * so callers never need a special case.  The resolver is not thread safe.
 */
#ifndef TATTACH_SYMBOLS_H
#define TATTACH_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct sym_resolver;

/* What sym_resolve() learnt about one address.  The strings belong to the
 * resolver and stay valid until sym_close(). */
struct sym_info {
	const char *name;	/* function name, or "0x<addr>" when unknown */
	uint64_t    offset;	/* address - start of the function (0 if unknown) */
	const char *file;	/* source file, NULL without line information */
	int         line;	/* 0 without line information */
	const char *module;	/* path of the module, NULL if none covers it */
	int         known;	/* 1 if name is a real symbol, 0 for "0x..." */
};

/*
 * sym_open - create an empty resolver
 * @out: receives the resolver; free it with sym_close()
 *
 * Returns 0 or -ENOMEM.
 */
int sym_open(struct sym_resolver **out);

/*
 * sym_close - free a resolver and every string it handed out
 * @r: resolver, may be NULL
 */
void sym_close(struct sym_resolver *r);

/*
 * sym_add_module - make the symbols of one loaded ELF file available
 * @r:            resolver
 * @path:         file to read
 * @load_bias:    runtime address minus ELF virtual address
 * @build_id:     the build id the process had loaded, or NULL
 * @build_id_len: its length, 0 when unknown
 * @err, @errlen: a one-line reason on failure (may be NULL/0)
 *
 * When a build id is given and the file on disk carries a different one,
 * the file was replaced since the process loaded it: its symbols would
 * name the wrong functions, so the module is not added.
 *
 * Modules may overlap (their addresses are only compared after removing
 * each one's bias); the first one added that covers an address wins.
 *
 * Returns 0, -ENOENT/-EACCES/-ENOEXEC when the file cannot be used,
 * -ESTALE on a build id mismatch, -EINVAL on bad arguments, -ENOMEM.
 */
int sym_add_module(struct sym_resolver *r, const char *path, uint64_t load_bias,
		   const uint8_t *build_id, size_t build_id_len,
		   char *err, size_t errlen);

/*
 * sym_resolve - name the function containing a runtime address
 * @r:    resolver
 * @addr: runtime address
 * @out:  filled in; out->name is never NULL
 *
 * Returns 0 when a function was found, -ENOENT when not (out still holds
 * the "0x<addr>" name), -ENOMEM.
 *
 * Lookups are not cached here: callers that see the same address many
 * times keep their own cache keyed by something cheaper than an address.
 */
int sym_resolve(struct sym_resolver *r, uint64_t addr, struct sym_info *out);

/*
 * sym_module_count - number of modules successfully added
 */
size_t sym_module_count(const struct sym_resolver *r);

#endif /* TATTACH_SYMBOLS_H */
