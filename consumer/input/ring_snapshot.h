/* SPDX-License-Identifier: MIT */
/*
 * A compact copy of a ring, as a reader sees it now, for a saved trace.
 *
 * The copy is itself a valid ring file image (include/tattach/ring.h), so
 * everything that reads rings reads it unchanged and gives the same
 * output as the original would have given at the moment of the copy:
 *
 *   - only thread slots that were ever written are kept;
 *   - the tables keep the entries in use (module_cap = module_count,
 *     site_cap = site_count);
 *   - each ring keeps the positions a reader would read, from the start
 *     of the TIME chunk its window begins in (to date the first events)
 *     up to the head; positions stay the same, and the ring is as small
 *     as the longest such window allows (a power of two, at least 1024
 *     words), with every word's commit bit recomputed for that size.
 *     When some slot lost positions to flight-mode overwriting the size
 *     stays as it was: how many were overwritten is told by the size.
 *
 * Taken from a live process, a word the writer overwrote while it was
 * copied is stored as never written (the reader counts it as lost).
 */
#ifndef TATTACH_CONSUMER_RING_SNAPSHOT_H
#define TATTACH_CONSUMER_RING_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/decode/ring_reader.h"

/*
 * tread_ring_snapshot - copy @ring into a new image
 * @keep_site_cap: keep the site table's capacity (see above)
 * @out, @outlen: the image (malloc'd, 8-byte aligned); free() it
 *
 * Returns 0 or -ENOMEM.
 */
int tread_ring_snapshot(const struct tread_ring *ring, bool keep_site_cap,
			uint8_t **out, size_t *outlen);

#endif /* TATTACH_CONSUMER_RING_SNAPSHOT_H */
