// SPDX-License-Identifier: MIT
/*
 * The three ways to find the sites, best first:
 *
 *   __patchable_function_entries   the compiler lists every NOP area
 *   __mcount_loc                   the compiler lists every mcount call
 *   disassembly                    nothing is listed: look at the start
 *                                  of every function for the hook call
 *
 * A listed entry is still checked against the bytes: the patcher must
 * never rewrite anything but one of the forms docs/site-forms.md lists.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <string.h>

#include "tattach/ring.h"
#include "patcher/sites_priv.h"

/* How far into a function the hook call can be: the -pg call follows at
 * most a frame-pointer prologue and a few register saves. */
#define DISASM_WINDOW 64

/* Longest run of NOP padding in front of a function worth looking at. */
#define PAD_WINDOW 64

static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
static const uint8_t nop5_prefix[4] = { 0x0f, 0x1f, 0x44, 0x00 };
static const uint8_t fp_prologue[4] = { 0x55, 0x48, 0x89, 0xe5 };	/* push %rbp; mov %rsp,%rbp */

static int32_t rd32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int is_endbr(const struct img *im, uint64_t vaddr)
{
	const uint8_t *b = img_bytes(im, vaddr, sizeof(endbr64));

	return b && !memcmp(b, endbr64, sizeof(endbr64));
}

/* @vaddr is where execution enters the function @f: its first byte, or
 * just after the endbr64 that -fcf-protection puts there. */
static int is_entry(const struct img *im, const struct img_func *f, uint64_t vaddr)
{
	return vaddr == f->addr || (vaddr == f->addr + 4 && is_endbr(im, f->addr));
}

/*
 * Read the u64 entry @i of a site table.  An entry that reads 0 in a PIE or
 * DSO is filled at load time by an R_X86_64_RELATIVE relocation; its addend
 * is the link-time address.  Returns 0, 1 (no address), or -ENOMEM.
 */
static int table_entry(struct img *im, const uint8_t *tab, uint64_t tab_addr,
		       size_t i, uint64_t *vaddr)
{
	int ret;

	memcpy(vaddr, tab + i * 8, 8);
	if (*vaddr)
		return 0;
	ret = img_resolve_relative(im, tab_addr + i * 8, vaddr);
	if (ret < 0)
		return img_err(im, ret, "out of memory");
	return ret || !*vaddr;
}

static const uint8_t *site_table(struct img *im, Elf_Scn *scn, uint64_t *addr,
				 size_t *n)
{
	const uint8_t *tab;
	GElf_Shdr sh;
	size_t size;

	*n = 0;
	if (!gelf_getshdr(scn, &sh))
		return NULL;
	tab = img_section_bytes(im, scn, &size);
	if (!tab)
		return NULL;
	*addr = sh.sh_addr;
	*n = size / 8;
	return tab;
}

/*
 * -fpatchable-function-entry=N,M puts M of the N NOPs before the function
 * label and lists that address.  Execution never runs through those, so
 * only the function's entry counts.  When no symbol covers @vaddr (a
 * stripped DSO keeps only its exported functions), refuse at least what
 * is plainly padding in front of a known function.
 */
static int pfe_position_ok(const struct img *im, uint64_t vaddr)
{
	const struct img_func *f = img_func_at(im, vaddr);
	const uint8_t *b;
	uint64_t gap;

	if (f)
		return is_entry(im, f, vaddr);
	f = img_func_after(im, vaddr);
	if (!f)
		return 1;
	gap = f->addr - vaddr;
	/* A real function holds at least the 5 NOPs and a ret. */
	if (gap <= 5)
		return 0;
	if (gap > PAD_WINDOW)
		return 1;
	b = img_bytes(im, vaddr, gap);
	if (!b)
		return 1;
	for (uint64_t k = 0; k < gap; k++)
		if (b[k] != 0x90)
			return 1;
	return 0;
}

static int add_or_fail(struct img *im, struct site_list *out, uint64_t vaddr,
		       int kind, const uint8_t *bytes, uint8_t len)
{
	if (site_add(out, vaddr, (uint8_t)kind, bytes, len))
		return img_err(im, -ENOMEM, "out of memory");
	return 0;
}

int scan_patchable(struct img *im, struct site_list *out)
{
	static const uint8_t nops[5] = { 0x90, 0x90, 0x90, 0x90, 0x90 };
	const uint8_t *tab;
	uint64_t tab_addr = 0;
	size_t n;
	int ret;

	out->source = SITES_FROM_PATCHABLE;
	tab = site_table(im, im->patchable, &tab_addr, &n);
	if (!tab)
		return img_err(im, -ENOEXEC, "unreadable __patchable_function_entries");
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b;
		uint64_t v;

		ret = table_entry(im, tab, tab_addr, i, &v);
		if (ret < 0)
			return ret;
		b = ret ? NULL : img_bytes(im, v, 5);
		/* gcc pads with single-byte NOPs, clang with one 5-byte NOP
		 * whose last byte varies. */
		if (!b || (memcmp(b, nops, 5) && memcmp(b, nop5_prefix, 4)) ||
		    !pfe_position_ok(im, v)) {
			out->skipped++;
			continue;
		}
		ret = add_or_fail(im, out, v, TAT_SITE_FENTRY, b, 5);
		if (ret)
			return ret;
	}
	return 0;
}

/* Which hook `jmp *slot(%rip)` in the PLT entry at @vaddr leads to, or -1. */
static int plt_kind(const struct img *im, uint64_t vaddr)
{
	const uint8_t *b;

	if (is_endbr(im, vaddr))
		vaddr += 4;			/* .plt.sec / IBT .plt.got */
	b = img_bytes(im, vaddr, 1);
	if (b && b[0] == 0xf2)
		vaddr++;			/* MPX "bnd jmp" */
	b = img_bytes(im, vaddr, 6);
	if (!b || b[0] != 0xff || b[1] != 0x25)
		return -1;
	return img_hook_kind(im->slots, im->nslots, vaddr + 6 + (int64_t)rd32(b + 2));
}

/* Which hook a `call rel32` to @target reaches, or -1. */
static int call_kind(const struct img *im, uint64_t target)
{
	int kind = img_hook_kind(im->defs, im->ndefs, target);

	if (kind >= 0)
		return kind;
	if (!img_in_plt(im, target))
		return -1;
	return plt_kind(im, target);
}

/*
 * Kind of the hook called by the instruction at @vaddr (bytes @b, @len
 * long), or -1: e8 rel32 directly or through the PLT, ff 15 through the
 * GOT, or 67 e8: the `call *mcount@GOTPCREL(%rip)` that ld relaxes to a
 * direct "addr32 call" when the hook ends up in the same image (a static
 * executable built from the default PIC code).
 */
static int call_site_kind(const struct img *im, uint64_t vaddr, const uint8_t *b,
			  size_t len)
{
	if (len == 5 && b[0] == 0xe8)
		return call_kind(im, vaddr + 5 + (int64_t)rd32(b + 1));
	if (len == 6 && b[0] == 0xff && b[1] == 0x15)
		return img_hook_kind(im->slots, im->nslots,
				     vaddr + 6 + (int64_t)rd32(b + 2));
	if (len == 6 && b[0] == 0x67 && b[1] == 0xe8)
		return call_kind(im, vaddr + 6 + (int64_t)rd32(b + 2));
	return -1;
}

/*
 * -mnop-mcount leaves a NOP where the call was; its place says which call
 * it stood for.  Without a symbol, a frame-pointer prologue just before
 * it is the sign of an mcount-style site.
 */
static int nop_kind(const struct img *im, uint64_t vaddr)
{
	const struct img_func *f = img_func_at(im, vaddr);
	const uint8_t *b;

	if (f)
		return is_entry(im, f, vaddr) ? TAT_SITE_FENTRY : TAT_SITE_MCOUNT;
	if (vaddr < 16)
		return TAT_SITE_FENTRY;
	b = img_bytes(im, vaddr - 16, 16);
	if (b && memmem(b, 16, fp_prologue, sizeof(fp_prologue)))
		return TAT_SITE_MCOUNT;
	return TAT_SITE_FENTRY;
}

int scan_mcount_loc(struct img *im, struct site_list *out)
{
	const uint8_t *tab;
	uint64_t tab_addr = 0;
	size_t n;
	int ret;

	out->source = SITES_FROM_MCOUNT_LOC;
	tab = site_table(im, im->mcount_loc, &tab_addr, &n);
	if (!tab)
		return img_err(im, -ENOEXEC, "unreadable __mcount_loc");
	ret = img_load_hook_slots(im);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b;
		uint8_t len = 0;
		int kind = -1;
		uint64_t v;

		ret = table_entry(im, tab, tab_addr, i, &v);
		if (ret < 0)
			return ret;
		b = ret ? NULL : img_bytes(im, v, 5);
		if (b && b[0] == 0xe8) {
			len = 5;
		} else if (b && ((b[0] == 0xff && b[1] == 0x15) ||
				 (b[0] == 0x67 && b[1] == 0xe8))) {
			len = 6;
			b = img_bytes(im, v, 6);
		} else if (b && !memcmp(b, nop5_prefix, 4) && b[4] == 0x00) {
			kind = nop_kind(im, v);
			len = 5;
		}
		if (b && len && kind < 0)
			kind = call_site_kind(im, v, b, len);
		if (kind < 0) {
			out->skipped++;
			continue;
		}
		ret = add_or_fail(im, out, v, kind, b, len);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Disassembling every function is the slow path, and the common file
 * without a site table is a library that was not built with -pg (libc
 * itself defines mcount).  Only a file that imports a hook, or a static
 * executable that carries its own, can call one.
 */
int scan_disasm_wanted(const struct img *im)
{
	return im->hook_undef || (im->ndefs && !im->has_needed);
}

static int disasm_func(struct img *im, csh cs, cs_insn *insn,
		       const struct img_func *f, struct site_list *out)
{
	size_t size = f->size < DISASM_WINDOW ? f->size : DISASM_WINDOW;
	const uint8_t *code = img_bytes(im, f->addr, size);
	uint64_t addr = f->addr;

	if (!code)
		return 0;
	/* endbr64 is only the landing pad -fcf-protection puts first: step
	 * over it without a round through the disassembler. */
	if (size >= 4 && !memcmp(code, endbr64, 4)) {
		code += 4;
		size -= 4;
		addr += 4;
	}
	while (cs_disasm_iter(cs, &code, &size, &addr, insn)) {
		int kind;

		switch (insn->id) {
		case X86_INS_CALL:
			/* The compiler emits the hook call before any other
			 * call of the function: the first call decides. */
			kind = call_site_kind(im, insn->address, insn->bytes, insn->size);
			if (kind < 0)
				return 0;
			return add_or_fail(im, out, insn->address, kind,
					   insn->bytes, (uint8_t)insn->size);
		case X86_INS_JMP:
		case X86_INS_LJMP:
		case X86_INS_RET:
		case X86_INS_RETF:
		case X86_INS_RETFQ:
			/* The hook call is in the straight-line prologue. */
			return 0;
		default:
			break;
		}
	}
	return 0;
}

int scan_disasm(struct img *im, struct site_list *out)
{
	cs_insn *insn = NULL;
	csh cs = 0;
	cs_err cerr;
	int ret;

	out->source = SITES_FROM_DISASM;
	ret = img_load_hook_slots(im);
	if (ret)
		return ret;
	cerr = cs_open(CS_ARCH_X86, CS_MODE_64, &cs);
	if (cerr != CS_ERR_OK)
		return img_err(im, cerr == CS_ERR_MEM ? -ENOMEM : -EINVAL,
			       "capstone: %s", cs_strerror(cerr));
	insn = cs_malloc(cs);
	if (!insn) {
		ret = img_err(im, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < im->nfuncs; i++) {
		ret = disasm_func(im, cs, insn, &im->funcs[i], out);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	return ret;
}
