#!/bin/bash
# Real-world check: trace a live memcached (Debian's source, built with -pg)
# under a self-checking client load, the way a new user would.
#
#   tests/realworld/memcached.sh            (as root, Debian 12, x86-64)
#
# Not part of `make check`.  What it does, end to end:
#   1. installs what it needs with apt-get (enables deb-src for the running
#      suite if `apt-get source` cannot find memcached), builds tattach/tread
#      with `make all`, fetches `apt-get source memcached` and builds it with
#      CFLAGS="-pg -O2 -g" under $WORK (default /tmp/tattach-realworld-memcached;
#      nothing is installed, the build is reused by a second run);
#   2. runs memcached on 127.0.0.1 only, and tests/realworld/mc-load.c:
#      CONNS connections of set/get/miss/incr/delete/multi-get, every answer
#      checked byte for byte;
#   3. while the load runs: tattach --enable, --status, --enable again,
#      --disable, --disable again; tread | head -100; tread --report | head -40;
#      checks that no request failed, that memcached still serves after the
#      disable, and that the trace shows memcached's own functions; then
#      tread -f during a second traced load (stopped with SIGINT), a second
#      memcached traced with -m flight -b 64K, and a third whose file is
#      replaced on disk while it runs (a redeploy): traced, walked by
#      --stacks and named from the file it mapped.
#   4. prints a summary; kills only the processes it started (by pid) and
#      removes the ring files of its memcached processes.
#
# Environment: MC_CFLAGS (memcached's CFLAGS, default "-pg -O2 -g"; with
# "-pg -mfentry -O2 -g" its sites are __fentry__ calls, which tattach turns
# into jumps to call-through stubs), WORK (build and log folder), PORT (first of two ports, default
# 21211), CONNS (8), REQS (per connection, 100000), LOAD_SECONDS (cap per load,
# 10), KEEP=1 keeps the ring files.  Exit status 0 when every check passed.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$REPO/build}
MC_CFLAGS=${MC_CFLAGS:--pg -O2 -g}
WORK=${WORK:-/tmp/tattach-realworld-memcached}
PORT=${PORT:-21211}
PORT2=$((PORT + 1))
CONNS=${CONNS:-8}
REQS=${REQS:-100000}
LOAD_SECONDS=${LOAD_SECONDS:-10}
PAUSE_US=${PAUSE_US:-200}          # between requests, per connection
RW_NAME=memcached.sh
. "$REPO/tests/realworld/common.sh"	# and now in $WORK

# ------------------------------------------------------------------ 1. setup
rw_install build-essential pkg-config dpkg-dev libevent-dev
rw_build_tattach
rw_source memcached
MC=$SRC/memcached
# built with other flags before: again, from clean
if [ ! -x "$MC" ] || [ "$(cat "$SRC/.tattach-cflags" 2>/dev/null)" != "$MC_CFLAGS" ]; then
	say "building $(basename "$SRC") with CFLAGS=\"$MC_CFLAGS\""
	(cd "$SRC" && CFLAGS="$MC_CFLAGS" ./configure >"$WORK/configure.log" 2>&1 &&
	 make clean >/dev/null 2>&1 && make -j"$(nproc)" >"$WORK/make-memcached.log" 2>&1 &&
	 echo "$MC_CFLAGS" >.tattach-cflags) ||
		die "memcached build failed (see $WORK/configure.log, $WORK/make-memcached.log)"
fi
mcount_sites=$(objdump -d "$MC" | grep -c 'call.*\(mcount\|__fentry__\)')
case "$MC_CFLAGS" in
*-mfentry*) [ "$(objdump -d "$MC" | grep -c 'call.*__fentry__')" -gt 0 ] ||
		die "$MC has no __fentry__ calls: not built with $MC_CFLAGS? remove $SRC/.tattach-cflags" ;;
esac
say "$MC: $mcount_sites calls of mcount or __fentry__"

gcc -O2 -Wall -pthread -o "$WORK/mc-load" "$REPO/tests/realworld/mc-load.c" ||
	die "cannot build mc-load"

# -------------------------------------------------------------- processes
# start_mc PORT LOG: start memcached, set MCPID
start_mc() {
	local port=$1 log=$2 user=() i
	[ "$(id -u)" = 0 ] && user=(-u root)
	GMON_OUT_PREFIX=$WORK/gmon "$MC" -U 0 -l 127.0.0.1 -p "$port" -t 4 "${user[@]}" >"$log" 2>&1 &
	MCPID=$!
	pids+=("$MCPID")
	ring_pids+=("$MCPID")
	for i in $(seq 50); do
		"$WORK/mc-load" 127.0.0.1 "$port" 1 7 5 >/dev/null 2>&1 && return 0
		kill -0 "$MCPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log"
	die "memcached did not start on 127.0.0.1:$port"
}

# start_load PORT OUT: bounded load in the background, set LOADPID
start_load() {
	"$WORK/mc-load" 127.0.0.1 "$1" "$CONNS" "$REQS" "$LOAD_SECONDS" "$PAUSE_US" >"$2" 2>&1 &
	LOADPID=$!
	pids+=("$LOADPID")
}
# start_load_n PORT OUT CONNS REQS: a short unpaced load
start_load_n() {
	"$WORK/mc-load" 127.0.0.1 "$1" "$3" "$4" 30 >"$2" 2>&1 &
	LOADPID=$!
	pids+=("$LOADPID")
}

total_req=0
total_err=0
# wait_load NAME OUT
wait_load() {
	wait "$LOADPID"
	local rc=$? line req ok err
	forget "$LOADPID"
	line=$(grep '^mc-load:' "$2" | tail -1)
	req=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
	ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")
	err=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$line")
	total_req=$((total_req + ${req:-0}))
	total_err=$((total_err + ${err:-1}))
	if [ "$rc" = 0 ] && [ "${err:-1}" = 0 ] && [ "${req:-0}" -gt 0 ] && [ "$req" = "$ok" ]; then
		pass "$1: $line"
	else
		fail "$1: exit $rc: ${line:-no summary}"
		grep -v '^mc-load: requests' "$2" | head -5
	fi
}

run_tattach() { rw_tattach "$@" && pass "tattach ${*:3}"; }

# --------------------------------------------- 2-3. trace under load (discard)
O=$WORK/out
mkdir -p "$O"
start_mc "$PORT" "$WORK/memcached-1.log"
PID=$MCPID
say "memcached pid $PID on 127.0.0.1:$PORT ($(ls /proc/$PID/task | wc -l) threads)"

start_load "$PORT" "$O/load-1.out"
say "load: $CONNS connections x up to $REQS requests, at most ${LOAD_SECONDS}s"
sleep 1
run_tattach 'tracing enabled: [0-9]+ sites in [0-9]+ modules?, [0-9]+ threads? stopped for [0-9.]+ ms' \
	"$O/enable-1.txt" -p "$PID" --enable
sites=$(sed -n 's/.*tracing enabled: \([0-9]*\) sites.*/\1/p' "$O/enable-1.txt")
sleep 1
say "tattach -p $PID --status"
"$TATTACH" -p "$PID" --status >"$O/status-1.txt" 2>&1 || fail "tattach --status exit $?"
sed 's/^/    /' "$O/status-1.txt"
patched=$(awk '/sites,/ { for (i = 1; i < NF; i++) if ($(i+1) == "patched") print $i }' "$O/status-1.txt" | head -1)
grep -q '^tracing: *enabled' "$O/status-1.txt" && [ "${patched:-0}" -gt 0 ] &&
	pass "status: enabled, $patched sites patched" || fail "status does not show tracing enabled with patched sites"
run_tattach 'already enabled' "$O/enable-2.txt" -p "$PID" --enable
sleep 1
run_tattach 'tracing disabled: [0-9]+ sites are NOPs again, [0-9]+ threads stopped for [0-9.]+ ms' \
	"$O/disable-1.txt" -p "$PID" --disable
run_tattach 'already disabled' "$O/disable-2.txt" -p "$PID" --disable
wait_load "load while tracing (discard mode)" "$O/load-1.out"

start_load_n "$PORT" "$O/load-after.out" 4 5000
wait_load "memcached still serves after --disable" "$O/load-after.out"

say "tread -p $PID | head -100"
"$TREAD" -p "$PID" >"$O/tread-1.txt" 2>"$O/tread-1.err"
rc=$?
[ $rc = 0 ] && [ ! -s "$O/tread-1.err" ] || fail "tread exit $rc: $(head -3 "$O/tread-1.err")"
head -100 "$O/tread-1.txt" | sed 's/^/    /'
# a pipe closed early must not be an error
"$TREAD" -p "$PID" | head -100 >/dev/null
[ "${PIPESTATUS[0]}" = 0 ] && pass "tread | head -100 exits 0" || fail "tread | head: exit ${PIPESTATUS[0]}"
check_names "$O/tread-1.txt" "call graph" event_handler drive_machine process_command_ascii \
	item_get do_item_get assoc_find MurmurHash3_x86_32 tcp_read transmit
grep -q '0x[0-9a-f]\{6,\}\|bad_site_' "$O/tread-1.txt" &&
	fail "call graph has unnamed sites: $(grep -m2 '0x[0-9a-f]\{6,\}\|bad_site_' "$O/tread-1.txt")"
# event_handler is called by libevent (not traced): it must be at depth 0,
# or 1 under the worker_libevent() that --enable found running (adopted)
bad_depth=$(grep -c '|     \+event_handler() {' "$O/tread-1.txt")
[ "$bad_depth" = 0 ] && pass "event_handler always at depth 0 or 1 (under an adopted worker) in the graph" ||
	fail "event_handler nested $bad_depth times in the graph"
graph_lines=$(grep -vc '^#' "$O/tread-1.txt")

say "tread -p $PID --report | head -40"
"$TREAD" -p "$PID" --report >"$O/report-1.txt" 2>"$O/report-1.err" || fail "tread --report exit $?"
head -40 "$O/report-1.txt" | sed 's/^/    /'
calls=$(sed -n 's/^# \([0-9]*\) calls of \([0-9]*\) functions.*/\1/p' "$O/report-1.txt")
funcs=$(sed -n 's/^# \([0-9]*\) calls of \([0-9]*\) functions.*/\2/p' "$O/report-1.txt")
[ "${calls:-0}" -gt 1000 ] && pass "report: $calls calls of $funcs functions" ||
	fail "report: only ${calls:-0} calls"
check_names "$O/report-1.txt" "report" event_handler drive_machine process_command_ascii \
	complete_nread_ascii do_item_get item_get
# every worker-thread request passes through event_handler -> drive_machine:
# the same number of completed calls, and TOTAL(event_handler) >=
# TOTAL(drive_machine); but for the event_handler calls whose exit came
# after their thread's ring was full (discard mode), which the report
# counts among the calls whose exit was lost (no longer in flight) or
# still running at the end
awk '$NF == "event_handler" { ec = $1; et = $2 } $NF == "drive_machine" { dc = $1; dt = $2 }
     /still running at the end|whose exit was lost/ { open += $2 }
     END { exit !(ec > 0 && ec <= dc && dc - ec <= open + 0 && (ec < dc || et + 0.001 >= dt)) }' \
	"$O/report-1.txt" &&
	pass "report: event_handler and drive_machine agree (calls, total)" ||
	fail "report: event_handler/drive_machine rows disagree"
awk '/^ *[0-9]/ && $3 > $2 + 0.001 { bad++ } END { exit bad > 0 }' "$O/report-1.txt" &&
	pass "report: SELF <= TOTAL on every row" ||
	fail "report: rows with SELF > TOTAL: $(awk '/^ *[0-9]/ && $3 > $2 + 0.001 { print $NF }' "$O/report-1.txt" | tr '\n' ' ')"

# ------------------------------------------------------- tread -f under load
say "tread -f during a second traced load (SIGINT after 4 s)"
start_load "$PORT" "$O/load-2.out"
sleep 0.5
run_tattach 'tracing enabled' "$O/enable-3.txt" -p "$PID" --enable
"$TREAD" -p "$PID" -f >"$O/follow-1.txt" 2>"$O/follow-1.err" &
FPID=$!
pids+=("$FPID")
sleep 4
kill -INT "$FPID"
t0=$(date +%s%N)
for i in $(seq 100); do kill -0 "$FPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$FPID" 2>/dev/null; then
	fail "tread -f still running 10 s after SIGINT"
	kill "$FPID"
fi
wait "$FPID"
frc=$?
forget "$FPID"
stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $frc = 0 ] && pass "tread -f stopped by SIGINT: exit 0 after ${stop_ms} ms" || fail "tread -f exit $frc"
follow_lines=$(grep -vc '^#' "$O/follow-1.txt")
check_names "$O/follow-1.txt" "tread -f output" event_handler drive_machine process_command_ascii
run_tattach 'tracing disabled' "$O/disable-3.txt" -p "$PID" --disable
wait_load "load while tracing with tread -f" "$O/load-2.out"
follow_lost=$(grep -c '/\* lost [0-9]* events \*/' "$O/follow-1.txt")
follow_nested=$(grep -c '|     \+event_handler() {' "$O/follow-1.txt")
# calls open at a loss are kept only while still in flight (tread.md,
# "loss marker"): event_handler stays at depth 0 or 1 however many losses
[ "$follow_nested" = 0 ] &&
	pass "tread -f: event_handler never nested, across $follow_lost loss markers" ||
	fail "tread -f: event_handler printed nested $follow_nested times after $follow_lost loss markers"

# ------------------------------------------------ flight mode, 64K rings
say "second memcached, traced with -m flight -b 64K"
start_mc "$PORT2" "$WORK/memcached-2.log"
PID2=$MCPID
start_load "$PORT2" "$O/load-3.out"
sleep 0.5
run_tattach 'tracing enabled' "$O/enable-4.txt" -p "$PID2" --enable -m flight -b 64K
"$TATTACH" -p "$PID2" --status >"$O/status-2.txt" 2>&1 || fail "tattach --status exit $?"
grep -q '^mode: *flight' "$O/status-2.txt" && grep -q '65536 bytes per thread' "$O/status-2.txt" &&
	pass "status: flight mode, 65536-byte rings" || { fail "status does not show flight/64K"; cat "$O/status-2.txt"; }
sleep 2
"$TREAD" -p "$PID2" -f >"$O/follow-2.txt" 2>&1 &
FPID=$!
pids+=("$FPID")
sleep 3
kill -INT "$FPID"
wait "$FPID"
frc=$?
forget "$FPID"
[ $frc = 0 ] && pass "tread -f (flight) stopped by SIGINT, exit 0" || fail "tread -f (flight) exit $frc"
follow2_nested=$(grep -c '|     \+event_handler() {' "$O/follow-2.txt")
follow2_lost=$(grep -c '/\* lost [0-9]* events \*/' "$O/follow-2.txt")
[ "$follow2_nested" = 0 ] &&
	pass "tread -f (flight): event_handler never nested, across $follow2_lost loss markers" ||
	fail "tread -f (flight): event_handler printed nested $follow2_nested times after $follow2_lost loss markers"
run_tattach 'tracing disabled' "$O/disable-4.txt" -p "$PID2" --disable
wait_load "load while tracing (flight mode)" "$O/load-3.out"
"$TREAD" -p "$PID2" >"$O/tread-2.txt" 2>&1 || fail "tread (flight) exit $?"
"$TREAD" -p "$PID2" --report >"$O/report-2.txt" 2>&1 || fail "tread --report (flight) exit $?"
check_names "$O/tread-2.txt" "flight-mode graph" event_handler drive_machine process_command_ascii
calls2=$(sed -n 's/^# \([0-9]*\) calls of.*/\1/p' "$O/report-2.txt")
[ "${calls2:-0}" -gt 0 ] && pass "flight report: $calls2 calls" || fail "flight report: no calls"
start_load_n "$PORT2" "$O/load-after-2.out" 2 1000
wait_load "second memcached still serves after --disable" "$O/load-after-2.out"

# ------------------------------------ redeployed: its file replaced, running
say "third memcached, its file replaced on disk while it runs (a redeploy)"
mkdir -p "$WORK/deploy"
cp "$MC" "$WORK/deploy/memcached"
MC_BUILT=$MC
MC=$WORK/deploy/memcached
start_mc "$((PORT + 2))" "$WORK/memcached-3.log"
MC=$MC_BUILT
PID3=$MCPID
cp /bin/true "$WORK/deploy/memcached.new" && mv "$WORK/deploy/memcached.new" "$WORK/deploy/memcached"
grep -q "$WORK/deploy/memcached (deleted)" "/proc/$PID3/maps" &&
	pass "memcached $PID3 runs a file no longer on disk" || fail "memcached $PID3 file not replaced"
start_load "$((PORT + 2))" "$O/load-4.out"
sleep 0.5
run_tattach 'tracing enabled: [0-9]+ sites' "$O/enable-5.txt" -p "$PID3" --enable
"$TATTACH" -p "$PID3" --stacks >"$O/stacks-3.txt" 2>&1 || fail "tattach --stacks exit $?"
grep -q ' main+0x' "$O/stacks-3.txt" && grep -q ' event_base_loop+0x' "$O/stacks-3.txt" &&
	pass "--stacks of the replaced program walks and names main, event_base_loop" ||
	fail "--stacks of the replaced program: $(head -8 "$O/stacks-3.txt" | tr '\n' ' ')"
sleep 1
run_tattach 'tracing disabled' "$O/disable-5.txt" -p "$PID3" --disable
wait_load "load while tracing the replaced program" "$O/load-4.out"
"$TREAD" -p "$PID3" >"$O/tread-3.txt" 2>"$O/tread-3.err" || fail "tread (replaced) exit $?"
[ ! -s "$O/tread-3.err" ] || fail "tread (replaced) said: $(head -2 "$O/tread-3.err")"
check_names "$O/tread-3.txt" "graph of the replaced program" event_handler drive_machine \
	process_command_ascii

for p in "$PID" "$PID2" "$PID3"; do
	kill -0 "$p" 2>/dev/null && pass "memcached $p still alive" || fail "memcached $p died"
done

# ------------------------------------------------------------------ summary
echo
echo "==================== memcached real-world summary"
echo "memcached:        $(basename "$SRC") built with $MC_CFLAGS ($mcount_sites mcount or __fentry__ calls)"
echo "sites patched:    ${sites:-?} (status: ${patched:-?} patched, 1 module)"
echo "requests:         $total_req checked, $total_err errors"
echo "process paused:   $(rw_pauses)"
echo "trace (discard):  $calls calls of $funcs functions in the report, $graph_lines graph lines"
echo "tread -f:         $follow_lines lines in 4 s, $follow_lost loss markers, stopped ${stop_ms} ms after SIGINT"
echo "trace (flight):   ${calls2:-0} calls in the report (64K rings)"
echo "outputs:          $O"
if [ "$failures" = 0 ]; then
	echo "result:           PASS"
	exit 0
fi
echo "result:           FAIL ($failures checks failed)"
exit 1
