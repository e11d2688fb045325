# vkchat sessions replay: a fresh `run --save` answer replays identical
# (status 0); a tampered stored setting and another model file are found
# and named (status 5); bad requests are usage errors.
. "$TOP_SRCDIR/tests/lib.sh"

M="$TOP_SRCDIR/data/pocket.gguf"
[ -r "$M" ] || M="$TOP_SRCDIR/tests/data/pocket-pilot-f16.gguf"
OTHER="$TOP_SRCDIR/tests/data/pocket-pilot-q8_0.gguf"
export VKCHAT_DB="$T_TMP/replay.db"

"$VKCHAT" run -m "$M" -p "Once upon a time" --temp 0.9 -n 24 --save \
	> "$T_TMP/answer.txt" 2> "$T_TMP/save.err"
sid=$(sed -n 's/^vkchat: saved as session \([0-9]*\)$/\1/p' "$T_TMP/save.err")
if [ -n "$sid" ]; then
	t_ok "run --save stores an answer"
else
	t_fail "run --save stores an answer" "$(cat "$T_TMP/save.err")"
fi

t_expect "a fresh answer replays identical, token for token" 0 \
	"^identical: [0-9]+ tokens, [0-9]+ bytes, token for token$" \
	"$VKCHAT" sessions replay "$sid"
# The same with the answer named by --at.
aid=$(sqlite3 "$VKCHAT_DB" "select id from messages where role = 'assistant'" 2>/dev/null)
if [ -n "$aid" ]; then
	t_expect "--at ANSWER replays that answer" 0 \
		"^replay of answer $aid of session $sid" \
		"$VKCHAT" sessions replay "$sid" --at "$aid"
	t_expect "--at a prompt is refused" 1 \
		"message $((aid - 1)) is a user message; give an answer's id" \
		"$VKCHAT" sessions replay "$sid" --at "$((aid - 1))"
else
	t_skip "--at ANSWER replays that answer" "sqlite3 not installed"
	t_skip "--at a prompt is refused" "sqlite3 not installed"
fi

# A chat answer after an earlier turn: the turns before it are rendered
# with the stored chat format as they were.
VKCHAT_DB="$T_TMP/chat.db" "$VKCHAT" run -m "$M" --chat -p "cat" --temp 0.7 \
	-n 16 --save > /dev/null 2>&1
VKCHAT_DB="$T_TMP/chat.db" "$VKCHAT" run -m "$M" -c -p "dog" --temp 0.7 \
	-n 16 > /dev/null 2>&1
t_expect "a second chat turn replays identical" 0 \
	"^identical: .* token for token" \
	env VKCHAT_DB="$T_TMP/chat.db" "$VKCHAT" sessions replay 1

# A stored setting changed behind vkchat's back: the answer differs, the
# report names the first token that does and the setting.
if command -v sqlite3 > /dev/null 2>&1; then
	cp "$VKCHAT_DB" "$T_TMP/tampered.db"
	sqlite3 "$T_TMP/tampered.db" "update messages set params_json = \
		json_set(params_json, '\$.temperature', 1.7) where role = 'assistant'"
	t_expect "a tampered setting: different, status 5" 5 \
		"^different: first at token [0-9]+ \(byte [0-9]+\)" \
		"$VKCHAT" sessions replay "$sid" --db "$T_TMP/tampered.db"
	t_expect "a tampered setting: the replayed token is named" 5 \
		"^  token: +the replay drew id [0-9]+ \".*\" there$" \
		"$VKCHAT" sessions replay "$sid" --db "$T_TMP/tampered.db"
	t_expect "a tampered setting: the report names it" 5 \
		"why: +changed settings: .*temperature=1.7" \
		"$VKCHAT" sessions replay "$sid" --db "$T_TMP/tampered.db"
else
	t_skip "a tampered setting: different, status 5" "sqlite3 not installed"
	t_skip "a tampered setting: the replayed token is named" "sqlite3 not installed"
	t_skip "a tampered setting: the report names it" "sqlite3 not installed"
fi

# Another model file: named with both identities.
t_expect "another model: different, named with its identity" 5 \
	"why: +other model file: '.*pocket-pilot-q8_0.gguf' has identity [0-9a-f]{16}" \
	"$VKCHAT" sessions replay "$sid" -m "$OTHER"

# The stored model moved away: the error names it and asks for -m.
cp "$M" "$T_TMP/moved.gguf"
VKCHAT_DB="$T_TMP/moved.db" "$VKCHAT" run -m "$T_TMP/moved.gguf" -p "A" \
	-n 4 --save > /dev/null 2>&1
rm -f "$T_TMP/moved.gguf"
t_expect "a missing model file: named, status 2" 2 \
	"the answer's model '.*moved.gguf' is not there; give the file with -m" \
	env VKCHAT_DB="$T_TMP/moved.db" "$VKCHAT" sessions replay 1

t_expect "no such session" 1 "no session 999" \
	"$VKCHAT" sessions replay 999
t_expect "a bad --at" 1 "--at: 'x' is not a message id" \
	"$VKCHAT" sessions replay "$sid" --at x
t_expect "replay --help" 0 "usage: vkchat sessions replay ID" \
	"$VKCHAT" sessions replay --help
t_end
