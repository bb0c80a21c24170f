// SPDX-License-Identifier: MIT
/*
 * -A/-R: from options and DWARF to one struct tat_argspec per site
 * (args_plan.h).  All of it happens before the process is stopped, so a
 * bad request is refused with nothing written to the target.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/values/args_plan.h"
#include "attach/values/args_plan_ctx.h"
#include "attach/log.h"
#include "symbols/name_match.h"
#include "symbols/params.h"
#include "symbols/symbols.h"

static int set_why(char *why, size_t len, const char *opt, const char *what)
{
	snprintf(why, len, "bad %s: %s", opt, what);
	return -EINVAL;
}

/* "/FMT[BITS]" after an argN: the format letter and size. */
static int parse_format(const char *s, uint8_t *format, uint8_t *size)
{
	static const struct { char c; uint8_t f; } letters[] = {
		{ 'd', TAT_VAL_SIGNED }, { 'i', TAT_VAL_SIGNED }, { 'u', TAT_VAL_UNSIGNED },
		{ 'x', TAT_VAL_HEX }, { 'p', TAT_VAL_PTR }, { 's', TAT_VAL_STR },
		{ 'c', TAT_VAL_CHAR }, { 'e', TAT_VAL_ENUM },
	};
	char *end;
	long bits;

	*format = 0;
	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
		if (*s == letters[i].c)
			*format = letters[i].f;
	if (!*format)
		return -EINVAL;
	*size = 0;
	if (!s[1])
		return 0;
	bits = strtol(s + 1, &end, 10);
	if (*end || (bits != 8 && bits != 16 && bits != 32 && bits != 64))
		return -EINVAL;
	*size = (uint8_t)(bits / 8);
	return 0;
}

static int parse_item(struct args_req *r, char *item, char *why, size_t len)
{
	char *slash = strchr(item, '/'), *end;
	int fp = !strncmp(item, "fparg", 5);
	long n;

	if (slash)
		*slash++ = '\0';
	if (r->is_return) {
		if (strcmp(item, "retval"))
			return set_why(why, len, r->option, "-R takes only 'retval[/FMT]' after '@'");
		if (slash && parse_format(slash, &r->ret_format, &r->ret_size))
			return set_why(why, len, r->option, "FMT is one of d i u x p c e, "
				       "then optionally 8 16 32 64");
		if (r->ret_format == TAT_VAL_STR)
			return set_why(why, len, r->option, "a return value is not read as a "
				       "string (use /p)");
		return 0;
	}
	if (!fp && strncmp(item, "arg", 3))
		return set_why(why, len, r->option, "each item is argN[/FMT] or fpargN[/32|/64]");
	n = strtol(item + (fp ? 5 : 3), &end, 10);
	if (end == item + (fp ? 5 : 3) || *end || n < 1 || n > (fp ? 8 : 6))
		return set_why(why, len, r->option, fp ? "fpargN: N is 1 to 8 (xmm0..7)" :
			       "argN: N is 1 to 6 (the register arguments)");
	if (r->n == TAT_ARGS_MAX)
		return set_why(why, len, r->option, "at most 8 values per function");
	r->item[r->n].fp = (uint8_t)fp;
	r->item[r->n].index = (uint8_t)(n - 1);
	r->item[r->n].format = 0;
	r->item[r->n].size = 0;
	if (slash && fp) {
		if (strcmp(slash, "32") && strcmp(slash, "64"))
			return set_why(why, len, r->option, "fpargN/SIZE: SIZE is 32 or 64");
		r->item[r->n].format = strcmp(slash, "32") ? TAT_VAL_DOUBLE : TAT_VAL_FLOAT;
	} else if (slash && parse_format(slash, &r->item[r->n].format, &r->item[r->n].size)) {
		return set_why(why, len, r->option, "FMT is one of d i u x p s c e, then "
			       "optionally 8 16 32 64");
	}
	r->n++;
	return 0;
}

int args_req_parse(const char *opt, int is_return, struct args_req *out,
		   char *why, size_t len)
{
	char *copy = strdup(opt), *at, *item, *save = NULL;
	regex_t re;
	char reason[200];
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->option = opt;
	out->is_return = is_return;
	if (!copy)
		return -ENOMEM;
	at = strrchr(copy, '@');
	if (at) {
		*at++ = '\0';
		out->has_spec = 1;
		if (!*at)
			ret = set_why(why, len, opt, "empty SPEC after '@'");
		for (item = strtok_r(at, ",", &save); !ret && item;
		     item = strtok_r(NULL, ",", &save))
			ret = parse_item(out, item, why, len);
	}
	if (!ret && !*copy)
		ret = set_why(why, len, opt, "no function pattern before '@'");
	if (!ret && name_match_compile(&re, copy, reason, sizeof(reason))) {
		snprintf(why, len, "bad %s: %s", opt, reason);
		ret = -EINVAL;
	} else if (!ret) {
		regfree(&re);
	}
	if (ret) {
		free(copy);
		return ret;
	}
	out->regex = copy;
	return 0;
}

void args_req_free(struct args_req *r)
{
	free(r->regex);
	r->regex = NULL;
}

void args_plan_free(struct args_plan *p)
{
	if (p->spec)
		for (size_t i = 0; i < p->nmods; i++)
			free(p->spec[i]);
	free(p->spec);
	if (p->lspec)
		for (size_t i = 0; i < p->nlmods; i++)
			free(p->lspec[i]);
	free(p->lspec);
	if (p->espec)
		for (size_t i = 0; i < p->nemods; i++)
			free(p->espec[i]);
	free(p->espec);
	memset(p, 0, sizeof(*p));
}

/* The parameter of @fn that register @src holds, or NULL. */
static const struct sym_param *param_at(const struct sym_func *fn, int src)
{
	for (size_t i = 0; i < fn->n; i++)
		if (fn->v[i].src == src)
			return &fn->v[i];
	return NULL;
}

/* How many integer / floating point registers @fn's parameters take. */
static void count_regs(const struct sym_func *fn, unsigned *nint, unsigned *nfp, int *all)
{
	*nint = *nfp = 0;
	*all = 1;
	for (size_t i = 0; i < fn->n; i++) {
		if (fn->v[i].src < 0)
			*all = 0;
		else if (fn->v[i].src >= TAT_SRC_FP(0))
			(*nfp)++;
		else
			(*nint)++;
	}
}

/* Fill @spec's arguments for one -A request on function @name. */
static int spec_args(const struct args_req *r, const struct sym_func *fn, const char *name,
		     struct tat_argspec *spec)
{
	unsigned nint, nfp;
	int all;

	spec->nargs = 0;
	if (!r->has_spec) {
		for (size_t i = 0; i < fn->n && spec->nargs < TAT_ARGS_MAX; i++) {
			const struct sym_param *p = &fn->v[i];

			if (p->src < 0)
				continue;
			spec->format[spec->nargs] = p->format;
			spec->size[spec->nargs] = p->size;
			spec->src[spec->nargs++] = (uint8_t)p->src;
		}
		return 0;
	}
	count_regs(fn, &nint, &nfp, &all);
	for (size_t i = 0; i < r->n; i++) {
		int src = r->item[i].fp ? TAT_SRC_FP(r->item[i].index) : TAT_SRC_INT(r->item[i].index);
		const struct sym_param *p = fn->found ? param_at(fn, src) : NULL;

		/* Only where DWARF placed every parameter do we know what the
		 * function has; a variadic one may take more. */
		if (fn->found && all && !fn->variadic &&
		    (r->item[i].fp ? r->item[i].index >= nfp : r->item[i].index >= nint)) {
			pr_err("%s: %s() has %u %s argument%s, so no %sarg%u", r->option, name,
			       r->item[i].fp ? nfp : nint,
			       r->item[i].fp ? "floating point" : "integer/pointer",
			       (r->item[i].fp ? nfp : nint) == 1 ? "" : "s",
			       r->item[i].fp ? "fp" : "", r->item[i].index + 1u);
			return -EINVAL;
		}
		spec->src[spec->nargs] = (uint8_t)src;
		spec->format[spec->nargs] = r->item[i].format ? r->item[i].format :
					    p ? p->format : r->item[i].fp ? TAT_VAL_DOUBLE :
					    TAT_VAL_SIGNED;
		spec->size[spec->nargs] = r->item[i].size ? r->item[i].size : p ? p->size : 8;
		spec->nargs++;
	}
	return 0;
}

static int spec_return(const struct args_req *r, const struct sym_func *fn, const char *name,
		       struct tat_argspec *spec)
{
	if (r->ret_format) {
		spec->ret_format = r->ret_format;
		spec->ret_size = r->ret_size ? r->ret_size : 8;
		spec->ret_src = TAT_SRC_RET;
		return 0;
	}
	if (!fn->found || !fn->ret_format) {
		pr_warn("%s: %s() %s: its return value is not recorded (give @retval/FMT)",
			r->option, name, fn->found ? "returns nothing recordable" :
			"has no DWARF");
		return 0;
	}
	spec->ret_format = fn->ret_format;
	spec->ret_size = fn->ret_size;
	spec->ret_src = fn->ret_src;
	return 0;
}

int args_plan_site(struct plan_ctx *c, struct sym_params_file *pf, uint64_t vaddr,
		   const char *name, struct tat_argspec *spec, size_t *on)
{
	struct sym_func fn;
	int loaded = 0, ret = 0;

	for (size_t k = 0; k < c->nreqs && !ret; k++) {
		const struct args_req *r = &c->reqs[k];

		if (!name_match(&c->res[k], name))
			continue;
		if (r->fill_in && (!c->fill_in_ok || spec->nargs))
			continue;
		if (!loaded) {
			ret = sym_params_of(pf, vaddr, &fn);
			if (ret)
				return ret;
			loaded = 1;
		}
		if (!r->is_return && !r->has_spec && !fn.found && c->entries) {
			c->nodwarf[k]++;	/* said once per request: args_plan_make */
			continue;
		}
		if (!r->is_return && !r->has_spec && !fn.found) {
			pr_warn("%s: %s() has no DWARF: give its arguments (@arg1,...)",
				r->option, name);
			continue;
		}
		c->matched[k]++;
		ret = r->is_return ? spec_return(r, &fn, name, spec) :
				     spec_args(r, &fn, name, spec);
	}
	if (loaded)
		sym_func_free(&fn);
	*on += !ret && (spec->nargs || spec->ret_format);
	return ret;
}

static int plan_module(struct plan_ctx *c, const struct module *m, struct tat_argspec *specs,
		       size_t *on)
{
	struct sym_resolver *sym = NULL;
	struct sym_params_file *pf = NULL;
	char err[256];
	int ret;

	if (sym_open(&sym))
		return -ENOMEM;
	ret = sym_add_module(sym, m->file, m->bias, m->facts.build_id,
			     m->facts.build_id_len, err, sizeof(err));
	if (ret == -ENOMEM)
		goto out;
	ret = sym_params_open(m->file, &pf);
	if (ret == -ENOMEM)
		goto out;
	ret = 0;
	for (size_t j = 0; j < m->sites.n && !ret; j++) {
		struct sym_info info;

		if (sym_resolve(sym, m->sites.v[j].vaddr + m->bias, &info) == -ENOMEM) {
			ret = -ENOMEM;
			break;
		}
		ret = args_plan_site(c, pf, m->sites.v[j].vaddr, info.name, &specs[j], on);
	}
out:
	sym_params_close(pf);
	sym_close(sym);
	return ret;
}

/* --libcalls: the imports of each hooked module, by import name. */
static int plan_libcalls(struct plan_ctx *c, struct libcalls *lc, struct args_plan *out)
{
	out->lspec = calloc(lc->n ? lc->n : 1, sizeof(*out->lspec));
	if (!out->lspec)
		return -ENOMEM;
	out->nlmods = lc->n;
	for (size_t i = 0; i < lc->n; i++) {
		struct libcall_mod *lm = &lc->v[i];

		out->lspec[i] = calloc(lm->imps.n ? lm->imps.n : 1, sizeof(**out->lspec));
		if (!out->lspec[i])
			return -ENOMEM;
		for (size_t j = 0; j < lm->imps.n; j++) {
			struct tat_argspec *spec = &out->lspec[i][j];
			int ret;

			c->fill_in_ok = lm->want[j];
			ret = args_plan_site(c, NULL, 0, lm->imps.v[j].name, spec, &out->sites);
			c->fill_in_ok = 0;
			if (ret)
				return ret;
			if (args_site_on(spec, 0))
				lm->want[j] = 1;	/* traced, as -pg functions are */
		}
	}
	return 0;
}

int args_plan_make(const struct args_req *reqs, size_t nreqs,
		   const struct module_set *set, struct libcalls *lc,
		   struct entry_plan *ep, struct args_plan *out)
{
	struct plan_ctx c = { .reqs = reqs, .nreqs = nreqs };
	size_t compiled = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!nreqs)
		return 0;
	out->spec = calloc(set->n ? set->n : 1, sizeof(*out->spec));
	c.res = calloc(nreqs, sizeof(*c.res));
	c.matched = calloc(nreqs, sizeof(*c.matched));
	c.refused = calloc(nreqs, sizeof(*c.refused));
	c.nodwarf = calloc(nreqs, sizeof(*c.nodwarf));
	c.first_refused = calloc(nreqs, sizeof(*c.first_refused));
	c.first_nodwarf = calloc(nreqs, sizeof(*c.first_nodwarf));
	if (!out->spec || !c.res || !c.matched || !c.refused || !c.nodwarf ||
	    !c.first_refused || !c.first_nodwarf) {
		ret = -ENOMEM;
		goto out;
	}
	out->nmods = set->n;
	for (; compiled < nreqs; compiled++)
		if (name_match_compile(&c.res[compiled], reqs[compiled].regex, NULL, 0)) {
			ret = -EINVAL;	/* checked when parsed */
			goto out;
		}
	for (size_t i = 0; i < set->n && !ret; i++) {
		const struct module *m = &set->v[i];

		if (!m->sites.n || m->changed)
			continue;
		out->spec[i] = calloc(m->sites.n, sizeof(**out->spec));
		if (!out->spec[i]) {
			ret = -ENOMEM;
			break;
		}
		ret = plan_module(&c, m, out->spec[i], &out->sites);
	}
	if (!ret && lc && lc->n)
		ret = plan_libcalls(&c, lc, out);
	if (!ret && ep && ep->n)
		ret = args_plan_entries(&c, ep, out);
	for (size_t k = 0; k < nreqs && !ret; k++) {
		int said = ep && ep->n ? args_entries_said(&c, k) : 1;

		if (said <= 0) {
			ret = said;
			continue;
		}
		if (!c.matched[k] && !reqs[k].optional) {
			pr_err("%s: no function with a site matches '%s'%s", reqs[k].option,
			       reqs[k].regex, reqs[k].has_spec || reqs[k].is_return ? "" :
			       " (or none has DWARF)");
			ret = -ENOENT;
		}
	}
out:
	for (size_t k = 0; k < compiled; k++)
		regfree(&c.res[k]);
	free(c.res);
	free(c.matched);
	free(c.refused);
	free(c.nodwarf);
	free(c.first_refused);
	free(c.first_nodwarf);
	if (ret)
		args_plan_free(out);
	return ret;
}

struct tat_argspec *args_table(struct ringfile *rf)
{
	const struct tat_ring_header *h = rf->hdr;

	if (!h->args_off || h->args_off + (uint64_t)h->site_cap * sizeof(struct tat_argspec) >
	    rf->size)
		return NULL;
	return (struct tat_argspec *)((char *)h + h->args_off);
}

/* --libcalls: the spec of LIBCALL site @i, which is import @i - @first
 * of module @tm (its run of LIBCALL sites starts at @first). */
static const struct tat_argspec *libcall_spec(const struct args_plan *p,
					      const struct libcalls *lc,
					      const struct tat_module *tm, uint32_t i,
					      uint32_t first)
{
	for (size_t j = 0; p->lspec && lc && j < lc->n && j < p->nlmods; j++)
		if (p->lspec[j] && !strcmp(lc->v[j].path, tm->path) &&
		    lc->v[j].bias == tm->load_bias && i - first < lc->v[j].imps.n)
			return &p->lspec[j][i - first];
	return NULL;
}

size_t args_plan_sync(const struct args_plan *p, struct ringfile *rf,
		      const struct module_set *set, const struct libcalls *lc, int write)
{
	struct tat_argspec *table = args_table(rf);
	const struct tat_module *mods = ringfile_modules(rf);
	const struct tat_site *sites = ringfile_sites(rf);
	static const struct tat_argspec none;
	uint32_t run_module = UINT32_MAX, run_first = 0;
	size_t differ = 0;

	if (!table)
		return 0;
	for (uint32_t i = 1; i < rf->hdr->site_count && i < rf->hdr->site_cap; i++) {
		const struct tat_module *tm = &mods[sites[i].module];
		const struct tat_argspec *want = &none, *l;

		if (sites[i].kind == TAT_SITE_LIBCALL || sites[i].kind == TAT_SITE_ENTRY) {
			/* a module's LIBCALL sites are one run: its first is import 0;
			 * the same for its ENTRY sites and functions */
			if (sites[i].module != run_module || sites[i - 1].kind != sites[i].kind) {
				run_module = sites[i].module;
				run_first = i;
			}
			l = sites[i].kind == TAT_SITE_ENTRY ? args_entry_spec(p, tm, i, run_first) :
			    libcall_spec(p, lc, tm, i, run_first);
			want = l ? l : &none;
			goto compare;
		}
		if (sites[i].kind != TAT_SITE_MCOUNT && sites[i].kind != TAT_SITE_FENTRY)
			continue;
		for (size_t j = 0; p->spec && j < set->n && j < p->nmods; j++)
			if (p->spec[j] && !strcmp(set->v[j].path, tm->path) &&
			    set->v[j].bias == tm->load_bias && i - tm->first_site < set->v[j].sites.n) {
				want = &p->spec[j][i - tm->first_site];
				break;
			}
compare:
		if (memcmp(&table[i], want, sizeof(*want))) {
			differ++;
			if (write)
				memcpy(&table[i], want, sizeof(*want));
		}
	}
	return differ;
}
