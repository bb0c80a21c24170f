// SPDX-License-Identifier: MIT
/*
 * A stand-in for patcher/imports.c and patcher/entries.c in the fuzz
 * targets, for the same reason as sym_stub.c: consumer/input/libcall_names.c
 * reads the module files a ring names to name library calls and patched
 * entries, and a fuzzer must not open files chosen by its input.  Every
 * file is "unreadable" (-ENOENT), so tread falls back to the names it
 * makes itself ("libcall_I_of_module_M", "entry_N"), which the fuzzer
 * then exercises.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "patcher/entries.h"
#include "patcher/imports.h"

int imports_find(const char *path, struct import_list *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	snprintf(err, errlen, "%s: not opened in a fuzz target", path);
	return -ENOENT;
}

void imports_free(struct import_list *l)
{
	memset(l, 0, sizeof(*l));
}

int entries_find(const char *path, const struct site_list *sites, int analyse,
		 struct entry_list *out, char *err, size_t errlen)
{
	(void)sites;
	(void)analyse;
	memset(out, 0, sizeof(*out));
	snprintf(err, errlen, "%s: not opened in a fuzz target", path);
	return -ENOENT;
}

void entries_free(struct entry_list *l)
{
	memset(l, 0, sizeof(*l));
}
