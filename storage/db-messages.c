/*
 * db-messages: the messages table.  The tree lives in parent_id; a branch
 * is read with one recursive query from its leaf up.  Sibling counts come
 * with every row read, so a view can show "2/3" without asking again.
 *
 * Adding a message is one transaction: the row, the session's new leaf
 * and update time, and the automatic title.  Each write commits on its
 * own, so the user's prompt is on disk before generation starts.
 */
#include "db-messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-int.h"
#include "db-sessions.h"

#define DB_MESSAGES_COLS \
	"m.id, m.session_id, m.parent_id, m.role, m.content, m.created_ms, " \
	"m.updated_ms, m.partial, m.preset, m.params_json, m.seed, " \
	"m.model_path, m.model_size, m.model_hash, m.prompt_tokens, " \
	"m.completion_tokens, m.ttft_ms, m.tokens_per_s, m.finish_reason, " \
	"m.error, (SELECT count(*) FROM messages x WHERE x.session_id = " \
	"m.session_id AND x.parent_id IS m.parent_id), (SELECT count(*) " \
	"FROM messages x WHERE x.session_id = m.session_id AND x.parent_id " \
	"IS m.parent_id AND x.id <= m.id)"

static const char *const db_messages_roles[] = { "system", "user",
	"assistant" };
static const char *const db_messages_finishes[] = { NULL, "stop", "length",
	"cancelled", "error" };

const char *
db_messages_role_name(enum db_role role)
{
	return (size_t)role < ARRAY_LEN(db_messages_roles)
	    ? db_messages_roles[role]
	    : "unknown";
}

int
db_messages_role_parse(const char *name, enum db_role *out, struct err *err)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(db_messages_roles); i++) {
		if (strcmp(name, db_messages_roles[i]) == 0) {
			*out = (enum db_role)i;
			return 0;
		}
	}
	return err_set(err, ERR_FORMAT,
	    "role '%s' is not one of system, user, assistant", name);
}

const char *
db_messages_finish_name(enum db_finish finish)
{
	return (size_t)finish < ARRAY_LEN(db_messages_finishes)
	    ? db_messages_finishes[finish]
	    : NULL;
}

int
db_messages_finish_parse(const char *name, enum db_finish *out, struct err *err)
{
	size_t i;

	for (i = 1; i < ARRAY_LEN(db_messages_finishes); i++) {
		if (strcmp(name, db_messages_finishes[i]) == 0) {
			*out = (enum db_finish)i;
			return 0;
		}
	}
	return err_set(err, ERR_FORMAT,
	    "finish reason '%s' is not one of stop, length, cancelled, error",
	    name);
}

void
db_messages_init(struct db_message *m)
{
	memset(m, 0, sizeof *m);
	m->role = DB_ROLE_USER;
	params_init(&m->params);
	m->stats.prompt_tokens = -1;
	m->stats.completion_tokens = -1;
	m->stats.ttft_ms = -1;
	m->stats.tokens_per_s = -1;
}

void
db_messages_release(struct db_message *m)
{
	free(m->content);
	free(m->preset);
	params_release(&m->params);
	db_model_release(&m->model);
	free(m->error);
	db_messages_init(m);
}

void
db_messages_free(struct db_message *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		db_messages_release(&list[i]);
	free(list);
}

void
db_messages_bind_stats(sqlite3_stmt *st, int i, const struct db_gen_stats *s)
{
	db_bind_int_or_null(st, i, s->prompt_tokens, s->prompt_tokens < 0);
	db_bind_int_or_null(
	    st, i + 1, s->completion_tokens, s->completion_tokens < 0);
	if (s->ttft_ms >= 0)
		sqlite3_bind_double(st, i + 2, s->ttft_ms);
	else
		sqlite3_bind_null(st, i + 2);
	if (s->tokens_per_s >= 0)
		sqlite3_bind_double(st, i + 3, s->tokens_per_s);
	else
		sqlite3_bind_null(st, i + 3);
	db_bind_text(st, i + 4, db_messages_finish_name(s->finish));
}

int
db_messages_col_stats(
    sqlite3_stmt *st, int i, struct db_gen_stats *s, struct err *err)
{
	const char *finish = (const char *)sqlite3_column_text(st, i + 4);

	s->prompt_tokens = db_col_i64(st, i);
	s->completion_tokens = db_col_i64(st, i + 1);
	s->ttft_ms = db_col_real(st, i + 2);
	s->tokens_per_s = db_col_real(st, i + 3);
	return finish != NULL
	    ? db_messages_finish_parse(finish, &s->finish, err)
	    : 0;
}

/* Read a row of DB_MESSAGES_COLS into *m (initialised here). */
static int
db_messages_read(sqlite3_stmt *st, struct db_message *m, struct err *err)
{
	const char *role = (const char *)sqlite3_column_text(st, 3);
	char where[64];
	char *json;
	int rc = 0;

	db_messages_init(m);
	m->id = sqlite3_column_int64(st, 0);
	m->session_id = sqlite3_column_int64(st, 1);
	m->parent_id = sqlite3_column_int64(st, 2);
	snprintf(where, sizeof where, "message %lld", (long long)m->id);
	if (db_messages_role_parse(role != NULL ? role : "", &m->role, err) !=
	    0) {
		err_prefix(err, "%s", where);
		return ERR_FORMAT;
	}
	m->content = db_col_str(st, 4);
	m->created_ms = sqlite3_column_int64(st, 5);
	m->updated_ms = sqlite3_column_int64(st, 6);
	m->partial = sqlite3_column_int(st, 7) != 0;
	m->preset = db_col_text(st, 8);
	m->seed = (uint64_t)sqlite3_column_int64(st, 10);
	db_col_model(st, 11, &m->model);
	if (db_messages_col_stats(st, 14, &m->stats, err) != 0) {
		err_prefix(err, "%s", where);
		return ERR_FORMAT;
	}
	m->error = db_col_text(st, 19);
	m->n_siblings = sqlite3_column_int64(st, 20);
	m->sibling_pos = sqlite3_column_int64(st, 21);
	if ((json = db_col_text(st, 9)) != NULL) {
		params_release(&m->params);
		rc = db_params_parse(json, where, &m->params, err);
		m->has_params = rc == 0;
		free(json);
	}
	return rc;
}

/* Run ST (bound) and collect its rows into a new array. */
static int
db_messages_collect(struct db *db, sqlite3_stmt *st, struct db_message **out,
    size_t *n, struct err *err)
{
	struct db_message *list = NULL;
	size_t len = 0, cap = 0;
	int rc;

	while ((rc = db_step(db, st, "reading messages", err)) > 0) {
		if (len == cap) {
			cap = cap != 0 ? cap * 2 : 16;
			list = xreallocarray(list, cap, sizeof *list);
		}
		rc = db_messages_read(st, &list[len++], err);
		if (rc != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		db_messages_free(list, len);
		return rc;
	}
	*out = list;
	*n = len;
	return 0;
}

/* The session that message ID belongs to, or ERR_NOTFOUND. */
static int
db_messages_session_of(
    struct db *db, int64_t id, int64_t *session, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, "SELECT session_id FROM messages WHERE id = ?",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, "reading a message", err);
	if (rc > 0)
		*session = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == 0)
		return err_set(
		    err, ERR_NOTFOUND, "no message %lld", (long long)id);
	return rc < 0 ? rc : 0;
}

/*
 * Run constant SQL binding ?1 to ?3 as integers and ?4 as text (those up
 * to the statement's highest parameter; a statement may skip some).
 */
static int
db_messages_run(struct db *db, const char *sql, int64_t a, int64_t b, int64_t c,
    const char *text, const char *what, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, c);
	if (sqlite3_bind_parameter_count(st) >= 4)
		db_bind_text(st, 4, text);
	rc = db_step(db, st, what, err);
	sqlite3_finalize(st);
	return rc < 0 ? rc : 0;
}

int
db_messages_insert(
    struct db *db, const struct db_message *m, int64_t *id, struct err *err)
{
	int64_t now = util_wall_ms(), sid, created, newid;
	struct db_session s;
	sqlite3_stmt *st;
	char *json = NULL, *title;
	int rc;

	if ((size_t)m->role >= ARRAY_LEN(db_messages_roles))
		return err_set(
		    err, ERR_USAGE, "bad message role %d", (int)m->role);
	if ((rc = db_sessions_get(db, m->session_id, &s, err)) != 0)
		return rc;
	db_sessions_release(&s);
	if (m->parent_id != 0) {
		if ((rc = db_messages_session_of(
			 db, m->parent_id, &sid, err)) != 0)
			return rc;
		if (sid != m->session_id)
			return err_set(err, ERR_USAGE,
			    "message %lld is in session %lld, not %lld",
			    (long long)m->parent_id, (long long)sid,
			    (long long)m->session_id);
	}
	if ((rc = db_prepare(db,
		 "INSERT INTO messages (session_id, parent_id, role, content, "
		 "created_ms, updated_ms, partial, preset, params_json, seed, "
		 "model_path, model_size, model_hash, prompt_tokens, "
		 "completion_tokens, ttft_ms, tokens_per_s, finish_reason, "
		 "error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		 "?, ?, ?, ?)",
		 &st, err)) != 0)
		return rc;
	created = m->created_ms != 0 ? m->created_ms : now;
	if (m->has_params)
		json = db_params_json(&m->params);
	sqlite3_bind_int64(st, 1, m->session_id);
	db_bind_int_or_null(st, 2, m->parent_id, m->parent_id == 0);
	db_bind_text(st, 3, db_messages_role_name(m->role));
	db_bind_text(st, 4, m->content != NULL ? m->content : "");
	sqlite3_bind_int64(st, 5, created);
	sqlite3_bind_int64(st, 6, m->updated_ms != 0 ? m->updated_ms : created);
	sqlite3_bind_int(st, 7, m->partial != 0);
	db_bind_text(st, 8, m->preset);
	db_bind_text(st, 9, json);
	db_bind_int_or_null(st, 10, (int64_t)m->seed,
	    m->role != DB_ROLE_ASSISTANT && m->seed == 0);
	db_bind_model(st, 11, &m->model);
	db_messages_bind_stats(st, 14, &m->stats);
	db_bind_text(st, 19, m->error);
	rc = db_step(db, st, "adding a message", err);
	sqlite3_finalize(st);
	free(json);
	if (rc < 0)
		return rc;
	newid = sqlite3_last_insert_rowid(db->sq);
	if ((rc = db_messages_run(db,
		 "UPDATE sessions SET leaf_id = ?2, updated_ms = "
		 "max(updated_ms, ?3) WHERE id = ?1",
		 m->session_id, newid, created, NULL, "adding a message",
		 err)) != 0)
		return rc;
	if (m->role == DB_ROLE_USER) {
		title = db_sessions_auto_title(
		    m->content != NULL ? m->content : "");
		rc = db_messages_run(db,
		    "UPDATE sessions SET title = ?4 WHERE id = ?1 AND "
		    "title = ''",
		    m->session_id, 0, 0, title, "naming a session", err);
		free(title);
		if (rc != 0)
			return rc;
	}
	*id = newid;
	return 0;
}

int
db_messages_add(
    struct db *db, const struct db_message *m, int64_t *id, struct err *err)
{
	int rc;

	if ((rc = db_begin(db, err)) != 0)
		return rc;
	if ((rc = db_messages_insert(db, m, id, err)) != 0) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

int
db_messages_get(
    struct db *db, int64_t id, struct db_message *out, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	db_messages_init(out);
	if ((rc = db_prepare(db,
		 "SELECT " DB_MESSAGES_COLS " FROM messages m WHERE m.id = ?",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, "reading a message", err);
	if (rc == 0)
		rc = err_set(
		    err, ERR_NOTFOUND, "no message %lld", (long long)id);
	else if (rc > 0)
		rc = db_messages_read(st, out, err);
	sqlite3_finalize(st);
	return rc;
}

int
db_messages_branch(struct db *db, int64_t session, int64_t leaf,
    struct db_message **out, size_t *n, struct err *err)
{
	sqlite3_stmt *st;
	int64_t sid;
	int rc;

	*out = NULL;
	*n = 0;
	if (leaf == 0) {
		if ((rc = db_prepare(db,
			 "SELECT coalesce(leaf_id, (SELECT max(id) FROM "
			 "messages WHERE session_id = ?1)) FROM sessions "
			 "WHERE id = ?1",
			 &st, err)) != 0)
			return rc;
		sqlite3_bind_int64(st, 1, session);
		rc = db_step(db, st, "reading a session", err);
		if (rc > 0)
			leaf = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (rc == 0)
			return err_set(err, ERR_NOTFOUND, "no session %lld",
			    (long long)session);
		if (rc < 0)
			return rc;
		if (leaf == 0)
			return 0;
	} else {
		if ((rc = db_messages_session_of(db, leaf, &sid, err)) != 0)
			return rc;
		if (sid != session)
			return err_set(err, ERR_NOTFOUND,
			    "session %lld has no message %lld",
			    (long long)session, (long long)leaf);
	}
	if ((rc = db_prepare(db,
		 "WITH RECURSIVE branch(id, depth) AS (SELECT ?1, 0 UNION ALL "
		 "SELECT p.parent_id, b.depth + 1 FROM branch b JOIN "
		 "messages p ON p.id = b.id WHERE p.parent_id IS NOT NULL) "
		 "SELECT " DB_MESSAGES_COLS " FROM branch b JOIN messages m "
		 "ON m.id = b.id ORDER BY b.depth DESC",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, leaf);
	return db_messages_collect(db, st, out, n, err);
}

int
db_messages_all(struct db *db, int64_t session, struct db_message **out,
    size_t *n, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db,
		 "SELECT " DB_MESSAGES_COLS " FROM messages m WHERE "
		 "m.session_id = ? ORDER BY m.id",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, session);
	return db_messages_collect(db, st, out, n, err);
}

int
db_messages_siblings(
    struct db *db, int64_t id, int64_t **ids, size_t *n, struct err *err)
{
	int64_t *list = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((rc = db_prepare(db,
		 "SELECT x.id FROM messages m JOIN messages x ON "
		 "x.session_id = m.session_id AND x.parent_id IS m.parent_id "
		 "WHERE m.id = ? ORDER BY x.id",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = db_step(db, st, "reading messages", err)) > 0) {
		list = xreallocarray(list, len + 1, sizeof *list);
		list[len++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc == 0 && len == 0)
		rc = err_set(
		    err, ERR_NOTFOUND, "no message %lld", (long long)id);
	if (rc < 0) {
		free(list);
		return rc;
	}
	*ids = list;
	*n = len;
	return 0;
}

int
db_messages_set_content(
    struct db *db, int64_t id, const char *text, size_t len, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
		 "UPDATE messages SET content = ?2, updated_ms = ?3 "
		 "WHERE id = ?1 AND partial = 1",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, text, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, util_wall_ms());
	if ((rc = db_write(db, st, "saving generated text", err)) == 0)
		return err_set(err, ERR_NOTFOUND,
		    "message %lld is not being generated", (long long)id);
	return rc < 0 ? rc : 0;
}

int
db_messages_finish(struct db *db, int64_t id, const char *text, size_t len,
    const struct db_gen_stats *stats, const char *error, struct err *err)
{
	int64_t now = util_wall_ms();
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db, err)) != 0)
		return rc;
	if ((rc = db_prepare(db,
		 "UPDATE messages SET content = ?2, updated_ms = ?3, "
		 "partial = 0, prompt_tokens = ?4, completion_tokens = ?5, "
		 "ttft_ms = ?6, tokens_per_s = ?7, finish_reason = ?8, "
		 "error = ?9 WHERE id = ?1 AND partial = 1",
		 &st, err)) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, text, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	db_messages_bind_stats(st, 4, stats);
	db_bind_text(st, 9, error);
	if ((rc = db_write(db, st, "finishing a message", err)) == 0)
		rc = err_set(err, ERR_NOTFOUND,
		    "message %lld is not being generated", (long long)id);
	if (rc < 0)
		goto fail;
	if ((rc = db_messages_run(db,
		 "UPDATE sessions SET updated_ms = max(updated_ms, ?2) WHERE "
		 "id = (SELECT session_id FROM messages WHERE id = ?1)",
		 id, now, 0, NULL, "finishing a message", err)) != 0)
		goto fail;
	return db_commit(db, err);
fail:
	db_rollback(db);
	return rc;
}
