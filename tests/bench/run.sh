#!/bin/bash
# tests/bench/run.sh BUILD_DIR: `make bench`.
#
# Installs the tracers tattach is compared with (uftrace, bpftrace,
# LTTng-UST) when missing, builds the benchmark programs into
# BUILD_DIR/bench/, runs every measurement BENCH_REPS times (default 7)
# and prints one table of medians and spreads, also saved to
# BUILD_DIR/bench/results.txt.  docs/performance.md explains each row.
#
# Every target is driven through pipes (a command line in, a one-line
# answer out); nothing waits by sleeping.  Per-call numbers are timed by
# the target itself around its work loop, so starting a tracer costs
# nothing here.
#
# Run by `make bench` as `sh run.sh`: go on under bash.
if [ -z "${BASH:-}" ]; then exec bash "$0" "$@"; fi

set -u
export LC_ALL=C
T_START=$(date +%s)

B=$(cd "${1:-build}" && pwd) || { echo "bench: no build dir ${1:-build}" >&2; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$B/bench
REPS=${BENCH_REPS:-7}
TATTACH=$B/tattach
TREAD=$B/tread
CC=${CC:-cc}
JOBS=$(nproc 2>/dev/null || echo 2)
for p in "$TATTACH" "$TREAD"; do
	[ -x "$p" ] || { echo "bench: $p missing: run 'make all' first" >&2; exit 1; }
done
mkdir -p "$OUT"
. "$HERE/goals.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tattach-bench.XXXXXX")
export GMON_OUT_PREFIX=$WORK/gmon	# -pg programs write gmon output at exit
M=$WORK/m				# one file per metric, one line per run
mkdir -p "$M"
ROWS=$WORK/rows				# the table, one row per line
NOTES=()				# what did not work, printed under the table
: >"$ROWS"

say() { echo "bench: $*" >&2; }
# BENCH_SECTIONS="1 3 4 6 7 8 9" (the default) runs all; 1 = per call and
# disabled cost, 3 = attach pause (and memory), 4 = reader, 6 = the --html
# viewer with 1 million calls, 7 = library calls and entry-patched functions
# (--libcalls, --entry), 8 = threads writing at once and 1000 threads alive,
# 9 = attach pause with every CPU busy (the program's own threads).
# 5 (memory) is reported from what 1 and 3 measured.
want() { [[ " ${BENCH_SECTIONS:-1 3 4 6 7 8 9} " == *" $1 "* ]]; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
note() { NOTES+=("$*"); say "NOTE: $*"; }

# ------------------------------------------------------------ processes
# start NAME CMD...: run CMD with stdin/stdout on FIFOs, wait for its
# "ready PID" line.  Sets PID[NAME] (the target's pid, which is not the
# job's pid under uftrace) and keeps the FIFO descriptors open.
declare -A PID JOB FDW FDR SEARCH
start() {
	local name=$1 w r word pid
	shift
	mkfifo "$WORK/$name.in" "$WORK/$name.out" || return 1
	"$@" <"$WORK/$name.in" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	JOB[$name]=$!
	exec {w}>"$WORK/$name.in"
	exec {r}<"$WORK/$name.out"
	FDW[$name]=$w
	FDR[$name]=$r
	if ! read -t 120 -r word pid <&"$r" || [ "$word" != ready ]; then
		say "$name did not start: $(tail -n 3 "$WORK/$name.err" 2>/dev/null)"
		stop "$name"
		return 1
	fi
	PID[$name]=$pid
}

# ask NAME LINE: send one command, the answer goes to $ANSWER.
ask() {
	ANSWER=
	echo "$2" >&"${FDW[$1]}" 2>/dev/null || return 1
	read -t 900 -r ANSWER <&"${FDR[$1]}" || return 1
	[ "${ANSWER%% *}" = ok ]
}

# stop NAME: quit, wait for the job, forget it, remove its ring file.
stop() {
	local name=$1 w r
	[ -n "${JOB[$name]:-}" ] || return 0
	w=${FDW[$name]} r=${FDR[$name]}
	echo quit >&"$w" 2>/dev/null
	exec {w}>&- {r}<&-
	wait "${JOB[$name]}" 2>/dev/null
	rm -f "/dev/shm/tattach-${PID[$name]:-none}.ring" "$WORK/$name.in" "$WORK/$name.out"
	rm -f "$GMON_OUT_PREFIX".*
	unset "JOB[$name]"
}

BPF_JOB= LTTNG_SESSION= SESSIOND_PID=
cleanup() {
	local n
	for n in "${!JOB[@]}"; do
		kill "${JOB[$n]}" 2>/dev/null
		rm -f "/dev/shm/tattach-${PID[$n]:-none}.ring"
	done
	[ -n "$BPF_JOB" ] && kill -INT "$BPF_JOB" 2>/dev/null
	[ -n "$LTTNG_SESSION" ] && lttng destroy "$LTTNG_SESSION" >/dev/null 2>&1
	[ -n "$SESSIOND_PID" ] && kill "$SESSIOND_PID" 2>/dev/null
	wait 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] && echo "bench: kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap '' PIPE		# a target that died must not take the script with it

# ev_written STATUS: events the threads wrote, from tattach --status.
ev_written() { awk '/events written/ { s += $3 } END { print s + 0 }' <<<"$1"; }

# tat PID ARGS...: run tattach, its output to $TAT_OUT; fails loudly.
tat() {
	local pid=$1
	shift
	if ! TAT_OUT=$("$TATTACH" -p "$pid" "$@" 2>&1); then
		note "tattach -p $pid $* failed: $TAT_OUT"
		return 1
	fi
}

# ------------------------------------------------------------ numbers
# ms_of TATTACH-OUTPUT: the "stopped for N ms" of an --enable or --disable.
ms_of() { sed -n 's/.* \([0-9][0-9]*\) threads\{0,1\} stopped for \([0-9.]*\) ms.*/\2/p' <<<"$1"; }
# p90 FILE: the 90th percentile of the numbers in FILE (nearest rank).
p90() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR * 9 + 9) / 10)] }'; }
# stats FILE: "median min max" of the numbers in FILE.
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 }
		END { if (!NR) { print "- - -"; exit }
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%s %s %s\n", m, v[1], v[NR] }'
}

fmt() {
	awk -v v="$1" 'BEGIN { if (v == "-") { print "-"; exit }
		a = v < 0 ? -v : v
		if (a < 10) printf "%.2f\n", v; else if (a < 1000) printf "%.1f\n", v;
		else printf "%.0f\n", v }'
}

# row SECTION ITEM METRIC-FILE UNIT [NOTE]: one line of the table from
# the runs in METRIC-FILE.
row() {
	local s=$1 item=$2 f=$3 unit=$4 extra=${5:-} med lo hi n
	if [ ! -s "$f" ]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$item" "n/a" "" "$unit" "${extra:-not measured}" >>"$ROWS"
		return
	fi
	read -r med lo hi <<<"$(stats "$f")"
	n=$(wc -l <"$f")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$item" "$(fmt "$med")" \
		"$(fmt "$lo") - $(fmt "$hi")" "$unit" "n=$n${extra:+; $extra}" >>"$ROWS"
}

# row_text SECTION ITEM VALUE UNIT NOTE: a single fixed value.
row_text() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "" "$4" "${5:-}" >>"$ROWS"
}

# slot_search < STATUS: "AVERAGE / MOST" of tattach --status's slot search line.
slot_search() {
	awk '/^slot search:/ { printf "%s / %s", $3, $10 }'
}

# combine OUT EXPR FILE...: OUT gets, line by line, EXPR over the lines of
# the FILEs ($1, $2, ... in awk), so a ratio is taken within each run.
combine() {
	local out=$1 expr=$2 f
	shift 2
	for f in "$@"; do [ -s "$f" ] || { : >"$out"; return; }; done
	paste "$@" | awk "{ print $expr }" >"$out"
}

# ------------------------------------------------------------- tracers
pkg_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
install_tracers() {
	local want="uftrace bpftrace lttng-tools liblttng-ust-dev" missing="" p avail=""
	# BENCH_NO_INSTALL=1: compare with what is installed, install nothing
	[ -n "${BENCH_NO_INSTALL:-}" ] && return
	for p in $want; do pkg_ok "$p" || missing="$missing $p"; done
	[ -z "$missing" ] && return
	say "installing:$missing"
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
	$SUDO apt-get update -qq >/dev/null 2>&1
	for p in $missing; do
		if apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
			avail="$avail $p"
		else
			note "Debian package $p is not available here: its column is skipped"
		fi
	done
	[ -n "$avail" ] && { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $avail \
		>"$WORK/apt.log" 2>&1 || note "apt-get install$avail failed: $(tail -n 2 "$WORK/apt.log")"; }
}
install_tracers
HAVE_UFTRACE=0 HAVE_BPFTRACE=0 HAVE_LTTNG=0
command -v uftrace >/dev/null && HAVE_UFTRACE=1
command -v bpftrace >/dev/null && HAVE_BPFTRACE=1
LIBCYG=$(ldconfig -p 2>/dev/null | awk '/liblttng-ust-cyg-profile\.so\.1 /{ print $NF; exit }')
command -v lttng >/dev/null && command -v lttng-sessiond >/dev/null && [ -n "$LIBCYG" ] && HAVE_LTTNG=1
[ $HAVE_UFTRACE = 1 ] || note "uftrace not installed: column skipped"
[ $HAVE_BPFTRACE = 1 ] || note "bpftrace not installed: column skipped"
[ $HAVE_LTTNG = 1 ] || note "lttng-tools or liblttng-ust-cyg-profile.so.1 missing: column skipped"

# ---------------------------------------------------------------- build
CF="-std=gnu11 -O2 -g -Wall -Wextra"
# older OUT DEP...: OUT is missing or older than a DEP.
older() {
	local out=$1 d
	shift
	[ -e "$out" ] || return 0
	for d in "$@"; do [ "$d" -nt "$out" ] && return 0; done
	return 1
}
# stale OUT DEP...: the same, this script (the flags) counting as a DEP.
stale() { older "$@" "$HERE/run.sh"; }
cc_to() {	# cc_to OUT DEPS -- ARGS...
	local out=$1 deps=()
	shift
	while [ "$1" != -- ]; do deps+=("$1"); shift; done
	shift
	stale "$out" "${deps[@]}" || return 0
	"$CC" "$@" -o "$out" || { echo "bench: building $out failed" >&2; exit 1; }
}
say "building benchmark programs in $OUT"
PC=$HERE/percall.c
cc_to "$OUT/percall.plain" "$PC" -- $CF "$PC"
cc_to "$OUT/percall.pg" "$PC" -- $CF -pg "$PC"
cc_to "$OUT/percall.pfe" "$PC" -- $CF -fpatchable-function-entry=5 "$PC"
cc_to "$OUT/percall.cyg" "$PC" -- $CF -finstrument-functions "$PC"
cc_to "$OUT/floor.o" "$HERE/floor.c" -- $CF -c "$HERE/floor.c"
cc_to "$OUT/percall.floor" "$PC" "$OUT/floor.o" -- $CF -finstrument-functions "$PC" "$OUT/floor.o"
# The ladder (ladder.c): a -pg build whose own mcount adds one piece of a
# traced call per step, to measure each piece.
for n in 0 1 2 3 4 5 6 7; do
	cc_to "$OUT/ladder$n.o" "$HERE/ladder.c" -- $CF -c -DLADDER_STEP=$n "$HERE/ladder.c"
	cc_to "$OUT/percall.lad$n" "$PC" "$OUT/ladder$n.o" -- $CF -pg "$PC" "$OUT/ladder$n.o"
done
# Steps 8 - 11: patchable-entry sites, rewritten by the program itself.
for n in 8 9 10 11; do
	cc_to "$OUT/ladder$n.o" "$HERE/ladder.c" -- $CF -c -DLADDER_STEP=$n "$HERE/ladder.c"
	cc_to "$OUT/percall.lad$n" "$PC" "$OUT/ladder$n.o" -- \
		$CF -fpatchable-function-entry=5 "$PC" "$OUT/ladder$n.o"
done
cc_to "$OUT/stepcount" "$HERE/stepcount.c" -- $CF -I"$HERE/../../include" "$HERE/stepcount.c"
# bpftrace's uprobes go on a copy: a uprobe belongs to the file, and the
# plain baseline must not run into it.
cp "$OUT/percall.plain" "$OUT/percall.bpf"

SITE_SIZES="1000 10000 100000"
SRC=$OUT/sites-src
if older "$SRC/.stamp" "$HERE/gen_sites.sh"; then
	sh "$HERE/gen_sites.sh" "$SRC" 100000 $SITE_SIZES && touch "$SRC/.stamp"
fi
todo=()
for f in "$SRC"/gen_*.c "$SRC"/table_*.c; do
	older "${f%.c}.o" "$f" && todo+=("$f")
done
if [ ${#todo[@]} -gt 0 ]; then
	say "compiling ${#todo[@]} generated files (-pg -O1; the first time takes a minute or two)"
	printf '%s\n' "${todo[@]}" | xargs -P "$JOBS" -I{} sh -c \
		'"$0" -std=gnu11 -O1 -pg -g0 -c -o "${1%.c}.o" "$1" || exit 255' "$CC" {} ||
		{ echo "bench: compiling generated sites failed" >&2; exit 1; }
fi
for n in $SITE_SIZES; do
	objs=()
	for ((k = 0; k < n / 1000; k++)); do objs+=("$SRC/gen_$k.o"); done
	cc_to "$OUT/sites.$n" "$HERE/sites_main.c" "$SRC/table_$n.o" "${objs[@]}" -- \
		-std=gnu11 -O1 -pg -g -pthread "$HERE/sites_main.c" "$SRC/table_$n.o" "${objs[@]}"
done

# ------------------------------------------------ memory of a process
# mem PID BIN: "binAnon binRss ringRss totalRss totalAnon [ringShm]" in kB, from
# /proc/PID/smaps: the anonymous pages in BIN's mappings (a patched code
# page becomes a private, anonymous copy; Private_Dirty would also count
# page-cache pages of a freshly linked file not yet written back), the
# ring file's resident pages, the whole process, and the ring file's
# pages in tmpfs (absent before the first --enable).
mem() {
	awk -v bin="$2" '
		/^[0-9a-f]+-[0-9a-f]+ / { path = $6; next }
		/^Rss:/ { rss += $2; if (path == bin) brss += $2; if (path ~ /tattach-[0-9]+\.ring/) ring += $2 }
		/^Anonymous:/ { an += $2; if (path == bin) ban += $2 }
		END { printf "%d %d %d %d %d ", ban, brss, ring, rss, an }' "/proc/$1/smaps"
	# the ring file's pages in tmpfs, mapped by the target or not
	stat -c '%b %B' "${TATTACH_RING_DIR:-/dev/shm}/tattach-$1.ring" 2>/dev/null |
		awk '{ printf "%d", $1 * $2 / 1024 }'
	echo
}

# ====================================================================
# 1 + 2. Per-call overhead and disabled cost
# ====================================================================
FIB_D=20
declare -A KIND BIN FIBR MIXR LABEL CALLS PERRUN
CFGS=()
# BENCH_ONLY="plain floor tat_fl tat_stats": only these configurations
# (keep plain: every overhead is measured against it).
cfg() {
	[ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $1 "* ]] && return 0
	CFGS+=("$1"); KIND[$1]=$2; BIN[$1]=$3; FIBR[$1]=$4; MIXR[$1]=$5; LABEL[$1]=$6; CALLS[$1]=0; }
cfg plain     direct       percall.plain 1500 300000 "no instrumentation (-O2)"
cfg pg        direct       percall.pg    1500 300000 "-pg, never attached (glibc mcount runs)"
cfg pg_off    tat-disabled percall.pg    1500 300000 "-pg, tattach enabled then disabled"
cfg pfe       direct       percall.pfe   1500 300000 "-fpatchable-function-entry=5, never attached"
cfg pfe_off   tat-disabled percall.pfe   1500 300000 "-fpatchable-function-entry=5, enabled then disabled"
cfg cyg       direct       percall.cyg   1500 300000 "-finstrument-functions, glibc's empty hooks"
cfg floor     direct       percall.floor 1000 300000 "floor: TSC + 8-byte store per event (-finstrument-functions)"
cfg lad0      direct       percall.lad0  1500 300000 "ladder 0: -pg site, mcount is a bare ret"
cfg lad1      direct       percall.lad1  1500 300000 "ladder 1: + register saves, aligned empty C call"
cfg lad2      direct       percall.lad2  1000 300000 "ladder 2: + 2 TSC reads and 8-byte stores (the floor's work)"
cfg lad3      direct       percall.lad3  1000 300000 "ladder 3: + return hijack (shadow push, stub, jmp *): floor + hijack"
cfg lad4      direct       percall.lad4  1000 300000 "ladder 4: = 3 with ret instead of jmp * in the stub"
cfg lad5      direct       percall.lad5  1000 300000 "ladder 5: = 3 without TLS: the thread's slot by a hash of %fs:0, tid checked"
cfg lad6      direct       percall.lad6  1000 300000 "ladder 6: + the site's index by a hash of its address"
cfg lad7      direct       percall.lad7  1000 300000 "ladder 7: + signal-safe reservation, commit bit, calls in flight"
cfg lad8      direct       percall.lad8  1000 300000 "ladder 8: = 3 at patchable-entry sites (the site calls the probe)"
cfg lad9      direct       percall.lad9  1000 300000 "ladder 9: = 8, the return caught by calling the body (call-through)"
cfg lad10     direct       percall.lad10 1000 300000 "ladder 10: = 7 with 9's sites and call-through"
cfg lad11     direct       percall.lad11 1000 300000 "ladder 11: = 10 with the site's index from its stub's place (no hash)"
cfg tat_disc  tat-discard  percall.pg     200 100000 "tattach -pg, discard, -b 2G -t 2 (never full)"
cfg tat_fl    tat-flight   percall.pg     600 300000 "tattach -pg (primed return), flight, -b 64K"
cfg tat_flpghj tat-flight-hj percall.pg    600 300000 "tattach -pg, TATTACH_CALL_THROUGH=0 (hijack), flight"
cfg tat_flpfe tat-flight   percall.pfe    600 300000 "tattach -fpatchable-function-entry=5 (call-through), flight, -b 64K"
cfg tat_flhj  tat-flight-hj percall.pfe   600 300000 "tattach -fpatchable-function-entry=5, TATTACH_CALL_THROUGH=0 (hijack), flight"
cfg tat_stats tat-stats    percall.pg     600 300000 "tattach -pg, stats mode (no events)"
[ $HAVE_UFTRACE = 1 ] && cfg uftrace uftrace percall.pg 90 24000 "uftrace record --no-libcall (-pg)"
[ $HAVE_BPFTRACE = 1 ] && cfg bpftrace bpftrace percall.bpf 4 2000 "bpftrace uprobe+uretprobe, count() (no -pg)"
[ $HAVE_LTTNG = 1 ] && cfg lttng lttng percall.cyg 90 24000 "LTTng-UST cyg-profile (-finstrument-functions)"

start_lttng() {
	if ! lttng list >/dev/null 2>&1; then
		if ! lttng-sessiond --daemonize --no-kernel >"$WORK/sessiond.log" 2>&1; then
			note "lttng-sessiond cannot run here: $(tail -n 2 "$WORK/sessiond.log")"
			return 1
		fi
		for f in /var/run/lttng/lttng-sessiond.pid "$HOME/.lttng/lttng-sessiond.pid"; do
			[ -r "$f" ] && { SESSIOND_PID=$(cat "$f"); break; }
		done
	fi
	LTTNG_SESSION=tattach-bench-$$
	if ! { lttng create "$LTTNG_SESSION" --output="$WORK/lttng-trace" &&
	       lttng enable-channel -u -s "$LTTNG_SESSION" --subbuf-size=4M --num-subbuf=8 ch &&
	       lttng enable-event -u -s "$LTTNG_SESSION" -c ch \
			'lttng_ust_cyg_profile:func_entry,lttng_ust_cyg_profile:func_exit' &&
	       lttng start "$LTTNG_SESSION"; } >"$WORK/lttng.log" 2>&1; then
		note "LTTng session could not be set up: $(tail -n 2 "$WORK/lttng.log")"
		return 1
	fi
}

BPF_FD=
start_bpftrace() {	# start_bpftrace PID BIN
	local l prog
	prog="BEGIN { printf(\"go\\n\"); }
	      uprobe:$2:w_* { @entries = count(); }
	      uretprobe:$2:w_* { @returns = count(); }"
	mkfifo "$WORK/bpf.out"
	( ulimit -l unlimited 2>/dev/null; exec bpftrace -p "$1" -e "$prog" ) \
		>"$WORK/bpf.out" 2>"$WORK/bpf.err" &
	BPF_JOB=$!
	exec {BPF_FD}<"$WORK/bpf.out"
	while read -t 120 -r l <&"$BPF_FD"; do
		[ "$l" = go ] && return 0
	done
	note "bpftrace could not attach: $(grep -v RLIMIT "$WORK/bpf.err" | tail -n 2)"
	kill -INT "$BPF_JOB" 2>/dev/null
	wait "$BPF_JOB"
	BPF_JOB=
	return 1
}

# What the goal's ratios are taken between: measured back to back.
GOAL_CFGS="plain floor tat_fl tat_flpfe tat_disc"

# launch CONFIG: start it and bring it to the state it is measured in.
launch() {
	local c=$1 bin=$OUT/${BIN[$1]}
	case ${KIND[$c]} in
	direct)
		start "$c" "$bin" ;;
	tat-disabled)
		start "$c" "$bin" || return 1
		mem "${PID[$c]}" "$bin" >"$WORK/$c.mem0"
		tat "${PID[$c]}" --enable || return 1
		mem "${PID[$c]}" "$bin" >"$WORK/$c.mem1"
		ask "$c" "fib $FIB_D 10" || return 1		# traced: fills the 1 MiB ring
		mem "${PID[$c]}" "$bin" >"$WORK/$c.mem2"
		"$TATTACH" -p "${PID[$c]}" --status >"$WORK/$c.status0" 2>&1
		tat "${PID[$c]}" --disable || return 1
		mem "${PID[$c]}" "$bin" >"$WORK/$c.mem3" ;;
	tat-discard)
		# 8 runs of ~17M events (136 MiB) fit: nothing is dropped.  Two
		# thread slots: tattach wants the whole (sparse) file to fit in
		# /dev/shm's free space, and 128 default slots x 2 GiB do not.
		start "$c" "$bin" && tat "${PID[$c]}" --enable -m discard -b 2G -t 2 ;;
	tat-flight)
		start "$c" "$bin" && tat "${PID[$c]}" --enable -m flight -b 64K ;;
	tat-flight-hj)
		start "$c" "$bin" &&
			TATTACH_CALL_THROUGH=0 tat "${PID[$c]}" --enable -m flight -b 64K ;;
	tat-stats)
		start "$c" "$bin" && tat "${PID[$c]}" --enable -m stats -b 64K ;;
	uftrace)
		start "$c" uftrace record --no-libcall -d "$WORK/uftrace.data" "$bin" ;;
	bpftrace)
		start "$c" "$bin" && start_bpftrace "${PID[$c]}" "$bin" ;;
	lttng)
		start_lttng && start "$c" env LD_PRELOAD="$LIBCYG" "$bin" ;;
	esac
}

# run1 CONFIG WORKLOAD METRIC-FILE: one timed run, ns per call appended.
run1() {
	local c=$1 w=$2 cmd ns calls probe
	if [ "$w" = fib ]; then cmd="fib $FIB_D ${FIBR[$c]}"; else cmd="mix ${MIXR[$c]}"; fi
	if ! ask "$c" "$cmd"; then
		note "${LABEL[$c]}: '$cmd' failed (${ANSWER:-no answer})"
		return 1
	fi
	read -r ns calls probe <<<"$(sed 's/[a-z]*=//g; s/^ok //' <<<"$ANSWER")"
	CALLS[$c]=$((CALLS[$c] + calls))
	PERRUN[$c.$w]=$calls
	if [ "$probe" != -1 ] && [ "$probe" != $((2 * calls)) ]; then
		note "${LABEL[$c]}: $probe probe events for $calls calls"
	fi
	[ -n "$3" ] && awk -v ns="$ns" -v n="$calls" 'BEGIN { printf "%.4f\n", ns / n }' >>"$3"
	return 0
}

if want 1; then
T1=$(date +%s)
say "1-2. per-call overhead: starting ${#CFGS[@]} configurations"
ACTIVE=()
for c in "${CFGS[@]}"; do
	if launch "$c"; then ACTIVE+=("$c"); else
		note "${LABEL[$c]}: could not be started; row skipped"
		stop "$c"
	fi
done
for c in "${ACTIVE[@]}"; do	# warm-up, not counted
	run1 "$c" fib "" && run1 "$c" mix ""
done
for ((r = 0; r < REPS; r++)); do
	say "  run $((r + 1))/$REPS"
	# What a first write to a ring page costs now (discard mode with a
	# big ring keeps writing to fresh pages): 128 MiB of new /dev/shm.
	if ask plain "shm 128"; then
		read -r ns pages _ <<<"$(sed 's/[a-z]*=//g; s/^ok //' <<<"$ANSWER")"
		awk -v ns="$ns" -v n="$pages" 'BEGIN { printf "%.4f\n", ns / n / 1000 }' >>"$M/shm"
	fi
	# A different order each run.  The goal's configurations (plain,
	# the floor, tattach flight and discard) run as one unit, back to
	# back, forwards in one run and backwards in the next: their ratios
	# are taken run by run, and this machine drifts by up to a quarter
	# within minutes (a floor of 14.6 ns, then 22.8 ns).
	UNITS=(GOAL)
	for c in "${ACTIVE[@]}"; do
		[[ " $GOAL_CFGS " == *" $c "* ]] || UNITS+=("$c")
	done
	n=${#UNITS[@]}
	for ((k = 0; k < n; k++)); do
		u=${UNITS[(k + r) % n]}
		if [ "$u" != GOAL ]; then
			run1 "$u" fib "$M/$u.fib"
			run1 "$u" mix "$M/$u.mix"
			continue
		fi
		goal=()
		for c in $GOAL_CFGS; do
			[[ " ${ACTIVE[*]} " == *" $c "* ]] && goal+=("$c")
		done
		for w in fib mix; do
			for ((g = 0; g < ${#goal[@]}; g++)); do
				if ((r % 2)); then c=${goal[${#goal[@]} - 1 - g]}; else c=${goal[g]}; fi
				run1 "$c" $w "$M/$c.$w"
			done
		done
	done
done

# Checks: every call was traced, nothing dropped where nothing should be.
for c in "${ACTIVE[@]}"; do
	case ${KIND[$c]} in
	tat-discard|tat-flight|tat-flight-hj)
		st=$("$TATTACH" -p "${PID[$c]}" --status 2>&1)
		ev=$(ev_written "$st")
		drop=$(awk '/^dropped:/ { print $2 }' <<<"$st")
		[ "$ev" -ge $((2 * CALLS[$c])) ] ||
			note "${LABEL[$c]}: $ev events written for ${CALLS[$c]} calls"
		[ "${KIND[$c]}" = tat-discard ] && [ "${drop:-x}" != 0 ] &&
			note "${LABEL[$c]}: $drop events dropped (the numbers are too low)"
		[ "${KIND[$c]}" = tat-discard ] &&
			DISC_RES=$(awk '/^resident:/ { print $2 }' <<<"$st")
		[ "${KIND[$c]}" = tat-flight ] && mem "${PID[$c]}" "$OUT/${BIN[$c]}" >"$WORK/$c.mem" ;;
	esac
done
for c in "${ACTIVE[@]}"; do stop "$c"; done
if [ -n "$BPF_JOB" ]; then
	kill -INT "$BPF_JOB"
	bpf_out=$(cat <&"$BPF_FD")
	wait "$BPF_JOB"
	BPF_JOB=
	ent=$(awk '/^@entries:/ { print $2 }' <<<"$bpf_out")
	ret=$(awk '/^@returns:/ { print $2 }' <<<"$bpf_out")
	[ "${ent:-0}" = "${CALLS[bpftrace]}" ] && [ "${ret:-0}" = "${CALLS[bpftrace]}" ] ||
		note "bpftrace counted ${ent:-?} entries, ${ret:-?} returns for ${CALLS[bpftrace]} calls"
fi
if [ -n "$LTTNG_SESSION" ]; then
	lt=$(lttng stop "$LTTNG_SESSION" 2>&1)
	grep -qi discarded <<<"$lt" && note "LTTng: $(grep -i discarded <<<"$lt" | head -n 1)"
	lttng destroy "$LTTNG_SESSION" >/dev/null 2>&1
	LTTNG_SESSION=
fi
[ -n "$SESSIOND_PID" ] && { kill "$SESSIOND_PID" 2>/dev/null; SESSIOND_PID=; }
rm -rf "$WORK/uftrace.data" "$WORK/lttng-trace"

for w in fib mix; do
	for c in "${CFGS[@]}"; do
		combine "$M/$c.$w.ovh" '$1 - $2' "$M/$c.$w" "$M/plain.$w"
	done
done
# Goals: tattach <= 0.5x uftrace and <= 1.5x the floor, per traced call.
for w in fib mix; do
	for t in tat_fl tat_disc tat_flpfe tat_flhj tat_flpghj; do
		combine "$M/$t.$w.vs_uftrace" '$1 / $2' "$M/$t.$w.ovh" "$M/uftrace.$w.ovh"
		combine "$M/$t.$w.vs_floor" '$1 / $2' "$M/$t.$w.ovh" "$M/floor.$w.ovh"
	done
	combine "$M/lad3.$w.vs_floor" '$1 / $2' "$M/lad3.$w.ovh" "$M/floor.$w.ovh"
	combine "$M/tat_fl.$w.vs_lad3" '$1 / $2' "$M/tat_fl.$w.ovh" "$M/lad3.$w.ovh"
	combine "$M/lad7.$w.vs_floor" '$1 / $2' "$M/lad7.$w.ovh" "$M/floor.$w.ovh"
	combine "$M/tat_fl.$w.vs_lad7" '$1 / $2' "$M/tat_fl.$w.ovh" "$M/lad7.$w.ovh"
	combine "$M/lad8.$w.vs_floor" '$1 / $2' "$M/lad8.$w.ovh" "$M/floor.$w.ovh"
	combine "$M/lad9.$w.vs_floor" '$1 / $2' "$M/lad9.$w.ovh" "$M/floor.$w.ovh"
	combine "$M/lad9.$w.vs_lad8" '$1 / $2' "$M/lad9.$w.ovh" "$M/lad8.$w.ovh"
	combine "$M/lad10.$w.vs_floor" '$1 / $2' "$M/lad10.$w.ovh" "$M/floor.$w.ovh"
	combine "$M/lad10.$w.vs_lad7" '$1 / $2' "$M/lad10.$w.ovh" "$M/lad7.$w.ovh"
	combine "$M/tat_flpfe.$w.vs_hj" '$1 / $2' "$M/tat_flpfe.$w.ovh" "$M/tat_flhj.$w.ovh"
	combine "$M/tat_fl.$w.vs_hj" '$1 / $2' "$M/tat_fl.$w.ovh" "$M/tat_flpghj.$w.ovh"
	combine "$M/tat_flpfe.$w.vs_lad10" '$1 / $2' "$M/tat_flpfe.$w.ovh" "$M/lad10.$w.ovh"
	combine "$M/lad11.$w.vs_floor" '$1 / $2' "$M/lad11.$w.ovh" "$M/floor.$w.ovh"
	combine "$M/tat_flpfe.$w.vs_lad11" '$1 / $2' "$M/tat_flpfe.$w.ovh" "$M/lad11.$w.ovh"
	combine "$M/tat_fl.$w.vs_lad11" '$1 / $2' "$M/tat_fl.$w.ovh" "$M/lad11.$w.ovh"
	# Goal: stats mode costs no more per call than event mode.
	combine "$M/tat_stats.$w.vs_flight" '$1 / $2' "$M/tat_stats.$w.ovh" "$M/tat_fl.$w.ovh"
	# Goal: discard mode on a fresh ring costs what flight mode costs (the
	# ring is made resident when the thread claims its slot).
	combine "$M/tat_disc.$w.vs_flight" '$1 / $2' "$M/tat_disc.$w.ovh" "$M/tat_fl.$w.ovh"
done

WNAME_fib="fib(20) (1 ns of work per call)"
WNAME_mix="mix (request handler, 12 functions, 41 calls)"
for w in fib mix; do
	wn=WNAME_$w
	row_text "1 $w" "${!wn}" "" "" "ns per call, overhead = with tracer - no instrumentation"
	row "1 $w" "no instrumentation: time per call" "$M/plain.$w" "ns/call" "${PERRUN[plain.$w]:-?} calls/run"
	for c in pg tat_disc tat_fl tat_flpghj tat_flpfe tat_flhj tat_stats uftrace bpftrace lttng floor; do
		[ -n "${KIND[$c]:-}" ] || continue
		row "1 $w" "${LABEL[$c]}: overhead" "$M/$c.$w.ovh" "ns/call" "${PERRUN[$c.$w]:-?} calls/run"
		if [ $c = tat_disc ]; then
			awk '{ printf "%.4f\n", $1 * 1000 / 256 }' "$M/shm" >"$M/shm.call"
			row "1 $w" "  first write to a fresh /dev/shm page, per call (1/256 page)" "$M/shm.call" "ns/call" \
				"$(fmt "$(stats "$M/shm" | cut -d' ' -f1)") us per 4 KiB page"
		fi
	done
	for c in lad0 lad1 lad2 lad3 lad4 lad5 lad6 lad7 lad8 lad9 lad10 lad11; do
		[ -n "${KIND[$c]:-}" ] || continue
		row "1 $w" "${LABEL[$c]}: overhead" "$M/$c.$w.ovh" "ns/call" "${PERRUN[$c.$w]:-?} calls/run"
	done
	row "1 $w" "ratio ladder 3 (floor + hijacked return) / floor" "$M/lad3.$w.vs_floor" "x" \
		"the least any return-hijacking tracer costs, over the floor"
	row "1 $w" "ratio tattach flight / ladder 3 (floor + hijacked return)" "$M/tat_fl.$w.vs_lad3" "x"
	row "1 $w" "ratio ladder 7 (+ no TLS, site index, signal safety) / floor" "$M/lad7.$w.vs_floor" "x" \
		"the least a tracer attached to a running process costs, over the floor"
	row "1 $w" "ratio tattach flight / ladder 7" "$M/tat_fl.$w.vs_lad7" "x" \
		"what tattach's choice of case and its modes add"
	row "1 $w" "ratio ladder 8 (floor + hijacked return, patchable entry) / floor" "$M/lad8.$w.vs_floor" "x"
	row "1 $w" "ratio ladder 9 (floor + call-through, patchable entry) / floor" "$M/lad9.$w.vs_floor" "x" \
		"the return caught with every return predicted"
	row "1 $w" "ratio ladder 9 / ladder 8 (call-through / hijack, same sites)" "$M/lad9.$w.vs_lad8" "x" \
		"below 1: the hijack's mispredicted return costs the difference"
	row "1 $w" "ratio ladder 10 (ladder 7 with call-through) / floor" "$M/lad10.$w.vs_floor" "x" \
		"the least a tracer with tattach's requirements costs without the hijack"
	row "1 $w" "ratio ladder 10 / ladder 7 (call-through / hijack)" "$M/lad10.$w.vs_lad7" "x"
	row "1 $w" "ratio ladder 11 (10, the site's index from its stub) / floor" "$M/lad11.$w.vs_floor" "x" \
		"the least tracer with tattach's requirements, each in the least form tattach knows"
	row "1 $w" "ratio tattach flight / uftrace (goal <= 0.5)" "$M/tat_fl.$w.vs_uftrace" "x"
	row "1 $w" "ratio tattach discard / uftrace (goal <= 0.5)" "$M/tat_disc.$w.vs_uftrace" "x"
	row "1 $w" "ratio tattach flight / floor (goal <= 1.5)" "$M/tat_fl.$w.vs_floor" "x"
	row "1 $w" "ratio tattach discard / floor (goal <= 1.5)" "$M/tat_disc.$w.vs_floor" "x"
	row "1 $w" "ratio tattach flight (pfe, call-through) / floor (goal <= 1.5)" \
		"$M/tat_flpfe.$w.vs_floor" "x"
	row "1 $w" "ratio tattach flight (pfe, hijack) / floor" "$M/tat_flhj.$w.vs_floor" "x"
	row "1 $w" "ratio tattach flight (-pg, hijack) / floor" "$M/tat_flpghj.$w.vs_floor" "x"
	row "1 $w" "ratio tattach -pg primed return / -pg hijack (same sites)" \
		"$M/tat_fl.$w.vs_hj" "x" "below 1: what priming the return saves"
	row "1 $w" "ratio tattach pfe call-through / pfe hijack (same sites)" \
		"$M/tat_flpfe.$w.vs_hj" "x" "below 1: what the stubs save"
	row "1 $w" "ratio tattach flight (pfe, call-through) / ladder 10" \
		"$M/tat_flpfe.$w.vs_lad10" "x"
	row "1 $w" "ratio tattach flight (pfe, call-through) / ladder 11" \
		"$M/tat_flpfe.$w.vs_lad11" "x" "what tattach adds to the least such tracer"
	row "1 $w" "ratio tattach flight (-pg, primed return) / ladder 11" \
		"$M/tat_fl.$w.vs_lad11" "x"
	row "1 $w" "ratio tattach stats / flight (goal <= 1)" "$M/tat_stats.$w.vs_flight" "x"
	row "1 $w" "ratio tattach discard (fresh 2G ring) / flight (goal ~ 1)" "$M/tat_disc.$w.vs_flight" "x" \
		"${DISC_RES:-?} MiB of the ring file resident"
done
for w in fib mix; do
	row_text "2 $w" "disabled cost, $w" "" "" "ns per call over the build without instrumentation"
	for c in pg pg_off pfe pfe_off cyg; do
		[ -n "${KIND[$c]:-}" ] || continue	# left out by BENCH_ONLY
		row "2 $w" "${LABEL[$c]}" "$M/$c.$w.ovh" "ns/call"
	done
done
# Instructions of one traced call, piece by piece, counted by
# single-stepping w_fib(1) (a leaf: one call) in the real process.
# STEP_CMD: the command stepped ("fib 1 1": one call, a root call).
steps() {	# steps OUT BIN [TATTACH-ARGS...]: "count symbol" lines
	local out=$1 bin=$2
	shift 2
	if [ $# -gt 0 ]; then
		"$OUT/stepcount" "$OUT/$bin" "${STEP_CMD:-fib 1 1}" "$B/attach/tramp/tramp.elf" "$TATTACH" "$@" >"$out" 2>/dev/null
	else
		"$OUT/stepcount" "$OUT/$bin" "${STEP_CMD:-fib 1 1}" >"$out" 2>/dev/null
	fi || { note "stepcount $bin failed"; : >"$out"; }
}
insn() { awk -v s="$2" '$2 == s { n += $1 } END { print n + 0 }' "$1"; }
steps "$WORK/st.plain" percall.plain
steps "$WORK/st.floor" percall.floor
steps "$WORK/st.tat" percall.pg -m flight -b 64K
steps "$WORK/st.lad3" percall.lad3
for n in 3 5 6 7 8 9 10 11; do
	STEP_CMD="fib 2 1" steps "$WORK/st.lad$n.2" percall.lad$n
	STEP_CMD="fib 3 1" steps "$WORK/st.lad$n.3" percall.lad$n
done
# A nested call (the common case: the innermost frame's callee): w_fib(3)
# makes 5 calls, w_fib(2) 3, both with one root call; half the difference.
STEP_CMD="fib 2 1" steps "$WORK/st.tat2" percall.pg -m flight -b 64K
STEP_CMD="fib 3 1" steps "$WORK/st.tat3" percall.pg -m flight -b 64K
STEP_CMD="fib 2 1" steps "$WORK/st.pfe2" percall.pfe -m flight -b 64K
STEP_CMD="fib 3 1" steps "$WORK/st.pfe3" percall.pfe -m flight -b 64K
STEP_CMD="fib 2 1" steps "$WORK/st.stats2" percall.pg -m stats -b 64K
STEP_CMD="fib 3 1" steps "$WORK/st.stats3" percall.pg -m stats -b 64K
tramp_total() { awk '$2 ~ /^tramp:/ { n += $1 } END { print n + 0 }' "$1"; }
lad_total() { awk '$2 ~ /^(mcount|ladder_(enter|return|exit|fentry|ct_enter|ct_exit))$/ { n += $1 } END { print n + 0 }' "$1"; }
# What a -pg site runs (its stub primes the return): the stub, which lies
# past the config page, so stepcount names it after that symbol; the
# entry, with the commonest case in it (attach/tramp/fast_paths.inc); the
# C fast path or the general one for the other cases; the landing; the
# same at the exit.  Each row says its name.
PG_PIECES="tp_config_area tp_pg_enter tp_ct_enter_fast tp_enter enter_slow tp_ct_exit tp_exit_fast tp_exit exit_slow"
piece_name() { [ "$1" = tp_config_area ] && echo "the site's stub (named tp_config_area by stepcount)" || echo "tramp:$1"; }
if [ -s "$WORK/st.tat" ] && [ -s "$WORK/st.floor" ]; then
	row_text "1 ins" "instructions of one traced call (w_fib(1), single-stepped)" "" "" "tattach -pg flight -b 64K vs the floor"
	for p in $PG_PIECES; do
		row_text "1 ins" "  tattach: $(piece_name $p)" "$(insn "$WORK/st.tat" "tramp:$p")" "instr"
	done
	tot=$(awk '$2 ~ /^tramp:/ { n += $1 } END { print n + 0 }' "$WORK/st.tat")
	row_text "1 ins" "  tattach: trampoline, whole call" "$tot" "instr" \
		"w_fib itself: $(insn "$WORK/st.tat" w_fib) (plain build: $(insn "$WORK/st.plain" w_fib))"
	row_text "1 ins" "  floor: __cyg_profile_func_enter + _exit" \
		"$(( $(insn "$WORK/st.floor" __cyg_profile_func_enter) + $(insn "$WORK/st.floor" __cyg_profile_func_exit) ))" "instr" \
		"w_fib itself: $(insn "$WORK/st.floor" w_fib) (the call sequence of -finstrument-functions)"
	if [ -s "$WORK/st.tat2" ] && [ -s "$WORK/st.tat3" ]; then
		row_text "1 ins" "  tattach flight: trampoline, one nested call" \
			"$(( ($(tramp_total "$WORK/st.tat3") - $(tramp_total "$WORK/st.tat2")) / 2 ))" "instr" \
			"(w_fib(3) - w_fib(2)) / 2: calls nested in a traced caller"
		for p in $PG_PIECES; do
			row_text "1 ins" "    of which $(piece_name $p)" \
				"$(awk -v a="$(insn "$WORK/st.tat3" "tramp:$p")" -v b="$(insn "$WORK/st.tat2" "tramp:$p")" \
					'BEGIN { print (a - b) / 2 }')" "instr"
		done
	fi
	if [ -s "$WORK/st.pfe2" ] && [ -s "$WORK/st.pfe3" ]; then
		# the stubs lie past the config page: stepcount names them after
		# its symbol, tp_config_area (3 instructions a call)
		row_text "1 ins" "  tattach flight pfe (call-through): trampoline, one nested call" \
			"$(( ($(tramp_total "$WORK/st.pfe3") - $(tramp_total "$WORK/st.pfe2")) / 2 ))" "instr" \
			"with the 3 of the site's stub"
	fi
	if [ -s "$WORK/st.stats2" ] && [ -s "$WORK/st.stats3" ]; then
		row_text "1 ins" "  tattach stats: trampoline, one nested call" \
			"$(( ($(tramp_total "$WORK/st.stats3") - $(tramp_total "$WORK/st.stats2")) / 2 ))" "instr"
	fi
	[ -s "$WORK/st.lad3" ] && row_text "1 ins" "  ladder 3 (floor + hijacked return): mcount, stub and C" \
		"$(( $(insn "$WORK/st.lad3" mcount) + $(insn "$WORK/st.lad3" ladder_enter) + $(insn "$WORK/st.lad3" ladder_return) + $(insn "$WORK/st.lad3" ladder_exit) ))" "instr"
	for n in 3 5 6 7 8 9 10 11; do
		[ -s "$WORK/st.lad$n.2" ] && [ -s "$WORK/st.lad$n.3" ] || continue
		what="mcount, stub and C"
		[ $n -ge 8 ] && what="entry, exit and C"
		[ $n -ge 9 ] && what="$what (+ 3 in the site's stub)"
		row_text "1 ins" "  ladder $n: $what, one nested call" \
			"$(( ($(lad_total "$WORK/st.lad$n.3") - $(lad_total "$WORK/st.lad$n.2")) / 2 ))" "instr" \
			"(w_fib(3) - w_fib(2)) / 2, as for tattach"
	done
fi
say "1-2 took $(( $(date +%s) - T1 )) s"
fi

# ====================================================================
# 3. Attach pause vs sites and threads (and 5. memory of the patched text)
# ====================================================================
ms_of1k() { sed -n 's/.* \([0-9][0-9]*\) threads\{0,1\} stopped for \([0-9.]*\) ms.*/\2/p' <<<"$1"; }
if want 3; then
T1=$(date +%s)
say "3. attach pause: ${SITE_SIZES// /, } sites x 1, 8, 64 idle threads, $REPS runs each"
declare -A SITES
for n in $SITE_SIZES; do
	for t in 1 8 64; do
		k=$n.$t
		for ((r = 0; r < REPS; r++)); do
			c=sites
			bin=$OUT/sites.$n
			start "$c" "$bin" || { note "sites.$n did not start"; break; }
			ask "$c" "threads $t" && ask "$c" touch && ask "$c" watch ||
				{ note "sites.$n: threads $t failed"; stop "$c"; break; }
			pid=${PID[$c]}
			mem "$pid" "$bin" >>"$WORK/mem0.$k"
			ask "$c" gap
			t0=$(date +%s%N)
			tat "$pid" --enable || { stop "$c"; break; }
			t1=$(date +%s%N)
			ask "$c" gap && echo "${ANSWER#ok }" >>"$M/en1gap.$k"
			ms_of "$TAT_OUT" >>"$M/en1.$k"
			# the injection, with the main thread held alone before
			sed -n 's/.*held alone for \([0-9.]*\) ms.*/\1/p' <<<"$TAT_OUT" >>"$M/en1one.$k"
			echo "$(( (t1 - t0) / 1000 ))" | awk '{ print $1 / 1000 }' >>"$M/en1wall.$k"
			sites=$(sed -n 's/.*enabled: \([0-9]*\) sites.*/\1/p' <<<"$TAT_OUT")
			mem "$pid" "$bin" >>"$WORK/mem1.$k"
			ask "$c" call || note "sites.$n: call while traced failed"
			mem "$pid" "$bin" >>"$WORK/mem2.$k"
			[ "$r" = 0 ] && [ "$t" = 1 ] && [ "$n" = 1000 ] &&
				"$TATTACH" -p "$pid" --status >"$WORK/status.default" 2>&1
			tat "$pid" --disable && ms_of "$TAT_OUT" >>"$M/dis.$k"
			mem "$pid" "$bin" >>"$WORK/mem3.$k"
			# The pause as the target sees it: the longest gap between
			# wake-ups of its watcher thread (every 100 us) during the
			# command, minus the longest gap during a tattach --status
			# (which does not stop it) just before: the idle noise.
			ask "$c" gap
			"$TATTACH" -p "$pid" --status >/dev/null 2>&1
			ask "$c" gap && echo "${ANSWER#ok }" >>"$M/idlegap.$k"
			tat "$pid" --enable && ms_of "$TAT_OUT" >>"$M/en2.$k"
			ask "$c" gap && echo "${ANSWER#ok }" >>"$M/en2gap.$k"
			tat "$pid" --disable && ms_of "$TAT_OUT" >>"$M/dis.$k"
			ask "$c" gap && echo "${ANSWER#ok }" >>"$M/disgap.$k"
			stop "$c"
		done
		SITES[$k]=${sites:-?}
	done
done
for n in $SITE_SIZES; do
	for t in 1 8 64; do
		k=$n.$t
		row "3" "$n fns (${SITES[$k]:-?} sites), $t idle thr: --enable, first (injects)" "$M/en1.$k" "ms stopped"
		row "3" "  before it, the main thread held alone to inject" "$M/en1one.$k" "ms" \
			"the other threads run meanwhile"
		row "3" "$n fns, $t idle thr: --enable again" "$M/en2.$k" "ms stopped"
		row "3" "$n fns, $t idle thr: --disable" "$M/dis.$k" "ms stopped" "2 per run"
		[ "$t" = 8 ] && row "3" "$n fns, $t idle thr: tattach --enable (first), whole command" "$M/en1wall.$k" "ms wall"
		if [ "$t" = 8 ]; then
			combine "$M/en1ex.$k" '($1 - $2) / 1000' "$M/en1gap.$k" "$M/idlegap.$k"
			combine "$M/en2ex.$k" '($1 - $2) / 1000' "$M/en2gap.$k" "$M/idlegap.$k"
			row "3" "$n fns, $t idle thr: --enable, first, seen by the target (excess gap)" "$M/en1ex.$k" "ms" \
				"watcher thread (not the main thread)"
			combine "$M/disex.$k" '($1 - $2) / 1000' "$M/disgap.$k" "$M/idlegap.$k"
			row "3" "$n fns, $t idle thr: --enable again, seen by the target (excess gap)" "$M/en2ex.$k" "ms" \
				"watcher thread: longest gap - idle longest gap"
			row "3" "$n fns, $t idle thr: --disable, seen by the target (excess gap)" "$M/disex.$k" "ms" \
				"idle longest gap: $(fmt "$(awk '{ print $1 / 1000 }' "$M/idlegap.$k" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')") ms"
		fi
	done
done
# Growth: pause per 10x sites and per 8x threads, within the same sizes.
for t in 1 8 64; do
	combine "$M/grow10k.$t" '$2 / $1' "$M/en2.1000.$t" "$M/en2.10000.$t"
	combine "$M/grow100k.$t" '$2 / $1' "$M/en2.10000.$t" "$M/en2.100000.$t"
done
row "3" "growth 1k -> 10k sites (10x), --enable again, 8 thr" "$M/grow10k.8" "x" "linear would be <= 10"
row "3" "growth 10k -> 100k sites (10x), --enable again, 8 thr" "$M/grow100k.8" "x" "linear would be <= 10"
combine "$M/growthr" '$2 / $1' "$M/en2.10000.8" "$M/en2.10000.64"
row "3" "growth 8 -> 64 threads (8x), --enable again, 10k fns" "$M/growthr" "x" "linear would be <= 8"
say "3 took $(( $(date +%s) - T1 )) s"
fi

# ====================================================================
# 8. Many threads: 1, 2 and 8 threads writing at once; 1000 threads alive
# ====================================================================
if want 8; then
T1=$(date +%s)
say "8. threads at once: 1, 2, 8 threads tracing; 1000 threads alive"
# Per-call cost is the threads' CPU time (CLOCK_THREAD_CPUTIME_ID) per
# call, so 8 threads time-sharing 2 CPUs count only the time each one ran;
# a shared cache line written on the hot path would still show, as more
# CPU per call.
# The control: ladder 7 (ladder.c), a tracer with tattach's requirements
# whose threads share no written memory by construction; what its cost
# per call does with 2 and 8 threads is what this machine does to any
# such tracer.
# Two tattach processes: -t 16 (9 threads in 16 slots: a slot table more
# than half full, so the searches for a thread's slot are longer, which
# --status measures) and the default -t 128.
MT_R=100
if start mtplain "$OUT/percall.plain" && start mttat "$OUT/percall.pg" &&
   start mttat128 "$OUT/percall.pg" && start mtlad7 "$OUT/percall.lad7" &&
   tat "${PID[mttat]}" --enable -m flight -b 64K -t 16 &&
   tat "${PID[mttat128]}" --enable -m flight -b 64K; then
	for c in mtplain mttat mttat128 mtlad7; do ask "$c" "mt 2 $FIB_D 10"; done	# warm-up
	for ((r = 0; r < REPS; r++)); do
		for nt in 1 2 8; do
			for c in mtplain mttat mttat128 mtlad7; do
				if ask "$c" "mt $nt $FIB_D $MT_R"; then
					read -r ns calls _ wall <<<"$(sed 's/[a-z]*=//g; s/^ok //' <<<"$ANSWER")"
					awk -v ns="$ns" -v n="$calls" 'BEGIN { printf "%.4f\n", ns / n }' >>"$M/$c.mt$nt"
					awk -v ns="$wall" -v n="$calls" 'BEGIN { printf "%.4f\n", ns / n }' >>"$M/$c.mt$nt.wall"
					echo "$calls" >"$M/$c.mt$nt.calls"
				else
					note "mt $nt on $c failed: ${ANSWER:-no answer}"
				fi
			done
		done
	done
	for c in mttat mttat128; do
		st=$("$TATTACH" -p "${PID[$c]}" --status 2>&1)
		drop=$(awk '/^dropped:/ { print $2 + $6 }' <<<"$st")
		[ "${drop:-x}" = 0 ] || note "threads at once ($c): $drop events dropped or without a slot"
		SEARCH[$c]=$(slot_search <<<"$st")
	done
	for nt in 1 2 8; do
		combine "$M/mt$nt.ovh" '$1 - $2' "$M/mttat.mt$nt" "$M/mtplain.mt$nt"
		combine "$M/mt128_$nt.ovh" '$1 - $2' "$M/mttat128.mt$nt" "$M/mtplain.mt$nt"
		row "8" "$nt thread(s) at once, fib(20): no instrumentation, CPU per call" "$M/mtplain.mt$nt" "ns/call" \
			"$(cat "$M/mtplain.mt$nt.calls" 2>/dev/null) calls/run"
		row "8" "$nt thread(s) at once: tattach flight -b 64K -t 16, overhead (CPU per call)" "$M/mt$nt.ovh" "ns/call"
		row "8" "$nt thread(s) at once: tattach flight -b 64K -t 128 (default), overhead" \
			"$M/mt128_$nt.ovh" "ns/call"
		row "8" "$nt thread(s) at once: tattach, wall time per call (all threads)" "$M/mttat.mt$nt.wall" "ns/call" \
			"2 CPUs: 8 threads time-share them"
		combine "$M/mtl$nt.ovh" '$1 - $2' "$M/mtlad7.mt$nt" "$M/mtplain.mt$nt"
		row "8" "$nt thread(s) at once: ladder 7 (shares no written line), overhead (CPU per call)" \
			"$M/mtl$nt.ovh" "ns/call"
	done
	for nt in 2 8; do
		combine "$M/mt$nt.vs1" '$2 / $1' "$M/mt1.ovh" "$M/mt$nt.ovh"
		combine "$M/mt128_$nt.vs1" '$2 / $1' "$M/mt128_1.ovh" "$M/mt128_$nt.ovh"
		combine "$M/mtl$nt.vs1" '$2 / $1' "$M/mtl1.ovh" "$M/mtl$nt.ovh"
		row "8" "ratio overhead $nt threads / 1 thread, -t 16 (goal ~ 1)" "$M/mt$nt.vs1" "x"
		row "8" "ratio overhead $nt threads / 1 thread, -t 128 (goal ~ 1)" "$M/mt128_$nt.vs1" "x"
		row "8" "ratio overhead $nt threads / 1 thread, ladder 7 (the machine's own)" "$M/mtl$nt.vs1" "x"
	done
	row_text "8" "slot search after 8 threads, -t 16 (reads per search, average / most)" \
		"${SEARCH[mttat]:-?}" "keys" "tattach --status"
	row_text "8" "slot search after 8 threads, -t 128" "${SEARCH[mttat128]:-?}" "keys" "tattach --status"
fi
stop mtplain
stop mttat
stop mttat128
stop mtlad7

# 1000 threads alive, each traced: slots, ring memory, the search for a
# thread's slot in a table that full, and the CPU per call it makes.
if start mt1k "$OUT/percall.pg" && start mt1kplain "$OUT/percall.plain" &&
   tat "${PID[mt1k]}" --enable -m flight -b 64K -t 1024; then
	if ask mt1k "mt 1000 10 1"; then
		st=$("$TATTACH" -p "${PID[mt1k]}" --status 2>&1)
		# MT1K_*: also for print_goals (goals.sh)
		nslots=$(awk '/^threads with rings:/ { print $4 }' <<<"$st")
		noslot=$(awk '/^dropped:/ { print $6 }' <<<"$st")
		res=$(awk '/^resident:/ { print $2 }' <<<"$st")
		MT1K_SLOTS=$nslots MT1K_NOSLOT=$noslot MT1K_RES=$res
		row_text "8" "1000 threads each traced at once (-t 1024 -b 64K): thread slots used" "${nslots:-?}" "slots" \
			"${noslot:-?} events without a slot"
		row_text "8" "1000 threads: ring file resident" "${res:-?}" "MiB" "a whole 64 KiB ring per thread that wrote"
		row_text "8" "1000 threads: slot search (reads per search, average / most)" \
			"$(slot_search <<<"$st")" "keys" "tattach --status"
		for ((r = 0; r < REPS; r++)); do
			for c in mt1kplain mt1k; do
				if ask "$c" "mt 1000 15 3"; then
					read -r ns calls _ <<<"$(sed 's/[a-z]*=//g; s/^ok //' <<<"$ANSWER")"
					awk -v ns="$ns" -v n="$calls" 'BEGIN { printf "%.4f\n", ns / n }' >>"$M/$c.cpu"
				else
					note "mt 1000 15 3 on $c failed: ${ANSWER:-no answer}"
				fi
			done
		done
		combine "$M/mt1k.ovh" '$1 - $2' "$M/mt1k.cpu" "$M/mt1kplain.cpu"
		row "8" "1000 threads at once, fib(15) x 3 each: tattach overhead (CPU per call)" "$M/mt1k.ovh" "ns/call" \
			"-t 1024: the table 98 % full"
		combine "$M/mt1k.vs1" '$2 / $1' "$M/mt128_1.ovh" "$M/mt1k.ovh"
		row "8" "ratio overhead 1000 threads (-t 1024) / 1 thread (-t 128)" "$M/mt1k.vs1" "x" \
			"what the longer slot search costs, with the CPU sharing"
	else
		note "mt 1000 failed: ${ANSWER:-no answer}"
	fi
fi
stop mt1k
stop mt1kplain

# 1000 idle threads alive: the pause of --enable and --disable.
K=${SIT_K:-10000}
for ((r = 0; r < (REPS < 3 ? REPS : 3); r++)); do
	start sites1k "$OUT/sites.$K" || { note "sites.$K did not start"; break; }
	if ask sites1k "threads 1000" && ask sites1k touch; then
		pid=${PID[sites1k]}
		mem "$pid" "$OUT/sites.$K" >>"$WORK/mem0.1k"
		tat "$pid" --enable -t 1024 && ms_of1k "$TAT_OUT" >>"$M/en1.1k"
		mem "$pid" "$OUT/sites.$K" >>"$WORK/mem1.1k"
		tat "$pid" --disable && ms_of1k "$TAT_OUT" >>"$M/dis.1k"
		tat "$pid" --enable && ms_of1k "$TAT_OUT" >>"$M/en2.1k"
		tat "$pid" --disable && ms_of1k "$TAT_OUT" >>"$M/dis.1k"
	fi
	stop sites1k
done
row "8" "$K fns, 1000 idle thr (-t 1024): --enable, first (injects)" "$M/en1.1k" "ms stopped"
row "8" "$K fns, 1000 idle thr: --enable again" "$M/en2.1k" "ms stopped"
row "8" "$K fns, 1000 idle thr: --disable" "$M/dis.1k" "ms stopped" "2 per run"
if [ -s "$WORK/mem0.1k" ]; then
	awk 'NR == FNR { a[FNR] = $4; next } { print $4 - a[FNR] }' "$WORK/mem0.1k" "$WORK/mem1.1k" >"$M/rss.1k"
	row "8" "$K fns, 1000 idle thr: process Rss growth, --enable" "$M/rss.1k" "KiB" "1024 slots of private state, touched as used"
fi
say "8 took $(( $(date +%s) - T1 )) s"
fi

# ====================================================================
# 9. Attach pause with every CPU busy
# ====================================================================
# Section 3 stops idle programs on an idle machine.  A production process
# is stopped while it works: here the 10k-function program has, besides 8
# idle threads, two busy threads per CPU that call traced functions
# without end, and is enabled and disabled BUSY_CYCLES times a run, with
# tattach as it is (nice -20 while it holds threads,
# attach/process/priority.c) and with TATTACH_PRIORITY=0 (its own nice),
# one after the other.
if want 9; then
T1=$(date +%s)
BUSY_CYCLES=${BENCH_BUSY_CYCLES:-10}
BUSY_THREADS=$((2 * JOBS))
say "9. attach pause, CPUs busy: 10k sites, 8 idle + $BUSY_THREADS busy threads, $REPS x $BUSY_CYCLES cycles"
for ((r = 0; r < REPS; r++)); do
	c=busy
	start "$c" "$OUT/sites.10000" || { note "sites.10000 did not start"; break; }
	ask "$c" "threads 8" && ask "$c" "busy $BUSY_THREADS" ||
		{ note "sites.10000: threads 8, busy $BUSY_THREADS failed"; stop "$c"; break; }
	pid=${PID[$c]}
	tat "$pid" --enable -b 64K -m flight && tat "$pid" --disable || { stop "$c"; break; }
	for ((k = 0; k < BUSY_CYCLES; k++)); do
		for prio in 1 0; do
			TATTACH_PRIORITY=$prio tat "$pid" --enable -b 64K -m flight &&
				ms_of "$TAT_OUT" >>"$M/busy_en.$prio"
			TATTACH_PRIORITY=$prio tat "$pid" --disable &&
				ms_of "$TAT_OUT" >>"$M/busy_dis.$prio"
		done
	done
	stop "$c"
done
for e in en dis; do
	what="--enable again"
	[ "$e" = dis ] && what=--disable
	row "9" "10k fns, 8 idle + $BUSY_THREADS busy thr: $what (tattach at nice -20 while held)" \
		"$M/busy_$e.1" "ms stopped" "$((REPS * BUSY_CYCLES)) runs"
	row "9" "  the same, TATTACH_PRIORITY=0 (tattach at its own nice 0)" "$M/busy_$e.0" "ms stopped"
	p90 "$M/busy_$e.1" >"$M/busy_$e.1.p90"
	p90 "$M/busy_$e.0" >"$M/busy_$e.0.p90"
	row "9" "  90th percentile: at nice -20 (note: at nice 0)" "$M/busy_$e.1.p90" "ms stopped" \
		"at nice 0: $(cat "$M/busy_$e.0.p90" 2>/dev/null) ms"
done
say "9 took $(( $(date +%s) - T1 )) s"
fi

# ====================================================================
# 4. Reader throughput
# ====================================================================
if want 4; then
T1=$(date +%s)
say "4. reader: filling a 64 MiB ring"
c=reader
if start "$c" "$OUT/percall.pg" && tat "${PID[$c]}" --enable -m discard -b 64M -t 8 &&
	ask "$c" "fib $FIB_D 100" && ask "$c" "mix 25000" && tat "${PID[$c]}" --disable; then
	st=$("$TATTACH" -p "${PID[$c]}" --status 2>&1)
	ev=$(ev_written "$st")
	drop=$(awk '/^dropped:/ { print $2 }' <<<"$st")
	[ "$drop" = 0 ] || note "reader ring: $drop events dropped"
	lines=$("$TREAD" -p "${PID[$c]}" 2>/dev/null | wc -l)
	for ((r = 0; r < REPS; r++)); do
		for mode in graph report; do
			args=(-p "${PID[$c]}")
			[ $mode = report ] && args+=(--report)
			t0=$(date +%s%N)
			"$TREAD" "${args[@]}" >/dev/null 2>"$WORK/tread.err" ||
				note "tread ${args[*]} failed: $(head -n 2 "$WORK/tread.err")"
			t1=$(date +%s%N)
			awk -v e="$ev" -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", e / d * 1000 }' >>"$M/tread.$mode"
		done
	done
	row_text "4" "ring: events (one thread, -b 64M -t 8, discard)" "$ev" "events" "dropped: ${drop:-?}; graph: $lines lines"
	row "4" "tread -p PID > /dev/null (call graph)" "$M/tread.graph" "M events/s" "whole command, start-up included"
	row "4" "tread -p PID --report > /dev/null" "$M/tread.report" "M events/s" "goal >= 20"
	# Exports and --save of the same ring (issue 10: a few seconds per
	# million events at most), as seconds per million events.
	for fmt in chrome folded flamegraph uftrace ctf save; do
		for ((r = 0; r < REPS; r++)); do
			rm -rf "$WORK/x.$fmt"	# uftrace and ctf write a new folder
			case $fmt in
			save) args=(--save "$WORK/x.tsave") ;;
			*) args=(--export "$fmt" -o "$WORK/x.$fmt") ;;
			esac
			t0=$(date +%s%N)
			"$TREAD" -p "${PID[$c]}" "${args[@]}" >/dev/null 2>"$WORK/tread.err" ||
				note "tread ${args[*]} failed: $(head -n 2 "$WORK/tread.err")"
			t1=$(date +%s%N)
			awk -v e="$ev" -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / e / 1000 }' >>"$M/export.$fmt"
		done
		size=$(du -sk "$WORK/x.$([ $fmt = save ] && echo tsave || echo $fmt)" 2>/dev/null | cut -f1)
		rm -rf "$WORK/x.$fmt" "$WORK/x.tsave"
		item="tread -p PID --export $fmt -o FILE"
		case $fmt in uftrace | ctf) item="tread -p PID --export $fmt -o DIR" ;; esac
		[ $fmt = save ] && item="tread -p PID --save FILE"
		row "4" "$item" "$M/export.$fmt" "s per M events" "goal: a few; file ${size:-?} KiB"
	done
else
	note "reader benchmark could not fill its ring"
fi
stop "$c"
say "4 took $(( $(date +%s) - T1 )) s"
fi

# ====================================================================
# 5. Memory
# ====================================================================
st=$(cat "$WORK/status.default" 2>/dev/null)
per=$(sed -n 's/^buffer: *\([0-9]*\) bytes per thread, \([0-9]*\) thread slots.*/\1 \2/p' <<<"$st")
fsz=$(sed -n 's/^ring file:.*(\(.*\)).*/\1/p' <<<"$st")
[ -n "$per" ] &&	# section 3 read it
	row_text "5" "ring per thread, default (-b)" "$(awk -v b="${per%% *}" 'BEGIN { printf "%.0f", b / 1024 }')" "KiB" "${per##* } thread slots; file $fsz, sparse"
if [ -r "$WORK/pg_off.mem2" ]; then
	read -r _ _ ring _ _ <"$WORK/pg_off.mem2"
	row_text "5" "ring file resident after 1 thread filled its default ring" "$ring" "KiB" "header, tables and one 1 MiB ring"
fi
if [ -r "$WORK/tat_fl.mem" ]; then
	read -r _ _ ring _ _ <"$WORK/tat_fl.mem"
	row_text "5" "ring file resident, 1 thread, -b 64K" "$ring" "KiB"
fi
blob=$B/attach/tramp/tramp_blob.h
if [ -r "$blob" ]; then
	tb=$(awk '/tramp_code\[\]/ { on = 1; next } on && /};/ { on = 0 } on { n += gsub(/0x[0-9a-fA-F][0-9a-fA-F]/, "") } END { print n }' "$blob")
	cfg_off=$(awk '/OFF_CONFIG_AREA/ { print $3; exit }' "$blob")
	cfg_off=$((${cfg_off:-0}))
	row_text "5" "trampoline code (tramp_code in tramp_blob.h)" "$tb" "bytes" "config area at +${cfg_off:-?}; one copy per far-apart module"
fi
# mem lines: binAnon binRss ringRss totalRss totalAnon ringShm (kB), the
# last missing before the first --enable; pasted before/after: $1..$5 (or
# $6) before, then after, so index the after fields from NF.
memrow() {	# memrow ITEM BEFORE AFTER AWK-EXPR [NOTE]
	local f=$WORK/memd.$RANDOM
	combine "$f" "$4" "$2" "$3"
	row "5" "$1" "$f" "KiB" "${5:-}"
}
D_BIN='$(NF-5) - $1' D_RSS='$(NF-2) - $4' D_OWN='($(NF-2) - $4) - ($(NF-4) - $2)' D_RING='$(NF-3) - $3' D_SHM='$NF'

for n in $SITE_SIZES; do
	k=$n.1
	[ -s "$WORK/mem0.$k" ] || continue
	txt=$(size -A "$OUT/sites.$n" 2>/dev/null | awk '$1 == ".text" { printf "%d", $2 / 1024 }')
	memrow "$n fns, 1 thr: code pages copied (anonymous) by --enable" "$WORK/mem0.$k" "$WORK/mem1.$k" "$D_BIN" ".text is $txt KiB"
	memrow "$n fns, 1 thr: other Rss growth, --enable (trampoline, private state)" "$WORK/mem0.$k" "$WORK/mem1.$k" "$D_OWN"
	memrow "$n fns, 1 thr: ring file in /dev/shm after --enable (header, tables)" "$WORK/mem0.$k" "$WORK/mem1.$k" "$D_SHM"
	memrow "$n fns, 1 thr: ring pages resident after 1 traced call of each fn" "$WORK/mem0.$k" "$WORK/mem2.$k" "$D_RING"
	memrow "$n fns, 1 thr: process Rss growth after --enable, calls, --disable" "$WORK/mem0.$k" "$WORK/mem3.$k" "$D_RSS" "not given back"
done
for t in 8 64; do
	k=10000.$t
	[ -s "$WORK/mem0.$k" ] || continue
	memrow "10000 fns, $t idle thr: other Rss growth, --enable" "$WORK/mem0.$k" "$WORK/mem1.$k" "$D_OWN"
done
if [ -r "$WORK/pg_off.mem0" ]; then
	memrow "percall -pg (12 sites): code pages copied (anonymous) by --enable" "$WORK/pg_off.mem0" "$WORK/pg_off.mem1" "$D_BIN"
	memrow "percall -pg (12 sites): other Rss growth, --enable" "$WORK/pg_off.mem0" "$WORK/pg_off.mem1" "$D_OWN"
fi

# ====================================================================
# 6. The --html viewer: a page of 1 million calls in headless chromium
# ====================================================================
# html_gen writes a made-up trace through tread's exporter; the page's
# #selftest reports, from performance.now(), the time from navigation
# start (so HTML parsing of the data included) to the end of the first
# full draw, and the drawing time of 21 frames panning over the whole
# trace and over 1/1000 of it.  Headless chromium draws in software.
if want 6; then
T1=$(date +%s)
say "6. viewer: 1 million calls in headless chromium"
ROOT=$(cd "$HERE/../.." && pwd)
cc_to "$OUT/html_gen" "$HERE/html_gen.c" "$B/libtattach.a" -- $CF -D_GNU_SOURCE -I"$ROOT" \
	-I"$ROOT/include" "$HERE/html_gen.c" "$B/libtattach.a"
CHROMIUM=${TATTACH_CHROMIUM:-$(command -v chromium)}
if [ -z "$CHROMIUM" ]; then
	note "chromium not installed (make deps): viewer rows skipped"
elif t0=$(date +%s%N) && "$OUT/html_gen" 1000000 "$WORK/view1m.html" >"$WORK/html_gen.out" 2>&1; then
	t1=$(date +%s%N)
	size=$(stat -c %s "$WORK/view1m.html")
	for ((r = 0; r < REPS; r++)); do
		prof=$(mktemp -d "$WORK/chromium.XXXXXX")
		timeout 300 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--hide-scrollbars --user-data-dir="$prof" --window-size=1280,900 \
			--dump-dom "file://$WORK/view1m.html#selftest" 2>/dev/null |
			sed -n '/<pre id="selftest"/,/<\/pre>/{s/<[^>]*>//g;p}' >"$WORK/view.out"
		rm -rf "$prof"
		if ! grep -q '^errors 0' "$WORK/view.out"; then
			note "viewer: no clean self-test: $(grep -m 1 '^error ' "$WORK/view.out")"
			continue
		fi
		# field KEY [N]: the Nth number after KEY (frame lines: median max)
		field() { awk -v k="$1" -v n="${2:-1}" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + n); exit } }' "$WORK/view.out"; }
		field load_ms >>"$M/view.load"
		field script_ms >>"$M/view.script"
		field frame_whole_ms >>"$M/view.whole"
		field frame_whole_ms 2 >>"$M/view.whole.max"
		field frame_zoom1000_ms >>"$M/view.zoom"
		field walk_whole_ms >>"$M/view.walk"
	done
	row_text "6" "page of 1,000,000 calls (4 threads, 2 processes), size" \
		"$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')" "MiB" \
		"$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }') bytes per call; written in $(( (t1 - t0) / 1000000 )) ms by html_gen"
	row "6" "open: navigation start to end of first full draw" "$M/view.load" "ms" "goal < 3000"
	row "6" "  of which the viewer's script (decode, index, draw)" "$M/view.script" "ms"
	row "6" "frame, whole trace in view, panning 1 % a frame" "$M/view.whole" "ms" "median of 21 frames per run"
	row "6" "  slowest of the 21 frames" "$M/view.whole.max" "ms"
	row "6" "  of which finding what to draw (no painting)" "$M/view.walk" "ms" "median of 21 walks per run"
	row "6" "frame, 1/1000 of the trace in view, panning" "$M/view.zoom" "ms" "median of 21 frames per run"
else
	note "html_gen failed: $(tail -n 1 "$WORK/html_gen.out")"
fi
say "6 took $(( $(date +%s) - T1 )) s"
fi

# 7. Any binary: library calls and entry-patched functions (--libcalls,
#    --entry) next to a -pg site, and the pause of 10k entry patches
# ====================================================================
if want 7; then
T1=$(date +%s)
say "7. any binary: per call of a library call and of an entry-patched function, $REPS runs"
LIBR=2000000
# lib_ns CONFIG METRIC-FILE: ns per w_lib call (strlen included) appended.
lib_ns() {
	ask "$1" "lib $LIBR" || { note "$1: 'lib' failed (${ANSWER:-no answer})"; return 1; }
	sed 's/[a-z]*=//g; s/^ok //' <<<"$ANSWER" | awk '{ printf "%.4f\n", $1 / $2 }' >>"$2"
}
for ((r = 0; r < REPS; r++)); do
	if start anyb "$OUT/percall.pg"; then
		p=${PID[anyb]}
		lib_ns anyb "$WORK/junk"	# warm-up
		lib_ns anyb "$M/any.mcount"
		# the baseline: w_lib's site a NOP, as every untraced function
		# of a traced program; glibc's mcount, which a -pg build runs
		# until tattach first enables, is no part of a traced call (as
		# section 1 measures against the plain build)
		tat "$p" --enable -F '^w_lib$' && tat "$p" --disable && lib_ns anyb "$M/any.base"
		tat "$p" --enable -m flight -b 64K -F '^w_lib$' && lib_ns anyb "$M/any.pg"
		tat "$p" --enable --libcalls -F '^(w_lib|strlen)$' && lib_ns anyb "$M/any.lib"
	fi
	stop anyb
	if start anyp "$OUT/percall.plain"; then
		p=${PID[anyp]}
		lib_ns anyp "$WORK/junk"
		lib_ns anyp "$M/any.pbase"
		tat "$p" --enable --entry -m flight -b 64K -F '^w_lib$' && lib_ns anyp "$M/any.entry"
	fi
	stop anyp
done
combine "$M/any.mcount.ovh" '$1 - $2' "$M/any.mcount" "$M/any.base"
combine "$M/any.pg.ovh" '$1 - $2' "$M/any.pg" "$M/any.base"
combine "$M/any.lib.ovh" '$1 - $2' "$M/any.lib" "$M/any.pg"
combine "$M/any.entry.ovh" '$1 - $2' "$M/any.entry" "$M/any.pbase"
combine "$M/any.lib.vs_pg" '$1 / $2' "$M/any.lib.ovh" "$M/any.pg.ovh"
combine "$M/any.entry.vs_pg" '$1 / $2' "$M/any.entry.ovh" "$M/any.pg.ovh"
row "7" "w_lib(): -pg, never attached (glibc mcount runs): overhead" "$M/any.mcount.ovh" "ns/call" "over its site a NOP"
row "7" "w_lib(): -pg site, flight: overhead" "$M/any.pg.ovh" "ns/call" "$LIBR calls/run; over its site a NOP"
row "7" "strlen() through the PLT, --libcalls: overhead" "$M/any.lib.ovh" "ns/call" "on top of the -pg site"
row "7" "w_lib() without -pg, --entry: overhead" "$M/any.entry.ovh" "ns/call"
row "7" "ratio library call / -pg site (goal <= 1.2)" "$M/any.lib.vs_pg" "x"
row "7" "ratio entry-patched / -pg site (goal <= 1.2)" "$M/any.entry.vs_pg" "x"

# The 10 000 generated functions of section 3, built without -pg.
objs=()
for ((k = 0; k < 10; k++)); do
	o=$SRC/gen_$k.plain.o
	older "$o" "$SRC/gen_$k.c" && { $CC -std=gnu11 -O1 -g0 -c -o "$o" "$SRC/gen_$k.c" || break; }
	objs+=("$o")
done
cc_to "$OUT/sites.10000.plain" "$HERE/sites_main.c" "$SRC/table_10000.o" "${objs[@]}" -- \
	-std=gnu11 -O1 -g -pthread "$HERE/sites_main.c" "$SRC/table_10000.o" "${objs[@]}"
for ((r = 0; r < REPS; r++)); do
	start ent "$OUT/sites.10000.plain" || { note "sites.10000.plain did not start"; break; }
	ask ent "threads 8" && ask ent touch || { note "sites.10000.plain: threads failed"; stop ent; break; }
	p=${PID[ent]}
	tat "$p" --enable --entry && ms_of "$TAT_OUT" >>"$M/entry.en1" &&
		ENTRIES=$(sed -n 's/.* \([0-9]*\) function entries patched.*/\1/p' <<<"$TAT_OUT")
	ask ent call || note "sites.10000.plain: call while traced failed"
	tat "$p" --disable && ms_of "$TAT_OUT" >>"$M/entry.dis"
	tat "$p" --enable --entry && ms_of "$TAT_OUT" >>"$M/entry.en2"
	stop ent
done
row "7" "10000 fns without -pg (${ENTRIES:-?} entries patched), 8 idle thr: --enable --entry, first" "$M/entry.en1" "ms stopped"
row "7" "  the same, --enable --entry again" "$M/entry.en2" "ms stopped" "goal <= 10"
row "7" "  the same, --disable" "$M/entry.dis" "ms stopped"
say "7. took $(( $(date +%s) - T1 )) s"
fi

# ====================================================================
# The table
# ====================================================================
{
	echo "tattach benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)," \
		"$(nproc) CPUs, Linux $(uname -r); median and min - max of n runs;" \
		"load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
	awk -F '\t' '
		{ for (i = 1; i <= 6; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
		END {
			hdr[1] = "sect"; hdr[2] = "what"; hdr[3] = "median"; hdr[4] = "min - max"; hdr[5] = "unit"; hdr[6] = "notes"
			for (i = 1; i <= 6; i++) if (length(hdr[i]) > w[i]) w[i] = length(hdr[i])
			line = ""
			for (i = 1; i <= 6; i++) line = line sprintf("%-" w[i] "s  ", hdr[i])
			print line
			sep = ""
			for (i = 1; i <= 6; i++) { s = ""; for (j = 0; j < w[i]; j++) s = s "-"; sep = sep s "  " }
			print sep
			for (r = 1; r <= NR; r++) {
				line = ""
				for (i = 1; i <= 6; i++)
					line = line sprintf(i == 3 ? "%" w[i] "s  " : "%-" w[i] "s  ", c[r, i])
				sub(/ +$/, "", line)
				print line
			}
		}' "$ROWS"
	echo
	print_goals
	if [ ${#NOTES[@]} -gt 0 ]; then
		echo
		echo "notes:"
		printf '  - %s\n' "${NOTES[@]}"
	fi
	echo "(make bench took $(( $(date +%s) - T_START )) s)"
} | tee "$OUT/results.txt"
