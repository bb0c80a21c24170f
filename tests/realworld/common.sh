# Shared by the real-world scripts (memcached.sh, redis.sh): sourced, not
# run.  Before sourcing, set RW_NAME (the script's name, for messages);
# after, set the arrays it reads: pids (processes to kill on exit) and
# ring_pids (processes whose ring files to remove on exit, unless KEEP=1).
# Needs REPO (the tattach checkout) and WORK (the build and log folder);
# sourcing it sets the exit traps and leaves the script in $WORK.

failures=0
pids=()                            # everything we started, killed by pid on exit
ring_pids=()                       # processes whose ring files are ours
RING_DIR=${TATTACH_RING_DIR:-/dev/shm}
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

say()  { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
pass() { printf 'ok:   %s\n' "$*"; }
die()  { printf '%s: %s\n' "$RW_NAME" "$*" >&2; exit 1; }

rw_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	pids=()
	if [ "${KEEP:-0}" != 1 ]; then
		for p in "${ring_pids[@]}"; do
			rm -f "$RING_DIR/tattach-$p.ring"
		done
	fi
}

# forget PID: it was waited for; never kill it again (its pid may be reused)
forget() {
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}

# rw_install PKG...: apt-get install those not installed yet
rw_install() {
	local p need=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			need+=("$p")
	done
	[ ${#need[@]} -gt 0 ] || return 0
	say "installing ${need[*]}"
	$SUDO apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null ||
		die "apt-get install ${need[*]} failed"
}

# rw_build_tattach: make deps all; sets TATTACH and TREAD
rw_build_tattach() {
	say "building tattach and tread (make deps all)"
	make -C "$REPO" -s deps all >"$WORK/make-tattach.log" 2>&1 ||
		{ tail -20 "$WORK/make-tattach.log"; die "make all failed (see $WORK/make-tattach.log)"; }
	TATTACH=${B:-$REPO/build}/tattach
	TREAD=${B:-$REPO/build}/tread
}

# deb-src entries for the running release, for apt-get source
rw_enable_deb_src() {
	. /etc/os-release
	local f=/etc/apt/sources.list.d/tattach-realworld-src.sources
	say "adding deb-src entries for $VERSION_CODENAME in $f"
	$SUDO tee "$f" >/dev/null <<-EOF
	Types: deb-src
	URIs: http://deb.debian.org/debian
	Suites: $VERSION_CODENAME $VERSION_CODENAME-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb-src
	URIs: http://deb.debian.org/debian-security
	Suites: $VERSION_CODENAME-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	$SUDO apt-get update -qq || die "apt-get update failed"
}

# rw_source PKG: the unpacked source of Debian's PKG under $WORK (fetched
# with apt-get source the first time); sets SRC, without a final /
rw_source() {
	local pkg=$1
	SRC=$(ls -d "$WORK/$pkg"-[0-9]*/ 2>/dev/null | head -1)
	if [ -z "$SRC" ]; then
		say "apt-get source $pkg"
		if ! apt-get source --print-uris "$pkg" 2>/dev/null | grep -q '\.dsc'; then
			$SUDO apt-get update -qq
			apt-get source --print-uris "$pkg" 2>/dev/null | grep -q '\.dsc' ||
				rw_enable_deb_src
		fi
		(cd "$WORK" && apt-get source "$pkg") >"$WORK/apt-source.log" 2>&1 ||
			{ tail -5 "$WORK/apt-source.log"; die "apt-get source $pkg failed"; }
		SRC=$(ls -d "$WORK/$pkg"-[0-9]*/ | head -1)
	fi
	SRC=${SRC%/}
}

# check_names FILE WHAT NAME...: every NAME occurs as a function in FILE
check_names() {
	local file=$1 what=$2 n missing=()
	shift 2
	for n in "$@"; do
		grep -Eq "(\| *|  )$n(\(\)|\.|$| )" "$file" || missing+=("$n")
	done
	if [ ${#missing[@]} = 0 ]; then
		pass "$what shows $*"
	else
		fail "$what lacks ${missing[*]}"
	fi
}

# rw_tattach EXPECT_REGEX OUTFILE ARGS...: run tattach ARGS into OUTFILE,
# show it indented, fail unless it exits 0 and prints EXPECT_REGEX; the
# pause it reports goes into the array pauses.  Returns 0 when it passed.
pauses=()
rw_tattach() {
	local expect=$1 out=$2 rc ms
	shift 2
	"$TATTACH" "$@" >"$out" 2>&1
	rc=$?
	sed 's/^/    /' "$out"
	if [ $rc != 0 ] || ! grep -Eq "$expect" "$out"; then
		fail "tattach $*: exit $rc, expected /$expect/"
		return 1
	fi
	ms=$(sed -n 's/.*stopped for \([0-9.]*\) ms.*/\1/p' "$out")
	[ -n "$ms" ] && pauses+=("$ms")
	return 0
}

# rw_pauses: "N enable/disable runs, median M ms, MIN .. MAX ms", of the
# pauses tattach reported (the array pauses)
rw_pauses() {
	printf '%s\n' "${pauses[@]}" | sort -g | awk 'NF { v[++n] = $1 }
		END { if (!n) { print "no enable/disable runs"; exit }
		      printf "%d enable/disable runs, median %s ms, %s .. %s ms\n",
			     n, v[int((n + 1) / 2)], v[1], v[n] }'
}

# Every script: what it started goes on exit, and it runs in $WORK.
trap rw_cleanup EXIT
trap 'exit 130' INT TERM
[ "$(uname -m)" = x86_64 ] || die "x86-64 only"
mkdir -p "$WORK" || die "cannot create $WORK"
cd "$WORK" || exit 1
