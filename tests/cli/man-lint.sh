# Every manual page is lint-clean under mandoc -Tlint (warnings and up)
# and renders without a warning under groff (what Debian's man uses).
. "$TOP_SRCDIR/tests/lib.sh"
if ! command -v mandoc >/dev/null 2>&1; then
	t_skip man-lint "mandoc not installed (Debian package mandoc)"
else
	for page in "$TOP_SRCDIR"/man/*.[1-9]; do
		name=$(basename "$page")
		if out=$(mandoc -Tlint -W warning "$page" 2>&1) && [ -z "$out" ]; then
			t_ok "man-lint $name"
		else
			t_fail "man-lint $name" "$(echo "$out" | head -n 5)"
		fi
	done
fi
if ! command -v groff >/dev/null 2>&1; then
	t_skip "groff" "groff not installed (Debian package groff)"
else
	for page in "$TOP_SRCDIR"/man/*.[1-9]; do
		name=$(basename "$page")
		if out=$(groff -ww -z -Tutf8 -mdoc "$page" 2>&1) && [ -z "$out" ]; then
			t_ok "groff -ww $name"
		else
			t_fail "groff -ww $name" "$(echo "$out" | head -n 5)"
		fi
	done
fi
t_end
