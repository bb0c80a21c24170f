// SPDX-License-Identifier: MIT
/*
 * tattach --stacks (stacks.h).  The process is held (as for --enable) only
 * while its threads' stacks are walked; nothing is written to it.  With a
 * ring file and an injected trampoline, a frame that returns into the
 * trampoline is followed through the thread's shadow stack, and a thread
 * stopped in tattach's own code is first let run back out of it.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/syscall.h>

#include "attach/log.h"
#include "attach/process/proc.h"
#include "attach/ring/ringfile.h"
#include "attach/process/seize.h"
#include "attach/frames/shadow.h"
#include "attach/process/stackwalk.h"
#include "attach/frames/stacks.h"
#include "attach/process/target.h"

static struct walk_frame frames[STACKWALK_MAX];

/* A traced call runs a couple of hundred instructions in tattach's code
 * (179 on average over 20 walks of a busy thread, which made a --stacks
 * take 13.6 ms against 3.2 idle on the 2-vCPU test VM: some 50 us a
 * step, the whole process held meanwhile).  Past this the walk starts
 * where the thread is: a fork child's first call, which makes its ring,
 * can run longer. */
#define STEP_OUT_MAX 5000

/* What step_out_of_tracer() met instead of the program's code. */
#define STEP_OUT_HANDLER_SYSCALL (-EINTR)
#define STEP_OUT_TOO_LONG (-ETIME)

/* The system call @t is about to make, or -1 if its next instruction is
 * not a syscall. */
static long syscall_next(pid_t pid, const struct held_thread *t)
{
	uint8_t insn[2];

	if (proc_read_mem(pid, t->regs.rip, insn, sizeof(insn)) || insn[0] != 0x0f ||
	    insn[1] != 0x05)
		return -1;
	return (long)t->regs.rax;
}

/*
 * A thread stopped in tattach's own code (a trampoline copy, a stub's
 * landing, the rescue page) cannot be unwound from there: that code has
 * no unwind tables.  It holds no lock and waits for nothing, so it is
 * let run, one instruction at a time, until it is back in the program's
 * code; the walk starts there.  A signal that comes meanwhile is
 * delivered (held_step()): its handler, when the program has one, runs
 * the same way until it returns, unless it makes a system call, which
 * may wait for anything (a -pg program's profiling timer, SIGPROF at 100
 * Hz of CPU time, comes often; its handler makes none).  Returns the
 * instructions run, or -errno.
 */
static long step_out_of_tracer(struct held *h, struct held_thread *t, const struct shadow *s,
			       const struct tat_ring_header *hdr)
{
	int handlers = 0;	/* entered on the way, not returned from */
	long n = 0;

	while (handlers || shadow_in_tramp(s, hdr, t->regs.rip)) {
		int sigreturn = 0, ret;

		if (n == STEP_OUT_MAX)
			return STEP_OUT_TOO_LONG;
		if (handlers && !shadow_in_tramp(s, hdr, t->regs.rip)) {
			long nr = syscall_next(h->pid, t);

			if (nr >= 0 && nr != SYS_rt_sigreturn)
				return STEP_OUT_HANDLER_SYSCALL;
			sigreturn = nr == SYS_rt_sigreturn;
		}
		ret = held_step(h, t, &handlers);
		if (ret < 0)
			return ret;
		handlers -= sigreturn;
		n++;
	}
	return n;
}

static void print_thread(FILE *out, pid_t pid, struct held *h, struct held_thread *t,
			 const struct shadow *s, const struct tat_ring_header *hdr)
{
	struct walk_opts wo = { .names = 1, .pid = pid };
	struct shadow_thread st = { s, 0 };
	long stepped = 0;
	int n, is_new = 0;

	if (s && hdr) {
		int64_t idx = shadow_find_thread(s, t->regs.fs_base, &is_new);

		stepped = step_out_of_tracer(h, t, s, hdr);
		wo.state = &s->st;
		if (idx >= 0 && !is_new) {
			st.addr = shadow_thread_addr(s, (uint32_t)idx);
			wo.unhijack = shadow_unhijack;
			wo.ctx = &st;
		}
	}
	n = stackwalk(t->tid, &wo, frames);
	fprintf(out, "TID %d:\n", (int)t->tid);
	if (stepped > 0)
		fprintf(out, "  (stopped in tattach's code: let run %ld instruction%s back to "
			"the program's)\n", stepped, stepped == 1 ? "" : "s");
	else if (stepped == STEP_OUT_HANDLER_SYSCALL)
		fprintf(out, "  (stopped in tattach's code: let run, it entered a signal handler "
			"that makes a system call; the walk starts there)\n");
	else if (stepped == STEP_OUT_TOO_LONG)
		fprintf(out, "  (stopped in tattach's code: let run, not back in the program's "
			"after %d instructions; the walk starts there)\n", STEP_OUT_MAX);
	else if (stepped < 0)
		fprintf(out, "  (stopped in tattach's code: could not be let run back to the "
			"program's: %s)\n", strerror((int)-stepped));
	if (n < 0) {
		fprintf(out, "  (cannot walk: %s)\n", strerror(-n));
		return;
	}
	for (int i = 0; i < n; i++) {
		const struct walk_frame *f = &frames[i];

		fprintf(out, "#%-2d 0x%016" PRIx64 " %s", i, f->ip, f->name[0] ? f->name : "??");
		if (f->name[0] && f->off)
			fprintf(out, "+0x%" PRIx64, f->off);
		/* frame i-1 returns here through the trampoline: it is traced */
		if (i + 1 < n && frames[i + 1].hijacked)
			fputs("  [traced]", out);
		fputc('\n', out);
	}
}

int session_stacks(pid_t pid, FILE *out)
{
	struct ringfile rf = { .fd = -1 };
	struct shadow s, *sp = NULL;
	struct proc_stat ps;
	struct held h = { 0 };
	uid_t uid;
	gid_t gid;
	int ret;

	ret = target_check(pid, &ps);
	if (ret)
		return ret;
	if (proc_owner(pid, &uid, &gid) == 0 &&
	    ringfile_open(pid, ps.start_time, uid, 0, &rf) == 0 &&
	    shadow_open(&s, pid, rf.hdr) == 0)
		sp = &s;
	ret = target_hold(pid, &h);
	if (ret)
		goto out;
	for (size_t i = 0; i < h.n; i++) {
		if (i)
			fputc('\n', out);
		print_thread(out, pid, &h, &h.v[i], sp, rf.fd >= 0 ? rf.hdr : NULL);
	}
	stackwalk_done();
	ret = release_all(&h);
	if (ret)
		pr_err("resuming pid %d: %s", (int)pid, strerror(-ret));
out:
	if (rf.fd >= 0)
		ringfile_close(&rf);
	return ret;
}
