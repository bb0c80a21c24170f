/* SPDX-License-Identifier: MIT */
/*
 * Trampoline entry points, called from rewritten sites and from hijacked
 * returns inside the traced process.
 *
 * Contract: every register the traced code can see is preserved: all
 * general purpose registers (the C part is built -mgeneral-regs-only, so
 * SSE, AVX and x87 state are never touched), the red zone (sites are calls,
 * so nothing below %rsp is live) and the direction flag (never changed).
 * Arithmetic flags are not live across a call and are not kept.
 *
 * tp_fentry: the site is the function's first instruction.
 *     on entry  (%rsp) = site + 5    the return into the function body
 *              8(%rsp) = the function's return address into its caller
 * tp_mcount: the site follows "push %rbp; mov %rsp,%rbp", so the return
 *     address into the caller is at 8(%rbp).
 * tp_ct_enter, tp_ct_exit: a fentry site's call-through stub (below).
 * tp_pg_enter: a -pg site's stub, which primes the return (below).
 * tp_ns_enter: a stub near its module (--libcalls, --entry), the same.
 * tp_return: a traced function's "ret" lands here instead of its caller;
 *     %rsp is one slot above the slot that held the return address.  We
 *     put the original address back into that very slot and "ret" to it,
 *     so the stack is bit for bit what the function left.
 *
 * Stack while the C part runs (after the 9 pushes):
 *
 *     80(%rsp)  parent slot (fentry)        72(%rsp)  site + 5 / return slot
 *     64(%rsp)  %rax ... 0(%rsp) %r11       then %rbx, then 16-byte alignment
 *
 * while a fast path runs (fast_paths.inc: the first 6 pushes only):
 *
 *     56(%rsp)  parent slot (fentry)        48(%rsp)  stub + 5 / return slot
 *     40(%rsp)  %rax ... 0(%rsp) %r8
 */
	.section .text.tp_entry, "ax"

/*
 * The nine registers a call can clobber, in two parts: the six the fast
 * paths use (fast_paths.inc), pushed first, and the three pushed only on
 * the way into C.  Both pushed, the stack is SAVE_SCRATCH's.
 */
.macro SAVE_FAST
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
.endm

.macro SAVE_REST
	push	%r9
	push	%r10
	push	%r11
.endm

.macro RESTORE_REST
	pop	%r11
	pop	%r10
	pop	%r9
.endm

.macro RESTORE_FAST
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
.endm

.macro SAVE_SCRATCH
	SAVE_FAST
	SAVE_REST
.endm

.macro RESTORE_SCRATCH
	RESTORE_REST
	RESTORE_FAST
.endm

/* Call the C function in \fn with the stack aligned, keeping %rbx. */
.macro CALL_ALIGNED fn
	push	%rbx
	mov	%rsp, %rbx
	and	$-16, %rsp
	call	\fn
	mov	%rbx, %rsp
	pop	%rbx
.endm

#include "fast_paths.inc"

/*
 * A traced call: tp_enter_fast() first, a leaf that handles the common
 * case (tramp.c, "The fast paths") and needs no aligned stack: it calls
 * nothing and, built -mgeneral-regs-only, has nothing to align.  When it
 * answers 0, having changed nothing, tp_enter() does it all.
 * \slot: where the return address into the caller is.
 */
.macro ENTER slot
	SAVE_SCRATCH
	lea	\slot, %rdi		/* the slot of the return into the caller */
	mov	72(%rsp), %rsi		/* site + 5 */
	mov	%fs:0, %rdx		/* thread pointer: who we are */
	call	tp_enter_fast
	test	%eax, %eax
	jnz	1f
	lea	\slot, %rdi
	mov	72(%rsp), %rsi
	mov	%fs:0, %rdx
	CALL_ALIGNED tp_enter
1:	RESTORE_SCRATCH
	ret
.endm

	.globl	tp_fentry
	.hidden	tp_fentry
	.type	tp_fentry, @function
tp_fentry:
	ENTER	80(%rsp)
	.size	tp_fentry, . - tp_fentry

	.globl	tp_mcount
	.hidden	tp_mcount
	.type	tp_mcount, @function
tp_mcount:
	ENTER	8(%rbp)
	.size	tp_mcount, . - tp_mcount

/*
 * A traced return: %rsp is one slot above the slot that held the return
 * address.  EXIT_FAST (fast_paths.inc: the commonest case, in place, with
 * six registers saved), tp_exit_fast() (a leaf, as tp_enter_fast), or
 * tp_exit(), gives the original address, which goes back into that very
 * slot; then \leave.  No shadow frame for the slot: there is no right
 * place to go, so fault here, visibly, rather than jump somewhere wrong.
 */
.macro EXIT leave:vararg
	sub	$8, %rsp		/* back onto the slot "ret" popped */
	SAVE_FAST
	EXIT_FAST 2f, 4f, 5f
4:	xor	%r8d, %r8d		/* the time: not read */
5:	SAVE_REST
	mov	%r8, %rdx		/* the time, tp_exit_fast()'s third */
	lea	72(%rsp), %rdi
	mov	%fs:0, %rsi
	call	tp_exit_fast
	test	%rax, %rax
	jnz	6f
	lea	72(%rsp), %rdi
	mov	%fs:0, %rsi
	CALL_ALIGNED tp_exit
	test	%rax, %rax
	jz	1f
6:	RESTORE_REST
2:	mov	%rax, 48(%rsp)		/* the original return address */
	RESTORE_FAST
	\leave
1:	ud2
.endm

/*
 * Not "ret": the traced function's own "ret" already consumed the CPU's
 * return-stack entry for this call; another ret would pop its caller's
 * and leave every later return of the thread mispredicted.  Jump through
 * the slot instead; it lies within the red zone, which the kernel skips
 * when it delivers a signal here.
 */
.macro JMP_THROUGH_SLOT
	lea	8(%rsp), %rsp
	jmp	*-8(%rsp)
.endm

	.globl	tp_return
	.hidden	tp_return
	.type	tp_return, @function
tp_return:
	EXIT	JMP_THROUGH_SLOT
	.size	tp_return, . - tp_return

/*
 * A stub's entry.  A copy's stub calls it from stub + 0, so (%rsp) = stub
 * + 5 after the call: the stub's place gives the site's index (stub i is
 * site i's, TP_CT_STUB apart) for tp_ct_enter_fast(); else tp_enter()
 * takes the site + 5 that the rel32 at \rel(stub + 5) leads to, \end
 * bytes after stub + 5.  A stub near its module (\rel "near") calls it
 * from stub + 4, so (%rsp) = stub + TP_NS_CALLED: the index is in the
 * stub (TP_NS_INDEX), and that return address is tp_enter()'s site + 5.
 * ENTER_FAST (fast_paths.inc) does the commonest case in place, with
 * SAVE_FAST's six registers saved; then tp_ct_enter_fast(), then
 * tp_enter(), the other three saved too (SAVE_REST).  Goes on at 2f when
 * the call is traced (the slot holds tp_return), at 3f when it is not,
 * with the stack SAVE_FAST's either way: the slot is \slot, the stub's
 * return 48(%rsp); \slot_c is the slot while C runs.
 */
.macro STUB_ENTER slot, slot_c, rel, end
	SAVE_FAST
	ENTER_FAST \slot, \rel, 2f, 4f, 5f
4:	xor	%r8d, %r8d		/* the time: not read */
5:	SAVE_REST
	mov	%r8, %rcx		/* the time, if ENTER_FAST read it */
	mov	72(%rsp), %rsi
.ifc \rel, near
	mov	11(%rsi), %esi		/* TP_NS_INDEX - TP_NS_CALLED */
.else
	lea	tp_ct_stubs+5(%rip), %rax
	sub	%rax, %rsi
	shr	$5, %rsi		/* stub i is site i's (TP_CT_STUB) */
.endif
	lea	\slot_c, %rdi		/* the slot of the return into the caller */
	mov	%fs:0, %rdx
	call	tp_ct_enter_fast
	test	%eax, %eax
	jz	7f
	RESTORE_REST
	jmp	2f			/* pushed: the slot holds tp_return */
7:	mov	72(%rsp), %rsi
.ifnc \rel, near
	movslq	\rel(%rsi), %rax
	lea	\end(%rsi,%rax), %rsi	/* site + 5 */
.endif
	lea	\slot_c, %rdi
	mov	%fs:0, %rdx
	CALL_ALIGNED tp_enter
	RESTORE_REST
	lea	tp_return(%rip), %rax
	cmp	%rax, \slot
	jne	3f
.endm

/*
 * Call-through (tramp_abi.h, "stubs"): a fentry or patchable-entry site
 * "jmp"s to its stub, which calls tp_ct_enter, then the function's body,
 * then jumps to tp_ct_exit.  Every "ret" on the way returns to the "call"
 * that was made for it, so the CPU predicts them all, where tp_return's
 * jump through a hijacked slot is a return it cannot predict.
 *
 * tp_ct_enter: (%rsp) = stub + 5: the stub's place gives the site's index
 *     (tp_ct_enter_fast()), its next call's rel32 the site (tp_enter());
 *     8(%rsp) = the function's return address into its caller (its slot)
 *   traced: tp_enter*() kept the slot's address in a shadow frame and put
 *     tp_return there; "ret $8" then drops the slot, and the stub's call
 *     of the body writes stub + TP_CT_RET into it: the slot's new
 *     tramp return.
 *   not traced (the slot holds no return of this copy: no ring, the depth
 *     limit, a vfork child...): go to the body directly, the slot as it
 *     was; that one "ret" is mispredicted.
 * tp_ct_exit: as tp_return, but the slot's address came back from a call,
 *     so it returns with "ret", to the caller the CPU expects.
 */
	.globl	tp_ct_enter
	.hidden	tp_ct_enter
	.type	tp_ct_enter, @function
tp_ct_enter:
	STUB_ENTER 56(%rsp), 80(%rsp), 1, 5	/* the stub's call of site + 5 */
2:	RESTORE_FAST
	ret	$8			/* back to stub + 5, one slot higher */
3:	mov	48(%rsp), %rsi		/* not traced: into the body */
	movslq	1(%rsi), %rax
	lea	5(%rsi,%rax), %rax
	mov	%rax, 48(%rsp)
	RESTORE_FAST
	ret
	.size	tp_ct_enter, . - tp_ct_enter

/*
 * tp_pg_enter: a -pg site's stub (tramp_abi.h) calls it; the site is
 * after the prologue, so the slot of the return into the caller is
 * 8(%rbp), and the body cannot be called into it.  Instead, once the
 * call is traced, the slot gets stub + TP_CT_RET, and we return to the
 * stub's "call +15", whose return address, +10, is then what the CPU's
 * return-stack buffer predicts for the next "ret" not matched by a call:
 * the function's own.  The stub drops that return address from the stack
 * and jumps on into the function, with the stack and registers as the
 * site left them.
 *     (%rsp) = stub + 5: the stub's place gives the site's index, its
 *     jmp at TP_PG_BODY the site (tp_enter())
 *   traced: tp_enter*() put tp_return in the slot; it becomes stub +
 *     TP_CT_RET (both are returns into the trampoline for every reader of
 *     slots: tramp_return_in()), and we return to stub + 5.
 *   not traced: return to the stub's jmp into the body, the slot as it
 *     was and nothing primed; that one "ret" is mispredicted.
 */
/*
 * After STUB_ENTER, in a stub that primes the return: traced (2:), the
 * slot gets the stub's landing, 5 bytes after our return address, and we
 * return to the stub's priming call; not traced (3:), past it, \skip
 * bytes on, to the stub's way into the function.
 */
.macro PRIME slot, skip
2:	mov	48(%rsp), %rax
	add	$5, %rax		/* the stub's landing */
	mov	%rax, \slot
	RESTORE_FAST
	ret				/* to the priming call */
3:	addq	$\skip, 48(%rsp)
	RESTORE_FAST
	ret
.endm

	.globl	tp_pg_enter
	.hidden	tp_pg_enter
	.type	tp_pg_enter, @function
tp_pg_enter:
	STUB_ENTER 8(%rbp), 8(%rbp), 20, 24	/* the stub's jmp to site + 5, at +24 */
	PRIME	8(%rbp), 19		/* TP_CT_RET; TP_PG_BODY */
	.size	tp_pg_enter, . - tp_pg_enter

/*
 * tp_ns_enter: a stub near its module (--libcalls, --entry; tramp_abi.h)
 * calls it through its pointer at +4, as the function's first
 * instruction would: the slot is 8(%rsp) at the call, 56(%rsp) here
 * (80(%rsp) while C runs).
 * Primes the return as tp_pg_enter does: traced, the slot gets stub +
 * TP_NS_RET and we return to the stub's "call +25"; not traced, to the
 * function at stub + TP_NS_BODY, the slot as it was.
 */
	.globl	tp_ns_enter
	.hidden	tp_ns_enter
	.type	tp_ns_enter, @function
tp_ns_enter:
	STUB_ENTER 56(%rsp), 80(%rsp), near
	PRIME	56(%rsp), 24		/* TP_NS_RET; TP_NS_BODY */
	.size	tp_ns_enter, . - tp_ns_enter

	.globl	tp_ct_exit
	.hidden	tp_ct_exit
	.type	tp_ct_exit, @function
tp_ct_exit:
	EXIT	ret			/* the caller's own call predicted it */
	.size	tp_ct_exit, . - tp_ct_exit

/*
 * C++ exceptions (tramp_hooks.c, tp_hook()).  A GOT entry of
 * _Unwind_RaiseException / _Unwind_Resume_or_Rethrow / __cxa_begin_catch
 * points here; we run tp_hook() with every register kept, then "return"
 * into the real function through the slot reserved first, so it starts
 * with the stack and registers its caller gave it.
 *     on entry (%rsp) = the caller's return address
 */
.macro HOOK name, which
	.globl	\name
	.hidden	\name
	.type	\name, @function
\name:
	sub	$8, %rsp		/* the real function's address goes here */
	SAVE_SCRATCH
	mov	%fs:0, %rdi
	mov	$\which, %esi
	lea	88(%rsp), %rdx		/* the caller's %rsp before its call */
	CALL_ALIGNED tp_hook
	mov	%rax, 72(%rsp)
	RESTORE_SCRATCH
	ret
	.size	\name, . - \name
.endm

	HOOK	tp_hook_raise, 0
	HOOK	tp_hook_rethrow, 1
	HOOK	tp_hook_catch, 2
	HOOK	tp_hook_pexit, 3
	HOOK	tp_hook_bt, 4
	HOOK	tp_hook_vfork, 5

/*
 * pthread_cancel() (attach/frames/forced_hook.c): glibc calls libgcc_s's
 * _Unwind_ForcedUnwind through a pointer, not a GOT entry, so its entry
 * is patched to jump to a stub near libgcc_s that calls here, then runs
 * the moved instructions and jumps back.  No "real function" to go on to:
 * just run tp_hook() with every register kept and return to the stub.
 *     on entry (%rsp) = into the stub, 8(%rsp) = the caller's return
 */
	.globl	tp_hook_forced
	.hidden	tp_hook_forced
	.type	tp_hook_forced, @function
tp_hook_forced:
	SAVE_SCRATCH
	mov	%fs:0, %rdi
	mov	$6, %esi		/* TP_HOOK_FORCED */
	lea	88(%rsp), %rdx		/* the caller's %rsp before its call */
	CALL_ALIGNED tp_hook
	RESTORE_SCRATCH
	ret
	.size	tp_hook_forced, . - tp_hook_forced

	.section .note.GNU-stack,"",@progbits
