#!/bin/sh
# libFuzzer runs over vkchat's parsers, each target built with clang and
# AddressSanitizer + UBSan straight from the sources:
#   gguf    the GGUF reader (tests/fuzz-gguf.c)
#   tok     the tokenizers: text and special-token parsing, then decoding,
#           over the shared tokenizer files (tests/fuzz/fuzz-tok.c)
#   chat    chat-format detection and rendering (tests/fuzz/fuzz-chat.c)
#   import  the JSON session import (tests/fuzz/fuzz-import.c)
#   preset  the preset text parser (tests/fuzz/fuzz-preset.c)
# Seed corpora are made afresh each run: writer-made files and built-in
# data from the targets' seed modes, plus texts and files from tests/data
# and the shared models and tokenizers; what the fuzzer finds is kept in
# the work directory's corpus-TARGET/ for the next run.
#
#   tools/fuzz.sh build               build the targets (what 'make fuzz' does)
#   tools/fuzz.sh SECONDS [TARGET...] build, then fuzz the targets (all by
#                                     default), each for an equal share of
#                                     SECONDS, FUZZ_PARALLEL of them at a
#                                     time (default: one per processor);
#                                     exit 1 on any finding
#
# FUZZ_DIR is the work directory (default build/fuzz); CONFIG_DIR holds
# config.h (default build); VKCHAT_SHARED the shared models (default
# ../shared beside the source tree); FUZZ_CC the compiler (clang); FUZZ_JOBS
# runs that many jobs per target (libFuzzer -jobs; default 1).  A finding's
# input is saved as FUZZ_DIR/TARGET-crash-* (or -leak-, -timeout-, -oom-);
# replay it with FUZZ_DIR/fuzz-TARGET FILE.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${FUZZ_DIR:-$top/build/fuzz}
config=${CONFIG_DIR:-$top/build}
shared=${VKCHAT_SHARED:-$top/../shared}
cc=${FUZZ_CC:-clang}
all="gguf tok chat import preset"

die() {
	echo "fuzz: $*" >&2
	exit 1
}

[ $# -ge 1 ] || die "usage: tools/fuzz.sh build | SECONDS [TARGET...]"
command -v "$cc" > /dev/null 2>&1 || die "$cc is not installed"
[ -f "$config/config.h" ] || die "no config.h in '$config': configure first (or set CONFIG_DIR)"
mkdir -p "$dir" || exit 1

s=$top/src
base="$s/util.c $s/err.c $s/utf8.c"
tok="$s/tokenizer.c $s/tok-spm.c $s/tok-bpe.c $s/tok-decoder.c $s/gguf.c"
flags="-std=c17 -D_GNU_SOURCE -g -O1 -I$s -I$top/storage -I$config"
fuzzflags="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"

# srcs TARGET: the target's harness and the sources it links.
srcs() {
	case $1 in
	gguf) echo "$top/tests/fuzz-gguf.c $s/gguf.c $base" ;;
	tok) echo "$top/tests/fuzz/fuzz-tok.c $tok $base" ;;
	chat) echo "$top/tests/fuzz/fuzz-chat.c $s/chat.c $tok $base" ;;
	import) echo "$top/tests/fuzz/fuzz-import.c $top/storage/*.c $s/json.c $s/params.c $base" ;;
	preset) echo "$top/tests/fuzz/fuzz-preset.c $s/params.c $s/json.c $base" ;;
	*) die "no target '$1' (targets: $all)" ;;
	esac
}

libs() {
	case $1 in
	import) echo "$(pkg-config --libs sqlite3 2> /dev/null || echo -lsqlite3) -lm" ;;
	tok | chat) echo "$(pkg-config --cflags --libs libpcre2-8 libutf8proc 2> /dev/null ||
		echo -lpcre2-8 -lutf8proc) -lm" ;;
	*) echo "-lm" ;;
	esac
}

# build TARGET: fuzz-TARGET, and seeds-TARGET (the seed mode) where there is one.
build() {
	# shellcheck disable=SC2046
	"$cc" $flags $fuzzflags -o "$dir/fuzz-$1" $(srcs "$1") $(libs "$1") \
		> "$dir/build-$1.log" 2>&1 ||
		{ cat "$dir/build-$1.log" >&2; die "building fuzz-$1 failed"; }
	case $1 in
	gguf) def=-DFUZZ_GGUF_SEEDS extra=$s/gguf-write.c ;;
	chat | import | preset) def=-DFUZZ_SEEDS extra= ;;
	*) return 0 ;;
	esac
	# shellcheck disable=SC2046
	"$cc" $flags $def -o "$dir/seeds-$1" $(srcs "$1") $extra $(libs "$1") \
		>> "$dir/build-$1.log" 2>&1 ||
		{ cat "$dir/build-$1.log" >&2; die "building seeds-$1 failed"; }
}

# jsonl_texts FIELD DIR FILES...: each JSON line's FIELD as a seed file,
# behind one byte that varies (the tok target's selector).
jsonl_texts() {
	field=$1 out=$2
	shift 2
	python3 - "$field" "$out" "$@" << 'EOPY'
import json, sys
field, out, n = sys.argv[1], sys.argv[2], 0
for path in sys.argv[3:]:
    for line in open(path, encoding="utf-8"):
        try:
            v = json.loads(line).get(field)
        except (ValueError, AttributeError):
            continue
        if isinstance(v, str):
            with open("%s/%s-%d" % (out, field, n), "wb") as f:
                f.write(bytes([n % 256]) + v.encode("utf-8", "surrogatepass"))
            n += 1
EOPY
}

# chat_templates DIR FILES...: each GGUF's tokenizer.chat_template, followed
# by the fuzz-chat turn layout, as a seed file.
chat_templates() {
	out=$1
	shift
	python3 - "$out" "$@" << 'EOPY'
import os, struct, sys
SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
def value(f, t):
    if t == 8:
        n, = struct.unpack("<Q", f.read(8))
        return f.read(n)
    if t == 9:
        et, n = struct.unpack("<IQ", f.read(12))
        for _ in range(n):
            value(f, et)
        return None
    f.read(SIZES[t])
out = sys.argv[1]
for path in sys.argv[2:]:
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                continue
            version, _, n_kv = struct.unpack("<IQQ", f.read(20))
            if version < 2:
                continue
            for _ in range(n_kv):
                klen, = struct.unpack("<Q", f.read(8))
                key = f.read(klen)
                t, = struct.unpack("<I", f.read(4))
                v = value(f, t)
                if key == b"tokenizer.chat_template" and v:
                    name = os.path.basename(path)
                    with open("%s/%s.tmpl" % (out, name), "wb") as o:
                        o.write(v + b"\0\1Be kind.\1Hello\1Hi.\1Bye")
                    break
    except (OSError, KeyError, MemoryError, struct.error):
        pass
EOPY
}

# seeds TARGET SEEDDIR
seeds() {
	rm -rf "$2"
	mkdir -p "$2"
	[ -x "$dir/seeds-$1" ] && "$dir/seeds-$1" "$2"
	case $1 in
	gguf)
		# small real files: larger ones only slow the mutations
		for f in "$shared"/models/stories260K.gguf \
			"$shared"/tokenizers/mistral.gguf "$top"/tests/data/*.gguf; do
			[ -f "$f" ] && [ "$(wc -c < "$f")" -le 4000000 ] && cp "$f" "$2/"
		done
		;;
	tok)
		if command -v python3 > /dev/null; then
			jsonl_texts text "$2" "$shared"/tokenizers/*.jsonl 2> /dev/null
			jsonl_texts prompt "$2" "$top"/tests/data/*.jsonl 2> /dev/null
		fi
		printf '\200<s>[INST] hi [/INST]</s><|im_start|>user\n' > "$2/special"
		;;
	chat)
		command -v python3 > /dev/null &&
			chat_templates "$2" "$shared"/tokenizers/*.gguf \
				"$shared"/models/*.gguf "$top"/tests/data/*.gguf
		;;
	esac
	return 0
}

tok_files() {
	list=
	for f in llama2 gpt2 llama3 mistral qwen3 gemma3; do
		[ -f "$shared/tokenizers/$f.gguf" ] && list="$list${list:+:}$shared/tokenizers/$f.gguf"
	done
	echo "$list"
}

if [ "$1" = build ]; then
	for t in $all; do
		build "$t"
	done
	echo "fuzz: targets built in $dir"
	exit 0
fi

secs=$1
shift
case $secs in
'' | *[!0-9]*) die "SECONDS: '$secs' is not a number" ;;
esac
targets=${*:-$all}
n=$(echo $targets | wc -w)
per=$((secs / n))
[ "$per" -ge 1 ] || per=1
FUZZ_TOKENIZERS=$(tok_files)
export FUZZ_TOKENIZERS

# run T: fuzz target T for $per seconds; its report line (and a finding's
# details) go to $dir/result-T, its status to $dir/status-T.
run() {
	seeds "$1" "$dir/seeds-$1.d"
	mkdir -p "$dir/corpus-$1"
	jobs=
	[ -n "${FUZZ_JOBS:-}" ] && jobs="-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS"
	# from FUZZ_DIR: with -jobs, libFuzzer writes fuzz-N.log files there
	# shellcheck disable=SC2086
	(cd "$dir" && "./fuzz-$1" -max_total_time="$per" -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 $jobs -print_final_stats=1 \
		-artifact_prefix="$dir/$1-" "$dir/corpus-$1" "$dir/seeds-$1.d") \
		> "$dir/fuzz-$1.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz-$1.log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz: $1: ${runs:-?} inputs in ${per}s, no finding"
	else
		echo "fuzz: $1: FINDING (libFuzzer exited with $rc; log $dir/fuzz-$1.log)"
		grep -E "ERROR|SUMMARY|runtime error|^ +#[0-9]+ 0x" "$dir/fuzz-$1.log" | head -n 20
		ls "$dir/$1-"* 2> /dev/null
	fi > "$dir/result-$1"
	echo "$rc" > "$dir/status-$1"
}

# Build every target first, then fuzz FUZZ_PARALLEL targets at a time
# (default: one per processor), each for its share of SECONDS; the
# reports come in the order of the targets.
run_list=
for t in $targets; do
	if [ "$t" = tok ] && [ -z "$FUZZ_TOKENIZERS" ]; then
		echo "fuzz: tok: skipped (no tokenizer files in $shared/tokenizers)"
		continue
	fi
	build "$t"
	rm -f "$dir/result-$t" "$dir/status-$t"
	run_list="$run_list $t"
done
par=${FUZZ_PARALLEL:-$(nproc 2> /dev/null || echo 1)}
running=0
for t in $run_list; do
	if [ "$running" -ge "$par" ]; then
		wait
		running=0
	fi
	run "$t" &
	running=$((running + 1))
done
wait
fail=0
for t in $run_list; do
	cat "$dir/result-$t"
	[ "$(cat "$dir/status-$t" 2> /dev/null)" = 0 ] || fail=1
done
exit $fail
