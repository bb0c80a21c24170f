// SPDX-License-Identifier: MIT
/*
 * tread's options for traces that travel: --save, --export, -o and
 * several -i, parsed into struct tread_options, and what goes with what.
 */
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

Test(cli_outputs, accepted)
{
	struct tread_options o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "-p", "42", "--save", "t.tsave"), 0, "%s", err);
	cr_assert_str_eq(o.save, "t.tsave");
	cr_assert_not(o.export_set);

	cr_assert_eq(PARSE(&o, err, "-i", "a", "-i", "b", "--export", "chrome", "-o",
			   "x.json", "--tid", "3"), 0, "%s", err);
	cr_assert_eq(o.ninputs, 2);
	cr_assert_str_eq(o.inputs[0], "a");
	cr_assert_str_eq(o.inputs[1], "b");
	cr_assert_str_eq(o.input, "a");
	cr_assert(o.export_set);
	cr_assert_eq(o.export_format, TREAD_EXPORT_CHROME);
	cr_assert_str_eq(o.output, "x.json");
	cr_assert_eq(o.tid, 3);

	cr_assert_eq(PARSE(&o, err, "-i", "a", "--export", "folded"), 0, "%s", err);
	cr_assert_eq(o.export_format, TREAD_EXPORT_FOLDED);
	cr_assert_null(o.output);
	cr_assert_eq(PARSE(&o, err, "-p", "1", "--export=flamegraph", "--output", "f.svg"), 0,
		     "%s", err);
	cr_assert_eq(o.export_format, TREAD_EXPORT_FLAMEGRAPH);
	cr_assert_eq(PARSE(&o, err, "-i", "a", "--export", "uftrace", "-o", "d"), 0, "%s", err);
	cr_assert_eq(o.export_format, TREAD_EXPORT_UFTRACE);
	cr_assert_eq(PARSE(&o, err, "-i", "a", "--export", "ctf", "-o", "d"), 0, "%s", err);
	cr_assert_eq(o.export_format, TREAD_EXPORT_CTF);
	/* several -i for the graph, with --time */
	cr_assert_eq(PARSE(&o, err, "-i", "a", "-i", "b", "--time", "abs"), 0, "%s", err);
}

static void refused(const char *want, const char *const *argv)
{
	struct tread_options o;
	char err[256];

	cr_assert_eq(parse(&o, err, argv), -EINVAL, "accepted, wanted: %s", want);
	cr_assert_str_eq(err, want);
}

#define REFUSED(want, ...) refused(want, (const char *const[]){ "tread", __VA_ARGS__, NULL })

Test(cli_outputs, refused)
{
	REFUSED("--save and --export cannot be used together",
		"-p", "1", "--save", "x", "--export", "chrome", "-o", "y");
	REFUSED("--save writes a file: it takes no -f, --report or --time",
		"-p", "1", "--save", "x", "-f");
	REFUSED("--export writes a file: it takes no -f, --report or --time",
		"-p", "1", "--export", "chrome", "-o", "y", "--report");
	REFUSED("--export writes a file: it takes no -f, --report or --time",
		"-p", "1", "--export", "folded", "--time", "abs");
	REFUSED("--save writes one trace: give one -i", "-i", "a", "-i", "b", "--save", "x");
	REFUSED("-o is the output of --export", "-p", "1", "-o", "x");
	REFUSED("--export chrome needs -o FILE", "-p", "1", "--export", "chrome");
	REFUSED("--export flamegraph needs -o FILE", "-p", "1", "--export", "flamegraph");
	REFUSED("--export uftrace needs -o DIR", "-p", "1", "--export", "uftrace");
	REFUSED("--export ctf needs -o DIR", "-p", "1", "--export", "ctf");
	REFUSED("invalid --export 'svg' (use chrome, folded, flamegraph, uftrace or ctf)",
		"-p", "1", "--export", "svg");
	REFUSED("several -i are merged for the call graph and --export only (not -f or "
		"--report)", "-i", "a", "-i", "b", "--report");
	REFUSED("several -i are merged for the call graph and --export only (not -f or "
		"--report)", "-i", "a", "-i", "b", "-f");
	REFUSED("empty file name for --save", "-p", "1", "--save", "");
	REFUSED("empty name for -o", "-p", "1", "--export", "chrome", "-o", "");
	REFUSED("-p and -i cannot be used together", "-p", "1", "-i", "a", "--save", "x");
}

/* Combinations tread once accepted and then silently did not do. */
Test(cli_outputs, refuses_what_it_would_ignore)
{
	static const char msave[] = "--save writes the whole trace: it takes no --tid, "
		"-F, -N, -D, --min-duration, --since or --until (--export and --html take "
		"them)";
	static const char mmerge[] = "several -i are merged for the call graph, "
		"--export and --html only (not --hist, --stat or --stuck)";

	REFUSED(msave, "-p", "1", "--save", "x", "--tid", "7");
	REFUSED(msave, "-p", "1", "--save", "x", "-F", "main");
	REFUSED(msave, "-p", "1", "--save", "x", "-N", "main");
	REFUSED(msave, "-p", "1", "--save", "x", "-D", "2");
	REFUSED(msave, "-p", "1", "--save", "x", "--min-duration", "1ms");
	REFUSED(msave, "-p", "1", "--save", "x", "--since", "+1");
	REFUSED(msave, "-p", "1", "--save", "x", "--until", "+1");
	REFUSED(mmerge, "-i", "a", "-i", "b", "--hist");
	REFUSED(mmerge, "-i", "a", "-i", "b", "--stat");
	REFUSED(mmerge, "-i", "a", "-i", "b", "--stuck");
	REFUSED("--srcline is for the call graph and --report",
		"-p", "1", "--save", "x", "--srcline");
	REFUSED("--srcline is for the call graph and --report",
		"-p", "1", "--export", "chrome", "-o", "y", "--srcline");
	REFUSED("--srcline is for the call graph and --report",
		"-p", "1", "--html", "t.html", "--srcline");
}

/* ...while the filters do go with --export (and one -i with a view). */
Test(cli_outputs, filters_go_with_export)
{
	struct tread_options o;
	char err[256];

	cr_assert_eq(PARSE(&o, err, "-p", "1", "--export", "chrome", "-o", "y", "--tid",
			   "7", "-F", "main"), 0, "%s", err);
	cr_assert_eq(PARSE(&o, err, "-i", "a", "--hist"), 0, "%s", err);
}

Test(cli_outputs, help_tells_of_them)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	tread_print_usage(f);
	fclose(f);
	cr_assert_not_null(strstr(text, "--save FILE"));
	cr_assert_not_null(strstr(text, "--export FMT"));
	cr_assert_not_null(strstr(text, "-o, --output PATH"));
	cr_assert_not_null(strstr(text, "tread -i FILE [-i FILE...] [options]"));
	free(text);
}
