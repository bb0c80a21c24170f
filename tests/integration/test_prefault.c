// SPDX-License-Identifier: MIT
/*
 * text_prefault() (attach/text_prefault.c), which the first --enable runs
 * before it stops the process: every text page holding a site of the
 * chosen modules becomes the process's own copy (anonymous in smaps), not
 * one byte of it changes, and the process runs on as before.  Modules not
 * chosen are not touched.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/modules.h"
#include "attach/process/proc.h"
#include "attach/text_prefault.h"
#include "lib/proc_harness.h"

static struct target t;

static void start(void)
{
	target_start(&t, build_path("tests/targets/calltree.pg.O2"));
}

static void stop(void)
{
	cr_expect_eq(WEXITSTATUS(target_stop(&t)), 0);
}

TestSuite(prefault, .init = start, .fini = stop, .timeout = 60);

/* kB of anonymous pages in the mappings of @path (smaps). */
static long anon_kb(pid_t pid, const char *path)
{
	char name[64], line[512];
	long kb = 0, v;
	int in = 0;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/smaps", (int)pid);
	f = fopen(name, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		if (n && line[n - 1] == '\n')
			line[--n] = 0;
		if (strchr(line, '-') == line + strspn(line, "0123456789abcdef"))
			in = n >= strlen(path) && !strcmp(line + n - strlen(path), path);
		else if (in && sscanf(line, "Anonymous: %ld kB", &v) == 1)
			kb += v;
	}
	fclose(f);
	return kb;
}

/* The module of @set that is the target's program; its index. */
static size_t program_of(const struct module_set *set, const char *real)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].path, real))
			return i;
	cr_assert_fail("%s is not among the modules", real);
	return 0;
}

/* The site pages' bytes of module @m, concatenated. */
static unsigned char *site_pages(pid_t pid, const struct module *m, size_t *len)
{
	char name[64];
	size_t cap = m->sites.n * 4096, n = 0;
	unsigned char *buf = malloc(cap ? cap : 1);
	uint64_t last = 0;
	int fd;

	snprintf(name, sizeof(name), "/proc/%d/mem", (int)pid);
	fd = open(name, O_RDONLY);
	cr_assert(fd >= 0 && buf);
	for (size_t i = 0; i < m->sites.n; i++) {
		uint64_t page = (m->sites.v[i].vaddr + m->bias) & ~4095ull;

		if (page == last)
			continue;
		cr_assert_eq(pread(fd, buf + n, 4096, (off_t)page), 4096);
		n += 4096;
		last = page;
	}
	close(fd);
	*len = n;
	return buf;
}

Test(prefault, site_pages_become_private_unchanged)
{
	struct maps maps;
	struct module_set set = { 0 };
	char real[PATH_MAX];
	unsigned char *before, *after;
	size_t prog, len, len2, pages;
	uint8_t *fresh;
	long anon0;

	cr_assert(realpath(build_path("tests/targets/calltree.pg.O2"), real));
	cr_assert_eq(proc_read_maps(t.pid, &maps), 0);
	cr_assert_eq(modules_discover(t.pid, &maps, &set), 0);
	prog = program_of(&set, real);
	cr_assert_gt(set.v[prog].sites.n, 0);
	fresh = calloc(set.n, 1);
	cr_assert(fresh);
	anon0 = anon_kb(t.pid, real);
	before = site_pages(t.pid, &set.v[prog], &len);

	/* nothing chosen: nothing written */
	cr_assert_eq(text_prefault(t.pid, &set, fresh), 0);
	cr_assert_eq(anon_kb(t.pid, real), anon0);

	fresh[prog] = 1;
	pages = text_prefault(t.pid, &set, fresh);
	cr_assert_eq(pages * 4096, len, "%zu pages written, %zu bytes of site pages", pages, len);
	cr_assert_geq(anon_kb(t.pid, real), anon0 + (long)(len / 1024),
		      "%ld kB anonymous, was %ld", anon_kb(t.pid, real), anon0);
	after = site_pages(t.pid, &set.v[prog], &len2);
	cr_assert_eq(len2, len);
	cr_assert(!memcmp(before, after, len), "a byte of the code changed");
	/* and it runs its traced functions as before */
	cr_assert_str_eq(target_cmd(&t, "run 3"), "done");

	free(before);
	free(after);
	free(fresh);
	modules_free(&set);
	proc_free_maps(&maps);
}
