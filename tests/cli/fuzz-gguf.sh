# A bounded libFuzzer run over the GGUF reader (tests/fuzz-gguf.c), built
# with clang and AddressSanitizer + UBSan straight from the sources and
# seeded with writer-made files and the smallest shared model.  Skips when
# clang (or its libFuzzer runtime) is not installed.  FUZZ_SECONDS
# overrides the 20-second budget.
. "$TOP_SRCDIR/tests/lib.sh"

name="fuzz gguf reader"
cc=${FUZZ_CC:-clang}
if ! command -v "$cc" > /dev/null 2>&1; then
	t_skip "$name" "$cc not installed"
	t_end
	exit
fi
src="$TOP_SRCDIR/src"
srcs="$src/gguf.c $src/util.c $src/err.c $src/utf8.c"
flags="-std=c17 -D_GNU_SOURCE -g -O1 -I$src -I$TOP_BUILDDIR"
# shellcheck disable=SC2086
if ! "$cc" $flags -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -o "$T_TMP/fuzz-gguf" \
	"$TOP_SRCDIR/tests/fuzz-gguf.c" $srcs -lm > "$T_TMP/build.log" 2>&1; then
	# Tell a missing libFuzzer runtime from a real build failure.
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
		> "$T_TMP/probe.c"
	if ! "$cc" -fsanitize=fuzzer -o "$T_TMP/probe" "$T_TMP/probe.c" > /dev/null 2>&1; then
		t_skip "$name" "$cc cannot build libFuzzer targets"
	else
		t_fail "$name" "build failed"
		sed 's/^/#   /' "$T_TMP/build.log" | head -n 20
	fi
	t_end
	exit
fi
mkdir -p "$T_TMP/corpus"
# shellcheck disable=SC2086
if ! "$cc" $flags -DFUZZ_GGUF_SEEDS -o "$T_TMP/seeds" "$TOP_SRCDIR/tests/fuzz-gguf.c" \
	$srcs "$src/gguf-write.c" -lm > "$T_TMP/seeds.log" 2>&1 ||
	! "$T_TMP/seeds" "$T_TMP/corpus" >> "$T_TMP/seeds.log" 2>&1; then
	t_fail "$name" "cannot make the seed files"
	sed 's/^/#   /' "$T_TMP/seeds.log" | head -n 20
	t_end
	exit
fi
if [ -n "${VKCHAT_SHARED:-}" ] && [ -d "$VKCHAT_SHARED/models" ]; then
	smallest=$(ls -S "$VKCHAT_SHARED"/models/*.gguf 2> /dev/null | tail -n 1)
	[ -n "$smallest" ] && cp "$smallest" "$T_TMP/corpus/"
fi
secs=${FUZZ_SECONDS:-20}
"$T_TMP/fuzz-gguf" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$T_TMP/" "$T_TMP/corpus" \
	> "$T_TMP/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$T_TMP/fuzz.log")
if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
	echo "# $runs inputs in ${secs}s, corpus $(ls "$T_TMP/corpus" | wc -l) files"
	t_ok "$name"
else
	t_fail "$name" "libFuzzer exited with $rc"
	grep -E "ERROR|SUMMARY|runtime error|#[0-9]+ 0x" "$T_TMP/fuzz.log" | head -n 20 | sed 's/^/#   /'
	for f in "$T_TMP"/crash-* "$T_TMP"/leak-* "$T_TMP"/timeout-* "$T_TMP"/oom-*; do
		[ -e "$f" ] && echo "#   input: $(od -An -tx1 "$f" | head -n 4 | tr -s ' \n' ' ')"
	done
fi
t_end
