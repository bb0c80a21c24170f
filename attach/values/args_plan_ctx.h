/* SPDX-License-Identifier: MIT */
/*
 * Inside -A/-R planning: what attach/values/args_plan.c (-pg sites, library
 * calls) and attach/values/args_entries.c (--entry, --module function entries)
 * share.  Not for other users: attach/values/args_plan.h is the interface.
 */
#ifndef TATTACH_ARGS_PLAN_CTX_H
#define TATTACH_ARGS_PLAN_CTX_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "attach/values/args_plan.h"
#include "symbols/params.h"

struct plan_ctx {
	const struct args_req *reqs;
	size_t nreqs;
	regex_t *res;
	size_t *matched;
	int fill_in_ok;		/* the site takes fill_in requests */
	/* --entry, --module: per request, the matching functions it could not
	 * give values to, and the first of each kind, for one message */
	int entries;			/* planning function entries now */
	const struct entry_plan *ep;
	size_t *refused, *nodwarf;
	const struct entry **first_refused, **first_nodwarf;
};

/* Match @name (at ELF address @vaddr of the file @pf, NULL: no DWARF)
 * against every request and fill @spec; @on counts sites that record. */
int args_plan_site(struct plan_ctx *c, struct sym_params_file *pf, uint64_t vaddr,
		   const char *name, struct tat_argspec *spec, size_t *on);

/* The specs of the function entries @ep patches (args_entries.c). */
int args_plan_entries(struct plan_ctx *c, struct entry_plan *ep, struct args_plan *out);

/* After planning, request @k on function entries: 0 said what it had to
 * (a warning at most), -ENOENT said why it records nothing, 1 nothing to
 * say about entries (the general message applies). */
int args_entries_said(const struct plan_ctx *c, size_t k);

/* The spec of ENTRY site @i of module @tm, whose run starts at @first. */
const struct tat_argspec *args_entry_spec(const struct args_plan *p,
					  const struct tat_module *tm, uint32_t i,
					  uint32_t first);

#endif
