// SPDX-License-Identifier: MIT
/*
 * The --html page as a file: self-contained (nothing it would fetch), the
 * trace in it decodes back to the model's calls, names are escaped, and
 * the failures (no calls, unwritable path, bad model) leave nothing behind.
 * tests/integration/test_html_browser.c opens the page in a browser.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consumer/export/html.h"
#include "lib/html_model.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tattach-html-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path))
				rmdir(path);
		}
	closedir(d);
	rmdir(dir);
}

TestSuite(export_html, .init = make_dir, .fini = remove_dir);

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static char *write_model_page(const char *name)
{
	struct tread_xtrace x;
	char err[256] = "", path[256];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	xmodel_build(&x);
	rc = tread_export_html(&x, path, err, sizeof(err));
	xmodel_free(&x);
	cr_assert_eq(rc, 0, "tread_export_html: %d %s", rc, err);
	return slurp(path, NULL);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The text of <script ... id="ID">...</script>, in a new string. */
static char *script_text(const char *page, const char *id)
{
	char open[64];
	const char *a, *b;

	snprintf(open, sizeof(open), "id=\"%s\">", id);
	a = strstr(page, open);
	cr_assert_not_null(a, "no element %s", id);
	a += strlen(open);
	b = strstr(a, "</script>");
	cr_assert_not_null(b);
	return strndup(a, (size_t)(b - a));
}

static size_t base64_decode(const char *s, unsigned char *out)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *s && *s != '='; s++) {
		const char *d = strchr(digits, *s);

		if (*s == '\n')
			continue;
		cr_assert(d && *s, "not base64: %c", *s);
		acc = acc << 6 | (uint32_t)(d - digits);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static uint64_t varint(const unsigned char **p)
{
	uint64_t v = 0;
	int shift = 0;

	do {
		v |= (uint64_t)(**p & 0x7f) << shift;
		shift += 7;
	} while (*(*p)++ & 0x80);
	return v;
}

Test(export_html, page_is_self_contained)
{
	char *page = write_model_page("page.html");

	/* nothing the browser would fetch */
	cr_expect_eq(count(page, "http://"), 0);
	cr_expect_eq(count(page, "https://"), 0);
	cr_expect_eq(count(page, "src="), 0);
	cr_expect_eq(count(page, "<link"), 0);
	cr_expect_eq(count(page, "@import"), 0);
	cr_expect_eq(count(page, "url("), 0);
	cr_expect_eq(count(page, "<iframe"), 0);
	cr_expect_eq(count(page, "<img"), 0);
	/* the viewer and the two data blocks, each closed once: the
	 * function called "lookup</script>&x" did not end one early */
	cr_expect_eq(count(page, "<script"), 3);
	cr_expect_eq(count(page, "</script>"), 3);
	cr_expect_eq(count(page, "<canvas"), 1);
	/* and it forbids itself any request */
	cr_expect(strstr(page, "http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
			 "script-src 'unsafe-inline'; style-src 'unsafe-inline'\"") != NULL);
	cr_expect(strncmp(page, "<!DOCTYPE html>", 15) == 0);
	cr_expect(strstr(page, "</html>") != NULL);
	free(page);
}

Test(export_html, meta_names_processes_threads_and_functions)
{
	char *page = write_model_page("page.html");
	char *meta = script_text(page, "tattach-meta");

	cr_expect(strstr(meta, "\"format\":\"tattach-viewer\",\"version\":1,\"t0\":\"1764655200123456789\"") != NULL, "%s", meta);
	/* one call ends unseen, one by longjmp: the flags column is there */
	cr_expect(strstr(meta, "\"columns\":[\"start\",\"dur\",\"func\",\"depth\",\"flags\"]") != NULL, "%s", meta);
	cr_expect(strstr(meta, "{\"pid\":100,\"host\":\"hostA\",\"exe\":\"/usr/bin/server\",\"comm\":\"server\"}") != NULL);
	cr_expect(strstr(meta, "{\"pid\":200,\"host\":\"hostB\",\"exe\":\"/usr/bin/client\",\"comm\":\"client\"}") != NULL);
	cr_expect(strstr(meta, "{\"proc\":0,\"tid\":100,\"name\":\"server\",\"calls\":7,") != NULL, "%s", meta);
	cr_expect(strstr(meta, "{\"proc\":0,\"tid\":101,\"name\":\"worker\",\"calls\":3,") != NULL);
	cr_expect(strstr(meta, "{\"proc\":1,\"tid\":200,\"name\":\"client\",\"calls\":4,") != NULL);
	cr_expect(strstr(meta, "\"lost\":[[5000,7]]") != NULL, "%s", meta);
	cr_expect(strstr(meta, "[\"main\",\"main.c\",10,\"/usr/bin/server\"]") != NULL);
	cr_expect(strstr(meta, "[\"lookup\\u003c/script\\u003e\\u0026x\",\"\",0,\"\"]") != NULL, "%s", meta);
	free(meta);
	free(page);
}

Test(export_html, calls_decode_to_the_model)
{
	char *page = write_model_page("page.html");
	char *meta = script_text(page, "tattach-meta");
	char *b64 = script_text(page, "tattach-calls");
	unsigned char *bin = malloc(strlen(b64));
	size_t nbin = base64_decode(b64, bin), model = 0;
	const unsigned char *p = bin;
	const char *th = meta;

	for (uint32_t t = 0; t < XMODEL_NTHREADS; t++) {
		size_t n, bytes;
		const unsigned char *from = p;
		uint64_t col[5][16], prev = 0;

		th = strstr(th, "\"calls\":");
		cr_assert_not_null(th);
		cr_assert_eq(sscanf(th, "\"calls\":%zu,\"bytes\":%zu", &n, &bytes), 2);
		th++;
		cr_assert_eq(n, xmodel_thread_calls(t));
		for (int c = 0; c < 5; c++)
			for (size_t i = 0; i < n; i++)
				col[c][i] = varint(&p);
		cr_expect_eq((size_t)(p - from), bytes, "thread %u", t);
		for (size_t i = 0; i < n; i++, model++) {
			const struct xmodel_call *m = &xmodel_calls[model];

			prev += col[0][i];
			cr_expect_eq(m->thread, t);
			cr_expect_eq(prev, m->start, "call %zu", model);
			cr_expect_eq(col[1][i], m->end - m->start, "call %zu", model);
			cr_expect_eq(col[2][i], m->func, "call %zu", model);
			cr_expect_eq(col[3][i], m->depth, "call %zu", model);
			cr_expect_eq(col[4][i], m->flags, "call %zu", model);
		}
	}
	cr_expect_eq(model, xmodel_ncalls);
	cr_expect_eq((size_t)(p - bin), nbin, "bytes left over");
	free(bin);
	free(b64);
	free(meta);
	free(page);
}

Test(export_html, no_flags_column_when_no_call_needs_it)
{
	struct tread_xtrace x;
	char err[256] = "", path[256], *page, *meta;

	xmodel_build(&x);
	for (size_t i = 0; i < x.nevents; i++)
		x.events[i].synthetic = x.events[i].unwound = 0;
	snprintf(path, sizeof(path), "%s/plain.html", dir);
	cr_assert_eq(tread_export_html(&x, path, err, sizeof(err)), 0, "%s", err);
	xmodel_free(&x);
	page = slurp(path, NULL);
	meta = script_text(page, "tattach-meta");
	cr_expect(strstr(meta, "\"columns\":[\"start\",\"dur\",\"func\",\"depth\"]") != NULL, "%s", meta);
	free(meta);
	free(page);
}

/* A call still open at the end is closed at its thread's last event. */
Test(export_html, open_call_closed_at_the_threads_last_event)
{
	struct tread_xevent ev[] = {
		{ .real_ns = 1000, .thread = 0, .func = 0, .kind = TREAD_X_ENTRY },
		{ .real_ns = 1200, .thread = 0, .func = 1, .kind = TREAD_X_ENTRY, .depth = 1 },
		{ .real_ns = 1500, .thread = 0, .func = 1, .kind = TREAD_X_EXIT, .depth = 1 },
	};
	struct tread_xproc proc = { .pid = 1, .host = "", .exe = "", .comm = "p" };
	struct tread_xthread thr = { .proc = 0, .tid = 1, .name = "p" };
	struct tread_xfunc fn[2] = { { .name = "a" }, { .name = "b" } };
	struct tread_xtrace x = { &proc, 1, &thr, 1, fn, 2, ev, 3 };
	char err[256] = "", path[256], *page, *b64;
	unsigned char bin[64];
	const unsigned char *p = bin;
	uint64_t v[10];

	snprintf(path, sizeof(path), "%s/open.html", dir);
	cr_assert_eq(tread_export_html(&x, path, err, sizeof(err)), 0, "%s", err);
	page = slurp(path, NULL);
	cr_expect(strstr(page, "\"t0\":\"1000\"") != NULL);
	b64 = script_text(page, "tattach-calls");
	size_t nb = base64_decode(b64, bin);
	cr_assert_eq(nb, 13, "%zu bytes", nb);	/* 200, 500 and 300 take two bytes */
	for (int i = 0; i < 10; i++)
		v[i] = varint(&p);
	/* start deltas 0 200, durations 500 300, funcs 0 1, depths 0 1,
	 * flags 1 (end not seen) 0 */
	uint64_t want[10] = { 0, 200, 500, 300, 0, 1, 0, 1, 1, 0 };
	for (int i = 0; i < 10; i++)
		cr_expect_eq(v[i], want[i], "value %d", i);
	free(b64);
	free(page);
}

static size_t entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(export_html, no_calls_is_an_error_and_writes_nothing)
{
	struct tread_xtrace x;
	char err[256] = "", path[256], want[400];

	xmodel_build(&x);
	x.nevents = 0;
	snprintf(path, sizeof(path), "%s/empty.html", dir);
	cr_expect_eq(tread_export_html(&x, path, err, sizeof(err)), -ENODATA);
	snprintf(want, sizeof(want), "the trace has no calls: nothing to draw, %s not written", path);
	cr_expect_str_eq(err, want);
	cr_expect_eq(entries(), 0);
	xmodel_free(&x);
}

Test(export_html, unwritable_path_is_one_clear_error)
{
	struct tread_xtrace x;
	char err[256] = "", path[256], want[320];

	xmodel_build(&x);
	snprintf(path, sizeof(path), "%s/no/such/dir/t.html", dir);
	cr_expect_eq(tread_export_html(&x, path, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot create: No such file or directory", path);
	cr_expect_str_eq(err, want);

	/* a directory in the way: refused before anything is written */
	snprintf(path, sizeof(path), "%s/adir", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_expect_eq(tread_export_html(&x, path, err, sizeof(err)), -EISDIR, "%s", err);
	snprintf(want, sizeof(want), "%s: is a folder", path);
	cr_expect_str_eq(err, want);
	cr_expect_eq(entries(), 1, "a temporary file was left behind");
	xmodel_free(&x);
}

Test(export_html, replaces_an_existing_file)
{
	char path[256];
	struct stat st;
	FILE *f;
	char *page;

	umask(022);
	snprintf(path, sizeof(path), "%s/page.html", dir);
	f = fopen(path, "w");
	fputs("old", f);
	fclose(f);
	page = write_model_page("page.html");
	cr_expect(strncmp(page, "<!DOCTYPE html>", 15) == 0);
	cr_assert_eq(stat(path, &st), 0);
	/* an ordinary file (umask applied), not mkstemp's 0600 */
	cr_expect_eq(st.st_mode & 0777, 0644, "mode %o", st.st_mode & 0777);
	cr_expect_eq(entries(), 1);
	free(page);
}

Test(export_html, event_outside_the_model_is_rejected)
{
	struct tread_xtrace x;
	char err[256] = "", path[256];

	xmodel_build(&x);
	x.events[0].func = 99;	/* main's entry */
	snprintf(path, sizeof(path), "%s/bad.html", dir);
	cr_expect_eq(tread_export_html(&x, path, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "function 99 that the trace does not have") != NULL, "%s", err);
	cr_expect_eq(entries(), 0);
	xmodel_free(&x);
}
