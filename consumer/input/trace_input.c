// SPDX-License-Identifier: MIT
/*
 * Opening a ring file or a saved trace, and gathering what this machine
 * knows about the process a ring belongs to.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringfiles/ringname.h"
#include "symbols/module_base.h"
#include "consumer/errmsg.h"
#include "consumer/input/proc_alive.h"
#include "consumer/input/savefile.h"
#include "consumer/input/trace_input.h"


/* The first line of a small /proc file, without its newline; 0 or -1. */
static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Thread names from /proc/PID/task/TID/comm; missing ones stay unknown. */
static int read_thread_names(struct tread_input *in, int pid)
{
	char path[96];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct tread_input_thread *t;
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0)
			continue;
		if (in->nthreads == cap) {
			size_t ncap = cap ? cap * 2 : 16;

			t = reallocarray(in->threads, ncap, sizeof(*t));
			if (!t) {
				closedir(d);
				return -ENOMEM;
			}
			in->threads = t;
			cap = ncap;
		}
		t = &in->threads[in->nthreads];
		t->tid = (int32_t)tid;
		snprintf(path, sizeof(path), "/proc/%d/task/%ld/comm", pid, tid);
		if (read_line(path, t->name, sizeof(t->name)))
			continue;	/* the thread ended meanwhile */
		in->nthreads++;
	}
	closedir(d);
	return 0;
}

/* What this machine knows about the process of a ring. */
static int describe_ring_process(struct tread_input *in)
{
	const struct tat_ring_header *h = &in->ring->hdr;
	struct tread_module m;
	char path[64];
	ssize_t n;

	if (gethostname(in->host, sizeof(in->host)) < 0)
		in->host[0] = 0;
	in->host[sizeof(in->host) - 1] = 0;
	/* A kept earlier program has ended, whatever its process does now:
	 * /proc/PID shows the program that replaced it (its exe, comm and
	 * threads), not this one. */
	in->alive = !in->image && tread_process_alive(h->pid, h->start_time);
	/* The main program is the first module tattach found (maps order). */
	if (tread_ring_module(in->ring, 0, &m) == 0)
		snprintf(in->exe, sizeof(in->exe), "%s", m.path);
	if (!in->alive)
		goto basename_comm;
	snprintf(path, sizeof(path), "/proc/%d/exe", h->pid);
	n = readlink(path, in->exe, sizeof(in->exe) - 1);
	if (n > 0)
		in->exe[n] = 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", h->pid);
	if (read_line(path, in->comm, sizeof(in->comm)) == 0)
		return read_thread_names(in, h->pid);
basename_comm:
	/* The kernel's comm is the program's base name, cut to 15 bytes. */
	if (in->exe[0]) {
		const char *base = strrchr(in->exe, '/');

		snprintf(in->comm, sizeof(in->comm), "%.15s", base ? base + 1 : in->exe);
	}
	return 0;
}

/*
 * The process whose root the module paths are also tried under (targets
 * in containers), 0 for none: the ring's process while it runs, also for
 * a kept earlier program's ring (an exec keeps the process's root).  The
 * modules themselves always come from the ring's own table, never from
 * the process's memory map, which is of its current program.
 */
static int root_pid_of(const struct tread_input *in)
{
	const struct tat_ring_header *h = &in->ring->hdr;

	if (in->alive || (in->image && tread_process_alive(h->pid, h->start_time)))
		return h->pid;
	return 0;
}

static int module_bases(struct tread_input *in, int root_pid)
{
	const struct tread_ring *ring = in->ring;
	uint32_t count = tread_ring_module_count(ring);
	struct tread_module m;

	in->module_base = calloc(ring->hdr.module_cap ? ring->hdr.module_cap : 1,
				 sizeof(*in->module_base));
	if (!in->module_base)
		return -ENOMEM;
	for (uint32_t i = 0; i < count; i++)
		if (tread_ring_module(ring, i, &m) == 0)
			in->module_base[i] = sym_module_base(m.path, m.load_bias, root_pid);
	return 0;
}

static int open_ring(struct tread_input *in, const struct tread_input_config *c,
		     char *err, size_t errlen)
{
	char why[256];
	int ret, root_pid;

	ret = tread_ring_open_file(in->path, c->writable, &in->ring, why, sizeof(why));
	if (ret == -ENOENT && c->pid)
		return tread_errf(err, errlen, ret, "no ring file %s: is tracing attached? "
			    "run 'tattach -p %d --enable' first", in->path, c->pid);
	if (ret && c->writable && (ret == -EACCES || ret == -EROFS || ret == -EPERM))
		return tread_errf(err, errlen, ret, "%s: cannot open for writing "
			    "(--follow moves the read position): %s", in->path, why);
	if (ret == -EBADMSG)
		return tread_errf(err, errlen, ret, "%s: corrupt ring file: %s", in->path, why);
	if (ret)
		return tread_errf(err, errlen, ret, "%s: %s", in->path, why);
	/* -p PID names the file; its header names the process it records */
	if (c->pid && in->ring->hdr.pid != c->pid)
		return tread_errf(err, errlen, -EXDEV, "%s is the ring file of pid %d, not of "
			    "pid %d (renamed or copied there?): read it with 'tread -i %s'",
			    in->path, (int)in->ring->hdr.pid, c->pid, in->path);

	/* the header says it (a copy of a kept ring too); files kept before
	 * it did say it by their name alone */
	in->image = in->ring->hdr.image ? in->ring->hdr.image : ringname_image_of(in->path);
	ret = describe_ring_process(in);
	root_pid = root_pid_of(in);
	if (!ret)
		ret = module_bases(in, root_pid);
	if (!ret)
		/* Module paths are the target's view: usable through its root. */
		ret = tread_site_names_open(in->ring, root_pid, c->warn, c->warn_arg,
					    &in->names);
	if (ret)
		return tread_errf(err, errlen, ret, "out of memory");
	return 0;
}

int tread_input_open(const char *path, const struct tread_input_config *c,
		     struct tread_input **out, char *err, size_t errlen)
{
	struct tread_input *in = calloc(1, sizeof(*in));
	char why[512];
	int ret, is_saved;

	*out = NULL;
	if (!in)
		return tread_errf(err, errlen, -ENOMEM, "out of memory");
	in->path = path;
	is_saved = tread_saved_probe(path);
	if (is_saved > 0 && c->writable) {
		ret = tread_errf(err, errlen, -EROFS, "%s: a saved trace cannot be "
			   "followed (-f is for live ring files)", path);
	} else if (is_saved > 0) {
		ret = tread_saved_open(in, NULL, 0, why, sizeof(why));
		if (ret)
			tread_errf(err, errlen, ret, "%s: %s", path, why);
	} else {
		ret = open_ring(in, c, err, errlen);
	}
	if (ret) {
		tread_input_close(in);
		return ret;
	}
	*out = in;
	return 0;
}

int tread_input_open_saved_buffer(const char *name, const void *buf, size_t len,
				  struct tread_input **out, char *err, size_t errlen)
{
	struct tread_input *in = calloc(1, sizeof(*in));
	int ret;

	*out = NULL;
	if (!in)
		return tread_errf(err, errlen, -ENOMEM, "out of memory");
	in->path = name;
	ret = tread_saved_open(in, buf, len, err, errlen);
	if (ret) {
		tread_input_close(in);
		return ret;
	}
	*out = in;
	return 0;
}

void tread_input_close(struct tread_input *in)
{
	if (!in)
		return;
	tread_site_names_close(in->names);
	tread_ring_close(in->ring);
	tread_saved_free(in->saved_file);
	free(in->threads);
	free(in->module_base);
	free(in);
}

const char *tread_input_thread_name(const struct tread_input *in, int32_t tid)
{
	for (size_t i = 0; i < in->nthreads; i++)
		if (in->threads[i].tid == tid)
			return in->threads[i].name;
	return "";
}

bool tread_input_writer_gone(const struct tread_input *in)
{
	/* nothing writes a kept earlier program's ring: it ran before an exec */
	if (in->saved || in->image)
		return true;
	return !tread_process_alive(in->ring->hdr.pid, in->ring->hdr.start_time);
}
