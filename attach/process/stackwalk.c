// SPDX-License-Identifier: MIT
/*
 * Remote stack walks (stackwalk.h).  libunwind's ptrace accessors read the
 * thread's registers and memory; ours wrap them so that (1) the target is
 * never written (an unw_set_reg() would store into the stack slot a
 * register was saved in) and (2) a walk can restart from registers we
 * give it: the caller's state behind a hijacked return.
 */
#include <errno.h>
#include <libunwind-ptrace.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "attach/process/proc.h"
#include "attach/process/replaced_code.h"
#include "attach/process/stackwalk.h"
#include "attach/tramp/tramp_abi.h"

struct walk_arg {
	void *upt;
	int own_regs;			/* serve regs[] instead of the thread's */
	unw_word_t regs[UNW_X86_64_RIP + 1];
};

/*
 * The walk in progress.  libunwind hands our accessors the argument we
 * gave it, except from inside _UPT_find_proc_info(), which passes its own
 * (the ptrace state) on to the address space's accessors: so an argument
 * that is not the walk's is that state.
 */
static struct walk_arg *walking;

static void *upt_of(void *arg)
{
	return arg == walking ? walking->upt : arg;
}

/*
 * libunwind's ptrace state caches the unwind tables of the one object it
 * read last; reaching an address in another object, it reads
 * /proc/PID/maps, opens and maps that object's file again.  A thread's
 * frames alternate between the program and libc, so every walk did that
 * several times while the process was held (about 0.1 ms a thread).  So
 * one state per executable mapping, chosen by the address; each keeps its
 * own object's tables for the whole run.  A process with more mappings
 * shares one state for the rest (and a replaced object past them does not
 * unwind: replaced_code.h).
 */
#define OBJECTS_MAX 256

static struct object {
	uint64_t lo, hi;
	void *upt;			/* created at its first use */
	int replaced;			/* its file replaced since: rc serves */
	struct replaced_code rc;
} objects[OBJECTS_MAX];
static size_t nobjects;
static pid_t objects_tid;

/*
 * The mappings nobody writes while tattach walks (file mappings without
 * write permission: code, read-only data, the unwind tables): their pages
 * stay in the page cache below from one walk to the next.
 */
#define STABLE_MAX 256

static struct stable_range {
	uint64_t lo, hi;
	int exec;		/* code: tattach rewrites its sites in a stop */
} stable[STABLE_MAX];
static size_t nstable;

static void objects_load(pid_t pid, pid_t tid)
{
	struct maps maps;

	nobjects = 0;
	nstable = 0;
	objects_tid = tid;
	if (proc_read_maps(pid, &maps))
		return;
	for (size_t i = 0; i < maps.n; i++) {
		const struct map *m = &maps.v[i];

		if (m->path[0] != '/')
			continue;
		if ((m->prot & PROT_EXEC) && nobjects < OBJECTS_MAX) {
			struct object *o = &objects[nobjects++];

			memset(o, 0, sizeof(*o));
			o->lo = m->start;
			o->hi = m->end;
			o->replaced = map_replaced(m);
			o->rc.pid = pid;
			o->rc.lo = m->start;
			o->rc.hi = m->end;
			o->rc.offset = m->offset;
		}
		if (!(m->prot & PROT_WRITE) && !m->shared && nstable < STABLE_MAX) {
			stable[nstable].lo = m->start;
			stable[nstable].hi = m->end;
			stable[nstable].exec = (m->prot & PROT_EXEC) != 0;
			nstable++;
		}
	}
	proc_free_maps(&maps);
}

/* How long a page read at @addr may be kept (enum keep). */
enum keep { KEEP_WALK, KEEP_STOP, KEEP_ALWAYS };

static uint8_t keep_of(uint64_t addr)
{
	for (size_t i = 0; i < nstable; i++)
		if (addr >= stable[i].lo && addr < stable[i].hi)
			return stable[i].exec ? KEEP_STOP : KEEP_ALWAYS;
	return KEEP_WALK;
}

/* Set by stackwalk_prepare(): the objects were listed while the process
 * ran, so they are checked against its map once it is stopped. */
static int objects_prepared;

/* Drop the state of every object whose mapping is not there any more
 * exactly as it was listed. */
static void objects_recheck(pid_t pid)
{
	struct maps maps;

	objects_prepared = 0;
	if (proc_read_maps(pid, &maps))
		return;
	for (size_t i = 0; i < nobjects; i++) {
		const struct map *m = maps_find(&maps, objects[i].lo);

		if (!m || m->start != objects[i].lo || m->end != objects[i].hi ||
		    !(m->prot & PROT_EXEC)) {
			if (objects[i].upt)
				_UPT_destroy(objects[i].upt);
			replaced_code_free(&objects[i].rc);
			objects[i] = objects[--nobjects];
			i--;
		}
	}
	for (size_t i = 0; i < nstable; i++) {
		const struct map *m = maps_find(&maps, stable[i].lo);

		if (!m || m->start != stable[i].lo || m->end != stable[i].hi ||
		    (m->prot & PROT_WRITE) || stable[i].exec != !!(m->prot & PROT_EXEC)) {
			stable[i] = stable[--nstable];
			i--;
		}
	}
	proc_free_maps(&maps);
}

static void objects_free(void)
{
	for (size_t i = 0; i < nobjects; i++) {
		if (objects[i].upt)
			_UPT_destroy(objects[i].upt);
		replaced_code_free(&objects[i].rc);
	}
	nobjects = 0;
}

/* The object of a replaced file that holds @ip, or NULL. */
static struct replaced_code *replaced_at(uint64_t ip)
{
	for (size_t i = 0; i < nobjects; i++)
		if (ip >= objects[i].lo && ip < objects[i].hi)
			return objects[i].replaced ? &objects[i].rc : NULL;
	return NULL;
}

/* The ptrace state for unwind tables at @ip: its object's, else @dflt. */
static void *upt_at(uint64_t ip, void *dflt)
{
	for (size_t i = 0; i < nobjects; i++)
		if (ip >= objects[i].lo && ip < objects[i].hi) {
			if (!objects[i].upt)
				objects[i].upt = _UPT_create(objects_tid);
			return objects[i].upt ? objects[i].upt : dflt;
		}
	return dflt;
}

static int w_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			    int need, void *arg)
{
	int ret = _UPT_find_proc_info(as, ip, pi, need, upt_at(ip, upt_of(arg)));
	struct replaced_code *rc;

	/* libunwind opens the path, which holds another file now */
	if (ret < 0 && (rc = replaced_at(ip)))
		ret = replaced_code_proc_info(rc, as, ip, pi, need, upt_at(ip, upt_of(arg)));
	return ret;
}

static void w_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	_UPT_put_unwind_info(as, pi, upt_of(arg));
}

static int w_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dil, void *arg)
{
	return _UPT_get_dyn_info_list_addr(as, dil, upt_of(arg));
}

/*
 * Target memory, a page at a time: libunwind reads unwind tables a word
 * at a time, and a ptrace call per word made a walk cost a third of a
 * millisecond while the process is held.  tattach writes the target
 * between walks (hijacked return slots, the shadow stacks), never during
 * one, and rewrites code only in a stop, before its walks: so a page of a
 * writable mapping is kept for one walk (KEEP_WALK), a page of code for
 * the walks of one stop (KEEP_STOP), and a page of a read-only file
 * mapping that is not code (the unwind tables, about 15 pages a thread)
 * from the warm-up walks before the stop on (KEEP_ALWAYS).
 */
#define PAGE_CACHE 256
/* Threads walked before a stop: past this many, the cache holds no more. */
#define WARM_THREADS_MAX 64

static uint64_t page_base[PAGE_CACHE];		/* page address + 1; 0 = empty */
static uint8_t page_keep[PAGE_CACHE];
static unsigned char page_data[PAGE_CACHE][4096];
static pid_t cache_pid;

/* Forget the pages kept for less than @upto (KEEP_ALWAYS + 1: all). */
static void cache_forget(int upto)
{
	for (size_t i = 0; i < PAGE_CACHE; i++)
		if (page_keep[i] < upto)
			page_base[i] = 0;
}

/* After objects_recheck(): forget the pages of mappings that changed. */
static void cache_recheck(void)
{
	for (size_t i = 0; i < PAGE_CACHE; i++)
		if (page_base[i] && keep_of(page_base[i] - 1) != page_keep[i])
			page_base[i] = 0;
}

static int read_word(uint64_t addr, unw_word_t *val)
{
	uint64_t base = addr & ~4095ull, off = addr & 4095;
	size_t k = (base >> 12) % PAGE_CACHE;

	if (off > 4096 - sizeof(*val))
		return -1;	/* straddles two pages: the slow way */
	if (page_base[k] != base + 1) {
		struct iovec local = { page_data[k], sizeof(page_data[k]) };
		struct iovec remote = { (void *)(uintptr_t)base, sizeof(page_data[k]) };

		if (process_vm_readv(cache_pid, &local, 1, &remote, 1, 0) !=
		    sizeof(page_data[k])) {
			page_base[k] = 0;
			return -1;
		}
		page_base[k] = base + 1;
		page_keep[k] = keep_of(base);
	}
	memcpy(val, page_data[k] + off, sizeof(*val));
	return 0;
}

static int w_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
			int write, void *arg)
{
	if (write)
		return -UNW_EINVAL;
	if (cache_pid && read_word(addr, val) == 0)
		return 0;
	return _UPT_access_mem(as, addr, val, 0, upt_of(arg));
}

static int w_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
			int write, void *arg)
{
	struct walk_arg *w = arg;

	if (write)
		return -UNW_EREADONLYREG;
	if (arg != walking || !w->own_regs)
		return _UPT_access_reg(as, reg, val, 0, upt_of(arg));
	if (reg < 0 || reg > UNW_X86_64_RIP)
		return -UNW_EBADREG;
	*val = w->regs[reg];
	return 0;
}

static int w_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val,
			  int write, void *arg)
{
	if (write)
		return -UNW_EREADONLYREG;
	return _UPT_access_fpreg(as, reg, val, 0, upt_of(arg));
}

static int w_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as;
	(void)c;
	(void)arg;
	return -UNW_EINVAL;	/* we never resume a thread from here */
}

static int w_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
			   size_t len, unw_word_t *off, void *arg)
{
	int ret = _UPT_get_proc_name(as, addr, buf, len, off, upt_at(addr, upt_of(arg)));
	struct replaced_code *rc;

	if (ret < 0 && (rc = replaced_at(addr)))
		ret = replaced_code_name(rc, addr, buf, len, off);
	return ret;
}

static unw_accessors_t walk_accessors = {
	.find_proc_info = w_find_proc_info,
	.put_unwind_info = w_put_unwind_info,
	.get_dyn_info_list_addr = w_get_dyn_info_list_addr,
	.access_mem = w_access_mem,
	.access_reg = w_access_reg,
	.access_fpreg = w_access_fpreg,
	.resume = w_resume,
	.get_proc_name = w_get_proc_name,
};

static void describe(unw_cursor_t *c, struct walk_frame *f, int names)
{
	unw_proc_info_t pi;
	unw_word_t off = 0;

	if (unw_get_proc_info(c, &pi) == 0) {
		f->start = pi.start_ip;
		f->end = pi.end_ip;
	}
	if (names && unw_get_proc_name(c, f->name, sizeof(f->name), &off) == 0)
		f->off = off;
	else
		f->name[0] = 0;
}

/* Restart @c at @ip with the registers it has now (the caller's, behind a
 * hijacked return: what the epilogue restored, and %rsp past the slot). */
static int restart_at(unw_cursor_t *c, unw_addr_space_t as, struct walk_arg *w,
		      uint64_t ip)
{
	unw_word_t regs[UNW_X86_64_RIP + 1] = { 0 };

	for (int r = 0; r < UNW_X86_64_RIP; r++)
		if (unw_get_reg(c, r, &regs[r]) < 0)
			regs[r] = 0;	/* scratch registers are not recoverable */
	memcpy(w->regs, regs, sizeof(regs));
	w->regs[UNW_X86_64_RIP] = ip;
	w->own_regs = 1;
	return unw_init_remote(c, as, w) < 0 ? -EIO : 0;
}

/*
 * One address space for all the walks of a run, with libunwind's cache
 * on: finding a function's unwind information means reading its object's
 * tables, and the threads of a process mostly share their outer frames.
 * A run acts on one process; the cache is dropped if another one comes.
 */
static unw_addr_space_t shared_as;
static pid_t shared_pid;
/* libunwind's ptrace state caches the object it last read unwind tables
 * from; the threads share memory, so one (of the first thread walked)
 * reads for all, and each thread's registers come from PTRACE_GETREGS. */
static void *shared_upt;

static unw_addr_space_t address_space(pid_t tid, pid_t pid)
{
	long tgid = tid;

	if (!pid) {
		proc_status_long(tid, "Tgid", &tgid);	/* /proc/TID works too */
		pid = (pid_t)tgid;
	}
	if (shared_as && pid != shared_pid) {
		unw_destroy_addr_space(shared_as);
		shared_as = NULL;
		if (shared_upt)
			_UPT_destroy(shared_upt);
		shared_upt = NULL;
		objects_free();
	}
	if (!shared_upt) {
		shared_upt = _UPT_create(tid);
		objects_load(pid, tid);
	}
	if (!shared_as) {
		shared_as = unw_create_addr_space(&walk_accessors, 0);
		if (shared_as)
			unw_set_caching_policy(shared_as, UNW_CACHE_PER_THREAD);
		shared_pid = pid;
	}
	return shared_as;
}

int stackwalk(pid_t tid, const struct walk_opts *o, struct walk_frame *out)
{
	struct user_regs_struct ur;

	if (ptrace(PTRACE_GETREGS, tid, 0, &ur) < 0)
		return -errno;
	return stackwalk_from(tid, &ur, o, out);
}

int stackwalk_from(pid_t tid, const struct user_regs_struct *regs,
		   const struct walk_opts *o, struct walk_frame *out)
{
	const struct user_regs_struct ur = *regs;
	struct walk_arg w = { 0 };
	unw_addr_space_t as;
	unw_cursor_t c;
	int n = 0, ret = 0;

	as = address_space(tid, o->pid);
	if (!as || !shared_upt)
		return -ENOMEM;
	if (objects_prepared) {
		/* the first walk of a stop: of what was read while it ran,
		 * only pages of mappings still read-only, and not code, stay */
		objects_recheck(shared_pid);
		cache_forget(KEEP_ALWAYS);
		cache_recheck();
	} else {
		cache_forget(cache_pid != shared_pid ? KEEP_ALWAYS + 1 : KEEP_STOP);
	}
	w.upt = shared_upt;
	w.own_regs = 1;
	w.regs[UNW_X86_64_RAX] = ur.rax;
	w.regs[UNW_X86_64_RDX] = ur.rdx;
	w.regs[UNW_X86_64_RCX] = ur.rcx;
	w.regs[UNW_X86_64_RBX] = ur.rbx;
	w.regs[UNW_X86_64_RSI] = ur.rsi;
	w.regs[UNW_X86_64_RDI] = ur.rdi;
	w.regs[UNW_X86_64_RBP] = ur.rbp;
	w.regs[UNW_X86_64_RSP] = ur.rsp;
	w.regs[UNW_X86_64_R8] = ur.r8;
	w.regs[UNW_X86_64_R9] = ur.r9;
	w.regs[UNW_X86_64_R10] = ur.r10;
	w.regs[UNW_X86_64_R11] = ur.r11;
	w.regs[UNW_X86_64_R12] = ur.r12;
	w.regs[UNW_X86_64_R13] = ur.r13;
	w.regs[UNW_X86_64_R14] = ur.r14;
	w.regs[UNW_X86_64_R15] = ur.r15;
	w.regs[UNW_X86_64_RIP] = ur.rip;
	cache_pid = shared_pid;
	walking = &w;
	if (unw_init_remote(&c, as, &w) < 0) {
		walking = NULL;
		return -EIO;
	}
	while (n < STACKWALK_MAX) {
		struct walk_frame *f = &out[n];
		unw_word_t ip, sp;

		memset(f, 0, sizeof(*f));
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 ||
		    unw_get_reg(&c, UNW_REG_SP, &sp) < 0 || !ip)
			break;
		if (n > 0 && o->state && tramp_return_in(o->state, ip)) {
			/* The previous frame returns into the trampoline: its
			 * real caller is what the shadow stack kept. */
			uint64_t ret_addr = o->unhijack ? o->unhijack(o->ctx, sp - 8) : 0;

			if (!ret_addr) {
				/* the last frame: the trampoline's return itself */
				f->ip = ip;
				f->sp = sp;
				n++;
				break;
			}
			if (restart_at(&c, as, &w, ret_addr))
				break;
			f->hijacked = 1;
			ip = ret_addr;
		}
		f->ip = ip;
		f->sp = sp;
		describe(&c, f, o->names);
		f->sigframe = unw_is_signal_frame(&c) > 0;
		n++;
		if (unw_step(&c) <= 0)
			break;
	}
	ret = n;
	walking = NULL;
	return ret;
}

/*
 * A warm-up walk of thread @tid while it runs, from where /proc shows it
 * blocked ("NR args... SP PC" in /proc/PID/task/TID/syscall; a thread
 * that runs shows "running" and is skipped).  Only the stack and
 * instruction pointers are known, so the walk may stray: its frames are
 * thrown away.  What it leaves is the unwind tables it read, in the page
 * cache and in libunwind's, for the real walk in the stop.
 */
static void warm_walk(unw_addr_space_t as, pid_t pid, pid_t tid)
{
	struct walk_arg w = { .upt = shared_upt, .own_regs = 1 };
	struct proc_syscall sc;
	unw_cursor_t c;

	if (proc_task_syscall(pid, tid, &sc) || !sc.sp || !sc.pc)
		return;
	w.regs[UNW_X86_64_RSP] = sc.sp;
	w.regs[UNW_X86_64_RIP] = sc.pc;
	walking = &w;
	if (unw_init_remote(&c, as, &w) == 0)
		for (int n = 0; n < STACKWALK_MAX && unw_step(&c) > 0; n++)
			;
	walking = NULL;
}

/*
 * Before the process is stopped: the ptrace state of each executable
 * mapping loads its object's unwind tables now (libunwind reads the maps,
 * opens and maps the file: about 0.1 ms an object), not during the walks,
 * and each blocked thread is walked once to read the tables its walk will
 * need (warm_walk()).  A mapping that differs by the time of the walks is
 * dropped then (objects_recheck()), and so are the pages read from it.
 */
void stackwalk_prepare(pid_t pid)
{
	unw_addr_space_t as = address_space(pid, pid);
	pid_t *tids;
	size_t ntids;

	if (!as)
		return;
	/* all of it, so that no page of the cache faults in during a stop */
	memset(page_data, 0, sizeof(page_data));
	cache_forget(KEEP_ALWAYS + 1);
	cache_pid = shared_pid;
	for (size_t i = 0; i < nobjects; i++) {
		void *upt = upt_at(objects[i].lo, NULL);
		unw_proc_info_t pi;

		memset(&pi, 0, sizeof(pi));
		if (upt && _UPT_find_proc_info(as, objects[i].lo, &pi, 0, upt) == 0 &&
		    pi.unwind_info)
			_UPT_put_unwind_info(as, &pi, upt);
	}
	if (proc_tasks(pid, &tids, &ntids) == 0) {
		for (size_t i = 0; i < ntids && i < WARM_THREADS_MAX; i++) {
			cache_forget(KEEP_STOP);	/* stacks change: one walk each */
			warm_walk(as, pid, tids[i]);
		}
		free(tids);
	}
	objects_prepared = 1;
}

void stackwalk_code_changed(void)
{
	cache_forget(KEEP_ALWAYS);
}

void stackwalk_end_stop(void)
{
	cache_forget(KEEP_ALWAYS + 1);
	/* the next walk, in another stop, checks the objects again */
	objects_prepared = nobjects > 0;
}

void stackwalk_done(void)
{
	if (shared_as)
		unw_destroy_addr_space(shared_as);
	if (shared_upt)
		_UPT_destroy(shared_upt);
	objects_free();
	objects_prepared = 0;
	cache_forget(KEEP_ALWAYS + 1);
	cache_pid = 0;
	shared_as = NULL;
	shared_upt = NULL;
	shared_pid = 0;
}
