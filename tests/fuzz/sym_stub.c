// SPDX-License-Identifier: MIT
/*
 * A stand-in for symbols/symbols.c in the fuzz targets.
 *
 * The module table of a ring file names arbitrary paths; the real resolver
 * opens them and hands them to libdw.  A fuzzer must not open files chosen
 * by its input (nor fuzz libdw, which is not ours), so the targets link this
 * file instead: same API and the same contracts as symbols.h describes, but
 * no file is ever opened.  consumer/input/site_names.c, which decides what to ask
 * the resolver and caches the answers, still runs unchanged.
 *
 * What the stub does, deterministically:
 *   sym_add_module  checks its arguments the way the callers' contract
 *                   says (path NUL-terminated within TAT_PATH_MAX + 64
 *                   bytes, build id no longer than TAT_BUILD_ID_MAX), then
 *                   pretends the file is missing (path not absolute), was
 *                   replaced (odd build id length) or is an ELF file whose
 *                   text covers [0, 1 MiB) at its own vaddrs;
 *   sym_resolve     names an address covered by a module "fn_<vaddr>",
 *                   anything else "0x<addr>", like the real one.
 * Every string handed out is freshly allocated and freed at sym_close(), so
 * ASan sees any use of a name after the resolver is gone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/module_base.h"
#include "symbols/module_file.h"
#include "symbols/symbols.h"
#include "tattach/ring.h"

#define STUB_TEXT_SIZE (1ull << 20)

struct stub_module {
	char    *path;
	uint64_t bias;
};

struct sym_resolver {
	struct stub_module *mods;
	size_t nmods;
	size_t mods_cap;
	char **strings;
	size_t nstrings;
	size_t strings_cap;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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
	*out = r;
	return 0;
}

void sym_close(struct sym_resolver *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmods; i++)
		free(r->mods[i].path);
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

static const char *intern(struct sym_resolver *r, const char *fmt, uint64_t v)
{
	char *s;

	if (grow((void **)&r->strings, &r->strings_cap, r->nstrings + 1,
		 sizeof(*r->strings)))
		return NULL;
	if (asprintf(&s, fmt, v) < 0)
		return NULL;
	r->strings[r->nstrings++] = s;
	return s;
}

int sym_add_module(struct sym_resolver *r, const char *path, uint64_t load_bias,
		   const uint8_t *build_id, size_t build_id_len,
		   char *err, size_t errlen)
{
	struct stub_module m = { .bias = load_bias };
	size_t len;
	int ret;

	if (!r || !path || !*path) {
		set_err(err, errlen, "no module path");
		return -EINVAL;
	}
	/* The callers promise a terminated path (site_names may prefix
	 * "/proc/<pid>/root") and a build id that fits the ring format. */
	len = strnlen(path, TAT_PATH_MAX + 64);
	if (len == TAT_PATH_MAX + 64 || build_id_len > TAT_BUILD_ID_MAX ||
	    (build_id_len && !build_id)) {
		fprintf(stderr, "sym_stub: caller broke the sym_add_module contract "
			"(path length %zu, build id length %zu)\n", len, build_id_len);
		abort();
	}
	if (build_id_len) {
		volatile uint8_t sum = 0;	/* touch every byte: ASan checks it */

		for (size_t i = 0; i < build_id_len; i++)
			sum += build_id[i];
		(void)sum;
	}
	ret = grow((void **)&r->mods, &r->mods_cap, r->nmods + 1, sizeof(*r->mods));
	if (ret)
		return ret;
	if (path[0] != '/') {
		set_err(err, errlen, "%s: No such file or directory", path);
		return -ENOENT;
	}
	if (build_id_len & 1) {
		set_err(err, errlen, "%s: build id differs from the one the "
			"process loaded (file replaced?)", path);
		return -ESTALE;
	}
	m.path = strdup(path);
	if (!m.path)
		return -ENOMEM;
	r->mods[r->nmods++] = m;
	return 0;
}

int sym_resolve(struct sym_resolver *r, uint64_t addr, struct sym_info *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; r && i < r->nmods; i++) {
		uint64_t vaddr = addr - r->mods[i].bias;	/* wraps: fine */

		if (vaddr >= STUB_TEXT_SIZE)
			continue;
		out->module = r->mods[i].path;
		out->name = intern(r, "fn_%" PRIx64, vaddr & ~0xfull);
		if (!out->name)
			break;
		out->offset = vaddr & 0xf;
		out->known = 1;
		return 0;
	}
	out->name = r ? intern(r, "0x%" PRIx64, addr) : NULL;
	out->module = NULL;
	out->offset = 0;
	out->known = 0;
	if (!out->name) {
		out->name = "0x?";
		return -ENOMEM;
	}
	return -ENOENT;
}

/* symbols/module_base.h: never opens the path either. */
uint64_t sym_module_base(const char *path, uint64_t load_bias, int root_pid)
{
	(void)path;
	(void)root_pid;
	return load_bias;
}

/* symbols/module_file.h: the path as it is (no /proc/PID/maps read for a
 * pid the input names). */
int sym_module_file(int pid, const char *path, char *file, size_t len)
{
	(void)pid;
	snprintf(file, len, "%s", path);
	return 0;
}

/*
 * symbols/params.h: the fuzz targets never open a module either, so no
 * function has DWARF parameters here (values show as argN), which is
 * what tread does with a module it cannot read.
 */
#include "symbols/params.h"

int sym_params_open(const char *path, struct sym_params_file **out)
{
	(void)path;
	*out = NULL;
	return -ENOENT;
}

void sym_params_close(struct sym_params_file *f)
{
	(void)f;
}

int sym_params_of(struct sym_params_file *f, uint64_t vaddr, struct sym_func *out)
{
	(void)f;
	(void)vaddr;
	memset(out, 0, sizeof(*out));
	return 0;
}

void sym_func_free(struct sym_func *fn)
{
	memset(fn, 0, sizeof(*fn));
}

const char *sym_enum_name(const struct sym_enumerator *e, size_t n, int64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].value == v)
			return e[i].name;
	return NULL;
}
