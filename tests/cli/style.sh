# House rules that a machine can check: banned functions, the include
# direction between layers, and clang-format.
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TOP_SRCDIR" || exit 1

# The sources in git, not what a build in the source tree generates
# (src/shaders-embed.c, config.h).
c_files=$(ls src/*.c src/*.h storage/*.c storage/*.h ui/*.c ui/*.h \
	tests/*.c tests/*.h 2>/dev/null | grep -v -e '^src/shaders-embed\.c$' \
	-e '^config\.h$')

# git's list, for the same reasons: unbounded or thread-unsafe.
banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|gets|strncpy|strncat|asctime|ctime|gmtime|localtime|atoi)[[:space:]]*\('
hits=$(grep -nE "$banned" $c_files | grep -v 'tests/harness.c')
if [ -z "$hits" ]; then
	t_ok "no banned functions"
else
	t_fail "no banned functions" "$(echo "$hits" | head -n 5)"
fi

# src/ never includes ui/ or storage/ headers; storage/ never includes ui/.
bad=""
for f in src/*.c src/*.h; do
	for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		case "$h" in config.h) continue ;; esac
		[ -e "src/$h" ] || [ "$h" = shaders-embed.c ] || bad="$bad $f:$h"
	done
done
for f in storage/*.c storage/*.h; do
	[ -e "$f" ] || continue
	for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		[ -e "ui/$h" ] && [ ! -e "src/$h" ] && [ ! -e "storage/$h" ] && bad="$bad $f:$h"
	done
done
if [ -z "$bad" ]; then
	t_ok "layers include downwards only"
else
	t_fail "layers include downwards only" "$bad"
fi

# The TUI's screens form a tree (ui/view.h): the chat screen opens the
# overlays and drives the controllers; overlays ask through tui_request
# and include no other screen; compare mode and the shown branch never
# reach back up to the chat screen or its controller.
bad=""
for pair in "ui/browser.c:chatscreen.h chatctl.h comparemode.h picker.h help.h" \
	"ui/picker.c:chatscreen.h chatctl.h comparemode.h browser.h help.h" \
	"ui/help.c:chatscreen.h chatctl.h comparemode.h browser.h picker.h" \
	"ui/inspector.c:chatscreen.h chatctl.h comparemode.h browser.h picker.h help.h" \
	"ui/comparemode.c:chatscreen.h chatctl.h browser.h picker.h help.h" \
	"ui/chatctl.c:chatscreen.h browser.h picker.h help.h" \
	"ui/chatlog.c:chatscreen.h chatctl.h comparemode.h" \
	"ui/prompt.c:chatscreen.h chatctl.h comparemode.h"; do
	f=${pair%%:*}
	for h in ${pair#*:}; do
		grep -q "^#include \"$h\"" "$f" && bad="$bad $f:$h"
	done
done
if [ -z "$bad" ]; then
	t_ok "the TUI's screens form a tree"
else
	t_fail "the TUI's screens form a tree" "$bad"
fi

if command -v clang-format >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	if out=$(clang-format --dry-run -Werror $c_files 2>&1); then
		t_ok "clang-format"
	else
		t_fail "clang-format" "$(echo "$out" | grep -E "error|warning" | head -n 5)"
	fi
else
	t_skip "clang-format" "clang-format not installed"
fi
t_end
