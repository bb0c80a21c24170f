// SPDX-License-Identifier: MIT
/*
 * The lowest loadable segment of an ELF file, read with libelf.
 */
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <unistd.h>

#include "symbols/module_base.h"
#include "symbols/module_file.h"

#define PAGE_MASK_4K (~(uint64_t)0xfff)

/* Lowest PT_LOAD p_vaddr of the file at @path; -1 when unreadable. */
static int lowest_vaddr(const char *path, uint64_t *out)
{
	size_t nphdr;
	Elf *elf = NULL;
	int fd, ret = -1;
	uint64_t low = UINT64_MAX;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (elf_version(EV_CURRENT) == EV_NONE)
		goto out;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getphdrnum(elf, &nphdr))
		goto out;
	for (size_t i = 0; i < nphdr; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    ph.p_vaddr < low)
			low = ph.p_vaddr;
	}
	if (low != UINT64_MAX) {
		*out = low;
		ret = 0;
	}
out:
	elf_end(elf);
	close(fd);
	return ret;
}

uint64_t sym_module_base(const char *path, uint64_t load_bias, int root_pid)
{
	char file[4096 + 64];
	uint64_t low;

	sym_module_file(root_pid, path, file, sizeof(file));
	if (lowest_vaddr(file, &low) == 0)
		return (load_bias + low) & PAGE_MASK_4K;
	return load_bias;
}
