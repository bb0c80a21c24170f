// SPDX-License-Identifier: MIT
/*
 * Reading the imports of an ELF file: .rela.plt and .rela.dyn against
 * .dynsym, and the .plt* sections for the jump of each JUMP_SLOT.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patcher/imports.h"

#ifndef R_X86_64_JUMP_SLOT
#define R_X86_64_JUMP_SLOT 7
#endif
#ifndef R_X86_64_GLOB_DAT
#define R_X86_64_GLOB_DAT 6
#endif

/* Why a name is never hooked; see imports_denied(). */
static const struct {
	const char *name;
	const char *why;
} denied[] = {
	{ "setjmp", "returns twice" },
	{ "_setjmp", "returns twice" },
	{ "__sigsetjmp", "returns twice" },
	{ "sigsetjmp", "returns twice" },
	{ "savectx", "returns twice" },
	{ "getcontext", "returns twice" },
	{ "vfork", "returns twice, in a child sharing our shadow stack" },
	{ "__vfork", "returns twice, in a child sharing our shadow stack" },
	{ "dlopen", "looks at its caller's address" },
	{ "dlmopen", "looks at its caller's address" },
	{ "dlsym", "looks at its caller's address" },
	{ "dlvsym", "looks at its caller's address" },
	{ "__libc_dlopen_mode", "looks at its caller's address" },
	{ "__cxa_throw", "unwinds through its caller" },
	{ "__cxa_rethrow", "unwinds through its caller" },
	{ "_Unwind_RaiseException", "unwinds through its caller" },
	{ "_Unwind_Resume", "unwinds through its caller" },
	{ "_Unwind_Resume_or_Rethrow", "unwinds through its caller" },
	{ "_Unwind_ForcedUnwind", "unwinds through its caller" },
	{ "_Unwind_Backtrace", "unwinds through its caller" },
	{ "backtrace", "unwinds through its caller" },
	{ "mcount", "the -pg hook" },
	{ "_mcount", "the -pg hook" },
	{ "__fentry__", "the -pg hook" },
	{ "__cyg_profile_func_enter", "the -finstrument-functions hook" },
	{ "__cyg_profile_func_exit", "the -finstrument-functions hook" },
	{ "__monstartup", "part of -pg" },
	{ "_mcleanup", "part of -pg" },
	{ "__gmon_start__", "part of -pg" },
	{ "__libc_start_main", "runs before tattach can come" },
};

const char *imports_denied(const char *name)
{
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if (!strcmp(name, denied[i].name))
			return denied[i].why;
	return NULL;
}

int imports_plt_bytes(uint64_t addr, unsigned len, uint64_t stub, uint8_t *out)
{
	int64_t rel = (int64_t)stub - (int64_t)(addr + 5);

	if (len < 5 || len > 8 || rel != (int32_t)rel)
		return -ERANGE;
	out[0] = 0xe9;
	memcpy(out + 1, &(int32_t){ (int32_t)rel }, 4);
	memset(out + 5, 0x90, len - 5);
	return 0;
}

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

static int push(struct import_list *l, const struct import *im)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct import *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *im;
	return 0;
}

/* The PLT code: every executable .plt* section, with its bytes. */
struct plt_sec {
	uint64_t addr;
	const uint8_t *bytes;
	size_t size;
};

/*
 * The "jmp *got(%rip)" of a PLT entry, with or without a bnd (f2) prefix,
 * starting at 0 or 4 (after endbr64) in its 8- or 16-byte entry.
 */
static int find_plt_jump(const struct plt_sec *secs, size_t nsecs, uint64_t got,
			 struct import *im)
{
	for (size_t s = 0; s < nsecs; s++) {
		const struct plt_sec *p = &secs[s];

		for (size_t off = 0; off + 6 <= p->size; off += 4) {
			size_t at = off, len = 6;
			int32_t disp;

			if (p->bytes[at] == 0xf2) {
				at++;
				len = 7;
				if (off + 7 > p->size)
					continue;
			}
			if (p->bytes[at] != 0xff || p->bytes[at + 1] != 0x25)
				continue;
			memcpy(&disp, p->bytes + at + 2, 4);
			if (p->addr + off + len + (int64_t)disp != got)
				continue;
			im->plt = p->addr + off;
			im->len = (uint8_t)len;
			memcpy(im->orig, p->bytes + off, len);
			return 1;
		}
	}
	return 0;
}

/* Add the function imports of one SHT_RELA section of @type. */
static int scan_rela(Elf *elf, Elf_Scn *rela, unsigned type, Elf_Data *syms,
		     size_t strndx, const struct plt_sec *secs, size_t nsecs,
		     struct import_list *out)
{
	Elf_Data *d = elf_getdata(rela, NULL);
	GElf_Shdr sh;
	size_t n;

	if (!d || !gelf_getshdr(rela, &sh) || !sh.sh_entsize)
		return 0;
	n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		struct import im = { .hook = IMPORT_GOT };
		GElf_Rela r;
		GElf_Sym sym;
		const char *name;
		unsigned st;

		if (!gelf_getrela(d, (int)i, &r) || GELF_R_TYPE(r.r_info) != type ||
		    !gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym))
			continue;
		st = GELF_ST_TYPE(sym.st_info);
		/* Imports only, functions only: a GLOB_DAT of a variable is
		 * data (stdout, environ), and a defined symbol is our own. */
		if (sym.st_shndx != SHN_UNDEF || (type == R_X86_64_GLOB_DAT &&
		    st != STT_FUNC && st != STT_GNU_IFUNC))
			continue;
		name = elf_strptr(elf, strndx, sym.st_name);
		if (!name || !*name || imports_denied(name))
			continue;
		snprintf(im.name, sizeof(im.name), "%s", name);
		im.got = r.r_offset;
		if (type == R_X86_64_JUMP_SLOT) {
			if (!find_plt_jump(secs, nsecs, im.got, &im)) {
				out->no_plt++;
				continue;
			}
			im.hook = IMPORT_PLT;
		}
		if (push(out, &im))
			return -ENOMEM;
	}
	return 0;
}

static void widen(struct import_list *l)
{
	l->lo = UINT64_MAX;
	l->hi = 0;
	for (size_t i = 0; i < l->n; i++) {
		uint64_t a = l->v[i].hook == IMPORT_PLT ? l->v[i].plt : l->v[i].got;

		if (l->v[i].got < l->lo)
			l->lo = l->v[i].got;
		if (a < l->lo)
			l->lo = a;
		if (l->v[i].got + 8 > l->hi)
			l->hi = l->v[i].got + 8;
		if (a + 8 > l->hi)
			l->hi = a + 8;
	}
	if (!l->n)
		l->lo = 0;
}

int imports_find(const char *path, struct import_list *out, char *err, size_t errlen)
{
	struct plt_sec secs[8];
	Elf_Scn *scn = NULL, *relas[8];
	Elf_Data *syms = NULL;
	size_t shstrndx, strndx = 0, nsecs = 0, nrelas = 0;
	GElf_Ehdr eh;
	Elf *elf = NULL;
	int fd, ret = 0;

	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(err, errlen, -ENOEXEC, "libelf: %s", elf_errmsg(-1));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		return fail(err, errlen, ret, "cannot open %s: %s", path, strerror(-ret));
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 ||
	    elf_getshdrstrndx(elf, &shstrndx) < 0) {
		ret = fail(err, errlen, -ENOEXEC, "%s: not an x86-64 ELF file", path);
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (sh.sh_type == SHT_DYNSYM) {
			syms = elf_getdata(scn, NULL);
			strndx = sh.sh_link;
		} else if (sh.sh_type == SHT_RELA && nrelas < 8) {
			relas[nrelas++] = scn;
		} else if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR) &&
			   name && !strncmp(name, ".plt", 4) && nsecs < 8) {
			Elf_Data *d = elf_getdata(scn, NULL);

			if (d && d->d_buf && d->d_size == sh.sh_size)
				secs[nsecs++] = (struct plt_sec){ sh.sh_addr, d->d_buf, d->d_size };
		}
	}
	if (!syms)
		goto out;	/* static: nothing imported */
	/* JUMP_SLOTs first, then GLOB_DATs, each in file order. */
	for (size_t i = 0; i < nrelas && !ret; i++)
		ret = scan_rela(elf, relas[i], R_X86_64_JUMP_SLOT, syms, strndx, secs,
				nsecs, out);
	for (size_t i = 0; i < nrelas && !ret; i++)
		ret = scan_rela(elf, relas[i], R_X86_64_GLOB_DAT, syms, strndx, secs,
				nsecs, out);
	if (ret)
		fail(err, errlen, ret, "%s: out of memory", path);
	widen(out);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	if (ret)
		imports_free(out);
	return ret;
}

void imports_free(struct import_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
