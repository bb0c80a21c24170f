// SPDX-License-Identifier: MIT
/*
 * Function parameters from DWARF (params.h): the subprogram DIE around an
 * address, its DW_TAG_formal_parameter children and their types, with
 * typedefs and qualifiers looked through.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tattach/ring.h>
#include "symbols/params.h"

struct sym_params_file {
	Dwfl        *dwfl;
	Dwfl_Module *mod;
};

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
	.find_elf       = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

int sym_params_open(const char *path, struct sym_params_file **out)
{
	struct sym_params_file *f;
	int fd, ret;

	*out = NULL;
	debuginfo_path = getenv("TATTACH_DEBUGINFO_PATH");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->dwfl = dwfl_begin(&callbacks);
	if (!f->dwfl) {
		close(fd);
		ret = -ENOMEM;
		goto fail;
	}
	dwfl_report_begin(f->dwfl);
	f->mod = dwfl_report_elf(f->dwfl, "m", path, fd, 0, true);
	if (!f->mod) {
		close(fd);	/* only consumed on success */
		ret = -ENOEXEC;
		goto fail;
	}
	if (dwfl_report_end(f->dwfl, NULL, NULL) != 0) {
		ret = -ENOEXEC;
		goto fail;
	}
	*out = f;
	return 0;
fail:
	sym_params_close(f);
	return ret;
}

void sym_params_close(struct sym_params_file *f)
{
	if (!f)
		return;
	if (f->dwfl)
		dwfl_end(f->dwfl);
	free(f);
}

/* @die's DW_AT_type with typedefs and cv-qualifiers looked through;
 * 0 when it has none (void). */
static int type_of(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute a;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, type))
		return 0;
	for (int guard = 0; guard < 16; guard++) {
		int tag = dwarf_tag(type);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_restrict_type &&
		    tag != DW_TAG_atomic_type)
			return 1;
		if (!dwarf_attr_integrate(type, DW_AT_type, &a) || !dwarf_formref_die(&a, type))
			return 0;
	}
	return 0;
}

static int read_enums(Dwarf_Die *type, struct sym_enumerator **out, size_t *n)
{
	Dwarf_Die child;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (dwarf_child(type, &child) != 0)
		return 0;
	do {
		Dwarf_Attribute a;
		Dwarf_Sword sv;
		struct sym_enumerator *grown;
		const char *name = dwarf_diename(&child);

		if (dwarf_tag(&child) != DW_TAG_enumerator || !name ||
		    !dwarf_attr(&child, DW_AT_const_value, &a) || dwarf_formsdata(&a, &sv))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(*out, cap * sizeof(**out));
			if (!grown)
				return -ENOMEM;
			*out = grown;
		}
		(*out)[*n].name = strdup(name);
		if (!(*out)[*n].name)
			return -ENOMEM;
		(*out)[*n].value = (int64_t)sv;
		(*n)++;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

enum vclass { V_INT, V_FP, V_MEMORY, V_VOID };

/* How a value of @type is passed and shown. */
static enum vclass classify(Dwarf_Die *type, int have, uint8_t *format, uint8_t *size)
{
	Dwarf_Attribute a;
	Dwarf_Word enc = 0, bytes = 8;
	Dwarf_Die pointee;

	*format = TAT_VAL_HEX;
	*size = 8;
	if (!have)
		return V_VOID;
	if (dwarf_attr(type, DW_AT_byte_size, &a))
		dwarf_formudata(&a, &bytes);
	switch (dwarf_tag(type)) {
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		*format = TAT_VAL_PTR;
		if (dwarf_tag(type) == DW_TAG_pointer_type && type_of(type, &pointee) &&
		    dwarf_tag(&pointee) == DW_TAG_base_type &&
		    dwarf_attr(&pointee, DW_AT_encoding, &a) && !dwarf_formudata(&a, &enc) &&
		    (enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char))
			*format = TAT_VAL_STR;
		return V_INT;
	case DW_TAG_enumeration_type:
		*format = TAT_VAL_ENUM;
		*size = (uint8_t)(bytes && bytes <= 8 ? bytes : 4);
		return V_INT;
	case DW_TAG_base_type:
		if (dwarf_attr(type, DW_AT_encoding, &a))
			dwarf_formudata(&a, &enc);
		*size = (uint8_t)(bytes && bytes <= 8 ? bytes : 8);
		switch (enc) {
		case DW_ATE_float:
			if (bytes == 4 || bytes == 8) {
				*format = bytes == 4 ? TAT_VAL_FLOAT : TAT_VAL_DOUBLE;
				return V_FP;
			}
			return V_MEMORY;	/* long double, __float128 */
		case DW_ATE_boolean:
			*format = TAT_VAL_BOOL;
			return V_INT;
		case DW_ATE_signed_char:	/* char: shown as 'c' */
			*format = TAT_VAL_CHAR;
			return V_INT;
		case DW_ATE_unsigned_char:	/* uint8_t: shown as a number */
			*format = TAT_VAL_UNSIGNED;
			return V_INT;
		case DW_ATE_signed:
			*format = TAT_VAL_SIGNED;
			return bytes <= 8 ? V_INT : V_MEMORY;
		case DW_ATE_unsigned:
			*format = TAT_VAL_UNSIGNED;
			return bytes <= 8 ? V_INT : V_MEMORY;
		default:
			return V_MEMORY;	/* _Complex and friends */
		}
	default:
		return V_MEMORY;	/* struct, union, array by value */
	}
}

/*
 * The CU holding @vaddr when there is no .debug_aranges to say (clang
 * emits none by default, and then dwfl_module_addrdie() finds nothing):
 * each CU's own ranges, in turn.
 */
static Dwarf_Die *cu_by_ranges(struct sym_params_file *f, uint64_t vaddr, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = NULL;

	while ((cu = dwfl_module_nextcu(f->mod, cu, bias)))
		if (dwarf_haspc(cu, vaddr - *bias) == 1)
			return cu;
	return NULL;
}

static int find_subprogram(struct sym_params_file *f, uint64_t vaddr, Dwarf_Die *out)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu, *scopes = NULL;
	int n, found = 0;

	cu = dwfl_module_addrdie(f->mod, vaddr, &bias);
	if (!cu)
		cu = cu_by_ranges(f, vaddr, &bias);
	if (!cu)
		return 0;
	n = dwarf_getscopes(cu, vaddr - bias, &scopes);
	/* outermost subprogram: an address inside an inlined call still
	 * belongs to the function the site starts */
	for (int i = n - 1; i >= 0; i--)
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram) {
			*out = scopes[i];
			found = 1;
			break;
		}
	free(scopes);
	return found;
}

int sym_params_of(struct sym_params_file *f, uint64_t vaddr, struct sym_func *out)
{
	Dwarf_Die sub, child, type;
	unsigned nint = 0, nfp = 0;
	int placing = 1, ret;
	enum vclass c;

	memset(out, 0, sizeof(*out));
	if (!f || !find_subprogram(f, vaddr, &sub))
		return 0;
	out->found = 1;
	if (dwarf_child(&sub, &child) == 0) {
		do {
			int tag = dwarf_tag(&child);
			struct sym_param *p;
			const char *name;
			char tmp[24];

			if (tag == DW_TAG_unspecified_parameters) {
				out->variadic = 1;
				continue;
			}
			if (tag != DW_TAG_formal_parameter || out->n == SYM_PARAMS_MAX)
				continue;
			p = &out->v[out->n++];
			name = dwarf_diename(&child);
			if (!name) {
				snprintf(tmp, sizeof(tmp), "arg%zu", out->n);
				name = tmp;
			}
			p->name = strdup(name);
			if (!p->name)
				goto oom;
			c = classify(&type, type_of(&child, &type), &p->format, &p->size);
			p->src = -1;
			if (c == V_MEMORY || c == V_VOID)
				placing = 0;
			else if (placing && c == V_INT && nint < 6)
				p->src = (int8_t)TAT_SRC_INT(nint++);
			else if (placing && c == V_FP && nfp < 8)
				p->src = (int8_t)TAT_SRC_FP(nfp++);
			else if (c == V_INT)
				nint++;
			else
				nfp++;
			if (p->format == TAT_VAL_ENUM) {
				ret = read_enums(&type, &p->enums, &p->nenums);
				if (ret)
					goto oom;
			}
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	c = classify(&type, type_of(&sub, &type), &out->ret_format, &out->ret_size);
	if (c == V_INT) {
		out->ret_src = TAT_SRC_RET;
		if (out->ret_format == TAT_VAL_STR)
			out->ret_format = TAT_VAL_PTR;	/* not read at exit */
		if (out->ret_format == TAT_VAL_ENUM &&
		    read_enums(&type, &out->ret_enums, &out->ret_nenums))
			goto oom;
	} else if (c == V_FP) {
		out->ret_src = TAT_SRC_FP(0);
	} else {
		out->ret_format = 0;	/* void, or a struct: not recorded */
	}
	return 0;
oom:
	sym_func_free(out);
	return -ENOMEM;
}

static void free_enums(struct sym_enumerator *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

void sym_func_free(struct sym_func *fn)
{
	for (size_t i = 0; i < fn->n; i++) {
		free(fn->v[i].name);
		free_enums(fn->v[i].enums, fn->v[i].nenums);
	}
	free_enums(fn->ret_enums, fn->ret_nenums);
	memset(fn, 0, sizeof(*fn));
}

const char *sym_enum_name(const struct sym_enumerator *e, size_t n, int64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].value == v)
			return e[i].name;
	return NULL;
}
