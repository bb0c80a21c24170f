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
 * The tattach_marks_on flags of the modules of the ring that have a site
 * recording arguments (the hooks among them).  Finding them reads every
 * site's argument spec (at 100 000 sites, half a millisecond) and looks
 * the symbol up in those modules' files: done before the stop, so that
 * the process waits only for the writes.
 */
struct marks_flags {
	int found;			/* marks_flags_find() succeeded */
	uint32_t site_count, module_count;	/* of the ring, then */
	uint32_t n;			/* modules with a flag to write */
	uint32_t *module;		/* their indexes in the ring */
	uint64_t *vaddr;		/* their flag's ELF address */
};

/* Returns 0 or -ENOMEM (@f is then empty). */
int marks_flags_find(struct ringfile *rf, struct marks_flags *f);
void marks_flags_free(struct marks_flags *f);

/*
 * marks_flags_put - write @on into the flags of @f, found before the stop,
 * if the ring's sites and modules are still those they were found for;
 * else (or with @f NULL or empty) find them now.  The process is held; a
 * caller that rewrote the argument specs since frees @f first.  Returns
 * how many flags were written.
 */
size_t marks_flags_put(struct remote *r, struct ringfile *rf, const struct marks_flags *f,
		       int on);

#endif
