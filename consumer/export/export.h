/* SPDX-License-Identifier: MIT */
/*
 * Exports: a trace, decoded and named, written in another tool's format.
 *
 * Every exporter reads the same in-memory model, struct tread_xtrace: one
 * or more processes (several traces merged on CLOCK_REALTIME), their
 * threads, the functions that occur, and every call event of every thread
 * in time order.  The model is built once (collect.c: from rings or saved
 * files, filters applied) and never depends on the machine that recorded
 * it, so an export made from a saved file on another host is the same as
 * one made next to the process.
 *
 * One file per format in this folder: chrome.c, folded.c (and the SVG
 * flame graph), uftrace.c, ctf.c.
 */
#ifndef TATTACH_CONSUMER_EXPORT_H
#define TATTACH_CONSUMER_EXPORT_H

#include <stddef.h>
#include <stdint.h>

/* One traced process. */
struct tread_xproc {
	int32_t     pid;
	const char *host;		/* host name, "" when unknown */
	const char *exe;		/* main program path, "" when unknown */
	const char *comm;		/* process name (comm of the main thread) */
	/* N: a program the process ran before an exec, from its kept ring
	 * tattach-PID.START.imageN.ring (another process of the model may
	 * be the same pid's current program); 0: any other trace */
	unsigned    image;
	uint64_t    tsc_hz;		/* clock of the original ring (informative) */
	/* CLOCK_MONOTONIC at the same instant as a CLOCK_REALTIME value
	 * (from the ring's calibration): real_ns - mono_ns is the offset
	 * that maps the process's monotonic time onto the wall clock. */
	uint64_t    calib_mono_ns;
	uint64_t    calib_real_ns;
};

/*
 * One thread (one tid of one process), or one sub-stack of a thread that
 * switched stacks (coroutines, a handler on a sigaltstack: collect.h):
 * its calls nest in each other but not in its thread's, so it is a thread
 * of its own, named "NAME stack N", whose tid is made up: the n-th such
 * thread of the model has tid TREAD_X_STACK_TID + n, above any real tid
 * (Linux's pid_max is at most 2^22).
 */
struct tread_xthread {
	uint32_t    proc;		/* index into procs[] */
	int32_t     tid;
	const char *name;		/* comm, "" when unknown */
};

#define TREAD_X_STACK_TID (1 << 22)

/* One function: a site of one module. */
struct tread_xfunc {
	const char *name;		/* never NULL ("0x<addr>" when unknown) */
	const char *file;		/* source file, NULL when unknown */
	uint32_t    line;		/* 0 when unknown */
	uint32_t    proc;		/* process whose address space @addr is in */
	uint64_t    addr;		/* runtime address of the function's site */
	const char *module;		/* path of its module, "" when unknown */
	uint64_t    module_base;	/* runtime address of the module's first
					 * mapping (load bias + lowest vaddr) */
};

enum tread_xkind {
	TREAD_X_ENTRY = 0,
	TREAD_X_EXIT,			/* closes the innermost open call */
	TREAD_X_LOST,			/* @count events missing here */
};

/*
 * One event.  Per thread, ENTRY and EXIT are balanced: the collector
 * drops exits whose entry it never saw and closes calls still open at
 * the end (or at a loss) with a synthetic EXIT flagged @synthetic, at the
 * time of the last event it knows of, so every exporter can rely on
 * proper nesting.
 */
struct tread_xevent {
	uint64_t real_ns;		/* CLOCK_REALTIME, ns since the epoch */
	uint32_t thread;		/* index into threads[] */
	uint32_t func;			/* index into funcs[] (ENTRY/EXIT) */
	uint8_t  kind;			/* enum tread_xkind */
	uint8_t  synthetic;		/* EXIT made up by the collector */
	uint8_t  unwound;		/* EXIT of a frame ended by longjmp */
	uint8_t  early;			/* a call already running when tracing
					 * began (tattach adopted it): its ENTRY
					 * is dated at the --enable, so its time
					 * counts from there; set on both its
					 * ENTRY and its EXIT */
	uint8_t  cut;			/* EXIT of a call still running when
					 * --disable cut it loose (its real
					 * return is not recorded) */
	uint32_t depth;			/* ENTRY: calls open in this thread before
					 * it; EXIT: the same as its ENTRY */
	uint64_t count;			/* LOST: events missing */
	const char *args;		/* ENTRY: arguments recorded by tattach
					 * -A ("a=1, b=\"x\""), or NULL */
	const char *ret;		/* EXIT: return value recorded by -R, or NULL */
	uint64_t first_arg;		/* ENTRY with args: the first value recorded,
					 * raw (a mutex's address for
					 * pthread_mutex_lock@arg1/p), to pair
					 * calls on one object */
	uint8_t  mark;			/* ENTRY of a <tattach/mark.h> hook call:
					 * enum tread_mark_kind (decode/marks.h),
					 * 0 for any other call */
	const char *text;		/* mark: its text (a counter's name) */
	int64_t  value;			/* mark: a counter's value */
	/* The -A record (ENTRY) or -R record (EXIT) as recorded, format and
	 * value per item (docs/ring-format.md, "Arguments and return
	 * values"), for exports that store typed values (uftrace); NULL
	 * when none. */
	const uint8_t *arg_bytes;
	const uint8_t *ret_bytes;
	uint32_t arg_nbytes, ret_nbytes;
};

struct tread_xtrace {
	struct tread_xproc   *procs;
	size_t                nprocs;
	struct tread_xthread *threads;
	size_t                nthreads;
	struct tread_xfunc   *funcs;
	size_t                nfuncs;
	struct tread_xevent  *events;	/* all threads, by real_ns, ties in
					 * input order */
	size_t                nevents;
};

enum tread_export_format {
	TREAD_EXPORT_CHROME = 0,	/* -o FILE.json */
	TREAD_EXPORT_FOLDED,		/* -o FILE or stdout */
	TREAD_EXPORT_FLAMEGRAPH,	/* -o FILE.svg */
	TREAD_EXPORT_UFTRACE,		/* -o DIR */
	TREAD_EXPORT_CTF,		/* -o DIR */
};

/*
 * Each exporter writes @x to @out (a file, or a folder that must not
 * exist or be empty) and returns 0, or -errno with a one-line reason in
 * @err.  On failure nothing half-written is left behind.
 */
int tread_export_chrome(const struct tread_xtrace *x, const char *out,
			char *err, size_t errlen);
int tread_export_folded(const struct tread_xtrace *x, const char *out,
			char *err, size_t errlen);
int tread_export_flamegraph(const struct tread_xtrace *x, const char *out,
			    char *err, size_t errlen);
int tread_export_uftrace(const struct tread_xtrace *x, const char *out,
			 char *err, size_t errlen);
int tread_export_ctf(const struct tread_xtrace *x, const char *out,
		     char *err, size_t errlen);

#endif /* TATTACH_CONSUMER_EXPORT_H */
