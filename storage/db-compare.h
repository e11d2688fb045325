/*
 * db-compare: compare runs.  One prompt sent with two to eight presets
 * side by side; each column keeps its preset name and full settings, its
 * output (streamed like a message, see db-stream.h) and its statistics,
 * and the run remembers the winner when the user picks one.  A run
 * belongs to a session, so it shows up in the session browser and goes
 * when the session is deleted.
 */
#ifndef VKCHAT_DB_COMPARE_H
#define VKCHAT_DB_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "db-messages.h"
#include "db.h"
#include "params.h"

/* The most columns in one run. */
#define DB_COMPARE_MAX_COLUMNS 8

/* One column.  Strings are owned by the enclosing run. */
struct db_compare_column {
	char *preset; /* the preset's name */
	struct gen_params params;
	uint64_t seed;
	char *output;
	int partial; /* still generating, or never finished */
	struct db_gen_stats stats;
	char *error; /* stats.finish == DB_FINISH_ERROR: what failed */
};

/* A run.  Strings and COLUMNS are owned by the struct. */
struct db_compare_run {
	int64_t id;
	int64_t session_id;
	char *prompt;
	char *system_prompt; /* NULL = none */
	int64_t created_ms;
	struct db_model model;
	int winner; /* column index; -1 = none chosen */
	struct db_compare_column *columns;
	size_t n_columns;
};

/* Clear *run (no columns, no winner). */
void db_compare_init(struct db_compare_run *run);
/*
 * Give *run N columns (replacing any), each with the default params,
 * unknown stats and partial set, ready to be filled in.
 */
void db_compare_columns(struct db_compare_run *run, size_t n);
void db_compare_release(struct db_compare_run *run);
void db_compare_free(struct db_compare_run *list, size_t n);

/*
 * Store RUN (session_id, prompt, system prompt, model, winner and every
 * column's preset, params, seed, output, partial flag and stats; for a
 * new run the outputs are empty and partial) in one transaction;
 * created_ms defaults to now.  1 to DB_COMPARE_MAX_COLUMNS columns; the
 * session must exist.  The id goes to *id.
 */
int db_compare_create(struct db *db, const struct db_compare_run *run,
    int64_t *id, struct err *err);

/* Read run ID with its columns into *out (initialised here). */
int db_compare_get(
    struct db *db, int64_t id, struct db_compare_run *out, struct err *err);

/* The runs of session SESSION, oldest first, into a new array. */
int db_compare_list(struct db *db, int64_t session, struct db_compare_run **out,
    size_t *n, struct err *err);

/*
 * The user message run R was the answer to, into *id: the newest user
 * message of R's session with R's prompt as its text, stored no later
 * than R (the TUI stores the prompt just before the run).  ERR_NOTFOUND
 * when there is none (a run of "vkchat compare --save" has no messages).
 */
int db_compare_prompt_message(struct db *db, const struct db_compare_run *r,
    int64_t *id, struct err *err);

/* Record column COL of run ID as the winner (-1: none). */
int db_compare_set_winner(struct db *db, int64_t id, int col, struct err *err);

/*
 * Streaming writes (db-stream.c): replace the output of partial column
 * COL of run ID; finish it with stats and error (may be NULL).
 */
int db_compare_set_output(struct db *db, int64_t id, int col, const char *text,
    size_t len, struct err *err);
int db_compare_finish(struct db *db, int64_t id, int col, const char *text,
    size_t len, const struct db_gen_stats *stats, const char *error,
    struct err *err);

#endif
