# vkchat run --probs N: the sampler's stage record of every token on
# stderr, stdout the generated text unchanged.  The numbers are checked
# for consistency: each stage's probabilities sum to 1 where it lists all
# it keeps, top_k's cut shows as its count and as "-" below it, and the
# drawn tokens put together are the text on stdout.
. "$TOP_SRCDIR/tests/lib.sh"

M="$TOP_SRCDIR/data/pocket.gguf"
[ -r "$M" ] || M="$TOP_SRCDIR/tests/data/pocket-pilot-f16.gguf"
P="Once upon a time"

t_expect "run --probs 0 is refused, naming the range" 1 \
	"run: --probs: '0' is not a candidate count \(1-16\)" \
	"$VKCHAT" run -m "$M" -p hi --probs 0
t_expect "run --probs 17 is refused" 1 "\(1-16\)" \
	"$VKCHAT" run -m "$M" -p hi --probs 17
t_expect "run --help lists --probs" 0 "--probs N" "$VKCHAT" run --help

# stdout is the same text with and without --probs.
"$VKCHAT" run -m "$M" -p "$P" --temp 0.8 --seed 11 -n 8 \
	> "$T_TMP/plain.out" 2> /dev/null
"$VKCHAT" run -m "$M" -p "$P" --temp 0.8 --seed 11 -n 8 --probs 5 \
	--top-k 3 > "$T_TMP/probs.out" 2> "$T_TMP/probs.err"
"$VKCHAT" run -m "$M" -p "$P" --temp 0.8 --seed 11 -n 8 --top-k 3 \
	> "$T_TMP/k3.out" 2> /dev/null
if cmp -s "$T_TMP/probs.out" "$T_TMP/k3.out" && [ -s "$T_TMP/k3.out" ]; then
	t_ok "--probs leaves stdout as it is"
else
	t_fail "--probs leaves stdout as it is" "$(head -c 200 "$T_TMP/probs.out")"
fi
steps=$(grep -c '^step ' "$T_TMP/probs.err")
if [ "$steps" -eq 8 ]; then
	t_ok "one table per token"
else
	t_fail "one table per token" "$steps tables for 8 tokens"
	sed 's/^/#   /' "$T_TMP/probs.err" | head -n 20
fi

# The checks, per table: columns after "id" are stages.  Prints one line
# per problem.
cat > "$T_TMP/check.awk" <<'AWK'
function flush(   k, s) {
	if (!in_table)
		return
	for (k = 1; k <= ns; k++) {
		if (left[k] <= nrows && (sum[k] < 0.999 || sum[k] > 1.001))
			print "step " step ": stage " name[k] " sums to " sum[k]
		if (name[k] == "top_k" && left[k] != 3)
			print "step " step ": top_k left " left[k]
		if (name[k] == "top_k" && dash[k] != nrows - 3)
			print "step " step ": top_k shows " dash[k] " cut, want " nrows - 3
	}
	if (drawn_p == "" || drawn_last == "" || drawn_p + 0 != drawn_last + 0)
		print "step " step ": drawn p " drawn_p " but last column " drawn_last
	in_table = 0
}
/^step / {
	flush()
	step = $2; sub(":", "", step)
	drawn_p = $0; sub(/.* drawn with p /, "", drawn_p); sub(/ .*/, "", drawn_p)
	in_table = 1; ns = 0; nrows = 0; drawn_last = ""
	for (k in sum) { sum[k] = 0; dash[k] = 0 }
	next
}
/^  token / {
	ns = NF - 2
	for (k = 1; k <= ns; k++) name[k] = $(k + 2)
	next
}
/^  left / {
	for (k = 1; k <= ns; k++) left[k] = $(k + 1)
	next
}
in_table {
	nrows++
	for (k = 1; k <= ns; k++) {
		v = $(NF - ns + k)
		if (v == "-") dash[k]++
		else if (v != ".") sum[k] += v
	}
	if (substr($0, 1, 1) == ">") drawn_last = $NF
}
END { flush() }
AWK
bad=$(awk -f "$T_TMP/check.awk" "$T_TMP/probs.err")
if [ -z "$bad" ] && [ "$steps" -gt 0 ]; then
	t_ok "stages sum to 1, top_k's cut is visible, the drawn p is the last column's"
else
	t_fail "the tables are consistent" "$(echo "$bad" | head -n 3)"
	sed 's/^/#   /' "$T_TMP/probs.err" | head -n 12
fi

# The drawn tokens, put together, are the text on stdout.
sed -n 's/^step [0-9]*: "\(.*\)" (id [0-9]*) drawn.*/\1/p' "$T_TMP/probs.err" |
	tr -d '\n' > "$T_TMP/drawn.txt"
if cmp -s "$T_TMP/drawn.txt" "$T_TMP/probs.out"; then
	t_ok "the drawn tokens are the generated text"
else
	t_fail "the drawn tokens are the generated text" \
		"'$(cat "$T_TMP/drawn.txt")' vs '$(cat "$T_TMP/probs.out")'"
fi

# Greedy: the drawn token is the model's most probable, with p 1.
"$VKCHAT" run -m "$M" -p "$P" --temp 0 -n 3 --probs 3 \
	> "$T_TMP/g.out" 2> "$T_TMP/g.err"
if awk '/^  token /{ getline; if ($1 != ">" || $NF != "1.0000") bad = 1; n++ }
	/^  token / && $NF != "greedy" { bad = 1 }
	END { exit bad || n != 3 }' "$T_TMP/g.err"; then
	t_ok "--temp 0: the model's best token, drawn with p 1"
else
	t_fail "--temp 0: the model's best token, drawn with p 1" "see below"
	sed 's/^/#   /' "$T_TMP/g.err" | head -n 12
fi

# min_p cuts by the best token's probability: a candidate listed in the
# stage before it with at least min_p times the best one's probability
# there survives min_p, one below it is shown cut.
"$VKCHAT" run -m "$M" -p "$P" --temp 1 --seed 3 -n 6 --probs 8 --min-p 0.2 \
	--top-p 1 --top-k 0 > /dev/null 2> "$T_TMP/m.err"
bad=$(awk '
function flush(   r, best) {
	if (!c)
		return
	best = 0
	for (r = 1; r <= n; r++)
		if (prev[r] != "." && prev[r] != "-" && prev[r] + 0 > best)
			best = prev[r] + 0
	for (r = 1; r <= n; r++) {
		if (prev[r] == "." || prev[r] == "-")
			continue
		keep = prev[r] + 0 >= 0.2 * best
		if (keep && (cur[r] == "-" || cur[r] == "."))
			print "step " step ": " prev[r] " of " best " was cut"
		if (!keep && cur[r] != "-")
			print "step " step ": " prev[r] " of " best " kept"
	}
	checked++
	c = 0
}
/^step / { flush(); step = $2; sub(":", "", step); n = 0; next }
/^  token / {
	ns = NF - 2
	for (k = 1; k <= ns; k++) if ($(k + 2) == "min_p") c = k
	next
}
/^  left / { next }
c { n++; prev[n] = $(NF - ns + c - 1); cur[n] = $(NF - ns + c) }
END { flush(); if (checked == 0) print "no table with min_p" }
' "$T_TMP/m.err")
if [ -z "$bad" ]; then
	t_ok "--min-p 0.2 keeps exactly the candidates at 0.2 of the best"
else
	t_fail "--min-p 0.2 keeps exactly the candidates at 0.2 of the best" \
		"$(echo "$bad" | head -n 3)"
	sed 's/^/#   /' "$T_TMP/m.err" | head -n 12
fi
# --json with --probs: each token's record carries its step's stages, and
# the record's drawn token is the token the record is about.
"$VKCHAT" run -m "$M" -p "$P" -n 6 --top-k 5 --seed 3 \
	--json --probs 4 > "$T_TMP/j.out" 2> "$T_TMP/j.err"
bad=$(awk '
/"done":true/ {
	done = 1
	match($0, /"completion_tokens":[0-9]+/)
	want = substr($0, RSTART + 20, RLENGTH - 20)
	next
}
{
	n++
	if (!match($0, /^\{"id":[0-9]+/)) { print "no id: " $0; next }
	id = substr($0, 7, RLENGTH - 6)
	if (index($0, "\"probs\":{\"token\":" id ",") == 0)
		print "token " id " without its stage record"
	if (index($0, "\"stage\":\"top_k\",\"left\":5") == 0)
		print "token " id ": top_k did not leave 5"
}
END { if (n == 0 || n != want || !done) print n " token records for " want " tokens" }
' "$T_TMP/j.out")
if [ -z "$bad" ]; then
	t_ok "--json --probs: every token record holds its stages"
else
	t_fail "--json --probs: every token record holds its stages" \
		"$(echo "$bad" | head -n 3)"
fi
t_end
