// SPDX-License-Identifier: MIT
/*
 * A multi-threaded TCP key-value server traced while under load, all on
 * 127.0.0.1: ping traffic flows through --enable and --disable, SET/GET
 * traffic runs while enabled.  No request may fail or get a wrong answer,
 * and the trace must hold exactly as many handler calls as were made.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/graph_parse.h"
#include "lib/proc_harness.h"

#define KV_THREADS 4
#define KV_KEYS 2000
#define PING_THREADS 2

static int port;
static volatile int pinging;
static long ping_ok[PING_THREADS], ping_bad[PING_THREADS];
static long kv_bad[KV_THREADS];

struct conn {
	int fd;
	char buf[4096];
	size_t have;
};

static int conn_open(struct conn *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->have = 0;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	return c->fd >= 0 && connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -1;
}

/* Send one request line, read one answer line into @ans. */
static int request(struct conn *c, const char *req, char *ans, size_t len)
{
	size_t n = strlen(req);
	char *nl;

	if (write(c->fd, req, n) != (ssize_t)n)
		return -1;
	while (!(nl = memchr(c->buf, '\n', c->have))) {
		ssize_t r = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);

		if (r <= 0)
			return -1;
		c->have += r;
	}
	*nl = 0;
	snprintf(ans, len, "%.127s", c->buf);
	c->have -= nl + 1 - c->buf;
	memmove(c->buf, nl + 1, c->have);
	return 0;
}

static void *pinger(void *arg)
{
	long i = (long)arg;
	struct conn c;
	char ans[64];

	if (conn_open(&c)) {
		ping_bad[i]++;
		return NULL;
	}
	while (pinging) {
		if (request(&c, "PING\n", ans, sizeof(ans)) || strcmp(ans, "PONG"))
			ping_bad[i]++;
		else
			ping_ok[i]++;
	}
	close(c.fd);
	return NULL;
}

static void *kv_client(void *arg)
{
	long i = (long)arg;
	char req[128], ans[128], want[128];
	struct conn c;

	if (conn_open(&c)) {
		kv_bad[i] = KV_KEYS;
		return NULL;
	}
	for (int k = 0; k < KV_KEYS; k++) {
		snprintf(req, sizeof(req), "SET key-%ld-%d value-%d\n", i, k, k * 7);
		if (request(&c, req, ans, sizeof(ans)) || strcmp(ans, "OK"))
			kv_bad[i]++;
		snprintf(req, sizeof(req), "GET key-%ld-%d\n", i, k);
		snprintf(want, sizeof(want), "VALUE value-%d", k * 7);
		if (request(&c, req, ans, sizeof(ans)) || strcmp(ans, want))
			kv_bad[i]++;
	}
	close(c.fd);
	return NULL;
}

Test(kvserver, traced_under_load, .timeout = 300)
{
	pthread_t pingers[PING_THREADS], clients[KV_THREADS];
	char *out = NULL, *err = NULL, ans[128];
	long pings = 0, bad = 0, sets, gets, pongs;
	struct target t;
	struct conn c;
	int pid;

	target_start(&t, build_path("tests/targets/kvserver"));
	cr_assert(sscanf(t.ready, "ready %d %d", &pid, &port) == 2, "%s", t.ready);
	ring_remove(t.pid);
	pinging = 1;
	for (long i = 0; i < PING_THREADS; i++)
		pthread_create(&pingers[i], NULL, pinger, (void *)i);

	cr_assert_eq(tattach(t.pid, "--enable -b 16M", &out, &err), 0, "%s", err);
	for (long i = 0; i < KV_THREADS; i++)
		pthread_create(&clients[i], NULL, kv_client, (void *)i);
	for (long i = 0; i < KV_THREADS; i++)
		pthread_join(clients[i], NULL);
	cr_assert_eq(tattach(t.pid, "--disable", &out, &err), 0, "%s", err);

	pinging = 0;
	for (long i = 0; i < PING_THREADS; i++) {
		pthread_join(pingers[i], NULL);
		pings += ping_ok[i];
		bad += ping_bad[i];
	}
	for (long i = 0; i < KV_THREADS; i++)
		bad += kv_bad[i];
	cr_assert_eq(bad, 0, "%ld failed or wrong requests", bad);
	cr_assert_gt(pings, 0);

	cr_assert_eq(conn_open(&c), 0);
	cr_assert_eq(request(&c, "STATS\n", ans, sizeof(ans)), 0);
	close(c.fd);
	cr_assert(sscanf(ans, "STATS %ld %ld %ld", &sets, &gets, &pongs) == 3, "%s", ans);
	cr_assert_eq(sets, KV_THREADS * KV_KEYS);
	cr_assert_eq(gets, KV_THREADS * KV_KEYS);

	cr_assert_eq(tread(t.pid, "--report", &out, &err), 0, "%s", err);
	cr_assert_eq(report_calls(out, "handle_set"), KV_THREADS * KV_KEYS, "%s", out);
	cr_assert_eq(report_calls(out, "handle_get"), KV_THREADS * KV_KEYS, "%s", out);
	cr_assert_eq(report_calls(out, "kv_put"), KV_THREADS * KV_KEYS, "%s", out);
	cr_assert_leq(report_calls(out, "handle_ping"), pings, "%s", out);
	cr_assert(!strstr(out, "lost") && !strstr(out, "dropped"), "%s", out);
	cr_log_info("kvserver: %d SET + %d GET while traced, %ld pings through enable/disable, "
		    "0 errors", KV_THREADS * KV_KEYS, KV_THREADS * KV_KEYS, pings);
	target_stop(&t);
	ring_remove(t.pid);
	free(out);
	free(err);
}
