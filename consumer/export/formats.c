// SPDX-License-Identifier: MIT
/*
 * The --export table.  One line per format; a format without a line is
 * refused with a message rather than written badly.
 */
#include <errno.h>
#include <stdio.h>

#include "consumer/export/formats.h"

typedef int (*export_fn)(const struct tread_xtrace *x, const char *out,
			 char *err, size_t errlen);

static const export_fn writers[] = {
	[TREAD_EXPORT_CHROME]     = tread_export_chrome,
	[TREAD_EXPORT_FOLDED]     = tread_export_folded,
	[TREAD_EXPORT_FLAMEGRAPH] = tread_export_flamegraph,
};

int tread_export_write(enum tread_export_format format, const struct tread_xtrace *x,
		       const char *out, char *err, size_t errlen)
{
	if ((size_t)format >= sizeof(writers) / sizeof(writers[0]) || !writers[format]) {
		snprintf(err, errlen, "this tread has no writer for that --export format");
		return -ENOSYS;
	}
	return writers[format](x, out, err, errlen);
}
