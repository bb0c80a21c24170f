// SPDX-License-Identifier: MIT
/*
 * Taking the unwinder hooks off at --disable (unwind_hooks.h).
 *
 * The hooks exist for the frames whose return goes through the trampoline:
 * an exception, pthread_exit() or backtrace() must find their return
 * addresses put back.  --disable cuts such frames loose first (main(),
 * adopted at --enable, would otherwise return through the trampoline until
 * the program ends: unhijack.c), but a thread stopped inside the trampoline
 * keeps its frames; so the hooks may only go when no thread has one
 * (needs_hooks() below), and no thread is inside trampoline code, where it
 * could be about to push a frame (its innermost frame, or one below a
 * signal handler).  The threads are held, so nothing changes meanwhile.
 * Then every entry goes back to the value it held before it was hooked,
 * byte for byte (a lazily bound entry not yet resolved stays so).
 */
#include <errno.h>
#include <stddef.h>

#include "attach/log.h"
#include "attach/process/remote.h"
#include "attach/ring/ringfile.h"
#include "attach/process/seize.h"
#include "attach/frames/shadow.h"
#include "attach/process/stackwalk.h"
#include "attach/tramp/tramp_blob.h"
#include "attach/frames/unwind_hooks.h"
#include "attach/frames/unhijack.h"

/*
 * Does a frame of thread slot @addr still need the hooks (1), or may it
 * lose them (0)?  Its return is hijacked while its stack slot holds a
 * tp_return; a frame whose address an unwinder or backtrace() put back
 * (restored, not ended) waits for the catch hook to take it again.  The
 * others cannot return through the trampoline: a frame longjmp() or a
 * throw left, ended, whose slot holds something else now, or whose stack
 * is gone with its thread.
 */
static struct tp_frame fr[TP_DEPTH_MAX];

static int needs_hooks(const struct shadow *s, uint64_t addr, uint64_t depth)
{
	if (depth > TP_DEPTH_MAX)
		depth = TP_DEPTH_MAX;
	if (shadow_read(s->pid, addr + offsetof(struct tp_thread, stack), fr,
			depth * sizeof(fr[0])))
		return 1;	/* unreadable: assume the worst */
	for (uint64_t j = 0; j < depth; j++) {
		uint64_t held;

		if ((fr[j].site & (TP_FRAME_RESTORED | TP_FRAME_ENDED)) == TP_FRAME_RESTORED)
			return 1;
		if (!shadow_read(s->pid, fr[j].slot, &held, sizeof(held)) &&
		    shadow_is_tramp_return(s, held))
			return 1;
	}
	return 0;
}

/*
 * The first thread with a frame that needs the hooks, or -1.  Only the
 * slots claimed so far are read (a claimed slot's tid is in the ring's
 * thread table, written before its first frame; a thread stopped between
 * its claim and that write is in trampoline code, which
 * stopped_in_tramp() sees): a few reads, not one per possible thread.
 */
static int64_t thread_needing_hooks(const struct ringfile *rf, const struct shadow *s,
				    pid_t *tid)
{
	const struct tat_thread_ctl *ctl =
		(const void *)((const char *)rf->hdr + rf->hdr->thread_off);

	for (uint32_t i = 0; i < 1u << s->st.thread_bits && i < rf->hdr->max_threads; i++) {
		struct tp_thread head;

		if (!__atomic_load_n(&ctl[i].tid, __ATOMIC_RELAXED))
			continue;
		if (shadow_read(s->pid, shadow_thread_addr(s, i), &head, SHADOW_HEAD))
			return i;	/* unreadable: assume the worst */
		if (head.key && head.depth && needs_hooks(s, shadow_thread_addr(s, i), head.depth)) {
			*tid = (pid_t)head.tid;
			return i;
		}
	}
	return -1;
}

/* Is a frame of held thread @t in trampoline code (0: no, 1: yes or unknown)? */
static int stopped_in_tramp(const struct ringfile *rf, const struct shadow *s,
			    const struct held_thread *t)
{
	/* lenient: this thread had no frame to cut (unhijack.c walked those
	 * strictly); at worst a frame it was pushing stays unhooked */
	return unhijack_in_tramp(rf, s, t, 0, 0, 0);
}

static int is_hook(const struct ringfile *rf, uint64_t v)
{
	static const uint64_t off[] = {
		TRAMP_CODE_OFF_HOOK_RAISE, TRAMP_CODE_OFF_HOOK_RETHROW, TRAMP_CODE_OFF_HOOK_CATCH,
		TRAMP_CODE_OFF_HOOK_PEXIT, TRAMP_CODE_OFF_HOOK_BT,
	};

	for (uint32_t i = 0; i < rf->hdr->tramp_count && i < TAT_TRAMP_MAX; i++)
		for (size_t k = 0; k < sizeof(off) / sizeof(off[0]); k++)
			if (v == rf->hdr->tramp_addr[i] + off[k])
				return 1;
	return 0;
}

int unwind_hooks_remove(struct remote *r, struct ringfile *rf, struct held *h,
			const unsigned char *walked)
{
	uint64_t nsaved, zero = 0;
	struct shadow s;
	pid_t tid = 0;
	int restored = 0, busy = 0, ret;

	ret = shadow_open(&s, h->pid, rf->hdr);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	nsaved = s.st.hook_saved;
	if (!nsaved)
		return 0;
	if (nsaved > TP_HOOK_SAVED_MAX) {
		pr_info("pid %d: more unwinder GOT entries hooked than tattach keeps "
			"(%d): they stay hooked", (int)h->pid, TP_HOOK_SAVED_MAX);
		return -EBUSY;
	}
	if (thread_needing_hooks(rf, &s, &tid) >= 0) {
		pr_info("pid %d: the unwinder's GOT entries stay hooked: thread %d has "
			"traced calls that still return through the trampoline",
			(int)h->pid, (int)tid);
		return -EBUSY;
	}
	for (size_t i = 0; i < h->n && !busy; i++) {
		if (walked && walked[i])
			continue;	/* just walked, outside: nothing changed since */
		busy = stopped_in_tramp(rf, &s, &h->v[i]);
		if (busy)
			pr_info("pid %d: the unwinder's GOT entries stay hooked: thread %d "
				"was stopped in the trampoline", (int)h->pid, (int)h->v[i].tid);
	}
	stackwalk_end_stop();
	if (busy)
		return -EBUSY;
	for (uint64_t i = 0; i < nsaved; i++) {
		uint64_t cur;

		/* an object unloaded since: its entry is gone, or not ours */
		if (remote_read(r, s.st.hook_slot[i], &cur, sizeof(cur)) || !is_hook(rf, cur))
			continue;
		ret = remote_write(r, s.st.hook_slot[i], &s.st.hook_orig[i], sizeof(cur));
		if (ret)
			return ret;
		restored++;
	}
	ret = remote_write(r, rf->hdr->private_addr + offsetof(struct tp_state, hook_saved),
			   &zero, sizeof(zero));
	if (ret)
		return ret;
	pr_info("%d GOT entries of unwinder entry points put back", restored);
	return restored;
}
