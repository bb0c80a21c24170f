// SPDX-License-Identifier: MIT
/* tattach: turn function tracing of a running process on and off. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tattach/ring.h>
#include "attach/children.h"
#include "attach/values/args_plan.h"
#include "attach/launch.h"
#include "attach/log.h"
#include "attach/ring/ringdir.h"
#include "attach/session.h"
#include "attach/site_filter.h"
#include "attach/frames/stacks.h"
#include "attach/process/proc.h"
#include "attach/follow/follow.h"

#define TATTACH_VERSION "0.1.0"

enum action { ACT_NONE, ACT_ENABLE, ACT_DISABLE, ACT_STATUS, ACT_MODE, ACT_LIST, ACT_CLEAN,
	      ACT_STACKS };

#define ONE_ACTION "give only one of --enable, --disable, --status, --stacks, --list, --clean"

/* Long-only options (no short letter). */
enum { OPT_LIST = 0x100, OPT_CLEAN, OPT_MAX_DEPTH, OPT_STACKS, OPT_LIBCALLS, OPT_ENTRY,
       OPT_MODULE, OPT_NO_CHILDREN, OPT_FOLLOW, OPT_DAEMON };

static void usage(FILE *f)
{
	fprintf(f,
"Usage: tattach -p PID --enable|--disable|--status [options]\n"
"       tattach -p PID --mode discard|flight|stats\n"
"       tattach -p PID --max-depth N\n"
"       tattach -p PID --stacks\n"
"       tattach [options] [-o FILE] -- COMMAND [ARGS...]\n"
"       tattach --list | --clean\n"
"\n"
"Trace every call of the -pg or -fpatchable-function-entry=5 functions of a\n"
"running process, without restarting it.  Read the trace with 'tread -p PID'.\n"
"\n"
"With a COMMAND, start it with tracing enabled before its first traced call\n"
"(constructors included), wait for it and exit with its status; its pid and\n"
"ring are printed on standard error, for 'tread -p PID' after it ended.\n"
"\n"
"Actions:\n"
"  -e, --enable           stop the process, inject the trampoline and the ring\n"
"                         (first time), make every call site call it, resume\n"
"  -d, --disable          stop the process, turn every site back into a NOP,\n"
"                         resume; what was recorded stays readable; the\n"
"                         process's traced descendants (fork children) are\n"
"                         disabled too, and counted\n"
"  -s, --status           show attachment, sites, threads, buffer use, drops,\n"
"                         stats memory; with -v also every patched function;\n"
"                         also after the process exited (from its ring file)\n"
"      --stacks           print every thread's current stack (like eu-stack),\n"
"                         traced or not: the process is stopped only while\n"
"                         its stacks are read; [traced] marks calls in flight\n"
"                         whose return tattach records\n"
"      --list             list the ring files: pid, owner uid, whether their\n"
"                         process still runs (pid and start time), memory\n"
"                         they take, age\n"
"      --clean            remove the ring files of processes that have exited\n"
"                         (never one of a running process)\n"
"\n"
"Options:\n"
"  -p, --pid PID          the process to act on (required, but with a COMMAND,\n"
"                         --list and --clean)\n"
"  -m, --mode MODE        what a full per-thread ring does: 'discard' (default:\n"
"                         keep the oldest, count the dropped) or 'flight'\n"
"                         (overwrite the oldest), or 'stats' (no events: per\n"
"                         function calls, total, self and max time, latency\n"
"                         histograms: tread --stat, --hist); alone, switches\n"
"                         a live trace without stopping the process (a call\n"
"                         is accounted by the mode it entered in)\n"
"  -F, --filter REGEX     with --enable: patch only the functions whose name\n"
"                         is REGEX (POSIX extended, the whole name or the\n"
"                         name before a .constprop-like suffix, as in tread;\n"
"                         repeatable: any of them); the others stay NOPs.  A\n"
"                         later --enable with other patterns (or none: every\n"
"                         function) patches and unpatches sites to match\n"
"  -N, --notrace REGEX    with --enable: leave the functions matching REGEX\n"
"                         unpatched (repeatable; wins over --filter)\n"
"      --libcalls         with --enable: also record every call the program\n"
"                         (and each module with sites) makes through its\n"
"                         PLT/GOT into a shared library, named by the import\n"
"                         (write, malloc...); -F/-N apply to those names; an\n"
"                         --enable without it unhooks them; no -pg needed.\n"
"                         The lock, condition variable or semaphore of\n"
"                         pthread_mutex_*, pthread_rwlock_*, pthread_cond_*\n"
"                         and sem_* calls is recorded (arg1), so tread shows\n"
"                         which thread let which one go on\n"
"      --entry            with --enable: also patch the entry of every function\n"
"                         of the program that has no site (a jmp to a stub\n"
"                         that runs its moved first instructions); functions\n"
"                         where that is unsafe are refused (-v, --status -v\n"
"                         say why); no -pg needed\n"
"      --module NAME      with --enable: the same for the loaded library NAME\n"
"                         (its path, or the start of its file name: libz)\n"
"      --no-children      with --enable: processes it forks record nothing\n"
"                         (default: a fork child traces itself into its own\n"
"                         ring, tattach-CHILD.ring, from its first traced\n"
"                         call; 'tread -p PID --children' reads them all)\n"
"  -A, --args REGEX[@SPEC]\n"
"                         with --enable: also record the arguments of the\n"
"                         functions matching REGEX (traced even where -F/-N\n"
"                         would leave them out): every argument DWARF\n"
"                         describes, by its type (integers, enums by name,\n"
"                         char * as a string of up to 64 bytes read safely,\n"
"                         double and float from the SSE registers); or those\n"
"                         SPEC names, comma-separated: argN[/FMT], the Nth\n"
"                         integer or pointer argument (N 1..6; FMT d i u x p\n"
"                         s c e, then optionally 8 16 32 64 bits), and\n"
"                         fpargN[/32|/64], the Nth floating point one (N\n"
"                         1..8); with --libcalls also library calls, by import\n"
"                         name, given a SPEC; with --entry/--module also the\n"
"                         functions whose entry is patched (a SPEC where the\n"
"                         file has no DWARF); repeatable\n"
"  -R, --retval REGEX[@retval/FMT]\n"
"                         with --enable: also record the return value of the\n"
"                         functions matching REGEX, by its DWARF type or FMT;\n"
"                         repeatable.  An --enable without -A/-R records no\n"
"                         more values\n"
"      --follow           with --enable: stay attached and keep tracing what\n"
"                         the process does next: libraries it dlopen()s (from\n"
"                         before dlopen() returns), programs it or its children\n"
"                         exec (also from a thread, posix_spawn(), daemon()),\n"
"                         each into its own ring; signals reach the programs\n"
"                         unchanged.  Ends when they all exit, on Ctrl-C or\n"
"                         SIGTERM, or by 'tattach -p PID --disable' (which\n"
"                         then disables PID and what it started); tracing\n"
"                         stays on otherwise.\n"
"                         Killed, it leaves the processes running unharmed\n"
"      --daemon           with --follow: follow in the background; its pid is\n"
"                         printed, its later messages are discarded\n"
"      --max-depth N      record only calls less than N traced calls deep\n"
"                         (deeper ones are counted, see --status); 0: no\n"
"                         limit; with --enable, or alone on a live trace\n"
"  -c, --clock CLOCK      'tsc' (default where the TSC is invariant) or 'mono'\n"
"                         (CLOCK_MONOTONIC through the vDSO: slower); fixed\n"
"                         when the ring is created\n"
"  -b, --buffer-size SIZE ring size per thread, e.g. 256K, 4M (default 1M,\n"
"                         power of two, 8K..8G; fixed when the ring is created)\n"
"  -t, --max-threads N    thread slots (power of two, 1..65536; default %d,\n"
"                         or twice the threads the process has when the ring\n"
"                         is created; fixed then)\n"
"  -o, --output FILE      with a COMMAND: once it ended, save its trace to FILE\n"
"                         (as 'tread -p PID --save FILE'; the ring is removed)\n"
"  -v, --verbose          say more about what is done\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"The ring file is %s/tattach-PID.ring (TATTACH_RING_DIR overrides the\n"
"folder), mode 0600, owned by the process's user.  It stays after the process\n"
"exits; when a new process gets the same pid and is traced, the old ring is\n"
"kept as tattach-PID.START.ring (START: its process's start time; read it\n"
"with 'tread -i FILE').  When the process has called exec since it was\n"
"traced, the next --enable keeps the earlier program's ring as\n"
"tattach-PID.START.imageN.ring (N: 1 for the program it started with).\n"
"\n"
"Exit status: 0 on success (also when already in the asked state), 1 on\n"
"failure (the process is left as it was; --disable, --status and --mode on\n"
"a process tattach never attached to are failures), 2 on a usage error.\n"
"With a COMMAND: its exit status, or 128+N if signal N killed it; 125 if\n"
"tattach failed (also to save the trace), 126 if the command cannot be\n"
"run, 127 if it is not found.\n",
		SESSION_DEFAULT_THREADS, TAT_RING_DIR);
}

static void misuse(const char *fmt, const char *arg)
{
	fprintf(stderr, "tattach: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'tattach --help' for more information.\n");
	exit(2);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	return *end ? 0 : v;
}

/* Exit status 1, and never without a word: the libraries log each failure,
 * but should a path have missed it, say at least what failed. */
static int fail(const struct session_opts *o, int err)
{
	if (!log_errors())
		fprintf(stderr, "tattach: pid %d: %s\n", (int)o->pid, strerror(-err));
	return 1;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* -F/-N: checked here so that a bad pattern is a usage error (exit 2). */
static void add_pattern(struct session_opts *o, int filter, const char *re)
{
	const char ***list = filter ? &o->filters : &o->notraces;
	size_t *n = filter ? &o->nfilters : &o->nnotraces;
	char why[256];
	const char **grown;

	if (site_filter_check(re, why, sizeof(why))) {
		fprintf(stderr, "tattach: %s\n", why);	/* one line: the pattern is the problem */
		exit(2);
	}
	grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown) {
		fprintf(stderr, "tattach: out of memory\n");
		exit(1);
	}
	grown[(*n)++] = re;
	*list = grown;
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* -A/-R: parsed here so that a bad SPEC is a usage error (exit 2). */
static void add_args(struct args_req **reqs, size_t *n, int is_return, const char *opt)
{
	struct args_req *grown = realloc(*reqs, (*n + 1) * sizeof(*grown));
	char why[256];
	int ret;

	if (!grown) {
		fprintf(stderr, "tattach: out of memory\n");
		exit(1);
	}
	*reqs = grown;
	ret = args_req_parse(opt, is_return, &grown[*n], why, sizeof(why));
	if (ret == -ENOMEM) {
		fprintf(stderr, "tattach: out of memory\n");
		exit(1);
	}
	if (ret) {
		fprintf(stderr, "tattach: %s %s\n", is_return ? "-R" : "-A", why);
		exit(2);
	}
	(*n)++;
}

/* Index of the "--" that starts a COMMAND, or @argc: tattach's options
 * end there, and the command's own options are never parsed as ours. */
static int command_start(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return i;
	return argc;
}

/* tattach [options] [-o FILE] -- COMMAND [ARGS...] */
static int launch(struct session_opts *o, int act, char **cmd, const char *save,
		  int verbose)
{
	struct launch_opts lo = { .argv = cmd, .save_path = save, .verbose = verbose };

	if (o->pid)
		misuse("%s", "-p and a COMMAND do not go together: a COMMAND is started "
		       "traced, -p acts on a running process");
	if (act != ACT_NONE && act != ACT_ENABLE)
		misuse("%s", "--disable and --status do not go with a COMMAND");
	if (!cmd[0])
		misuse("%s", "no COMMAND after '--'");
	return launch_run(o, &lo);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "enable", no_argument, NULL, 'e' },
		{ "disable", no_argument, NULL, 'd' },
		{ "status", no_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "clock", required_argument, NULL, 'c' },
		{ "buffer-size", required_argument, NULL, 'b' },
		{ "max-threads", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "filter", required_argument, NULL, 'F' },
		{ "notrace", required_argument, NULL, 'N' },
		{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
		{ "stacks", no_argument, NULL, OPT_STACKS },
		{ "libcalls", no_argument, NULL, OPT_LIBCALLS },
		{ "entry", no_argument, NULL, OPT_ENTRY },
		{ "module", required_argument, NULL, OPT_MODULE },
		{ "no-children", no_argument, NULL, OPT_NO_CHILDREN },
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		{ "daemon", no_argument, NULL, OPT_DAEMON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "clean", no_argument, NULL, OPT_CLEAN },
		{ "args", required_argument, NULL, 'A' },
		{ "retval", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct session_opts o = { .mode = -1, .clock = -1, .max_depth = -1 };
	struct session_report rep = { 0 };
	enum action act = ACT_NONE;
	int c, ret, verbose = 0, nopts = command_start(argc, argv);
	int follow = 0, background = 0;		/* --follow, --daemon */
	pid_t follower = 0;			/* --disable ended it */
	const char *save = NULL;
	struct args_req *reqs = NULL;
	size_t nreqs = 0;
	char *end;
	long v;

	log_set_prog("tattach");
	while ((c = getopt_long(nopts, argv, "p:edsm:c:b:t:o:vhVF:N:A:R:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > INT_MAX)
				misuse("invalid pid '%s'", optarg);
			o.pid = (pid_t)v;
			break;
		case 'e':
		case 'd':
		case 's':
			if (act != ACT_NONE)
				misuse("%s", ONE_ACTION);
			act = c == 'e' ? ACT_ENABLE : c == 'd' ? ACT_DISABLE : ACT_STATUS;
			break;
		case 'm':
			if (!strcmp(optarg, "discard"))
				o.mode = TAT_MODE_DISCARD;
			else if (!strcmp(optarg, "flight"))
				o.mode = TAT_MODE_FLIGHT;
			else if (!strcmp(optarg, "stats"))
				o.mode = TAT_MODE_STATS;
			else
				misuse("unknown mode '%s' (use 'discard', 'flight' or 'stats')",
				       optarg);
			break;
		case 'c':
			if (!strcmp(optarg, "tsc"))
				o.clock = TAT_CLOCK_TSC;
			else if (!strcmp(optarg, "mono"))
				o.clock = TAT_CLOCK_MONO;
			else
				misuse("unknown clock '%s' (use 'tsc' or 'mono')", optarg);
			break;
		case 'b':
			o.buffer_size = parse_size(optarg);
			if (!is_pow2(o.buffer_size) || o.buffer_size < (8u << 10) ||
			    o.buffer_size > (8ull << 30))
				misuse("invalid buffer size '%s' (a power of two from 8K to 8G)",
				       optarg);
			break;
		case 't':
			v = strtol(optarg, &end, 10);
			if (*end || !is_pow2((uint64_t)v) || v > SESSION_MAX_THREADS)
				misuse("invalid thread count '%s' (a power of two up to 65536)",
				       optarg);
			o.max_threads = (uint32_t)v;
			break;
		case 'o':
			save = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'F':
		case 'N':
			add_pattern(&o, c == 'F', optarg);
			break;
		case 'A':
		case 'R':
			add_args(&reqs, &nreqs, c == 'R', optarg);
			o.args = reqs;
			o.nargs = nreqs;
			break;
		case OPT_STACKS:
			if (act != ACT_NONE)
				misuse("%s", ONE_ACTION);
			act = ACT_STACKS;
			break;
		case OPT_LIBCALLS:
			o.libcalls = 1;
			break;
		case OPT_ENTRY:
			o.entry = 1;
			break;
		case OPT_MODULE:
			o.module = optarg;
			break;
		case OPT_NO_CHILDREN:
			o.no_children = 1;
			break;
		case OPT_FOLLOW:
			follow = 1;
			break;
		case OPT_DAEMON:
			background = 1;
			break;
		case OPT_MAX_DEPTH:
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0 || v > TAT_FRAMES_MAX)
				misuse("invalid depth '%s' (0 to 1024)", optarg);
			o.max_depth = v;
			break;
		case OPT_LIST:
		case OPT_CLEAN:
			if (act != ACT_NONE)
				misuse("%s", ONE_ACTION);
			act = c == OPT_LIST ? ACT_LIST : ACT_CLEAN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tattach %s\n", TATTACH_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'tattach --help' for more information.\n");
			return 2;
		}
	}
	if (optind < nopts)
		misuse("unexpected argument '%s'", argv[optind]);
	if ((act == ACT_LIST || act == ACT_CLEAN) && o.pid)
		misuse("%s", "--list and --clean look at every ring file: give no -p");
	if (act == ACT_LIST || act == ACT_CLEAN) {
		log_set_level(verbose ? LOG_INFO : LOG_WARN);
		ret = act == ACT_LIST ? ringdir_list(stdout) : ringdir_clean(stdout);
		return ret ? 1 : 0;
	}
	if ((follow || background) && nopts < argc)
		misuse("%s", "--follow and --daemon go with -p PID --enable, not with a COMMAND");
	if (nopts < argc) {
		log_set_level(verbose ? LOG_INFO : LOG_WARN);
		return launch(&o, act, argv + nopts + 1, save, verbose);
	}
	if (save)
		misuse("%s", "-o saves the trace of a COMMAND: give one after '--' (for "
		       "a running process: tread -p PID --save FILE)");
	if (!o.pid)
		misuse("%s", "no process given: use -p PID");
	if (act == ACT_NONE && (o.mode >= 0 || o.max_depth >= 0))
		act = ACT_MODE;
	if (o.libcalls && act != ACT_ENABLE)
		misuse("%s", "--libcalls goes with --enable");
	if ((o.entry || o.module) && act != ACT_ENABLE)
		misuse("%s", "--entry and --module go with --enable");
	if (o.no_children && act != ACT_ENABLE)
		misuse("%s", "--no-children goes with --enable");
	if ((o.nfilters || o.nnotraces) && act != ACT_ENABLE)
		misuse("%s", "--filter and --notrace go with --enable");
	if (o.nargs && act != ACT_ENABLE)
		misuse("%s", "-A/--args and -R/--retval go with --enable");
	if ((follow || background) && act != ACT_ENABLE)
		misuse("%s", "--follow and --daemon go with --enable");
	if (background && !follow)
		misuse("%s", "--daemon goes with --follow");
	o.verbose = verbose;
	if (act == ACT_NONE)
		misuse("%s", "no action given: use --enable, --disable, --status, --stacks or --mode");
	log_set_level(verbose ? LOG_INFO : LOG_WARN);

	switch (act) {
	case ACT_ENABLE:
		if (follow)
			return follow_run(&o, background);
		ret = session_enable(&o, &rep);
		free(o.filters);
		free(o.notraces);
		for (size_t i = 0; i < nreqs; i++)
			args_req_free(&reqs[i]);
		free(reqs);
		if (ret)
			return fail(&o, ret);
		if (rep.already)
			printf("tattach: pid %d: tracing is already enabled (%zu sites); "
			       "nothing changed\n", (int)o.pid, rep.sites);
		else
			printf("tattach: pid %d: tracing enabled: %zu site%s in %zu module%s, "
			       "%zu thread%s stopped for %.3f ms; read it with 'tread -p %d'\n",
			       (int)o.pid, rep.sites, plural(rep.sites), rep.modules,
			       plural(rep.modules), rep.threads, plural(rep.threads),
			       rep.stopped_us / 1000, (int)o.pid);
		if (rep.slots_chosen)
			printf("tattach: pid %d: %u thread slots, for its %zu threads (-t sets "
			       "the number)\n", (int)o.pid, rep.slots_chosen, rep.threads);
		else if (rep.threads > rep.slots)
			pr_warn("pid %d has %zu threads for %u thread slots: the calls of the "
				"threads that find none are not traced (the ring's slots were "
				"fixed when it was made; -t then chooses them)", (int)o.pid,
				rep.threads, rep.slots);
		if (!rep.already && rep.inject_us > 0)
			printf("tattach: pid %d: before that, 1 thread was held alone for "
			       "%.3f ms to inject the trampoline, the others running\n",
			       (int)o.pid, rep.inject_us / 1000);
		if (rep.kept_image[0])
			printf("tattach: pid %d: it called exec since it was traced: the trace "
			       "of its earlier program is kept as %s (read it with 'tread -i %s')\n",
			       (int)o.pid, rep.kept_image, rep.kept_image);
		if (!rep.already && rep.adopted)
			printf("tattach: pid %d: %zu call%s already running when tracing began "
			       "will show %s return (tread: 'entered before tracing')\n",
			       (int)o.pid, rep.adopted, plural(rep.adopted),
			       rep.adopted == 1 ? "its" : "their");
		if (!rep.already && o.libcalls)
			printf("tattach: pid %d: %zu library call%s hooked\n", (int)o.pid,
			       rep.libcalls, plural(rep.libcalls));
		if (!rep.already && (o.entry || o.module))
			printf("tattach: pid %d: %zu function entr%s patched, %zu refused as "
			       "unsafe (-v says why)\n", (int)o.pid, rep.entries,
			       rep.entries == 1 ? "y" : "ies", rep.entries_refused);
		session_say_values_wait(stdout, &o, &rep);
		if (!rep.already && rep.unpatched)
			printf("tattach: pid %d: %zu site%s not matching the filters made NOP%s "
			       "again\n", (int)o.pid, rep.unpatched, plural(rep.unpatched),
			       plural(rep.unpatched));
		break;
	case ACT_DISABLE: {
		struct proc_stat ps = { 0 };
		struct children_report cr;

		/* a follower holds it: end that first (attach/follow/handshake.c) */
		ret = follow_end_holder(o.pid, &follower);
		if (ret)
			return fail(&o, ret);
		if (follower)
			printf("tattach: pid %d: its follower, tattach pid %d, has ended\n",
			       (int)o.pid, (int)follower);
		/* read first: the pair names the parent in its children's rings */
		proc_read_stat(o.pid, &ps);
		ret = session_disable(&o, &rep);
		if (ret)
			return fail(&o, ret);
		if (rep.already)
			printf("tattach: pid %d: tracing is already disabled; nothing changed\n",
			       (int)o.pid);
		else
			printf("tattach: pid %d: tracing disabled: %zu %s again, "
			       "%zu thread%s stopped for %.3f ms\n", (int)o.pid, rep.changed,
			       rep.changed == 1 ? "site is a NOP" : "sites are NOPs", rep.threads,
			       plural(rep.threads), rep.stopped_us / 1000);
		if (!rep.already && rep.cut)
			printf("tattach: pid %d: %zu call%s still running now return%s straight to "
			       "%s (tread: 'still running at --disable')\n", (int)o.pid,
			       rep.cut, plural(rep.cut), rep.cut == 1 ? "s" : "",
			       rep.cut == 1 ? "its caller" : "their callers");
		if (!rep.already && rep.cut_kept)
			printf("tattach: pid %d: %zu thread%s stopped inside the trampoline: "
			       "%s calls still return through it (a later --disable cuts them "
			       "loose)\n", (int)o.pid, rep.cut_kept, plural(rep.cut_kept),
			       rep.cut_kept == 1 ? "its" : "their");
		if (verbose && !rep.already && rep.cut_later)
			printf("tattach: %zu thread%s stopped inside the trampoline: cut loose "
			       "when stopped again (%zu more stop%s)\n", rep.cut_later,
			       plural(rep.cut_later), rep.cut_stops, plural(rep.cut_stops));
		ret = children_disable(o.pid, ps.start_time, &o, &cr);
		if (cr.disabled)
			printf("tattach: pid %d: and %zu traced descendant%s disabled: %s\n",
			       (int)o.pid, cr.disabled, plural(cr.disabled), cr.pids);
		if (cr.failed)
			pr_err("pid %d: %zu traced descendant%s could not be disabled (said "
			       "above)", (int)o.pid, cr.failed, plural(cr.failed));
		if (ret || cr.failed)
			return 1;
		break;
	}
	case ACT_STACKS:
		ret = session_stacks(o.pid, stdout);
		return ret ? fail(&o, ret) : 0;
	case ACT_MODE:
		ret = session_set_mode(&o);
		if (ret)
			return fail(&o, ret);
		if (o.mode >= 0)
			printf("tattach: pid %d: mode is now %s\n", (int)o.pid,
			       session_mode_name(o.mode));
		if (o.max_depth >= 0)
			printf("tattach: pid %d: max depth is now %ld%s\n", (int)o.pid,
			       o.max_depth, o.max_depth ? "" : " (no limit)");
		return 0;
	default:
		ret = session_status(&o, stdout);
		if (ret)
			return fail(&o, ret);
		break;
	}
	if (verbose && !rep.already && act != ACT_STATUS) {
		if (rep.mismatched)
			printf("tattach: %zu sites held unexpected bytes and were left alone\n",
			       rep.mismatched);
		if (rep.stepped)
			printf("tattach: %zu threads stepped past the NOP sled they were in\n",
			       rep.stepped);
		if (rep.entries_stepped)
			printf("tattach: %zu threads stepped out of a function entry being "
			       "patched, into its stub\n", rep.entries_stepped);
		if (rep.handlers_stepped)
			printf("tattach: %zu contexts that signal handlers return to moved out "
			       "of a site or entry being patched\n", rep.handlers_stepped);
		if (rep.entries_in_stubs)
			printf("tattach: %zu threads were running in an entry stub: they go "
			       "on there (stubs stay mapped)\n", rep.entries_in_stubs);
		if (rep.stub_stepped)
			printf("tattach: %zu threads stepped past a stub's call of the "
			       "trampoline\n", rep.stub_stepped);
		if (rep.eintr_fixed)
			printf("tattach: %zu interrupted system calls restarted\n",
			       rep.eintr_fixed);
	}
	return 0;
}
