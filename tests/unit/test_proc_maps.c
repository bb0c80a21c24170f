// SPDX-License-Identifier: MIT
/*
 * The map of a held process is read once and served from memory
 * (proc_maps_freeze(), attach/process/proc.c) until tattach makes the
 * process run a system call or lets it go.  A stale map after a remote
 * mmap() would let the next trampoline copy be placed over the last one.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/process/proc.h"
#include "attach/process/remote.h"
#include "attach/process/seize.h"

/* A child blocked in read() until its pipe closes; at each byte it reads
 * it maps a page at 0x20000000 and answers with a byte on @rfd. */
static pid_t start_child(int *wfd, int *rfd)
{
	int p[2], q[2];
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(pipe(q), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char c;

		close(p[1]);
		close(q[0]);
		while (read(p[0], &c, 1) > 0) {
			mmap((void *)0x20000000, 4096, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (write(q[1], &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(p[0]);
	close(q[1]);
	*wfd = p[1];
	*rfd = q[0];
	return pid;
}

static int mapped(pid_t pid, uint64_t addr)
{
	struct maps maps;
	int found;

	cr_assert_eq(proc_read_maps(pid, &maps), 0);
	found = maps_find(&maps, addr) != NULL;
	proc_free_maps(&maps);
	return found;
}

Test(proc_maps, a_remote_mmap_shows_in_the_map_of_a_held_process)
{
	struct remote r;
	struct held h;
	int wfd, rfd, status;
	pid_t pid = start_child(&wfd, &rfd);
	long addr;

	cr_assert_eq(hold_all(pid, &h), 0);
	cr_assert_eq(remote_open(&r, &h, 0), 0);
	cr_assert_not(mapped(pid, 0x10000000), "nothing there yet");	/* the map is read now */
	addr = remote_syscall(&r, SYS_mmap, 0x10000000, 4096, PROT_READ,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint64_t)-1, 0);
	cr_assert_eq(addr, 0x10000000, "mmap in the child: %ld", addr);
	cr_assert(mapped(pid, (uint64_t)addr), "the map read after the remote mmap has it");
	cr_assert_eq(remote_syscall(&r, SYS_munmap, (uint64_t)addr, 4096, 0, 0, 0, 0), 0);
	cr_assert_not(mapped(pid, (uint64_t)addr), "and no more after the munmap");
	remote_close(&r);
	cr_assert_eq(release_all(&h), 0);

	close(wfd);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the child ran on and exited by itself");
}

Test(proc_maps, the_map_is_read_afresh_once_the_process_is_released)
{
	struct held h;
	int wfd, rfd, status;
	pid_t pid = start_child(&wfd, &rfd);
	char c = 'm';

	cr_assert_eq(hold_all(pid, &h), 0);
	cr_assert_not(mapped(pid, 0x20000000), "nothing there yet");	/* the map is read now */
	cr_assert_eq(release_all(&h), 0);
	/* the child, running again, maps a page itself */
	cr_assert_eq(write(wfd, &c, 1), 1);
	cr_assert_eq(read(rfd, &c, 1), 1);
	cr_assert(mapped(pid, 0x20000000), "the map read after the release has it");
	close(wfd);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
