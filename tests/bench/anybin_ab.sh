#!/bin/bash
# tests/bench/anybin_ab.sh OLD_TATTACH [ROUNDS]: section 7's library call
# and entry-patched function under two tattach builds, side by side.
#
# Each round measures, one after the other, with percall's "lib" workload
# (w_lib() calls strlen() through the PLT): percall.pg untraced, its w_lib
# -pg site alone and with --libcalls (strlen's stub), under OLD_TATTACH then
# build/tattach; percall.plain untraced and with w_lib entry-patched
# (--entry), under each.  The -pg baseline has w_lib's site a NOP, as
# section 7 of make bench.  Every process runs "lib 2000000" once, then 7
# times, and the least ns per call of the 7 is kept (the machine's other
# load only ever adds).  Prints each round's overheads in ns per call: the
# -pg site, the -pg site and the library call in it, the entry-patched
# function.  The two builds take turns at going first.
# Needs build/bench/ (make bench, or sh tests/bench/run.sh build).  To
# compare primed returns with hijacked ones in one build, OLD_TATTACH can
# be a wrapper that runs build/tattach with TATTACH_CALL_THROUGH=0.
if [ $# -lt 1 ]; then
	echo "usage: $0 OLD_TATTACH [ROUNDS]" >&2
	exit 2
fi
cd "$(dirname "$0")/../.." || exit 1
. tests/bench/ab_lib.sh
B=build/bench OLD=$1
for f in "$B/percall.plain" "$B/percall.pg" "$OLD" build/tattach; do
	[ -x "$f" ] || { echo "anybin_ab: $f missing" >&2; exit 1; }
done

# best BIN [TATTACH ARGS... | nop]: the least ns per w_lib call of 7 runs
best() {
	local bin=$1
	shift
	ab_start "$B/$bin"
	if [ "${1:-}" = nop ]; then	# w_lib's -pg site a NOP: the baseline
		build/tattach -p "$AB_PID" --enable -F '^w_lib$' >/dev/null 2>&1 &&
			build/tattach -p "$AB_PID" --disable >/dev/null 2>&1 ||
			echo "anybin_ab: could not make w_lib's site a NOP" >&2
	elif [ $# -gt 0 ] && ! "$@" -p "$AB_PID" >/dev/null 2>&1; then
		echo "anybin_ab: $* -p $AB_PID failed" >&2
	fi
	ab_least "lib 2000000" "lib 2000000"
}

PG=(--enable -m flight -b 64K -F '^w_lib$')
LIB=(--enable -m flight -b 64K --libcalls -F '^(w_lib|strlen)$')
ENT=(--enable -m flight -b 64K --entry -F '^w_lib$')
# one build's three figures: the untraced runs come first in each round
measure() {
	g=$(best percall.pg "$1" "${PG[@]}")
	l=$(best percall.pg "$1" "${LIB[@]}")
	e=$(best percall.plain "$1" "${ENT[@]}")
}
for ((r = 0; r < ${2:-5}; r++)); do
	p0=$(best percall.pg nop)
	e0=$(best percall.plain)
	# the two builds take turns at going first: drift favours neither
	if ((r % 2)); then
		measure build/tattach; gn=$g ln=$l en=$e
		measure "$OLD"; go=$g lo=$l eo=$e
	else
		measure "$OLD"; go=$g lo=$l eo=$e
		measure build/tattach; gn=$g ln=$l en=$e
	fi
	awk -v p0="$p0" -v go="$go" -v gn="$gn" -v lo="$lo" -v ln="$ln" -v e0="$e0" -v eo="$eo" \
	    -v en="$en" -v ld="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
		printf "ns/call: -pg site old %.1f new %.1f | -pg site + library call old %.1f new %.1f | ",
		       go - p0, gn - p0, lo - p0, ln - p0
		printf "entry old %.1f new %.1f | load %s\n", eo - e0, en - e0, ld }'
done
