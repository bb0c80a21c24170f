/*
 * demo: a tiny multi-threaded "server" for `make demo`.
 *
 * Four worker threads take requests from a queue; each request is parsed,
 * looked up in a small table and answered.  Commands on stdin:
 *
 *   serve N    queue N requests, answer "done" when all are handled
 *   quit       stop the workers and exit
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NWORKERS 4
#define NOINLINE __attribute__((noinline))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static long queued, handled, next_id;
static int stopping;
static const char *const table[] = { "alpha", "bravo", "charlie", "delta",
				     "echo", "foxtrot", "golf", "hotel" };

NOINLINE static unsigned long hash_key(const char *s)
{
	unsigned long h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

NOINLINE static int parse_request(long id, char *key, size_t len)
{
	snprintf(key, len, "%s", table[id % 8]);
	return (int)(id % 3);
}

NOINLINE static const char *lookup(const char *key)
{
	unsigned long h = hash_key(key);

	for (size_t i = 0; i < 8; i++)
		if (hash_key(table[i]) == h)
			return table[i];
	return NULL;
}

NOINLINE static size_t render_reply(const char *value, int op, char *out, size_t len)
{
	return (size_t)snprintf(out, len, "%d:%s", op, value ? value : "-");
}

NOINLINE static void handle_request(long id)
{
	char key[32], reply[64];
	int op = parse_request(id, key, sizeof(key));

	render_reply(lookup(key), op, reply, sizeof(reply));
}

NOINLINE static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!queued && !stopping)
			pthread_cond_wait(&more, &lock);
		if (stopping && !queued)
			break;
		long id = next_id++;

		queued--;
		pthread_mutex_unlock(&lock);
		handle_request(id);
		pthread_mutex_lock(&lock);
		if (++handled && !queued)
			pthread_cond_broadcast(&idle);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(void)
{
	pthread_t tids[NWORKERS];
	char line[64];
	long n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < NWORKERS; i++)
		pthread_create(&tids[i], NULL, worker, NULL);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		if (sscanf(line, "serve %ld", &n) != 1) {
			printf("error\n");
			continue;
		}
		pthread_mutex_lock(&lock);
		long target = handled + n;

		queued += n;
		pthread_cond_broadcast(&more);
		while (handled < target)
			pthread_cond_wait(&idle, &lock);
		pthread_mutex_unlock(&lock);
		printf("done\n");
	}
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_broadcast(&more);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(tids[i], NULL);
	return 0;
}
