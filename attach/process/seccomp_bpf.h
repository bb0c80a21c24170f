/* SPDX-License-Identifier: MIT */
/*
 * Running a seccomp filter (classic BPF, as the kernel accepts it) on one
 * system call, outside the kernel: what would the process's filters answer
 * if it made this call?
 */
#ifndef TATTACH_SECCOMP_BPF_H
#define TATTACH_SECCOMP_BPF_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* struct seccomp_data, with what tattach knows of each field. */
struct scmp_call {
	int nr;
	uint32_t arch;
	uint64_t ip;
	uint64_t args[6];
	unsigned known;		/* SCMP_KNOWN_ARG(i), SCMP_KNOWN_IP */
};

#define SCMP_KNOWN_ARG(i) (1u << (i))
#define SCMP_KNOWN_IP     (1u << 6)

enum scmp_verdict {
	SCMP_OK,		/* ran to a return */
	SCMP_UNKNOWN,		/* it read a field tattach cannot know */
	SCMP_INVALID,		/* not a program the kernel would run */
};

/*
 * scmp_run - run the filter @prog (@len instructions) on @call.  Sets
 * *@ret to its return value (SECCOMP_RET_*), and *@field to the offset in
 * struct seccomp_data of the unknown field read (SCMP_UNKNOWN).
 */
enum scmp_verdict scmp_run(const struct sock_filter *prog, size_t len,
			   const struct scmp_call *call, uint32_t *ret, unsigned *field);

/* Of two filter results, the one the kernel acts on (the strictest). */
uint32_t scmp_strictest(uint32_t a, uint32_t b);

#endif
