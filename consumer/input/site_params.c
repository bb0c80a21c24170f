// SPDX-License-Identifier: MIT
/* Parameters of traced functions by site (site_params.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/input/libcall_names.h"
#include "consumer/input/site_params.h"

struct tread_site_params {
	const struct tread_ring *ring;
	struct sym_func **funcs;		/* [site_cap], looked up on demand */
	uint8_t *tried;				/* [site_cap] */
	struct sym_params_file **files;		/* [module_cap] */
	uint8_t *opened;			/* [module_cap]: 1 tried */
	uint32_t nmods;
	struct tread_libcall_names *entries;	/* ENTRY sites' functions */
};

int tread_site_params_open(const struct tread_ring *ring, struct tread_site_params **out)
{
	struct tread_site_params *p = calloc(1, sizeof(*p));
	uint32_t nsites = ring->site_cap ? ring->site_cap : 1;
	uint32_t nmods = ring->hdr.module_cap ? ring->hdr.module_cap : 1;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->ring = ring;
	p->nmods = nmods;
	p->funcs = calloc(nsites, sizeof(*p->funcs));
	p->tried = calloc(nsites, 1);
	p->files = calloc(nmods, sizeof(*p->files));
	p->opened = calloc(nmods, 1);
	if (!p->funcs || !p->tried || !p->files || !p->opened) {
		tread_site_params_close(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

void tread_site_params_close(struct tread_site_params *p)
{
	if (!p)
		return;
	for (uint32_t i = 0; p->funcs && i < p->ring->site_cap; i++)
		if (p->funcs[i]) {
			sym_func_free(p->funcs[i]);
			free(p->funcs[i]);
		}
	for (uint32_t i = 0; p->files && i < p->nmods; i++)
		sym_params_close(p->files[i]);
	free(p->funcs);
	free(p->tried);
	free(p->files);
	free(p->opened);
	tread_libcall_names_close(p->entries);
	free(p);
}

const struct sym_func *tread_site_params_get(struct tread_site_params *p, uint32_t site)
{
	struct tread_module m;
	struct tat_site s;
	struct sym_func *fn;

	if (!p || site >= p->ring->site_cap)
		return NULL;
	if (p->tried[site])
		return p->funcs[site];
	p->tried[site] = 1;
	if (tread_ring_site(p->ring, site, &s) || s.module >= p->nmods ||
	    tread_ring_module(p->ring, s.module, &m))
		return NULL;
	if (!p->opened[s.module]) {
		p->opened[s.module] = 1;
		if (sym_params_open(m.path, &p->files[s.module]))
			p->files[s.module] = NULL;
	}
	if (!p->files[s.module])
		return NULL;
	/* --entry: the site is in the function's stub; its parameters are
	 * those of the function whose entry it patched */
	if (s.kind == TAT_SITE_ENTRY) {
		if (!p->entries)
			p->entries = tread_libcall_names_open(p->ring, 0);
		s.addr = p->entries ? tread_entry_addr(p->entries, site, &s, m.load_bias) : 0;
		if (!s.addr)
			return NULL;
	}
	fn = calloc(1, sizeof(*fn));
	if (!fn)
		return NULL;
	if (sym_params_of(p->files[s.module], s.addr - m.load_bias, fn) || !fn->found) {
		sym_func_free(fn);
		free(fn);
		return NULL;
	}
	p->funcs[site] = fn;
	return fn;
}
