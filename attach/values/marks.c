// SPDX-License-Identifier: MIT
/*
 * <tattach/mark.h> support (marks.h): the hooks are ordinary -A/-R
 * requests added by tattach, marked optional (a program without them is
 * no error), and the flag is found by its symbol in the module's file.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/log.h"
#include "attach/modules.h"
#include "attach/values/marks.h"

#define FLAG_SYMBOL "tattach_marks_on"

/* What tattach records of each hook, as a user would ask for it. */
static const char *const hook_specs[MARKS_REQUESTS] = {
	"tattach_mark_hook@arg1/s",
	"tattach_label_hook@arg1/s",
	"tattach_counter_hook@arg1/s,arg2/d64",
};

/* The ELF address of data symbol @name in @path (its symtab, else its
 * dynsym), or 0. */
static uint64_t symbol_vaddr(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf_Scn *scn = NULL;
	uint64_t found = 0;
	Elf *e;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (e && !found && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize && !found; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_size != sizeof(int))
				continue;
			s = elf_strptr(e, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name))
				found = sym.st_value;
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return found;
}

int marks_requests(const struct args_req *user, size_t nuser, const struct module_set *set,
		   struct args_req **out, size_t *n)
{
	struct args_req *reqs = calloc(nuser + MARKS_REQUESTS, sizeof(*reqs));
	int any = 0;

	*out = NULL;
	*n = 0;
	if (!reqs)
		return -ENOMEM;
	if (nuser)
		memcpy(reqs, user, nuser * sizeof(*reqs));
	*n = nuser;
	for (size_t i = 0; i < set->n && !any; i++)
		any = set->v[i].sites.n && !set->v[i].changed &&
		      symbol_vaddr(set->v[i].file, FLAG_SYMBOL);
	for (size_t k = 0; any && k < MARKS_REQUESTS; k++) {
		char why[128];

		if (args_req_parse(hook_specs[k], 0, &reqs[*n], why, sizeof(why))) {
			marks_requests_free(reqs, *n, nuser);
			*n = 0;
			return -ENOMEM;	/* the specs above are valid */
		}
		reqs[(*n)++].optional = 1;
	}
	*out = reqs;
	return 0;
}

void marks_requests_free(struct args_req *reqs, size_t n, size_t nuser)
{
	for (size_t i = nuser; reqs && i < n; i++)
		args_req_free(&reqs[i]);
	free(reqs);
}

void marks_flags_free(struct marks_flags *f)
{
	free(f->module);
	free(f->vaddr);
	memset(f, 0, sizeof(*f));
}

int marks_flags_find(struct ringfile *rf, struct marks_flags *f)
{
	const struct tat_argspec *table = args_table(rf);
	const struct tat_site *sites = ringfile_sites(rf);
	const struct tat_module *mods = ringfile_modules(rf);
	uint32_t nmods = rf->hdr->module_count;
	uint8_t *look = calloc(nmods ? nmods : 1, 1);

	memset(f, 0, sizeof(*f));
	f->module = calloc(nmods ? nmods : 1, sizeof(*f->module));
	f->vaddr = calloc(nmods ? nmods : 1, sizeof(*f->vaddr));
	if (!look || !f->module || !f->vaddr) {
		free(look);
		marks_flags_free(f);
		return -ENOMEM;
	}
	for (uint32_t i = 1; table && i < rf->hdr->site_count && i < rf->hdr->site_cap; i++)
		if (args_site_on(table, i) && sites[i].module < nmods)
			look[sites[i].module] = 1;
	for (uint32_t k = 0; k < nmods; k++) {
		char file[300];
		uint64_t v = 0;

		/* the file the process mapped (module_file()): the flag is
		 * written where that file puts it, or nowhere */
		if (look[k] && !module_file((pid_t)rf->hdr->pid, mods[k].path, file, sizeof(file)))
			v = symbol_vaddr(file, FLAG_SYMBOL);
		if (v) {
			f->module[f->n] = k;
			f->vaddr[f->n++] = v;
		}
	}
	free(look);
	f->site_count = rf->hdr->site_count;
	f->module_count = nmods;
	f->found = 1;
	return 0;
}

/* Write @on into the flags of @f; returns how many were written. */
static size_t flags_write(struct remote *r, struct ringfile *rf, const struct marks_flags *f,
			  int on)
{
	const struct tat_module *mods = ringfile_modules(rf);
	int32_t value = on ? 1 : 0;
	size_t written = 0;

	for (uint32_t i = 0; i < f->n && f->module[i] < rf->hdr->module_count; i++) {
		const struct tat_module *m = &mods[f->module[i]];

		if (!remote_write(r, f->vaddr[i] + m->load_bias, &value, sizeof(value)))
			written++;
		else
			pr_warn("%s: could not %s its tattach_marks_on", m->path,
				on ? "set" : "clear");
	}
	return written;
}

size_t marks_flags_put(struct remote *r, struct ringfile *rf, const struct marks_flags *f,
		       int on)
{
	struct marks_flags now;
	size_t written;

	if (f && f->found && f->site_count == rf->hdr->site_count &&
	    f->module_count == rf->hdr->module_count)
		return flags_write(r, rf, f, on);
	if (marks_flags_find(rf, &now))
		return 0;
	written = flags_write(r, rf, &now, on);
	marks_flags_free(&now);
	return written;
}
