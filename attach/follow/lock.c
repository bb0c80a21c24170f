// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/follow/lock.h"
#include "attach/log.h"
#include "attach/ring/ringdir.h"
#include "ringfiles/ringfiles.h"

#define LOCK_SIZE 4096

void follow_lock_path(pid_t follower, char *buf, size_t len)
{
	snprintf(buf, len, "%s/tattach-follower-%d.lock", ringfiles_dir(), (int)follower);
}

int follow_lock_take(struct follow_lock *l)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t *m;
	int fd, ret;

	follow_lock_path(getpid(), l->path, sizeof(l->path));
	unlink(l->path);	/* a dead follower's, with our pid */
	/* Readable by all: a root follower's targets may run as anyone, and
	 * all the file says is whether we live. */
	fd = open(l->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		pr_err("cannot create %s: %s", l->path, strerror(errno));
		return ret;
	}
	fchmod(fd, 0644);	/* whatever the umask */
	if (ftruncate(fd, LOCK_SIZE) < 0) {
		ret = -errno;
		goto fail;
	}
	l->map = mmap(NULL, LOCK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (l->map == MAP_FAILED) {
		l->map = NULL;
		ret = -errno;
		goto fail;
	}
	close(fd);
	m = l->map;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	ret = -pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
	if (!ret)
		ret = -pthread_mutex_lock(m);
	/* The word the hooks read is the mutex's first: glibc keeps the
	 * owner's tid there for a robust mutex, and the kernel clears it. */
	if (!ret && !(*(volatile uint32_t *)m & FOLLOW_LOCK_TID_MASK))
		ret = -EPROTO;
	if (ret) {
		pr_err("cannot lock %s: %s", l->path, strerror(-ret));
		munmap(l->map, LOCK_SIZE);
		l->map = NULL;
		unlink(l->path);
	}
	return ret;
fail:
	pr_err("cannot set up %s: %s", l->path, strerror(-ret));
	close(fd);
	unlink(l->path);
	return ret;
}

void follow_lock_drop(struct follow_lock *l)
{
	if (!l->map)
		return;
	pthread_mutex_unlock(l->map);
	munmap(l->map, LOCK_SIZE);
	l->map = NULL;
	unlink(l->path);
}

int follow_lock_held_by(pid_t follower)
{
	char path[256];
	uint32_t word = 0;
	int fd, held;

	follow_lock_path(follower, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	held = pread(fd, &word, sizeof(word), 0) == (ssize_t)sizeof(word) &&
	       (word & FOLLOW_LOCK_TID_MASK) == (uint32_t)follower;
	close(fd);
	return held;
}

/*
 * A follower killed leaves its file (its targets may still map it, which
 * an unlink does not disturb).  Each follower removes, when it starts,
 * the files of followers that are gone: the kernel marked the lock
 * FUTEX_OWNER_DIED, or no process has the pid in the name.  A file just
 * created by a live follower (its lock not taken yet) is neither.
 */
void follow_lock_sweep(void)
{
	const char *dir = ringfiles_dir();
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[512];
		uint32_t word = 0;
		int pid = 0, n = 0, fd, gone;

		if (sscanf(de->d_name, "tattach-follower-%d.lock%n", &pid, &n) != 1 ||
		    de->d_name[n] || pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		gone = pread(fd, &word, sizeof(word), 0) == (ssize_t)sizeof(word) &&
		       (word & FOLLOW_LOCK_OWNER_DIED);
		close(fd);
		if (!gone)
			gone = kill(pid, 0) < 0 && errno == ESRCH;
		if (gone)
			unlink(path);
	}
	closedir(d);
}
