/* SPDX-License-Identifier: MIT */
/*
 * The parameters and return type of a function, from DWARF: what tattach
 * -A/-R records by default, how it checks an explicit SPEC, and how tread
 * names the values (parameter names, enumerators).
 *
 * Registers are assigned as the x86-64 System V ABI does for the common
 * cases: integers, pointers, enums and bools take the next of rdi, rsi,
 * rdx, rcx, r8, r9; float and double the next of xmm0..7.  A parameter
 * this module cannot place (a struct or union passed by value, long
 * double, _Complex, or anything after one of those) is marked unplaced:
 * its registers are unknown, so nothing after it is recorded by default.
 */
#ifndef TATTACH_SYMBOLS_PARAMS_H
#define TATTACH_SYMBOLS_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#define SYM_PARAMS_MAX 32

struct sym_enumerator {
	char   *name;
	int64_t value;
};

struct sym_param {
	char    *name;		/* "arg3" when DWARF has no name */
	uint8_t  format;	/* enum tat_val_format (ring.h) */
	uint8_t  size;		/* bytes, for integers */
	int8_t   src;		/* TAT_SRC_INT(i) / TAT_SRC_FP(i), -1: unplaced */
	size_t   nenums;	/* TAT_VAL_ENUM: its enumerators */
	struct sym_enumerator *enums;
};

struct sym_func {
	int      found;		/* DWARF describes the function */
	int      variadic;	/* "..." after the named parameters */
	size_t   n;		/* parameters, at most SYM_PARAMS_MAX */
	struct sym_param v[SYM_PARAMS_MAX];
	uint8_t  ret_format;	/* 0: void or not recordable */
	uint8_t  ret_size;
	uint8_t  ret_src;	/* TAT_SRC_RET or TAT_SRC_FP(0) */
	size_t   ret_nenums;
	struct sym_enumerator *ret_enums;
};

struct sym_params_file;

/* Open @path's DWARF (separate debug files found as symbols.c finds them).
 * Returns 0, -ENOENT/-EACCES/-ENOEXEC, -ENOMEM. */
int sym_params_open(const char *path, struct sym_params_file **out);
void sym_params_close(struct sym_params_file *f);

/*
 * sym_params_of - describe the function containing ELF address @vaddr
 * Fills @out (free with sym_func_free()); out->found = 0 when DWARF does
 * not cover it.  Returns 0 or -ENOMEM.
 */
int sym_params_of(struct sym_params_file *f, uint64_t vaddr, struct sym_func *out);
void sym_func_free(struct sym_func *fn);

/* The enumerator of @v among @e, or NULL. */
const char *sym_enum_name(const struct sym_enumerator *e, size_t n, int64_t v);

#endif
