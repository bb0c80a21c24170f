// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/input/libcall_names.h"
#include "patcher/entries.h"
#include "patcher/imports.h"
#include "symbols/module_file.h"

struct mod_imports {
	int tried, tried_fns;
	struct import_list imps;
	struct entry_list fns;		/* --entry: the file's functions */
};

struct tread_libcall_names {
	const struct tread_ring *ring;
	int root_pid;
	struct mod_imports *mods;	/* [module_cap] */
	uint32_t nmods;
	/* First LIBCALL and ENTRY site of each module ([module_cap] each),
	 * from one pass over the site table: a hostile ring with millions
	 * of sites costs one pass, not one per name. */
	uint32_t *first_libcall, *first_entry;
	int scanned;
};

struct tread_libcall_names *tread_libcall_names_open(const struct tread_ring *ring,
						     int root_pid)
{
	struct tread_libcall_names *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->ring = ring;
	n->root_pid = root_pid;
	n->nmods = ring->hdr.module_cap;
	n->mods = calloc(n->nmods ? n->nmods : 1, sizeof(*n->mods));
	if (!n->mods) {
		free(n);
		return NULL;
	}
	return n;
}

void tread_libcall_names_close(struct tread_libcall_names *n)
{
	if (!n)
		return;
	for (uint32_t i = 0; i < n->nmods; i++)
		imports_free(&n->mods[i].imps);
	for (uint32_t i = 0; i < n->nmods; i++)
		entries_free(&n->mods[i].fns);
	free(n->first_libcall);
	free(n->first_entry);
	free(n->mods);
	free(n);
}

/*
 * The start of the run of sites of @kind and @module: its first site in
 * the table, as tattach lays it out (attach/hooks/libcalls.c, attach/hooks/entries.c).
 * Returns @site itself when unknown, so the index is 0 rather than wild.
 */
static uint32_t run_start(struct tread_libcall_names *n, uint32_t site, unsigned kind,
			  uint32_t module)
{
	uint32_t *first;

	if (!n->scanned) {
		uint32_t count = tread_ring_site_count(n->ring);
		struct tat_site s;

		n->scanned = 1;
		n->first_libcall = calloc(n->nmods ? n->nmods : 1, sizeof(uint32_t));
		n->first_entry = calloc(n->nmods ? n->nmods : 1, sizeof(uint32_t));
		for (uint32_t i = 1; n->first_libcall && n->first_entry && i < count; i++) {
			if (tread_ring_site(n->ring, i, &s) || s.module >= n->nmods)
				continue;
			if (s.kind == TAT_SITE_LIBCALL && !n->first_libcall[s.module])
				n->first_libcall[s.module] = i;
			if (s.kind == TAT_SITE_ENTRY && !n->first_entry[s.module])
				n->first_entry[s.module] = i;
		}
	}
	first = kind == TAT_SITE_LIBCALL ? n->first_libcall : n->first_entry;
	if (!first || module >= n->nmods || !first[module] || first[module] > site)
		return site;
	return first[module];
}

static const struct entry_list *functions_of(struct tread_libcall_names *n, uint32_t module)
{
	struct mod_imports *mi;
	struct tread_module m;
	char err[256], path[TAT_PATH_MAX + 64];

	if (module >= n->nmods)
		return NULL;
	mi = &n->mods[module];
	if (!mi->tried_fns) {
		mi->tried_fns = 1;
		if (tread_ring_module(n->ring, module, &m))
			return NULL;
		m.path[sizeof(m.path) - 1] = 0;
		sym_module_file(n->root_pid, m.path, path, sizeof(path));
		entries_find(path, NULL, 0, &mi->fns, err, sizeof(err));
	}
	return &mi->fns;
}

uint64_t tread_entry_addr(struct tread_libcall_names *n, uint32_t site,
			  const struct tat_site *s, uint64_t bias)
{
	const struct entry_list *fns = functions_of(n, s->module);
	uint32_t i = site - run_start(n, site, TAT_SITE_ENTRY, s->module);

	if (!fns || i >= fns->n)
		return 0;
	return fns->v[i].start + bias;
}

static const struct import_list *imports_of(struct tread_libcall_names *n, uint32_t module)
{
	struct mod_imports *mi;
	struct tread_module m;
	char err[256], path[TAT_PATH_MAX + 64];

	if (module >= n->nmods)
		return NULL;
	mi = &n->mods[module];
	if (!mi->tried) {
		mi->tried = 1;
		if (tread_ring_module(n->ring, module, &m))
			return NULL;
		m.path[sizeof(m.path) - 1] = 0;
		sym_module_file(n->root_pid, m.path, path, sizeof(path));
		imports_find(path, &mi->imps, err, sizeof(err));
	}
	return &mi->imps;
}

const char *tread_libcall_name(struct tread_libcall_names *n, uint32_t site,
			       const struct tat_site *s, uint32_t *import)
{
	const struct import_list *imps;

	*import = site - run_start(n, site, TAT_SITE_LIBCALL, s->module);
	imps = imports_of(n, s->module);
	if (!imps || *import >= imps->n)
		return NULL;
	return imps->v[*import].name;
}
