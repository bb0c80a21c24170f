#!/bin/bash
# Real-world check: a prefork server from a Debian source package.  nginx's
# master forks its workers; tattach enabled on the master must trace every
# worker the master forks afterwards, each into its own ring, under load.
#
#   tests/realworld/nginx.sh            (as root, Debian 12, x86-64)
#
# Not part of `make check`.  What it does, end to end:
#   1. builds tattach/tread (`make all`), fetches `apt-get source nginx` and
#      builds it with --with-cc-opt="-pg -O2 -g" under $WORK (default
#      /tmp/tattach-realworld-nginx; nothing is installed, the build is
#      reused by a second run), and tests/realworld/http-load.c;
#   2. starts nginx (master + $WORKERS workers, 127.0.0.1 only, an access log
#      that names the worker pid of every request);
#   3. tattach -p MASTER --enable --mode stats; `nginx -s reload` (SIGHUP): the master
#      forks $WORKERS new workers while traced, the old ones leave;
#   4. a checked load (every answer compared byte for byte with the file);
#      then a worker is killed (SIGKILL) and the master forks a new one,
#      traced too; a second load;
#   5. checks that no request failed, that each worker's ring counts as many
#      ngx_http_log_handler() calls (one per logged request) as the access
#      log has lines of its pid, that `tread -p MASTER --children` shows the
#      workers, and that `tattach -p MASTER --disable` disables the workers
#      too; a last load after the disable.
#   Kills only the processes it started (by pid) and removes their rings.
#
# Environment: WORK, PORT (default 21280), WORKERS (4), CONNS (8), REQS (per
# connection, 2000), KEEP=1 keeps the ring files.  Exit 0 when all passed.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$REPO/build}
WORK=${WORK:-/tmp/tattach-realworld-nginx}
PORT=${PORT:-21280}
WORKERS=${WORKERS:-4}
CONNS=${CONNS:-8}
REQS=${REQS:-2000}
RING_DIR=${TATTACH_RING_DIR:-/dev/shm}

failures=0
master=

say()  { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
pass() { printf 'ok:   %s\n' "$*"; }
die()  { printf 'nginx.sh: %s\n' "$*" >&2; exit 1; }

traced_pids=()
cleanup() {
	if [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then
		kill -QUIT "$master"
		wait "$master" 2>/dev/null
	fi
	if [ "${KEEP:-0}" != 1 ]; then
		for p in "${traced_pids[@]}"; do rm -f "$RING_DIR/tattach-$p.ring"; done
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(uname -m)" = x86_64 ] || die "x86-64 only"
mkdir -p "$WORK" && cd "$WORK" || die "cannot create $WORK"

# ------------------------------------------------------------------ 1. build
say "building tattach and tread (make all)"
make -C "$REPO" -s all >"$WORK/make-tattach.log" 2>&1 ||
	{ tail -20 "$WORK/make-tattach.log"; die "make all failed (see $WORK/make-tattach.log)"; }
TATTACH=$B/tattach
TREAD=$B/tread

SRC=$(ls -d "$WORK"/nginx-[0-9]*/ 2>/dev/null | head -1)
if [ -z "$SRC" ]; then
	say "apt-get source nginx"
	# the newest version apt knows may be missing from the mirror: try each
	for v in $(apt-cache showsrc nginx 2>/dev/null | sed -n 's/^Version: //p' | sort -rV); do
		apt-get source "nginx=$v" >"$WORK/apt-source.log" 2>&1 && break
	done
	SRC=$(ls -d "$WORK"/nginx-[0-9]*/ 2>/dev/null | head -1)
	[ -n "$SRC" ] || { tail -5 "$WORK/apt-source.log"; die "apt-get source nginx failed (deb-src entries? see docs/real-world.md)"; }
fi
SRC=${SRC%/}
NGINX=$SRC/objs/nginx
if [ ! -x "$NGINX" ] || ! objdump -d "$NGINX" 2>/dev/null | grep -q 'call.*mcount'; then
	say "building $(basename "$SRC") with -pg -O2 -g (no rewrite/gzip: no PCRE or zlib needed)"
	(cd "$SRC" && ./configure --prefix="$WORK/prefix" --without-http_rewrite_module \
		--without-http_gzip_module --with-cc-opt="-pg -O2 -g" >"$WORK/configure.log" 2>&1 &&
	 make -j"$(nproc)" >"$WORK/make-nginx.log" 2>&1) ||
		die "nginx build failed (see $WORK/configure.log, $WORK/make-nginx.log)"
fi
say "$NGINX: $(objdump -d "$NGINX" | grep -c 'call.*mcount') calls of mcount"
gcc -O2 -Wall -pthread -o "$WORK/http-load" "$REPO/tests/realworld/http-load.c" ||
	die "cannot build http-load"

# nginx makes its temp folders under the prefix, and opens prefix/logs/error.log
# before it reads error_log from the configuration: both must exist
mkdir -p "$WORK/root" "$WORK/logs" "$WORK/prefix/logs"
head -c 20000 /dev/urandom | base64 >"$WORK/root/page.txt"
cat >"$WORK/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $WORKERS;
error_log $WORK/logs/error.log notice;
pid $WORK/logs/nginx.pid;
events { worker_connections 512; }
http {
    log_format withpid '\$pid \$status \$body_bytes_sent';
    access_log $WORK/logs/access.log withpid;
    server {
        listen 127.0.0.1:$PORT;
        location / { root $WORK/root; }
    }
}
EOF

# --------------------------------------------------------------- helpers
# workers: the master's children, sorted
workers() { ps -o pid= --ppid "$master" | tr -d ' ' | sort -n; }

# wait_workers OLD...: until $WORKERS workers run and none of OLD is left
wait_workers() {
	local i w ok
	for i in $(seq 200); do
		ok=1
		[ "$(workers | wc -l)" = "$WORKERS" ] || ok=0
		for w in "$@"; do kill -0 "$w" 2>/dev/null && ok=0; done
		[ $ok = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

load_no=0
# run_load: a checked load; appends to the access log
run_load() {
	load_no=$((load_no + 1))
	local out=$WORK/load-$load_no.out
	"$WORK/http-load" 127.0.0.1 "$PORT" /page.txt "$CONNS" "$REQS" "$WORK/root/page.txt" 60 >"$out" 2>&1
	local rc=$?
	if [ $rc = 0 ]; then pass "load $load_no: $(tail -1 "$out")"; else fail "load $load_no: exit $rc: $(tail -3 "$out")"; fi
}

# check_counts PID...: each worker's ngx_http_log_handler() calls in its
# ring equal its lines in the access log
check_counts() {
	local w traced logged
	for w in "$@"; do
		logged=$(awk -v p="$w" '$1 == p' "$WORK/logs/access.log" | wc -l)
		traced=$("$TREAD" -p "$w" --report -s calls 2>"$WORK/tread-$w.err" |
			awk '$NF == "ngx_http_log_handler" { print $1 }')
		if [ "${traced:-0}" = "$logged" ] && [ "$logged" -gt 0 ]; then
			pass "worker $w: $logged requests in the access log, $traced ngx_http_log_handler() calls in its ring"
		else
			fail "worker $w: $logged requests in the access log, ${traced:-no} ngx_http_log_handler() calls traced ($(head -1 "$WORK/tread-$w.err"))"
		fi
	done
}

# -------------------------------------------------------- 2. start nginx
: >"$WORK/logs/access.log"
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK/prefix" &
master=$!
traced_pids+=("$master")
for i in $(seq 100); do
	curl -sf "http://127.0.0.1:$PORT/page.txt" -o /dev/null 2>/dev/null && break
	"$WORK/http-load" 127.0.0.1 "$PORT" /page.txt 1 1 "$WORK/root/page.txt" 1 >/dev/null 2>&1 && break
	sleep 0.1
done
wait_workers || die "nginx did not start its $WORKERS workers"
say "nginx master $master, workers $(workers | tr '\n' ' ')"

# ------------------------ 3. enable on the master (stats mode), reload
# stats mode: counters that never lose a call, however long the load
"$TATTACH" -p "$master" --enable --mode stats >"$WORK/enable.txt" 2>&1 ||
	{ cat "$WORK/enable.txt"; die "tattach --enable failed"; }
sed 's/^/    /' "$WORK/enable.txt"
old=$(workers)
say "nginx -s reload: the traced master forks new workers"
kill -HUP "$master"
# shellcheck disable=SC2086
wait_workers $old || fail "the old workers did not leave after the reload"
new=$(workers)
say "new workers: $(echo $new)"
traced_pids+=($new)

# ------------------------------------------------------------- 4. loads
run_load
victim=$(echo "$new" | head -1)
say "kill -KILL worker $victim: the master forks a replacement"
kill -KILL "$victim"
wait_workers "$victim" || fail "no replacement for worker $victim"
respawned=$(comm -13 <(echo "$new") <(workers))
traced_pids+=($respawned)
say "replacement: $respawned"
run_load

# ------------------------------------------------------------- 5. checks
live=$(workers)
# shellcheck disable=SC2086
check_counts $live
"$TREAD" -p "$master" --children >"$WORK/children.txt" 2>&1 || fail "tread --children: exit $?"
for w in $live; do
	grep -q "$w" "$WORK/children.txt" || fail "tread -p $master --children does not show worker $w"
done
"$TATTACH" -p "$master" --disable >"$WORK/disable.txt" 2>&1 || fail "tattach --disable: exit $?"
sed 's/^/    /' "$WORK/disable.txt"
grep -Eq "and $(echo "$live" | wc -l) traced descendants? disabled" "$WORK/disable.txt" &&
	pass "--disable on the master disabled its $(echo "$live" | wc -l) workers" ||
	fail "--disable did not say it disabled the $(echo "$live" | wc -l) workers"
run_load
kill -0 "$master" 2>/dev/null && pass "nginx master still alive" || fail "nginx master died"

echo
echo "==================== nginx real-world summary"
echo "nginx:     $(basename "$SRC") built with -pg -O2 -g, $WORKERS workers"
echo "requests:  $(cat "$WORK"/load-*.out | awk -F'requests=' 'NF > 1 { split($2, a, " "); s += a[1] } END { print s }') checked"
if [ "$failures" = 0 ]; then
	echo "result:    PASS"
	exit 0
fi
echo "result:    FAIL ($failures checks failed)"
exit 1
