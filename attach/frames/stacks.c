// SPDX-License-Identifier: MIT
/*
 * tattach --stacks (stacks.h).  The process is held (as for --enable) only
 * while its threads' stacks are walked; nothing is written to it.  With a
 * ring file and an injected trampoline, a frame that returns into the
 * trampoline is followed through the thread's shadow stack.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "attach/log.h"
#include "attach/process/proc.h"
#include "attach/ring/ringfile.h"
#include "attach/process/seize.h"
#include "attach/frames/shadow.h"
#include "attach/process/stackwalk.h"
#include "attach/frames/stacks.h"
#include "attach/process/target.h"

static struct walk_frame frames[STACKWALK_MAX];

static void print_thread(FILE *out, pid_t pid, const struct held_thread *t,
			 const struct shadow *s, const struct tat_ring_header *hdr)
{
	struct walk_opts wo = { .names = 1, .pid = pid };
	struct shadow_thread st = { s, 0 };
	int n, is_new = 0;

	if (s && hdr) {
		int64_t idx = shadow_find_thread(s, t->regs.fs_base, &is_new);

		wo.state = &s->st;
		if (idx >= 0 && !is_new) {
			st.addr = shadow_thread_addr(s, (uint32_t)idx);
			wo.unhijack = shadow_unhijack;
			wo.ctx = &st;
		}
	}
	n = stackwalk(t->tid, &wo, frames);
	fprintf(out, "TID %d:\n", (int)t->tid);
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
		print_thread(out, pid, &h.v[i], sp, rf.fd >= 0 ? rf.hdr : NULL);
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
