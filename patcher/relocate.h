/* SPDX-License-Identifier: MIT */
/*
 * Moving the first instructions of a function elsewhere (tattach --entry).
 *
 * Only instructions that mean the same at any address once their
 * RIP-relative displacement is adjusted are moved, and a "call rel32" or
 * "jmp rel32" as the last one (its target adjusted; a thread inside the
 * callee returns to the first byte after the moved ones, which stays).
 * No other branch, no return, interrupt or system call.
 * The copy has exactly the length of the original, so an instruction
 * boundary at offset o of the original is one at offset o of the copy.
 */
#ifndef TATTACH_PATCHER_RELOCATE_H
#define TATTACH_PATCHER_RELOCATE_H

#include <stddef.h>
#include <stdint.h>

#define RELOCATE_MAX 24		/* bytes moved at most: endbr64 aside, 5 + 15 */
#define RELOCATE_FIX_MAX 8	/* 32-bit fields to adjust in them, at most */

/* A 32-bit displacement at @at, relative to the end of its instruction
 * at @end (both offsets in the moved bytes). */
struct reloc_fix {
	uint8_t at, end;
};

/*
 * relocate_window - how many bytes of @code (at ELF/runtime address
 * @addr, @len bytes available) must move so that a 5-byte jmp fits:
 * whole instructions covering at least 5 bytes.  Returns that count, or 0
 * with the reason in *@why (a static string).  @bounds gets the offsets
 * of the instruction starts inside the window (@nbounds of them, the
 * first is 0), @fixes the fields relocate_copy() adjusts (@nfixes).
 * Disassembles: run it before the target is stopped.
 */
size_t relocate_window(const uint8_t *code, size_t len, uint64_t addr, const char **why,
		       uint8_t *bounds, size_t *nbounds, struct reloc_fix *fixes,
		       size_t *nfixes);

/*
 * relocate_copy - write to @out the @n bytes of @code (from @from) as
 * they must read at @to: the @nfix displacements of @fixes adjusted.
 * Arithmetic only.  Returns 0, or -ERANGE when one does not fit in 32
 * bits from @to.
 */
int relocate_copy(const uint8_t *code, size_t n, uint64_t from, uint64_t to,
		  const struct reloc_fix *fixes, size_t nfix, uint8_t *out);

#endif
