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
#include <string.h>

#include "attach/stackwalk.h"

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

static int w_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			    int need, void *arg)
{
	return _UPT_find_proc_info(as, ip, pi, need, upt_of(arg));
}

static void w_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	_UPT_put_unwind_info(as, pi, upt_of(arg));
}

static int w_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dil, void *arg)
{
	return _UPT_get_dyn_info_list_addr(as, dil, upt_of(arg));
}

static int w_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
			int write, void *arg)
{
	if (write)
		return -UNW_EINVAL;
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
	return _UPT_get_proc_name(as, addr, buf, len, off, upt_of(arg));
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

static int is_tramp_return(const struct walk_opts *o, uint64_t ip)
{
	for (size_t i = 0; i < o->ntramp; i++)
		if (o->tramp_return[i] && o->tramp_return[i] == ip)
			return 1;
	return 0;
}

static void describe(unw_cursor_t *c, struct walk_frame *f)
{
	unw_proc_info_t pi;
	unw_word_t off = 0;

	if (unw_get_proc_info(c, &pi) == 0) {
		f->start = pi.start_ip;
		f->end = pi.end_ip;
	}
	if (unw_get_proc_name(c, f->name, sizeof(f->name), &off) == 0)
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

int stackwalk(pid_t tid, const struct walk_opts *o, struct walk_frame *out)
{
	struct walk_arg w = { 0 };
	unw_addr_space_t as;
	unw_cursor_t c;
	int n = 0, ret = 0;

	as = unw_create_addr_space(&walk_accessors, 0);
	if (!as)
		return -ENOMEM;
	w.upt = _UPT_create(tid);
	if (!w.upt) {
		unw_destroy_addr_space(as);
		return -ENOMEM;
	}
	walking = &w;
	if (unw_init_remote(&c, as, &w) < 0) {
		ret = -EIO;
		goto out;
	}
	while (n < STACKWALK_MAX) {
		struct walk_frame *f = &out[n];
		unw_word_t ip, sp;

		memset(f, 0, sizeof(*f));
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 ||
		    unw_get_reg(&c, UNW_REG_SP, &sp) < 0 || !ip)
			break;
		if (n > 0 && is_tramp_return(o, ip)) {
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
		describe(&c, f);
		n++;
		if (unw_step(&c) <= 0)
			break;
	}
	ret = n;
out:
	walking = NULL;
	_UPT_destroy(w.upt);
	unw_destroy_addr_space(as);
	return ret;
}
