/* mc-load: a bounded, self-checking memcached text-protocol load.
 *
 *   mc-load HOST PORT CONNS REQS_PER_CONN [MAX_SECONDS] [PAUSE_US]
 *
 * CONNS threads, one TCP connection each.  Each thread makes at most
 * REQS_PER_CONN requests (and stops earlier after MAX_SECONDS, default 60),
 * cycling through: set, get (hit, value checked byte for byte), get of a key
 * never set (miss), incr on a counter (value checked), delete, get after
 * delete (miss), a multi-get of two keys.  Every answer is parsed and
 * compared with what it must be; anything else counts as an error (the first
 * few are printed).  PAUSE_US (default 0) sleeps between requests to spread
 * the load over time.
 *
 * Prints one line: "mc-load: requests=N ok=N errors=N seconds=S" and exits
 * 0 only if errors == 0 and at least one request was made.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host;
static int port, reqs_per_conn, pause_us;
static double max_seconds = 60;
static double t_start;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total_req, total_ok, total_err;
static int printed_errs;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct conn {
    int fd, id;
    char buf[65536];
    size_t len;            /* bytes in buf */
    long req, ok, err;
};

static void report_err(struct conn *c, const char *fmt, ...)
{
    c->err++;
    pthread_mutex_lock(&lock);
    if (printed_errs++ < 10) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "mc-load: conn %d req %ld: ", c->id, c->req);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    pthread_mutex_unlock(&lock);
}

static int send_all(struct conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read until buf holds at least `want` bytes. */
static int fill(struct conn *c, size_t want)
{
    while (c->len < want) {
        if (c->len == sizeof c->buf)
            return -1;
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
    return 0;
}

/* Read until buf holds a complete response ending with `terminator`
 * (searched as a suffix after at least `min` bytes), then compare the whole
 * thing with `expect`. Consumes it. */
static int expect_exact(struct conn *c, const char *expect)
{
    size_t n = strlen(expect);
    if (fill(c, n) < 0) {
        report_err(c, "connection closed/failed waiting for %zu bytes (have %zu)", n, c->len);
        return -1;
    }
    int good = memcmp(c->buf, expect, n) == 0;
    if (!good) {
        char got[80];
        size_t k = c->len < 60 ? c->len : 60;
        for (size_t i = 0; i < k; i++)
            got[i] = (c->buf[i] == '\r' || c->buf[i] == '\n') ? '|' : c->buf[i];
        got[k] = 0;
        report_err(c, "wrong answer: got \"%s\"", got);
        /* resynchronise: drop everything buffered */
        c->len = 0;
        return -1;
    }
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    return 0;
}

static void make_value(char *v, size_t len, int conn, long i)
{
    for (size_t k = 0; k < len; k++)
        v[k] = (char)('a' + (conn * 7 + i * 13 + (long)k) % 26);
}

static void *worker(void *arg)
{
    struct conn *c = arg;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, host, &sa.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        report_err(c, "connect: %s", strerror(errno));
        return NULL;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    char cmd[8192], exp[8192], val[4096], key[64], key2[64];
    long counter = 0;
    int counter_set = 0;

    for (long i = 0; c->req < reqs_per_conn; i++) {
        if (now() - t_start > max_seconds)
            break;
        size_t vlen = 1 + (size_t)((i * 37 + c->id * 11) % 2000);
        snprintf(key, sizeof key, "rw:%d:%ld", c->id, i % 500);
        int rc = 0;
        switch (i % 7) {
        case 0: /* set */
            make_value(val, vlen, c->id, i);
            int h = snprintf(cmd, sizeof cmd, "set %s %ld 0 %zu\r\n", key, i & 0xffff, vlen);
            memcpy(cmd + h, val, vlen);
            memcpy(cmd + h + vlen, "\r\n", 2);
            if (send_all(c, cmd, (size_t)h + vlen + 2) < 0) {
                report_err(c, "send failed");
                goto out;
            }
            rc = expect_exact(c, "STORED\r\n");
            break;
        case 1: { /* get of the key set in the previous step, checked byte for byte */
            long j = i - 1;
            size_t vl = 1 + (size_t)((j * 37 + c->id * 11) % 2000);
            snprintf(key, sizeof key, "rw:%d:%ld", c->id, j % 500);
            make_value(val, vl, c->id, j);
            snprintf(cmd, sizeof cmd, "get %s\r\n", key);
            int e = snprintf(exp, sizeof exp, "VALUE %s %ld %zu\r\n", key, j & 0xffff, vl);
            memcpy(exp + e, val, vl);
            memcpy(exp + e + vl, "\r\nEND\r\n", 8);
            if (send_all(c, cmd, strlen(cmd)) < 0) {
                report_err(c, "send failed");
                goto out;
            }
            rc = expect_exact(c, exp);
            break;
        }
        case 2: /* miss */
            snprintf(cmd, sizeof cmd, "get rw:never:%d:%ld\r\n", c->id, i);
            if (send_all(c, cmd, strlen(cmd)) < 0) {
                report_err(c, "send failed");
                goto out;
            }
            rc = expect_exact(c, "END\r\n");
            break;
        case 3: /* counter: set once, then incr */
            if (!counter_set) {
                snprintf(cmd, sizeof cmd, "set rw:ctr:%d 0 0 1\r\n0\r\n", c->id);
                if (send_all(c, cmd, strlen(cmd)) < 0) {
                    report_err(c, "send failed");
                    goto out;
                }
                rc = expect_exact(c, "STORED\r\n");
                counter_set = 1;
                counter = 0;
                break;
            }
            counter += 3;
            snprintf(cmd, sizeof cmd, "incr rw:ctr:%d 3\r\n", c->id);
            snprintf(exp, sizeof exp, "%ld\r\n", counter);
            if (send_all(c, cmd, strlen(cmd)) < 0) {
                report_err(c, "send failed");
                goto out;
            }
            rc = expect_exact(c, exp);
            break;
        case 4: /* delete the key set at step 0 of this round */
            snprintf(key, sizeof key, "rw:%d:%ld", c->id, (i - 4) % 500);
            snprintf(cmd, sizeof cmd, "delete %s\r\n", key);
            if (send_all(c, cmd, strlen(cmd)) < 0) {
                report_err(c, "send failed");
                goto out;
            }
            rc = expect_exact(c, "DELETED\r\n");
            break;
        case 5: /* get after delete: miss */
            snprintf(key, sizeof key, "rw:%d:%ld", c->id, (i - 5) % 500);
            snprintf(cmd, sizeof cmd, "get %s\r\n", key);
            if (send_all(c, cmd, strlen(cmd)) < 0) {
                report_err(c, "send failed");
                goto out;
            }
            rc = expect_exact(c, "END\r\n");
            break;
        case 6: /* set two small keys then multi-get them */
            snprintf(key, sizeof key, "rw:%d:m1", c->id);
            snprintf(key2, sizeof key2, "rw:%d:m2", c->id);
            snprintf(cmd, sizeof cmd,
                     "set %s 1 0 2\r\nm1\r\nset %s 2 0 2\r\nm2\r\nget %s %s\r\n",
                     key, key2, key, key2);
            snprintf(exp, sizeof exp,
                     "STORED\r\nSTORED\r\nVALUE %s 1 2\r\nm1\r\nVALUE %s 2 2\r\nm2\r\nEND\r\n",
                     key, key2);
            if (send_all(c, cmd, strlen(cmd)) < 0) {
                report_err(c, "send failed");
                goto out;
            }
            rc = expect_exact(c, exp);
            c->req += 2; /* three requests in one round trip */
            break;
        }
        c->req++;
        if (rc == 0)
            c->ok += (i % 7 == 6) ? 3 : 1;
        if (pause_us)
            usleep((useconds_t)pause_us);
    }
out:
    close(c->fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT CONNS REQS_PER_CONN [MAX_SECONDS] [PAUSE_US]\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    int conns = atoi(argv[3]);
    reqs_per_conn = atoi(argv[4]);
    if (argc > 5)
        max_seconds = atof(argv[5]);
    if (argc > 6)
        pause_us = atoi(argv[6]);
    if (conns < 1 || conns > 256 || reqs_per_conn < 1) {
        fprintf(stderr, "mc-load: bad arguments\n");
        return 2;
    }
    struct conn *cs = calloc((size_t)conns, sizeof *cs);
    pthread_t *th = calloc((size_t)conns, sizeof *th);
    t_start = now();
    for (int k = 0; k < conns; k++) {
        cs[k].id = k;
        pthread_create(&th[k], NULL, worker, &cs[k]);
    }
    for (int k = 0; k < conns; k++) {
        pthread_join(th[k], NULL);
        total_req += cs[k].req;
        total_ok += cs[k].ok;
        total_err += cs[k].err;
    }
    double secs = now() - t_start;
    printf("mc-load: requests=%ld ok=%ld errors=%ld seconds=%.2f rate=%.0f/s\n",
           total_req, total_ok, total_err, secs, secs > 0 ? total_req / secs : 0.0);
    return (total_err == 0 && total_req > 0 && total_ok == total_req) ? 0 : 1;
}
