#!/bin/bash
# tests/bench/modes_ab.sh [TATTACH] [ROUNDS]: stats mode against flight mode,
# one tattach build (default build/tattach), on the same percall -pg
# program, at the same moment.
#
# Each round measures flight (A) and stats (B), in turn first: a fresh
# percall.pg process each, enabled with -b 64K, "fib 20 100" once, then
# "fib 20 600" 7 times, the least ns per call of the 7 kept (the
# machine's other load only ever adds), minus the build without
# instrumentation.  Prints the medians and the median of the rounds'
# stats / flight ratios (make bench's "ratio tattach stats / flight").
# WARM and WL set the commands: WARM="mix 2000" WL="mix 20000" for mix.
# Needs build/bench/ (make bench, or sh tests/bench/run.sh build).
cd "$(dirname "$0")/../.." || exit 1
. tests/bench/ab_lib.sh
B=build/bench T=${1:-build/tattach} R=${2:-6}
WARM=${WARM:-fib 20 100} WL=${WL:-fib 20 600}
for f in "$B/percall.plain" "$B/percall.pg" "$T"; do
	[ -x "$f" ] || { echo "modes_ab: $f missing" >&2; exit 1; }
done

# best MODE: the least ns per call of percall.pg traced in MODE
best() {
	ab_start "$B/percall.pg"
	if ! "$T" -p "$AB_PID" --enable -m "$1" -b 64K >/dev/null 2>&1; then
		echo "modes_ab: $T --enable -m $1 failed" >&2
	fi
	ab_least "$WARM" "$WL"
}

ab_start "$B/percall.plain"
plain=$(ab_least "$WARM" "$WL")
for ((r = 0; r < R; r++)); do
	if ((r % 2)); then b=$(best stats); a=$(best flight); else a=$(best flight); b=$(best stats); fi
	echo "$a $b"
done | awk -v p="$plain" '
function med(x, n,   i, j, t) {
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
	return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
}
{ a[NR] = $1 - p; b[NR] = $2 - p; q[NR] = ($2 - p) / ($1 - p) }
END { printf "ns/call over plain: flight %.1f stats %.1f | median stats/flight %.3f (%d rounds)\n",
	     med(a, NR), med(b, NR), med(q, NR), NR }'
