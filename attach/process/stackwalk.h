/* SPDX-License-Identifier: MIT */
/*
 * Walking the stack of one stopped thread of another process, with
 * libunwind's ptrace accessors (DWARF CFI, then frame pointers).
 *
 * A frame whose return tattach hijacked returns into the trampoline,
 * which has no unwind information: the walk would end there.  Given the
 * trampoline's return addresses and a way to find the original address
 * of a hijacked slot (the target's shadow stack), the walker goes on from
 * the caller, with the registers the function's epilogue restores.  It
 * never writes the target's memory or registers.
 */
#ifndef TATTACH_ATTACH_STACKWALK_H
#define TATTACH_ATTACH_STACKWALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tp_state;

#define STACKWALK_MAX 256
#define STACKWALK_NAME 128

struct walk_frame {
	uint64_t ip;		/* innermost: where it stopped; else a return address */
	uint64_t sp;		/* the stack pointer in this frame */
	uint64_t start, end;	/* its function's bounds, 0 if unknown */
	uint64_t off;		/* ip - the start of the named symbol */
	int hijacked;		/* reached through a hijacked return: the frame
				 * before it (inner) is traced now */
	int sigframe;		/* a signal trampoline: the next frame was
				 * interrupted by a signal, its ip is where (not
				 * a return address) */
	char name[STACKWALK_NAME];	/* "" if unknown */
};

/* Original return address of the hijacked slot @slot, or 0. */
typedef uint64_t (*walk_unhijack_fn)(void *ctx, uint64_t slot);

struct walk_opts {
	const struct tp_state *state;	/* the trampoline's: its returns */
	walk_unhijack_fn unhijack;	/* NULL: stop at the first hijacked frame */
	void *ctx;
	int names;			/* look up names (slow: symbol tables) */
	pid_t pid;			/* the thread's process; 0: look it up */
};

/*
 * stackwalk - the frames of stopped thread @tid, innermost first, into
 * @out (room for STACKWALK_MAX); returns how many, or -errno.  Without
 * @o->unhijack, a walk that meets a hijacked return ends with a frame
 * whose ip is that tp_return.
 */
int stackwalk(pid_t tid, const struct walk_opts *o, struct walk_frame *out);

/* The same from registers @regs instead of the thread's own: those it will
 * resume with (a held thread that tattach moved, or makes its calls with). */
struct user_regs_struct;
int stackwalk_from(pid_t tid, const struct user_regs_struct *regs,
		   const struct walk_opts *o, struct walk_frame *out);

/*
 * The walks of one stop are over: what they read of the target's memory
 * is forgotten, libunwind's state (each object's tables, mapped) stays for
 * a later stop.  Tearing that down takes about 0.3 ms: stackwalk_done(),
 * once the process runs again.
 */
void stackwalk_end_stop(void);
/* tattach rewrote code in this stop after walks: the pages of code they
 * read are read again by the next ones. */
void stackwalk_code_changed(void);
/* Free what the walks of a process kept (libunwind's state and caches). */
void stackwalk_done(void);
/* stackwalk_prepare - load the unwind tables of @pid's objects now, while
 * it runs, for the walks that follow (stackwalk_done() ends them too). */
void stackwalk_prepare(pid_t pid);

#endif /* TATTACH_ATTACH_STACKWALK_H */
