/* SPDX-License-Identifier: MIT */
/*
 * The uftrace export's own parts, shared by its two files: uftrace.c
 * (info, task.txt, the .dat records) and uftrace_symbols.c (modules,
 * their maps and .sym files).
 */
#ifndef TATTACH_CONSUMER_EXPORT_UFTRACE_PRIV_H
#define TATTACH_CONSUMER_EXPORT_UFTRACE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "consumer/export/export.h"
#include "consumer/export/outdir.h"

#define UF_ADDR_MAX	((UINT64_C(1) << 48) - 1)	/* a record's address field */

/* One module of one process: a line of that process's map. */
struct uf_mod {
	uint32_t    proc;
	const char *path;
	uint64_t    base;
	uint64_t    end;		/* past the last function seen */
	uint32_t    symfile;	/* index into symfiles[] */
};

/* One .sym file: a module path, with the functions of every process. */
struct uf_symfile {
	const char *path;
	char       *fname;
	struct uf_sym {
		uint64_t    rel;	/* address - module start */
		const char *name;
		const char *file;	/* NULL when unknown */
		uint32_t    line;
		size_t      seq;	/* order seen: the first name wins */
	} *syms;
	size_t      nsyms, cap;
};

/* One export being written. */
struct uf_out {
	const struct tread_xtrace *x;
	struct xdir        dir;
	struct uf_mod     *mods;
	size_t             nmods;
	struct uf_symfile *symfiles;
	size_t             nsymfiles;
	char             **unknown_paths;	/* per process, for funcs without module */
	uint64_t          *unknown_base;	/* per process: their lowest page */
	char             **paths;	/* module paths made fit for a map line */
	size_t             npaths;
	uint64_t          *proc_first;	/* per process: its first event's time */
	uint32_t          *task;	/* per thread: the thread whose file holds
					 * its events (a tid used twice in one
					 * process is one uftrace task) */
	size_t            *thread_nev;	/* per task: its events */
	struct uf_funcsym {		/* per function: its .sym entry */
		uint32_t symfile;
		uint64_t rel;
	}                 *funcsym;
	struct uf_spec {		/* tattach -A/-R: one argspec per name */
		const char *name;
		char       *args;	/* "arg1/i64,arg2/s", NULL: none */
		char       *ret;	/* "retval/i64", NULL: none */
	}                 *specs;
	size_t             nspecs;
	uint8_t           *ev_values;	/* per event: which values are written */
	char              *err;
	size_t             errlen;
};

/* Group the functions into per-process modules and per-path .sym files. */
int uf_build_modules(struct uf_out *o);
/* One <module>.sym file, and <module>.dbg (file:line) when known. */
int uf_write_symfile(struct uf_out *o, struct uf_symfile *s);
/* sid-<id>.map of process @proc. */
int uf_write_map(struct uf_out *o, uint32_t proc);
/* Free what uf_build_modules() allocated. */
void uf_free_modules(struct uf_out *o);

/* The name uftrace gives function @func: the first one at its address. */
const char *uf_symbol_name(const struct uf_out *o, uint32_t func);

/* tattach -A/-R values (uftrace_args.c): each name's argspec, built from
 * the calls (after the .sym files are written), the `info` lines that
 * hold them, and the data after a record (0 bytes: its "more" bit stays
 * clear). */
int uf_build_argspecs(struct uf_out *o);
bool uf_any_argspec(const struct uf_out *o);
void uf_write_argspec_info(FILE *f, const struct uf_out *o);
size_t uf_values_max(void);
size_t uf_event_values(const struct uf_out *o, size_t ev, unsigned char *buf, size_t cap);
void uf_free_argspecs(struct uf_out *o);

/* The session id of process @proc: 16 hex digits and a NUL. */
void uf_session_id(const struct uf_out *o, uint32_t proc, char out[17]);
/* A name as one token of a text line: no line breaks, no tabs. */
void uf_put_name(FILE *f, const char *s);

#endif /* TATTACH_CONSUMER_EXPORT_UFTRACE_PRIV_H */
