// SPDX-License-Identifier: MIT
/*
 * Option parsing for tread.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/cli.h"
#include "tattach/ring.h"

enum {
	OPT_REPORT = 0x100,
	OPT_TID,
	OPT_TIME,
	OPT_SAVE,
	OPT_EXPORT,
	OPT_HTML,
};

static const struct option long_options[] = {
	{ "pid",     required_argument, NULL, 'p' },
	{ "input",   required_argument, NULL, 'i' },
	{ "follow",  no_argument,       NULL, 'f' },
	{ "report",  no_argument,       NULL, OPT_REPORT },
	{ "tid",     required_argument, NULL, OPT_TID },
	{ "time",    required_argument, NULL, OPT_TIME },
	{ "save",    required_argument, NULL, OPT_SAVE },
	{ "export",  required_argument, NULL, OPT_EXPORT },
	{ "output",  required_argument, NULL, 'o' },
	{ "html",    required_argument, NULL, OPT_HTML },
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A positive int, the whole string and nothing else. */
static int parse_id(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static const char *const time_names[] = {
	[TREAD_TIME_NONE]  = "none",
	[TREAD_TIME_ABS]   = "abs",
	[TREAD_TIME_TOD]   = "tod",
	[TREAD_TIME_MONO]  = "mono",
	[TREAD_TIME_REL]   = "rel",
	[TREAD_TIME_DELTA] = "delta",
};

int tread_time_mode_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(time_names) / sizeof(time_names[0]); i++)
		if (strcmp(name, time_names[i]) == 0)
			return (int)i;
	return -1;
}

static const char *const export_names[] = {
	[TREAD_EXPORT_CHROME]     = "chrome",
	[TREAD_EXPORT_FOLDED]     = "folded",
	[TREAD_EXPORT_FLAMEGRAPH] = "flamegraph",
	[TREAD_EXPORT_UFTRACE]    = "uftrace",
	[TREAD_EXPORT_CTF]        = "ctf",
};

int tread_export_format_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(export_names) / sizeof(export_names[0]); i++)
		if (strcmp(name, export_names[i]) == 0)
			return (int)i;
	return -1;
}

/* What may go with --save and --export: checked once all options are in. */
static int check_outputs(const struct tread_options *o, char *err, size_t errlen)
{
	if (o->html && (o->save || o->export_set))
		return usage_error(err, errlen, "--html cannot be used with %s",
				   o->save ? "--save" : "--export");
	if (o->html && (o->follow || o->report || o->time != TREAD_TIME_NONE))
		return usage_error(err, errlen, "--html writes a file: it takes no -f, "
				   "--report or --time");
	if (o->html && o->output)
		return usage_error(err, errlen, "-o is the output of --export; "
				   "--html takes its file itself");
	if (o->save && o->export_set)
		return usage_error(err, errlen, "--save and --export cannot be used together");
	if ((o->save || o->export_set) && (o->follow || o->report ||
					   o->time != TREAD_TIME_NONE))
		return usage_error(err, errlen, "%s writes a file: it takes no -f, "
				   "--report or --time", o->save ? "--save" : "--export");
	if (o->save && o->ninputs > 1)
		return usage_error(err, errlen, "--save writes one trace: give one -i");
	if (o->output && !o->export_set)
		return usage_error(err, errlen, "-o is the output of --export");
	if (o->export_set && !o->output && o->export_format != TREAD_EXPORT_FOLDED)
		return usage_error(err, errlen, "--export %s needs -o %s",
				   export_names[o->export_format],
				   o->export_format == TREAD_EXPORT_UFTRACE ||
				   o->export_format == TREAD_EXPORT_CTF ? "DIR" : "FILE");
	if (o->ninputs > 1 && (o->follow || o->report))
		return usage_error(err, errlen, "several -i are merged for the call "
				   "graph and --export only (not -f or --report)");
	return 0;
}

int tread_parse_args(int argc, char **argv, struct tread_options *o,
		     char *err, size_t errlen)
{
	int c, id, mode;

	memset(o, 0, sizeof(*o));
	optind = 0;	/* GNU: start over, also re-reading the optstring */
	opterr = 0;	/* we word the messages ourselves */
	while ((c = getopt_long(argc, argv, ":p:i:fo:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_id(optarg, &o->pid))
				return usage_error(err, errlen, "invalid pid '%s'", optarg);
			break;
		case 'i':
			if (!*optarg)
				return usage_error(err, errlen, "empty file name for -i");
			if (o->ninputs == TREAD_MAX_INPUTS)
				return usage_error(err, errlen, "more than %d -i options",
						   TREAD_MAX_INPUTS);
			if (!o->input)
				o->input = optarg;
			o->inputs[o->ninputs++] = optarg;
			break;
		case OPT_SAVE:
			if (!*optarg)
				return usage_error(err, errlen, "empty file name for --save");
			o->save = optarg;
			break;
		case OPT_EXPORT:
			mode = tread_export_format_parse(optarg);
			if (mode < 0)
				return usage_error(err, errlen, "invalid --export '%s' (use "
						   "chrome, folded, flamegraph, uftrace or "
						   "ctf)", optarg);
			o->export_set = true;
			o->export_format = mode;
			break;
		case OPT_HTML:
			if (!*optarg)
				return usage_error(err, errlen, "empty file name for --html");
			o->html = optarg;
			break;
		case 'o':
			if (!*optarg)
				return usage_error(err, errlen, "empty name for -o");
			o->output = optarg;
			break;
		case 'f':
			o->follow = true;
			break;
		case OPT_REPORT:
			o->report = true;
			break;
		case OPT_TID:
			if (parse_id(optarg, &id))
				return usage_error(err, errlen, "invalid tid '%s'", optarg);
			o->tid = id;
			break;
		case OPT_TIME:
			mode = tread_time_mode_parse(optarg);
			if (mode < 0)
				return usage_error(err, errlen, "invalid --time '%s' (use "
						   "abs, tod, mono, rel, delta or none)", optarg);
			o->time = mode;
			break;
		case 'h':
			o->action = TREAD_ACTION_HELP;
			return 0;
		case 'V':
			o->action = TREAD_ACTION_VERSION;
			return 0;
		case ':':
			return usage_error(err, errlen, "option '%s' needs an argument",
					   argv[optind - 1]);
		default:
			if (optopt && optopt < 0x100)
				return usage_error(err, errlen, "unknown option '-%c'", optopt);
			return usage_error(err, errlen, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (!o->pid && !o->input)
		return usage_error(err, errlen, "say which trace to read: -p PID or -i FILE");
	if (o->pid && o->input)
		return usage_error(err, errlen, "-p and -i cannot be used together");
	if (o->report && o->time != TREAD_TIME_NONE)
		return usage_error(err, errlen, "--time is for the call graph, not --report");
	return check_outputs(o, err, errlen);
}

void tread_print_usage(FILE *out)
{
	fprintf(out,
"Usage: tread -p PID [options]\n"
"       tread -i FILE [-i FILE...] [options]\n"
"Print the function calls tattach traced in a running (or exited) process.\n"
"\n"
"  -p, --pid PID     read " TAT_RING_DIR "/tattach-PID.ring (the folder\n"
"                    is $TATTACH_RING_DIR when set, as for tattach)\n"
"  -i, --input FILE  read this ring file or saved trace; several -i\n"
"                    (one per process) are merged on the wall clock\n"
"  -f, --follow      keep printing new events until interrupted or the\n"
"                    process exits; consumes what it prints\n"
"      --report      per-function calls and times instead of the call graph\n"
"      --tid TID     only the thread TID\n"
"      --time WHEN   a TIMESTAMP column: abs (seconds since the epoch),\n"
"                    tod (local time of day), mono (CLOCK_MONOTONIC\n"
"                    seconds), rel (since the first line), delta (since\n"
"                    the previous line), none (the default)\n"
"      --save FILE   write one self-contained trace file, readable with\n"
"                    -i FILE on any machine (no binaries needed)\n"
"      --export FMT  write the trace in another tool's format: chrome\n"
"                    (trace-event JSON), folded (stacks for flame graph\n"
"                    tools), flamegraph (interactive SVG), uftrace (a\n"
"                    data folder), ctf (a CTF 1.8 folder)\n"
"  -o, --output PATH the --export file or folder (folded: stdout if\n"
"                    none); a folder must be new or empty\n"
"      --html FILE   write the trace as one web page: a zoomable time\n"
"                    line per thread, opened offline in a browser\n"
"  -h, --help        show this help\n"
"  -V, --version     show the version\n"
"\n"
"Output: one line per call, '# DURATION TID FUNCTION' columns; see\n"
"docs/tread.md.  Exit status: 0 ok, 1 failure, 2 usage error.\n");
}

void tread_print_version(FILE *out)
{
	fprintf(out, "tread (tattach) %s, ring format %u\n", TATTACH_VERSION,
		TAT_RING_VERSION);
}
