/* SPDX-License-Identifier: MIT */
/*
 * Which exporter writes which --export format.
 */
#ifndef TATTACH_CONSUMER_EXPORT_FORMATS_H
#define TATTACH_CONSUMER_EXPORT_FORMATS_H

#include <stddef.h>

#include "consumer/export/export.h"

/*
 * tread_export_write - write @x as @format to @out (NULL: stdout, for the
 * formats that allow it)
 *
 * Returns 0, or -errno with a one-line reason in @err (-ENOSYS when this
 * build has no writer for @format).
 */
int tread_export_write(enum tread_export_format format, const struct tread_xtrace *x,
		       const char *out, char *err, size_t errlen);

#endif /* TATTACH_CONSUMER_EXPORT_FORMATS_H */
