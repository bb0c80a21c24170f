/*
 * marks: a program using <tattach/mark.h> (tests/integration/test_marks.c).
 *
 * Prints "ready <pid>", then per line on stdin:
 *
 *   run N   work(i) for i = 0..N-1, each making, in this order:
 *             tattach_label("worker %d", i)
 *             tattach_counter("queue", 10 * i - 5)
 *             step(i) { tattach_mark("cache miss") }     only for odd i
 *           then tattach_counter("queue", 0)                -> "done"
 *   label   tattach_label("%s", "x"); answers "done 1" if that label was
 *           formatted and recorded (tattach_marks_on set), "done 0" if not
 *   quit    exit(0)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <tattach/mark.h>

#define NOINLINE __attribute__((noinline, noclone))

volatile long sink;

NOINLINE void step(int i)
{
	if (i % 2)
		tattach_mark("cache miss");
	sink += i;
}

NOINLINE void work(int i)
{
	tattach_label("worker %d", i);
	tattach_counter("queue", 10LL * i - 5);
	step(i);
}

int main(void)
{
	char line[64];
	int n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "run %d", &n) == 1) {
			for (int i = 0; i < n; i++)
				work(i);
			tattach_counter("queue", 0);
			printf("done\n");
		} else if (!strncmp(line, "label", 5)) {
			tattach_label("%s", "x");
			printf("done %d\n", tattach_marks_on);
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
	}
	return 0;
}
