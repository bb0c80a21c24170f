/*
 * memexec: runs the program named by $MEMEXEC from an anonymous file
 * (memfd_create(), then fexecve()), as some launchers and container
 * runtimes do.  The program's mappings then read "/memfd:NAME (deleted)",
 * a path no file is at (tests/integration/test_modules.c).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
	const char *path = getenv("MEMEXEC");
	char buf[65536], *argv[] = { "memexec-program", NULL };
	int in, mem;
	ssize_t n;

	if (!path) {
		fprintf(stderr, "memexec: set MEMEXEC to the program to run\n");
		return 2;
	}
	in = open(path, O_RDONLY | O_CLOEXEC);
	mem = memfd_create("memexec-program", MFD_CLOEXEC);
	if (in < 0 || mem < 0) {
		perror(path);
		return 1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(mem, buf, (size_t)n) != n)
			return 1;
	close(in);
	unsetenv("MEMEXEC");
	fexecve(mem, argv, environ);
	perror("memexec: fexecve");
	return 1;
}
