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

# Producers (the unit binaries and the scripts) run side by side, TEST_JOBS
# at a time (default: the processors plus one, as the scripts spend much of
# their time waiting on a terminal or a database); each has its own HOME
# and XDG directories (the pipeline cache is shared: its writes are atomic)
# and its output is printed whole, in the order given, as soon as it and
# those before it are done.
jobs=${TEST_JOBS:-$(($(nproc 2> /dev/null || echo 1) + 1))}
n_prod=0

start_producer() {
	n_prod=$((n_prod + 1))
	k=$n_prod
	echo "$1" > "$tmp_home/name.$k"
	shift
	dir="$tmp_home/p$k"
	mkdir -p "$dir"
	(
		export HOME="$dir" XDG_DATA_HOME="$dir/data" \
			XDG_CONFIG_HOME="$dir/config" XDG_STATE_HOME="$dir/state"
		"$@" > "$tmp_home/out.$k" 2>&1
		echo $? > "$tmp_home/rc.$k.tmp"
		mv "$tmp_home/rc.$k.tmp" "$tmp_home/rc.$k"
	) &
}

# report K: the results of producer K, and its failure diagnostics.
report() {
	name=$(cat "$tmp_home/name.$1")
	rc=$(cat "$tmp_home/rc.$1")
	out="$tmp_home/out.$1"
	echo "# --- $name" >> "$log"
	cat "$out" >> "$log"
	# Show results and failure diagnostics, not every note.
	awk -v name="$name" '
		/^not ok/ { print name ": " $0; show = 1; next }
		/^ok/ { print name ": " $0; show = 0; next }
		/^# (FAIL|SKIP)/ { print "  " $0; next }
		show && /^#/ { print "  " $0 }
	' "$out"
	n=$(grep -c '^\(ok\|not ok\)' "$out")
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
		echo "$name: not ok - exited with status $rc"
		echo "not ok - $name exited with status $rc" >> "$tmp_home/all"
		tail -n 20 "$out" | sed 's/^/  # /'
	fi
	# "1..0": a filter that selected nothing is not a failure.
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$out" | tail -n 1)
	if [ "$n" -eq 0 ] && [ "$rc" -eq 0 ] && [ "$plan" != 0 ]; then
		echo "$name: not ok - produced no results"
		echo "not ok - $name produced no results" >> "$tmp_home/all"
	elif [ "$rc" -eq 0 ] && [ -z "$plan" ]; then
		# a script that stopped before t_end: what it did not run
		# must not pass unseen
		echo "$name: not ok - ended without its plan line (stopped early?)"
		echo "not ok - $name ended without its plan" >> "$tmp_home/all"
	elif [ "$rc" -eq 0 ] && [ "$plan" -ne "$n" ]; then
		echo "$name: not ok - $n results where its plan says $plan"
		echo "not ok - $name: $n results of $plan" >> "$tmp_home/all"
	fi
	grep '^\(ok\|not ok\)' "$out" >> "$tmp_home/all"
}

reported=0
# Report what is done in order; with an argument, wait until fewer than
# that many producers run.
drain() {
	while :; do
		while [ "$reported" -lt "$n_prod" ] &&
			[ -f "$tmp_home/rc.$((reported + 1))" ]; do
			reported=$((reported + 1))
			report "$reported"
		done
		done_n=$(ls "$tmp_home" | grep -c '^rc\.[0-9]*$')
		[ $((n_prod - done_n)) -lt "${1:-1}" ] && return
		sleep 0.2
	done
}

run_producer() {
	drain "$jobs"
	start_producer "$@"
}

: > "$tmp_home/all"
# The unit tests run side by side inside the binary too.
unit_jobs=$(nproc 2> /dev/null || echo 1)
if [ -n "${TEST_FILTER:-}" ]; then
	run_producer unit "$UNIT" -j "$unit_jobs" "$TEST_FILTER"
else
	run_producer unit "$UNIT" -j "$unit_jobs"
fi
unit_rc="$tmp_home/rc.$n_prod"
# The tests that run the Vulkan kernels, again under the settings a CPU
# device would otherwise never see (a GPU driver ignores LP_*):
#   unit-lanes4: llvmpipe's narrower subgroup (4 lanes instead of 8 on a
#     256-bit vector unit): no kernel may assume a width it did not ask for;
#   unit-gpu-kernels: the kernel set, buffer kinds and step sizes a GPU
#     gets (VKCHAT_KERNELS=gpu), so a GPU's first run is not theirs.
vk_tests="kern_ engine_ modelgen_ gen_ worker_"
if [ -z "${TEST_FILTER:-}" ]; then
	# shellcheck disable=SC2086
	run_producer unit-lanes4 env LP_NATIVE_VECTOR_WIDTH=128 \
		"$UNIT" -j "$unit_jobs" $vk_tests
	# shellcheck disable=SC2086
	run_producer unit-gpu-kernels env VKCHAT_KERNELS=gpu \
		"$UNIT" -j "$unit_jobs" $vk_tests
fi
if [ -n "${ASAN_UNIT:-}" ]; then
	# Sanitizer build of the same tests; Mesa and the Vulkan loader keep
	# allocations alive until exit, so leak checking is left to the
	# non-Vulkan tests' own runs under valgrind.  It starts when the
	# plain unit tests are done: most of a cold test's time is llvmpipe
	# compiling its kernels, and the same kernels are then in Mesa's
	# shader cache (shared by every producer).
	run_producer unit-asan sh -c \
		'while [ ! -f "$1" ]; do sleep 1; done; shift; exec "$@"' \
		sh "$unit_rc" env \
		ASAN_OPTIONS="detect_leaks=0:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
		UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
		"$ASAN_UNIT" -j "$unit_jobs" ${TEST_FILTER:+"$TEST_FILTER"}
fi
for script in "$@"; do
	[ -n "${TEST_FILTER:-}" ] && case "$script" in *"$TEST_FILTER"*) ;; *) continue ;; esac
	run_producer "$(basename "$script" .sh)" sh "$TOP_SRCDIR/$script"
done
wait
drain

passed=$(grep '^ok' "$tmp_home/all" | grep -vc '# SKIP')
skipped=$(grep '^ok' "$tmp_home/all" | grep -c '# SKIP')
failed=$(grep -c '^not ok' "$tmp_home/all")
echo "(full output: $log)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
