// SPDX-License-Identifier: MIT
/*
 * Is the code a process runs still what its file holds: module_text.h.
 * Read before the process is stopped, in chunks, memory against file;
 * what tattach itself writes (sites, --entry's and --libcalls' jmps)
 * left out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/module_text.h"
#include "attach/process/proc.h"
#include "patcher/entries.h"
#include "patcher/imports.h"
#include "patcher/sites.h"

#define CHUNK (64 * 1024)

/* Does byte @addr (runtime) lie in a site of @sites, whose runtime
 * address is vaddr + @bias?  The list is sorted by vaddr. */
static int in_site(const struct site_list *sites, uint64_t bias, uint64_t addr)
{
	size_t lo = 0, hi = sites->n;

	while (lo < hi) {	/* the first site past @addr */
		size_t mid = lo + (hi - lo) / 2;

		if (sites->v[mid].vaddr + bias <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && addr < sites->v[lo - 1].vaddr + bias + sites->v[lo - 1].len;
}

/*
 * The places --entry and --libcalls write in a module's code: function
 * entries (a jmp rel32, then int3 to the end of the bytes it replaced)
 * and PLT jumps (a jmp rel32, then NOPs).  Listed when the first byte
 * that differs outside a site is found, as the list costs an analysis of
 * every function, which a process with neither never needs.
 */
struct hook_window {
	uint64_t vaddr;			/* ELF vaddr of the jmp */
	uint8_t len;			/* bytes it replaced */
	uint8_t pad;			/* what follows the jmp: int3 or NOP */
};

struct hook_windows {
	struct hook_window *v;
	size_t n;
	int listed;
	uint64_t lo, hi;		/* the last window found hooked */
};

static int by_vaddr(const void *a, const void *b)
{
	const struct hook_window *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static void list_hook_windows(const char *file, const struct site_list *sites,
			      struct hook_windows *w)
{
	struct entry_list fns = { 0 };
	struct import_list imps = { 0 };
	char err[256];
	size_t cap;

	w->listed = 1;
	if (entries_find(file, sites, 1, &fns, err, sizeof(err)))
		memset(&fns, 0, sizeof(fns));
	if (imports_find(file, &imps, err, sizeof(err)))
		memset(&imps, 0, sizeof(imps));
	cap = fns.n + imps.n;
	w->v = cap ? malloc(cap * sizeof(*w->v)) : NULL;
	for (size_t i = 0; w->v && i < fns.n; i++)
		if (fns.v[i].win)
			w->v[w->n++] = (struct hook_window){ fns.v[i].patch, fns.v[i].win, 0xcc };
	for (size_t i = 0; w->v && i < imps.n; i++)
		if (imps.v[i].hook == IMPORT_PLT)
			w->v[w->n++] = (struct hook_window){ imps.v[i].plt, imps.v[i].len, 0x90 };
	if (w->v)
		qsort(w->v, w->n, sizeof(*w->v), by_vaddr);
	entries_free(&fns);
	imports_free(&imps);
}

/*
 * Does byte @addr (runtime: vaddr + @bias) lie in a window that holds
 * what --entry or --libcalls writes there?  The code the jmp leads to is
 * elsewhere (a stub); but for the window, the function is the file's.
 */
static int in_hook(pid_t pid, const char *file, const struct site_list *sites,
		   struct hook_windows *w, uint64_t bias, uint64_t addr)
{
	uint8_t cur[RELOCATE_MAX > 8 ? RELOCATE_MAX : 8];
	const struct hook_window *h;
	size_t lo = 0, hi;

	if (addr >= w->lo && addr < w->hi)
		return 1;
	if (!w->listed)
		list_hook_windows(file, sites, w);
	for (hi = w->n; lo < hi;) {	/* the first window past @addr */
		size_t mid = lo + (hi - lo) / 2;

		if (w->v[mid].vaddr + bias <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	h = &w->v[lo - 1];
	if (addr >= h->vaddr + bias + h->len || h->len > sizeof(cur) ||
	    proc_read_mem(pid, h->vaddr + bias, cur, h->len) || cur[0] != 0xe9)
		return 0;
	for (unsigned i = 5; i < h->len; i++)
		if (cur[i] != h->pad)
			return 0;
	w->lo = h->vaddr + bias;
	w->hi = w->lo + h->len;
	return 1;
}

int module_text_matches(pid_t pid, const struct map *m, const char *file,
			const struct site_list *sites, const struct elf_facts *facts)
{
	struct hook_windows hooks = { 0 };
	uint8_t *mem = NULL, *disk = NULL;
	uint64_t len, bias;
	struct stat st;
	int fd, same = 0;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size <= m->offset)
		goto out;
	/* past the file's end, the mapping's page holds zeros: not compared */
	len = m->end - m->start;
	if (len > (uint64_t)st.st_size - m->offset)
		len = (uint64_t)st.st_size - m->offset;
	/* runtime = file offset + (start - offset); vaddr = file offset + vaddr
	 * - offset, in the executable segment */
	bias = m->start - m->offset + facts->exec_offset - facts->exec_vaddr;
	mem = malloc(CHUNK);
	disk = malloc(CHUNK);
	if (!mem || !disk)
		goto out;
	for (uint64_t off = 0; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? (size_t)(len - off) : CHUNK;

		if (proc_read_mem(pid, m->start + off, mem, n) ||
		    pread(fd, disk, n, (off_t)(m->offset + off)) != (ssize_t)n)
			goto out;
		for (size_t i = 0; i < n; i++)
			if (mem[i] != disk[i] && !in_site(sites, bias, m->start + off + i) &&
			    !in_hook(pid, file, sites, &hooks, bias, m->start + off + i))
				goto out;
	}
	same = 1;
out:
	free(hooks.v);
	free(mem);
	free(disk);
	if (fd >= 0)
		close(fd);
	return same;
}
