/* SPDX-License-Identifier: MIT */
/*
 * Library calls (--libcalls): every call a traced module makes through
 * its PLT or GOT into another object goes through a per-import stub that
 * enters the trampoline like a fentry site, then jumps on to the function
 * (docs/any-binary.md has the picture).
 *
 *   libcalls_plan()     before the stop: read the imports, apply -F/-N
 *   libcalls_prepare()  held: map and write the stubs of modules that have
 *                       none yet, add their sites to the ring's table
 *   libcalls_apply()    held: hook the wanted imports, unhook the others
 *                       (disable: unhook all)
 */
#ifndef TATTACH_LIBCALLS_H
#define TATTACH_LIBCALLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attach/modules.h"
#include "attach/process/remote.h"
#include "attach/ring/ringfile.h"
#include "attach/site_filter.h"
#include "patcher/imports.h"

struct libcall_mod {
	char path[256];
	uint64_t bias;
	struct import_list imps;
	uint8_t *want;			/* [imps.n]: hook import i */
};

struct libcalls {
	struct libcall_mod *v;
	size_t n;
	size_t imports;			/* imports of every listed module */
	size_t matched;			/* of them, those that pass the filters */
};

struct libcalls_report {
	size_t hooked;			/* imports hooked now */
	size_t changed;			/* hooked or unhooked by this run */
	size_t mismatched;		/* left alone: unexpected bytes */
	size_t unreachable;		/* stub out of rel32 reach */
};

/*
 * libcalls_plan - the imports of the program and of every module with
 * sites (@set), each wanted if it passes @f (NULL: all).  Nothing is
 * listed when @enabled is 0: an --enable without --libcalls unhooks them.
 * Returns 0 or -ENOMEM.
 */
int libcalls_plan(pid_t pid, int enabled, const struct site_filter *f,
		  const struct module_set *set, struct libcalls *lc);
void libcalls_free(struct libcalls *lc);

/* Is @m one of the modules @lc hooks (so it needs a module table entry)? */
int libcalls_has(const struct libcalls *lc, const struct module *m);

/*
 * libcalls_prepare - give every module of @lc its stubs and sites, once.
 * Must run after the modules are registered and have a trampoline copy,
 * before the site hash is written.  Returns 0 or -errno.
 */
int libcalls_prepare(struct remote *r, struct ringfile *rf, const struct libcalls *lc);

/*
 * libcalls_apply - hook the imports @lc wants, unhook every other one the
 * ring knows (@lc NULL: unhook all, for --disable).  Records the outcome
 * in the sites' patched flags.  A module no longer mapped in @maps (the
 * map read while held; NULL: not checked) is left alone, marked unhooked.
 * Returns 0 or -errno of a failed access.
 */
int libcalls_apply(struct remote *r, struct ringfile *rf, const struct libcalls *lc,
		   const struct maps *maps, struct libcalls_report *rep);

/*
 * libcalls_set_entries - point each stub's call at the trampoline entry
 * its site needs: the one that records arguments (tattach -A/-R, its
 * tat_argspec asks for values) or the plain one.  Returns how many stubs
 * were rewritten.
 */
size_t libcalls_set_entries(struct remote *r, struct ringfile *rf);

/* Would libcalls_apply() change anything? */
int libcalls_differs(struct ringfile *rf, const struct libcalls *lc);

/* --status: library calls hooked per module; @list: also their names. */
void libcalls_status(FILE *out, struct ringfile *rf, pid_t pid, const struct maps *maps,
		     int list);

/*
 * libcalls_saved_of - @v is the address of a GOT hook's stub: where the
 * stub keeps the value its GOT entry held, which it jumps on through (so
 * another hook of that entry goes there: unwind_hooks.c); else 0.
 */
uint64_t libcalls_saved_of(struct ringfile *rf, uint64_t v);

#endif
