// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <tattach/ring.h>
#include "attach/frames/shadow.h"
#include "attach/modules.h"
#include "attach/status_extra.h"
#include "symbols/module_file.h"
#include "symbols/symbols.h"

void status_print_depth(FILE *out, struct ringfile *rf)
{
	const struct tat_ring_header *h = rf->hdr;
	const struct tat_thread_ctl *ctl = ringfile_threads(rf);
	uint64_t below = 0, open = 0;

	for (uint32_t i = 0; i < h->max_threads; i++) {
		below += ctl[i].below_max_depth;
		open += ctl[i].open_depth < TAT_FRAMES_MAX ? ctl[i].open_depth : TAT_FRAMES_MAX;
	}
	if (h->max_depth)
		fprintf(out, "max depth:    %u (calls deeper, not recorded: %" PRIu64 ")\n",
			h->max_depth, below);
	else
		fprintf(out, "max depth:    none (calls not recorded below an earlier "
			"limit: %" PRIu64 ")\n", below);
	fprintf(out, "in flight:    %" PRIu64 " traced calls entered, not returned "
		"(stale frames of exited threads included)\n", open);
}

void status_print_stats(FILE *out, struct ringfile *rf)
{
	const struct tat_ring_header *h = rf->hdr;
	const struct tat_thread_ctl *ctl = ringfile_threads(rf);
	uint32_t used = h->stats_used < h->stats_cap ? h->stats_used : h->stats_cap;
	uint64_t shared = 0, region = h->file_size - h->stats_index_off;

	if (!h->stats_off)
		return;
	for (uint32_t i = 0; i < h->max_threads; i++)
		shared += ctl[i].stats_shared;
	fprintf(out, "stats memory: %u of %u records in use (%.1f KiB of the %.1f MiB "
		"stats region)%s\n", used, h->stats_cap,
		(double)used * sizeof(struct tat_stat) / 1024.0, region / 1048576.0,
		h->stats_used >= h->stats_cap ? ", pool full" : "");
	if (shared)
		fprintf(out, "stats shared: %" PRIu64 " calls counted in shared records "
			"(pool full: slower, still exact)\n", shared);
}

/* A resolver for the ring's modules; NULL if none could be read. */
static struct sym_resolver *resolver_of(struct ringfile *rf)
{
	const struct tat_module *mods = ringfile_modules(rf);
	struct sym_resolver *sym;

	if (sym_open(&sym))
		return NULL;
	for (uint32_t i = 0; i < rf->hdr->module_count && i < rf->hdr->module_cap; i++) {
		char file[TAT_PATH_MAX + 64];

		sym_module_file((int)rf->hdr->pid, mods[i].path, file, sizeof(file));
		sym_add_module(sym, file, mods[i].load_bias, mods[i].build_id,
			       mods[i].build_id_len, NULL, 0);
	}
	return sym;
}

/* Is site @s of a library dlclose()d since (@maps: NULL, not known)? */
static int site_gone(struct ringfile *rf, const struct maps *maps,
		     const struct tat_site *s)
{
	const struct tat_module *mods = ringfile_modules(rf);

	return maps && s->module < rf->hdr->module_count && s->module < rf->hdr->module_cap &&
	       !module_mapped(maps, &mods[s->module]);
}

void status_print_patched(FILE *out, struct ringfile *rf, const struct maps *maps, int list)
{
	const struct tat_ring_header *h = rf->hdr;
	const struct tat_site *sites = ringfile_sites(rf);
	uint32_t n = h->site_count < h->site_cap ? h->site_count : h->site_cap;
	struct sym_resolver *sym;

	uint32_t on = 0, code = 0, gone = 0;

	/* Library-call hooks have their own line (libcalls_status()). */
	for (uint32_t i = 1; i < n; i++) {
		if (sites[i].kind == TAT_SITE_LIBCALL || sites[i].kind == TAT_SITE_ENTRY)
			continue;
		if (site_gone(rf, maps, &sites[i])) {
			gone++;
			continue;
		}
		code++;
		on += sites[i].patched;
	}
	fprintf(out, "patched:      %u of %u sites", on, code);
	if (gone)
		fprintf(out, " (and %u in libraries not loaded now)", gone);
	fprintf(out, "%s\n", list ? "" : " (--status -v lists them)");
	if (!list)
		return;
	sym = resolver_of(rf);
	for (uint32_t i = 1; i < n; i++) {
		struct sym_info info = { .name = "?" };

		if (!sites[i].patched || sites[i].kind == TAT_SITE_LIBCALL ||
		    sites[i].kind == TAT_SITE_ENTRY || site_gone(rf, maps, &sites[i]))
			continue;	/* libcalls_status(), entries_status() */
		if (sym)
			sym_resolve(sym, sites[i].addr, &info);
		fprintf(out, "  %#" PRIx64 " %s\n", sites[i].addr, info.name);
	}
	sym_close(sym);
}

/*
 * A thread's ring is made resident when the thread claims its slot
 * (tramp_ring.c, ring_populate), so the file's allocated blocks are what tracing
 * costs in memory: the header and tables plus one whole ring per thread
 * that ever wrote.
 */
void status_print_resident(FILE *out, struct ringfile *rf)
{
	const struct tat_ring_header *h = rf->hdr;
	struct stat sb;
	uint64_t bytes, tables;

	if (fstat(rf->fd, &sb))
		return;
	bytes = (uint64_t)sb.st_blocks * 512;
	tables = bytes < h->data_off ? bytes : h->data_off;
	fprintf(out, "resident:     %.1f MiB of the ring file, %.1f MiB past its tables "
		"(a whole %llu KiB ring per thread that wrote", bytes / 1048576.0,
		(bytes - tables) / 1048576.0, (unsigned long long)((8ull << h->ring_shift) >> 10));
	/* taken whole when stats mode began (session.c check_stats_room()) */
	if (h->stats_index_off && h->mode == TAT_MODE_STATS)
		fprintf(out, ", and the %.1f MiB stats region",
			(h->file_size - h->stats_index_off) / 1048576.0);
	fputs(")\n", out);
}

void status_print_lookup(FILE *out, struct ringfile *rf, pid_t pid)
{
	struct shadow_lookup l;
	struct shadow s;
	uint64_t *keys = NULL;

	if (shadow_open(&s, pid, rf->hdr) ||
	    !(keys = calloc(1u << s.st.thread_bits, sizeof(*keys))) ||
	    shadow_read_keys(&s, keys))
		goto out;
	shadow_lookup_lengths(keys, s.st.thread_bits, &l);
	if (!l.taken)
		goto out;
	/* Each traced call searches twice, at its entry and its return; past
	 * half a read more per search, say what shortens them (only a new
	 * ring can have more slots). */
	fprintf(out, "slot search:  %.2f slots read per search on average, %u at most "
		"(%u of %u slots taken%s)\n", (double)l.reads / l.taken, l.longest,
		l.taken, 1u << s.st.thread_bits,
		2 * l.reads > 3 * (uint64_t)l.taken ?
		"; a ring made with a larger -t keeps searches short" : "");
out:
	free(keys);
}
