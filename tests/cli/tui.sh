# The full-screen interface end to end: vkchat runs in a tmux pane (its
# own tmux server, a 100x30 window), keys go in with send-keys, and the
# screen is read back with capture-pane.  Every wait polls the screen with
# a bounded timeout; the tmux server is killed at the end, failed or not.
#
# Without the shared stories260K model the chat tests skip; everything
# else (screen, prompt, help, session browser, pickers, resize, suspend,
# quitting) is tested either way, with a placeholder file that does not
# load as the model.
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/tmux.sh"
tmux_setup "tui" test

# Not on a terminal: a clear error, no screen.
t_expect "no terminal: refuses with advice" 1 "needs a terminal.*vkchat run" \
	"$V" -m /dev/null < /dev/null
t_expect "no terminal, no arguments: usage too" 1 "usage: vkchat" "$V" < /dev/null
t_expect "unknown options are named" 1 "unknown option '--bogus'" \
	"$V" -m /dev/null --bogus < /dev/null

REAL=1
MODEL=$(t_shared models/stories260K.gguf) || {
	# Enough for the screen; the chat tests need a real model.
	REAL=0
	MODEL="$T_TMP/placeholder.gguf"
	: > "$MODEL"
}

# Sessions for the browser, made through the storage command.
cat > "$T_TMP/s1.json" << 'EOS'
{"format": "vkchat-session", "version": 1,
 "session": {"title": "Penguin questions", "created_ms": 1700000000000,
  "updated_ms": 1700000500000,
  "model": {"path": "/models/tiny-q8.gguf", "size": 1234567, "hash": "0123456789abcdef"},
  "chat_format": "chatml", "preset": "precise", "leaf_id": 2},
 "messages": [
  {"id": 1, "role": "user", "content": "How do penguins sleep?\u001b[31m\u001b]0;pwned\u0007", "created_ms": 1700000000000},
  {"id": 2, "parent_id": 1, "role": "assistant", "content": "Standing up, in short naps, several times a day. 日本語のテキスト", "created_ms": 1700000001000,
   "seed": "42", "params": {"temperature": 0.2, "top_k": 20, "top_p": 0.9,
    "min_p": 0.1, "repeat_penalty": 1.05}, "prompt_tokens": 12, "completion_tokens": 4,
   "ttft_ms": 80, "tokens_per_s": 41.5, "finish_reason": "stop"}]}
EOS
sed -e 's/Penguin questions/Walrus facts/' -e 's/penguins sleep/walruses swim/' \
	-e 's/1700000500000/1700000900000/' "$T_TMP/s1.json" > "$T_TMP/s2.json"
have_import=0
if "$V" sessions import --db "$T_DB" "$T_TMP/s1.json" > /dev/null 2>&1 &&
	"$V" sessions import --db "$T_DB" "$T_TMP/s2.json" > /dev/null 2>&1; then
	have_import=1
fi
"$V" templates add --db "$T_DB" greet --description "say hello" \
	--body 'Say hello to {{name}} in {{lang}}.' > /dev/null 2>&1

: > "$T_TMP/inputrc"

# An interactive shell in the pane (job control for Ctrl-Z), in a private
# HOME, with the test database.  VKCHAT_KERNELS=gpu and LP_NUM_THREADS=2:
# on lavapipe the story model then streams at about 450 tokens/s, not
# 2500 (the CPU set on one thread), so that an answer of its whole
# context (512 tokens) still streams while the checks below colour it and
# stop it; the screen does not depend on the kernels.
SH="sh -i"
command -v bash > /dev/null 2>&1 && SH="bash --norc --noprofile -i"
tm -f /dev/null new-session -d -s tui -x 100 -y 30 \
	"env -i PATH='$PATH' HOME='$HOME_T' TERM=\"\$TERM\" LANG='$LOC' \
	VKCHAT_KERNELS=gpu LP_NUM_THREADS=2 \
	VKCHAT_DB='$T_DB' INPUTRC='$T_TMP/inputrc' HISTFILE=/dev/null \
	PS1='$ ' $SH"
if ! wait_for '\$' 50; then
	t_fail "tmux pane starts" "no shell prompt"
	t_end
	exit
fi
shell "stty -g > '$T_TMP/tty.before'; clear"
sleep 0.2
# vkchat alone is the job (so that Ctrl-Z stops it, not a wrapper);
# after_exit types what reports its exit once the shell is back.
shell "'$V' -m '$MODEL' --db '$T_DB'"
after_exit() {
	wait_for '^\$ *$' 100
	shell "echo $1=\$?; stty -g | cmp -s - '$T_TMP/tty.before' && echo TTY-$1"
}

check "screen opens with the status line" " default .* ctx"

# The screen with its attributes, less the last three rows (hint, status
# line, prompt); the answer under the first line that matches $1 (to the
# blank line that ends its entry), its text, and how many of the
# probability bands' colours it shows (SGR 31, 32, 33, 35; the label's
# green is on the label's line, left out).  "-" for $1: every row, and
# the bands other than green (labels are green).
ESC=$(printf '\033')
answer_sgr() {
	tm capture-pane -p -e -t "${PANE:-tui}" | sed '$d' | sed '$d' | sed '$d' |
		awk -v pat="$1" -v esc="$ESC" '
		pat == "-" { print; next }
		{ plain = $0; gsub(esc "\\[[0-9;]*m", "", plain) }
		!seen && index(plain, pat) { seen = 1; skip = 1; next }
		seen && skip == 1 && plain ~ /^ *$/ { skip = 2; next }
		seen && skip == 2 && plain !~ /^ *$/ { skip = 3; next }
		seen && skip == 3 && plain ~ /^ *$/ { exit }
		seen && skip == 3 { print }'
}
answer_text() { answer_sgr "$1" | sed "s/$ESC\[[0-9;]*m//g"; }
sgr_params() { grep -o "$ESC\[[0-9;]*m" | sed 's/.*\[//; s/m$//' | tr ';' '\n'; }
band_colours() {
	if [ "$1" = - ]; then
		answer_sgr - | sgr_params | grep -E '^3[135]$' | sort -u | wc -l
	else
		answer_sgr "$1" | sgr_params | grep -E '^3[1235]$' | sort -u | wc -l
	fi
}
# check_colours NAME PATTERN N: the answer after PATTERN (there, with
# text) shows N band colours or more, or with N 0 none at all; polled for
# a bounded time.
check_colours() {
	n=50
	while [ "$n" -gt 0 ]; do
		got=$(band_colours "$2")
		if [ -n "$(answer_text "$2" | tr -d ' ')" ] &&
			{ { [ "$3" -eq 0 ] && [ "$got" -eq 0 ]; } ||
				{ [ "$3" -gt 0 ] && [ "$got" -ge "$3" ]; }; }; then
			t_ok "$1"
			return
		fi
		sleep 0.1
		n=$((n - 1))
	done
	t_fail "$1" "$got band colours, want $3:"
	tm capture-pane -p -e -t "${PANE:-tui}" | cat -v | sed 's/^/#   |/'
}
check "prompt is shown" "^> *$"
if [ "$(tm display -p -t tui '#{mouse_any_flag}')" = 1 ]; then
	t_ok "mouse wheel reporting on"
else
	t_fail "mouse wheel reporting on" "tmux says the pane did not ask for the mouse"
fi

# Nothing generated yet: the inspector says what it shows.
keys '/probs' Enter
check "/probs before any answer says why not" "nothing to inspect yet"

# Help overlay: '?' on an empty prompt, F1, Esc/q close it.
keys '?'
check "? opens the help" "vkchat help"
# The help is generated from the key and command tables: page through it
# and find every command vkchat-tui(7) documents, and the keys.
help_text=$(screen)
for _ in 1 2 3 4; do
	keys NPage
	sleep 0.2
	help_text="$help_text
$(screen)"
done
missing=""
for c in $(sed -n 's/^\.It Cm \(\/[a-z]*\).*/\1/p' "$TOP_SRCDIR/man/vkchat-tui.7" | sort -u); do
	printf '%s\n' "$help_text" | grep -q -- "  $c" || missing="$missing $c"
done
for k in Ctrl-O Ctrl-P Ctrl-T Alt-Left PgUp "1-8" Alt-C; do
	printf '%s\n' "$help_text" | grep -q -- "$k" || missing="$missing $k"
done
if [ -z "$missing" ]; then
	t_ok "help lists every documented command and key"
else
	t_fail "help lists every documented command and key" "missing:$missing"
fi
check "help points at the man pages" "man vkchat-sampling"
if printf '%s\n' "$help_text" | grep -q -- "p >= 0\.9  *green" &&
	printf '%s\n' "$help_text" | grep -q -- "p < 0\.1  *bold red"; then
	t_ok "help gives the token colours' legend"
else
	t_fail "help gives the token colours' legend" "no 'p >= 0.9 green' ... 'p < 0.1 bold red'"
fi
keys Escape
check_not "Esc closes the help" "vkchat help"
keys F1
check "F1 opens the help" "vkchat help"
keys q
check_not "q closes the help" "vkchat help"

# Prompt editing: completion, multi-line, paste, Ctrl-C clears.
keys '/pre' Tab
check "Tab completes a command" "^> /preset$"
keys Tab Tab
check "Tab Tab lists presets" "balanced +creative +default"
keys C-c
check "Ctrl-C clears the line" "^> *$"
keys 'first line' C-j 'second line'
check "Ctrl-J starts a new line" "^  second line"
keys C-c
tm set-buffer -b vkp "$(printf 'pasted one\npasted two')"
tm paste-buffer -p -b vkp -t tui
check "bracketed paste keeps its lines" "^  pasted two"
check_not "a paste does not send" "cannot send"
keys C-c

# Slash commands that need no engine.
keys '/set temp=0.3 top_k=7' Enter
check "/set changes parameters" "temperature=0.3 +top_k=7"
check "/set marks the preset changed" "default\* "
keys '/set temp=hot' Enter
check "/set reports bad values" "temperature: 'hot' is not a number"
keys '/bogus' Enter
check "unknown commands are named" "unknown command '/bogus'"
keys C-c
keys '/compare' Enter
check "/compare alone says how to use it" "usage: /compare \\[--same-seed\\]"

# Preset picker: pick one; edit a copy and save it.
keys C-p
check "Ctrl-P opens the presets" "Presets: Enter use"
check "presets show what differs from the defaults" "temperature=1.1 +top_k=0"
keys Down Down Down Enter
check "Enter uses the preset" "using preset creative"
check "status line shows the preset" " creative .* ctx"
keys C-p e
check "e edits a copy" "Editing a copy of preset creative"
keys Enter C-u '0.42' Enter
check "form takes a value" "^ temperature +0.42"
keys s 'warm-test' Enter
check "s saves the copy" "saved and using preset warm-test"
if "$V" presets show --db "$T_DB" warm-test 2> /dev/null | grep -q "temperature *= *0.42"; then
	t_ok "saved preset is in the database"
else
	t_fail "saved preset is in the database" "$("$V" presets show --db "$T_DB" warm-test 2>&1 | head -n 3)"
fi

# Session browser.
if [ "$have_import" = 1 ]; then
	keys C-o
	check "Ctrl-O lists the sessions" "Sessions \(2\)"
	check "sessions show title, model, date and time, count" \
		"Walrus facts +tiny-q8.gguf +11-1[45] [0-9][0-9]:[0-9][0-9] +2"
	check "preview shows the selected session" "How do walruses swim"
	check "preview neutralises escapes" "swim\?␛\[31m␛\]0;pwned␇"
	keys / 'pengu'
	check "search narrows as you type" "Sessions \(1\)"
	check "search finds by content" "Penguin questions"
	keys BSpace BSpace BSpace BSpace BSpace stand
	check "a search matching both" "Sessions \(2\)"
	# Esc and j typed at once arrive as one Alt-j: the search is left
	# and the j moves the selection, it is not lost
	keys Escape j
	check "after a search the next key is not lost" "How do penguins sleep"
	keys Enter
	check "Enter resumes the session" "session 1: Penguin questions"
	check "resumed answer with its statistics" "4 tokens · 41.5 tok/s"
	check "status line takes the session's preset, unchanged" " precise [^*]* ctx"
	keys '/edit' Enter
	check "/edit puts the last prompt in the line" "^> How do penguins sleep\?\^\[\[31m"
	keys C-c
	check "Ctrl-C leaves /edit" "^> *$"
	keys C-o f
	check "f forks a session" "forked session .* into session 3"
	keys d
	check "d asks before deleting" "Delete session 3 .*\(y/n\)"
	keys n
	check_not "n keeps it" "deleted session"
	keys d y
	check "y deletes it" "deleted session 3"
	keys Escape
	n=$("$V" sessions list --db "$T_DB" 2> /dev/null | grep -c 'tiny-q8')
	if [ "$n" = 2 ]; then
		t_ok "fork and delete reached the database"
	else
		t_fail "fork and delete reached the database" "$n sessions listed"
	fi

	# A title too long for its row ends in an ellipsis.  (Wait for the
	# browser to close first: an Esc followed at once by Ctrl-O is one
	# Alt key.)
	check_gone "Esc closes the browser" "^ Sessions \(" 50
	"$V" sessions rename --db "$T_DB" 2 \
		"Walrus facts and many more things about animals of the ice" \
		> /dev/null 2>&1
	keys C-o
	check "a long title is cut with an ellipsis" "Walrus facts and many…  "
	keys Escape
	check_gone "Esc closes the browser again" "^ Sessions \(" 50

	# Resize: the conversation reflows.
	check "wide: the answer fits one line" "naps, several times a day\. 日本語のテキスト"
	tm resize-window -t tui -x 40 -y 20
	check "narrow: the answer wraps" "^  times a day\. 日本語のテキスト$"
	check "narrow: status line is cut to fit" "…"
	tm resize-window -t tui -x 100 -y 30
	check "wide again: reflowed back" "naps, several times a day\. 日本語のテキスト"
else
	t_skip "session browser" "'vkchat sessions import' is not available"
fi

# Template picker: fill in the variables; the prompt is sent (or, with
# no engine, put back into the prompt line).
keys C-t
check "Ctrl-T opens the templates" "greet +say hello"
keys Enter
check "the form asks for the variables" "^ name +$|^ name$"
keys 'Ada' Enter 'French' Enter
if [ "$REAL" = 1 ]; then
	check "template is sent" "^  Say hello to Ada in French"
	keys C-c
	check_gone "its answer ends" "generating|stopping|reading the conversation" 600
else
	check "template fills the prompt" "^> Say hello to Ada in French\."
	keys C-c
fi

# Ctrl-Z suspends and fg restores the screen.
keys C-z
check "Ctrl-Z suspends" "^\[[0-9]+\]\+ +(Stopped|Suspended)"
shell "fg"
check "fg restores the screen" "^> *$"
check "fg restores the status line" " ctx "

# Chat with the model (needs the engine and a real model).
if [ "$REAL" = 0 ]; then
	t_skip "chat: streaming, stop, regenerate, resume" "shared model stories260K.gguf not found"
else
	keys '/new' Enter '/preset default' Enter '/set max_tokens=40' Enter
	check "model is loaded" " ctx [0-9]+/[0-9]+ " 600
	keys 'Once upon a time' Enter
	check "the prompt is shown" "^  Once upon a time" 50
	check "the answer streams and ends with statistics" "\[length limit\] · 40 tokens · .*tok/s" 600
	# the file name, as resumed sessions show it (general.name is "llama")
	check "the answer is labelled with the model's file" "^stories260K\.gguf *$"
	check_gone "the answer is finished" "generating|stopping|reading the conversation" 600
	# The inspector: the sampler's stages for each token of the answer.
	keys M-p
	check "Alt-P opens the inspector on the answer" "inspector · stories260K\.gguf · token 1 of 40"
	check "it shows the step's stages" "^ *token +id +model +top_k"
	keys Right Right
	check "Right steps to the next token" "token 3 of 40"
	check "the table is the step's" "^ *step 3: "
	keys End
	check "End goes to the last token" "token 40 of 40"
	keys Escape
	check_gone "Esc closes the inspector" "inspector ·"
	keys '/probs' Enter
	check "/probs opens it too" "inspector · stories260K\.gguf"
	keys q
	check_gone "q closes it" "inspector ·"
	# Token colours: Alt-C and /colour colour the answer's tokens by the
	# model's probability, changing attributes only.
	check_colours "colours off: the answer is plain" "Once upon" 0
	plain=$(answer_text "Once upon")
	keys M-c
	check "Alt-C: the status line says so" "│ colour by p"
	check "and a hint gives the legend" "tokens by the model's p: green >= 0\.9, yellow >= 0\.5, magenta >= 0\.1, bold red below"
	check_colours "Alt-C colours the answer's tokens in two bands or more" \
		"Once upon" 2
	if [ -n "$plain" ] && [ "$(answer_text "Once upon")" = "$plain" ]; then
		t_ok "colouring leaves the text and its layout as they were"
	else
		t_fail "colouring leaves the text and its layout as they were" \
			"before: '$plain', after: '$(answer_text "Once upon")'"
	fi
	keys M-c
	check_gone "Alt-C again: off" "colour by p"
	check_colours "Alt-C again takes the colours away" "Once upon" 0
	keys '/colour on' Enter
	check_colours "/colour on" "Once upon" 2
	keys '/colour' Enter
	check_colours "/colour toggles" "Once upon" 0
	keys '/colour bogus' Enter
	check "/colour names a bad argument" "/colour takes on or off, not 'bogus'"
	keys '/new' Enter '/set max_tokens=-1 temp=1' Enter
	keys 'Tell me a very long story' Enter
	check "generation runs" "generating" 300
	check_colours "the answer streaming is plain" - 0
	keys M-c
	check_colours "Alt-C while it streams colours it as it comes" - 2
	keys '/colour off' Enter
	check_colours "and /colour off makes it plain again" - 0
	keys C-c
	check "Ctrl-C stops it, keeping the answer" "\[stopped\]" 300
	check_gone "the stopped answer is finished" "generating|stopping|reading the conversation" 300
	json=$("$V" sessions list --db "$T_DB" --search "very long story" --json 2> /dev/null)
	sid=$(echo "$json" | sed -n 's/^ *"id": \([0-9]*\),.*/\1/p' | head -n 1)
	if "$V" sessions show --db "$T_DB" "$sid" --json 2> /dev/null |
		grep -q '"finish_reason": "cancelled"'; then
		t_ok "the stopped answer is stored as cancelled"
	else
		t_fail "the stopped answer is stored as cancelled" "session $sid"
	fi
	keys '/set max_tokens=20' Enter '/regen' Enter
	check "/regen makes a second answer" "answer 2 of 2" 600
	keys C-d
	after_exit EXIT
	check "Ctrl-D quits" "EXIT=0"
	shell "'$V'"
	check "plain vkchat reopens the session" "Tell me a very long story" 100
	check "resumed answers keep their statistics" "answer 2 of 2" 100
	# Their step records were not stored: they stay plain when coloured.
	keys '/colour on' Enter
	check "/colour on in the reopened session" "│ colour by p"
	check_colours "answers loaded from the database stay plain" \
		"Tell me a very long story" 0
	keys '/colour off' Enter
fi

# Ctrl-C on an empty prompt asks before quitting.
keys C-c
check "Ctrl-C on an empty prompt asks" "Quit vkchat\? \(y/n\)"
keys n
check_not "n stays" "Quit vkchat"

# Ctrl-D quits and gives the terminal back as it was.
keys C-d
after_exit END
check "Ctrl-D quits with status 0" "END=0"
check "terminal settings restored" "TTY-END"
if [ "$(tm display -p -t tui '#{mouse_any_flag}')" = 0 ]; then
	t_ok "mouse reporting off again"
else
	t_fail "mouse reporting off again" "the pane still asks for the mouse"
fi
if grep -q "temp=0.3 top_k=7" "$HOME_T/.local/state/vkchat/history" 2> /dev/null; then
	t_ok "history saved per user"
else
	t_fail "history saved per user" "no entry in $HOME_T/.local/state/vkchat/history"
fi

# Plain "vkchat" with nothing remembered and no pocket model (the pane's
# env -i drops lib.sh's VKCHAT_DATADIR) says how to give a model.
shell "XDG_STATE_HOME='$T_TMP/empty' VKCHAT_DATADIR='$T_TMP/empty' '$V'; echo EXIT3=\$?"
check "no model remembered: says how to pass -m" "no model to open: start the chat with 'vkchat -m"
check "no model remembered: status 1" "EXIT3=1"

# The user's ~/.inputrc (here $INPUTRC) is readline's: vi mode.
echo "set editing-mode vi" > "$T_TMP/inputrc"
shell "'$V' -m '$MODEL' --db '$T_DB' --new --temp 0.25 -n 7"
check "vi mode: starts" "^> *$"
keys '/params' Enter
check "generation options apply over the preset" "temperature=0.25 "
check "generation options apply over the preset: -n" "max_tokens=7 "
keys 'hello big world'
sleep 0.2
keys Escape
sleep 0.2
keys 0 d w
check "vi mode: Esc 0 dw edits" "^> big world$"
for k in 1 2 3; do
	keys C-c
	sleep 0.3
done
after_exit VI
check "vi mode: Ctrl-C twice on an empty line quits" "VI=0"

# Token colours on a terminal without colours (NO_COLOR): the bands are
# attributes, dim (p >= 0.9), plain, underlined and bold underlined.
if [ "$REAL" = 1 ]; then
	: > "$T_TMP/inputrc"
	tm new-session -d -s mono -x 100 -y 30 \
		"env -i PATH='$PATH' HOME='$HOME_T' TERM=\"\$TERM\" LANG='$LOC' \
		NO_COLOR=1 INPUTRC='$T_TMP/inputrc' '$V' -m '$MODEL' \
		--db '$T_DB' --new --temp 1 --seed 5 -n 40; sleep 30"
	PANE=mono
	# The SGR sequences in the answer's text (not its statistics line,
	# which is dim), one word each.
	mono_sgr() {
		answer_sgr "Once upon" | grep -v "tok/s" |
			grep -o "$ESC\[[0-9;]*m" | sort -u | tr -d '\033' | tr '\n' ' '
	}
	check "NO_COLOR: the model is loaded" " ctx [0-9]+/[0-9]+ " 600
	keys 'Once upon a time' Enter
	check "NO_COLOR: the answer ends" "\[length limit\] · 40 tokens" 600
	keys '/colour on' Enter
	check "NO_COLOR: the legend names the attributes" \
		"dim >= 0\.9, plain >= 0\.5, underlined >= 0\.1, bold underlined below"
	n=50
	while [ "$n" -gt 0 ]; do
		sgr=$(mono_sgr)
		echo "$sgr" | grep -Eq '[[;]4[;m]' && break
		sleep 0.1
		n=$((n - 1))
	done
	if echo "$sgr" | grep -Eq '[[;]4[;m]' &&
		! echo "$sgr" | grep -Eq '[[;]3[0-7][;m]'; then
		t_ok "NO_COLOR: tokens underlined, no colours"
	else
		t_fail "NO_COLOR: tokens underlined, no colours" "SGR seen: $sgr"
		tm capture-pane -p -e -t mono | cat -v | sed 's/^/#   |/'
	fi
	keys '/colour off' Enter
	n=50
	while [ "$n" -gt 0 ]; do
		sgr=$(mono_sgr)
		echo "$sgr" | grep -Eq '[[;][1-4][;m]' || break
		sleep 0.1
		n=$((n - 1))
	done
	if [ -n "$(answer_text "Once upon" | tr -d ' ')" ] &&
		! echo "$sgr" | grep -Eq '[[;][1-4][;m]'; then
		t_ok "NO_COLOR: /colour off leaves the answer plain"
	else
		t_fail "NO_COLOR: /colour off leaves the answer plain" "SGR seen: $sgr"
	fi
	PANE=tui
fi
t_end
