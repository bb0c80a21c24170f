// SPDX-License-Identifier: MIT
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/log.h"
#include "attach/site_filter.h"
#include "symbols/name_match.h"
#include "symbols/symbols.h"

struct site_filter {
	regex_t *filters, *notraces;
	size_t nfilters, nnotraces;
};

static int compile(const char *re, regex_t *out, char *why, size_t len)
{
	char msg[160];
	int rc = name_match_compile(out, re, msg, sizeof(msg));

	if (rc == -EINVAL)
		snprintf(why, len, "invalid regular expression '%s': %s", re, msg);
	return rc;
}

int site_filter_check(const char *re, char *why, size_t len)
{
	regex_t rx;
	int ret = compile(re, &rx, why, len);

	if (!ret)
		regfree(&rx);
	else if (ret == -ENOMEM)
		snprintf(why, len, "out of memory compiling '%s'", re);
	return ret;
}

static void free_list(regex_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		regfree(&v[i]);
	free(v);
}

static int compile_list(const char *const *res, size_t n, regex_t **out, size_t *done)
{
	char why[256];
	int ret;

	*done = 0;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ret = compile(res[i], &(*out)[i], why, sizeof(why));
		if (ret) {
			if (ret == -EINVAL)
				pr_err("%s", why);
			return ret;
		}
		(*done)++;
	}
	return 0;
}

void site_filter_close(struct site_filter *f)
{
	if (!f)
		return;
	free_list(f->filters, f->nfilters);
	free_list(f->notraces, f->nnotraces);
	free(f);
}

int site_filter_open(const char *const *filters, size_t nfilters,
		     const char *const *notraces, size_t nnotraces,
		     struct site_filter **out)
{
	struct site_filter *f = calloc(1, sizeof(*f));
	int ret;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	ret = compile_list(filters, nfilters, &f->filters, &f->nfilters);
	if (!ret)
		ret = compile_list(notraces, nnotraces, &f->notraces, &f->nnotraces);
	if (ret) {
		site_filter_close(f);
		return ret;
	}
	*out = f;
	return 0;
}

static int any_match(const regex_t *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (name_match(&v[i], name))
			return 1;
	return 0;
}

int site_filter_pass(const struct site_filter *f, const char *name)
{
	if (f->nfilters && !any_match(f->filters, f->nfilters, name))
		return 0;
	return !any_match(f->notraces, f->nnotraces, name);
}

void site_filter_plan_free(uint8_t **want, size_t n)
{
	if (!want)
		return;
	for (size_t i = 0; i < n; i++)
		free(want[i]);
	free(want);
}

/* Name every site of @m (unknown ones as "0x<addr>") and keep those that pass. */
static int plan_module(const struct site_filter *f, struct sym_resolver *sym,
		       const struct module *m, uint8_t *want, size_t *matched)
{
	char err[256];
	int ret;

	ret = sym_add_module(sym, m->file, m->bias, m->facts.build_id,
			     m->facts.build_id_len, err, sizeof(err));
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		pr_warn("%s: no function names (%s): filters see addresses", m->path, err);
	for (size_t j = 0; j < m->sites.n; j++) {
		struct sym_info info;

		if (sym_resolve(sym, m->sites.v[j].vaddr + m->bias, &info) == -ENOMEM)
			return -ENOMEM;
		want[j] = (uint8_t)site_filter_pass(f, info.name);
		*matched += want[j];
	}
	return 0;
}

int site_filter_plan(const struct site_filter *f, const struct module_set *set,
		     uint8_t ***wantp, size_t *matched)
{
	uint8_t **want = calloc(set->n ? set->n : 1, sizeof(*want));
	int ret = 0;

	*wantp = NULL;
	*matched = 0;
	if (!want)
		return -ENOMEM;
	/* One resolver per module: modules may overlap in ELF addresses,
	 * and a resolver answers with the first module that covers one. */
	for (size_t i = 0; i < set->n && !ret; i++) {
		const struct module *m = &set->v[i];
		struct sym_resolver *sym;

		if (!m->sites.n || m->changed)
			continue;
		want[i] = calloc(m->sites.n, 1);
		if (!want[i] || sym_open(&sym)) {
			ret = -ENOMEM;
			break;
		}
		ret = plan_module(f, sym, m, want[i], matched);
		sym_close(sym);
	}
	if (ret) {
		site_filter_plan_free(want, set->n);
		return ret;
	}
	*wantp = want;
	return 0;
}
