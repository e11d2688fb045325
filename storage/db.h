/*
 * db: the vkchat database file.  Where it lives, how it is opened safely,
 * and the schema, which grows through an ordered list of migrations.
 *
 * One SQLite file ($XDG_DATA_HOME/vkchat/vkchat.db unless --db or
 * VKCHAT_DB say otherwise) holds sessions, messages, presets, prompt
 * templates and compare runs.  The other storage modules (db-sessions,
 * db-messages, db-stream, db-presets, db-templates, db-compare, db-export)
 * all work on the struct db opened here.
 *
 * A struct db belongs to one thread (the UI thread); several processes may
 * use one file at once (WAL, busy timeout, write transactions taken with
 * BEGIN IMMEDIATE).
 */
#ifndef VKCHAT_DB_H
#define VKCHAT_DB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The schema version this vkchat writes (PRAGMA user_version). */
#define DB_SCHEMA_VERSION 3
/* PRAGMA application_id of a vkchat database: "vkch". */
#define DB_APPLICATION_ID 0x766b6368
/* How long one statement waits for another process's lock, in ms. */
#define DB_BUSY_TIMEOUT_MS 5000
/* The longest preset or template name. */
#define DB_NAME_MAX 64

struct db;

/*
 * The identity of a model file: its path, size in bytes and the 16 hex
 * digits of gguf_identity().  In structs this module fills, PATH is owned
 * by the struct (db_model_release); as input it is only read.
 */
struct db_model {
	char *path;   /* NULL = unknown */
	int64_t size; /* 0 = unknown */
	char hash[17];
};

/* Free the path inside *m and clear it. */
void db_model_release(struct db_model *m);

/*
 * The database path: EXPLICIT (from --db) when not NULL, else $VKCHAT_DB
 * when set and not empty, else util_xdg_dir("data")/vkchat.db.  *out is
 * newly allocated.  Fails with ERR_USAGE when neither XDG_DATA_HOME nor
 * HOME is set.
 */
int db_path(const char *explicit_path, char **out, struct err *err);

/*
 * Open the database at PATH, creating it (mode 0600, missing directories
 * 0700) when it does not exist, and migrate it to DB_SCHEMA_VERSION.  The
 * file's header is read before SQLite is let near it: a file that is not a
 * SQLite database (ERR_FORMAT), a SQLite database that is not vkchat's
 * (ERR_FORMAT), or one written by a newer vkchat (ERR_UNSUPPORTED) is
 * refused and left untouched, and so is a damaged one that would need a
 * migration.  On success *out is owned by the caller (db_close).
 */
int db_open(const char *path, struct db **out, struct err *err);

/*
 * The same, migrating only up to VERSION (1 to DB_SCHEMA_VERSION): for the
 * migration tests, which need databases as older versions left them.
 */
int db_open_version(
    const char *path, int version, struct db **out, struct err *err);

/* Close DB (NULL is fine); the last connection checkpoints the WAL. */
void db_close(struct db *db);

/* The path DB was opened with (owned by DB). */
const char *db_file(const struct db *db);

/* The schema version of the open database, or a negative code. */
int db_version(struct db *db, struct err *err);

/*
 * Run PRAGMA integrity_check: 0 when the file is sound, ERR_FORMAT with
 * SQLite's first complaint otherwise.
 */
int db_check(struct db *db, struct err *err);

/*
 * Whether NAME is acceptable as the name of a KIND ("preset",
 * "template"): 1 to DB_NAME_MAX bytes of letters, digits, '.', '_' and
 * '-', not starting with '-' or '.'.  Returns 0 or ERR_USAGE.
 */
int db_name_check(const char *kind, const char *name, struct err *err);

/*
 * Start a write transaction (BEGIN IMMEDIATE, so that two writers queue
 * on the busy timeout instead of failing on upgrade), commit it, or roll
 * it back (never fails: used on error paths).  They nest: inside another
 * transaction they take a savepoint, so every API function may be called
 * from inside another's transaction (import, fork), and a caller may
 * group several calls into one transaction (a conversation's first write
 * of a turn: ui/conv.c).  A failed db_commit has rolled back already.
 */
int db_begin(struct db *db, struct err *err);
int db_commit(struct db *db, struct err *err);
void db_rollback(struct db *db);

#endif
