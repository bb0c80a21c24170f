// SPDX-License-Identifier: MIT
/*
 * Saved traces (consumer/input/savefile.c): a saved copy of a ring reads
 * exactly like the ring, and a damaged or hostile saved file is refused
 * with one line, never a crash.
 *
 * The rings are the fuzz seeds (tests/fuzz/corpus/fuzz_ring/, built by
 * tests/fuzz/mkcorpus.c from ringgen): nesting, threads, flight-mode
 * wrap, full rings, slot reuse, TSC carries, bad sites, bad words,
 * consumed tails, tiny rings, the real page layout, the MONO clock.
 * Their module paths do not exist, so names are addresses on both sides.
 * Run from the repository root (as make check does).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/input/savefile.h"
#include "consumer/session.h"
#include "consumer/input/trace_input.h"

#define SEEDS "tests/fuzz/corpus/fuzz_ring"

static char dir[] = "/tmp/test_savefile.XXXXXX";

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(savefile, .init = make_dir, .fini = remove_dir);

/* What tread prints for @path (graph, or --report), errors as "ERR: ...". */
static char *tread_text(const char *path, bool report, enum tread_time_mode time)
{
	struct tread_session_config c = { .path = path, .report = report, .time = time };
	char *text = NULL, err[512];
	size_t len = 0;
	int ret;

	c.out = open_memstream(&text, &len);
	cr_assert_not_null(c.out);
	ret = tread_session_run(&c, err, sizeof(err));
	if (ret)
		fprintf(c.out, "ERR: %s\n", err);
	fclose(c.out);
	return text;
}

static void save_ring(const char *ring, const char *saved)
{
	struct tread_input_config ic = { 0 };
	struct tread_input *in;
	char err[512];

	cr_assert_eq(tread_input_open(ring, &ic, &in, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tread_save(in, saved, err, sizeof(err)), 0, "%s", err);
	tread_input_close(in);
}

Test(savefile, every_seed_reads_the_same_saved)
{
	struct dirent *de;
	DIR *d = opendir(SEEDS);
	int n = 0;

	cr_assert_not_null(d, "run from the repository root");
	while ((de = readdir(d))) {
		char ring[512], saved[512];

		if (de->d_name[0] == '.')
			continue;
		snprintf(ring, sizeof(ring), "%s/%s", SEEDS, de->d_name);
		snprintf(saved, sizeof(saved), "%s/%s.tsave", dir, de->d_name);
		save_ring(ring, saved);
		for (int mode = 0; mode < 4; mode++) {
			bool report = mode == 3;
			enum tread_time_mode time = mode == 1 ? TREAD_TIME_ABS :
						    mode == 2 ? TREAD_TIME_MONO : TREAD_TIME_NONE;
			char *want = tread_text(ring, report, time);
			char *got = tread_text(saved, report, time);

			cr_assert_null(strstr(want, "ERR:"), "%s: %s", ring, want);
			cr_assert_str_eq(got, want, "%s, mode %d", de->d_name, mode);
			free(want);
			free(got);
		}
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 10);
}

/* ----------------------------------------------------------- damage */

static uint8_t *saved_image(size_t *len)
{
	char saved[512];
	uint8_t *buf;
	FILE *f;

	snprintf(saved, sizeof(saved), "%s/base.tsave", dir);
	save_ring(SEEDS "/seed-02-threads", saved);
	f = fopen(saved, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len + 64);	/* room for an appended section */
	cr_assert_eq(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* Open @buf as a saved trace; on success read all of it (graph). */
static int open_image(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct tread_input *in;
	int ret = tread_input_open_saved_buffer("x", buf, len, &in, err, errlen);

	if (ret) {
		cr_assert_neq(err[0], 0);
		cr_assert_null(strchr(err, '\n'), "not one line: %s", err);
		return ret;
	}
	for (uint32_t s = 0; s < in->ring->site_cap + 2; s++)
		cr_assert_not_null(tread_site_name(in->names, s));
	for (size_t i = 0; i < in->nthreads; i++)
		cr_assert_lt(strlen(in->threads[i].name), TREAD_COMM_MAX);
	tread_input_close(in);
	return 0;
}

static struct tread_save_header *hdr(uint8_t *buf)
{
	return (struct tread_save_header *)buf;
}

/* Offset of the first section of @type, or 0. */
static size_t find_section(uint8_t *buf, uint32_t type)
{
	size_t off = hdr(buf)->header_size;

	for (uint32_t i = 0; i < hdr(buf)->section_count; i++) {
		struct tread_save_section *s = (void *)(buf + off);

		if (s->type == type)
			return off;
		off += sizeof(*s) + ((s->size + 7) & ~7ull);
	}
	return 0;
}

Test(savefile, damage_gives_one_line)
{
	char err[512];
	size_t len, off;
	uint8_t *buf = saved_image(&len), *copy = malloc(len + 64);
	struct tread_save_section *s;

	cr_assert_eq(open_image(buf, len, err, sizeof(err)), 0, "%s", err);

	cr_assert_eq(open_image(buf, len - 1, err, sizeof(err)), -EBADMSG);
	{
		char want[128];

		snprintf(want, sizeof(want), "file_size %zu does not match the %zu-byte "
			 "file (truncated?)", len, len - 1);
		cr_assert_str_eq(err, want);
	}
	cr_assert_eq(open_image(buf, 7, err, sizeof(err)), -EBADMSG);
	cr_assert_str_eq(err, "not a saved trace (bad magic)");

	memcpy(copy, buf, len);
	hdr(copy)->major = 2;
	hdr(copy)->minor = 7;
	cr_assert_eq(open_image(copy, len, err, sizeof(err)), -EPROTONOSUPPORT);
	cr_assert_str_eq(err, "saved trace format 2.7, this tread reads format 1: "
			 "use a newer tread");

	/* a section claiming more than the file has */
	memcpy(copy, buf, len);
	off = find_section(copy, TREAD_SEC_SITES);
	cr_assert_neq(off, 0);
	s = (void *)(copy + off);
	s->size = 1ull << 62;
	cr_assert_eq(open_image(copy, len, err, sizeof(err)), -EBADMSG);
	cr_assert_not_null(strstr(err, "(type 4, 4611686018427387904 bytes) lies outside "
				  "the file"), "%s", err);

	/* a name pointing past the strings */
	memcpy(copy, buf, len);
	{
		struct tread_save_site *e = (void *)(copy + off + sizeof(*s) +
						     sizeof(struct tread_save_sites));

		e->name_off = 100000;
		cr_assert_eq(open_image(copy, len, err, sizeof(err)), -EBADMSG);
		cr_assert_not_null(strstr(err, "lies outside its strings"), "%s", err);
	}

	/* a site entry naming a site the ring does not have */
	memcpy(copy, buf, len);
	{
		struct tread_save_site *e = (void *)(copy + off + sizeof(*s) +
						     sizeof(struct tread_save_sites));

		e->site = 0;
		cr_assert_eq(open_image(copy, len, err, sizeof(err)), -EBADMSG);
		cr_assert_not_null(strstr(err, "site 0 is not in the site table"), "%s", err);
	}

	/* the ring section's image is checked like a ring file */
	memcpy(copy, buf, len);
	off = find_section(copy, TREAD_SEC_RING);
	((struct tat_ring_header *)(copy + off + sizeof(*s)))->data_off += 8;
	cr_assert_eq(open_image(copy, len, err, sizeof(err)), -EBADMSG);
	cr_assert_not_null(strstr(err, "ring section: "), "%s", err);
	free(copy);
	free(buf);
}

Test(savefile, unknown_sections_are_skipped_unless_required)
{
	char err[512];
	size_t len;
	uint8_t *buf = saved_image(&len);
	struct tread_save_section extra = { .type = 99, .size = 5 };

	/* a later minor version's section: read without it */
	memcpy(buf + len, &extra, sizeof(extra));
	memcpy(buf + len + sizeof(extra), "hello\0\0\0", 8);
	hdr(buf)->section_count++;
	hdr(buf)->file_size = len + sizeof(extra) + 8;
	hdr(buf)->minor = 3;
	cr_assert_eq(open_image(buf, len + sizeof(extra) + 8, err, sizeof(err)), 0, "%s", err);
	/* one this tread must understand to read the trace */
	((struct tread_save_section *)(buf + len))->flags = TREAD_SEC_REQUIRED;
	cr_assert_eq(open_image(buf, len + sizeof(extra) + 8, err, sizeof(err)),
		     -EPROTONOSUPPORT);
	cr_assert_str_eq(err, "section type 99 is needed to read this trace and unknown "
			 "to this tread: use a newer tread");
	free(buf);
}

/* Deterministic random damage: an error or a full read, never a crash. */
Test(savefile, random_damage)
{
	char err[512];
	size_t len;
	uint8_t *buf = saved_image(&len), *copy = malloc(len);
	unsigned seed = 12345, ok = 0, refused = 0;

	for (int round = 0; round < 3000; round++) {
		int flips = 1 + round % 8;

		memcpy(copy, buf, len);
		for (int i = 0; i < flips; i++) {
			size_t at;

			seed = seed * 1103515245u + 12345u;
			/* bias towards the header and section headers */
			at = round % 3 ? (seed >> 8) % len : (seed >> 8) % 160;
			copy[at] ^= (uint8_t)(1u << ((seed >> 4) % 8));
		}
		if (open_image(copy, len, err, sizeof(err)) == 0)
			ok++;
		else
			refused++;
	}
	cr_assert_gt(ok, 0);
	cr_assert_gt(refused, 0);
	free(copy);
	free(buf);
}

/* The site table keeps its room only when a corrupt event needs it. */
Test(savefile, compact_site_table_unless_needed)
{
	static const struct { const char *seed; bool keeps; } cases[] = {
		{ "seed-01-calltree", false },
		{ "seed-10-bad-sites", true },	/* names sites past the count */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tread_input_config ic = { 0 };
		struct tread_input *orig, *saved;
		char ring[256], path[512], err[512];

		snprintf(ring, sizeof(ring), SEEDS "/%s", cases[i].seed);
		snprintf(path, sizeof(path), "%s/%s.tsave", dir, cases[i].seed);
		save_ring(ring, path);
		cr_assert_eq(tread_input_open(ring, &ic, &orig, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(tread_input_open(path, &ic, &saved, err, sizeof(err)), 0, "%s", err);
		cr_assert(saved->saved);
		cr_assert_eq(saved->ring->hdr.site_count, orig->ring->hdr.site_count);
		cr_assert_eq(saved->ring->hdr.site_cap, cases[i].keeps ?
			     orig->ring->hdr.site_cap : orig->ring->hdr.site_count,
			     "%s", cases[i].seed);
		cr_assert_lt(saved->ring->hdr.site_count, orig->ring->hdr.site_cap);
		tread_input_close(saved);
		tread_input_close(orig);
	}
}
