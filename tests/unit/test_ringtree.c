// SPDX-License-Identifier: MIT
/*
 * attach/ring/ringtree.c: a process's traced descendants from the ring
 * headers of a folder, matched by (pid, start time), breadth first.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "attach/ring/ringtree.h"

static char dir[] = "/tmp/tattach-ringtree-XXXXXX";

static void ring(const char *name, int pid, uint64_t start, int ppid, uint64_t pstart)
{
	struct tat_ring_header h;
	char path[256];
	int fd;

	memset(&h, 0, sizeof(h));
	h.magic = TAT_RING_MAGIC;
	h.version = TAT_RING_VERSION;
	h.header_size = sizeof(h);
	h.pid = pid;
	h.start_time = start;
	h.parent_pid = ppid;
	h.parent_start_time = pstart;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert(fd >= 0, "%s", path);
	cr_assert_eq(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	close(fd);
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	setenv("TATTACH_RING_DIR", dir, 1);
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(ringtree, .init = setup, .fini = teardown);

Test(ringtree, descendants_by_pid_and_start_time)
{
	struct ring_node *v;
	int n;

	ring("tattach-100.ring", 100, 5, 0, 0);		/* the root */
	ring("tattach-101.ring", 101, 6, 100, 5);	/* its child */
	ring("tattach-102.ring", 102, 7, 101, 6);	/* a grandchild */
	ring("tattach-104.99.ring", 104, 8, 100, 5);	/* a child, exited, kept */
	ring("tattach-103.ring", 103, 9, 100, 4);	/* child of an earlier 100 */
	ring("tattach-105.ring", 105, 9, 106, 9);	/* two that name each other */
	ring("tattach-106.ring", 106, 9, 105, 9);
	ring("not-a-ring.txt", 107, 9, 100, 5);		/* not a ring's name */
	n = ringtree_descendants(100, 5, &v);
	cr_assert_eq(n, 3);
	/* children first (in folder order), then theirs */
	cr_assert_eq(v[0].depth, 1);
	cr_assert_eq(v[1].depth, 1);
	cr_assert((v[0].pid == 101 && v[1].pid == 104) || (v[0].pid == 104 && v[1].pid == 101));
	cr_assert_eq(v[2].pid, 102);
	cr_assert_eq(v[2].depth, 2);
	cr_assert_eq(v[2].parent_pid, 101);
	cr_assert(strstr(v[0].path, dir) == v[0].path, "%s", v[0].path);
	free(v);
	/* from the middle */
	n = ringtree_descendants(101, 6, &v);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].pid, 102);
	free(v);
	/* the wrong start time: another process */
	cr_assert_eq(ringtree_descendants(101, 1, &v), 0);
	cr_assert_null(v);
	/* a loop of headers ends: the root is never its own descendant */
	n = ringtree_descendants(105, 9, &v);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].pid, 106);
	free(v);
}
