// SPDX-License-Identifier: MIT
/*
 * tattach runs at nice -20 while it holds a process stopped, and at its
 * own nice value again once the process runs (attach/process/priority.c):
 * on a busy machine that is what keeps the pause near a millisecond.
 * Criterion runs each test in a process of its own, so a nice value set
 * here stays in its test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/process/priority.h"
#include "attach/process/seize.h"

static int own_nice(void)
{
	int v;

	errno = 0;
	v = getpriority(PRIO_PROCESS, 0);
	cr_assert_eq(errno, 0, "getpriority: %s", strerror(errno));
	return v;
}

/* Lowering the nice value needs CAP_SYS_NICE (make check runs as root). */
static void need_privilege(void)
{
	if (geteuid() != 0)
		cr_skip_test("not root: the raise is refused, and tattach goes on without it");
}

Test(priority, raised_while_held_and_back_after)
{
	need_privilege();
	cr_assert_eq(setpriority(PRIO_PROCESS, 0, 5), 0);
	priority_raise();
	cr_assert_eq(own_nice(), PRIORITY_HELD_NICE);
	priority_restore();
	cr_assert_eq(own_nice(), 5, "tattach's own nice value again");
}

Test(priority, nested_raises_restore_once_at_the_outermost)
{
	need_privilege();
	priority_raise();
	priority_raise();
	priority_restore();
	cr_assert_eq(own_nice(), PRIORITY_HELD_NICE, "an inner restore changes nothing");
	priority_restore();
	cr_assert_eq(own_nice(), 0);
	priority_restore();	/* one too many: no effect */
	cr_assert_eq(own_nice(), 0);
}

Test(priority, tattach_priority_0_keeps_the_nice_value)
{
	need_privilege();
	cr_assert_eq(setenv("TATTACH_PRIORITY", "0", 1), 0);
	priority_raise();
	cr_assert_eq(own_nice(), 0, "unchanged while held");
	priority_restore();
	cr_assert_eq(own_nice(), 0);
}

Test(priority, hold_all_raises_and_release_all_restores)
{
	struct held h;
	int p[2], status;
	pid_t pid;
	char c;

	need_privilege();
	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 0 ? 0 : 1);	/* until the pipe closes */
	}
	close(p[0]);
	cr_assert_eq(hold_all(pid, &h), 0);
	cr_assert_eq(own_nice(), PRIORITY_HELD_NICE, "while the child is held");
	cr_assert_eq(release_all(&h), 0);
	cr_assert_eq(own_nice(), 0, "once it runs again");

	cr_assert_eq(hold_thread(pid, pid, &h), 0);
	cr_assert_eq(own_nice(), PRIORITY_HELD_NICE, "one thread held alone counts too");
	cr_assert_eq(release_all(&h), 0);
	cr_assert_eq(own_nice(), 0);

	close(p[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
