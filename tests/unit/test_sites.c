// SPDX-License-Identifier: MIT
/*
 * patcher/sites.c against an independent oracle.
 *
 * For every compile mode the expected site list is rebuilt without any
 * of the code under test: function symbols come from libelf here, and the
 * instructions from binutils' objdump, whose own disassembler and symbol
 * annotation ("call *0x2ba6(%rip)  # 3fd0 <mcount@GLIBC_2.2.5>") name the
 * callee.  sites_find() must return exactly that list: a missed or an
 * invented site fails.
 *
 * Run from the repository root; TATTACH_BUILD names the build directory.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tattach/ring.h"
#include "patcher/sites.h"

static const char *build_dir(void)
{
	const char *b = getenv("TATTACH_BUILD");

	return b && *b ? b : "build";
}

/* ------------------------------------------------------------ oracle */

struct tinsn {
	uint64_t addr;
	uint8_t b[16];
	int n;
	char text[224];
};

struct tfunc {
	char name[128];
	uint64_t addr, size;
};

struct tbin {
	struct tinsn *ins;
	size_t nins;
	struct tfunc *fn;
	size_t nfn;
};

struct texp {
	uint64_t vaddr;
	int kind;
	int len;
	uint8_t b[SITE_MAX_LEN];
	const char *func;
};

enum oracle {
	OR_CALL,	/* a call to mcount/_mcount/__fentry__ */
	OR_NOP,		/* the 5-byte NOP -mnop-mcount leaves */
	OR_PFE,		/* -fpatchable-function-entry's NOPs at the entry */
	OR_NONE,	/* no site at all */
};

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

static int insn_cmp(const void *pa, const void *pb)
{
	const struct tinsn *a = pa, *b = pb;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static void load_objdump(const char *path, struct tbin *tb)
{
	char cmd[512], *line = NULL;
	size_t cap = 0, lcap = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "objdump -d -w --insn-width=16 '%s' 2>/dev/null", path);
	f = popen(cmd, "r");
	cr_assert(f, "popen objdump");
	while (getline(&line, &lcap, f) > 0) {
		struct tinsn *in;
		char *p = line, *end;
		uint64_t a;

		while (*p == ' ')
			p++;
		a = strtoull(p, &end, 16);
		/* "  401286:\t55 ...\tpush %rbp": anything else is a header */
		if (end == p || end[0] != ':' || end[1] != '\t')
			continue;
		if (tb->nins == cap) {
			cap = cap ? cap * 2 : 4096;
			tb->ins = realloc(tb->ins, cap * sizeof(*tb->ins));
			cr_assert(tb->ins);
		}
		in = &tb->ins[tb->nins];
		memset(in, 0, sizeof(*in));
		in->addr = a;
		p = end + 2;
		while (*p && *p != '\t' && *p != '\n') {
			if (isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]) &&
			    in->n < 16) {
				in->b[in->n++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
				p += 2;
			} else {
				p++;
			}
		}
		if (*p == '\t')
			p++;
		snprintf(in->text, sizeof(in->text), "%s", p);
		in->text[strcspn(in->text, "\n")] = '\0';
		tb->nins++;
	}
	free(line);
	cr_assert_eq(pclose(f), 0, "objdump -d %s failed", path);
	cr_assert_gt(tb->nins, 0, "objdump gave no instructions for %s", path);
	qsort(tb->ins, tb->nins, sizeof(*tb->ins), insn_cmp);
}

/* Function symbols of .symtab in executable sections, unique by address. */
static void load_funcs(const char *path, struct tbin *tb)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;
	Elf *elf;
	int fd;

	cr_assert_neq(elf_version(EV_CURRENT), EV_NONE);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "open %s", path);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert(elf);
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		GElf_Shdr sh;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Shdr tsh;
			GElf_Sym s;
			int dup = 0;

			gelf_getsym(d, (int)i, &s);
			if (GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_size ||
			    s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE)
				continue;
			gelf_getshdr(elf_getscn(elf, s.st_shndx), &tsh);
			if (!(tsh.sh_flags & SHF_EXECINSTR))
				continue;
			for (size_t k = 0; k < tb->nfn && !dup; k++)
				dup = tb->fn[k].addr == s.st_value;
			if (dup)
				continue;
			if (tb->nfn == cap) {
				cap = cap ? cap * 2 : 256;
				tb->fn = realloc(tb->fn, cap * sizeof(*tb->fn));
				cr_assert(tb->fn);
			}
			snprintf(tb->fn[tb->nfn].name, sizeof(tb->fn[0].name), "%s",
				 elf_strptr(elf, sh.sh_link, s.st_name));
			tb->fn[tb->nfn].addr = s.st_value;
			tb->fn[tb->nfn].size = s.st_size;
			tb->nfn++;
		}
	}
	elf_end(elf);
	close(fd);
	cr_assert_gt(tb->nfn, 0, "%s has no function symbols", path);
}

static size_t first_insn(const struct tbin *tb, uint64_t addr)
{
	size_t lo = 0, hi = tb->nins;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (tb->ins[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int is_text(const struct tinsn *in, const char *prefix)
{
	return !strncmp(in->text, prefix, strlen(prefix));
}

static int oracle_site(const struct tbin *tb, const struct tfunc *fn, enum oracle o,
		       struct texp *e)
{
	uint64_t end = fn->addr + fn->size;
	size_t i = first_insn(tb, fn->addr);
	int prologue = 0;

	memset(e, 0, sizeof(*e));
	e->func = fn->name;
	if (o == OR_NONE)
		return 0;
	if (o == OR_CALL) {
		for (; i < tb->nins && tb->ins[i].addr < end; i++) {
			const struct tinsn *in = &tb->ins[i];

			if (!strstr(in->text, "call"))
				continue;
			if (strstr(in->text, "<__fentry__"))
				e->kind = TAT_SITE_FENTRY;
			else if (strstr(in->text, "<mcount") || strstr(in->text, "<_mcount"))
				e->kind = TAT_SITE_MCOUNT;
			else
				continue;
			e->vaddr = in->addr;
			e->len = in->n;
			memcpy(e->b, in->b, in->n < SITE_MAX_LEN ? in->n : SITE_MAX_LEN);
			return 1;
		}
		return 0;
	}
	if (i < tb->nins && tb->ins[i].addr == fn->addr && is_text(&tb->ins[i], "endbr64"))
		i++;
	if (o == OR_NOP) {
		/* After -mfentry it is the first instruction, else it follows
		 * the prologue: frame pointer, saved registers, frame. */
		while (i < tb->nins && tb->ins[i].addr < end &&
		       (is_text(&tb->ins[i], "push   %r") ||
			is_text(&tb->ins[i], "mov    %rsp,%rbp") ||
			is_text(&tb->ins[i], "sub    $"))) {
			prologue = 1;
			i++;
		}
		if (i >= tb->nins || tb->ins[i].addr >= end || tb->ins[i].n != 5 ||
		    memcmp(tb->ins[i].b, "\x0f\x1f\x44\x00\x00", 5))
			return 0;
		e->vaddr = tb->ins[i].addr;
		e->kind = prologue ? TAT_SITE_MCOUNT : TAT_SITE_FENTRY;
		e->len = 5;
		memcpy(e->b, tb->ins[i].b, 5);
		return 1;
	}
	/* OR_PFE: five one-byte NOPs (gcc) or one 5-byte NOP (clang) */
	if (i >= tb->nins || tb->ins[i].addr >= end)
		return 0;
	if (tb->ins[i].n == 5 && !memcmp(tb->ins[i].b, "\x0f\x1f\x44\x00", 4)) {
		memcpy(e->b, tb->ins[i].b, 5);
	} else {
		if (i + 5 > tb->nins)
			return 0;
		for (int k = 0; k < 5; k++)
			if (tb->ins[i + k].n != 1 || tb->ins[i + k].b[0] != 0x90)
				return 0;
		memset(e->b, 0x90, 5);
	}
	e->vaddr = tb->ins[i].addr;
	e->kind = TAT_SITE_FENTRY;
	e->len = 5;
	return 1;
}

static const struct tfunc *func_named(const struct tbin *tb, const char *name)
{
	const struct tfunc *found = NULL;
	int n = 0;

	for (size_t i = 0; i < tb->nfn; i++)
		if (!strcmp(tb->fn[i].name, name)) {
			found = &tb->fn[i];
			n++;
		}
	cr_assert_eq(n, 1, "%d function symbols named %s", n, name);
	return found;
}

/* Facts checked against libelf's own note and program header readers. */
static void check_facts(const char *path, const struct elf_facts *f)
{
	Elf_Scn *scn = NULL;
	int fd, found_bid = 0, found_x = 0;
	GElf_Ehdr eh;
	size_t nph;
	Elf *elf;

	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert(elf);
	gelf_getehdr(elf, &eh);
	cr_expect_eq(f->is_pie_or_dso, eh.e_type == ET_DYN, "%s: is_pie_or_dso", path);
	elf_getphdrnum(elf, &nph);
	for (size_t i = 0; i < nph && !found_x; i++) {
		GElf_Phdr ph;

		gelf_getphdr(elf, i, &ph);
		if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		found_x = 1;
		cr_expect_eq(f->exec_vaddr, ph.p_vaddr, "%s: exec_vaddr", path);
		cr_expect_eq(f->exec_offset, ph.p_offset, "%s: exec_offset", path);
		cr_expect_eq(f->exec_memsz, ph.p_memsz, "%s: exec_memsz", path);
	}
	cr_expect(found_x);
	while ((scn = elf_nextscn(elf, scn)) && !found_bid) {
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t off = 0, name_off, desc_off;
		GElf_Shdr sh;
		GElf_Nhdr nh;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_NOTE)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)d->d_buf + name_off, "GNU", 4))
				continue;
			found_bid = 1;
			cr_expect_eq(f->build_id_len, nh.n_descsz, "%s: build id length", path);
			cr_expect(!memcmp(f->build_id, (char *)d->d_buf + desc_off,
					  nh.n_descsz), "%s: build id bytes", path);
			break;
		}
	}
	cr_expect(found_bid, "%s: test binary has no build id", path);
	elf_end(elf);
	close(fd);
}

static const char *const named[] = {
	"leaf", "a", "b", "c", "work", "thread_main", "dispatch", "main",
};

static void bytes_str(char *buf, size_t len, const uint8_t *b, int n)
{
	buf[0] = '\0';
	for (int i = 0; i < n && (size_t)(3 * i + 3) < len; i++)
		sprintf(buf + 3 * i, "%02x ", b[i]);
}

/*
 * The whole check for one binary: the result equals the oracle's list
 * exactly, and each named calltree function holds exactly one site of
 * the expected kind and length.
 */
static void check_binary(const char *path, enum sites_source source, enum oracle o,
			 int kind, int len)
{
	struct tbin tb = { 0 };
	struct elf_facts facts;
	struct site_list l;
	struct texp *exp;
	size_t nexp = 0;
	char err[256];
	int ret;

	cr_assert_eq(access(path, R_OK), 0, "%s missing (make targets)", path);
	load_funcs(path, &tb);
	load_objdump(path, &tb);
	exp = calloc(tb.nfn + 1, sizeof(*exp));
	cr_assert(exp);
	for (size_t i = 0; i < tb.nfn; i++)
		if (oracle_site(&tb, &tb.fn[i], o, &exp[nexp]))
			nexp++;

	ret = sites_find(path, &l, &facts, err, sizeof(err));
	cr_assert_eq(ret, 0, "sites_find(%s) = %d: %s", path, ret, err);
	cr_expect_eq(l.source, source, "%s: source %s, expected %s", path,
		     sites_source_name(l.source), sites_source_name(source));
	for (size_t i = 1; i < l.n; i++)
		cr_assert_lt(l.v[i - 1].vaddr, l.v[i].vaddr, "%s: not sorted/unique", path);

	/* Nothing missed... */
	for (size_t i = 0; i < nexp; i++) {
		const struct site *s = NULL;
		char want[32], got[32];

		for (size_t k = 0; k < l.n && !s; k++)
			if (l.v[k].vaddr == exp[i].vaddr)
				s = &l.v[k];
		cr_expect(s, "%s: missed the site of %s at %#lx", path, exp[i].func,
			  (unsigned long)exp[i].vaddr);
		if (!s)
			continue;
		bytes_str(want, sizeof(want), exp[i].b, exp[i].len);
		bytes_str(got, sizeof(got), s->orig, s->len);
		cr_expect_eq(s->kind, exp[i].kind, "%s: %s kind %d want %d", path,
			     exp[i].func, s->kind, exp[i].kind);
		cr_expect_eq(s->len, exp[i].len, "%s: %s len %d want %d", path,
			     exp[i].func, s->len, exp[i].len);
		cr_expect(s->len == exp[i].len && !memcmp(s->orig, exp[i].b, s->len),
			  "%s: %s orig [%s] want [%s]", path, exp[i].func, got, want);
	}
	/* ...and nothing invented. */
	for (size_t k = 0; k < l.n; k++) {
		int known = 0;

		for (size_t i = 0; i < nexp && !known; i++)
			known = exp[i].vaddr == l.v[k].vaddr;
		cr_expect(known, "%s: invented a site at %#lx", path,
			  (unsigned long)l.v[k].vaddr);
	}
	cr_expect_eq(l.n, nexp, "%s: %zu sites, oracle counts %zu", path, l.n, nexp);

	if (o != OR_NONE) {
		cr_expect_eq(l.skipped, 0, "%s: %zu skipped", path, l.skipped);
		cr_expect_geq(nexp, sizeof(named) / sizeof(named[0]), "%s: oracle found %zu",
			      path, nexp);
		for (size_t j = 0; j < sizeof(named) / sizeof(named[0]); j++) {
			const struct tfunc *fn = func_named(&tb, named[j]);
			const struct site *s = NULL;
			int in = 0;

			for (size_t k = 0; k < l.n; k++)
				if (l.v[k].vaddr >= fn->addr &&
				    l.v[k].vaddr < fn->addr + fn->size) {
					s = &l.v[k];
					in++;
				}
			cr_expect_eq(in, 1, "%s: %d sites in %s", path, in, named[j]);
			if (!s)
				continue;
			cr_expect_eq(s->kind, kind, "%s: %s kind %d", path, named[j], s->kind);
			cr_expect_eq(s->len, len, "%s: %s len %d", path, named[j], s->len);
		}
	} else {
		/* Every listed entry is accounted for as skipped. */
		cr_expect_geq(l.skipped, sizeof(named) / sizeof(named[0]),
			      "%s: only %zu skipped", path, l.skipped);
	}
	check_facts(path, &facts);

	sites_free(&l);
	cr_expect_eq(l.v, NULL);
	cr_expect_eq(l.n, 0);
	free(exp);
	free(tb.ins);
	free(tb.fn);
}

/* ---------------------------------------------- the prebuilt targets */

/* Plain arrays, no pointers: criterion copies parameters across processes. */
struct mode_case {
	char mode[24];
	char opt[4];
	int source;
	int oracle;
	int kind;
	int len;
};

#define MODE(m, src, orc, k, l) \
	{ m, "O0", src, orc, k, l }, { m, "O2", src, orc, k, l }

static struct mode_case mode_cases[] = {
	MODE("pg",            SITES_FROM_DISASM,     OR_CALL, TAT_SITE_MCOUNT, 6),
	MODE("pg-nopie",      SITES_FROM_DISASM,     OR_CALL, TAT_SITE_MCOUNT, 5),
	MODE("fentry",        SITES_FROM_DISASM,     OR_CALL, TAT_SITE_FENTRY, 6),
	MODE("fentry-nopie",  SITES_FROM_DISASM,     OR_CALL, TAT_SITE_FENTRY, 5),
	MODE("nop-mcount",    SITES_FROM_MCOUNT_LOC, OR_NOP,  TAT_SITE_FENTRY, 5),
	MODE("record-mcount", SITES_FROM_MCOUNT_LOC, OR_CALL, TAT_SITE_MCOUNT, 5),
	MODE("pfe",           SITES_FROM_PATCHABLE,  OR_PFE,  TAT_SITE_FENTRY, 5),
};

ParameterizedTestParameters(sites, targets)
{
	return cr_make_param_array(struct mode_case, mode_cases,
				   sizeof(mode_cases) / sizeof(mode_cases[0]));
}

ParameterizedTest(struct mode_case *c, sites, targets)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/tests/targets/calltree.%s.%s", build_dir(),
		 c->mode, c->opt);
	check_binary(path, c->source, c->oracle, c->kind, c->len);
}

/* ------------------------------------ forms built here, at test time */

/*
 * Forms the Makefile targets do not cover: static executables (ld turns
 * `call *mcount@GOTPCREL` into `addr32 call`), -fcf-protection's endbr64
 * and IBT PLT, DSOs, clang's NOPs, lld (which leaves RELA targets 0 in
 * the file), and NOPs placed before the entry.  Skipped when the
 * compiler, linker or static libc is missing.
 */
struct build_case {
	char name[32];
	char cc[8];
	char flags[128];
	char needs[48];			/* a file that must exist, or "" */
	int source;
	int oracle;
	int kind;
	int len;
};

static struct build_case build_cases[] = {
	{ "static", "gcc", "-O2 -pg -static", "/usr/lib/x86_64-linux-gnu/libc.a",
	  SITES_FROM_DISASM, OR_CALL, TAT_SITE_MCOUNT, 6 },
	{ "static-record", "gcc", "-O2 -pg -mrecord-mcount -static",
	  "/usr/lib/x86_64-linux-gnu/libc.a",
	  SITES_FROM_MCOUNT_LOC, OR_CALL, TAT_SITE_MCOUNT, 6 },
	{ "fentry-cet-ibtplt", "gcc",
	  "-O2 -pg -mfentry -fcf-protection -fno-pic -no-pie -Wl,-z,ibtplt", "",
	  SITES_FROM_DISASM, OR_CALL, TAT_SITE_FENTRY, 5 },
	{ "fentry-cet-pie", "gcc", "-O2 -pg -mfentry -fcf-protection", "",
	  SITES_FROM_DISASM, OR_CALL, TAT_SITE_FENTRY, 6 },
	{ "fentry-dso", "gcc", "-O2 -pg -mfentry -fPIC -shared", "",
	  SITES_FROM_DISASM, OR_CALL, TAT_SITE_FENTRY, 6 },
	{ "pg-dso", "gcc", "-O0 -pg -fPIC -shared", "",
	  SITES_FROM_DISASM, OR_CALL, TAT_SITE_MCOUNT, 6 },
	{ "nop-mcount-noentry", "gcc", "-O0 -pg -mnop-mcount -mrecord-mcount -fno-pic -no-pie",
	  "", SITES_FROM_MCOUNT_LOC, OR_NOP, TAT_SITE_MCOUNT, 5 },
	{ "nop-fentry-cet", "gcc",
	  "-O2 -pg -mfentry -mnop-mcount -mrecord-mcount -fcf-protection -fno-pic -no-pie",
	  "", SITES_FROM_MCOUNT_LOC, OR_NOP, TAT_SITE_FENTRY, 5 },
	{ "record-pie-lld", "gcc", "-O2 -pg -mrecord-mcount -fuse-ld=lld -Wl,-z,notext",
	  "/usr/bin/ld.lld", SITES_FROM_MCOUNT_LOC, OR_CALL, TAT_SITE_MCOUNT, 6 },
	{ "pfe-cet", "gcc", "-O2 -fpatchable-function-entry=5 -fcf-protection", "",
	  SITES_FROM_PATCHABLE, OR_PFE, TAT_SITE_FENTRY, 5 },
	{ "pfe-before-entry", "gcc", "-O2 -fpatchable-function-entry=7,2", "",
	  SITES_FROM_PATCHABLE, OR_NONE, 0, 0 },
	{ "clang-pfe", "clang", "-O2 -fpatchable-function-entry=5", "",
	  SITES_FROM_PATCHABLE, OR_PFE, TAT_SITE_FENTRY, 5 },
	{ "clang-pfe-lld", "clang", "-O2 -fpatchable-function-entry=5 -fuse-ld=lld",
	  "/usr/bin/ld.lld", SITES_FROM_PATCHABLE, OR_PFE, TAT_SITE_FENTRY, 5 },
	{ "clang-pg", "clang", "-O2 -pg", "",
	  SITES_FROM_DISASM, OR_CALL, TAT_SITE_MCOUNT, 5 },
	{ "clang-fentry", "clang", "-O2 -pg -mfentry", "",
	  SITES_FROM_DISASM, OR_CALL, TAT_SITE_FENTRY, 5 },
};

ParameterizedTestParameters(sites, built)
{
	return cr_make_param_array(struct build_case, build_cases,
				   sizeof(build_cases) / sizeof(build_cases[0]));
}

/* The build directory, removed by the fini hook even when an assert fails. */
static char built_dir[64];

static void built_cleanup(void)
{
	char cmd[128];

	if (!built_dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", built_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", built_dir);
	built_dir[0] = '\0';
}

ParameterizedTest(struct build_case *c, sites, built, .fini = built_cleanup)
{
	char *dir = built_dir, out[128], cmd[1024];
	int rc;

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", c->cc);
	if (system(cmd) != 0)
		cr_skip_test("%s not installed", c->cc);
	if (c->needs[0] && access(c->needs, R_OK) != 0)
		cr_skip_test("%s not installed", c->needs);
	snprintf(built_dir, sizeof(built_dir), "/tmp/test_sites.XXXXXX");
	cr_assert(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/calltree", dir);
	snprintf(cmd, sizeof(cmd),
		 "%s -std=gnu11 -g -pthread -w %s -o %s tests/targets/calltree.c -lm >%s/log 2>&1",
		 c->cc, c->flags, out, dir);
	rc = system(cmd);
	if (rc != 0) {
		snprintf(cmd, sizeof(cmd), "cat %s/log >&2", dir);
		if (system(cmd)) {
			/* only the log is lost */
		}
		cr_skip_test("cannot build %s (%s %s)", c->name, c->cc, c->flags);
	}
	check_binary(out, c->source, c->oracle, c->kind, c->len);
}

/* ------------------------------------------------------ the rest */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

Test(sites, libc_is_fast_and_empty)
{
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	struct elf_facts facts;
	struct site_list l;
	char err[256];
	double t0, t1;
	int ret;

	t0 = now_ms();
	ret = sites_find(libc, &l, &facts, err, sizeof(err));
	t1 = now_ms();
	cr_assert_eq(ret, 0, "%s", err);
	cr_expect_eq(l.n, 0);
	/* libc defines mcount and imports none: no disassembly at all. */
	cr_expect_eq(l.source, SITES_FROM_NONE, "source %s", sites_source_name(l.source));
	cr_expect_lt(t1 - t0, 100.0, "libc took %.1f ms", t1 - t0);
	cr_expect_eq(facts.is_pie_or_dso, 1);
	cr_expect_gt(facts.build_id_len, 0);
	cr_expect_gt(facts.exec_memsz, 0);
	sites_free(&l);
}

Test(sites, not_elf)
{
	struct elf_facts facts;
	struct site_list l;
	char err[256];
	int ret;

	ret = sites_find("tests/targets/calltree.c", &l, &facts, err, sizeof(err));
	cr_expect_eq(ret, -ENOEXEC);
	cr_expect_gt(strlen(err), 0);
	cr_expect(strstr(err, "calltree.c"), "message names the file: %s", err);
	cr_expect_null(strchr(err, '\n'), "one line: %s", err);
	cr_expect_eq(l.n, 0);
	cr_expect_null(l.v);
	sites_free(&l);
}

Test(sites, missing)
{
	struct site_list l;
	char err[256];

	cr_expect_eq(sites_find("/nonexistent/tattach/file", &l, NULL, err, sizeof(err)),
		     -ENOENT);
	cr_expect_gt(strlen(err), 0);
	cr_expect_eq(l.n, 0);
	sites_free(&l);
}

Test(sites, directory)
{
	struct site_list l;
	char err[256];

	cr_expect_eq(sites_find("tests", &l, NULL, err, sizeof(err)), -ENOEXEC);
	cr_expect_gt(strlen(err), 0);
}

/* Copy the pg target, damaged by @mangle, and run sites_find() on it. */
static int find_in_copy(void (*mangle)(uint8_t *buf, size_t *len), struct site_list *l,
			char *err, size_t errlen)
{
	char src[512], dst[] = "/tmp/test_sites.elf.XXXXXX";
	uint8_t *buf;
	size_t len;
	FILE *f;
	int fd, ret;

	snprintf(src, sizeof(src), "%s/tests/targets/calltree.pg.O2", build_dir());
	f = fopen(src, "rb");
	cr_assert(f, "%s missing (make targets)", src);
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(len);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, len, f), len);
	fclose(f);
	mangle(buf, &len);
	fd = mkstemp(dst);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
	ret = sites_find(dst, l, NULL, err, errlen);
	unlink(dst);
	return ret;
}

static void to_aarch64(uint8_t *buf, size_t *len)
{
	(void)len;
	buf[18] = 183;			/* e_machine = EM_AARCH64 */
	buf[19] = 0;
}

static void to_32bit(uint8_t *buf, size_t *len)
{
	(void)len;
	buf[EI_CLASS] = ELFCLASS32;
}

static void truncate_after_header(uint8_t *buf, size_t *len)
{
	(void)buf;
	*len = 200;			/* headers point far past the end */
}

Test(sites, wrong_machine)
{
	struct site_list l;
	char err[256];

	cr_expect_eq(find_in_copy(to_aarch64, &l, err, sizeof(err)), -ENOEXEC);
	cr_expect(strstr(err, "x86-64"), "%s", err);
	cr_expect_eq(find_in_copy(to_32bit, &l, err, sizeof(err)), -ENOEXEC);
	cr_expect_gt(strlen(err), 0);
}

Test(sites, truncated)
{
	struct site_list l;
	char err[256];
	int ret;

	/* A broken file must give an error or an empty list, never a crash. */
	ret = find_in_copy(truncate_after_header, &l, err, sizeof(err));
	cr_expect(ret == -ENOEXEC || (ret == 0 && l.n == 0), "ret %d n %zu", ret, l.n);
	sites_free(&l);
}

Test(sites, source_names)
{
	cr_expect_str_eq(sites_source_name(SITES_FROM_NONE), "none");
	cr_expect_str_eq(sites_source_name(SITES_FROM_PATCHABLE), "__patchable_function_entries");
	cr_expect_str_eq(sites_source_name(SITES_FROM_MCOUNT_LOC), "__mcount_loc");
	cr_expect_str_eq(sites_source_name(SITES_FROM_DISASM), "disassembly");
	cr_expect_not_null(sites_source_name((enum sites_source)42));
}

Test(sites, free_empty)
{
	struct site_list l = { 0 };

	sites_free(&l);
	sites_free(NULL);
	cr_expect_null(l.v);
}
