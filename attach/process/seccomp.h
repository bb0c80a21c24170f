/* SPDX-License-Identifier: MIT */
/*
 * Processes under seccomp: read their filters and run, through them, every
 * system call tattach may make in the process; attach only when all are
 * allowed.
 */
#ifndef TATTACH_SECCOMP_H
#define TATTACH_SECCOMP_H

#include <sys/types.h>

#include "attach/process/seize.h"

/*
 * seccomp_mode_check - from /proc, without stopping anything: 0 when no
 * thread of @pid is under seccomp, 1 when some run under filters (read
 * them with seccomp_check_held()), -EPERM (logged) for strict mode.
 */
int seccomp_mode_check(pid_t pid);

/*
 * seccomp_check_held - with every thread of @h held (nothing else done to
 * them), read the filters of each filtered thread and run each system call
 * tattach may inject through them.  Returns 0 when every one is allowed,
 * else -EPERM with one logged line naming the first call refused and how
 * (or why the filters could not be read or judged).
 */
int seccomp_check_held(const struct held *h);

#endif
