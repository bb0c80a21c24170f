/* SPDX-License-Identifier: MIT */
/*
 * The functions an ELF file calls in other objects, and where each call
 * passes: the jump of its PLT entry (JUMP_SLOT relocations) or its GOT
 * slot itself (GLOB_DAT relocations of functions: -fno-plt call sites,
 * "call *foo@GOTPCREL(%rip)", and .plt.got entries).
 *
 *   hook   what a call reads                       what tattach rewrites
 *   PLT    ff 25 <got> / f2 ff 25 <got> in .plt*   that jump: e9 <stub> 90...
 *   GOT    the GLOB_DAT slot                       the slot: &stub
 *
 * The list is a pure function of the file (same file, same list, same
 * order): the ring's site table stores an import by its position in it,
 * and tread finds the name again from the file (docs/any-binary.md).
 */
#ifndef TATTACH_PATCHER_IMPORTS_H
#define TATTACH_PATCHER_IMPORTS_H

#include <stddef.h>
#include <stdint.h>

#define IMPORT_NAME_MAX 128

enum import_hook {
	IMPORT_PLT = 1,		/* rewrite the PLT entry's jump */
	IMPORT_GOT = 2,		/* rewrite the GOT slot */
};

struct import {
	char     name[IMPORT_NAME_MAX];	/* from .dynsym, no version */
	uint64_t got;			/* ELF vaddr of its GOT slot */
	uint64_t plt;			/* IMPORT_PLT: ELF vaddr of the jump */
	uint8_t  hook;			/* enum import_hook */
	uint8_t  len;			/* IMPORT_PLT: 6 or 7 bytes */
	uint8_t  orig[8];		/* IMPORT_PLT: the file's bytes there */
};

struct import_list {
	struct import *v;
	size_t n, cap;
	size_t no_plt;			/* JUMP_SLOTs whose PLT jump was not found */
	uint64_t lo, hi;		/* ELF vaddr range of every PLT jump and slot */
};

/*
 * imports_find - list the imported functions of the ELF file at @path
 * Functions that must never be hooked (imports_denied()) are left out.
 * A file without dynamic relocations gives 0 and out->n == 0.
 * Returns 0, -ENOENT/-EACCES, -ENOEXEC (not an x86-64 ELF) or -ENOMEM,
 * with a one-line reason in @err.
 */
int imports_find(const char *path, struct import_list *out, char *err, size_t errlen);
void imports_free(struct import_list *l);

/*
 * Is @name a function whose return address must not be replaced: it
 * returns twice (setjmp, vfork, getcontext), it looks at its caller's
 * address (dlopen, dlsym), it unwinds through it (__cxa_throw), or it is
 * -pg's own hook (mcount)?  Returns the reason, or NULL.
 */
const char *imports_denied(const char *name);

/* The bytes of an enabled PLT hook: a jmp from @addr to @stub, then NOPs.
 * -ERANGE if @stub is out of rel32 reach. */
int imports_plt_bytes(uint64_t addr, unsigned len, uint64_t stub, uint8_t *out);

#endif
