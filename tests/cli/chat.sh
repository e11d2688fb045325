# vkchat chat --plain and the conversation options of vkchat run: chat
# formats (forced: the shared stories260K is a base model, so these check
# structure and statistics, not meaning), KV-cache reuse across turns,
# /regen, /set, /preset, --ctx-shift, saving sessions (chat, run --save)
# and user presets from the database.
. "$TOP_SRCDIR/tests/lib.sh"

t_expect "chat: no model is a usage error" 1 "no model" \
	"$VKCHAT" chat --plain < /dev/null
t_expect "chat: a bad option is a usage error" 1 "bad option" \
	"$VKCHAT" chat -m x.gguf --bogus < /dev/null
t_expect "chat: --help" 0 "usage: vkchat chat.*--plain" \
	"$VKCHAT" chat --help
t_expect "chat: a missing file is a bad model (2)" 2 "nonexistent" \
	"$VKCHAT" chat -m "$T_TMP/nonexistent.gguf" < /dev/null
t_expect "chat: an unknown format lists the valid names" 1 \
	"unknown chat format 'nosuch'.*chatml, llama2, llama3" \
	"$VKCHAT" chat -m "$T_TMP/nonexistent.gguf" --chat-format nosuch \
	< /dev/null
t_expect "run: an unknown format lists the valid names" 1 \
	"unknown chat format 'nosuch'.*chatml.*plain" \
	"$VKCHAT" run -m "$T_TMP/nonexistent.gguf" -p hi --chat-format nosuch
t_expect "run: --special is for raw prompts" 1 "raw prompts" \
	"$VKCHAT" run -m x.gguf -p hi --chat --special

if ! model=$(t_shared models/stories260K.gguf); then
	t_skip "chat: stories260K" "shared models not found"
	t_end
	exit
fi
if ! "$VKCHAT" devices > /dev/null 2>&1; then
	t_skip "chat: stories260K" "no Vulkan device"
	t_end
	exit
fi

# Two turns, a regeneration and the history, greedy, chatml forced.
printf 'Once upon a time\nThe dog\\\nran away\n/regen\n/history\n' |
	"$VKCHAT" chat -m "$model" --chat-format chatml -n 12 --temp 0 -v \
	> "$T_TMP/out" 2> "$T_TMP/err"
rc=$?
# "prompt: N tokens, M evaluated" and "context: U of C" per answer.
prompts=$(sed -n 's/.*prompt: \([0-9]*\) tokens, \([0-9]*\) evaluated.*/\1 \2/p' \
	"$T_TMP/err" | tr '\n' ' ')
used=$(sed -n 's/.*context: \([0-9]*\) of.*/\1/p' "$T_TMP/err" | tr '\n' ' ')
# shellcheck disable=SC2086
set -- $prompts $used
if [ "$rc" -eq 0 ] && [ $# -eq 9 ]; then
	n1=$1 e1=$2 n2=$3 e2=$4 n3=$5 e3=$6 u1=$7
	if [ "$e1" -eq "$n1" ] && [ "$e2" -eq $((n2 - u1)) ] &&
		[ "$e2" -lt $((n2 - n1)) ]; then
		t_ok "chat: turn 2 evaluates only the new tokens ($e2 of $n2)"
	else
		t_fail "chat: turn 2 evaluates only the new tokens" \
			"turn 1: $n1/$e1, used $u1; turn 2: $n2/$e2"
	fi
	if [ "$n3" -eq "$n2" ] && [ "$e3" -eq 1 ]; then
		t_ok "chat: /regen evaluates one token"
	else
		t_fail "chat: /regen evaluates one token" "$n3/$e3"
	fi
else
	t_fail "chat: turn 2 evaluates only the new tokens" \
		"status $rc: $prompts | $used | $(head -c 300 "$T_TMP/err")"
	t_skip "chat: /regen evaluates one token" "the chat failed"
fi
if grep -q "^\[user\] The dog$" "$T_TMP/out" &&
	grep -q "^ran away$" "$T_TMP/out" &&
	[ "$(grep -c '^\[assistant\]' "$T_TMP/out")" -eq 2 ]; then
	t_ok "chat: a line ending in \\ continues the turn"
else
	t_fail "chat: a line ending in \\ continues the turn" \
		"$(head -c 400 "$T_TMP/out")"
fi
t_expect "chat: -v names the format and why" 0 \
	"chat format: chatml \(chosen with --chat-format\)" cat "$T_TMP/err"

# The answers of turn 1 and a regeneration of it are the same (greedy).
printf 'Hello\n/regen\n' | "$VKCHAT" chat -m "$model" --chat-format chatml \
	-n 10 --temp 0 --no-save > "$T_TMP/regen" 2> "$T_TMP/regen.err"
if [ "$(wc -l < "$T_TMP/regen")" -ge 2 ] &&
	[ "$(head -n 1 "$T_TMP/regen")" = "$(tail -n 1 "$T_TMP/regen")" ] &&
	[ -n "$(head -n 1 "$T_TMP/regen")" ]; then
	t_ok "chat: greedy /regen gives the same answer"
else
	t_fail "chat: greedy /regen gives the same answer" \
		"$(cat "$T_TMP/regen" "$T_TMP/regen.err" | head -c 300)"
fi

# A bad /set is reported and the chat goes on; /set alone shows them.
t_expect "chat: a bad /set value keeps going" 0 \
	"top_p: 7 is out of range.*temperature=0" sh -c \
	"printf '/set top_p=7\n/set temp=0 top_k=5\n/set\nHi\n/bogus\n' |
	 '$VKCHAT' chat -m '$model' -n 4 --no-save 2>&1 | tr '\n' ' '"
t_expect "chat: an unknown command is named" 0 "unknown command '/bogus'" \
	sh -c "printf '/bogus x\n' | '$VKCHAT' chat -m '$model' --no-save 2>&1"

# The conversation is a session: 2 prompts, 2 answers plus one
# regenerated (the first chat above).
t_expect "chat: the conversation is saved" 0 \
	"^ *1 .* 5 .*stories260K.gguf +Once upon a time" \
	"$VKCHAT" sessions list
t_expect "chat: the session has the answers' statistics" 0 \
	"version 2 of 2.*prompt tokens \| 12 generated" sh -c \
	"'$VKCHAT' sessions show 1 | tr '\n' ' '"
before=$("$VKCHAT" sessions list --json | grep -o '"id"' | wc -l)
printf 'Hi\n' | "$VKCHAT" chat -m "$model" -n 2 --no-save > /dev/null 2>&1
after=$("$VKCHAT" sessions list --json | grep -o '"id"' | wc -l)
if [ "$before" -eq "$after" ]; then
	t_ok "chat: --no-save saves nothing"
else
	t_fail "chat: --no-save saves nothing" "$before sessions, then $after"
fi

# Context: 4 turns with answers of 24 tokens in 128 positions (the 4th
# prompt does not fit with room for its answer).
turns='Once upon a time there was a dog\nHe ran to the park\nThe sun was out\nThey played all day\n'
t_expect "chat: with --no-ctx-shift a full context is an error" 1 \
	"the conversation of [0-9]+ tokens plus 24 for the reply does not fit the context of 128 tokens" \
	sh -c "printf '$turns' | '$VKCHAT' chat -m '$model' --ctx 128 -n 24 \
	 --temp 0 --no-save --no-ctx-shift 2>&1"
printf "${turns}/history\n" | "$VKCHAT" chat -m "$model" --ctx 128 -n 24 \
	--temp 0 --no-save --no-ctx-shift > "$T_TMP/ctx" 2> "$T_TMP/ctx.err"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(grep -c '^\[user\]' "$T_TMP/ctx")" -eq 3 ] &&
	[ "$(grep -c '^\[assistant\]' "$T_TMP/ctx")" -eq 3 ] &&
	! grep -q '^\[user\] They played' "$T_TMP/ctx"; then
	t_ok "chat: a turn that does not fit is left out, the chat goes on"
else
	t_fail "chat: a turn that does not fit is left out, the chat goes on" \
		"status $rc: $(grep '^\[' "$T_TMP/ctx" | head -c 300)"
fi
t_expect "chat: by default the oldest turns are left out" 0 \
	"the first 2 turns left out" sh -c "printf '$turns' |
	 '$VKCHAT' chat -m '$model' --ctx 128 -n 24 --temp 0 --no-save \
	 -v 2>&1"
t_expect "chat: --ctx-shift says the same" 0 \
	"the first 2 turns no longer fit the context: left out of the prompt" \
	sh -c "printf '$turns' | '$VKCHAT' chat -m '$model' --ctx 128 -n 24 \
	 --temp 0 --no-save --ctx-shift 2>&1"

# vkchat run --chat: one user turn in the format.
t_expect "run: --chat detects plain for a base model" 0 \
	"chat format: plain \(no chat_template" \
	"$VKCHAT" run -m "$model" -p "Once upon a time" --chat -n 4 -v
t_expect "run: --chat-format with a system prompt" 0 \
	"lacks 5 of the chatml format's special tokens.*prompt: [0-9]+ tokens" \
	sh -c "'$VKCHAT' run -m '$model' -p 'Once upon a time' \
	 --chat-format chatml --system 'Tell stories.' -n 4 -v 2>&1 |
	 tr '\n' ' '"
raw=$("$VKCHAT" run -m "$model" -p "Once upon a time" -n 4 -v 2>&1 |
	sed -n 's/.*prompt: \([0-9]*\) tokens.*/\1/p')
if [ "$raw" = 5 ]; then
	t_ok "run: raw by default"
else
	t_fail "run: raw by default" "prompt of '$raw' tokens"
fi

# run --save stores the exchange with its statistics.
out=$("$VKCHAT" run -m "$model" -p "The cat sat" --chat-format chatml \
	-n 6 --seed 42 --temp 0.5 --save 2>&1)
id=$(echo "$out" | sed -n 's/.*saved as session \([0-9]*\).*/\1/p')
if [ -n "$id" ]; then
	t_ok "run: --save names the session"
else
	t_fail "run: --save names the session" "$out"
fi
t_expect "run: sessions show shows the saved exchange" 0 \
	"chat format: chatml.*--- user.*The cat sat.*--- assistant.*seed 42 \| [0-9]+ prompt tokens \| 6 generated \| [0-9.]+ tokens/s \| first token [0-9]+ ms \| length" \
	sh -c "'$VKCHAT' sessions show '${id:-0}' | tr '\n' ' '"
t_expect "run: the saved answer has the full settings" 0 \
	'"temperature":0.5.*"seed":"42".*"completion_tokens":6' sh -c \
	"'$VKCHAT' sessions export '${id:-0}' --format json | tr -d ' \n'"
printf 'not a database' > "$T_TMP/bad.db"
t_expect "run: --save to a bad database is an error" 1 "bad.db" \
	"$VKCHAT" run -m "$model" -p hi -n 2 --save --db "$T_TMP/bad.db"

# User presets from the database, in run and in chat.
"$VKCHAT" presets add five max_tokens=5 temperature=0 > /dev/null 2>&1
t_expect "run: --preset finds a saved preset" 0 "generated: 5 tokens" \
	"$VKCHAT" run -m "$model" -p "Once" --preset five -v
t_expect "run: --preset with --db elsewhere does not find it" 1 \
	"no preset 'five'" \
	"$VKCHAT" run -m "$model" -p "Once" --preset five \
	--db "$T_TMP/other.db"
if [ ! -e "$T_TMP/other.db" ]; then
	t_ok "run: looking up a preset creates no database"
else
	t_fail "run: looking up a preset creates no database" "other.db exists"
fi
t_expect "chat: /preset finds a saved preset" 0 \
	"preset five.*generated: 5 tokens" sh -c \
	"printf '/preset five\nOnce\n' | '$VKCHAT' chat -m '$model' -v \
	 --no-save 2>&1 | tr '\n' ' '"

# Continuing a saved session headless: -c the latest, --session ID one;
# the session's turns go to the model first and the new exchange is
# added to it; a seed drawn for one answer is not pinned for the next.
D="$T_TMP/cont.db"
printf 'Once upon a time\n' | "$VKCHAT" chat -m "$model" --db "$D" -n 6 \
	> /dev/null 2>&1
t_expect "chat -c: continues the latest session" 0 \
	"continuing session 1 \(2 turns\)" sh -c \
	"printf 'The end\n' | '$VKCHAT' chat -m '$model' --db '$D' -n 6 -c -v \
	 2>&1 >/dev/null | tr '\n' ' '"
t_expect "chat -c: the old turns are in the prompt" 0 \
	"prompt: (1[5-9]|[2-9][0-9]) tokens" sh -c \
	"printf 'The end\n' | '$VKCHAT' chat -m '$model' --db '$D' -n 6 \
	 --session 1 -v 2>&1 >/dev/null"
t_expect "chat --session: the exchanges are added to the session" 0 "^3$" \
	sh -c "'$VKCHAT' sessions show --db '$D' 1 | grep -c '^--- user'"
t_expect "chat -c: each answer draws its own seed" 0 "^3$" \
	sh -c "'$VKCHAT' sessions show --db '$D' 1 | \
	 sed -n 's/^\[.*seed \([0-9]*\).*/\1/p' | sort -u | wc -l"
# run adds one exchange to a session the same way
t_expect "run -c: the session's turns are in the prompt" 0 \
	"prompt: (2[0-9]|[3-9][0-9]) tokens" sh -c \
	"'$VKCHAT' run -m '$model' --db '$D' -n 4 -c -p 'Then' -v 2>&1 >/dev/null"
t_expect "run --session: the exchange is added" 0 "^5$" sh -c \
	"'$VKCHAT' run -m '$model' --db '$D' -n 4 --session 1 -p 'More' \
	 >/dev/null 2>&1; '$VKCHAT' sessions show --db '$D' 1 | \
	 grep -c '^--- user'"
t_expect "chat --session: an unknown id" 1 "session 99" \
	"$VKCHAT" chat -m "$model" --db "$D" --session 99 < /dev/null
t_expect "chat --session: not with --no-save" 1 "not with --no-save" \
	"$VKCHAT" chat -m "$model" --db "$D" --session 1 --no-save < /dev/null
t_expect "chat --session: not an id" 1 "'x' is not a session id" \
	"$VKCHAT" chat -m "$model" --db "$D" --session x < /dev/null
t_expect "chat -c: nothing to continue" 1 "no saved session to continue" \
	"$VKCHAT" chat -m "$model" --db "$T_TMP/empty.db" -c < /dev/null

# A full context is not a dead end (above): by default every turn is
# answered; /set ctx_shift=0 in the chat turns it off.
turns='Once upon a time\nThe dog ran\nThe cat sat\nThe end came\n/history\n'
t_expect "chat: every turn is answered" 0 "^4$" sh -c \
	"printf '$turns' | '$VKCHAT' chat -m '$model' --ctx 64 -n 16 \
	 --no-save --temp 0 2>/dev/null | grep -c '^\[assistant\]'"
t_expect "chat: /set ctx_shift=0 in the chat" 0 "does not fit the context" \
	sh -c "printf '/set ctx_shift=0\n$turns' | '$VKCHAT' chat -m '$model' \
	 --ctx 64 -n 16 --no-save --temp 0 2>&1; true"
t_end
