# Compare mode in the full-screen interface, end to end: vkchat runs in a
# tmux pane (its own tmux server, a 120x30 window); a 3-column sweep
# streams, a number key picks the winner, the chat shows it and the run
# is stored with the winner marked.  Every wait polls the screen with a
# bounded timeout; the tmux server is killed at the end, failed or not.
#
# Needs the shared stories260K model; skips without it (or without tmux).
. "$TOP_SRCDIR/tests/lib.sh"
. "$TOP_SRCDIR/tests/tmux.sh"
tmux_setup "tui compare" cmp
MODEL=$(t_shared models/stories260K.gguf) || {
	t_skip "tui compare" "shared model stories260K.gguf not found"
	t_end
	exit
}

tm -f /dev/null new-session -d -s tui -x 120 -y 30 \
	"env -i PATH='$PATH' HOME='$HOME_T' TERM=\"\$TERM\" LANG='$LOC' \
	VKCHAT_DB='$T_DB' '$V' -m '$MODEL' --db '$T_DB' --new -n 24; \
	echo EXIT=\$?; sleep 30"
check "the screen opens" " ctx " 100
check "model is loaded" " ctx [0-9]+/[0-9]+ " 600
keys '/compare temp=0.5' Enter
check "one column is refused" "needs 2 to 8 columns"
keys '/compare temp=0.5,bogus' Enter
check "bad values are named" "bogus"
keys '/compare temp=0.2,0.7,1.2' Enter
check "/compare arms three columns" "compare mode: 3 columns"
check "headers show only what differs" \
	"1 default temperature=0\.2 .*2 default temperature=0\.7 .*3 default temperature=1\.2"
keys 'Once upon a time' Enter
check "all three columns end with speed and reason" \
	"tok/s \[length\] .*tok/s \[length\] .*tok/s \[length\]" 600
# Every column has text: the first text row under the headers.
row=$(screen | grep -n "1 default temperature=0\.2" | head -n 1 | cut -d: -f1)
text=$(screen | sed -n "$((row + 1))p")
if [ -n "$row" ] && [ "$(echo "$text" | tr -d ' │|' | wc -c)" -gt 3 ] &&
	echo "$text" | grep -Eq '[[:alpha:]].*│ *[^ ].*│ *[^ ]'; then
	t_ok "every column streamed text"
else
	t_fail "every column streamed text" "row under the headers: '$text'"
	screen | sed 's/^/#   |/'
fi
check "asks for the winner" "pick the winner with 1-3"
# Token colours: each column coloured by its own records.  The rows
# between the headers and the columns' last line, with their attributes,
# cut at the separators: how many of the bands' colours (SGR 31, 32, 33,
# 35) each column shows, as "N N N"; the text without them.
ESC=$(printf '\033')
column_rows() {
	tm capture-pane -p -e -t tui | awk -v esc="$ESC" '
		{ plain = $0; gsub(esc "\\[[0-9;]*m", "", plain) }
		plain ~ /^1 default temperature=0\.2/ { on = 1; next }
		on && plain ~ /tok\/s \[/ { exit }
		on { print }'
}
column_bands() {
	column_rows | awk -F'│' -v esc="$ESC" '
		{
			for (i = 1; i <= 3; i++) {
				f = $i
				while (match(f, esc "\\[[0-9;]*m")) {
					np = split(substr(f, RSTART + 2,
					    RLENGTH - 3), p, ";")
					for (k = 1; k <= np; k++)
						if (p[k] ~ /^3[1235]$/)
							seen[i, p[k]] = 1
					f = substr(f, RSTART + RLENGTH)
				}
			}
		}
		END {
			if (NR == 0) {
				print "no rows"
				exit
			}
			for (i = 1; i <= 3; i++) {
				n = 0
				for (c = 31; c <= 35; c++)
					if ((i, c) in seen)
						n++
				printf "%s%d", (i > 1 ? " " : ""), n
			}
			print ""
		}'
}
# wait_bands PATTERN: poll until column_bands matches the grep -E PATTERN.
bands_match() { column_bands | grep -Eq -- "$1"; }
wait_bands() { poll 50 bands_match "$1"; }
plain=$(column_rows | sed "s/$ESC\[[0-9;]*m//g")
if wait_bands "^0 0 0$"; then
	t_ok "columns are plain to begin with"
else
	t_fail "columns are plain to begin with" "bands per column: $(column_bands)"
fi
keys M-c
if wait_bands "^[1-9] [1-9] [1-9]$"; then
	t_ok "Alt-C colours every column's tokens"
else
	t_fail "Alt-C colours every column's tokens" "bands per column: $(column_bands)"
	tm capture-pane -p -e -t tui | cat -v | sed 's/^/#   |/'
fi
if [ -n "$plain" ] &&
	[ "$(column_rows | sed "s/$ESC\[[0-9;]*m//g")" = "$plain" ]; then
	t_ok "the columns' text and layout are as they were"
else
	t_fail "the columns' text and layout are as they were" "$(column_rows)"
fi
keys M-c
if wait_bands "^0 0 0$"; then
	t_ok "Alt-C again: plain columns"
else
	t_fail "Alt-C again: plain columns" "bands per column: $(column_bands)"
fi
# A narrow terminal says so instead of drawing the columns.
tm resize-window -t tui -x 30 -y 30
check "narrow terminal: says so" "compare: 3 columns need"
tm resize-window -t tui -x 120 -y 30
check "wide again: columns are back" "3 default temperature=1\.2"
# The inspector holds every column: the focused one's stages, the others'
# draws at the same step; Tab moves between them.
keys M-p
check "Alt-P in compare mode: the columns in the inspector" \
	"inspector · column 1: temperature=0\.2 · token 1 of"
check "the other columns at the same step" "column 2: temperature=0\.7: drew "
check "and the third" "column 3: temperature=1\.2: drew "
keys Tab
check "Tab focuses the next column" "inspector · column 2: temperature=0\.7"
keys Escape
check_gone "Esc closes it, compare mode stays" "inspector ·"
check "compare mode stays" "compare: 1-3 picks the winner"
winner=$(screen | grep -A1 "2 default temperature=0\.7" | tail -n 1 |
	awk -F'│' '{print $2}' | sed 's/^ *//; s/ *$//')
keys 2
check "the winner is the answer" "column 2 \(default\) is the answer"
check "the chat shows its text" "^ *$(echo "$winner" | cut -c1-12 |
	sed 's/[].[*^$()+?{}|\\]/\\&/g')"
# The winner's answer in the chat keeps its records: coloured too (the
# bands other than green, which the labels use, on the rows above the
# hint, status and prompt lines).
keys '/colour on' Enter
n=50
while [ "$n" -gt 0 ]; do
	got=$(tm capture-pane -p -e -t tui | sed '$d' | sed '$d' | sed '$d' |
		grep -o "$ESC\[[0-9;]*m" | sed 's/.*\[//; s/m$//' | tr ';' '\n' |
		grep -E '^3[135]$' | sort -u | wc -l)
	[ "$got" -ge 2 ] && break
	sleep 0.1
	n=$((n - 1))
done
if [ "$got" -ge 2 ]; then
	t_ok "the winner's answer in the chat is coloured by its records"
else
	t_fail "the winner's answer in the chat is coloured by its records" \
		"$got band colours"
	tm capture-pane -p -e -t tui | cat -v | sed 's/^/#   |/'
fi
keys '/colour off' Enter
out=$("$V" sessions show --db "$T_DB" 1 2>&1)
if echo "$out" | grep -q "=== compare run 1" &&
	echo "$out" | grep -q "column 2: default (winner)" &&
	echo "$out" | grep -q "settings: temperature=1.2"; then
	t_ok "sessions show lists the run with the winner"
else
	t_fail "sessions show lists the run with the winner" "$out"
fi
if echo "$out" | grep -q "version 3 of 3"; then
	t_ok "the other columns are kept as branches"
else
	t_fail "the other columns are kept as branches" "$out"
fi
keys C-d
check "Ctrl-D quits" "EXIT=0" 100
t_end
