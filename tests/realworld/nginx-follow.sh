#!/bin/bash
# Real-world check of tattach --follow: nginx (Debian's source, built with
# -pg), a master with worker processes, followed under load while it
# reloads (SIGHUP: forks new workers) and upgrades its binary in place
# (SIGUSR2: forks and execs a new master, which forks its own workers).
#
#   tests/realworld/nginx-follow.sh          (as root, Debian 12, x86-64)
#
# Not part of `make check`.  End to end:
#   1. builds tattach/tread (make all); fetches `apt-get source nginx` (the
#      upstream tarball is enough when the Debian patches cannot be
#      fetched) and builds it with -pg -O2 -g under $WORK (default
#      /tmp/tattach-follow-nginx; reused by a second run), without the
#      rewrite and gzip modules (no PCRE or zlib needed);
#   2. starts nginx on 127.0.0.1:$PORT, $WORKERS workers, an access log of
#      "$pid $status $body_bytes_sent" per request;
#   3. tattach -p MASTER --enable --follow --daemon --mode stats; a load of $REQS GETs
#      over $CONNS connections at a time, every body checked; SIGHUP (new
#      workers, followed from their fork), the same load; SIGUSR2 (the new
#      master is exec'd: traced from before its main, in its own ring),
#      SIGQUIT to the old master, the same load;
#   4. checks: no request failed, per-worker counts from the access log
#      add up to what the client sent, every nginx process is traced by
#      the follower, the new master's ring shows nginx's start-up
#      (main -> ngx_init_cycle); then `tattach -p MASTER --disable` ends
#      the follower, no nginx process is traced any more, and nginx
#      still serves the same load;
#   5. kills only the processes it started (by pid), removes their rings.
#
# Environment: WORK, PORT (21390), WORKERS (4), CONNS (8), REQS (4000).
# Exit status 0 when every check passed.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$REPO/build}
WORK=${WORK:-/tmp/tattach-follow-nginx}
PORT=${PORT:-21390}
WORKERS=${WORKERS:-4}
CONNS=${CONNS:-8}
REQS=${REQS:-4000}
RING_DIR=${TATTACH_RING_DIR:-/dev/shm}

failures=0
NGINX=$WORK/prefix/sbin/nginx

say()  { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
pass() { printf 'ok:   %s\n' "$*"; }
die()  { printf 'nginx-follow.sh: %s\n' "$*" >&2; exit 1; }

# every process running our nginx binary (another nginx is left alone)
nginx_pids() {
	local d
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$NGINX" ] && echo "${d#/proc/}"
	done
}

cleanup() {
	local p
	[ -n "${FOLLOWER:-}" ] && kill "$FOLLOWER" 2>/dev/null
	for p in $(nginx_pids); do
		kill -QUIT "$p" 2>/dev/null
	done
	for p in $(nginx_pids); do
		kill -KILL "$p" 2>/dev/null
	done
	# every worker that served a request in this run: its access log names
	# them all, also those of a generation that has left since
	[ -n "${LOG_OURS:-}" ] && ring_pids+=($(awk '{ print $1 }' "$WORK/access.log" | sort -u))
	for p in "${ring_pids[@]:-}"; do
		[ -n "$p" ] && rm -f "$RING_DIR/tattach-$p.ring"
	done
}
ring_pids=()
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(uname -m)" = x86_64 ] || die "x86-64 only"
mkdir -p "$WORK" && cd "$WORK" || die "cannot use $WORK"

say "building tattach and tread (make all)"
make -C "$REPO" -s all >"$WORK/make-tattach.log" 2>&1 ||
	{ tail -20 "$WORK/make-tattach.log"; die "make all failed"; }
TATTACH=$B/tattach
TREAD=$B/tread

# ------------------------------------------------------------ 1. nginx -pg
if [ ! -x "$NGINX" ] || [ "$(objdump -d "$NGINX" | grep -c 'call.*mcount')" = 0 ]; then
	if ! ls "$WORK"/nginx_*.orig.tar.gz >/dev/null 2>&1; then
		say "apt-get source nginx"
		apt-get source nginx >"$WORK/fetch.log" 2>&1	# the orig tarball suffices
	fi
	TAR=$(ls "$WORK"/nginx_*.orig.tar.gz 2>/dev/null | head -1)
	[ -n "$TAR" ] || die "apt-get source nginx fetched nothing (deb-src enabled?)"
	tar xzf "$TAR" || die "cannot extract $TAR"
	SRC=$(ls -d "$WORK"/nginx-*/ | head -1)
	say "building $(basename "$SRC") with -pg -O2 -g"
	(cd "$SRC" && ./configure --prefix="$WORK/prefix" --with-cc-opt='-pg -O2 -g' \
		--with-ld-opt=-pg --without-http_rewrite_module \
		--without-http_gzip_module >"$WORK/configure.log" 2>&1 &&
	 make -j"$(nproc)" >"$WORK/make.log" 2>&1 && make install >"$WORK/install.log" 2>&1) ||
		die "nginx build failed (see $WORK/configure.log, $WORK/make.log)"
fi
say "$NGINX: $(objdump -d "$NGINX" | grep -c 'call.*mcount') calls of mcount"

# ---------------------------------------------------------------- 2. start
CONF=$WORK/nginx-follow.conf
cat >"$CONF" <<EOF
worker_processes $WORKERS;
daemon on;
master_process on;
pid $WORK/nginx.pid;
error_log $WORK/error.log notice;
events { worker_connections 256; }
http {
	log_format bypid '\$pid \$status \$body_bytes_sent';
	access_log $WORK/access.log bypid;
	server {
		listen 127.0.0.1:$PORT;
		location / { root $WORK/prefix/html; }
	}
}
EOF
: >"$WORK/access.log"
LOG_OURS=1
: >"$WORK/error.log"
# as a daemon (the master's parent is init): nginx changes its binary only so
rm -f "$WORK/nginx.pid" "$WORK/nginx.pid.oldbin"
"$NGINX" -c "$CONF" -p "$WORK/prefix" </dev/null >"$WORK/nginx.out" 2>&1 ||
	die "nginx did not start (see $WORK/nginx.out)"
MASTER=$(cat "$WORK/nginx.pid" 2>/dev/null)
[ -n "$MASTER" ] || die "nginx wrote no pid file"
ring_pids+=("$MASTER")

# wait_log PATTERN COUNT: until error.log has COUNT lines matching (10 s)
wait_log() {
	for _ in $(seq 100); do
		[ "$(grep -c "$1" "$WORK/error.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_log "start worker process" "$WORKERS" || die "nginx did not start (see $WORK/error.log)"
pass "nginx master $MASTER with $WORKERS workers"

# load NAME: REQS GETs, CONNS at a time, every body compared to the file
load() {
	python3 - "$PORT" "$REQS" "$CONNS" "$WORK/prefix/html/index.html" <<'EOF'
import http.client, sys, threading
port, reqs, conns, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
want = open(path, 'rb').read()
ok = [0] * conns
def run(k):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    for i in range(k, reqs, conns):
        try:
            c.request('GET', '/index.html')
            r = c.getresponse()
            if r.status == 200 and r.read() == want:
                ok[k] += 1
        except Exception:
            c.close()
            c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
ts = [threading.Thread(target=run, args=(k,)) for k in range(conns)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sum(ok))
EOF
}

# check_load NAME: run the load, compare with the access log's new lines
check_load() {
	local before after got per
	before=$(wc -l <"$WORK/access.log")
	got=$(load)
	after=$(wc -l <"$WORK/access.log")
	[ "$got" = "$REQS" ] && pass "$1: $got/$REQS requests answered, bodies intact" ||
		fail "$1: $got/$REQS requests answered correctly"
	per=$(tail -n +"$((before + 1))" "$WORK/access.log" | awk '$2 == 200 {n[$1]++}
		END {for (p in n) printf "%s:%d ", p, n[p]}')
	local sum
	sum=$(tail -n +"$((before + 1))" "$WORK/access.log" | awk '$2 == 200' | wc -l)
	[ "$sum" = "$REQS" ] && [ "$((after - before))" = "$REQS" ] &&
		pass "$1: per worker (access log): $per= $sum" ||
		fail "$1: the access log has $((after - before)) lines, $sum with 200 ($per)"
}

traced_by() { awk '/^TracerPid:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# every nginx process traced by the follower (or, with 0, by nobody)
check_tracer() {
	local p bad=0 n=0
	for p in $(nginx_pids); do
		n=$((n + 1))
		[ "$(traced_by "$p")" = "$2" ] || { bad=$((bad + 1)); echo "  pid $p: TracerPid $(traced_by "$p")"; }
	done
	[ "$bad" = 0 ] && pass "$1: all $n nginx processes have TracerPid $2" ||
		fail "$1: $bad of $n nginx processes not traced by $2"
}

# -------------------------------------------------------- 3. follow, load
check_load "untraced"
# stats mode: counters that lose no call, in every process followed
out=$("$TATTACH" -p "$MASTER" --enable --follow --daemon --mode stats 2>&1) ||
	{ echo "$out"; die "--follow failed"; }
echo "$out" | sed 's/^/  /'
FOLLOWER=$(echo "$out" | sed -n 's/.*in the background: tattach pid \([0-9]*\).*/\1/p')
[ -n "$FOLLOWER" ] || die "no follower pid in: $out"
check_load "followed"

kill -HUP "$MASTER"
wait_log "start worker process" "$((2 * WORKERS))" || fail "no new workers after SIGHUP"
wait_log "exit$" 1 >/dev/null || true
check_tracer "after SIGHUP (new workers forked)" "$FOLLOWER"
check_load "followed, after SIGHUP"

kill -USR2 "$MASTER"
for _ in $(seq 100); do [ -s "$WORK/nginx.pid" ] && [ -s "$WORK/nginx.pid.oldbin" ] && break; sleep 0.1; done
NEWMASTER=$(cat "$WORK/nginx.pid" 2>/dev/null)
ring_pids+=("$NEWMASTER")
[ -n "$NEWMASTER" ] && [ "$NEWMASTER" != "$MASTER" ] && pass "SIGUSR2: new master $NEWMASTER exec'd" ||
	fail "SIGUSR2: no new master"
wait_log "start worker process" "$((3 * WORKERS))" || fail "the new master started no workers"
check_tracer "after SIGUSR2 (new master exec'd, its workers forked)" "$FOLLOWER"
# stats mode: its report counts the start-up's calls (the graph has none)
trace=$("$TREAD" -p "$NEWMASTER" --report 2>&1)
echo "$trace" | awk '$NF == "ngx_init_cycle" && $1 >= 1 { f = 1 } END { exit !f }' &&
	pass "the new master's ring counts its start-up (ngx_init_cycle)" ||
	{ echo "$trace" | head -20; fail "the new master's ring does not count ngx_init_cycle"; }
echo "$trace" | awk '$NF == "ngx_init_cycle" || $NF == "ngx_master_process_cycle"' | sed 's/^/  /'

kill -QUIT "$MASTER"
for _ in $(seq 100); do kill -0 "$MASTER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$MASTER" 2>/dev/null && fail "the old master did not quit"
check_load "followed, served by the new master's workers"

# each worker of the exec'd master (forked by it, so traced into a ring of
# its own): its ngx_http_log_handler() calls (one per logged request)
# equal its lines in the access log
for w in $(ps -o pid= --ppid "$NEWMASTER" | tr -d ' '); do
	ring_pids+=("$w")
	logged=$(awk -v p="$w" '$1 == p' "$WORK/access.log" | wc -l)
	traced=$("$TREAD" -p "$w" --report -s calls 2>/dev/null |
		awk '$NF == "ngx_http_log_handler" { print $1 }')
	[ "$logged" -gt 0 ] && [ "${traced:-0}" = "$logged" ] &&
		pass "worker $w of the exec'd master: $logged requests logged, $traced ngx_http_log_handler() calls in its ring" ||
		fail "worker $w of the exec'd master: $logged requests logged, ${traced:-no} calls traced"
done

# ------------------------------------------------------------ 4. end it
out=$("$TATTACH" -p "$NEWMASTER" --disable 2>&1)
echo "$out" | sed 's/^/  /'
echo "$out" | grep -q "its follower, tattach pid $FOLLOWER, has ended" &&
	pass "--disable ended the follower" || fail "--disable did not end the follower"
check_tracer "after --disable" 0
check_load "after the follower ended"
FOLLOWER=

echo
if [ "$failures" = 0 ]; then
	say "all checks passed"
else
	say "$failures check(s) failed"
fi
[ "$failures" = 0 ]
