/* SPDX-License-Identifier: MIT */
/*
 * C++ exceptions through traced frames: at --enable, point the GOT
 * entries of _Unwind_RaiseException, _Unwind_Resume_or_Rethrow and
 * __cxa_begin_catch of every loaded object at the trampoline's hooks
 * (tramp.c, tp_hook()), which put the hijacked return addresses back
 * before an unwinder walks the stack and take them again at the catch.
 */
#ifndef TATTACH_ATTACH_UNWIND_HOOKS_H
#define TATTACH_ATTACH_UNWIND_HOOKS_H

#include <stddef.h>

struct remote;
struct ringfile;
struct maps;

/*
 * unwind_hooks_install - hook every GOT entry of those functions in the
 * objects of @maps, once the trampoline is injected.  Returns the number
 * of entries pointing at the hooks now (0: no C++ runtime loaded), or
 * -errno.  Entries already hooked are left as they are.
 */
int unwind_hooks_install(struct remote *r, struct ringfile *rf, const struct maps *maps);

#endif /* TATTACH_ATTACH_UNWIND_HOOKS_H */
