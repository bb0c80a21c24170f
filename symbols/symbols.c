// SPDX-License-Identifier: MIT
/*
 * Address -> function name through libdwfl.
 *
 * Each module gets a Dwfl session of its own, with the file placed at its
 * ELF virtual addresses (bias 0).  A lookup subtracts the module's load
 * bias first.  Doing the bias ourselves instead of asking libdwfl to place
 * the file at runtime addresses keeps three cases simple that one shared
 * session handles badly: ET_EXEC files (libdwfl ignores any base for them),
 * modules whose runtime ranges overlap in a hostile or stale module table,
 * and a failure in one file never disturbing the others.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols/symbols.h"

struct sym_module {
	Dwfl        *dwfl;
	Dwfl_Module *mod;
	uint64_t     bias;
	uint64_t     low;	/* ELF vaddr range the file covers */
	uint64_t     high;
	char        *path;
};

struct sym_resolver {
	struct sym_module *mods;
	size_t             nmods;
	size_t             mods_cap;

	/* Strings we made ourselves ("0x..." names); freed at close. */
	char             **strings;
	size_t             nstrings;
	size_t             strings_cap;
};

/*
 * Where separate debug files are looked for, in libdwfl's syntax (that of
 * elfutils' --debuginfo-path): NULL is its default, ":.debug:/usr/lib/debug",
 * under whose absolute entries a stripped file's build-id finds
 * .build-id/XX/YYYY.debug.  TATTACH_DEBUGINFO_PATH replaces it, for debug
 * files kept elsewhere (and for tests, which may not write /usr/lib/debug).
 */
static char *debuginfo_path;

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf       = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int sym_open(struct sym_resolver **out)
{
	struct sym_resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	debuginfo_path = getenv("TATTACH_DEBUGINFO_PATH");
	*out = r;
	return 0;
}

void sym_close(struct sym_resolver *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmods; i++) {
		dwfl_end(r->mods[i].dwfl);
		free(r->mods[i].path);
	}
	for (size_t i = 0; i < r->nstrings; i++)
		free(r->strings[i]);
	free(r->mods);
	free(r->strings);
	free(r);
}

size_t sym_module_count(const struct sym_resolver *r)
{
	return r ? r->nmods : 0;
}

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	nv = reallocarray(*v, ncap, elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* Keep a string alive until sym_close(); returns it or NULL. */
static const char *intern(struct sym_resolver *r, const char *s)
{
	char *copy;

	if (grow((void **)&r->strings, &r->strings_cap, r->nstrings + 1,
		 sizeof(*r->strings)))
		return NULL;
	copy = strdup(s);
	if (!copy)
		return NULL;
	r->strings[r->nstrings++] = copy;
	return copy;
}

/*
 * Open the file ourselves: the path comes from a file the traced process
 * can write, so it may name a FIFO or a device that would block or worse
 * if libdwfl opened it blindly.
 */
static int open_regular_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd, flags;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		set_err(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -ENOEXEC;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return fd;
}

static int check_build_id(Dwfl_Module *mod, const char *path,
			  const uint8_t *want, size_t want_len,
			  char *err, size_t errlen)
{
	const unsigned char *bits = NULL;
	GElf_Addr vaddr;
	Dwarf_Addr bias;
	int len;

	if (!want || !want_len)
		return 0;
	/* The id is only known once the ELF file is loaded. */
	dwfl_module_getelf(mod, &bias);
	len = dwfl_module_build_id(mod, &bits, &vaddr);
	if (len == (int)want_len && memcmp(bits, want, want_len) == 0)
		return 0;
	set_err(err, errlen,
		"%s: build id differs from the one the process loaded (file replaced since; "
		"'tread --save' while the process runs keeps its names)",
		path);
	return -ESTALE;
}

int sym_add_module(struct sym_resolver *r, const char *path, uint64_t load_bias,
		   const uint8_t *build_id, size_t build_id_len,
		   char *err, size_t errlen)
{
	struct sym_module m = { .bias = load_bias };
	const char *base;
	Dwarf_Addr start, end;
	int fd, ret;

	if (!r || !path || !*path) {
		set_err(err, errlen, "no module path");
		return -EINVAL;
	}
	ret = grow((void **)&r->mods, &r->mods_cap, r->nmods + 1, sizeof(*r->mods));
	if (ret)
		return ret;

	fd = open_regular_file(path, err, errlen);
	if (fd < 0)
		return fd;

	m.dwfl = dwfl_begin(&offline_callbacks);
	if (!m.dwfl) {
		close(fd);
		set_err(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
		return -ENOMEM;
	}
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	dwfl_report_begin(m.dwfl);
	/* base 0 with add_p_vaddr: the module sits at its own vaddrs. */
	m.mod = dwfl_report_elf(m.dwfl, base, path, fd, 0, true);
	if (!m.mod) {
		close(fd);	/* only consumed on success */
		set_err(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
		ret = -ENOEXEC;
		goto fail;
	}
	if (dwfl_report_end(m.dwfl, NULL, NULL) != 0) {
		set_err(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
		ret = -ENOEXEC;
		goto fail;
	}
	ret = check_build_id(m.mod, path, build_id, build_id_len, err, errlen);
	if (ret)
		goto fail;

	dwfl_module_info(m.mod, NULL, &start, &end, NULL, NULL, NULL, NULL);
	m.low = start;
	m.high = end;
	m.path = strdup(path);
	if (!m.path) {
		ret = -ENOMEM;
		goto fail;
	}
	r->mods[r->nmods++] = m;
	return 0;

fail:
	dwfl_end(m.dwfl);
	return ret;
}

/* The innermost DW_TAG_subprogram around @vaddr, for symbol-less code. */
static const char *dwarf_function_name(Dwfl_Module *mod, uint64_t vaddr,
				       uint64_t *offset)
{
	Dwarf_Addr bias, lowpc;
	Dwarf_Die *cu, *scopes = NULL;
	const char *name = NULL;
	int n;

	cu = dwfl_module_addrdie(mod, vaddr, &bias);
	if (!cu)
		return NULL;
	n = dwarf_getscopes(cu, vaddr - bias, &scopes);
	for (int i = 0; i < n; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_subprogram)
			continue;
		name = dwarf_diename(&scopes[i]);
		if (name && dwarf_lowpc(&scopes[i], &lowpc) == 0)
			*offset = vaddr - bias - lowpc;
		break;
	}
	free(scopes);
	return name;
}

static void source_line(Dwfl_Module *mod, uint64_t vaddr, struct sym_info *out)
{
	Dwfl_Line *line = dwfl_module_getsrc(mod, vaddr);
	int lineno = 0;
	const char *file;

	if (!line)
		return;
	file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
	if (file) {
		out->file = file;
		out->line = lineno;
	}
}

static int lookup_in_module(struct sym_module *m, uint64_t vaddr,
			    struct sym_info *out)
{
	GElf_Off off = 0;
	GElf_Sym sym;
	uint64_t dwoff = 0;
	const char *name;

	name = dwfl_module_addrinfo(m->mod, vaddr, &off, &sym, NULL, NULL, NULL);
	if (name && *name) {
		out->offset = off;
	} else {
		name = dwarf_function_name(m->mod, vaddr, &dwoff);
		out->offset = dwoff;
	}
	source_line(m->mod, vaddr, out);
	if (!name || !*name)
		return -ENOENT;
	out->name = name;
	out->known = 1;
	return 0;
}

int sym_resolve(struct sym_resolver *r, uint64_t addr, struct sym_info *out)
{
	char hex[2 + 16 + 1];

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; r && i < r->nmods; i++) {
		struct sym_module *m = &r->mods[i];
		uint64_t vaddr = addr - m->bias;	/* wraps for foreign addrs */

		if (vaddr < m->low || vaddr >= m->high)
			continue;
		out->module = m->path;
		if (lookup_in_module(m, vaddr, out) == 0)
			return 0;
		break;
	}

	snprintf(hex, sizeof(hex), "0x%" PRIx64, addr);
	out->name = r ? intern(r, hex) : NULL;
	out->offset = 0;
	out->known = 0;
	if (!out->name) {
		out->name = "0x?";	/* static, so still never NULL */
		return -ENOMEM;
	}
	return -ENOENT;
}
