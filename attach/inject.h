/* SPDX-License-Identifier: MIT */
/*
 * Putting the trampoline, its private state and the ring mapping into a
 * held target, and keeping its site hash in step with the ring's site table.
 */
#ifndef TATTACH_INJECT_H
#define TATTACH_INJECT_H

#include <stdint.h>

#include "attach/modules.h"
#include "attach/process/proc.h"
#include "attach/process/remote.h"
#include "attach/ring/ringfile.h"
#include "attach/tramp/tramp_abi.h"

/*
 * inject_setup - first enable of a process: map the ring file, the
 * private state and the wipe-on-fork page into the target and record their
 * addresses in the ring header.  Trampoline copies come later, per module
 * (inject_tramp_for()).  Returns 0 or -errno; on failure the mappings made
 * so far are left (unused, harmless) and the header still says NEW.
 */
int inject_setup(struct remote *r, struct ringfile *rf);

/* Are the mappings the header records still there in the target? */
int inject_present(const struct ringfile *rf, const struct maps *maps);

/*
 * inject_tramp_for - index of a trampoline copy that every address in
 * [lo, hi) can reach with a rel32 call, making a new copy near the range if
 * needed.  Returns the index (>= 0) or -ENOSPC (no free range near enough,
 * or TAT_TRAMP_MAX copies already), -errno.
 */
int inject_tramp_for(struct remote *r, struct ringfile *rf, struct maps *maps,
		     uint64_t lo, uint64_t hi);

/*
 * inject_can_reach - could [lo, hi) get a trampoline copy: an existing copy
 * of @rf (may be NULL) reaches it, or a free range near it exists in @maps.
 * Checked before the target is stopped, so a refusal leaves it untouched.
 */
int inject_can_reach(const struct ringfile *rf, struct maps *maps, uint64_t lo,
		     uint64_t hi);

/*
 * inject_map_near - map @size bytes (private, RW, a guard page on each
 * side) where every address of them and of [lo, hi) reach each other with
 * a rel32.  Returns the address, or 0 if no free range is near enough.
 */
uint64_t inject_map_near(struct remote *r, struct maps *maps, uint64_t lo, uint64_t hi,
			 uint64_t size);

/* Entry of copy @idx for sites of @kind (enum tat_site_kind). */
uint64_t inject_tramp_entry(const struct ringfile *rf, unsigned idx, unsigned kind);
/* The same for sites that record arguments or a return value (-A/-R). */
uint64_t inject_tramp_args_entry(const struct ringfile *rf, unsigned idx, unsigned kind);
/* tp_ns_enter and tp_ct_exit of copy @idx: what a stub near its module
 * calls and where its landing goes (attach/hooks/near_stub.c). */
uint64_t inject_tramp_near_enter(const struct ringfile *rf, unsigned idx);
uint64_t inject_tramp_ct_exit(const struct ringfile *rf, unsigned idx);
/* 0 when TATTACH_CALL_THROUGH=0: every return is hijacked, none goes
 * through a stub's call (for make bench's A/B rows, or should a stub ever
 * be in the way). */
int inject_call_through(void);

/*
 * The stubs of a copy (tramp_abi.h): does site @s jump to a stub (a
 * fentry, patchable-entry or -pg site), where is site @site's stub, and
 * its TP_CT_STUB bytes (int3s and -EINVAL or -ERANGE when it cannot have
 * one: then the site keeps its call of the trampoline).
 */
int inject_ct_site(const struct tat_site *s);
uint64_t inject_ct_stub(struct ringfile *rf, uint32_t site);
int inject_ct_stub_bytes(struct ringfile *rf, uint32_t site, uint8_t out[TP_CT_STUB]);

/* Write the site hash for every site in the ring's table into the target. */
int inject_sync_sites(struct remote *r, struct ringfile *rf);

/* A site hash built by tattach ahead of time, as the target's will be. */
struct site_hash {
	struct tp_hent *tab;	/* 2 x site_cap entries */
	uint64_t n;
	uint64_t *addr;		/* addr[i]: site i, 1 <= i < count */
	uint32_t count;		/* the ring's site_count it expects */
};

/*
 * inject_hash_predict - build, before the process is stopped, the site
 * hash the ring will need once the sites of @set's modules not registered
 * yet are appended (as session.c's register_module() does).
 */
int inject_hash_predict(struct ringfile *rf, const struct module_set *set,
			struct site_hash *sh);
void inject_hash_free(struct site_hash *sh);
/* inject_sync_sites, using @pre (may be NULL) when it matches the ring's
 * sites exactly; otherwise the table is built here. */
int inject_sync_sites_with(struct remote *r, struct ringfile *rf, const struct site_hash *pre);

/* Offset of the tid in the thread control block, learnt from the held
 * threads, or 0 when it cannot be told. */
int32_t inject_find_tid_offset(struct remote *r);

/*
 * inject_check_tid_offset - the first --enable learns the tid's place
 * with only the main thread held; once every thread is held, check it
 * against each and learn it again from all of them if one disagrees (a
 * field that held the pid by chance).  Only while no thread has a slot:
 * slots keep tids read at the old place.
 */
void inject_check_tid_offset(struct remote *r, struct ringfile *rf);

#endif
