# tests/tmux.sh: what the end-to-end tests of the full-screen interface
# share; sourced after tests/lib.sh.  vkchat runs in a pane of a private
# tmux server (socket vkchat-TAG-PID), keys go in with send-keys and the
# screen is read back with capture-pane; every wait polls the screen with
# a bounded timeout, and the server is killed at exit, failed or not.
#
# tmux_setup NAME TAG: without tmux, skip the script (as NAME) and exit;
# else set TM, V (the vkchat binary), SOCK, HOME_T (an empty HOME for the
# pane) and LOC (a UTF-8 locale for it).  PANE names the session that
# screen, keys and shell talk to (default: tui).

tmux_setup() {
	TM=${TMUX_BIN:-$(command -v tmux)}
	if [ -z "$TM" ] || [ ! -x "$TM" ]; then
		t_skip "$1" "tmux not installed (Debian package tmux)"
		t_end
		exit
	fi
	V=$VKCHAT
	SOCK="vkchat-$2-$$"
	HOME_T="$T_TMP/home"
	mkdir -p "$HOME_T"
	trap tmux_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	LOC=$(locale -a 2> /dev/null | grep -i -m 1 '^c\.utf-\?8$')
	[ -n "$LOC" ] || LOC=C.UTF-8
}
tmux_cleanup() {
	tm kill-server > /dev/null 2>&1
	rm -rf "$T_TMP" 2> /dev/null || { sleep 1; rm -rf "$T_TMP"; }
}
tm() { "$TM" -L "$SOCK" "$@"; }

# poll TENTHS COMMAND...: run COMMAND every tenth of a second until it
# succeeds (status 0) or TENTHS tries have failed (status 1).
poll() {
	n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
# screen: the pane's text.  wait_for PATTERN [TENTHS]: poll until it shows.
screen() { tm capture-pane -p -t "${PANE:-tui}" 2> /dev/null; }
screen_has() { screen | grep -Eq -- "$1"; }
wait_for() { poll "${2:-100}" screen_has "$1"; }
# check NAME PATTERN [TENTHS]: a test that PATTERN appears on the screen.
check() {
	if wait_for "$2" "${3:-100}"; then
		t_ok "$1"
	else
		t_fail "$1" "the screen never showed /$2/:"
		screen | sed 's/^/#   |/'
	fi
}
# check_not NAME PATTERN: PATTERN is not on the screen (after a moment).
check_not() {
	sleep 0.3
	if screen | grep -Eq -- "$2"; then
		t_fail "$1" "the screen still shows /$2/:"
		screen | sed 's/^/#   |/'
	else
		t_ok "$1"
	fi
}
# check_gone NAME PATTERN [TENTHS]: PATTERN goes away from the screen.
check_gone() {
	n=${3:-100}
	while [ "$n" -gt 0 ]; do
		if ! screen | grep -Eq -- "$2"; then
			t_ok "$1"
			return
		fi
		sleep 0.1
		n=$((n - 1))
	done
	t_fail "$1" "the screen still shows /$2/:"
	screen | sed 's/^/#   |/'
}
# keys KEY...: send keys to the pane.  shell LINE: type LINE and Enter.
keys() { tm send-keys -t "${PANE:-tui}" "$@"; }
shell() { tm send-keys -t "${PANE:-tui}" "$1" Enter; }
