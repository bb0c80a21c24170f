// SPDX-License-Identifier: MIT
/* The seccomp filter interpreter tattach judges filtered processes with. */
#include <criterion/criterion.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "attach/process/seccomp_bpf.h"

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(v)      BPF_STMT(BPF_RET | BPF_K, (v))
#define N(f)        (sizeof(f) / sizeof((f)[0]))

static const struct scmp_call mmap_rx = {
	SYS_mmap, AUDIT_ARCH_X86_64, 0, { 0, 4096, 5, 0x22, (uint64_t)-1, 0 }, 0x3f
};

static uint32_t run_ok(const struct sock_filter *f, size_t n, const struct scmp_call *c)
{
	uint32_t ret = 0xdeadbeef;
	unsigned field = 0;

	cr_assert_eq(scmp_run(f, n, c, &ret, &field), SCMP_OK);
	return ret;
}

Test(seccomp_bpf, syscall_number_and_arch)
{
	struct sock_filter f[] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LOAD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 1),
		RET(SECCOMP_RET_ERRNO | 13),
		RET(SECCOMP_RET_ALLOW),
	};
	struct scmp_call other = mmap_rx;

	cr_assert_eq(run_ok(f, N(f), &mmap_rx), SECCOMP_RET_ERRNO | 13);
	other.nr = SYS_getpid;
	cr_assert_eq(run_ok(f, N(f), &other), SECCOMP_RET_ALLOW);
	other.arch = AUDIT_ARCH_I386;
	cr_assert_eq(run_ok(f, N(f), &other), SECCOMP_RET_KILL_PROCESS);
}

Test(seccomp_bpf, arguments_alu_jset_and_scratch_memory)
{
	struct sock_filter f[] = {
		LOAD(args[2]),				/* prot, low word */
		BPF_STMT(BPF_ST, 3),
		BPF_STMT(BPF_LDX | BPF_MEM, 3),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 6),	/* PROT_WRITE|PROT_EXEC */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 1),
		RET(SECCOMP_RET_TRAP),
		LOAD(args[4]),				/* fd: -1, high word 0xffffffff */
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0xffffffff, 0, 1),
		RET(SECCOMP_RET_KILL_THREAD),
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),		/* 64 */
	};
	struct scmp_call wx = mmap_rx;

	/* -1 + 1 wraps to 0: JSET not taken, on to RET A (the length) */
	cr_assert_eq(run_ok(f, N(f), &mmap_rx), 64);
	wx.args[2] = 7;
	cr_assert_eq(run_ok(f, N(f), &wx), SECCOMP_RET_TRAP);
	wx.args[2] = 5;
	wx.args[4] = 3;
	cr_assert_eq(run_ok(f, N(f), &wx), SECCOMP_RET_KILL_THREAD);
}

Test(seccomp_bpf, high_word_of_an_argument)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[4]) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 0, 1),
		RET(SECCOMP_RET_ALLOW),
		RET(SECCOMP_RET_LOG),
	};

	cr_assert_eq(run_ok(f, N(f), &mmap_rx), SECCOMP_RET_ALLOW);
}

Test(seccomp_bpf, unknown_field_is_reported_not_guessed)
{
	struct sock_filter ip[] = { LOAD(instruction_pointer), RET(SECCOMP_RET_ALLOW) };
	struct sock_filter addr[] = {
		LOAD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 1),
		LOAD(args[0]),
		RET(SECCOMP_RET_ALLOW),
	};
	struct scmp_call c = mmap_rx;
	unsigned field = 0;
	uint32_t ret;

	c.known = 0x3f & ~SCMP_KNOWN_ARG(0);
	cr_assert_eq(scmp_run(ip, N(ip), &c, &ret, &field), SCMP_UNKNOWN);
	cr_assert_eq(field, offsetof(struct seccomp_data, instruction_pointer));
	cr_assert_eq(scmp_run(addr, N(addr), &c, &ret, &field), SCMP_UNKNOWN);
	cr_assert_eq(field, offsetof(struct seccomp_data, args[0]));
	/* a path that never reads it is judged */
	c.nr = SYS_getpid;
	cr_assert_eq(scmp_run(addr, N(addr), &c, &ret, &field), SCMP_OK);
	cr_assert_eq(ret, SECCOMP_RET_ALLOW);
}

Test(seccomp_bpf, programs_the_kernel_would_reject)
{
	struct sock_filter no_ret[] = { LOAD(nr) };
	struct sock_filter misaligned[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), RET(SECCOMP_RET_ALLOW) };
	struct sock_filter far_jump[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 5), RET(SECCOMP_RET_ALLOW) };
	uint32_t ret;
	unsigned field;

	cr_assert_eq(scmp_run(no_ret, N(no_ret), &mmap_rx, &ret, &field), SCMP_INVALID);
	cr_assert_eq(scmp_run(misaligned, N(misaligned), &mmap_rx, &ret, &field),
		     SCMP_INVALID);
	cr_assert_eq(scmp_run(far_jump, N(far_jump), &mmap_rx, &ret, &field), SCMP_INVALID);
}

Test(seccomp_bpf, strictest_action_wins)
{
	cr_assert_eq(scmp_strictest(SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | 1),
		     SECCOMP_RET_ERRNO | 1);
	cr_assert_eq(scmp_strictest(SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD),
		     SECCOMP_RET_KILL_PROCESS);
	cr_assert_eq(scmp_strictest(SECCOMP_RET_LOG, SECCOMP_RET_TRACE), SECCOMP_RET_TRACE);
	cr_assert_eq(scmp_strictest(SECCOMP_RET_USER_NOTIF, SECCOMP_RET_ERRNO | 5),
		     SECCOMP_RET_ERRNO | 5);
}
