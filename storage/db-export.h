/*
 * db-export: a session as a file.  JSON carries every field of the
 * session, its messages (the whole tree, or the shown branch) and its
 * compare runs, and db_export_import reads it back, so sessions move
 * between machines; Markdown is the shown branch for people to read.
 *
 * The JSON document is an object {"format": "vkchat-session",
 * "version": 1, "session": {...}, "messages": [...], "compare_runs":
 * [...]}; vkchat-storage(5) lists the fields.  Seeds are strings (64-bit
 * values do not survive JSON numbers), times are milliseconds since the
 * epoch with an ISO 8601 UTC copy beside them.
 */
#ifndef VKCHAT_DB_EXPORT_H
#define VKCHAT_DB_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "util.h"

/* The export format's version; imports of newer versions are refused. */
#define DB_EXPORT_VERSION 1

/*
 * Append session ID as JSON to OUT (pretty-printed when PRETTY): every
 * message when ALL, else the shown branch (each message then says how
 * many siblings it has).
 */
int db_export_json(struct db *db, int64_t id, int all, int pretty,
    struct sbuf *out, struct err *err);

/* Append session ID's shown branch and compare runs as Markdown. */
int db_export_markdown(
    struct db *db, int64_t id, struct sbuf *out, struct err *err);

/*
 * Import an export (TEXT, LEN bytes; SOURCE names it in messages) as a
 * new session, in one transaction: message ids are renumbered, parents
 * must come before their children, the link to a parent session is
 * dropped (it belongs to another database).  The new id goes to *id.
 * Errors name the field ("messages[3].role").
 */
int db_export_import(struct db *db, const char *text, size_t len,
    const char *source, int64_t *id, struct err *err);

#endif
