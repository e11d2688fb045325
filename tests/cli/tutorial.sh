# vkchat-tutorial(7) runs as written: every "$ command" of its literal
# blocks is run in order, in a fresh database, on the pocket model, and
# the output printed under it must come out the same where it is fixed (a
# seed or temperature 0, no "..." elision, no date or speed); elsewhere
# the command must succeed.  The notice naming the pocket model is left
# out, as the page says.
. "$TOP_SRCDIR/tests/lib.sh"

PAGE="$TOP_SRCDIR/man/vkchat-tutorial.7"
if [ ! -r "$TOP_SRCDIR/data/pocket.gguf" ]; then
	t_skip "tutorial" "no data/pocket.gguf in the source tree"
	t_end
	exit
fi
export VKCHAT_DATADIR="$TOP_SRCDIR/data"
mkdir -p "$T_TMP/bin"
ln -s "$VKCHAT" "$T_TMP/bin/vkchat"
PATH="$T_TMP/bin:$PATH"
export PATH
cd "$T_TMP" || exit 1

# Split the page into cases: T_TMP/case.N.cmd and case.N.want.
awk -v dir="$T_TMP" '
function unesc(s) {
	gsub(/\\e/, "\\", s); gsub(/\\\(ga/, "`", s); gsub(/\\&/, "", s)
	gsub(/\\\(dq/, "\"", s)
	return s
}
/^\.Bd -literal/ { lit = 1; next }
/^\.Ed/ { lit = 0; cont = 0; next }
!lit { next }
{
	line = unesc($0)
	if (cont) {
		printf "%s\n", line >> cmd
		cont = line ~ /\\$/
		next
	}
	if (substr(line, 1, 2) == "$ ") {
		n++
		cmd = dir "/case." n ".cmd"; want = dir "/case." n ".want"
		printf "%s\n", substr(line, 3) > cmd
		printf "" > want
		cont = line ~ /\\$/
		next
	}
	if (n)
		printf "%s\n", line >> want
}
END { print n > (dir "/cases") }
' "$PAGE"

n=$(cat "$T_TMP/cases")
last=0
i=1
while [ "$i" -le "$n" ]; do
	cmd=$(cat "$T_TMP/case.$i.cmd")
	i=$((i + 1))
	case $cmd in
	vkchat) continue ;; # the chat screen: tmux tests cover it
	"export VKCHAT_DB="*) continue ;; # this script has a fresh one
	"echo \$?")
		got=$last
		want=$(cat "$T_TMP/case.$((i - 1)).want")
		if [ "$got" = "$want" ]; then
			t_ok "tutorial: the status printed is $want"
		else
			t_fail "tutorial: the status printed" "$got, the page says $want"
		fi
		continue
		;;
	esac
	# shellcheck disable=SC2086
	(eval "$cmd") > "$T_TMP/got" 2>&1
	last=$?
	# On a terminal the text ends in a newline before the notices after
	# it; here it is a file.
	grep -v '^vkchat: using the pocket model' "$T_TMP/got" |
		sed -e 's/\(.\)\(vkchat: saved as session\)/\1\
\2/' -e '$a\' > "$T_TMP/got2"
	want="$T_TMP/case.$((i - 1)).want"
	name="tutorial: $(head -n 1 "$T_TMP/case.$((i - 1)).cmd" | cut -c1-60)"
	fixed=1
	grep -Eq -- '--temp 0( |$)|--seed|sessions replay|templates add' \
		"$T_TMP/case.$((i - 1)).cmd" || fixed=0
	grep -Eq '\.\.\.|[0-9]{4}-[0-9]{2}-[0-9]{2}|tok/s|tokens/s' "$want" && fixed=0
	if [ "$last" -ne 0 ]; then
		t_fail "$name" "exit status $last"
		sed 's/^/#   /' "$T_TMP/got2" | head -n 10
	elif [ "$fixed" -eq 1 ] && ! diff -u "$want" "$T_TMP/got2" > "$T_TMP/diff"; then
		t_fail "$name" "the output differs from the page"
		sed 's/^/#   /' "$T_TMP/diff" | head -n 20
	else
		t_ok "$name"
	fi
done
t_end
