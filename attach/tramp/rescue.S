/* SPDX-License-Identifier: MIT */
/*
 * The rescue page: where tattach runs its remote system calls, so that a
 * tattach killed at any moment leaves the borrowed thread where it was.
 *
 * tattach points the thread at rescue_syscall with the call's registers
 * and stops it at the syscall exit.  If tattach then dies, the kernel lets
 * the thread go on at rescue_restore, which puts back the signal mask and
 * every register of the context tattach saved in rescue_ctx (with an
 * interrupted system call already rewound to be called again), and jumps
 * to where the thread was.  When tattach lives, it restores the thread
 * itself through ptrace and this code never runs.
 *
 * rax, rcx, rdx, rsi, rdi, r10 and r11 are used before every register is
 * reloaded from the context;
 * the flags are restored through a push/popf 256 bytes below the red
 * zone.  The page is mapped R-X; tattach writes rescue_ctx through
 * /proc/PID/mem.
 */
	.section .text.tp_entry, "ax"
	.globl	rescue_syscall
rescue_syscall:
	syscall
	.globl	rescue_restore
rescue_restore:
	mov	$14, %eax			/* rt_sigprocmask */
	mov	$2, %edi			/* SIG_SETMASK */
	lea	ctx_sigmask(%rip), %rsi
	xor	%edx, %edx
	mov	$8, %r10d
	syscall
	mov	ctx_rsp(%rip), %rsp
	lea	-256(%rsp), %rsp
	pushq	ctx_eflags(%rip)
	popfq
	lea	256(%rsp), %rsp
	mov	ctx_r15(%rip), %r15
	mov	ctx_r14(%rip), %r14
	mov	ctx_r13(%rip), %r13
	mov	ctx_r12(%rip), %r12
	mov	ctx_rbp(%rip), %rbp
	mov	ctx_rbx(%rip), %rbx
	mov	ctx_r11(%rip), %r11
	mov	ctx_r10(%rip), %r10
	mov	ctx_r9(%rip), %r9
	mov	ctx_r8(%rip), %r8
	mov	ctx_rax(%rip), %rax
	mov	ctx_rcx(%rip), %rcx
	mov	ctx_rdx(%rip), %rdx
	mov	ctx_rsi(%rip), %rsi
	mov	ctx_rdi(%rip), %rdi
	jmp	*ctx_rip(%rip)

	/* struct rescue_ctx (attach/process/remote.c) */
	.balign	64
	.globl	rescue_ctx
rescue_ctx:
ctx_sigmask:	.quad 0
ctx_r15:	.quad 0
ctx_r14:	.quad 0
ctx_r13:	.quad 0
ctx_r12:	.quad 0
ctx_rbp:	.quad 0
ctx_rbx:	.quad 0
ctx_r11:	.quad 0
ctx_r10:	.quad 0
ctx_r9:		.quad 0
ctx_r8:		.quad 0
ctx_rax:	.quad 0
ctx_rcx:	.quad 0
ctx_rdx:	.quad 0
ctx_rsi:	.quad 0
ctx_rdi:	.quad 0
ctx_rip:	.quad 0
ctx_eflags:	.quad 0
ctx_rsp:	.quad 0
	.globl	rescue_end
rescue_end:

	.section .note.GNU-stack,"",@progbits
