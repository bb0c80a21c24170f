// SPDX-License-Identifier: MIT
/*
 * A classic-BPF interpreter for seccomp filters: the instructions the
 * kernel allows in one (kernel/seccomp.c, seccomp_check_filter(); the
 * semantics of net/core/filter.c), over struct seccomp_data.  Loads are
 * 32-bit words at aligned offsets; a word of a field tattach does not know
 * (an address it will only learn while the process is held) makes the
 * result unknown rather than a guess.
 */
#include <linux/seccomp.h>
#include <stddef.h>

#include "attach/process/seccomp_bpf.h"

#define DATA_SIZE 64u	/* sizeof(struct seccomp_data) */

/* The 32-bit word at @off of the call's seccomp_data; 0 if unknown. */
static int load_word(const struct scmp_call *c, uint32_t off, uint32_t *v)
{
	uint64_t q;

	if (off >= DATA_SIZE || (off & 3))
		return -1;
	if (off < 4) {
		*v = (uint32_t)c->nr;
		return 1;
	}
	if (off < 8) {
		*v = c->arch;
		return 1;
	}
	if (off < 16) {
		if (!(c->known & SCMP_KNOWN_IP))
			return 0;
		q = c->ip;
	} else {
		unsigned i = (off - 16) / 8;

		if (!(c->known & SCMP_KNOWN_ARG(i)))
			return 0;
		q = c->args[i];
	}
	*v = (off & 4) ? (uint32_t)(q >> 32) : (uint32_t)q;	/* little endian */
	return 1;
}

static int alu(uint16_t op, uint32_t *a, uint32_t operand)
{
	switch (op) {
	case BPF_ADD: *a += operand; return 0;
	case BPF_SUB: *a -= operand; return 0;
	case BPF_MUL: *a *= operand; return 0;
	case BPF_DIV:
		if (!operand)
			return -1;	/* the kernel's program would return 0 */
		*a /= operand;
		return 0;
	case BPF_MOD:
		if (!operand)
			return -1;
		*a %= operand;
		return 0;
	case BPF_OR:  *a |= operand; return 0;
	case BPF_AND: *a &= operand; return 0;
	case BPF_XOR: *a ^= operand; return 0;
	case BPF_LSH: *a = operand >= 32 ? 0 : *a << operand; return 0;
	case BPF_RSH: *a = operand >= 32 ? 0 : *a >> operand; return 0;
	case BPF_NEG: *a = -*a; return 0;
	}
	return -2;
}

enum scmp_verdict scmp_run(const struct sock_filter *prog, size_t len,
			   const struct scmp_call *call, uint32_t *ret, unsigned *field)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };

	/* Jumps only go forward, so this ends within len steps. */
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &prog[pc];
		uint16_t code = f->code;
		uint32_t operand;
		int r, taken;

		switch (BPF_CLASS(code)) {
		case BPF_LD:
			if (code == (BPF_LD | BPF_W | BPF_ABS)) {
				r = load_word(call, f->k, &a);
				if (r < 0)
					return SCMP_INVALID;
				if (r == 0) {
					*field = f->k & ~3u;
					return SCMP_UNKNOWN;
				}
			} else if (code == (BPF_LD | BPF_W | BPF_LEN)) {
				a = DATA_SIZE;
			} else if (code == (BPF_LD | BPF_IMM)) {
				a = f->k;
			} else if (code == (BPF_LD | BPF_MEM) && f->k < BPF_MEMWORDS) {
				a = mem[f->k];
			} else {
				return SCMP_INVALID;
			}
			break;
		case BPF_LDX:
			if (code == (BPF_LDX | BPF_W | BPF_LEN))
				x = DATA_SIZE;
			else if (code == (BPF_LDX | BPF_IMM))
				x = f->k;
			else if (code == (BPF_LDX | BPF_MEM) && f->k < BPF_MEMWORDS)
				x = mem[f->k];
			else
				return SCMP_INVALID;
			break;
		case BPF_ST:
		case BPF_STX:
			if (f->k >= BPF_MEMWORDS)
				return SCMP_INVALID;
			mem[f->k] = BPF_CLASS(code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			operand = BPF_SRC(code) == BPF_X ? x : f->k;
			r = alu(BPF_OP(code), &a, operand);
			if (r == -1) {
				*ret = 0;	/* division by zero ends the program: 0 */
				return SCMP_OK;
			}
			if (r)
				return SCMP_INVALID;
			break;
		case BPF_JMP:
			if (BPF_OP(code) == BPF_JA) {
				if (f->k >= len - pc - 1)
					return SCMP_INVALID;
				pc += f->k;
				break;
			}
			operand = BPF_SRC(code) == BPF_X ? x : f->k;
			switch (BPF_OP(code)) {
			case BPF_JEQ:  taken = a == operand; break;
			case BPF_JGT:  taken = a > operand; break;
			case BPF_JGE:  taken = a >= operand; break;
			case BPF_JSET: taken = (a & operand) != 0; break;
			default:       return SCMP_INVALID;
			}
			r = taken ? f->jt : f->jf;
			if ((size_t)r >= len - pc - 1)
				return SCMP_INVALID;
			pc += r;
			break;
		case BPF_RET:
			if (BPF_RVAL(code) == BPF_K)
				*ret = f->k;
			else if (BPF_RVAL(code) == BPF_A)
				*ret = a;
			else
				return SCMP_INVALID;
			return SCMP_OK;
		case BPF_MISC:
			if (BPF_MISCOP(code) == BPF_TAX)
				x = a;
			else if (BPF_MISCOP(code) == BPF_TXA)
				a = x;
			else
				return SCMP_INVALID;
			break;
		default:
			return SCMP_INVALID;
		}
	}
	return SCMP_INVALID;	/* fell off the end: the kernel rejects that */
}

uint32_t scmp_strictest(uint32_t a, uint32_t b)
{
	/* kernel/seccomp.c: the lowest action, compared as signed */
	return (int32_t)(a & SECCOMP_RET_ACTION_FULL) < (int32_t)(b & SECCOMP_RET_ACTION_FULL) ?
	       a : b;
}
