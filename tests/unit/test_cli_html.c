// SPDX-License-Identifier: MIT
/*
 * tread's --html FILE: parsed into struct tread_options, what it goes
 * with and what it does not, and the help text.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

Test(cli_html, accepted_with_any_input)
{
	struct tread_options o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "-p", "42", "--html", "t.html"), 0, "%s", err);
	cr_assert_str_eq(o.html, "t.html");
	cr_assert_eq(o.pid, 42);
	cr_assert_not(o.export_set);
	cr_assert_null(o.save);

	cr_assert_eq(PARSE(&o, err, "-i", "a", "-i", "b", "--tid", "7", "--html", "m.html"), 0, "%s", err);
	cr_assert_str_eq(o.html, "m.html");
	cr_assert_eq(o.ninputs, 2);
	cr_assert_eq(o.tid, 7);

	cr_assert_eq(PARSE(&o, err, "-p", "42"), 0, "%s", err);
	cr_assert_null(o.html);
}

Test(cli_html, refused)
{
	static const struct {
		const char *argv[10];	/* NULL-terminated */
		const char *msg;
	} cases[] = {
		{ { "-p", "1", "--html", "" }, "empty file name for --html" },
		{ { "-p", "1", "--html" }, NULL },
		{ { "--html", "t.html" }, "say which trace to read" },
		{ { "-p", "1", "--html", "t.html", "--save", "s" }, "--html cannot be used with --save" },
		{ { "-p", "1", "--html", "t.html", "--export", "chrome", "-o", "x" },
		  "--html cannot be used with --export" },
		{ { "-p", "1", "--html", "t.html", "-f" }, "--html writes a file: it takes no -f, --report or --time" },
		{ { "-p", "1", "--html", "t.html", "--report" }, "--html writes a file: it takes no -f, --report or --time" },
		{ { "-p", "1", "--html", "t.html", "--time", "rel" }, "--html writes a file: it takes no -f, --report or --time" },
		{ { "-p", "1", "--html", "t.html", "--hist" }, "--html writes a file: it takes no --hist, --stat or --stuck" },
		{ { "-p", "1", "--html", "t.html", "--stat" }, "--html writes a file: it takes no --hist, --stat or --stuck" },
		{ { "-p", "1", "--html", "t.html", "--stuck" }, "--html writes a file: it takes no --hist, --stat or --stuck" },
		{ { "-p", "1", "--html", "t.html", "-o", "x" }, "-o is the output of --export; --html takes its file itself" },
	};
	struct tread_options o;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[12] = { "tread" };
		int argc = 1;

		for (int k = 0; cases[i].argv[k]; k++)
			argv[argc++] = cases[i].argv[k];
		cr_expect_eq(parse(&o, err, argv), -EINVAL, "case %zu accepted", i);
		if (cases[i].msg)
			cr_expect(strstr(err, cases[i].msg) == err, "case %zu: \"%s\"", i, err);
	}
}

Test(cli_html, help_tells_of_it)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	tread_print_usage(f);
	fclose(f);
	cr_expect(strstr(text, "      --html FILE   write the trace as one web page: a zoomable time\n"
			 "                    line per thread, opened offline in a browser\n") != NULL, "%s", text);
	free(text);
}
