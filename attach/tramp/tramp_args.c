// SPDX-License-Identifier: MIT
/*
 * Arguments and return values (tattach -A/-R), inside the traced process.
 *
 * Only the sites tattach chose for -A/-R call these entry points (it
 * patches their call to tp_fentry_args/tp_mcount_args instead of
 * tp_fentry/tp_mcount), so a plain site runs none of this code.  The entry
 * saves the argument registers and the low halves of xmm0..7 (the C code
 * here, built -mgeneral-regs-only, never touches SSE state: the traced
 * function still finds its floating point arguments where they were), runs
 * the ordinary tp_enter(), then writes one VALUES block after the call's
 * ENTRY (include/tattach/ring.h, "Arguments").  A call of a -R site has
 * TP_FRAME_RETVAL set in its shadow frame; tp_exit() sees the flag on its
 * slow path and calls tp_args_return() before the EXIT.
 *
 * Strings are read with process_vm_readv() on our own process: the kernel
 * copies what is mapped and answers EFAULT for the rest, so a wild char *
 * never faults the target.  That is one system call per string argument
 * per call, paid by -A functions only.
 *
 * Everything read from the ring file (the per-site tat_argspec) is
 * checked before use: the file is writable by others than the target.
 */
#include <stddef.h>
#include <stdint.h>

#include <tattach/ring.h>
#include "tramp_abi.h"
#include "tramp_common.h"

/* What the entry points saved, lowest address first (see the asm below). */
struct tp_argregs {
	uint64_t xmm[8];	/* low 64 bits of xmm0..7 */
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
};

extern const struct tp_config tp_config_area HIDDEN;
HIDDEN void tp_enter(uint64_t *slot, uint64_t after_site, uint64_t key);
HIDDEN struct tp_thread *tp_thread_find(struct tp_state *st, uint64_t key);
HIDDEN void tp_args_put_block(const struct tp_state *st, uint64_t ring,
			      struct tp_thread *t, const uint64_t *words, uint64_t n);
HIDDEN void tp_enter_args(uint64_t *slot, uint64_t after_site, uint64_t key,
			  const struct tp_argregs *regs);
HIDDEN void tp_args_return(struct tp_thread *t, uint64_t site, const uint64_t *slot);

/*
 * tp_fentry_args / tp_mcount_args: as tp_fentry / tp_mcount (entry.S),
 * plus the SSE registers.  Stack when tp_enter_args runs, from %rsp up:
 * xmm0..7 (64 bytes), %r11 ... %rax (72 bytes), site + 5, then for
 * fentry the slot of the return into the caller.
 */
__asm__(
"	.text\n"
"	.globl	tp_fentry_args\n"
"	.hidden	tp_fentry_args\n"
"	.type	tp_fentry_args, @function\n"
"tp_fentry_args:\n"
"	push	%rax\n	push	%rcx\n	push	%rdx\n	push	%rsi\n	push	%rdi\n"
"	push	%r8\n	push	%r9\n	push	%r10\n	push	%r11\n"
"	lea	80(%rsp), %rdi\n"		/* the slot (before the sub below) */
"	jmp	1f\n"
"	.size	tp_fentry_args, . - tp_fentry_args\n"
"	.globl	tp_mcount_args\n"
"	.hidden	tp_mcount_args\n"
"	.type	tp_mcount_args, @function\n"
"tp_mcount_args:\n"
"	push	%rax\n	push	%rcx\n	push	%rdx\n	push	%rsi\n	push	%rdi\n"
"	push	%r8\n	push	%r9\n	push	%r10\n	push	%r11\n"
"	lea	8(%rbp), %rdi\n"
"1:	sub	$64, %rsp\n"
"	movq	%xmm0, 0(%rsp)\n	movq	%xmm1, 8(%rsp)\n"
"	movq	%xmm2, 16(%rsp)\n	movq	%xmm3, 24(%rsp)\n"
"	movq	%xmm4, 32(%rsp)\n	movq	%xmm5, 40(%rsp)\n"
"	movq	%xmm6, 48(%rsp)\n	movq	%xmm7, 56(%rsp)\n"
"	mov	136(%rsp), %rsi\n"		/* site + 5 */
"	mov	%fs:0, %rdx\n"
"	mov	%rsp, %rcx\n"
"	push	%rbx\n"
"	mov	%rsp, %rbx\n"
"	and	$-16, %rsp\n"
"	call	tp_enter_args\n"
"	mov	%rbx, %rsp\n"
"	pop	%rbx\n"
"	add	$64, %rsp\n"			/* xmm were never changed */
"	pop	%r11\n	pop	%r10\n	pop	%r9\n	pop	%r8\n	pop	%rdi\n"
"	pop	%rsi\n	pop	%rdx\n	pop	%rcx\n	pop	%rax\n"
"	ret\n"
"	.size	tp_mcount_args, . - tp_mcount_args\n"
/*
 * tp_args_return_keep: tp_args_return() with every register kept, called
 * from tramp.c's exit path with its arguments in place (rdi, rsi, rdx):
 * there the compiler then keeps its values in any register
 * across the call, and calls without -R lose nothing to it.
 */
"	.globl	tp_args_return_keep\n"
"	.hidden	tp_args_return_keep\n"
"	.type	tp_args_return_keep, @function\n"
"tp_args_return_keep:\n"
"	push	%rax\n	push	%rcx\n	push	%rdx\n	push	%rsi\n	push	%rdi\n"
"	push	%r8\n	push	%r9\n	push	%r10\n	push	%r11\n"
"	push	%rbx\n"
"	mov	%rsp, %rbx\n"
"	and	$-16, %rsp\n"
"	call	tp_args_return\n"
"	mov	%rbx, %rsp\n"
"	pop	%rbx\n"
"	pop	%r11\n	pop	%r10\n	pop	%r9\n	pop	%r8\n	pop	%rdi\n"
"	pop	%rsi\n	pop	%rdx\n	pop	%rcx\n	pop	%rax\n"
"	ret\n"
"	.size	tp_args_return_keep, . - tp_args_return_keep\n");

static inline uint64_t int_reg(const struct tp_argregs *r, unsigned i)
{
	switch (i) {
	case 0: return r->rdi;
	case 1: return r->rsi;
	case 2: return r->rdx;
	case 3: return r->rcx;
	case 4: return r->r8;
	case 5: return r->r9;
	default: return 0;
	}
}

/* The 64-bit form of a register holding a value of @format, @size bytes. */
static uint64_t normalize(unsigned format, unsigned size, uint64_t raw)
{
	unsigned bits = size >= 1 && size < 8 ? size * 8 : 64;

	switch (format) {
	case TAT_VAL_SIGNED:
	case TAT_VAL_ENUM:
	case TAT_VAL_CHAR:
		if (bits < 64)
			return (uint64_t)(((int64_t)(raw << (64 - bits))) >> (64 - bits));
		return raw;
	case TAT_VAL_UNSIGNED:
	case TAT_VAL_HEX:
	case TAT_VAL_BOOL:
		return bits < 64 ? raw & ((1ull << bits) - 1) : raw;
	case TAT_VAL_FLOAT:
		return raw & 0xffffffffull;
	default:
		return raw;
	}
}

struct tp_iovec {
	uint64_t base;
	uint64_t len;
};

static long sys_process_vm_readv(int32_t pid, struct tp_iovec *local, uint64_t nlocal,
				 struct tp_iovec *remote, uint64_t nremote)
{
	register uint64_t r10 __asm__("r10") = (uint64_t)remote;
	register uint64_t r8 __asm__("r8") = nremote;
	register uint64_t r9 __asm__("r9") = 0;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(310L /* process_vm_readv */), "D"((long)pid), "S"(local),
			   "d"(nlocal), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/*
 * Up to TAT_STR_MAX bytes of the string at @p into @out, without ever
 * faulting: returns the length byte of the record (TAT_STR_UNREADABLE,
 * or the bytes kept, TAT_STR_TRUNCATED when no NUL ended them).  The
 * read is split at the page boundary, so a string that ends just before
 * an unmapped page is still read whole.
 */
static unsigned read_string(int32_t tid, uint64_t p, uint8_t *out)
{
	uint64_t first = 4096 - (p & 4095);
	struct tp_iovec local = { (uint64_t)out, TAT_STR_MAX };
	struct tp_iovec remote[2];
	unsigned n = 1;
	long got;

	if (!p)
		return 0;
	if (first >= TAT_STR_MAX) {
		remote[0] = (struct tp_iovec){ p, TAT_STR_MAX };
	} else {
		remote[0] = (struct tp_iovec){ p, first };
		remote[1] = (struct tp_iovec){ p + first, TAT_STR_MAX - first };
		n = 2;
	}
	got = sys_process_vm_readv(tid, &local, 1, remote, n);
	if (got <= 0)
		return TAT_STR_UNREADABLE;
	for (long i = 0; i < got; i++)
		if (!out[i])
			return (unsigned)i;
	return (unsigned)got | TAT_STR_TRUNCATED;
}

static void put_u64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/* One VALUES block of @len bytes of @site into the thread's ring. */
static void write_values(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
			 uint64_t site, const uint8_t *bytes, uint64_t len, int is_return)
{
	uint64_t words[1 + (TAT_ARGS_MAX * (10 + 1 + TAT_STR_MAX) + 6) / 7];
	uint64_t n = 1;

	words[0] = tat_ev_special(TAT_SUB_VALUES, site | (len << TAT_VALUES_BYTES_SHIFT) |
				  (is_return ? TAT_VALUES_RETURN : 0));
	for (uint64_t off = 0; off < len; off += TAT_VALDATA_BYTES) {
		uint64_t payload = 0;

		for (unsigned k = 0; k < TAT_VALDATA_BYTES && off + k < len; k++)
			payload |= (uint64_t)bytes[off + k] << (8 * k);
		words[n++] = tat_ev_special(TAT_SUB_VALDATA, payload);
	}
	tp_args_put_block(st, ring, t, words, n);
}

static const struct tat_argspec *spec_of(const struct tp_state *st, uint64_t ring,
					 uint64_t site)
{
	if (!st->args_off || !site || site >= st->site_cap)
		return NULL;
	return (const struct tat_argspec *)(ring + st->args_off) + site;
}

void tp_enter_args(uint64_t *slot, uint64_t after_site, uint64_t key,
		   const struct tp_argregs *regs)
{
	struct tp_state *st = (struct tp_state *)tp_config_area.state;
	uint8_t bytes[TAT_ARGS_MAX * (10 + 1 + TAT_STR_MAX)];
	const struct tat_argspec *spec;
	struct tp_thread *t;
	struct tp_frame *f;
	uint64_t ring, d, site, len = 0, nargs;

	tp_enter(slot, after_site, key);
	ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	if (!ring || !key)
		return;
	t = tp_thread_find(st, key);
	if (!t)
		return;
	/* Was the call recorded (not too deep, not in stats mode)?  Then it
	 * is the innermost frame: a signal handler in between popped what
	 * it pushed. */
	d = READ_ONCE(t->depth);
	if (d == 0 || d > TP_DEPTH_MAX)
		return;
	f = &t->stack[d - 1];
	if (f->slot != (uint64_t)slot || (f->site & (TP_FRAME_ENDED | TP_FRAME_STATS)))
		return;
	site = f->site & TAT_EV_SITE_MAX;
	spec = spec_of(st, ring, site);
	if (!spec)
		return;
	if (READ_ONCE(spec->ret_format))
		WRITE_ONCE(f->site, f->site | TP_FRAME_RETVAL);
	nargs = READ_ONCE(spec->nargs);
	if (nargs > TAT_ARGS_MAX)
		nargs = TAT_ARGS_MAX;
	if (!nargs)
		return;
	for (uint64_t i = 0; i < nargs; i++) {
		unsigned format = READ_ONCE(spec->format[i]);
		unsigned src = READ_ONCE(spec->src[i]) & 15;
		uint64_t raw = src < 6 ? int_reg(regs, src) : src >= 8 ? regs->xmm[src - 8] : 0;
		uint64_t v = normalize(format, READ_ONCE(spec->size[i]), raw);

		bytes[len++] = (uint8_t)format;
		bytes[len++] = (uint8_t)src;
		put_u64(bytes + len, v);
		len += 8;
		if (format == TAT_VAL_STR) {
			unsigned l = read_string(t->tid, v, bytes + len + 1);

			bytes[len++] = (uint8_t)l;
			if (l != TAT_STR_UNREADABLE)
				len += l & ~TAT_STR_TRUNCATED;
		}
	}
	write_values(st, ring, t, site, bytes, len, 0);
}

/*
 * The return value of a -R call of @site, read where tp_return saved it
 * (%rax is the word just below the return slot, entry.S) or, for a
 * floating point value, from %xmm0, which nothing on the way here touched.
 */
void tp_args_return(struct tp_thread *t, uint64_t site, const uint64_t *slot)
{
	const struct tp_state *st = (const struct tp_state *)tp_config_area.state;
	uint64_t ring = READ_ONCE(((struct tp_live *)st->live)->ring);
	const struct tat_argspec *spec = ring ? spec_of(st, ring, site) : NULL;
	uint8_t bytes[10];
	unsigned format, src;
	uint64_t raw;

	if (!spec)
		return;
	format = READ_ONCE(spec->ret_format);
	src = READ_ONCE(spec->ret_src) == TAT_SRC_FP(0) ? TAT_SRC_FP(0) : TAT_SRC_RET;
	if (!format || format == TAT_VAL_STR)
		format = format ? TAT_VAL_PTR : TAT_VAL_NONE;	/* no strings at exit */
	if (!format)
		return;
	if (src == TAT_SRC_FP(0))
		__asm__ volatile("movq %%xmm0, %0" : "=r"(raw));
	else
		raw = slot[-1];
	bytes[0] = (uint8_t)format;
	bytes[1] = (uint8_t)src;
	put_u64(bytes + 2, normalize(format, READ_ONCE(spec->ret_size), raw));
	write_values(st, ring, t, site, bytes, sizeof(bytes), 1);
}
