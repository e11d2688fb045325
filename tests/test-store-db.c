/*
 * test-store-db: the database file itself.  Where it goes and with what
 * modes, refusing files that are not ours (left byte-for-byte untouched,
 * no -wal or -shm appearing), migrating a schema-version-1 file with
 * nothing lost, two processes writing at once, and kill -9 in the middle
 * of a streamed answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storage/db-compare.h"
#include "storage/db-messages.h"
#include "storage/db-presets.h"
#include "storage/db-sessions.h"
#include "storage/db-stream.h"
#include "storage/db-templates.h"
#include "storage/db.h"
#include "harness.h"
#include "util.h"

/* A copy of test_tmpfile(NAME) that outlives the next call. */
static char *
store_tmp(const char *name)
{
	return xstrdup(test_tmpfile(name));
}

/* Whether PATH exists. */
static int
store_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Run SQL on PATH with plain SQLite (for fixtures and checks). */
static void
store_raw(const char *path, const char *sql)
{
	sqlite3 *sq;
	char *msg = NULL;

	CHECK_INT(sqlite3_open(path, &sq), SQLITE_OK);
	if (sqlite3_exec(sq, sql, NULL, NULL, &msg) != SQLITE_OK)
		test_fail(__FILE__, __LINE__, "sqlite: %s", msg);
	sqlite3_free(msg);
	sqlite3_close(sq);
}

/* One integer from SQL on PATH with plain SQLite. */
static long long
store_raw_int(const char *path, const char *sql)
{
	sqlite3 *sq;
	sqlite3_stmt *st;
	long long v = -1;

	CHECK_INT(
	    sqlite3_open_v2(path, &sq, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(sq, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		test_fail(__FILE__, __LINE__, "sqlite: %s", sqlite3_errmsg(sq));
	sqlite3_finalize(st);
	sqlite3_close(sq);
	return v;
}

/* PRAGMA integrity_check through plain SQLite is "ok". */
static int
store_raw_ok(const char *path)
{
	sqlite3 *sq;
	sqlite3_stmt *st;
	int ok = 0;

	if (sqlite3_open_v2(path, &sq, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		return 0;
	if (sqlite3_prepare_v2(sq, "PRAGMA integrity_check", -1, &st, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		ok =
		    strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	sqlite3_close(sq);
	return ok;
}

/* A file's bytes and modification time, to prove it was not touched. */
struct store_snap {
	char *data;
	size_t len;
	struct timespec mtime;
};

static void
store_snap(const char *path, struct store_snap *s)
{
	struct stat st;

	CHECK_INT(util_read_file(path, 0, &s->data, &s->len, NULL), 0);
	CHECK_INT(stat(path, &st), 0);
	s->mtime = st.st_mtim;
}

/* Whether PATH still matches snapshot S (and has no WAL files). */
static void
store_same(const char *path, struct store_snap *s)
{
	struct store_snap now;
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);

	store_snap(path, &now);
	CHECK_INT(now.len, s->len);
	CHECK(now.len == s->len && memcmp(now.data, s->data, s->len) == 0);
	CHECK(now.mtime.tv_sec == s->mtime.tv_sec &&
	    now.mtime.tv_nsec == s->mtime.tv_nsec);
	CHECK(!store_exists(wal));
	CHECK(!store_exists(shm));
	free(now.data);
	free(s->data);
	free(wal);
	free(shm);
}

TEST(store_open_creates_private_files)
{
	char *xdg = store_tmp("xdg"), *path, *dir, *wal;
	struct db *db;
	struct err e;
	struct stat st;
	struct db_session s;
	int64_t id;

	setenv("XDG_DATA_HOME", xdg, 1);
	unsetenv("VKCHAT_DB");
	CHECK_INT(db_path(NULL, &path, &e), 0);
	dir = xasprintf("%s/vkchat", xdg);
	CHECK_STR(path, test_tmpfile("xdg/vkchat/vkchat.db"));
	CHECK_INT(db_open(path, &db, &e), 0);
	CHECK_INT(stat(dir, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0700);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	db_sessions_init(&s);
	CHECK_INT(db_sessions_create(db, &s, &id, &e), 0);
	wal = xasprintf("%s-wal", path);
	CHECK_INT(stat(wal, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(db_version(db, &e), DB_SCHEMA_VERSION);
	CHECK_INT(db_check(db, &e), 0);
	db_close(db);
	CHECK_INT(
	    store_raw_int(path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	CHECK_INT(
	    store_raw_int(path, "PRAGMA application_id"), DB_APPLICATION_ID);
	CHECK_INT(store_raw_int(path,
		      "SELECT journal_mode = 'wal' FROM pragma_journal_mode"),
	    1);
	free(wal);
	free(dir);
	free(path);
	free(xdg);
}

TEST(store_path_precedence)
{
	char *p;
	struct err e;

	setenv("XDG_DATA_HOME", "/x/data", 1);
	setenv("VKCHAT_DB", "/from/env.db", 1);
	CHECK_INT(db_path("/given.db", &p, &e), 0);
	CHECK_STR(p, "/given.db");
	free(p);
	CHECK_INT(db_path(NULL, &p, &e), 0);
	CHECK_STR(p, "/from/env.db");
	free(p);
	setenv("VKCHAT_DB", "", 1);
	CHECK_INT(db_path(NULL, &p, &e), 0);
	CHECK_STR(p, "/x/data/vkchat/vkchat.db");
	free(p);
	unsetenv("XDG_DATA_HOME");
	unsetenv("HOME");
	CHECK_INT(db_path(NULL, &p, &e), ERR_USAGE);
	CHECK_CONTAINS(e.msg, "--db");
	CHECK_INT(db_path("", &p, &e), ERR_USAGE);
}

TEST(store_refuses_text_file_untouched)
{
	const char *path = test_tmpfile("notes.txt");
	static const char text[] = "these are my notes, not a database\n"
				   "with more than a hundred bytes in them "
				   "so that the header check reads a whole "
				   "header's worth of text\n";
	struct store_snap snap;
	struct db *db;
	struct err e;

	CHECK_INT(util_write_file(path, text, sizeof text - 1, 0644, &e), 0);
	store_snap(path, &snap);
	CHECK_INT(db_open(path, &db, &e), ERR_FORMAT);
	CHECK(db == NULL);
	CHECK_CONTAINS(e.msg, "notes.txt");
	CHECK_CONTAINS(e.msg, "not a SQLite database");
	CHECK_CONTAINS(e.msg, "untouched");
	store_same(path, &snap);
}

TEST(store_refuses_short_and_damaged_headers)
{
	const char *path = test_tmpfile("short.db");
	unsigned char hdr[4096];
	struct store_snap snap;
	struct db *db;
	struct err e;

	CHECK_INT(util_write_file(path, "SQLite format 3", 16, 0600, &e), 0);
	store_snap(path, &snap);
	CHECK_INT(db_open(path, &db, &e), ERR_FORMAT);
	store_same(path, &snap);

	/* A real magic with a page size that is not a power of two. */
	memset(hdr, 0, sizeof hdr);
	memcpy(hdr, "SQLite format 3", 16);
	hdr[16] = 0x03;
	hdr[17] = 0x00;
	CHECK_INT(util_write_file(path, hdr, sizeof hdr, 0600, &e), 0);
	store_snap(path, &snap);
	CHECK_INT(db_open(path, &db, &e), ERR_FORMAT);
	CHECK_CONTAINS(e.msg, "damaged");
	store_same(path, &snap);
}

TEST(store_refuses_other_programs_database)
{
	char *path = store_tmp("places.sqlite");
	struct store_snap snap;
	struct db *db;
	struct err e;

	store_raw(path,
	    "CREATE TABLE bookmarks (url TEXT);"
	    "INSERT INTO bookmarks VALUES ('https://example.org');");
	store_snap(path, &snap);
	CHECK_INT(db_open(path, &db, &e), ERR_FORMAT);
	CHECK_CONTAINS(e.msg, "another program");
	store_same(path, &snap);

	store_raw(path, "PRAGMA application_id = 1234;");
	store_snap(path, &snap);
	CHECK_INT(db_open(path, &db, &e), ERR_FORMAT);
	CHECK_CONTAINS(e.msg, "application id 0x4d2");
	store_same(path, &snap);
	free(path);
}

TEST(store_refuses_newer_schema_untouched)
{
	char *path = store_tmp("new.db");
	struct store_snap snap;
	struct db *db;
	struct err e;

	CHECK_INT(db_open(path, &db, &e), 0);
	db_close(db);
	store_raw(path, "PRAGMA user_version = 99;");
	CHECK(!store_exists(test_tmpfile("new.db-wal")));
	store_snap(path, &snap);
	CHECK_INT(db_open(path, &db, &e), ERR_UNSUPPORTED);
	CHECK(db == NULL);
	CHECK_CONTAINS(e.msg, "newer vkchat");
	CHECK_CONTAINS(e.msg, "99");
	CHECK_CONTAINS(e.msg, "untouched");
	store_same(path, &snap);
	free(path);
}

/*
 * Overwrite the middle of every page but the first with garbage: the
 * header still looks right, the b-trees do not.
 */
static void
store_damage(const char *path)
{
	char *data;
	size_t len, off;
	struct err e;
	int fd;

	CHECK_INT(util_read_file(path, 0, &data, &len, &e), 0);
	for (off = 4096; off + 4096 <= len; off += 4096)
		memset(data + off + 8, 0xa5, 64);
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, data, len), (long long)len);
	close(fd);
	free(data);
}

TEST(store_damaged_file_clear_error_untouched)
{
	char *path = store_tmp("damaged.db");
	struct store_snap snap;
	struct db_session s, *list;
	struct db *db;
	struct err e;
	size_t n;
	int64_t id;
	int rc;

	/* An old-version file is checked before it is migrated. */
	CHECK_INT(db_open_version(path, 1, &db, &e), 0);
	db_sessions_init(&s);
	s.title = (char *)"a session";
	CHECK_INT(db_sessions_create(db, &s, &id, &e), 0);
	db_close(db);
	store_damage(path);
	store_snap(path, &snap);
	rc = db_open(path, &db, &e);
	CHECK_INT(rc, ERR_FORMAT);
	CHECK_CONTAINS(e.msg, "damaged");
	CHECK_CONTAINS(e.msg, "vkchat-storage(5)");
	store_same(path, &snap);

	/* A current file fails with the same clear message when read. */
	free(path);
	path = store_tmp("damaged2.db");
	CHECK_INT(db_open(path, &db, &e), 0);
	CHECK_INT(db_sessions_create(db, &s, &id, &e), 0);
	db_close(db);
	store_damage(path);
	store_snap(path, &snap);
	rc = db_open(path, &db, &e);
	if (rc == 0) {
		/* Opening reads only the header and the schema. */
		rc = db_sessions_list(db, NULL, &list, &n, &e);
		if (rc == 0)
			db_sessions_free(list, n);
		db_close(db);
	}
	CHECK_INT(rc, ERR_FORMAT);
	CHECK_CONTAINS(e.msg, "damaged");
	store_same(path, &snap);
	free(path);
}

/*
 * A database as vkchat schema version 1 left it: the schema (a frozen
 * copy of migration 1: never edit it, it stands for files out there) and
 * a little of everything: two sessions (one forked from the other), a
 * message tree with a regenerated answer, a preset and a template.
 */
static const char store_v1_fixture[] =
    "CREATE TABLE sessions (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  title TEXT NOT NULL DEFAULT '',\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  updated_ms INTEGER NOT NULL,\n"
    "  model_path TEXT,\n"
    "  model_size INTEGER,\n"
    "  model_hash TEXT,\n"
    "  chat_format TEXT,\n"
    "  system_prompt TEXT,\n"
    "  preset TEXT,\n"
    "  params_json TEXT,\n"
    "  parent_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,\n"
    "  fork_message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,\n"
    "  leaf_id INTEGER REFERENCES messages(id) ON DELETE SET NULL\n"
    ");\n"
    "CREATE INDEX sessions_updated ON sessions(updated_ms);\n"
    "CREATE INDEX sessions_parent ON sessions(parent_id);\n"
    "CREATE INDEX sessions_fork ON sessions(fork_message_id);\n"
    "CREATE INDEX sessions_leaf ON sessions(leaf_id);\n"
    "CREATE TABLE messages (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  session_id INTEGER NOT NULL REFERENCES sessions(id)\n"
    "    ON DELETE CASCADE,\n"
    "  parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,\n"
    "  role TEXT NOT NULL CHECK (role IN ('system', 'user', "
    "'assistant')),\n"
    "  content TEXT NOT NULL DEFAULT '',\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  updated_ms INTEGER NOT NULL,\n"
    "  partial INTEGER NOT NULL DEFAULT 0 CHECK (partial IN (0, 1)),\n"
    "  preset TEXT,\n"
    "  params_json TEXT,\n"
    "  seed INTEGER,\n"
    "  model_path TEXT,\n"
    "  model_size INTEGER,\n"
    "  model_hash TEXT,\n"
    "  prompt_tokens INTEGER,\n"
    "  completion_tokens INTEGER,\n"
    "  ttft_ms REAL,\n"
    "  tokens_per_s REAL,\n"
    "  finish_reason TEXT CHECK (finish_reason IN ('stop', 'length',\n"
    "    'cancelled', 'error')),\n"
    "  error TEXT\n"
    ");\n"
    "CREATE INDEX messages_session ON messages(session_id);\n"
    "CREATE INDEX messages_parent ON messages(parent_id);\n"
    "CREATE TABLE presets (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  description TEXT NOT NULL DEFAULT '',\n"
    "  params_json TEXT NOT NULL,\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  updated_ms INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE templates (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  body TEXT NOT NULL,\n"
    "  description TEXT NOT NULL DEFAULT '',\n"
    "  preset TEXT,\n"
    "  system_prompt TEXT,\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  updated_ms INTEGER NOT NULL\n"
    ");\n"
    "PRAGMA application_id = 1986749288;\n"
    "PRAGMA user_version = 1;\n"
    "INSERT INTO sessions VALUES (1, 'Borrow checker questions', "
    "1700000000000, 1700000300000, '/models/tiny-q8.gguf', 1234567, "
    "'0123456789abcdef', 'chatml', 'Be brief.', 'precise', "
    "'{\"temperature\":0.2,\"top_k\":20}', NULL, NULL, 3);\n"
    "INSERT INTO messages VALUES (1, 1, NULL, 'user', "
    "'Explain lifetimes in the borrow checker', 1700000000000, "
    "1700000000000, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL);\n"
    "INSERT INTO messages VALUES (2, 1, 1, 'assistant', "
    "'A lifetime names how long a reference stays valid.', "
    "1700000001000, 1700000002000, 0, 'precise', "
    "'{\"temperature\":0.2,\"top_k\":20,\"seed\":\"42\"}', 42, "
    "'/models/tiny-q8.gguf', 1234567, '0123456789abcdef', 12, 30, 85.5, "
    "41.25, 'stop', NULL);\n"
    "INSERT INTO messages VALUES (3, 1, 1, 'assistant', "
    "'Ownership moves; regenerated answer cut short', 1700000100000, "
    "1700000200000, 0, 'precise', '{\"temperature\":0.2}', 43, "
    "'/models/tiny-q8.gguf', 1234567, '0123456789abcdef', 12, 8, 90, "
    "40, 'length', NULL);\n"
    "INSERT INTO sessions VALUES (2, 'Borrow checker questions (fork)', "
    "1700000400000, 1700000400000, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, 1, 2, 4);\n"
    "INSERT INTO messages VALUES (4, 2, NULL, 'user', "
    "'What about a zebra crossing?', 1700000400000, 1700000400000, 0, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL);\n"
    "INSERT INTO presets VALUES (1, 'mine', 'my own', "
    "'{\"temperature\":0.5,\"stop\":[\"User:\"]}', 1700000000000, "
    "1700000000000);\n"
    "INSERT INTO templates VALUES (1, 'summarize', "
    "'Summarize for {{audience}}: {{input}}', 'short summaries', "
    "'precise', NULL, 1700000000000, 1700000000000);\n";

/* sqlite_master of PATH as text, one line per object. */
static char *
store_schema(const char *path)
{
	char *out;
	struct sbuf sb;
	sqlite3 *sq;
	sqlite3_stmt *st;

	sbuf_init(&sb);
	CHECK_INT(sqlite3_open(path, &sq), SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(sq,
		      "SELECT type, name, tbl_name, sql FROM sqlite_master "
		      "ORDER BY name",
		      -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		sbuf_addf(&sb, "%s %s %s %s\n", sqlite3_column_text(st, 0),
		    sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
		    sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(sq);
	out = sbuf_detach(&sb);
	sbuf_release(&sb);
	return out;
}

TEST(store_migration_1_is_frozen)
{
	char *a = store_tmp("fixture.db"), *b = store_tmp("v1.db");
	char *sa, *sb;
	struct db *db;
	struct err e;

	store_raw(a, store_v1_fixture);
	CHECK_INT(db_open_version(b, 1, &db, &e), 0);
	CHECK_INT(db_version(db, &e), 1);
	db_close(db);
	sa = store_schema(a);
	sb = store_schema(b);
	CHECK_STR(sa, sb);
	free(sa);
	free(sb);
	free(a);
	free(b);
}

TEST(store_migrates_v1_fixture_losing_nothing)
{
	char *path = store_tmp("old.db");
	struct db_session s, *list;
	struct db_message *msgs;
	struct db_preset p;
	struct db_template t;
	struct db_session_filter f = { 0 };
	struct db_compare_run run;
	struct db *db;
	struct err e;
	size_t n;
	int64_t id;

	store_raw(path, store_v1_fixture);
	CHECK_INT(db_open(path, &db, &e), 0);
	CHECK_INT(db_version(db, &e), DB_SCHEMA_VERSION);

	CHECK_INT(db_sessions_get(db, 1, &s, &e), 0);
	CHECK_STR(s.title, "Borrow checker questions");
	CHECK_STR(s.model.path, "/models/tiny-q8.gguf");
	CHECK_INT(s.model.size, 1234567);
	CHECK_STR(s.model.hash, "0123456789abcdef");
	CHECK_STR(s.chat_format, "chatml");
	CHECK_STR(s.system_prompt, "Be brief.");
	CHECK(s.has_params && s.params.temperature == 0.2f &&
	    s.params.top_k == 20);
	CHECK_INT(s.leaf_id, 3);
	db_sessions_release(&s);

	CHECK_INT(db_messages_branch(db, 1, 0, &msgs, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(
		    msgs[0].content, "Explain lifetimes in the borrow checker");
		CHECK_CONTAINS(msgs[1].content, "regenerated");
		CHECK_INT(msgs[1].seed, 43);
		CHECK_INT(msgs[1].stats.finish, DB_FINISH_LENGTH);
		CHECK_INT(msgs[1].n_siblings, 2);
		CHECK_INT(msgs[1].sibling_pos, 2);
	}
	db_messages_free(msgs, n);
	CHECK_INT(db_messages_branch(db, 1, 2, &msgs, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(msgs[1].stats.prompt_tokens, 12);
		CHECK_INT(msgs[1].stats.completion_tokens, 30);
		CHECK(msgs[1].stats.ttft_ms == 85.5);
		CHECK(msgs[1].stats.tokens_per_s == 41.25);
		CHECK_INT(msgs[1].seed, 42);
		CHECK(msgs[1].has_params && msgs[1].params.seed == 42);
	}
	db_messages_free(msgs, n);

	CHECK_INT(db_sessions_get(db, 2, &s, &e), 0);
	CHECK_INT(s.parent_id, 1);
	CHECK_INT(s.fork_message_id, 2);
	db_sessions_release(&s);

	CHECK_INT(db_presets_get(db, "mine", &p, &e), 0);
	CHECK(p.params.temperature == 0.5f);
	CHECK_INT(p.params.n_stop, 1);
	db_presets_release(&p);
	CHECK_INT(db_templates_get(db, "summarize", &t, &e), 0);
	CHECK_STR(t.preset, "precise");
	CHECK_STR(t.body, "Summarize for {{audience}}: {{input}}");
	db_templates_release(&t);

	/* Migration 2 indexed what version 1 had stored. */
	f.search = "zebra";
	CHECK_INT(db_sessions_list(db, &f, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_INT(list[0].id, 2);
	db_sessions_free(list, n);
	f.search = "lifetime";
	CHECK_INT(db_sessions_list(db, &f, &list, &n, &e), 0);
	CHECK_INT(n, 1);
	db_sessions_free(list, n);
	f.search = "checker";
	CHECK_INT(db_sessions_list(db, &f, &list, &n, &e), 0);
	CHECK_INT(n, 2); /* one by its message, the fork by its title */
	db_sessions_free(list, n);

	/* Migration 3's tables work. */
	db_compare_init(&run);
	run.session_id = 1;
	run.prompt = xstrdup("compare me");
	db_compare_columns(&run, 2);
	run.columns[0].preset = xstrdup("precise");
	run.columns[1].preset = xstrdup("creative");
	CHECK_INT(db_compare_create(db, &run, &id, &e), 0);
	db_compare_release(&run);
	CHECK_INT(db_check(db, &e), 0);
	db_close(db);

	/* Opening again migrates nothing and changes nothing. */
	CHECK_INT(db_open(path, &db, &e), 0);
	CHECK_INT(db_version(db, &e), DB_SCHEMA_VERSION);
	db_close(db);
	free(path);
}

/* Child of the concurrency test: write N sessions, exit 0 if all went. */
static void
store_writer(const char *path, int who, int n, int go_fd)
{
	struct db_session s;
	struct db_message m;
	struct db_stream *st;
	struct db_gen_stats stats = { 5, 3, 10, 100, DB_FINISH_STOP };
	struct db *db;
	struct err e;
	char c, *text;
	int64_t sid, uid;
	int i, bad = 0;

	if (read(go_fd, &c, 1) != 1)
		_exit(3);
	if (db_open(path, &db, &e) != 0) {
		fprintf(stderr, "writer %d: %s\n", who, e.msg);
		_exit(1);
	}
	for (i = 0; i < n && !bad; i++) {
		db_sessions_init(&s);
		text = xasprintf("writer %d session %d", who, i);
		db_messages_init(&m);
		m.content = text;
		bad = db_sessions_create(db, &s, &sid, &e) != 0;
		m.session_id = sid;
		if (!bad)
			bad = db_messages_add(db, &m, &uid, &e) != 0;
		m.role = DB_ROLE_ASSISTANT;
		m.parent_id = uid;
		m.content = NULL;
		if (!bad)
			bad = db_stream_message(db, &m, &st, &e) != 0;
		if (!bad) {
			bad = db_stream_add(st, "answer", 6, &e) != 0 ||
			    db_stream_finish(st, &stats, NULL, &e) != 0;
			db_stream_free(st);
		}
		free(text);
		db_sessions_release(&s);
	}
	if (bad)
		fprintf(stderr, "writer %d: %s\n", who, e.msg);
	db_close(db);
	_exit(bad);
}

TEST(store_two_processes_write_at_once)
{
	char *path = store_tmp("shared.db");
	int go[2], status, i, ok = 0;
	pid_t pid[2];
	struct db *db;
	struct err e;
	struct db_session *list;
	size_t n;

	test_timeout(60);
	CHECK_INT(pipe(go), 0);
	/* The file does not exist yet: both create and migrate it. */
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			close(go[1]);
			store_writer(path, i, 40, go[0]);
		}
	}
	close(go[0]);
	CHECK_INT(write(go[1], "gg", 2), 2);
	close(go[1]);
	for (i = 0; i < 2; i++) {
		CHECK_INT(waitpid(pid[i], &status, 0), pid[i]);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	CHECK_INT(ok, 2);
	CHECK_INT(db_open(path, &db, &e), 0);
	CHECK_INT(db_check(db, &e), 0);
	CHECK_INT(db_sessions_list(db, NULL, &list, &n, &e), 0);
	CHECK_INT(n, 80);
	for (i = 0; i < (int)n; i++)
		CHECK_INT(list[i].n_messages, 2);
	db_sessions_free(list, n);
	db_close(db);
	CHECK_INT(store_raw_int(path,
		      "SELECT count(*) FROM messages WHERE "
		      "content = 'answer' AND partial = 0"),
	    80);
	free(path);
}

#define STORE_TOKEN_FMT "w%05d "
#define STORE_TOKEN_LEN 7

/*
 * Child of the durability test: store the prompt, then stream a token
 * every 20 ms, telling the parent (through FD) "P SESSION" once the
 * prompt is committed and "I T" after each token I was handed over at
 * time T.
 */
static _Noreturn void
store_streamer(const char *path, int iter, int fd)
{
	struct db_session s;
	struct db_message m;
	struct db_stream *st;
	struct db *db;
	struct err e;
	char tok[16], line[64], prompt[64];
	struct timespec gap = { 0, 20 * 1000000L };
	int64_t sid, uid;
	int i;

	if (db_open(path, &db, &e) != 0)
		_exit(1);
	db_sessions_init(&s);
	db_messages_init(&m);
	snprintf(prompt, sizeof prompt, "prompt number %d", iter);
	m.content = prompt;
	if (db_sessions_create(db, &s, &sid, &e) != 0)
		_exit(1);
	m.session_id = sid;
	if (db_messages_add(db, &m, &uid, &e) != 0)
		_exit(1);
	snprintf(line, sizeof line, "P %lld\n", (long long)sid);
	if (write(fd, line, strlen(line)) < 0)
		_exit(1);
	m.role = DB_ROLE_ASSISTANT;
	m.parent_id = uid;
	m.content = NULL;
	m.seed = 7;
	if (db_stream_message(db, &m, &st, &e) != 0)
		_exit(1);
	for (i = 0;; i++) {
		snprintf(tok, sizeof tok, STORE_TOKEN_FMT, i);
		db_stream_add(st, tok, STORE_TOKEN_LEN, &e);
		snprintf(line, sizeof line, "%d %.6f\n", i, util_now());
		if (write(fd, line, strlen(line)) < 0)
			_exit(1);
		nanosleep(&gap, NULL);
	}
}

TEST(store_kill9_loses_at_most_a_second)
{
	char *path = store_tmp("durable.db");
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	int iter, fds[2], status;
	double killed_at;
	pid_t pid;

	test_timeout(60);
	test_note("random seed %u", seed);
	srand(seed);
	for (iter = 0; iter < 5; iter++) {
		struct timespec wait;
		struct db_message *msgs;
		struct db *db;
		struct err e;
		char *out = NULL, *line, buf[4096];
		struct sbuf sb;
		double secs = 0.3 + 2.7 * (rand() / (double)RAND_MAX);
		long long sid = 0;
		int last = -1, need = 0, k, j;
		size_t n;
		ssize_t r;

		CHECK_INT(pipe(fds), 0);
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			store_streamer(path, iter, fds[1]);
		}
		close(fds[1]);
		wait.tv_sec = (time_t)secs;
		wait.tv_nsec = (long)((secs - (double)wait.tv_sec) * 1e9);
		nanosleep(&wait, NULL);
		killed_at = util_now();
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status));
		sbuf_init(&sb);
		while ((r = read(fds[0], buf, sizeof buf)) > 0)
			sbuf_add(&sb, buf, (size_t)r);
		close(fds[0]);
		out = sb.buf;
		for (line = strtok_r(out, "\n", &out); line != NULL;
		     line = strtok_r(NULL, "\n", &out)) {
			double t;

			if (sscanf(line, "P %lld", &sid) == 1)
				continue;
			if (sscanf(line, "%d %lf", &k, &t) != 2)
				continue;
			last = k;
			/* Handed over 1.5 s before the kill: must be kept. */
			if (t <= killed_at - 1.5)
				need = k + 1;
		}
		sbuf_release(&sb);
		test_note("iteration %d: killed after %.2f s, %d tokens sent, "
			  "%d must be stored",
		    iter, secs, last + 1, need);

		CHECK_INT(db_open(path, &db, &e), 0);
		CHECK_INT(db_check(db, &e), 0);
		if (sid == 0) { /* killed before the prompt was stored */
			db_close(db);
			continue;
		}
		CHECK_INT(db_messages_all(db, sid, &msgs, &n, &e), 0);
		CHECK(n >= 1);
		if (n >= 1) {
			char want[64];

			snprintf(want, sizeof want, "prompt number %d", iter);
			CHECK_STR(msgs[0].content, want);
		}
		if (n == 2) {
			const char *c = msgs[1].content;
			size_t len = strlen(c);

			CHECK(msgs[1].partial);
			CHECK_INT(len % STORE_TOKEN_LEN, 0);
			/* Exactly the first len/7 tokens, nothing else. */
			for (j = 0; (size_t)j < len / STORE_TOKEN_LEN; j++) {
				char tok[16];

				snprintf(tok, sizeof tok, STORE_TOKEN_FMT, j);
				if (memcmp(c + (size_t)j * STORE_TOKEN_LEN, tok,
					STORE_TOKEN_LEN) != 0) {
					test_fail(__FILE__, __LINE__,
					    "token %d is wrong", j);
					break;
				}
			}
			test_note("%zu tokens stored", len / STORE_TOKEN_LEN);
			CHECK_MSG((int)(len / STORE_TOKEN_LEN) >= need,
			    "%zu tokens stored, %d needed",
			    len / STORE_TOKEN_LEN, need);
		} else {
			CHECK_MSG(
			    need == 0, "no answer row, %d tokens needed", need);
		}
		db_messages_free(msgs, n);
		db_close(db);
	}
	CHECK(store_raw_ok(path));
	free(path);
}
