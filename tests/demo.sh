#!/bin/bash
# make demo: trace the bundled demo server live, the way a user would.
set -euo pipefail
B=${1:-build}
demo=$B/tests/targets/demo

mkdir -p "$B/tests/gmon"
coproc DEMO { GMON_OUT_PREFIX=$B/tests/gmon/demo exec "$demo" 2>&1; }
# bash forgets DEMO_PID (and DEMO) once the coprocess has exited: keep copies
demo_pid=$DEMO_PID demo_out=${DEMO[0]} demo_in=${DEMO[1]}
trap 'kill $demo_pid 2>/dev/null || true' EXIT
read -r word pid <&"$demo_out"
[ "$word" = ready ] || { echo "demo: unexpected start: $word $pid" >&2; exit 1; }
ask() { echo "$1" >&"$demo_in"; read -r answer <&"$demo_out"; [ "$answer" = done ]; }

echo "== demo server running as pid $pid (4 worker threads, built with -pg)"
ask "serve 1000"                       # work before tracing: not recorded
echo "== \$ tattach -p $pid --enable"
"$B/tattach" -p "$pid" --enable
ask "serve 3"                          # three requests while traced
echo "== \$ tattach -p $pid --disable"
"$B/tattach" -p "$pid" --disable
ask "serve 1000"                       # back to full speed: not recorded
echo "== \$ tread -p $pid"
"$B/tread" -p "$pid"
echo "== \$ tread -p $pid --report"
"$B/tread" -p "$pid" --report
echo "== \$ tread -p $pid --html $B/demo.html"
"$B/tread" -p "$pid" --html "$B/demo.html"
echo "   a time line of the calls: open $B/demo.html in a browser (works offline)"
echo "== \$ tattach -p $pid --status"
"$B/tattach" -p "$pid" --status
echo quit >&"$demo_in"
wait "$demo_pid" || true
trap - EXIT
rm -f "${TATTACH_RING_DIR:-/dev/shm}/tattach-$pid.ring"
echo "== demo done"
