// SPDX-License-Identifier: MIT
/*
 * ringfiles/ringtree.c: a process's traced descendants from the ring
 * headers of a folder, matched by (pid, start time), breadth first, with
 * the rings kept of the programs each ran before an exec.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "ringfiles/ringname.h"
#include "ringfiles/ringtree.h"

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

/* An unreadable file under a kept image's name (not a ring header). */
static void junk(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert(fd >= 0, "%s", path);
	cr_assert_eq(write(fd, "junk", 4), 4);
	close(fd);
}

/* "pid.image" of each node, e.g. "100.1 100.0 101.1" */
static char *listing(const struct ring_node *v, int n)
{
	static char buf[256];
	size_t len = 0;

	buf[0] = 0;
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d.%u/%d", i ? " " : "",
					(int)v[i].pid, v[i].image, v[i].depth);
	return buf;
}

/*
 * The rings a process kept of the programs it ran before an exec
 * (tattach-PID.START.imageN.ring) go with its current one, earlier
 * programs first; a process is found through any of its rings; the
 * root's own kept images come first in ringtree_family() only.
 */
Test(ringtree, kept_images_of_earlier_programs)
{
	struct ring_node *v;
	int n;

	ring("tattach-100.ring", 100, 5, 0, 0);			/* the root now */
	ring("tattach-100.5.image2.ring", 100, 5, 0, 0);	/* its 2nd program */
	ring("tattach-100.5.image1.ring", 100, 5, 0, 0);	/* its 1st */
	ring("tattach-100.4.image1.ring", 100, 4, 0, 0);	/* an earlier 100's */
	/* a child that exec'd after its parent ended: found through the
	 * ring of its program before the exec, which names its parent */
	ring("tattach-101.ring", 101, 6, 0, 0);
	ring("tattach-101.6.image1.ring", 101, 6, 100, 5);
	ring("tattach-102.ring", 102, 7, 101, 6);		/* forked by 101's new program */
	/* a kept image that cannot be read: listed by its name */
	junk("tattach-101.6.image2.ring");
	junk("tattach-100.5.image3.ring");
	junk("tattach-103.9.image1.ring");			/* of no one here */

	n = ringtree_descendants(100, 5, &v);
	cr_assert_eq(n, 4, "%s", listing(v, n));
	cr_assert_str_eq(listing(v, n), "101.1/1 101.2/1 101.0/1 102.0/2");
	cr_assert_eq(v[0].parent_pid, 100);
	cr_assert_eq(v[1].parent_pid, 0, "the unreadable one names no parent");
	cr_assert_eq(v[1].start_time, 6);
	cr_assert(strstr(v[1].path, "/tattach-101.6.image2.ring"), "%s", v[1].path);
	free(v);

	n = ringtree_family(100, 5, &v);
	cr_assert_str_eq(listing(v, n), "100.1/0 100.2/0 100.3/0 101.1/1 101.2/1 101.0/1 102.0/2");
	free(v);

	/* from the middle: the child's own programs before, then its child */
	n = ringtree_family(101, 6, &v);
	cr_assert_str_eq(listing(v, n), "101.1/0 101.2/0 102.0/1");
	free(v);
	/* no kept image, no descendant */
	cr_assert_eq(ringtree_family(102, 7, &v), 0);
	cr_assert_null(v);
}

Test(ringtree, kept_image_names)
{
	pid_t pid = 0;
	uint64_t start = 0;
	unsigned image = 0;

	cr_assert_eq(ringname_image("tattach-42.7718733.image3.ring", &pid, &start, &image), 1);
	cr_assert_eq(pid, 42);
	cr_assert_eq(start, 7718733);
	cr_assert_eq(image, 3);
	cr_assert_eq(ringname_image_of("/dev/shm/tattach-42.7718733.image12.ring"), 12);
	cr_assert_eq(ringname_image_of("tattach-42.7718733.image1.ring"), 1);
	cr_assert_eq(ringname_image_of("/dev/shm/tattach-42.ring"), 0);
	cr_assert_eq(ringname_image_of("/dev/shm/tattach-42.7718733.ring"), 0);
	cr_assert_eq(ringname_image_of("/x.image1.ring/tattach-42.ring"), 0);
	cr_assert_eq(ringname_image_of("/dev/shm/tattach-42.7718733.image1.ring.bak"), 0);
	cr_assert_eq(ringname_image_of("/dev/shm/tattach-42.7718733.image0.ring"), 0);
	cr_assert_eq(ringname_image_of("/dev/shm/copy.ring"), 0);
	cr_assert_eq(ringname_image("tattach-0.1.image1.ring", NULL, NULL, NULL), 0);
}
