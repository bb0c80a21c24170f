/* SPDX-License-Identifier: MIT */
/*
 * --html FILE: the trace as one self-contained web page, a zoomable time
 * line (docs/viewer.md).  The page carries its viewer (HTML, CSS and
 * JavaScript compiled into tread from consumer/export/viewer/) and the
 * trace, so it opens offline from a file:// URL and asks the network for
 * nothing.
 */
#ifndef TATTACH_CONSUMER_EXPORT_HTML_H
#define TATTACH_CONSUMER_EXPORT_HTML_H

#include <stddef.h>

#include "consumer/export/export.h"

/*
 * tread_export_html - write @x as a viewer page to the file @out
 *
 * Returns 0, or -errno with a one-line reason in @err: -ENODATA when @x
 * holds no call to show, or the error of creating or writing @out.  The
 * page is written to a temporary file next to @out and renamed, so on
 * failure nothing half-written is left behind.
 */
int tread_export_html(const struct tread_xtrace *x, const char *out,
		      char *err, size_t errlen);

#endif /* TATTACH_CONSUMER_EXPORT_HTML_H */
