// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/ring_view.h"
#include "patcher/entries.h"
#include "patcher/imports.h"
#include "symbols/symbols.h"

/*
 * The run of library-call or entry sites site @i belongs to (its
 * module's, of its kind), read from the module's file once per run: a
 * --module libc.so ring has thousands of entry sites.
 */
struct run_cache {
	uint32_t first, kind, module;
	int ok;
	struct import_list imps;
	struct entry_list fns;
};

static void run_drop(struct run_cache *c)
{
	if (c->ok && c->kind == TAT_SITE_LIBCALL)
		imports_free(&c->imps);
	if (c->ok && c->kind == TAT_SITE_ENTRY)
		entries_free(&c->fns);
	memset(c, 0, sizeof(*c));
}

static struct run_cache *run_of(struct run_cache *c, const struct tat_module *mods,
				const struct tat_site *sites, uint32_t i)
{
	uint32_t first = i;
	char err[256];

	while (first > 1 && sites[first - 1].kind == sites[i].kind &&
	       sites[first - 1].module == sites[i].module)
		first--;
	if (c->first == first && c->kind == sites[i].kind)
		return c->ok ? c : NULL;
	run_drop(c);
	c->first = first;
	c->kind = sites[i].kind;
	c->module = sites[i].module;
	if (c->kind == TAT_SITE_LIBCALL)
		c->ok = !imports_find(mods[c->module].path, &c->imps, err, sizeof(err));
	else
		c->ok = !entries_find(mods[c->module].path, NULL, 0, &c->fns, err, sizeof(err));
	return c->ok ? c : NULL;
}

/* A library-call site: import (i - start of its module's run) of the file. */
static char *libcall_name(struct run_cache *c, const struct tat_module *mods,
			  const struct tat_site *sites, uint32_t i)
{
	c = run_of(c, mods, sites, i);
	return c && i - c->first < c->imps.n ? strdup(c->imps.v[i - c->first].name) : NULL;
}

/* An --entry site: the address of function (i - start of its run). */
static uint64_t entry_addr(struct run_cache *c, const struct tat_module *mods,
			   const struct tat_site *sites, uint32_t i)
{
	c = run_of(c, mods, sites, i);
	return c && i - c->first < c->fns.n ?
	       c->fns.v[i - c->first].start + mods[sites[i].module].load_bias : 0;
}

static void name_sites(struct ring_view *v)
{
	const struct tat_ring_header *h = v->h;
	const struct tat_module *mods = (const void *)((char *)v->base + h->module_off);
	const struct tat_site *sites = (const void *)((char *)v->base + h->site_off);
	struct run_cache run = { 0 };
	struct sym_resolver *sym;

	v->names = calloc(h->site_count + 1, sizeof(*v->names));
	if (!v->names || sym_open(&sym))
		return;
	for (uint32_t i = 0; i < h->module_count; i++)
		sym_add_module(sym, mods[i].path, mods[i].load_bias, mods[i].build_id,
			       mods[i].build_id_len, NULL, 0);
	for (uint32_t i = 1; i < h->site_count; i++) {
		struct sym_info info;

		if (sites[i].kind == TAT_SITE_LIBCALL) {
			v->names[i] = libcall_name(&run, mods, sites, i);
			continue;
		}
		if (sites[i].kind == TAT_SITE_ENTRY) {
			sym_resolve(sym, entry_addr(&run, mods, sites, i), &info);
			v->names[i] = strdup(info.name);
			continue;
		}
		sym_resolve(sym, sites[i].addr, &info);
		v->names[i] = strdup(info.name);
	}
	run_drop(&run);
	sym_close(sym);
}

int ring_view_open(pid_t pid, struct ring_view *v)
{
	const char *dir = getenv("TATTACH_RING_DIR");
	char path[512];
	struct stat st;
	int fd, ret = 0;

	memset(v, 0, sizeof(*v));
	snprintf(path, sizeof(path), "%s/tattach-%d.ring", dir && *dir ? dir : TAT_RING_DIR,
		 (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	v->base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (v->base == MAP_FAILED) {
		v->base = NULL;
		ret = -errno;
		goto out;
	}
	v->size = (size_t)st.st_size;
	v->h = v->base;
	name_sites(v);
out:
	close(fd);
	return ret;
}

void ring_view_close(struct ring_view *v)
{
	if (v->names)
		for (uint32_t i = 0; i <= v->h->site_count; i++)
			free(v->names[i]);
	free(v->names);
	if (v->base)
		munmap(v->base, v->size);
	memset(v, 0, sizeof(*v));
}

uint32_t ring_view_site(const struct ring_view *v, const char *name)
{
	for (uint32_t i = 1; v->names && i < v->h->site_count; i++)
		if (v->names[i] && !strcmp(v->names[i], name))
			return i;
	return 0;
}

static void add(struct site_totals *out, const struct tat_stat *r)
{
	if (!r->calls)
		return;
	if (out->records < 8)
		out->slot_calls[out->records] = r->calls;
	out->records++;
	out->calls += r->calls;
	out->total += r->total;
	out->self += r->self;
	if (r->max > out->max)
		out->max = r->max;
	for (unsigned b = 0; b < TAT_HIST_BUCKETS; b++)
		out->hist[b] += r->hist[b];
}

void ring_view_stats(const struct ring_view *v, uint32_t site, struct site_totals *out)
{
	const struct tat_ring_header *h = v->h;
	const struct tat_stat *pool = (const void *)((char *)v->base + h->stats_off);
	const struct tat_stat *shared = (const void *)((char *)v->base + h->stats_shared_off);
	uint32_t used = h->stats_used < h->stats_cap ? h->stats_used : h->stats_cap;

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < used; i++)
		if (pool[i].site == site && pool[i].slot < h->max_threads)
			add(out, &pool[i]);
	if (site < h->site_cap)
		add(out, &shared[site]);
}

int ring_view_events(const struct ring_view *v, uint32_t site, uint64_t *entries,
		     uint64_t *exits)
{
	const struct tat_ring_header *h = v->h;
	const struct tat_thread_ctl *ctl = (const void *)((char *)v->base + h->thread_off);
	uint64_t size = 1ull << h->ring_shift;
	int ret = 0;

	*entries = *exits = 0;
	for (uint32_t t = 0; t < h->max_threads; t++) {
		const uint64_t *ring = (const uint64_t *)((char *)v->base + h->data_off) +
				       ((uint64_t)t << h->ring_shift);
		uint64_t head = __atomic_load_n(&ctl[t].head, __ATOMIC_ACQUIRE);

		if (head > size || ctl[t].dropped)
			ret = -EOVERFLOW;
		for (uint64_t pos = head > size ? head - size : 0; pos < head; pos++) {
			uint64_t w = __atomic_load_n(&ring[pos & (size - 1)], __ATOMIC_ACQUIRE);

			if ((w & (1ull << 63)) != tat_ev_commit_bit(pos, h->ring_shift) ||
			    tat_ev_type(w) == TAT_EV_SPECIAL || tat_ev_site(w) != site)
				continue;
			if (tat_ev_type(w) == TAT_EV_ENTRY)
				(*entries)++;
			else
				(*exits)++;
		}
	}
	return ret;
}

int ring_view_unmatched_exits(const struct ring_view *v, uint64_t *unmatched)
{
	const struct tat_ring_header *h = v->h;
	const struct tat_thread_ctl *ctl = (const void *)((char *)v->base + h->thread_off);
	uint64_t size = 1ull << h->ring_shift;
	static uint32_t open[TAT_FRAMES_MAX];

	*unmatched = 0;
	for (uint32_t t = 0; t < h->max_threads; t++) {
		const uint64_t *ring = (const uint64_t *)((char *)v->base + h->data_off) +
				       ((uint64_t)t << h->ring_shift);
		uint64_t head = __atomic_load_n(&ctl[t].head, __ATOMIC_ACQUIRE);
		unsigned depth = 0;

		if (head > size)
			return -EOVERFLOW;
		for (uint64_t pos = 0; pos < head; pos++) {
			uint64_t w = __atomic_load_n(&ring[pos], __ATOMIC_ACQUIRE);

			if (tat_ev_type(w) == TAT_EV_ENTRY && depth < TAT_FRAMES_MAX)
				open[depth++] = tat_ev_site(w);
			else if (tat_ev_type(w) == TAT_EV_EXIT && depth &&
				 open[depth - 1] == tat_ev_site(w))
				depth--;
			else if (tat_ev_type(w) == TAT_EV_EXIT)
				(*unmatched)++;
		}
	}
	return 0;
}

uint64_t ring_view_ctl_sum(const struct ring_view *v, size_t field_offset)
{
	const struct tat_thread_ctl *ctl = (const void *)((char *)v->base + v->h->thread_off);
	uint64_t sum = 0;

	for (uint32_t t = 0; t < v->h->max_threads; t++)
		sum += *(const uint64_t *)((const char *)&ctl[t] + field_offset);
	return sum;
}

int ring_view_frames(const struct ring_view *v, int32_t tid, uint32_t *sites,
		     uint32_t *flags, uint64_t *tsc, int max)
{
	const struct tat_ring_header *h = v->h;
	const struct tat_thread_ctl *ctl = (const void *)((char *)v->base + h->thread_off);

	for (uint32_t t = 0; t < h->max_threads; t++) {
		const struct tat_frame *f;
		uint64_t depth;
		int n = 0;

		if (ctl[t].tid != tid)
			continue;
		f = (const struct tat_frame *)((char *)v->base + h->frames_off) +
		    (uint64_t)t * h->frames_per_thread;
		depth = ctl[t].open_depth;
		for (uint64_t d = 0; d < depth && d < h->frames_per_thread && n < max; d++) {
			if (f[d].site & TAT_FRAME_ENDED)
				continue;
			sites[n] = f[d].site & TAT_FRAME_SITE_MASK;
			if (flags)
				flags[n] = f[d].site & ~TAT_FRAME_SITE_MASK;
			tsc[n++] = f[d].tsc;
		}
		return n;
	}
	return -ENOENT;
}

uint64_t ring_view_ns(const struct ring_view *v, uint64_t ticks)
{
	return (uint64_t)((unsigned __int128)ticks * 1000000000ull / v->h->tsc_hz);
}
