// A -pg C++ library whose traced function throws into its caller.
#include <stdexcept>

#define NOINLINE __attribute__((noinline, noclone))

extern "C" NOINLINE int lib_throw(int depth)
{
	if (depth <= 0)
		throw std::runtime_error("from the library");
	return lib_throw(depth - 1) + 1;	/* not a tail call */
}
