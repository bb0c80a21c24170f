/* SPDX-License-Identifier: MIT */
/*
 * Finding patchable call sites in an ELF file.
 *
 * gcc and clang leave one of these at the start of every instrumented
 * function; sites_find() reports each with the bytes the file holds there,
 * so the patcher can refuse to touch memory that does not match.
 *
 *   form                                   bytes                 kind    found via
 *   -pg (PIC/PIE, Debian default)          ff 15 <GOT mcount>    MCOUNT  disassembly
 *   -pg -fno-pic -no-pie                   e8 <mcount@plt>       MCOUNT  disassembly
 *   -pg -mfentry (PIC)                     ff 15 <GOT __fentry__> FENTRY disassembly
 *   -pg -mfentry -fno-pic                  e8 <__fentry__@plt>   FENTRY  disassembly
 *   -pg -mrecord-mcount                    any of the above      ...     __mcount_loc
 *   -pg -mfentry -mnop-mcount -mrecord-mcount  0f 1f 44 00 00    FENTRY  __mcount_loc
 *   -fpatchable-function-entry=5 (gcc)     90 90 90 90 90        FENTRY  __patchable_function_entries
 *   -fpatchable-function-entry=5 (clang)   0f 1f 44 00 08        FENTRY  __patchable_function_entries
 *
 * A FENTRY site is the function's first instruction (after an optional
 * endbr64); an MCOUNT site follows the frame-pointer prologue.
 */
#ifndef TATTACH_PATCHER_SITES_H
#define TATTACH_PATCHER_SITES_H

#include <stddef.h>
#include <stdint.h>

#define SITE_MAX_LEN 8

/* Where the list came from, for --status and error messages. */
enum sites_source {
	SITES_FROM_NONE = 0,
	SITES_FROM_PATCHABLE,	/* __patchable_function_entries */
	SITES_FROM_MCOUNT_LOC,	/* __mcount_loc */
	SITES_FROM_DISASM,	/* capstone over the function symbols */
};

struct site {
	uint64_t vaddr;			/* ELF virtual address of the first byte */
	uint8_t  kind;			/* enum tat_site_kind (include/tattach/ring.h) */
	uint8_t  len;			/* 5 or 6 */
	uint8_t  orig[SITE_MAX_LEN];	/* the file's bytes at vaddr, len of them */
};

struct site_list {
	struct site *v;			/* sorted by vaddr, no duplicates */
	size_t n;
	size_t cap;
	enum sites_source source;
	size_t skipped;			/* listed entries whose bytes matched no form */
};

/* Facts about the file that attach/ needs to relate it to a mapping. */
struct elf_facts {
	int      is_pie_or_dso;		/* ET_DYN */
	uint64_t exec_vaddr;		/* p_vaddr of the executable PT_LOAD */
	uint64_t exec_offset;		/* its p_offset */
	uint64_t exec_memsz;
	uint8_t  build_id[32];
	uint32_t build_id_len;		/* 0 when the file has no NT_GNU_BUILD_ID */
};

/*
 * sites_find - list the patchable sites of the ELF file at @path
 * @path:  file to read (a path or /proc/PID/map_files/...)
 * @out:   filled on success; free with sites_free().  An ELF without any
 *         instrumentation gives 0 and out->n == 0.
 * @facts: if not NULL, filled with the file's load facts
 * @err, @errlen: a one-line reason on failure
 *
 * Returns 0, or -ENOENT/-EACCES (cannot open), -ENOEXEC (not an x86-64
 * ELF), -ENOMEM.
 */
int sites_find(const char *path, struct site_list *out, struct elf_facts *facts,
	       char *err, size_t errlen);

void sites_free(struct site_list *list);

const char *sites_source_name(enum sites_source src);

#endif
