// SPDX-License-Identifier: MIT
/*
 * -A/-R on the function entries --entry and --module patch
 * (attach/hooks/entries.c): their specs, by the function's symbol name
 * and the DWARF at its address or a SPEC, as for -pg sites
 * (attach/values/args_plan.c); the messages when a request can record nothing
 * there (a refused function, no DWARF, no symbol table); and which spec
 * an ENTRY site of the ring gets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attach/values/args_plan_ctx.h"
#include "attach/log.h"
#include "symbols/name_match.h"

/* A function --entry refused (unsafe to patch) that requests name. */
static void note_refused(struct plan_ctx *c, const struct entry *e)
{
	for (size_t k = 0; k < c->nreqs; k++)
		if (!c->reqs[k].fill_in && name_match(&c->res[k], e->name) &&
		    !c->refused[k]++)
			c->first_refused[k] = e;
}

/*
 * --entry, --module: each function entry of @ep by its name, its
 * arguments by the DWARF at its address (when the file has DWARF) or by
 * SPEC.  Those that record values are patched even where -F/-N would
 * leave them out, as -pg functions are.  A function that has a -pg site
 * is planned with its site (plan_module); one refused as unsafe cannot
 * record values: noted for args_entries_said().
 */
int args_plan_entries(struct plan_ctx *c, struct entry_plan *ep, struct args_plan *out)
{
	int ret = 0;

	out->ep = c->ep = ep;
	out->espec = calloc(ep->n ? ep->n : 1, sizeof(*out->espec));
	if (!out->espec)
		return -ENOMEM;
	out->nemods = ep->n;
	c->entries = 1;
	for (size_t i = 0; i < ep->n && !ret; i++) {
		struct entry_mod *em = &ep->v[i];
		struct sym_params_file *pf = NULL;

		out->espec[i] = calloc(em->fns.n ? em->fns.n : 1, sizeof(**out->espec));
		if (!out->espec[i] || sym_params_open(em->file, &pf) == -ENOMEM) {
			ret = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < em->fns.n && !ret; j++) {
			const struct entry *e = &em->fns.v[j];

			if (!e->win) {
				if (strncmp(e->refused, "it has a -pg site", 17))
					note_refused(c, e);
				continue;
			}
			ret = args_plan_site(c, pf, e->start, e->name, &out->espec[i][j], &out->sites);
			for (size_t k = 0; k < c->nreqs && !ret; k++)
				if (c->nodwarf[k] && !c->first_nodwarf[k])
					c->first_nodwarf[k] = e;
			if (!ret && args_site_on(out->espec[i], (uint32_t)j))
				em->want[j] = 1;
		}
		sym_params_close(pf);
	}
	c->entries = 0;
	return ret;
}

/* -A/-R on function entries: say once per request what was left out. */
int args_entries_said(const struct plan_ctx *c, size_t k)
{
	const struct args_req *r = &c->reqs[k];
	const struct entry *e;

	if (c->matched[k] || r->optional) {
		if (c->refused[k] && !r->optional)
			pr_warn("%s: %zu matching function%s refused by --entry, %s() first (%s): "
				"no values recorded there (tattach -v lists the refused)",
				r->option, c->refused[k], c->refused[k] == 1 ? "" : "s",
				c->first_refused[k]->name, c->first_refused[k]->refused);
		if (c->nodwarf[k] && !r->optional)
			pr_warn("%s: %zu matching function%s without DWARF, %s() first: give "
				"its arguments (%s@arg1,...)", r->option, c->nodwarf[k],
				c->nodwarf[k] == 1 ? "" : "s", c->first_nodwarf[k]->name,
				r->regex);
		return 0;
	}
	if (c->nodwarf[k]) {
		e = c->first_nodwarf[k];
		pr_err("%s: %s() has no DWARF (a stripped file?): give its arguments as a "
		       "SPEC, as for library calls: -A '%s@arg1,...'", r->option, e->name,
		       r->regex);
		return -ENOENT;
	}
	if (c->refused[k]) {
		e = c->first_refused[k];
		pr_err("%s: %s() cannot record values: --entry refuses to patch it (%s)",
		       r->option, e->name, e->refused);
		return -ENOENT;
	}
	for (size_t i = 0; !r->optional && i < c->ep->n; i++)
		for (size_t j = 0; c->ep->v[i].fns.from_dynsym && j < c->ep->v[i].fns.n; j++) {
			const char *path = c->ep->v[i].path, *base = strrchr(path, '/');
			const char *eg = c->ep->v[i].fns.v[j].name;

			if (strncmp(eg, "0x", 2))
				continue;	/* exported: named */
			pr_err("%s: no function matches '%s'; %s has no symbol table "
			       "(stripped): its functions are named by address, as %s (tread "
			       "shows %s+%s); without DWARF either, give a SPEC: -A '^%s$@arg1,...'",
			       r->option, r->regex, path, eg, base ? base + 1 : path, eg, eg);
			return -ENOENT;
		}
	return 1;	/* nothing of the entries: the general message */
}

/* --entry, --module: the spec of ENTRY site @i, which is function
 * @i - @first of module @tm's entries (its run of ENTRY sites starts at
 * @first, in the entry plan's order: attach/hooks/entries.c). */
const struct tat_argspec *args_entry_spec(const struct args_plan *p,
					  const struct tat_module *tm, uint32_t i,
					  uint32_t first)
{
	for (size_t j = 0; p->espec && p->ep && j < p->nemods && j < p->ep->n; j++)
		if (p->espec[j] && !strcmp(p->ep->v[j].path, tm->path) &&
		    p->ep->v[j].bias == tm->load_bias && i - first < p->ep->v[j].fns.n)
			return &p->espec[j][i - first];
	return NULL;
}
