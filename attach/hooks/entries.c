// SPDX-License-Identifier: MIT
/*
 * Patching function entries.  Per function, a 128-byte stub near its
 * module, with the head of every stub near its module
 * (attach/tramp/tramp_abi.h), which enters the trampoline and primes the
 * return, then:
 *
 *   +34  the moved instructions, RIP-relative displacements adjusted
 *   +34+w e9 <rel32>         jmp function + (endbr64) + w
 *   +64  P: the trampoline entry the head calls (near_stub_target())
 *   +72  E: tp_ct_exit, where the function's return goes on
 *
 * and in the function, at its entry (after an endbr64), the w >= 5 bytes
 * of whole instructions become "e9 <rel32 to stub>" and int3s.  The site
 * key the trampoline hashes is stub + 5 (the head's call ends at +10).  A thread stopped inside those w
 * bytes (at an instruction boundary, the only place a thread can be) is
 * moved to the same offset in the stub, whose copy has the same layout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach/values/args_plan.h"
#include "attach/frames/sigframes.h"
#include "attach/hooks/entries.h"
#include "attach/hooks/near_stub.h"
#include "attach/inject.h"
#include "attach/log.h"
#include "attach/modules.h"
#include "attach/process/proc.h"

#define STUB_SIZE  NEAR_ENTRY_SIZE
#define STUB_SHIFT 7u
#define STUB_KEY   TP_NS_KEY
#define STUB_CODE  TP_NS_BODY
#define STUB_PTR   NEAR_ENTRY_PTR
_Static_assert(STUB_SIZE == 1u << STUB_SHIFT, "stubs are 1 << STUB_SHIFT apart");
_Static_assert(STUB_CODE + RELOCATE_MAX + 5 <= STUB_PTR,
	       "the moved instructions and the jmp back end before the pointers");
#define PAGE       4096ull
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

static int read_entries(pid_t pid, const struct module *m, const char *path, int analyse,
			struct entry_list *fns)
{
	char file[300], err[256];
	int ret;

	if (m)
		snprintf(file, sizeof(file), "%s", m->file);
	else if (module_file(pid, path, file, sizeof(file))) {
		pr_warn("%s: its file no longer matches its code: entries left as they are",
			path);
		return -ESTALE;
	}
	ret = entries_find(file, m ? &m->sites : NULL, analyse, fns, err, sizeof(err));
	if (ret == -ENODATA)
		pr_err("%s", err);
	else if (ret)
		pr_warn("%s: no function entries: %s", path, err);
	return ret;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Is @m the module the user named: its path, or its file name or a prefix
 * of it ("libz" for libz.so.1.2.13)? */
static int named(const struct module *m, const char *name)
{
	return !strcmp(m->path, name) || !strncmp(base_name(m->path), name, strlen(name));
}

static int plan_module(pid_t pid, const struct module *m, const struct site_filter *f,
		       struct entry_plan *ep)
{
	struct entry_mod em = { .bias = m->bias };
	struct entry_mod *v;
	int ret;

	for (size_t i = 0; i < ep->n; i++)
		if (!strcmp(ep->v[i].path, m->path))
			return 0;
	snprintf(em.path, sizeof(em.path), "%s", m->path);
	snprintf(em.file, sizeof(em.file), "%s", m->file);
	ret = read_entries(pid, m, m->path, 1, &em.fns);
	if (ret)
		return ret;
	em.want = calloc(em.fns.n, 1);
	v = reallocarray(ep->v, ep->n + 1, sizeof(*v));
	if (!em.want || !v) {
		free(em.want);
		entries_free(&em.fns);
		return -ENOMEM;
	}
	ep->v = v;
	for (size_t i = 0; i < em.fns.n; i++) {
		const struct entry *e = &em.fns.v[i];

		em.want[i] = e->win && (!f || site_filter_pass(f, e->name));
		ep->matched += em.want[i];
		if (!e->win && strncmp(e->refused, "it has a -pg site", 17))
			pr_info("%s: %s not patched: %s", m->path, e->name, e->refused);
	}
	ep->functions += em.fns.n;
	ep->refused += em.fns.refused;
	pr_info("%s: %zu of %zu functions can have their entry patched%s", m->path,
		em.fns.n - em.fns.refused, em.fns.n,
		em.fns.from_dynsym ? " (no .symtab: exported functions and .eh_frame)" : "");
	ep->v[ep->n++] = em;
	return 0;
}

int entries_plan(pid_t pid, int program, const char *module, const struct site_filter *f,
		 const struct module_set *set, struct entry_plan *ep)
{
	char exe[256];
	int found = 0, ret = 0;

	memset(ep, 0, sizeof(*ep));
	if (!program && !module)
		return 0;
	module_exe(pid, exe, sizeof(exe));
	for (size_t i = 0; i < set->n && !ret; i++) {
		const struct module *m = &set->v[i];
		int want = (program && !strcmp(m->path, exe)) || (module && named(m, module));

		if (!want || m->changed || !m->text_start)
			continue;
		found |= module && named(m, module);
		ret = plan_module(pid, m, f, ep);
	}
	if (!ret && module && !found) {
		pr_err("no module named '%s' is loaded in pid %d (see /proc/%d/maps)", module,
		       (int)pid, (int)pid);
		ret = -ENOENT;
	}
	if (ret)
		entries_plan_free(ep);
	return ret;
}

void entries_plan_free(struct entry_plan *ep)
{
	for (size_t i = 0; i < ep->n; i++) {
		entries_free(&ep->v[i].fns);
		free(ep->v[i].want);
	}
	free(ep->v);
	memset(ep, 0, sizeof(*ep));
}

static const struct entry_mod *find_mod(const struct entry_plan *ep, const char *path,
					uint64_t bias)
{
	for (size_t i = 0; ep && i < ep->n; i++)
		if (!strcmp(ep->v[i].path, path) && ep->v[i].bias == bias)
			return &ep->v[i];
	return NULL;
}

int entries_has(const struct entry_plan *ep, const struct module *m)
{
	return find_mod(ep, m->path, m->bias) != NULL;
}

/* One stub; returns the bytes the jmp replaces (0: this one stays unused). */
static unsigned stub_bytes(uint8_t *b, uint64_t at, const struct entry *e, uint64_t bias,
			   uint64_t enter, const struct near_targets *t, uint32_t index)
{
	uint64_t back = e->patch + bias + e->win;
	int64_t rel = (int64_t)back - (int64_t)(at + STUB_CODE + e->win + 5);

	memset(b, 0xcc, STUB_SIZE);
	if (!e->win || rel != (int32_t)rel ||
	    relocate_copy(e->orig, e->win, e->patch + bias, at + STUB_CODE, e->fix, e->nfix,
			  b + STUB_CODE))
		return 0;
	near_stub_head(b, STUB_PTR, enter, t, index);
	b[STUB_CODE + e->win] = 0xe9;
	memcpy(b + STUB_CODE + e->win + 1, &(int32_t){ (int32_t)rel }, 4);
	return e->win;
}

int entries_prepare(struct remote *r, struct ringfile *rf, const struct entry_plan *ep)
{
	struct tat_ring_header *h = rf->hdr;
	struct tat_site *sites = ringfile_sites(rf);

	for (size_t i = 0; i < ep->n; i++) {
		const struct entry_mod *em = &ep->v[i];
		int k = ringfile_module_index(rf, em->path, em->bias);
		uint64_t size = ALIGN_UP(em->fns.n * STUB_SIZE, PAGE), at, enter;
		struct near_targets t;
		const struct tat_module *tm;
		struct maps maps;
		uint32_t count;
		uint8_t *buf;
		int ret;

		if (k < 0 || ringfile_site_run(rf, (uint32_t)k, TAT_SITE_ENTRY, &count))
			continue;
		tm = &ringfile_modules(rf)[k];
		if (h->site_count + em->fns.n > h->site_cap) {
			pr_warn("%s: site table full (%u): its function entries are not traced",
				em->path, h->site_cap);
			continue;
		}
		if (proc_read_maps(r->held->pid, &maps))
			return -ENOMEM;
		at = inject_map_near(r, &maps, tm->text_start, tm->text_end, size);
		proc_free_maps(&maps);
		if (!at) {
			pr_warn("%s: no room within 2 GiB of it for its entry stubs: not traced",
				em->path);
			continue;
		}
		buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		memset(buf, 0xcc, size);
		near_stub_targets(rf, tm->tramp, &t);
		enter = near_stub_area(r, rf, &t, at, em->fns.n * STUB_SIZE, STUB_SHIFT);
		for (size_t j = 0; j < em->fns.n; j++) {
			struct tat_site *s = &sites[h->site_count + j];

			memset(s, 0, sizeof(*s));
			s->addr = at + j * STUB_SIZE + STUB_KEY;
			s->module = (uint32_t)k;
			s->kind = TAT_SITE_ENTRY;
			s->len = (uint8_t)stub_bytes(buf + j * STUB_SIZE, at + j * STUB_SIZE,
						     &em->fns.v[j], em->bias, enter, &t,
						     h->site_count + (uint32_t)j);
		}
		ret = remote_write(r, at, buf, size);
		free(buf);
		if (!ret)
			ret = (int)remote_syscall(r, SYS_mprotect, at, size,
						  PROT_READ | PROT_EXEC, 0, 0, 0);
		if (ret)
			return ret;
		h->site_count += (uint32_t)em->fns.n;
	}
	return 0;
}

/* Is the thread at @rip stopped inside the window at @addr, and where:
 * 0 not inside, 1 at an instruction the analysis saw, -1 inside one. */
static int in_window(const struct entry *e, unsigned win, uint64_t addr, uint64_t rip)
{
	if (rip <= addr || rip >= addr + win)
		return 0;
	for (unsigned b = 0; b < e->nbounds; b++)
		if (e->bounds[b] == rip - addr)
			return 1;
	return -1;
}

/*
 * The contexts that held threads' signal handlers return to (@handlers)
 * inside the window at @addr go on at the same instruction in the stub
 * too; one inside an instruction (never seen) leaves the entry unpatched
 * (-1).  Returns how many moved.
 */
static long step_handlers_out(struct remote *r, const struct entry *e, unsigned win,
			      uint64_t addr, uint64_t stub, struct saved_contexts *handlers)
{
	long moved = 0;

	for (size_t i = 0; i < handlers->n; i++)
		if (in_window(e, win, addr, handlers->v[i].rip) < 0) {
			pr_warn("%s: entry not patched: a signal handler of thread %d returns "
				"to %#llx, not to the start of one of its first instructions",
				e->name, (int)handlers->v[i].tid,
				(unsigned long long)handlers->v[i].rip);
			return -1;
		}
	for (size_t i = 0; i < handlers->n; i++) {
		struct saved_context *c = &handlers->v[i];

		if (!in_window(e, win, addr, c->rip))
			continue;
		if (sigframes_move(r->held->pid, c, stub + STUB_CODE + (c->rip - addr))) {
			pr_warn("%s: entry not patched: a signal handler of thread %d returns "
				"into it, and that could not be changed", e->name, (int)c->tid);
			return -1;
		}
		pr_info("thread %d: the context its signal handler returns to moved out of "
			"%s's entry, into its stub", (int)c->tid, e->name);
		moved++;
	}
	return moved;
}

/*
 * Move every thread stopped inside the window at @addr to the same
 * instruction in the stub, and every context a signal handler returns to
 * (@handlers, found here the first time).  Through remote_move(): the
 * thread that makes our system calls is parked in the rescue code, and
 * must come back in the stub, not in the window, should tattach die
 * before it lets the process go.  A thread inside an instruction (never
 * seen: a thread stops between instructions, and the analysis refuses
 * jumps into the window) cannot be moved: the entry is then not patched
 * (-1).  *@handlers_moved counts the contexts moved.
 */
static long step_out(struct remote *r, struct ringfile *rf, const struct entry *e, unsigned win,
		     uint64_t addr, uint64_t stub, struct saved_contexts *handlers,
		     size_t *handlers_moved)
{
	struct held *h = r->held;
	long moved = 0, ctx;

	for (size_t t = 0; t < h->n; t++)
		if (in_window(e, win, addr, h->v[t].regs.rip) < 0) {
			pr_warn("%s: entry not patched: thread %d is stopped at %#llx, not at "
				"the start of one of its first instructions; try again",
				e->name, (int)h->v[t].tid, (unsigned long long)h->v[t].regs.rip);
			return -1;
		}
	if (handlers && !handlers->found && sigframes_find(h, rf, handlers))
		pr_warn("pid %d: out of memory walking the threads' stacks: a signal handler "
			"running now may return into a patched entry", (int)h->pid);
	ctx = handlers ? step_handlers_out(r, e, win, addr, stub, handlers) : 0;
	if (ctx < 0)
		return -1;
	*handlers_moved += (size_t)ctx;
	for (size_t t = 0; t < h->n; t++) {
		uint64_t rip = h->v[t].regs.rip;

		if (!in_window(e, win, addr, rip))
			continue;
		h->v[t].regs.rip = stub + STUB_CODE + (rip - addr);
		pr_info("thread %d stepped out of %s's entry, into its stub%s", (int)h->v[t].tid,
			e->name, &h->v[t] == r->thread ? " (the thread tattach calls with)" : "");
		if (remote_move(r, &h->v[t]))
			pr_warn("thread %d: moving it out of %s's entry failed; it moves "
				"when tattach lets the process go", (int)h->v[t].tid, e->name);
		moved++;
	}
	return moved;
}

/*
 * --disable: threads running the moved instructions of a stub (or its
 * jmp back) finish them there and jump back to the function, whose bytes
 * after the window never changed: the stubs stay mapped, and a later
 * --enable reuses them as they are.  Counted, to be told with -v.
 */
static size_t in_stub(const struct held *h, unsigned win, uint64_t stub)
{
	size_t n = 0;

	for (size_t t = 0; t < h->n; t++)
		n += h->v[t].regs.rip >= stub + STUB_CODE &&
		     h->v[t].regs.rip <= stub + STUB_CODE + win;
	return n;
}

/* The bytes of one module's entries, read in one go and written back in
 * a few spans: 10 000 entries cost a handful of system calls, not 20 000. */
struct text_view {
	uint64_t lo, hi;
	uint8_t *buf;
	uint8_t *dirty;			/* per entry of the run */
};

#define VIEW_MAX  (64ull << 20)	/* larger: entry by entry */
#define SPAN_GAP  4096u		/* dirty entries closer than this: one write */

static int view_open(struct remote *r, struct text_view *v, const struct entry_list *fns,
		     const struct tat_site *run, uint32_t count, uint64_t bias)
{
	memset(v, 0, sizeof(*v));
	v->lo = UINT64_MAX;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t a = fns->v[i].patch + bias;

		if (!run[i].len || run[i].len > RELOCATE_MAX)
			continue;
		if (a < v->lo)
			v->lo = a;
		if (a + run[i].len > v->hi)
			v->hi = a + run[i].len;
	}
	v->dirty = calloc(count ? count : 1, 1);
	if (!v->dirty)
		return -ENOMEM;
	if (v->lo >= v->hi || v->hi - v->lo > VIEW_MAX)
		return 0;
	v->buf = malloc(v->hi - v->lo);
	if (v->buf && remote_read(r, v->lo, v->buf, v->hi - v->lo)) {
		free(v->buf);
		v->buf = NULL;
	}
	return 0;
}

/* Write back the dirty entries of @v, merging close ones. */
static int view_flush(struct remote *r, struct text_view *v, const struct entry_list *fns,
		      const struct tat_site *run, uint32_t count, uint64_t bias)
{
	uint64_t span_lo = 0, span_hi = 0;

	if (!v->buf)
		return 0;
	for (uint32_t i = 0; i <= count; i++) {
		uint64_t a = i < count ? fns->v[i].patch + bias : 0;

		if (i < count && !v->dirty[i])
			continue;
		if (span_hi && (i == count || a - span_hi >= SPAN_GAP)) {
			if (remote_write(r, span_lo, v->buf + (span_lo - v->lo), span_hi - span_lo))
				return -EIO;
			span_hi = 0;
		}
		if (i == count)
			break;
		if (!span_hi)
			span_lo = a;
		span_hi = a + run[i].len;
	}
	return 0;
}

static void view_close(struct text_view *v)
{
	free(v->buf);
	free(v->dirty);
}

/*
 * -A/-R: the pointer P of each stub of module @k (its run of @count ENTRY
 * sites from @first) names the trampoline entry that saves the arguments
 * where the ring's spec asks for values, else the plain one
 * (near_stub_target()).  Each sees the same stack: the head's call pushes
 * stub + 10, which is site + 5, as the call of an fentry site does, and
 * the return into the caller is the word above it, the function not
 * having started.  The stubs of a module are one block: read once,
 * written back once if a pointer changed.
 */
static int point_stubs(struct remote *r, struct ringfile *rf, uint32_t k, uint32_t first,
		       uint32_t count)
{
	const struct tat_argspec *table = args_table(rf);
	const struct tat_site *sites = ringfile_sites(rf);
	uint64_t at = sites[first].addr - STUB_KEY, size = (uint64_t)count * STUB_SIZE;
	struct tp_near_area areas[TP_NS_AREAS];
	struct near_targets t;
	int changed = 0, ret = 0;
	uint8_t *buf;

	for (uint32_t i = 0; i < count; i++)
		if (sites[first + i].addr != at + (uint64_t)i * STUB_SIZE + STUB_KEY)
			return -EINVAL;		/* not the block entries_prepare wrote */
	if (near_stub_areas(r, rf, areas))
		return -EIO;
	near_stub_targets(rf, ringfile_modules(rf)[k].tramp, &t);
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	if (remote_read(r, at, buf, size)) {
		ret = -EIO;
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t want = near_stub_target(&t, areas, at + (uint64_t)i * STUB_SIZE,
						 args_site_on(table, first + i)), cur;

		memcpy(&cur, buf + i * STUB_SIZE + STUB_PTR, 8);
		if (!sites[first + i].len || cur == want || !near_stub_ours(&t, cur))
			continue;	/* unused stub, or not ours to change */
		memcpy(buf + i * STUB_SIZE + STUB_PTR, &want, 8);
		changed = 1;
	}
	if (changed && remote_write(r, at, buf, size))
		ret = -EIO;
out:
	free(buf);
	return ret;
}

int entries_apply(struct remote *r, struct ringfile *rf, const struct entry_plan *ep,
		  const struct maps *maps, struct saved_contexts *handlers,
		  struct entries_report *rep)
{
	const struct tat_module *mods = ringfile_modules(rf);
	struct tat_site *sites = ringfile_sites(rf);
	int ret = 0;

	memset(rep, 0, sizeof(*rep));
	for (uint32_t k = 0; k < rf->hdr->module_count && !ret; k++) {
		const struct tat_module *tm = &mods[k];
		const struct entry_mod *em = find_mod(ep, tm->path, tm->load_bias);
		struct entry_list own = { 0 };
		const struct entry_list *fns = em ? &em->fns : &own;
		uint32_t count, first = ringfile_site_run(rf, k, TAT_SITE_ENTRY, &count);
		struct text_view v;

		if (!first)
			continue;
		if (maps && !module_mapped(maps, tm)) {
			/* dlclose()d: its code went with it */
			for (uint32_t i = 0; i < count; i++)
				sites[first + i].patched = 0;
			continue;
		}
		/* --enable: values or none, as the ring's specs say (-A/-R) */
		if (ep && point_stubs(r, rf, k, first, count))
			pr_warn("%s: could not point its entry stubs at the trampoline entry "
				"for -A/-R", tm->path);
		/* --disable: the list and the file's bytes suffice, no analysis
		 * while the process is held (the window is in the site). */
		if (!em && read_entries(r->held->pid, NULL, tm->path, 0, &own))
			continue;
		if (fns->n != count) {
			pr_warn("%s: its functions no longer match the ring's: left as they are",
				tm->path);
			entries_free(&own);
			continue;
		}
		ret = view_open(r, &v, fns, &sites[first], count, tm->load_bias);
		for (uint32_t i = 0; i < count && !ret; i++) {
			struct tat_site *s = &sites[first + i];
			const struct entry *e = &fns->v[i];
			uint64_t addr = e->patch + tm->load_bias, stub = s->addr - STUB_KEY;
			int want = em ? em->want[i] : 0, is_on, is_off;
			unsigned win = s->len;
			uint8_t one[RELOCATE_MAX], on[RELOCATE_MAX], *cur = one;
			int64_t rel = (int64_t)stub - (int64_t)(addr + 5);

			if (!win || win > RELOCATE_MAX || (em && win != e->win))
				continue;
			if (v.buf)
				cur = v.buf + (addr - v.lo);
			else if (remote_read(r, addr, one, win))
				ret = -EIO;
			if (ret)
				break;
			memset(on, 0xcc, sizeof(on));
			on[0] = 0xe9;
			memcpy(on + 1, &(int32_t){ (int32_t)rel }, 4);
			is_on = !memcmp(cur, on, win);
			is_off = !memcmp(cur, e->orig, win);
			s->patched = (uint8_t)is_on;
			if (!is_on && !is_off) {
				if (++rep->mismatched <= 5)
					pr_warn("%s: the entry of %s holds unexpected bytes (another "
						"tracer?): left alone", tm->path, e->name);
				continue;
			}
			if (want != is_on) {
				long moved = want ? step_out(r, rf, e, win, addr, stub, handlers,
							     &rep->handlers_stepped) : 0;

				if (moved < 0)
					continue;	/* left as it is, said */
				rep->stepped += (size_t)moved;
				if (!want)
					rep->in_stubs += in_stub(r->held, win, stub);
				memcpy(cur, want ? on : e->orig, win);
				v.dirty[i] = 1;
				if (!v.buf && remote_write(r, addr, cur, win))
					ret = -EIO;
				s->patched = (uint8_t)want;
			}
			rep->patched += s->patched;
		}
		if (!ret)
			ret = view_flush(r, &v, fns, &sites[first], count, tm->load_bias);
		view_close(&v);
		entries_free(&own);
		if (ret)
			pr_err("%s: reading or rewriting its function entries failed: %s",
			       tm->path, strerror(-ret));
	}
	return ret;
}

/*
 * Has the first entry of @em marked patched (the run of @count sites
 * from @first) lost its jmp since?  A library unloaded and loaded again
 * at the same address with no tattach run in between holds its file's
 * bytes there again, though the table says patched.
 */
static int entries_lost(const struct tat_site *sites, uint32_t first, uint32_t count,
			const struct entry_mod *em, pid_t pid)
{
	for (uint32_t i = 0; i < count && i < em->fns.n; i++) {
		const struct tat_site *s = &sites[first + i];
		uint64_t addr = em->fns.v[i].patch + em->bias, stub = s->addr - STUB_KEY;
		int32_t rel = (int32_t)((int64_t)stub - (int64_t)(addr + 5));
		uint8_t on[5] = { 0xe9 }, cur[5];

		if (!s->patched || !s->len)
			continue;
		memcpy(on + 1, &rel, 4);
		return proc_read_mem(pid, addr, cur, sizeof(cur)) == 0 && memcmp(cur, on, 5);
	}
	return 0;
}

int entries_differs(struct ringfile *rf, const struct entry_plan *ep, pid_t pid)
{
	const struct tat_module *mods = ringfile_modules(rf);
	const struct tat_site *sites = ringfile_sites(rf);

	for (size_t i = 0; ep && i < ep->n; i++) {
		int k = ringfile_module_index(rf, ep->v[i].path, ep->v[i].bias);
		uint32_t count;

		if (k < 0 || !ringfile_site_run(rf, (uint32_t)k, TAT_SITE_ENTRY, &count))
			return 1;
	}
	for (uint32_t k = 0; k < rf->hdr->module_count; k++) {
		const struct entry_mod *em = find_mod(ep, mods[k].path, mods[k].load_bias);
		uint32_t count, first = ringfile_site_run(rf, k, TAT_SITE_ENTRY, &count);

		for (uint32_t i = 0; first && i < count; i++) {
			int want = em && i < em->fns.n ? em->want[i] : 0;

			if (sites[first + i].len && sites[first + i].patched != want)
				return 1;
		}
		if (first && em && entries_lost(sites, first, count, em, pid))
			return 1;
	}
	return 0;
}

void entries_status(FILE *out, struct ringfile *rf, pid_t pid, const struct maps *maps,
		    int list)
{
	const struct tat_module *mods = ringfile_modules(rf);
	const struct tat_site *sites = ringfile_sites(rf);

	for (uint32_t k = 0; k < rf->hdr->module_count && k < rf->hdr->module_cap; k++) {
		struct entry_list fns = { 0 };
		uint32_t count, first = ringfile_site_run(rf, k, TAT_SITE_ENTRY, &count), on = 0;

		if (!first)
			continue;
		if (maps && !module_mapped(maps, &mods[k])) {
			fprintf(out, "entries:      %u functions in %s, not loaded now\n", count,
				mods[k].path);
			continue;
		}
		for (uint32_t i = 0; i < count; i++)
			on += sites[first + i].patched;
		fprintf(out, "entries:      %u of %u functions patched in %s%s\n", on, count,
			mods[k].path, list ? "" : " (--status -v lists them and the refused)");
		if (!list || read_entries(pid, NULL, mods[k].path, 1, &fns) || fns.n != count) {
			entries_free(&fns);
			continue;
		}
		for (uint32_t i = 0; i < count; i++) {
			const struct entry *e = &fns.v[i];

			if (sites[first + i].patched)
				fprintf(out, "  %s\n", e->name);
			else if (!e->win && strncmp(e->refused, "it has a -pg site", 17))
				fprintf(out, "  %s: refused: %s\n", e->name, e->refused);
		}
		entries_free(&fns);
	}
}
