/*
 * db: finding, opening and migrating the database file.
 *
 * Opening is careful because the file is the user's whole history.  The
 * first 100 bytes (SQLite's header) are read with plain read(2) before
 * SQLite opens anything: a file that is not SQLite, a SQLite file of
 * another program (application_id), or one whose user_version is newer
 * than DB_SCHEMA_VERSION is refused there, so not a byte of it changes and
 * no -wal or -shm file appears.  A fresh file is created with O_EXCL and
 * mode 0600 (SQLite gives its -wal and -shm files the same mode); missing
 * directories are created 0700.
 *
 * The schema is db_migrations[]: migration N takes user_version N-1 to N,
 * and runs inside one BEGIN IMMEDIATE transaction that re-reads
 * user_version first, so two processes opening an old file at once
 * migrate it once.  Old migrations are never edited: a new schema change
 * is a new entry.  A file that needs migrating is checked with
 * PRAGMA quick_check first and refused untouched when it is damaged.
 *
 * Connections run with WAL (readers do not block the writer), foreign
 * keys on, synchronous=FULL (each commit is on disk, which at one
 * streaming write a second costs nothing), a busy timeout and SQLite's
 * defensive mode.  (trusted_schema stays on: the FTS5 triggers need it.)
 *
 * A file whose -wal or -shm file cannot be made (a directory we may not
 * write, a full disk) is reopened read-only (db_open_ro, which says how
 * it stays safe); db->ro then names the reason every failed write gives.
 */
#include "db-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/*
 * The schema, one migration per version.  Times are milliseconds since the
 * epoch; generation parameters are params_to_json() objects, so a new
 * sampler knob needs no migration.
 */
static const char *const db_migrations[] = {
	/* 1: sessions, the message tree, presets, prompt templates. */
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
	"  fork_message_id INTEGER REFERENCES messages(id) ON DELETE SET "
	"NULL,\n"
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
	"PRAGMA application_id = 1986749288;\n",

	/*
	 * 2: full-text search over message content and session titles.
	 * External-content FTS5 tables kept in step by triggers; the
	 * 'rebuild' indexes what older versions stored.
	 */
	"CREATE VIRTUAL TABLE messages_fts USING fts5(content,\n"
	"  content='messages', content_rowid='id',\n"
	"  tokenize='unicode61 remove_diacritics 2');\n"
	"CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN\n"
	"  INSERT INTO messages_fts(rowid, content)\n"
	"    VALUES (new.id, new.content);\n"
	"END;\n"
	"CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN\n"
	"  INSERT INTO messages_fts(messages_fts, rowid, content)\n"
	"    VALUES ('delete', old.id, old.content);\n"
	"END;\n"
	"CREATE TRIGGER messages_fts_update AFTER UPDATE OF content\n"
	"  ON messages BEGIN\n"
	"  INSERT INTO messages_fts(messages_fts, rowid, content)\n"
	"    VALUES ('delete', old.id, old.content);\n"
	"  INSERT INTO messages_fts(rowid, content)\n"
	"    VALUES (new.id, new.content);\n"
	"END;\n"
	"INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');\n"
	"CREATE VIRTUAL TABLE sessions_fts USING fts5(title,\n"
	"  content='sessions', content_rowid='id',\n"
	"  tokenize='unicode61 remove_diacritics 2');\n"
	"CREATE TRIGGER sessions_fts_insert AFTER INSERT ON sessions BEGIN\n"
	"  INSERT INTO sessions_fts(rowid, title) VALUES (new.id, new.title);\n"
	"END;\n"
	"CREATE TRIGGER sessions_fts_delete AFTER DELETE ON sessions BEGIN\n"
	"  INSERT INTO sessions_fts(sessions_fts, rowid, title)\n"
	"    VALUES ('delete', old.id, old.title);\n"
	"END;\n"
	"CREATE TRIGGER sessions_fts_update AFTER UPDATE OF title\n"
	"  ON sessions BEGIN\n"
	"  INSERT INTO sessions_fts(sessions_fts, rowid, title)\n"
	"    VALUES ('delete', old.id, old.title);\n"
	"  INSERT INTO sessions_fts(rowid, title) VALUES (new.id, new.title);\n"
	"END;\n"
	"INSERT INTO sessions_fts(sessions_fts) VALUES ('rebuild');\n",

	/* 3: compare runs: one prompt, a column per preset. */
	"CREATE TABLE compare_runs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  session_id INTEGER NOT NULL REFERENCES sessions(id)\n"
	"    ON DELETE CASCADE,\n"
	"  prompt TEXT NOT NULL,\n"
	"  system_prompt TEXT,\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  model_path TEXT,\n"
	"  model_size INTEGER,\n"
	"  model_hash TEXT,\n"
	"  winner INTEGER\n"
	");\n"
	"CREATE INDEX compare_runs_session ON compare_runs(session_id);\n"
	"CREATE TABLE compare_columns (\n"
	"  run_id INTEGER NOT NULL REFERENCES compare_runs(id)\n"
	"    ON DELETE CASCADE,\n"
	"  col INTEGER NOT NULL CHECK (col >= 0),\n"
	"  preset TEXT NOT NULL,\n"
	"  params_json TEXT NOT NULL,\n"
	"  seed INTEGER,\n"
	"  output TEXT NOT NULL DEFAULT '',\n"
	"  partial INTEGER NOT NULL DEFAULT 1 CHECK (partial IN (0, 1)),\n"
	"  prompt_tokens INTEGER,\n"
	"  completion_tokens INTEGER,\n"
	"  ttft_ms REAL,\n"
	"  tokens_per_s REAL,\n"
	"  finish_reason TEXT CHECK (finish_reason IN ('stop', 'length',\n"
	"    'cancelled', 'error')),\n"
	"  error TEXT,\n"
	"  PRIMARY KEY (run_id, col)\n"
	");\n",
};

_Static_assert(
    sizeof db_migrations / sizeof db_migrations[0] == DB_SCHEMA_VERSION,
    "one migration per schema version");

void
db_model_release(struct db_model *m)
{
	free(m->path);
	memset(m, 0, sizeof *m);
}

int
db_path(const char *explicit_path, char **out, struct err *err)
{
	const char *env = getenv("VKCHAT_DB");
	char *dir;

	if (explicit_path != NULL) {
		if (*explicit_path == '\0')
			return err_set(err, ERR_USAGE, "--db: empty path");
		*out = xstrdup(explicit_path);
		return 0;
	}
	if (env != NULL && *env != '\0') {
		*out = xstrdup(env);
		return 0;
	}
	dir = util_xdg_dir("data");
	if (dir == NULL)
		return err_set(err, ERR_USAGE,
		    "cannot find the database: neither XDG_DATA_HOME nor HOME "
		    "is set (use --db PATH)");
	*out = xasprintf("%s/vkchat.db", dir);
	free(dir);
	return 0;
}

int
db_fail(struct db *db, int rc, const char *what, struct err *err)
{
	const char *msg =
	    db->sq != NULL ? sqlite3_errmsg(db->sq) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return err_set(err, ERR_FORMAT,
		    "'%s' is damaged (%s: %s); restore a backup, see "
		    "vkchat-storage(5)",
		    db->path, what, msg);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return err_set(err, ERR_DB,
		    "'%s': %s: the database stayed locked by another "
		    "program for too long (%s)",
		    db->path, what, msg);
	case SQLITE_READONLY:
		if (db->ro != NULL)
			return err_set(err, ERR_IO,
			    "'%s': %s: the database is open read-only (%s)",
			    db->path, what, db->ro);
		/* the file is writable, so its -wal or -shm file is not */
		return err_set(err, ERR_IO,
		    "'%s': %s: the database is read-only (%s; see the "
		    "permissions of its -wal and -shm files)",
		    db->path, what, msg);
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		return err_set(
		    err, ERR_IO, "'%s': %s: %s", db->path, what, msg);
	default:
		return err_set(
		    err, ERR_DB, "'%s': %s: %s", db->path, what, msg);
	}
}

int
db_prepare(struct db *db, const char *sql, sqlite3_stmt **st, struct err *err)
{
	int rc = sqlite3_prepare_v2(db->sq, sql, -1, st, NULL);

	if (rc != SQLITE_OK) {
		*st = NULL;
		return db_fail(db, rc, "preparing a statement", err);
	}
	return 0;
}

/* Sleep MS milliseconds (between retries). */
static void
db_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
db_step(struct db *db, sqlite3_stmt *st, const char *what, struct err *err)
{
	int rc, tries;

	/*
	 * The busy handler already waited up to the timeout; SQLite skips it
	 * when waiting could deadlock, so a few spaced retries cover that.
	 */
	for (tries = 0;; tries++) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			return 1;
		if (rc == SQLITE_DONE)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY || tries == 5)
			break;
		sqlite3_reset(st);
		db_sleep_ms(50L << tries);
	}
	return db_fail(db, rc, what, err);
}

int
db_write(struct db *db, sqlite3_stmt *st, const char *what, struct err *err)
{
	int rc = db_step(db, st, what, err);

	if (rc >= 0)
		rc = sqlite3_changes(db->sq);
	sqlite3_finalize(st);
	return rc;
}

int
db_exec(struct db *db, const char *sql, struct err *err)
{
	const char *tail = sql;
	sqlite3_stmt *st;
	int rc;

	while (*tail != '\0') {
		rc = sqlite3_prepare_v2(db->sq, tail, -1, &st, &tail);
		if (rc != SQLITE_OK)
			return db_fail(db, rc, "preparing a statement", err);
		if (st == NULL) /* only whitespace or comments were left */
			break;
		while ((rc = db_step(db, st, "updating the schema", err)) > 0)
			;
		sqlite3_finalize(st);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Run one constant statement that returns no rows. */
static int
db_run(struct db *db, const char *sql, const char *what, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st, err)) != 0)
		return rc;
	rc = db_write(db, st, what, err);
	return rc < 0 ? rc : 0;
}

int
db_begin(struct db *db, struct err *err)
{
	int rc = db_run(db,
	    db->depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT db_nested",
	    "starting a transaction", err);

	if (rc == 0)
		db->depth++;
	return rc;
}

int
db_commit(struct db *db, struct err *err)
{
	int rc = db_run(db, db->depth == 1 ? "COMMIT" : "RELEASE db_nested",
	    "committing", err);

	if (rc != 0) {
		db_rollback(db);
		return rc;
	}
	db->depth--;
	return 0;
}

void
db_rollback(struct db *db)
{
	if (db->depth == 0)
		return;
	if (db->depth == 1) {
		if (!sqlite3_get_autocommit(db->sq))
			sqlite3_exec(db->sq, "ROLLBACK", NULL, NULL, NULL);
	} else {
		sqlite3_exec(db->sq, "ROLLBACK TO db_nested; RELEASE db_nested",
		    NULL, NULL, NULL);
	}
	db->depth--;
}

void
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

void
db_bind_int_or_null(sqlite3_stmt *st, int i, int64_t v, int is_null)
{
	if (is_null)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

char *
db_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	s = sqlite3_column_text(st, i);
	return xstrndup(s != NULL ? (const char *)s : "",
	    (size_t)sqlite3_column_bytes(st, i));
}

char *
db_col_str(sqlite3_stmt *st, int i)
{
	char *s = db_col_text(st, i);

	return s != NULL ? s : xstrdup("");
}

int64_t
db_col_i64(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int64(st, i);
}

double
db_col_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_double(st, i);
}

void
db_bind_model(sqlite3_stmt *st, int i, const struct db_model *m)
{
	db_bind_text(st, i, m != NULL ? m->path : NULL);
	db_bind_int_or_null(
	    st, i + 1, m != NULL ? m->size : 0, m == NULL || m->size == 0);
	db_bind_text(
	    st, i + 2, m != NULL && m->hash[0] != '\0' ? m->hash : NULL);
}

void
db_col_model(sqlite3_stmt *st, int i, struct db_model *m)
{
	const unsigned char *h = sqlite3_column_text(st, i + 2);

	memset(m, 0, sizeof *m);
	m->path = db_col_text(st, i);
	m->size = sqlite3_column_int64(st, i + 1);
	if (h != NULL)
		snprintf(m->hash, sizeof m->hash, "%s", (const char *)h);
}

char *
db_params_json(const struct gen_params *p)
{
	char *out;
	struct json_writer w;
	struct sbuf sb;

	sbuf_init(&sb);
	json_writer_init(&w, &sb, 0);
	params_to_json(p, &w);
	out = sbuf_detach(&sb);
	sbuf_release(&sb);
	return out;
}

int
db_params_parse(
    const char *text, const char *where, struct gen_params *p, struct err *err)
{
	struct json *j;
	int rc;

	params_init(p);
	if ((rc = json_parse(text, strlen(text), &j, err)) != 0) {
		err_prefix(err, "%s: stored settings", where);
		return rc;
	}
	rc = params_from_json(p, j, err);
	json_free(j);
	if (rc != 0)
		err_prefix(err, "%s", where);
	return rc;
}

int
db_name_check(const char *kind, const char *name, struct err *err)
{
	size_t i, n = strlen(name);

	if (n == 0)
		return err_set(err, ERR_USAGE, "%s name is empty", kind);
	if (n > DB_NAME_MAX)
		return err_set(err, ERR_USAGE,
		    "%s name '%.20s...' is too long (at most %d bytes)", kind,
		    name, DB_NAME_MAX);
	if (name[0] == '-' || name[0] == '.')
		return err_set(err, ERR_USAGE,
		    "%s name '%s' must not start with '%c'", kind, name,
		    name[0]);
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-'))
			return err_set(err, ERR_USAGE,
			    "%s name '%s': only letters, digits, '.', '_' "
			    "and '-' are allowed",
			    kind, name);
	}
	return 0;
}

/* A big-endian 32-bit field of the SQLite header. */
static uint32_t
db_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * Create PATH (and its directory) if it does not exist; *fresh tells
 * whether it is empty.  Otherwise judge it by its header alone.
 */
static int
db_prepare_file(const char *path, int *fresh, struct err *err)
{
	unsigned char h[100];
	struct stat st;
	size_t got = 0;
	uint32_t page, version, app;
	char *dir, *slash;
	int fd, rc;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) != 0 &&
		    (rc = util_mkdirs(dir, 0700, err)) != 0) {
			free(dir);
			return rc;
		}
	}
	free(dir);
	fd = open(
	    path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd >= 0) {
		close(fd);
		*fresh = 1;
		return 0;
	}
	if (errno != EEXIST)
		return err_set(err, ERR_IO, "cannot create '%s': %s", path,
		    strerror(errno));
	/* O_NONBLOCK: a FIFO is refused, not waited on */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return err_set(
		    err, ERR_IO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, ERR_IO, "'%s' is not a regular file", path);
	}
	while (got < sizeof h) {
		ssize_t r = read(fd, h + got, sizeof h - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*fresh = st.st_size == 0;
	if (*fresh)
		return 0;
	if (got < sizeof h || memcmp(h, "SQLite format 3", 16) != 0)
		return err_set(err, ERR_FORMAT,
		    "'%s' is not a SQLite database, so not a vkchat one; it "
		    "was left untouched",
		    path);
	page = (uint32_t)h[16] << 8 | h[17];
	if (page == 1)
		page = 65536;
	if (page < 512 || page > 65536 || (page & (page - 1)) != 0 ||
	    st.st_size % page != 0)
		return err_set(err, ERR_FORMAT,
		    "'%s' is damaged (bad page size %u or a truncated file of "
		    "%lld bytes); it was left untouched",
		    path, page, (long long)st.st_size);
	version = db_be32(h + 60);
	app = db_be32(h + 68);
	if (app != DB_APPLICATION_ID && (app != 0 || version != 0))
		return err_set(err, ERR_FORMAT,
		    "'%s' is a SQLite database of another program "
		    "(application id %#x, version %u), not vkchat's; it was "
		    "left untouched",
		    path, app, version);
	if (version > DB_SCHEMA_VERSION)
		return err_set(err, ERR_UNSUPPORTED,
		    "'%s' was written by a newer vkchat (schema version %u; "
		    "this one knows up to %d): upgrade vkchat; the file was "
		    "left untouched",
		    path, version, DB_SCHEMA_VERSION);
	return 0;
}

/* An integer pragma's value (SQL is constant). */
static int
db_pragma_int(struct db *db, const char *sql, int64_t *out, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st, err)) != 0)
		return rc;
	rc = db_step(db, st, "reading the header", err);
	*out = rc > 0 ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc < 0 ? rc : 0;
}

int
db_version(struct db *db, struct err *err)
{
	int64_t v;
	int rc = db_pragma_int(db, "PRAGMA user_version", &v, err);

	return rc < 0 ? rc : (int)v;
}

/* Run an integrity pragma; 0 when it says "ok". */
static int
db_check_with(struct db *db, const char *sql, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st, err)) != 0)
		return rc;
	rc = db_step(db, st, "checking the file", err);
	if (rc > 0) {
		const char *r = (const char *)sqlite3_column_text(st, 0);

		if (r == NULL || strcmp(r, "ok") != 0)
			rc = err_set(err, ERR_FORMAT,
			    "'%s' is damaged (%s); restore a backup, see "
			    "vkchat-storage(5)",
			    db->path, r != NULL ? r : "no answer");
		else
			rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_check(struct db *db, struct err *err)
{
	return db_check_with(db, "PRAGMA integrity_check(1)", err);
}

/* Apply migration V (taking user_version V-1 to V) in one transaction. */
static int
db_migrate_one(struct db *db, int v, struct err *err)
{
	int64_t now;
	char *set;
	int rc;

	if ((rc = db_begin(db, err)) != 0)
		return rc;
	if ((rc = db_pragma_int(db, "PRAGMA user_version", &now, err)) != 0)
		goto fail;
	if (now >= v) /* another process got there first */
		return db_commit(db, err);
	if ((rc = db_exec(db, db_migrations[v - 1], err)) != 0) {
		err_prefix(err, "migrating to schema version %d", v);
		goto fail;
	}
	/* A pragma takes no parameters; V is our own constant. */
	set = xasprintf("PRAGMA user_version = %d", v);
	rc = db_exec(db, set, err);
	free(set);
	if (rc != 0)
		goto fail;
	return db_commit(db, err);
fail:
	db_rollback(db);
	return rc;
}

/*
 * Switch to WAL.  While another process opens the same new file the
 * change can be refused (the old mode comes back): wait and try again.
 */
static int
db_wal(struct db *db, struct err *err)
{
	sqlite3_stmt *st;
	int rc, tries, wal;

	for (tries = 0; tries < 50; tries++) {
		if ((rc = db_prepare(
			 db, "PRAGMA journal_mode = WAL", &st, err)) != 0)
			return rc;
		rc = db_step(db, st, "switching to WAL", err);
		wal = rc > 0 &&
		    strcmp((const char *)sqlite3_column_text(st, 0), "wal") ==
			0;
		sqlite3_finalize(st);
		if (rc < 0)
			return rc;
		if (wal)
			return 0;
		db_sleep_ms(100);
	}
	return err_set(err, ERR_DB, "'%s': cannot switch to WAL", db->path);
}

/*
 * SQLite's lock bytes, part of its file format: the PENDING byte, the
 * RESERVED byte and the 510 SHARED bytes from 2^30 on.  Every SQLite
 * connection takes a read lock here before it reads a byte of the file.
 */
#define DB_LOCK_FIRST 0x40000000L
#define DB_LOCK_SIZE 512

/* Whether extended result RC says the -wal or -shm file could not be made. */
static int
db_ro_worthy(int rc)
{
	switch (rc) {
	case SQLITE_READONLY:
	case SQLITE_READONLY_DIRECTORY:
	case SQLITE_READONLY_CANTINIT:
	case SQLITE_READONLY_CANTLOCK:
	case SQLITE_IOERR_SHMOPEN:
	case SQLITE_IOERR_SHMSIZE:
	case SQLITE_IOERR_SHMMAP:
	case SQLITE_FULL:
		return 1;
	default:
		return (rc & 0xff) == SQLITE_CANTOPEN;
	}
}

/* Read the schema once; SQLITE_OK or the extended result code. */
static int
db_probe(sqlite3 *sq)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(
	    sq, "SELECT count(*) FROM sqlite_master", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* A "file:" URI for PATH with the query PARAM; the caller frees it. */
static char *
db_uri(const char *path, const char *param)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path), plen = strlen(param), o = 0, i;
	char *u = xmalloc(3 * n + plen + 16);

	/* an empty authority keeps a path starting with // a path */
	o = path[0] == '/' ? 7 : 5;
	memcpy(u, "file://", o);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("/-._~", c) != NULL) {
			u[o++] = (char)c;
		} else {
			u[o++] = '%';
			u[o++] = hex[c >> 4];
			u[o++] = hex[c & 15];
		}
	}
	u[o++] = '?';
	memcpy(u + o, param, plen + 1);
	return u;
}

/*
 * Keep every other SQLite connection out of DB's file while it is open
 * immutable: a write lock on all of SQLite's lock bytes, held on a
 * descriptor of our own.  A file we cannot open for writing gets no
 * lock, and is only read this way on a read-only file system, where no
 * one can write it.
 */
static int
db_lock_out(struct db *db, struct err *err)
{
	struct flock fl;
	struct statvfs vfs;
	int fd, tries;

	fd = open(db->path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (statvfs(db->path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
			return 0;
		return err_set(err, ERR_IO,
		    "'%s' cannot be read safely: %s, and the file is not "
		    "writable either, so other programs could change it "
		    "while it is read",
		    db->path, db->ro);
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = DB_LOCK_FIRST;
	fl.l_len = DB_LOCK_SIZE;
	for (tries = 0; fcntl(fd, F_SETLK, &fl) != 0; tries++) {
		if ((errno != EACCES && errno != EAGAIN) || tries == 50) {
			close(fd);
			return err_set(err, ERR_DB,
			    "'%s': opening read-only: the database stayed "
			    "locked by another program for too long",
			    db->path);
		}
		db_sleep_ms(100);
	}
	db->lock_fd = fd;
	return 0;
}

/*
 * DB's file is there but its -wal or -shm file cannot be created or grown
 * (a directory we may not write, a full disk): reopen it read-only, so
 * that reading works and every write fails naming the reason (db->ro).
 * WAL readers need the -shm file, so:
 *   - with a -shm file present (another program has the database open,
 *     or left it), SQLite's own read-only protocol (readonly_shm=1)
 *     reads it safely alongside writers;
 *   - without one, no connection has the file open in WAL mode, and the
 *     file alone holds the database, unless a -wal file with content is
 *     left from a crash (refused: only a writer can recover it).  It is
 *     opened immutable, which takes no locks and would read torn pages
 *     if someone wrote meanwhile, so db_lock_out first locks every other
 *     SQLite connection out of the file for as long as it is open.
 */
static int
db_open_ro(struct db *db, struct err *err)
{
	int sys = sqlite3_system_errno(db->sq);
	char *shm = xasprintf("%s-shm", db->path);
	char *wal = xasprintf("%s-wal", db->path);
	char *dir = xstrdup(db->path), *slash = strrchr(dir, '/'), *uri;
	struct stat st;
	int rc;

	if (slash != NULL)
		slash[slash == dir] = '\0';
	if (access(slash != NULL ? dir : ".", W_OK) != 0)
		db->ro = xasprintf("its directory '%s' is not writable: %s",
		    slash != NULL ? dir : ".", strerror(errno));
	else if (sys != 0 && sys != ENOENT) /* ENOENT: the read-only retry */
		db->ro = xasprintf(
		    "'%s' cannot be created or grown: %s", shm, strerror(sys));
	else
		db->ro = xasprintf("'%s' cannot be created", shm);
	sqlite3_close_v2(db->sq);
	db->sq = NULL;
	if (stat(shm, &st) == 0) {
		uri = db_uri(db->path, "readonly_shm=1");
	} else if (stat(wal, &st) == 0 && st.st_size > 0) {
		rc = err_set(err, ERR_IO,
		    "'%s' holds changes that only a writer can recover, and "
		    "%s",
		    wal, db->ro);
		goto out;
	} else if ((rc = db_lock_out(db, err)) != 0) {
		goto out;
	} else {
		uri = db_uri(db->path, "immutable=1");
	}
	rc = sqlite3_open_v2(uri, &db->sq,
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_EXRESCODE,
	    NULL);
	free(uri);
	if (rc != SQLITE_OK)
		rc = db_fail(db, rc, "opening read-only", err);
	else
		sqlite3_busy_timeout(db->sq, DB_BUSY_TIMEOUT_MS);
out:
	free(dir);
	free(wal);
	free(shm);
	return rc;
}

int
db_open_version(const char *path, int version, struct db **out, struct err *err)
{
	struct db *db;
	sqlite3_stmt *st;
	int64_t app, v, tables;
	int fresh, rc;

	*out = NULL;
	if (version < 1 || version > DB_SCHEMA_VERSION)
		return err_set(err, ERR_RANGE, "no schema version %d", version);
	/*
	 * A file another process is creating this very moment can look
	 * short or torn: look again before calling it damaged.
	 */
	if ((rc = db_prepare_file(path, &fresh, err)) == ERR_FORMAT) {
		db_sleep_ms(100);
		rc = db_prepare_file(path, &fresh, err);
	}
	if (rc != 0)
		return rc;
	db = xcalloc(1, sizeof *db);
	db->path = xstrdup(path);
	db->lock_fd = -1;
	rc = sqlite3_open_v2(
	    path, &db->sq, SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(db, rc, "opening", err);
		goto fail;
	}
	sqlite3_busy_timeout(db->sq, DB_BUSY_TIMEOUT_MS);
	if (!fresh && db_ro_worthy(db_probe(db->sq)) &&
	    (rc = db_open_ro(db, err)) != 0)
		goto fail;
	if (db->ro == NULL && sqlite3_db_readonly(db->sq, "main") == 1)
		db->ro = xasprintf("'%s' is not writable", path);
	sqlite3_db_config(db->sq, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	/*
	 * Read the header again through SQLite, which also sees the WAL, in
	 * one statement: one snapshot, even while another process is
	 * creating the schema.
	 */
	if ((rc = db_prepare(db,
		 "SELECT (SELECT application_id FROM pragma_application_id), "
		 "(SELECT user_version FROM pragma_user_version), "
		 "(SELECT count(*) FROM sqlite_master)",
		 &st, err)) != 0)
		goto fail;
	rc = db_step(db, st, "reading the header", err);
	app = sqlite3_column_int64(st, 0);
	v = sqlite3_column_int64(st, 1);
	tables = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	if (rc < 0)
		goto fail;
	if (app != DB_APPLICATION_ID && (app != 0 || v != 0 || tables != 0)) {
		rc = err_set(err, ERR_FORMAT,
		    "'%s' is a SQLite database of another program, not "
		    "vkchat's; it was left untouched",
		    path);
		goto fail;
	}
	if (v > DB_SCHEMA_VERSION) {
		rc = err_set(err, ERR_UNSUPPORTED,
		    "'%s' was written by a newer vkchat (schema version %lld; "
		    "this one knows up to %d): upgrade vkchat; the file was "
		    "left untouched",
		    path, (long long)v, DB_SCHEMA_VERSION);
		goto fail;
	}
	if (!fresh && v < version &&
	    (rc = db_check_with(db, "PRAGMA quick_check(1)", err)) != 0) {
		err_prefix(err, "not migrating it");
		goto fail;
	}
	if (db->ro != NULL && v < version) {
		rc = err_set(err, ERR_IO,
		    "'%s' needs upgrading to schema version %d, which needs "
		    "writing, but %s",
		    path, version, db->ro);
		goto fail;
	}
	if ((rc = db_exec(db,
		 "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
		 err)) != 0 ||
	    (db->ro == NULL && (rc = db_wal(db, err)) != 0))
		goto fail;
	for (; v < version; v++)
		if ((rc = db_migrate_one(db, (int)v + 1, err)) != 0)
			goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return rc;
}

int
db_open(const char *path, struct db **out, struct err *err)
{
	return db_open_version(path, DB_SCHEMA_VERSION, out, err);
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	sqlite3_close_v2(db->sq);
	/* after SQLite's descriptor: closing any drops our process's locks */
	if (db->lock_fd >= 0)
		close(db->lock_fd);
	free(db->ro);
	free(db->path);
	free(db);
}

const char *
db_file(const struct db *db)
{
	return db->path;
}
