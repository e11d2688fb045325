#!/bin/sh
# Set everything up and run the whole test suite on Debian 12:
#   1. install the build and test dependencies (tools/setup-debian.sh)
#   2. configure and build in build/ with warnings as errors
#   3. build the unit tests again with AddressSanitizer + UBSan (build-asan/)
#   4. make distcheck
#   5. make check, which also runs the sanitizer build's unit tests and
#      ends with the one line "N passed, N failed, N skipped"
# Options: --quick skips steps 3 and 4.
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
	echo "distcheck: running (log in build/distcheck.log)"
	if ! (cd build && make -j"$jobs" distcheck > distcheck.log 2>&1); then
		tail -n 40 build/distcheck.log
		echo "distcheck failed"
		exit 1
	fi
	echo "distcheck: ok"
fi
cd build
ASAN_UNIT="$asan_unit" make -s check
