/* SPDX-License-Identifier: MIT */
#ifndef TATTACH_TARGET_H
#define TATTACH_TARGET_H

#include <sys/types.h>

#include "attach/proc.h"

/*
 * target_check - refuse, with one logged line, a pid that does not exist,
 * is a kernel thread or a zombie, runs a non-x86-64 program, or may not be
 * traced by us.  Fills @st.  Returns 0 or -ESRCH, -EINVAL, -ENOEXEC, -EPERM.
 */
int target_check(pid_t pid, struct proc_stat *st);

/* Log why ptrace access to @pid is refused, as precisely as /proc tells. */
void target_explain_eperm(pid_t pid);

#endif
