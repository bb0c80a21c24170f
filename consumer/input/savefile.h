/* SPDX-License-Identifier: MIT */
/*
 * Saved traces: one self-contained file, written by `tread --save FILE`
 * and read by `tread -i FILE` on any machine, without the traced binaries.
 *
 * The file is a header and typed sections (docs/trace-file-format.md):
 * a compact ring image (ring_snapshot.h) that the ring reader, the graph,
 * the report and the exports read unchanged, and what the ring leaves to
 * the machine it was made on: the names and source lines of the sites
 * that occur, the threads' names, the host, the program, where each
 * module starts.
 *
 * A saved file may come from anywhere: it is checked like a ring file,
 * every count and offset against the file's real size, and a problem is
 * one line in @err.
 */
#ifndef TATTACH_CONSUMER_SAVEFILE_H
#define TATTACH_CONSUMER_SAVEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "consumer/input/trace_input.h"

#define TREAD_SAVE_MAGIC "TATTSAVE"	/* 8 bytes, no NUL */
#define TREAD_SAVE_MAJOR 1		/* a reader refuses another major */
#define TREAD_SAVE_MINOR 0		/* additions a reader may ignore */

enum tread_save_section_type {
	TREAD_SEC_RING    = 1,	/* the ring image (required, once) */
	TREAD_SEC_PROCESS = 2,	/* "key\0value\0" pairs: host, exe, comm... */
	TREAD_SEC_THREADS = 3,	/* struct tread_save_thread[] */
	TREAD_SEC_SITES   = 4,	/* struct tread_save_sites + entries + strings */
	TREAD_SEC_MODULES = 5,	/* struct tread_save_module[] */
};

/* Section flag: a reader that does not know the type must refuse the file. */
#define TREAD_SEC_REQUIRED 1u

struct tread_save_header {
	char     magic[8];	/* TREAD_SAVE_MAGIC */
	uint16_t major;
	uint16_t minor;
	uint32_t header_size;	/* the first section starts here (8-aligned) */
	uint64_t file_size;
	uint32_t section_count;
	uint32_t flags;		/* 0 */
};

struct tread_save_section {
	uint32_t type;		/* enum tread_save_section_type */
	uint32_t flags;		/* TREAD_SEC_REQUIRED */
	uint64_t size;		/* payload bytes; the next section starts at
				 * the 8-aligned end of the payload */
};

struct tread_save_thread {
	int32_t tid;
	char    name[TREAD_COMM_MAX];	/* NUL-padded */
};

struct tread_save_sites {
	uint32_t count;		/* entries after this struct */
	uint32_t reserved;
};

struct tread_save_site {
	uint32_t site;		/* index into the ring's site table */
	uint32_t line;		/* 0 when unknown */
	uint32_t name_off;	/* into the strings after the entries */
	uint32_t file_off;	/* TREAD_SAVE_NO_FILE when unknown */
};
#define TREAD_SAVE_NO_FILE UINT32_MAX

struct tread_save_module {
	uint32_t index;		/* into the ring's module table */
	uint32_t reserved;
	uint64_t base;		/* runtime start of its first mapping */
};

/* 1 if the file at @path starts like a saved trace, 0 if not, -errno. */
int tread_saved_probe(const char *path);

/*
 * tread_saved_open - fill @in (path set, the rest zero) from a saved
 * trace: the file at in->path, or @buf/@len when @buf is not NULL (copied)
 *
 * Returns 0, -EBADMSG with "<why>" in @err for a file that is not a
 * usable saved trace, -EPROTONOSUPPORT for a newer format, -ENOMEM, or
 * -errno from reading the file.
 */
int tread_saved_open(struct tread_input *in, const void *buf, size_t len,
		     char *err, size_t errlen);

void tread_saved_free(struct tread_saved *s);

/*
 * tread_save - write @in as a saved trace at @path
 *
 * Written to a temporary file in the same folder and renamed over @path
 * when complete, so a failure leaves nothing behind.
 * Returns 0 or -errno with "<why>" in @err.
 */
int tread_save(const struct tread_input *in, const char *path, char *err,
	       size_t errlen);

#endif /* TATTACH_CONSUMER_SAVEFILE_H */
