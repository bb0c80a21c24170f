/* SPDX-License-Identifier: MIT */
/* tattach --stacks: every thread's current stack, like eu-stack. */
#ifndef TATTACH_ATTACH_STACKS_H
#define TATTACH_ATTACH_STACKS_H

#include <stdio.h>
#include <sys/types.h>

/*
 * Stop @pid briefly, print each thread's stack to @out, resume it.  Calls
 * traced now (their return goes through the trampoline) are followed to
 * their real caller and marked.  Returns 0 or -errno (said).
 */
int session_stacks(pid_t pid, FILE *out);

#endif /* TATTACH_ATTACH_STACKS_H */
