# tools/train, the pocket model's pipeline, on a small slice: corpus.py
# twice on 200 WordNet headwords (byte-identical output, well-formed
# ChatML, a manifest that matches), and export.py writing a tiny random
# model in F16 and Q8_0 with the pilot model's vocabulary, read back by
# export.py itself and described by vkchat info.  Needs /usr/bin/python3
# with numpy, WordNet (wordnet-base) and mandoc; skips otherwise.
. "$TOP_SRCDIR/tests/lib.sh"

PY=/usr/bin/python3
TR=$TOP_SRCDIR/tools/train
if ! [ -x "$PY" ] || ! "$PY" -c 'import numpy' 2>/dev/null; then
	t_skip "train pipeline" "/usr/bin/python3 with numpy not found"
	t_end
	exit $?
fi
if ! [ -r /usr/share/wordnet/index.noun ] || ! command -v mandoc >/dev/null; then
	t_skip "train pipeline" "WordNet (wordnet-base) or mandoc not installed"
	t_end
	exit $?
fi

for n in 1 2; do
	t_run "corpus.py --limit 200 (run $n)" "$PY" "$TR/corpus.py" \
		--config ci --limit 200 --out "$T_TMP/corpus$n" \
		--man "$TOP_SRCDIR/man" --vkchat "$VKCHAT"
done
same=1
for f in manifest.json train.jsonl.gz valid.jsonl.gz; do
	cmp -s "$T_TMP/corpus1/$f" "$T_TMP/corpus2/$f" || same=0
done
if [ "$same" = 1 ]; then
	t_ok "corpus is byte-identical across runs"
else
	t_fail "corpus is byte-identical across runs" "the two runs differ"
fi
t_expect "corpus is well-formed" 0 "well-formed \\(200 headwords\\)" \
	"$PY" "$TR/corpus.py" --out "$T_TMP/corpus1" --verify
t_expect "manifest records wordnet-base" 0 '"wordnet-base": "[^"]+"' \
	cat "$T_TMP/corpus1/manifest.json"
t_expect "corpus has man-page and help conversations" 0 \
	'"help": [1-9].*"man": [1-9]' tr -d '\n' < "$T_TMP/corpus1/manifest.json"

# the pocket config takes the most frequent headwords (WordNet tag counts):
# "be", "have" and "make" are in any slice of 50 (either split), "aardvark"
# in none
t_run "corpus.py --config pocket --limit 50" "$PY" "$TR/corpus.py" \
	--config pocket --limit 50 --out "$T_TMP/freq"
t_expect "frequency-ranked slice has be, have, make" 0 "^3$" \
	sh -c "gzip -dc '$T_TMP/freq/'*.jsonl.gz | grep -c -E '\"id\": \"wn:(be|have|make):0\"'"
t_expect "frequency-ranked slice has no aardvark" 0 "^0$" \
	sh -c "gzip -dc '$T_TMP/freq/'*.jsonl.gz | grep -c 'wn:aardvark:' || true"

# a corrupted corpus is refused
cp -r "$T_TMP/corpus1" "$T_TMP/bad"
printf 'garbage' | gzip -n >> "$T_TMP/bad/valid.jsonl.gz"
t_expect "a changed corpus does not verify" 1 "does not match the manifest" \
	"$PY" "$TR/corpus.py" --out "$T_TMP/bad" --verify

vocab=$TOP_SRCDIR/tests/data/pocket-pilot-f16.gguf
if ! [ -r "$vocab" ]; then
	t_skip "export.py round trip" "tests/data/pocket-pilot-f16.gguf not found"
	t_end
	exit $?
fi
t_run "export.py writes and reads back a random model" "$PY" \
	"$TR/export.py" --random --config ci --vocab-from "$vocab" \
	--work "$T_TMP/export" --prefix ci
for t in f16 q8_0; do
	f=$T_TMP/export/ci-$t.gguf
	t_expect "vkchat info $t: chat format" 0 \
		"chat format +chatml \\(from chat_template" "$VKCHAT" info "$f"
	t_expect "vkchat info $t: eos is <|im_end|>" 0 \
		'^eos +[0-9]+ "<\|im_end\|>"' "$VKCHAT" info "$f"
	t_expect "vkchat info $t: weights" 0 "^weights +$t +8 tensors" \
		"$VKCHAT" info "$f"
	t_expect "vkchat info --json $t" 0 '"architecture": "llama"' \
		"$VKCHAT" info --json "$f"
	t_expect "vkchat info $t: the model's own system prompt" 0 \
		"^system prompt +You are vkchat's pocket dictionary" \
		"$VKCHAT" info "$f"
done
t_expect "vkchat runs the Q8_0 export" 0 "" \
	"$VKCHAT" run -m "$T_TMP/export/ci-q8_0.gguf" -p "The word" -n 4 \
	--temp 0
t_end
