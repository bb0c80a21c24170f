/* SPDX-License-Identifier: MIT */
/*
 * The "# ..." lines at the end of tread's output that say what is missing
 * from it: events lost (by reason), events still being written, and the
 * writer's own counters.  Each line is printed only when nonzero, so a
 * complete trace ends without any.
 */
#ifndef TATTACH_CONSUMER_SUMMARY_H
#define TATTACH_CONSUMER_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "consumer/decode/trace.h"

/*
 * tread_print_losses - print the loss lines for @t to @out
 * @tid: count only this thread, 0 for all
 *
 * Returns 0 or -errno of the failed write.
 */
int tread_print_losses(FILE *out, const struct tread_trace *t, int32_t tid);

#endif /* TATTACH_CONSUMER_SUMMARY_H */
