// SPDX-License-Identifier: MIT
/* tread --children: what it goes with. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "consumer/cli.h"

static int parse(struct tread_options *o, char *err, const char *const *argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	err[0] = 0;
	return tread_parse_args(argc, (char **)argv, o, err, 256);
}

#define PARSE(o, err, ...) parse(o, err, (const char *const[]){ "tread", __VA_ARGS__, NULL })

Test(cli_children, accepted)
{
	struct tread_options o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "-p", "42", "--children"), 0, "%s", err);
	cr_assert(o.children);
	cr_assert_eq(o.pid, 42);
	cr_assert_eq(PARSE(&o, err, "-p", "42", "--children", "--export", "chrome", "-o",
			   "x.json", "--tid", "3", "--time", "none"), 0, "%s", err);
	cr_assert_eq(PARSE(&o, err, "-p", "42", "--children", "--html", "x.html"), 0, "%s", err);
	cr_assert_eq(PARSE(&o, err, "-p", "42"), 0, "%s", err);
	cr_assert_not(o.children);
}

Test(cli_children, refused)
{
	static const char *const one[] = { "-f", "--report", "--hist", "--stat", "--stuck" };
	struct tread_options o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "-i", "a.ring", "--children"), -EINVAL);
	cr_assert_str_eq(err, "--children goes with -p PID");
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		cr_assert_eq(PARSE(&o, err, "-p", "1", "--children", one[i]), -EINVAL, "%s", one[i]);
		cr_assert_str_eq(err, "--children merges several processes: for the call graph, "
				 "--export and --html only (not -f, --report, --hist, --stat, "
				 "--stuck or --save)", "%s", one[i]);
	}
	cr_assert_eq(PARSE(&o, err, "-p", "1", "--children", "--save", "x"), -EINVAL);
}
