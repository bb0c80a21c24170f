// SPDX-License-Identifier: MIT
/*
 * Function-name patterns mean the same to tattach and tread: whole names,
 * or the name before a clone suffix.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "symbols/name_match.h"

static bool matches(const char *pattern, const char *name)
{
	regex_t re;
	char why[128];
	bool m;

	cr_assert_eq(name_match_compile(&re, pattern, why, sizeof(why)), 0,
		     "%s: %s", pattern, why);
	m = name_match(&re, name);
	regfree(&re);
	return m;
}

Test(name_match, whole_name_only)
{
	cr_expect(matches("read", "read"));
	cr_expect(!matches("read", "pread"));
	cr_expect(!matches("read", "read_pipe"));
	cr_expect(matches("read.*", "read_pipe"));
	cr_expect(matches("^read$", "read"));
}

Test(name_match, alternation_is_anchored_as_a_group)
{
	cr_expect(matches("a|b", "a"));
	cr_expect(matches("a|b", "b"));
	cr_expect(!matches("a|b", "ab"));
	cr_expect(!matches("a|b", "xa"));
}

Test(name_match, clone_suffixes)
{
	cr_expect(matches("parse", "parse.constprop.0"));
	cr_expect(matches("render", "render.isra.0"));
	cr_expect(!matches("pars", "parse.constprop.0"));
	cr_expect(matches("parse\\.constprop\\.0", "parse.constprop.0"));
	/* a name that starts with a dot has no base name */
	cr_expect(!matches("", ".hidden"));
}

Test(name_match, bad_pattern)
{
	regex_t re;
	char why[128] = "";

	cr_expect_eq(name_match_compile(&re, "mid(", why, sizeof(why)), -EINVAL);
	cr_expect_neq(why[0], '\0');
}
