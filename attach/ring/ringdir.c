// SPDX-License-Identifier: MIT
/*
 * The ring folder over time.  Names:
 *
 *   tattach-PID.ring          the ring of the process now or last with PID
 *   tattach-PID.START.ring    the ring of an exited process, kept when a new
 *                             process with the same pid was traced
 *   tattach-PID.START.imageN.ring
 *                             the ring of a program the process ran before
 *                             an exec (N: 1 for the first), kept when its
 *                             new program was traced
 *   .tattach-PID.XXXXXX       a ring being made (left by a killed run)
 *
 * Whether a ring's process still runs is told by its pid AND its start
 * time (both in the header): a pid alone may belong to a newer process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "attach/log.h"
#include "attach/process/proc.h"
#include "attach/ring/ringdir.h"
#include "attach/ring/ringfile.h"
#include "ringfiles/ringfiles.h"
#include "ringfiles/ringname.h"

void ringdir_kept_name(pid_t pid, uint64_t start_time, char *buf, size_t len)
{
	snprintf(buf, len, "%s/tattach-%d.%llu.ring", ringfiles_dir(), (int)pid,
		 (unsigned long long)start_time);
}

int ringdir_process_alive(pid_t pid, uint64_t start_time)
{
	struct proc_stat st;

	return proc_read_stat(pid, &st) == 0 && st.start_time == start_time &&
	       proc_live_thread(pid) != 0;
}

/* What one file of the folder is. */
struct ring_entry {
	char name[256];
	pid_t pid;		/* from the name */
	int temporary;		/* .tattach-PID.XXXXXX */
	struct stat st;
	int readable;		/* header read and valid */
	struct tat_ring_header hdr;
	int alive;		/* its process still runs (readable only) */
};

/* tattach-PID.ring, tattach-PID.START.ring, tattach-PID.START.imageN.ring
 * or .tattach-PID.XXXXXX */
static int parse_name(const char *name, pid_t *pid, int *temporary)
{
	unsigned long long start;
	int p, n = 0;

	*temporary = 0;
	if (sscanf(name, ".tattach-%d.%*6[A-Za-z0-9]%n", &p, &n) == 1 && n &&
	    !name[n] && p > 0) {
		*temporary = 1;
		*pid = p;
		return 1;
	}
	n = 0;
	if (sscanf(name, "tattach-%d.ring%n", &p, &n) == 1 && n && !name[n] && p > 0) {
		*pid = p;
		return 1;
	}
	n = 0;
	if (sscanf(name, "tattach-%d.%llu.ring%n", &p, &start, &n) == 2 && n && !name[n] &&
	    p > 0) {
		*pid = p;
		return 1;
	}
	return ringname_image(name, pid, NULL, NULL);
}

static void inspect(int dirfd, struct ring_entry *e)
{
	int fd = openat(dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	e->readable = 0;
	e->alive = 0;
	if (fd < 0)
		return;
	if (fstat(fd, &e->st) == 0 && S_ISREG(e->st.st_mode) && !e->temporary &&
	    ringfiles_read_header(fd, &e->hdr) == 0 && e->hdr.pid == e->pid) {
		e->readable = 1;
		e->alive = ringdir_process_alive(e->pid, e->hdr.start_time);
	}
	close(fd);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct ring_entry *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Every ring-like file of the folder, sorted by pid; *v is malloc'ed. */
static int scan(struct ring_entry **v, size_t *n, int *dir_fd)
{
	size_t cap = 32, cnt = 0;
	struct ring_entry *e = malloc(cap * sizeof(*e));
	struct dirent *de;
	DIR *d;

	if (!e)
		return -ENOMEM;
	d = opendir(ringfiles_dir());
	if (!d) {
		int err = -errno;

		free(e);
		return err;
	}
	while ((de = readdir(d))) {
		struct ring_entry *x;
		pid_t pid;
		int tmp;

		if (!parse_name(de->d_name, &pid, &tmp))
			continue;
		if (cnt == cap) {
			struct ring_entry *ne = realloc(e, 2 * cap * sizeof(*e));

			if (!ne) {
				free(e);
				closedir(d);
				return -ENOMEM;
			}
			e = ne;
			cap *= 2;
		}
		x = &e[cnt];
		memset(x, 0, sizeof(*x));
		snprintf(x->name, sizeof(x->name), "%s", de->d_name);
		x->pid = pid;
		x->temporary = tmp;
		if (fstatat(dirfd(d), x->name, &x->st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone meanwhile */
		inspect(dirfd(d), x);
		cnt++;
	}
	*dir_fd = dup(dirfd(d));
	closedir(d);
	qsort(e, cnt, sizeof(*e), entry_cmp);
	*v = e;
	*n = cnt;
	return *dir_fd < 0 ? -errno : 0;
}

/* Bytes the file really takes in memory (tmpfs): its allocated blocks. */
static uint64_t resident(const struct ring_entry *e)
{
	return (uint64_t)e->st.st_blocks * 512;
}

static void human_size(uint64_t b, char *buf, size_t len)
{
	if (b >= (1ull << 30))
		snprintf(buf, len, "%.1f GiB", b / 1073741824.0);
	else if (b >= (1ull << 20))
		snprintf(buf, len, "%.1f MiB", b / 1048576.0);
	else
		snprintf(buf, len, "%.1f KiB", b / 1024.0);
}

static void human_age(double secs, char *buf, size_t len)
{
	long s = secs < 0 ? 0 : (long)secs;

	if (s < 60)
		snprintf(buf, len, "%lds", s);
	else if (s < 3600)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

/* Seconds since the ring was made: its calibration time, else its mtime. */
static double age_of(const struct ring_entry *e)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (e->readable && e->hdr.calib_real_ns)
		return now.tv_sec + now.tv_nsec / 1e9 - e->hdr.calib_real_ns / 1e9;
	return difftime(now.tv_sec, e->st.st_mtime);
}

static const char *process_state(const struct ring_entry *e)
{
	if (e->temporary)
		return "making";	/* or left by a killed run */
	if (!e->readable)
		return "unknown";
	return e->alive ? "running" : "exited";
}

int ringdir_list(FILE *out)
{
	struct ring_entry *v;
	uint64_t dead_bytes = 0;
	size_t n, dead = 0;
	int dfd, ret = scan(&v, &n, &dfd);

	if (ret) {
		pr_err("cannot read the ring folder %s: %s", ringfiles_dir(), strerror(-ret));
		return ret;
	}
	close(dfd);
	fprintf(out, "%-8s %-6s %-8s %10s %8s %7s  %s\n", "PID", "UID", "PROCESS", "MEMORY",
		"AGE", "PARENT", "FILE");
	for (size_t i = 0; i < n; i++) {
		const struct ring_entry *e = &v[i];
		char size[32], age[32], parent[16] = "-";

		human_size(resident(e), size, sizeof(size));
		human_age(age_of(e), age, sizeof(age));
		/* a fork child's ring names the traced process it came from */
		if (e->readable && e->hdr.parent_pid > 0)
			snprintf(parent, sizeof(parent), "%d", (int)e->hdr.parent_pid);
		fprintf(out, "%-8d %-6u %-8s %10s %8s %7s  %s/%s\n", (int)e->pid,
			(unsigned)e->st.st_uid, process_state(e), size, age, parent,
			ringfiles_dir(), e->name);
		if (e->readable && !e->alive) {
			dead++;
			dead_bytes += resident(e);
		}
	}
	{
		char size[32];

		human_size(dead_bytes, size, sizeof(size));
		fprintf(out, "%zu ring file%s; %zu of exited processes, using %s", n,
			n == 1 ? "" : "s", dead, size);
		fprintf(out, dead ? " (remove them with 'tattach --clean')\n" : "\n");
	}
	free(v);
	return 0;
}

/*
 * Remove @e if the name still leads to the very file we looked at (a new
 * process with that pid may have been traced meanwhile).
 */
static int remove_checked(int dfd, const struct ring_entry *e)
{
	struct stat now;

	if (fstatat(dfd, e->name, &now, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (now.st_ino != e->st.st_ino || now.st_dev != e->st.st_dev)
		return -EAGAIN;
	return unlinkat(dfd, e->name, 0) < 0 ? -errno : 0;
}

/* May @e go: its process has exited?  Never when that cannot be told. */
static int is_stale(const struct ring_entry *e)
{
	struct proc_stat st;

	if (e->readable)
		return !e->alive;
	/* unreadable, foreign format or temporary: only if no process at
	 * all has its pid (any process with it might be its own) */
	return S_ISREG(e->st.st_mode) && proc_read_stat(e->pid, &st) == -ENOENT;
}

int ringdir_clean(FILE *out)
{
	struct ring_entry *v;
	uint64_t freed = 0;
	size_t n, removed = 0, kept = 0, failed = 0;
	int dfd, first = 0, ret = scan(&v, &n, &dfd);
	char size[32];

	if (ret) {
		pr_err("cannot read the ring folder %s: %s", ringfiles_dir(), strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ring_entry *e = &v[i];

		if (!is_stale(e)) {
			kept++;
			continue;
		}
		ret = remove_checked(dfd, e);
		if (ret == -ENOENT || ret == -EAGAIN) {
			kept += ret == -EAGAIN;
			continue;
		}
		if (ret) {
			pr_err("cannot remove %s/%s (uid %u): %s", ringfiles_dir(), e->name,
			       (unsigned)e->st.st_uid, strerror(-ret));
			failed++;
			if (!first)
				first = ret;
			continue;
		}
		fprintf(out, "removed %s/%s\n", ringfiles_dir(), e->name);
		removed++;
		freed += resident(e);
	}
	close(dfd);
	free(v);
	human_size(freed, size, sizeof(size));
	fprintf(out, "tattach: removed %zu ring file%s of exited processes (%s freed), "
		"kept %zu of running processes", removed, removed == 1 ? "" : "s", size, kept);
	fprintf(out, failed ? ", %zu could not be removed\n" : "\n", failed);
	return first;
}

/*
 * The kept ring @path says in its header which image it is, so that a
 * copy under any name still does (the name alone is lost in a copy).
 * Nothing maps it for writing any more: its process exec'd.  A failure
 * only loses that; the name still says it.
 */
static void mark_image(const char *path, uint32_t image)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0)
		n = pwrite(fd, &image, sizeof(image), offsetof(struct tat_ring_header, image));
	if (n != (ssize_t)sizeof(image))
		pr_warn("%s: could not write its image number into it (%s); its name "
			"still says it", path, n < 0 ? strerror(errno) : "a short write");
	if (fd >= 0)
		close(fd);
}

int ringdir_keep_image(pid_t pid, uint64_t start_time, char *kept_as, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/tattach-%d.ring", ringfiles_dir(), (int)pid);
	for (unsigned image = 1; image < 1000; image++) {
		snprintf(kept_as, len, "%s/tattach-%d.%llu.image%u.ring", ringfiles_dir(),
			 (int)pid, (unsigned long long)start_time, image);
		if (renameat2(AT_FDCWD, path, AT_FDCWD, kept_as, RENAME_NOREPLACE) == 0) {
			mark_image(kept_as, image);
			return 1;
		}
		if (errno == ENOENT)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int ringdir_set_aside(pid_t pid, uint64_t start_time, char *kept_as, size_t len,
		      uid_t *owner)
{
	struct tat_ring_header h;
	struct stat st, again;
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/tattach-%d.ring", ringfiles_dir(), (int)pid);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* none, a symlink, or unreadable: not ours to judge */
	ret = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	      ringfiles_read_header(fd, &h) || h.pid != pid || h.start_time == start_time;
	close(fd);
	if (ret)
		return 0;
	*owner = st.st_uid;
	ringdir_kept_name(pid, h.start_time, kept_as, len);
	/* the very file we read, not one put there since */
	if (lstat(path, &again) < 0 || again.st_ino != st.st_ino || again.st_dev != st.st_dev)
		return -EAGAIN;
	if (renameat2(AT_FDCWD, path, AT_FDCWD, kept_as, RENAME_NOREPLACE) < 0)
		return -errno;
	return 1;
}
