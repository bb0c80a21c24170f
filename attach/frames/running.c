// SPDX-License-Identifier: MIT
/*
 * Adopting the calls in flight at --enable (running.h).
 *
 * Everything is done while the threads are held, so the trampoline runs
 * nowhere and we are the only writer of the thread slots, shadow stacks
 * and rings we touch.  A thread is left alone when any of its frames is
 * inside a trampoline copy (it was stopped half way through an event), or
 * when its ring has no room.  A frame is adopted when its function has a
 * patched site that it has already passed (the innermost frame may be
 * stopped before it: then the site will record its entry itself), and its
 * return address really is in the slot the unwinder says (a signal frame's
 * is not).  The walk stops at the first return tattach already hijacked:
 * the calls beyond were adopted, or entered, under an earlier --enable.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <time.h>

#include "attach/log.h"
#include "attach/ring/ringfile.h"
#include "attach/frames/running.h"
#include "attach/process/seize.h"
#include "attach/frames/shadow.h"
#include "attach/frames/unhijack.h"
#include "attach/process/stackwalk.h"


struct adopt {
	uint64_t slot, ret;
	uint32_t site;
};

static struct walk_frame frames[STACKWALK_MAX];
static struct adopt found[STACKWALK_MAX];

/*
 * Each module's sites are one run of the site table (register_module()),
 * in address order as the patcher lists them: a function's site is then
 * found by bisection within its module's run, not by a scan of every site
 * of the process for every frame of every thread (100 000 sites x 9
 * threads' frames took milliseconds while the threads were held).  A run
 * found out of order is scanned.
 */
struct site_run {
	uint64_t lo, hi;		/* the module's text */
	uint32_t first, count;
	int sorted;
};

static struct site_run *runs;
static uint32_t nruns;

/* Without memory for the runs, nothing is adopted (said by the caller). */
static int site_runs_build(const struct ringfile *rf)
{
	const struct tat_ring_header *hdr = rf->hdr;
	const struct tat_module *mods = (const void *)((const char *)hdr + hdr->module_off);
	const struct tat_site *sites = (const void *)((const char *)hdr + hdr->site_off);

	nruns = 0;
	runs = calloc(hdr->module_count + 1, sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	for (uint32_t m = 0; m < hdr->module_count; m++) {
		struct site_run *r = &runs[nruns];

		if (mods[m].first_site + (uint64_t)mods[m].site_count > hdr->site_count)
			continue;
		r->lo = mods[m].text_start;
		r->hi = mods[m].text_end;
		r->first = mods[m].first_site;
		r->count = mods[m].site_count;
		r->sorted = 1;
		for (uint32_t i = 1; i < r->count && r->sorted; i++)
			r->sorted = sites[r->first + i - 1].addr < sites[r->first + i].addr;
		nruns++;
	}
	return 0;
}

/* The patched site of the function [start, end), or 0. */
static uint32_t site_in(const struct ringfile *rf, uint64_t start, uint64_t end)
{
	const struct tat_site *sites = (const void *)((const char *)rf->hdr + rf->hdr->site_off);

	for (uint32_t k = 0; k < nruns; k++) {
		const struct site_run *r = &runs[k];
		uint32_t i = r->first, e = r->first + r->count;

		if (end <= r->lo || start >= r->hi)
			continue;
		if (r->sorted) {	/* the first site at or above start */
			uint32_t lo = r->first, hi = e;

			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;

				if (sites[mid].addr < start)
					lo = mid + 1;
				else
					hi = mid;
			}
			i = lo;
		}
		for (; i < e; i++) {
			if (r->sorted && sites[i].addr >= end)
				break;
			if (sites[i].patched && sites[i].addr >= start && sites[i].addr < end)
				return i;
		}
	}
	return 0;
}

/* The traced calls in flight in frames[0, n), outermost first. */
static size_t traced_frames(const struct ringfile *rf, const struct shadow *s,
			    pid_t pid, int n)
{
	const struct tat_site *sites = (const void *)((const char *)rf->hdr + rf->hdr->site_off);
	size_t m = 0;

	for (int k = 0; k + 1 < n && !shadow_is_tramp_return(s, frames[k + 1].ip); k++) {
		const struct walk_frame *f = &frames[k];
		uint64_t slot = frames[k + 1].sp - 8, held;
		uint32_t site = f->start ? site_in(rf, f->start, f->end) : 0;

		if (!site)
			continue;
		if (k == 0 ? f->ip < sites[site].addr + sites[site].len : f->ip <= sites[site].addr)
			continue;	/* its entry is still to come: the site records it */
		if (shadow_read(pid, slot, &held, sizeof(held)) || held != frames[k + 1].ip)
			continue;	/* not a plain call frame (a signal frame) */
		found[m].slot = slot;
		found[m].ret = held;
		found[m].site = site;
		m++;
	}
	for (size_t i = 0; i < m / 2; i++) {
		struct adopt x = found[i];

		found[i] = found[m - 1 - i];
		found[m - 1 - i] = x;
	}
	return m;
}

static int adopt_thread(struct ringfile *rf, const struct shadow *s,
			const struct held_thread *t, uint64_t now, size_t *calls)
{
	struct tat_ring_header *hdr = rf->hdr;
	struct walk_opts wo = {
		.state = &s->st, .pid = s->pid,
	};
	struct tp_thread head;
	struct tat_thread_ctl *ctl;
	uint64_t addr, key = t->regs.fs_base, depth, flags, words, stack = 0;
	int n, is_new, stats = hdr->mode == TAT_MODE_STATS, tell_stack;
	int64_t idx;
	size_t m;

	if (!key)
		return 0;	/* no TLS: the trampoline would not trace it either */
	n = stackwalk(t->tid, &wo, frames);
	if (n < 0)
		return -1;
	/* stopped inside the trampoline (under a signal handler too), or a
	 * walk stepped by guesswork that may have missed it (unhijack.c) */
	if (shadow_in_tramp(s, hdr, t->regs.rip) || unhijack_walk_in_tramp(rf, s, frames, n, 0, 1))
		return -1;
	m = traced_frames(rf, s, t->tid, n);
	if (!m)
		return 0;
	idx = shadow_find_thread(s, key, &is_new);
	if (idx < 0 || (uint64_t)idx >= hdr->max_threads)
		return -1;
	addr = shadow_thread_addr(s, (uint32_t)idx);
	memset(&head, 0, SHADOW_HEAD);
	if (!is_new && shadow_read(s->pid, addr, &head, SHADOW_HEAD))
		return -1;
	depth = head.depth;
	if (depth + m > TP_DEPTH_MAX)
		return -1;
	if (depth) {
		struct tp_frame top;

		if (shadow_read(s->pid, addr + offsetof(struct tp_thread, stack) +
				(depth - 1) * sizeof(top), &top, sizeof(top)))
			return -1;
		stack = (top.site >> TP_FRAME_STACK_SHIFT) & TP_FRAME_STACK_MASK;
	}
	ctl = (struct tat_thread_ctl *)((char *)hdr + hdr->thread_off) + idx;
	tell_stack = is_new ? stack != 0 : head.ring_stack != stack;
	words = is_new + 2 + tell_stack + m;
	if (!stats && hdr->mode != TAT_MODE_FLIGHT &&
	    ctl->head + words - ctl->tail > (1ull << hdr->ring_shift))
		return -1;	/* no room: a call adopted without its ENTRY would mislead */

	flags = stats ? TP_FRAME_STATS : 0;
	if (is_new) {
		head.key = key;
		head.index = (uint32_t)idx;
		head.tid = t->tid;
		head.last_hi = ~0ull;
		/* thread_claim() would have made the ring resident */
		head.populate_pending = 1;
		ctl->tid = t->tid;
		__atomic_fetch_add(&hdr->threads_used, 1, __ATOMIC_RELAXED);
		ringfile_append(rf, (uint32_t)idx, tat_ev_special(TAT_SUB_TID, (uint32_t)t->tid));
	}
	if (!stats) {
		ringfile_append(rf, (uint32_t)idx, tat_ev_special(TAT_SUB_TIME, now >> TAT_EV_TSC_BITS));
		/* A new slot keeps last_hi unknown: the thread's first event
		 * then takes the TIME path, which makes its ring resident
		 * (populate_pending) before a second page is written. */
		head.last_hi = is_new ? ~0ull : now >> TAT_EV_TSC_BITS;
		if (tell_stack) {
			ringfile_append(rf, (uint32_t)idx, tat_ev_special(TAT_SUB_STACK, stack));
			head.ring_stack = (uint32_t)stack;
		}
		ringfile_append(rf, (uint32_t)idx, tat_ev_special(TAT_SUB_EARLY, m));
	}
	for (size_t i = 0; i < m; i++) {
		struct tp_frame f = {
			.slot = found[i].slot, .ret = found[i].ret, .tsc = now, .child = 0,
			.site = found[i].site | flags | (stack << TP_FRAME_STACK_SHIFT),
		};

		if (shadow_write(s->pid, addr + offsetof(struct tp_thread, stack) +
				 (depth + i) * sizeof(f), &f, sizeof(f)))
			return -1;
		if (hdr->frames_off) {
			struct tat_frame *sf = (struct tat_frame *)((char *)hdr + hdr->frames_off) +
					       (uint64_t)idx * TAT_FRAMES_MAX + depth + i;

			sf->tsc = now;
			sf->site = found[i].site | (stats ? TAT_FRAME_STATS : 0);
			sf->stack = (uint32_t)stack;
		}
		if (!stats)
			ringfile_append(rf, (uint32_t)idx, tat_ev_make(TAT_EV_ENTRY, found[i].site, now));
	}
	head.depth = depth + m;
	head.cur_stack = (uint32_t)stack;
	if (shadow_write(s->pid, addr, &head, SHADOW_HEAD))
		return -1;
	if (hdr->frames_off)
		ctl->open_depth = depth + m;
	/* Last: from here on the returns go through the trampoline. */
	for (size_t i = 0; i < m; i++)
		if (shadow_write(s->pid, found[i].slot, &s->st.tramp_return[0], 8))
			return -1;
	*calls += m;
	return 1;
}

void running_adopt(struct ringfile *rf, struct held *h, struct running_report *rep)
{
	struct shadow s;
	uint64_t now;

	memset(rep, 0, sizeof(*rep));
	if (shadow_open(&s, h->pid, rf->hdr))
		return;
	now = ringfile_event_clock(rf->hdr);
	if (site_runs_build(rf)) {
		pr_info("out of memory: the calls in flight are not traced");
		return;
	}
	for (size_t i = 0; i < h->n; i++) {
		struct held_thread *t = &h->v[i];
		int ret;

		/* walk from the registers the thread will resume with */
		if (t->regs_changed && ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0) {
			rep->skipped++;
			continue;
		}
		ret = adopt_thread(rf, &s, t, now, &rep->calls);
		if (ret < 0) {
			rep->skipped++;
			pr_info("thread %d: its calls in flight are not traced", (int)t->tid);
		}
		rep->threads += ret > 0;
	}
	stackwalk_end_stop();
	free(runs);
	runs = NULL;
	nruns = 0;
}
