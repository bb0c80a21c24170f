/* SPDX-License-Identifier: MIT */
/*
 * The dlopen hook: the dynamic linker calls _dl_debug_state() (r_debug's
 * r_brk) whenever its list of loaded objects changes.  Its first bytes
 * become a jmp to a stub tattach maps nearby:
 *
 *   hook:  if (the follower's lock word holds no tid) return;   (lock.h)
 *          if (_r_debug.r_state != RT_CONSISTENT) return;
 *          int3                      (the follower enables new modules)
 *   ret:   return;
 *   park:  while (the lock word holds a tid) sched_yield();
 *          return;
 *
 * So a hook left behind by a follower that died only returns: no trap
 * without a tracer.  The follower moves a trapped thread to "park" at
 * once (the SIGTRAP is dropped), and sends it to "ret" when it is done.
 */
#ifndef TATTACH_FOLLOW_DLHOOK_H
#define TATTACH_FOLLOW_DLHOOK_H

#include <stdint.h>
#include <sys/types.h>

#include "attach/process/remote.h"

struct dlhook_stub {
	uint64_t base;		/* the stub page */
	uint64_t park, ret;	/* where a trapped thread goes */
	uint64_t check_end;	/* a thread between base and here has not
				 * trapped yet */
};

/*
 * dlhook_install - put the hook into the process @r drives (held), the
 * stub's lock word read from the lock file @lock_path.  Returns 0, 1 when
 * there is nothing to hook (a static program, or an unknown
 * _dl_debug_state), or -errno (said why; the process is as it was).
 */
int dlhook_install(struct remote *r, const char *lock_path);

/* Is the SIGTRAP of thread @tid, at @rip, our hook's?  1 (and *@st) or 0. */
int dlhook_trapped(pid_t tid, uint64_t rip, struct dlhook_stub *st);

/* Give _dl_debug_state its bytes back in held process @pid (the stub
 * stays mapped: a thread may be in it).  0 (also when none), -errno. */
int dlhook_remove(pid_t pid, struct dlhook_stub *st);

#endif
