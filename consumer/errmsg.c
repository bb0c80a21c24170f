// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "consumer/errmsg.h"

int tread_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}
