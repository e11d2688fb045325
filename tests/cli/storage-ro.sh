# A database vkchat may read but not write: reads work, writes fail and
# say why, and nothing on disk changes (vkchat-storage(5), "Read-only
# databases").  Three ways to get there: a directory vkchat may not write
# (so no -wal or -shm file can be made), a file vkchat may not write, and
# a full disk (tmpfs in a private mount namespace).  Permission bits do not
# stop root, so as root the commands run as nobody through setpriv.
. "$TOP_SRCDIR/tests/lib.sh"
V=$VKCHAT

t_expect "import a session" 0 "imported session 1" sh -c "printf '%s' \
'{\"format\": \"vkchat-session\", \"version\": 1,
 \"session\": {\"title\": \"Penguin questions\"},
 \"messages\": [{\"id\": 1, \"role\": \"user\", \"content\": \"How do penguins sleep?\"},
  {\"id\": 2, \"parent_id\": 1, \"role\": \"assistant\", \"content\": \"Standing up.\"}]}' |
	'$V' sessions import -"
t_expect "add a preset" 0 "" "$V" presets add mine temperature=0.5
cp "$T_DB" "$T_TMP/orig.db"

# as_user CMD...: run CMD as a user the permission bits apply to.
if [ "$(id -u)" -eq 0 ]; then
	if command -v setpriv > /dev/null &&
	    setpriv --reuid=65534 --regid=65534 --clear-groups "$V" --version \
		> /dev/null 2>&1; then
		as_user() {
			setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
		}
		OWNER=65534
	else
		as_user() { return 125; }
	fi
else
	as_user() { "$@"; }
	OWNER=
fi

# reads_work LABEL DB: every read-only command works on DB.
reads_work() {
	t_expect "$1: sessions list" 0 "Penguin questions" \
		as_user "$V" sessions list --db "$2"
	t_expect "$1: sessions list --search" 0 "Penguin questions" \
		as_user "$V" sessions list --search penguins --db "$2"
	t_expect "$1: sessions show" 0 "Standing up\." \
		as_user "$V" sessions show 1 --db "$2"
	t_expect "$1: sessions export" 0 "Standing up\." \
		as_user "$V" sessions export 1 --format json --db "$2"
	t_expect "$1: presets list" 0 "^mine +user" \
		as_user "$V" presets list --db "$2"
}

chmod 711 "$T_TMP"
mkdir "$T_TMP/rodir" "$T_TMP/rofile"
cp "$T_DB" "$T_TMP/rodir/v.db"
cp "$T_DB" "$T_TMP/rofile/v.db"
if as_user true; then
	# the file is writable, its directory is not
	if [ -n "$OWNER" ]; then
		chown "$OWNER" "$T_TMP/rodir/v.db" "$T_TMP/rofile"
	fi
	chmod 555 "$T_TMP/rodir"
	chmod 444 "$T_TMP/rofile/v.db"
	reads_work "read-only directory" "$T_TMP/rodir/v.db"
	t_expect "read-only directory: a write says why not" 1 \
		"adding a preset: the database is open read-only \(its directory '.*/rodir' is not writable" \
		as_user "$V" presets add more --db "$T_TMP/rodir/v.db"
	t_expect "read-only directory: rename says why not" 1 \
		"open read-only \(its directory" \
		as_user "$V" sessions rename 1 other --db "$T_TMP/rodir/v.db"
	t_expect "read-only directory: no -wal or -shm made" 0 "^v\.db$" \
		ls "$T_TMP/rodir"
	t_run "read-only directory: the file is unchanged" \
		cmp "$T_TMP/orig.db" "$T_TMP/rodir/v.db"
	reads_work "read-only file" "$T_TMP/rofile/v.db"
	t_expect "read-only file: a write says why not" 1 \
		"open read-only \('.*/rofile/v\.db' is not writable\)" \
		as_user "$V" presets add more --db "$T_TMP/rofile/v.db"
	t_run "read-only file: the file is unchanged" \
		cmp "$T_TMP/orig.db" "$T_TMP/rofile/v.db"
	# Another program has the database open, so its -wal and -shm files
	# exist: with them writable, vkchat writes too; with them read-only,
	# it reads and a write says why not.
	if command -v python3 > /dev/null; then
		chmod 755 "$T_TMP/rodir"
		python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.execute("SELECT count(*) FROM sessions").fetchall()
print("open", flush=True)
time.sleep(60)' "$T_TMP/rodir/v.db" > "$T_TMP/holder.out" 2>&1 &
		holder=$!
		i=0
		while ! grep -q open "$T_TMP/holder.out" && [ "$i" -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		chmod 555 "$T_TMP/rodir"
		t_expect "another program has it open: the -shm file is there" 0 \
			"v\.db-shm" ls "$T_TMP/rodir"
		t_expect "writable -wal and -shm: a write works" 0 "" \
			as_user "$V" presets add more --db "$T_TMP/rodir/v.db"
		chmod 444 "$T_TMP/rodir/v.db-wal" "$T_TMP/rodir/v.db-shm"
		reads_work "read-only -wal and -shm" "$T_TMP/rodir/v.db"
		t_expect "read-only -wal and -shm: a write says why not" 1 \
			"adding a preset: the database is read-only \(.*permissions of its -wal and -shm" \
			as_user "$V" presets add evenmore --db "$T_TMP/rodir/v.db"
		kill "$holder"
		wait "$holder" 2> /dev/null
	else
		t_skip "read-only directory, -shm present" "python3 not installed"
	fi
	chmod 755 "$T_TMP/rodir"
else
	t_skip "read-only directory and file" "no way to drop root here"
fi

# A full disk: a tmpfs filled to the last byte (the -shm file is made but
# cannot grow), then one out of inodes (no -shm file can be made).
mkdir "$T_TMP/mnt"
if unshare -rm sh -c "mount -t tmpfs -o size=1m tmpfs '$T_TMP/mnt'" \
    > /dev/null 2>&1; then
	full() { # full OPTIONS FILL CMD...: run CMD on a full tmpfs
		o=$1 f=$2
		shift 2
		unshare -rm sh -c 'mount -t tmpfs -o "$1" tmpfs "$2/mnt" &&
		    cp "$2/orig.db" "$2/mnt/v.db" && eval "$3"; shift 3; "$@"' \
		    sh "$o" "$T_TMP" "$f" "$@"
	}
	fill='dd if=/dev/zero of="$2/mnt/fill" bs=4k 2> /dev/null; :'
	t_expect "full disk: sessions list" 0 "Penguin questions" \
		full size=1m "$fill" "$V" sessions list --db "$T_TMP/mnt/v.db"
	t_expect "full disk: presets list" 0 "^mine +user" \
		full size=1m "$fill" "$V" presets list --db "$T_TMP/mnt/v.db"
	t_expect "full disk: a write says why not" 1 \
		"open read-only \('.*/mnt/v\.db-shm' cannot be created or grown: No space left" \
		full size=1m "$fill" "$V" presets add more --db "$T_TMP/mnt/v.db"
	inodes='for i in 1 2 3 4 5 6 7 8; do touch "$2/mnt/f$i" 2> /dev/null; done'
	t_expect "no inodes left: sessions show" 0 "Standing up\." \
		full size=1m,nr_inodes=4 "$inodes" "$V" sessions show 1 \
		--db "$T_TMP/mnt/v.db"
	t_expect "no inodes left: a write says why not" 1 \
		"open read-only \('.*/mnt/v\.db-shm' cannot be created\)" \
		full size=1m,nr_inodes=4 "$inodes" "$V" presets add more \
		--db "$T_TMP/mnt/v.db"
else
	t_skip "full disk" "cannot mount a tmpfs in a user namespace here"
fi
chmod 700 "$T_TMP"
t_end
