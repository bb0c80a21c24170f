// SPDX-License-Identifier: MIT
/*
 * Unwind tables and names of code replaced on disk: replaced_code.h.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach/process/proc.h"
#include "attach/process/replaced_code.h"
#include "symbols/symbols.h"

/*
 * libunwind's search of one unwind table, which its own find_proc_info
 * uses too.  Not in its public headers, but exported under this name by
 * every libunwind since 0.99 (perf declares it the same way).
 */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
					      unw_dyn_info_t *di, unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

/* .eh_frame_hdr's encodings (DW_EH_PE_*) its binary search table needs */
#define EH_UDATA4	0x03
#define EH_DATAREL_SDATA4 0x3b

/* Where the file maps, from its program headers: the load bias, and the
 * .eh_frame_hdr (PT_GNU_EH_FRAME). */
static int read_layout(struct replaced_code *rc, const char *file, uint64_t *hdr_vaddr)
{
	size_t n;
	Elf *e = NULL;
	int fd, found = 0;

	*hdr_vaddr = 0;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE)
		goto out;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_getphdrnum(e, &n))
		goto out;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph))
			continue;
		if (ph.p_type == PT_GNU_EH_FRAME)
			*hdr_vaddr = ph.p_vaddr;
		/* the segment this mapping is of: its file offset, its address */
		if (ph.p_type == PT_LOAD && (ph.p_offset & ~0xfffull) <= rc->offset &&
		    rc->offset < ph.p_offset + ph.p_filesz) {
			rc->bias = rc->lo - rc->offset + ph.p_offset - ph.p_vaddr;
			found = 1;
		}
	}
out:
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	return found ? 0 : -1;
}

static void load(struct replaced_code *rc)
{
	char file[96], err[256];
	uint64_t hdr_vaddr;
	uint8_t hdr[12];

	rc->loaded = 1;
	proc_map_file(rc->pid, rc->lo, rc->hi, file, sizeof(file));
	if (read_layout(rc, file, &hdr_vaddr))
		return;
	if (!sym_open(&rc->sym) &&
	    sym_add_module(rc->sym, file, rc->bias, NULL, 0, err, sizeof(err))) {
		sym_close(rc->sym);
		rc->sym = NULL;
	}
	/* version 1, then the encodings of eh_frame_ptr, fde_count and the
	 * table; the table after the two 4-byte fields */
	if (!hdr_vaddr || proc_read_mem(rc->pid, hdr_vaddr + rc->bias, hdr, sizeof(hdr)) ||
	    hdr[0] != 1 || hdr[2] != EH_UDATA4 || hdr[3] != EH_DATAREL_SDATA4)
		return;
	rc->eh_frame_hdr = hdr_vaddr + rc->bias;
	rc->fde_count = (uint64_t)hdr[8] | (uint64_t)hdr[9] << 8 | (uint64_t)hdr[10] << 16 |
			(uint64_t)hdr[11] << 24;
}

int replaced_code_proc_info(struct replaced_code *rc, unw_addr_space_t as, unw_word_t ip,
			    unw_proc_info_t *pi, int need_unwind_info, void *arg)
{
	unw_dyn_info_t di;

	if (!rc->loaded)
		load(rc);
	if (!rc->eh_frame_hdr || !rc->fde_count)
		return -UNW_ENOINFO;
	memset(&di, 0, sizeof(di));
	di.start_ip = rc->lo;
	di.end_ip = rc->hi;
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.u.rti.segbase = rc->eh_frame_hdr;	/* what "datarel" is relative to */
	di.u.rti.table_data = rc->eh_frame_hdr + 12;
	di.u.rti.table_len = rc->fde_count * 8 / sizeof(unw_word_t);	/* two int32 each */
	return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
}

int replaced_code_name(struct replaced_code *rc, unw_word_t ip, char *buf, size_t len,
		       unw_word_t *off)
{
	struct sym_info info;

	if (!rc->loaded)
		load(rc);
	if (!rc->sym || sym_resolve(rc->sym, ip, &info) || !info.known)
		return -UNW_ENOINFO;
	/* as libunwind names them: no symbol version ("@@GLIBC_2.2.5") */
	snprintf(buf, len, "%.*s", (int)strcspn(info.name, "@"), info.name);
	*off = info.offset;
	return 0;
}

void replaced_code_free(struct replaced_code *rc)
{
	if (rc->sym)
		sym_close(rc->sym);
	memset(rc, 0, sizeof(*rc));
}
