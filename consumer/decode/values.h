/* SPDX-License-Identifier: MIT */
/*
 * Arguments and return values recorded by tattach -A/-R: the bytes of a
 * VALUES record (include/tattach/ring.h, "Arguments"), kept for the
 * views, and turned into text: "fd=5, key=\"foo\"" or "0".
 *
 * The decoder puts each complete record's bytes in one store shared by
 * every ring of the run and hands out an id in TREAD_EV_VALUES events;
 * the bytes stay until tread_values_reset() (tread reads one trace).
 */
#ifndef TATTACH_CONSUMER_VALUES_H
#define TATTACH_CONSUMER_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "symbols/params.h"

/* Keep @len bytes; returns their id (never 0), or 0 without memory. */
uint64_t tread_values_put(const uint8_t *bytes, size_t len);

/* The bytes of @id, or NULL (0, unknown id). */
const uint8_t *tread_values_get(uint64_t id, size_t *len);

void tread_values_reset(void);

/*
 * tread_values_format - the values of record @id as text into @out
 * @fn:  the function's parameters from DWARF (names, enumerators), or NULL:
 *       values are then named argN / fpargN
 * @is_return: a return value ("0") rather than arguments ("a=1, b=2")
 *
 * Strings are quoted with C escapes, so the text is printable ASCII only
 * (an exporter escapes quotes and backslashes for JSON).  Always
 * NUL-terminates @out (when @len > 0); a record that does not parse shows
 * as "?".  Returns the length written.
 */
size_t tread_values_format(uint64_t id, const struct sym_func *fn, int is_return,
			   char *out, size_t len);

/*
 * tread_values_first - the first value of record @id, as recorded (a
 * pointer, an integer, the bits of a double), and where it came from
 * (TAT_SRC_*): for pairing calls on one object, e.g. the mutex address
 * pthread_mutex_lock() and pthread_mutex_unlock() were given.  Returns 0,
 * or -ENOENT when the record holds no value.
 */
int tread_values_first(uint64_t id, uint64_t *value, unsigned *src);

#endif
