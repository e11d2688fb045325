/*
 * db-int: what the storage modules share and nobody else sees: the
 * struct db itself and small wrappers around SQLite's prepared-statement
 * calls that turn failures into struct err messages naming the file.
 *
 * Every statement is a constant SQL string prepared with db_prepare();
 * values, user text above all, only ever travel through sqlite3_bind_*.
 */
#ifndef VKCHAT_DB_INT_H
#define VKCHAT_DB_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "db.h"
#include "json.h"
#include "params.h"

struct db {
	sqlite3 *sq;
	char *path;
	int depth;   /* open db_begin levels */
	char *ro;    /* why the file is open read-only, or NULL */
	int lock_fd; /* holds the immutable open's lock (db_open_ro), or -1 */
};

/* Prepare constant SQL; on failure fill *err and return ERR_DB. */
int db_prepare(
    struct db *db, const char *sql, sqlite3_stmt **st, struct err *err);

/*
 * Step ST, retrying a few times when another process keeps the file busy
 * past the busy timeout.  Returns 1 for a row, 0 when done, or a negative
 * code with *err filled (WHAT names the operation).
 */
int db_step(struct db *db, sqlite3_stmt *st, const char *what, struct err *err);

/*
 * Step ST, a statement that returns no rows (INSERT, UPDATE, DELETE),
 * once and finalize it.  Returns the number of rows it changed, or a
 * negative code with *err filled.
 */
int db_write(
    struct db *db, sqlite3_stmt *st, const char *what, struct err *err);

/* Run constant SQL (one or more statements) with no parameters. */
int db_exec(struct db *db, const char *sql, struct err *err);

/*
 * Fill *err from SQLite result code RC (extended codes) for operation WHAT
 * and return the matching code: corruption is ERR_FORMAT, a full disk or
 * an unwritable file ERR_IO, anything else ERR_DB.
 */
int db_fail(struct db *db, int rc, const char *what, struct err *err);

/* Bind text (NULL binds NULL). */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Bind an integer, or NULL when IS_NULL. */
void db_bind_int_or_null(sqlite3_stmt *st, int i, int64_t v, int is_null);
/* Column I as a new string, or NULL when it is NULL. */
char *db_col_text(sqlite3_stmt *st, int i);
/* Column I as a new string, "" when it is NULL. */
char *db_col_str(sqlite3_stmt *st, int i);
/* Column I as an integer or a real, -1 when it is NULL. */
int64_t db_col_i64(sqlite3_stmt *st, int i);
double db_col_real(sqlite3_stmt *st, int i);

/* Bind the three model columns starting at I (M NULL binds NULLs). */
void db_bind_model(sqlite3_stmt *st, int i, const struct db_model *m);
/* Read the three model columns starting at I into *m. */
void db_col_model(sqlite3_stmt *st, int i, struct db_model *m);

/* Parameters as the JSON text stored in params_json columns (new). */
char *db_params_json(const struct gen_params *p);
/*
 * Parse stored JSON TEXT into *p (initialised to the defaults first);
 * WHERE names the row in messages ("message 12").
 */
int db_params_parse(
    const char *text, const char *where, struct gen_params *p, struct err *err);

/*
 * Bind the generation statistics to parameters I to I+4 (prompt and
 * completion tokens, ttft_ms, tokens_per_s, finish_reason; negative
 * values bind NULL), or read them from columns I to I+4 (NULL reads -1;
 * ERR_FORMAT for a finish reason that is not one).
 */
struct db_gen_stats;
void db_messages_bind_stats(
    sqlite3_stmt *st, int i, const struct db_gen_stats *s);
int db_messages_col_stats(
    sqlite3_stmt *st, int i, struct db_gen_stats *s, struct err *err);

/*
 * Insert a session or a message without a transaction of their own, for
 * callers that hold one (fork, import); see db_sessions_create and
 * db_messages_add for the fields.
 */
struct db_session;
struct db_message;
int db_sessions_insert(
    struct db *db, const struct db_session *s, int64_t *id, struct err *err);
int db_messages_insert(
    struct db *db, const struct db_message *m, int64_t *id, struct err *err);

#endif
