/* SPDX-License-Identifier: MIT */
/*
 * C++ exceptions through traced frames: at --enable, point the GOT
 * entries of _Unwind_RaiseException, _Unwind_Resume_or_Rethrow and
 * __cxa_begin_catch of every loaded object at the trampoline's hooks
 * (tramp_hooks.c, tp_hook()), which put the hijacked return addresses back
 * before an unwinder walks the stack and take them again at the catch.
 * Also pthread_exit and backtrace.  --disable puts the entries back once
 * no traced call returns through the trampoline any more (it cuts the
 * calls in flight loose first: unhijack.h).
 */
#ifndef TATTACH_ATTACH_UNWIND_HOOKS_H
#define TATTACH_ATTACH_UNWIND_HOOKS_H

#include <stddef.h>
#include <sys/types.h>

struct remote;
struct ringfile;
struct maps;
struct held;

/*
 * unwind_hooks_install - hook every GOT entry of those functions in the
 * objects of @maps, once the trampoline is injected.  Returns the number
 * of entries pointing at the hooks now (0: no C++ runtime loaded), or
 * -errno.  Entries already hooked are left as they are.
 */
int unwind_hooks_install(struct remote *r, struct ringfile *rf, const struct maps *maps);
/* unwind_hooks_prepare - find those entries in the objects of @maps now,
 * while the process runs; the next unwind_hooks_install() given the same
 * @maps only writes them. */
void unwind_hooks_prepare(pid_t pid, const struct maps *maps);

/*
 * unwind_hooks_remove - at --disable, with every thread of the process
 * held: put every hooked GOT entry back to what it held before, when no
 * frame of any thread returns through the trampoline any more and no
 * thread is inside it (unwind_hooks_off.c says why).  @walked (or NULL):
 * per held thread, 1 if its stack was just walked and found outside the
 * trampoline (unhijack_all()), so it is not walked again.  Returns how
 * many entries were put back (0: none hooked), -EBUSY when they must stay
 * (reason logged), or -errno.
 */
int unwind_hooks_remove(struct remote *r, struct ringfile *rf, struct held *h,
			const unsigned char *walked);

#endif /* TATTACH_ATTACH_UNWIND_HOOKS_H */
