# vkchat compare: option and column errors (no model needed), then with
# the shared stories260K model: every column of a batched compare prints
# the same text as `vkchat run` with that column's settings and seed
# (greedy and sampled, presets and sweeps), --same-seed, presets from the
# database, the side-by-side and stacked tables, untrusted text kept
# away from the terminal, and --save then `sessions show`.
. "$TOP_SRCDIR/tests/lib.sh"

V=$VKCHAT
X="$T_TMP/none.gguf"
t_expect "compare: --help" 0 "usage: vkchat compare" "$V" compare --help
t_expect "compare: no model is a usage error" 1 "no model" \
	"$V" compare -p hi --sweep temp=0,1
t_expect "compare: a bad option is a usage error" 1 "bad option" \
	"$V" compare -m "$X" --bogus
t_expect "compare: --sweep needs KEY=VALUES" 1 "--sweep 'temp' is not KEY=VALUE" \
	"$V" compare -m "$X" -p hi --sweep temp
t_expect "compare: --sweep with an unknown key" 1 \
	"unknown parameter 'tmp'" "$V" compare -m "$X" -p hi --sweep tmp=0,1
t_expect "compare: --sweep with a bad value names it" 1 \
	"--sweep temperature, value 2: .*temperature.*abc" \
	"$V" compare -m "$X" -p hi --sweep temp=0.2,abc
t_expect "compare: --sweep with an empty value" 1 "--sweep top_k, value 2" \
	"$V" compare -m "$X" -p hi --sweep top_k=1,,3
t_expect "compare: a key swept twice" 1 "'temperature' is swept twice" \
	"$V" compare -m "$X" -p hi --sweep temp=0,1 --sweep temperature=2,3
t_expect "compare: more than 8 columns" 1 "more than 8 columns" \
	"$V" compare -m "$X" -p hi --sweep temp=0,1,2 --sweep top_k=1,2,3
t_expect "compare: 9 presets are too many" 1 "more than 8 columns" \
	"$V" compare -m "$X" -p hi --preset default --preset default \
	--preset default --preset default --preset default --preset default \
	--preset default --preset default --preset default
t_expect "compare: one column is too few" 1 "1 column .*give 2 to 8" \
	"$V" compare -m "$X" -p hi --preset precise
t_expect "compare: no columns at all is too few" 1 "1 column" \
	"$V" compare -m "$X" -p hi
t_expect "compare: --same-seed and a seed sweep" 1 "exclude each other" \
	"$V" compare -m "$X" -p hi --same-seed --sweep seed=1,2
t_expect "compare: one chat prompt for all columns" 1 \
	"system prompts differ \(column 1 and 2\)" \
	"$V" compare -m "$X" -p hi --chat --sweep system=a,b
t_expect "compare: an unknown preset" 1 "no preset 'nosuch'" \
	"$V" compare -m "$X" -p hi --preset default --preset nosuch
t_expect "compare: a bad --set" 1 "top_p" \
	"$V" compare -m "$X" -p hi --sweep temp=0,1 --set top_p=7
t_expect "compare: a missing model file is a bad model (2)" 2 "none.gguf" \
	"$V" compare -m "$X" -p hi --sweep temp=0,1

if ! model=$(t_shared models/stories260K.gguf); then
	t_skip "compare: stories260K" "shared models not found"
	t_end
	exit
fi
if ! "$V" devices > /dev/null 2>&1; then
	t_skip "compare: stories260K" "no Vulkan device"
	t_end
	exit
fi
if ! command -v python3 > /dev/null 2>&1; then
	t_skip "compare: JSON checks" "python3 not installed"
	t_end
	exit
fi

# py FILE EXPR: evaluate a Python expression over the JSON in FILE (d).
py() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$1"
}

# same_as_run NAME JSON COL RUN-ARGS...: column COL's text equals what
# `vkchat run` prints with RUN-ARGS.
same_as_run() {
	name=$1 json=$2 col=$3
	shift 3
	"$V" run -m "$model" "$@" > "$T_TMP/run.out" 2> "$T_TMP/run.err"
	py "$json" "sys.stdout.write(d['columns'][$col]['text'])" \
		> "$T_TMP/col.out"
	if [ -s "$T_TMP/col.out" ] && cmp -s "$T_TMP/col.out" "$T_TMP/run.out"; then
		t_ok "$name"
	else
		t_fail "$name" "compare: $(head -c 200 "$T_TMP/col.out") | run: $(head -c 200 "$T_TMP/run.out") $(head -c 200 "$T_TMP/run.err")"
	fi
}

# Greedy and sampled columns in one batch, one seed for all.
P="Once upon a time"
if "$V" compare -m "$model" -p "$P" -n 40 --sweep temp=0,0.8,1.2 \
	--same-seed --seed 7 --json > "$T_TMP/sweep.json" 2> "$T_TMP/err"; then
	t_ok "compare: a three-value sweep"
else
	t_fail "compare: a three-value sweep" "$(head -n 3 "$T_TMP/err")"
fi
same_as_run "compare: greedy column = run" "$T_TMP/sweep.json" 0 \
	-p "$P" -n 40 --temp 0 --seed 7
same_as_run "compare: sampled column = run (temp 0.8)" "$T_TMP/sweep.json" 1 \
	-p "$P" -n 40 --temp 0.8 --seed 7
same_as_run "compare: sampled column = run (temp 1.2)" "$T_TMP/sweep.json" 2 \
	-p "$P" -n 40 --temp 1.2 --seed 7
t_expect "compare: the sweep's headers name only the swept key" 0 \
	"^temperature=0 temperature=0.8 temperature=1.2 7 7 7 length 40$" \
	py "$T_TMP/sweep.json" "c=d['columns']; print(*[x['differs'] for x in c], *[x['seed'] for x in c], c[2]['finish'], c[2]['tokens'])"

# Presets, each column drawing its own seed: run reproduces each.
if "$V" compare -m "$model" -p "" -n 30 --preset precise --preset creative \
	--json > "$T_TMP/pre.json" 2> "$T_TMP/err"; then
	t_ok "compare: two presets"
else
	t_fail "compare: two presets" "$(head -n 3 "$T_TMP/err")"
fi
for i in 0 1; do
	name=$(py "$T_TMP/pre.json" "print(d['columns'][$i]['preset'])")
	seed=$(py "$T_TMP/pre.json" "print(d['columns'][$i]['seed'])")
	same_as_run "compare: preset $name column = run --preset $name" \
		"$T_TMP/pre.json" "$i" -p "" -n 30 --preset "$name" --seed "$seed"
done
t_expect "compare: columns without --same-seed draw their own seeds" 0 \
	"^differ$" py "$T_TMP/pre.json" \
	"c=d['columns']; print('differ' if c[0]['seed'] != c[1]['seed'] and c[0]['seed'] != '0' else 'same')"

# --same-seed with no --seed: one seed, drawn once.
"$V" compare -m "$model" -p "$P" -n 4 --preset default --preset creative \
	--preset precise --same-seed --json > "$T_TMP/same.json" 2>&1
t_expect "compare: --same-seed gives every column one seed" 0 "^1 3$" \
	py "$T_TMP/same.json" \
	"s=[c['seed'] for c in d['columns']]; print(len(set(s)), len(s))"

# A preset saved in the database, next to a built-in.
"$V" presets add cool temperature=0.3 top_k=7 > /dev/null 2>&1
"$V" compare -m "$model" -p "$P" -n 8 --preset cool --preset default \
	--json > "$T_TMP/db.json" 2>&1
t_expect "compare: a saved preset makes a column" 0 \
	"^cool temperature=0.3 top_k=7 default temperature=0.8 top_k=40$" \
	py "$T_TMP/db.json" \
	"print(*[c['preset'] + ' ' + c['differs'] for c in d['columns']])"

# The table: headers, rules, statistics, within the width.
t_expect "compare: side-by-side table" 0 \
	"^1: default +\| 2: default +\| 3: default$" \
	"$V" compare -m "$model" -p "$P" -n 30 --sweep top_k=1,2,3 --temp 0 -w 80
if [ -z "$(awk 'length > 80' "$T_OUT")" ] &&
	grep -q "^top_k=1 .*| top_k=2 .*| top_k=3$" "$T_OUT" &&
	grep -q "^-*-+-.*-+-" "$T_OUT" &&
	grep -q "^30 tokens, length  *| 30 tokens, length  *| 30 tokens, length$" "$T_OUT" &&
	grep -q "^[0-9.]* tok/s  *| [0-9.]* tok/s" "$T_OUT"; then
	t_ok "compare: the table fits 80 columns, headed by what differs"
else
	t_fail "compare: the table fits 80 columns, headed by what differs" \
		"$(head -n 12 "$T_OUT")"
fi
t_expect "compare: narrow columns are stacked" 0 "^2: default$" \
	"$V" compare -m "$model" -p "$P" -n 10 --sweep top_k=1,2,3,4 --temp 0 -w 40
if [ -z "$(awk 'length > 40' "$T_OUT")" ] &&
	[ "$(grep -c '^[1-4]: default$' "$T_OUT")" -eq 4 ]; then
	t_ok "compare: stacked columns fit 40 columns"
else
	t_fail "compare: stacked columns fit 40 columns" "$(head -n 12 "$T_OUT")"
fi

# Token 30 is ESC in this vocabulary: the table shows it inert, JSON
# escapes it.
t_expect "compare: control characters never reach the terminal" 0 \
	"$(printf '\342\220\233')" "$V" compare -m "$model" -p Hi -n 3 --temp 0 \
	--logit-bias 30:100 --sweep top_k=1,2
if grep -q "$(printf '\033')" "$T_OUT"; then
	t_fail "compare: no ESC byte in the table" "$(od -c "$T_OUT" | head -n 3)"
else
	t_ok "compare: no ESC byte in the table"
fi
t_expect "compare: JSON carries the exact text" 0 '"text": "\\u001b\\u001b\\u001b"' \
	"$V" compare -m "$model" -p Hi -n 3 --temp 0 --logit-bias 30:100 \
	--sweep top_k=1,2 --json

# -v: progress and each column's sampler on stderr, the table on stdout.
"$V" compare -m "$model" -p "$P" -n 10 --sweep temp=0,1 -v \
	> "$T_TMP/v.out" 2> "$T_TMP/v.err"
if grep -q "column 2: 10 tokens, .*temperature 1" "$T_TMP/v.err" &&
	grep -q "tok/s aggregate" "$T_TMP/v.err" &&
	! grep -q "aggregate" "$T_TMP/v.out"; then
	t_ok "compare: -v reports on stderr"
else
	t_fail "compare: -v reports on stderr" "$(cat "$T_TMP/v.err" | head -n 8)"
fi

# --save: a new session holding the compare run, shown again.
t_expect "compare: --save" 0 "saved as session [0-9]+" \
	"$V" compare -m "$model" -p "Tell a story" -n 12 --sweep temp=0,0.9 \
	--seed 3 --save
sid=$(sed -n 's/.*saved as session \([0-9]*\).*/\1/p' "$T_OUT")
t_expect "compare: the saved run is in sessions list" 0 \
	"\(1 compare\) Tell a story" env COLUMNS=200 "$V" sessions list
t_expect "compare: sessions show shows the columns" 0 \
	"^settings: temperature=0.9$" "$V" sessions show "$sid"
if grep -q "^--- column 1: default ---$" "$T_OUT" &&
	grep -q "^--- column 2: default ---$" "$T_OUT" &&
	grep -q "seed 3 | [0-9]* prompt tokens | 12 generated .* | length\]" "$T_OUT"; then
	t_ok "compare: sessions show has every column's output and stats"
else
	t_fail "compare: sessions show has every column's output and stats" \
		"$(head -n 20 "$T_OUT")"
fi
"$V" compare -m "$model" -p "Tell a story" -n 12 --sweep temp=0,0.9 \
	--seed 3 --json > "$T_TMP/again.json" 2>&1
py "$T_TMP/again.json" "sys.stdout.write(d['columns'][1]['text'])" \
	> "$T_TMP/again.txt"
if [ -s "$T_TMP/again.txt" ] && grep -qF "$(head -n 1 "$T_TMP/again.txt")" "$T_OUT"; then
	t_ok "compare: the saved output is the generated one"
else
	t_fail "compare: the saved output is the generated one" \
		"$(cat "$T_TMP/again.txt") not in sessions show"
fi
# The prompt is the session's first message, as the chat stores a compare
# run, so the session goes on from it: run --session answers the prompt
# that the compare run left without a winner and continues.
"$V" sessions export "$sid" --format json > "$T_TMP/saved.json" 2>&1
py "$T_TMP/saved.json" \
	"m=d['messages']; print(len(m), m[0]['role'], m[0]['content'])" \
	> "$T_TMP/saved.txt" 2>&1
if [ "$(cat "$T_TMP/saved.txt")" = "1 user Tell a story" ]; then
	t_ok "compare: --save stores the prompt as the session's message"
else
	t_fail "compare: --save stores the prompt as the session's message" \
		"$(head -c 300 "$T_TMP/saved.txt")"
fi
t_expect "compare: a --save session continues with run --session" 0 "" \
	"$V" run -m "$model" --session "$sid" -p "Go on" -n 4 --temp 0
t_end
