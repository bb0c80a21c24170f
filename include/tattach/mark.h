/* SPDX-License-Identifier: MIT */
/*
 * Marks from the program itself, for tattach: a header-only API.
 *
 *   #include <tattach/mark.h>
 *
 *   tattach_mark("cache miss");          a point in time, with a text
 *   tattach_label("worker %d", i);       the same, printf-formatted: names
 *                                        what the thread does from here on
 *   tattach_counter("queue", n);         a named value at this time
 *
 * How it works.  Each call goes to an empty function of this header
 * (weak, so every file that includes it shares one copy), compiled like
 * the rest of the file: with -pg or -fpatchable-function-entry=5 it has a
 * site.  tattach --enable finds these functions by name in every traced
 * module and records their calls with their arguments (as -A would), and
 * tread shows them as marks, labels and counters (docs/marks.md).
 *
 * Cost when the process is not traced: tattach_mark() and
 * tattach_counter() make one call of an empty function (whose site is a
 * NOP, or glibc's mcount with plain -pg); tattach_label() reads one flag
 * and branches: it formats only while tattach traces the process (tattach
 * sets tattach_marks_on at --enable and clears it at --disable).
 *
 * Texts are recorded up to 64 bytes; tattach_label() formats into a
 * 128-byte buffer on the stack.  Nothing here allocates or locks, so the
 * calls are fine in any thread; tattach_label() is as async-signal-safe
 * as vsnprintf().
 */
#ifndef TATTACH_MARK_H
#define TATTACH_MARK_H

#include <stdarg.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Set to 1 by tattach while it traces the process (weak: one per program). */
__attribute__((weak)) volatile int tattach_marks_on;

/* The functions tattach traces by these names: empty, never inlined, never
 * merged with another one. */
#ifdef __clang__
#define TATTACH_MARK_HOOK_ __attribute__((weak, noinline, used))
#else
#define TATTACH_MARK_HOOK_ __attribute__((weak, noinline, noclone, used))
#endif
/* The wrappers themselves are never traced (should they not be inlined). */
#define TATTACH_MARK_NOTRACE_ \
	__attribute__((no_instrument_function, patchable_function_entry(0, 0)))

TATTACH_MARK_HOOK_ void tattach_mark_hook(const char *text)
{
	__asm__ volatile("" : : "r"(text) : "memory");
}

TATTACH_MARK_HOOK_ void tattach_label_hook(const char *text)
{
	__asm__ volatile("" : : "r"(text) : "memory");
}

TATTACH_MARK_HOOK_ void tattach_counter_hook(const char *name, long long value)
{
	__asm__ volatile("" : : "r"(name), "r"(value) : "memory");
}

/* A point in time, with @text (a string: at most 64 bytes are kept). */
TATTACH_MARK_NOTRACE_ static inline void tattach_mark(const char *text)
{
	tattach_mark_hook(text);
}

/* A printf-formatted label for what the thread does from here on. */
__attribute__((format(printf, 1, 2))) TATTACH_MARK_NOTRACE_
static inline void tattach_label(const char *fmt, ...)
{
	char text[128];
	va_list ap;

	if (!tattach_marks_on)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tattach_label_hook(text);
}

/* The value of counter @name is now @value. */
TATTACH_MARK_NOTRACE_ static inline void tattach_counter(const char *name, long long value)
{
	tattach_counter_hook(name, value);
}

#undef TATTACH_MARK_HOOK_
#undef TATTACH_MARK_NOTRACE_

#ifdef __cplusplus
}
#endif

#endif /* TATTACH_MARK_H */
