/*
 * abi: traced functions that pass and return every kind of value the
 * x86-64 ABI has, and check their own results.  If the trampoline
 * clobbered an argument register (%rdi..%r9, %rax for varargs, %r10),
 * a return register (%rax, %rdx, %xmm0, %xmm1, x87 st0/st1) or the
 * stack, a check fails and the program answers "error" instead of "done".
 *
 * Protocol as calltree: "ready <pid>", then "run N" -> "done" | "error".
 */
#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

struct small { long a; double b; };		/* rax + xmm0 */
struct pair { long a, b; };			/* rax + rdx */
struct dpair { double x, y; };			/* xmm0 + xmm1 */
struct big { long v[8]; };			/* memory, hidden pointer */

static int failures;

#define CHECK(cond) do { if (!(cond)) { failures++; \
	fprintf(stderr, "abi: check failed at line %d: %s\n", __LINE__, #cond); } } while (0)

NOINLINE float f_float(float a, float b, float c, float d, float e, float f,
		       float g, float h, float i)
{
	return a + b * 2 + c * 3 + d * 4 + e * 5 + f * 6 + g * 7 + h * 8 + i * 9;
}

NOINLINE double f_double(double a, double b, double c, double d, double e,
			 double f, double g, double h, double i, double j)
{
	return a - b + c - d + e - f + g - h + i - j;
}

NOINLINE long double f_ldouble(long double a, long double b)
{
	return a * b + 0.25L;
}

NOINLINE long double _Complex f_lcomplex(long double a, long double b)
{
	return a + b * I;
}

NOINLINE double _Complex f_complex(double a, double b)
{
	return a - b * I;
}

NOINLINE long f_ints(long a, long b, long c, long d, long e, long f, long g, long h)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

NOINLINE double f_varargs(int n, ...)
{
	double sum = 0;
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		if (i % 2)
			sum += va_arg(ap, double);
		else
			sum += (double)va_arg(ap, long);
	}
	va_end(ap);
	return sum;
}

NOINLINE struct small f_small(long a, double b)
{
	return (struct small){ a * 2, b * 2 };
}

NOINLINE struct pair f_pair(long a, long b)
{
	return (struct pair){ b, a };
}

NOINLINE struct dpair f_dpair(double x, double y)
{
	return (struct dpair){ y, x };
}

NOINLINE struct big f_big(struct big in, long k)
{
	struct big out;

	for (int i = 0; i < 8; i++)
		out.v[i] = in.v[i] * k;
	return out;
}

NOINLINE int f_deep(int n)
{
	return n <= 0 ? 0 : 1 + f_deep(n - 1);
}

NOINLINE static void run_once(long i)
{
	struct big in, out;
	struct small s;
	struct pair p;
	struct dpair dp;
	long double _Complex lc;
	double _Complex c;

	CHECK(f_float(1, 2, 3, 4, 5, 6, 7, 8, (float)i) ==
	      1 + 4 + 9 + 16 + 25 + 36 + 49 + 64 + 9.0f * (float)i);
	CHECK(f_double(1, 2, 3, 4, 5, 6, 7, 8, 9, (double)i) == 5 - (double)i);
	CHECK(f_ldouble(1.5L, (long double)i) == 1.5L * (long double)i + 0.25L);
	lc = f_lcomplex(2.0L, (long double)i);
	CHECK(creall(lc) == 2.0L && cimagl(lc) == (long double)i);
	c = f_complex(3.0, (double)i);
	CHECK(creal(c) == 3.0 && cimag(c) == -(double)i);
	CHECK(f_ints(1, 2, 3, 4, 5, 6, 7, i) == 1 + 4 + 9 + 16 + 25 + 36 + 49 + 8 * i);
	CHECK(f_varargs(6, 1L, 2.5, 3L, 4.5, 5L, (double)i) == 16.0 + (double)i);
	s = f_small(i, 1.5);
	CHECK(s.a == 2 * i && s.b == 3.0);
	p = f_pair(i, -i);
	CHECK(p.a == -i && p.b == i);
	dp = f_dpair(1.25, (double)i);
	CHECK(dp.x == (double)i && dp.y == 1.25);
	for (int k = 0; k < 8; k++)
		in.v[k] = k + i;
	out = f_big(in, 3);
	for (int k = 0; k < 8; k++)
		CHECK(out.v[k] == 3 * (k + i));
	CHECK(f_deep(50) == 50);
}

int main(void)
{
	char line[128];
	long n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "quit", 4) == 0)
			break;
		if (sscanf(line, "run %ld", &n) != 1) {
			printf("error\n");
			continue;
		}
		failures = 0;
		for (long i = 0; i < n; i++)
			run_once(i);
		printf(failures ? "error\n" : "done\n");
	}
	return 0;
}
