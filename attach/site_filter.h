/* SPDX-License-Identifier: MIT */
/*
 * Record-time filters: which functions --enable patches (-F/--filter,
 * -N/--notrace).  Sites are named through symbols/, as tread names them,
 * so a pattern that selects a function in tread's output selects the same
 * function here.
 */
#ifndef TATTACH_SITE_FILTER_H
#define TATTACH_SITE_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "attach/modules.h"

struct site_filter;

/* Is @re a valid POSIX extended regular expression?  0, or -EINVAL with a
 * one-line reason in @why. */
int site_filter_check(const char *re, char *why, size_t len);

/*
 * site_filter_open - compile the patterns of one --enable
 * A function passes if it matches any of @filters (or there are none) and
 * none of @notraces.  Returns 0, -EINVAL (bad pattern) or -ENOMEM.
 */
int site_filter_open(const char *const *filters, size_t nfilters,
		     const char *const *notraces, size_t nnotraces,
		     struct site_filter **out);
void site_filter_close(struct site_filter *f);

/* Does the function called @name pass? */
int site_filter_pass(const struct site_filter *f, const char *name);

/*
 * site_filter_plan - for every module of @set, which of its sites pass
 * Fills @want[i] (an array per module, NULL for modules without sites)
 * with 1 to patch site j of module i, 0 to leave it a NOP.  @matched gets
 * the number of sites that pass.  Free with site_filter_plan_free().
 * Returns 0 or -ENOMEM.
 */
int site_filter_plan(const struct site_filter *f, const struct module_set *set,
		     uint8_t ***want, size_t *matched);
void site_filter_plan_free(uint8_t **want, size_t n);

#endif
