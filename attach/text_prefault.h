/* SPDX-License-Identifier: MIT */
/*
 * Making the pages the first --enable will rewrite the process's own
 * copies before the process is stopped (text_prefault.c).
 */
#ifndef TATTACH_ATTACH_TEXT_PREFAULT_H
#define TATTACH_ATTACH_TEXT_PREFAULT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct module_set;

/*
 * text_prefault - write the bytes of every text page holding a site of
 * module m of @set (those with @fresh[m] set) back onto the page in @pid,
 * while it runs: the kernel copies each page then, not during the stop.
 * Returns the number of pages written; errors only make it stop early
 * (the rewrite then copies the rest, as it would have).
 */
size_t text_prefault(pid_t pid, const struct module_set *set, const uint8_t *fresh);

#endif
