/* SPDX-License-Identifier: MIT */
/*
 * Private to patcher/sites*.c: one opened ELF image and what the three
 * site finders learn from it.
 *
 *   sites.c        the public entry points, the site list, the dispatch
 *   sites_elf.c    the image: open, vaddr -> bytes, symbols, relocations,
 *                  load facts
 *   sites_scan.c   the three finders (__patchable_function_entries,
 *                  __mcount_loc, disassembly) and callee resolution
 */
#ifndef TATTACH_PATCHER_SITES_PRIV_H
#define TATTACH_PATCHER_SITES_PRIV_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "patcher/sites.h"

/* A function symbol: enough to say which function holds an address. */
struct img_func {
	uint64_t addr;
	uint64_t size;
};

/*
 * An address that means "the hook": where mcount/_mcount/__fentry__ is
 * defined, or a GOT slot the dynamic linker fills with its address.
 */
struct img_hook {
	uint64_t addr;
	uint8_t kind;			/* enum tat_site_kind */
};

/* R_X86_64_RELATIVE: what the dynamic linker stores at @off. */
struct img_rel {
	uint64_t off;
	uint64_t addend;
};

struct img_range {
	uint64_t start, end;
};

#define IMG_MAX_HOOKS 16
#define IMG_MAX_PLT   4

struct img {
	const char *path;
	int fd;
	Elf *elf;
	const uint8_t *raw;		/* the whole file, mapped by libelf */
	size_t rawsz;
	GElf_Ehdr eh;
	GElf_Phdr *ph;
	size_t nph;
	size_t shnum;
	size_t shstrndx;
	uint8_t *sec_exec;		/* [shnum]: section is SHF_EXECINSTR */
	int has_needed;			/* PT_DYNAMIC with a DT_NEEDED */

	Elf_Scn *patchable;		/* __patchable_function_entries */
	Elf_Scn *mcount_loc;		/* __mcount_loc */
	Elf_Scn *symtab, *dynsym;
	struct img_range plt[IMG_MAX_PLT];	/* .plt .plt.sec .plt.got */
	size_t nplt;

	/* From img_load_symbols() */
	struct img_func *funcs;		/* sorted by addr, unique addr */
	size_t nfuncs;
	struct img_hook defs[IMG_MAX_HOOKS];
	size_t ndefs;
	int hook_undef;			/* a hook is an undefined symbol */

	/* From img_load_hook_slots() */
	struct img_hook slots[IMG_MAX_HOOKS];
	size_t nslots;

	/* From img_load_relative(), only when an entry reads as 0 */
	struct img_rel *rel;
	size_t nrel;
	int rel_loaded;

	char *err;
	size_t errlen;
};

/* sites_elf.c */
int img_open(struct img *im, const char *path, char *err, size_t errlen);
void img_close(struct img *im);
void img_facts(struct img *im, struct elf_facts *facts);
int img_err(struct img *im, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const uint8_t *img_bytes(const struct img *im, uint64_t vaddr, size_t len);
const uint8_t *img_section_bytes(const struct img *im, Elf_Scn *scn, size_t *size);
int img_load_symbols(struct img *im);
int img_load_hook_slots(struct img *im);
int img_resolve_relative(struct img *im, uint64_t off, uint64_t *val);
const struct img_func *img_func_at(const struct img *im, uint64_t vaddr);
const struct img_func *img_func_after(const struct img *im, uint64_t vaddr);
int img_hook_kind(const struct img_hook *v, size_t n, uint64_t addr);
int img_in_plt(const struct img *im, uint64_t vaddr);

/* sites.c */
int site_add(struct site_list *list, uint64_t vaddr, uint8_t kind,
	     const uint8_t *bytes, uint8_t len);

/* sites_scan.c */
int scan_patchable(struct img *im, struct site_list *out);
int scan_mcount_loc(struct img *im, struct site_list *out);
int scan_disasm(struct img *im, struct site_list *out);
int scan_disasm_wanted(const struct img *im);

#endif
