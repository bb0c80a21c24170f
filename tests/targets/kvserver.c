/*
 * kvserver: a small multi-threaded TCP key-value server on 127.0.0.1.
 *
 * Prints "ready PID PORT", then serves line requests on every connection,
 * eight worker threads taking connections from one listening socket:
 *
 *   SET key value  -> OK           GET key  -> VALUE value | NONE
 *   PING           -> PONG         STATS    -> STATS sets gets pings
 *
 * stdin "quit" (or EOF) stops it.  Built -pg -O2 like a real daemon.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define NWORKERS 8
#define NBUCKETS 4096
#define NSTRIPES 64

struct entry {
	struct entry *next;
	char key[64], value[64];
};

static struct entry *table[NBUCKETS];
static pthread_mutex_t stripes[NSTRIPES];
static unsigned long n_sets, n_gets, n_pings;
static int lsock;

NOINLINE static unsigned hash_key(const char *k)
{
	unsigned h = 2166136261u;

	while (*k)
		h = (h ^ (unsigned char)*k++) * 16777619u;
	return h;
}

NOINLINE static void kv_put(const char *k, const char *v)
{
	unsigned h = hash_key(k);
	pthread_mutex_t *m = &stripes[h % NSTRIPES];
	struct entry *e;

	pthread_mutex_lock(m);
	for (e = table[h % NBUCKETS]; e; e = e->next)
		if (!strcmp(e->key, k))
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", k);
		e->next = table[h % NBUCKETS];
		table[h % NBUCKETS] = e;
	}
	snprintf(e->value, sizeof(e->value), "%s", v);
	pthread_mutex_unlock(m);
}

NOINLINE static int kv_get(const char *k, char *out, size_t len)
{
	unsigned h = hash_key(k);
	pthread_mutex_t *m = &stripes[h % NSTRIPES];
	int found = 0;

	pthread_mutex_lock(m);
	for (struct entry *e = table[h % NBUCKETS]; e; e = e->next)
		if (!strcmp(e->key, k)) {
			snprintf(out, len, "%s", e->value);
			found = 1;
			break;
		}
	pthread_mutex_unlock(m);
	return found;
}

NOINLINE static int handle_set(const char *k, const char *v, char *reply, size_t len)
{
	kv_put(k, v);
	__atomic_add_fetch(&n_sets, 1, __ATOMIC_RELAXED);
	return snprintf(reply, len, "OK\n");
}

NOINLINE static int handle_get(const char *k, char *reply, size_t len)
{
	char v[64];

	__atomic_add_fetch(&n_gets, 1, __ATOMIC_RELAXED);
	if (kv_get(k, v, sizeof(v)))
		return snprintf(reply, len, "VALUE %s\n", v);
	return snprintf(reply, len, "NONE\n");
}

NOINLINE static int handle_ping(char *reply, size_t len)
{
	__atomic_add_fetch(&n_pings, 1, __ATOMIC_RELAXED);
	return snprintf(reply, len, "PONG\n");
}

NOINLINE static int handle_line(char *line, char *reply, size_t len)
{
	char k[64], v[64];

	if (sscanf(line, "SET %63s %63s", k, v) == 2)
		return handle_set(k, v, reply, len);
	if (sscanf(line, "GET %63s", k) == 1)
		return handle_get(k, reply, len);
	if (!strncmp(line, "PING", 4))
		return handle_ping(reply, len);
	if (!strncmp(line, "STATS", 5))
		return snprintf(reply, len, "STATS %lu %lu %lu\n", n_sets, n_gets, n_pings);
	return snprintf(reply, len, "ERROR\n");
}

/* One connection: requests are lines; a read may hold several. */
static void serve(int fd)
{
	char buf[8192], reply[256];
	size_t have = 0;

	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *start = buf, *nl;

		if (n <= 0)
			break;
		have += n;
		buf[have] = 0;
		while ((nl = strchr(start, '\n'))) {
			int len;

			*nl = 0;
			len = handle_line(start, reply, sizeof(reply));
			if (write(fd, reply, len) != len)
				goto out;
			start = nl + 1;
		}
		have -= start - buf;
		memmove(buf, start, have);
	}
out:
	close(fd);
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(lsock, NULL, NULL);

		if (fd < 0)
			return NULL;
		serve(fd);
	}
}

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	pthread_t t;
	char line[64];
	int one = 1;

	for (int i = 0; i < NSTRIPES; i++)
		pthread_mutex_init(&stripes[i], NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lsock = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lsock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lsock, 128) || getsockname(lsock, (struct sockaddr *)&sa, &sl)) {
		perror("kvserver");
		return 1;
	}
	for (int i = 0; i < NWORKERS; i++)
		pthread_create(&t, NULL, worker, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d %d\n", (int)getpid(), ntohs(sa.sin_port));
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4))
		;
	return 0;
}
