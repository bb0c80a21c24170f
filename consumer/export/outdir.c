// SPDX-License-Identifier: MIT
/*
 * Export folders written atomically: see outdir.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consumer/export/outdir.h"

void xdir_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* 0 when @path does not exist or is an empty folder, else -errno. */
static int check_free(const char *path, const char *what, char *err, size_t errlen)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int ret = 0;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		xdir_err(err, errlen, "%s export: cannot use '%s': %s", what, path,
			 strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		xdir_err(err, errlen, "%s export: '%s' exists and is not a folder; "
			 "give -o a new folder name", what, path);
		return -ENOTDIR;
	}
	dir = opendir(path);
	if (!dir) {
		ret = -errno;
		xdir_err(err, errlen, "%s export: cannot read folder '%s': %s", what,
			 path, strerror(-ret));
		return ret;
	}
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			xdir_err(err, errlen, "%s export: folder '%s' exists and is not "
				 "empty; give -o a new folder or remove it", what, path);
			ret = -EEXIST;
			break;
		}
	}
	closedir(dir);
	return ret;
}

int xdir_begin(struct xdir *d, const char *out, const char *what,
	       char *err, size_t errlen)
{
	size_t len;
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (!out || !*out) {
		xdir_err(err, errlen, "%s export: no output folder; give -o DIR", what);
		return -EINVAL;
	}
	ret = check_free(out, what, err, errlen);
	if (ret)
		return ret;

	d->final = strdup(out);
	if (!d->final)
		goto nomem;
	/* "DIR/" and "DIR" name the same folder; the temporary one is its sibling. */
	len = strlen(d->final);
	while (len > 1 && d->final[len - 1] == '/')
		d->final[--len] = '\0';
	if (asprintf(&d->tmp, "%s.tmp-XXXXXX", d->final) < 0) {
		d->tmp = NULL;
		goto nomem;
	}
	if (!mkdtemp(d->tmp)) {
		ret = -errno;
		xdir_err(err, errlen, "%s export: cannot create folder next to '%s': %s",
			 what, d->final, strerror(-ret));
		goto fail;
	}
	d->fd = open(d->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		ret = -errno;
		xdir_err(err, errlen, "%s export: cannot open '%s': %s", what, d->tmp,
			 strerror(-ret));
		rmdir(d->tmp);
		goto fail;
	}
	return 0;

nomem:
	ret = -ENOMEM;
	xdir_err(err, errlen, "%s export: out of memory", what);
fail:
	free(d->final);
	free(d->tmp);
	d->final = d->tmp = NULL;
	return ret;
}

FILE *xdir_create(struct xdir *d, const char *name, char *err, size_t errlen)
{
	FILE *f;
	int fd, e;

	fd = openat(d->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		xdir_err(err, errlen, "cannot create '%s/%s': %s", d->final, name,
			 strerror(e));
		errno = e;
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		xdir_err(err, errlen, "cannot write '%s/%s': %s", d->final, name,
			 strerror(e));
		errno = e;
	}
	return f;
}

int xdir_close(struct xdir *d, FILE *f, const char *name, char *err, size_t errlen)
{
	int e = 0;

	/* A full disk shows up at the last flush or at fsync, not at fprintf. */
	if (fflush(f) != 0 || ferror(f))
		e = errno ? errno : EIO;
	else if (fsync(fileno(f)) < 0)
		e = errno;
	if (fclose(f) != 0 && !e)
		e = errno;
	if (e) {
		xdir_err(err, errlen, "cannot write '%s/%s': %s", d->final, name,
			 strerror(e));
		return -e;
	}
	return 0;
}

int xdir_commit(struct xdir *d, char *err, size_t errlen)
{
	int ret;

	fsync(d->fd);
	if (rename(d->tmp, d->final) < 0) {
		ret = -errno;
		if (ret == -ENOTEMPTY || ret == -EEXIST)
			xdir_err(err, errlen, "folder '%s' appeared and is not empty while "
				 "the export was written; nothing was written there", d->final);
		else
			xdir_err(err, errlen, "cannot rename '%s' to '%s': %s", d->tmp,
				 d->final, strerror(-ret));
		xdir_discard(d);
		return ret;
	}
	close(d->fd);
	free(d->tmp);
	free(d->final);
	d->fd = -1;
	d->tmp = d->final = NULL;
	return 0;
}

void xdir_discard(struct xdir *d)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	if (!d->tmp)
		return;
	/* Only the flat set of files this export created lives here. */
	fd = dup(d->fd);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir) {
		while ((de = readdir(dir))) {
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(d->fd, de->d_name, 0);
		}
		closedir(dir);
	} else if (fd >= 0) {
		close(fd);
	}
	close(d->fd);
	rmdir(d->tmp);
	free(d->tmp);
	free(d->final);
	d->fd = -1;
	d->tmp = d->final = NULL;
}
