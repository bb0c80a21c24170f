/* SPDX-License-Identifier: MIT */
#ifndef TATTACH_MODULES_H
#define TATTACH_MODULES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/process/proc.h"
#include "patcher/sites.h"

struct module {
	char path[256];			/* as loaded (no " (deleted)") */
	char file[300];			/* where its file is read: module_file() */
	struct elf_facts facts;
	struct site_list sites;
	uint64_t bias;			/* runtime = ELF vaddr + bias */
	uint64_t text_start, text_end;	/* runtime */
	const char *changed;		/* why its file no longer matches, or NULL */
};

struct module_set {
	struct module *v;
	size_t n, cap;
	size_t total_sites;
};

/*
 * modules_discover - every file-backed executable mapping of @pid, with
 * its sites.  Objects without sites are listed too (n = 0); files that
 * cannot be read are skipped.  Returns 0 or -ENOMEM.
 */
int modules_discover(pid_t pid, const struct maps *maps, struct module_set *set);

/* The first module whose code may not match its file (replaced or
 * modified since the process started) and that matters: it has sites, or
 * it is the program itself.  NULL if none. */
const struct module *modules_changed(pid_t pid, const struct module_set *set);
void modules_free(struct module_set *set);

/* A module's path from a mapping's, without the " (deleted)" the kernel
 * adds when the file was deleted or replaced since. */
void module_path_of(const char *map_path, char *path, size_t len);
/*
 * Where the file mapped at @m is read, into @file: as the target sees it
 * (its root, its mount namespace) when the mapping's inode is still at
 * its path; when the file was deleted or replaced since (a program
 * rebuilt, a library upgraded, a memfd), the very inode mapped, through
 * /proc/PID/map_files (root may open it).  NULL, or why it cannot be
 * read.  @note, if not NULL, says what was found out (for -v), or NULL.
 */
const char *module_mapped_file(pid_t pid, const struct map *m, char *file, size_t len,
			       const char **note);
/* module_mapped_file() for module @path as @pid maps it now (its first
 * executable mapping), or as the target sees it when it is not mapped:
 * 0, or -ESTALE when the file mapped cannot be read. */
int module_file(pid_t pid, const char *path, char *file, size_t len);
/* The program of @pid, as module paths are (module_path_of()). */
void module_exe(pid_t pid, char *exe, size_t len);

struct tat_module;
/* Is the ring module @tm's text still mapped from its file in @maps (not
 * dlclose()d)?  Sites, hooks and entries of one that is not are left
 * alone: its addresses may hold anything now. */
int module_mapped(const struct maps *maps, const struct tat_module *tm);
/* Mapped, from a file deleted or replaced on disk since ("PATH (deleted)"
 * in @maps): tattach reads the file mapped (module_mapped_file()). */
int module_replaced(const struct maps *maps, const struct tat_module *tm);

#endif
