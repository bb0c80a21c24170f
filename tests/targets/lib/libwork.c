/* libwork.so: a -pg shared library, to trace sites outside the program. */
#define NOINLINE __attribute__((noinline, noclone))

volatile long lib_sink;

NOINLINE long lib_leaf(long x)
{
	lib_sink += x;
	return x + 1;
}

NOINLINE long lib_work(long n)
{
	long t = 0;

	for (long i = 0; i < n; i++)
		t += lib_leaf(i);
	return t;
}
