# tests/bench/goals.sh: sourced by run.sh, which defines $M, stats and fmt.
#
# print_goals: issue 14's goals, each with this run's medians and whether
# it is met; for the per-call goal, when it is not, the bound measured in
# the same run (the ladder rows) that says whether any tracer with
# tattach's requirements could meet it on this machine.  Nothing here is
# a fixed figure: a goal whose rows were not measured says so.

declare -A SITES		# section 3's site counts, by "FNS.THREADS"

# med FILE: the median of FILE's lines, or "-" when it has none.
med() {
	if [ -s "$1" ]; then stats "$1" | cut -d' ' -f1; else echo -; fi
}

# verdict LIMIT VALUE...: "met" when every VALUE is at most LIMIT, "not
# met" when one is above, "not measured" when one is missing.
verdict() {
	local limit=$1 v
	shift
	for v in "$@"; do [ "$v" = - ] && { echo "not measured"; return; }; done
	awk -v l="$limit" -v vals="$*" 'BEGIN { n = split(vals, v, " ")
		for (i = 1; i <= n; i++) if (v[i] + 0 > l + 0) { print "not met"; exit }
		print "met" }'
}

# above LIMIT VALUE: is VALUE a measurement above LIMIT?
above() {
	[ "$2" != - ] && awk -v l="$1" -v v="$2" 'BEGIN { exit !(v + 0 > l + 0) }'
}

goal_per_call() {
	local w fl l3 l11 vs11 all=()

	for w in fib mix; do all+=("$(med "$M/tat_fl.$w.vs_floor")"); done
	printf '  2. per traced call, tattach flight / floor (at most 1.5): fib %s, mix %s: %s\n' \
		"$(fmt "${all[0]}")" "$(fmt "${all[1]}")" "$(verdict 1.5 "${all[@]}")"
	for w in fib mix; do
		fl=$(med "$M/tat_fl.$w.vs_floor")
		above 1.5 "$fl" || continue
		l3=$(med "$M/lad3.$w.vs_floor")
		l11=$(med "$M/lad11.$w.vs_floor")
		vs11=$(med "$M/tat_fl.$w.vs_lad11")
		printf '     %s: floor + a hijacked return (ladder 3) / floor %s; the least tracer with\n' \
			"$w" "$(fmt "$l3")"
		printf '       tattach'\''s requirements (ladder 11) / floor %s; tattach / ladder 11 %s:\n' \
			"$(fmt "$l11")" "$(fmt "$vs11")"
		if above 1.5 "$l11"; then
			echo "       the bound itself is above 1.5 on this machine: no tracer with these requirements meets it"
		elif [ "$l11" = - ]; then
			echo "       the bound was not measured"
		else
			echo "       the bound is below 1.5: what tattach adds to it is over the goal"
		fi
	done
}

goal_discard() {
	printf '  3. discard mode (fresh 2 GiB ring) / flight mode (about 1): fib %s, mix %s\n' \
		"$(fmt "$(med "$M/tat_disc.fib.vs_flight")")" "$(fmt "$(med "$M/tat_disc.mix.vs_flight")")"
}

goal_pause() {
	local n limit v all
	for n in 10000 100000; do
		limit=2; [ $n = 100000 ] && limit=10
		all=()
		for v in en1ex en2ex disex; do all+=("$(med "$M/$v.$n.8")"); done
		printf '  4. pause seen by the target, %s fns (%s sites), 8 threads (at most %s ms):\n' \
			"$n" "${SITES[$n.8]:-?}" "$limit"
		printf '     first enable %s, again %s, disable %s ms: %s\n' \
			"$(fmt "${all[0]}")" "$(fmt "${all[1]}")" "$(fmt "${all[2]}")" \
			"$(verdict $limit "${all[@]}")"
	done
}

goal_threads() {
	printf '  5. overhead 8 threads / 1 thread (about 1): -t 16 %s, -t 128 %s; ladder 7, which shares no written line, %s\n' \
		"$(fmt "$(med "$M/mt8.vs1")")" "$(fmt "$(med "$M/mt128_8.vs1")")" "$(fmt "$(med "$M/mtl8.vs1")")"
	printf '     1000 threads (-t 1024) / 1 thread: %s; --enable with 1000 idle threads: %s ms stopped\n' \
		"$(fmt "$(med "$M/mt1k.vs1")")" "$(fmt "$(med "$M/en2.1k")")"
	printf '     1000 threads traced at once: %s slots used, %s events without a slot, %s MiB of ring resident\n' \
		"${MT1K_SLOTS:--}" "${MT1K_NOSLOT:--}" "${MT1K_RES:--}"
}

print_goals() {
	echo "issue 14's goals, from the medians above (docs/performance.md):"
	goal_per_call
	goal_discard
	goal_pause
	goal_threads
}
