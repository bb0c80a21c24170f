/* SPDX-License-Identifier: MIT */
/*
 * Stubs near their module (--libcalls, --entry): the head both kinds
 * share, which enters the trampoline and primes the return
 * (attach/tramp/tramp_abi.h has the layout and says why), and the list
 * of their areas in the target's tp_state that makes a slot holding a
 * stub's landing a return into the trampoline.
 *
 *   near_stub_area()      held, before a new area's stubs are written:
 *                         list it, so that they may prime the return
 *   near_stub_areas()     the areas listed in the target, read once
 *   near_stub_target()    the trampoline entry a stub should call
 *   near_stub_head()      the head's bytes
 */
#ifndef TATTACH_NEAR_STUB_H
#define TATTACH_NEAR_STUB_H

#include <stdint.h>

#include "attach/process/remote.h"
#include "attach/ring/ringfile.h"
#include "attach/tramp/tramp_abi.h"

/* Each kind's stubs past the head: libcalls.c and entries.c say what
 * the words are for. */
#define NEAR_LIBCALL_SIZE   64u	/* a power of two: tp_near_area.shift */
#define NEAR_LIBCALL_SAVED  40u	/* a GOT hook's saved value */
#define NEAR_LIBCALL_PTR    48u	/* P, then E */
#define NEAR_ENTRY_SIZE     128u
#define NEAR_ENTRY_PTR      64u

/* The trampoline entries a stub may call, of copy @tramp. */
struct near_targets {
	uint64_t primed;	/* tp_ns_enter */
	uint64_t plain;		/* tp_fentry: the return hijacked */
	uint64_t args;		/* tp_fentry_args: -A/-R, hijacked */
	uint64_t exit;		/* tp_ct_exit: where the landing goes */
};

void near_stub_targets(const struct ringfile *rf, unsigned tramp, struct near_targets *t);

/*
 * near_stub_area - list [@start, @start + @len), stubs 1 << @shift bytes
 * apart, in the target's tp_state.near_stubs, before any of them is
 * written, and return the entry they are to call: @t->primed when listed
 * (and call-through is on), else @t->plain: the list full (or not
 * writable), they hijack the return, as before priming.
 */
uint64_t near_stub_area(struct remote *r, const struct ringfile *rf,
			const struct near_targets *t, uint64_t start, uint64_t len,
			unsigned shift);

/* The target's list, for near_stub_target(); -errno when unreadable. */
int near_stub_areas(struct remote *r, const struct ringfile *rf,
		    struct tp_near_area areas[TP_NS_AREAS]);

/*
 * The entry the stub at @stub should call: tp_fentry_args when its site
 * records values (@args), else tp_ns_enter when its area is in @areas and
 * call-through is on (inject_call_through()), else tp_fentry.
 */
uint64_t near_stub_target(const struct near_targets *t,
			  const struct tp_near_area areas[TP_NS_AREAS], uint64_t stub, int args);

/* Is @v one of the entries of @t (a stub pointer ours to change)? */
int near_stub_ours(const struct near_targets *t, uint64_t v);

/*
 * near_stub_head - bytes 0 .. TP_NS_BODY of a stub at @at, its pointers
 * P and E at @ptr and @ptr + 8 (filled with @enter and @t->exit), the
 * site's index at TP_NS_INDEX.
 */
void near_stub_head(uint8_t *b, unsigned ptr, uint64_t enter, const struct near_targets *t,
		    uint32_t index);

#endif
