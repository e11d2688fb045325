# The program's top level: usage, version, unknown commands.
. "$TOP_SRCDIR/tests/lib.sh"
t_expect "no arguments prints usage, status 1" 1 "usage: vkchat" "$VKCHAT"
t_expect "--help prints usage" 0 "commands:" "$VKCHAT" --help
t_expect "version" 0 "^vkchat [0-9]+\.[0-9]+" "$VKCHAT" version
t_expect "unknown command" 1 "unknown command 'frobnicate'" "$VKCHAT" frobnicate
t_expect "help for unknown command" 1 "unknown command" "$VKCHAT" help nope
t_end
