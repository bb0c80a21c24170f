// SPDX-License-Identifier: MIT
/*
 * The uftrace export's symbols: which module each function is in, each
 * process's map of those modules (sid-<id>.map) and one .sym file per
 * module path, so uftrace names every address without the binaries.
 *
 * uftrace finds a module by address in the session's map, subtracts the
 * start of the module's first line and looks the offset up in
 * <basename>.sym (feature SYM_REL_ADDR); the .sym must name the same path
 * as the map line, or uftrace looks for <basename>-<sum>.sym instead
 * (utils/symbol.c: load_module_symbol, make_new_symbol_filename).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/export/uftrace_priv.h"

/*
 * uftrace reads a map line's path with sscanf("%s"): a space would cut
 * it, and the .sym file would no longer match.  Such a path becomes one
 * word (blanks as '_'), the same in the map and the .sym; the binary is
 * not needed, so the path is only a name here.
 */
static const char *word_path(struct uf_out *o, const char *path)
{
	char **n, *w;

	if (!strpbrk(path, " \t\n\r"))
		return path;
	for (size_t i = 0; i < o->npaths; i++) {
		if (strlen(o->paths[i]) == strlen(path)) {
			bool same = true;

			for (size_t k = 0; path[k] && same; k++)
				same = o->paths[i][k] == (strchr(" \t\n\r", path[k]) ? '_' : path[k]);
			if (same)
				return o->paths[i];
		}
	}
	n = realloc(o->paths, (o->npaths + 1) * sizeof(*n));
	if (!n)
		return NULL;
	o->paths = n;
	w = strdup(path);
	if (!w)
		return NULL;
	for (char *c = w; *c; c++) {
		if (strchr(" \t\n\r", *c))
			*c = '_';
	}
	o->paths[o->npaths++] = w;
	return w;
}

static const char *module_path(struct uf_out *o, const struct tread_xfunc *f)
{
	if (f->module && *f->module)
		return word_path(o, f->module);
	/* No module known: one made-up path per process, so the addresses of
	 * different processes never share a symbol table. */
	return o->unknown_paths[f->proc];
}

static uint64_t module_base(struct uf_out *o, const struct tread_xfunc *f)
{
	if (f->module && *f->module)
		return f->module_base;
	return o->unknown_base[f->proc];
}

static int find_mod(struct uf_out *o, uint32_t proc, const char *path, uint64_t base)
{
	for (size_t i = 0; i < o->nmods; i++) {
		if (o->mods[i].proc == proc && o->mods[i].base == base &&
		    !strcmp(o->mods[i].path, path))
			return (int)i;
	}
	return -1;
}

static int find_symfile(struct uf_out *o, const char *path)
{
	for (size_t i = 0; i < o->nsymfiles; i++) {
		if (!strcmp(o->symfiles[i].path, path))
			return (int)i;
	}
	return -1;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/*
 * uftrace looks for <basename>.sym; when that file names another path it
 * tries <basename>-<sum>.sym, the sum being the path's bytes added into
 * 16 bits (make_new_symbol_filename in utils/symbol.c).
 */
static char *symfile_name(struct uf_out *o, const char *path)
{
	const char *base = base_name(path);
	char *name = NULL;
	uint16_t sum = 0;
	bool taken = false;

	for (size_t i = 0; i < o->nsymfiles; i++) {
		if (!strcmp(base_name(o->symfiles[i].path), base))
			taken = true;
	}
	if (!taken) {
		if (asprintf(&name, "%s.sym", base) < 0)
			return NULL;
		return name;
	}
	for (const char *p = path; *p; p++)
		sum += (int)(signed char)*p;
	if (asprintf(&name, "%s-%04x.sym", base, sum) < 0)
		return NULL;
	for (size_t i = 0; i < o->nsymfiles; i++) {
		if (!strcmp(o->symfiles[i].fname, name)) {
			free(name);
			errno = EEXIST;
			return NULL;
		}
	}
	return name;
}

static int add_sym(struct uf_symfile *s, uint64_t rel, const struct tread_xfunc *f)
{
	if (s->nsyms == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct uf_sym *n = realloc(s->syms, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->syms = n;
		s->cap = cap;
	}
	s->syms[s->nsyms].rel = rel;
	s->syms[s->nsyms].name = f->name;
	s->syms[s->nsyms].file = f->file && *f->file ? f->file : NULL;
	s->syms[s->nsyms].line = f->line;
	s->syms[s->nsyms].seq = s->nsyms;
	s->nsyms++;
	return 0;
}

int uf_build_modules(struct uf_out *o)
{
	const struct tread_xtrace *x = o->x;
	int ret;

	o->unknown_paths = calloc(x->nprocs + 1, sizeof(char *));
	o->unknown_base = calloc(x->nprocs + 1, sizeof(uint64_t));
	o->mods = calloc(x->nfuncs + 1, sizeof(*o->mods));
	o->symfiles = calloc(x->nfuncs + 1, sizeof(*o->symfiles));
	o->funcsym = calloc(x->nfuncs + 1, sizeof(*o->funcsym));
	if (!o->unknown_paths || !o->unknown_base || !o->mods ||
	    !o->symfiles || !o->funcsym)
		goto nomem;
	for (size_t p = 0; p < x->nprocs; p++) {
		if (asprintf(&o->unknown_paths[p], "unknown-module-%d",
			     (int)x->procs[p].pid) < 0) {
			o->unknown_paths[p] = NULL;
			goto nomem;
		}
		o->unknown_base[p] = UINT64_MAX;
	}
	/* Functions without a module share one that starts at their lowest page. */
	for (size_t i = 0; i < x->nfuncs; i++) {
		const struct tread_xfunc *f = &x->funcs[i];
		uint64_t page = f->addr & ~UINT64_C(0xfff);

		if (!(f->module && *f->module) && page < o->unknown_base[f->proc])
			o->unknown_base[f->proc] = page;
	}

	for (size_t i = 0; i < x->nfuncs; i++) {
		const struct tread_xfunc *f = &x->funcs[i];
		const char *path = module_path(o, f);
		uint64_t base = module_base(o, f);
		int m, s;

		if (!path)
			goto nomem;
		if (f->addr < base || f->addr - base > UF_ADDR_MAX) {
			xdir_err(o->err, o->errlen, "uftrace export: function %s at %#" PRIx64
				 " lies below its module's base %#" PRIx64, f->name,
				 f->addr, base);
			return -EINVAL;
		}
		m = find_mod(o, f->proc, path, base);
		if (m < 0) {
			s = find_symfile(o, path);
			if (s < 0) {
				struct uf_symfile *sf = &o->symfiles[o->nsymfiles];

				sf->path = path;
				sf->fname = symfile_name(o, path);
				if (!sf->fname) {
					ret = errno == EEXIST ? -EEXIST : -ENOMEM;
					xdir_err(o->err, o->errlen, "uftrace export: no symbol "
						 "file name left for module '%s'", path);
					return ret;
				}
				s = (int)o->nsymfiles++;
			}
			m = (int)o->nmods++;
			o->mods[m].proc = f->proc;
			o->mods[m].path = path;
			o->mods[m].base = base;
			o->mods[m].end = base;
			o->mods[m].symfile = (uint32_t)s;
		}
		if (f->addr + 1 > o->mods[m].end)
			o->mods[m].end = f->addr + 1;
		if (add_sym(&o->symfiles[o->mods[m].symfile], f->addr - base, f))
			goto nomem;
		o->funcsym[i].symfile = o->mods[m].symfile;
		o->funcsym[i].rel = f->addr - base;
	}
	return 0;

nomem:
	xdir_err(o->err, o->errlen, "uftrace export: out of memory");
	return -ENOMEM;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct uf_sym *x = a, *y = b;

	if (x->rel != y->rel)
		return x->rel < y->rel ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void uf_put_name(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\n' || *s == '\r' || *s == '\t' ? '_' : *s, f);
}

/*
 * <module>.dbg: where each function is, for `uftrace replay --srcline`.
 * uftrace reads it next to the .sym of the same name (load_debug_file in
 * utils/dwarf.c): "F: <offset> <name>" then "L: <line> <file>".  Written
 * only when some function of the module has a source file.
 */
static int write_dbgfile(struct uf_out *o, const struct uf_symfile *s)
{
	size_t len = strlen(s->fname);
	bool any = false;
	char *name;
	FILE *f;
	int ret;

	for (size_t i = 0; i < s->nsyms && !any; i++)
		any = s->syms[i].file != NULL;
	if (!any)
		return 0;
	/* x.sym -> x.dbg, x-1234.sym -> x-1234.dbg, as uftrace looks for them */
	name = strdup(s->fname);
	if (!name) {
		xdir_err(o->err, o->errlen, "uftrace export: out of memory");
		return -ENOMEM;
	}
	memcpy(name + len - 3, "dbg", 3);
	f = xdir_create(&o->dir, name, o->err, o->errlen);
	if (!f) {
		ret = -errno;
		free(name);
		return ret;
	}
	fputs("# path name: ", f);
	uf_put_name(f, s->path);
	fputc('\n', f);
	for (size_t i = 0; i < s->nsyms; i++) {
		const struct uf_sym *y = &s->syms[i];

		if ((i && y->rel == s->syms[i - 1].rel) || !y->file)
			continue;
		fprintf(f, "F: %" PRIx64 " ", y->rel);
		uf_put_name(f, y->name);
		fprintf(f, "\nL: %u ", y->line);
		uf_put_name(f, y->file);
		fputc('\n', f);
	}
	ret = xdir_close(&o->dir, f, name, o->err, o->errlen);
	free(name);
	return ret;
}

int uf_write_symfile(struct uf_out *o, struct uf_symfile *s)
{
	uint64_t last = 0;
	size_t n = 0;
	FILE *f;
	int ret;

	qsort(s->syms, s->nsyms, sizeof(*s->syms), cmp_sym);
	for (size_t i = 0; i < s->nsyms; i++)
		n += i == 0 || s->syms[i].rel != s->syms[i - 1].rel;

	f = xdir_create(&o->dir, s->fname, o->err, o->errlen);
	if (!f)
		return -errno;
	/* Three columns: uftrace 0.13 cannot read the later sized form. */
	fprintf(f, "# symbols: %zu\n# path name: %s\n", n + 1, s->path);
	for (size_t i = 0; i < s->nsyms; i++) {
		/* The same site seen in two processes: keep the first name. */
		if (i && s->syms[i].rel == s->syms[i - 1].rel)
			continue;
		fprintf(f, "%016" PRIx64 " T ", s->syms[i].rel);
		uf_put_name(f, s->syms[i].name);
		fputc('\n', f);
		last = s->syms[i].rel;
	}
	/* Closes the last symbol: without it uftrace gives it no size. */
	fprintf(f, "%016" PRIx64 " ? __func_end\n", last + 1);
	ret = xdir_close(&o->dir, f, s->fname, o->err, o->errlen);
	if (!ret)
		ret = write_dbgfile(o, s);
	return ret;
}

/* After uf_write_symfile() sorted the symbols: the first name at the address. */
const char *uf_symbol_name(const struct uf_out *o, uint32_t func)
{
	const struct uf_symfile *s = &o->symfiles[o->funcsym[func].symfile];
	uint64_t rel = o->funcsym[func].rel;
	size_t lo = 0, hi = s->nsyms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->syms[mid].rel < rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nsyms && s->syms[lo].rel == rel ? s->syms[lo].name : NULL;
}

int uf_write_map(struct uf_out *o, uint32_t proc)
{
	char name[64], sid[17];
	FILE *f;

	uf_session_id(o, proc, sid);
	snprintf(name, sizeof(name), "sid-%s.map", sid);
	f = xdir_create(&o->dir, name, o->err, o->errlen);
	if (!f)
		return -errno;
	for (size_t i = 0; i < o->nmods; i++) {
		const struct uf_mod *m = &o->mods[i];
		uint64_t end = (m->end + 0xfff) & ~UINT64_C(0xfff);

		if (m->proc != proc)
			continue;
		/* Keep ranges apart: a lookup takes the first range that holds
		 * the address. */
		for (size_t j = 0; j < o->nmods; j++) {
			if (o->mods[j].proc == proc && o->mods[j].base > m->base &&
			    o->mods[j].base < end)
				end = o->mods[j].base;
		}
		fprintf(f, "%012" PRIx64 "-%012" PRIx64 " r-xp 00000000 00:00 0"
			"                          ", m->base, end);
		uf_put_name(f, m->path);
		fputc('\n', f);
	}
	/* Its address tells uftrace where user space ends (guess_kernel_base). */
	fprintf(f, "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0"
		"                          [stack]\n");
	return xdir_close(&o->dir, f, name, o->err, o->errlen);
}

void uf_free_modules(struct uf_out *o)
{
	for (size_t s = 0; s < o->nsymfiles; s++) {
		free(o->symfiles[s].fname);
		free(o->symfiles[s].syms);
	}
	if (o->unknown_paths) {
		for (size_t p = 0; p < o->x->nprocs; p++)
			free(o->unknown_paths[p]);
	}
	free(o->unknown_paths);
	free(o->unknown_base);
	for (size_t i = 0; i < o->npaths; i++)
		free(o->paths[i]);
	free(o->paths);
	free(o->symfiles);
	free(o->mods);
	free(o->funcsym);
}
