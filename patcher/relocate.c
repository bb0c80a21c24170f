// SPDX-License-Identifier: MIT
#include <capstone/capstone.h>
#include <errno.h>
#include <string.h>

#include "patcher/relocate.h"

static int open_cs(csh *cs)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, cs) != CS_ERR_OK)
		return -1;
	cs_option(*cs, CS_OPT_DETAIL, CS_OPT_ON);
	return 0;
}

/* A "call rel32" or "jmp rel32": moved with its displacement adjusted,
 * but only as the last instruction moved (see relocate_window()). */
static int direct_rel32(const cs_insn *insn)
{
	return insn->size == 5 && (insn->bytes[0] == 0xe8 || insn->bytes[0] == 0xe9);
}

/* Why @insn cannot run from another address, or NULL. */
static const char *unmovable(csh cs, const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (direct_rel32(insn))
		return NULL;
	if (cs_insn_group(cs, insn, CS_GRP_CALL))
		return "a call among the first instructions";
	if (cs_insn_group(cs, insn, CS_GRP_JUMP) || cs_insn_group(cs, insn, CS_GRP_BRANCH_RELATIVE))
		return "a branch among the first instructions";
	if (cs_insn_group(cs, insn, CS_GRP_RET) || cs_insn_group(cs, insn, CS_GRP_IRET))
		return "the function returns within its first 5 bytes";
	if (cs_insn_group(cs, insn, CS_GRP_INT) || insn->id == X86_INS_SYSCALL ||
	    insn->id == X86_INS_SYSENTER || insn->id == X86_INS_UD2 ||
	    insn->id == X86_INS_HLT)
		return "a trap or system call among the first instructions";
	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP &&
		    x->encoding.disp_size != 4)
			return "a RIP-relative operand tattach cannot re-encode";
	return NULL;
}

size_t relocate_window(const uint8_t *code, size_t len, uint64_t addr, const char **why,
		       uint8_t *bounds, size_t *nbounds, struct reloc_fix *fixes,
		       size_t *nfixes)
{
	const uint8_t *p = code;
	size_t left = len, done = 0;
	uint64_t at = addr;
	cs_insn *insn;
	csh cs;

	*nbounds = 0;
	*nfixes = 0;
	if (open_cs(&cs)) {
		*why = "the disassembler failed";
		return 0;
	}
	insn = cs_malloc(cs);
	while (done < 5) {
		const cs_x86 *x;
		const char *bad;

		if (!insn || !cs_disasm_iter(cs, &p, &left, &at, insn)) {
			*why = done + left < 5 ? "too short (fewer than 5 bytes)"
					       : "its first bytes do not decode";
			done = 0;
			break;
		}
		x = &insn->detail->x86;
		/*
		 * A "call rel32" or "jmp rel32" is 5 bytes, so it always ends
		 * the window: a thread inside the callee returns to the first
		 * byte after it, which is never rewritten.
		 */
		bad = unmovable(cs, insn);
		if (bad) {
			*why = bad;
			done = 0;
			break;
		}
		if (direct_rel32(insn) && *nfixes < RELOCATE_FIX_MAX)
			fixes[(*nfixes)++] = (struct reloc_fix){ (uint8_t)(done + 1),
								 (uint8_t)(done + 5) };
		for (int i = 0; i < x->op_count && !direct_rel32(insn); i++)
			if (x->operands[i].type == X86_OP_MEM &&
			    x->operands[i].mem.base == X86_REG_RIP && *nfixes < RELOCATE_FIX_MAX)
				fixes[(*nfixes)++] = (struct reloc_fix){
					(uint8_t)(done + x->encoding.disp_offset),
					(uint8_t)(done + insn->size) };
		bounds[(*nbounds)++] = (uint8_t)done;
		done += insn->size;
	}
	if (done > RELOCATE_MAX) {
		*why = "its first instructions are too long";
		done = 0;
	}
	cs_free(insn, 1);
	cs_close(&cs);
	return done;
}

int relocate_copy(const uint8_t *code, size_t n, uint64_t from, uint64_t to,
		  const struct reloc_fix *fixes, size_t nfix, uint8_t *out)
{
	memcpy(out, code, n);
	for (size_t i = 0; i < nfix; i++) {
		int32_t old;
		int64_t target, disp;

		if (fixes[i].at + 4u > n || fixes[i].end > n)
			return -EINVAL;
		memcpy(&old, code + fixes[i].at, 4);
		target = (int64_t)(from + fixes[i].end) + old;
		disp = target - (int64_t)(to + fixes[i].end);
		if (disp != (int32_t)disp)
			return -ERANGE;
		memcpy(out + fixes[i].at, &(int32_t){ (int32_t)disp }, 4);
	}
	return 0;
}
