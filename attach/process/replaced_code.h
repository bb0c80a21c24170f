/* SPDX-License-Identifier: MIT */
/*
 * Stack walks through code whose file was replaced on disk since it was
 * loaded: an upgraded libc, a rebuilt program.  The kernel shows such a
 * mapping as "PATH (deleted)", and libunwind's ptrace accessors, which
 * open PATH, find neither unwind tables nor names for it: a walk stopped
 * at the first frame in it (every thread blocked in a libc call, after a
 * libc upgrade).  The tables are in the process's memory all the same
 * (.eh_frame_hdr and .eh_frame, mapped from the same file): given to
 * libunwind as a remote table, they are searched there.  Names come from
 * the file mapped, opened through /proc/PID/map_files.
 */
#ifndef TATTACH_ATTACH_PROCESS_REPLACED_CODE_H
#define TATTACH_ATTACH_PROCESS_REPLACED_CODE_H

#include <libunwind.h>
#include <stdint.h>
#include <sys/types.h>

struct sym_resolver;

/* One executable mapping of a replaced file; zeroed, then filled on
 * first use. */
struct replaced_code {
	pid_t pid;
	uint64_t lo, hi, offset;	/* the mapping, and its file offset */
	int loaded;			/* tried: what follows is known */
	uint64_t bias;			/* runtime = ELF vaddr + bias */
	uint64_t eh_frame_hdr;		/* runtime, 0: no table to search */
	uint64_t fde_count;
	struct sym_resolver *sym;	/* its names, or NULL */
};

/* libunwind's find_proc_info for @ip in @rc's mapping, searching the
 * table in the process's memory (through the accessors of @as, @arg). */
int replaced_code_proc_info(struct replaced_code *rc, unw_addr_space_t as, unw_word_t ip,
			    unw_proc_info_t *pi, int need_unwind_info, void *arg);
/* The name of the function at @ip, as get_proc_name gives it. */
int replaced_code_name(struct replaced_code *rc, unw_word_t ip, char *buf, size_t len,
		       unw_word_t *off);
void replaced_code_free(struct replaced_code *rc);

#endif /* TATTACH_ATTACH_PROCESS_REPLACED_CODE_H */
