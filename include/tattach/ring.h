/* SPDX-License-Identifier: MIT */
/*
 * The ring file: the one contract between the three parties of tattach.
 *
 *   tattach  creates the file, fills the header, module and site tables,
 *            and maps it into the target (MAP_SHARED).
 *   target   (the injected trampoline) appends 8-byte events to the ring
 *            of its thread and bumps counters.  It never trusts nor needs
 *            anything but the fields marked [T] below.
 *   tread    maps the same file read-only (read-write with -f, to move
 *            the consumer position) and decodes it.  The file is written
 *            by the traced process, so tread treats every field as hostile.
 *
 * Layout (all offsets from the start of the file, little-endian):
 *
 *   0                 struct tat_ring_header          (one page)
 *   module_off        struct tat_module[module_cap]
 *   site_off          struct tat_site[site_cap]       (index 0 is unused)
 *   thread_off        struct tat_thread_ctl[max_threads]
 *   data_off          max_threads rings of (1 << ring_shift) u64 events;
 *                     ring i starts at data_off + (i << (ring_shift + 3))
 *   frames_off        struct tat_frame[max_threads][frames_per_thread]
 *                     calls in flight, every mode (0: file predates it)
 *   stats_index_off   uint32_t[max_threads][site_cap]  (stats mode)
 *   stats_shared_off  struct tat_stat[site_cap]        (stats mode)
 *   stats_off         struct tat_stat[stats_cap]       (stats mode)
 *   args_off          struct tat_argspec[site_cap]     (tattach -A/-R)
 *
 * docs/ring-format.md is the long version of this comment.
 *
 * This header is included by freestanding code: <stdint.h> only.
 */
#ifndef TATTACH_RING_H
#define TATTACH_RING_H

#include <stdint.h>

#define TAT_RING_MAGIC   0x474e495254544154ull /* "TATTRING" */
#define TAT_RING_VERSION 1u

#define TAT_PATH_MAX      256
#define TAT_BUILD_ID_MAX  32
#define TAT_TRAMP_MAX     8	/* trampoline copies, one per far-apart module */

/* header.state: what tattach last left the target in. */
enum tat_state {
	TAT_STATE_NEW      = 0,	/* file created, nothing injected yet */
	TAT_STATE_DISABLED = 1,	/* trampoline present, sites are NOPs */
	TAT_STATE_ENABLED  = 2,	/* sites call the trampoline */
	TAT_STATE_BUSY     = 3,	/* a tattach run is rewriting sites now */
};

/* header.mode, read by the trampoline at every write [T]. */
enum tat_mode {
	TAT_MODE_DISCARD = 0,	/* full ring: drop new events, count them */
	TAT_MODE_FLIGHT  = 1,	/* full ring: overwrite the oldest events */
	TAT_MODE_STATS   = 2,	/* no events: per-function counters in
				 * struct tat_stat.  A call is accounted by
				 * the mode it entered in: its exit writes an
				 * EXIT event or updates a tat_stat, never
				 * both, whatever the mode is by then. */
};

/* header.clock */
enum tat_clock {
	TAT_CLOCK_TSC = 0,	/* invariant TSC, tsc_hz calibrated at attach */
	TAT_CLOCK_MONO = 1,	/* CLOCK_MONOTONIC ns from the target's vDSO;
				 * tsc_hz = 1e9, calib_tsc = calib_mono_ns */
};

/* How a site was emitted by the compiler; decides the trampoline entry. */
enum tat_site_kind {
	TAT_SITE_MCOUNT = 0,	/* after the prologue: parent slot is 8(%rbp) */
	TAT_SITE_FENTRY = 1,	/* first instruction: parent slot is 8(%rsp) */
	TAT_SITE_LIBCALL = 2,	/* a call into a shared library (--libcalls):
				 * addr is its stub's call + 1 (the key the
				 * trampoline hashes), len is 0.  The LIBCALL
				 * sites of a module form one run of the site
				 * table, in the order patcher/imports.c lists
				 * the file's imports: site first + i names
				 * import i (docs/any-binary.md) */
	TAT_SITE_ENTRY = 3,	/* a function entry patched with a jmp to a
				 * stub (--entry): addr is the stub's call + 1,
				 * len the bytes the jmp replaced.  One run per
				 * module in the order patcher/entries.c lists
				 * the file's functions: site first + i is
				 * function i */
};

struct tat_ring_header {
	uint64_t magic;			/* TAT_RING_MAGIC */
	uint32_t version;		/* TAT_RING_VERSION */
	uint32_t header_size;		/* sizeof(struct tat_ring_header) */
	uint64_t file_size;

	/* Which process this file belongs to.  A pid is reused; the pair
	 * (pid, start_time) is not. */
	int32_t  pid;
	uint32_t uid;
	uint64_t start_time;		/* field 22 of /proc/PID/stat */

	/* Geometry, fixed when the file is created. */
	uint32_t max_threads;
	uint32_t ring_shift;		/* events per ring = 1 << ring_shift */
	uint64_t module_off;
	uint32_t module_count;
	uint32_t module_cap;
	uint64_t site_off;
	uint32_t site_count;		/* entries in use, including unused 0 */
	uint32_t site_cap;
	uint64_t thread_off;
	uint64_t data_off;

	/* Clock calibration: tsc = calib_tsc  <=>  calib_mono_ns and
	 * calib_real_ns, and the TSC ticks tsc_hz times a second. */
	uint32_t clock;			/* enum tat_clock */
	uint32_t pad0;
	uint64_t tsc_hz;
	uint64_t calib_tsc;
	uint64_t calib_mono_ns;
	uint64_t calib_real_ns;

	/* Written by tattach. */
	uint32_t state;			/* enum tat_state */
	uint32_t mode;			/* enum tat_mode [T] */
	int32_t  owner;			/* pid of the tattach run holding the target */
	uint32_t tramp_count;
	uint64_t tramp_addr[TAT_TRAMP_MAX]; /* trampoline copies in the target */
	uint64_t tramp_size;		/* bytes of each copy: code, config, stubs */
	uint64_t private_addr;		/* private state region in the target */
	uint64_t private_size;
	uint64_t live_addr;		/* wipe-on-fork page in the target */
	uint64_t map_addr;		/* where the target mapped this file */
	uint64_t enable_count;		/* completed --enable runs */
	uint64_t disable_count;		/* completed --disable runs */
	int32_t  tid_offset;		/* offset of the tid in glibc's TCB, 0 if unknown */
	uint32_t patched_sites;		/* sites calling the trampoline now */

	/* Written by the trampoline [T]. */
	uint64_t threads_overflow;	/* calls not traced: no free thread slot
					 * (counted at each entry) */
	uint32_t threads_used;		/* thread slots claimed so far */
	uint32_t no_room;		/* [T] 1: the pages of a slot a thread
					 * claimed could not all be had (the ring
					 * folder filled up after the file was
					 * made: a store there would have raised
					 * SIGBUS); threads without a slot stay
					 * untraced until tattach clears it */

	uint64_t rescue_addr;		/* page tattach runs remote syscalls from */
	uint64_t reserved[20];
	uint32_t image;			/* N when tattach kept this ring of a
					 * program the process ran before an
					 * exec, as tattach-PID.START.imageN.ring
					 * (attach/ring/ringdir.c); 0: it is of
					 * the process's current (or last)
					 * program.  Taken from the end of
					 * reserved[], so that a copy of the file
					 * still says it. */
	uint32_t pad2;
	uint64_t cut_pending;		/* the last --disable left calls in flight
					 * of a thread it found inside the
					 * trampoline at every stop: the next
					 * --disable stops the process again to
					 * cut them loose (attach/frames/unhijack.c) */
	uint64_t args_off;		/* struct tat_argspec[site_cap]: what
					 * tattach -A/-R records per site
					 * (0: file predates it) */

	/*
	 * Fork children (docs/ring-format.md, "Fork children"), taken from the
	 * end of reserved[] so that every other field keeps its offset.
	 */
	uint32_t children;		/* [T] 1: a process forked by this one
					 * makes its own ring at its first traced
					 * call or return (attach/tramp/tramp_fork.c);
					 * 0: it records nothing (--no-children) */
	int32_t  parent_pid;		/* this ring was made by a fork child of
					 * the traced process parent_pid (0: by
					 * tattach) */
	uint64_t parent_start_time;	/* with parent_pid: that process's start
					 * time (field 22 of /proc/PID/stat) */

	/*
	 * Calls in flight and stats mode (docs/ring-format.md, "Frames in
	 * flight" and "Stats mode").  Zero in a file made before them: a
	 * reader then has neither region.  Placed after reserved[] so
	 * reserved[0] keeps its offset.
	 */
	uint64_t frames_off;		/* struct tat_frame[max_threads][frames_per_thread] */
	uint32_t frames_per_thread;	/* TAT_FRAMES_MAX */
	uint32_t max_depth;		/* [T] record calls at depth < max_depth
					 * only (depth 0 = outermost traced
					 * call); 0 = no limit */
	uint64_t stats_index_off;	/* uint32_t[max_threads][site_cap] */
	uint64_t stats_shared_off;	/* struct tat_stat[site_cap] */
	uint64_t stats_off;		/* struct tat_stat[stats_cap]: the pool */
	uint32_t stats_cap;		/* records in the pool */
	uint32_t stats_used;		/* [T] records handed out; may exceed
					 * stats_cap (then the pool is full):
					 * read min(stats_used, stats_cap) */
};

/* One loaded ELF object whose sites were found. */
struct tat_module {
	char     path[TAT_PATH_MAX];	/* as in /proc/PID/maps, NUL-terminated */
	uint8_t  build_id[TAT_BUILD_ID_MAX];
	uint32_t build_id_len;
	uint32_t first_site;		/* index of its first site */
	uint32_t site_count;
	uint32_t tramp;			/* trampoline copy its sites call */
	uint64_t load_bias;		/* runtime address = ELF vaddr + load_bias */
	uint64_t text_start;		/* runtime range of its executable text */
	uint64_t text_end;
};

/* One patchable call site. */
struct tat_site {
	uint64_t addr;			/* runtime address of the site's first byte */
	uint32_t module;		/* index into the module table */
	uint8_t  kind;			/* enum tat_site_kind */
	uint8_t  len;			/* 5 or 6 bytes */
	uint8_t  patched;		/* 1 while it calls the trampoline */
	uint8_t  written;		/* 1 once tattach wrote it: it holds one
					 * instruction since (a call, a jmp or a
					 * 5-byte NOP), never a thread inside */
};

/*
 * Per-thread ring control.  The first cache line is written by the
 * target's thread only, the second by the consumer only, so the two never
 * bounce a line between them.
 */
struct tat_thread_ctl {
	/* --- writer (target thread) [T] --- */
	uint64_t head;			/* next position to reserve, never wraps */
	int32_t  tid;			/* current owner of the slot, 0 = free */
	uint32_t pad0;
	uint64_t dropped;		/* events lost because the ring was full */
	uint64_t deep;			/* calls not traced: shadow stack was full */
	uint64_t open_depth;		/* frames [0, open_depth) of this slot's
					 * tat_frame array are calls in flight */
	uint64_t below_max_depth;	/* calls not traced: deeper than
					 * header.max_depth */
	uint64_t stats_shared;		/* stats-mode calls this slot counted in
					 * a shared record (pool full) */
	uint64_t writer_pad[1];
	/* --- consumer (tread -f) --- */
	uint64_t tail;			/* events before it were consumed */
	uint64_t reader_pad[7];
};

/*
 * A call in flight: the shared copy of one shadow-stack frame, written by
 * the thread at entry, in every mode.  Slot i's frames start at
 * frames_off + i * frames_per_thread * sizeof(struct tat_frame); frame d
 * is the call open at depth d.  A frame whose function returned stays
 * behind, stale, above open_depth; one left by longjmp() carries
 * TAT_FRAME_ENDED until the thread notices.  The thread rewrites a frame
 * while a reader copies it, so a reader copies the stack twice and keeps
 * the frames equal in both copies (docs/ring-format.md).
 */
#define TAT_FRAMES_MAX   1024u		/* = the trampoline's shadow stack */
#define TAT_FRAME_ENDED  (1u << 31)	/* tat_frame.site: call abandoned */
#define TAT_FRAME_STATS  (1u << 30)	/* tat_frame.site: entered in stats mode */

struct tat_frame {
	uint64_t tsc;			/* entry time, event clock */
	uint32_t site;			/* site index | TAT_FRAME_* flags */
	uint32_t stack;			/* the thread's sub-stack the call runs
					 * on, as in STACK records (0 unless
					 * it switches stacks; 0 in older
					 * files) */
};

/*
 * Stats mode: one record per (thread slot, site), written only by the
 * thread owning the slot, so no cache line is shared between threads on
 * the hot path.  A reader sums the records of a site over all slots.
 *
 * A thread's first call of a site in stats mode takes the next record of
 * the pool (stats_used, one locked add: once per thread and function) and
 * notes 1 + its number in stats_index[slot][site].  When the pool is full
 * the index says TAT_STAT_SHARED and the calls go to the site's shared
 * record, stats_shared[site], updated with locked instructions: slower,
 * still exact (counted in tat_thread_ctl.stats_shared).
 *
 * Times are in event-clock ticks (tsc_hz a second), as events are.  The
 * histogram is in nanoseconds: hist[k] counts calls that lasted
 * [2^k, 2^(k+1)) ns; hist[0] also counts 0 and 1 ns, and the last bucket
 * everything from 2^(TAT_HIST_BUCKETS-1) ns (73 minutes) on.
 *
 * Self time is the call's time minus the time of the traced calls it made
 * (in either mode); calls not traced (NOPs, below max_depth) count as
 * self.  The fields of one record are updated one after the other, so a
 * reader may see a call in calls and not yet in hist: the gap lasts a few
 * instructions.
 */
#define TAT_HIST_BUCKETS 43u
#define TAT_STAT_SHARED  0xffffffffu	/* stats_index value: pool full */
#define TAT_STATS_POOL   65536u		/* default stats_cap (docs) */

struct tat_stat {
	uint32_t site;			/* site index (calls == 0: unused record) */
	uint32_t slot;			/* thread slot; TAT_STAT_SHARED in a
					 * shared record */
	uint64_t calls;			/* calls that returned */
	uint64_t total;			/* their time, ticks */
	uint64_t self;			/* minus their traced callees', ticks */
	uint64_t max;			/* the longest one, ticks */
	uint64_t hist[TAT_HIST_BUCKETS];
};					/* 384 bytes, 6 cache lines */

/*
 * Events are one little-endian u64 each:
 *
 *   63   62..61  60..........40  39...........................0
 *   [C]  [type]  [site index   ] [TSC bits 39..0               ]   ENTRY, EXIT
 *   [C]  [ 2  ]  [sub:60..56][payload 55..0                    ]   SPECIAL
 *
 * C is the commit bit: the writer stores ((pos >> ring_shift) & 1) ^ 1 at
 * ring position pos, so a word still holding the previous lap's (or the
 * initial zero) value is recognised as "not written yet".
 *
 * An ENTRY or EXIT carries only the low 40 bits of the TSC.  A thread's
 * ring holds a TIME special with the upper bits before its first event,
 * whenever they change, and at every TAT_CHUNK_EVENTS boundary, so a reader
 * that starts anywhere (flight mode) finds a full timestamp soon.
 */
#define TAT_EV_COMMIT_SHIFT 63
#define TAT_EV_TYPE_SHIFT   61
#define TAT_EV_SITE_SHIFT   40
#define TAT_EV_SITE_BITS    21
#define TAT_EV_TSC_BITS     40
#define TAT_EV_SUB_SHIFT    56
#define TAT_EV_PAYLOAD_BITS 56

#define TAT_EV_SITE_MAX     ((1u << TAT_EV_SITE_BITS) - 1)
#define TAT_EV_TSC_MASK     ((1ull << TAT_EV_TSC_BITS) - 1)
#define TAT_EV_PAYLOAD_MASK ((1ull << TAT_EV_PAYLOAD_BITS) - 1)
#define TAT_FRAME_SITE_MASK TAT_EV_SITE_MAX	/* tat_frame.site without flags */

#define TAT_CHUNK_EVENTS    512u	/* TIME record at least this often */

enum tat_ev_type {
	TAT_EV_ENTRY   = 0,
	TAT_EV_EXIT    = 1,
	TAT_EV_SPECIAL = 2,
};

enum tat_ev_sub {
	TAT_SUB_TIME  = 1,	/* payload: TSC >> 40 for the events that follow */
	TAT_SUB_TID   = 2,	/* payload: tid now writing this ring */
	TAT_SUB_LOST  = 3,	/* payload: events dropped (ring full) just here */
	TAT_SUB_UNWIND = 4,	/* payload: frames ended by a non-local exit;
				 * their EXIT events follow */
	TAT_SUB_DEPTH = 5,	/* payload: calls open (entered, not exited)
				 * on this thread before the next event; after
				 * a TIME or LOST record, so a reader that lost
				 * events can close the calls whose exits it
				 * missed */
	TAT_SUB_STACK = 6,	/* payload: sub-stack id of the events that
				 * follow (until the next STACK or TID); 0
				 * before any.  A thread that switches stacks
				 * (coroutines, swapcontext(), a handler on a
				 * sigaltstack) nests calls per sub-stack */
	TAT_SUB_EARLY = 7,	/* payload: n: the next n ENTRY events are calls
				 * that were running when --enable stopped the
				 * thread (written by tattach, outermost
				 * first), stamped with that time */
	TAT_SUB_CUT   = 8,	/* payload: n: the next n EXIT events are calls
				 * still running when --disable put their
				 * return addresses back (written by tattach,
				 * innermost first, stamped with that time):
				 * their real returns are not recorded */
	TAT_SUB_VALUES = 12,	/* payload: TAT_VALUES_*: the arguments (at
				 * entry, after the call's ENTRY) or the
				 * return value (before its EXIT) of a call
				 * of a site; the value bytes follow in
				 * VALDATA records (see "Arguments") */
	TAT_SUB_VALDATA = 13,	/* payload: 7 bytes of the VALUES record
				 * before it, little-endian */
};

/*
 * Arguments and return values (tattach -A/-R; docs/ring-format.md,
 * "Arguments and return values").
 *
 * A VALUES special says which site, how many value bytes follow (in
 * ceil(bytes / 7) VALDATA specials, written with it as one block) and
 * whether they are the arguments or the return value.  The bytes are a
 * sequence of values, each self-describing:
 *
 *   u8 format (enum tat_val_format), u8 source (TAT_SRC_*), u64 value,
 *   and for TAT_VAL_STR: u8 length (TAT_STR_UNREADABLE: could not be
 *   read; TAT_STR_TRUNCATED set: no NUL within the first length bytes),
 *   then that many bytes (no NUL).
 *
 * A reader pairs arguments with the innermost open call of the site on
 * the thread (a signal handler's calls may come between ENTRY and VALUES),
 * a return value with the call the next EXIT of the site closes.
 */
#define TAT_VALUES_SITE_MASK  TAT_EV_SITE_MAX		/* bits 0..20 */
#define TAT_VALUES_BYTES_SHIFT 21			/* bits 21..36 */
#define TAT_VALUES_BYTES_MASK 0xffffull
#define TAT_VALUES_RETURN     (1ull << 40)		/* else: arguments */
#define TAT_VALDATA_BYTES     7u

#define TAT_ARGS_MAX          8u	/* values recorded at one entry */
#define TAT_STR_MAX           64u	/* bytes of a string recorded */
#define TAT_STR_UNREADABLE    0xffu
#define TAT_STR_TRUNCATED     0x80u

/* How a value is shown; the trampoline has already sign- or zero-extended
 * integers to 64 bits by their size. */
enum tat_val_format {
	TAT_VAL_NONE = 0,
	TAT_VAL_SIGNED = 1,	/* decimal, signed */
	TAT_VAL_UNSIGNED = 2,	/* decimal */
	TAT_VAL_HEX = 3,	/* 0x... */
	TAT_VAL_PTR = 4,	/* 0x..., NULL for 0 */
	TAT_VAL_STR = 5,	/* char *: the string read at entry */
	TAT_VAL_DOUBLE = 6,	/* IEEE double bits (an SSE register) */
	TAT_VAL_FLOAT = 7,	/* IEEE float bits in the low 32 bits */
	TAT_VAL_ENUM = 8,	/* signed; a reader names it from DWARF */
	TAT_VAL_BOOL = 9,	/* false / true */
	TAT_VAL_CHAR = 10,	/* 'c' */
};

/* tat_argspec source: which register holds the value. */
#define TAT_SRC_INT(i)  (i)		/* argument register i: rdi rsi rdx rcx r8 r9 */
#define TAT_SRC_FP(i)   (8 + (i))	/* SSE register xmm<i> */
#define TAT_SRC_RET     0		/* a return value: rax (or xmm0: TAT_SRC_FP(0)) */

/* How an integer is extended: size in bytes in the low 4 bits of size[]. */
struct tat_argspec {
	uint8_t nargs;			/* values recorded at entry, 0..TAT_ARGS_MAX */
	uint8_t ret_format;		/* enum tat_val_format; 0: no return value */
	uint8_t ret_src;		/* TAT_SRC_RET or TAT_SRC_FP(0) */
	uint8_t ret_size;		/* integer size in bytes (1, 2, 4, 8) */
	uint8_t format[TAT_ARGS_MAX];	/* enum tat_val_format */
	uint8_t src[TAT_ARGS_MAX];	/* TAT_SRC_* */
	uint8_t size[TAT_ARGS_MAX];	/* integer size in bytes */
	uint8_t pad[4];
};

static inline uint64_t tat_ev_make(unsigned type, uint32_t site, uint64_t tsc)
{
	return ((uint64_t)type << TAT_EV_TYPE_SHIFT) |
	       ((uint64_t)(site & TAT_EV_SITE_MAX) << TAT_EV_SITE_SHIFT) |
	       (tsc & TAT_EV_TSC_MASK);
}

static inline uint64_t tat_ev_special(unsigned sub, uint64_t payload)
{
	return ((uint64_t)TAT_EV_SPECIAL << TAT_EV_TYPE_SHIFT) |
	       ((uint64_t)(sub & 31) << TAT_EV_SUB_SHIFT) |
	       (payload & TAT_EV_PAYLOAD_MASK);
}

static inline uint64_t tat_ev_commit_bit(uint64_t pos, uint32_t ring_shift)
{
	return (((pos >> ring_shift) & 1) ^ 1) << TAT_EV_COMMIT_SHIFT;
}

static inline unsigned tat_ev_type(uint64_t ev)
{
	return (ev >> TAT_EV_TYPE_SHIFT) & 3;
}

static inline uint32_t tat_ev_site(uint64_t ev)
{
	return (ev >> TAT_EV_SITE_SHIFT) & TAT_EV_SITE_MAX;
}

static inline uint64_t tat_ev_tsc_low(uint64_t ev)
{
	return ev & TAT_EV_TSC_MASK;
}

static inline unsigned tat_ev_sub(uint64_t ev)
{
	return (ev >> TAT_EV_SUB_SHIFT) & 31;
}

static inline uint64_t tat_ev_payload(uint64_t ev)
{
	return ev & TAT_EV_PAYLOAD_MASK;
}

_Static_assert(sizeof(struct tat_stat) == 384, "tat_stat is 6 cache lines");
_Static_assert(sizeof(struct tat_argspec) == 32, "tat_argspec is 32 bytes");
_Static_assert(sizeof(struct tat_frame) == 16, "tat_frame is 16 bytes");
_Static_assert(sizeof(struct tat_thread_ctl) == 128, "tat_thread_ctl is 2 lines");

/* Default file name: TAT_RING_DIR "/tattach-<pid>.ring" */
#define TAT_RING_DIR "/dev/shm"

#endif /* TATTACH_RING_H */
