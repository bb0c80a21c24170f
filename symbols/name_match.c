// SPDX-License-Identifier: MIT
/*
 * Whole-name matching of function names; see name_match.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/name_match.h"

int name_match_compile(regex_t *re, const char *pattern, char *why, size_t len)
{
	size_t n = strlen(pattern) + sizeof("^()$");
	char *anchored = malloc(n);
	int rc;

	if (!anchored)
		return -ENOMEM;
	/* Anchoring the group, not the text, keeps "a|b" meaning
	 * "exactly a or exactly b". */
	snprintf(anchored, n, "^(%s)$", pattern);
	rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (!rc)
		return 0;
	if (rc == REG_ESPACE)
		return -ENOMEM;
	if (why && len)
		regerror(rc, NULL, why, len);
	return -EINVAL;
}

bool name_match(const regex_t *re, const char *name)
{
	const char *dot;
	char base[256];
	size_t n;

	if (!regexec(re, name, 0, NULL, 0))
		return true;
	/* gcc names clones "<name>.<kind>.<n>" (constprop, isra, part,
	 * cold): the user knows the function by the part before the dot. */
	dot = strchr(name, '.');
	if (!dot || dot == name)
		return false;
	n = (size_t)(dot - name);
	if (n >= sizeof(base))
		return false;
	memcpy(base, name, n);
	base[n] = '\0';
	return !regexec(re, base, 0, NULL, 0);
}
