#!/bin/sh
# Set everything up and run the whole test suite on Debian 12:
#   1. install the build and test dependencies (tools/setup-debian.sh)
#   2. configure and build in build/ with warnings as errors
#   3. build the unit tests again with AddressSanitizer + UBSan (build-asan/)
#   4. the README's first command's own flow: a build inside a copy of the
#      source tree (build-intree/), and make check there on what an
#      in-tree build can break (the house-rule and usage scripts)
#   5. a minute of libFuzzer over the parsers (tools/fuzz.sh 60): any
#      finding fails
#   6. make distcheck, whose make check (on a build from the release
#      tarball) is the whole suite: it also runs the sanitizer build's unit
#      tests, and ends with the one line "N passed, N failed, N skipped"
# Options: --quick skips steps 3 to 5 and runs make check in build/
# instead of make distcheck.
set -eu
cd "$(dirname "$0")/.."
quick=no
[ "${1:-}" = --quick ] && quick=yes
jobs=$(nproc 2>/dev/null || echo 2)

sh tools/setup-debian.sh
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi >/dev/null

mkdir -p build
(cd build && { [ -f Makefile ] || ../configure --enable-werror >/dev/null; } && make -s -j"$jobs")

asan_unit=""
if [ "$quick" = no ]; then
	mkdir -p build-asan
	(cd build-asan && { [ -f Makefile ] || ../configure --enable-werror --enable-sanitizers CC=gcc >/dev/null; } &&
		make -s -j"$jobs" tests/unit)
	asan_unit="$PWD/build-asan/tests/unit"
	echo "in-tree build: running (log in build/intree.log)"
	rm -rf build-intree
	mkdir build-intree
	git ls-files -z | xargs -0 cp --parents -t build-intree
	# TEST_FILTER: only the scripts (no unit test name has a '/')
	if ! (cd build-intree && autoreconf -fi && ./configure --enable-werror &&
		make -j"$jobs" && make check TEST_FILTER=tests/cli/ \
		check_script_list="tests/cli/style.sh tests/cli/usage.sh") \
		> build/intree.log 2>&1; then
		tail -n 40 build/intree.log
		echo "in-tree build failed"
		exit 1
	fi
	rm -rf build-intree
	echo "in-tree build: ok"
	echo "fuzz: running (log in build/fuzz.log)"
	if ! sh tools/fuzz.sh 60 > build/fuzz.log 2>&1; then
		tail -n 40 build/fuzz.log
		echo "fuzz found something"
		exit 1
	fi
	echo "fuzz: ok"
	# The suite's results as they come, then distcheck's own failure if
	# the tests passed but something else (install, dist, clean) did not.
	echo "distcheck: the whole suite on a build from the tarball (log in build/distcheck.log)"
	rm -f build/distcheck.rc
	(
		cd build
		rc=0
		ASAN_UNIT="$asan_unit" make -j"$jobs" distcheck 2>&1 || rc=$?
		echo "$rc" > distcheck.rc
	) | tee build/distcheck.log |
		sed -n '/^make  *check-local$/,/^[0-9]* passed, [0-9]* failed/{/^make  *check-local$/d;p}'
	rc=$(cat build/distcheck.rc 2> /dev/null || echo 1)
	if [ "$rc" -ne 0 ]; then
		tail -n 40 build/distcheck.log
		echo "distcheck failed"
		exit 1
	fi
	exit 0
fi
cd build
make -s check
