/*
 * uselib: a -pg program whose work happens in a -pg shared library that
 * the loader maps far (more than 2 GiB) from the program, so each needs a
 * trampoline copy of its own.
 *
 *   run N   -> app_work(N) { lib_work(N) { lib_leaf() x N } }  -> "done"
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

long lib_work(long n);

NOINLINE long app_work(long n)
{
	return lib_work(n);
}

int main(void)
{
	char line[64];
	long n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		if (sscanf(line, "run %ld", &n) == 1 && app_work(n) == n * (n + 1) / 2)
			printf("done\n");
		else
			printf("error\n");
	}
	return 0;
}
