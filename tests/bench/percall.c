/*
 * percall: the work of the per-call benchmarks (tests/bench/run.sh).
 *
 * The same source is built several ways (see run.sh):
 *
 *   plain   -O2                                    no instrumentation at all
 *   pg      -O2 -pg                                glibc's mcount until attached
 *   pfe     -O2 -fpatchable-function-entry=5       5-byte NOP at each entry
 *   cyg     -O2 -finstrument-functions             for LTTng-UST cyg-profile
 *   floor   -O2 -finstrument-functions + floor.c   hand-written minimal probe
 *
 * Only the functions named w_* are work; they are the ones traced.  The
 * drivers that time them are never instrumented (NOTRACE), so each build
 * makes exactly the same traced calls.  Every w_* function bumps `ncalls`,
 * in every build alike, so the number of calls is counted, not guessed.
 *
 * It prints "ready <pid>" and then answers one line per command on stdin:
 *
 *   fib D R    R times w_fib(D)         -> "ok ns=<total> calls=<n> probe=<p>"
 *   mix R      R requests w_handle(i)   -> same
 *   lib R      R times w_lib(i), which calls strlen() through the PLT
 *              (a library call for tattach --libcalls) -> same
 *   shm M      write 8 bytes into each 4 KiB page of a new M MiB file in
 *              /dev/shm, mapped shared, like a fresh ring -> "ok ns=<total>
 *              calls=<pages> probe=-1": what a first write to a ring page
 *              (a page fault) costs here
 *   mt T D R   T threads at once, each R times w_fib(D), started together
 *              -> "ok ns=<CPU ns of all threads> calls=<n> probe=-1
 *              wall=<ns>": CPU time (CLOCK_THREAD_CPUTIME_ID) per call is
 *              what a call costs a thread whatever the number of threads
 *              sharing the CPUs; wall is the whole run
 *   quit       exit(0)
 *
 * ns is CLOCK_MONOTONIC around the loop only, so starting a tracer, or the
 * tracer's own start-up, is not counted.  probe is the number of events
 * the floor probe stored (-1 in other builds): a check that the
 * instrumented build really makes 2 probe calls per counted call.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define WORK __attribute__((noipa))
#define NOTRACE __attribute__((noipa, no_instrument_function, \
				patchable_function_entry(0, 0)))

/* Per thread: threads running at once must not share a written line. */
__thread unsigned long ncalls;
volatile unsigned long sink;

/* Provided by floor.c in the floor build only. */
extern unsigned long floor_events(void) __attribute__((weak));

/* ------------------------------------------------------------- fib */

WORK long w_fib(long n)
{
	long a, b;

	ncalls++;
	if (n < 2)
		return n;
	a = w_fib(n - 1);
	b = w_fib(n - 2);
	__asm__ volatile("" : "+r"(a), "+r"(b));	/* no accumulator rewrite */
	return a + b;
}

/* ------------------------------------------------------------- mix */
/*
 * One "request": parse a small text header into fields, look each field
 * up in a hash table, sort the values, checksum the body, format a reply.
 * Functions from ~1 ns (getters, comparisons) to a few hundred ns
 * (checksum), the shape of ordinary application code.
 */
struct req {
	unsigned char body[512];
	char hdr[96];
	long id;
	int nfields;
	unsigned fields[8];
	long vals[8];
	char out[128];
	int outlen;
};

static const char *const keys[] = {
	"host", "user", "path", "verb", "size", "type", "lang", "date",
};

static struct {
	unsigned long h;
	long v;
} table[64];

WORK unsigned long w_hash(const char *s, int len)
{
	unsigned long h = 1469598103934665603ul;

	ncalls++;
	for (int i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ul;
	return h;
}

WORK int w_is_sep(int c)
{
	ncalls++;
	return c == ';' || c == ' ' || c == '=';
}

/* Splits "k=v;k=v;..." and records where each key starts. */
WORK int w_parse(struct req *r)
{
	int n = 0, start = 1;

	ncalls++;
	for (int i = 0; r->hdr[i] && n < 8; i++) {
		if (r->hdr[i] == ';') {
			start = 1;
			continue;
		}
		if (start && !w_is_sep(r->hdr[i])) {
			r->fields[n++] = (unsigned)i;
			start = 0;
		}
	}
	r->nfields = n;
	return n;
}

WORK long w_lookup(const char *key, int len)
{
	unsigned long h = w_hash(key, len);

	ncalls++;
	for (unsigned i = 0; i < 64; i++) {
		unsigned k = (unsigned)(h + i) & 63;

		if (table[k].h == h)
			return table[k].v;
		if (!table[k].h)
			return -1;
	}
	return -1;
}

WORK int w_cmp(long a, long b)
{
	ncalls++;
	return (a > b) - (a < b);
}

WORK void w_sort(long *v, int n)
{
	ncalls++;
	for (int i = 1; i < n; i++) {
		long x = v[i];
		int j = i - 1;

		while (j >= 0 && w_cmp(v[j], x) > 0) {
			v[j + 1] = v[j];
			j--;
		}
		v[j + 1] = x;
	}
}

WORK unsigned w_checksum(const unsigned char *p, int len)
{
	unsigned a = 1, b = 0;

	ncalls++;
	for (int i = 0; i < len; i++) {
		a = (a + p[i]) % 65521;
		b = (b + a) % 65521;
	}
	return (b << 16) | a;
}

WORK int w_put_num(char *out, long v)
{
	char tmp[24];
	int n = 0, len = 0;

	ncalls++;
	if (v < 0) {
		out[len++] = '-';
		v = -v;
	}
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out[len++] = tmp[--n];
	return len;
}

WORK long w_get_id(const struct req *r)
{
	ncalls++;
	return r->id;
}

WORK int w_format(struct req *r, unsigned sum)
{
	int len = 0;

	ncalls++;
	len += w_put_num(r->out + len, w_get_id(r));
	r->out[len++] = ' ';
	for (int i = 0; i < r->nfields && i < 4; i++) {
		len += w_put_num(r->out + len, r->vals[i]);
		r->out[len++] = ',';
	}
	len += w_put_num(r->out + len, sum);
	r->out[len] = 0;
	r->outlen = len;
	return len;
}

WORK long w_handle(struct req *r)
{
	unsigned sum;

	ncalls++;
	w_parse(r);
	for (int i = 0; i < r->nfields; i++)
		r->vals[i] = w_lookup(r->hdr + r->fields[i], 4);
	w_sort(r->vals, r->nfields);
	sum = w_checksum(r->body, (int)(64 + (r->id & 255)));
	return w_format(r, sum);
}

/* ---------------------------------------------------------- drivers */

static struct req reqs[16];

NOTRACE static void setup(void)
{
	for (int k = 0; k < 8; k++) {
		unsigned long h = 1469598103934665603ul;

		for (int i = 0; i < 4; i++)
			h = (h ^ (unsigned char)keys[k][i]) * 1099511628211ul;
		for (unsigned i = 0;; i++)
			if (!table[(h + i) & 63].h) {
				table[(h + i) & 63].h = h;
				table[(h + i) & 63].v = (long)(k * 7919 % 1000);
				break;
			}
	}
	for (int q = 0; q < 16; q++) {
		struct req *r = &reqs[q];
		int len = 0;

		for (int i = 0; i < 512; i++)
			r->body[i] = (unsigned char)(i * 31 + q);
		for (int f = 0; f < 4 + q % 5; f++)
			len += snprintf(r->hdr + len, sizeof(r->hdr) - len, "%s=%d;",
					keys[(q + f * 3) % 8], q * f);
	}
}

NOTRACE static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

NOTRACE static long probe_count(void)
{
	return floor_events ? (long)floor_events() : -1;
}

/* Time the first write to each page of a fresh shared tmpfs mapping. */
NOTRACE static long shm_touch(long mib, uint64_t *ns)
{
	char path[64];
	size_t len = (size_t)mib << 20;
	uint64_t t0, t1;
	volatile uint64_t *p;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/percall-%d.tmp", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	unlink(path);
	if (ftruncate(fd, (off_t)len)) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	t0 = now_ns();
	for (size_t i = 0; i < len / 8; i += 512)
		p[i] = i;
	t1 = now_ns();
	munmap((void *)p, len);
	*ns = t1 - t0;
	return (long)(len >> 12);
}

/* ------------------------------------------------------ library call */

static const char *const lib_strs[4] = { "a", "bb", "ccc", "dddd" };
static const char *volatile lib_str_p = (const char *)lib_strs;

WORK long w_lib(long i)
{
	const char *const *strs = (const char *const *)lib_str_p;

	ncalls++;
	return (long)strlen(strs[i & 3]);
}

/* ------------------------------------------------- threads at once */

struct mt_arg {
	pthread_barrier_t *go;
	long d, r;
	uint64_t cpu_ns;
	unsigned long calls;
};

NOTRACE static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

NOTRACE static void *mt_main(void *p)
{
	struct mt_arg *a = p;
	uint64_t t0;

	pthread_barrier_wait(a->go);
	t0 = thread_cpu_ns();
	for (long i = 0; i < a->r; i++)
		sink += (unsigned long)w_fib(a->d);
	a->cpu_ns = thread_cpu_ns() - t0;
	a->calls = ncalls;
	return NULL;
}

NOTRACE static int run_threads(long nt, long d, long r)
{
	pthread_barrier_t go;
	pthread_t *tids = calloc(nt, sizeof(*tids));
	struct mt_arg *args = calloc(nt, sizeof(*args));
	uint64_t cpu = 0, t0, t1;
	unsigned long calls = 0;
	long started = 0;

	if (nt < 1 || !tids || !args || pthread_barrier_init(&go, NULL, nt + 1))
		return -1;
	for (; started < nt; started++) {
		args[started] = (struct mt_arg){ &go, d, r, 0, 0 };
		if (pthread_create(&tids[started], NULL, mt_main, &args[started]))
			abort();	/* the barrier counts on every thread */
	}
	t0 = now_ns();
	pthread_barrier_wait(&go);
	for (long i = 0; i < nt; i++) {
		pthread_join(tids[i], NULL);
		cpu += args[i].cpu_ns;
		calls += args[i].calls;
	}
	t1 = now_ns();
	pthread_barrier_destroy(&go);
	free(tids);
	free(args);
	printf("ok ns=%llu calls=%lu probe=-1 wall=%llu\n", (unsigned long long)cpu, calls,
	       (unsigned long long)(t1 - t0));
	return 0;
}

NOTRACE static int dispatch(const char *line)
{
	long d, r, p0, nt;
	unsigned long c0;
	uint64_t t0, t1;

	if (sscanf(line, "fib %ld %ld", &d, &r) == 2) {
		c0 = ncalls;
		p0 = probe_count();
		t0 = now_ns();
		for (long i = 0; i < r; i++)
			sink += (unsigned long)w_fib(d);
		t1 = now_ns();
	} else if (sscanf(line, "mix %ld", &r) == 1) {
		c0 = ncalls;
		p0 = probe_count();
		t0 = now_ns();
		for (long i = 0; i < r; i++) {
			struct req *q = &reqs[i & 15];

			q->id = i;
			sink += (unsigned long)w_handle(q);
		}
		t1 = now_ns();
	} else if (sscanf(line, "lib %ld", &r) == 1) {
		c0 = ncalls;
		p0 = probe_count();
		t0 = now_ns();
		for (long i = 0; i < r; i++)
			sink += (unsigned long)w_lib(i);
		t1 = now_ns();
	} else if (sscanf(line, "mt %ld %ld %ld", &nt, &d, &r) == 3) {
		return run_threads(nt, d, r);
	} else if (sscanf(line, "shm %ld", &r) == 1) {
		long pages = shm_touch(r, &t0);

		if (pages < 0)
			return -1;
		printf("ok ns=%llu calls=%ld probe=-1\n", (unsigned long long)t0, pages);
		return 0;
	} else if (!strncmp(line, "quit", 4)) {
		exit(0);
	} else {
		return -1;
	}
	printf("ok ns=%llu calls=%lu probe=%ld\n", (unsigned long long)(t1 - t0),
	       ncalls - c0, p0 < 0 ? -1 : probe_count() - p0);
	return 0;
}

NOTRACE int main(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin))
		if (dispatch(line) < 0)
			printf("error\n");
	return 0;
}
