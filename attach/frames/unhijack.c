// SPDX-License-Identifier: MIT
/*
 * Cutting the calls in flight loose at --disable (unhijack.h).
 *
 * A traced call in flight returns into tp_return, which finds its shadow
 * frame and jumps to the original address.  main(), adopted at --enable,
 * would do so until the program ends, and with it the unwinder's GOT
 * hooks would have to stay (an exception through such a frame needs
 * them).  So --disable, once no site calls the trampoline any more, puts
 * every hijacked return address back where it was taken: the calls then
 * return straight to their callers, unrecorded, as if tattach had never
 * come.  The ring says so: per sub-stack, a CUT record and one EXIT per
 * open call, innermost first, stamped now; tread shows them closed
 * "still running at --disable".
 *
 * Every thread is held, so no trampoline code runs while we rewrite its
 * state.  But a thread may have been stopped inside it, half way through
 * pushing or popping a frame (its innermost frame, or one below a signal
 * handler): its shadow stack is not ours to change, and it is left as it
 * is (counted in kept: session.c stops the process again once it has run
 * on).  Only a walk of its stack tells, and only a walk that cannot have
 * skipped anything (unhijack_walk_in_tramp()).  A thread stopped at the
 * call of a library-call or entry stub would push a frame as soon as it
 * runs: it is moved past that call, which only traces.
 *
 * Order, so that a tattach killed half way leaves nothing broken: the
 * return addresses first (a frame still on the shadow stack whose address
 * is back is harmless: a later call ends it as dead), then the records,
 * then the empty shadow stack (an empty shadow stack under a tp_return
 * would not be).
 */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <time.h>
#include <unistd.h>

#include "attach/frames/running.h"
#include "attach/frames/shadow.h"
#include "attach/frames/unhijack.h"
#include "attach/log.h"
#include "attach/process/remote.h"
#include "attach/process/seize.h"
#include "attach/process/stackwalk.h"
#include "attach/ring/ringfile.h"


static struct walk_frame frames[STACKWALK_MAX];
static struct tp_frame fr[TP_DEPTH_MAX];

/*
 * Did the unwinder find real unwind information for frame @k: a function
 * holding its ip (after its start, for a return address)?  Where it found
 * none it makes up a function starting at the ip (seen in the vDSO, and
 * at garbage "return addresses" on the stack after stepping over it).
 */
static int plausible(const struct walk_frame *f, int k)
{
	return f->start && f->end > f->ip && (k ? f->start < f->ip : f->start <= f->ip);
}

int unhijack_walk_in_tramp(const struct ringfile *rf, const struct shadow *s,
			   const struct walk_frame *f, int n, uint64_t expect_slot, int strict)
{
	int met = 0;

	for (int k = 0; k < n; k++) {
		if (f[k].hijacked) {
			/* a return into the trampoline, gone on from with the
			 * address its shadow frame kept (unhijack_in_tramp()):
			 * a traced frame, unless a signal interrupted the
			 * thread right there, at that return (the traced
			 * function had returned): then its frame is about to
			 * be popped */
			if (k > 0 && f[k - 1].sigframe)
				return 1;
			met |= f[k].sp - 8 == expect_slot;
			continue;
		}
		if (!shadow_in_tramp(s, rf->hdr, f[k].ip)) {
			/*
			 * A frame without unwind information (the vDSO's, for
			 * one) was stepped over by guesswork, which can skip a
			 * signal frame and the trampoline code under it: the
			 * answer is unknown.  (The stopped thread leaves such a
			 * frame soon: --disable tries again.)  Below the
			 * innermost hijacked return, such frames are the
			 * callers of traced calls, which the thread does not
			 * leave soon (a program built without unwind tables):
			 * there the walk only looks, as far as it gets.
			 */
			if (strict && !met && !plausible(&f[k], k))
				return 1;
			continue;
		}
		/*
		 * A return into tp_return is a hijacked frame, not trampoline
		 * code: unless a signal interrupted the thread right there
		 * (the traced function had returned, tp_return not begun):
		 * then its frame is about to be popped.
		 */
		if (k == 0 || !shadow_is_tramp_return(s, f[k].ip) || f[k - 1].sigframe)
			return 1;
		met |= f[k].sp - 8 == expect_slot;
	}
	/* a walk that stopped short of the innermost hijacked return may
	 * have missed trampoline code below a signal handler: unknown */
	return expect_slot && !met;
}

int unhijack_in_tramp(const struct ringfile *rf, const struct shadow *s,
		      const struct held_thread *t, uint64_t slot_addr, uint64_t expect_slot,
		      int strict)
{
	struct walk_opts wo = {
		.state = &s->st, .pid = s->pid,
	};
	struct shadow_thread st = { s, slot_addr };
	int64_t idx;
	int n, is_new = 0;

	if (shadow_in_tramp(s, rf->hdr, t->regs.rip))
		return 1;
	/*
	 * On past the hijacked returns, down to the stack's end: a signal
	 * handler's traced calls put hijacked returns above its signal frame,
	 * and the trampoline code it interrupted lies below them.  A walk
	 * that stopped at the first one saw none of it: --disable would cut
	 * the calls of a thread half way through pushing or popping one, and
	 * the push or pop would go on after the cut.
	 */
	if (!st.addr && t->regs.fs_base) {
		idx = shadow_find_thread(s, t->regs.fs_base, &is_new);
		if (idx >= 0 && !is_new)
			st.addr = shadow_thread_addr(s, (uint32_t)idx);
	}
	if (st.addr) {
		wo.unhijack = shadow_unhijack;
		wo.ctx = &st;
	}
	/* walk from the registers the thread will resume with */
	if (t->regs_changed && ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0)
		return 1;
	n = stackwalk(t->tid, &wo, frames);
	if (n < 0)
		return 1;
	return unhijack_walk_in_tramp(rf, s, frames, n, expect_slot, strict);
}

/*
 * Where a thread at @rip inside the call of a stub near its module
 * (library call or entry, tramp_abi.h) goes on instead: past the call
 * and the priming, into the function, which only skips tracing this one
 * call (0: not in a stub's call).
 */
static uint64_t past_stub_call(const struct tat_site *sites, uint32_t nsites, uint64_t rip)
{
	for (uint32_t i = 1; i < nsites; i++) {
		uint64_t stub = sites[i].addr - TP_NS_KEY;

		if ((sites[i].kind == TAT_SITE_LIBCALL || sites[i].kind == TAT_SITE_ENTRY) &&
		    rip >= stub && rip < stub + TP_NS_CALLED)
			return stub + TP_NS_BODY;
	}
	return 0;
}

static size_t step_past_stub_calls(struct remote *r, struct ringfile *rf, struct held *h)
{
	const struct tat_site *sites = ringfile_sites(rf);
	uint32_t nsites = rf->hdr->site_count;
	size_t moved = 0, stubs = 0;

	for (uint32_t i = 1; i < nsites; i++)
		stubs += sites[i].kind == TAT_SITE_LIBCALL || sites[i].kind == TAT_SITE_ENTRY;
	if (!stubs)
		return 0;
	for (size_t t = 0; t < h->n; t++) {
		uint64_t to = past_stub_call(sites, nsites, h->v[t].regs.rip);

		if (!to)
			continue;
		h->v[t].regs.rip = to;
		if (remote_move(r, &h->v[t]))
			pr_warn("thread %d: moving it past a stub's call failed; it moves "
				"when tattach lets the process go", (int)h->v[t].tid);
		pr_info("thread %d stepped past the trampoline call of a stub", (int)h->v[t].tid);
		moved++;
	}
	return moved;
}

/* One thread's ring, written while it is held (ringfile_append()). */
struct cut_writer {
	struct ringfile *rf;
	uint32_t idx;
	uint32_t told;		/* the sub-stack the reader is in */
	int lost;		/* a loss precedes: DEPTH before each run */
};

static void put(struct cut_writer *w, uint64_t word)
{
	ringfile_append(w->rf, w->idx, word);
}

static int is_open_event(const struct tp_frame *f)
{
	return !(f->site & (TP_FRAME_ENDED | TP_FRAME_STATS));
}

static uint32_t stack_of(const struct tp_frame *f)
{
	return (uint32_t)((f->site >> TP_FRAME_STACK_SHIFT) & TP_FRAME_STACK_MASK);
}

/* Open event-mode frames of sub-stack @stack among fr[0, @upto]. */
static uint64_t open_on(uint64_t upto, uint32_t stack)
{
	uint64_t n = 0;

	for (uint64_t j = 0; j <= upto; j++)
		n += is_open_event(&fr[j]) && stack_of(&fr[j]) == stack;
	return n;
}

/*
 * The records for the open event-mode calls among fr[0, @depth): runs of
 * one sub-stack, innermost first, each a STACK when the reader is in
 * another, a CUT and its EXITs.  Returns the words that takes.
 */
static uint64_t cut_records(struct cut_writer *w, uint64_t depth, uint64_t now, int write)
{
	uint64_t words = 0, j = depth;
	uint32_t told = w->told;

	while (j-- > 0) {
		uint64_t n = 0, lowest = j;
		uint32_t s;

		if (!is_open_event(&fr[j]))
			continue;
		s = stack_of(&fr[j]);
		/* the run: down to the next open call of another sub-stack */
		for (uint64_t k = j + 1; k-- > 0;) {
			if (!is_open_event(&fr[k]))
				continue;
			if (stack_of(&fr[k]) != s)
				break;
			n++;
			lowest = k;
		}
		words += (told != s) + 1 + (uint64_t)w->lost + n;
		if (write) {
			if (told != s)
				put(w, tat_ev_special(TAT_SUB_STACK, s));
			put(w, tat_ev_special(TAT_SUB_CUT, n));
			/* after a loss the reader resynchronises on this */
			if (w->lost)
				put(w, tat_ev_special(TAT_SUB_DEPTH, open_on(j, s)));
			for (uint64_t k = j + 1; k-- > lowest;)
				if (is_open_event(&fr[k]))
					put(w, tat_ev_make(TAT_EV_EXIT,
							   (uint32_t)(fr[k].site & TAT_EV_SITE_MAX),
							   now));
		}
		told = s;
		j = lowest;
	}
	if (write)
		w->told = told;
	return words;
}

/*
 * The slot of held thread @t, when it has shadow frames: 1 (*@idx, *@addr
 * and *@head set), 0 when it has none, or -errno.
 */
static int slot_with_frames(const struct shadow *s, const struct held_thread *t,
			    uint32_t max_threads, int64_t *idx, uint64_t *addr,
			    struct tp_thread *head)
{
	uint64_t key = t->regs.fs_base;
	int is_new, ret;

	if (!key)
		return 0;	/* no TLS: the trampoline never traced it */
	*idx = shadow_find_thread(s, key, &is_new);
	if (*idx < 0 || is_new || (uint64_t)*idx >= max_threads)
		return *idx < 0 && *idx != -ENOSPC ? (int)*idx : 0;
	*addr = shadow_thread_addr(s, (uint32_t)*idx);
	ret = shadow_read(s->pid, *addr, head, SHADOW_HEAD);
	if (ret)
		return ret;
	if (head->key != key || !head->depth)
		return 0;
	ret = shadow_read(s->pid, *addr + offsetof(struct tp_thread, stack), fr,
			  (head->depth < TP_DEPTH_MAX ? head->depth : TP_DEPTH_MAX) * sizeof(fr[0]));
	return ret ? ret : 1;
}

/*
 * The return slot a walk of held thread @t must meet first: the lowest
 * one, at or above its stack pointer, of a frame in fr[0, @depth) of its
 * running sub-stack that still holds a tp_return (0: none).
 */
static uint64_t innermost_hijacked(const struct shadow *s, const struct held_thread *t,
				   uint64_t depth, uint32_t stack)
{
	uint64_t lowest = 0;

	for (uint64_t j = 0; j < depth && j < TP_DEPTH_MAX; j++) {
		uint64_t held;

		if (stack_of(&fr[j]) != stack || fr[j].slot < t->regs.rsp ||
		    (lowest && fr[j].slot >= lowest) ||
		    shadow_read(s->pid, fr[j].slot, &held, sizeof(held)) ||
		    !shadow_is_tramp_return(s, held))
			continue;
		lowest = fr[j].slot;
	}
	return lowest;
}

/*
 * Cut the calls of thread slot @idx (at @addr, its head in @hp, its frames
 * in fr[]) loose.  Returns how many event- or stats-mode calls were still
 * open, or -errno.
 */
static int64_t cut_slot(struct ringfile *rf, const struct shadow *s, int64_t idx,
			uint64_t addr, struct tp_thread *hp, uint64_t now)
{
	struct tat_ring_header *hdr = rf->hdr;
	uint64_t depth, open = 0, events = 0, words;
	struct cut_writer w = { .rf = rf };
	struct tp_thread head = *hp;
	struct tat_thread_ctl *ctl;
	int ret;

	depth = head.depth < TP_DEPTH_MAX ? head.depth : TP_DEPTH_MAX;

	/* 1. The return addresses, innermost first: of a tail call's two
	 * frames on one slot, the outer one's address is the one left. */
	for (uint64_t j = depth; j-- > 0;) {
		uint64_t held;

		open += !(fr[j].site & TP_FRAME_ENDED);
		events += is_open_event(&fr[j]);
		/* a slot holding anything else: the frame was left (longjmp,
		 * a throw put it back), or the word is another frame's now */
		if (shadow_read(s->pid, fr[j].slot, &held, sizeof(held)) ||
		    !shadow_is_tramp_return(s, held))
			continue;
		ret = shadow_write(s->pid, fr[j].slot, &fr[j].ret, sizeof(fr[j].ret));
		if (ret)
			return ret;
	}

	/* 2. The records: the open calls end now, cut off. */
	ctl = (struct tat_thread_ctl *)((char *)hdr + hdr->thread_off) + idx;
	w.idx = (uint32_t)idx;
	w.told = head.ring_stack;
	w.lost = head.lost_pending != 0;
	if (events) {
		words = 1 + (uint64_t)w.lost + cut_records(&w, depth, now, 0);
		if (hdr->mode != TAT_MODE_FLIGHT &&
		    ctl->head + words - ctl->tail > (1ull << hdr->ring_shift)) {
			/* no room: told as a loss, which the reader's next resync
			 * (DEPTH 0) closes as lost exits */
			ctl->dropped += events;
			head.lost_pending += events;
		} else {
			put(&w, tat_ev_special(TAT_SUB_TIME, now >> TAT_EV_TSC_BITS));
			head.last_hi = now >> TAT_EV_TSC_BITS;
			if (w.lost)
				put(&w, tat_ev_special(TAT_SUB_LOST, head.lost_pending));
			head.lost_pending = 0;
			cut_records(&w, depth, now, 1);
			head.ring_stack = w.told;
		}
	}

	/* 3. Nothing left for the trampoline to expect. */
	head.depth = 0;
	head.mixed_at = 0;
	head.bt_sp = 0;
	head.bt_stack = 0;
	ret = shadow_write(s->pid, addr, &head, SHADOW_HEAD);
	if (ret)
		return ret;
	if (hdr->frames_off)
		ctl->open_depth = 0;
	return (int64_t)open;
}

/* Has thread @tid of @pid exited? */
static int access_gone(int pid, int tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
	return access(path, F_OK) != 0;
}

/* CPU time thread @tid of @pid has had, in ns (0: unknown). */
static unsigned long long ran_ns(int pid, int tid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

int unhijack_wait_ran(int pid, const struct unhijack_report *rep, int timeout_ms,
		      unsigned long long min_ns)
{
	size_t n = rep->kept < UNHIJACK_KEPT_MAX ? rep->kept : UNHIJACK_KEPT_MAX;
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		size_t ran = 0;

		for (size_t i = 0; i < n; i++) {
			unsigned long long ns = ran_ns(pid, rep->kept_tid[i]);

			/* gone counts as left; unknown never does */
			ran += ns ? ns >= rep->kept_ran[i] + min_ns :
				    access_gone(pid, rep->kept_tid[i]);
		}
		if (ran == n)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
		    timeout_ms)
			return 0;
		/* let it run: its time grows when the scheduler next looks */
		sched_yield();
	}
}

void unhijack_report_free(struct unhijack_report *rep)
{
	free(rep->walked);
	rep->walked = NULL;
}

int unhijack_all(struct remote *r, struct ringfile *rf, struct held *h,
		 struct unhijack_report *rep)
{
	struct shadow s;
	uint64_t now;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = shadow_open(&s, h->pid, rf->hdr);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	rep->stepped = step_past_stub_calls(r, rf, h);
	now = ringfile_event_clock(rf->hdr);
	rep->walked = calloc(h->n ? h->n : 1, 1);
	if (!rep->walked)
		return -ENOMEM;
	for (size_t i = 0; i < h->n; i++) {
		const struct held_thread *t = &h->v[i];
		struct tp_thread head;
		uint64_t addr = 0;
		int64_t idx = 0, n;
		int has;

		/* a thread with frames to cut is walked (below); one without
		 * only needs to be out of the trampoline's code now */
		has = shadow_in_tramp(&s, rf->hdr, t->regs.rip) ? 1 :
		      slot_with_frames(&s, t, rf->hdr->max_threads, &idx, &addr, &head);
		if (has < 0) {
			ret = has;
			pr_warn("thread %d: its calls in flight could not be read: %s",
				(int)t->tid, strerror(-ret));
			break;
		}
		if (!has)
			continue;
		if (unhijack_in_tramp(rf, &s, t, addr, shadow_in_tramp(&s, rf->hdr, t->regs.rip) ? 0 :
				      innermost_hijacked(&s, t, head.depth, head.cur_stack), 1)) {
			if (rep->kept < UNHIJACK_KEPT_MAX) {
				rep->kept_tid[rep->kept] = t->tid;
				rep->kept_ran[rep->kept] = ran_ns(h->pid, t->tid);
			}
			rep->kept++;
			pr_info("thread %d was stopped in the trampoline: its calls in "
				"flight still return through it", (int)t->tid);
			continue;
		}
		rep->walked[i] = 1;	/* and found outside the trampoline */
		n = cut_slot(rf, &s, idx, addr, &head, now);
		if (n < 0) {
			ret = (int)n;
			pr_warn("thread %d: its calls in flight could not all be cut loose "
				"from the trampoline: %s", (int)t->tid, strerror(-ret));
			break;
		}
		rep->calls += (size_t)n;
		rep->threads += n > 0;
	}
	stackwalk_end_stop();
	return ret;
}
