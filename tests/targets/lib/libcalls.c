/*
 * libcalls: a -pg target whose functions call into libc and libpthread
 * through the PLT (or the GOT with -fno-plt), for tattach --libcalls.
 * Built lazy, -z now, -fno-plt and non-PIE (targets.mk).
 *
 * It prints "ready <pid>" and answers each command line on stdin with one
 * line.  Its own I/O makes system calls directly (no library call), so
 * the trace holds only what the commands do.
 *
 *   libs N    N x use_lib(): malloc memcpy strlen pthread_mutex_lock
 *             pthread_mutex_unlock free                     -> "done"
 *   write     do_write(): write                             -> "done"
 *   sort      do_sort(): qsort of 6 longs with cmp_long     -> "done K"
 *             (K = comparisons qsort made)
 *   mt T N    T threads, each thread_main(): N x use_lib()   -> "done"
 *   jump      do_jump(): setjmp, jumper(): longjmp back, then
 *             after_jump()                                  -> "done"
 *   texit     a thread runs thread_exit_main(): pthread_exit -> "done"
 *   once      do_once(): pthread_once, whose routine once_init()
 *             runs the first time only                      -> "done"
 *   exit      do_exit(): exit(0), whose atexit handler calls
 *             at_exit_handler(): write                      (dies)
 *   execve    do_execve(): execve of itself with "execed", the new image
 *             prints "execed <pid>" and exits 0              (replaced)
 *   quit      _exit(0)
 *
 * With TATTACH_NORAND=1 in the environment it first re-executes itself
 * without address randomisation, so two runs have the same layout and
 * their GOTs can be compared byte for byte.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))
#define NOTRACE __attribute__((no_instrument_function))

volatile long sink;
static const char text[] = "library calls";
static volatile size_t textlen = sizeof(text);
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long compares;

NOINLINE long use_lib(long i)
{
	char *p = malloc(64);
	size_t n;

	if (!p)
		abort();
	memcpy(p, text, textlen);
	n = strlen(p);
	pthread_mutex_lock(&mu);
	sink += n + i;
	pthread_mutex_unlock(&mu);
	free(p);
	sink++;
	return (long)n;
}

NOINLINE void *thread_main(void *arg)
{
	for (long i = 0; i < (long)arg; i++)
		use_lib(i);
	sink++;
	return NULL;
}

NOINLINE int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	compares++;
	return x < y ? -1 : x > y;
}

NOINLINE long do_sort(void)
{
	long v[6] = { 5, 3, 9, 1, 7, 2 };

	compares = 0;
	qsort(v, 6, sizeof(v[0]), cmp_long);
	sink += v[0];
	return compares;
}

NOINLINE void do_write(void)
{
	if (write(STDERR_FILENO, "", 0) < 0)
		abort();
	sink++;
}

NOINLINE void at_exit_handler(void)
{
	if (write(STDERR_FILENO, "", 0) < 0)
		abort();
	sink++;
}

static jmp_buf jump_buf;

NOINLINE void jumper(void)
{
	longjmp(jump_buf, 1);
}

NOINLINE void after_jump(void)
{
	sink++;
}

NOINLINE void do_jump(void)
{
	if (!setjmp(jump_buf))
		jumper();
	after_jump();
}

NOINLINE void *thread_exit_main(void *arg)
{
	pthread_exit(arg);
}

NOINLINE int thread_exit(void)
{
	pthread_t tid;

	if (pthread_create(&tid, NULL, thread_exit_main, NULL))
		return -1;
	return pthread_join(tid, NULL) ? -1 : 0;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

NOINLINE void once_init(void)
{
	sink++;
}

NOINLINE void do_once(void)
{
	pthread_once(&once, once_init);
	sink++;
}

NOINLINE void do_exit(void)
{
	exit(0);
}

/* Never returns when the exec works: the new image answers instead. */
NOINLINE void do_execve(char **argv)
{
	char *args[] = { argv[0], "execed", NULL };
	extern char **environ;

	execve("/proc/self/exe", args, environ);
	sink++;
}

/* Parsing by hand: no library call the trace would have to list. */
NOTRACE static int starts(const char *s, const char *word)
{
	while (*word)
		if (*s++ != *word++)
			return 0;
	return 1;
}

NOTRACE static long number(const char **s)
{
	long v = 0;

	while (**s == ' ')
		(*s)++;
	while (**s >= '0' && **s <= '9')
		v = v * 10 + (*(*s)++ - '0');
	return v;
}

/* I/O without libc: the main loop makes no library call. */
NOTRACE static long sys_io(long nr, int fd, void *buf, size_t len)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(fd), "S"(buf), "d"(len)
			 : "rcx", "r11", "memory");
	return ret;
}

/* One line of stdin (the harness may write it in pieces), NUL-terminated. */
NOTRACE static int read_line(char *line, size_t max)
{
	size_t n = 0;

	while (n + 1 < max) {
		if (sys_io(0 /* read */, 0, line + n, 1) != 1)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = 0;
	return 0;
}

NOINLINE int run_threads(long t, long n)
{
	pthread_t tids[64];

	for (long i = 0; i < t && i < 64; i++)
		if (pthread_create(&tids[i], NULL, thread_main, (void *)n))
			return -1;
	for (long i = 0; i < t && i < 64; i++)
		pthread_join(tids[i], NULL);
	return 0;
}

/* Returns -1 for an unknown command, else a number to print (or -2). */
static char **main_argv;

NOINLINE long dispatch(const char *line)
{
	const char *p = line;

	if (starts(line, "libs ")) {
		p += 5;
		for (long i = 0, n = number(&p); i < n; i++)
			use_lib(i);
		return -2;
	}
	if (starts(line, "write")) {
		do_write();
		return -2;
	}
	if (starts(line, "sort"))
		return do_sort();
	if (starts(line, "mt ")) {
		long t, n;

		p += 3;
		t = number(&p);
		n = number(&p);
		return run_threads(t, n) ? -1 : -2;
	}
	if (starts(line, "jump")) {
		do_jump();
		return -2;
	}
	if (starts(line, "once")) {
		do_once();
		return -2;
	}
	if (starts(line, "texit"))
		return thread_exit() ? -1 : -2;
	if (starts(line, "exit"))
		do_exit();
	if (starts(line, "execve")) {
		do_execve(main_argv);
		return -1;
	}
	if (starts(line, "quit"))
		_exit(0);
	return -1;
}

NOTRACE static void answer(long r)
{
	char buf[32] = "error", digits[24];
	size_t len = 5, nd = 0;

	if (r != -1) {
		buf[0] = 'd', buf[1] = 'o', buf[2] = 'n', buf[3] = 'e';
		len = 4;
	}
	if (r >= 0) {
		do
			digits[nd++] = (char)('0' + r % 10);
		while ((r /= 10) && nd < sizeof(digits));
		buf[len++] = ' ';
		while (nd)
			buf[len++] = digits[--nd];
	}
	buf[len++] = '\n';
	if (sys_io(1 /* write */, STDOUT_FILENO, buf, len) != (long)len)
		_exit(3);
}

int main(int argc, char **argv)
{
	char line[256];
	ssize_t n;

	main_argv = argv;
	if (argc > 1 && !strcmp(argv[1], "execed")) {
		/* the image execve started: one line, then gone */
		n = snprintf(line, sizeof(line), "execed %d\n", (int)getpid());
		_exit(write(STDOUT_FILENO, line, (size_t)n) == n ? 0 : 3);
	}
	if (getenv("TATTACH_NORAND") && !(personality(0xffffffff) & ADDR_NO_RANDOMIZE)) {
		personality(ADDR_NO_RANDOMIZE);
		execv("/proc/self/exe", argv);
		return 4;
	}
	atexit(at_exit_handler);
	n = snprintf(line, sizeof(line), "ready %d\n", (int)getpid());
	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		return 3;
	while (!read_line(line, sizeof(line)))
		answer(dispatch(line));
	return 0;
}
