# The program's top level: usage, version, unknown commands, and the
# option errors of every command.
. "$TOP_SRCDIR/tests/lib.sh"
t_expect "no arguments prints usage, status 1" 1 "usage: vkchat" "$VKCHAT"
t_expect "--help prints usage" 0 "commands:" "$VKCHAT" --help
t_expect "version" 0 "^vkchat [0-9]+\.[0-9]+" "$VKCHAT" version
t_expect "unknown command" 1 "unknown command 'frobnicate'" "$VKCHAT" frobnicate
t_expect "help for unknown command" 1 "unknown command or manual topic 'nope'" "$VKCHAT" help nope
t_expect "help --help" 0 "^usage: vkchat " "$VKCHAT" help --help
t_expect "help -h" 0 "commands:" "$VKCHAT" help -h
t_expect "help help" 0 "commands:" "$VKCHAT" help help
# "vkchat help TOPIC" opens manual page vkchat-TOPIC: from the source tree
# while vkchat runs from its build directory, before any install.
if command -v man > /dev/null 2>&1; then
	MANPAGER=cat MANWIDTH=80 t_expect "help sampling opens vkchat-sampling(7)" 0 \
	    "VKCHAT-SAMPLING\(7\)" "$VKCHAT" help sampling
	MANPAGER=cat MANWIDTH=80 t_expect "help vkchat opens vkchat(1)" 0 \
	    "^VKCHAT\(1\)" "$VKCHAT" help vkchat
else
	t_skip "help sampling opens vkchat-sampling(7)" "no man(1) here"
	t_skip "help vkchat opens vkchat(1)" "no man(1) here"
fi

# Option errors of every command: status 1, the exact message first (the
# option as typed: '-x' for a short one, else the whole argument), then
# where it says so one line pointing at the command's --help, never the
# whole usage.
t_usage() {
	name=$1 usage=$2 want=$3
	shift 3
	"$@" > "$T_OUT" 2>&1 < /dev/null
	got=$?
	first=$(sed -n 1p "$T_OUT")
	second=$(sed -n 2p "$T_OUT")
	lines=$(wc -l < "$T_OUT")
	case $usage:$lines:$second in
	yes:2:"Try 'vkchat "*" --help' for more.") ;;
	no:1:*) ;;
	yes:*) first="$first (not followed by the one-line hint alone)" ;;
	*) first="$first (more than one line)" ;;
	esac
	if [ "$got" -eq 1 ] && [ "$first" = "vkchat: $want" ]; then
		t_ok "$name"
	else
		t_fail "$name" "status $got: '$first', want 'vkchat: $want'"
	fi
}
V=$VKCHAT
B="bad option or missing argument"
for c in run compare chat; do
	t_usage "$c: unknown long option" yes "$c: $B '--bogus'" $V $c --bogus
	t_usage "$c: unknown short option" yes "$c: $B '-x'" $V $c -vx
	t_usage "$c: -m without its file" yes "$c: $B '-m'" $V $c -m
	t_usage "$c: --model without its file" yes "$c: $B '--model'" \
		$V $c --model
	t_usage "$c: a short option after a long one" yes "$c: $B '-x'" \
		$V $c --system s -xh
	t_usage "$c: -n without its count" yes "$c: $B '-n'" $V $c -m x -n
	t_usage "$c: --temp without its value" yes "$c: $B '--temp'" \
		$V $c -m x --temp
	t_usage "$c: an ambiguous abbreviation" yes "$c: $B '--s'" \
		$V $c -m x --s 1
	t_usage "$c: --device needs an index" yes \
		"--device: 'x' is not a device index (0-255; see 'vkchat devices')" \
		$V $c -m x --device x
	t_usage "$c: an unexpected argument" yes \
		"$c: unexpected argument 'extra'" $V $c -m x extra
done
t_usage "run: --ctx needs a length" yes \
	"--ctx: '0' is not a context length (1-1048576)" $V run -m x --ctx 0
t_usage "chat: --ctx needs a length" yes \
	"--ctx: 'abc' is not a context length (1-1048576)" $V chat --ctx abc
t_usage "compare: --ctx needs a length" yes \
	"compare: --ctx: '0' is not a context length (1-1048576)" \
	$V compare -m x --ctx 0
t_usage "compare: --width needs a width" yes \
	"compare: --width: '5' is not a width (20-100000)" $V compare -w 5
t_usage "run: --chat takes no value" yes "run: $B '--chat=1'" \
	$V run --chat=1
t_usage "run: an abbreviation names its parameter" no \
	"run: repeat_penalty: 'abc' is not a number" \
	$V run -m x -p hi --rep abc
t_usage "run: -p and -f" yes "run: -p and -f exclude each other" \
	$V run -m x -p a -f b
t_usage "run: --special is raw" yes \
	"run: --special, --bos and --no-bos are for raw prompts, not --chat" \
	$V run -m x -p a --system s --special
t_usage "compare: -p and -f" yes "compare: -p and -f exclude each other" \
	$V compare -m x -p a -f b
t_usage "compare: an option error stops at the first" yes \
	"compare: --sweep 'temp' is not KEY=VALUE,VALUE,..." \
	$V compare -m x --sweep temp --bogus
t_usage "compare: --same-seed=1" yes "compare: $B '--same-seed=1'" \
	$V compare --same-seed=1
t_usage "chat: has no -p" yes "chat: $B '-p'" $V chat -m x -p hi
t_usage "chat: has no --prompt" yes "chat: $B '--prompt'" \
	$V chat -m x --prompt hi
t_usage "chat: --plain takes no value" yes "chat: $B '--plain=1'" \
	$V chat --plain=1
t_usage "bench: unknown long option" yes "bench: $B '--bogus'" \
	$V bench --bogus
t_usage "bench: unknown short option" yes "bench: $B '-x'" $V bench -x
t_usage "bench: --model without its file" yes "bench: $B '--model'" \
	$V bench --model
t_usage "bench: a short option after a long one" yes "bench: $B '-x'" \
	$V bench --json -xh
t_usage "bench: -m without its file" yes "bench: $B '-m'" $V bench --json -m
t_usage "bench: --parallel needs a count" yes \
	"--parallel: '9' is not a count (1-8)" $V bench --parallel 9
t_usage "tokenize: unknown short option" yes "tokenize: $B '-x'" \
	$V tokenize -x
t_usage "tokenize: unknown long option" yes "tokenize: $B '--bogus'" \
	$V tokenize --bogus
t_usage "tokenize: a short option after a long one" yes \
	"tokenize: $B '-x'" $V tokenize --json -xh
t_usage "tokenize: --bench without its count" yes "tokenize: $B '--bench'" \
	$V tokenize --bench
t_usage "tokenize: --bench needs a count" no \
	"--bench: '0' is not a count (1-1000000)" $V tokenize --bench 0
t_usage "info: unknown option" yes "info: unknown option '--frob'" \
	$V info --frob
t_usage "devices: unknown short option" yes "devices: unknown option '-q'" \
	$V devices -q
t_usage "devices: a short option after a long one" yes \
	"devices: unknown option '-q'" $V devices --json -qh
t_usage "devices: a long option's letter is not an option" yes \
	"devices: unknown option '--json=1'" $V devices --json=1
t_end
