#!/bin/sh
# make bench: "vkchat bench" over the shared models (when present) and over
# random-weight models of real shapes written by the shared generator
# $VKCHAT_SHARED/bench/mkgguf.py (when it and numpy are installed: apt-get
# install python3-numpy).  Nothing is copied from the shared directory;
# generated models live in a temporary directory removed at the end.
#
# Environment: VKCHAT (the binary), VKCHAT_SHARED, BENCH_ARGS (for the
# shared models, default "-p 512 -n 128 -r 3"), BENCH_SHAPES (generated
# models as SHAPE:TYPE, default "smollm2-135m:q8_0"), BENCH_GEN_ARGS (for
# them, default "-p 64 -n 16 -r 1": lavapipe is slow).
set -u
VKCHAT=${VKCHAT:-./vkchat}
SHARED=${VKCHAT_SHARED:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vkchat-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
status=0

for m in stories260K.gguf llama-2-tiny-random.gguf; do
	f="$SHARED/models/$m"
	[ -n "$SHARED" ] && [ -r "$f" ] || { echo "# $m: not found, skipped"; continue; }
	echo "== $m: vkchat bench ${BENCH_ARGS:--p 512 -n 128 -r 3}"
	# shellcheck disable=SC2086
	"$VKCHAT" bench -m "$f" ${BENCH_ARGS:--p 512 -n 128 -r 3} || status=1
done

gen="$SHARED/bench/mkgguf.py"
if [ -z "$SHARED" ] || [ ! -r "$gen" ] ||
	! /usr/bin/python3 -c 'import numpy' 2> /dev/null; then
	echo "# generated models skipped: needs $gen and python3-numpy"
	exit $status
fi
for spec in ${BENCH_SHAPES:-smollm2-135m:q8_0}; do
	shape=${spec%%:*} type=${spec#*:}
	f="$tmp/$shape-$type.gguf"
	/usr/bin/python3 "$gen" "$shape" "$type" "$f" > /dev/null || { status=1; continue; }
	echo "== $shape $type (mkgguf.py): vkchat bench ${BENCH_GEN_ARGS:--p 64 -n 16 -r 1}"
	# shellcheck disable=SC2086
	"$VKCHAT" bench -m "$f" ${BENCH_GEN_ARGS:--p 64 -n 16 -r 1} || status=1
	rm -f "$f"
done
exit $status
