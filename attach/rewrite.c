// SPDX-License-Identifier: MIT
/*
 * Rewriting the sites of a held process (rewrite.h): which sites, which
 * bytes, in which order; planned before the stop when it can be.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <tattach/ring.h>
#include "attach/frames/sigframes.h"
#include "attach/inject.h"
#include "attach/log.h"
#include "attach/modules.h"
#include "attach/phase_time.h"
#include "attach/process/proc.h"
#include "attach/process/remote.h"
#include "attach/process/seize.h"
#include "attach/rewrite.h"
#include "attach/ring/ringfile.h"
#include "attach/session.h"
#include "attach/values/args_plan.h"
#include "patcher/patch.h"

static int io_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return remote_read(ctx, addr, buf, len);
}

static int io_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	return remote_write(ctx, addr, buf, len);
}

/* Reading the process while it runs (the preview, before the stop). */
static int io_read_running(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return proc_read_mem(*(const pid_t *)ctx, addr, buf, len);
}

static int site_cmp(const void *a, const void *b)
{
	const struct patch_site *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* What plan() needs to know of one ring module, worked out once. */
struct plan_module {
	int8_t known;		/* the fields below are filled in */
	int8_t mapped;		/* module_mapped() */
	int32_t set_index;	/* its module in the set, -1: none */
};

static void plan_module_of(const struct tat_module *tm, const struct module_set *set,
			   const struct maps *maps, struct plan_module *pm)
{
	pm->known = 1;
	pm->mapped = (int8_t)module_mapped(maps, tm);
	pm->set_index = -1;
	for (size_t j = 0; set && j < set->n; j++)
		if (!strcmp(set->v[j].path, tm->path) && set->v[j].bias == tm->load_bias) {
			pm->set_index = (int32_t)j;
			break;
		}
}

static int sorted_by_addr(const struct patch_site *ps, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (ps[i - 1].addr > ps[i].addr)
			return 0;
	return 1;
}

/*
 * A module whose sites tattach wrote, unloaded and loaded again at the
 * same address with no tattach run in between (dlclose(), then dlopen()):
 * the table still says its sites are written, but they hold the
 * compiler's bytes again.  Seen by reading back the first site tattach
 * wrote: only a fresh copy of the file holds the compiler's bytes there
 * (every form tattach writes differs from them).  Its sites are then
 * marked neither written nor patched, as plan() marks those of a module
 * seen unloaded: the rewrite writes them again, and a sled among them
 * counts as one.  Returns how many modules; @pid may run or be held.
 */
size_t rewrite_forget_reloaded(struct ringfile *rf, const struct module_set *set, pid_t pid)
{
	struct tat_module *mods = ringfile_modules(rf);
	struct tat_site *sites = ringfile_sites(rf);
	size_t reloaded = 0;

	for (uint32_t k = 0; set && k < rf->hdr->module_count; k++) {
		const struct tat_module *tm = &mods[k];
		const struct module *m = NULL;
		uint32_t end = tm->first_site + tm->site_count, i;
		uint8_t cur[SITE_MAX_LEN], off[PATCH_MAX_LEN];

		for (size_t j = 0; j < set->n && !m; j++)
			if (!strcmp(set->v[j].path, tm->path) && set->v[j].bias == tm->load_bias)
				m = &set->v[j];
		if (!m || m->changed || end > rf->hdr->site_count)
			continue;
		for (i = tm->first_site; i < end && i - tm->first_site < m->sites.n; i++) {
			const struct site *fs = &m->sites.v[i - tm->first_site];

			patch_bytes_disabled(fs->len, off);
			/* a site whose compiler bytes are the disabled form
			 * (a 5-byte NOP already) cannot tell */
			if (sites[i].written && sites[i].kind != TAT_SITE_LIBCALL &&
			    sites[i].kind != TAT_SITE_ENTRY && fs->len == sites[i].len &&
			    memcmp(fs->orig, off, fs->len))
				break;
		}
		if (i == end || i - tm->first_site >= m->sites.n ||
		    proc_read_mem(pid, sites[i].addr, cur, sites[i].len) ||
		    memcmp(cur, m->sites.v[i - tm->first_site].orig, sites[i].len))
			continue;
		for (i = tm->first_site; i < end; i++) {
			sites[i].patched = 0;
			sites[i].written = 0;
		}
		pr_info("%s was unloaded and loaded again at the same address: its sites are "
			"written anew", tm->path);
		reloaded++;
	}
	return reloaded;
}

/*
 * The patch list for every site of the ring whose module is still loaded,
 * sorted by address.  Sites of unloaded modules are marked not patched.
 * @site_want[i] (by ring site index) says whether site i passes the
 * filters: the module's @want array, 1 where there is none.  *@sleds:
 * how many of the sites still hold the compiler's sled (patch_orig_is_sled()).
 *
 * This runs while the process is stopped, so what depends only on the
 * module (is it mapped, which module of @set it is) is worked out once per
 * module, not per site, and the list, usually sorted already (a module's
 * sites come sorted, modules rarely interleave), is sorted only if not.
 */
static struct patch_site *plan(struct ringfile *rf, const struct module_set *set,
			       uint8_t *const *want, const struct maps *maps,
			       uint8_t *site_want, struct plan_module *pms, size_t *n,
			       size_t *sleds)
{
	struct tat_ring_header *h = rf->hdr;
	struct tat_module *mods = ringfile_modules(rf);
	struct tat_site *sites = ringfile_sites(rf);
	struct patch_site *ps = calloc(h->site_count, sizeof(*ps));
	const struct tat_argspec *args = args_table(rf);
	/* TATTACH_CALL_THROUGH=0: fentry sites call tp_fentry as -pg sites
	 * call tp_mcount, for a measurement of what the stubs save (make
	 * bench), or should a stub ever be in the way */
	int call_through = inject_call_through();
	uint8_t stub[TP_CT_STUB];
	size_t k = 0;

	if (!ps)
		return NULL;
	for (uint32_t i = 1; i < h->site_count; i++) {
		const struct tat_module *tm = &mods[sites[i].module];
		struct plan_module *pm = &pms[sites[i].module];
		struct patch_site *p;

		if (sites[i].kind == TAT_SITE_LIBCALL || sites[i].kind == TAT_SITE_ENTRY)
			continue;	/* attach/hooks/libcalls.c, attach/hooks/entries.c */
		if (!pm->known)
			plan_module_of(tm, set, maps, pm);
		if (!pm->mapped) {
			/* loaded again, it holds the compiler's bytes */
			sites[i].patched = 0;
			sites[i].written = 0;
			continue;
		}
		p = &ps[k++];

		p->addr = sites[i].addr;
		p->len = sites[i].len;
		/* Enabled, a site calls the trampoline's entry for its kind, or
		 * with -A/-R the entry that saves the arguments; a fentry or
		 * patchable-entry site without them jumps to its call-through
		 * stub instead (tramp_abi.h), which inject_sync_sites() wrote.
		 * Any of the three is the site enabled. */
		p->target = inject_tramp_entry(rf, tm->tramp, sites[i].kind);
		p->alt[0] = inject_tramp_args_entry(rf, tm->tramp, sites[i].kind);
		if (inject_ct_stub_bytes(rf, i, stub) == 0)
			p->alt_jmp = inject_ct_stub(rf, i);
		if (args_site_on(args, i)) {
			p->alt[1] = p->target;
			p->target = p->alt[0];
			p->alt[0] = 0;
		} else if (p->alt_jmp && call_through) {
			p->alt[1] = p->target;
			p->target = p->alt_jmp;
			p->jmp = 1;
			p->alt_jmp = 0;
		}
		p->index = i;
		site_want[i] = 1;
		patch_bytes_disabled(p->len, p->orig);
		/* the compiler's bytes, when we still know them */
		if (pm->set_index >= 0) {
			const struct module *m = &set->v[pm->set_index];

			memcpy(p->orig, m->sites.v[i - tm->first_site].orig, p->len);
			if (want && want[pm->set_index])
				site_want[i] = want[pm->set_index][i - tm->first_site];
			*sleds += !sites[i].written && patch_orig_is_sled(p);
		}
	}
	if (!sorted_by_addr(ps, k))
		qsort(ps, k, sizeof(*ps), site_cmp);
	*n = k;
	return ps;
}

/* The target's tp_state.ct_synced: sites 1 .. ct_synced - 1 have their
 * call-through stub written (inject.c sync_stubs()). */
static uint64_t synced_addr(const struct ringfile *rf)
{
	return rf->hdr->private_addr + offsetof(struct tp_state, ct_synced);
}

/*
 * A site jumps to its stub only once the stub is written: sites 1 ..
 * @synced - 1.  A planned jmp beyond it is the call of the trampoline
 * instead (the site's other form).
 */
static void only_written_stubs(struct patch_site *ps, size_t n, uint64_t synced)
{
	for (size_t i = 0; i < n; i++)
		if (ps[i].jmp && ps[i].index >= synced) {
			ps[i].alt_jmp = ps[i].target;
			ps[i].target = ps[i].alt[1];
			ps[i].alt[1] = 0;
			ps[i].jmp = 0;
		}
}

/*
 * Stable partition of @ps by @site_want (by ring site index): the wanted
 * sites first, both parts still sorted.  Returns how many are wanted, or
 * -ENOMEM (nothing moved).  Usually every site is wanted: then nothing
 * moves.  Run again on its own result, it changes nothing.
 */
static ssize_t wanted_first(struct patch_site *ps, size_t n, const uint8_t *site_want)
{
	struct patch_site *tmp;
	size_t k = 0, m = 0;

	while (k < n && site_want[ps[k].index])
		k++;
	if (k == n)
		return (ssize_t)k;
	tmp = malloc((n + 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (size_t i = k; i < n; i++)
		if (site_want[ps[i].index])
			ps[k++] = ps[i];
		else
			tmp[m++] = ps[i];
	memcpy(ps + k, tmp, m * sizeof(*tmp));
	free(tmp);
	return (ssize_t)k;
}

/*
 * The rewrite worked out to the byte while the process runs
 * (patch_preview()): in the stop, each run is read once more and, if it
 * holds what was read here, written with what was planned here; at
 * 100 000 sites the stop no longer plans them one by one nor goes over
 * the 5 MiB of @p->ps (docs/performance-rounds.md, "Tenth round").  Enabling,
 * the stubs' state is read now (only_written_stubs()) and the wanted
 * sites put first; the stop reads that state again and, if it moved,
 * plans anew.
 */
static void preview(struct ringfile *rf, pid_t pid, struct rewrite_prep *p)
{
	struct patch_io io = { &pid, io_read_running, NULL };
	ssize_t k;

	if (p->op == PATCH_DISABLE) {
		p->previewed = patch_preview(&io, p->ps, p->n, PATCH_DISABLE, &p->off) == 0;
		return;
	}
	if (!rf->hdr->private_addr ||
	    io_read_running(&pid, synced_addr(rf), &p->synced, sizeof(p->synced)))
		return;
	only_written_stubs(p->ps, p->n, p->synced);
	k = wanted_first(p->ps, p->n, p->site_want);
	/* from here on the stop must find the same ct_synced to use p->ps */
	p->stubs_checked = 1;
	if (k < 0)
		return;
	p->k = (size_t)k;
	if (patch_preview(&io, p->ps + k, p->n - p->k, PATCH_DISABLE, &p->off) ||
	    patch_preview(&io, p->ps, p->k, PATCH_ENABLE, &p->on)) {
		patch_preview_free(&p->off);
		return;
	}
	p->previewed = 1;
}

void rewrite_prep_free(struct rewrite_prep *p)
{
	patch_preview_free(&p->on);
	patch_preview_free(&p->off);
	free(p->ps);
	free(p->site_want);
	free(p->pms);
	memset(p, 0, sizeof(*p));
}

void rewrite_prepare(struct ringfile *rf, const struct module_set *set,
		     uint8_t *const *want, const struct maps *maps, pid_t pid,
		     enum patch_op op, struct rewrite_prep *p)
{
	struct maps own = { 0 };

	memset(p, 0, sizeof(*p));
	if (!maps) {
		if (proc_read_maps(pid, &own))
			return;
		maps = &own;
	}
	p->site_want = calloc(rf->hdr->site_count + 1, 1);
	p->pms = calloc(rf->hdr->module_cap ? rf->hdr->module_cap : 1, sizeof(*p->pms));
	if (p->site_want && p->pms)
		p->ps = plan(rf, set, want, maps, p->site_want, p->pms, &p->n, &p->sleds);
	proc_free_maps(&own);
	if (!p->ps) {
		rewrite_prep_free(p);
		return;
	}
	p->site_count = rf->hdr->site_count;
	p->module_count = rf->hdr->module_count;
	p->tramp_count = rf->hdr->tramp_count;
	memcpy(p->tramp_addr, rf->hdr->tramp_addr, sizeof(p->tramp_addr));
	p->op = op;
	preview(rf, pid, p);
}

static int rewrite_prep_holds(const struct rewrite_prep *p, struct ringfile *rf,
			      const struct module_set *set, const struct maps *maps,
			      enum patch_op op)
{
	const struct tat_module *mods = ringfile_modules(rf);

	if (!p || !p->ps || p->op != op || p->site_count != rf->hdr->site_count ||
	    p->module_count != rf->hdr->module_count ||
	    p->tramp_count != rf->hdr->tramp_count ||
	    memcmp(p->tramp_addr, rf->hdr->tramp_addr, sizeof(p->tramp_addr)))
		return 0;
	for (uint32_t m = 0; m < p->module_count; m++) {
		struct plan_module now = { 0 };

		if (!p->pms[m].known)
			continue;
		plan_module_of(&mods[m], set, maps, &now);
		if (now.mapped != p->pms[m].mapped || now.set_index != p->pms[m].set_index)
			return 0;
	}
	return 1;
}

/* The site of the @n sites of @ps (sorted) whose first five bytes hold
 * @rip past their first, or NULL. */
static const struct patch_site *site_around(const struct patch_site *ps, size_t n, uint64_t rip)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ps[mid].addr < rip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && rip > ps[lo - 1].addr && rip < ps[lo - 1].addr + 5)
		return &ps[lo - 1];
	return NULL;
}

/*
 * The contexts that held threads' signal handlers return to, moved past
 * the sleds of the @n sites of @ps (sorted) as their threads are (the
 * rest of a sled is NOPs).  Only when a site of the plan is still a sled
 * (@sleds, counted by plan()): finding them walks every thread's stack.
 */
static size_t step_handlers_out(struct remote *r, struct ringfile *rf,
				const struct patch_site *ps, size_t n, size_t sleds,
				struct saved_contexts *handlers)
{
	size_t moved = 0;

	if (!handlers || !sleds || !n)
		return 0;
	if (!handlers->found) {
		int ret = sigframes_find(r->held, rf, handlers);

		phase_mark("rewrite: signal frames (a walk of each thread)");
		if (ret) {
			pr_warn("pid %d: out of memory walking the threads' stacks: a signal "
				"handler running now may return into a rewritten site",
				(int)r->held->pid);
			return 0;
		}
	}
	for (size_t i = 0; i < handlers->n; i++) {
		struct saved_context *c = &handlers->v[i];
		const struct patch_site *p = site_around(ps, n, c->rip);

		if (!p)
			continue;
		if (sigframes_move(r->held->pid, c, p->addr + 5)) {
			pr_warn("thread %d: a signal handler's context at %#llx could not "
				"be moved past the site it is in", (int)c->tid,
				(unsigned long long)c->rip);
			continue;
		}
		pr_info("thread %d: the context its signal handler returns to moved past "
			"the NOP sled at %#llx", (int)c->tid, (unsigned long long)p->addr);
		moved++;
	}
	return moved;
}

/*
 * A thread stopped inside a NOP sled of the @n sites of @ps (sorted) we
 * are about to replace, by a call or by one 5-byte NOP, moves past it (the
 * rest of the sled is NOPs: skipping them changes nothing).  Returns how
 * many threads moved.
 */
static size_t step_out_of_sites(struct remote *r, const struct patch_site *ps, size_t n)
{
	struct held *h = r->held;
	size_t moved = 0;

	for (size_t t = 0; t < h->n; t++) {
		const struct patch_site *p = site_around(ps, n, h->v[t].regs.rip);

		if (p) {
			h->v[t].regs.rip = p->addr + 5;
			/* now, so that a tattach killed after the rewrite does not
			 * leave the thread inside the new call instruction (nor,
			 * for the thread that made our calls, with every signal
			 * blocked) */
			remote_move(r, &h->v[t]);
			moved++;
		}
	}
	return moved;
}

/* Apply @op to the @n sites of @ps (@pv: their preview, or NULL); record
 * the outcome in the site table. */
static int apply(const struct patch_io *io, struct ringfile *rf, const struct patch_site *ps,
		 size_t n, enum patch_op op, const struct patch_preview *pv,
		 struct patch_stats *stats)
{
	struct tat_site *sites = ringfile_sites(rf);
	size_t warned = 0;
	int *result, ret;

	memset(stats, 0, sizeof(*stats));
	if (!n)
		return 0;
	if (pv && (pv->n != n || pv->op != op))
		pv = NULL;	/* made for other sites: patch_apply() ignores it too */
	result = malloc(n * sizeof(*result));
	if (!result)
		return -ENOMEM;
	/* -1: not reached, when a read or write fails half-way */
	memset(result, 0xff, n * sizeof(*result));
	ret = patch_apply(io, ps, n, op, stats, pv, result);
	for (size_t i = 0; i < n; i++) {
		/* ps is 56 bytes a site, the preview's copy of the indexes 4:
		 * the stop reads 5 MiB less at 100 000 sites */
		struct tat_site *s = &sites[pv ? pv->index[i] : ps[i].index];

		if (result[i] < 0)
			break;
		if (result[i] == PATCH_DONE || result[i] == PATCH_ALREADY) {
			s->patched = op == PATCH_ENABLE;
			s->written = 1;
		}
		if (result[i] == PATCH_MISMATCH && ++warned <= 5)
			pr_warn("site at %#llx holds unexpected bytes: left alone%s",
				(unsigned long long)ps[i].addr,
				warned == 5 ? " (further ones not shown)" : "");
	}
	free(result);
	return ret;
}

/*
 * Does the plan made before the stop hold?  Its modules and trampolines
 * (rewrite_prep_holds()) and, when it went on to the stubs' state, that
 * state too: only tattach moves it, but inject_sync_sites() may have done
 * so in this very stop.
 */
static int prep_usable(struct remote *r, const struct rewrite_prep *prep, struct ringfile *rf,
		       const struct module_set *set, const struct maps *maps, enum patch_op op)
{
	uint64_t synced;

	if (!rewrite_prep_holds(prep, rf, set, maps, op))
		return 0;
	return !prep->stubs_checked ||
	       (remote_read(r, synced_addr(rf), &synced, sizeof(synced)) == 0 &&
		synced == prep->synced);
}

/*
 * Apply @op to every site; record the outcome in the ring's site table.
 * Enabling, the sites that do not pass the filters (@want, NULL: all
 * pass) are disabled in the same run, so the patched set is exactly the
 * wanted one.
 */
int rewrite_sites(struct remote *r, struct ringfile *rf, const struct module_set *set,
		  uint8_t *const *want, enum patch_op op, const struct maps *held_maps,
		  struct rewrite_prep *prep, struct saved_contexts *handlers,
		  struct session_report *rep)
{
	struct tat_site *sites = ringfile_sites(rf);
	struct patch_io io = { r, io_read, io_write };
	struct patch_stats stats = { 0 }, off = { 0 };
	const struct patch_preview *pv_on = NULL, *pv_off = NULL;
	struct maps maps = { 0 };
	struct patch_site *ps = NULL;
	struct plan_module *pms = NULL;
	uint8_t *site_want = NULL;
	size_t n, on = 0, k = 0, sleds = 0;
	int ret, ready = 0;

	/* The map must be one read while the process is stopped (@held_maps,
	 * when the caller has one): a module unloaded since must not be written. */
	if (!held_maps) {
		ret = proc_read_maps(r->held->pid, &maps);
		if (ret)
			return ret;
		held_maps = &maps;
		phase_mark("rewrite: read maps");
	}
	/* unloaded and loaded again since the plan before the stop: it
	 * counted none of that module's sleds (rare: plan again) */
	if (!rewrite_forget_reloaded(rf, set, r->held->pid) &&
	    prep_usable(r, prep, rf, set, held_maps, op)) {
		ps = prep->ps;
		site_want = prep->site_want;
		n = prep->n;
		sleds = prep->sleds;
		prep->ps = NULL;
		prep->site_want = NULL;
		/* stubs checked and sites partitioned: what the stop would do */
		ready = prep->stubs_checked && prep->previewed;
		k = prep->k;
		if (prep->previewed) {
			pv_on = &prep->on;
			pv_off = &prep->off;
		}
	} else {
		site_want = calloc(rf->hdr->site_count + 1, 1);
		pms = calloc(rf->hdr->module_cap ? rf->hdr->module_cap : 1, sizeof(*pms));
		if (site_want && pms)
			ps = plan(rf, set, want, held_maps, site_want, pms, &n, &sleds);
		free(pms);
	}
	proc_free_maps(&maps);
	phase_mark("rewrite: plan (sort sites)");
	if (!ps) {
		free(site_want);
		return -ENOMEM;
	}
	if (op == PATCH_ENABLE) {
		if (!ready) {
			ssize_t wanted;
			uint64_t synced;

			ret = remote_read(r, synced_addr(rf), &synced, sizeof(synced));
			if (ret)
				goto out;
			only_written_stubs(ps, n, synced);
			wanted = wanted_first(ps, n, site_want);
			if (wanted < 0) {
				ret = (int)wanted;
				goto out;
			}
			k = (size_t)wanted;
		}
		/* both parts are sorted; the unwanted sites' sleds become
		 * 5-byte NOPs, another instruction boundary too */
		rep->stepped = step_out_of_sites(r, ps, k) +
			       step_out_of_sites(r, ps + k, n - k);
		rep->handlers_stepped += step_handlers_out(r, rf, ps, k, sleds, handlers) +
					 step_handlers_out(r, rf, ps + k, n - k, sleds, handlers);
		ret = apply(&io, rf, ps + k, n - k, PATCH_DISABLE, pv_off, &off);
		if (!ret)
			ret = apply(&io, rf, ps, k, PATCH_ENABLE, pv_on, &stats);
	} else {
		/* a site never written yet (a module loaded since) is a sled */
		rep->stepped = step_out_of_sites(r, ps, n);
		rep->handlers_stepped += step_handlers_out(r, rf, ps, n, sleds, handlers);
		ret = apply(&io, rf, ps, n, op, pv_off, &stats);
	}
	phase_mark(stats.previewed + off.previewed ?
		   "rewrite: read, compare, write (planned)" : "rewrite: read, check, write");
	for (uint32_t i = 1; i < rf->hdr->site_count; i++)
		on += sites[i].patched;
	rf->hdr->patched_sites = (uint32_t)on;
	rep->sites = stats.done + stats.already;
	rep->changed = stats.done + off.done;
	rep->unpatched = off.done;
	rep->mismatched = stats.mismatch + off.mismatch;
	rep->unreachable = stats.unreachable;
	if (ret)
		pr_err("rewriting sites: %s", strerror(-ret));
out:
	free(site_want);
	free(ps);
	return ret;
}
