# Helpers for the TAP test scripts in tests/cli (sourced, POSIX sh).
#
#   t_ok NAME / t_fail NAME WHY / t_skip NAME WHY    record one result
#   t_run NAME CMD...           ok when CMD exits 0 (its output is kept in $T_OUT)
#   t_expect NAME STATUS PATTERN CMD...
#                               ok when CMD exits with STATUS and its stdout
#                               plus stderr matches the grep -E PATTERN
#   t_shared FILE               prints the path of a shared data file, or
#                               returns 1 when it is absent
#   t_end                       exit status: 1 if anything failed
# Each script gets a private temporary directory $T_TMP and database $T_DB,
# and no pocket model ($VKCHAT_DATADIR names an empty place).

T_N=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vkchat-cli-XXXXXX")
T_OUT="$T_TMP/.out"
T_DB="$T_TMP/test.db"
export VKCHAT_DB="$T_DB"
# No pocket model unless a script provides one: VKCHAT_DATADIR, when set, is
# the only place vkchat looks for it (ui/pocket.c), so an installed one or a
# data/pocket.gguf in the source tree never changes what a command given no
# -m does in a test.
export VKCHAT_DATADIR="$T_TMP/no-pocket"
trap 'rm -rf "$T_TMP"' EXIT

t_ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1"
}

t_fail() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $1"
	echo "# $2"
}

t_skip() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1 # SKIP $2"
}

t_run() {
	name=$1
	shift
	if "$@" > "$T_OUT" 2>&1; then
		t_ok "$name"
	else
		t_fail "$name" "exit status $?: $*"
		sed 's/^/#   /' "$T_OUT" | head -n 20
	fi
}

t_expect() {
	name=$1 want=$2 pat=$3
	shift 3
	"$@" > "$T_OUT" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		t_fail "$name" "exit status $got, want $want: $*"
		sed 's/^/#   /' "$T_OUT" | head -n 20
	elif [ -n "$pat" ] && ! grep -Eq -- "$pat" "$T_OUT"; then
		t_fail "$name" "output does not match /$pat/: $*"
		sed 's/^/#   /' "$T_OUT" | head -n 20
	else
		t_ok "$name"
	fi
}

t_shared() {
	[ -n "${VKCHAT_SHARED:-}" ] && [ -r "$VKCHAT_SHARED/$1" ] || return 1
	echo "$VKCHAT_SHARED/$1"
}

# The plan, last (tests/run.sh fails a script that ends without it, or
# with fewer results than it says), and the status: 1 if anything failed.
t_end() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}
