# Every manual page is lint-clean under mandoc -Tlint (warnings and up).
. "$TOP_SRCDIR/tests/lib.sh"
if ! command -v mandoc >/dev/null 2>&1; then
	t_skip man-lint "mandoc not installed (Debian package mandoc)"
	t_end
	exit
fi
for page in "$TOP_SRCDIR"/man/*.[1-9]; do
	name=$(basename "$page")
	if out=$(mandoc -Tlint -W warning "$page" 2>&1) && [ -z "$out" ]; then
		t_ok "man-lint $name"
	else
		t_fail "man-lint $name" "$(echo "$out" | head -n 5)"
	fi
done
t_end
