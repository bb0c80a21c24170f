#!/bin/bash
# Real-world check: trace a live Redis (Debian's source, built with -pg)
# under load, through background saves (fork), the way a new user would.
#
#   tests/realworld/redis.sh            (as root, Debian 12, x86-64)
#
# Not part of `make check`.  What it does, end to end:
#   1. installs what it needs with apt-get (enables deb-src for the running
#      suite if `apt-get source` cannot find redis), builds tattach/tread
#      with `make deps all`, fetches `apt-get source redis` and builds it
#      with REDIS_CFLAGS under $WORK (default /tmp/tattach-realworld-redis;
#      libc's malloc; nothing is installed, the build is reused);
#   2. runs redis-server on 127.0.0.1 only, with 2 I/O threads, and
#      redis-benchmark (8 clients, random keys) in the background;
#   3. while that load runs: tattach --enable -m flight -b 64M (a ring that
#      holds the whole of the saving child's work, and the newest of each
#      server thread's) and --status; 50 000 SETs of
#      known values through `redis-cli --pipe`, every one checked on the
#      server by a Lua script; BGSAVE (redis forks a child that writes the
#      database and exits: traced on its own ring); 10 --disable/--enable
#      cycles; --disable;
#   4. checks: no error anywhere, the call graph and --report show Redis's
#      own functions, the saving child's trace shows rdbSave() once and its
#      end (exitFromChild()), and a second, untraced redis-server loading
#      the file the traced child wrote holds every value;
#   5. prints a summary; kills only the processes it started (by pid) and
#      removes the ring files of its Redis processes.
#
# Environment: REDIS_CFLAGS (default "-pg"; with "-pg -mfentry" the sites
# are __fentry__ calls, which tattach turns into jumps to call-through
# stubs), WORK (build and log folder), PORT (first of two ports, default
# 26379), KEYS (checked keys, 50000), BENCH_REQS (redis-benchmark
# requests per test, 2000000: it is stopped when the checks are done),
# KEEP=1 keeps the ring files.  Exit status 0 when every check passed.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$REPO/build}
REDIS_CFLAGS=${REDIS_CFLAGS:--pg}
WORK=${WORK:-/tmp/tattach-realworld-redis}
PORT=${PORT:-26379}
PORT2=$((PORT + 1))
KEYS=${KEYS:-50000}
BENCH_REQS=${BENCH_REQS:-2000000}
RW_NAME=redis.sh
. "$REPO/tests/realworld/common.sh"	# and now in $WORK

# ------------------------------------------------------------------ 1. setup
rw_install build-essential pkg-config dpkg-dev
rw_build_tattach
rw_source redis
SERVER=$SRC/src/redis-server
CLI=$SRC/src/redis-cli
BENCH=$SRC/src/redis-benchmark
# built with other flags before: again, from clean
if [ ! -x "$SERVER" ] || [ "$(cat "$SRC/.tattach-cflags" 2>/dev/null)" != "$REDIS_CFLAGS" ]; then
	say "building $(basename "$SRC") with REDIS_CFLAGS=\"$REDIS_CFLAGS\" (libc malloc)"
	(cd "$SRC" && make distclean >/dev/null 2>&1;
	 make -j"$(nproc)" MALLOC=libc OPTIMIZATION=-O2 REDIS_CFLAGS="$REDIS_CFLAGS" \
		REDIS_LDFLAGS=-pg >"$WORK/make-redis.log" 2>&1 &&
	 echo "$REDIS_CFLAGS" >.tattach-cflags) ||
		{ tail -20 "$WORK/make-redis.log"; die "redis build failed (see $WORK/make-redis.log)"; }
fi
sites_in_file=$(objdump -d "$SERVER" | grep -c 'call.*\(mcount\|__fentry__\)')
case "$REDIS_CFLAGS" in
*-mfentry*) [ "$(objdump -d "$SERVER" | grep -c 'call.*__fentry__')" -gt 0 ] ||
		die "$SERVER has no __fentry__ calls: not built with $REDIS_CFLAGS? remove $SRC/.tattach-cflags" ;;
esac
say "$SERVER: $sites_in_file calls of mcount or __fentry__"

# -------------------------------------------------------------- processes
# start_redis PORT DIR LOG: start redis-server, set RPID
start_redis() {
	local port=$1 dir=$2 log=$3 i
	mkdir -p "$dir"
	GMON_OUT_PREFIX=$WORK/gmon "$SERVER" --port "$port" --bind 127.0.0.1 --dir "$dir" \
		--save "" --appendonly no --io-threads 2 --daemonize no >"$log" 2>&1 &
	RPID=$!
	pids+=("$RPID")
	ring_pids+=("$RPID")
	for i in $(seq 100); do
		[ "$("$CLI" -p "$port" ping 2>/dev/null)" = PONG ] && return 0
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log"
	die "redis-server did not start on 127.0.0.1:$port"
}


# all_keys_ok PORT: the Lua check of every tt:I = v:I, on the server
all_keys_ok() {
	"$CLI" -p "$1" eval "for i = 1, tonumber(ARGV[1]) do
		if redis.call('GET', 'tt:' .. i) ~= 'v:' .. i then return i end end return 0" 0 "$KEYS"
}

# persistence FIELD: its value in INFO persistence
persistence() { "$CLI" -p "$PORT" info persistence | tr -d '\r' | sed -n "s/^$1://p"; }

# ----------------------------------------------------- 2-3. trace under load
O=$WORK/out
rm -rf "$O" "$WORK/data" "$WORK/data2"
mkdir -p "$O"
start_redis "$PORT" "$WORK/data" "$WORK/redis-1.log"
PID=$RPID
say "redis-server pid $PID on 127.0.0.1:$PORT ($(ls /proc/$PID/task | wc -l) threads)"

"$BENCH" -p "$PORT" -q -c 8 -r 10000 -n "$BENCH_REQS" -t set,get \
	>"$O/benchmark.out" 2>&1 &
LOADPID=$!
pids+=("$LOADPID")
say "load: redis-benchmark, 8 clients, random keys"
sleep 1

rw_tattach 'tracing enabled: [0-9]+ sites in [0-9]+ modules?, [0-9]+ threads? stopped for [0-9.]+ ms' \
	"$O/enable-1.txt" -p "$PID" --enable -m flight -b 64M && pass "tattach --enable -m flight -b 64M under load"
sites=$(sed -n 's/.*tracing enabled: \([0-9]*\) sites.*/\1/p' "$O/enable-1.txt")
"$TATTACH" -p "$PID" --status >"$O/status-1.txt" 2>&1 || fail "tattach --status exit $?"
grep -q '^tracing: *enabled' "$O/status-1.txt" && grep -q '^mode: *flight' "$O/status-1.txt" &&
	pass "status: enabled, flight mode" || fail "status does not show tracing enabled in flight mode"

say "$KEYS checked SETs through redis-cli --pipe, while traced"
awk -v n="$KEYS" 'BEGIN { for (i = 1; i <= n; i++) printf "SET tt:%d v:%d\r\n", i, i }' >"$WORK/sets.txt"
"$CLI" -p "$PORT" --pipe <"$WORK/sets.txt" >"$O/pipe.out" 2>&1
grep -q "errors: 0, replies: $KEYS" "$O/pipe.out" && pass "redis-cli --pipe: errors: 0, replies: $KEYS" ||
	fail "redis-cli --pipe: $(tail -1 "$O/pipe.out")"
got=$(all_keys_ok "$PORT")
[ "$got" = 0 ] && pass "every tt:I holds v:I (Lua check on the traced server)" ||
	fail "the Lua check says key $got is wrong"

say "BGSAVE while traced"
before=$(persistence rdb_last_save_time)
"$CLI" -p "$PORT" bgsave >"$O/bgsave.out" 2>&1
for i in $(seq 300); do
	[ "$(persistence rdb_bgsave_in_progress)" = 0 ] &&
		[ "$(persistence rdb_last_save_time)" != "$before" ] && break
	sleep 0.1
done
[ "$(persistence rdb_bgsave_in_progress)" = 0 ] && [ "$(persistence rdb_last_bgsave_status)" = ok ] &&
	pass "BGSAVE done: $(cat "$O/bgsave.out"), status ok" ||
	fail "BGSAVE: in progress $(persistence rdb_bgsave_in_progress), status $(persistence rdb_last_bgsave_status)"

say "10 --disable/--enable cycles under load"
for i in $(seq 10); do
	rw_tattach 'tracing disabled' "$O/cycle-dis-$i.txt" -p "$PID" --disable &&
		rw_tattach 'tracing enabled' "$O/cycle-en-$i.txt" -p "$PID" --enable || break
done
[ "$i" = 10 ] && pass "10 cycles"
rw_tattach 'tracing disabled: [0-9]+ sites are NOPs again, [0-9]+ threads stopped for [0-9.]+ ms' \
	"$O/disable-1.txt" -p "$PID" --disable && pass "tattach --disable under load"

# SIGTERM: a background job of a script ignores SIGINT
kill -TERM "$LOADPID" 2>/dev/null
wait "$LOADPID"
forget "$LOADPID"
bench_rps=$(tr '\r' '\n' <"$O/benchmark.out" | sed -n 's/^SET: rps=\([0-9.]*\).*/\1/p' | tail -1)
grep -qi 'error' "$O/benchmark.out" && fail "redis-benchmark: $(grep -i -m1 error "$O/benchmark.out")" ||
	pass "redis-benchmark: no error (SET at ${bench_rps:-?} requests/s at the end)"
[ "$("$CLI" -p "$PORT" get tt:1)" = v:1 ] && [ "$("$CLI" -p "$PORT" ping)" = PONG ] &&
	pass "redis still serves after --disable" || fail "redis does not answer after --disable"

# ------------------------------------------------------------ 4. the trace
say "tread -p $PID --children (the header)"
"$TREAD" -p "$PID" --children 2>"$O/children.err" | grep '^# process' >"$O/children.txt"
sed 's/^/    /' "$O/children.txt"
child=$(awk -v p="$PID" '$2 == "process" && $3 != p { print $3; exit }' "$O/children.txt")
[ -n "$child" ] && ring_pids+=("$child")
[ -n "$child" ] && pass "the saving child $child has a ring of its own" ||
	fail "no child ring: $(cat "$O/children.err")"

"$TREAD" -p "$PID" >"$O/tread-1.txt" 2>"$O/tread-1.err" || fail "tread exit $?: $(head -3 "$O/tread-1.err")"
"$TREAD" -p "$PID" | head -100 >/dev/null
[ "${PIPESTATUS[0]}" = 0 ] && pass "tread | head -100 exits 0" || fail "tread | head: exit ${PIPESTATUS[0]}"
# the newest events of each thread (flight mode): the load's SETs (its
# first test lasts longer than the whole traced part); the BGSAVE may be
# overwritten here, its child shows it (below)
check_names "$O/tread-1.txt" "call graph" processCommand call setCommand readQueryFromClient \
	lookupKeyWrite
grep -q '0x[0-9a-f]\{6,\}\|bad_site_' "$O/tread-1.txt" &&
	fail "call graph has unnamed sites: $(grep -m2 '0x[0-9a-f]\{6,\}\|bad_site_' "$O/tread-1.txt")"
graph_lines=$(grep -vc '^#' "$O/tread-1.txt")

"$TREAD" -p "$PID" --report >"$O/report-1.txt" 2>&1 || fail "tread --report exit $?"
calls=$(sed -n 's/^# \([0-9]*\) calls of \([0-9]*\) functions.*/\1/p' "$O/report-1.txt")
funcs=$(sed -n 's/^# \([0-9]*\) calls of \([0-9]*\) functions.*/\2/p' "$O/report-1.txt")
[ "${calls:-0}" -gt 100000 ] && pass "report: $calls calls of $funcs functions" ||
	fail "report: only ${calls:-0} calls"
check_names "$O/report-1.txt" "report" processCommand call setCommand setGenericCommand
awk '/^ *[0-9]/ && $3 > $2 + 0.001 { bad++ } END { exit bad > 0 }' "$O/report-1.txt" &&
	pass "report: SELF <= TOTAL on every row" ||
	fail "report: rows with SELF > TOTAL: $(awk '/^ *[0-9]/ && $3 > $2 + 0.001 { print $NF }' "$O/report-1.txt" | tr '\n' ' ')"

if [ -n "$child" ]; then
	"$TREAD" -p "$child" >"$O/child.txt" 2>&1 || fail "tread -p $child exit $?"
	"$TREAD" -p "$child" --report >"$O/child-report.txt" 2>&1 || fail "tread -p $child --report exit $?"
	head -12 "$O/child-report.txt" | sed 's/^/    /'
	awk '$NF == "rdbSave" { n = $1 } END { exit n != 1 }' "$O/child-report.txt" &&
		pass "child: rdbSave() called once" || fail "child: rdbSave() not called once"
	check_names "$O/child-report.txt" "child report" rdbSaveRio rdbSaveDb rdbSaveKeyValuePair
	grep -q 'exitFromChild() {' "$O/child.txt" && pass "child: its trace ends in exitFromChild()" ||
		fail "child: no exitFromChild() in its trace"
	grep -q 'bgsaveCommand() {.*entered before tracing' "$O/child.txt" &&
		grep -q 'rdbSaveBackground() {.*entered before tracing' "$O/child.txt" &&
		pass "child: bgsaveCommand() and rdbSaveBackground(), the fork's callers, inherited" ||
		fail "child: bgsaveCommand() or rdbSaveBackground() is not an inherited call"
fi

# -------------------------------------- the file the traced child wrote
say "a second, untraced redis-server loads $WORK/data/dump.rdb"
mkdir -p "$WORK/data2"
cp "$WORK/data/dump.rdb" "$WORK/data2/" || fail "no dump.rdb"
start_redis "$PORT2" "$WORK/data2" "$WORK/redis-2.log"
PID2=$RPID
got=$(all_keys_ok "$PORT2")
[ "$got" = 0 ] && pass "every tt:I = v:I in the file the traced child wrote" ||
	fail "the saved file: key $got is wrong"
size2=$("$CLI" -p "$PORT2" dbsize)
[ "$size2" -ge "$KEYS" ] && pass "it holds $size2 keys" || fail "it holds $size2 keys"

for p in "$PID" "$PID2"; do
	kill -0 "$p" 2>/dev/null && pass "redis-server $p still alive" || fail "redis-server $p died"
done

# ------------------------------------------------------------------ summary
echo
echo "==================== redis real-world summary"
echo "redis:            $(basename "$SRC") built with $REDIS_CFLAGS ($sites_in_file mcount or __fentry__ calls)"
echo "sites patched:    ${sites:-?}"
echo "checked:          $KEYS SETs, Lua check on the traced server and on a copy loaded from its BGSAVE"
echo "load:             redis-benchmark SETs, 8 clients, all through the traced part (${bench_rps:-?}/s at its end)"
echo "process paused:   $(rw_pauses)"
echo "trace:            $calls calls of $funcs functions in the report, $graph_lines graph lines"
echo "saving child:     ${child:-none} ($(grep -c . "$O/child.txt" 2>/dev/null) graph lines)"
echo "outputs:          $O"
if [ "$failures" = 0 ]; then
	echo "result:           PASS"
	exit 0
fi
echo "result:           FAIL ($failures checks failed)"
exit 1
