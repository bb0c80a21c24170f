/* SPDX-License-Identifier: MIT */
/*
 * Functions of an ELF file that have no site, and whether their entry can
 * be patched (tattach --entry): a 5-byte jmp replaces the first whole
 * instructions (after an endbr64), which move to a stub (patcher/relocate.c).
 *
 * The list is every function symbol of .symtab (else .dynsym), sorted by
 * address, one per address: a pure function of the file's symbols, so
 * that the ring can store a function by its place in it and tread can
 * find it again (docs/any-binary.md).  Functions that cannot be patched
 * stay in the list with the reason.
 */
#ifndef TATTACH_PATCHER_ENTRIES_H
#define TATTACH_PATCHER_ENTRIES_H

#include <stddef.h>
#include <stdint.h>

#include "patcher/relocate.h"
#include "patcher/sites.h"

struct entry {
	uint64_t start;			/* ELF vaddr of the function */
	uint64_t size;
	uint64_t patch;			/* where the jmp goes: start, or + 4 after endbr64 */
	uint8_t  win;			/* bytes the jmp replaces (0: refused) */
	uint8_t  orig[RELOCATE_MAX];	/* the file's bytes there */
	uint8_t  bounds[RELOCATE_MAX];	/* instruction starts in the window */
	uint8_t  nbounds;
	uint8_t  nfix;
	struct reloc_fix fix[RELOCATE_FIX_MAX];	/* what moving them adjusts */
	const char *refused;		/* why not, or NULL */
	char     name[64];
};

struct entry_list {
	struct entry *v;
	size_t n, cap;
	size_t refused;
	int from_dynsym;		/* no .symtab: exported functions only */
};

/*
 * entries_find - the functions of the file at @path
 * @sites: its -pg sites (functions holding one are refused), or NULL
 * @analyse: 0 lists the functions only (what tread needs to name them)
 * Returns 0, -ENOENT/-EACCES, -ENOEXEC, -ENOMEM, or -ENODATA when the
 * file has no function symbol at all; a one-line reason in @err.
 */
int entries_find(const char *path, const struct site_list *sites, int analyse,
		 struct entry_list *out, char *err, size_t errlen);
void entries_free(struct entry_list *l);

#endif
