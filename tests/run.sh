#!/bin/sh
# Run the whole test suite: the unit-test binary ($UNIT) and each TAP script
# given as an argument.  Prints every result line and closes with one line
# "N passed, N failed, N skipped".  Exits 1 if anything failed.
#
# Environment (set by "make check"): VKCHAT, UNIT, TOP_SRCDIR, TOP_BUILDDIR,
# VKCHAT_SHARED, ASAN_UNIT (a sanitizer build of the unit tests, optional).
# TEST_FILTER limits the unit tests to names containing it.
set -u

log="${TOP_BUILDDIR:-.}/tests/test-suite.log"
mkdir -p "$(dirname "$log")"
: > "$log"
export VKCHAT UNIT TOP_SRCDIR TOP_BUILDDIR VKCHAT_SHARED
# Tests never touch the user's files.
tmp_home=$(mktemp -d "${TMPDIR:-/tmp}/vkchat-home-XXXXXX")
trap 'rm -rf "$tmp_home"' EXIT
export HOME="$tmp_home" XDG_DATA_HOME="$tmp_home/data" \
	XDG_CACHE_HOME="$tmp_home/cache" XDG_CONFIG_HOME="$tmp_home/config"
unset VKCHAT_DB VKCHAT_DEVICE
if [ ! -d "${VKCHAT_SHARED:-/nonexistent}" ]; then
	echo "# shared test data not found at '${VKCHAT_SHARED:-}': tests that need it skip"
fi

failed_producers=0
run_producer() {
	name=$1
	shift
	echo "# --- $name" >> "$log"
	"$@" > "$tmp_home/out" 2>&1
	rc=$?
	cat "$tmp_home/out" >> "$log"
	# Show results and failure diagnostics, not every note.
	awk -v name="$name" '
		/^not ok/ { print name ": " $0; show = 1; next }
		/^ok/ { print name ": " $0; show = 0; next }
		/^# (FAIL|SKIP)/ { print "  " $0; next }
		show && /^#/ { print "  " $0 }
	' "$tmp_home/out"
	n=$(grep -c '^\(ok\|not ok\)' "$tmp_home/out")
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$tmp_home/out"; then
		echo "$name: not ok - exited with status $rc"
		echo "not ok - $name exited with status $rc" >> "$tmp_home/all"
		tail -n 20 "$tmp_home/out" | sed 's/^/  # /'
	fi
	# "1..0": a filter that selected nothing is not a failure.
	if [ "$n" -eq 0 ] && [ "$rc" -eq 0 ] && ! grep -q '^1\.\.0$' "$tmp_home/out"; then
		echo "$name: not ok - produced no results"
		echo "not ok - $name produced no results" >> "$tmp_home/all"
	fi
	grep '^\(ok\|not ok\)' "$tmp_home/out" >> "$tmp_home/all"
}

: > "$tmp_home/all"
if [ -n "${TEST_FILTER:-}" ]; then
	run_producer unit "$UNIT" "$TEST_FILTER"
else
	run_producer unit "$UNIT"
fi
if [ -n "${ASAN_UNIT:-}" ]; then
	# Sanitizer build of the same tests; Mesa and the Vulkan loader keep
	# allocations alive until exit, so leak checking is left to the
	# non-Vulkan tests' own runs under valgrind.
	ASAN_OPTIONS="detect_leaks=0:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
		run_producer unit-asan "$ASAN_UNIT" ${TEST_FILTER:+"$TEST_FILTER"}
fi
for script in "$@"; do
	[ -n "${TEST_FILTER:-}" ] && case "$script" in *"$TEST_FILTER"*) ;; *) continue ;; esac
	run_producer "$(basename "$script" .sh)" sh "$TOP_SRCDIR/$script"
done

passed=$(grep '^ok' "$tmp_home/all" | grep -vc '# SKIP')
skipped=$(grep '^ok' "$tmp_home/all" | grep -c '# SKIP')
failed=$(grep -c '^not ok' "$tmp_home/all")
echo "(full output: $log)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
