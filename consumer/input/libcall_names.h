/* SPDX-License-Identifier: MIT */
/*
 * Names of library-call sites (TAT_SITE_LIBCALL, tattach --libcalls).
 *
 * The ring stores an import by its place: the LIBCALL sites of a module
 * are one run of the site table in the order patcher/imports.c lists the
 * module's imports.  The name is read again from the module's file.
 */
#ifndef TATTACH_CONSUMER_LIBCALL_NAMES_H
#define TATTACH_CONSUMER_LIBCALL_NAMES_H

#include <stdint.h>

#include "consumer/decode/ring_reader.h"

struct tread_libcall_names;

struct tread_libcall_names *tread_libcall_names_open(const struct tread_ring *ring,
						     int root_pid);
void tread_libcall_names_close(struct tread_libcall_names *n);

/*
 * The imported function LIBCALL site @site (entry @s) calls, or NULL when
 * its module's file cannot be read or does not list it (the caller then
 * shows the module and the import's number).
 */
const char *tread_libcall_name(struct tread_libcall_names *n, uint32_t site,
			       const struct tat_site *s, uint32_t *import);

/*
 * The runtime address of the function whose entry ENTRY site @site (entry
 * @s, module load bias @bias) patched, or 0 when its file cannot be read
 * or does not list it.  Named like any address of the module then.
 */
uint64_t tread_entry_addr(struct tread_libcall_names *n, uint32_t site,
			  const struct tat_site *s, uint64_t bias);

#endif
