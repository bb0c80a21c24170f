/* SPDX-License-Identifier: MIT */
/*
 * tattach --enable -A 'REGEX[@SPEC]' / -R 'REGEX[@retval[/FMT]]': which
 * functions record their arguments and return value, and how
 * (struct tat_argspec, include/tattach/ring.h).
 *
 * SPEC, as uftrace spells it: a comma-separated list of
 *   argN[/FMT]     the Nth integer-class argument (N = 1..6: rdi..r9)
 *   fpargN[/SIZE]  the Nth floating point argument (N = 1..8: xmm0..7),
 *                  SIZE 32 (float) or 64 (double)
 * FMT is d or i (signed), u (unsigned), x (hex), p (pointer), s (string),
 * c (char), e (enum: named from DWARF), optionally followed by the size in
 * bits (8, 16, 32, 64): arg2/u32.  Without FMT the DWARF type of that
 * argument is used (64-bit signed without DWARF).  Without SPEC every
 * argument DWARF describes is recorded (up to TAT_ARGS_MAX).
 */
#ifndef TATTACH_ARGS_PLAN_H
#define TATTACH_ARGS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <tattach/ring.h>
#include "attach/modules.h"
#include "attach/hooks/entries.h"
#include "attach/hooks/libcalls.h"
#include "attach/ring/ringfile.h"

/* One -A or -R option, parsed. */
struct args_req {
	const char *option;		/* as given, for messages */
	char       *regex;
	int         is_return;		/* -R */
	int         has_spec;
	int         optional;		/* matching nothing is no error (marks.c) */
	int         fill_in;		/* added by tattach for --libcalls
					 * (hooks/sync_args.c): only for an import
					 * hooked anyway, to which no other
					 * request gives arguments */
	size_t      n;			/* SPEC items (-A) */
	struct {
		uint8_t fp;		/* fpargN */
		uint8_t index;		/* N - 1 */
		uint8_t format;		/* 0: from DWARF */
		uint8_t size;		/* bytes, 0: from DWARF */
	} item[TAT_ARGS_MAX];
	uint8_t     ret_format;		/* -R @retval/FMT, 0: from DWARF */
	uint8_t     ret_size;
};

/* Parse @opt ("REGEX" or "REGEX@SPEC"); 0, or -EINVAL with a one-line
 * reason in @why. */
int args_req_parse(const char *opt, int is_return, struct args_req *out,
		   char *why, size_t len);
void args_req_free(struct args_req *r);

struct args_plan {
	struct tat_argspec **spec;	/* per module of the set, per site; NULL: none */
	size_t nmods;
	struct tat_argspec **lspec;	/* --libcalls: per module of the libcalls
					 * plan, per import; NULL: none */
	size_t nlmods;
	struct tat_argspec **espec;	/* --entry, --module: per module of the
					 * entry plan, per function; NULL: none */
	size_t nemods;
	const struct entry_plan *ep;	/* that plan, for args_plan_sync() */
	size_t sites;			/* sites that record something */
};

/*
 * args_plan_make - name the sites of @set, match them against @reqs and
 * build their specs from DWARF; likewise the imports @lc hooks (by import
 * name; no DWARF there: a SPEC is needed), whose @lc->want it sets for
 * the imports that record values; likewise the function entries @ep
 * patches (--entry, --module; NULL: none), by DWARF or SPEC, setting
 * @ep's want for those that record values.  Each request must match a function,
 * and a SPEC may name only arguments the function has (when DWARF says):
 * else one logged line and -ENOENT / -EINVAL.  Returns 0 or -ENOMEM too.
 */
int args_plan_make(const struct args_req *reqs, size_t nreqs,
		   const struct module_set *set, struct libcalls *lc,
		   struct entry_plan *ep, struct args_plan *out);
void args_plan_free(struct args_plan *p);

/* Does the ring's table differ from the plan (@write 0), or make it so
 * (@write 1)?  Sites of modules not in the plan (or @lc) get no spec.
 * Returns the number of entries that differ(ed). */
size_t args_plan_sync(const struct args_plan *p, struct ringfile *rf,
		      const struct module_set *set, const struct libcalls *lc, int write);

/* The ring's table, or NULL when the file predates it. */
struct tat_argspec *args_table(struct ringfile *rf);

/* Does site @i record arguments or a return value? */
static inline int args_site_on(const struct tat_argspec *table, uint32_t i)
{
	return table && (table[i].nargs || table[i].ret_format);
}

#endif
