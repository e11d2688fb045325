# The pocket model (ui/pocket.c): what the commands taking -m use when
# given none, the notice that says so, and the errors when there is none.
#
# data/pocket.gguf may not exist yet, so a stand-in plays its part: a
# private data directory named by VKCHAT_DATADIR (then the only place
# looked) holding a symlink pocket.gguf -> the shared stories260K model.
# Without the shared model the tests that run a model skip; the errors
# are tested either way.
. "$TOP_SRCDIR/tests/lib.sh"

V=$VKCHAT
NOTICE="vkchat: using the pocket model, a tiny demo model: a pocket dictionary .*explain vkchat; for a real model give a GGUF file with -m, as in 'vkchat -m MODEL.gguf'"
EMPTY="$T_TMP/empty"
mkdir -p "$EMPTY"

# No pocket model: every command says there is no model, how to give one
# and where it looked, with status 1.
LOOKED="no model: give one with -m MODEL.gguf; the pocket model .*is not installed: looked for '$EMPTY/pocket.gguf', the only place looked while VKCHAT_DATADIR is set"
t_expect "run: no pocket model: names the place looked" 1 "run: $LOOKED" \
	env VKCHAT_DATADIR="$EMPTY" "$V" run -p hi
t_expect "chat --plain: no pocket model: names the place looked" 1 "chat: $LOOKED" \
	env VKCHAT_DATADIR="$EMPTY" "$V" chat --plain < /dev/null
t_expect "compare: no pocket model: names the place looked" 1 "compare: $LOOKED" \
	env VKCHAT_DATADIR="$EMPTY" "$V" compare -p hi --preset precise --preset creative
t_expect "bench: no pocket model: names the place looked" 1 "bench: $LOOKED" \
	env VKCHAT_DATADIR="$EMPTY" "$V" bench
t_expect "tokenize: no pocket model: names the place looked" 1 "tokenize: $LOOKED" \
	env VKCHAT_DATADIR="$EMPTY" "$V" tokenize -p hi

# Bad options are reported before any model is looked for.
t_expect "option errors come first" 1 "^vkchat: run: -p and -f exclude each other" \
	env VKCHAT_DATADIR="$EMPTY" "$V" run -p hi -f x

# Something that is not a file is named as such.
mkdir -p "$T_TMP/dirty/pocket.gguf"
t_expect "a directory named pocket.gguf is not taken" 1 \
	"looked for '$T_TMP/dirty/pocket.gguf' \(not a regular file\)" \
	env VKCHAT_DATADIR="$T_TMP/dirty" "$V" tokenize -p hi

# A broken pocket model: the loader's error names the file, status 2.
mkdir -p "$T_TMP/broken"
printf 'GGUF\003\000\000\000' > "$T_TMP/broken/pocket.gguf"
t_expect "a broken pocket model: the error names it" 2 "$T_TMP/broken/pocket.gguf" \
	env VKCHAT_DATADIR="$T_TMP/broken" "$V" tokenize -p hi

# Without VKCHAT_DATADIR: the installed data directory, then (this vkchat
# runs from its build directory) the source tree's data/.  Either one is
# there (then it is used, with the notice) or both are named.
env -u VKCHAT_DATADIR "$V" tokenize -p hi > "$T_OUT" 2>&1
st=$?
if [ "$st" -eq 0 ] && grep -Eq -- "$NOTICE" "$T_OUT"; then
	t_ok "built-in places: a pocket model found is used with the notice"
elif [ "$st" -eq 1 ] && grep -Eq -- "looked for '/[^']*/vkchat/pocket\.gguf' and '/[^']*/data/pocket\.gguf'$" "$T_OUT"; then
	t_ok "built-in places: the installed one and the source tree's are named"
else
	t_fail "built-in places" "status $st"
	sed 's/^/#   /' "$T_OUT" | head -n 5
fi
# A copy of the binary outside its build directory counts as installed:
# it never looks into the source tree.
mkdir -p "$T_TMP/bin"
cp "$V" "$T_TMP/bin/vkchat"
env -u VKCHAT_DATADIR "$T_TMP/bin/vkchat" tokenize -p hi > "$T_OUT" 2>&1
st=$?
if [ "$st" -eq 0 ] && grep -Eq -- "$NOTICE" "$T_OUT"; then
	t_ok "installed: an installed pocket model is used"
elif [ "$st" -eq 1 ] && grep -Eq -- "looked for '/[^']*/vkchat/pocket\.gguf'$" "$T_OUT"; then
	t_ok "installed: only the installed data directory is looked at"
else
	t_fail "installed: only the installed data directory is looked at" "status $st"
	sed 's/^/#   /' "$T_OUT" | head -n 5
fi
rm -f "$T_TMP/bin/vkchat"

MODEL=$(t_shared models/stories260K.gguf) || {
	t_skip "commands with the stand-in pocket model" "shared model stories260K.gguf not found"
	t_end
	exit
}
D="$T_TMP/data"
mkdir -p "$D"
ln -s "$MODEL" "$D/pocket.gguf"
export VKCHAT_DATADIR="$D"

# run: the same completion as with -m, the notice on stderr only.
"$V" run -m "$MODEL" -p "Once upon a time" -n 12 --temp 0 > "$T_TMP/want" 2> /dev/null
"$V" run -p "Once upon a time" -n 12 --temp 0 > "$T_TMP/got" 2> "$T_TMP/err"
st=$?
if [ "$st" -eq 0 ] && [ -s "$T_TMP/got" ] && cmp -s "$T_TMP/want" "$T_TMP/got"; then
	t_ok "run: no -m completes with the pocket model"
else
	t_fail "run: no -m completes with the pocket model" "status $st; got '$(cat "$T_TMP/got")', want '$(cat "$T_TMP/want")'"
fi
if grep -Eq -- "$NOTICE" "$T_TMP/err" && [ "$(wc -l < "$T_TMP/err")" -eq 1 ]; then
	t_ok "run: a one-line notice on stderr"
else
	t_fail "run: a one-line notice on stderr" "$(head -n 3 "$T_TMP/err")"
fi
t_expect "run -m: no notice" 0 "" sh -c \
	"! '$V' run -m '$MODEL' -p hi -n 2 2>&1 | grep -q 'pocket model'"

# chat --plain: a conversation, saved with the model that answered.
printf 'Tell me a story.\n' | "$V" chat --plain --chat-format chatml -n 12 \
	--temp 0 > "$T_TMP/got" 2> "$T_TMP/err"
st=$?
if [ "$st" -eq 0 ] && [ -s "$T_TMP/got" ] && grep -Eq -- "$NOTICE" "$T_TMP/err"; then
	t_ok "chat --plain: no -m chats with the pocket model, with the notice"
else
	t_fail "chat --plain: no -m chats with the pocket model, with the notice" "status $st: $(head -n 3 "$T_TMP/err")"
fi
t_expect "chat --plain: the session records the pocket model" 0 "pocket\.gguf" \
	"$V" sessions list

# --json output stays JSON: the notice goes to stderr.
"$V" tokenize -p "hello world" --json > "$T_TMP/got" 2> "$T_TMP/err"
st=$?
if [ "$st" -eq 0 ] && head -c 1 "$T_TMP/got" | grep -q '{' &&
	! grep -q pocket "$T_TMP/got" && grep -Eq -- "$NOTICE" "$T_TMP/err"; then
	t_ok "tokenize --json: stdout is the JSON, the notice on stderr"
else
	t_fail "tokenize --json: stdout is the JSON, the notice on stderr" "status $st: $(head -c 200 "$T_TMP/got")"
fi
t_expect "compare: no -m uses the pocket model" 0 "$NOTICE" \
	"$V" compare -p "Once" --preset precise --preset creative -n 4
t_expect "bench: no -m measures the pocket model" 0 "$NOTICE" \
	"$V" bench -p 8 -n 4 -r 1
t_end
