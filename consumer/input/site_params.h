/* SPDX-License-Identifier: MIT */
/*
 * The DWARF parameters of traced functions, by site index, for showing
 * recorded arguments by name (tattach -A/-R).  Looked up on first use and
 * kept; a module whose file cannot be read gives no names (values then
 * show as argN / fpargN).
 */
#ifndef TATTACH_CONSUMER_SITE_PARAMS_H
#define TATTACH_CONSUMER_SITE_PARAMS_H

#include <stdint.h>

#include "consumer/decode/ring_reader.h"
#include "symbols/params.h"

struct tread_site_params;

/* Returns 0 or -ENOMEM. */
int tread_site_params_open(const struct tread_ring *ring, struct tread_site_params **out);
void tread_site_params_close(struct tread_site_params *p);

/* What DWARF says about the function of @site, or NULL. */
const struct sym_func *tread_site_params_get(struct tread_site_params *p, uint32_t site);

#endif
