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
		       uint8_t *bounds, size_t *nbounds)
{
	const uint8_t *p = code;
	size_t left = len, done = 0;
	uint64_t at = addr;
	cs_insn *insn;
	csh cs;

	*nbounds = 0;
	if (open_cs(&cs)) {
		*why = "the disassembler failed";
		return 0;
	}
	insn = cs_malloc(cs);
	while (done < 5) {
		const char *bad;

		if (!insn || !cs_disasm_iter(cs, &p, &left, &at, insn)) {
			*why = done + left < 5 ? "too short (fewer than 5 bytes)"
					       : "its first bytes do not decode";
			done = 0;
			break;
		}
		bad = unmovable(cs, insn);
		/*
		 * A call may only end the window: a thread inside the callee
		 * returns to the first byte after it, which is not rewritten.
		 * After a jmp nothing runs, so it ends the window too.
		 */
		if (!bad && direct_rel32(insn) && done + insn->size < 5)
			bad = insn->bytes[0] == 0xe8 ? "a call within the first 5 bytes, not at their end"
						    : "the function jumps away within its first 5 bytes";
		if (bad) {
			*why = bad;
			done = 0;
			break;
		}
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

int relocate_copy(const uint8_t *code, size_t n, uint64_t from, uint64_t to, uint8_t *out)
{
	const uint8_t *p = code;
	size_t left = n;
	uint64_t at = from;
	cs_insn *insn;
	int ret = 0;
	csh cs;

	if (open_cs(&cs))
		return -EINVAL;
	memcpy(out, code, n);
	insn = cs_malloc(cs);
	while (insn && left && cs_disasm_iter(cs, &p, &left, &at, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		size_t off = insn->address - from;

		if (direct_rel32(insn)) {
			int64_t target = (int64_t)x->operands[0].imm;
			int64_t rel = target - (int64_t)(to + off + 5);

			if (rel != (int32_t)rel) {
				ret = -ERANGE;
				break;
			}
			memcpy(out + off + 1, &(int32_t){ (int32_t)rel }, 4);
			continue;
		}
		for (int i = 0; i < x->op_count; i++) {
			int64_t target, disp;

			if (x->operands[i].type != X86_OP_MEM || x->operands[i].mem.base != X86_REG_RIP)
				continue;
			target = (int64_t)(insn->address + insn->size) + x->operands[i].mem.disp;
			disp = target - (int64_t)(to + off + insn->size);
			if (disp != (int32_t)disp) {
				ret = -ERANGE;
				break;
			}
			memcpy(out + off + x->encoding.disp_offset, &(int32_t){ (int32_t)disp }, 4);
		}
	}
	if (!insn || left)
		ret = ret ? ret : -EINVAL;
	cs_free(insn, 1);
	cs_close(&cs);
	return ret;
}
