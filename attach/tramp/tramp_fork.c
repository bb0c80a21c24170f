// SPDX-License-Identifier: MIT
/*
 * Fork children.  A process forked by a traced one inherits the
 * trampoline, the patched code, the private state (shadow stacks, site
 * hash) and the parent's ring, still mapped MAP_SHARED, but reads 0 on
 * the wipe-on-fork live page (tramp_abi.h).  At its first traced call or
 * return, tp_enter() or tp_exit() sees that 0 and calls tp_fork_ring(),
 * which makes the child a ring file of its own, as tattach would have
 * made it, and publishes it on the live page; from then on the child
 * records like any traced process and never writes its parent's ring.
 *
 * Once per child, off the hot path, so system calls are fine here; but
 * still no libc, no allocation, no locks.  Every failure (no room in the
 * ring folder, a file in the way, a seccomp filter saying EPERM, no /proc)
 * leaves the child not recording, as before this file existed: never a
 * crash, never a write to the parent's ring.
 *
 * Only the thread that called fork() exists in the child.  It is the
 * child's main thread (tid == pid), and its slot is the one thread slot
 * kept: its shadow stack holds the frames it inherited, whose returns
 * are hijacked and must still find them.  Every other slot (threads of
 * the parent, maybe half way through an update when fork() copied them)
 * is emptied.  So the ring is made on that thread only; another thread
 * of the child coming first (created before any traced call of the main
 * thread) records nothing until the main thread's next traced call or
 * return (docs/limitations.md).
 *
 * The frames inherited are open calls of the child too: its ring starts
 * with them as calls "entered before tracing" (an EARLY record and their
 * ENTRY events, stamped now, as tattach writes for the calls running at
 * --enable), so their returns close them in the child's trace.
 */
#include <stddef.h>
#include <stdint.h>

#include <tattach/ring.h>
#include "tramp_abi.h"
#include "tramp_common.h"

HIDDEN uint64_t tp_fork_ring(struct tp_state *st, uint64_t key);

/* x86-64 system call numbers */
#define NR_READ       0L
#define NR_PREAD64    17L
#define NR_CLOSE      3L
#define NR_MMAP       9L
#define NR_GETPID     39L
#define NR_FTRUNCATE  77L
#define NR_FCHMOD     91L
#define NR_GETEUID    107L
#define NR_GETTID     186L
#define NR_OPENAT     257L
#define NR_UNLINKAT   263L
#define NR_FALLOCATE  285L
#define NR_RENAMEAT2  316L
#define RENAME_NOREPLACE_ 1
#define EEXIST_       17

#define AT_FDCWD_     (-100L)
#define O_RDONLY_     00
#define O_RDWR_       02
#define O_CREAT_      0100
#define O_EXCL_       0200
#define O_NOFOLLOW_   0400000
#define O_CLOEXEC_    02000000
#define PROT_RW_      3
#define MAP_SHARED_   1
#define EOPNOTSUPP_   95

#define PATH_LEN 256	/* TAT_PATH_MAX, the size of tp_state.ring_path */
_Static_assert(sizeof(((struct tp_state *)0)->ring_path) == PATH_LEN, "ring_path");

static long sys(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline int sys_failed(long ret)
{
	return ret < 0 && ret > -4096;
}

/* rep movsb / stosb: a plain loop may be turned into a call of memcpy(),
 * which a freestanding blob does not have. */
static void copy_bytes(void *dst, const void *src, uint64_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static void zero_bytes(void *dst, uint64_t n)
{
	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0) : "memory");
}

/* ------------------------------------------------------------ small text */

/* Decimal of @v at @p (no NUL); returns the end. */
static char *put_dec(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/*
 * "<folder of @parent_path>/tattach-<pid>.ring" into @out: the name
 * tattach and tread use for pid (attach/ring/ringfile.c ringfile_path()),
 * in the folder of the ring we were traced into; with @start, the name a
 * ring of an exited process with that pid is kept under
 * (attach/ring/ringdir.c), "tattach-<pid>.<start>.ring".  0 if it does
 * not fit.
 */
static int child_path(const char *parent_path, int32_t pid, uint64_t start, char *out)
{
	static const char name[] = "/tattach-";
	int slash = -1, n = 0;
	char *p;

	for (int i = 0; i < PATH_LEN && parent_path[i]; i++)
		if (parent_path[i] == '/')
			slash = i;
	if (slash < 0 || slash + 60 >= PATH_LEN)
		return 0;
	for (; n < slash; n++)
		out[n] = parent_path[n];
	p = out + n;
	for (unsigned i = 0; i + 1 < sizeof(name); i++)
		*p++ = name[i];
	p = put_dec(p, (uint64_t)pid);
	if (start) {
		*p++ = '.';
		p = put_dec(p, start);
	}
	*p++ = '.';
	*p++ = 'r';
	*p++ = 'i';
	*p++ = 'n';
	*p++ = 'g';
	*p = 0;
	return 1;
}

/*
 * Our start time, field 22 of /proc/self/stat: with the pid it names the
 * process in the ring header (tattach refuses a ring whose pair differs).
 * 0 if it cannot be read.
 */
static uint64_t self_start_time(void)
{
	static const char path[] = "/proc/self/stat";
	char buf[512];
	long fd, n;
	int close_paren = -1, field = 2;
	uint64_t v = 0;

	fd = sys(NR_OPENAT, AT_FDCWD_, (long)path, O_RDONLY_ | O_CLOEXEC_, 0, 0, 0);
	if (sys_failed(fd))
		return 0;
	n = sys(NR_READ, fd, (long)buf, sizeof(buf) - 1, 0, 0, 0);
	sys(NR_CLOSE, fd, 0, 0, 0, 0, 0);
	if (n <= 0)
		return 0;
	/* comm, field 2, may hold spaces and ')': skip to the last ')' */
	for (long i = 0; i < n; i++)
		if (buf[i] == ')')
			close_paren = (int)i;
	if (close_paren < 0)
		return 0;
	for (long i = close_paren + 1; i < n; i++) {
		if (buf[i] == ' ') {
			field++;
			continue;
		}
		if (field == 22) {
			if (buf[i] < '0' || buf[i] > '9')
				break;
			v = v * 10 + (uint64_t)(buf[i] - '0');
		} else if (field > 22) {
			break;
		}
	}
	return v;
}

/*
 * @path exists.  If it is the ring of an earlier process with our pid
 * (pid reused: the header's start time is not ours), move it to the name
 * tattach keeps such rings under, so that it stays readable post mortem
 * and the name is ours; tattach does the same (ringdir_set_aside()).
 * Anything else there is left alone.  1 if moved.
 */
static int set_aside(const char *parent_path, const char *path, int32_t pid,
		     uint64_t start)
{
	/* magic, version | header_size, file_size, pid | uid, start_time */
	uint64_t head[5];
	char kept[PATH_LEN];
	long fd, n;

	fd = sys(NR_OPENAT, AT_FDCWD_, (long)path, O_RDONLY_ | O_NOFOLLOW_ | O_CLOEXEC_, 0, 0, 0);
	if (sys_failed(fd))
		return 0;
	n = sys(NR_PREAD64, fd, (long)head, sizeof(head), 0, 0, 0);
	sys(NR_CLOSE, fd, 0, 0, 0, 0, 0);
	_Static_assert(offsetof(struct tat_ring_header, pid) == 24 &&
		       offsetof(struct tat_ring_header, start_time) == 32, "header head");
	if (n != (long)sizeof(head) || head[0] != TAT_RING_MAGIC ||
	    (int32_t)head[3] != pid || head[4] == start || !head[4] ||
	    !child_path(parent_path, pid, head[4], kept))
		return 0;
	/* a file of another user in a sticky folder: EPERM, left there */
	return !sys(NR_RENAMEAT2, AT_FDCWD_, (long)path, AT_FDCWD_, (long)kept,
		    RENAME_NOREPLACE_, 0);
}

/* Create @path, ours alone: O_EXCL, no symlink followed, mode 0600. */
static long create_ring_file(const char *parent_path, const char *path, int32_t pid,
			     uint64_t start)
{
	long fd = sys(NR_OPENAT, AT_FDCWD_, (long)path,
		      O_RDWR_ | O_CREAT_ | O_EXCL_ | O_NOFOLLOW_ | O_CLOEXEC_, 0600, 0, 0);

	if (fd == -EEXIST_ && set_aside(parent_path, path, pid, start))
		fd = sys(NR_OPENAT, AT_FDCWD_, (long)path,
			 O_RDWR_ | O_CREAT_ | O_EXCL_ | O_NOFOLLOW_ | O_CLOEXEC_, 0600, 0, 0);
	return fd;
}

/* ------------------------------------------------------------ thread slots */

static struct tp_thread *slot_at(const struct tp_state *st, uint32_t i)
{
	return (struct tp_thread *)st->threads + i;
}

static struct tp_thread *slot_find(const struct tp_state *st, uint64_t key)
{
	uint32_t n = 1u << st->thread_bits;
	uint32_t h = (uint32_t)hash64(key, st->thread_bits);

	for (uint32_t i = 0; i < n; i++) {
		struct tp_thread *t = slot_at(st, (h + i) & (n - 1));

		if (t->key == key)
			return t;
		if (t->key == 0)
			return NULL;
	}
	return NULL;
}

static uint64_t slot_depth(const struct tp_thread *t)
{
	return t->depth < TP_DEPTH_MAX ? t->depth : TP_DEPTH_MAX;
}

/* A free slot, as a fresh mapping has it (frames above depth are never
 * looked at, but those below were: they go too). */
static void slot_clear(struct tp_thread *t)
{
	zero_bytes(t, offsetof(struct tp_thread, stack) +
		      slot_depth(t) * sizeof(struct tp_frame));
}

/*
 * Keep the slot of @key only, at the place thread_find() looks first for
 * it: the parent's other threads do not exist here, and their slots would
 * both hold free slots and, empty, cut the probe sequence that leads
 * thread_find() to ours.  Returns our slot, or NULL if we had none.
 */
static struct tp_thread *slots_keep_only(const struct tp_state *st, uint64_t key)
{
	uint32_t n = 1u << st->thread_bits;
	uint32_t home = (uint32_t)hash64(key, st->thread_bits);
	struct tp_thread *ours = slot_find(st, key), *dst;

	for (uint32_t i = 0; i < n; i++) {
		struct tp_thread *t = slot_at(st, i);

		if (t != ours && (t->key || t->depth))
			slot_clear(t);
	}
	if (!ours || ours->index == home)
		return ours;
	dst = slot_at(st, home);
	copy_bytes(dst, ours, offsetof(struct tp_thread, stack) +
			      slot_depth(ours) * sizeof(struct tp_frame));
	dst->index = home;
	dst->fast_ring = 0;	/* its places in the ring moved with index */
	slot_clear(ours);
	return dst;
}

/* ------------------------------------------------------------ the new ring */

struct writer {
	uint64_t *data;		/* the slot's ring */
	uint64_t pos, size;
	uint32_t shift;		/* size = 1 << shift */
};

static int put(struct writer *w, uint64_t word)
{
	if (w->pos >= w->size)
		return 0;
	w->data[w->pos] = word | tat_ev_commit_bit(w->pos, w->shift);
	w->pos++;
	return 1;
}

static uint32_t frame_sub_stack(const struct tp_frame *f)
{
	return (uint32_t)((f->site >> TP_FRAME_STACK_SHIFT) & TP_FRAME_STACK_MASK);
}

static int frame_open_event(const struct tp_frame *f)
{
	return !(f->site & (TP_FRAME_ENDED | TP_FRAME_STATS));
}

/*
 * The inherited frames as calls entered before tracing: per sub-stack, in
 * the order their first frame appears, [STACK s] EARLY n and their n
 * ENTRY events outermost first.  Returns the sub-stack the reader is left
 * in.  A shadow stack too deep for the ring gets no ENTRY events: its
 * returns then show as exits of calls whose start was not traced.
 */
static uint32_t write_inherited(struct writer *w, const struct tp_thread *t,
				uint64_t tsc)
{
	uint64_t d = slot_depth(t), open = 0;
	uint32_t told = 0;

	for (uint64_t j = 0; j < d; j++)
		open += frame_open_event(&t->stack[j]);
	if (!open || 2 * open + 8 > w->size)
		return told;
	for (uint64_t j = 0; j < d; j++) {
		uint32_t s = frame_sub_stack(&t->stack[j]);
		uint64_t n = 0, k;

		if (!frame_open_event(&t->stack[j]))
			continue;
		for (k = 0; k < j; k++)
			if (frame_open_event(&t->stack[k]) && frame_sub_stack(&t->stack[k]) == s)
				break;
		if (k < j)
			continue;	/* that sub-stack was written already */
		for (k = j; k < d; k++)
			n += frame_open_event(&t->stack[k]) && frame_sub_stack(&t->stack[k]) == s;
		if (s != told)
			put(w, tat_ev_special(TAT_SUB_STACK, s));
		told = s;
		put(w, tat_ev_special(TAT_SUB_EARLY, n));
		for (k = j; k < d; k++)
			if (frame_open_event(&t->stack[k]) && frame_sub_stack(&t->stack[k]) == s)
				put(w, tat_ev_make(TAT_EV_ENTRY,
						   (uint32_t)(t->stack[k].site & TAT_EV_SITE_MAX),
						   tsc));
	}
	return told;
}

/*
 * Start the ring of our one slot: its thread, the time, the inherited
 * calls, and their copies among the calls in flight; the slot restarts
 * as a freshly claimed one would, in the new ring.
 */
static void slot_start(const struct tp_state *st, uint64_t ring, struct tp_thread *t,
		       int32_t tid)
{
	struct tat_ring_header *h = (void *)ring;
	struct tat_thread_ctl *ctl = (struct tat_thread_ctl *)(ring + st->thread_off) +
				     t->index;
	uint64_t tsc = now(st), d = slot_depth(t);
	struct writer w = {
		(uint64_t *)(ring + st->data_off + ((uint64_t)t->index << (st->ring_shift + 3))),
		0, 1ull << st->ring_shift, st->ring_shift,
	};
	uint32_t told = 0;

	put(&w, tat_ev_special(TAT_SUB_TID, (uint32_t)tid));
	if (h->mode != TAT_MODE_STATS) {
		put(&w, tat_ev_special(TAT_SUB_TIME, tsc >> TAT_EV_TSC_BITS));
		told = write_inherited(&w, t, tsc);
	}
	for (uint64_t j = 0; j < d; j++) {
		struct tp_frame *f = &t->stack[j];

		/* entered, for this trace, now: the EARLY ENTRY's time */
		f->tsc = tsc;
		f->child = 0;
		if (st->frames_off) {
			struct tat_frame *sf = (struct tat_frame *)(ring + st->frames_off) +
					       (uint64_t)t->index * TAT_FRAMES_MAX + j;

			sf->tsc = tsc;
			sf->site = (uint32_t)(f->site & TAT_EV_SITE_MAX) |
				   (f->site & TP_FRAME_STATS ? TAT_FRAME_STATS : 0) |
				   (f->site & TP_FRAME_ENDED ? TAT_FRAME_ENDED : 0);
			sf->stack = frame_sub_stack(f);
		}
	}
	if (st->frames_off)
		ctl->open_depth = d;
	ctl->tid = tid;
	ctl->head = w.pos;
	t->tid = tid;
	t->last_hi = h->mode != TAT_MODE_STATS ? tsc >> TAT_EV_TSC_BITS : ~0ull;
	t->lost_pending = 0;
	t->ring_stack = told;
	/*
	 * The rest of the ring is made resident, as thread_claim() does for a
	 * new thread, at the slot's next chunk (tramp_ring.c emit()): a child that
	 * writes fewer events (a worker that serves one request and exits)
	 * never pays for it, about 0.3 ms a fork.
	 */
	t->populate_pending = 1;
	h->threads_used = 1;
}

static long reserve(long fd, uint64_t off, uint64_t len)
{
	long ret = sys(NR_FALLOCATE, fd, 0, (long)off, (long)len, 0, 0);

	return ret == -EOPNOTSUPP_ ? 0 : ret;
}

/*
 * The parts of the new file written before the child goes on, really
 * there: a full tmpfs answers ENOSPC here rather than SIGBUS at the first
 * store.  The header, module table, the sites in use and what -A/-R
 * record at them (copied), the
 * thread control blocks, and the first chunk of the ring and the calls in
 * flight of the slot the forking thread will have (@slot).  The rest
 * stays sparse, as in the parent's file, and fills as threads write.
 */
static long reserve_written(long fd, const struct tp_state *st,
			    uint64_t tables, uint64_t sites, uint32_t slot)
{
	uint64_t ring_bytes = 8ull << st->ring_shift;
	long ret = reserve(fd, 0, tables);

	if (!ret)
		ret = reserve(fd, st->thread_off, st->data_off - st->thread_off);
	/* the first chunk of the slot's ring: the events slot_start() writes */
	if (!ret)
		ret = reserve(fd, st->data_off + (uint64_t)slot * ring_bytes,
			      TAT_CHUNK_EVENTS * sizeof(uint64_t));
	if (!ret && st->frames_off)
		ret = reserve(fd, st->frames_off + (uint64_t)slot * TAT_FRAMES_MAX *
				  sizeof(struct tat_frame),
			      TAT_FRAMES_MAX * sizeof(struct tat_frame));
	/* what -A/-R record at each site in use (copied) */
	if (!ret && st->args_off)
		ret = reserve(fd, st->args_off, sites * sizeof(struct tat_argspec));
	return ret;
}

/*
 * Make, fill and map the ring file of this child (pid @pid), from its
 * parent's ring @parent (mapped here still, read only by us).  Returns
 * its address here, or 0.
 */
static uint64_t ring_make(struct tp_state *st, const struct tat_ring_header *parent,
			  int32_t pid, uint64_t key, char *path)
{
	uint64_t size = parent->file_size, start = self_start_time();
	uint64_t sites = parent->site_count < parent->site_cap ? parent->site_count :
			 parent->site_cap;
	/* header and module table whole, the site table as far as used */
	uint64_t tables = parent->site_off + sites * sizeof(struct tat_site);
	uint32_t home = (uint32_t)hash64(key, st->thread_bits);
	struct tat_ring_header *h;
	struct tp_thread *t;
	long fd, map, ret;

	if (tables > st->thread_off || size < st->data_off + (1ull << st->thread_bits) *
						     (8ull << st->ring_shift))
		return 0;	/* not the layout our state was made for */
	if (!start || !child_path(st->ring_path, pid, 0, path))
		return 0;
	fd = create_ring_file(st->ring_path, path, pid, start);
	if (sys_failed(fd))
		return 0;	/* EEXIST: someone else's file is in the way */
	/* 0600 whatever the umask: tread and tattach accept only that */
	ret = sys(NR_FCHMOD, fd, 0600, 0, 0, 0, 0);
	if (!ret)
		ret = sys(NR_FTRUNCATE, fd, (long)size, 0, 0, 0, 0);
	if (!ret)
		ret = reserve_written(fd, st, tables, sites, home);
	map = ret ? ret : sys(NR_MMAP, 0, (long)size, PROT_RW_, MAP_SHARED_, fd, 0);
	sys(NR_CLOSE, fd, 0, 0, 0, 0, 0);
	if (sys_failed(map))
		goto fail;
	h = (struct tat_ring_header *)map;
	/* header, module and site tables: as the parent's; magic last */
	copy_bytes((char *)h + 8, (const char *)parent + 8, tables - 8);
	if (st->args_off)	/* tattach -A/-R: the values to record per site */
		copy_bytes((char *)h + st->args_off, (const char *)parent + st->args_off,
			   sites * sizeof(struct tat_argspec));
	h->pid = pid;
	h->uid = (uint32_t)sys(NR_GETEUID, 0, 0, 0, 0, 0, 0);
	h->start_time = start;
	h->state = TAT_STATE_ENABLED;
	h->owner = 0;
	h->map_addr = (uint64_t)map;
	h->threads_overflow = 0;
	h->threads_used = 0;
	h->no_room = 0;
	h->stats_used = 0;
	h->parent_pid = parent->pid;
	h->parent_start_time = parent->start_time;
	t = slots_keep_only(st, key);
	if (t)
		slot_start(st, (uint64_t)map, t, pid);
	__atomic_store_n(&h->magic, TAT_RING_MAGIC, __ATOMIC_RELEASE);
	return (uint64_t)map;
fail:
	sys(NR_UNLINKAT, AT_FDCWD_, (long)path, 0, 0, 0, 0);
	return 0;
}

/*
 * Is the calling thread (thread pointer @key) the child's main thread,
 * the one that called fork()?  Its tid is the pid.  The tid in glibc's
 * TCB (which fork() sets in the child) costs a load; without its offset,
 * a system call.
 */
static int is_main_thread(const struct tp_state *st, uint64_t key, int32_t pid)
{
	if (st->tid_offset)
		return *(const volatile int32_t *)(key + st->tid_offset) == pid;
	return (int32_t)sys(NR_GETTID, 0, 0, 0, 0, 0, 0) == pid;
}

/*
 * Called when the live page says "do not record": in a fork child, once,
 * make its ring (above); elsewhere, note that there is nothing to do, so
 * that the next call costs two loads.  Returns the ring to record into
 * now, or 0.
 */
uint64_t tp_fork_ring(struct tp_state *st, uint64_t key)
{
	struct tp_live *live = (struct tp_live *)st->live;
	const struct tat_ring_header *parent = (const void *)READ_ONCE(st->ring_addr);
	uint64_t state = READ_ONCE(live->fork_state), ring;
	char path[PATH_LEN];
	int32_t pid;

	if (!parent || !key)
		return READ_ONCE(live->ring);
	if (state == TP_FORK_WAIT_MAIN) {
		/* another thread of the child came first; only the main one
		 * may go on (a load per call of the others meanwhile) */
		pid = (int32_t)READ_ONCE(live->fork_pid);
		if (!is_main_thread(st, key, pid) ||
		    !local_cmpxchg(&live->fork_state, &state, TP_FORK_BUSY))
			return READ_ONCE(live->ring);
		goto make;
	}
	/* our own signal handler, entering meanwhile, finds BUSY: not recorded */
	if (state != TP_FORK_UNSEEN ||
	    !local_cmpxchg(&live->fork_state, &state, TP_FORK_BUSY))
		return READ_ONCE(live->ring);
	pid = (int32_t)sys(NR_GETPID, 0, 0, 0, 0, 0, 0);
	if (pid == st->ring_pid) {
		WRITE_ONCE(live->fork_state, TP_FORK_NONE);	/* not a child */
		return 0;
	}
	if (!is_main_thread(st, key, pid)) {
		/* not the thread that forked: leave it to that one */
		WRITE_ONCE(live->fork_pid, (uint64_t)(uint32_t)pid);
		WRITE_ONCE(live->fork_state, TP_FORK_WAIT_MAIN);
		return 0;
	}
make:
	/* the parent's word as it is now: --no-children, or disabled since */
	if (READ_ONCE(parent->magic) != TAT_RING_MAGIC || !READ_ONCE(parent->children) ||
	    READ_ONCE(parent->state) == TAT_STATE_DISABLED) {
		WRITE_ONCE(live->fork_state, TP_FORK_NONE);
		return 0;
	}
	ring = ring_make(st, parent, pid, key, path);
	if (!ring) {
		WRITE_ONCE(live->fork_state, TP_FORK_NONE);
		return 0;
	}
	/* ours now: what our own children will copy */
	WRITE_ONCE(st->ring_addr, ring);
	WRITE_ONCE(st->ring_pid, pid);
	copy_bytes(st->ring_path, path, PATH_LEN);
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(live->ring, ring);
	WRITE_ONCE(live->fork_state, TP_FORK_DONE);
	return ring;
}
