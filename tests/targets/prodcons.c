/*
 * prodcons: a producer (the main thread) hands items to a consumer thread
 * through a one-slot queue guarded by a mutex and two condition variables,
 * for the thread interactions of tread's exports.
 *
 * Prints "ready <consumer tid> <&ready> <&lock>" and reads one command per
 * line on stdin:
 *
 *   produce N   N rounds of: the producer waits on `idle` until the
 *               consumer says, under the mutex, that it waits on `ready`;
 *               puts item i in the slot and signals `ready`; the consumer
 *               wakes, takes it and runs consume_item(i)        -> "done"
 *   quit        stop the consumer, join it, exit(0)
 *
 * So each item gives exactly one pthread_cond_signal(&ready) by the
 * producer that ends a pthread_cond_wait(&ready, &lock) of the consumer:
 * the consumer said it waits under the mutex, and cond_wait releases the
 * mutex only once the thread waits, so the producer, holding the mutex,
 * knows its signal finds the consumer waiting.  Nothing else signals
 * `ready`.  Waits are condition variables and pipes, never sleeps.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;	/* slot filled */
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;	/* consumer waits */
static long slot;			/* 0: empty; -1: stop */
static int consumer_waiting;
static int done_pipe[2];
volatile long sink;

NOINLINE void consume_item(long i)
{
	sink += i;
}

NOINLINE long take_item(void)
{
	long item;

	pthread_mutex_lock(&lock);
	while (!slot) {
		consumer_waiting = 1;
		pthread_cond_signal(&idle);
		pthread_cond_wait(&ready, &lock);
	}
	item = slot;
	slot = 0;
	consumer_waiting = 0;
	pthread_mutex_unlock(&lock);
	return item;
}

NOINLINE void put_item(long i)
{
	pthread_mutex_lock(&lock);
	while (!consumer_waiting)
		pthread_cond_wait(&idle, &lock);
	consumer_waiting = 0;
	slot = i;
	pthread_cond_signal(&ready);
	pthread_mutex_unlock(&lock);
}

static void *consumer(void *arg)
{
	long item;

	(void)arg;
	while ((item = take_item()) > 0) {
		consume_item(item);
		if (write(done_pipe[1], &item, sizeof(item)) != sizeof(item))
			abort();
	}
	return NULL;
}

NOINLINE void produce(long n)
{
	for (long i = 1; i <= n; i++) {
		long ack;

		put_item(i);
		if (read(done_pipe[0], &ack, sizeof(ack)) != sizeof(ack) || ack != i)
			abort();
	}
}

static pid_t consumer_tid;

static void *consumer_start(void *arg)
{
	__atomic_store_n(&consumer_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	return consumer(arg);
}

int main(void)
{
	char line[256];
	pthread_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(done_pipe) || pthread_create(&t, NULL, consumer_start, NULL)) {
		perror("prodcons");
		return 1;
	}
	pthread_setname_np(t, "consumer");
	/* the consumer's first take_item() says it waits before we go on */
	pthread_mutex_lock(&lock);
	while (!consumer_waiting)
		pthread_cond_wait(&idle, &lock);
	pthread_mutex_unlock(&lock);
	printf("ready %d %p %p\n", __atomic_load_n(&consumer_tid, __ATOMIC_ACQUIRE),
	       (void *)&ready, (void *)&lock);
	while (fgets(line, sizeof(line), stdin)) {
		long n;

		if (sscanf(line, "produce %ld", &n) == 1) {
			produce(n);
			printf("done\n");
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
	}
	pthread_mutex_lock(&lock);
	while (!consumer_waiting)
		pthread_cond_wait(&idle, &lock);
	slot = -1;
	pthread_cond_signal(&ready);
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	return 0;
}
