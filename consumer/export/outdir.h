/* SPDX-License-Identifier: MIT */
/*
 * An export folder written all at once or not at all.
 *
 * The files go into DIR.tmp-XXXXXX next to DIR; only when every one of
 * them is written and closed is that folder renamed to DIR (rename(2)
 * replaces an empty directory atomically).  On any failure the temporary
 * folder and what it holds are removed, so a reader never sees half an
 * export.  A DIR that exists and holds anything is refused up front.
 *
 * Errors are one line in @err, without the program name (the caller
 * prints "tread: <err>"), and the functions return -errno.
 */
#ifndef TATTACH_CONSUMER_EXPORT_OUTDIR_H
#define TATTACH_CONSUMER_EXPORT_OUTDIR_H

#include <stddef.h>
#include <stdio.h>

struct xdir {
	char *final;		/* DIR as the user gave it */
	char *tmp;		/* DIR.tmp-XXXXXX while being written */
	int   fd;		/* open on tmp, for openat() */
};

/* Refuse a non-empty @out, then create the temporary folder. */
int xdir_begin(struct xdir *d, const char *out, const char *what,
	       char *err, size_t errlen);

/* A new file @name in the folder, opened for writing; NULL + @err. */
FILE *xdir_create(struct xdir *d, const char *name, char *err, size_t errlen);

/* fclose() @f and report a write error that stdio kept until now. */
int xdir_close(struct xdir *d, FILE *f, const char *name,
	       char *err, size_t errlen);

/* Flush to disk and rename the folder to its final name. */
int xdir_commit(struct xdir *d, char *err, size_t errlen);

/* Remove the temporary folder and everything in it (after a failure). */
void xdir_discard(struct xdir *d);

/* printf into @err, for exporters' own messages. */
void xdir_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* TATTACH_CONSUMER_EXPORT_OUTDIR_H */
