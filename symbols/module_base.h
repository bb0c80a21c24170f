/* SPDX-License-Identifier: MIT */
/*
 * Where a module's first mapping starts in the traced process.
 *
 * Exports that name code by module offset (uftrace's maps and symbol
 * files) need the start of the module's lowest mapping, which the ring's
 * module table does not hold: it has the load bias only.  The lowest
 * PT_LOAD segment of the ELF file gives the rest.
 */
#ifndef TATTACH_SYMBOLS_MODULE_BASE_H
#define TATTACH_SYMBOLS_MODULE_BASE_H

#include <stdint.h>

/*
 * sym_module_base - load bias + lowest PT_LOAD vaddr, page aligned
 * @path:      the module as the process saw it
 * @load_bias: from the module table
 * @root_pid:  when > 0, the live process: its file is found as
 *             sym_module_file() says
 *
 * Returns the address, or @load_bias when the file cannot be read (a
 * guess that is right for shared objects and position-independent
 * programs linked at 0).
 */
uint64_t sym_module_base(const char *path, uint64_t load_bias, int root_pid);

#endif /* TATTACH_SYMBOLS_MODULE_BASE_H */
