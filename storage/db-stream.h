/*
 * db-stream: text that is being generated, saved as it arrives.
 *
 * The row exists before the first token (a partial assistant message, or
 * a compare column), so the prompt and the settings are on disk before
 * generation starts.  While tokens arrive the whole text so far is
 * written at most once every DB_STREAM_INTERVAL seconds (never in the
 * middle of a UTF-8 character); db_stream_finish writes the rest with the
 * statistics and the finish reason and marks the row complete.  A kill -9
 * therefore loses at most the last interval of text, and a row left
 * partial says so.
 *
 * The usual sequence for a chat turn:
 *
 *	db_messages_add(db, &user, &uid, err);      (the prompt, committed)
 *	assistant.parent_id = uid; ...settings, seed, model...
 *	db_stream_message(db, &assistant, &s, err);
 *	for each token: db_stream_add(s, piece, len, err);
 *	db_stream_finish(s, &stats, NULL, err);
 *	db_stream_free(s);
 */
#ifndef VKCHAT_DB_STREAM_H
#define VKCHAT_DB_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "db-messages.h"
#include "db.h"

/* Seconds between two writes of a growing text. */
#define DB_STREAM_INTERVAL 1.0

struct db_stream;

/*
 * Insert M as a partial assistant message (see db_messages_add: it
 * becomes the session's leaf) and return a stream into it in *out, owned
 * by the caller (db_stream_free).  M's content is the text so far.
 */
int db_stream_message(struct db *db, const struct db_message *m,
    struct db_stream **out, struct err *err);

/*
 * A stream into column COL of compare run RUN (db_compare_create made it
 * partial and empty).
 */
int db_stream_compare(struct db *db, int64_t run, int col,
    struct db_stream **out, struct err *err);

/* The message id (or the compare run id) the stream writes. */
int64_t db_stream_id(const struct db_stream *s);

/* The whole text so far (owned by the stream). */
const char *db_stream_text(const struct db_stream *s);

/*
 * Append LEN bytes of TEXT, and write the text so far when the last write
 * is DB_STREAM_INTERVAL seconds old.  A failed write keeps the text (the
 * next call tries again) and returns the error for the caller to show;
 * generation can go on.
 */
int db_stream_add(
    struct db_stream *s, const char *text, size_t len, struct err *err);

/*
 * Write the whole text with STATS and ERROR (NULL unless stats->finish is
 * DB_FINISH_ERROR) and mark the row complete.  On failure the stream
 * stays open, so the call may be repeated.
 */
int db_stream_finish(struct db_stream *s, const struct db_gen_stats *stats,
    const char *error, struct err *err);

/* Free S; an unfinished row stays partial with its last written text. */
void db_stream_free(struct db_stream *s);

#endif
