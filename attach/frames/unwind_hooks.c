// SPDX-License-Identifier: MIT
/*
 * Hooking the unwinder's entry points through the GOT (unwind_hooks.h).
 *
 * The calls that start an unwind for a C++ throw or rethrow go from
 * libstdc++ to libgcc_s through libstdc++'s GOT, and a catch handler calls
 * __cxa_begin_catch through its own object's GOT.  Each loaded object's
 * dynamic relocations name the GOT entries; the functions' real addresses
 * come from the dynamic symbols of the objects that define them, so the
 * hooks go on to them directly (a lazily bound entry is never resolved by
 * the dynamic linker then, which would overwrite the hook).  GOT pages may
 * be read-only (RELRO): /proc/PID/mem writes them all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "attach/hooks/libcalls.h"
#include "attach/log.h"
#include "attach/modules.h"
#include "attach/process/proc.h"
#include "attach/process/remote.h"
#include "attach/ring/ringfile.h"
#include "attach/tramp/tramp_abi.h"
#include "attach/frames/unwind_hooks.h"
#include "attach/tramp/tramp_blob.h"

static const char *const hooked[] = {
	[TP_HOOK_RAISE] = "_Unwind_RaiseException",
	[TP_HOOK_RETHROW] = "_Unwind_Resume_or_Rethrow",
	[TP_HOOK_CATCH] = "__cxa_begin_catch",
	[TP_HOOK_PEXIT] = "pthread_exit",
	[TP_HOOK_BT] = "backtrace",
	[TP_HOOK_VFORK] = "vfork",	/* tramp.c vfork_child() */
};
#define NHOOKS TP_HOOKS

#define MAX_SLOTS 256

struct hook_plan {
	uint64_t real[NHOOKS];		/* the functions, 0 = not found */
	uint64_t slot[MAX_SLOTS];	/* GOT entries to hook */
	unsigned which[MAX_SLOTS];
	size_t nslots;
};

static int hook_of(const char *name)
{
	for (int i = 0; i < NHOOKS; i++)
		if (name && !strcmp(name, hooked[i]))
			return i;
	return -1;
}

/* Load bias of @path: its first mapping minus its first PT_LOAD's page. */
static int bias_of(Elf *e, const struct maps *maps, const char *path, uint64_t *bias)
{
	size_t n;
	uint64_t lo = UINT64_MAX, start = UINT64_MAX;

	if (elf_getphdrnum(e, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < lo)
			lo = ph.p_vaddr & ~0xfffull;
	}
	for (size_t i = 0; i < maps->n; i++)
		if (!strcmp(maps->v[i].path, path) && maps->v[i].start < start)
			start = maps->v[i].start;
	if (lo == UINT64_MAX || start == UINT64_MAX)
		return -1;
	*bias = start - lo;
	return 0;
}

/* The definitions and GOT uses of the hooked functions in one object. */
static void scan_object(pid_t pid, const struct maps *maps, const struct map *m,
			struct hook_plan *p)
{
	const char *path = m->path;
	char file[300];
	int fd;
	Elf_Scn *scn = NULL;
	uint64_t bias;
	GElf_Ehdr eh;
	Elf *e;

	/* the file mapped, also when replaced on disk since (an upgraded
	 * libstdc++): module_mapped_file() */
	if (module_mapped_file(pid, m, file, sizeof(file), NULL))
		snprintf(file, sizeof(file), "%s", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || !gelf_getehdr(e, &eh) || bias_of(e, maps, path, &bias))
		goto out;
	if (eh.e_type == ET_EXEC)
		bias = 0;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh, symsh;
		Elf_Scn *symscn;
		Elf_Data *d, *syms;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_RELA))
			continue;
		symscn = sh.sh_type == SHT_DYNSYM ? scn : elf_getscn(e, sh.sh_link);
		if (!symscn || !gelf_getshdr(symscn, &symsh) || symsh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		syms = elf_getdata(symscn, NULL);
		if (!d || !syms || !sh.sh_entsize)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			GElf_Rela rel;
			int h;

			if (sh.sh_type == SHT_DYNSYM) {
				if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
				    !sym.st_value || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
					continue;
				h = hook_of(elf_strptr(e, sh.sh_link, sym.st_name));
				if (h >= 0 && !p->real[h])
					p->real[h] = bias + sym.st_value;
				continue;
			}
			if (!gelf_getrela(d, (int)i, &rel) ||
			    (GELF_R_TYPE(rel.r_info) != R_X86_64_JUMP_SLOT &&
			     GELF_R_TYPE(rel.r_info) != R_X86_64_GLOB_DAT) ||
			    !gelf_getsym(syms, (int)GELF_R_SYM(rel.r_info), &sym))
				continue;
			h = hook_of(elf_strptr(e, symsh.sh_link, sym.st_name));
			if (h >= 0 && sym.st_shndx == SHN_UNDEF && p->nslots < MAX_SLOTS) {
				p->slot[p->nslots] = bias + rel.r_offset;
				p->which[p->nslots++] = (unsigned)h;
			}
		}
	}
out:
	if (e)
		elf_end(e);
	close(fd);
}

/*
 * Remember that @slot held @orig before it pointed at a hook.  When the
 * table is full the count goes one past it: from then on --disable
 * cannot put every entry back and leaves them all hooked.
 */
static int save_slot(struct remote *r, struct ringfile *rf, uint64_t *nsaved,
		     uint64_t slot, uint64_t orig)
{
	uint64_t state = rf->hdr->private_addr;
	int ret;

	if (*nsaved >= TP_HOOK_SAVED_MAX) {
		*nsaved = TP_HOOK_SAVED_MAX + 1;
		goto count;
	}
	ret = remote_write(r, state + offsetof(struct tp_state, hook_slot) + *nsaved * 8,
			   &slot, sizeof(slot));
	if (!ret)
		ret = remote_write(r, state + offsetof(struct tp_state, hook_orig) +
				   *nsaved * 8, &orig, sizeof(orig));
	if (ret)
		return ret;
	++*nsaved;
count:
	return remote_write(r, state + offsetof(struct tp_state, hook_saved), nsaved,
			    sizeof(*nsaved));
}

/* The entries to hook: found by unwind_hooks_prepare() before the stop,
 * for the map unwind_hooks_install() is then given. */
static struct hook_plan p;
static const struct maps *p_maps;

void unwind_hooks_prepare(pid_t pid, const struct maps *maps)
{
	p_maps = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return;
	memset(&p, 0, sizeof(p));
	for (size_t i = 0; i < maps->n; i++) {
		const char *path = maps->v[i].path;
		size_t j;

		if (path[0] != '/' || !(maps->v[i].prot & PROT_EXEC))
			continue;
		for (j = 0; j < i; j++)
			if ((maps->v[j].prot & PROT_EXEC) && !strcmp(maps->v[j].path, path))
				break;
		if (j == i)
			j = maps->n;
		if (j == maps->n)	/* its first executable mapping */
			scan_object(pid, maps, &maps->v[i], &p);
	}
	/* C++: a throw without a catch hook would leave frames restored */
	if (!p.real[TP_HOOK_CATCH])
		p.real[TP_HOOK_RAISE] = p.real[TP_HOOK_RETHROW] = 0;
	p_maps = maps;
}

int unwind_hooks_install(struct remote *r, struct ringfile *rf, const struct maps *maps)
{
	uint64_t stub[NHOOKS], next[8] = { 0 }, base = rf->hdr->tramp_addr[0], nsaved;
	int hooked_now = 0, ret;

	if (!rf->hdr->tramp_count || elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	/* reading every object's symbols and relocations takes a while (a
	 * millisecond at 100 000 functions): done before the stop if it can */
	if (p_maps != maps)
		unwind_hooks_prepare(r->held->pid, maps);
	p_maps = NULL;
	stub[TP_HOOK_RAISE] = base + TRAMP_CODE_OFF_HOOK_RAISE;
	stub[TP_HOOK_RETHROW] = base + TRAMP_CODE_OFF_HOOK_RETHROW;
	stub[TP_HOOK_CATCH] = base + TRAMP_CODE_OFF_HOOK_CATCH;
	stub[TP_HOOK_PEXIT] = base + TRAMP_CODE_OFF_HOOK_PEXIT;
	stub[TP_HOOK_BT] = base + TRAMP_CODE_OFF_HOOK_BT;
	stub[TP_HOOK_VFORK] = base + TRAMP_CODE_OFF_HOOK_VFORK;
	memcpy(next, p.real, sizeof(p.real));
	/* where the hooks go on to, before any entry points at them */
	ret = remote_write(r, rf->hdr->private_addr + offsetof(struct tp_state, hook_next),
			   next, sizeof(next));
	if (ret)
		return ret;
	ret = remote_read(r, rf->hdr->private_addr + offsetof(struct tp_state, hook_saved),
			  &nsaved, sizeof(nsaved));
	if (ret)
		return ret;
	for (size_t i = 0; i < p.nslots; i++) {
		uint64_t cur, where;

		if (!p.real[p.which[i]])
			continue;
		ret = remote_read(r, p.slot[i], &cur, sizeof(cur));
		if (ret)
			return ret;
		/* --libcalls hooked the entry first (-fno-plt): its stub jumps on
		 * through a saved copy, which the hook replaces, so the call is
		 * recorded, then hooked; unhooked, the entry gets the hook */
		where = libcalls_saved_of(rf, cur);
		if (where) {
			ret = remote_read(r, where, &cur, sizeof(cur));
			if (ret)
				return ret;
		} else {
			where = p.slot[i];
		}
		if (cur != stub[p.which[i]]) {
			/* what it held first, for --disable (unwind_hooks_off.c) */
			ret = save_slot(r, rf, &nsaved, p.slot[i], cur);
			if (!ret)
				ret = remote_write(r, where, &stub[p.which[i]], sizeof(cur));
			if (ret)
				return ret;
		}
		hooked_now++;
	}
	pr_info("%d GOT entries of unwinder entry points hooked", hooked_now);
	return hooked_now;
}
