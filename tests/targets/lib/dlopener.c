/*
 * dlopener: a -pg program that loads the -pg library libwork.so only when
 * told, to trace a library loaded after tracing was enabled.
 *
 *   load [LIB]  dlopen() LIB (default libwork.so) next to the
 *             program                                    -> "done"
 *   run N     lib_work(N) through dlsym, checked         -> "done"
 *   unload    dlclose() it: unmapped until the next load  -> "done"
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long (*lib_work)(long);
static void *handle;

__attribute__((noinline)) static int load(const char *lib)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	void *h;

	if (n <= 0)
		return -1;
	path[n] = 0;
	if (strlen(lib) > 30)
		return -1;
	strcpy(strrchr(path, '/') + 1, lib);
	h = dlopen(path, RTLD_NOW);
	lib_work = h ? (long (*)(long))dlsym(h, "lib_work") : NULL;
	if (!lib_work)
		return -1;
	handle = h;
	return 0;
}

__attribute__((noinline)) static int unload(void)
{
	int ret = handle ? dlclose(handle) : -1;

	handle = NULL;
	lib_work = NULL;
	return ret;
}

int main(void)
{
	char line[64], lib[64];
	long n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		if (sscanf(line, "load %63s", lib) == 1)
			printf(load(lib) ? "error\n" : "done\n");
		else if (!strncmp(line, "load", 4))
			printf(load("libwork.so") ? "error\n" : "done\n");
		else if (!strncmp(line, "unload", 6))
			printf(unload() ? "error\n" : "done\n");
		else if (sscanf(line, "run %ld", &n) == 1 && lib_work &&
			 lib_work(n) == n * (n + 1) / 2)
			printf("done\n");
		else
			printf("error\n");
	}
	return 0;
}
