// SPDX-License-Identifier: MIT
/*
 * Is the code a process runs still what its file holds: module_text.h.
 * Read before the process is stopped, in chunks, memory against file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/module_text.h"
#include "attach/process/proc.h"
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

int module_text_matches(pid_t pid, const struct map *m, const char *file,
			const struct site_list *sites, const struct elf_facts *facts)
{
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
			if (mem[i] != disk[i] && !in_site(sites, bias, m->start + off + i))
				goto out;
	}
	same = 1;
out:
	free(mem);
	free(disk);
	if (fd >= 0)
		close(fd);
	return same;
}
