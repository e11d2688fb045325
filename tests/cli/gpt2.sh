# GPT-2 end to end on the shared gpt2-tiny-random.q8_0.gguf (llama.cpp's
# layout, random weights, the real vocabulary): vkchat info shows the
# architecture's particulars, run --temp 0 is the greedy continuation
# (the same as compare's temperature-0 column), --ctx beyond the learned
# positions is refused, run --json gives the token ids and pieces,
# compare sweeps the temperature, the plain chat
# format is detected and the line chat and the chat screen answer.  The
# chat screen runs in a pane of a private tmux server, every wait a
# bounded poll.  (info on refused and gemma3 files: tests/cli/info.sh.)
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/tmux.sh"
tmux_setup "gpt2" gpt2
T_DB="$T_TMP/vkchat.db"

have_python=1
command -v python3 > /dev/null 2>&1 || have_python=0

if ! M=$(t_shared models/gpt2-tiny-random.q8_0.gguf); then
	t_skip "gpt2" "shared models/gpt2-tiny-random.q8_0.gguf not found"
	t_end
	exit
fi

t_expect "info: the engine runs it" 0 "^engine +runs it \(gpt2\)$" \
	"$VKCHAT" info "$M"
t_expect "info: LayerNorm" 0 "^norm +LayerNorm with bias$" "$VKCHAT" info "$M"
t_expect "info: learned positions, the longest --ctx" 0 \
	"^trained ctx +1024 positions \(the longest --ctx\)$" "$VKCHAT" info "$M"
t_expect "info: no chat template, plain" 0 "^chat format +plain " \
	"$VKCHAT" info "$M"
t_expect "info --json: max_ctx" 0 '"max_ctx": 1024' \
	"$VKCHAT" info --json "$M"

# Greedy: twice the same, and the same as compare's temperature-0 column.
t_run "run --temp 0" "$VKCHAT" run -m "$M" -p Hello --temp 0 -n 16
cp "$T_OUT" "$T_TMP/greedy1.txt"
"$VKCHAT" run -m "$M" -p Hello --temp 0 -n 16 > "$T_TMP/greedy2.txt" 2>&1
if [ -s "$T_TMP/greedy1.txt" ] && cmp -s "$T_TMP/greedy1.txt" "$T_TMP/greedy2.txt"; then
	t_ok "run --temp 0: the same continuation twice"
else
	t_fail "run --temp 0: the same continuation twice"
fi
t_expect "run: an empty prompt starts from <|endoftext|>" 0 "" \
	"$VKCHAT" run -m "$M" -p "" --temp 0 -n 4
t_expect "run: --ctx beyond the learned positions is refused" 1 \
	"context of 2048 tokens is longer than the 1024 positions gpt2 models learn \(use --ctx 1024 or less\)" \
	"$VKCHAT" run -m "$M" -p Hello --ctx 2048
t_run "compare --sweep temp=0,0.8,1.5" "$VKCHAT" compare -m "$M" -p Hello \
	--sweep temp=0,0.8,1.5 -n 16 --seed 3 --json
if [ "$have_python" = 1 ]; then
	if python3 -c "import json,sys
d = json.load(open(sys.argv[1]))
c = d['columns']
g = open(sys.argv[2], encoding='utf-8', errors='replace').read()
sys.exit(0 if len(c) == 3 and d['chat_format'] is None and
    all(x['tokens'] == 16 and x['finish'] == 'length' for x in c) and
    c[0]['text'] == g else 1)" "$T_OUT" "$T_TMP/greedy1.txt"; then
		t_ok "compare: three columns, temperature 0 is run's greedy text"
	else
		t_fail "compare: three columns, temperature 0 is run's greedy text"
		head -c 600 "$T_OUT" | sed 's/^/#   /'
	fi
else
	t_skip "compare: columns" "python3 not installed"
fi
# run --json: one record per token, then the text and the stats; the
# pieces put together are the plain output; a byte that is not UTF-8 on
# its own (GPT-2's token 158 is the byte 0xe2) comes as hex.
t_run "run --json" "$VKCHAT" run -m "$M" -p Hello --temp 0 -n 16 --json
if [ "$have_python" = 1 ]; then
	if python3 -c "import json,sys
r = [json.loads(l) for l in open(sys.argv[1])]
g = open(sys.argv[2], encoding='utf-8', errors='replace').read()
toks, end = r[:-1], r[-1]
sys.exit(0 if len(toks) == 16 and end['done'] and
    end['completion_tokens'] == 16 and end['finish'] == 'length' and
    end['text'] == g and ''.join(t['piece'] for t in toks) == g and
    all(isinstance(t['id'], int) for t in toks) else 1)" "$T_OUT" \
		"$T_TMP/greedy1.txt"; then
		t_ok "run --json: 16 token records and the final one match the text"
	else
		t_fail "run --json: 16 token records and the final one match the text"
		head -c 600 "$T_OUT" | sed 's/^/#   /'
	fi
else
	t_skip "run --json: records" "python3 not installed"
fi
t_expect "run --json: a piece that is not UTF-8 is hex" 0 \
	'^\{"id":158,"piece_hex":"e2"\}$' \
	"$VKCHAT" run -m "$M" -p Hello --temp 0 -n 2 --json --logit-bias 158:100
t_expect "run --json --echo: refused" 1 "--echo and --json exclude each other" \
	"$VKCHAT" run -m "$M" -p Hello --json --echo
t_expect "chat --plain: answers in the plain format" 0 \
	"context: [0-9]+ of 1024 tokens used" sh -c \
	"printf 'Hello\\nAnd then\\n' | '$VKCHAT' chat --plain -m '$M' --no-save -n 8 -v 2>&1"

# The chat screen on the GPT-2 file.
tm -f /dev/null new-session -d -s tui -x 100 -y 30 \
	"env -i PATH='$PATH' HOME='$HOME_T' TERM=\"\$TERM\" LANG='$LOC' \
	VKCHAT_DB='$T_DB' INPUTRC=/dev/null HISTFILE=/dev/null PS1='$ ' sh"
if ! wait_for '\$' 50; then
	t_fail "tmux pane starts" "no shell prompt"
	t_end
	exit
fi
shell "clear; '$V' -m '$M'"
check "chat screen: the model loads with its 1024 positions" " ctx [0-9]+/1024 " 600
keys '/set max_tokens=8' Enter 'Hello' Enter
check "chat screen: the answer streams and ends" "\[length limit\] · 8 tokens · .*tok/s" 600
wait_for "^> *$" 100
keys C-d
wait_for '^\$ *$' 100
shell "clear; echo EXIT=\$?"
check "chat screen: quits with status 0" "EXIT=0"
t_end
