/* SPDX-License-Identifier: MIT */
/* The three things tattach does to a process, start to finish. */
#ifndef TATTACH_SESSION_H
#define TATTACH_SESSION_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct args_req;

struct session_opts {
	pid_t pid;
	uint32_t max_threads;		/* 0: default; only when the ring is created */
	uint64_t buffer_size;		/* bytes per thread; 0: default */
	int mode;			/* enum tat_mode, or -1 to keep it */
	int clock;			/* enum tat_clock, or -1: TSC if invariant */
	const char **filters;		/* --enable -F: patch only these functions */
	size_t nfilters;
	const char **notraces;		/* --enable -N: never these */
	size_t nnotraces;
	long max_depth;			/* header.max_depth, or -1 to keep it */
	int verbose;			/* --status -v: list the patched functions */
	int libcalls;			/* --enable --libcalls: hook library calls */
	int entry;			/* --enable --entry: patch the program's entries */
	const char *module;		/* --enable --module NAME: and that library's */
	int no_children;		/* --enable --no-children: fork children
					 * of the process record nothing */
	const struct args_req *args;	/* --enable -A/-R (attach/values/args_plan.h) */
	size_t nargs;
	pid_t parent_pid;		/* a ring this run creates names this
					 * traced parent (header.parent_pid), 0:
					 * none; --follow, for an exec'd child */
	uint64_t parent_start_time;	/* with parent_pid: its start time */
	int no_sites_quiet;		/* nothing to trace is no error to say
					 * (-ENOENT all the same): --follow, for
					 * the programs a process starts */
};

struct session_report {
	int already;			/* nothing to do: it was in that state */
	size_t modules;
	size_t sites;			/* sites now in the wanted state */
	size_t changed;			/* sites rewritten by this run */
	size_t unpatched;		/* sites made NOPs again: filtered out */
	size_t mismatched;		/* sites left alone: unexpected bytes */
	size_t unreachable;
	size_t threads;			/* threads held */
	size_t eintr_fixed;
	size_t stepped;			/* threads moved out of a NOP sled */
	size_t handlers_stepped;	/* signal handlers' interrupted contexts
					 * moved out of a NOP sled or an entry's
					 * window (attach/frames/sigframes.h) */
	double stopped_us;		/* how long the target was held */
	size_t adopted;			/* --enable: calls already running, now traced */
	char ring_path[256];
	char kept_image[300];		/* --enable after an exec: where the earlier
					 * image's ring was moved, or "" */
	size_t libcalls;		/* library calls hooked now (--libcalls) */
	size_t entries;			/* function entries patched now (--entry) */
	size_t entries_refused;		/* functions whose entry is unsafe to patch */
	size_t entries_stepped;		/* threads moved out of an entry's window */
	size_t entries_in_stubs;	/* --disable: threads left in an entry stub */
	double inject_us;		/* first --enable: one thread held alone
					 * for the injection, before stopped_us */
	size_t cut;			/* --disable: calls in flight cut loose from
					 * the trampoline (attach/frames/unhijack.c) */
	size_t cut_kept;		/* --disable: threads stopped in the
					 * trampoline, whose calls stay traced */
	size_t stub_stepped;		/* --disable: threads moved past a stub's
					 * call of the trampoline */
	size_t cut_later;		/* --disable: threads first stopped in the
					 * trampoline, cut loose at a later stop */
	size_t cut_stops;		/* --disable: those later stops */
	int mode;			/* --enable: the ring's mode now (TAT_MODE_*) */
	uint32_t slots;			/* --enable: the ring's thread slots */
	uint32_t slots_chosen;		/* --enable without -t made the ring with
					 * this many thread slots, more than the
					 * default for the threads it has; or 0 */
};

#define SESSION_DEFAULT_THREADS 128
#define SESSION_MAX_THREADS     65536
#define SESSION_DEFAULT_BUFFER  (1u << 20)

/* Each returns 0 or -errno; the reason has been logged with pr_err(). */
int session_enable(const struct session_opts *o, struct session_report *rep);
int session_disable(const struct session_opts *o, struct session_report *rep);
int session_status(const struct session_opts *o, FILE *out);
/* Only switch the mode of a trace (no stop needed: the trampoline reads it
 * at every write). */
int session_set_mode(const struct session_opts *o);
const char *session_mode_name(int mode);
/* After an --enable with -A/-R that left the ring in stats mode, which
 * records no values: one line on @out saying when they will be. */
void session_say_values_wait(FILE *out, const struct session_opts *o,
			     const struct session_report *rep);

#endif
