# Rough edges of the chat screen a new user meets, each fixed with a test
# here.  vkchat runs in a pane of a private tmux server (100x30) with a
# fresh HOME; every wait is a bounded poll.  No model has to answer: a
# file that does not load stands in for one.
#
# - The prompt history across runs (ui/prompt.c): after a restart, Up
#   recalls the last entry alone, not every earlier entry joined into one
#   multi-line prompt; a multi-line entry stays one entry; a history file
#   of one entry per line (written before timestamps were) is read that
#   way and rewritten with timestamps.  Slash commands are entries too.
# - /man TOPIC from the build tree opens the source tree's page with
#   "man -l" (a stand-in man on PATH records what it was given).
# - A reopened session keeps its chat format and system prompt; /new
#   goes back to the model's (with the shared stories260K model).
# - /set after /compare reaches the compare columns.
# - A full context drops the oldest turns with a notice; with
#   --no-ctx-shift the turn fails and leaves the prompt.
# - Alt-Left and Alt-Right step through the sibling answers.
# - A fatal signal (SIGBUS, as from a model file cut under the mapping)
#   gives the terminal back before the program dies.
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/tmux.sh"
tmux_setup "tui history" history
MODEL="$T_TMP/placeholder.gguf"
: > "$MODEL"
HIST="$HOME_T/.local/state/vkchat/history"

# a stand-in for man(1): it records its arguments
mkdir -p "$T_TMP/bin"
printf '#!/bin/sh\necho "$*" > "%s"\n' "$T_TMP/man.args" > "$T_TMP/bin/man"
chmod +x "$T_TMP/bin/man"

tm -f /dev/null new-session -d -s tui -x 100 -y 30 \
	"env -i PATH='$T_TMP/bin:$PATH' HOME='$HOME_T' TERM=\"\$TERM\" LANG='$LOC' \
	VKCHAT_DB='$T_DB' INPUTRC=/dev/null HISTFILE=/dev/null PS1='$ ' sh"
if ! wait_for '\$' 50; then
	t_fail "tmux pane starts" "no shell prompt"
	t_end
	exit
fi

# start NAME: vkchat in the pane, its prompt shown.
start() {
	shell "clear; '$V' -m '$MODEL' --db '$T_DB'"
	check "$1: the prompt is shown" "^> *$"
}
# quit NAME: Ctrl-D, and the shell reports vkchat's exit status.
quit() {
	keys C-d
	wait_for '^\$ *$' 100
	shell "clear; echo $1=\$?"
	check "$1: quits with status 0" "$1=0"
}

start "first run"
keys '/set temp=0.5' Enter
keys '/set top_k=7' Enter
# a two-line entry: Ctrl-J inserts the line break
keys '/set stop=x' C-j 'two lines' Enter
keys '/set top_p=0.9' Enter
quit FIRST

start "second run"
keys Up
check "Up recalls the last entry" "^> /set top_p=0\.9 *$"
check_not "the last entry alone" "temp=0\.5"
keys Up
check "a multi-line entry stays one entry" "two lines"
check "its first line is there too" "^> /set stop=x"
keys Up
check "then the entry before it" "^> /set top_k=7 *$"
check_not "one entry at a time" "stop=x"
keys Up
check "then the first entry" "^> /set temp=0\.5 *$"
keys C-u
quit SECOND
if grep -Eq '^#[0-9]+$' "$HIST"; then
	t_ok "the history file has timestamp lines"
else
	t_fail "the history file has timestamp lines" "$(head -n 4 "$HIST")"
fi

# A file of one entry per line, as written before: each line an entry.
printf '/set min_p=0.1\n/set seed=3\n' > "$HIST"
start "old history file"
keys Up
check "old file: Up recalls its last line" "^> /set seed=3 *$"
check_not "old file: the last line alone" "min_p"
keys Up
check "old file: then the line before" "^> /set min_p=0\.1 *$"
keys C-u
quit OLD
if [ "$(grep -c '^#[0-9]' "$HIST")" -eq 2 ]; then
	t_ok "old file: rewritten with timestamps"
else
	t_fail "old file: rewritten with timestamps" "$(cat "$HIST")"
fi

# /man from the build tree: the source tree's page, whether installed or
# not; an unknown topic is refused before man runs.
start "man"
# man_got NAME PAGE: man was given "-l FILE", FILE the source tree's PAGE
# (the same file, whatever the spelling of the path).
man_got() {
	got=$(cat "$T_TMP/man.args" 2> /dev/null)
	case $got in
	"-l "*/man/"$2") ;;
	*) t_fail "$1" "man got: $got"; return ;;
	esac
	if cmp -s "${got#-l }" "$TOP_SRCDIR/man/$2"; then
		t_ok "$1"
	else
		t_fail "$1" "man got: $got, not the source tree's page"
	fi
}
keys '/man sampling' Enter
check "/man: back in the chat" "^> *$"
sleep 0.3
man_got "/man sampling: man -l the source tree's page" vkchat-sampling.7
: > "$T_TMP/man.args"
keys '/man' Enter
sleep 0.5
man_got "/man: vkchat(1) from the source tree" vkchat.1
keys '/man nosuchpage' Enter
sleep 0.5
if grep -qx -- "vkchat-nosuchpage" "$T_TMP/man.args" 2> /dev/null; then
	t_ok "/man: a topic with no page here goes to man as a name"
else
	t_fail "/man: a topic with no page here goes to man as a name" \
		"man got: $(cat "$T_TMP/man.args" 2> /dev/null)"
fi
quit MAN

# A terminal gets model text filtered: an export to it shows a bidi
# override escaped, not acting on the line.
printf '{"format": "vkchat-session", "version": 1, "session": {"title": "bidi"},
 "messages": [{"id": 1, "role": "user", "content": "x\342\200\256y"}]}' \
	> "$T_TMP/bidi.json"
bid=$("$V" sessions import --db "$T_DB" "$T_TMP/bidi.json" --json 2> /dev/null |
	sed -n 's/.*"id": *\([0-9]*\).*/\1/p')
shell "clear; '$V' sessions export --db '$T_DB' '$bid' --format md"
check "export to a terminal escapes a bidi override" 'x\\u202ey'

# A fatal signal restores the terminal first: its settings as before, the
# main screen back (the shell's output shows), status 128 + SIGBUS.
shell "clear; stty -g > '$T_TMP/tty.before'; '$V' -m '$MODEL' --db '$T_TMP/bus.db'"
check "fatal signal: the chat screen is up" "^> *$"
pkill -BUS -f -- "--db $T_TMP/bus.db"
wait_for '^\$ *$' 100
shell "echo BUS=\$?; stty -g | cmp -s - '$T_TMP/tty.before' && echo TTY-BUS"
check "fatal signal: vkchat dies of it (status 135)" "BUS=135"
check "fatal signal: the terminal settings are restored" "TTY-BUS"
if [ "$(tm display -p -t tui '#{alternate_on}')" = 0 ]; then
	t_ok "fatal signal: the main screen is back"
else
	t_fail "fatal signal: the main screen is back" "still in the alternate screen"
fi

# A session had in llama2 format with a system prompt, reopened: its
# format and system prompt stay; /new goes back to the model's format.
if M=$(t_shared models/stories260K.gguf); then
	printf 'Once upon a time\n' | "$V" chat --plain -m "$M" --db "$T_DB" \
		--chat-format llama2 --system "Be brief." -n 4 > /dev/null 2>&1
	SID=$("$V" sessions list --db "$T_DB" --json 2> /dev/null |
		sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1)
	shell "clear; '$V' -m '$M' --db '$T_DB' --session '$SID'"
	check "reopened: the model loads" " ctx [0-9]+/[0-9]+ " 600
	check "reopened: the session's chat format" " llama2 .* ctx "
	keys '/params' Enter
	check "reopened: the session's system prompt" "Be brief"
	check "/params shows every setting, defaults too" "mirostat_eta=0\.1"
	check "/params shows ctx_shift" "ctx_shift=1"
	keys '/new' Enter
	check "/new: the model's own format again" " plain .* ctx "

	# /set after /compare applies to the compare run's columns too
	keys '/compare temp=0.2,0.9' Enter
	check "/compare: two columns armed" "compare mode: 2 columns"
	check "armed columns say they wait for the prompt" \
		"waiting for the prompt *│ *waiting for the prompt"
	keys '/set max_tokens=3' Enter
	check "/set after /compare: the columns take it" \
		"set in the 2 compare columns too"
	keys 'Once upon a time' Enter
	check "both columns stop" "length.*│.*length" 300
	keys Escape
	check_gone "Esc leaves compare mode" "^compare: " 50
	quit FORMAT
	# the run is the newest session's: 3 tokens in each column
	SID2=$("$V" sessions list --db "$T_DB" --json 2> /dev/null |
		sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1)
	n3=$("$V" sessions show --db "$T_DB" "$SID2" 2> /dev/null |
		grep -c '^\[seed.* 3 generated')
	if [ "$n3" = 2 ]; then
		t_ok "both columns stopped at the limit /set gave them"
	else
		t_fail "both columns stopped at the limit /set gave them" \
			"$("$V" sessions show --db "$T_DB" "$SID2" | grep '^\[seed')"
	fi

	# a small context: the oldest turns leave the prompt, with a notice
	shell "clear; '$V' -m '$M' --db '$T_DB' --new --ctx 64 -n 16 --temp 0"
	check "small context: loads" " ctx [0-9]+/64 " 600
	for p in 'Once upon a time' 'The dog ran' 'The cat sat'; do
		keys "$p" Enter
		wait_for "^> *$" 100
		sleep 0.3
	done
	check "full context: the oldest turns leave the prompt, said once" \
		"no longer fit the context: left out of the prompt"
	quit SHIFT
	shell "clear; '$V' -m '$M' --db '$T_DB' --new --ctx 64 -n 16 --temp 0 \
		--no-ctx-shift"
	check "--no-ctx-shift: loads" " ctx [0-9]+/64 " 600
	for p in 'Once upon a time' 'The dog ran' 'The cat sat'; do
		keys "$p" Enter
		wait_for "^> *$" 100
		sleep 0.3
	done
	check "--no-ctx-shift: the turn fails naming the sizes" \
		"does not fit the context of 64"
	keys '/set ctx_shift=1' Enter 'The end came' Enter
	check "after the failure the chat goes on" "tok/s" 300
	quit NOSHIFT

	# siblings: /regen makes a second answer; Alt-Left and Alt-Right
	shell "clear; '$V' -m '$M' --db '$T_DB' --new -n 6"
	check "siblings: loads" " ctx [0-9]+/[0-9]+ " 600
	keys 'Once upon a time' Enter
	check "siblings: an answer" "6 tokens" 300
	keys '/regen' Enter
	check "siblings: /regen makes answer 2 of 2" "answer 2 of 2" 300
	keys M-Left
	check "Alt-Left: answer 1 of 2" "answer 1 of 2 \(Alt-Left" 50
	keys M-Left
	check "Alt-Left at the first: says so" "answer 1 of 2: no earlier one" 50
	keys M-Right
	check "Alt-Right: answer 2 of 2 again" "answer 2 of 2 \(Alt-Left" 50
	keys M-Left
	check "Alt-Left again" "answer 1 of 2 \(Alt-Left" 50
	quit SIBLINGS
	SID3=$("$V" sessions list --db "$T_DB" --json 2> /dev/null |
		sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1)
	shell "clear; '$V' -m '$M' --db '$T_DB' --session '$SID3'"
	check "reopened: the answer stepped to is shown" "answer 1 of 2" 300
	quit SIBLINGS2
else
	t_skip "reopened session's chat format" "shared model stories260K.gguf not found"
fi
t_end
