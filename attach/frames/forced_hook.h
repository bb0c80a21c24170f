/* SPDX-License-Identifier: MIT */
/*
 * pthread_cancel() through traced frames.  glibc unwinds a cancelled
 * thread with libgcc_s's _Unwind_ForcedUnwind, called through a pointer
 * from dlsym: no GOT entry to hook (unwind_hooks.h).  So its entry is
 * patched: a jmp to a stub near libgcc_s that calls the trampoline's
 * tp_hook_forced (every hijacked return address of the thread put back,
 * as for pthread_exit), runs the moved instructions and jumps back.
 */
#ifndef TATTACH_ATTACH_FORCED_HOOK_H
#define TATTACH_ATTACH_FORCED_HOOK_H

#include <stddef.h>
#include <stdint.h>

struct remote;
struct ringfile;
struct held;

/*
 * forced_hook_install - with every thread held, the trampoline injected:
 * patch the entry of _Unwind_ForcedUnwind in the loaded libgcc_s.so.1.
 * Returns 1 if it is patched now (or was already), 0 if not (no libgcc_s
 * loaded, or it cannot be patched safely: a warning says why), -errno.
 */
int forced_hook_install(struct remote *r, struct ringfile *rf);

/*
 * forced_hook_remove - at --disable, once no traced call returns through
 * the trampoline: put the entry's original bytes back.  The stub stays
 * mapped (a thread may be in it) and a later --enable reuses it.
 * Returns 1 if the bytes were put back, 0 if nothing was patched, -errno.
 */
int forced_hook_remove(struct remote *r, struct ringfile *rf);

/*
 * forced_stub_build - the bytes, arithmetic only: from the @len first
 * bytes @code of the function at @addr, the stub that will lie at @at and
 * call through to @fn (@stub, FORCED_STUB_BYTES), and the @w bytes that
 * replace the entry's after its endbr64 (@patch, RELOCATE_MAX; *@skip is
 * 4 after an endbr64, else 0).  Returns 0, or -EINVAL / -ERANGE with the
 * reason in *@why (a static string) when the first instructions cannot
 * move there.
 */
#define FORCED_STUB_BYTES 97	/* 64 + the original's length + its bytes */
int forced_stub_build(const uint8_t *code, size_t len, uint64_t addr, uint64_t at,
		      uint64_t fn, uint8_t *stub, uint8_t *patch, size_t *skip, size_t *w,
		      const char **why);

#endif
