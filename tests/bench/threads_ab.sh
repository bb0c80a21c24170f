#!/bin/bash
# tests/bench/threads_ab.sh OLD_TATTACH [SLOTS] [THREADS] [ROUNDS]: two
# tattach builds side by side on THREADS threads calling at once.
#
# Two percall -pg processes (build/bench/percall.pg) run at the same time,
# one enabled by OLD_TATTACH, one by build/tattach, both with -t SLOTS
# (default 2) and -m flight -b 64K.  Each round asks both, in turns (the
# first one changes every round), for "mt THREADS 20 100" (default 2
# threads) and prints the CPU time per call (all threads' CPU time over
# all calls, the workload's own time included) of old and new, and new /
# old; then the medians.
#
# Few slots for the threads make their slot searches pass over each
# other's slots (the keys are the threads' %fs:0, hashed): what that
# costs while the owners run on the other CPU is what this compares.
# Run it under `setarch -R` so that both processes' threads have the same
# thread pointers, and so the same searches; with -t 1024 nothing passes
# over anything, which makes the control.  Needs `make bench` (or `sh
# tests/bench/run.sh build`) to have built build/bench/ first.
if [ $# -lt 1 ]; then
	echo "usage: $0 OLD_TATTACH [SLOTS] [THREADS] [ROUNDS]" >&2
	exit 2
fi
cd "$(dirname "$0")/../.." || exit 1
. tests/bench/ab_lib.sh
OLD=$1 SLOTS=${2:-2} NT=${3:-2} ROUNDS=${4:-15}
BIN=build/bench/percall.pg
for f in "$BIN" "$OLD" build/tattach; do
	[ -x "$f" ] || { echo "threads_ab: $f missing" >&2; exit 1; }
done

# two processes at once (bash keeps one coprocess at a time): fifos
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"; rm -f "/dev/shm/tattach-${OLD_PID:-none}.ring" "/dev/shm/tattach-${NEW_PID:-none}.ring"' EXIT
mkfifo "$W/old.in" "$W/old.out" "$W/new.in" "$W/new.out" || exit 1
"$BIN" <"$W/old.in" >"$W/old.out" 2>/dev/null &
"$BIN" <"$W/new.in" >"$W/new.out" 2>/dev/null &
exec 3>"$W/old.in" 4<"$W/old.out" 5>"$W/new.in" 6<"$W/new.out"
read -r _ OLD_PID <&4
read -r _ NEW_PID <&6
for e in "$OLD $OLD_PID" "build/tattach $NEW_PID"; do
	set -- $e
	"$1" -p "$2" --enable -m flight -b 64K -t "$SLOTS" >/dev/null ||
		{ echo "threads_ab: $1 --enable failed" >&2; echo quit >&3; echo quit >&5; exit 1; }
done

# ask IN OUT: one "mt" run (fds); prints its CPU ns per call
ask() {
	local ok ns calls
	echo "mt $NT 20 100" >&"$1"
	read -r ok ns calls _ <&"$2"
	ab_per_call "$ns" "$calls"
}

echo "mt $NT 20 10" >&3; read -r _ <&4	# warm-up
echo "mt $NT 20 10" >&5; read -r _ <&6
echo "-t $SLOTS, $NT threads at once: CPU ns per call, old new new/old"
res=$W/res
for ((r = 0; r < ROUNDS; r++)); do
	if ((r % 2)); then
		n=$(ask 5 6); o=$(ask 3 4)
	else
		o=$(ask 3 4); n=$(ask 5 6)
	fi
	awk -v o="$o" -v n="$n" 'BEGIN { printf "%s %s %.3f\n", o, n, n / o }' | tee -a "$res"
done
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "median: old $(cut -d' ' -f1 "$res" | median), new $(cut -d' ' -f2 "$res" | median)," \
     "new / old $(cut -d' ' -f3 "$res" | median)"
echo quit >&3
echo quit >&5
exec 3>&- 4<&- 5>&- 6<&-
wait
