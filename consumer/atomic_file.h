/* SPDX-License-Identifier: MIT */
/*
 * Writing a file all or nothing: into a temporary name in the same
 * folder, renamed over the real name only when everything was written
 * and flushed.  A failure (or a crash) never leaves a half-written file
 * under the name the user gave.
 */
#ifndef TATTACH_CONSUMER_ATOMIC_FILE_H
#define TATTACH_CONSUMER_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

struct tread_atomic_file {
	FILE *f;		/* write here */
	char *path;		/* the final name */
	char *tmp;		/* the temporary name */
};

/*
 * tread_atomic_open - start writing @path
 * @err, @errlen: "<path>: <why>" on failure
 *
 * Returns 0 or -errno (the folder is missing or not writable...).
 */
int tread_atomic_open(struct tread_atomic_file *af, const char *path,
		      char *err, size_t errlen);

/*
 * tread_atomic_commit - flush, sync and rename into place
 *
 * Returns 0 or -errno with "<path>: <why>" in @err; on failure the
 * temporary file is removed.  @af is closed either way.
 */
int tread_atomic_commit(struct tread_atomic_file *af, char *err, size_t errlen);

/* Give up: close and remove the temporary file. */
void tread_atomic_abort(struct tread_atomic_file *af);

#endif /* TATTACH_CONSUMER_ATOMIC_FILE_H */
