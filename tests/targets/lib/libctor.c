/* libctor.so: a -pg library whose constructor calls into it, for tracing
 * what a library's constructor does inside dlopen() (tattach --follow). */
#define NOINLINE __attribute__((noinline, noclone))

volatile long ctor_sink;

NOINLINE long ctor_leaf(long x)
{
	ctor_sink += x;
	return x + 1;
}

__attribute__((constructor)) static void ctor_init(void)
{
	ctor_leaf(1);
	ctor_leaf(2);
}
