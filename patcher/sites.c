// SPDX-License-Identifier: MIT
/*
 * sites_find(): the patchable call sites of one ELF file.
 *
 * The finders live in sites_scan.c and the ELF reading in sites_elf.c;
 * this file owns the result list and picks the finder.  The compiler's own
 * list is preferred whenever the file has one: it is exact, where the
 * disassembly fallback can only recognise the forms it knows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "patcher/sites.h"
#include "patcher/sites_priv.h"

int site_add(struct site_list *list, uint64_t vaddr, uint8_t kind,
	     const uint8_t *bytes, uint8_t len)
{
	struct site *s;

	if (len > SITE_MAX_LEN)
		return -EINVAL;
	if (list->n == list->cap) {
		size_t ncap = list->cap ? list->cap * 2 : 64;
		struct site *nv = realloc(list->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		list->v = nv;
		list->cap = ncap;
	}
	s = &list->v[list->n++];
	memset(s, 0, sizeof(*s));
	s->vaddr = vaddr;
	s->kind = kind;
	s->len = len;
	memcpy(s->orig, bytes, len);
	return 0;
}

static int site_cmp(const void *pa, const void *pb)
{
	const struct site *a = pa, *b = pb;

	return a->vaddr < b->vaddr ? -1 : a->vaddr > b->vaddr;
}

/*
 * The tables may list a site twice (a function emitted in two COMDAT
 * groups that the linker merged) and two symbols may alias one function:
 * one site per address is what the patcher needs.
 */
static void sort_unique(struct site_list *list)
{
	size_t j = 0;

	if (list->n < 2)
		return;
	qsort(list->v, list->n, sizeof(*list->v), site_cmp);
	for (size_t i = 1; i < list->n; i++)
		if (list->v[i].vaddr != list->v[j].vaddr)
			list->v[++j] = list->v[i];
	list->n = j + 1;
}

int sites_find(const char *path, struct site_list *out, struct elf_facts *facts,
	       char *err, size_t errlen)
{
	struct img im;
	int ret;

	memset(out, 0, sizeof(*out));
	if (facts)
		memset(facts, 0, sizeof(*facts));
	if (err && errlen)
		err[0] = '\0';

	ret = img_open(&im, path, err, errlen);
	if (ret)
		goto out;
	if (facts)
		img_facts(&im, facts);
	ret = img_load_symbols(&im);
	if (ret)
		goto out;

	if (im.patchable)
		ret = scan_patchable(&im, out);
	else if (im.mcount_loc)
		ret = scan_mcount_loc(&im, out);
	else if (scan_disasm_wanted(&im))
		ret = scan_disasm(&im, out);
	if (ret)
		goto out;
	sort_unique(out);
out:
	img_close(&im);
	if (ret)
		sites_free(out);
	return ret;
}

void sites_free(struct site_list *list)
{
	if (!list)
		return;
	free(list->v);
	memset(list, 0, sizeof(*list));
}

const char *sites_source_name(enum sites_source src)
{
	switch (src) {
	case SITES_FROM_NONE:
		return "none";
	case SITES_FROM_PATCHABLE:
		return "__patchable_function_entries";
	case SITES_FROM_MCOUNT_LOC:
		return "__mcount_loc";
	case SITES_FROM_DISASM:
		return "disassembly";
	}
	return "unknown";
}
