/*
 * db-compare: the compare_runs and compare_columns tables (migration 3).
 * Columns are keyed by (run, index); a run is written in one transaction
 * and read back with its columns in index order.
 */
#include "db-compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-int.h"
#include "db-sessions.h"

void
db_compare_init(struct db_compare_run *run)
{
	memset(run, 0, sizeof *run);
	run->winner = -1;
}

/* Release column C's strings. */
static void
db_compare_column_release(struct db_compare_column *c)
{
	free(c->preset);
	params_release(&c->params);
	free(c->output);
	free(c->error);
}

void
db_compare_columns(struct db_compare_run *run, size_t n)
{
	size_t i;

	for (i = 0; i < run->n_columns; i++)
		db_compare_column_release(&run->columns[i]);
	free(run->columns);
	run->columns = n > 0 ? xcalloc(n, sizeof *run->columns) : NULL;
	run->n_columns = n;
	for (i = 0; i < n; i++) {
		struct db_compare_column *c = &run->columns[i];

		params_init(&c->params);
		c->partial = 1;
		c->stats.prompt_tokens = c->stats.completion_tokens = -1;
		c->stats.ttft_ms = c->stats.tokens_per_s = -1;
	}
}

void
db_compare_release(struct db_compare_run *run)
{
	db_compare_columns(run, 0);
	free(run->prompt);
	free(run->system_prompt);
	db_model_release(&run->model);
	db_compare_init(run);
}

void
db_compare_free(struct db_compare_run *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		db_compare_release(&list[i]);
	free(list);
}

/* Insert column I of RUN into run ID. */
static int
db_compare_insert_column(struct db *db, int64_t id,
    const struct db_compare_run *run, size_t i, struct err *err)
{
	const struct db_compare_column *c = &run->columns[i];
	sqlite3_stmt *st;
	char *json;
	int rc;

	if (c->preset == NULL || *c->preset == '\0')
		return err_set(
		    err, ERR_USAGE, "compare column %zu has no preset name", i);
	if ((rc = db_prepare(db,
		 "INSERT INTO compare_columns (run_id, col, preset, "
		 "params_json, seed, output, partial, prompt_tokens, "
		 "completion_tokens, ttft_ms, tokens_per_s, finish_reason, "
		 "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		 &st, err)) != 0)
		return rc;
	json = db_params_json(&c->params);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)i);
	db_bind_text(st, 3, c->preset);
	db_bind_text(st, 4, json);
	sqlite3_bind_int64(st, 5, (int64_t)c->seed);
	db_bind_text(st, 6, c->output != NULL ? c->output : "");
	sqlite3_bind_int(st, 7, c->partial != 0);
	db_messages_bind_stats(st, 8, &c->stats);
	db_bind_text(st, 13, c->error);
	rc = db_step(db, st, "storing a compare column", err);
	sqlite3_finalize(st);
	free(json);
	return rc < 0 ? rc : 0;
}

int
db_compare_create(struct db *db, const struct db_compare_run *run, int64_t *id,
    struct err *err)
{
	int64_t created =
	    run->created_ms != 0 ? run->created_ms : util_wall_ms();
	struct db_session s;
	sqlite3_stmt *st;
	int64_t rid;
	size_t i;
	int rc;

	if (run->n_columns < 1 || run->n_columns > DB_COMPARE_MAX_COLUMNS)
		return err_set(err, ERR_RANGE,
		    "a compare run has 1 to %d columns, not %zu",
		    DB_COMPARE_MAX_COLUMNS, run->n_columns);
	if (run->winner < -1 || run->winner >= (int)run->n_columns)
		return err_set(err, ERR_RANGE,
		    "compare winner %d: there are %zu columns", run->winner,
		    run->n_columns);
	if ((rc = db_begin(db, err)) != 0)
		return rc;
	if ((rc = db_sessions_get(db, run->session_id, &s, err)) != 0) {
		db_sessions_release(&s);
		goto fail;
	}
	db_sessions_release(&s);
	if ((rc = db_prepare(db,
		 "INSERT INTO compare_runs (session_id, prompt, "
		 "system_prompt, created_ms, model_path, model_size, "
		 "model_hash, winner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		 &st, err)) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, run->session_id);
	db_bind_text(st, 2, run->prompt != NULL ? run->prompt : "");
	db_bind_text(st, 3, run->system_prompt);
	sqlite3_bind_int64(st, 4, created);
	db_bind_model(st, 5, &run->model);
	db_bind_int_or_null(st, 8, run->winner, run->winner < 0);
	rc = db_step(db, st, "storing a compare run", err);
	sqlite3_finalize(st);
	if (rc < 0)
		goto fail;
	rid = sqlite3_last_insert_rowid(db->sq);
	for (i = 0; i < run->n_columns; i++)
		if ((rc = db_compare_insert_column(db, rid, run, i, err)) != 0)
			goto fail;
	if ((rc = db_sessions_touch(db, run->session_id, created, err)) != 0)
		goto fail;
	if ((rc = db_commit(db, err)) != 0)
		return rc;
	*id = rid;
	return 0;
fail:
	db_rollback(db);
	return rc;
}

/* Read the columns of run R->id into R. */
static int
db_compare_read_columns(
    struct db *db, struct db_compare_run *r, struct err *err)
{
	char where[64];
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	if ((rc = db_prepare(db,
		 "SELECT preset, params_json, seed, output, partial, "
		 "prompt_tokens, completion_tokens, ttft_ms, tokens_per_s, "
		 "finish_reason, error FROM compare_columns WHERE run_id = ? "
		 "ORDER BY col",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, r->id);
	while ((rc = db_step(db, st, "reading a compare run", err)) > 0) {
		struct db_compare_column *c;
		char *json = db_col_str(st, 1);

		r->columns =
		    xreallocarray(r->columns, n + 1, sizeof *r->columns);
		r->n_columns = n + 1;
		c = &r->columns[n];
		memset(c, 0, sizeof *c);
		snprintf(where, sizeof where, "compare run %lld column %zu",
		    (long long)r->id, n);
		n++;
		c->preset = db_col_str(st, 0);
		c->seed = (uint64_t)sqlite3_column_int64(st, 2);
		c->output = db_col_str(st, 3);
		c->partial = sqlite3_column_int(st, 4) != 0;
		c->error = db_col_text(st, 10);
		rc = db_params_parse(json, where, &c->params, err);
		free(json);
		if (rc == 0)
			rc = db_messages_col_stats(st, 5, &c->stats, err);
		if (rc != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc < 0 ? rc : 0;
}

#define DB_COMPARE_COLS \
	"id, session_id, prompt, system_prompt, created_ms, model_path, " \
	"model_size, model_hash, winner"

/* Run ST (bound, selecting DB_COMPARE_COLS) and read every run. */
static int
db_compare_collect(struct db *db, sqlite3_stmt *st, struct db_compare_run **out,
    size_t *n, struct err *err)
{
	struct db_compare_run *list = NULL;
	size_t len = 0, i;
	int rc;

	while ((rc = db_step(db, st, "reading compare runs", err)) > 0) {
		struct db_compare_run *r;

		list = xreallocarray(list, len + 1, sizeof *list);
		r = &list[len++];
		db_compare_init(r);
		r->id = sqlite3_column_int64(st, 0);
		r->session_id = sqlite3_column_int64(st, 1);
		r->prompt = db_col_str(st, 2);
		r->system_prompt = db_col_text(st, 3);
		r->created_ms = sqlite3_column_int64(st, 4);
		db_col_model(st, 5, &r->model);
		r->winner = (int)db_col_i64(st, 8);
	}
	sqlite3_finalize(st);
	for (i = 0; rc == 0 && i < len; i++)
		rc = db_compare_read_columns(db, &list[i], err);
	if (rc < 0) {
		db_compare_free(list, len);
		return rc;
	}
	*out = list;
	*n = len;
	return 0;
}

int
db_compare_get(
    struct db *db, int64_t id, struct db_compare_run *out, struct err *err)
{
	struct db_compare_run *list;
	sqlite3_stmt *st;
	size_t n;
	int rc;

	db_compare_init(out);
	if ((rc = db_prepare(db,
		 "SELECT " DB_COMPARE_COLS " FROM compare_runs WHERE id = ?",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = db_compare_collect(db, st, &list, &n, err)) != 0)
		return rc;
	if (n == 0) {
		free(list);
		return err_set(
		    err, ERR_NOTFOUND, "no compare run %lld", (long long)id);
	}
	*out = list[0];
	free(list);
	return 0;
}

int
db_compare_list(struct db *db, int64_t session, struct db_compare_run **out,
    size_t *n, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db,
		 "SELECT " DB_COMPARE_COLS " FROM compare_runs WHERE "
		 "session_id = ? ORDER BY id",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, session);
	return db_compare_collect(db, st, out, n, err);
}

int
db_compare_prompt_message(
    struct db *db, const struct db_compare_run *r, int64_t *id, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
		 "SELECT id FROM messages WHERE session_id = ? AND role = "
		 "'user' AND content = ? AND created_ms <= ? ORDER BY "
		 "created_ms DESC, id DESC LIMIT 1",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, r->session_id);
	db_bind_text(st, 2, r->prompt != NULL ? r->prompt : "");
	sqlite3_bind_int64(st, 3, r->created_ms);
	rc = db_step(db, st, "finding a compare run's prompt", err);
	if (rc > 0)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == 0)
		return err_set(err, ERR_NOTFOUND,
		    "compare run %lld: no prompt message in session %lld",
		    (long long)r->id, (long long)r->session_id);
	return rc < 0 ? rc : 0;
}

int
db_compare_set_winner(struct db *db, int64_t id, int col, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
		 "UPDATE compare_runs SET winner = ?2 WHERE id = ?1 AND "
		 "(?2 IS NULL OR EXISTS (SELECT 1 FROM compare_columns WHERE "
		 "run_id = ?1 AND col = ?2))",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	db_bind_int_or_null(st, 2, col, col < 0);
	if ((rc = db_write(db, st, "choosing a winner", err)) == 0)
		return err_set(err, ERR_NOTFOUND,
		    "no compare run %lld with a column %d", (long long)id, col);
	return rc < 0 ? rc : 0;
}

int
db_compare_set_output(struct db *db, int64_t id, int col, const char *text,
    size_t len, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
		 "UPDATE compare_columns SET output = ?3 WHERE run_id = ?1 "
		 "AND col = ?2 AND partial = 1",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, col);
	sqlite3_bind_text(st, 3, text, (int)len, SQLITE_TRANSIENT);
	if ((rc = db_write(db, st, "saving generated text", err)) == 0)
		return err_set(err, ERR_NOTFOUND,
		    "compare run %lld has no column %d being generated",
		    (long long)id, col);
	return rc < 0 ? rc : 0;
}

int
db_compare_finish(struct db *db, int64_t id, int col, const char *text,
    size_t len, const struct db_gen_stats *stats, const char *error,
    struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
		 "UPDATE compare_columns SET output = ?3, partial = 0, "
		 "prompt_tokens = ?4, completion_tokens = ?5, ttft_ms = ?6, "
		 "tokens_per_s = ?7, finish_reason = ?8, error = ?9 WHERE "
		 "run_id = ?1 AND col = ?2 AND partial = 1",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, col);
	sqlite3_bind_text(st, 3, text, (int)len, SQLITE_TRANSIENT);
	db_messages_bind_stats(st, 4, stats);
	db_bind_text(st, 9, error);
	if ((rc = db_write(db, st, "finishing a compare column", err)) == 0)
		return err_set(err, ERR_NOTFOUND,
		    "compare run %lld has no column %d being generated",
		    (long long)id, col);
	return rc < 0 ? rc : 0;
}
