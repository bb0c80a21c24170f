// SPDX-License-Identifier: MIT
/*
 * Finding _dl_debug_state and _r_debug (the dynamic linker's own symbols:
 * its load address is AT_BASE in /proc/PID/auxv), writing the stub, and
 * recognising and removing it later from what is in the target's memory:
 * a forked child carries its parent's hook, and the follower keeps no
 * table of them.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach/follow/dlhook.h"
#include "attach/follow/lock.h"
#include "attach/inject.h"
#include "attach/log.h"
#include "attach/modules.h"
#include "attach/process/proc.h"

#define STUB_SIZE	4096
#define STUB_PARK_OFF	0x100
#define STUB_INFO_OFF	0x200	/* struct stub_info */
#define STUB_PATH_OFF	0x400	/* the lock file's name, while installing */
#define STUB_MAGIC	0x31574c4f46544154ull	/* "TATFOLW1" */
#define RT_CONSISTENT_OFF 24	/* offsetof(struct r_debug, r_state) */

struct stub_info {
	uint64_t magic;
	uint64_t func;		/* _dl_debug_state */
	uint8_t saved[8];	/* its first bytes, before the jmp */
	uint64_t park, ret, check_end;
};

/* Open-coded machine code: the stub must not depend on anything in the
 * target but the two words it reads. */
struct emit {
	uint8_t b[256];
	size_t n;
};

static void put(struct emit *e, const void *p, size_t len)
{
	memcpy(e->b + e->n, p, len);
	e->n += len;
}

static void put_movabs_rax(struct emit *e, uint64_t v)
{
	static const uint8_t op[] = { 0x48, 0xb8 };

	put(e, op, 2);
	put(e, &v, 8);
}

/* testl $FOLLOW_LOCK_TID_MASK, (%rax) */
static void put_test_lock(struct emit *e)
{
	static const uint8_t op[] = { 0xf7, 0x00, 0xff, 0xff, 0xff, 0x3f };

	put(e, op, sizeof(op));
}

/* A short jump with opcode @op to be patched at *@at. */
static void put_jcc(struct emit *e, uint8_t op, size_t *at)
{
	uint8_t b[2] = { op, 0 };

	put(e, b, 2);
	*at = e->n - 1;
}

static void land(struct emit *e, size_t at, size_t target)
{
	e->b[at] = (uint8_t)(target - (at + 1));
}

/* The hook at 0 and the park loop at STUB_PARK_OFF (in @park). */
static void build_stub(struct emit *hook, struct emit *park, uint64_t lock,
		       uint64_t r_state, struct stub_info *si)
{
	static const uint8_t cmp0[] = { 0x83, 0x38, 0x00 };	/* cmpl $0,(%rax) */
	static const uint8_t yield[] = { 0xb8, SYS_sched_yield, 0, 0, 0, 0x0f, 0x05 };
	size_t j1, j2, j3, loop;
	uint8_t b;

	hook->n = park->n = 0;
	put_movabs_rax(hook, lock);
	put_test_lock(hook);
	put_jcc(hook, 0x74, &j1);		/* jz ret: no follower */
	put_movabs_rax(hook, r_state);
	put(hook, cmp0, sizeof(cmp0));
	put_jcc(hook, 0x75, &j2);		/* jne ret: not consistent */
	si->check_end = hook->n;
	b = 0xcc;				/* int3 */
	put(hook, &b, 1);
	si->ret = hook->n;
	b = 0xc3;				/* ret */
	put(hook, &b, 1);
	land(hook, j1, si->ret);
	land(hook, j2, si->ret);

	loop = park->n;
	put_movabs_rax(park, lock);
	put_test_lock(park);
	put_jcc(park, 0x74, &j3);		/* jz out: the follower is gone */
	put(park, yield, sizeof(yield));
	b = 0xeb;				/* jmp loop */
	put(park, &b, 1);
	b = (uint8_t)(loop - (park->n + 1));
	put(park, &b, 1);
	land(park, j3, park->n);
	b = 0xc3;
	put(park, &b, 1);
	si->park = STUB_PARK_OFF;
}

static int auxv_base(pid_t pid, uint64_t *base)
{
	char path[64];
	Elf64_auxv_t av;
	int fd;

	*base = 0;
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (read(fd, &av, sizeof(av)) == (ssize_t)sizeof(av) && av.a_type != AT_NULL)
		if (av.a_type == AT_BASE)
			*base = av.a_un.a_val;
	close(fd);
	return 0;
}

/* The values of _dl_debug_state and _r_debug, and the lowest PT_LOAD. */
static int ldso_symbols(const char *path, uint64_t *func, uint64_t *rdebug,
			uint64_t *lowest)
{
	Elf_Scn *scn = NULL;
	size_t nph;
	Elf *elf;
	int fd, ret = -ENOENT;

	*func = *rdebug = 0;
	*lowest = UINT64_MAX;
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_getphdrnum(elf, &nph))
		goto out;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    ph.p_vaddr < *lowest)
			*lowest = ph.p_vaddr & ~0xfffull;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM &&
						 sh.sh_type != SHT_SYMTAB))
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;

			if (!gelf_getsym(d, (int)i, &s) || !s.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (name && !strcmp(name, "_dl_debug_state"))
				*func = s.st_value;
			else if (name && !strcmp(name, "_r_debug"))
				*rdebug = s.st_value;
		}
	}
	if (*func && *rdebug && *lowest != UINT64_MAX)
		ret = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

/* Where _dl_debug_state and _r_debug are in @pid: 0, 1 (nothing to
 * hook: no dynamic linker), -errno. */
static int find_site(pid_t pid, const struct maps *maps, uint64_t *func,
		     uint64_t *rdebug)
{
	const struct map *m;
	uint64_t base, f, rd, lowest;
	char file[300];
	int ret = auxv_base(pid, &base);

	if (ret)
		return ret;
	if (!base)
		return 1;	/* static program */
	m = maps_find(maps, base);
	if (!m || !m->path[0] || m->path[0] != '/')
		return 1;
	/* the file mapped, also when replaced on disk since (a glibc
	 * upgrade): module_mapped_file() */
	if (module_mapped_file(pid, m, file, sizeof(file), NULL))
		snprintf(file, sizeof(file), "%s", m->path);
	ret = ldso_symbols(file, &f, &rd, &lowest);
	if (ret)
		return ret == -ENOENT ? 1 : ret;
	*func = base - lowest + f;
	*rdebug = base - lowest + rd;
	return 0;
}

/*
 * Only a function that is nothing but "ret" (maybe after endbr64), with
 * room for a 5-byte jmp before anything else can start: as in every glibc
 * (functions start 16-byte aligned; the rest is padding no code reaches).
 */
static int hookable(uint64_t func, const uint8_t *b)
{
	static const uint8_t endbr_ret[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xc3 };
	static const uint8_t pad[] = { 0x90, 0xcc, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00,
				       0x40, 0x44, 0x80 };

	if (!memcmp(b, endbr_ret, sizeof(endbr_ret)))
		return 1;
	if (b[0] != 0xc3 || (func & 15) > 11)
		return 0;
	for (int i = 1; i < 5; i++)
		if (!memchr(pad, b[i], sizeof(pad)))
			return 0;
	return 1;
}

static int stub_at(pid_t pid, uint64_t base, struct dlhook_stub *st, struct stub_info *si);

/* Map the lock file into the target, read-only: its address or -errno. */
static long map_lock(struct remote *r, uint64_t scratch, const char *lock_path)
{
	pid_t pid = r->held->pid;
	long fd, lock;
	int ret;

	ret = remote_write(r, scratch, lock_path, strlen(lock_path) + 1);
	if (ret)
		return ret;
	fd = remote_syscall(r, SYS_openat, (uint64_t)AT_FDCWD, scratch,
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0, 0, 0);
	if (fd < 0) {
		pr_warn("pid %d cannot open %s: %s: libraries it loads later are not "
			"traced", (int)pid, lock_path, strerror((int)-fd));
		return fd;
	}
	lock = remote_syscall(r, SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, (uint64_t)fd, 0);
	remote_syscall(r, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0);
	return lock;
}

/*
 * _dl_debug_state jumps to a stub already: if it is ours, left by a
 * follower that died, its two loads of the lock word go to our lock from
 * now on (the process is held: no thread runs the stub meanwhile).
 */
static int repoint(struct remote *r, uint64_t func, const uint8_t *jmp,
		   const char *lock_path)
{
	struct dlhook_stub st;
	struct stub_info si;
	uint64_t lock;
	int32_t rel;
	long got;
	int ret;

	memcpy(&rel, jmp + 1, 4);
	if (!stub_at(r->held->pid, func + 5 + (int64_t)rel, &st, &si) || si.func != func)
		return 1;	/* not ours */
	/* the lock file's name goes where the stub page has room */
	got = map_lock(r, st.base + STUB_PATH_OFF, lock_path);
	if (got < 0 && got > -4096)
		return 1;
	lock = (uint64_t)got;
	ret = remote_write(r, st.base + 2, &lock, sizeof(lock));	/* hook's movabs */
	if (!ret)
		ret = remote_write(r, si.park + 2, &lock, sizeof(lock));	/* park's */
	if (!ret)
		pr_info("pid %d: the dlopen hook left by an earlier follower now reads "
			"our lock", (int)r->held->pid);
	return ret;
}

int dlhook_install(struct remote *r, const char *lock_path)
{
	pid_t pid = r->held->pid;
	struct maps maps = { 0 };
	struct emit hook, park;
	struct stub_info si = { .magic = STUB_MAGIC };
	uint64_t func = 0, rdebug = 0, stub = 0;
	uint8_t jmp[5];
	long lock;
	int32_t rel;
	int ret;

	ret = proc_read_maps(pid, &maps);
	if (!ret)
		ret = find_site(pid, &maps, &func, &rdebug);
	if (ret)
		goto out;
	ret = remote_read(r, func, si.saved, sizeof(si.saved));
	if (ret)
		goto out;
	if (si.saved[0] == 0xe9) {
		/* hooked already: by a follower that died (point the stub at
		 * our lock), or someone else (leave it) */
		ret = repoint(r, func, si.saved, lock_path);
		goto out;
	}
	if (!hookable(func, si.saved)) {
		pr_warn("pid %d: _dl_debug_state at %#llx is not a bare 'ret': libraries "
			"it loads later are not traced", (int)pid, (unsigned long long)func);
		ret = 1;
		goto out;
	}
	stub = inject_map_near(r, &maps, func, func + 5, STUB_SIZE);
	if (!stub) {
		pr_warn("pid %d: no room near the dynamic linker for the dlopen hook",
			(int)pid);
		ret = 1;
		goto out;
	}
	lock = map_lock(r, stub + STUB_PATH_OFF, lock_path);
	if (lock < 0 && lock > -4096) {
		ret = 1;	/* said why */
		goto out;
	}
	si.func = func;
	build_stub(&hook, &park, (uint64_t)lock, rdebug + RT_CONSISTENT_OFF, &si);
	si.park += stub;
	si.ret += stub;
	si.check_end += stub;
	ret = remote_write(r, stub, hook.b, hook.n);
	if (!ret)
		ret = remote_write(r, stub + STUB_PARK_OFF, park.b, park.n);
	if (!ret)
		ret = remote_write(r, stub + STUB_INFO_OFF, &si, sizeof(si));
	if (!ret)
		ret = (int)remote_syscall(r, SYS_mprotect, stub, STUB_SIZE,
					  PROT_READ | PROT_EXEC, 0, 0, 0);
	if (ret)
		goto out;
	/* Every thread is held: none can be inside these five bytes. */
	rel = (int32_t)(stub - (func + 5));
	jmp[0] = 0xe9;
	memcpy(jmp + 1, &rel, 4);
	ret = remote_write(r, func, jmp, sizeof(jmp));
	if (!ret)
		pr_info("pid %d: dlopen hook at _dl_debug_state %#llx, stub %#llx", (int)pid,
			(unsigned long long)func, (unsigned long long)stub);
out:
	if (ret < 0)
		pr_warn("pid %d: the dlopen hook could not be set: %s", (int)pid,
			strerror(-ret));
	proc_free_maps(&maps);
	return ret;
}

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static int stub_at(pid_t pid, uint64_t base, struct dlhook_stub *st, struct stub_info *si)
{
	if (read_mem(pid, base + STUB_INFO_OFF, si, sizeof(*si)) || si->magic != STUB_MAGIC)
		return 0;
	st->base = base;
	st->park = si->park;
	st->ret = si->ret;
	st->check_end = si->check_end;
	return 1;
}

int dlhook_trapped(pid_t tid, uint64_t rip, struct dlhook_stub *st)
{
	struct stub_info si;

	/* the int3 is the stub's last instruction but one, at check_end */
	if (!stub_at(tid, (rip - 1) & ~(uint64_t)(STUB_SIZE - 1), st, &si))
		return 0;
	return rip == si.check_end + 1;
}

int dlhook_remove(pid_t pid, struct dlhook_stub *st)
{
	struct maps maps = { 0 };
	struct stub_info si;
	uint64_t func = 0, rdebug = 0;
	uint8_t b[5];
	int32_t rel;
	char path[64];
	int fd, ret;

	memset(st, 0, sizeof(*st));
	ret = proc_read_maps(pid, &maps);
	if (!ret)
		ret = find_site(pid, &maps, &func, &rdebug);
	proc_free_maps(&maps);
	if (ret)
		return ret > 0 ? 0 : ret;
	ret = read_mem(pid, func, b, sizeof(b));
	if (ret || b[0] != 0xe9)
		return ret;
	memcpy(&rel, b + 1, 4);
	if (!stub_at(pid, func + 5 + (int64_t)rel, st, &si) || si.func != func)
		return 0;	/* someone else's jmp: not ours to touch */
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = pwrite(fd, si.saved, 5, (off_t)func) == 5 ? 0 : -EIO;
	close(fd);
	return ret;
}
