#!/bin/bash
# tests/bench/percall_ab.sh OLD_TATTACH [MODE] [ROUNDS]: two tattach builds
# side by side on the same percall -pg program, at the same moment.
#
# Each round measures, one after the other: the plain build, percall.pg
# under OLD_TATTACH, percall.pg under build/tattach, the floor, ladder 3
# and ladder 7 (tests/bench/ladder.c); each runs "fib 20 100" once, then "fib 20 600" 7
# times, and the least ns/call of the 7 is kept (the machine's other load
# only ever adds).  Prints the overheads (minus the plain build) and the
# ratios of each round.  Needs `make bench` (or `sh tests/bench/run.sh
# build`) to have built build/bench/ first.  An old build, for instance:
#   git archive COMMIT | tar -x -C /tmp/old && make -C /tmp/old build/tattach
if [ $# -lt 1 ]; then
	echo "usage: $0 OLD_TATTACH [flight|stats] [ROUNDS]" >&2
	exit 2
fi
cd "$(dirname "$0")/../.." || exit 1
. tests/bench/ab_lib.sh
B=build/bench OLD=$1 MODE=${2:-flight}
for f in "$B/percall.plain" "$B/percall.pg" "$B/percall.floor" "$B/percall.lad3" "$B/percall.lad7" \
	 "$OLD" build/tattach; do
	[ -x "$f" ] || { echo "percall_ab: $f missing" >&2; exit 1; }
done

# WARM and WL set the commands (as in modes_ab.sh): WARM="mix 2000"
# WL="mix 20000" for mix.
WARM=${WARM:-fib 20 100} WL=${WL:-fib 20 600}

# best BIN [TATTACH]: the least ns per call of 7 runs of $WL
best() {
	ab_start "$B/$1"
	if [ -n "${2:-}" ] && ! "$2" -p "$AB_PID" --enable -m "$MODE" -b 64K >/dev/null 2>&1; then
		echo "percall_ab: $2 --enable failed" >&2
	fi
	ab_least "$WARM" "$WL"
}

for ((r = 0; r < ${3:-3}; r++)); do
	p=$(best percall.plain)
	o=$(best percall.pg "$OLD")
	n=$(best percall.pg build/tattach)
	f=$(best percall.floor)
	l=$(best percall.lad3)
	s=$(best percall.lad7)
	awk -v p="$p" -v o="$o" -v n="$n" -v f="$f" -v l="$l" -v s="$s" -v ld="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
		printf "ns/call over plain: old %.1f new %.1f floor %.1f ladder3 %.1f ladder7 %.1f | ",
		       o - p, n - p, f - p, l - p, s - p
		printf "old/floor %.2f new/floor %.2f new/ladder3 %.2f ladder7/floor %.2f new/ladder7 %.2f | load %s\n",
		       (o - p) / (f - p), (n - p) / (f - p), (n - p) / (l - p), (s - p) / (f - p), (n - p) / (s - p), ld }'
done
