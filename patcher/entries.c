// SPDX-License-Identifier: MIT
#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patcher/entries.h"

#define MAX_TEXT 16

struct text {
	uint64_t addr, size;
	const uint8_t *bytes;
};

struct image {
	Elf *elf;
	struct text text[MAX_TEXT];
	size_t ntext;
	struct text plt[4];		/* .plt*: code, but no function starts there */
	size_t nplt;
	struct text eh_hdr, eh;		/* .eh_frame_hdr, .eh_frame */
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* The file's bytes of [addr, addr + len), or NULL if not all in one section. */
static const uint8_t *bytes_at(const struct image *im, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < im->ntext; i++) {
		const struct text *t = &im->text[i];

		if (addr >= t->addr && addr + len <= t->addr + t->size)
			return t->bytes + (addr - t->addr);
	}
	return NULL;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int push(struct entry_list *l, const struct entry *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct entry *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

static int list_fdes(const struct image *im, struct entry_list *out);

/*
 * Every defined function symbol of @symscn, with a size, in code; with
 * @fdes also every function .eh_frame describes (a stripped file).
 */
static int list_functions(const struct image *im, Elf_Scn *symscn, int fdes,
			  struct entry_list *out)
{
	Elf_Data *d = symscn ? elf_getdata(symscn, NULL) : NULL;
	GElf_Shdr sh;
	size_t n = 0, k = 0;

	if (d && gelf_getshdr(symscn, &sh) && sh.sh_entsize)
		n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		struct entry e = { 0 };
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
		    s.st_shndx == SHN_UNDEF || !s.st_value || !s.st_size ||
		    !bytes_at(im, s.st_value, s.st_size))
			continue;
		name = elf_strptr(im->elf, sh.sh_link, s.st_name);
		e.start = s.st_value;
		e.size = s.st_size;
		snprintf(e.name, sizeof(e.name), "%s", name ? name : "?");
		if (push(out, &e))
			return -ENOMEM;
	}
	if (fdes && list_fdes(im, out))
		return -ENOMEM;
	/* One per address, in address order (a named one first: "" sorts
	 * before any name, so skip nameless duplicates explicitly). */
	qsort(out->v, out->n, sizeof(*out->v), entry_cmp);
	for (size_t i = 0; i < out->n; i++) {
		if (k && out->v[i].start == out->v[k - 1].start) {
			if (!out->v[k - 1].name[0])
				out->v[k - 1] = out->v[i];
			continue;
		}
		out->v[k++] = out->v[i];
	}
	out->n = k;
	for (size_t i = 0; i < out->n; i++)
		if (!out->v[i].name[0])
			snprintf(out->v[i].name, sizeof(out->v[i].name), "0x%llx",
				 (unsigned long long)out->v[i].start);
	/* Where a jmp would go, and the file's bytes there: all a --disable
	 * needs to put an entry back, without analysing anything. */
	for (size_t i = 0; i < out->n; i++) {
		struct entry *e = &out->v[i];
		const uint8_t *code = bytes_at(im, e->start, e->size);
		uint64_t skip = e->size >= 4 && !memcmp(code, "\xf3\x0f\x1e\xfa", 4) ? 4 : 0;
		uint64_t n = e->size - skip < RELOCATE_MAX ? e->size - skip : RELOCATE_MAX;

		e->patch = e->start + skip;
		memcpy(e->orig, code + skip, n);
	}
	return 0;
}

static int32_t s32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

static int in_plt(const struct image *im, uint64_t addr)
{
	for (size_t i = 0; i < im->nplt; i++)
		if (addr >= im->plt[i].addr && addr < im->plt[i].addr + im->plt[i].size)
			return 1;
	return 0;
}

/*
 * A file without .symtab: the functions .eh_frame describes, through the
 * sorted table of .eh_frame_hdr.  Only the encodings every x86-64
 * toolchain emits are read (pcrel/datarel sdata4); anything else lists
 * nothing.  Named "" here: tread names them by address (module+0xOFF).
 */
static int list_fdes(const struct image *im, struct entry_list *out)
{
	const uint8_t *h = im->eh_hdr.bytes;
	uint64_t n;

	if (!h || !im->eh.bytes || im->eh_hdr.size < 12 || h[0] != 1 || h[1] != 0x1b ||
	    h[2] != 0x03 || h[3] != 0x3b)
		return 0;
	n = (uint32_t)s32(h + 8);
	if (12 + n * 8 > im->eh_hdr.size)
		return 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t start = im->eh_hdr.addr + (int64_t)s32(h + 12 + i * 8);
		uint64_t fde = im->eh_hdr.addr + (int64_t)s32(h + 16 + i * 8);
		struct entry e = { 0 };
		const uint8_t *f;

		if (fde < im->eh.addr || fde + 16 > im->eh.addr + im->eh.size)
			continue;
		f = im->eh.bytes + (fde - im->eh.addr);
		/* pc_begin, pcrel sdata4, must say the same as the table */
		if (fde + 8 + (int64_t)s32(f + 8) != start || s32(f + 12) <= 0)
			continue;
		e.start = start;
		e.size = (uint64_t)s32(f + 12);
		if (in_plt(im, start) || !bytes_at(im, start, e.size))
			continue;
		if (push(out, &e))
			return -ENOMEM;
	}
	return 0;
}

static int has_site(const struct site_list *sites, const struct entry *e)
{
	for (size_t i = 0; sites && i < sites->n; i++)
		if (sites->v[i].vaddr >= e->start && sites->v[i].vaddr < e->start + e->size)
			return 1;
	return 0;
}

static int not_an_entry(const char *name)
{
	return !strcmp(name, "_start") || !strcmp(name, "_init") || !strcmp(name, "_fini") ||
	       strstr(name, ".cold") != NULL;
}

struct targets {
	uint64_t *v;
	size_t n, cap;
};

static int add_target(struct targets *t, uint64_t to)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		uint64_t *v = reallocarray(t->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = to;
	return 0;
}

/*
 * Disassemble all of @e: note its direct branch targets, refuse it for an
 * indirect jump (a jump table may land anywhere in it) or bytes that do
 * not decode (data, or a form capstone does not know).
 */
static int sweep(csh cs, cs_insn *insn, const uint8_t *code, struct entry *e,
		 struct targets *t)
{
	const uint8_t *p = code;
	size_t left = e->size;
	uint64_t at = e->start;

	while (left && cs_disasm_iter(cs, &p, &left, &at, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		int jump = cs_insn_group(cs, insn, CS_GRP_JUMP);

		if (!jump && !cs_insn_group(cs, insn, CS_GRP_CALL) &&
		    !cs_insn_group(cs, insn, CS_GRP_BRANCH_RELATIVE))
			continue;
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
			if (add_target(t, (uint64_t)x->operands[0].imm))
				return -ENOMEM;
		} else if (jump && !e->refused) {
			e->refused = "an indirect jump (a jump table?) may land in the patched bytes";
		}
	}
	if (left && !e->refused)
		e->refused = "part of it does not decode";
	return 0;
}

static int analyse_all(const struct image *im, const struct site_list *sites,
		       struct entry_list *l)
{
	struct targets t = { 0 };
	cs_insn *insn;
	csh cs;
	int ret = 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -EINVAL;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	for (size_t i = 0; insn && i < l->n && !ret; i++) {
		struct entry *e = &l->v[i];
		const uint8_t *code = bytes_at(im, e->start, e->size);
		size_t skip = 0, nb = 0, nfix = 0;

		e->patch = e->start;
		if (has_site(sites, e)) {
			e->refused = "it has a -pg site (traced without --entry)";
			continue;
		}
		if (not_an_entry(e->name)) {
			e->refused = "not a function entry (_start, _init, _fini, .cold part)";
			continue;
		}
		if (e->size >= 4 && !memcmp(code, "\xf3\x0f\x1e\xfa", 4))
			skip = 4;
		e->patch = e->start + skip;
		if (e->size - skip < 5) {
			e->refused = "too short: fewer than 5 bytes after its entry";
			continue;
		}
		e->win = (uint8_t)relocate_window(code + skip, e->size - skip, e->patch,
						  &e->refused, e->bounds, &nb, e->fix, &nfix);
		e->nbounds = (uint8_t)nb;
		e->nfix = (uint8_t)nfix;
		ret = sweep(cs, insn, code, e, &t);
	}
	if (!insn)
		ret = -ENOMEM;
	/* A direct branch from anywhere into the bytes a jmp replaces. */
	for (size_t k = 0; k < t.n && !ret; k++) {
		size_t lo = 0, hi = l->n;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (l->v[mid].start <= t.v[k])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo) {
			struct entry *e = &l->v[lo - 1];

			if (e->win && t.v[k] > e->patch && t.v[k] < e->patch + e->win) {
				e->refused = "a branch lands in the bytes the jmp would replace";
				e->win = 0;
			}
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].refused)
			l->v[i].win = 0;
		l->refused += !l->v[i].win;
	}
	cs_free(insn, 1);
	cs_close(&cs);
	free(t.v);
	return ret;
}

int entries_find(const char *path, const struct site_list *sites, int analyse,
		 struct entry_list *out, char *err, size_t errlen)
{
	struct image im = { 0 };
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	size_t shstrndx;
	GElf_Ehdr eh;
	int fd, ret = 0;

	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(err, errlen, -ENOEXEC, "libelf: %s", elf_errmsg(-1));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		return fail(err, errlen, ret, "cannot open %s: %s", path, strerror(-ret));
	}
	im.elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!im.elf || !gelf_getehdr(im.elf, &eh) || eh.e_machine != EM_X86_64 ||
	    elf_getshdrstrndx(im.elf, &shstrndx) < 0) {
		ret = fail(err, errlen, -ENOEXEC, "%s: not an x86-64 ELF file", path);
		goto out;
	}
	while ((scn = elf_nextscn(im.elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(im.elf, shstrndx, sh.sh_name);
		Elf_Data *d;

		if (sh.sh_type == SHT_SYMTAB) {
			symtab = scn;
			continue;
		}
		if (sh.sh_type == SHT_DYNSYM) {
			dynsym = scn;
			continue;
		}
		if (sh.sh_type != SHT_PROGBITS || !name)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size != sh.sh_size)
			continue;
		if (!strcmp(name, ".eh_frame_hdr"))
			im.eh_hdr = (struct text){ sh.sh_addr, sh.sh_size, d->d_buf };
		else if (!strcmp(name, ".eh_frame"))
			im.eh = (struct text){ sh.sh_addr, sh.sh_size, d->d_buf };
		if (!(sh.sh_flags & SHF_EXECINSTR))
			continue;
		if (!strncmp(name, ".plt", 4) && im.nplt < 4)
			im.plt[im.nplt++] = (struct text){ sh.sh_addr, sh.sh_size, d->d_buf };
		if (im.ntext < MAX_TEXT)
			im.text[im.ntext++] = (struct text){ sh.sh_addr, sh.sh_size, d->d_buf };
	}
	out->from_dynsym = !symtab;
	ret = list_functions(&im, symtab ? symtab : dynsym, !symtab, out);
	if (!ret && !out->n) {
		ret = fail(err, errlen, -ENODATA, "%s has no function symbols and no "
			   ".eh_frame describing functions: no function entry to patch", path);
		goto out;
	}
	if (!ret && analyse)
		ret = analyse_all(&im, sites, out);
	if (ret == -ENOMEM)
		fail(err, errlen, ret, "%s: out of memory", path);
out:
	if (im.elf)
		elf_end(im.elf);
	close(fd);
	if (ret)
		entries_free(out);
	return ret;
}

void entries_free(struct entry_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
