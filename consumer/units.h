/* SPDX-License-Identifier: MIT */
/*
 * Durations and points in time as tread's options spell them.
 *
 *   DUR   a number with a unit: ns, us, ms or s ("2ms", "1.5s", "250us").
 *         A number alone is refused: "5" could be any of them.
 *   TIME  (--since/--until) as --time prints it:
 *           1764651234.5        abs: seconds since the epoch
 *           12:34:56[.123]      tod: local time of day (of the trace's first day)
 *           +1.5                rel: seconds after the first event read
 */
#ifndef TATTACH_CONSUMER_UNITS_H
#define TATTACH_CONSUMER_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Parse DUR into nanoseconds.  Returns 0, or -EINVAL (no unit, bad
 * number, unknown unit) or -ERANGE (does not fit in 64 bits). */
int tread_parse_duration(const char *s, uint64_t *ns);

/* Parse a plain number of seconds with an optional fraction. */
int tread_parse_seconds(const char *s, uint64_t *ns);

enum tread_time_kind {
	TREAD_TIME_POINT_ABS = 1,	/* ns since the epoch */
	TREAD_TIME_POINT_TOD,		/* ns since local midnight */
	TREAD_TIME_POINT_REL,		/* ns after the first event */
};

struct tread_time_point {
	enum tread_time_kind kind;	/* 0: not set */
	uint64_t ns;
};

/* Parse TIME.  Returns 0 or -EINVAL. */
int tread_parse_time_point(const char *s, struct tread_time_point *out);

/*
 * tread_format_duration - @ns with a unit a person reads at a glance:
 * "812 ns", "3.250 us", "2.004 ms", "1.500 s".  Returns @buf.
 */
const char *tread_format_duration(uint64_t ns, char *buf, size_t len);

#endif /* TATTACH_CONSUMER_UNITS_H */
