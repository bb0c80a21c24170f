/* SPDX-License-Identifier: MIT */
/*
 * Where a held thread goes back to when its signal handlers return.
 *
 * A thread running a signal handler (or several, nested) resumes, when
 * each returns, at the instruction pointer the kernel saved in that
 * handler's signal frame, on the thread's stack.  Code tattach rewrites
 * in a stop must be left by those contexts too, not only by the threads'
 * own registers: a thread interrupted inside a patchable-entry site's
 * five one-byte NOPs, or inside the first instructions of a function
 * whose entry is patched, would come back in the middle of the jmp or
 * call written over them, and die of SIGILL or worse.
 *
 * Finding them takes a walk of every held thread's stack (stackwalk.c),
 * so callers ask only when the code they rewrite has such places.
 */
#ifndef TATTACH_ATTACH_SIGFRAMES_H
#define TATTACH_ATTACH_SIGFRAMES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct held;
struct ringfile;

struct saved_context {
	pid_t tid;
	uint64_t rip;		/* where the interrupted code goes on */
	uint64_t at;		/* the target address its signal frame keeps rip at */
};

struct saved_contexts {
	struct saved_context *v;
	size_t n, cap;
	int found;		/* sigframes_find() ran in this stop */
};

/*
 * sigframes_find - once per stop: the contexts saved in the signal frames
 * of every thread of @h (as it will resume: h->v[i].regs), walking on past
 * the returns tattach hijacked with the shadow stacks of @rf's trampoline.
 * Returns 0 or -errno (-ENOMEM: those found so far are listed); c->found
 * is set either way, so the stop tries once.  Of a thread whose walk
 * fails or ends early (code without unwind information, the trampoline),
 * only the signal frames above that point are listed
 * (docs/limitations.md).
 */
int sigframes_find(const struct held *h, const struct ringfile *rf, struct saved_contexts *c);

/* sigframes_move - the context @sc goes on at @rip instead: written into
 * its signal frame in process @pid now.  Returns 0 or -errno. */
int sigframes_move(pid_t pid, struct saved_context *sc, uint64_t rip);

void sigframes_free(struct saved_contexts *c);

#endif /* TATTACH_ATTACH_SIGFRAMES_H */
