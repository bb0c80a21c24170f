/* SPDX-License-Identifier: MIT */
#ifndef TATTACH_VDSO_H
#define TATTACH_VDSO_H

#include <stdint.h>
#include <sys/types.h>

#include "attach/process/remote.h"

/*
 * vdso_clock_gettime - address of clock_gettime in the target's vDSO, for
 * the trampoline's clock where the TSC is not invariant.  Returns 0 (and
 * *addr) or -ENOENT (no vDSO or no such symbol), -errno.
 */
int vdso_clock_gettime(struct remote *r, uint64_t *addr);

/* Does this machine have a TSC that ticks at one rate, in every state
 * (constant_tsc and nonstop_tsc)? */
int tsc_is_invariant(void);

#endif
