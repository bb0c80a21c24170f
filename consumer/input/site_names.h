/* SPDX-License-Identifier: MIT */
/*
 * Site index -> function name, resolved once per site.
 *
 * Events name their function by site index, and the same few sites come
 * back millions of times, so each index is resolved once and the answer
 * kept.  Modules are handed to the symbol resolver lazily, the first time
 * one of their sites is named, so a trace that touches one library never
 * reads the debug information of the others.
 *
 * A name is always available: a site whose module cannot be read shows as
 * "0x<addr>", an index outside the site table as "bad_site_<n>".
 */
#ifndef TATTACH_CONSUMER_SITE_NAMES_H
#define TATTACH_CONSUMER_SITE_NAMES_H

#include <stdint.h>

#include "consumer/decode/ring_reader.h"

struct tread_site_names;

/* Called once per problem (module unreadable...), with a one-line message. */
typedef void (*tread_warn_fn)(void *arg, const char *msg);

/*
 * tread_site_names_open - names for the sites of @ring
 * @root_pid: when > 0, a module path that cannot be used as is is also
 *            tried under /proc/<root_pid>/root (targets in containers)
 * @warn, @warn_arg: where to report unreadable modules; @warn may be NULL
 *
 * Returns 0 or -ENOMEM.
 */
int tread_site_names_open(const struct tread_ring *ring, int root_pid,
			  tread_warn_fn warn, void *warn_arg,
			  struct tread_site_names **out);

void tread_site_names_close(struct tread_site_names *names);

/* The function name for @site; never NULL, valid until close. */
const char *tread_site_name(struct tread_site_names *names, uint32_t site);

/*
 * tread_site_srcline - "file:line" of the function of @site, from DWARF
 *
 * NULL when the module has no line information for it.  Valid until close.
 */
const char *tread_site_srcline(struct tread_site_names *names, uint32_t site);
/* A site's function and, where DWARF has it, its source position. */
struct tread_site_detail {
	const char *name;	/* never NULL from tread_site_detail() */
	const char *file;	/* NULL when unknown */
	uint32_t    line;	/* 0 when unknown */
};

/*
 * tread_site_names_open_table - names given by the caller, never looked up
 * @by_site: [ring->site_cap] entries; a NULL name means "not in the table"
 *           (shown as "0x<addr>").  The strings must outlive the names.
 *
 * For a saved trace (consumer/input/savefile.h), read where the modules are not.
 * Returns 0 or -ENOMEM.
 */
int tread_site_names_open_table(const struct tread_ring *ring,
				const struct tread_site_detail *by_site,
				struct tread_site_names **out);

/* Name, file and line of @site; valid until close. */
void tread_site_detail(struct tread_site_names *names, uint32_t site,
		       struct tread_site_detail *out);

#endif /* TATTACH_CONSUMER_SITE_NAMES_H */
