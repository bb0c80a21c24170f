// SPDX-License-Identifier: MIT
/*
 * A process has one tracer: while a follower holds it, another tattach
 * cannot stop it.  'tattach -p PID --disable' therefore looks whether
 * PID's tracer is a follower (its lock file held, lock.h), asks it to end
 * with SIGTERM and waits on a pidfd until it has exited (the kernel has
 * detached every thread by then), before disabling as usual.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach/follow/follow.h"
#include "attach/follow/lock.h"
#include "attach/log.h"
#include "attach/process/proc.h"

#define END_WAIT_MS 30000

int follow_end_holder(pid_t pid, pid_t *follower)
{
	long tracer = 0;
	struct pollfd p;
	int fd, n;

	*follower = 0;
	if (proc_status_long(pid, "TracerPid", &tracer) || tracer <= 0 ||
	    !follow_lock_held_by((pid_t)tracer))
		return 0;
	fd = (int)syscall(SYS_pidfd_open, (pid_t)tracer, 0);
	if (fd < 0) {
		pr_err("pid %d is followed by tattach pid %ld: cannot watch it: %s", (int)pid,
		       tracer, strerror(errno));
		return -errno;
	}
	if (kill((pid_t)tracer, SIGTERM) < 0) {
		pr_err("pid %d is followed by tattach pid %ld: cannot end it: %s", (int)pid,
		       tracer, strerror(errno));
		close(fd);
		return -EPERM;
	}
	p.fd = fd;
	p.events = POLLIN;
	do
		n = poll(&p, 1, END_WAIT_MS);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0) {
		pr_err("pid %d: its follower, tattach pid %ld, did not end within %d s",
		       (int)pid, tracer, END_WAIT_MS / 1000);
		return -ETIMEDOUT;
	}
	*follower = (pid_t)tracer;
	return 0;
}
