/* SPDX-License-Identifier: MIT */
/*
 * Rewriting sites: the bytes each state has, and the bulk rewrite.
 *
 *   state      5-byte site            6-byte site (ff 15 GOT call)
 *   original   as compiled            ff 15 <rel32>
 *   enabled    e8 <rel32 to tramp>    e8 <rel32 to tramp> 90
 *      or      e9 <rel32 to stub>     (a call-through stub, jmp set)
 *   disabled   0f 1f 44 00 00         0f 1f 44 00 00 90
 *
 * The enabled and disabled forms of a 6-byte site both keep an instruction
 * boundary at +5, where a thread that was inside the trampoline returns.
 */
#ifndef TATTACH_PATCHER_PATCH_H
#define TATTACH_PATCHER_PATCH_H

#include <stddef.h>
#include <stdint.h>

#define PATCH_MAX_LEN 8

struct patch_site {
	uint64_t addr;			/* runtime address */
	uint64_t target;		/* trampoline entry the call goes to */
	uint64_t alt[2];		/* a call to one of these is a known
					 * state too (the site's other trampoline
					 * entries: tattach -A/-R's, the plain
					 * one); 0: none */
	uint64_t alt_jmp;		/* a jmp to this is a known state too
					 * (the site's call-through stub when
					 * target is not); 0: none */
	uint8_t  len;			/* 5 or 6 */
	uint8_t  jmp;			/* enabled is "jmp target" (a stub) */
	uint8_t  orig[PATCH_MAX_LEN];	/* the bytes the compiler left */
	uint32_t index;			/* the caller's name for it (rewrite.c:
					 * the ring's site index), kept in a
					 * preview with the result */
};

enum patch_op { PATCH_ENABLE, PATCH_DISABLE };

enum patch_result {
	PATCH_DONE = 0,		/* rewritten */
	PATCH_ALREADY,		/* was already in the wanted state */
	PATCH_MISMATCH,		/* unexpected bytes: left alone */
	PATCH_UNREACHABLE,	/* target not within rel32 reach: left alone */
};

/* How to reach the target's memory. */
struct patch_io {
	void *ctx;
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t addr, const void *buf, size_t len);
};

struct patch_stats {
	size_t done, already, mismatch, unreachable;
	size_t writes;			/* write calls made */
	size_t previewed;		/* runs whose preview held */
};

/* Fill @out with the enabled form; returns -ERANGE if @target is out of reach. */
int patch_bytes_enabled(uint64_t addr, unsigned len, uint64_t target, uint8_t *out);
/* The same with a jmp (0xe9): a site's call-through stub. */
int patch_bytes_jmp(uint64_t addr, unsigned len, uint64_t target, uint8_t *out);
void patch_bytes_disabled(unsigned len, uint8_t *out);

/*
 * Is @s's first instruction, as the compiler left it (orig), shorter than
 * the call that replaces it: gcc's -fpatchable-function-entry sled of
 * one-byte NOPs?  Only then can a thread be stopped inside the site, or a
 * signal handler's interrupted context be there.  Every form tattach
 * writes (call, jmp, 5-byte NOP) is one instruction.
 */
int patch_orig_is_sled(const struct patch_site *s);

/*
 * A rewrite worked out ahead of time (patch_preview()), while the
 * process still runs: for each run of nearby sites, the bytes it held
 * then, the bytes it is to hold and each site's result.  patch_apply()
 * takes a run's outcome from it only when the run, read again, holds
 * those very bytes: then the outcome is exactly the one it would work
 * out itself, and what was left to do while the process is stopped is
 * one read, one compare and one write per run.
 */
struct patch_run_plan {
	uint64_t start;			/* the run's first byte */
	size_t len;			/* its bytes */
	size_t first, count;		/* its sites, in the array planned */
	uint64_t lo, hi;		/* what changes: [lo, hi), none if hi <= lo */
	size_t at;			/* its bytes in before[] and after[] */
	uint32_t results[4];		/* its sites' results, counted by enum
					 * patch_result */
};

struct patch_preview {
	enum patch_op op;
	size_t n;			/* the sites it was made for */
	struct patch_run_plan *runs;
	size_t nruns;
	uint8_t *before, *after;	/* each run's bytes, now and to be */
	int *result;			/* each site's enum patch_result */
	uint32_t *index;		/* each site's patch_site.index */
};

/*
 * patch_preview - plan patch_apply(@io, @sites, @n, @op) from what @io
 * reads now, writing nothing.  Returns 0 or -errno (@pv is then empty).
 * The sites must not change until the preview is used.
 */
int patch_preview(const struct patch_io *io, const struct patch_site *sites, size_t n,
		  enum patch_op op, struct patch_preview *pv);
void patch_preview_free(struct patch_preview *pv);

/*
 * patch_apply - put every site of @sites (sorted by addr) in the state @op
 * asks for.  A site is written only if it currently holds one of its
 * known forms (original, disabled, enabled, alt, alt_jmp); anything else
 * is reported in @result[i] (enum patch_result, one per site) and
 * skipped.  Nearby sites are read and written together, a run at a time.
 * @pv: a preview made for these sites and @op, or NULL; a run whose bytes
 * changed since is planned again from what it holds now.
 * Returns 0 or the -errno of a failed read or write (sites of runs already
 * written keep their new bytes and results; the others' are undefined).
 */
int patch_apply(const struct patch_io *io, const struct patch_site *sites, size_t n,
		enum patch_op op, struct patch_stats *stats, const struct patch_preview *pv,
		int *result);

#endif
