/* SPDX-License-Identifier: MIT */
/*
 * Which file to read for a module of the traced process.
 *
 * The ring's module table names each module by the path it was loaded
 * from.  That file may have been replaced since (a program rebuilt, a
 * library upgraded while the process runs): the kernel then shows the
 * mapping as "PATH (deleted)", and the file it mapped can still be opened
 * through /proc/PID/map_files while the process lives.  Or the process
 * lives in another mount namespace, where PATH is /proc/PID/root/PATH.
 */
#ifndef TATTACH_SYMBOLS_MODULE_FILE_H
#define TATTACH_SYMBOLS_MODULE_FILE_H

#include <stddef.h>

/*
 * sym_module_file - where to read module @path of process @pid
 * @pid:  the live process that loaded it, or 0 (a trace read after it
 *        ended, or elsewhere): then @path itself
 * @file: receives the path to open, @len bytes
 *
 * The file mapped, through /proc/@pid/map_files, when the mapping says
 * it was deleted or replaced; else @path when it can be read here; else
 * @path as @pid sees it.  Returns 1 when @file is the mapped file of a
 * replaced module, 0 otherwise (@file then names @path, readable or not).
 */
int sym_module_file(int pid, const char *path, char *file, size_t len);

#endif /* TATTACH_SYMBOLS_MODULE_FILE_H */
