/* SPDX-License-Identifier: MIT */
/*
 * One-line error messages for the caller: tread's functions that can fail
 * for a reason worth telling take (err, errlen) and fill it.
 */
#ifndef TATTACH_CONSUMER_ERRMSG_H
#define TATTACH_CONSUMER_ERRMSG_H

#include <stddef.h>

/*
 * tread_errf - format the message into @err (if any room) and return @ret,
 * so that a failure reads "return tread_errf(err, errlen, -EINVAL, ...)".
 */
int tread_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* TATTACH_CONSUMER_ERRMSG_H */
