// SPDX-License-Identifier: MIT
/*
 * Which loaded objects of the target have sites, where they are loaded,
 * and what their sites are.  Done before the target is stopped: the file
 * work (libelf, capstone) must not lengthen the pause.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "attach/log.h"
#include "attach/modules.h"

static int already_listed(const struct module_set *set, const char *path)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].path, path) == 0)
			return 1;
	return 0;
}

/* The executable mapping of @path whose file offset is the segment's. */
static const struct map *exec_mapping(const struct maps *maps, const char *path,
				      uint64_t seg_offset)
{
	for (size_t i = 0; i < maps->n; i++) {
		const struct map *m = &maps->v[i];

		if ((m->prot & PROT_EXEC) && strcmp(m->path, path) == 0 &&
		    m->offset == (seg_offset & ~0xfffull))
			return m;
	}
	return NULL;
}

int modules_discover(pid_t pid, const struct maps *maps, struct module_set *set)
{
	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < maps->n; i++) {
		const struct map *m = &maps->v[i];
		struct module *mod;
		const struct map *em;
		char file[300], err[256];
		int ret;

		if (!(m->prot & PROT_EXEC) || m->path[0] != '/' ||
		    already_listed(set, m->path))
			continue;
		if (set->n == set->cap) {
			size_t cap = set->cap ? 2 * set->cap : 8;
			struct module *nv = realloc(set->v, cap * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			set->v = nv;
			set->cap = cap;
		}
		mod = &set->v[set->n];
		memset(mod, 0, sizeof(*mod));
		snprintf(mod->path, sizeof(mod->path), "%s", m->path);
		/* The file as the target sees it (its root, its mount ns). */
		snprintf(file, sizeof(file), "/proc/%d/root%s", (int)pid, m->path);
		ret = sites_find(file, &mod->sites, &mod->facts, err, sizeof(err));
		if (ret) {
			pr_debug("%s: %s", m->path, err);
			continue;
		}
		em = exec_mapping(maps, m->path, mod->facts.exec_offset);
		if (!em) {
			sites_free(&mod->sites);
			continue;
		}
		mod->bias = em->start - (mod->facts.exec_vaddr & ~0xfffull);
		mod->text_start = mod->facts.exec_vaddr + mod->bias;
		mod->text_end = mod->text_start + mod->facts.exec_memsz;
		set->total_sites += mod->sites.n;
		set->n++;
	}
	return 0;
}

void modules_free(struct module_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		sites_free(&set->v[i].sites);
	free(set->v);
	memset(set, 0, sizeof(*set));
}
