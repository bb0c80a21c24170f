// SPDX-License-Identifier: MIT
/*
 * Patching the entry of _Unwind_ForcedUnwind (forced_hook.h).  One stub,
 * in a page of its own near libgcc_s:
 *
 *   +0   ff 15 <disp32>      call *+56(%rip)  -> tp_hook_forced
 *   +6   the moved instructions, RIP-relative displacements adjusted
 *   +6+w e9 <rel32>          jmp entry + (endbr64) + w
 *   +56  &tp_hook_forced
 *   +64  n, then the n original bytes of the entry (endbr64 included),
 *        which --disable writes back
 *
 * and at the entry, after an endbr64, the w >= 5 bytes of whole
 * instructions become "e9 <rel32 to stub>" and int3s.  tp_hook_forced
 * returns to +6 with every register as the caller left it, so the moved
 * instructions run as they would have.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach/frames/forced_hook.h"
#include "attach/inject.h"
#include "attach/log.h"
#include "attach/modules.h"
#include "attach/process/proc.h"
#include "attach/process/remote.h"
#include "attach/process/seize.h"
#include "attach/ring/ringfile.h"
#include "attach/tramp/tramp_abi.h"
#include "attach/tramp/tramp_blob.h"
#include "patcher/relocate.h"

#define FORCED_NAME "_Unwind_ForcedUnwind"
#define STUB_PAGE  4096u
#define STUB_CODE  6u
#define STUB_PTR   56u
#define STUB_ORIG  64u
#define CODE_READ  32u			/* > endbr64 + RELOCATE_MAX */
#define REACH      (1ull << 31)

_Static_assert(FORCED_STUB_BYTES == STUB_ORIG + 1 + CODE_READ, "stub layout");
_Static_assert(STUB_CODE + RELOCATE_MAX + 5 <= STUB_PTR, "moved bytes overrun the pointer");

static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };

static int is_libgcc_s(const char *path)
{
	const char *b = strrchr(path, '/');

	return b && !strncmp(b + 1, "libgcc_s.so", 11);
}

/* The runtime address of _Unwind_ForcedUnwind in the libgcc_s mapped by
 * @pid (@maps), and that library's text range; 0 if none is loaded. */
static uint64_t find_forced(pid_t pid, const struct maps *maps, uint64_t *lo, uint64_t *hi)
{
	uint64_t start = UINT64_MAX, low = UINT64_MAX, addr = 0;
	const struct map *xm = NULL;	/* its first executable mapping */
	const char *path = NULL;
	Elf_Scn *scn = NULL;
	char file[300];
	size_t nph;
	Elf *e = NULL;
	int fd;

	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < maps->n; i++) {
		if (!is_libgcc_s(maps->v[i].path))
			continue;
		if (path && strcmp(path, maps->v[i].path))
			continue;	/* two of them: the first one's */
		path = maps->v[i].path;
		if (maps->v[i].start < start)
			start = maps->v[i].start;
		if (maps->v[i].prot & PROT_EXEC) {
			if (!xm)
				xm = &maps->v[i];
			if (maps->v[i].start < *lo)
				*lo = maps->v[i].start;
			if (maps->v[i].end > *hi)
				*hi = maps->v[i].end;
		}
	}
	if (!path || !*hi || elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	/* the file mapped, also when replaced on disk since (an upgrade) */
	if (module_mapped_file(pid, xm, file, sizeof(file), NULL))
		snprintf(file, sizeof(file), "/proc/%d/root%s", (int)pid, path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_getphdrnum(e, &nph))
		goto out;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < low)
			low = ph.p_vaddr & ~0xfffull;
	}
	while (low != UINT64_MAX && !addr && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			if (name && !strcmp(name, FORCED_NAME)) {
				addr = start - low + sym.st_value;
				break;
			}
		}
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return addr;
}

static int state_rw(struct remote *r, struct ringfile *rf, size_t off, uint64_t *v, int write)
{
	uint64_t at = rf->hdr->private_addr + off;

	return write ? remote_write(r, at, v, sizeof(*v)) : remote_read(r, at, v, sizeof(*v));
}

static int reaches(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) < REACH - STUB_PAGE;
}

int forced_stub_build(const uint8_t *code, size_t len, uint64_t addr, uint64_t at,
		      uint64_t fn, uint8_t *stub, uint8_t *patch, size_t *skip, size_t *w,
		      const char **why)
{
	uint8_t bounds[RELOCATE_MAX];
	struct reloc_fix fixes[RELOCATE_FIX_MAX];
	size_t nbounds, nfixes;
	uint64_t where;
	int32_t rel;

	*why = NULL;
	*skip = len >= sizeof(endbr64) && !memcmp(code, endbr64, sizeof(endbr64)) ?
		sizeof(endbr64) : 0;
	where = addr + *skip;
	*w = relocate_window(code + *skip, len - *skip, where, why, bounds, &nbounds, fixes,
			     &nfixes);
	if (!*w)
		return -EINVAL;
	memset(stub, 0xcc, FORCED_STUB_BYTES);
	stub[0] = 0xff;
	stub[1] = 0x15;
	rel = (int32_t)(STUB_PTR - STUB_CODE);
	memcpy(stub + 2, &rel, 4);
	if (relocate_copy(code + *skip, *w, where, at + STUB_CODE, fixes, nfixes,
			  stub + STUB_CODE)) {
		*why = "a displacement does not reach from the stub";
		return -ERANGE;
	}
	stub[STUB_CODE + *w] = 0xe9;
	rel = (int32_t)((int64_t)(where + *w) - (int64_t)(at + STUB_CODE + *w + 5));
	memcpy(stub + STUB_CODE + *w + 1, &rel, 4);
	memcpy(stub + STUB_PTR, &fn, sizeof(fn));
	stub[STUB_ORIG] = (uint8_t)(*skip + *w);
	memcpy(stub + STUB_ORIG + 1, code, *skip + *w);
	memset(patch, 0xcc, *w);
	patch[0] = 0xe9;
	rel = (int32_t)((int64_t)at - (int64_t)(where + 5));
	memcpy(patch + 1, &rel, 4);
	return 0;
}

int forced_hook_install(struct remote *r, struct ringfile *rf)
{
	uint8_t code[CODE_READ], stub[FORCED_STUB_BYTES], patch[RELOCATE_MAX];
	uint64_t addr, lo, hi, at = 0, fn, where;
	const char *why = NULL;
	struct held *h = r->held;
	struct maps maps;
	size_t skip, w;
	int ret;

	if (!rf->hdr->tramp_count)
		return 0;
	ret = state_rw(r, rf, offsetof(struct tp_state, forced_entry), &addr, 0);
	if (ret || addr)
		return ret ? ret : 1;	/* patched by an earlier --enable */
	if (proc_read_maps(h->pid, &maps))
		return -ENOMEM;
	addr = find_forced(h->pid, &maps, &lo, &hi);
	if (!addr) {
		ret = 0;	/* no libgcc_s (yet): a C program, say */
		goto out;
	}
	ret = remote_read(r, addr, code, sizeof(code));
	if (ret)
		goto out;
	ret = state_rw(r, rf, offsetof(struct tp_state, forced_stub), &at, 0);
	if (ret)
		goto out;
	if (!at || !reaches(at, lo) || !reaches(at, hi)) {
		at = inject_map_near(r, &maps, lo, hi, STUB_PAGE);
		if (!at) {
			pr_warn("%s: no room within 2 GiB of libgcc_s for its stub: C++ "
				"destructors above a traced call are skipped when a thread "
				"is cancelled", FORCED_NAME);
			goto out;
		}
		/* kept even if the entry is refused below: a later --enable
		 * reuses it */
		ret = state_rw(r, rf, offsetof(struct tp_state, forced_stub), &at, 1);
		if (ret)
			goto out;
	}
	fn = rf->hdr->tramp_addr[0] + TRAMP_CODE_OFF_HOOK_FORCED;
	if (forced_stub_build(code, sizeof(code), addr, at, fn, stub, patch, &skip, &w, &why)) {
		pr_warn("%s: its entry cannot be moved (%s): not patched, C++ destructors "
			"above a traced call are skipped when a thread is cancelled",
			FORCED_NAME, why);
		goto out;
	}
	/* a thread stopped between the first moved instruction and the last
	 * would run the jmp's tail: leave the entry as it is then */
	where = addr + skip;
	for (size_t t = 0; t < h->n; t++) {
		uint64_t rip = h->v[t].regs.rip;

		if (rip > where && rip < where + w) {
			pr_warn("%s: entry not patched: thread %d is stopped inside its first "
				"instructions; --enable again to patch it", FORCED_NAME,
				(int)h->v[t].tid);
			goto out;
		}
	}
	/* the stub first (writable through /proc/PID/mem even once RX), then
	 * the entry: nothing reaches the stub before it is whole */
	ret = remote_write(r, at, stub, sizeof(stub));
	if (!ret)
		ret = (int)remote_syscall(r, SYS_mprotect, at, STUB_PAGE, PROT_READ | PROT_EXEC,
					  0, 0, 0);
	if (!ret)
		ret = remote_write(r, where, patch, w);
	if (!ret)
		ret = state_rw(r, rf, offsetof(struct tp_state, forced_entry), &addr, 1);
	if (!ret) {
		pr_info("%s entry patched (%zu bytes moved to %#llx)", FORCED_NAME, w,
			(unsigned long long)at);
		ret = 1;
	}
out:
	proc_free_maps(&maps);
	return ret;
}

int forced_hook_remove(struct remote *r, struct ringfile *rf)
{
	uint8_t orig[1 + CODE_READ], cur[5], jmp[5] = { 0xe9 };
	uint64_t addr, at, zero = 0;
	size_t skip = 0;
	int32_t rel;
	int ret;

	ret = state_rw(r, rf, offsetof(struct tp_state, forced_entry), &addr, 0);
	if (!ret && addr)
		ret = state_rw(r, rf, offsetof(struct tp_state, forced_stub), &at, 0);
	if (ret || !addr)
		return ret;
	ret = remote_read(r, at + STUB_ORIG, orig, sizeof(orig));
	if (ret)
		return ret;
	if (orig[0] > CODE_READ)
		return -EINVAL;
	if (!memcmp(orig + 1, endbr64, sizeof(endbr64)))
		skip = sizeof(endbr64);
	rel = (int32_t)((int64_t)at - (int64_t)(addr + skip + 5));
	memcpy(jmp + 1, &rel, 4);
	/* libgcc_s unloaded since (never seen: glibc keeps it): not ours */
	if (remote_read(r, addr + skip, cur, sizeof(cur)) || memcmp(cur, jmp, sizeof(jmp))) {
		pr_info("%s: its entry is no longer the one patched; left as it is",
			FORCED_NAME);
		ret = 0;
	} else {
		/* no thread is inside the patched bytes: past the jmp are int3s,
		 * which nothing runs; one at the jmp runs the original now */
		ret = remote_write(r, addr, orig + 1, orig[0]);
		if (ret)
			return ret;
		pr_info("%s entry put back", FORCED_NAME);
		ret = 1;
	}
	zero = 0;
	return state_rw(r, rf, offsetof(struct tp_state, forced_entry), &zero, 1) ?: ret;
}
