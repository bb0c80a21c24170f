// SPDX-License-Identifier: MIT
/*
 * --export uftrace: a uftrace data folder that the real uftrace reads
 * (replay, report, graph, info, dump --chrome; tested with 0.13).
 *
 * What uftrace needs, and what we write (layout learned from the files
 * `uftrace record` writes and from uftrace's readers, utils/data-file.c,
 * utils/session.c, utils/symbol.c, cmds/info.c):
 *
 *   info             40-byte header ("Ftrace!", version 4, feature and
 *                    info bit masks), then one text block per info bit,
 *                    in bit order: exename, cmdline, osinfo, taskinfo
 *                    (the tid list decides which .dat files are read),
 *                    record_date.
 *   task.txt         SESS (one per process: pid, session id, program) and
 *                    TASK (one per thread) lines; their timestamps must
 *                    not be later than the thread's first record.
 *   sid-<id>.map     the process's modules in /proc/PID/maps syntax, plus
 *                    a [stack] line, without which uftrace takes every
 *                    address for a kernel one.
 *   <module>.sym     the functions of each module, at addresses relative
 *                    to the module's first mapping (feature SYM_REL_ADDR),
 *                    so names resolve without the binaries.
 *   <tid>.dat        16-byte records: time, then type | magic | depth |
 *                    address packed in one word.
 *
 * Times are the model's CLOCK_REALTIME nanoseconds: uftrace only ever
 * subtracts them, and several processes then share one time line.
 */
#include <errno.h>
#include <endian.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer/export/uftrace_priv.h"

#define UF_MAGIC_WORD	"Ftrace!"
#define UF_VERSION	4
#define UF_HDR_SIZE	40
#define UF_MAX_STACK	1024	/* the record's depth field has 10 bits */
#define UF_REC_MAGIC	5
#define UF_REC_MORE	(1u << 2)	/* data follows the record */

/* Feature bits (uftrace.h, enum uftrace_feat_bits). */
#define UF_FEAT_TASK_SESSION	(1u << 1)
#define UF_FEAT_ARGUMENT	(1u << 3)	/* records may carry arguments */
#define UF_FEAT_RETVAL		(1u << 4)	/* and return values */
#define UF_FEAT_SYM_REL_ADDR	(1u << 5)
#define UF_FEAT_MAX_STACK	(1u << 6)
/* Info bits: each one is a text block in `info`, read in bit order. */
#define UF_INFO_EXE_NAME	(1u << 0)
#define UF_INFO_CMDLINE		(1u << 3)	/* dump --chrome's JSON needs it */
#define UF_INFO_OSINFO		(1u << 6)
#define UF_INFO_TASKINFO	(1u << 7)
#define UF_INFO_ARG_SPEC	(1u << 10)	/* -A/-R: which formats follow a record */
#define UF_INFO_RECORD_DATE	(1u << 11)
#define UF_INFO_PATTERN_TYPE	(1u << 12)	/* how argspec names match: regex */

enum { UF_ENTRY = 0, UF_EXIT = 1, UF_LOST = 2 };

void uf_session_id(const struct uf_out *o, uint32_t proc, char out[17])
{
	const struct tread_xproc *p = &o->x->procs[proc];

	/* Any 16 hex digits do; unique per process of this export. */
	snprintf(out, 17, "%08x%08x", (uint32_t)proc + 1,
		 (uint32_t)p->pid ^ (uint32_t)(p->calib_real_ns >> 20));
}

static const char *proc_exe(const struct tread_xproc *p)
{
	if (p->exe && *p->exe)
		return p->exe;
	if (p->comm && *p->comm)
		return p->comm;
	return "unknown";
}

static void put_ts(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64, ns / 1000000000, ns % 1000000000);
}

static int write_tasks(struct uf_out *o)
{
	const struct tread_xtrace *x = o->x;
	char sid[17];
	FILE *f;

	f = xdir_create(&o->dir, "task.txt", o->err, o->errlen);
	if (!f)
		return -errno;
	for (size_t p = 0; p < x->nprocs; p++) {
		bool any = false;

		for (size_t t = 0; t < x->nthreads; t++)
			any |= x->threads[t].proc == p && o->thread_nev[t];
		if (!any)
			continue;
		uf_session_id(o, (uint32_t)p, sid);
		/* Sessions and tasks are found by time: they must begin no later
		 * than the first record of any of their threads. */
		fputs("SESS timestamp=", f);
		put_ts(f, o->proc_first[p]);
		fprintf(f, " pid=%d sid=%s exename=\"", (int)x->procs[p].pid, sid);
		uf_put_name(f, proc_exe(&x->procs[p]));
		fputs("\"\n", f);
		for (size_t t = 0; t < x->nthreads; t++) {
			if (x->threads[t].proc != p || !o->thread_nev[t])
				continue;
			fputs("TASK timestamp=", f);
			put_ts(f, o->proc_first[p]);
			fprintf(f, " tid=%d pid=%d\n", (int)x->threads[t].tid,
				(int)x->procs[p].pid);
		}
	}
	return xdir_close(&o->dir, f, "task.txt", o->err, o->errlen);
}

static void put_u16(unsigned char *b, uint16_t v) { v = htole16(v); memcpy(b, &v, 2); }
static void put_u32(unsigned char *b, uint32_t v) { v = htole32(v); memcpy(b, &v, 4); }
static void put_u64(unsigned char *b, uint64_t v) { v = htole64(v); memcpy(b, &v, 8); }

static int write_info(struct uf_out *o)
{
	const struct tread_xtrace *x = o->x;
	const struct tread_xproc *p0 = x->nprocs ? &x->procs[0] : NULL;
	unsigned char hdr[UF_HDR_SIZE] = { 0 };
	uint64_t first = 0, last = 0;
	size_t ntids = 0;
	char date[64] = "";
	time_t secs;
	struct tm tm;
	bool comma = false;
	FILE *f;

	memcpy(hdr, UF_MAGIC_WORD, sizeof(UF_MAGIC_WORD));
	put_u32(hdr + 8, UF_VERSION);
	put_u16(hdr + 12, UF_HDR_SIZE);
	hdr[14] = 1;		/* little endian */
	hdr[15] = 2;		/* ELFCLASS64 */
	put_u64(hdr + 16, UF_FEAT_TASK_SESSION | UF_FEAT_SYM_REL_ADDR | UF_FEAT_MAX_STACK |
		(uf_any_argspec(o) ? UF_FEAT_ARGUMENT | UF_FEAT_RETVAL : 0));
	put_u64(hdr + 24, UF_INFO_EXE_NAME | UF_INFO_CMDLINE | UF_INFO_OSINFO |
		UF_INFO_TASKINFO | UF_INFO_RECORD_DATE |
		(uf_any_argspec(o) ? UF_INFO_ARG_SPEC | UF_INFO_PATTERN_TYPE : 0));
	put_u16(hdr + 32, UF_MAX_STACK);

	/* Calls only: a loss the collector could not date is at time 0. */
	for (size_t i = 0; i < x->nevents; i++) {
		if (x->events[i].kind == TREAD_X_LOST)
			continue;
		if (!first)
			first = x->events[i].real_ns;
		last = x->events[i].real_ns;
	}
	for (size_t t = 0; t < x->nthreads; t++)
		ntids += o->thread_nev[t] != 0;

	f = xdir_create(&o->dir, "info", o->err, o->errlen);
	if (!f)
		return -errno;
	fwrite(hdr, 1, sizeof(hdr), f);
	fputs("exename:", f);
	uf_put_name(f, p0 ? proc_exe(p0) : "unknown");
	/* The program's own command line is not in the trace: its path is. */
	fputs("\ncmdline:", f);
	uf_put_name(f, p0 ? proc_exe(p0) : "unknown");
	/* Only the host name is known; "unknown" keeps `uftrace info` from
	 * printing "(null)" for the other two. */
	fputs("\nosinfo:lines=3\nosinfo:kernel=unknown\nosinfo:hostname=", f);
	uf_put_name(f, p0 && p0->host && *p0->host ? p0->host : "unknown");
	fputs("\nosinfo:distro=\"unknown\"", f);
	fprintf(f, "\ntaskinfo:lines=2\ntaskinfo:nr_tid=%zu\ntaskinfo:tids=", ntids);
	for (size_t t = 0; t < x->nthreads; t++) {
		if (!o->thread_nev[t])
			continue;
		fprintf(f, "%s%d", comma ? "," : "", (int)x->threads[t].tid);
		comma = true;
	}
	fputc('\n', f);
	/* Blocks in bit order: the argspec (bit 10) comes before the date. */
	if (uf_any_argspec(o))
		uf_write_argspec_info(f, o);
	/* ctime() layout, as uftrace record writes it (local time). */
	secs = (time_t)(first / 1000000000);
	if (localtime_r(&secs, &tm))
		strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	fprintf(f, "record_date:%s\nelapsed_time:", date);
	put_ts(f, last - first);
	fputs(" sec\n", f);
	/* Without it names never match an argspec (uftrace's default is none). */
	if (uf_any_argspec(o))
		fputs("pattern_type:regex\n", f);
	return xdir_close(&o->dir, f, "info", o->err, o->errlen);
}

static uint64_t record_word(unsigned type, uint32_t depth, uint64_t addr)
{
	return (uint64_t)type | (uint64_t)UF_REC_MAGIC << 3 |
	       (uint64_t)(depth & 0x3ff) << 6 | (addr & UF_ADDR_MAX) << 16;
}

static int write_thread(struct uf_out *o, uint32_t t, const uint32_t *idx, size_t n)
{
	const struct tread_xtrace *x = o->x;
	char name[32];
	unsigned char *vals;
	FILE *f;

	uint64_t prev = o->proc_first[x->threads[t].proc];

	vals = malloc(uf_values_max());
	if (!vals) {
		xdir_err(o->err, o->errlen, "uftrace export: out of memory");
		return -ENOMEM;
	}

	snprintf(name, sizeof(name), "%d.dat", (int)x->threads[t].tid);
	f = xdir_create(&o->dir, name, o->err, o->errlen);
	if (!f) {
		int ret = -errno;

		free(vals);
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		const struct tread_xevent *e = &x->events[idx[i]];
		uint64_t word, at = e->real_ns;
		unsigned char rec[16];
		size_t nvals = 0;

		if (e->kind == TREAD_X_LOST) {
			word = record_word(UF_LOST, e->depth,
					   e->count > UF_ADDR_MAX ? UF_ADDR_MAX : e->count);
			/* before the process's first call (or undated: time 0):
			 * at that call, where sessions and tasks begin */
			if (at < prev)
				at = prev;
		} else {
			word = record_word(e->kind == TREAD_X_ENTRY ? UF_ENTRY : UF_EXIT,
					   e->depth, x->funcs[e->func].addr);
			/* -A/-R values follow the record: its "more" bit */
			nvals = uf_event_values(o, idx[i], vals, uf_values_max());
			if (nvals)
				word |= UF_REC_MORE;
		}
		prev = at;
		put_u64(rec, at);
		put_u64(rec + 8, word);
		fwrite(rec, 1, sizeof(rec), f);
		fwrite(vals, 1, nvals, f);
	}
	free(vals);
	return xdir_close(&o->dir, f, name, o->err, o->errlen);
}

/* Check what uftrace cannot show, before anything is written. */
static int check_model(struct uf_out *o)
{
	const struct tread_xtrace *x = o->x;

	for (size_t t = 0; t < x->nthreads; t++) {
		if (x->threads[t].proc >= x->nprocs) {
			xdir_err(o->err, o->errlen, "uftrace export: thread %zu names "
				 "process %u of %zu", t, x->threads[t].proc, x->nprocs);
			return -EINVAL;
		}
		/* uftrace keys tasks by tid alone. */
		for (size_t u = 0; u < t; u++) {
			if (x->threads[u].tid == x->threads[t].tid &&
			    x->threads[u].proc != x->threads[t].proc) {
				xdir_err(o->err, o->errlen, "uftrace export: thread id %d "
					 "occurs in two processes; uftrace cannot tell them "
					 "apart; export them one at a time",
					 (int)x->threads[t].tid);
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < x->nfuncs; i++) {
		if (x->funcs[i].proc >= x->nprocs) {
			xdir_err(o->err, o->errlen, "uftrace export: function %zu names "
				 "process %u of %zu", i, x->funcs[i].proc, x->nprocs);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];

		if (e->thread >= x->nthreads ||
		    (e->kind != TREAD_X_LOST && e->func >= x->nfuncs) ||
		    e->kind > TREAD_X_LOST) {
			xdir_err(o->err, o->errlen, "uftrace export: event %zu names a "
				 "thread or function that is not in the trace", i);
			return -EINVAL;
		}
		if (e->kind != TREAD_X_LOST && e->depth >= UF_MAX_STACK) {
			xdir_err(o->err, o->errlen, "uftrace export: thread %d nests %u "
				 "calls, more than uftrace's %d", (int)x->threads[e->thread].tid,
				 e->depth + 1, UF_MAX_STACK);
			return -ERANGE;
		}
	}
	/* uftrace answers "No data available" for a folder without records. */
	for (size_t i = 0; i < x->nevents; i++) {
		if (x->events[i].kind != TREAD_X_LOST)
			return 0;
	}
	xdir_err(o->err, o->errlen, "uftrace export: the trace holds no calls, and "
		 "uftrace cannot read a folder without any; nothing written");
	return -ENODATA;
}

static int write_all(struct uf_out *o)
{
	const struct tread_xtrace *x = o->x;
	uint32_t *idx = NULL;
	size_t *start = NULL;
	int ret = -ENOMEM;

	o->thread_nev = calloc(x->nthreads + 1, sizeof(size_t));
	o->task = calloc(x->nthreads + 1, sizeof(uint32_t));
	o->proc_first = calloc(x->nprocs + 1, sizeof(uint64_t));
	start = calloc(x->nthreads + 1, sizeof(size_t));
	idx = malloc((x->nevents + 1) * sizeof(uint32_t));
	if (!o->thread_nev || !o->task || !o->proc_first || !start || !idx)
		goto nomem;
	if (x->nevents > UINT32_MAX) {
		xdir_err(o->err, o->errlen, "uftrace export: more than %u events",
			 UINT32_MAX);
		ret = -E2BIG;
		goto out;
	}

	/* A reused tid (one thread ended, a later one got its number) is one
	 * task: their calls do not overlap in time. */
	for (size_t t = 0; t < x->nthreads; t++) {
		o->task[t] = (uint32_t)t;
		for (size_t u = 0; u < t; u++) {
			if (x->threads[u].tid == x->threads[t].tid) {
				o->task[t] = (uint32_t)u;
				break;
			}
		}
	}
	/* A process begins at its first call: sessions and tasks must not
	 * begin after their first record, nor at an undated loss (time 0). */
	for (size_t p = 0; p < x->nprocs; p++)
		o->proc_first[p] = UINT64_MAX;
	for (size_t i = 0; i < x->nevents; i++) {
		const struct tread_xevent *e = &x->events[i];
		uint32_t p = x->threads[e->thread].proc;

		o->thread_nev[o->task[e->thread]]++;
		if (e->kind != TREAD_X_LOST && e->real_ns < o->proc_first[p])
			o->proc_first[p] = e->real_ns;
	}
	for (size_t i = 0; i < x->nevents; i++) {
		uint32_t p = x->threads[x->events[i].thread].proc;

		/* a process with losses only */
		if (o->proc_first[p] == UINT64_MAX)
			o->proc_first[p] = x->events[i].real_ns;
	}
	/* Each task's events, in order, one after another (a counting sort). */
	for (size_t t = 1; t <= x->nthreads; t++)
		start[t] = start[t - 1] + o->thread_nev[t - 1];
	for (size_t i = 0; i < x->nevents; i++)
		idx[start[o->task[x->events[i].thread]]++] = (uint32_t)i;
	for (size_t t = x->nthreads; t > 0; t--)
		start[t] = start[t - 1];
	start[0] = 0;

	ret = uf_build_modules(o);
	if (ret)
		goto out;
	for (size_t s = 0; s < o->nsymfiles; s++) {
		ret = uf_write_symfile(o, &o->symfiles[s]);
		if (ret)
			goto out;
	}
	for (size_t p = 0; p < x->nprocs; p++) {
		ret = uf_write_map(o, (uint32_t)p);
		if (ret)
			goto out;
	}
	/* after the .sym files: argspecs name the symbols uftrace will see */
	ret = uf_build_argspecs(o);
	if (ret)
		goto out;
	ret = write_tasks(o);
	if (ret)
		goto out;
	for (size_t t = 0; t < x->nthreads; t++) {
		if (!o->thread_nev[t])
			continue;
		ret = write_thread(o, (uint32_t)t, idx + start[t], o->thread_nev[t]);
		if (ret)
			goto out;
	}
	/* Analysis commands re-read recording options from it; we have none. */
	{
		FILE *f = xdir_create(&o->dir, "default.opts", o->err, o->errlen);

		if (!f) {
			ret = -errno;
			goto out;
		}
		ret = xdir_close(&o->dir, f, "default.opts", o->err, o->errlen);
		if (ret)
			goto out;
	}
	ret = write_info(o);
	goto out;

nomem:
	ret = -ENOMEM;
	xdir_err(o->err, o->errlen, "uftrace export: out of memory");
out:
	free(idx);
	free(start);
	return ret;
}

int tread_export_uftrace(const struct tread_xtrace *x, const char *out,
			 char *err, size_t errlen)
{
	struct uf_out o = { .x = x, .err = err, .errlen = errlen };
	int ret;

	ret = check_model(&o);
	if (ret)
		return ret;
	ret = xdir_begin(&o.dir, out, "uftrace", err, errlen);
	if (ret)
		return ret;
	ret = write_all(&o);
	if (ret)
		xdir_discard(&o.dir);
	else
		ret = xdir_commit(&o.dir, err, errlen);

	uf_free_argspecs(&o);
	uf_free_modules(&o);
	free(o.proc_first);
	free(o.task);
	free(o.thread_nev);
	return ret;
}
