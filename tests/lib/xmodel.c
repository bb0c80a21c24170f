// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/proc_harness.h"
#include "lib/xmodel.h"

#define GROW(arr, n, cap) do {						\
	if ((n) == (cap)) {						\
		(cap) = (cap) ? (cap) * 2 : 16;				\
		(arr) = realloc((arr), (cap) * sizeof(*(arr)));		\
		cr_assert((arr), "out of memory");			\
	}								\
} while (0)

uint32_t xb_proc(struct xbuild *b, int32_t pid, const char *host, const char *exe,
		 const char *comm, uint64_t mono_ns, uint64_t real_ns)
{
	struct tread_xproc *p;

	GROW(b->x.procs, b->x.nprocs, b->cap_procs);
	p = &b->x.procs[b->x.nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->host = host;
	p->exe = exe;
	p->comm = comm;
	p->tsc_hz = 1000000000;
	p->calib_mono_ns = mono_ns;
	p->calib_real_ns = real_ns;
	return (uint32_t)b->x.nprocs++;
}

uint32_t xb_thread(struct xbuild *b, uint32_t proc, int32_t tid, const char *name)
{
	size_t old = b->cap_threads;

	GROW(b->x.threads, b->x.nthreads, b->cap_threads);
	if (b->cap_threads != old) {
		b->stack = realloc(b->stack, b->cap_threads * sizeof(*b->stack));
		b->height = realloc(b->height, b->cap_threads * sizeof(*b->height));
		cr_assert(b->stack && b->height);
	}
	b->x.threads[b->x.nthreads] = (struct tread_xthread){ proc, tid, name };
	b->stack[b->x.nthreads] = calloc(2048, sizeof(uint32_t));
	b->height[b->x.nthreads] = 0;
	return (uint32_t)b->x.nthreads++;
}

uint32_t xb_func(struct xbuild *b, uint32_t proc, const char *name,
		 const char *module, uint64_t base, uint64_t addr)
{
	struct tread_xfunc *f;

	GROW(b->x.funcs, b->x.nfuncs, b->cap_funcs);
	f = &b->x.funcs[b->x.nfuncs];
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->proc = proc;
	f->addr = addr;
	f->module = module;
	f->module_base = base;
	return (uint32_t)b->x.nfuncs++;
}

static struct tread_xevent *add(struct xbuild *b)
{
	struct tread_xevent *e;

	GROW(b->x.events, b->x.nevents, b->cap_events);
	e = &b->x.events[b->x.nevents++];
	memset(e, 0, sizeof(*e));
	return e;
}

void xb_call(struct xbuild *b, uint32_t thread, uint32_t func, uint64_t t)
{
	struct tread_xevent *e = add(b);

	e->real_ns = t;
	e->thread = thread;
	e->func = func;
	e->kind = TREAD_X_ENTRY;
	e->depth = b->height[thread];
	cr_assert(b->height[thread] < 2048);
	b->stack[thread][b->height[thread]++] = func;
}

static void ret(struct xbuild *b, uint32_t thread, uint64_t t, int synthetic)
{
	struct tread_xevent *e;

	cr_assert(b->height[thread] > 0, "xb_ret without an open call");
	e = add(b);
	e->real_ns = t;
	e->thread = thread;
	e->kind = TREAD_X_EXIT;
	e->synthetic = (uint8_t)synthetic;
	e->depth = --b->height[thread];
	e->func = b->stack[thread][e->depth];
}

void xb_ret(struct xbuild *b, uint32_t thread, uint64_t t)
{
	ret(b, thread, t, 0);
}

void xb_ret_synthetic(struct xbuild *b, uint32_t thread, uint64_t t)
{
	ret(b, thread, t, 1);
}

void xb_lost(struct xbuild *b, uint32_t thread, uint64_t t, uint64_t count)
{
	struct tread_xevent *e = add(b);

	e->real_ns = t;
	e->thread = thread;
	e->kind = TREAD_X_LOST;
	e->depth = b->height[thread];
	e->count = count;
}

struct keyed {
	struct tread_xevent e;
	size_t seq;		/* insertion order breaks ties */
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->e.real_ns != y->e.real_ns)
		return x->e.real_ns < y->e.real_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void xb_finish(struct xbuild *b)
{
	struct keyed *k = calloc(b->x.nevents + 1, sizeof(*k));

	cr_assert(k);
	for (size_t i = 0; i < b->x.nevents; i++)
		k[i] = (struct keyed){ b->x.events[i], i };
	qsort(k, b->x.nevents, sizeof(*k), cmp_keyed);
	for (size_t i = 0; i < b->x.nevents; i++)
		b->x.events[i] = k[i].e;
	free(k);
}

void xb_free(struct xbuild *b)
{
	for (size_t t = 0; t < b->x.nthreads; t++)
		free(b->stack[t]);
	free(b->stack);
	free(b->height);
	free(b->x.procs);
	free(b->x.threads);
	free(b->x.funcs);
	free(b->x.events);
	memset(b, 0, sizeof(*b));
}

char *xtmpdir(void)
{
	char *d = strdup("/tmp/tattach-xtest-XXXXXX");

	cr_assert(d && mkdtemp(d), "mkdtemp failed");
	return d;
}

void xrmdir(const char *dir)
{
	char *cmd = NULL;

	if (!dir || strncmp(dir, "/tmp/tattach-xtest-", 19))
		return;
	cr_assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
}

void require_client(const char *prog)
{
	char *cmd = NULL;
	int rc;

	cr_assert(asprintf(&cmd, "command -v %s >/dev/null 2>&1", prog) > 0);
	rc = system(cmd);
	free(cmd);
	cr_assert(rc == 0, "%s is not installed: run `make deps` (Debian package %s)",
		  prog, prog);
}

int sh_capture(const char *cmd, char **out, int must_succeed)
{
	char *const argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	char *o = NULL, *e = NULL;
	int st = run_capture(argv, &o, &e);

	if (must_succeed)
		cr_assert(st == 0, "`%s` exited %d:\n%s%s", cmd, st, e ? e : "", o ? o : "");
	free(e);
	if (out)
		*out = o;
	else
		free(o);
	return st;
}
