// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <fcntl.h>
#include <gelf.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/tramp/tramp_abi.h"
#include "lib/ring_view.h"
#include "lib/tramp_scan.h"

#define MAX_OBJECTS 64
#define MAX_REGIONS 4

struct object {
	char path[256];
	uint64_t bias;
	uint64_t addr[MAX_REGIONS], size[MAX_REGIONS];
	size_t n;
};

static int mem_open(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* The .got and .got.plt of @o->path, at their runtime addresses. */
static int got_regions(struct object *o, uint64_t first_map)
{
	int fd = open(o->path, O_RDONLY | O_CLOEXEC);
	uint64_t lo = UINT64_MAX;
	Elf_Scn *scn = NULL;
	size_t shstrndx, nph;
	GElf_Ehdr eh;
	Elf *elf;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    elf_getshdrstrndx(elf, &shstrndx) || elf_getphdrnum(elf, &nph)) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -1;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < lo)
			lo = ph.p_vaddr & ~0xfffull;
	}
	o->bias = eh.e_type == ET_DYN && lo != UINT64_MAX ? first_map - lo : 0;
	while ((scn = elf_nextscn(elf, scn)) && o->n < MAX_REGIONS) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".got") || !strcmp(name, ".got.plt"))) {
			o->addr[o->n] = sh.sh_addr + o->bias;
			o->size[o->n++] = sh.sh_size;
		}
	}
	elf_end(elf);
	close(fd);
	return 0;
}

/* Every ELF object mapped in @pid (its mapping at file offset 0). */
static size_t objects_of(pid_t pid, struct object *v, size_t max)
{
	char path[64], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && n < max) {
		unsigned long long start, off;
		char file[256] = "";
		size_t k;

		if (sscanf(line, "%llx-%*x %*s %llx %*s %*d %255s", &start, &off, file) != 3 ||
		    file[0] != '/' || off != 0)
			continue;
		for (k = 0; k < n && strcmp(v[k].path, file); k++)
			;
		if (k < n)
			continue;
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].path, sizeof(v[n].path), "%s", file);
		if (!got_regions(&v[n], start))
			n++;
	}
	fclose(f);
	return n;
}

/* The trampoline's state in @pid: where its returns are (tp_return of
 * every copy, and the stubs' +TP_CT_RET: tramp_return_in()). */
static int tramp_state(pid_t pid, struct tp_state *st, struct ring_view *v)
{
	int fd, ok;

	memset(st, 0, sizeof(*st));
	if (ring_view_open(pid, v))
		return -1;
	fd = mem_open(pid);
	ok = fd >= 0 && v->h->private_addr &&
	     pread(fd, st, sizeof(*st), (off_t)v->h->private_addr) == sizeof(*st);
	if (fd >= 0)
		close(fd);
	if (!ok)
		ring_view_close(v);
	return ok ? 0 : -1;
}

/* The stack pointer of thread @tid, blocked in a system call (0: not). */
static uint64_t blocked_sp(pid_t pid, const char *tid)
{
	char path[320], buf[256];
	unsigned long long sp = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/syscall", (int)pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "nr arg1 .. arg6 sp pc" */
	if (sscanf(buf, "%*d %*x %*x %*x %*x %*x %*x %llx", &sp) != 1)
		return 0;
	return sp;
}

/*
 * The stack pointer of thread @tid once it is blocked in a system call
 * again (0: not within a second).  A thread tattach just let go restarts
 * the call it was stopped in, and shows "running" for that moment.
 */
static uint64_t settled_sp(pid_t pid, const char *tid)
{
	uint64_t sp = 0;

	for (int i = 0; i < 1000 && !(sp = blocked_sp(pid, tid)); i++)
		poll(NULL, 0, 1);
	return sp;
}

/* End of the mapping of @pid holding @addr (0: none). */
static uint64_t mapping_end(pid_t pid, uint64_t addr)
{
	char path[64], line[512];
	unsigned long long lo, hi, end = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && addr >= lo && addr < hi) {
			end = hi;
			break;
		}
	fclose(f);
	return end;
}

long tramp_scan_stacks(pid_t pid, char *where, size_t len)
{
	return tramp_scan_stacks_first(pid, NULL, where, len);
}

int tramp_near_landing(pid_t pid, uint64_t v)
{
	const struct tat_site *sites;
	struct ring_view rv;
	int kind = 0;

	if (ring_view_open(pid, &rv))
		return 0;
	sites = (const void *)((const char *)rv.base + rv.h->site_off);
	for (uint32_t i = 1; i < rv.h->site_count && !kind; i++)
		if ((sites[i].kind == TAT_SITE_LIBCALL || sites[i].kind == TAT_SITE_ENTRY) &&
		    v == sites[i].addr - TP_NS_KEY + TP_NS_RET)
			kind = sites[i].kind;
	ring_view_close(&rv);
	return kind;
}

long tramp_scan_stacks_first(pid_t pid, uint64_t *first, char *where, size_t len)
{
	static struct tp_state st;
	uint64_t *buf;
	struct ring_view v;
	struct dirent *de;
	char path[64];
	long found = 0;
	DIR *d;
	int fd;

	if (tramp_state(pid, &st, &v))
		return -1;
	ring_view_close(&v);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	fd = mem_open(pid);
	if (!d || fd < 0) {
		found = -1;
		goto out;
	}
	while ((de = readdir(d))) {
		uint64_t sp, end;
		size_t words;

		if (de->d_name[0] == '.')
			continue;
		sp = settled_sp(pid, de->d_name);
		end = sp ? mapping_end(pid, sp) : 0;
		if (!end) {
			snprintf(where, len, "thread %s: no stack pointer", de->d_name);
			found = -1;
			break;
		}
		sp &= ~7ull;
		words = (size_t)(end - sp) / 8;
		buf = malloc(words * 8);
		if (!buf || pread(fd, buf, words * 8, (off_t)sp) != (ssize_t)(words * 8)) {
			free(buf);
			found = -1;
			break;
		}
		for (size_t i = 0; i < words; i++)
			if (tramp_return_in(&st, buf[i]) && !found++) {
				if (first)
					*first = buf[i];
				snprintf(where, len, "thread %s: return into the trampoline "
					 "(%#llx) at %#llx (sp %#llx)", de->d_name,
					 (unsigned long long)buf[i], (unsigned long long)(sp + i * 8),
					 (unsigned long long)sp);
			}
		free(buf);
	}
out:
	if (d)
		closedir(d);
	if (fd >= 0)
		close(fd);
	return found;
}

long tramp_scan_got(pid_t pid, char *where, size_t len)
{
	static struct object objs[MAX_OBJECTS];
	size_t n = objects_of(pid, objs, MAX_OBJECTS);
	static struct tp_state st;
	struct ring_view v;
	long found = 0;
	int fd;

	if (tramp_state(pid, &st, &v))
		return -1;
	fd = mem_open(pid);
	for (size_t i = 0; fd >= 0 && i < n; i++)
		for (size_t r = 0; r < objs[i].n; r++) {
			uint64_t *buf = malloc(objs[i].size[r] + 8);
			size_t words = (size_t)objs[i].size[r] / 8;

			if (!buf || pread(fd, buf, words * 8, (off_t)objs[i].addr[r]) !=
					    (ssize_t)(words * 8)) {
				free(buf);
				continue;
			}
			for (size_t w = 0; w < words; w++)
				for (uint32_t c = 0; c < v.h->tramp_count && c < TAT_TRAMP_MAX; c++)
					if (buf[w] >= v.h->tramp_addr[c] &&
					    buf[w] < v.h->tramp_addr[c] + v.h->tramp_size && !found++)
						snprintf(where, len, "%s: GOT word at %#llx -> %#llx",
							 objs[i].path,
							 (unsigned long long)(objs[i].addr[r] + w * 8),
							 (unsigned long long)buf[w]);
			free(buf);
		}
	if (fd >= 0)
		close(fd);
	ring_view_close(&v);
	return found;
}

int tramp_same_got(pid_t a, pid_t b, char *where, size_t len)
{
	static struct object objs[MAX_OBJECTS];
	size_t n = objects_of(a, objs, MAX_OBJECTS);
	int fa = mem_open(a), fb = mem_open(b), same = fa >= 0 && fb >= 0;

	if (!same)
		snprintf(where, len, "cannot open their memory");
	for (size_t i = 0; same && i < n; i++)
		for (size_t r = 0; same && r < objs[i].n; r++) {
			size_t sz = (size_t)objs[i].size[r];
			uint8_t *x = malloc(sz + 1), *y = malloc(sz + 1);

			if (!x || !y || pread(fa, x, sz, (off_t)objs[i].addr[r]) != (ssize_t)sz ||
			    pread(fb, y, sz, (off_t)objs[i].addr[r]) != (ssize_t)sz) {
				snprintf(where, len, "%s: GOT at %#llx unreadable", objs[i].path,
					 (unsigned long long)objs[i].addr[r]);
				same = 0;
			}
			for (size_t k = 0; same && k < sz; k++)
				if (x[k] != y[k]) {
					snprintf(where, len, "%s: GOT byte at %#llx: %02x vs %02x",
						 objs[i].path,
						 (unsigned long long)(objs[i].addr[r] + k), x[k], y[k]);
					same = 0;
				}
			free(x);
			free(y);
		}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}
