/*
 * db-sessions: the sessions table.  Every statement is a constant string;
 * the list has two (with and without a search) rather than SQL assembled
 * at run time.  Search goes through the FTS5 tables of migration 2:
 * messages_fts over message content and sessions_fts over titles, which
 * triggers keep in step with every insert, update and delete.
 *
 * Functions that write more than one row take one transaction; the
 * db_sessions_insert/db_sessions_set_leaf helpers in db-int.h run inside
 * a caller's transaction (fork, import).
 */
#include "db-sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-int.h"
#include "db-messages.h"
#include "utf8.h"

#define DB_SESSIONS_COLS \
	"s.id, s.title, s.created_ms, s.updated_ms, s.model_path, " \
	"s.model_size, s.model_hash, s.chat_format, s.system_prompt, " \
	"s.preset, s.params_json, s.parent_id, s.fork_message_id, s.leaf_id"

#define DB_SESSIONS_LIST_COLS \
	"SELECT " DB_SESSIONS_COLS ", (SELECT count(*) FROM messages m " \
	"WHERE m.session_id = s.id), (SELECT count(*) FROM compare_runs c " \
	"WHERE c.session_id = s.id)"

#define DB_SESSIONS_LIST_WHERE \
	" WHERE (?1 IS NULL OR s.updated_ms >= ?1) AND (?2 IS NULL OR " \
	"instr(s.model_path, ?2) > 0 OR substr(s.model_hash, 1, " \
	"length(?2)) = ?2)"

#define DB_SESSIONS_LIST_ORDER " ORDER BY s.updated_ms DESC, s.id DESC LIMIT ?4"

static const char db_sessions_list_sql[] = DB_SESSIONS_LIST_COLS
    ", NULL FROM sessions s" DB_SESSIONS_LIST_WHERE DB_SESSIONS_LIST_ORDER;

static const char db_sessions_search_sql[] = DB_SESSIONS_LIST_COLS
    ", (SELECT snippet(messages_fts, 0, '[', ']', '...', 12) "
    "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
    "WHERE messages_fts MATCH ?3 AND m.session_id = s.id "
    "ORDER BY rank LIMIT 1) "
    "FROM sessions s" DB_SESSIONS_LIST_WHERE
    " AND (s.id IN (SELECT m.session_id FROM messages_fts "
    "JOIN messages m ON m.id = messages_fts.rowid "
    "WHERE messages_fts MATCH ?3) OR s.id IN (SELECT rowid "
    "FROM sessions_fts WHERE sessions_fts MATCH ?3))" DB_SESSIONS_LIST_ORDER;

void
db_sessions_init(struct db_session *s)
{
	memset(s, 0, sizeof *s);
	params_init(&s->params);
}

void
db_sessions_release(struct db_session *s)
{
	free(s->title);
	db_model_release(&s->model);
	free(s->chat_format);
	free(s->system_prompt);
	free(s->preset);
	params_release(&s->params);
	free(s->snippet);
	db_sessions_init(s);
}

void
db_sessions_free(struct db_session *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		db_sessions_release(&list[i]);
	free(list);
}

/* Read a row of DB_SESSIONS_COLS into *s (initialised here). */
static int
db_sessions_read(sqlite3_stmt *st, struct db_session *s, struct err *err)
{
	char where[64];
	char *json;
	int rc = 0;

	db_sessions_init(s);
	s->id = sqlite3_column_int64(st, 0);
	s->title = db_col_str(st, 1);
	s->created_ms = sqlite3_column_int64(st, 2);
	s->updated_ms = sqlite3_column_int64(st, 3);
	db_col_model(st, 4, &s->model);
	s->chat_format = db_col_text(st, 7);
	s->system_prompt = db_col_text(st, 8);
	s->preset = db_col_text(st, 9);
	s->parent_id = sqlite3_column_int64(st, 11);
	s->fork_message_id = sqlite3_column_int64(st, 12);
	s->leaf_id = sqlite3_column_int64(st, 13);
	if ((json = db_col_text(st, 10)) != NULL) {
		snprintf(where, sizeof where, "session %lld", (long long)s->id);
		params_release(&s->params);
		rc = db_params_parse(json, where, &s->params, err);
		s->has_params = rc == 0;
		free(json);
	}
	return rc;
}

int
db_sessions_insert(
    struct db *db, const struct db_session *s, int64_t *id, struct err *err)
{
	sqlite3_stmt *st;
	int64_t now = util_wall_ms();
	int64_t created = s->created_ms != 0 ? s->created_ms : now;
	char *json = NULL;
	int rc;

	if ((rc = db_prepare(db,
		 "INSERT INTO sessions (title, created_ms, updated_ms, "
		 "model_path, model_size, model_hash, chat_format, "
		 "system_prompt, preset, params_json, parent_id, "
		 "fork_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		 "?)",
		 &st, err)) != 0)
		return rc;
	if (s->has_params)
		json = db_params_json(&s->params);
	db_bind_text(st, 1, s->title != NULL ? s->title : "");
	sqlite3_bind_int64(st, 2, created);
	sqlite3_bind_int64(st, 3, s->updated_ms != 0 ? s->updated_ms : created);
	db_bind_model(st, 4, &s->model);
	db_bind_text(st, 7, s->chat_format);
	db_bind_text(st, 8, s->system_prompt);
	db_bind_text(st, 9, s->preset);
	db_bind_text(st, 10, json);
	db_bind_int_or_null(st, 11, s->parent_id, s->parent_id == 0);
	db_bind_int_or_null(
	    st, 12, s->fork_message_id, s->fork_message_id == 0);
	rc = db_step(db, st, "creating a session", err);
	sqlite3_finalize(st);
	free(json);
	if (rc < 0)
		return rc;
	*id = sqlite3_last_insert_rowid(db->sq);
	return 0;
}

int
db_sessions_create(
    struct db *db, const struct db_session *s, int64_t *id, struct err *err)
{
	if (s->parent_id != 0) {
		struct db_session parent;
		int rc = db_sessions_get(db, s->parent_id, &parent, err);

		db_sessions_release(&parent);
		if (rc != 0)
			return rc;
	}
	return db_sessions_insert(db, s, id, err);
}

int
db_sessions_get(
    struct db *db, int64_t id, struct db_session *out, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	db_sessions_init(out);
	if ((rc = db_prepare(db,
		 "SELECT " DB_SESSIONS_COLS " FROM sessions s WHERE s.id = ?",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, "reading a session", err);
	if (rc == 0)
		rc = err_set(
		    err, ERR_NOTFOUND, "no session %lld", (long long)id);
	else if (rc > 0)
		rc = db_sessions_read(st, out, err);
	sqlite3_finalize(st);
	return rc;
}

int
db_sessions_fts_query(const char *text, struct sbuf *out, struct err *err)
{
	const char *s = text;
	size_t n = 0;

	for (;;) {
		const char *w, *e;
		int prefix = 0;

		while (*s != '\0' && strchr(" \t\r\n\f\v", *s) != NULL)
			s++;
		if (*s == '\0')
			break;
		w = s;
		while (*s != '\0' && strchr(" \t\r\n\f\v", *s) == NULL)
			s++;
		e = s;
		while (e > w && e[-1] == '*') {
			e--;
			prefix = 1;
		}
		if (e == w)
			continue;
		if (n++ > 0)
			sbuf_addc(out, ' ');
		sbuf_addc(out, '"');
		for (; w < e; w++) {
			if (*w == '"')
				sbuf_addc(out, '"');
			sbuf_addc(out, *w);
		}
		sbuf_addc(out, '"');
		if (prefix)
			sbuf_addc(out, '*');
	}
	if (n == 0)
		return err_set(
		    err, ERR_USAGE, "search: no words in '%s'", text);
	return 0;
}

int
db_sessions_list(struct db *db, const struct db_session_filter *f,
    struct db_session **out, size_t *n, struct err *err)
{
	static const struct db_session_filter none;
	struct db_session *list = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *st;
	struct sbuf q;
	int rc;

	*out = NULL;
	*n = 0;
	if (f == NULL)
		f = &none;
	sbuf_init(&q);
	if (f->search != NULL &&
	    (rc = db_sessions_fts_query(f->search, &q, err)) != 0)
		goto out;
	if ((rc = db_prepare(db,
		 f->search != NULL ? db_sessions_search_sql
				   : db_sessions_list_sql,
		 &st, err)) != 0)
		goto out;
	db_bind_int_or_null(st, 1, f->since_ms, f->since_ms == 0);
	db_bind_text(
	    st, 2, f->model != NULL && *f->model != '\0' ? f->model : NULL);
	if (f->search != NULL)
		db_bind_text(st, 3, q.buf);
	sqlite3_bind_int64(st, 4, f->limit > 0 ? f->limit : -1);
	while ((rc = db_step(db, st, "listing sessions", err)) > 0) {
		if (len == cap) {
			cap = cap != 0 ? cap * 2 : 16;
			list = xreallocarray(list, cap, sizeof *list);
		}
		if ((rc = db_sessions_read(st, &list[len], err)) != 0) {
			len++;
			break;
		}
		list[len].n_messages = sqlite3_column_int64(st, 14);
		list[len].n_compare = sqlite3_column_int64(st, 15);
		list[len].snippet = db_col_text(st, 16);
		len++;
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		if (f->search != NULL)
			err_prefix(err, "search '%s'", f->search);
		db_sessions_free(list, len);
		goto out;
	}
	*out = list;
	*n = len;
out:
	sbuf_release(&q);
	return rc;
}

/* Run a one-row UPDATE/DELETE on session ID; ERR_NOTFOUND if no row. */
static int
db_sessions_change(struct db *db, const char *sql, int64_t id, const char *text,
    const char *what, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, sql, &st, err)) != 0)
		return rc;
	/* Statements use the parameters they need of ?1 to ?3. */
	sqlite3_bind_int64(st, 1, id);
	if (text != NULL)
		db_bind_text(st, 2, text);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, util_wall_ms());
	if ((rc = db_write(db, st, what, err)) == 0)
		return err_set(
		    err, ERR_NOTFOUND, "no session %lld", (long long)id);
	return rc < 0 ? rc : 0;
}

int
db_sessions_rename(
    struct db *db, int64_t id, const char *title, struct err *err)
{
	if (*title == '\0')
		return err_set(err, ERR_USAGE,
		    "a session title cannot be "
		    "empty");
	return db_sessions_change(db,
	    "UPDATE sessions SET title = ?2, updated_ms = max(updated_ms, ?3) "
	    "WHERE id = ?1",
	    id, title, "renaming a session", err);
}

int
db_sessions_touch(struct db *db, int64_t id, int64_t ms, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
		 "UPDATE sessions SET updated_ms = max(updated_ms, ?2) "
		 "WHERE id = ?1",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, ms != 0 ? ms : util_wall_ms());
	if ((rc = db_write(db, st, "updating a session", err)) == 0)
		return err_set(
		    err, ERR_NOTFOUND, "no session %lld", (long long)id);
	return rc < 0 ? rc : 0;
}

int
db_sessions_delete(struct db *db, int64_t id, struct err *err)
{
	return db_sessions_change(db, "DELETE FROM sessions WHERE id = ?1", id,
	    NULL, "deleting a session", err);
}

int
db_sessions_set_leaf(struct db *db, int64_t id, int64_t leaf, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
		 "UPDATE sessions SET leaf_id = ?2 WHERE id = ?1 AND "
		 "EXISTS (SELECT 1 FROM messages WHERE id = ?2 AND "
		 "session_id = ?1)",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, leaf);
	if ((rc = db_write(db, st, "choosing a branch", err)) == 0)
		return err_set(err, ERR_NOTFOUND,
		    "session %lld has no message %lld", (long long)id,
		    (long long)leaf);
	return rc < 0 ? rc : 0;
}

/* Copy message FROM into session SESSION under PARENT, every field. */
static int
db_sessions_copy_message(struct db *db, int64_t from, int64_t session,
    int64_t parent, int64_t *id, struct err *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db,
		 "INSERT INTO messages (session_id, parent_id, role, content, "
		 "created_ms, updated_ms, partial, preset, params_json, seed, "
		 "model_path, model_size, model_hash, prompt_tokens, "
		 "completion_tokens, ttft_ms, tokens_per_s, finish_reason, "
		 "error) SELECT ?1, ?2, role, content, created_ms, "
		 "updated_ms, partial, preset, params_json, seed, model_path, "
		 "model_size, model_hash, prompt_tokens, completion_tokens, "
		 "ttft_ms, tokens_per_s, finish_reason, error FROM messages "
		 "WHERE id = ?3",
		 &st, err)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, session);
	db_bind_int_or_null(st, 2, parent, parent == 0);
	sqlite3_bind_int64(st, 3, from);
	rc = db_step(db, st, "copying a message", err);
	sqlite3_finalize(st);
	if (rc < 0)
		return rc;
	*id = sqlite3_last_insert_rowid(db->sq);
	return 0;
}

int
db_sessions_fork(
    struct db *db, int64_t id, int64_t at, int64_t *new_id, struct err *err)
{
	struct db_session src;
	struct db_message *branch = NULL;
	size_t n = 0, i;
	int64_t parent = 0, sid;
	char *title;
	int rc;

	if ((rc = db_begin(db, err)) != 0)
		return rc;
	if ((rc = db_sessions_get(db, id, &src, err)) != 0 ||
	    (rc = db_messages_branch(db, id, at, &branch, &n, err)) != 0)
		goto fail;
	title = src.title;
	src.title =
	    *title != '\0' ? xasprintf("%s (fork)", title) : xstrdup("");
	free(title);
	src.parent_id = id;
	src.fork_message_id = n > 0 ? branch[n - 1].id : 0;
	src.created_ms = src.updated_ms = 0;
	if ((rc = db_sessions_insert(db, &src, &sid, err)) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if ((rc = db_sessions_copy_message(
			 db, branch[i].id, sid, parent, &parent, err)) != 0)
			goto fail;
	if (n > 0 && (rc = db_sessions_set_leaf(db, sid, parent, err)) != 0)
		goto fail;
	if ((rc = db_commit(db, err)) != 0)
		goto out;
	*new_id = sid;
	goto out;
fail:
	db_rollback(db);
out:
	db_messages_free(branch, n);
	db_sessions_release(&src);
	return rc;
}

char *
db_sessions_auto_title(const char *prompt)
{
	char *out;
	struct sbuf sb;
	const char *s = prompt;
	int space = 0;

	sbuf_init(&sb);
	/* Skip blank lines; take the first line with text. */
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	for (; *s != '\0' && *s != '\n' && *s != '\r'; s++) {
		if (*s == ' ' || *s == '\t') {
			space = 1;
			continue;
		}
		if (space && sb.len > 0)
			sbuf_addc(&sb, ' ');
		space = 0;
		sbuf_addc(&sb, *s);
	}
	if (sb.len > DB_TITLE_AUTO_MAX) {
		/* Cut after a whole character, then mark the cut. */
		size_t keep = utf8_complete_prefix(sb.buf, DB_TITLE_AUTO_MAX);

		sb.len = keep;
		sb.buf[keep] = '\0';
		sbuf_adds(&sb, "\xe2\x80\xa6");
	}
	out = sbuf_detach(&sb);
	sbuf_release(&sb);
	return out;
}
