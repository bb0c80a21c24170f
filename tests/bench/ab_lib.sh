# Sourced by the side-by-side benchmarks (percall_ab.sh, anybin_ab.sh:
# one percall process at a time, as a coprocess; threads_ab.sh: only
# ab_per_call, as it keeps two processes at once).

# ab_start BIN: start BIN; its pid in AB_PID.
ab_start() {
	local w
	coproc P { "$1" 2>/dev/null; }
	read -r w AB_PID <&"${P[0]}"
}

# ab_per_call ns=N calls=C: percall's answer fields as ns per call.
ab_per_call() {
	awk -v a="${1#ns=}" -v b="${2#calls=}" 'BEGIN { printf "%.2f", a / b }'
}

# ab_least WARMUP CMD: send WARMUP once, then CMD 7 times, and print the
# least ns per call of the 7 answers (the machine's other load only ever
# adds); then end the process and remove its ring file.
ab_least() {
	local w ok ns calls v least=999999
	echo "$1" >&"${P[1]}"
	read -r w <&"${P[0]}"
	for _ in 1 2 3 4 5 6 7; do
		echo "$2" >&"${P[1]}"
		read -r ok ns calls _ <&"${P[0]}"
		v=$(ab_per_call "$ns" "$calls")
		least=$(awk -v a="$v" -v b="$least" 'BEGIN { print (a < b) ? a : b }')
	done
	echo quit >&"${P[1]}"
	wait "$P_PID" 2>/dev/null
	rm -f "/dev/shm/tattach-$AB_PID.ring"
	echo "$least"
}
