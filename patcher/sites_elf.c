// SPDX-License-Identifier: MIT
/*
 * The ELF side of site finding: open a file once, map virtual addresses to
 * the file's bytes through the PT_LOAD segments (what the loader will map,
 * so what the patcher will find in memory), and collect the few facts the
 * finders need from the symbol tables and dynamic relocations.
 *
 * Everything is read from the file image libelf mapped; nothing here
 * trusts a size or an offset in the file without a bounds check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tattach/ring.h"
#include "patcher/sites_priv.h"

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

int img_err(struct img *im, int code, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (!im->err || !im->errlen)
		return code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(im->err, im->errlen, "%s: %s", im->path, msg);
	return code;
}

/* Name of a section, "" when the string table does not have it. */
static const char *sec_name(const struct img *im, const GElf_Shdr *sh)
{
	const char *name = elf_strptr(im->elf, im->shstrndx, sh->sh_name);

	return name ? name : "";
}

/*
 * A shared object depends on others; a static executable (even a static
 * PIE, which has a PT_DYNAMIC) does not.  Only the latter calls a hook it
 * defines itself.
 */
static void find_needed(struct img *im)
{
	for (size_t i = 0; i < im->nph; i++) {
		const GElf_Phdr *ph = &im->ph[i];
		Elf64_Dyn dyn;

		if (ph->p_type != PT_DYNAMIC)
			continue;
		if (ph->p_offset > im->rawsz || ph->p_filesz > im->rawsz - ph->p_offset)
			continue;
		for (uint64_t off = 0; off + sizeof(dyn) <= ph->p_filesz; off += sizeof(dyn)) {
			memcpy(&dyn, im->raw + ph->p_offset + off, sizeof(dyn));
			if (dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag == DT_NEEDED) {
				im->has_needed = 1;
				return;
			}
		}
	}
}

static int read_sections(struct img *im)
{
	Elf_Scn *scn = NULL;

	if (elf_getshdrnum(im->elf, &im->shnum) < 0)
		return img_err(im, -ENOEXEC, "bad section headers: %s", elf_errmsg(-1));
	/* A file stripped of its section headers still loads: no sections
	 * simply means no site tables and no symbols. */
	if (!im->shnum)
		return 0;
	if (elf_getshdrstrndx(im->elf, &im->shstrndx) < 0)
		return img_err(im, -ENOEXEC, "bad section name table: %s", elf_errmsg(-1));
	im->sec_exec = calloc(im->shnum, 1);
	if (!im->sec_exec)
		return img_err(im, -ENOMEM, "out of memory");

	while ((scn = elf_nextscn(im->elf, scn))) {
		size_t idx = elf_ndxscn(scn);
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || idx >= im->shnum)
			continue;
		if (sh.sh_flags & SHF_EXECINSTR)
			im->sec_exec[idx] = 1;
		if (sh.sh_type == SHT_SYMTAB && sh.sh_size) {
			im->symtab = scn;
			continue;
		}
		if (sh.sh_type == SHT_DYNSYM && sh.sh_size) {
			im->dynsym = scn;
			continue;
		}
		if (sh.sh_type != SHT_PROGBITS)
			continue;
		name = sec_name(im, &sh);
		if (!strcmp(name, "__patchable_function_entries"))
			im->patchable = scn;
		else if (!strcmp(name, "__mcount_loc"))
			im->mcount_loc = scn;
		else if ((!strcmp(name, ".plt") || !strcmp(name, ".plt.sec") ||
			  !strcmp(name, ".plt.got")) && im->nplt < IMG_MAX_PLT) {
			im->plt[im->nplt].start = sh.sh_addr;
			im->plt[im->nplt].end = sh.sh_addr + sh.sh_size;
			im->nplt++;
		}
	}
	return 0;
}

int img_open(struct img *im, const char *path, char *err, size_t errlen)
{
	struct stat st;
	size_t nph;
	int e;

	memset(im, 0, sizeof(*im));
	im->fd = -1;
	im->path = path;
	im->err = err;
	im->errlen = errlen;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return img_err(im, -ENOEXEC, "libelf: %s", elf_errmsg(-1));
	im->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (im->fd < 0) {
		e = errno;
		return img_err(im, -e, "cannot open: %s", strerror(e));
	}
	if (fstat(im->fd, &st) < 0) {
		e = errno;
		return img_err(im, -e, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode))
		return img_err(im, -ENOEXEC, "not a regular file");
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr))
		return img_err(im, -ENOEXEC, "not an ELF file (%lld bytes)",
			       (long long)st.st_size);

	/* Mapped, not read: libc is opened on every attach and most of it
	 * is never looked at. */
	im->elf = elf_begin(im->fd, ELF_C_READ_MMAP, NULL);
	if (!im->elf)
		return img_err(im, -ENOEXEC, "libelf: %s", elf_errmsg(-1));
	if (elf_kind(im->elf) != ELF_K_ELF)
		return img_err(im, -ENOEXEC, "not an ELF file");
	if (!gelf_getehdr(im->elf, &im->eh))
		return img_err(im, -ENOEXEC, "bad ELF header: %s", elf_errmsg(-1));
	if (im->eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    im->eh.e_ident[EI_DATA] != ELFDATA2LSB || im->eh.e_machine != EM_X86_64)
		return img_err(im, -ENOEXEC, "not an x86-64 ELF file (class %u, machine %u)",
			       im->eh.e_ident[EI_CLASS], im->eh.e_machine);
	im->raw = (const uint8_t *)elf_rawfile(im->elf, &im->rawsz);
	if (!im->raw)
		return img_err(im, -ENOEXEC, "libelf: %s", elf_errmsg(-1));

	if (elf_getphdrnum(im->elf, &nph) < 0)
		return img_err(im, -ENOEXEC, "bad program headers: %s", elf_errmsg(-1));
	if (nph) {
		im->ph = calloc(nph, sizeof(*im->ph));
		if (!im->ph)
			return img_err(im, -ENOMEM, "out of memory");
		for (size_t i = 0; i < nph; i++)
			if (gelf_getphdr(im->elf, i, &im->ph[im->nph]))
				im->nph++;
	}
	find_needed(im);
	return read_sections(im);
}

void img_close(struct img *im)
{
	free(im->funcs);
	free(im->rel);
	free(im->sec_exec);
	free(im->ph);
	if (im->elf)
		elf_end(im->elf);
	if (im->fd >= 0)
		close(im->fd);
	im->funcs = NULL;
	im->rel = NULL;
	im->sec_exec = NULL;
	im->ph = NULL;
	im->elf = NULL;
	im->fd = -1;
}

const uint8_t *img_bytes(const struct img *im, uint64_t vaddr, size_t len)
{
	for (size_t i = 0; i < im->nph; i++) {
		const GElf_Phdr *ph = &im->ph[i];
		uint64_t delta, off;

		if (ph->p_type != PT_LOAD || vaddr < ph->p_vaddr)
			continue;
		delta = vaddr - ph->p_vaddr;
		/* Only the file-backed part: past p_filesz is zero-filled bss. */
		if (delta > ph->p_filesz || len > ph->p_filesz - delta)
			continue;
		off = ph->p_offset + delta;
		if (off < ph->p_offset || off > im->rawsz || len > im->rawsz - off)
			continue;
		return im->raw + off;
	}
	return NULL;
}

const uint8_t *img_section_bytes(const struct img *im, Elf_Scn *scn, size_t *size)
{
	GElf_Shdr sh;

	*size = 0;
	if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
		return NULL;
	if (sh.sh_offset > im->rawsz || sh.sh_size > im->rawsz - sh.sh_offset)
		return NULL;
	*size = sh.sh_size;
	return im->raw + sh.sh_offset;
}

/* The hook a symbol name stands for, or -1.  ".symtab" spells undefined
 * dynamic symbols with their version ("mcount@GLIBC_2.2.5"). */
static int hook_name_kind(const char *name)
{
	size_t len;

	if (name[0] != 'm' && name[0] != '_')
		return -1;
	len = strcspn(name, "@");
	if ((len == 6 && !memcmp(name, "mcount", 6)) ||
	    (len == 7 && !memcmp(name, "_mcount", 7)))
		return TAT_SITE_MCOUNT;
	if (len == 10 && !memcmp(name, "__fentry__", 10))
		return TAT_SITE_FENTRY;
	return -1;
}

static int hook_add(struct img_hook *v, size_t *n, uint64_t addr, int kind)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i].addr == addr)
			return 0;
	/* More than a handful of aliases or GOT slots for three names does
	 * not happen; keeping the first ones is enough to recognise calls. */
	if (*n >= IMG_MAX_HOOKS)
		return 0;
	v[*n].addr = addr;
	v[*n].kind = (uint8_t)kind;
	(*n)++;
	return 0;
}

int img_hook_kind(const struct img_hook *v, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].addr == addr)
			return v[i].kind;
	return -1;
}

int img_in_plt(const struct img *im, uint64_t vaddr)
{
	for (size_t i = 0; i < im->nplt; i++)
		if (vaddr >= im->plt[i].start && vaddr < im->plt[i].end)
			return 1;
	return 0;
}

static int func_cmp(const void *pa, const void *pb)
{
	const struct img_func *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	/* Largest first, so the unique pass keeps the widest alias. */
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return 0;
}

static int scan_syms(struct img *im, Elf_Scn *scn, int want_funcs, size_t *cap)
{
	Elf_Data *data;
	GElf_Shdr sh;
	size_t n;

	if (!gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return 0;
	data = elf_getdata(scn, NULL);
	if (!data)
		return 0;
	n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 1; i < n; i++) {
		const char *name;
		GElf_Sym s;
		int kind;

		if (!gelf_getsym(data, (int)i, &s))
			break;
		if (want_funcs && GELF_ST_TYPE(s.st_info) == STT_FUNC && s.st_size &&
		    s.st_shndx < SHN_LORESERVE && s.st_shndx < im->shnum &&
		    im->sec_exec[s.st_shndx]) {
			if (im->nfuncs == *cap) {
				size_t ncap = *cap ? *cap * 2 : 256;
				struct img_func *nv = realloc(im->funcs, ncap * sizeof(*nv));

				if (!nv)
					return img_err(im, -ENOMEM, "out of memory");
				im->funcs = nv;
				*cap = ncap;
			}
			im->funcs[im->nfuncs].addr = s.st_value;
			im->funcs[im->nfuncs].size = s.st_size;
			im->nfuncs++;
		}
		if (!s.st_name || GELF_ST_TYPE(s.st_info) == STT_SECTION ||
		    GELF_ST_TYPE(s.st_info) == STT_FILE)
			continue;
		name = elf_strptr(im->elf, sh.sh_link, s.st_name);
		if (!name)
			continue;
		kind = hook_name_kind(name);
		if (kind < 0)
			continue;
		if (s.st_shndx == SHN_UNDEF)
			im->hook_undef = 1;
		else
			hook_add(im->defs, &im->ndefs, s.st_value, kind);
	}
	return 0;
}

/*
 * Function symbols come from .symtab when the file has one (it lists the
 * static functions too), else from .dynsym.  Hook names are looked for in
 * both: a stripped executable keeps "mcount" only in .dynsym.
 */
int img_load_symbols(struct img *im)
{
	size_t cap = 0, j = 0;
	int ret;

	if (im->dynsym) {
		ret = scan_syms(im, im->dynsym, !im->symtab, &cap);
		if (ret)
			return ret;
	}
	if (im->symtab) {
		ret = scan_syms(im, im->symtab, 1, &cap);
		if (ret)
			return ret;
	}
	if (!im->nfuncs)
		return 0;
	qsort(im->funcs, im->nfuncs, sizeof(*im->funcs), func_cmp);
	for (size_t i = 1; i < im->nfuncs; i++)
		if (im->funcs[i].addr != im->funcs[j].addr)
			im->funcs[++j] = im->funcs[i];
	im->nfuncs = j + 1;
	return 0;
}

/* Index of the last function starting at or below @vaddr, or -1. */
static long func_floor(const struct img *im, uint64_t vaddr)
{
	size_t lo = 0, hi = im->nfuncs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (im->funcs[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

const struct img_func *img_func_at(const struct img *im, uint64_t vaddr)
{
	long i = func_floor(im, vaddr);

	/* Functions do not nest; the few steps back only cover a short
	 * alias sitting inside a longer one. */
	for (long k = 0; i >= 0 && k < 4; i--, k++) {
		const struct img_func *f = &im->funcs[i];

		if (vaddr - f->addr < f->size)
			return f;
	}
	return NULL;
}

const struct img_func *img_func_after(const struct img *im, uint64_t vaddr)
{
	size_t i = (size_t)(func_floor(im, vaddr) + 1);

	return i < im->nfuncs ? &im->funcs[i] : NULL;
}

/* Symbol table data linked from a relocation section, with its strings. */
struct rela_ctx {
	Elf_Data *rela;
	Elf_Data *syms;
	size_t strndx;
	size_t nrela;
};

static int rela_open(struct img *im, Elf_Scn *scn, struct rela_ctx *c, int need_syms)
{
	GElf_Shdr sh, lsh;
	Elf_Scn *lscn;

	memset(c, 0, sizeof(*c));
	if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
		return 0;
	/* Only what the dynamic linker applies; a .o's .rela.text says
	 * nothing about a loaded image. */
	if (!(sh.sh_flags & SHF_ALLOC))
		return 0;
	c->rela = elf_getdata(scn, NULL);
	if (!c->rela)
		return 0;
	c->nrela = sh.sh_size / sh.sh_entsize;
	if (!need_syms)
		return 1;
	lscn = elf_getscn(im->elf, sh.sh_link);
	if (!lscn || !gelf_getshdr(lscn, &lsh))
		return 0;
	c->syms = elf_getdata(lscn, NULL);
	c->strndx = lsh.sh_link;
	return c->syms != NULL;
}

/*
 * GOT slots that will hold a hook's address: the target of `call *slot`
 * and of the `jmp *slot` in a PLT entry.
 */
int img_load_hook_slots(struct img *im)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(im->elf, scn))) {
		struct rela_ctx c;

		if (!rela_open(im, scn, &c, 1))
			continue;
		for (size_t i = 0; i < c.nrela; i++) {
			const char *name;
			GElf_Rela r;
			GElf_Sym s;
			int kind;

			if (!gelf_getrela(c.rela, (int)i, &r))
				break;
			switch (GELF_R_TYPE(r.r_info)) {
			case R_X86_64_GLOB_DAT:
			case R_X86_64_JUMP_SLOT:
			case R_X86_64_64:
				break;
			default:
				continue;
			}
			if (!GELF_R_SYM(r.r_info) ||
			    !gelf_getsym(c.syms, (int)GELF_R_SYM(r.r_info), &s))
				continue;
			name = elf_strptr(im->elf, c.strndx, s.st_name);
			if (!name)
				continue;
			kind = hook_name_kind(name);
			if (kind >= 0)
				hook_add(im->slots, &im->nslots, r.r_offset, kind);
		}
	}
	return 0;
}

static int rel_cmp(const void *pa, const void *pb)
{
	const struct img_rel *a = pa, *b = pb;

	return a->off < b->off ? -1 : a->off > b->off;
}

static int load_relative(struct img *im)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;

	im->rel_loaded = 1;
	while ((scn = elf_nextscn(im->elf, scn))) {
		struct rela_ctx c;

		if (!rela_open(im, scn, &c, 0))
			continue;
		for (size_t i = 0; i < c.nrela; i++) {
			GElf_Rela r;

			if (!gelf_getrela(c.rela, (int)i, &r))
				break;
			if (GELF_R_TYPE(r.r_info) != R_X86_64_RELATIVE)
				continue;
			if (im->nrel == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct img_rel *nv = realloc(im->rel, ncap * sizeof(*nv));

				if (!nv)
					return img_err(im, -ENOMEM, "out of memory");
				im->rel = nv;
				cap = ncap;
			}
			im->rel[im->nrel].off = r.r_offset;
			im->rel[im->nrel].addend = (uint64_t)r.r_addend;
			im->nrel++;
		}
	}
	if (im->nrel)
		qsort(im->rel, im->nrel, sizeof(*im->rel), rel_cmp);
	return 0;
}

/*
 * The value the dynamic linker will store at @off when the file holds 0
 * there (RELA relocations need not be applied in place).  Returns 0 with
 * *val set, 1 when no R_X86_64_RELATIVE covers @off, or -ENOMEM.
 */
int img_resolve_relative(struct img *im, uint64_t off, uint64_t *val)
{
	size_t lo = 0, hi;
	int ret;

	if (!im->rel_loaded) {
		ret = load_relative(im);
		if (ret)
			return ret;
	}
	hi = im->nrel;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (im->rel[mid].off == off) {
			*val = im->rel[mid].addend;
			return 0;
		}
		if (im->rel[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 1;
}

/* Look for NT_GNU_BUILD_ID in one note area; 1 when found. */
static int parse_notes(const uint8_t *p, size_t size, size_t align, struct elf_facts *f)
{
	size_t off = 0;

	while (size - off >= 12) {
		uint32_t namesz, descsz, type;
		size_t name_off, desc_off, nlen, dlen;

		memcpy(&namesz, p + off, 4);
		memcpy(&descsz, p + off + 4, 4);
		memcpy(&type, p + off + 8, 4);
		name_off = off + 12;
		nlen = ((size_t)namesz + align - 1) & ~(align - 1);
		if (nlen > size - name_off)
			return 0;
		desc_off = name_off + nlen;
		dlen = ((size_t)descsz + align - 1) & ~(align - 1);
		if (descsz > size - desc_off)
			return 0;
		if (type == NT_GNU_BUILD_ID && namesz == 4 &&
		    !memcmp(p + name_off, "GNU", 4) && descsz) {
			f->build_id_len = descsz < sizeof(f->build_id) ?
					  descsz : sizeof(f->build_id);
			memcpy(f->build_id, p + desc_off, f->build_id_len);
			return 1;
		}
		if (dlen > size - desc_off)
			return 0;
		off = desc_off + dlen;
	}
	return 0;
}

void img_facts(struct img *im, struct elf_facts *f)
{
	Elf_Scn *scn = NULL;

	memset(f, 0, sizeof(*f));
	f->is_pie_or_dso = im->eh.e_type == ET_DYN;
	for (size_t i = 0; i < im->nph; i++) {
		const GElf_Phdr *ph = &im->ph[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			f->exec_vaddr = ph->p_vaddr;
			f->exec_offset = ph->p_offset;
			f->exec_memsz = ph->p_memsz;
			break;
		}
	}

	/* Notes are read from the segments first: a file may have lost its
	 * section headers but still loads, and so still has its build id. */
	for (size_t i = 0; i < im->nph; i++) {
		const GElf_Phdr *ph = &im->ph[i];

		if (ph->p_type != PT_NOTE || ph->p_offset > im->rawsz ||
		    ph->p_filesz > im->rawsz - ph->p_offset)
			continue;
		if (parse_notes(im->raw + ph->p_offset, ph->p_filesz,
				ph->p_align == 8 ? 8 : 4, f))
			return;
	}
	while ((scn = elf_nextscn(im->elf, scn))) {
		const uint8_t *p;
		GElf_Shdr sh;
		size_t size;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		p = img_section_bytes(im, scn, &size);
		if (p && parse_notes(p, size, sh.sh_addralign == 8 ? 8 : 4, f))
			return;
	}
}
