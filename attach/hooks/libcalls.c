// SPDX-License-Identifier: MIT
/*
 * Hooking library calls through the PLT and the GOT.
 *
 * Each import gets a 64-byte stub in a page mapped near its module, with
 * the head of every stub near its module (attach/tramp/tramp_abi.h), which
 * enters the trampoline and primes the return, then:
 *
 *   +34  ff 25 <disp32>       jmp *W      -> the function
 *   +40  saved GOT value      (GOT hook: W is here)
 *   +48  P: the trampoline entry the head calls (near_stub_target())
 *   +56  E: tp_ct_exit, where the function's return goes on
 *
 * The head's call ends at +10, so the site's key is stub + 5.  PLT hook:
 * the PLT entry's "jmp *got(%rip)" becomes "jmp stub" and W is the GOT
 * slot itself, which is never written: lazy binding goes on as if we
 * were not there (an unresolved slot still leads to the PLT's
 * push/jmp-PLT0 path and the dynamic linker fills the slot), and
 * --disable puts back the PLT bytes of the file, leaving the GOT as the
 * process made it.  GOT hook (GLOB_DAT of a function, resolved at
 * load time even under lazy binding): the slot's value moves to +40 and
 * the slot points at the stub; --disable puts the value back.  Both are
 * written through /proc/PID/mem, which also writes a RELRO (read-only)
 * GOT without an mprotect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach/inject.h"
#include "attach/hooks/libcalls.h"
#include "attach/hooks/near_stub.h"
#include "attach/log.h"
#include "attach/modules.h"
#include "attach/values/args_plan.h"

#define STUB_SIZE   NEAR_LIBCALL_SIZE
#define STUB_SHIFT  6u
#define STUB_KEY    TP_NS_KEY
#define STUB_JMP    TP_NS_BODY	/* jmp *W */
#define STUB_SAVED  NEAR_LIBCALL_SAVED
#define STUB_PTR    NEAR_LIBCALL_PTR
_Static_assert(STUB_SIZE == 1u << STUB_SHIFT, "stubs are 1 << STUB_SHIFT apart");
_Static_assert(STUB_SAVED == STUB_JMP + 6, "a GOT hook's jmp *W reads the word after it");
#define PAGE        4096ull
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

static int add_module(struct libcalls *lc, const struct libcall_mod *m)
{
	struct libcall_mod *v = reallocarray(lc->v, lc->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	lc->v = v;
	lc->v[lc->n++] = *m;
	return 0;
}

/* The imports of module @path, its file read at @file (or, NULL, found:
 * module_file()). */
static int read_imports(pid_t pid, const char *path, const char *file,
			struct import_list *imps)
{
	char found[300], err[256];
	int ret;

	if (!file) {
		if (module_file(pid, path, found, sizeof(found))) {
			pr_warn("%s: its file no longer matches its code: library calls left "
				"as they are", path);
			return -ESTALE;
		}
		file = found;
	}
	ret = imports_find(file, imps, err, sizeof(err));
	if (ret)
		pr_debug("%s: no library calls: %s", path, err);
	return ret;
}

int libcalls_plan(pid_t pid, int enabled, const struct site_filter *f,
		  const struct module_set *set, struct libcalls *lc)
{
	char exe[256];

	memset(lc, 0, sizeof(*lc));
	if (!enabled)
		return 0;
	module_exe(pid, exe, sizeof(exe));
	for (size_t i = 0; i < set->n; i++) {
		const struct module *m = &set->v[i];
		struct libcall_mod lm = { .bias = m->bias };

		/* The program, and every module traced through its sites. */
		if (m->changed || (!m->sites.n && strcmp(m->path, exe)) || !m->text_start)
			continue;
		snprintf(lm.path, sizeof(lm.path), "%s", m->path);
		if (read_imports(pid, m->path, m->file, &lm.imps) == -ENOMEM)
			goto nomem;
		if (!lm.imps.n) {
			imports_free(&lm.imps);
			continue;
		}
		lm.want = calloc(lm.imps.n, 1);
		if (!lm.want || add_module(lc, &lm)) {
			free(lm.want);
			imports_free(&lm.imps);
			goto nomem;
		}
		for (size_t j = 0; j < lm.imps.n; j++) {
			lm.want[j] = !f || site_filter_pass(f, lm.imps.v[j].name);
			lc->matched += lm.want[j];
		}
		lc->imports += lm.imps.n;
		if (lm.imps.no_plt)
			pr_info("%s: %zu imported functions have no PLT jump tattach "
				"knows: not traced", m->path, lm.imps.no_plt);
	}
	return 0;
nomem:
	libcalls_free(lc);
	return -ENOMEM;
}

void libcalls_free(struct libcalls *lc)
{
	for (size_t i = 0; i < lc->n; i++) {
		imports_free(&lc->v[i].imps);
		free(lc->v[i].want);
	}
	free(lc->v);
	memset(lc, 0, sizeof(*lc));
}

static const struct libcall_mod *find_mod(const struct libcalls *lc, const char *path,
					  uint64_t bias)
{
	for (size_t i = 0; lc && i < lc->n; i++)
		if (!strcmp(lc->v[i].path, path) && lc->v[i].bias == bias)
			return &lc->v[i];
	return NULL;
}

int libcalls_has(const struct libcalls *lc, const struct module *m)
{
	return find_mod(lc, m->path, m->bias) != NULL;
}

static void stub_bytes(uint8_t *b, uint64_t at, const struct import *im, uint64_t bias,
		       uint64_t enter, const struct near_targets *t, uint32_t index)
{
	int32_t disp = 0;	/* GOT hook: W is the saved value right after */

	memset(b, 0xcc, STUB_SIZE);
	near_stub_head(b, STUB_PTR, enter, t, index);
	if (im->hook == IMPORT_PLT)
		disp = (int32_t)((int64_t)(im->got + bias) - (int64_t)(at + STUB_JMP + 6));
	b[STUB_JMP] = 0xff;
	b[STUB_JMP + 1] = 0x25;
	memcpy(b + STUB_JMP + 2, &disp, 4);
	memset(b + STUB_SAVED, 0, 8);
}

/* Map, fill and seal the stubs of one module, sites @first on; their
 * address or 0. */
static uint64_t make_stubs(struct remote *r, struct ringfile *rf, const struct tat_module *tm,
			   const struct libcall_mod *lm, uint32_t first)
{
	uint64_t size = ALIGN_UP(lm->imps.n * STUB_SIZE, PAGE);
	uint64_t lo = lm->imps.lo + lm->bias, hi = lm->imps.hi + lm->bias, at, enter;
	struct near_targets t;
	struct maps maps;
	uint8_t *buf;
	int ret;

	if (tm->text_start < lo)
		lo = tm->text_start;
	if (tm->text_end > hi)
		hi = tm->text_end;
	if (proc_read_maps(r->held->pid, &maps))
		return 0;
	at = inject_map_near(r, &maps, lo, hi, size);
	proc_free_maps(&maps);
	if (!at)
		return 0;
	buf = calloc(1, size);
	if (!buf)
		return 0;
	near_stub_targets(rf, tm->tramp, &t);
	enter = near_stub_area(r, rf, &t, at, lm->imps.n * STUB_SIZE, STUB_SHIFT);
	for (size_t i = 0; i < lm->imps.n; i++)
		stub_bytes(buf + i * STUB_SIZE, at + i * STUB_SIZE, &lm->imps.v[i], lm->bias,
			   enter, &t, first + (uint32_t)i);
	ret = remote_write(r, at, buf, size);
	free(buf);
	if (!ret)
		ret = (int)remote_syscall(r, SYS_mprotect, at, size, PROT_READ | PROT_EXEC,
					  0, 0, 0);
	return ret ? 0 : at;
}

int libcalls_prepare(struct remote *r, struct ringfile *rf, const struct libcalls *lc)
{
	struct tat_ring_header *h = rf->hdr;
	struct tat_site *sites = ringfile_sites(rf);

	for (size_t i = 0; i < lc->n; i++) {
		const struct libcall_mod *lm = &lc->v[i];
		int k = ringfile_module_index(rf, lm->path, lm->bias);
		const struct tat_module *tm;
		uint64_t stubs;
		uint32_t count;

		if (k < 0 || ringfile_site_run(rf, (uint32_t)k, TAT_SITE_LIBCALL, &count))
			continue;	/* not registered (table full), or done */
		tm = &ringfile_modules(rf)[k];
		if (h->site_count + lm->imps.n > h->site_cap) {
			pr_warn("%s: site table full (%u): its library calls are not traced",
				lm->path, h->site_cap);
			continue;
		}
		stubs = make_stubs(r, rf, tm, lm, h->site_count);
		if (!stubs) {
			pr_warn("%s: no room within 2 GiB of it for its library call stubs: "
				"not traced", lm->path);
			continue;
		}
		for (size_t j = 0; j < lm->imps.n; j++) {
			struct tat_site *s = &sites[h->site_count + j];

			memset(s, 0, sizeof(*s));
			s->addr = stubs + j * STUB_SIZE + STUB_KEY;
			s->module = (uint32_t)k;
			s->kind = TAT_SITE_LIBCALL;
		}
		h->site_count += (uint32_t)lm->imps.n;
	}
	return 0;
}

enum outcome { SAME, DONE, MISMATCH, UNREACHABLE, FAILED };

static enum outcome set_plt(struct remote *r, const struct import *im, uint64_t bias,
			    uint64_t stub, int want, int *patched)
{
	uint64_t addr = im->plt + bias;
	uint8_t cur[8], on[8];
	int is_on, is_off;

	if (remote_read(r, addr, cur, im->len))
		return FAILED;
	if (imports_plt_bytes(addr, im->len, stub, on))
		return UNREACHABLE;
	is_on = !memcmp(cur, on, im->len);
	is_off = !memcmp(cur, im->orig, im->len);
	*patched = is_on;
	if (!is_on && !is_off)
		return MISMATCH;
	if (want == is_on)
		return SAME;
	if (remote_write(r, addr, want ? on : im->orig, im->len))
		return FAILED;
	*patched = want;
	return DONE;
}

static enum outcome set_got(struct remote *r, const struct import *im, uint64_t bias,
			    uint64_t stub, int want, int *patched)
{
	uint64_t slot = im->got + bias, cur, saved;

	if (remote_read(r, slot, &cur, sizeof(cur)))
		return FAILED;
	*patched = cur == stub;
	if (want == *patched)
		return SAME;
	if (want) {
		if (!cur)
			return SAME;	/* a weak import nobody defines: never called */
		/* The value first: the slot may be called as soon as it changes. */
		if (remote_write(r, stub + STUB_SAVED, &cur, sizeof(cur)) ||
		    remote_write(r, slot, &stub, sizeof(stub)))
			return FAILED;
	} else {
		if (remote_read(r, stub + STUB_SAVED, &saved, sizeof(saved)) ||
		    remote_write(r, slot, &saved, sizeof(saved)))
			return FAILED;
	}
	*patched = want;
	return DONE;
}

/* The imports of a module the ring knows; from @lc, or from its file. */
static const struct import_list *imports_of(pid_t pid, const struct tat_module *tm,
					    const struct libcall_mod *lm,
					    struct import_list *own)
{
	if (lm)
		return &lm->imps;
	if (read_imports(pid, tm->path, NULL, own))
		return NULL;
	return own;
}

int libcalls_apply(struct remote *r, struct ringfile *rf, const struct libcalls *lc,
		   const struct maps *maps, struct libcalls_report *rep)
{
	const struct tat_module *mods = ringfile_modules(rf);
	struct tat_site *sites = ringfile_sites(rf);
	int ret = 0;

	memset(rep, 0, sizeof(*rep));
	for (uint32_t k = 0; k < rf->hdr->module_count && !ret; k++) {
		const struct tat_module *tm = &mods[k];
		const struct libcall_mod *lm = find_mod(lc, tm->path, tm->load_bias);
		const struct import_list *imps;
		struct import_list own = { 0 };
		uint32_t count, first = ringfile_site_run(rf, k, TAT_SITE_LIBCALL, &count);

		if (!first)
			continue;
		if (maps && !module_mapped(maps, tm)) {
			/* dlclose()d: its PLT and GOT went with it */
			for (uint32_t i = 0; i < count; i++)
				sites[first + i].patched = 0;
			continue;
		}
		imps = imports_of(r->held->pid, tm, lm, &own);
		if (!imps || imps->n != count) {
			pr_warn("%s: its imports no longer match the ring's: its library "
				"calls are left as they are", tm->path);
			imports_free(&own);
			continue;
		}
		for (uint32_t i = 0; i < count && !ret; i++) {
			struct tat_site *s = &sites[first + i];
			const struct import *im = &imps->v[i];
			uint64_t stub = s->addr - STUB_KEY;
			int want = lm ? lm->want[i] : 0, patched = s->patched;
			enum outcome o;

			o = im->hook == IMPORT_PLT
				? set_plt(r, im, tm->load_bias, stub, want, &patched)
				: set_got(r, im, tm->load_bias, stub, want, &patched);
			s->patched = (uint8_t)patched;
			rep->hooked += patched;
			rep->changed += o == DONE;
			rep->unreachable += o == UNREACHABLE;
			if (o == MISMATCH && ++rep->mismatched <= 5)
				pr_warn("%s: the PLT entry of %s holds unexpected bytes: "
					"left alone", tm->path, im->name);
			if (o == FAILED) {
				pr_err("%s: rewriting the call path of %s failed", tm->path,
				       im->name);
				ret = -EIO;
			}
		}
		imports_free(&own);
	}
	return ret;
}

int libcalls_differs(struct ringfile *rf, const struct libcalls *lc)
{
	const struct tat_module *mods = ringfile_modules(rf);
	const struct tat_site *sites = ringfile_sites(rf);

	for (size_t i = 0; lc && i < lc->n; i++) {
		int k = ringfile_module_index(rf, lc->v[i].path, lc->v[i].bias);
		uint32_t count;

		if (k < 0 || !ringfile_site_run(rf, (uint32_t)k, TAT_SITE_LIBCALL, &count))
			return 1;
	}
	for (uint32_t k = 0; k < rf->hdr->module_count; k++) {
		const struct libcall_mod *lm = find_mod(lc, mods[k].path, mods[k].load_bias);
		uint32_t count, first = ringfile_site_run(rf, k, TAT_SITE_LIBCALL, &count);

		for (uint32_t i = 0; first && i < count; i++) {
			int want = lm && i < lm->imps.n ? lm->want[i] : 0;

			if (sites[first + i].patched != want)
				return 1;
		}
	}
	return 0;
}

void libcalls_status(FILE *out, struct ringfile *rf, pid_t pid, const struct maps *maps,
		     int list)
{
	const struct tat_module *mods = ringfile_modules(rf);
	const struct tat_site *sites = ringfile_sites(rf);

	for (uint32_t k = 0; k < rf->hdr->module_count && k < rf->hdr->module_cap; k++) {
		struct import_list imps = { 0 };
		uint32_t count, first = ringfile_site_run(rf, k, TAT_SITE_LIBCALL, &count), on = 0;

		if (!first)
			continue;
		if (maps && !module_mapped(maps, &mods[k])) {
			fprintf(out, "library calls: %u in %s, not loaded now\n", count,
				mods[k].path);
			continue;
		}
		for (uint32_t i = 0; i < count; i++)
			on += sites[first + i].patched;
		fprintf(out, "library calls: %u of %u hooked in %s%s\n", on, count,
			mods[k].path, list ? "" : " (--status -v lists them)");
		if (!list || read_imports(pid, mods[k].path, NULL, &imps) || imps.n != count) {
			imports_free(&imps);
			continue;
		}
		for (uint32_t i = 0; i < count; i++)
			if (sites[first + i].patched)
				fprintf(out, "  %s (%s)\n", imps.v[i].name,
					imps.v[i].hook == IMPORT_PLT ? "PLT" : "GOT");
		imports_free(&imps);
	}
}

uint64_t libcalls_saved_of(struct ringfile *rf, uint64_t v)
{
	const struct tat_site *sites = ringfile_sites(rf);

	for (uint32_t i = 1; i < rf->hdr->site_count; i++)
		if (sites[i].kind == TAT_SITE_LIBCALL && sites[i].addr == v + STUB_KEY)
			return v + STUB_SAVED;
	return 0;
}

/* --libcalls with -A/-R: the stub's pointer P goes to tp_fentry_args
 * for the imports whose arguments or return value are recorded, and back
 * (near_stub_target()). */
size_t libcalls_set_entries(struct remote *r, struct ringfile *rf)
{
	const struct tat_argspec *table = args_table(rf);
	const struct tat_module *mods = ringfile_modules(rf);
	const struct tat_site *sites = ringfile_sites(rf);
	struct tp_near_area areas[TP_NS_AREAS];
	size_t written = 0;

	if (near_stub_areas(r, rf, areas))
		return 0;
	/* module by module, its library calls' run: the process is held, and
	 * a program's own sites (100 000 of them) need not be gone over */
	for (uint32_t k = 0; k < rf->hdr->module_count; k++) {
		uint32_t count, first = ringfile_site_run(rf, k, TAT_SITE_LIBCALL, &count);
		const struct tat_module *tm = &mods[k];
		struct near_targets t;

		if (!first)
			continue;
		near_stub_targets(rf, tm->tramp, &t);
		for (uint32_t i = first; i < first + count; i++) {
			uint64_t stub = sites[i].addr - STUB_KEY, cur, want;

			want = near_stub_target(&t, areas, stub, args_site_on(table, i));
			if (remote_read(r, stub + STUB_PTR, &cur, sizeof(cur)) || cur == want ||
			    !near_stub_ours(&t, cur))
				continue;
			if (remote_write(r, stub + STUB_PTR, &want, sizeof(want)))
				pr_warn("%s: could not point a library call stub at the "
					"trampoline entry for -A/-R", tm->path);
			else
				written++;
		}
	}
	return written;
}
