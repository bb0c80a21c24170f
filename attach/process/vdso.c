// SPDX-License-Identifier: MIT
/*
 * Finding clock_gettime in the target's vDSO: its base from the aux vector
 * (AT_SYSINFO_EHDR), its image read through /proc/PID/mem, its symbol from
 * the dynamic symbol table with libelf working on memory.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/process/proc.h"
#include "attach/process/vdso.h"

static uint64_t vdso_base(pid_t pid)
{
	uint64_t aux[2], base = 0;
	char path[96];
	int fd;

	proc_path(pid, "auxv", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (read(fd, aux, sizeof(aux)) == sizeof(aux) && aux[0] != AT_NULL)
		if (aux[0] == AT_SYSINFO_EHDR)
			base = aux[1];
	close(fd);
	return base;
}

static int find_symbol(Elf *elf, const char *want, uint64_t *value)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && !strcmp(name, want) && sym.st_value) {
				*value = sym.st_value;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int vdso_clock_gettime(struct remote *r, uint64_t *addr)
{
	uint64_t base = vdso_base(r->held->pid), value = 0, first_vaddr = 0;
	const struct map *m;
	struct maps maps;
	size_t size, phnum = 0;
	char *image = NULL;
	Elf *elf = NULL;
	int ret;

	if (!base)
		return -ENOENT;
	ret = proc_read_maps(r->held->pid, &maps);
	if (ret)
		return ret;
	m = maps_find(&maps, base);
	size = m ? m->end - base : 0;
	proc_free_maps(&maps);
	if (!size || size > (1u << 20))
		return -ENOENT;
	image = malloc(size);
	if (!image)
		return -ENOMEM;
	ret = remote_read(r, base, image, size);
	if (ret)
		goto out;
	elf_version(EV_CURRENT);
	elf = elf_memory(image, size);
	ret = -ENOENT;
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	/* symbol values are link-time addresses: relative to the first PT_LOAD */
	if (elf_getphdrnum(elf, &phnum) == 0)
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
				first_vaddr = ph.p_vaddr;
				break;
			}
		}
	ret = find_symbol(elf, "__vdso_clock_gettime", &value);
	if (ret)
		ret = find_symbol(elf, "clock_gettime", &value);
	if (!ret)
		*addr = base + value - first_vaddr;
out:
	if (elf)
		elf_end(elf);
	free(image);
	return ret;
}

int tsc_is_invariant(void)
{
	char line[4096];
	int constant = 0, nonstop = 0;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			constant = strstr(line, " constant_tsc") != NULL;
			nonstop = strstr(line, " nonstop_tsc") != NULL;
			break;
		}
	fclose(f);
	return constant && nonstop;
}
