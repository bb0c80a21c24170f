// SPDX-License-Identifier: MIT
/*
 * Writing and reading saved traces (docs/trace-file-format.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consumer/errmsg.h"
#include "consumer/atomic_file.h"
#include "consumer/input/ring_snapshot.h"
#include "consumer/input/savefile.h"
#include "consumer/decode/trace.h"

_Static_assert(sizeof(struct tread_save_header) == 32, "header layout");
_Static_assert(sizeof(struct tread_save_section) == 16, "section layout");
_Static_assert(sizeof(struct tread_save_thread) == 20, "thread layout");
_Static_assert(sizeof(struct tread_save_site) == 16, "site layout");
_Static_assert(sizeof(struct tread_save_module) == 16, "module layout");

/* A saved trace too big for this is not one we wrote. */
#define SAVE_MAX_SIZE (1ull << 40)

/* What a saved trace's input points into. */
struct tread_saved {
	uint8_t *buf;			/* the whole file, 8-byte aligned */
	size_t   len;
	struct tread_site_detail *sites;	/* [ring site_cap] */
};


static uint64_t align8(uint64_t n)
{
	return (n + 7) & ~7ull;
}

/* ================================================================ writing */

struct writer {
	FILE *f;
	uint64_t off;
	uint32_t sections;
};

/* Zeros up to the next multiple of 8: where the next section starts. */
static void pad8(struct writer *w)
{
	static const uint8_t zero[8];

	if (w->off % 8) {
		size_t pad = 8 - w->off % 8;

		fwrite(zero, 1, pad, w->f);
		w->off += pad;
	}
}

static void put(struct writer *w, const void *p, size_t n)
{
	fwrite(p, 1, n, w->f);
	w->off += n;
	pad8(w);
}

static void section(struct writer *w, uint32_t type, uint32_t flags, uint64_t size)
{
	struct tread_save_section s = { .type = type, .flags = flags, .size = size };

	fwrite(&s, 1, sizeof(s), w->f);
	w->off += sizeof(s);
	w->sections++;
}

/* What occurs in the ring image: sites (bitmap) and tids. */
struct occurs {
	uint8_t *site;			/* [site_cap] */
	bool     past_count;		/* a (corrupt) event names a site
					 * between site_count and site_cap */
	int32_t *tids;
	size_t   ntids, tids_cap;
};

static int add_tid(struct occurs *o, int32_t tid)
{
	for (size_t i = 0; i < o->ntids; i++)
		if (o->tids[i] == tid)
			return 0;
	if (o->ntids == o->tids_cap) {
		size_t cap = o->tids_cap ? o->tids_cap * 2 : 16;
		int32_t *t = reallocarray(o->tids, cap, sizeof(*t));

		if (!t)
			return -ENOMEM;
		o->tids = t;
		o->tids_cap = cap;
	}
	o->tids[o->ntids++] = tid;
	return 0;
}

/* Read @ring as tread would, noting what occurs (added to @o). */
static int scan(const struct tread_ring *ring, bool writer_gone, struct occurs *o)
{
	struct tread_trace *t = NULL;
	struct tread_event ev;
	uint32_t count = tread_ring_site_count(ring);
	int ret;

	/* the first ring scanned is the original: the largest table */
	if (!o->site)
		o->site = calloc(ring->site_cap ? ring->site_cap : 1, 1);
	ret = o->site ? tread_trace_open(ring, &t) : -ENOMEM;
	if (!ret)
		ret = tread_trace_refresh(t, true, writer_gone);
	while (!ret && tread_trace_next(t, &ev) == 1) {
		if (ev.kind == TREAD_EV_ENTRY || ev.kind == TREAD_EV_EXIT) {
			/* Sites outside the table in use are named
			 * "bad_site_N" by any reader: only real ones need a
			 * name. */
			if (ev.site > 0 && ev.site < count)
				o->site[ev.site] = 1;
			else if (ev.site >= count && ev.site < ring->site_cap)
				o->past_count = true;
		}
		if (ev.kind != TREAD_EV_TID)
			ret = add_tid(o, ev.tid);
	}
	tread_trace_close(t);
	return ret;
}

/* Scan the image of a saved file as its reader will. */
static int scan_image(const uint8_t *img, size_t len, struct occurs *o)
{
	struct tread_ring *ring = NULL;
	char why[256];
	int ret;

	ret = tread_ring_open_buffer(img, len, &ring, why, sizeof(why));
	if (!ret)
		ret = scan(ring, true, o);
	tread_ring_close(ring);
	return ret;
}

static void write_process(struct writer *w, const struct tread_input *in)
{
	char saved_by[64];
	const char *kv[] = { "host", in->host, "exe", in->exe, "comm", in->comm,
			     "saved_by", saved_by };
	uint64_t size = 0;

	snprintf(saved_by, sizeof(saved_by), "tread, saved trace format %u.%u",
		 TREAD_SAVE_MAJOR, TREAD_SAVE_MINOR);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		size += strlen(kv[i]) + 1;
	section(w, TREAD_SEC_PROCESS, 0, size);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		fwrite(kv[i], 1, strlen(kv[i]) + 1, w->f);
		w->off += strlen(kv[i]) + 1;
	}
	pad8(w);
}

static void write_threads(struct writer *w, const struct tread_input *in,
			  const struct occurs *o)
{
	size_t n = 0;

	for (size_t i = 0; i < o->ntids; i++)
		n += tread_input_thread_name(in, o->tids[i])[0] != 0;
	section(w, TREAD_SEC_THREADS, 0, n * sizeof(struct tread_save_thread));
	for (size_t i = 0; i < o->ntids; i++) {
		struct tread_save_thread t = { .tid = o->tids[i] };
		const char *name = tread_input_thread_name(in, o->tids[i]);

		if (!name[0])
			continue;
		strncpy(t.name, name, sizeof(t.name) - 1);
		fwrite(&t, 1, sizeof(t), w->f);
		w->off += sizeof(t);
	}
	pad8(w);
}

static int write_sites(struct writer *w, const struct tread_input *in,
		       const struct occurs *o, uint32_t site_cap)
{
	struct tread_save_sites hdr = { 0 };
	struct tread_save_site *e;
	uint64_t blob = 0;
	uint32_t n = 0;

	for (uint32_t s = 0; s < site_cap; s++)
		hdr.count += o->site[s];
	e = calloc(hdr.count ? hdr.count : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (uint32_t s = 0; s < site_cap; s++) {
		struct tread_site_detail d;

		if (!o->site[s])
			continue;
		tread_site_detail(in->names, s, &d);
		e[n].site = s;
		e[n].name_off = (uint32_t)blob;
		blob += strlen(d.name) + 1;
		e[n].file_off = TREAD_SAVE_NO_FILE;
		if (d.file) {
			e[n].file_off = (uint32_t)blob;
			e[n].line = d.line;
			blob += strlen(d.file) + 1;
		}
		if (blob >= UINT32_MAX) {
			free(e);
			return -EFBIG;
		}
		n++;
	}
	section(w, TREAD_SEC_SITES, 0, sizeof(hdr) + (uint64_t)n * sizeof(*e) + blob);
	fwrite(&hdr, 1, sizeof(hdr), w->f);
	fwrite(e, sizeof(*e), n, w->f);
	w->off += sizeof(hdr) + (uint64_t)n * sizeof(*e);
	for (uint32_t i = 0; i < n; i++) {
		struct tread_site_detail d;

		tread_site_detail(in->names, e[i].site, &d);
		fwrite(d.name, 1, strlen(d.name) + 1, w->f);
		w->off += strlen(d.name) + 1;
		if (d.file) {
			fwrite(d.file, 1, strlen(d.file) + 1, w->f);
			w->off += strlen(d.file) + 1;
		}
	}
	pad8(w);
	free(e);
	return 0;
}

static void write_modules(struct writer *w, const struct tread_input *in)
{
	uint32_t n = tread_ring_module_count(in->ring);

	section(w, TREAD_SEC_MODULES, 0, (uint64_t)n * sizeof(struct tread_save_module));
	for (uint32_t i = 0; i < n; i++) {
		struct tread_save_module m = { .index = i, .base = in->module_base[i] };

		fwrite(&m, 1, sizeof(m), w->f);
		w->off += sizeof(m);
	}
}

int tread_save(const struct tread_input *in, const char *path, char *err,
	       size_t errlen)
{
	struct tread_save_header h = { .major = TREAD_SAVE_MAJOR,
				       .minor = TREAD_SAVE_MINOR,
				       .header_size = sizeof(h) };
	struct tread_atomic_file af;
	struct occurs occ = { 0 };
	struct writer w = { 0 };
	uint8_t *img = NULL;
	size_t img_len;
	uint32_t site_cap;
	int ret;

	/* What occurs, in the ring and then in its copy (a live writer may
	 * have added events in between); the copy keeps the site table's room
	 * if an event needs it to read the same (ring_snapshot.h). */
	ret = scan(in->ring, tread_input_writer_gone(in), &occ);
	if (!ret)
		ret = tread_ring_snapshot(in->ring, occ.past_count, &img, &img_len);
	if (!ret)
		ret = scan_image(img, img_len, &occ);
	if (ret) {
		tread_errf(err, errlen, ret, "out of memory");
		goto out;
	}
	site_cap = ((const struct tat_ring_header *)img)->site_cap;
	/* a ring kept before its header said which image it is: its name said */
	((struct tat_ring_header *)img)->image = in->image;
	ret = tread_atomic_open(&af, path, err, errlen);
	if (ret)
		goto out;
	w.f = af.f;
	memcpy(h.magic, TREAD_SAVE_MAGIC, sizeof(h.magic));
	put(&w, &h, sizeof(h));
	section(&w, TREAD_SEC_RING, TREAD_SEC_REQUIRED, img_len);
	put(&w, img, img_len);
	write_process(&w, in);
	write_threads(&w, in, &occ);
	ret = write_sites(&w, in, &occ, site_cap);
	if (ret) {
		tread_atomic_abort(&af);
		tread_errf(err, errlen, ret, "%s", ret == -EFBIG ? "too many names" :
			"out of memory");
		goto out;
	}
	write_modules(&w, in);
	/* The header again, now that the size and section count are known. */
	h.file_size = w.off;
	h.section_count = w.sections;
	if (fseek(af.f, 0, SEEK_SET) < 0) {
		ret = tread_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
		tread_atomic_abort(&af);
		goto out;
	}
	fwrite(&h, 1, sizeof(h), af.f);
	ret = tread_atomic_commit(&af, err, errlen);
out:
	free(occ.site);
	free(occ.tids);
	free(img);
	return ret;
}

/* ================================================================ reading */

int tread_saved_probe(const char *path)
{
	char magic[8];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	n = read(fd, magic, sizeof(magic));
	close(fd);
	return n == (ssize_t)sizeof(magic) &&
	       memcmp(magic, TREAD_SAVE_MAGIC, sizeof(magic)) == 0;
}

static int load_file(const char *path, struct tread_saved *s, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return tread_errf(err, errlen, -errno, "%s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = tread_errf(err, errlen, -errno, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SAVE_MAX_SIZE) {
		ret = tread_errf(err, errlen, -EBADMSG, "not a saved trace (%s)",
			      S_ISREG(st.st_mode) ? "too big" : "not a regular file");
		goto out;
	}
	s->len = (size_t)st.st_size;
	s->buf = malloc(s->len ? s->len : 1);
	if (!s->buf) {
		ret = tread_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	while (got < s->len) {
		ssize_t n = read(fd, s->buf + got, s->len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = tread_errf(err, errlen, -errno, "%s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	s->len = got;	/* shrank while we read: the checks will tell */
out:
	close(fd);
	return ret;
}

/* The sections found, each at most once. */
struct found {
	const uint8_t *p[TREAD_SEC_MODULES + 1];
	uint64_t len[TREAD_SEC_MODULES + 1];
};

static int walk_sections(const struct tread_saved *s, struct found *f,
			 char *err, size_t errlen)
{
	struct tread_save_header h;
	uint64_t off;

	if (s->len < sizeof(h) || memcmp(s->buf, TREAD_SAVE_MAGIC, 8))
		return tread_errf(err, errlen, -EBADMSG, "not a saved trace (bad magic)");
	memcpy(&h, s->buf, sizeof(h));
	if (h.major != TREAD_SAVE_MAJOR)
		return tread_errf(err, errlen, h.major > TREAD_SAVE_MAJOR ?
			       -EPROTONOSUPPORT : -EBADMSG,
			       "saved trace format %u.%u, this tread reads format "
			       "%u: use a newer tread", h.major, h.minor,
			       TREAD_SAVE_MAJOR);
	if (h.header_size < sizeof(h) || h.header_size % 8 || h.header_size > s->len)
		return tread_errf(err, errlen, -EBADMSG, "bad header_size %u", h.header_size);
	if (h.file_size != s->len)
		return tread_errf(err, errlen, -EBADMSG, "file_size %llu does not match the "
			       "%zu-byte file (truncated?)",
			       (unsigned long long)h.file_size, s->len);
	off = h.header_size;
	for (uint32_t i = 0; i < h.section_count; i++) {
		struct tread_save_section sec;
		uint64_t end;

		if (s->len - off < sizeof(sec))
			return tread_errf(err, errlen, -EBADMSG, "section %u of %u lies "
				       "outside the file", i + 1, h.section_count);
		memcpy(&sec, s->buf + off, sizeof(sec));
		off += sizeof(sec);
		if (sec.size > s->len - off)
			return tread_errf(err, errlen, -EBADMSG, "section %u (type %u, %llu "
				       "bytes) lies outside the file", i + 1, sec.type,
				       (unsigned long long)sec.size);
		if (sec.type >= 1 && sec.type <= TREAD_SEC_MODULES) {
			if (f->p[sec.type])
				return tread_errf(err, errlen, -EBADMSG, "two sections of "
					       "type %u", sec.type);
			f->p[sec.type] = s->buf + off;
			f->len[sec.type] = sec.size;
		} else if (sec.flags & TREAD_SEC_REQUIRED) {
			return tread_errf(err, errlen, -EPROTONOSUPPORT, "section type %u "
				       "is needed to read this trace and unknown to this "
				       "tread: use a newer tread", sec.type);
		}	/* else: a later addition this reader may skip */
		end = align8(off + sec.size);
		off = end < s->len ? end : s->len;
	}
	if (!f->p[TREAD_SEC_RING])
		return tread_errf(err, errlen, -EBADMSG, "no ring section");
	return 0;
}

/* "key\0value\0" pairs: the values we know, cut to fit. */
static int read_process(struct tread_input *in, const uint8_t *p, uint64_t len,
			char *err, size_t errlen)
{
	const char *s = (const char *)p, *end;

	if (!p)
		return 0;	/* no section: nothing known */
	end = s + len;
	if (len && p[len - 1])
		return tread_errf(err, errlen, -EBADMSG, "process section not terminated");
	while (s < end) {
		const char *key = s, *val = s + strlen(s) + 1;

		if (val >= end)
			return tread_errf(err, errlen, -EBADMSG, "process section: key "
				       "'%.32s' without a value", key);
		if (!strcmp(key, "host"))
			snprintf(in->host, sizeof(in->host), "%.*s",
				 (int)sizeof(in->host) - 1, val);
		else if (!strcmp(key, "exe"))
			snprintf(in->exe, sizeof(in->exe), "%.*s",
				 (int)sizeof(in->exe) - 1, val);
		else if (!strcmp(key, "comm"))
			snprintf(in->comm, sizeof(in->comm), "%.*s",
				 (int)sizeof(in->comm) - 1, val);
		s = val + strlen(val) + 1;
	}
	return 0;
}

static int read_threads(struct tread_input *in, const uint8_t *p, uint64_t len,
			char *err, size_t errlen)
{
	size_t n = len / sizeof(struct tread_save_thread);

	if (len % sizeof(struct tread_save_thread))
		return tread_errf(err, errlen, -EBADMSG, "threads section of %llu bytes "
			       "is not a whole number of entries", (unsigned long long)len);
	in->threads = calloc(n ? n : 1, sizeof(*in->threads));
	if (!in->threads)
		return tread_errf(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct tread_save_thread t;

		memcpy(&t, p + i * sizeof(t), sizeof(t));
		in->threads[i].tid = t.tid;
		memcpy(in->threads[i].name, t.name, sizeof(t.name));
		in->threads[i].name[sizeof(t.name) - 1] = 0;
	}
	in->nthreads = n;
	return 0;
}

/* A NUL-terminated string at @off of the @blob_len-byte blob, or NULL. */
static const char *blob_string(const char *blob, uint64_t blob_len, uint32_t off)
{
	if (off >= blob_len || !memchr(blob + off, 0, blob_len - off))
		return NULL;
	return blob + off;
}

static int read_sites(struct tread_saved *s, const struct tread_ring *ring,
		      const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
	struct tread_save_sites hdr = { 0 };
	uint64_t table;
	const char *blob;

	s->sites = calloc(ring->site_cap ? ring->site_cap : 1, sizeof(*s->sites));
	if (!s->sites)
		return tread_errf(err, errlen, -ENOMEM, "out of memory");
	if (!p)
		return 0;	/* no names: every site shows its address */
	if (len < sizeof(hdr))
		return tread_errf(err, errlen, -EBADMSG, "sites section too short");
	memcpy(&hdr, p, sizeof(hdr));
	table = sizeof(hdr) + (uint64_t)hdr.count * sizeof(struct tread_save_site);
	if (table > len)
		return tread_errf(err, errlen, -EBADMSG, "sites section: %u entries do not "
			       "fit in %llu bytes", hdr.count, (unsigned long long)len);
	blob = (const char *)p + table;
	for (uint32_t i = 0; i < hdr.count; i++) {
		struct tread_save_site e;
		struct tread_site_detail *d;

		memcpy(&e, p + sizeof(hdr) + (uint64_t)i * sizeof(e), sizeof(e));
		if (e.site == 0 || e.site >= ring->site_cap)
			return tread_errf(err, errlen, -EBADMSG, "sites section: site %u is "
				       "not in the site table (%u entries)", e.site,
				       ring->site_cap);
		d = &s->sites[e.site];
		if (d->name)
			return tread_errf(err, errlen, -EBADMSG, "sites section: site %u "
				       "named twice", e.site);
		d->name = blob_string(blob, len - table, e.name_off);
		if (e.file_off != TREAD_SAVE_NO_FILE) {
			d->file = blob_string(blob, len - table, e.file_off);
			d->line = e.line;
		}
		if (!d->name || (e.file_off != TREAD_SAVE_NO_FILE && !d->file))
			return tread_errf(err, errlen, -EBADMSG, "sites section: a name of "
				       "site %u lies outside its strings", e.site);
	}
	return 0;
}

static int read_modules(struct tread_input *in, const uint8_t *p, uint64_t len,
			char *err, size_t errlen)
{
	const struct tread_ring *ring = in->ring;

	in->module_base = calloc(ring->hdr.module_cap ? ring->hdr.module_cap : 1,
				 sizeof(*in->module_base));
	if (!in->module_base)
		return tread_errf(err, errlen, -ENOMEM, "out of memory");
	if (len % sizeof(struct tread_save_module))
		return tread_errf(err, errlen, -EBADMSG, "modules section of %llu bytes is "
			       "not a whole number of entries", (unsigned long long)len);
	for (uint64_t i = 0; p && i < len / sizeof(struct tread_save_module); i++) {
		struct tread_save_module m;

		memcpy(&m, p + i * sizeof(m), sizeof(m));
		if (m.index >= ring->hdr.module_cap)
			return tread_errf(err, errlen, -EBADMSG, "modules section: module %u "
				       "is not in the module table (%u entries)", m.index,
				       ring->hdr.module_cap);
		in->module_base[m.index] = m.base;
	}
	return 0;
}

int tread_saved_open(struct tread_input *in, const void *buf, size_t len,
		     char *err, size_t errlen)
{
	struct tread_saved *s = calloc(1, sizeof(*s));
	struct found f = { 0 };
	char why[256];
	int ret;

	if (!s)
		return tread_errf(err, errlen, -ENOMEM, "out of memory");
	in->saved = true;
	in->saved_file = s;
	if (buf) {
		s->len = len;
		s->buf = malloc(len ? len : 1);
		if (!s->buf)
			return tread_errf(err, errlen, -ENOMEM, "out of memory");
		memcpy(s->buf, buf, len);
		ret = 0;
	} else {
		ret = load_file(in->path, s, err, errlen);
	}
	if (!ret)
		ret = walk_sections(s, &f, err, errlen);
	if (ret)
		return ret;
	/* Sections start 8-aligned in an 8-aligned buffer: words can be read. */
	ret = tread_ring_open_buffer(f.p[TREAD_SEC_RING], f.len[TREAD_SEC_RING],
				     &in->ring, why, sizeof(why));
	if (ret)
		return tread_errf(err, errlen, ret, "ring section: %s", why);
	in->image = in->ring->hdr.image;	/* of a program run before an exec */
	ret = read_process(in, f.p[TREAD_SEC_PROCESS], f.len[TREAD_SEC_PROCESS],
			   err, errlen);
	if (!ret)
		ret = read_threads(in, f.p[TREAD_SEC_THREADS], f.len[TREAD_SEC_THREADS],
				   err, errlen);
	if (!ret)
		ret = read_sites(s, in->ring, f.p[TREAD_SEC_SITES], f.len[TREAD_SEC_SITES],
				 err, errlen);
	if (!ret)
		ret = read_modules(in, f.p[TREAD_SEC_MODULES], f.len[TREAD_SEC_MODULES],
				   err, errlen);
	if (!ret && tread_site_names_open_table(in->ring, s->sites, &in->names))
		ret = tread_errf(err, errlen, -ENOMEM, "out of memory");
	return ret;
}

void tread_saved_free(struct tread_saved *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s->sites);
	free(s);
}
