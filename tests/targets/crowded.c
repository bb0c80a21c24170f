/*
 * crowded: a -pg program that reserves (PROT_NONE) every free address
 * within 2.1 GiB of its code, so no trampoline can be placed near it:
 * tattach must refuse before stopping it.  "run N" -> "done".
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SPAN (2200ull << 20)

__attribute__((noinline)) long work(long n)
{
	return n * 2;
}

/* Reserve every gap of [lo, hi) that /proc/self/maps shows. */
static int reserve(uint64_t lo, uint64_t hi)
{
	unsigned long long start, end, prev = lo;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	uint64_t gaps[256][2];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < 255) {
		if (sscanf(line, "%llx-%llx", &start, &end) != 2)
			continue;
		if (start > prev && prev < hi) {
			gaps[n][0] = prev;
			gaps[n][1] = start < hi ? start : hi;
			n++;
		}
		if (end > prev)
			prev = end;
	}
	fclose(f);
	if (prev < hi) {
		gaps[n][0] = prev;
		gaps[n][1] = hi;
		n++;
	}
	for (int i = 0; i < n; i++)
		if (gaps[i][1] > gaps[i][0] &&
		    mmap((void *)gaps[i][0], gaps[i][1] - gaps[i][0], PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
			 -1, 0) == MAP_FAILED)
			return -1;
	return 0;
}

int main(void)
{
	uint64_t text = (uint64_t)(uintptr_t)&work;
	uint64_t lo = (text > SPAN + 0x10000 ? text - SPAN : 0x10000) & ~0xfffull;
	char line[64];
	long n;

	if (reserve(lo, (text + SPAN) & ~0xfffull)) {
		perror("crowded: reserve");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4))
		printf(sscanf(line, "run %ld", &n) == 1 && work(n) == 2 * n ? "done\n" : "error\n");
	return 0;
}
