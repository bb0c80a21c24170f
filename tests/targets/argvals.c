/*
 * argvals: functions with known arguments and return values, for
 * tattach -A/-R (tests/integration/test_args.c).
 *
 * Prints "ready <pid>", then per line on stdin:
 *
 *   run    one round of the calls below    -> "done <address pick() returned>"
 *   quit   exit(0)
 *
 * One round calls, in this order:
 *   sum_signed(-5, -300, 1234567890123)       = 1234567889818
 *   umix(200, 4000000000)                     = 4000000200
 *   paint(BLUE, 3)                            = 6    (enum color)
 *   paint((enum color)42, 1)                  = -1
 *   greet("world", NULL, (char *)0x10)        = 5    (the wild pointer is never read)
 *   scale(2.5, 0.25f, 3)                      = 1.875
 *   pick(1)                                   = &names[1] ("beta")
 *   shout(a 70-byte string)                   = 70
 *   plain(7)                                  = 8
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

enum color { RED, GREEN = 5, BLUE };

volatile long sink;

NOINLINE long sum_signed(int a, short b, long c)
{
	sink += a;
	return a + b + c;
}

NOINLINE unsigned long umix(unsigned char x, unsigned int y)
{
	sink += x;
	return (unsigned long)x + y;
}

NOINLINE int paint(enum color c, int n)
{
	sink += n;
	return c == BLUE ? 2 * n : -1;
}

NOINLINE int greet(const char *who, const char *none, const char *wild)
{
	sink += (long)none + (long)wild;
	return (int)strlen(who);
}

NOINLINE double scale(double x, float f, int k)
{
	sink += k;
	return x * f * k;
}

static const char *const names[] = { "alpha", "beta", "gamma" };

NOINLINE const char *pick(int i)
{
	sink += i;
	return names[i];
}

NOINLINE int shout(const char *text)
{
	sink++;
	return (int)strlen(text);
}

NOINLINE int plain(int x)
{
	sink += x;
	return x + 1;
}

static void round_of_calls(void)
{
	const char *p;

	sink += sum_signed(-5, -300, 1234567890123L);
	sink += (long)umix(200, 4000000000u);
	sink += paint(BLUE, 3);
	sink += paint((enum color)42, 1);
	sink += greet("world", NULL, (const char *)0x10);
	sink += (long)scale(2.5, 0.25f, 3);
	p = pick(1);
	sink += shout("0123456789012345678901234567890123456789012345678901234567890123456789");
	sink += plain(7);
	printf("done %p\n", (const void *)p);
}

int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "run", 3))
			round_of_calls();
		else if (!strncmp(line, "quit", 4))
			break;
	}
	return 0;
}
