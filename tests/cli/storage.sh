# The storage commands end to end: presets, templates and sessions, the
# --db option and VKCHAT_DB, the default location and its modes, and the
# files vkchat must refuse and leave alone.
. "$TOP_SRCDIR/tests/lib.sh"
V=$VKCHAT

# --- presets ---
t_expect "presets list flags built-ins" 0 "^precise +built-in +focused" \
	"$V" presets list
t_expect "presets add" 0 "" "$V" presets add terse --description "short" \
	temperature=0.3 "stop=User:" "system=Be brief."
t_expect "presets show" 0 "^temperature = 0.3" "$V" presets show terse
t_expect "presets show keeps quoting" 0 '^system = "Be brief\."' \
	"$V" presets show terse
t_expect "presets list shows user presets" 0 "^terse +user +short: temperature=0.3" \
	"$V" presets list
t_expect "presets list --json" 0 '"builtin": false' "$V" presets list --json
t_expect "presets set" 0 "" "$V" presets set terse top_k=5 --description "shorter"
t_expect "presets set took" 0 "^top_k = 5" "$V" presets show terse
t_expect "presets show --json" 0 '"description": "shorter"' \
	"$V" presets show terse --json
t_expect "presets set bad value names it" 1 "top_k: 'many' is not an integer" \
	"$V" presets set terse top_k=many
t_expect "presets set out of range" 1 "top_p: 3 is out of range" \
	"$V" presets set terse top_p=3
t_expect "presets set not key=value" 1 "expected KEY=VALUE" \
	"$V" presets set terse temperature
t_expect "presets set nothing" 1 "nothing to change" "$V" presets set terse
t_expect "built-ins cannot be changed" 1 "built-in preset and cannot be changed" \
	"$V" presets set precise temperature=1
t_expect "built-ins cannot be deleted" 1 "cannot be deleted" \
	"$V" presets delete default
t_expect "presets add duplicate" 1 "already exists" "$V" presets add terse
t_expect "presets add built-in name" 1 "built-in preset" "$V" presets add creative
t_expect "presets add bad name" 1 "only letters" "$V" presets add "a b"
t_expect "presets copy a built-in" 0 "" "$V" presets copy creative wild
t_expect "copy is editable" 0 "" "$V" presets set wild temperature=1.4
t_expect "presets add --from" 0 "" "$V" presets add wilder --from wild top_p=0.8
t_expect "--from took" 0 "^temperature = 1.4" "$V" presets show wilder
t_expect "presets copy unknown" 1 "no preset 'nope'" "$V" presets copy nope x
t_expect "presets export" 0 "" "$V" presets export terse -o "$T_TMP/terse.preset"
t_expect "export has the description" 0 "^# description: shorter" \
	cat "$T_TMP/terse.preset"
t_expect "presets import under the file's name" 0 "imported preset 'terse2'" \
	sh -c "cp '$T_TMP/terse.preset' '$T_TMP/terse2.txt' && '$V' presets import '$T_TMP/terse2.txt'"
t_expect "imported preset is the same" 0 "^terse2 +user +shorter: temperature=0.3 top_k=5" \
	"$V" presets list
t_expect "presets import existing" 1 "already exists \(--force" \
	"$V" presets import "$T_TMP/terse.preset"
t_expect "presets import --force" 0 "imported" \
	"$V" presets import --force "$T_TMP/terse.preset"
printf 'temperature = 0.5\nbogus = 1\n' > "$T_TMP/bad.preset"
t_expect "presets import names file and line" 1 "bad.preset: line 2: unknown parameter 'bogus'" \
	"$V" presets import "$T_TMP/bad.preset"
t_expect "failed import stores nothing" 1 "no preset 'bad'" "$V" presets show bad
t_expect "presets import from stdin needs a name" 1 "give a NAME" \
	"$V" presets import - < "$T_TMP/terse.preset"
t_expect "presets import from stdin" 0 "imported preset 'piped'" \
	sh -c "'$V' presets import - piped < '$T_TMP/terse.preset'"
t_expect "presets delete" 0 "" "$V" presets delete terse2
t_expect "presets delete again" 1 "no preset 'terse2'" "$V" presets delete terse2
t_expect "presets unknown subcommand" 1 "unknown command 'frob'" "$V" presets frob
t_expect "presets unknown option" 1 "unknown option '--frob'" "$V" presets list --frob
t_expect "presets --help" 0 "usage: vkchat presets list" "$V" presets --help
t_expect "help presets" 0 "usage: vkchat presets" "$V" help presets

# --- templates ---
t_expect "templates add --body" 0 "" "$V" templates add tldr \
	--description "summaries" --preset precise \
	--body 'Summarize for {{who}}: {{input}}'
t_expect "templates add from stdin" 0 "" sh -c \
	"echo 'Hello {{name}}, {{ greeting }}' | '$V' templates add hello"
t_expect "templates add unknown preset" 1 "no preset 'nope'" \
	"$V" templates add x --preset nope --body hi
t_expect "templates add duplicate" 1 "already exists" \
	"$V" templates add tldr --body hi
t_expect "templates add with an empty body" 1 "template 'empty': empty body" \
	"$V" templates add empty --body ""
t_expect "templates list" 0 "^tldr +summaries \[who input\]" "$V" templates list
t_expect "templates list --json" 0 '"variables": \[' "$V" templates list --json
t_expect "templates show" 0 "^preset: precise" "$V" templates show tldr
t_expect "templates render with stdin" 0 "^Summarize for kids: a long text$" \
	sh -c "echo 'a long text' | '$V' templates render tldr who=kids"
t_expect "templates render input= instead of stdin" 0 "^Summarize for me: given$" \
	"$V" templates render tldr who=me input=given
t_expect "templates render names every missing variable" 1 \
	"missing variables 'name', 'greeting'" \
	sh -c "'$V' templates render hello < /dev/null"
t_expect "templates render names unknown variables" 1 \
	"unknown or repeated 'tone' \(its variables: 'who', 'input'\)" \
	sh -c "echo x | '$V' templates render tldr who=a tone=b"
t_expect "templates render --json" 0 '"preset": "precise"' \
	sh -c "echo x | '$V' templates render tldr who=a --json"
t_expect "templates render bad argument" 1 "expected VARIABLE=VALUE" \
	"$V" templates render tldr who
t_expect "templates render unknown" 1 "no template 'nope'" \
	"$V" templates render nope
cat > "$T_TMP/editor.sh" <<'EOS'
#!/bin/sh
sed -i 's/^description: .*/description: edited/; s/Summarize/Condense/' "$1"
EOS
chmod +x "$T_TMP/editor.sh"
t_expect "templates edit with EDITOR" 0 "saved template 'tldr'" \
	env VISUAL= EDITOR="$T_TMP/editor.sh" "$V" templates edit tldr
t_expect "edit took" 0 "^Condense for kids: y$" \
	sh -c "echo y | '$V' templates render tldr who=kids"
t_expect "edit kept the fields" 0 "^description: edited" "$V" templates show tldr
t_expect "templates edit unchanged" 0 "no changes" \
	env VISUAL= EDITOR=true "$V" templates edit tldr
cat > "$T_TMP/new.sh" <<'EOS'
#!/bin/sh
printf 'description: made in the editor\nsystem: Line one\\nline two\n\nDear {{name}}\n' > "$1"
EOS
chmod +x "$T_TMP/new.sh"
t_expect "templates edit creates" 0 "created template 'letter'" \
	env VISUAL= EDITOR="$T_TMP/new.sh" "$V" templates edit letter
t_expect "created with a two-line system prompt" 0 '"system_prompt": "Line one\\nline two"' \
	"$V" templates show letter --json
cat > "$T_TMP/broken.sh" <<'EOS'
#!/bin/sh
printf 'colour: blue\n\nbody\n' > "$1"
EOS
chmod +x "$T_TMP/broken.sh"
VISUAL= EDITOR="$T_TMP/broken.sh" TMPDIR="$T_TMP" "$V" templates edit tldr > "$T_OUT" 2>&1
st=$?
kept=$(sed -n "s/.*your text is kept in '\(.*\)'.*/\1/p" "$T_OUT")
if [ "$st" -eq 1 ] && grep -q "unknown field 'colour'" "$T_OUT" &&
	[ -n "$kept" ] && grep -q "colour: blue" "$kept"; then
	t_ok "a broken edit is kept, not saved"
else
	t_fail "a broken edit is kept, not saved" "status $st: $(cat "$T_OUT")"
fi
t_expect "broken edit changed nothing" 0 "^description: edited" "$V" templates show tldr
t_expect "templates edit failing editor" 1 "editor 'false' failed" \
	env VISUAL= EDITOR=false "$V" templates edit tldr
t_expect "templates delete" 0 "" "$V" templates delete hello
t_expect "templates delete again" 1 "no template 'hello'" "$V" templates delete hello

# --- sessions (made with import, the inverse of export) ---
cat > "$T_TMP/s.json" <<'EOS'
{"format": "vkchat-session", "version": 1,
 "session": {"title": "Penguin questions and a title long enough to be cut", "created_ms": 1700000000000,
  "updated_ms": 1700000500000,
  "model": {"path": "/models/tiny-q8.gguf", "size": 1234567, "hash": "0123456789abcdef"},
  "chat_format": "chatml", "system_prompt": "Be brief.", "preset": "precise", "leaf_id": 3},
 "messages": [
  {"id": 1, "role": "user", "content": "How do penguins sleep?\u001b[31m", "created_ms": 1700000000000},
  {"id": 2, "parent_id": 1, "role": "assistant", "content": "Standing up.", "created_ms": 1700000001000,
   "seed": "42", "params": {"temperature": 0.2}, "prompt_tokens": 12, "completion_tokens": 4,
   "ttft_ms": 80, "tokens_per_s": 41.5, "finish_reason": "stop"},
  {"id": 3, "parent_id": 1, "role": "assistant", "content": "In short naps.", "created_ms": 1700000002000,
   "seed": "43", "partial": true}],
 "compare_runs": [{"prompt": "Haiku", "created_ms": 1700000003000, "winner": 1, "columns": [
  {"preset": "precise", "output": "snow"}, {"preset": "creative", "output": "rain", "finish_reason": "length"}]}]}
EOS
t_expect "sessions list, empty" 0 "no sessions yet" "$V" sessions list
t_expect "sessions import" 0 "imported session 1" "$V" sessions import "$T_TMP/s.json"
t_expect "sessions import --json" 0 '"id": 2' "$V" sessions import "$T_TMP/s.json" --json
t_expect "sessions list" 0 "^ +1 .* 3  tiny-q8.gguf +\(1 compare\) Penguin questions" \
	env COLUMNS=200 "$V" sessions list
t_expect "sessions list cuts titles" 0 "^ +1 .* \(1 compare\) Penguin .*\.\.\.$" \
	env COLUMNS=60 LC_ALL=C "$V" sessions list
if [ "$(awk 'length > 60' "$T_OUT")" = "" ]; then
	t_ok "sessions list fits 60 columns"
else
	t_fail "sessions list fits 60 columns" "$(cat "$T_OUT")"
fi
t_expect "sessions list --json" 0 '"compare_runs": 1' "$V" sessions list --json
t_expect "sessions list --search" 0 "\[naps\]" "$V" sessions list --search "nap*"
t_expect "sessions list --search no match" 0 "no sessions match" \
	"$V" sessions list --search walrus
t_expect "sessions list --search FTS syntax is literal" 0 "" \
	"$V" sessions list --search 'NEAR( "penguins OR'
t_expect "sessions list --model" 0 "tiny-q8" "$V" sessions list --model tiny-q8
t_expect "sessions list --model by hash" 0 "tiny-q8" "$V" sessions list --model 01234567
t_expect "sessions list --model no match" 0 "no sessions match" \
	"$V" sessions list --model mistral
t_expect "sessions list --since" 0 "Penguin" "$V" sessions list --since 2020-01-01
t_expect "sessions list --since relative" 0 "Penguin" "$V" sessions list --since 1000w
t_expect "sessions list --since excludes" 0 "no sessions match" \
	"$V" sessions list --since 1d
t_expect "sessions list --since bad" 1 "--since: 'soon' is not a date" \
	"$V" sessions list --since soon
t_expect "sessions show" 0 "version 2 of 2" "$V" sessions show 1
t_expect "sessions show escapes control characters" 0 'sleep\?\\x1b\[31m' \
	"$V" sessions show 1
t_expect "sessions show marks incomplete answers" 0 "\[seed 43 \| incomplete\]" \
	"$V" sessions show 1
t_expect "sessions show lists compare runs" 0 "^--- column 2: creative \(winner\) ---$" \
	"$V" sessions show 1
t_expect "sessions show --json" 0 '"n_siblings": 2' "$V" sessions show 1 --json
t_expect "sessions show missing" 1 "no session 99" "$V" sessions show 99
t_expect "sessions show bad id" 1 "'abc' is not a session id" "$V" sessions show abc
t_expect "sessions export md" 0 "^## Assistant \(version 2 of 2\)" \
	"$V" sessions export 1 --format md
t_expect "sessions export json" 0 "" \
	"$V" sessions export 1 --format json -o "$T_TMP/out.json"
t_expect "export file is private" 0 "^600$" stat -c %a "$T_TMP/out.json"
t_expect "export has every message" 0 '"content": "Standing up."' cat "$T_TMP/out.json"
t_expect "export bad format" 1 "--format is md or json" \
	"$V" sessions export 1 --format html
t_expect "export to a missing directory names the file asked for" 1 \
	"cannot write '$T_TMP/missing/x\.md': No such file" \
	"$V" sessions export 1 -o "$T_TMP/missing/x.md"
if grep -q '\.tmp\.' "$T_OUT"; then
	t_fail "the error does not name the temporary file" "$(cat "$T_OUT")"
else
	t_ok "the error does not name the temporary file"
fi
t_expect "exported json imports again" 0 "imported session 3" \
	"$V" sessions import "$T_TMP/out.json"
t_expect "sessions import bad file" 1 "messages\[0\]: role 'bot'" sh -c \
	"echo '{\"format\":\"vkchat-session\",\"version\":1,\"session\":{},\"messages\":[{\"id\":1,\"role\":\"bot\",\"content\":\"x\"}]}' | '$V' sessions import -"
t_expect "sessions import missing file" 1 "cannot open" "$V" sessions import "$T_TMP/nope.json"
t_expect "sessions rename" 0 "" "$V" sessions rename 2 "Second copy"
t_expect "rename took" 0 "^session 2: Second copy" "$V" sessions show 2
t_expect "rename finds by new title" 0 "Second copy" "$V" sessions list --search second
t_expect "sessions rename missing" 1 "no session 42" "$V" sessions rename 42 x
t_expect "sessions fork --at" 0 "forked session 1 into session 4" \
	"$V" sessions fork 1 --at 2
t_expect "fork holds the branch" 0 "Standing up" "$V" sessions show 4
t_expect "fork remembers its origin" 0 "forked from session 1 at message 2" \
	"$V" sessions show 4
t_expect "sessions fork --at another session's message" 1 "session 2 has no message 2" \
	"$V" sessions fork 2 --at 2
t_expect "sessions delete refuses without a terminal" 1 "without --yes" \
	sh -c "'$V' sessions delete 2 < /dev/null"
t_expect "refused delete kept it" 0 "Second copy" "$V" sessions show 2
t_expect "sessions delete --yes" 0 "deleted session 2" "$V" sessions delete 2 --yes
t_expect "deleted is gone" 1 "no session 2" "$V" sessions show 2
t_expect "deleted is gone from search" 0 "no sessions match" \
	"$V" sessions list --search second
t_expect "sessions unknown subcommand" 1 "unknown command 'frob'" "$V" sessions frob
t_expect "sessions without subcommand" 1 "which one" "$V" sessions
t_expect "sessions missing argument" 1 "missing arguments" "$V" sessions show
t_expect "sessions --help" 0 "usage: vkchat sessions list" "$V" sessions --help

# --- where the database is ---
t_expect "--db before the subcommand" 0 "" "$V" presets --db "$T_TMP/other.db" \
	add only-there
t_expect "--db after it" 0 "^only-there" "$V" presets list --db="$T_TMP/other.db"
t_expect "--db overrides VKCHAT_DB" 1 "no preset 'only-there'" \
	"$V" presets show only-there
t_expect "--db needs a value" 1 "--db needs a value" "$V" presets list --db
mkdir -p "$T_TMP/xdg"
t_expect "default location" 0 "^precise" env -u VKCHAT_DB \
	XDG_DATA_HOME="$T_TMP/xdg" "$V" presets list
t_expect "database file is 0600" 0 "^600$" stat -c %a "$T_TMP/xdg/vkchat/vkchat.db"
t_expect "database directory is 0700" 0 "^700$" stat -c %a "$T_TMP/xdg/vkchat"
t_expect "no HOME, no XDG" 1 "neither XDG_DATA_HOME nor HOME" env -u VKCHAT_DB \
	-u XDG_DATA_HOME -u HOME "$V" presets list

# --- files that are not ours stay as they are ---
printf 'not a database, just notes that happen to be long enough to have a header of one hundred bytes or more.\n' \
	> "$T_TMP/notes.txt"
cp "$T_TMP/notes.txt" "$T_TMP/notes.orig"
t_expect "a text file is refused" 1 "'.*notes.txt' is not a SQLite database" \
	"$V" sessions list --db "$T_TMP/notes.txt"
if cmp -s "$T_TMP/notes.txt" "$T_TMP/notes.orig" && [ ! -e "$T_TMP/notes.txt-wal" ]; then
	t_ok "the text file is untouched"
else
	t_fail "the text file is untouched" "changed or a -wal appeared"
fi
if command -v sqlite3 >/dev/null 2>&1; then
	"$V" presets list --db "$T_TMP/future.db" > /dev/null
	sqlite3 "$T_TMP/future.db" "PRAGMA user_version = 42;"
	cp "$T_TMP/future.db" "$T_TMP/future.orig"
	t_expect "a newer schema is refused" 1 "newer vkchat \(schema version 42" \
		"$V" sessions list --db "$T_TMP/future.db"
	if cmp -s "$T_TMP/future.db" "$T_TMP/future.orig" && [ ! -e "$T_TMP/future.db-wal" ]; then
		t_ok "the newer database is untouched"
	else
		t_fail "the newer database is untouched" "changed or a -wal appeared"
	fi
	sqlite3 "$T_TMP/firefox.db" "CREATE TABLE places (url TEXT);"
	t_expect "another program's database is refused" 1 "another program" \
		"$V" presets list --db "$T_TMP/firefox.db"
	t_expect "integrity after all of the above" 0 "^ok$" \
		sqlite3 "$T_DB" "PRAGMA integrity_check"
else
	t_skip "a newer schema is refused" "sqlite3 not installed"
	t_skip "the newer database is untouched" "sqlite3 not installed"
	t_skip "another program's database is refused" "sqlite3 not installed"
	t_skip "integrity after all of the above" "sqlite3 not installed"
fi
# Imports: Markdown is not JSON (say so); a byte-order mark is fine; an
# empty preset file is no preset.
t_expect "presets import of an empty file is refused" 1 \
	"'/dev/null' is empty: no settings to import" \
	"$V" presets import /dev/null
t_expect "and makes no preset" 1 "no preset 'null'" "$V" presets show null
"$V" sessions export 1 --format md > "$T_TMP/out.md" 2> /dev/null
t_expect "import of Markdown says JSON was expected" 1 \
	"is not a vkchat session export: expected JSON .*found other text" \
	"$V" sessions import "$T_TMP/out.md"
printf '\357\273\277' > "$T_TMP/bom.json"
"$V" sessions export 1 --format json >> "$T_TMP/bom.json" 2> /dev/null
t_expect "import of a file with a byte-order mark" 0 "imported session" \
	"$V" sessions import "$T_TMP/bom.json"

# Bidi overrides and C1 controls never reach the output raw: escaped by
# show and in JSON; an export to a pipe or file is the bytes as stored.
printf '{"format": "vkchat-session", "version": 1, "session": {"title": "bidi"},
 "messages": [{"id": 1, "role": "user", "content": "x\342\200\256y\302\205z"}]}' \
	> "$T_TMP/bidi.json"
bid=$("$V" sessions import "$T_TMP/bidi.json" --json 2> /dev/null |
	sed -n 's/.*"id": *\([0-9]*\).*/\1/p')
t_expect "sessions show escapes bidi and C1 controls" 0 'x\\u202ey\\u0085z' \
	"$V" sessions show "$bid"
t_expect "sessions export --format json escapes them" 0 'x\\u202ey\\u0085z' \
	"$V" sessions export "$bid" --format json
if "$V" sessions export "$bid" --format md 2> /dev/null |
	grep -q "$(printf 'x\342\200\256y')"; then
	t_ok "sessions export to a pipe keeps the bytes"
else
	t_fail "sessions export to a pipe keeps the bytes" "bytes changed"
fi
# A FIFO as the database is refused at once, not waited on.
mkfifo "$T_TMP/fifo.db"
t_expect "a FIFO as the database is refused without blocking" 1 \
	"'.*fifo\.db' is not a regular file" \
	timeout 20 "$V" sessions list --db "$T_TMP/fifo.db"
t_end
