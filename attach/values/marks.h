/* SPDX-License-Identifier: MIT */
/*
 * Marks from the program (include/tattach/mark.h): every --enable traces
 * the header's hook functions with their arguments, as -A would, in the
 * modules that have them, and sets the module's tattach_marks_on flag so
 * that tattach_label() formats its text; --disable clears it.
 */
#ifndef TATTACH_MARKS_H
#define TATTACH_MARKS_H

#include <stddef.h>
#include <stdint.h>

#include "attach/values/args_plan.h"
#include "attach/modules.h"
#include "attach/process/remote.h"
#include "attach/ring/ringfile.h"

#define MARKS_REQUESTS 3

/*
 * marks_requests - @user's -A/-R requests followed by the hooks' own,
 * when some module of @set defines tattach_marks_on (else just a copy of
 * @user).  The result is malloc'ed (free with marks_requests_free); *@n
 * gets its length.  Returns 0 or -ENOMEM.
 */
int marks_requests(const struct args_req *user, size_t nuser, const struct module_set *set,
		   struct args_req **out, size_t *n);
void marks_requests_free(struct args_req *reqs, size_t n, size_t nuser);

/*
 * marks_flag_set - write @on into tattach_marks_on of every module of the
 * ring that has a site recording arguments (the hooks among them); the
 * process is held.  Returns how many flags were written.
 */
size_t marks_flag_set(struct remote *r, struct ringfile *rf, int on);

#endif
