#!/bin/sh
# run.sh: the pocket-model pipeline, every step in order.
#
#   tools/train/run.sh CONFIG [--stage prepare|train|check|all]
#                      [--device cpu|cuda] [--vkchat PATH] [--threads N]
#                      [--steps N] [--time-limit S] [--compile]
#                      [--test-data] [--ship] [--out DIR]
#                      [--resume] [--stop-at S] [--shape NAME] [--work DIR]
#
# CONFIG is a name in tools/train/config.py (pocket, pilot).  Work files
# go to tools/train/out/CONFIG (ignored by git), or to --work DIR (pilots
# of several shapes side by side, each in a copy of the prepared work
# directory).  Stages:
#   prepare  corpus.py into corpus/ (skipped when corpus/manifest.json
#            exists), tokenizer.py into tokenizer.model (skipped when it
#            exists), and with a vkchat binary the check that vkchat
#            tokenizes the held-out text as sentencepiece does.  Needs
#            WordNet and mandoc: run it on Debian, then carry the work
#            directory to the GPU machine.
#   train    train.py (model.pt, loss.csv, train.json), export.py
#            (pocket-CONFIG-{f16,q8_0}.gguf), reference.py
#            (pocket-CONFIG-{f16,q8_0}.reference.jsonl).  Needs torch,
#            numpy, sentencepiece, matplotlib.
#   check    with a vkchat binary: the tokenizer check again and vkchat
#            info on both files (llama, ChatML detected).
#   all      the three in order (the default).
# The loss curve and report go to docs/pocket-loss.png and
# docs/pocket-training.md for "pocket", to the work directory otherwise;
# timings.txt records the seconds of each step.  --test-data copies the
# GGUF files and references to tests/data/ (what the pilot ships);
# --ship (pocket only) installs the Q8_0 file as data/pocket.gguf and its
# references as tests/data/pocket.reference.jsonl (what vkchat ships and
# test-gen.c checks); --out
# DIR copies the results (GGUF, references, model.pt, loss.csv, report,
# curve, timings) to DIR.  --time-limit S lets train.py lower the step
# count to end within S seconds.  PYTHON overrides the interpreter
# (default: /usr/bin/python3 when it has numpy, else python3).
set -eu

usage() {
	sed -n 4,8p "$0" | sed "s/^# *//" >&2
	exit 1
}

[ $# -ge 1 ] || usage
CONFIG=$1
shift
DEVICE=cpu VKCHAT="" THREADS=2 STEPS="" COMPILE="" TESTDATA="" OUT="" SHIP=""
STAGE=all LIMIT="" EXTRA="" WORK=""
while [ $# -gt 0 ]; do
	case $1 in
	--stage) STAGE=$2; shift 2 ;;
	--time-limit) LIMIT="--time-limit $2"; shift 2 ;;
	--device) DEVICE=$2; shift 2 ;;
	--vkchat) VKCHAT=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	--steps) STEPS="--steps $2"; shift 2 ;;
	--compile) COMPILE=--compile; shift ;;
	--resume) EXTRA="$EXTRA --resume"; shift ;;
	--stop-at) EXTRA="$EXTRA --stop-at $2"; shift 2 ;;
	--shape) EXTRA="$EXTRA --shape $2"; shift 2 ;;
	--test-data) TESTDATA=1; shift ;;
	--ship) SHIP=1; shift ;;
	--out) OUT=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	*) echo "run.sh: bad option '$1'" >&2; usage ;;
	esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${WORK:-$HERE/out/$CONFIG}
if [ -z "${PYTHON:-}" ]; then
	if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
		PYTHON=/usr/bin/python3
	else
		PYTHON=python3
	fi
fi
if [ -z "$VKCHAT" ]; then
	for v in "$ROOT/build/vkchat" "$ROOT/vkchat"; do
		if [ -x "$v" ]; then
			VKCHAT=$v
			break
		fi
	done
fi
if [ "$CONFIG" = pocket ]; then
	PNG=$ROOT/docs/pocket-loss.png REPORT=$ROOT/docs/pocket-training.md
else
	PNG=$WORK/$CONFIG-loss.png REPORT=$WORK/$CONFIG-training.md
fi
PREFIX=pocket-$CONFIG
mkdir -p "$WORK"
case $STAGE in
prepare | train | check | all) ;;
*) echo "run.sh: bad stage '$STAGE'" >&2; usage ;;
esac
# a full run or a new preparation starts the record; later stages add
case $STAGE in
all | prepare) : > "$WORK/timings.txt" ;;
*) touch "$WORK/timings.txt" ;;
esac
export OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"

step() {
	name=$1
	shift
	echo "run.sh: $name" >&2
	t0=$(date +%s)
	"$@"
	echo "$name $(($(date +%s) - t0))" >> "$WORK/timings.txt"
}

prepare() {
	if [ -f "$WORK/corpus/manifest.json" ]; then
		echo "run.sh: corpus: using $WORK/corpus" >&2
	else
		step corpus "$PYTHON" "$HERE/corpus.py" --config "$CONFIG" \
			--out "$WORK/corpus" --man "$ROOT/man" \
			${VKCHAT:+--vkchat "$VKCHAT"}
	fi
	if [ -f "$WORK/tokenizer.model" ]; then
		echo "run.sh: tokenizer: using $WORK/tokenizer.model" >&2
	else
		step tokenizer "$PYTHON" "$HERE/tokenizer.py" --config "$CONFIG" \
			--corpus "$WORK/corpus" --work "$WORK"
	fi
	check_tokenizer
}

check_tokenizer() {
	[ -n "$VKCHAT" ] || return 0
	step tokenizer-check "$PYTHON" "$HERE/tokenizer.py" --config "$CONFIG" \
		--corpus "$WORK/corpus" --work "$WORK" --check-only \
		--vkchat "$VKCHAT"
}

train() {
	for f in corpus/manifest.json tokenizer.model; do
		if ! [ -f "$WORK/$f" ]; then
			echo "run.sh: $WORK/$f is missing: run the prepare stage" \
				"(on Debian, with WordNet) first" >&2
			exit 1
		fi
	done
	# shellcheck disable=SC2086
	step train "$PYTHON" "$HERE/train.py" --config "$CONFIG" \
		--corpus "$WORK/corpus" --work "$WORK" --device "$DEVICE" \
		--threads "$THREADS" $STEPS $LIMIT $COMPILE $EXTRA --png "$PNG" \
		--report "$REPORT"
	# a pilot (--stop-at) ends with a checkpoint, not a model
	[ -f "$WORK/model.pt" ] && [ "$WORK/model.pt" -nt "$WORK/checkpoint.pt" ] ||
		{ [ -f "$WORK/checkpoint.pt" ] && echo "run.sh: checkpoint saved; --resume continues" >&2 && exit 0; }
	step export "$PYTHON" "$HERE/export.py" --config "$CONFIG" \
		--work "$WORK" --prefix "$PREFIX"
	for t in f16 q8_0; do
		step "reference-$t" "$PYTHON" "$HERE/reference.py" \
			--gguf "$WORK/$PREFIX-$t.gguf" --work "$WORK" \
			--threads "$THREADS" \
			--out "$WORK/$PREFIX-$t.reference.jsonl"
	done
}

check() {
	if [ -z "$VKCHAT" ]; then
		echo "run.sh: check: no vkchat binary (--vkchat PATH)" >&2
		exit 1
	fi
	check_tokenizer
	for t in f16 q8_0; do
		"$VKCHAT" info "$WORK/$PREFIX-$t.gguf" > "$WORK/$PREFIX-$t.info"
		if ! grep -q '^chat format *chatml' "$WORK/$PREFIX-$t.info"; then
			echo "run.sh: vkchat info does not see ChatML in" \
				"$PREFIX-$t.gguf" >&2
			exit 1
		fi
	done
	echo "run.sh: vkchat info: $(grep '^chat format' \
		"$WORK/$PREFIX-f16.info")" >&2
}

case $STAGE in
prepare) prepare ;;
train) train ;;
check) check ;;
all)
	prepare
	train
	[ -z "$VKCHAT" ] || check
	;;
esac
if [ -n "$TESTDATA" ] && [ "$STAGE" != prepare ]; then
	for t in f16 q8_0; do
		cp "$WORK/$PREFIX-$t.gguf" "$WORK/$PREFIX-$t.reference.jsonl" \
			"$ROOT/tests/data/"
	done
	echo "run.sh: copied the $CONFIG files to tests/data" >&2
fi
if [ -n "$SHIP" ] && [ "$STAGE" != prepare ]; then
	if [ "$CONFIG" != pocket ]; then
		echo "run.sh: --ship is for the pocket config" >&2
		exit 1
	fi
	mkdir -p "$ROOT/data"
	cp "$WORK/$PREFIX-q8_0.gguf" "$ROOT/data/pocket.gguf"
	cp "$WORK/$PREFIX-q8_0.reference.jsonl" \
		"$ROOT/tests/data/pocket.reference.jsonl"
	echo "run.sh: shipped $PREFIX-q8_0.gguf as data/pocket.gguf" >&2
fi
if [ -n "$OUT" ] && [ "$STAGE" != prepare ]; then
	mkdir -p "$OUT"
	cp "$WORK"/*.gguf "$WORK"/*.reference.jsonl "$WORK/loss.csv" \
		"$WORK/train.json" "$WORK/timings.txt" "$WORK/tokenizer.json" \
		"$WORK/model.pt" "$PNG" "$REPORT" "$OUT/" 2>/dev/null || true
fi
echo "run.sh: done; timings (s):" >&2
sed 's/^/  /' "$WORK/timings.txt" >&2
ls -l "$WORK"/*.gguf >&2 2>/dev/null || true
