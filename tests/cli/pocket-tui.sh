# The chat screen with no model given (ui/tui.c, ui/pocket.c): with
# nothing remembered, or the remembered model gone, "vkchat" opens the
# pocket model and says so; with no pocket model either it fails naming
# the places looked.  As in tui.sh: vkchat runs in a pane of a private
# tmux server (100x30), with a fresh HOME; every wait is a bounded poll;
# the server is killed at the end, failed or not.
#
# The stand-in pocket model is a symlink to the shared stories260K model
# in a private VKCHAT_DATADIR (then the only place looked).  Without the
# shared model an empty placeholder file stands in: the notices are
# tested either way, the chat itself only with the real model.
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/tmux.sh"
PANE=pk
tmux_setup "pocket tui" pocket
LAST="$HOME_T/.local/state/vkchat/last"
D="$T_TMP/data"
EMPTY="$T_TMP/empty"
mkdir -p "$HOME_T" "$D" "$EMPTY"
REAL=1
if MODEL=$(t_shared models/stories260K.gguf); then
	ln -s "$MODEL" "$D/pocket.gguf"
else
	REAL=0
	: > "$D/pocket.gguf"
fi

# check_file NAME FILE PATTERN: FILE (once written) matches PATTERN.
check_file() {
	if grep -Eq -- "$3" "$2" 2> /dev/null; then
		t_ok "$1"
	else
		t_fail "$1" "$2 does not match /$3/:"
		sed 's/^/#   /' "$2" 2> /dev/null | head -n 5
	fi
}
# Quit vkchat with Ctrl-D and type what reports its exit status as NAME.
quit() {
	keys C-d
	wait_for '^\$ *$' 100
	shell "clear; echo $1=\$?"
}

# A shell in the pane with a fresh HOME and the stand-in as the only
# pocket model.
tm -f /dev/null new-session -d -s pk -x 100 -y 30 \
	"env -i PATH='$PATH' HOME='$HOME_T' TERM=\"\$TERM\" LANG='$LOC' \
	VKCHAT_DB='$T_DB' VKCHAT_DATADIR='$D' INPUTRC=/dev/null \
	HISTFILE=/dev/null PS1='$ ' sh"
if ! wait_for '\$' 50; then
	t_fail "tmux pane starts" "no shell prompt"
	t_end
	exit
fi

# First start, nothing remembered: the pocket model, with the notice.
shell "clear; '$V'"
check "no model, nothing remembered: the pocket model's notice" \
	"using the pocket model, a tiny demo model: a pocket dictionary"
check "the notice says how to use a real model" "'vkchat -m MODEL\.gguf'"
check "the chat screen is open" "^> *$"
if [ "$REAL" = 1 ]; then
	check "the pocket model loads" " ctx [0-9]+/[0-9]+ " 600
	keys '/set max_tokens=8' Enter 'Once upon a time' Enter
	check "the pocket model answers" "\[length limit\] · 8 tokens · .*tok/s" 600
	wait_for "^> *$" 100
else
	t_skip "the pocket model answers" "shared model stories260K.gguf not found"
fi
quit FIRST
check "quits with status 0" "FIRST=0"
check_file "the pocket model is remembered" "$LAST" "^model=/"

# Second start: the remembered model is the pocket model: the notice
# again.
shell "clear; '$V'"
check "remembered pocket model: the notice again" \
	"using the pocket model, a tiny demo model"
if [ "$REAL" = 1 ]; then
	check "remembered pocket model: the session is reopened" \
		"^  Once upon a time" 100
fi
quit SECOND
check "quits with status 0 again" "SECOND=0"

# The remembered model is gone: say so and use the pocket model.
printf 'model=%s\nsession=1\ndb=%s\n' "$T_TMP/gone.gguf" "$T_DB" > "$LAST"
shell "clear; '$V'"
check "remembered model gone: says so" \
	"the model of last time, '$T_TMP/gone\.gguf', is gone"
check "remembered model gone: falls back to the pocket model" \
	"using the pocket model"
check "remembered model gone: a new session" "^> *$"
quit GONE
check "quits with status 0 after the fallback" "GONE=0"

# Gone, and no pocket model either: an error, status 1.
printf 'model=%s\nsession=1\ndb=%s\n' "$T_TMP/gone.gguf" "$T_DB" > "$LAST"
shell "clear; VKCHAT_DATADIR='$EMPTY' '$V' 2> '$T_TMP/err1'; echo NOPOCKET1=\$?"
check "gone and no pocket model: status 1" "NOPOCKET1=1"
check_file "gone and no pocket model: says both and where it looked" \
	"$T_TMP/err1" \
	"the model of last time, '.*gone\.gguf', is gone .*start the chat with 'vkchat -m MODEL\.gguf'; the pocket model .*looked for '$EMPTY/pocket\.gguf'"

# Nothing remembered and no pocket model: the error of old, plus where it
# looked.
rm -f "$LAST"
shell "clear; VKCHAT_DATADIR='$EMPTY' '$V' 2> '$T_TMP/err2'; echo NOPOCKET2=\$?"
check "no model at all: status 1" "NOPOCKET2=1"
check_file "no model at all: says how to give one and where it looked" \
	"$T_TMP/err2" \
	"no model to open: start the chat with 'vkchat -m MODEL\.gguf'.*the pocket model .*looked for '$EMPTY/pocket\.gguf'"

# The shipped model: the build tree's vkchat, no VKCHAT_DATADIR, finds the
# source tree's data/pocket.gguf (the README's first command) and answers
# with it, greedy, until the end of its turn.
if [ -f "$TOP_SRCDIR/data/pocket.gguf" ]; then
	rm -f "$LAST"
	shell "clear; env -u VKCHAT_DATADIR '$V'"
	check "the shipped pocket model: the notice" \
		"using the pocket model, a tiny demo model"
	check "the shipped pocket model loads" " ctx [0-9]+/[0-9]+ " 600
	keys '/set temp=0' Enter 'What does the word house mean?' Enter
	check "the shipped pocket model answers until the end of its turn" \
		"^ *[0-9]+ tokens · [0-9.]+ tok/s" 600
	quit SHIPPED
	check "quits with status 0" "SHIPPED=0"
	check_file "the shipped model is remembered" "$LAST" \
		"^model=.*/data/pocket\.gguf$"
else
	t_skip "the shipped pocket model" "data/pocket.gguf not in the tree"
fi
t_end
