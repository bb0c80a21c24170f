// SPDX-License-Identifier: MIT
/*
 * A reference writer for ring files, for the reader's tests.  It mirrors
 * what the trampoline does, in plain C and without any concurrency.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/ringgen.h"

#define ALIGN(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

int ringgen_init(struct ringgen *g, const struct ringgen_config *cfg_in)
{
	struct ringgen_config cfg = cfg_in ? *cfg_in : (struct ringgen_config){ 0 };
	struct tat_ring_header *h;
	uint64_t off;

	if (!cfg.max_threads)
		cfg.max_threads = 4;
	if (!cfg.ring_shift)
		cfg.ring_shift = 12;
	if (!cfg.module_cap)
		cfg.module_cap = 4;
	if (!cfg.site_cap)
		cfg.site_cap = 64;
	if (!cfg.tsc_hz)
		cfg.tsc_hz = 1000000000ull;
	if (!cfg.pid)
		cfg.pid = 0x7ffffff0;

	memset(g, 0, sizeof(*g));
	off = 4096;
	uint64_t module_off = off;
	off = ALIGN(off + (uint64_t)cfg.module_cap * sizeof(struct tat_module), 64);
	uint64_t site_off = off;
	off = ALIGN(off + (uint64_t)cfg.site_cap * sizeof(struct tat_site), 64);
	uint64_t thread_off = off;
	off = ALIGN(off + (uint64_t)cfg.max_threads * sizeof(struct tat_thread_ctl), 4096);
	uint64_t data_off = off;
	off += (uint64_t)cfg.max_threads << (cfg.ring_shift + 3);
	uint64_t frames_off = cfg.frames ? ALIGN(off, 64) : 0;
	if (cfg.frames)
		off = frames_off + (uint64_t)cfg.max_threads * cfg.frames * sizeof(struct tat_frame);

	g->buf = calloc(1, off);
	g->threads = calloc(cfg.max_threads, sizeof(*g->threads));
	if (!g->buf || !g->threads) {
		ringgen_free(g);
		return -ENOMEM;
	}
	g->size = off;
	g->nevents = 1ull << cfg.ring_shift;
	g->hdr = h = (struct tat_ring_header *)g->buf;

	h->magic = TAT_RING_MAGIC;
	h->version = TAT_RING_VERSION;
	h->header_size = sizeof(*h);
	h->file_size = off;
	h->pid = cfg.pid;
	h->start_time = cfg.start_time;
	h->max_threads = cfg.max_threads;
	h->ring_shift = cfg.ring_shift;
	h->module_off = module_off;
	h->module_cap = cfg.module_cap;
	h->site_off = site_off;
	h->site_count = 1;		/* index 0 is never used */
	h->site_cap = cfg.site_cap;
	h->thread_off = thread_off;
	h->data_off = data_off;
	h->frames_off = frames_off;
	h->frames_per_thread = cfg.frames;
	h->clock = TAT_CLOCK_TSC;
	h->tsc_hz = cfg.tsc_hz;
	h->calib_tsc = 0;
	h->calib_mono_ns = 1000000000ull;
	h->calib_real_ns = 1700000000ull * 1000000000ull;
	h->state = TAT_STATE_ENABLED;
	h->mode = cfg.mode;
	return 0;
}

void ringgen_free(struct ringgen *g)
{
	if (g->mapped)
		munmap(g->buf, g->size);
	else
		free(g->buf);
	free(g->threads);
	memset(g, 0, sizeof(*g));
}

/* The build id note of @path, if any. */
static void read_build_id(const char *path, struct tat_module *m)
{
	Elf_Scn *scn = NULL;
	Elf *elf;
	int fd;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp((char *)d->d_buf + name_off, "GNU", 4) == 0 &&
			    nh.n_descsz <= TAT_BUILD_ID_MAX) {
				memcpy(m->build_id, (char *)d->d_buf + desc_off, nh.n_descsz);
				m->build_id_len = nh.n_descsz;
			}
		}
	}
	elf_end(elf);
	close(fd);
}

int ringgen_add_module(struct ringgen *g, const char *path, uint64_t load_bias)
{
	struct tat_ring_header *h = g->hdr;
	struct tat_module *m;

	if (h->module_count >= h->module_cap)
		return -1;
	m = (struct tat_module *)(g->buf + h->module_off) + h->module_count;
	memset(m, 0, sizeof(*m));
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->load_bias = load_bias;
	m->first_site = h->site_count;
	read_build_id(path, m);
	return (int)h->module_count++;
}

int ringgen_add_site(struct ringgen *g, uint32_t module, uint64_t addr)
{
	struct tat_ring_header *h = g->hdr;
	struct tat_site *s;

	if (h->site_count >= h->site_cap)
		return -1;
	s = (struct tat_site *)(g->buf + h->site_off) + h->site_count;
	s->addr = addr;
	s->module = module;
	s->kind = TAT_SITE_MCOUNT;
	s->len = 6;
	s->patched = 1;
	if (module < h->module_count)
		((struct tat_module *)(g->buf + h->module_off))[module].site_count++;
	return (int)h->site_count++;
}

struct tat_thread_ctl *ringgen_ctl(struct ringgen *g, uint32_t slot)
{
	return (struct tat_thread_ctl *)(g->buf + g->hdr->thread_off) + slot;
}

void ringgen_thread(struct ringgen *g, uint32_t slot, int32_t tid)
{
	ringgen_ctl(g, slot)->tid = tid;
	memset(&g->threads[slot], 0, sizeof(g->threads[slot]));
	if (slot + 1 > g->hdr->threads_used)
		g->hdr->threads_used = slot + 1;
}

void ringgen_retid(struct ringgen *g, uint32_t slot, int32_t tid)
{
	ringgen_ctl(g, slot)->tid = tid;
	g->threads[slot].started = false;
	g->threads[slot].have_time = false;
}

void ringgen_in_flight(struct ringgen *g, uint32_t slot, const uint32_t *sites,
		       const uint64_t *tscs, uint32_t n)
{
	struct tat_frame *f = (struct tat_frame *)(g->buf + g->hdr->frames_off) +
			      (uint64_t)slot * g->hdr->frames_per_thread;

	for (uint32_t i = 0; i < n; i++) {
		f[i].tsc = tscs[i];
		f[i].site = sites[i];
	}
	ringgen_ctl(g, slot)->open_depth = n;
}

static uint64_t *ring_of(struct ringgen *g, uint32_t slot)
{
	return (uint64_t *)(g->buf + g->hdr->data_off +
			    ((uint64_t)slot << (g->hdr->ring_shift + 3)));
}

/* Store at the next position, no questions asked. */
static void store(struct ringgen *g, uint32_t slot, uint64_t word)
{
	struct tat_thread_ctl *ctl = ringgen_ctl(g, slot);
	uint64_t pos = ctl->head++;

	ring_of(g, slot)[pos & (g->nevents - 1)] =
		(word & ~(1ull << TAT_EV_COMMIT_SHIFT)) |
		tat_ev_commit_bit(pos, g->hdr->ring_shift);
}

void ringgen_raw(struct ringgen *g, uint32_t slot, uint64_t word)
{
	store(g, slot, word);
}

void ringgen_reserve(struct ringgen *g, uint32_t slot)
{
	ringgen_ctl(g, slot)->head++;
}

void ringgen_set_tail(struct ringgen *g, uint32_t slot, uint64_t tail)
{
	ringgen_ctl(g, slot)->tail = tail;
}

/*
 * Lay out what one event needs, chunk TIMEs included, starting at @pos.
 * Returns the number of words put in @w (at most 8).
 */
static int plan(struct ringgen *g, uint32_t slot, uint64_t word, uint64_t tsc,
		uint64_t pos, uint64_t *w)
{
	struct ringgen_thread *th = &g->threads[slot];
	uint64_t hi = tsc >> TAT_EV_TSC_BITS, seq[4];
	int n = 0, k = 0;
	bool time_needed = !th->have_time || th->time_hi != hi;

	if (!th->started)
		seq[k++] = tat_ev_special(TAT_SUB_TID, (uint32_t)ringgen_ctl(g, slot)->tid);
	if (th->pending_lost)
		seq[k++] = tat_ev_special(TAT_SUB_LOST, th->pending_lost);
	if (time_needed || !th->started)
		seq[k++] = tat_ev_special(TAT_SUB_TIME, hi);
	seq[k++] = word;

	for (int i = 0; i < k; i++) {
		bool is_time = tat_ev_type(seq[i]) == TAT_EV_SPECIAL &&
			       tat_ev_sub(seq[i]) == TAT_SUB_TIME;

		if (pos > 0 && pos % TAT_CHUNK_EVENTS == 0 && !is_time) {
			w[n++] = tat_ev_special(TAT_SUB_TIME, hi);
			pos++;
		}
		w[n++] = seq[i];
		pos++;
	}
	return n;
}

static bool emit(struct ringgen *g, uint32_t slot, uint64_t word, uint64_t tsc)
{
	struct tat_thread_ctl *ctl = ringgen_ctl(g, slot);
	struct ringgen_thread *th = &g->threads[slot];
	uint64_t w[8];
	int n = plan(g, slot, word, tsc, ctl->head, w);

	if (g->hdr->mode == TAT_MODE_DISCARD && ctl->head + n > ctl->tail + g->nevents) {
		th->pending_lost++;
		ctl->dropped++;
		return false;
	}
	for (int i = 0; i < n; i++)
		store(g, slot, w[i]);
	th->started = true;
	th->have_time = true;
	th->time_hi = tsc >> TAT_EV_TSC_BITS;
	th->pending_lost = 0;
	return true;
}

bool ringgen_entry(struct ringgen *g, uint32_t slot, uint32_t site, uint64_t tsc)
{
	return emit(g, slot, tat_ev_make(TAT_EV_ENTRY, site, tsc), tsc);
}

bool ringgen_exit(struct ringgen *g, uint32_t slot, uint32_t site, uint64_t tsc)
{
	return emit(g, slot, tat_ev_make(TAT_EV_EXIT, site, tsc), tsc);
}

bool ringgen_unwind(struct ringgen *g, uint32_t slot, uint64_t frames, uint64_t tsc)
{
	return emit(g, slot, tat_ev_special(TAT_SUB_UNWIND, frames), tsc);
}

int ringgen_write_file(const struct ringgen *g, const char *path)
{
	FILE *f = fopen(path, "wb");
	int ret = 0;

	if (!f)
		return -errno;
	if (fwrite(g->buf, 1, g->size, f) != g->size)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

int ringgen_map_file(struct ringgen *g, const char *path)
{
	void *map;
	int fd, ret = ringgen_write_file(g, path);

	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	map = mmap(NULL, g->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	if (g->mapped)
		munmap(g->buf, g->size);
	else
		free(g->buf);
	g->buf = map;
	g->hdr = map;
	g->mapped = true;
	return 0;
}

int ringgen_elf_symbol(const char *path, const char *name, uint64_t *vaddr)
{
	Elf_Scn *scn = NULL;
	int ret = -ENOENT;
	Elf *elf;
	int fd;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && ret && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (s && strcmp(s, name) == 0) {
				*vaddr = sym.st_value;
				ret = 0;
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return ret;
}

const char *ringgen_target_path(const char *name)
{
	static char path[4096];
	const char *build = getenv("TATTACH_BUILD");

	snprintf(path, sizeof(path), "%s/tests/targets/%s",
		 build && *build ? build : "build", name);
	return path;
}

int ringgen_calltree(struct ringgen *g, uint64_t bias, uint32_t sites[RG_NFUNCS])
{
	static const char *const names[RG_NFUNCS] = { "work", "a", "b", "c", "leaf" };
	char path[4096];
	int module;

	snprintf(path, sizeof(path), "%s", ringgen_target_path("calltree.pg.O2"));
	module = ringgen_add_module(g, path, bias);
	if (module < 0)
		return -ENOSPC;
	for (int i = 0; i < RG_NFUNCS; i++) {
		uint64_t vaddr;
		int site;

		if (ringgen_elf_symbol(path, names[i], &vaddr))
			return -ENOENT;
		site = ringgen_add_site(g, module, vaddr + bias + RINGGEN_SITE_OFFSET);
		if (site < 0)
			return -ENOSPC;
		sites[i] = site;
	}
	return 0;
}

/* ------------------------------------------------------------ seqcheck */

void seqcheck_init(struct seqcheck *c)
{
	memset(c, 0, sizeof(*c));
}

struct seqcheck_thread *seqcheck_thread(struct seqcheck *c, int tid)
{
	for (size_t i = 0; i < c->nthreads; i++)
		if (c->th[i].tid == tid)
			return &c->th[i];
	return NULL;
}

static struct seqcheck_thread *seq_thread_add(struct seqcheck *c, int tid)
{
	struct seqcheck_thread *t = seqcheck_thread(c, tid);

	if (t || c->nthreads == SEQCHECK_MAX_THREADS)
		return t;
	t = &c->th[c->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->last_code = 15;	/* as if s7 just returned: s0 comes first */
	t->marker_since_s = t->marker_since_h = c->free_start;
	return t;
}

static void seq_error(struct seqcheck *c, const char *why, const char *line, size_t len)
{
	if (c->first_error[0])
		return;
	snprintf(c->first_error, sizeof(c->first_error), "line %llu: %s: '%.*s'",
		 (unsigned long long)c->lines, why, (int)(len > 300 ? 300 : len), line);
}

/* @s..@e starts with the literal @lit?  Advances *s past it. */
static bool eat(const char **s, const char *e, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(e - *s) < n || memcmp(*s, lit, n))
		return false;
	*s += n;
	return true;
}

static bool eat_u64(const char **s, const char *e, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	while (p < e && *p >= '0' && *p <= '9')
		x = x * 10 + (uint64_t)(*p++ - '0');
	if (p == *s)
		return false;
	*v = x;
	*s = p;
	return true;
}

/* "s0".."s7" -> 0..7, "h" -> 8, else -1; advances past the name. */
static int eat_name(const char **s, const char *e)
{
	const char *p = *s;

	if (p < e && *p == 'h') {
		*s = p + 1;
		return 8;
	}
	if (e - p >= 2 && p[0] == 's' && p[1] >= '0' && p[1] <= '7') {
		*s = p + 2;
		return p[1] - '0';
	}
	return -1;
}

/* A number after @key in a '#' line, if there. */
static void summary_field(const char *line, size_t len, const char *key, uint64_t *v)
{
	const char *e = line + len, *p = memmem(line, len, key, strlen(key));

	if (p) {
		p += strlen(key);
		eat_u64(&p, e, v);
	}
}

static void seq_summary(struct seqcheck *c, const char *line, size_t len)
{
	const char *p = line, *e = line + len;
	uint64_t v;

	if (eat(&p, e, "# lost ")) {
		eat_u64(&p, e, &c->sum_lost);
		summary_field(line, len, "ring full: ", &c->sum_ring_full);
		summary_field(line, len, "overwritten before read: ", &c->sum_overwritten);
		summary_field(line, len, "before the first timestamp: ", &c->sum_no_time);
		summary_field(line, len, "never written: ", &c->sum_unwritten);
	} else if (eat(&p, e, "# the writer reported ")) {
		eat_u64(&p, e, &c->sum_overcounted);
	} else if (eat(&p, e, "# writer counters since attach: ")) {
		if (eat_u64(&p, e, &v) && eat(&p, e, " events dropped (ring full)"))
			c->writer_dropped = v;
	} else if (eat(&p, e, "# DURATION") || eat(&p, e, "# TIMESTAMP")) {
		c->header = true;
	} else if (eat(&p, e, "# ") && eat_u64(&p, e, &v) &&
		   eat(&p, e, " events still being written")) {
		c->sum_unread = v;
	}
}

/* One s or h event of thread @t: @fn 0..7 or 8 (h), @exit. */
static void seq_event(struct seqcheck *c, struct seqcheck_thread *t, int fn, bool exit,
		      const char *line, size_t len)
{
	t->events++;
	t->events_since_marker++;
	if (fn == 8) {
		if (!exit) {
			t->h_calls++;
			if (t->h_open && !t->marker_since_h) {
				t->bad_h++;
				c->bad_h++;
				seq_error(c, "h entered twice", line, len);
			}
			t->h_open = true;
		} else {
			if (!t->h_open && !t->marker_since_h) {
				t->bad_h++;
				c->bad_h++;
				seq_error(c, "h exit without its entry", line, len);
			}
			t->h_open = false;
		}
		t->marker_since_h = false;
		return;
	}
	if (t->h_open && !t->marker_since_h) {
		t->bad_h++;
		c->bad_h++;
		seq_error(c, "s event inside h", line, len);
	}
	t->h_open = false;

	int code = 2 * fn + exit;
	int want = t->last_code & 1 ? 2 * ((t->last_code / 2 + 1) % 8) : t->last_code + 1;

	if (code != want && !t->marker_since_s) {
		t->breaks++;
		c->breaks++;
		seq_error(c, "sequence broken without a loss marker", line, len);
	}
	if (!exit)
		t->s_calls++;
	t->last_code = code;
	t->marker_since_s = false;
}

void seqcheck_line(struct seqcheck *c, const char *line, size_t len)
{
	const char *p, *e = line + len, *open;
	struct seqcheck_thread *t;
	uint64_t v;
	int fn, tid = 0, neg = 0;

	c->lines++;
	if (len && line[0] == '#') {
		seq_summary(c, line, len);
		return;
	}
	/* "<duration or blanks>[%6d] | <indent><text>" */
	open = memchr(line, '[', len);
	if (!open || open - line < 14) {
		c->bad_lines++;
		seq_error(c, "no thread column", line, len);
		return;
	}
	for (p = line; p < open; p++)
		if (!(*p == ' ' || *p == '.' || (*p >= '0' && *p <= '9') || *p == 'u' || *p == 's'))
			break;
	if (p != open || (open[-2] != ' ' && memcmp(open - 4, " us ", 4))) {
		c->bad_lines++;
		seq_error(c, "bad duration column", line, len);
		return;
	}
	p = open + 1;
	while (p < e && *p == ' ')
		p++;
	if (p < e && *p == '-') {
		neg = 1;
		p++;
	}
	if (!eat_u64(&p, e, &v) || !eat(&p, e, "] | ") || neg || v == 0 || v > 0x7fffffff) {
		c->bad_lines++;
		seq_error(c, "bad tid", line, len);
		return;
	}
	tid = (int)v;
	while (p < e && *p == ' ')
		p++;
	t = seq_thread_add(c, tid);
	if (!t) {
		c->bad_lines++;
		seq_error(c, "too many threads", line, len);
		return;
	}
	c->graph_lines++;

	if (eat(&p, e, "/* lost ")) {
		if (!eat_u64(&p, e, &v) || !eat(&p, e, " events */") || p != e || v == 0) {
			c->bad_lines++;
			seq_error(c, "bad loss marker", line, len);
			return;
		}
		t->lost += v;
		t->markers++;
		t->marker_since_s = t->marker_since_h = true;
		t->events_since_marker = 0;
		return;
	}
	if (eat(&p, e, "/* ")) {
		/* tread's correction of a writer that reported losses twice */
		if (!eat_u64(&p, e, &v) || !eat(&p, e, " events reported lost above "
						"were not lost */") || p != e || v == 0) {
			c->bad_lines++;
			seq_error(c, "bad comment line", line, len);
			return;
		}
		t->lost -= v;		/* modulo 2^64: the sums come out right */
		t->corrections++;
		return;
	}
	if (eat(&p, e, "} /* ")) {
		fn = eat_name(&p, e);
		if (fn >= 0 && eat(&p, e, " */") && p == e) {
			seq_event(c, t, fn, true, line, len);
			return;
		}
		if (fn >= 0 && eat(&p, e, " (entry not traced) */") && p == e) {
			seq_event(c, t, fn, true, line, len);
			return;
		}
		if (fn >= 0 && eat(&p, e, " (exit lost) */") && p == e)
			return;		/* tread's closing line, not an event */
		c->bad_lines++;
		seq_error(c, "bad exit line", line, len);
		return;
	}
	fn = eat_name(&p, e);
	if (fn >= 0 && eat(&p, e, "();") && p == e) {
		seq_event(c, t, fn, false, line, len);
		seq_event(c, t, fn, true, line, len);
		return;
	}
	if (fn >= 0 && eat(&p, e, "() {") && p == e) {
		seq_event(c, t, fn, false, line, len);
		return;
	}
	c->bad_lines++;
	seq_error(c, "not a call of s0..s7 or h", line, len);
}

void seqcheck_text(struct seqcheck *c, const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		seqcheck_line(c, p, (size_t)(nl - p));
		p = *nl ? nl + 1 : nl;
	}
}
