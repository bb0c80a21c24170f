// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "attach/process/proc.h"

/*
 * While every thread of a process is held, its map cannot change except
 * through the system calls tattach makes it run: one read serves every
 * caller until then (a read costs 0.1-0.3 ms in a VM, and a stop made
 * four).  The live thread proc_path() picks is kept too.
 */
static struct {
	pid_t pid;		/* 0: nothing frozen */
	pid_t live;		/* proc_live_thread(pid), 0 until asked */
	int valid;		/* maps holds the map */
	struct maps maps;
} frozen;

int proc_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (got == (ssize_t)len)
		return 0;
	return got < 0 ? -errno : -EIO;
}

int proc_read_stat(pid_t pid, struct proc_stat *out)
{
	return proc_read_task_stat(pid, 0, out);
}

int proc_read_task_stat(pid_t pid, pid_t tid, struct proc_stat *out)
{
	char path[96], buf[1024], *p;
	unsigned long long start;
	FILE *f;
	int n;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fgets(buf, sizeof(buf), f) ? 0 : -EIO;
	fclose(f);
	if (n)
		return n;
	/* comm may hold spaces and parentheses: parse after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* fields 3.. : state ppid pgrp session tty tpgid flags ... starttime(22) */
	if (sscanf(p + 2, "%c %d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d"
		   " %*d %*d %*d %*d %llu", &out->state, &out->ppid, &out->flags,
		   &start) != 4)
		return -EIO;
	out->start_time = start;
	return 0;
}

int proc_owner(pid_t pid, uid_t *uid, gid_t *gid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) < 0)
		return -errno;
	*uid = st.st_uid;
	*gid = st.st_gid;
	return 0;
}

static int status_line(pid_t pid, pid_t tid, const char *key, char *val, size_t len)
{
	char path[96], line[512];
	size_t klen = strlen(key);
	int ret = -ENOENT;
	FILE *f;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			snprintf(val, len, "%s", line + klen + 1);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int proc_in_child_pid_ns(pid_t pid)
{
	char val[256];
	int ret = status_line(pid, 0, "NSpid", val, sizeof(val));
	long first;
	char *end;

	if (ret)
		return ret;
	first = strtol(val, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	return first > 0 && *end >= '0' && *end <= '9';
}

int proc_status_long(pid_t pid, const char *key, long *value)
{
	char val[256];
	int ret = status_line(pid, 0, key, val, sizeof(val));

	if (ret)
		return ret;
	*value = strtol(val, NULL, 10);
	return 0;
}

int proc_status_hex(pid_t pid, pid_t tid, const char *key, uint64_t *value)
{
	char val[256];
	int ret = status_line(pid, tid, key, val, sizeof(val));

	if (ret)
		return ret;
	*value = strtoull(val, NULL, 16);
	return 0;
}

int proc_tasks(pid_t pid, pid_t **tids, size_t *n)
{
	char path[64];
	struct dirent *de;
	size_t cap = 16, cnt = 0;
	pid_t *v;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	v = malloc(cap * sizeof(*v));
	if (!v) {
		closedir(d);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (cnt == cap) {
			pid_t *nv = realloc(v, 2 * cap * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap *= 2;
		}
		v[cnt++] = atoi(de->d_name);
	}
	closedir(d);
	*tids = v;
	*n = cnt;
	return 0;
}

static int state_is_dead(char state)
{
	return state == 'Z' || state == 'X';
}

int proc_thread_gone(pid_t pid, pid_t tid)
{
	struct proc_stat st;

	return proc_read_task_stat(pid, tid, &st) != 0 || state_is_dead(st.state);
}

pid_t proc_live_thread(pid_t pid)
{
	struct proc_stat st;
	pid_t *tids, found = 0;
	size_t n;

	if (proc_read_stat(pid, &st) == 0 && !state_is_dead(st.state))
		return pid;
	if (proc_tasks(pid, &tids, &n))
		return 0;
	for (size_t i = 0; i < n && !found; i++)
		if (!proc_thread_gone(pid, tids[i]))
			found = tids[i];
	free(tids);
	return found;
}

void proc_path(pid_t pid, const char *file, char *buf, size_t len)
{
	pid_t live;

	if (pid && pid == frozen.pid) {
		if (!frozen.live)
			frozen.live = proc_live_thread(pid);
		live = frozen.live;
	} else {
		live = proc_live_thread(pid);
	}

	if (live && live != pid)
		snprintf(buf, len, "/proc/%d/task/%d/%s", (int)pid, (int)live, file);
	else
		snprintf(buf, len, "/proc/%d/%s", (int)pid, file);
}

int proc_task_syscall(pid_t pid, pid_t tid, struct proc_syscall *out)
{
	char path[96], line[512], *p, *field[9];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p || strncmp(line, "running", 7) == 0)
		return -EAGAIN;
	/* "NR ARG1..ARG6 SP PC", or "-1 SP PC" outside a system call */
	for (p = strtok(line, " \n"); p && n < 9; p = strtok(NULL, " \n"))
		field[n++] = p;
	if (n != 9 && n != 3)
		return -EIO;
	memset(out, 0, sizeof(*out));
	out->nr = strtol(field[0], NULL, 10);
	if (n == 9)
		out->arg1 = strtoull(field[1], NULL, 16);
	out->sp = strtoull(field[n - 2], NULL, 16);
	out->pc = strtoull(field[n - 1], NULL, 16);
	return 0;
}

int proc_thread_in_vfork(pid_t pid, pid_t tid)
{
	struct proc_syscall sc;
	struct proc_stat st;

	/* vfork() waits killable: "D", and the call is still the current one */
	if (proc_read_task_stat(pid, tid, &st) || st.state != 'D' ||
	    proc_task_syscall(pid, tid, &sc))
		return 0;
	switch (sc.nr) {
	case SYS_vfork:
		return 1;
	case SYS_clone:		/* posix_spawn: clone(CLONE_VM | CLONE_VFORK) */
		return (sc.arg1 & CLONE_VFORK) != 0;
	case SYS_clone3:	/* flags are in memory; only CLONE_VFORK blocks here */
		return 1;
	}
	return 0;
}


void proc_maps_freeze(pid_t pid)
{
	proc_maps_thaw();
	frozen.pid = pid;
}

void proc_maps_changed(void)
{
	proc_free_maps(&frozen.maps);
	frozen.valid = 0;
}

void proc_maps_thaw(void)
{
	proc_maps_changed();
	frozen.pid = 0;
	frozen.live = 0;
}

static int read_maps(pid_t pid, struct maps *out);

int proc_read_maps(pid_t pid, struct maps *out)
{
	int ret;

	if (!pid || pid != frozen.pid)
		return read_maps(pid, out);
	if (!frozen.valid) {
		ret = read_maps(pid, &frozen.maps);
		if (ret)
			return ret;
		frozen.valid = 1;
	}
	out->n = frozen.maps.n;
	out->v = malloc((out->n ? out->n : 1) * sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	memcpy(out->v, frozen.maps.v, out->n * sizeof(*out->v));
	return 0;
}

static int read_maps(pid_t pid, struct maps *out)
{
	char path[96], line[4096 + 256];
	size_t cap = 64;
	FILE *f;

	out->n = 0;
	out->v = malloc(cap * sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	/* the leader's maps are empty once it has exited: a live thread's */
	proc_path(pid, "maps", path, sizeof(path));
	f = fopen(path, "re");
	if (!f) {
		int err = -errno;

		free(out->v);
		out->v = NULL;
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, inode;
		char perms[8] = "", name[4096] = "";
		struct map *m;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %llu %4095[^\n]", &start, &end,
			   perms, &off, &inode, name) < 5)
			continue;
		if (out->n == cap) {
			struct map *nv = realloc(out->v, 2 * cap * sizeof(*nv));

			if (!nv) {
				fclose(f);
				proc_free_maps(out);
				return -ENOMEM;
			}
			out->v = nv;
			cap *= 2;
		}
		m = &out->v[out->n++];
		memset(m, 0, sizeof(*m));
		m->start = start;
		m->end = end;
		m->offset = off;
		m->inode = inode;
		m->prot = (perms[0] == 'r' ? PROT_READ : 0) |
			  (perms[1] == 'w' ? PROT_WRITE : 0) |
			  (perms[2] == 'x' ? PROT_EXEC : 0);
		m->shared = perms[3] == 's';
		{
			const char *p = name;

			while (*p == ' ')
				p++;
			snprintf(m->path, sizeof(m->path), "%s", p);
		}
	}
	fclose(f);
	return 0;
}

void proc_free_maps(struct maps *maps)
{
	free(maps->v);
	maps->v = NULL;
	maps->n = 0;
}

const struct map *maps_find(const struct maps *maps, uint64_t addr)
{
	for (size_t i = 0; i < maps->n; i++)
		if (addr >= maps->v[i].start && addr < maps->v[i].end)
			return &maps->v[i];
	return NULL;
}

int map_replaced(const struct map *m)
{
	static const char deleted[] = " (deleted)";
	size_t n = strlen(m->path), d = sizeof(deleted) - 1;

	return n > d && !strcmp(m->path + n - d, deleted);
}

void proc_map_file(pid_t pid, uint64_t start, uint64_t end, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/map_files/%llx-%llx", (int)pid, (unsigned long long)start,
		 (unsigned long long)end);
}
