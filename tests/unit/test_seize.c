// SPDX-License-Identifier: MIT
/*
 * Stopping a process whose thread takes signals all the time
 * (attach/process/seize.c).  A signal that reaches the thread between our
 * PTRACE_INTERRUPT and its stop can make the kernel forget the interrupt;
 * waiting for that stop then hung tattach --enable and --disable, found by
 * a soak of the hazards target (its SIGPROF timer at 5 kHz) under
 * enable/disable cycles.  Here a child takes a timer's signal every 200 us
 * and is held and released many times: without the fix about one hold in
 * fifteen never returned, and the test timed out.
 *
 * And a thread that waits in vfork() when the hold begins: hold_all()
 * waits for it to leave, with nothing stopped, and then holds the process
 * (it refused at once before).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach/process/proc.h"
#include "attach/process/seize.h"

#define HOLDS 300

static volatile long *handled;	/* shared with the child */

static void on_timer(int sig)
{
	(void)sig;
	__atomic_add_fetch(handled, 1, __ATOMIC_RELAXED);
}

/* The child: a timer signal every 200 us, handled on this thread, and a
 * busy loop; it dies with the test process. */
static void timer_child(void)
{
	struct sigaction sa = { .sa_handler = on_timer, .sa_flags = SA_RESTART };
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGPROF };
	struct itimerspec it = { { 0, 200000 }, { 0, 200000 } };
	timer_t timer;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sev._sigev_un._tid = gettid();
	if (sigaction(SIGPROF, &sa, NULL) || timer_create(CLOCK_MONOTONIC, &sev, &timer) ||
	    timer_settime(timer, 0, &it, NULL))
		_exit(1);
	for (;;)
		__asm__ volatile("" ::: "memory");
}

/* The child's count of handled signals once it grew past @than. */
static long handled_past(long than)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	long now;

	while ((now = __atomic_load_n(handled, __ATOMIC_RELAXED)) <= than)
		nanosleep(&tick, NULL);	/* the test's timeout ends a child that stopped */
	return now;
}

Test(seize, holds_a_thread_that_takes_a_signal_every_200us, .timeout = 60)
{
	long before;
	struct held h;
	int status;
	pid_t pid;

	handled = mmap(NULL, sizeof(*handled), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(handled != MAP_FAILED);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		timer_child();
	before = handled_past(10);	/* its timer runs */

	for (int i = 0; i < HOLDS; i++) {
		cr_assert_eq(hold_all(pid, &h), 0, "hold %d", i);
		cr_assert_eq(h.n, 1, "hold %d: its one thread", i);
		cr_assert_eq(release_all(&h), 0, "release %d", i);
	}
	/* its signals were handed back: it still handles them */
	handled_past(before + 100);

	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the child ran until killed (status %#x)", status);
}

/* Has a tracer seized process @pid?  (Its TracerPid, read by a vfork
 * child, which shares its parent's memory but not its stdio: no stdio.) */
static int traced_now(pid_t pid)
{
	char path[64], buf[2048], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strstr(buf, "TracerPid:");
	return p && atoi(p + strlen("TracerPid:")) != 0;
}

/* The child: vfork(); its child waits until a tracer seized the parent
 * (hold_all() waiting for vfork() to end), then exits. */
static void vfork_child(void)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	pid_t v;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	v = vfork();
	if (v == 0) {
		pid_t parent = getppid();

		/* killed with its parent (the test failed meanwhile) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		while (getppid() == parent && !traced_now(parent))
			nanosleep(&tick, NULL);
		_exit(0);
	}
	if (v < 0 || waitpid(v, NULL, 0) != v)
		_exit(1);
	for (;;)
		pause();
}

Test(seize, hold_all_waits_for_a_thread_to_leave_vfork, .timeout = 60)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	struct held h;
	int status;
	pid_t pid;

	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		vfork_child();
	while (!proc_thread_in_vfork(pid, pid))
		nanosleep(&tick, NULL);	/* until it is in vfork() */

	cr_assert_eq(hold_all(pid, &h), 0, "held once its vfork() ended");
	cr_assert_eq(h.n, 1);
	cr_assert_eq(h.in_vfork, 0);
	cr_assert_not(proc_thread_in_vfork(pid, pid));
	cr_assert_eq(release_all(&h), 0);

	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the child waited for its vfork child, then ran on (status %#x)", status);
}
