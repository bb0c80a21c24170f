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
#include <sys/stat.h>
#include <unistd.h>

#include <tattach/ring.h>
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

/* When the process started, in seconds since the epoch. */
static double process_start(pid_t pid)
{
	unsigned long long btime = 0;
	struct proc_stat st;
	char line[256];
	FILE *f;

	if (proc_read_stat(pid, &st))
		return 0;
	f = fopen("/proc/stat", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	return (double)btime + (double)st.start_time / (double)sysconf(_SC_CLK_TCK);
}

/*
 * Does the mapped code still match its file?  Replaced (the mapping's inode
 * is gone) or written after the process started: then the bytes we would
 * read from the file are not the ones in memory.
 */
static const char *file_changed(pid_t pid, const struct map *m)
{
	char file[300];
	struct stat st;
	double started;

	if (strstr(m->path, " (deleted)"))
		return "was deleted or replaced on disk after it was loaded";
	proc_path(pid, "root", file, sizeof(file));
	snprintf(file + strlen(file), sizeof(file) - strlen(file), "%s", m->path);
	if (stat(file, &st) < 0)
		return NULL;	/* unreadable: sites_find will say so */
	if ((uint64_t)st.st_ino != m->inode)
		return "was replaced on disk after it was loaded";
	started = process_start(pid);
	/* one second of slack: mtime and btime have coarse clocks */
	if (started > 0 && (double)st.st_mtime > started + 1)
		return "was modified on disk after the process started";
	return NULL;
}

const struct module *modules_changed(pid_t pid, const struct module_set *set)
{
	char exe_link[96], exe[256] = "";
	ssize_t n;

	proc_path(pid, "exe", exe_link, sizeof(exe_link));
	n = readlink(exe_link, exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = 0;
	for (size_t i = 0; i < set->n; i++) {
		const struct module *m = &set->v[i];

		if (m->changed && (m->sites.n || !strncmp(m->path, exe, strlen(exe))))
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
		mod->changed = file_changed(pid, m);
		if (mod->changed) {
			set->n++;
			continue;
		}
		/* The file as the target sees it (its root, its mount ns). */
		proc_path(pid, "root", file, sizeof(file));
	snprintf(file + strlen(file), sizeof(file) - strlen(file), "%s", m->path);
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

/* A file replaced on disk since shows as "path (deleted)": still the same
 * code. */
int module_mapped(const struct maps *maps, const struct tat_module *tm)
{
	const struct map *m = maps_find(maps, tm->text_start);
	size_t len = strlen(tm->path);

	return m && (m->prot & PROT_EXEC) && strncmp(m->path, tm->path, len) == 0 &&
	       (m->path[len] == 0 || strcmp(m->path + len, " (deleted)") == 0) &&
	       (!tm->text_end || maps_find(maps, tm->text_end - 1) != NULL);
}
