/* SPDX-License-Identifier: MIT */
/*
 * Function entries (--entry, --module NAME): functions without a site get
 * a 5-byte jmp at their entry (after an endbr64) to a per-function stub
 * near their module, which enters the trampoline like a fentry site, runs
 * the moved instructions and jumps back (docs/any-binary.md).
 *
 *   entries_plan()     before the stop: list and check the functions
 *   entries_prepare()  held: map and write the stubs, add the sites
 *   entries_apply()    held: patch the wanted entries, restore the others
 *                      (disable: restore all), stepping threads out of
 *                      the bytes a jmp replaces
 */
#ifndef TATTACH_ENTRIES_H
#define TATTACH_ENTRIES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attach/modules.h"
#include "attach/process/remote.h"
#include "attach/ring/ringfile.h"
#include "attach/site_filter.h"
#include "patcher/entries.h"

struct entry_mod {
	char path[256];
	char file[300];			/* where its file is read (struct module) */
	uint64_t bias;
	struct entry_list fns;
	uint8_t *want;			/* [fns.n]: patch function i */
};

struct entry_plan {
	struct entry_mod *v;
	size_t n;
	size_t functions;		/* listed functions */
	size_t refused;			/* of them, unsafe to patch */
	size_t matched;			/* patchable and passing the filters */
};

struct saved_contexts;

struct entries_report {
	size_t patched;			/* entries patched now */
	size_t mismatched;		/* left alone: unexpected bytes */
	size_t stepped;			/* threads moved out of a window */
	size_t handlers_stepped;	/* signal handlers' contexts moved out */
	size_t in_stubs;		/* --disable: threads left running in a stub */
};

/*
 * entries_plan - the functions of the program (@program) and of the
 * loaded module named @module (NULL: none), each wanted if it can be
 * patched and passes @f (NULL: all).  Lists the refused ones with -v.
 * Returns 0, -ENOENT (@module not loaded, said), -ENODATA (no symbols,
 * said) or -ENOMEM.
 */
int entries_plan(pid_t pid, int program, const char *module, const struct site_filter *f,
		 const struct module_set *set, struct entry_plan *ep);
void entries_plan_free(struct entry_plan *ep);
int entries_has(const struct entry_plan *ep, const struct module *m);

int entries_prepare(struct remote *r, struct ringfile *rf, const struct entry_plan *ep);
/* entries_apply - held: patch the entries @ep wants and restore the others
 * (@ep NULL: restore all).  Threads and the contexts their signal handlers
 * return to (@handlers, found when first needed; NULL when restoring) are
 * moved out of a window before it is patched.  A module no longer mapped
 * in @maps (the map read while held) is left alone, marked unpatched. */
int entries_apply(struct remote *r, struct ringfile *rf, const struct entry_plan *ep,
		  const struct maps *maps, struct saved_contexts *handlers,
		  struct entries_report *rep);
/* Would entries_apply() change anything?  Also when a library's entries
 * lost their jmps since (unloaded and loaded again at the same address:
 * one is read back from @pid per library). */
int entries_differs(struct ringfile *rf, const struct entry_plan *ep, pid_t pid);

/* --status: entries patched per module; @list: the refused ones and why. */
void entries_status(FILE *out, struct ringfile *rf, pid_t pid, const struct maps *maps,
		    int list);

#endif
