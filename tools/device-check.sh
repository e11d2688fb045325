#!/bin/sh
# device-check: vkchat's tests and benchmarks on a GPU, from a copy of the
# working tree, in one command on the GPU machine.
#
# The GPU machines this is for reach no network and have no build tools
# for vkchat (no glslc, autotools or -dev packages), so the work is split:
#
#   sh tools/device-check.sh prepare
#       Here, on Debian 12 after tools/setup-debian.sh: builds vkchat and
#       the unit tests in build-device/ (-O2, no sanitizers), downloads the
#       Debian runtime libraries vkchat links (apt-get download) into
#       .device/debs, and copies the shared test models and the shape
#       generator (../shared or $VKCHAT_SHARED) into .device/shared.
#       Both folders are git-ignored; carry them along with the tree.
#
#   sh tools/device-check.sh run [OUT]
#       On the GPU machine: unpacks the libraries into .device/root (never
#       into /) and runs, with them on LD_LIBRARY_PATH and the NVIDIA
#       driver's ICD when it is there:
#         1. vkchat devices (the device the engine picks, its limits)
#         2. the unit tests (tests/unit -j), the kernels and the engine on
#            the GPU's own subgroup size and kernel set
#         3. vkchat bench --json for the shapes of docs/PERFORMANCE.md
#            (random weights written by mkgguf.py with numpy), prompt 512
#            and 128 generated tokens, then --parallel 2, 4 and 8
#       Every figure goes to OUT/device-check.jsonl (one JSON object per
#       line: "devices", "unit", "bench"), the logs beside it.  OUT
#       defaults to ./device-check-out.
#
# Environment: DEVICE_CHECK_BUDGET (seconds for all of "run", default 420:
# the shapes that would not fit are skipped and say so), DEVICE_CHECK_SHAPES
# (SHAPE:TYPE list, default below), DEVICE_CHECK_NO_UNIT (set: benchmarks
# only), VKCHAT_SHARED (prepare).
set -eu
cd "$(dirname "$0")/.."
top=$PWD

SHAPES=${DEVICE_CHECK_SHAPES:-"smollm2-135m:q8_0 smollm2-135m:q4_0 qwen25-05b:q8_0 llama-1b:q4_0 tinyllama:q4_0 llama-8b:q4_0"}
DEBS="libvulkan1 libsqlite3-0 libreadline8 libncursesw6 libtinfo6 libpcre2-8-0 libutf8proc2"

prepare() {
	shared=${VKCHAT_SHARED:-$top/../shared}
	mkdir -p build-device .device/debs .device/shared/models .device/shared/bench
	[ -x configure ] || autoreconf -fi > /dev/null
	(cd build-device && { [ -f Makefile ] || ../configure > /dev/null; } &&
		make -s -j"$(nproc)" vkchat tests/unit)
	(cd .device/debs && rm -f ./*.deb && apt-get download $DEBS 2>&1 | grep -v "unsandboxed" >&2 || true)
	if [ -d "$shared/models" ]; then
		cp "$shared"/models/* .device/shared/models/
		cp "$shared"/bench/mkgguf.py .device/shared/bench/
	else
		echo "device-check: no shared data at '$shared': unit tests that need it will skip, no benchmarks" >&2
	fi
	du -sh build-device/vkchat build-device/tests/unit .device | sed 's/^/device-check: /'
	echo "device-check: prepared; carry build-device and .device, then run 'sh tools/device-check.sh run'"
}

# elapsed: seconds since "run" started.
elapsed() { echo $(($(date +%s) - t0)); }

run() {
	out=${1:-$top/device-check-out}
	budget=${DEVICE_CHECK_BUDGET:-420}
	t0=$(date +%s)
	mkdir -p "$out" .device/root .device/models
	jl="$out/device-check.jsonl"
	: > "$jl"
	[ -x build-device/vkchat ] || { echo "device-check: build-device/vkchat is missing: run 'prepare' first, here" >&2; exit 1; }
	for d in .device/debs/*.deb; do
		[ -e "$d" ] && dpkg -x "$d" .device/root
	done
	export LD_LIBRARY_PATH="$top/.device/root/usr/lib/x86_64-linux-gnu:$top/.device/root/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
	if [ -z "${VK_DRIVER_FILES:-}" ] && [ -r "$icd" ]; then
		export VK_DRIVER_FILES="$icd"
	fi
	V="$top/build-device/vkchat"
	export VKCHAT_SHARED="$top/.device/shared" XDG_CACHE_HOME="$out/cache" \
		XDG_DATA_HOME="$out/data" TOP_SRCDIR="$top" \
		TOP_BUILDDIR="$top/build-device" VKCHAT="$V"

	echo "== devices"
	"$V" devices --json > "$out/devices.json" 2> "$out/devices.err" || true
	"$V" devices 2>&1 | tee "$out/devices.txt"
	printf '{"kind": "devices", "result": %s}\n' \
		"$(tr -d '\n' < "$out/devices.json" | sed 's/^$/null/')" >> "$jl"

	if [ -z "${DEVICE_CHECK_NO_UNIT:-}" ]; then
		echo "== unit tests ($(elapsed) s)"
		(cd build-device && TEST_TIMEOUT=300 ./tests/unit -j "$(nproc)" \
			> "$out/unit.log" 2>&1) || true
		grep '^not ok' "$out/unit.log" || true
		summary=$(tail -n 1 "$out/unit.log")
		echo "$summary"
		printf '{"kind": "unit", "summary": "%s", "seconds": %s}\n' \
			"$(echo "$summary" | sed 's/"/\\"/g')" "$(elapsed)" >> "$jl"
	fi

	gen="$top/.device/shared/bench/mkgguf.py"
	for st in $SHAPES; do
		shape=${st%%:*} type=${st#*:}
		if [ "$(elapsed)" -ge "$budget" ]; then
			echo "== $shape $type: skipped, the budget of $budget s is spent"
			printf '{"kind": "bench", "shape": "%s", "type": "%s", "skipped": "budget"}\n' "$shape" "$type" >> "$jl"
			continue
		fi
		f="$top/.device/models/$shape-$type.gguf"
		echo "== $shape $type ($(elapsed) s)"
		if [ ! -s "$f" ] && ! python3 "$gen" "$shape" "$type" "$f" > "$out/gen.log" 2>&1; then
			echo "could not write the model:"; tail -n 3 "$out/gen.log"
			printf '{"kind": "bench", "shape": "%s", "type": "%s", "skipped": "mkgguf failed"}\n' "$shape" "$type" >> "$jl"
			continue
		fi
		for par in 1 2 4 8; do
			if [ "$par" = 1 ]; then
				set -- -p 512 -n 128 -r 3
			else
				set -- -p 0 -n 64 -r 1 --parallel "$par"
			fi
			if "$V" bench -m "$f" "$@" --json > "$out/bench.json" 2> "$out/bench.err"; then
				printf '{"kind": "bench", "shape": "%s", "type": "%s", "args": "%s", "result": %s}\n' \
					"$shape" "$type" "$*" "$(tr -d '\n' < "$out/bench.json")" >> "$jl"
				tail -c 400 "$out/bench.json" | tr -d '\n'; echo
			else
				echo "bench $*: failed:"; tail -n 3 "$out/bench.err"
				printf '{"kind": "bench", "shape": "%s", "type": "%s", "args": "%s", "failed": "%s"}\n' \
					"$shape" "$type" "$*" "$(tail -n 1 "$out/bench.err" | sed 's/"/\\"/g')" >> "$jl"
			fi
		done
		rm -f "$f"
	done
	echo "== done in $(elapsed) s; figures in $jl"
}

case "${1:-}" in
prepare) prepare ;;
run) shift; run "$@" ;;
*)
	echo "usage: sh tools/device-check.sh prepare | run [OUT]" >&2
	exit 2
	;;
esac
