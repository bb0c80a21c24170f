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
#include "attach/module_text.h"
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

#define DELETED " (deleted)"

void module_path_of(const char *map_path, char *path, size_t len)
{
	size_t n = strlen(map_path), d = strlen(DELETED);

	if (n > d && !strcmp(map_path + n - d, DELETED))
		n -= d;
	snprintf(path, len, "%.*s", (int)n, map_path);
}

const char *module_mapped_file(pid_t pid, const struct map *m, char *file, size_t len,
			       const char **note)
{
	char path[256];
	struct stat st;

	if (note)
		*note = NULL;
	module_path_of(m->path, path, sizeof(path));
	proc_path(pid, "root", file, len);
	snprintf(file + strlen(file), len - strlen(file), "%s", path);
	if (stat(file, &st) == 0 ? (uint64_t)st.st_ino == m->inode : !map_replaced(m))
		return NULL;	/* there (or unreadable: sites_find will say so) */
	proc_map_file(pid, m->start, m->end, file, len);
	if (stat(file, &st) < 0 || (uint64_t)st.st_ino != m->inode)
		return "was replaced on disk after it was loaded, and its mapped file cannot be "
		       "opened (/proc/PID/map_files needs root)";
	if (note)
		*note = "was replaced on disk after it was loaded: read as mapped";
	return NULL;
}

/*
 * Is the code mapped at @m still what @mod's file holds?  A file written
 * after the process started may not be: a plugin rebuilt before its
 * dlopen(), a file only touched, or new code under the old; the bytes
 * tell (module_text.c), the sites already found left out.  NULL, or why
 * not; *@note says it was looked at (for -v).
 */
static const char *written_since(pid_t pid, const struct map *m, const struct module *mod,
				 const char **note)
{
	struct stat st;
	double started;

	*note = NULL;
	if (stat(mod->file, &st) < 0)
		return NULL;
	started = process_start(pid);
	/* one second of slack: mtime and btime have coarse clocks */
	if (started <= 0 || (double)st.st_mtime <= started + 1)
		return NULL;
	if (!module_text_matches(pid, m, mod->file, &mod->sites, &mod->facts))
		return "was modified on disk after the process started, and its code in "
		       "memory differs from it";
	*note = "was modified on disk after the process started, but its code in memory "
		"is the file's";
	return NULL;
}

int module_file(pid_t pid, const char *path, char *file, size_t len)
{
	struct maps maps;
	char mpath[256];
	int ret = -ENOENT;

	if (proc_read_maps(pid, &maps))
		return -ESRCH;
	for (size_t i = 0; i < maps.n && ret; i++) {
		module_path_of(maps.v[i].path, mpath, sizeof(mpath));
		if ((maps.v[i].prot & PROT_EXEC) && !strcmp(mpath, path))
			ret = module_mapped_file(pid, &maps.v[i], file, len, NULL) ? -ESTALE : 0;
	}
	proc_free_maps(&maps);
	if (ret == -ENOENT) {	/* not mapped now: as the target sees it */
		proc_path(pid, "root", file, len);
		snprintf(file + strlen(file), len - strlen(file), "%s", path);
		ret = 0;
	}
	return ret;
}

void module_exe(pid_t pid, char *exe, size_t len)
{
	char link[96], buf[256];
	ssize_t n;

	proc_path(pid, "exe", link, sizeof(link));
	n = readlink(link, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	module_path_of(buf, exe, len);
}

const struct module *modules_changed(pid_t pid, const struct module_set *set)
{
	char exe[256];

	module_exe(pid, exe, sizeof(exe));
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
		char path[256], err[256];
		const char *note;
		int ret;

		module_path_of(m->path, path, sizeof(path));
		if (!(m->prot & PROT_EXEC) || m->path[0] != '/' || already_listed(set, path))
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
		snprintf(mod->path, sizeof(mod->path), "%s", path);
		mod->changed = module_mapped_file(pid, m, mod->file, sizeof(mod->file), &note);
		if (note)
			pr_info("%s %s", path, note);
		if (mod->changed) {
			set->n++;
			continue;
		}
		ret = sites_find(mod->file, &mod->sites, &mod->facts, err, sizeof(err));
		if (ret) {
			pr_debug("%s: %s", m->path, err);
			continue;
		}
		mod->changed = written_since(pid, m, mod, &note);
		if (note)
			pr_info("%s %s", path, note);
		if (mod->changed) {
			sites_free(&mod->sites);
			memset(&mod->sites, 0, sizeof(mod->sites));
			set->n++;
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
int module_replaced(const struct maps *maps, const struct tat_module *tm)
{
	const struct map *m = maps_find(maps, tm->text_start);

	return m && module_mapped(maps, tm) && strcmp(m->path, tm->path) != 0;
}

int module_mapped(const struct maps *maps, const struct tat_module *tm)
{
	const struct map *m = maps_find(maps, tm->text_start);
	size_t len = strlen(tm->path);

	return m && (m->prot & PROT_EXEC) && strncmp(m->path, tm->path, len) == 0 &&
	       (m->path[len] == 0 || strcmp(m->path + len, " (deleted)") == 0) &&
	       (!tm->text_end || maps_find(maps, tm->text_end - 1) != NULL);
}
