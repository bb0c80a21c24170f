#!/bin/sh
# Run every test binary given, then print one closing line:
#   "check: N passed, N failed"
# Usage: run-all.sh BUILD_DIR TEST_BIN...
# A TEST_BIN written FLAVOUR:PATH runs with TATTACH_TARGET_FLAVOR=FLAVOUR:
# its targets in their FLAVOUR build where there is one (pfe: patchable
# entries, proc_harness.c flavoured()); but hijack:PATH runs with
# TATTACH_CALL_THROUGH=0 (every site calls the trampoline, and returns
# are hijacked, as they still are at sites with -A/-R).
B=$1
shift
export TATTACH_BUILD="$B"
# only matters for SANITIZE=1 builds
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
# -pg programs write gmon.out.PID at exit: into the build, one run's worth
# (not the working directory, nor thousands of files in /tmp)
mkdir -p "$B/tests"
rm -rf "$B/tests/gmon"
mkdir -m 1777 "$B/tests/gmon"
export GMON_OUT_PREFIX="$(cd "$B/tests/gmon" && pwd)/gmon"
passed=0 failed=0 bad=""
for arg in "$@"; do
	t=${arg#*:}
	flavour=
	[ "$t" = "$arg" ] || flavour=${arg%%:*}
	case "$flavour" in
	hijack) echo "== $t (TATTACH_CALL_THROUGH=0)" ;;
	*) echo "== $t${flavour:+ (targets: $flavour)}" ;;
	esac
	jobs=2
	case "$t" in */integration/*) jobs=1 ;; esac
	log=$(mktemp)
	ct=
	[ "$flavour" != hijack ] || { flavour= ct=0; }
	env ${ct:+TATTACH_CALL_THROUGH=$ct} TATTACH_TARGET_FLAVOR=$flavour \
		"$t" --jobs=$jobs --short-filename 2>&1 | tee "$log"
	synth=$(grep 'Synthesis:' "$log" | tail -n 1)
	rm -f "$log"
	p=$(echo "$synth" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$synth" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(echo "$synth" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	if [ -z "$p" ]; then
		failed=$((failed + 1)); bad="$bad $arg(no-result)"; continue
	fi
	passed=$((passed + p)); failed=$((failed + f + c))
	[ "$((f + c))" -eq 0 ] || bad="$bad $arg"
done
[ -z "$bad" ] || echo "failing:$bad"
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
