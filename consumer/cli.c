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
#include "consumer/views/report.h"
#include "consumer/units.h"
#include "tattach/ring.h"

enum {
	OPT_REPORT = 0x100,
	OPT_TID,
	OPT_TIME,
	OPT_MIN_DURATION,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_HIST,
	OPT_STAT,
	OPT_STUCK,
	OPT_OLDER_THAN,
	OPT_SRCLINE,
	OPT_PER_THREAD,
	OPT_SAVE,
	OPT_EXPORT,
	OPT_HTML,
	OPT_CHILDREN,
};

static const struct option long_options[] = {
	{ "pid",     required_argument, NULL, 'p' },
	{ "input",   required_argument, NULL, 'i' },
	{ "follow",  no_argument,       NULL, 'f' },
	{ "report",  no_argument,       NULL, OPT_REPORT },
	{ "tid",     required_argument, NULL, OPT_TID },
	{ "time",    required_argument, NULL, OPT_TIME },
	{ "filter",  required_argument, NULL, 'F' },
	{ "notrace", required_argument, NULL, 'N' },
	{ "depth",   required_argument, NULL, 'D' },
	{ "min-duration", required_argument, NULL, OPT_MIN_DURATION },
	{ "since",   required_argument, NULL, OPT_SINCE },
	{ "until",   required_argument, NULL, OPT_UNTIL },
	{ "hist",    no_argument,       NULL, OPT_HIST },
	{ "stat",    no_argument,       NULL, OPT_STAT },
	{ "stuck",   no_argument,       NULL, OPT_STUCK },
	{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
	{ "srcline", no_argument,       NULL, OPT_SRCLINE },
	{ "sort",    required_argument, NULL, 's' },
	{ "per-thread", no_argument,    NULL, OPT_PER_THREAD },
	{ "save",    required_argument, NULL, OPT_SAVE },
	{ "export",  required_argument, NULL, OPT_EXPORT },
	{ "output",  required_argument, NULL, 'o' },
	{ "html",    required_argument, NULL, OPT_HTML },
	{ "children", no_argument,      NULL, OPT_CHILDREN },
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

/* "1234,1240": the --tid list. */
static int parse_tids(const char *list, struct tread_filter_spec *f)
{
	char buf[1024], *tok, *save = NULL;
	int id;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_id(tok, &id) || f->ntids == TREAD_FILTER_MAX_TIDS)
			return -EINVAL;
		f->tids[f->ntids++] = id;
	}
	return f->ntids ? 0 : -EINVAL;
}

static int add_re(const char **res, unsigned *n, const char *re, const char *opt,
		  char *err, size_t errlen)
{
	char why[256];

	if (*n == TREAD_FILTER_MAX_RE)
		return usage_error(err, errlen, "too many %s (at most %d)", opt,
				   TREAD_FILTER_MAX_RE);
	if (tread_filter_check_re(re, why, sizeof(why)))
		return usage_error(err, errlen, "invalid regular expression '%s' for %s: %s",
				   re, opt, why);
	res[(*n)++] = re;
	return 0;
}

static int duration_arg(const char *s, const char *opt, uint64_t *ns, char *err,
			size_t errlen)
{
	if (tread_parse_duration(s, ns))
		return usage_error(err, errlen, "invalid duration '%s' for %s: a number "
				   "with a unit, ns, us, ms or s (e.g. 2ms)", s, opt);
	return 0;
}

static int time_arg(const char *s, const char *opt, struct tread_time_point *p,
		    char *err, size_t errlen)
{
	if (tread_parse_time_point(s, p))
		return usage_error(err, errlen, "invalid time '%s' for %s: seconds since "
				   "the epoch, HH:MM:SS[.frac] or +SECONDS after the "
				   "first event", s, opt);
	return 0;
}

/* The words after the options: --stat's INTERVAL or --hist's FUNCs. */
static int positional(int argc, char **argv, struct tread_options *o, char *err,
		      size_t errlen)
{
	const char *s;

	if (optind >= argc)
		return 0;
	if (o->hist) {
		o->hist_funcs = argv + optind;
		o->nhist_funcs = (unsigned)(argc - optind);
		return 0;
	}
	if (o->stat && optind + 1 == argc) {
		s = argv[optind];
		/* seconds, as iostat and vmstat take it, or a duration */
		if ((tread_parse_seconds(s, &o->stat_interval_ns) &&
		     tread_parse_duration(s, &o->stat_interval_ns)) ||
		    o->stat_interval_ns < 10000000)
			return usage_error(err, errlen, "invalid --stat interval '%s': "
					   "seconds (e.g. 2 or 0.5) or a duration with a "
					   "unit, at least 10ms", s);
		return 0;
	}
	return usage_error(err, errlen, "unexpected argument '%s'",
			   argv[o->stat ? optind + 1 : optind]);
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
	/* Each of these was accepted and then silently not done: say so. */
	if (o->ninputs > 1 && (o->hist || o->stat || o->stuck))
		return usage_error(err, errlen, "several -i are merged for the call "
				   "graph, --export and --html only (not --hist, --stat "
				   "or --stuck)");
	if (o->html && (o->hist || o->stat || o->stuck))
		return usage_error(err, errlen, "--html writes a file: it takes no "
				   "--hist, --stat or --stuck");
	/* tread_save() copies the whole trace: a filter would be ignored */
	if (o->save && tread_filter_spec_active(&o->filter))
		return usage_error(err, errlen, "--save writes the whole trace: it "
				   "takes no --tid, -F, -N, -D, --min-duration, --since "
				   "or --until (--export and --html take them)");
	if (o->srcline && (o->save || o->export_set || o->html))
		return usage_error(err, errlen, "--srcline is for the call graph and "
				   "--report");
	return 0;
}

int tread_parse_args(int argc, char **argv, struct tread_options *o,
		     char *err, size_t errlen)
{
	int c, id, mode, ret;
	const char *bad;

	memset(o, 0, sizeof(*o));
	o->stat_interval_ns = 1000000000;
	optind = 0;	/* GNU: start over, also re-reading the optstring */
	opterr = 0;	/* we word the messages ourselves */
	while ((c = getopt_long(argc, argv, ":p:i:fo:hVF:N:D:n:s:", long_options, NULL)) != -1) {
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
		case OPT_CHILDREN:
			o->children = true;
			break;
		case OPT_REPORT:
			o->report = true;
			break;
		case OPT_TID:
			if (parse_tids(optarg, &o->filter))
				return usage_error(err, errlen, "invalid tid list '%s' (e.g. "
						   "1234 or 1234,1240)", optarg);
			/* one thread: the summary lines are about it alone */
			o->tid = o->filter.ntids == 1 ? o->filter.tids[0] : 0;
			break;
		case 'F':
			ret = add_re(o->filter.filter_re, &o->filter.nfilter, optarg,
				     "-F", err, errlen);
			if (ret)
				return ret;
			break;
		case 'N':
			ret = add_re(o->filter.notrace_re, &o->filter.nnotrace, optarg,
				     "-N", err, errlen);
			if (ret)
				return ret;
			break;
		case 'D':
			if (parse_id(optarg, &id))
				return usage_error(err, errlen, "invalid depth '%s' (1 or more)",
						   optarg);
			o->filter.max_depth = (uint32_t)id;
			break;
		case OPT_MIN_DURATION:
			ret = duration_arg(optarg, "--min-duration",
					   &o->filter.min_duration_ns, err, errlen);
			if (ret)
				return ret;
			break;
		case OPT_SINCE:
			ret = time_arg(optarg, "--since", &o->filter.since, err, errlen);
			if (ret)
				return ret;
			break;
		case OPT_UNTIL:
			ret = time_arg(optarg, "--until", &o->filter.until, err, errlen);
			if (ret)
				return ret;
			break;
		case OPT_HIST:
			o->hist = true;
			break;
		case OPT_STAT:
			o->stat = true;
			break;
		case 'n':
			if (parse_id(optarg, &id))
				return usage_error(err, errlen, "invalid row count '%s'", optarg);
			o->rows = (unsigned)id;
			break;
		case OPT_STUCK:
			o->stuck = true;
			break;
		case OPT_OLDER_THAN:
			ret = duration_arg(optarg, "--older-than", &o->older_than_ns, err,
					   errlen);
			if (ret)
				return ret;
			break;
		case OPT_SRCLINE:
			o->srcline = true;
			break;
		case 's':
			if (tread_report_parse_keys(optarg, o->sort_keys, &bad))
				return usage_error(err, errlen, "invalid sort key '%s' (use "
						   "calls, total, self, avg, max or name)", bad);
			break;
		case OPT_PER_THREAD:
			o->per_thread = true;
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
	ret = positional(argc, argv, o, err, errlen);
	if (ret)
		return ret;
	if (o->report + o->hist + o->stat + o->stuck > 1)
		return usage_error(err, errlen, "choose one of --report, --hist, --stat "
				   "and --stuck");
	if ((o->sort_keys[0] || o->per_thread) && !o->report)
		return usage_error(err, errlen, "-s and --per-thread are for --report");
	if (o->rows && !o->stat)
		return usage_error(err, errlen, "-n is for --stat");
	if (o->older_than_ns && !o->stuck)
		return usage_error(err, errlen, "--older-than is for --stuck");
	if (o->srcline && (o->hist || o->stat || o->stuck))
		return usage_error(err, errlen, "--srcline is for the call graph and "
				   "--report");
	if (o->follow && (o->hist || o->stat || o->stuck))
		return usage_error(err, errlen, "-f is for the call graph and --report");
	if (!o->pid && !o->input)
		return usage_error(err, errlen, "say which trace to read: -p PID or -i FILE");
	if (o->pid && o->input)
		return usage_error(err, errlen, "-p and -i cannot be used together");
	if (o->children && !o->pid)
		return usage_error(err, errlen, "--children goes with -p PID");
	if (o->children && (o->follow || o->report || o->hist || o->stat || o->stuck ||
			    o->save))
		return usage_error(err, errlen, "--children merges several processes: "
				   "for the call graph, --export and --html only (not -f, "
				   "--report, --hist, --stat, --stuck or --save)");
	if ((o->report || o->hist || o->stat || o->stuck) && o->time != TREAD_TIME_NONE)
		return usage_error(err, errlen, "--time is for the call graph, not "
				   "--report, --hist, --stat or --stuck");
	if ((o->save || o->export_set) && (o->hist || o->stat || o->stuck))
		return usage_error(err, errlen, "%s writes a file: it takes no --hist, "
				   "--stat or --stuck", o->save ? "--save" : "--export");
	return check_outputs(o, err, errlen);
}

void tread_print_usage(FILE *out)
{
	fprintf(out,
"Usage: tread -p PID [options]\n"
"       tread -i FILE [-i FILE...] [options]\n"
"       tread -p PID --stat [INTERVAL]    tread -p PID --hist [FUNC...]\n"
"       tread -p PID --stuck [--older-than DUR]\n"
"Print the function calls tattach traced in a running (or exited) process.\n"
"\n"
"  -p, --pid PID     read " TAT_RING_DIR "/tattach-PID.ring (the folder\n"
"                    is $TATTACH_RING_DIR when set, as for tattach)\n"
"  -i, --input FILE  read this ring file or saved trace; several -i\n"
"                    (one per process) are merged on the wall clock\n"
"      --children    with -p: also the traced processes PID forked (and\n"
"                    theirs), each as its own process, merged as several\n"
"                    -i are; and the rings kept of the programs each ran\n"
"                    before an exec (PID:N in the PID column, N as in\n"
"                    tattach-PID.START.imageN.ring), before its current one\n"
"  -f, --follow      keep printing new events until interrupted or the\n"
"                    process exits; consumes what it prints\n"
"      --time WHEN   a TIMESTAMP column: abs (seconds since the epoch),\n"
"                    tod (local time of day), mono (CLOCK_MONOTONIC\n"
"                    seconds), rel (since the first line), delta (since\n"
"                    the previous line), none (the default)\n"
"      --srcline     file:line of each function (graph and --report)\n"
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
"Views (the call graph when none is given):\n"
"      --report      per-function calls and times\n"
"  -s, --sort KEY[,KEY]  --report order: calls, total (default), self,\n"
"                    avg, max (largest first) or name\n"
"      --per-thread  --report: one row per thread and function\n"
"      --hist [FUNC...]  log2 histograms of call durations (bpftrace\n"
"                    layout), of every function or of the FUNCs named\n"
"      --stat [INTERVAL]  live table every INTERVAL (seconds or DUR,\n"
"                    default 1): calls/s, in flight, avg, p50, p99, %%util;\n"
"                    until interrupted or the process ends.  Reads without\n"
"                    consuming\n"
"  -n N              --stat: only the N busiest functions\n"
"      --stuck       calls entered and not returned, per thread, with\n"
"                    their stacks and ages, oldest first\n"
"      --older-than DUR  --stuck: only calls at least DUR old\n"
"\n"
"Filters (every view; see docs/tread.md):\n"
"  -F, --filter RE   only these functions and what they call\n"
"  -N, --notrace RE  hide these functions and what they call\n"
"                    (RE: extended regular expression, whole name;\n"
"                    -F and -N may be given several times)\n"
"      --tid LIST    only these threads (1234 or 1234,1240)\n"
"  -D, --depth N     at most N levels (from the -F function with -F)\n"
"      --min-duration DUR  hide calls shorter than DUR, and their children\n"
"      --since TIME, --until TIME  calls entered in this range; TIME as\n"
"                    --time prints it: 1764651234.5 (abs), 12:34:56.5\n"
"                    (tod) or +1.5 (seconds after the first event)\n"
"\n"
"DUR is a number and a unit: ns, us, ms or s (e.g. 2ms).\n"
"Graph output: one line per call, '# DURATION TID FUNCTION' columns; see\n"
"docs/tread.md.  Exit status: 0 ok, 1 failure, 2 usage error.\n");
}

void tread_print_version(FILE *out)
{
	fprintf(out, "tread (tattach) %s, ring format %u\n", TATTACH_VERSION,
		TAT_RING_VERSION);
}
