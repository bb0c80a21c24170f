// SPDX-License-Identifier: MIT
/*
 * The per-site name cache in front of symbols/.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/input/libcall_names.h"
#include "consumer/input/site_names.h"
#include "symbols/module_file.h"
#include "symbols/symbols.h"

enum module_state {
	MODULE_UNTRIED = 0,
	MODULE_LOADED,
	MODULE_FAILED,
};

struct tread_site_names {
	const struct tread_ring *ring;
	struct sym_resolver *sym;
	int root_pid;
	tread_warn_fn warn;
	void *warn_arg;

	const char **by_site;		/* [site_cap], NULL = not resolved yet */
	const char **file_by_site;	/* [site_cap]: source file, NULL = unknown */
	uint32_t *line_by_site;		/* [site_cap]: line, 0 = unknown */
	/* Names come from a table given at open (a saved trace): modules are
	 * never read, sites missing from the table show as "0x<addr>". */
	bool table_only;
	/* [TAT_EV_SITE_MAX + 1], only allocated when a (corrupt) event names
	 * an index past the table, so such names are made once too. */
	const char **beyond_table;
	uint8_t *module_state;		/* [hdr.module_cap] */
	const char **srcline_by_site;	/* [site_cap] "file:line", "" = none; lazily */
	struct tread_libcall_names *libcalls;	/* opened on the first LIBCALL site */

	/* Names we formatted ourselves; freed at close. */
	char **owned;
	size_t nowned;
	size_t owned_cap;
};

static void warnf(struct tread_site_names *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warnf(struct tread_site_names *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!n->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n->warn(n->warn_arg, msg);
}

int tread_site_names_open(const struct tread_ring *ring, int root_pid,
			  tread_warn_fn warn, void *warn_arg,
			  struct tread_site_names **out)
{
	struct tread_site_names *n = calloc(1, sizeof(*n));

	*out = NULL;
	if (!n)
		return -ENOMEM;
	n->ring = ring;
	n->root_pid = root_pid;
	n->warn = warn;
	n->warn_arg = warn_arg;
	/* Both arrays are bounded by tables that fit in the file. */
	n->by_site = calloc(ring->site_cap ? ring->site_cap : 1, sizeof(*n->by_site));
	n->file_by_site = calloc(ring->site_cap ? ring->site_cap : 1,
				 sizeof(*n->file_by_site));
	n->line_by_site = calloc(ring->site_cap ? ring->site_cap : 1,
				 sizeof(*n->line_by_site));
	n->module_state = calloc(ring->hdr.module_cap ? ring->hdr.module_cap : 1, 1);
	if (!n->by_site || !n->file_by_site || !n->line_by_site || !n->module_state ||
	    sym_open(&n->sym)) {
		tread_site_names_close(n);
		return -ENOMEM;
	}
	*out = n;
	return 0;
}

void tread_site_names_close(struct tread_site_names *n)
{
	if (!n)
		return;
	free(n->srcline_by_site);
	sym_close(n->sym);
	tread_libcall_names_close(n->libcalls);
	for (size_t i = 0; i < n->nowned; i++)
		free(n->owned[i]);
	free(n->owned);
	free(n->by_site);
	free(n->file_by_site);
	free(n->line_by_site);
	free(n->beyond_table);
	free(n->module_state);
	free(n);
}

/* Keep a formatted name until close; falls back to a static string. */
static const char *own(struct tread_site_names *n, const char *fallback,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static const char *own(struct tread_site_names *n, const char *fallback,
		       const char *fmt, ...)
{
	va_list ap;
	char *s;
	int len;

	if (n->nowned == n->owned_cap) {
		size_t cap = n->owned_cap ? n->owned_cap * 2 : 16;
		char **v = reallocarray(n->owned, cap, sizeof(*v));

		if (!v)
			return fallback;
		n->owned = v;
		n->owned_cap = cap;
	}
	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		return fallback;
	n->owned[n->nowned++] = s;
	return s;
}

static int add_module_at(struct tread_site_names *n, const struct tread_module *m,
			 const char *path, char *err, size_t errlen)
{
	return sym_add_module(n->sym, path, m->load_bias, m->build_id,
			      m->build_id_len, err, errlen);
}

/* Give module @index to the resolver, once. */
static void load_module(struct tread_site_names *n, uint32_t index)
{
	struct tread_module m;
	char err[512], path[TAT_PATH_MAX + 64];
	int ret;

	if (index >= n->ring->hdr.module_cap || n->module_state[index] != MODULE_UNTRIED)
		return;
	n->module_state[index] = MODULE_FAILED;
	if (tread_ring_module(n->ring, index, &m)) {
		warnf(n, "module %u: no such entry in the module table", index);
		return;
	}
	sym_module_file(n->root_pid, m.path, path, sizeof(path));
	ret = add_module_at(n, &m, path, err, sizeof(err));
	if (ret) {
		warnf(n, "no function names for %s: %s", m.path, err);
		return;
	}
	n->module_state[index] = MODULE_LOADED;
}

static const char *resolve(struct tread_site_names *n, uint32_t site)
{
	struct tat_site s;
	struct sym_info info;

	if (tread_ring_site(n->ring, site, &s))
		return own(n, "bad_site", "bad_site_%" PRIu32, site);
	if (n->table_only)
		return own(n, "0x?", "0x%" PRIx64, s.addr);
	if (s.kind == TAT_SITE_LIBCALL) {
		const char *name = NULL;
		uint32_t import = 0;

		if (!n->libcalls)
			n->libcalls = tread_libcall_names_open(n->ring, n->root_pid);
		if (n->libcalls)
			name = tread_libcall_name(n->libcalls, site, &s, &import);
		if (name)
			return name;
		return own(n, "libcall", "libcall_%" PRIu32 "_of_module_%" PRIu32, import,
			   s.module);
	}
	if (s.kind == TAT_SITE_ENTRY) {
		struct tread_module m;
		uint64_t fn = 0;

		if (!n->libcalls)
			n->libcalls = tread_libcall_names_open(n->ring, n->root_pid);
		if (n->libcalls && !tread_ring_module(n->ring, s.module, &m))
			fn = tread_entry_addr(n->libcalls, site, &s, m.load_bias);
		if (!fn)
			return own(n, "entry", "entry_%" PRIu32, site);
		load_module(n, s.module);
		sym_resolve(n->sym, fn, &info);
		if (info.known)
			return info.name;
		/* A function of a stripped file (.eh_frame): module+0xOFFSET,
		 * the offset an addr2line of the debug file would take. */
		{
			const char *base = strrchr(m.path, '/');

			return own(n, "entry", "%s+0x%" PRIx64, base ? base + 1 : m.path,
				   fn - m.load_bias);
		}
	}
	load_module(n, s.module);
	sym_resolve(n->sym, s.addr, &info);
	/* Only sites inside the table get here (see tread_site_name). */
	if (info.file && info.line > 0) {
		n->file_by_site[site] = info.file;
		n->line_by_site[site] = (uint32_t)info.line;
	}
	return info.name;
}

const char *tread_site_name(struct tread_site_names *n, uint32_t site)
{
	const char **slot;

	if (site < n->ring->site_cap) {
		slot = &n->by_site[site];
	} else {
		if (site > TAT_EV_SITE_MAX)
			return "bad_site";
		if (!n->beyond_table)
			n->beyond_table = calloc((size_t)TAT_EV_SITE_MAX + 1,
						 sizeof(*n->beyond_table));
		if (!n->beyond_table)
			return "bad_site";
		slot = &n->beyond_table[site];
	}
	if (!*slot)
		*slot = resolve(n, site);
	return *slot;
}

const char *tread_site_srcline(struct tread_site_names *n, uint32_t site)
{
	struct tread_site_detail d;
	const char **slot;

	if (site >= n->ring->site_cap)
		return NULL;
	if (!n->srcline_by_site)
		n->srcline_by_site = calloc(n->ring->site_cap, sizeof(*n->srcline_by_site));
	if (!n->srcline_by_site)
		return NULL;
	slot = &n->srcline_by_site[site];
	if (!*slot) {
		/* The detail comes from DWARF next to the process, or from
		 * the table of a saved trace. */
		tread_site_detail(n, site, &d);
		*slot = d.file && d.line ? own(n, "", "%s:%" PRIu32, d.file, d.line) : "";
	}
	return **slot ? *slot : NULL;
}

int tread_site_names_open_table(const struct tread_ring *ring,
				const struct tread_site_detail *by_site,
				struct tread_site_names **out)
{
	struct tread_site_names *n;
	int ret;

	ret = tread_site_names_open(ring, 0, NULL, NULL, &n);
	if (ret)
		return ret;
	n->table_only = true;
	for (uint32_t i = 0; by_site && i < ring->site_cap; i++) {
		if (!by_site[i].name)
			continue;
		n->by_site[i] = by_site[i].name;
		n->file_by_site[i] = by_site[i].file;
		n->line_by_site[i] = by_site[i].file ? by_site[i].line : 0;
	}
	*out = n;
	return 0;
}

void tread_site_detail(struct tread_site_names *n, uint32_t site,
		       struct tread_site_detail *out)
{
	out->name = tread_site_name(n, site);
	out->file = NULL;
	out->line = 0;
	if (site < n->ring->site_cap) {
		out->file = n->file_by_site[site];
		out->line = n->line_by_site[site];
	}
}
