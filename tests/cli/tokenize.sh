# vkchat tokenize: usage errors, bad models, and (with the shared
# tokenizer files) ids, pieces, JSON, BOS and special-token options, and a
# --bench run over about 1 MB of English text (not timed).
. "$TOP_SRCDIR/tests/lib.sh"

t_expect "tokenize --help" 0 "usage: vkchat tokenize" "$VKCHAT" tokenize --help
t_expect "help tokenize" 0 "usage: vkchat tokenize" "$VKCHAT" help tokenize
t_expect "no model is a usage error" 1 "no model" "$VKCHAT" tokenize -p hi
t_expect "unknown option" 1 "bad option" "$VKCHAT" tokenize --frobnicate
t_expect "bad --bench count" 1 "--bench" "$VKCHAT" tokenize -m x.gguf --bench 0
t_expect "missing model file is a bad model (2), as in run and info" 2 "cannot open" \
	"$VKCHAT" tokenize -m "$T_TMP/none.gguf" -p hi
printf 'this is not a model\n' > "$T_TMP/bad.gguf"
t_expect "a file that is not GGUF: status 2" 2 "bad.gguf" \
	"$VKCHAT" tokenize -m "$T_TMP/bad.gguf" -p hi

if ! llama3=$(t_shared tokenizers/llama3.gguf) ||
	! llama2=$(t_shared tokenizers/llama2.gguf); then
	t_skip "tokenize with real vocabularies" "shared tokenizer data not found"
	t_end
	exit $?
fi

t_expect "ids with the model's BOS" 0 "^128000 9906 1917$" \
	"$VKCHAT" tokenize -m "$llama3" -p "Hello world"
t_expect "--no-bos" 0 "^9906 1917$" \
	"$VKCHAT" tokenize -m "$llama3" --no-bos -p "Hello world"
t_expect "--bos on a model without add_bos" 0 "^50256 15496$" \
	"$VKCHAT" tokenize -m "$(t_shared tokenizers/gpt2.gguf)" --bos -p "Hello"
t_expect "special text stays text" 0 "^27 91 68 354 851 91 29$" \
	"$VKCHAT" tokenize -m "$llama3" --no-bos -p "<|eot_id|>"
t_expect "--special" 0 "^128009$" \
	"$VKCHAT" tokenize -m "$llama3" --no-bos --special -p "<|eot_id|>"
t_expect "--pieces" 0 "^1917	\" world\"$" \
	"$VKCHAT" tokenize -m "$llama3" --pieces -p "Hello world"
t_expect "--pieces escapes" 0 "^198	\"\\\\n\"$" \
	"$VKCHAT" tokenize -m "$llama3" --pieces -p "a
b"
t_expect "--json" 0 '"ids":\[128000,9906,1917\],"pieces":\["<\|begin_of_text\|>","Hello"," world"\]' \
	"$VKCHAT" tokenize -m "$llama3" --json -p "Hello world"
t_expect "SentencePiece with BOS" 0 "^1 15043 3186$" \
	"$VKCHAT" tokenize -m "$llama2" -p "Hello world"
printf 'Hello world' > "$T_TMP/in.txt"
t_expect "text from standard input" 0 "^1 15043 3186$" \
	sh -c '"$1" tokenize -m "$2" < "$3"' sh "$VKCHAT" "$llama2" "$T_TMP/in.txt"
t_expect "text from -f" 0 "^1 15043 3186$" \
	"$VKCHAT" tokenize -m "$llama2" -f "$T_TMP/in.txt"

# About 1 MB of English: the licenses on the system, or the corpus.
src=$(ls /usr/share/common-licenses/* 2>/dev/null | head -n 8)
[ -n "$src" ] || src=$(t_shared tokenizers/corpus.jsonl)
: > "$T_TMP/big.txt"
while [ "$(wc -c < "$T_TMP/big.txt")" -lt 1000000 ]; do
	cat $src >> "$T_TMP/big.txt"
done
t_expect "--bench" 0 "1 runs of [0-9]+ bytes .* MB/s, [0-9]+ tokens/s" \
	"$VKCHAT" tokenize -m "$llama3" -f "$T_TMP/big.txt" --bench 1
t_end
