/* SPDX-License-Identifier: MIT */
#ifndef TATTACH_TARGET_H
#define TATTACH_TARGET_H

#include <sys/types.h>

#include "attach/process/proc.h"
#include "attach/process/seize.h"

/*
 * target_check - refuse, with one logged line, a pid that does not exist,
 * is a kernel thread or a zombie (a process whose main thread alone has
 * exited is not one), runs a non-x86-64 program, or may not be traced by
 * us.  Fills @st.  Returns 0 or -ESRCH, -EINVAL, -ENOEXEC, -EPERM.
 */
int target_check(pid_t pid, struct proc_stat *st);

/*
 * target_check_stoppable - wait up to HOLD_VFORK_WAIT_S for the threads of
 * @pid waiting in vfork() to leave it (they cannot be stopped until their
 * child calls exec or exits), and refuse, with one logged line, a process
 * with one still there.  Checked before anything is stopped or created;
 * hold_all() waits the same way for a thread that enters vfork() later.
 * Returns 0, -EAGAIN or another -errno (said).
 */
int target_check_stoppable(pid_t pid);

/*
 * target_hold - hold_all(), and say in one logged line why it failed: not
 * allowed, a thread in vfork(), the process gone, or the error.  Returns
 * hold_all()'s value.
 */
int target_hold(pid_t pid, struct held *h);

/* Log that thread @tid of @pid waits in vfork() and cannot be stopped. */
void target_explain_vfork(pid_t pid, pid_t tid);

/* Log why ptrace access to @pid is refused, as precisely as /proc tells. */
void target_explain_eperm(pid_t pid);

#endif
