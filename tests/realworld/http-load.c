/* http-load: a bounded, self-checking HTTP/1.1 keep-alive load.
 *
 *   http-load HOST PORT PATH CONNS REQS_PER_CONN EXPECTED_FILE [MAX_SECONDS]
 *
 * CONNS threads, each on its own TCP connection (reopened when the server
 * closes it), make at most REQS_PER_CONN "GET PATH" requests (fewer if
 * MAX_SECONDS, default 60, runs out).  Every answer must be "200" with a
 * body equal, byte for byte, to the contents of EXPECTED_FILE; anything else
 * counts as an error (the first few are printed).
 *
 * Prints one line: "http-load: requests=N ok=N errors=N seconds=S" and exits
 * 0 only if errors == 0 and at least one request was made.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host, *path;
static int port, reqs_per_conn;
static double max_seconds = 60;
static double t_start;
static char *expected;
static size_t expected_len;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total_req, total_ok, total_err;
static int printed_errs;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report_error(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lock);
	total_err++;
	if (printed_errs++ < 5) {
		fputs("http-load: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&lock);
}

static int connect_to_server(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A buffered reader over one connection. */
struct conn {
	int fd;
	char buf[65536];
	size_t have, off;
};

static int fill(struct conn *c)
{
	ssize_t n;

	if (c->off == c->have)
		c->off = c->have = 0;
	if (c->have == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->off, c->have - c->off);
		c->have -= c->off;
		c->off = 0;
	}
	do
		n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	c->have += (size_t)n;
	return 0;
}

/* The head of one answer, up to and including the empty line. */
static int read_head(struct conn *c, char *head, size_t size)
{
	for (;;) {
		char *end = memmem(c->buf + c->off, c->have - c->off, "\r\n\r\n", 4);

		if (end) {
			size_t n = (size_t)(end + 4 - (c->buf + c->off));

			if (n >= size)
				return -1;
			memcpy(head, c->buf + c->off, n);
			head[n] = 0;
			c->off += n;
			return 0;
		}
		if (fill(c) < 0)
			return -1;
	}
}

static int read_body(struct conn *c, char *body, size_t len)
{
	size_t got = 0;

	while (got < len) {
		size_t n = c->have - c->off;

		if (n == 0) {
			if (fill(c) < 0)
				return -1;
			continue;
		}
		if (n > len - got)
			n = len - got;
		memcpy(body + got, c->buf + c->off, n);
		c->off += n;
		got += n;
	}
	return 0;
}

/* One request on c; 1 if the server will close the connection after it. */
static int one_request(struct conn *c, char *head, size_t head_size, char *body)
{
	char req[512];
	const char *cl;
	long len;
	int n, closing;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
	if (write(c->fd, req, (size_t)n) != n)
		return -1;
	if (read_head(c, head, head_size) < 0)
		return -1;
	if (strncmp(head, "HTTP/1.1 200 ", 13) != 0) {
		report_error("unexpected status: %.40s", head);
		return 1;
	}
	cl = strcasestr(head, "\r\nContent-Length:");
	if (!cl) {
		report_error("no Content-Length in the answer");
		return 1;
	}
	len = strtol(cl + 17, NULL, 10);
	if (len != (long)expected_len) {
		report_error("body of %ld bytes, expected %zu", len, expected_len);
		return 1;
	}
	if (read_body(c, body, (size_t)len) < 0)
		return -1;
	if (memcmp(body, expected, expected_len) != 0) {
		report_error("body differs from the expected file");
		return 1;
	}
	closing = strcasestr(head, "\r\nConnection: close") != NULL;
	pthread_mutex_lock(&lock);
	total_ok++;
	pthread_mutex_unlock(&lock);
	return closing;
}

static void *worker(void *arg)
{
	struct conn *c = calloc(1, sizeof(*c));
	char *head = malloc(8192), *body = malloc(expected_len + 1);
	int i;

	(void)arg;
	if (!c || !head || !body) {
		report_error("out of memory");
		goto out;
	}
	c->fd = -1;
	for (i = 0; i < reqs_per_conn && now() - t_start < max_seconds; i++) {
		int r;

		if (c->fd < 0) {
			c->fd = connect_to_server();
			c->have = c->off = 0;
			if (c->fd < 0) {
				report_error("connect: %s", strerror(errno));
				break;
			}
		}
		pthread_mutex_lock(&lock);
		total_req++;
		pthread_mutex_unlock(&lock);
		r = one_request(c, head, 8192, body);
		if (r < 0)
			report_error("request %d: connection lost", i);
		if (r != 0) {
			close(c->fd);
			c->fd = -1;
		}
	}
	if (c->fd >= 0)
		close(c->fd);
out:
	free(c);
	free(head);
	free(body);
	return NULL;
}

static char *read_file(const char *name, size_t *len)
{
	FILE *f = fopen(name, "rb");
	char *data = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)n + 1);
		if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
			free(data);
			data = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return data;
}

int main(int argc, char **argv)
{
	pthread_t *threads;
	int conns, i;

	if (argc < 7) {
		fprintf(stderr, "usage: http-load HOST PORT PATH CONNS REQS_PER_CONN EXPECTED_FILE [MAX_SECONDS]\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	path = argv[3];
	conns = atoi(argv[4]);
	reqs_per_conn = atoi(argv[5]);
	if (argc > 7)
		max_seconds = atof(argv[7]);
	expected = read_file(argv[6], &expected_len);
	if (!expected) {
		fprintf(stderr, "http-load: cannot read %s: %s\n", argv[6], strerror(errno));
		return 2;
	}
	threads = calloc((size_t)conns, sizeof(*threads));
	if (conns <= 0 || !threads)
		return 2;
	t_start = now();
	for (i = 0; i < conns; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	for (i = 0; i < conns; i++)
		pthread_join(threads[i], NULL);
	printf("http-load: requests=%ld ok=%ld errors=%ld seconds=%.2f\n",
	       total_req, total_ok, total_err, now() - t_start);
	return total_err == 0 && total_req > 0 ? 0 : 1;
}
