// SPDX-License-Identifier: MIT
/*
 * The contexts saved in held threads' signal frames (sigframes.h).
 *
 * On x86-64 Linux a handler's frame begins with its return address (the
 * restorer, which calls rt_sigreturn) followed by the ucontext_t the
 * kernel saved; libunwind reports the restorer as a signal frame whose
 * stack pointer is that ucontext_t, and the next frame's ip as the
 * interrupted one.  A context is listed only when both agree: the word at
 * uc_mcontext.gregs[REG_RIP] is the ip the walk went on with.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "attach/frames/shadow.h"
#include "attach/frames/sigframes.h"
#include "attach/log.h"
#include "attach/process/seize.h"
#include "attach/process/stackwalk.h"

#define SAVED_RIP_OFF offsetof(ucontext_t, uc_mcontext.gregs[REG_RIP])

static struct walk_frame frames[STACKWALK_MAX];

static int add(struct saved_contexts *c, pid_t tid, uint64_t rip, uint64_t at)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct saved_context *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (struct saved_context){ tid, rip, at };
	return 0;
}

/* The signal frames among @n frames of thread @tid. */
static int collect(pid_t pid, pid_t tid, int n, struct saved_contexts *c)
{
	for (int k = 0; k + 1 < n; k++) {
		uint64_t at = frames[k].sp + SAVED_RIP_OFF, saved;
		int ret;

		if (!frames[k].sigframe)
			continue;
		if (shadow_read(pid, at, &saved, sizeof(saved)) || saved != frames[k + 1].ip) {
			pr_info("thread %d: a signal frame at %#llx whose saved context "
				"was not found", (int)tid, (unsigned long long)frames[k].sp);
			continue;
		}
		ret = add(c, tid, saved, at);
		if (ret)
			return ret;
	}
	return 0;
}

int sigframes_find(const struct held *h, const struct ringfile *rf, struct saved_contexts *c)
{
	struct shadow s;
	int have_shadow = shadow_open(&s, h->pid, rf->hdr) == 0;
	int ret = 0;

	c->n = 0;
	for (size_t i = 0; i < h->n && !ret; i++) {
		const struct held_thread *t = &h->v[i];
		struct walk_opts wo = { .pid = h->pid };
		struct shadow_thread st = { &s, 0 };
		int n, is_new = 0;

		if (have_shadow) {
			int64_t idx = t->regs.fs_base ?
				      shadow_find_thread(&s, t->regs.fs_base, &is_new) : -1;

			/* on past the hijacked returns: a handler's traced calls
			 * put them above its signal frame */
			wo.state = &s.st;
			if (idx >= 0 && !is_new) {
				st.addr = shadow_thread_addr(&s, (uint32_t)idx);
				wo.unhijack = shadow_unhijack;
				wo.ctx = &st;
			}
		}
		n = stackwalk_from(t->tid, &t->regs, &wo, frames);
		if (n > 0)
			ret = collect(h->pid, t->tid, n, c);
	}
	/* the code the walks read is about to change */
	stackwalk_code_changed();
	c->found = 1;		/* tried: not again in this stop */
	return ret;
}

int sigframes_move(pid_t pid, struct saved_context *sc, uint64_t rip)
{
	int ret = shadow_write(pid, sc->at, &rip, sizeof(rip));

	if (!ret)
		sc->rip = rip;
	return ret;
}

void sigframes_free(struct saved_contexts *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}
