# The prompt history across runs (ui/prompt.c): after a restart, Up
# recalls the last entry alone, not every earlier entry joined into one
# multi-line prompt; a multi-line entry stays one entry; a history file
# of one entry per line (written before timestamps were) is read that way
# and rewritten with timestamps.  vkchat runs in a pane of a private tmux
# server (100x30) with a fresh HOME; every wait is a bounded poll.
#
# Slash commands are entries too, so no model has to answer: a file that
# does not load stands in for one.
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/tmux.sh"
tmux_setup "tui history" history
MODEL="$T_TMP/placeholder.gguf"
: > "$MODEL"
HIST="$HOME_T/.local/state/vkchat/history"

tm -f /dev/null new-session -d -s tui -x 100 -y 30 \
	"env -i PATH='$PATH' HOME='$HOME_T' TERM=\"\$TERM\" LANG='$LOC' \
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
t_end
