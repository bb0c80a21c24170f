/* SPDX-License-Identifier: MIT */
/*
 * Is the code a process runs still what its file holds?
 *
 * A file written after the process started (a plugin rebuilt, then loaded
 * with dlopen(); a file only touched) may or may not be what was mapped.
 * The modification time cannot tell; the bytes can.
 */
#ifndef TATTACH_ATTACH_MODULE_TEXT_H
#define TATTACH_ATTACH_MODULE_TEXT_H

#include <sys/types.h>

struct map;
struct site_list;
struct elf_facts;

/*
 * module_text_matches - compare the executable mapping @m of @pid with
 * the bytes of @file it maps, but for the bytes of the file's own sites
 * @sites (which tattach may have written: calls into the trampoline, or
 * NOPs of another length; @facts place them), and for function entries
 * and PLT jumps holding the jmp --entry or --libcalls writes.  Returns 1 if they match, 0 if not or
 * if either cannot be read.
 */
int module_text_matches(pid_t pid, const struct map *m, const char *file,
			const struct site_list *sites, const struct elf_facts *facts);

#endif /* TATTACH_ATTACH_MODULE_TEXT_H */
