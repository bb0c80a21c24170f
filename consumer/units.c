// SPDX-License-Identifier: MIT
/*
 * Parsing and printing durations and time points (units.h).  Numbers are
 * parsed by hand, digit by digit, so "1.1ms" is exactly 1100000 ns and
 * not whatever a double makes of it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "consumer/units.h"

/*
 * "INT[.FRAC]" at *s, scaled by @scale (ns per unit), rounded down to a
 * nanosecond.  Advances *s past the number.
 */
static int parse_scaled(const char **s, uint64_t scale, uint64_t *out)
{
	const char *p = *s;
	uint64_t whole = 0, frac = 0, div = 1, r;
	bool digits = false;

	for (; *p >= '0' && *p <= '9'; p++, digits = true)
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, (uint64_t)(*p - '0'), &whole))
			return -ERANGE;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
			if (div < 1000000000000ull) {	/* finer than 1e-12 unit: ignored */
				frac = frac * 10 + (uint64_t)(*p - '0');
				div *= 10;
			}
	}
	if (!digits)
		return -EINVAL;
	if (__builtin_mul_overflow(whole, scale, &r))
		return -ERANGE;
	/* frac/div of a unit: frac < div <= 1e12 and scale <= 1e9 could
	 * overflow the product, so scale down first when needed. */
	if (div > 1000000 && scale >= 1000)
		frac = frac * (scale / 1000) / (div / 1000);
	else
		frac = frac * scale / div;
	if (__builtin_add_overflow(r, frac, &r))
		return -ERANGE;
	*out = r;
	*s = p;
	return 0;
}

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "ms", 1000000 },
	{ "s",  1000000000 },
};

int tread_parse_duration(const char *s, uint64_t *ns)
{
	const char *p = s, *unit;
	uint64_t v;
	int ret;

	/* Find the unit first: the number is scaled by it. */
	for (unit = s; (*unit >= '0' && *unit <= '9') || *unit == '.'; unit++)
		;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].name))
			continue;
		ret = parse_scaled(&p, units[i].ns, &v);
		if (ret)
			return ret;
		if (p != unit)
			return -EINVAL;
		*ns = v;
		return 0;
	}
	return -EINVAL;
}

int tread_parse_seconds(const char *s, uint64_t *ns)
{
	const char *p = s;
	int ret = parse_scaled(&p, 1000000000, ns);

	if (ret)
		return ret;
	return *p ? -EINVAL : 0;
}

/* "HH:MM:SS[.frac]" -> ns since midnight. */
static int parse_tod(const char *s, uint64_t *ns)
{
	unsigned h, m;
	int used = 0;
	uint64_t sec;

	if (sscanf(s, "%2u:%2u:%n", &h, &m, &used) != 2 || !used || h > 23 || m > 59)
		return -EINVAL;
	if (s[used] < '0' || s[used] > '9' || tread_parse_seconds(s + used, &sec) ||
	    sec >= 60ull * 1000000000)
		return -EINVAL;
	*ns = ((uint64_t)h * 3600 + m * 60) * 1000000000 + sec;
	return 0;
}

int tread_parse_time_point(const char *s, struct tread_time_point *out)
{
	if (*s == '+') {
		out->kind = TREAD_TIME_POINT_REL;
		return tread_parse_seconds(s + 1, &out->ns);
	}
	if (strchr(s, ':')) {
		out->kind = TREAD_TIME_POINT_TOD;
		return parse_tod(s, &out->ns);
	}
	out->kind = TREAD_TIME_POINT_ABS;
	return tread_parse_seconds(s, &out->ns);
}

const char *tread_format_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.3f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
	return buf;
}
