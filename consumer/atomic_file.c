// SPDX-License-Identifier: MIT
/*
 * Temporary file + rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consumer/atomic_file.h"

int tread_atomic_open(struct tread_atomic_file *af, const char *path,
		      char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	memset(af, 0, sizeof(*af));
	/* Renaming over a folder would fail only at the end: say it now. */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a folder", path);
		return -EISDIR;
	}
	af->path = strdup(path);
	if (!af->path || asprintf(&af->tmp, "%s.tmp-XXXXXX", path) < 0) {
		af->tmp = NULL;
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	fd = mkstemp(af->tmp);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		free(af->tmp);
		af->tmp = NULL;
		goto fail;
	}
	/* mkstemp makes it 0600; a trace file is as readable as others. */
	{
		mode_t mask = umask(0);

		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	af->f = fdopen(fd, "w");
	if (!af->f) {
		ret = -errno;
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	tread_atomic_abort(af);
	return ret;
}

int tread_atomic_commit(struct tread_atomic_file *af, char *err, size_t errlen)
{
	int ret = 0;

	errno = 0;
	if (fflush(af->f) == EOF || ferror(af->f))
		ret = errno ? -errno : -EIO;
	else if (fsync(fileno(af->f)) < 0 && errno != EINVAL)
		ret = -errno;
	if (fclose(af->f) == EOF && !ret)
		ret = errno ? -errno : -EIO;
	af->f = NULL;
	if (!ret && rename(af->tmp, af->path) < 0)
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "%s: write error: %s", af->path, strerror(-ret));
		tread_atomic_abort(af);
		return ret;
	}
	free(af->tmp);
	free(af->path);
	af->tmp = af->path = NULL;
	return 0;
}

void tread_atomic_abort(struct tread_atomic_file *af)
{
	if (af->f)
		fclose(af->f);
	if (af->tmp)
		unlink(af->tmp);
	free(af->tmp);
	free(af->path);
	memset(af, 0, sizeof(*af));
}
