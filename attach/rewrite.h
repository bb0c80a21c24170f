/* SPDX-License-Identifier: MIT */
/*
 * Rewriting the sites of a held process: every site of the ring whose
 * module is still mapped, to a call of the trampoline (enable) or to its
 * disabled bytes (disable), each checked against what it holds first
 * (patcher/patch.c).  The plan (which sites, which bytes) can be made
 * before the stop and is then used in it if nothing it came from changed.
 */
#ifndef TATTACH_ATTACH_REWRITE_H
#define TATTACH_ATTACH_REWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <tattach/ring.h>
#include "patcher/patch.h"

struct maps;
struct module_set;
struct remote;
struct ringfile;
struct saved_contexts;
struct session_report;
struct plan_module;

/*
 * The plan made before the stop (100 000 sites: 2 ms the process no longer
 * waits for), used in the stop if nothing it was made from changed: the
 * ring's sites and modules, whether each module is mapped (the map read
 * while held), and what -A/-R record at each site.
 */
struct rewrite_prep {
	struct patch_site *ps;
	uint8_t *site_want;
	struct plan_module *pms;
	size_t n;
	size_t sleds;			/* sites still the compiler's sled */
	enum patch_op op;
	/* enabling: the stubs' state (tp_state.ct_synced) read before the
	 * stop, ps made to agree with it and the wanted sites put first
	 * (the first k); the stop must find the same state */
	int stubs_checked;
	uint64_t synced;
	size_t k;
	/* the bytes planned too (patch_preview()): the wanted sites' (on)
	 * and the others' (off; disabling, all of them) */
	int previewed;
	struct patch_preview on, off;
	uint32_t site_count, module_count;
	uint32_t tramp_count;			/* the call targets in ps */
	uint64_t tramp_addr[TAT_TRAMP_MAX];
};

/*
 * rewrite_forget_reloaded - the modules of @rf unloaded and loaded again
 * at the same address since tattach wrote their sites (@set: the modules
 * mapped now, with their sites' compiler bytes), read back from @pid,
 * running or held; their sites are marked neither written nor patched,
 * so that the next rewrite writes them again.  Returns how many modules.
 */
size_t rewrite_forget_reloaded(struct ringfile *rf, const struct module_set *set, pid_t pid);

/* rewrite_prepare - plan the rewrite @op of @rf's sites now, while the
 * process @pid runs (@set and @want as for rewrite_sites(); @maps: its
 * map, read since its modules were found, or NULL to read it), down to
 * the bytes when it can; a plan that cannot be made leaves @p empty, and
 * the stop plans itself. */
void rewrite_prepare(struct ringfile *rf, const struct module_set *set,
		     uint8_t *const *want, const struct maps *maps, pid_t pid,
		     enum patch_op op, struct rewrite_prep *p);
void rewrite_prep_free(struct rewrite_prep *p);

/*
 * rewrite_sites - apply @op to every site of @rf in the held process of @r;
 * record the outcome in the ring's site table and @rep.  Enabling, the
 * sites that do not pass the filters (@want, NULL: all pass) are disabled
 * in the same run.  @held_maps: the map read while held (NULL: read it);
 * @prep: a plan made before the stop, or NULL.  @handlers: the contexts
 * the held threads' signal handlers return to, found here if a site to
 * rewrite can hold them (a sled never written) and not found yet
 * (sigframes.h).  Returns 0 or -errno.
 */
int rewrite_sites(struct remote *r, struct ringfile *rf, const struct module_set *set,
		  uint8_t *const *want, enum patch_op op, const struct maps *held_maps,
		  struct rewrite_prep *prep, struct saved_contexts *handlers,
		  struct session_report *rep);

#endif
