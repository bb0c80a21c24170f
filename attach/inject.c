// SPDX-License-Identifier: MIT
/*
 * What tattach leaves in the target (see attach/tramp/tramp_abi.h):
 *
 *   live page     1 page, private, MADV_WIPEONFORK: the ring address
 *   state         private RW: struct tp_state, thread slots, site hash
 *   ring          the ring file, MAP_SHARED
 *   copy k        trampoline code (R-X) + its config page (R--) + the
 *                 call-through stubs of its sites (R-X), placed within
 *                 rel32 reach of the modules it serves
 *
 * Everything is made with remote mmap/mprotect/madvise and filled through
 * /proc/PID/mem; no mapping is ever writable and executable at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "attach/inject.h"
#include "attach/process/tcb.h"
#include "attach/log.h"
#include "attach/phase_time.h"
#include "attach/process/vdso.h"
#include "attach/tramp/tramp_abi.h"
#include "attach/tramp/tramp_blob.h"
#include "patcher/patch.h"

#define PAGE 4096ull

/* the state fits in the first page of the private mapping: threads follow */
_Static_assert(sizeof(struct tp_state) <= 4096, "struct tp_state outgrew its page");
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define REACH ((int64_t)0x7fff0000)	/* rel32 reach, less a margin */

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static uint64_t code_size(void)
{
	return ALIGN_UP(sizeof(tramp_code), PAGE);
}

/* tramp.lds: the config page right after the code, then the stubs */
_Static_assert(ALIGN_UP(sizeof(tramp_code), PAGE) == TRAMP_CODE_OFF_CONFIG_AREA &&
	       TRAMP_CODE_OFF_CT_STUBS == TRAMP_CODE_OFF_CONFIG_AREA + PAGE,
	       "the trampoline's layout is not the one tramp.lds makes");
/* entry.S STUB_ENTER: a stub's index is its offset shifted right by 5 */
_Static_assert(TP_CT_STUB == 1 << 5, "entry.S finds a stub's site with shr $5");

/* One stub per site the ring can hold: the stubs of a copy's sites are
 * at their site indexes (tramp_abi.h), untouched pages cost nothing. */
static uint64_t stubs_size(const struct tat_ring_header *h)
{
	return ALIGN_UP((uint64_t)TP_CT_STUB * h->site_cap, PAGE);
}

static uint64_t copy_size(const struct tat_ring_header *h)
{
	return code_size() + PAGE + stubs_size(h);	/* code, config, stubs */
}

static unsigned log2_u64(uint64_t v)
{
	unsigned b = 0;

	while ((1ull << b) < v)
		b++;
	return b;
}

static uint64_t hash_entries(const struct tat_ring_header *h)
{
	return 2ull * h->site_cap;	/* load factor at most 1/2 */
}

static long rmmap(struct remote *r, uint64_t addr, uint64_t len, int prot,
		  int flags, int fd)
{
	return remote_syscall(r, SYS_mmap, addr, len, prot, flags, (uint64_t)fd, 0);
}

int inject_setup(struct remote *r, struct ringfile *rf)
{
	struct tat_ring_header *h = rf->hdr;
	uint64_t threads_size = (uint64_t)h->max_threads * sizeof(struct tp_thread);
	uint64_t state_size = PAGE + ALIGN_UP(threads_size, PAGE) +
			      ALIGN_UP(hash_entries(h) * sizeof(struct tp_hent), PAGE);
	struct tp_state st;
	long live, fd, map, state;
	int ret;

	/* The live page doubles as scratch space for the file name. */
	live = rmmap(r, 0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (live < 0 && live > -4096)
		return (int)live;
	ret = remote_write(r, live + 64, rf->path, strlen(rf->path) + 1);
	if (ret)
		return ret;
	fd = remote_syscall(r, SYS_openat, (uint64_t)AT_FDCWD, live + 64,
			    O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0, 0, 0);
	if (fd < 0) {
		pr_err("the target cannot open %s: %s", rf->path, strerror((int)-fd));
		return (int)fd;
	}
	map = rmmap(r, 0, rf->size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd);
	remote_syscall(r, SYS_close, fd, 0, 0, 0, 0, 0);
	if (map < 0 && map > -4096)
		return (int)map;
	ret = (int)remote_syscall(r, SYS_madvise, live, PAGE, MADV_WIPEONFORK, 0, 0, 0);
	if (ret) {
		pr_err("madvise(MADV_WIPEONFORK) in the target: %s", strerror(-ret));
		return ret;
	}
	state = rmmap(r, 0, state_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
	if (state < 0 && state > -4096)
		return (int)state;

	memset(&st, 0, sizeof(st));
	st.magic = TP_STATE_MAGIC;
	st.live = live;
	st.threads = state + PAGE;
	st.site_hash = state + PAGE + ALIGN_UP(threads_size, PAGE);
	st.thread_bits = log2_u64(h->max_threads);
	st.site_bits = log2_u64(hash_entries(h));
	st.ring_shift = h->ring_shift;
	st.thread_shift = 63 - st.thread_bits;
	st.site_shift = 63 - st.site_bits;
	st.ring_mask = (1ull << h->ring_shift) - 1;
	phase_mark("inject: maps (live, ring, state)");
	st.tid_offset = inject_find_tid_offset(r);
	phase_mark("inject: tid offset");
	st.thread_off = h->thread_off;
	st.data_off = h->data_off;
	st.frames_off = h->frames_off;
	st.stats_index_off = h->stats_index_off;
	st.stats_shared_off = h->stats_shared_off;
	st.stats_off = h->stats_off;
	st.stats_cap = h->stats_cap;
	st.site_cap = h->site_cap;
	st.ct_off = TRAMP_CODE_OFF_CT_STUBS - TRAMP_CODE_OFF_RETURN;
	st.ct_len = (uint64_t)TP_CT_STUB * h->site_cap;
	st.ct_synced = 1;
	/* What a fork child needs to make its own ring beside ours
	 * (tramp_fork.c): an absolute path, the child's cwd may differ. */
	st.ring_addr = (uint64_t)map;
	st.ring_pid = h->pid;
	{
		char *abs = realpath(rf->path, NULL);

		snprintf(st.ring_path, sizeof(st.ring_path), "%s", abs ? abs : rf->path);
		free(abs);
	}
	st.args_off = h->args_off;	/* tattach -A/-R */
	/* 2^32 * 1e9 / tsc_hz: below 2^32 for any clock faster than 1 GHz
	 * (the TSC), exactly 2^32 for the vDSO's nanoseconds. */
	st.ns_mult = h->tsc_hz ? (uint64_t)(((unsigned __int128)1000000000ull << 32) /
					     h->tsc_hz) : 1ull << 32;
	if (h->clock == TAT_CLOCK_MONO) {
		ret = vdso_clock_gettime(r, &st.clock_gettime);
		if (ret) {
			pr_err("no clock_gettime in the target's vDSO for --clock mono");
			return ret;
		}
	}
	ret = remote_write(r, state, &st, sizeof(st));
	if (ret)
		return ret;

	h->live_addr = live;
	h->private_addr = state;
	h->private_size = state_size;
	h->map_addr = map;
	h->tid_offset = st.tid_offset;
	h->tramp_size = copy_size(h);
	/* Last: from here on the trampoline records (once sites call it). */
	{
		char zero[256] = { 0 };
		uint64_t ring = map;

		ret = remote_write(r, live + 64, zero, sizeof(zero));
		if (!ret)
			ret = remote_write(r, live, &ring, sizeof(ring));
	}
	return ret;
}

static int mapped_at(const struct maps *maps, uint64_t addr)
{
	const struct map *m = maps_find(maps, addr);

	return m && m->start == addr;
}

int inject_present(const struct ringfile *rf, const struct maps *maps)
{
	const struct tat_ring_header *h = rf->hdr;
	const struct map *ring = maps_find(maps, h->map_addr);
	struct stat st;

	if (h->state == TAT_STATE_NEW)
		return 0;
	/* By inode: the path in maps is resolved, ours may hold a symlink. */
	if (!ring || ring->start != h->map_addr || fstat(rf->fd, &st) < 0 ||
	    ring->inode != (uint64_t)st.st_ino)
		return 0;
	if (!mapped_at(maps, h->live_addr) || !mapped_at(maps, h->private_addr))
		return 0;
	for (uint32_t i = 0; i < h->tramp_count && i < TAT_TRAMP_MAX; i++)
		if (!mapped_at(maps, h->tramp_addr[i]))
			return 0;
	return 1;
}

/* Can every address in [lo, hi) and [at, at + size) reach each other? */
static int reaches_sized(uint64_t at, uint64_t size, uint64_t lo, uint64_t hi)
{
	int64_t a = (int64_t)(at + size) - (int64_t)lo;
	int64_t b = (int64_t)hi - (int64_t)at;

	return a < REACH && b < REACH && a > -REACH && b > -REACH;
}

static int reaches(const struct tat_ring_header *h, uint64_t copy, uint64_t lo, uint64_t hi)
{
	return reaches_sized(copy, copy_size(h), lo, hi);
}

uint64_t inject_tramp_entry(const struct ringfile *rf, unsigned idx, unsigned kind)
{
	return rf->hdr->tramp_addr[idx] +
	       (kind == TAT_SITE_MCOUNT ? TRAMP_CODE_OFF_MCOUNT : TRAMP_CODE_OFF_FENTRY);
}

uint64_t inject_tramp_near_enter(const struct ringfile *rf, unsigned idx)
{
	return rf->hdr->tramp_addr[idx] + TRAMP_CODE_OFF_NS_ENTER;
}

uint64_t inject_tramp_ct_exit(const struct ringfile *rf, unsigned idx)
{
	return rf->hdr->tramp_addr[idx] + TRAMP_CODE_OFF_CT_EXIT;
}

int inject_call_through(void)
{
	const char *env = getenv("TATTACH_CALL_THROUGH");

	return !env || strcmp(env, "0");
}

uint64_t inject_ct_stub(struct ringfile *rf, uint32_t site)
{
	const struct tat_site *s = &ringfile_sites(rf)[site];
	const struct tat_module *m = &ringfile_modules(rf)[s->module];

	return rf->hdr->tramp_addr[m->tramp] + TRAMP_CODE_OFF_CT_STUBS + (uint64_t)TP_CT_STUB * site;
}

int inject_ct_site(const struct tat_site *s)
{
	/* 6 bytes: a call through the GOT (ff 15: -mfentry, or -pg in a
	 * PIE) or ld's relaxed 67 e8; its "jmp; nop" leaves the nop at +5
	 * where the stub goes on into the body, as the call's return did */
	return (s->kind == TAT_SITE_FENTRY || s->kind == TAT_SITE_MCOUNT) &&
	       (s->len == 5 || s->len == 6);
}

uint64_t inject_tramp_args_entry(const struct ringfile *rf, unsigned idx, unsigned kind)
{
	return rf->hdr->tramp_addr[idx] +
	       (kind == TAT_SITE_MCOUNT ? TRAMP_CODE_OFF_MCOUNT_ARGS : TRAMP_CODE_OFF_FENTRY_ARGS);
}

static int map_cmp(const void *a, const void *b)
{
	const struct map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The free address nearest to [lo, hi) where a copy fits with a guard page
 * on both sides and reaches all of [lo, hi); 0 if there is none.  @skip is
 * a candidate known to be taken.
 */
static uint64_t nearest_gap_sized(struct maps *maps, uint64_t lo, uint64_t hi,
				  uint64_t skip, uint64_t size)
{
	uint64_t prev_end = 0x10000, best = 0, best_dist = UINT64_MAX;

	qsort(maps->v, maps->n, sizeof(*maps->v), map_cmp);
	for (size_t i = 0; i <= maps->n; i++) {
		uint64_t gap_lo = prev_end;
		uint64_t gap_hi = i < maps->n ? maps->v[i].start : 0x7ffffffff000ull;
		uint64_t cands[2];

		if (i < maps->n)
			prev_end = maps->v[i].end;
		if (gap_hi < gap_lo + size + 2 * PAGE)
			continue;
		cands[0] = gap_hi - size - PAGE;
		cands[1] = gap_lo + PAGE;
		for (int k = 0; k < 2; k++) {
			uint64_t c = cands[k];
			uint64_t d = c > hi ? c - hi : lo > c ? lo - c : 0;

			if (c != skip && reaches_sized(c, size, lo, hi) && d < best_dist) {
				best_dist = d;
				best = c;
			}
		}
	}
	return best;
}

static uint64_t nearest_gap(const struct tat_ring_header *h, struct maps *maps, uint64_t lo,
			    uint64_t hi, uint64_t skip)
{
	return nearest_gap_sized(maps, lo, hi, skip, copy_size(h));
}

int inject_can_reach(const struct ringfile *rf, struct maps *maps, uint64_t lo, uint64_t hi)
{
	const struct tat_ring_header *h = rf->hdr;
	uint32_t copies = h->state == TAT_STATE_NEW ? 0 : h->tramp_count;

	for (uint32_t i = 0; i < copies && i < TAT_TRAMP_MAX; i++)
		if (reaches(h, h->tramp_addr[i], lo, hi))
			return 1;
	return nearest_gap(h, maps, lo, hi, 0) != 0;
}

/* Map a copy at the free range nearest to [lo, hi); its address or 0. */
static uint64_t place_copy(struct remote *r, const struct tat_ring_header *h,
			   struct maps *maps, uint64_t lo, uint64_t hi)
{
	uint64_t cand = 0;

	for (int tries = 0; tries < 16; tries++) {
		long got;

		cand = nearest_gap(h, maps, lo, hi, cand);
		if (!cand)
			return 0;
		/* NORESERVE: the stubs of sites never traced are never touched */
		got = rmmap(r, cand, copy_size(h), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1);
		if (got == (long)cand)
			return cand;
		if (got >= 0)	/* an old kernel ignored the hint: give it back */
			remote_syscall(r, SYS_munmap, (uint64_t)got, copy_size(h), 0, 0, 0, 0);
		/* taken meanwhile (EEXIST): try the next best */
	}
	return 0;
}

uint64_t inject_map_near(struct remote *r, struct maps *maps, uint64_t lo, uint64_t hi,
			 uint64_t size)
{
	uint64_t cand = 0;

	for (int tries = 0; tries < 16; tries++) {
		long got;

		cand = nearest_gap_sized(maps, lo, hi, cand, size);
		if (!cand)
			return 0;
		got = rmmap(r, cand, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1);
		if (got == (long)cand)
			return cand;
		if (got >= 0)
			remote_syscall(r, SYS_munmap, (uint64_t)got, size, 0, 0, 0, 0);
	}
	return 0;
}

int inject_tramp_for(struct remote *r, struct ringfile *rf, struct maps *maps,
		     uint64_t lo, uint64_t hi)
{
	struct tat_ring_header *h = rf->hdr;
	struct tp_config cfg = { TP_CONFIG_MAGIC, h->private_addr };
	uint64_t addr;
	int ret;

	for (uint32_t i = 0; i < h->tramp_count; i++)
		if (reaches(h, h->tramp_addr[i], lo, hi))
			return (int)i;
	if (h->tramp_count >= TAT_TRAMP_MAX)
		return -ENOSPC;
	addr = place_copy(r, h, maps, lo, hi);
	if (!addr)
		return -ENOSPC;
	ret = remote_write(r, addr, tramp_code, sizeof(tramp_code));
	if (!ret)
		ret = remote_write(r, addr + code_size(), &cfg, sizeof(cfg));
	if (!ret)
		ret = (int)remote_syscall(r, SYS_mprotect, addr, code_size(),
					  PROT_READ | PROT_EXEC, 0, 0, 0);
	if (!ret)
		ret = (int)remote_syscall(r, SYS_mprotect, addr + code_size(), PAGE,
					  PROT_READ, 0, 0, 0);
	if (!ret)	/* written through /proc/PID/mem, as the sites are */
		ret = (int)remote_syscall(r, SYS_mprotect, addr + code_size() + PAGE,
					  stubs_size(h), PROT_READ | PROT_EXEC, 0, 0, 0);
	if (!ret) {
		/* before any site calls this copy */
		uint64_t ret_addr = addr + TRAMP_CODE_OFF_RETURN;

		ret = remote_write(r, h->private_addr +
				   offsetof(struct tp_state, tramp_return[h->tramp_count]),
				   &ret_addr, sizeof(ret_addr));
	}
	if (ret)
		return ret;
	h->tramp_addr[h->tramp_count] = addr;
	return (int)h->tramp_count++;
}

/*
 * Sites are only ever appended to the ring's site table, and linear probing
 * never moves an entry once placed, so the table built from sites 1..N
 * holds the table of 1..M (M < N) unchanged: only the pages holding the
 * entries of sites M..N-1 differ from what the target has.  Writing just
 * those keeps the process stopped for microseconds instead of the
 * milliseconds a whole table (8 MiB at 100k sites) takes through
 * /proc/PID/mem.
 */
static int write_dirty_pages(struct remote *r, uint64_t remote, const struct tp_hent *tab,
			     const uint8_t *dirty, uint64_t pages, uint64_t bytes)
{
	for (uint64_t p = 0; p < pages;) {
		uint64_t q = p, lo, hi;
		int ret;

		if (!dirty[p]) {
			p++;
			continue;
		}
		while (q < pages && dirty[q])
			q++;
		lo = p * PAGE;
		hi = q * PAGE < bytes ? q * PAGE : bytes;
		ret = remote_write_data(r, remote + lo, (const char *)tab + lo, hi - lo);
		if (ret)
			return ret;
		p = q;
	}
	return 0;
}

/* Put @addr (site @site) into the open-addressing table, as tramp.c finds it. */
static uint64_t hash_insert(struct tp_hent *tab, uint64_t n, unsigned bits, uint64_t addr,
			    uint64_t site)
{
	uint64_t k = hash64(addr, bits);

	while (tab[k].addr && tab[k].addr != addr)
		k = (k + 1) & (n - 1);
	tab[k].addr = addr;
	tab[k].site = site;
	return k;
}

/* Where @addr sits in @tab (it is there). */
static uint64_t hash_slot(const struct tp_hent *tab, uint64_t n, unsigned bits, uint64_t addr)
{
	uint64_t k = hash64(addr, bits);

	while (tab[k].addr && tab[k].addr != addr)
		k = (k + 1) & (n - 1);
	return k;
}

void inject_hash_free(struct site_hash *sh)
{
	free(sh->tab);
	free(sh->addr);
	memset(sh, 0, sizeof(*sh));
}

/*
 * The table register_module() (session.c) will make: the ring's sites,
 * then the sites of every module of @set not registered yet, in the same
 * order and with the same refusals (module or site table full).
 */
int inject_hash_predict(struct ringfile *rf, const struct module_set *set,
			struct site_hash *sh)
{
	const struct tat_ring_header *h = rf->hdr;
	const struct tat_module *mods = ringfile_modules(rf);
	const struct tat_site *sites = ringfile_sites(rf);
	uint64_t n = hash_entries(h), count = h->site_count ? h->site_count : 1;
	uint32_t nmods = h->module_count;
	unsigned bits = log2_u64(n);

	memset(sh, 0, sizeof(*sh));
	sh->n = n;
	sh->tab = calloc(n, sizeof(*sh->tab));
	sh->addr = calloc(h->site_cap + 1, sizeof(*sh->addr));
	if (!sh->tab || !sh->addr) {
		inject_hash_free(sh);
		return -ENOMEM;
	}
	for (uint32_t i = 1; i < count && i <= h->site_cap; i++)
		sh->addr[i] = sites[i].addr;
	for (size_t j = 0; j < set->n; j++) {
		const struct module *m = &set->v[j];
		uint32_t idx;

		if (!m->sites.n)
			continue;
		for (idx = 0; idx < nmods && idx < h->module_cap; idx++)
			if (!strcmp(mods[idx].path, m->path) && mods[idx].load_bias == m->bias)
				break;
		if (idx < nmods || nmods >= h->module_cap || count + m->sites.n > h->site_cap)
			continue;
		for (size_t i = 0; i < m->sites.n; i++)
			sh->addr[count + i] = m->sites.v[i].vaddr + m->bias;
		count += m->sites.n;
		nmods++;
	}
	for (uint32_t i = 1; i < count; i++)
		hash_insert(sh->tab, n, bits, sh->addr[i], i);
	sh->count = (uint32_t)count;
	return 0;
}

/* Does @pre hold exactly the ring's sites, in the ring's order? */
static int prediction_holds(const struct site_hash *pre, struct ringfile *rf)
{
	const struct tat_site *sites = ringfile_sites(rf);

	if (!pre || !pre->tab || pre->count != rf->hdr->site_count ||
	    pre->n != hash_entries(rf->hdr))
		return 0;
	for (uint32_t i = 1; i < pre->count; i++)
		if (pre->addr[i] != sites[i].addr)
			return 0;
	return 1;
}

int inject_sync_sites(struct remote *r, struct ringfile *rf)
{
	return inject_sync_sites_with(r, rf, NULL);
}

/* The stub at @at of the fentry site at @site in copy @copy (tramp_abi.h):
 * call tp_ct_enter; call site + 5; jmp tp_ct_exit.  Returns 0, or
 * -ERANGE when a rel32 cannot reach. */
static int ct_stub_bytes(uint64_t at, uint64_t site, uint64_t copy, uint8_t *out)
{
	if (patch_bytes_enabled(at, 5, copy + TRAMP_CODE_OFF_CT_ENTER, out) ||
	    patch_bytes_enabled(at + 5, 5, site + 5, out + 5) ||
	    patch_bytes_jmp(at + TP_CT_RET, 5, copy + TRAMP_CODE_OFF_CT_EXIT, out + TP_CT_RET))
		return -ERANGE;
	return 0;
}

/* The stub at @at of the -pg site at @site in copy @copy (tramp_abi.h):
 * call tp_pg_enter; call +15; jmp tp_ct_exit; movb $0,(%rsp); lea
 * 8(%rsp),%rsp; jmp site + 5.  Returns 0, or -ERANGE when a rel32 cannot
 * reach. */
static int pg_stub_bytes(uint64_t at, uint64_t site, uint64_t copy, uint8_t *out)
{
	static const uint8_t spoil_drop[] = {
		0xc6, 0x04, 0x24, 0x00,		/* movb $0, (%rsp) */
		0x48, 0x8d, 0x64, 0x24, 0x08,	/* lea 8(%rsp), %rsp */
	};

	_Static_assert(TP_CT_RET + 5 + sizeof(spoil_drop) == TP_PG_BODY, "tramp_abi.h");
	memcpy(out + TP_CT_RET + 5, spoil_drop, sizeof(spoil_drop));
	if (patch_bytes_enabled(at, 5, copy + TRAMP_CODE_OFF_PG_ENTER, out) ||
	    patch_bytes_enabled(at + 5, 5, at + TP_CT_RET + 5, out + 5) ||
	    patch_bytes_jmp(at + TP_CT_RET, 5, copy + TRAMP_CODE_OFF_CT_EXIT, out + TP_CT_RET) ||
	    patch_bytes_jmp(at + TP_PG_BODY, 5, site + 5, out + TP_PG_BODY))
		return -ERANGE;
	return 0;
}

int inject_ct_stub_bytes(struct ringfile *rf, uint32_t site, uint8_t out[TP_CT_STUB])
{
	const struct tat_site *s = &ringfile_sites(rf)[site];
	const struct tat_module *m = &ringfile_modules(rf)[s->module];
	uint64_t at = inject_ct_stub(rf, site), copy = rf->hdr->tramp_addr[m->tramp];
	int ret;

	memset(out, 0xcc, TP_CT_STUB);
	if (!inject_ct_site(s) || m->tramp >= rf->hdr->tramp_count || site >= rf->hdr->site_cap)
		return -EINVAL;
	ret = s->kind == TAT_SITE_MCOUNT ? pg_stub_bytes(at, s->addr, copy, out) :
					   ct_stub_bytes(at, s->addr, copy, out);
	if (ret)
		memset(out, 0xcc, TP_CT_STUB);
	return ret;
}

/*
 * The call-through stubs of the sites added since the last sync
 * (tp_state.ct_synced on), written before any site jumps to them.  A stub
 * never changes once written: it depends on its site's address and copy
 * only.  The sites of one copy that follow each other in the site table
 * have their stubs one after the other: one write per run.  A site that
 * cannot have one gets int3s there, and keeps its call (rewrite.c asks
 * inject_ct_stub_bytes() the same question).
 */
static int sync_stubs(struct remote *r, struct ringfile *rf, struct tp_state *st)
{
	const struct tat_ring_header *h = rf->hdr;
	const struct tat_site *sites = ringfile_sites(rf);
	const struct tat_module *mods = ringfile_modules(rf);
	uint32_t count = h->site_count < h->site_cap ? h->site_count : h->site_cap;
	uint32_t i = st->ct_synced >= 1 && st->ct_synced <= count ? (uint32_t)st->ct_synced : 1;
	uint8_t *buf = NULL;
	int ret = 0;

	if (!st->ct_len || i >= count)
		return 0;
	buf = malloc((size_t)(count - i) * TP_CT_STUB);
	if (!buf)
		return -ENOMEM;
	while (i < count && !ret) {
		uint32_t tramp = mods[sites[i].module].tramp, j = i, any = 0;

		/* a module without its copy yet: its stubs, and the later
		 * sites', at the next sync */
		if (tramp >= h->tramp_count)
			break;
		for (; j < count && mods[sites[j].module].tramp == tramp; j++)
			any |= inject_ct_stub_bytes(rf, j, buf + (size_t)(j - i) * TP_CT_STUB) == 0;
		if (any)
			ret = remote_write(r, inject_ct_stub(rf, i), buf,
					   (size_t)(j - i) * TP_CT_STUB);
		i = j;
	}
	free(buf);
	if (!ret) {
		st->ct_synced = i;
		ret = remote_write(r, h->private_addr + offsetof(struct tp_state, ct_synced),
				   &st->ct_synced, sizeof(st->ct_synced));
	}
	phase_mark("call-through stubs");
	return ret;
}

int inject_sync_sites_with(struct remote *r, struct ringfile *rf, const struct site_hash *pre)
{
	struct tat_ring_header *h = rf->hdr;
	const struct tat_site *sites = ringfile_sites(rf);
	uint64_t n = hash_entries(h);
	uint64_t bytes = n * sizeof(struct tp_hent), pages = ALIGN_UP(bytes, PAGE) / PAGE;
	unsigned bits = log2_u64(n);
	uint64_t synced, count = h->site_count;
	struct tp_state st;
	struct tp_hent *tab = NULL;
	const struct tp_hent *use;
	uint8_t *dirty;
	int ret;

	ret = remote_read(r, h->private_addr, &st, sizeof(st));
	if (ret)
		return ret;
	if (st.magic != TP_STATE_MAGIC || st.site_bits != bits)
		return -EBADMSG;
	ret = sync_stubs(r, rf, &st);
	if (ret)
		return ret;
	/* Nothing added since the last enable: the target's table is whole. */
	synced = st.hash_synced >= 1 && st.hash_synced <= count ? st.hash_synced : 1;
	if (synced == count && st.hash_synced == count)
		return 0;
	dirty = calloc(pages, 1);
	if (!dirty)
		return -ENOMEM;
	if (prediction_holds(pre, rf)) {
		/* Built before the process was stopped (8 ms at 100k sites). */
		use = pre->tab;
		if (synced == 1)
			memset(dirty, 1, pages);
		else
			for (uint64_t i = synced; i < count; i++)
				dirty[hash_slot(use, n, bits, sites[i].addr) * sizeof(*use) / PAGE] = 1;
	} else {
		tab = calloc(n, sizeof(*tab));
		if (!tab) {
			ret = -ENOMEM;
			goto out;
		}
		for (uint32_t i = 1; i < count; i++) {
			uint64_t k = hash_insert(tab, n, bits, sites[i].addr, i);

			if (i >= synced)
				dirty[k * sizeof(*tab) / PAGE] = 1;
		}
		use = tab;
	}
	phase_mark("site hash: build");
	ret = write_dirty_pages(r, st.site_hash, use, dirty, pages, bytes);
	if (!ret) {
		st.hash_synced = count;
		ret = remote_write(r, h->private_addr + offsetof(struct tp_state, hash_synced),
				   &st.hash_synced, sizeof(st.hash_synced));
	}
out:
	free(dirty);
	free(tab);
	return ret;
}

void inject_check_tid_offset(struct remote *r, struct ringfile *rf)
{
	struct held *h = r->held;
	int32_t off = rf->hdr->tid_offset, now;
	size_t i;

	if (!off || h->n < 2 || rf->hdr->threads_used)
		return;
	for (i = 0; i < h->n; i++) {
		int32_t v;

		if (!h->v[i].regs.fs_base)
			continue;
		if (remote_read(r, h->v[i].regs.fs_base + off, &v, sizeof(v)) || v != h->v[i].tid)
			break;
	}
	if (i == h->n)
		return;
	now = inject_find_tid_offset(r);
	if (now == off)
		return;
	if (remote_write(r, rf->hdr->private_addr + offsetof(struct tp_state, tid_offset), &now,
			 sizeof(now)))
		return;
	pr_info("pid %d: its threads keep their tid at TCB offset %d, not %d as its main "
		"thread alone said", (int)h->pid, (int)now, (int)off);
	rf->hdr->tid_offset = now;
}

int32_t inject_find_tid_offset(struct remote *r)
{
	struct held *h = r->held;
	const uint8_t **tcbs = calloc(h->n ? h->n : 1, sizeof(*tcbs));
	uint8_t *copies = malloc((h->n ? h->n : 1) * (size_t)TCB_SPAN);
	int32_t *tids = calloc(h->n ? h->n : 1, sizeof(*tids));
	size_t n = 0, len = TCB_SPAN;
	int32_t found = 0;

	if (!tcbs || !copies || !tids)
		goto out;
	/* a copy of each held thread's TCB (as far as it is readable: musl's
	 * may end sooner), then the offset where every one holds its tid */
	for (size_t i = 0; i < h->n; i++) {
		uint8_t *c = copies + n * (size_t)TCB_SPAN;
		size_t got = 0;

		if (!h->v[i].regs.fs_base)
			goto out;
		while (got < len && !remote_read(r, h->v[i].regs.fs_base + got, c + got, 256))
			got += 256;
		len = got;
		tcbs[n] = c;
		tids[n] = h->v[i].tid;
		n++;
	}
	found = tcb_tid_offset(tcbs, tids, n, len);
out:
	free(tcbs);
	free(copies);
	free(tids);
	return found;
}
