/*
 * db-export: JSON and Markdown writers over the read API, and the JSON
 * importer.  The importer validates the whole document field by field
 * (types, ranges, roles, finish reasons, parent order) inside the one
 * transaction that writes it, so a bad file leaves nothing behind.
 */
#include "db-export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db-compare.h"
#include "db-int.h"
#include "db-messages.h"
#include "db-sessions.h"
#include "json.h"
#include "params.h"

/* Write KEY_ms and KEY (ISO 8601 UTC) for time MS. */
static void
db_export_time(struct json_writer *w, const char *key, int64_t ms)
{
	char k[32], buf[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	snprintf(k, sizeof k, "%s_ms", key);
	json_key(w, k);
	json_int(w, ms);
	json_key(w, key);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		json_null(w);
		return;
	}
	snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ".%03dZ",
	    (int)(ms % 1000));
	json_str(w, buf);
}

static void
db_export_model(struct json_writer *w, const struct db_model *m)
{
	json_key(w, "model");
	if (m->path == NULL && m->size == 0 && m->hash[0] == '\0') {
		json_null(w);
		return;
	}
	json_obj_begin(w);
	json_key(w, "path");
	json_str(w, m->path);
	json_key(w, "size");
	json_int(w, m->size);
	json_key(w, "hash");
	json_str(w, m->hash);
	json_end(w);
}

static void
db_export_int_or_null(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	if (v < 0)
		json_null(w);
	else
		json_int(w, v);
}

static void
db_export_num_or_null(struct json_writer *w, const char *key, double v)
{
	json_key(w, key);
	if (v < 0)
		json_null(w);
	else
		json_num(w, v);
}

static void
db_export_stats(struct json_writer *w, const struct db_gen_stats *s)
{
	db_export_int_or_null(w, "prompt_tokens", s->prompt_tokens);
	db_export_int_or_null(w, "completion_tokens", s->completion_tokens);
	db_export_num_or_null(w, "ttft_ms", s->ttft_ms);
	db_export_num_or_null(w, "tokens_per_s", s->tokens_per_s);
	json_key(w, "finish_reason");
	json_str(w, db_messages_finish_name(s->finish));
}

static void
db_export_seed(struct json_writer *w, uint64_t seed, int present)
{
	char buf[32];

	json_key(w, "seed");
	if (!present) {
		json_null(w);
		return;
	}
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)seed);
	json_str(w, buf);
}

static void
db_export_params(struct json_writer *w, const struct gen_params *p, int present)
{
	json_key(w, "params");
	if (present)
		params_to_json(p, w);
	else
		json_null(w);
}

static void
db_export_id(struct json_writer *w, const char *key, int64_t id)
{
	json_key(w, key);
	if (id == 0)
		json_null(w);
	else
		json_int(w, id);
}

static void
db_export_message(
    struct json_writer *w, const struct db_message *m, int siblings)
{
	json_obj_begin(w);
	db_export_id(w, "id", m->id);
	db_export_id(w, "parent_id", m->parent_id);
	json_key(w, "role");
	json_str(w, db_messages_role_name(m->role));
	json_key(w, "content");
	json_str(w, m->content);
	db_export_time(w, "created", m->created_ms);
	db_export_time(w, "updated", m->updated_ms);
	json_key(w, "partial");
	json_bool(w, m->partial);
	json_key(w, "preset");
	json_str(w, m->preset);
	db_export_params(w, &m->params, m->has_params);
	db_export_seed(w, m->seed, m->role == DB_ROLE_ASSISTANT);
	db_export_model(w, &m->model);
	db_export_stats(w, &m->stats);
	json_key(w, "error");
	json_str(w, m->error);
	if (siblings) {
		json_key(w, "n_siblings");
		json_int(w, m->n_siblings);
		json_key(w, "sibling_pos");
		json_int(w, m->sibling_pos);
	}
	json_end(w);
}

static void
db_export_compare(struct json_writer *w, const struct db_compare_run *r)
{
	size_t i;

	json_obj_begin(w);
	db_export_id(w, "id", r->id);
	json_key(w, "prompt");
	json_str(w, r->prompt);
	json_key(w, "system_prompt");
	json_str(w, r->system_prompt);
	db_export_time(w, "created", r->created_ms);
	db_export_model(w, &r->model);
	json_key(w, "winner");
	if (r->winner < 0)
		json_null(w);
	else
		json_int(w, r->winner);
	json_key(w, "columns");
	json_arr_begin(w);
	for (i = 0; i < r->n_columns; i++) {
		const struct db_compare_column *c = &r->columns[i];

		json_obj_begin(w);
		json_key(w, "preset");
		json_str(w, c->preset);
		db_export_params(w, &c->params, 1);
		db_export_seed(w, c->seed, 1);
		json_key(w, "output");
		json_str(w, c->output);
		json_key(w, "partial");
		json_bool(w, c->partial);
		db_export_stats(w, &c->stats);
		json_key(w, "error");
		json_str(w, c->error);
		json_end(w);
	}
	json_end(w);
	json_end(w);
}

int
db_export_json(struct db *db, int64_t id, int all, int pretty, struct sbuf *out,
    struct err *err)
{
	struct db_session s;
	struct db_message *msgs = NULL;
	struct db_compare_run *runs = NULL;
	size_t n_msgs = 0, n_runs = 0, i;
	struct json_writer w;
	int rc;

	if ((rc = db_sessions_get(db, id, &s, err)) != 0)
		goto out;
	rc = all ? db_messages_all(db, id, &msgs, &n_msgs, err)
		 : db_messages_branch(db, id, 0, &msgs, &n_msgs, err);
	if (rc != 0 || (rc = db_compare_list(db, id, &runs, &n_runs, err)) != 0)
		goto out;
	json_writer_init(&w, out, pretty);
	json_obj_begin(&w);
	json_key(&w, "format");
	json_str(&w, "vkchat-session");
	json_key(&w, "version");
	json_int(&w, DB_EXPORT_VERSION);
	json_key(&w, "session");
	json_obj_begin(&w);
	db_export_id(&w, "id", s.id);
	json_key(&w, "title");
	json_str(&w, s.title);
	db_export_time(&w, "created", s.created_ms);
	db_export_time(&w, "updated", s.updated_ms);
	db_export_model(&w, &s.model);
	json_key(&w, "chat_format");
	json_str(&w, s.chat_format);
	json_key(&w, "system_prompt");
	json_str(&w, s.system_prompt);
	json_key(&w, "preset");
	json_str(&w, s.preset);
	db_export_params(&w, &s.params, s.has_params);
	db_export_id(&w, "parent_id", s.parent_id);
	db_export_id(&w, "fork_message_id", s.fork_message_id);
	db_export_id(&w, "leaf_id",
	    s.leaf_id != 0 || n_msgs == 0 ? s.leaf_id : msgs[n_msgs - 1].id);
	json_end(&w);
	json_key(&w, "messages");
	json_arr_begin(&w);
	for (i = 0; i < n_msgs; i++)
		db_export_message(&w, &msgs[i], !all);
	json_end(&w);
	json_key(&w, "compare_runs");
	json_arr_begin(&w);
	for (i = 0; i < n_runs; i++)
		db_export_compare(&w, &runs[i]);
	json_end(&w);
	json_end(&w);
out:
	db_compare_free(runs, n_runs);
	db_messages_free(msgs, n_msgs);
	db_sessions_release(&s);
	return rc;
}

/* Local time MS as "2026-01-02 03:04 +0100" into BUF. */
static const char *
db_export_local(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M %z", &tm) == 0)
		snprintf(buf, size, "%lld ms", (long long)ms);
	return buf;
}

/* Append TEXT with control characters other than \n and \t as \xNN. */
static void
db_export_safe(struct sbuf *out, const char *text)
{
	const unsigned char *s;

	for (s = (const unsigned char *)text; *s != '\0'; s++) {
		if ((*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f)
			sbuf_addf(out, "\\x%02x", *s);
		else
			sbuf_addc(out, (char)*s);
	}
}

/* The "*...*" line under a generated text: settings and statistics. */
static void
db_export_md_stats(struct sbuf *out, const char *preset,
    const struct gen_params *p, int has_params, uint64_t seed,
    const struct db_gen_stats *st, const char *error, int partial)
{
	const char *finish = db_messages_finish_name(st->finish);
	struct sbuf diff;

	sbuf_adds(out, "\n*");
	if (preset != NULL) {
		sbuf_adds(out, "preset ");
		db_export_safe(out, preset);
		sbuf_adds(out, " · ");
	}
	sbuf_addf(out, "seed %llu", (unsigned long long)seed);
	if (st->prompt_tokens >= 0)
		sbuf_addf(
		    out, " · %lld prompt tokens", (long long)st->prompt_tokens);
	if (st->completion_tokens >= 0)
		sbuf_addf(
		    out, " · %lld generated", (long long)st->completion_tokens);
	if (st->ttft_ms >= 0)
		sbuf_addf(out, " · first token after %.0f ms", st->ttft_ms);
	if (st->tokens_per_s >= 0)
		sbuf_addf(out, " · %.1f tokens/s", st->tokens_per_s);
	if (partial)
		sbuf_adds(out, " · incomplete (generation was interrupted)");
	else if (finish != NULL)
		sbuf_addf(out, " · ended: %s", finish);
	if (error != NULL) {
		sbuf_adds(out, " (");
		db_export_safe(out, error);
		sbuf_adds(out, ")");
	}
	sbuf_adds(out, "*\n");
	if (has_params) {
		sbuf_init(&diff);
		if (params_diff(p, NULL, " ", &diff) > 0) {
			sbuf_adds(out, "\n`");
			db_export_safe(out, diff.buf);
			sbuf_adds(out, "`\n");
		}
		sbuf_release(&diff);
	}
}

int
db_export_markdown(struct db *db, int64_t id, struct sbuf *out, struct err *err)
{
	struct db_session s;
	struct db_message *msgs = NULL;
	struct db_compare_run *runs = NULL;
	size_t n_msgs = 0, n_runs = 0, i, j;
	char when[64];
	int rc;

	if ((rc = db_sessions_get(db, id, &s, err)) != 0 ||
	    (rc = db_messages_branch(db, id, 0, &msgs, &n_msgs, err)) != 0 ||
	    (rc = db_compare_list(db, id, &runs, &n_runs, err)) != 0)
		goto out;
	sbuf_adds(out, "# ");
	db_export_safe(out, *s.title != '\0' ? s.title : "Untitled session");
	sbuf_addf(out, "\n\n- Session: %lld\n", (long long)s.id);
	sbuf_addf(out, "- Created: %s\n",
	    db_export_local(s.created_ms, when, sizeof when));
	sbuf_addf(out, "- Updated: %s\n",
	    db_export_local(s.updated_ms, when, sizeof when));
	if (s.model.path != NULL || s.model.hash[0] != '\0') {
		sbuf_adds(out, "- Model: ");
		db_export_safe(out, s.model.path != NULL ? s.model.path : "?");
		sbuf_addf(out, " (%lld bytes, identity %s)\n",
		    (long long)s.model.size,
		    s.model.hash[0] != '\0' ? s.model.hash : "unknown");
	}
	if (s.chat_format != NULL) {
		sbuf_adds(out, "- Chat format: ");
		db_export_safe(out, s.chat_format);
		sbuf_adds(out, "\n");
	}
	if (s.preset != NULL) {
		sbuf_adds(out, "- Preset: ");
		db_export_safe(out, s.preset);
		sbuf_adds(out, "\n");
	}
	if (s.parent_id != 0)
		sbuf_addf(out, "- Forked from session %lld\n",
		    (long long)s.parent_id);
	if (s.system_prompt != NULL) {
		sbuf_adds(out, "\n## System prompt\n\n");
		db_export_safe(out, s.system_prompt);
		sbuf_adds(out, "\n");
	}
	for (i = 0; i < n_msgs; i++) {
		const struct db_message *m = &msgs[i];

		sbuf_addf(out, "\n## %s",
		    m->role == DB_ROLE_USER	    ? "User"
			: m->role == DB_ROLE_SYSTEM ? "System"
						    : "Assistant");
		if (m->n_siblings > 1)
			sbuf_addf(out, " (version %lld of %lld)",
			    (long long)m->sibling_pos,
			    (long long)m->n_siblings);
		sbuf_addf(out, "\n\n_%s_\n\n",
		    db_export_local(m->created_ms, when, sizeof when));
		db_export_safe(out, m->content);
		sbuf_adds(out, "\n");
		if (m->role == DB_ROLE_ASSISTANT)
			db_export_md_stats(out, m->preset, &m->params,
			    m->has_params, m->seed, &m->stats, m->error,
			    m->partial);
	}
	for (i = 0; i < n_runs; i++) {
		const struct db_compare_run *r = &runs[i];

		sbuf_addf(out, "\n## Compare run %lld\n\n_%s_\n\n",
		    (long long)r->id,
		    db_export_local(r->created_ms, when, sizeof when));
		db_export_safe(out, r->prompt);
		sbuf_adds(out, "\n");
		for (j = 0; j < r->n_columns; j++) {
			const struct db_compare_column *c = &r->columns[j];

			sbuf_addf(out, "\n### Column %zu: ", j + 1);
			db_export_safe(out, c->preset);
			if (r->winner == (int)j)
				sbuf_adds(out, " (winner)");
			sbuf_adds(out, "\n\n");
			db_export_safe(out, c->output);
			sbuf_adds(out, "\n");
			db_export_md_stats(out, NULL, &c->params, 1, c->seed,
			    &c->stats, c->error, c->partial);
		}
	}
out:
	db_compare_free(runs, n_runs);
	db_messages_free(msgs, n_msgs);
	db_sessions_release(&s);
	return rc;
}

/* What the importer is reading: the file's name and the error record. */
struct db_export_in {
	const char *source;
	struct err *err;
};

static int
db_export_bad(struct db_export_in *in, const char *where, const char *key,
    const char *what)
{
	return err_set(in->err, ERR_FORMAT, "'%s': %s%s%s: %s", in->source,
	    where, *where != '\0' && key != NULL ? "." : "",
	    key != NULL ? key : "", what);
}

/* String member KEY (NULL when absent or null, unless REQUIRED). */
static int
db_export_str(struct db_export_in *in, const struct json *o, const char *where,
    const char *key, int required, const char **out)
{
	const struct json *v = json_get(o, key);

	*out = NULL;
	if (v == NULL || v->type == JSON_NULL)
		return required ? db_export_bad(in, where, key, "missing") : 0;
	if (v->type != JSON_STRING)
		return db_export_bad(in, where, key, "not a string");
	if (strlen(v->str) != v->len)
		return db_export_bad(in, where, key, "contains a NUL byte");
	*out = v->str;
	return 0;
}

/* Integer member KEY in [MIN, MAX]; DEF when absent or null. */
static int
db_export_int(struct db_export_in *in, const struct json *o, const char *where,
    const char *key, int64_t min, int64_t max, int64_t def, int64_t *out)
{
	const struct json *v = json_get(o, key);

	*out = def;
	if (v == NULL || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_NUMBER || v->number != floor(v->number) ||
	    v->number < (double)min || v->number > (double)max)
		return db_export_bad(
		    in, where, key, "not an integer in the allowed range");
	*out = (int64_t)v->number;
	return 0;
}

/* Non-negative number member KEY; -1 when absent or null. */
static int
db_export_num(struct db_export_in *in, const struct json *o, const char *where,
    const char *key, double *out)
{
	const struct json *v = json_get(o, key);

	*out = -1;
	if (v == NULL || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_NUMBER || !(v->number >= 0) || isinf(v->number))
		return db_export_bad(
		    in, where, key, "not a non-negative number");
	*out = v->number;
	return 0;
}

static int
db_export_bool(struct db_export_in *in, const struct json *o, const char *where,
    const char *key, int *out)
{
	const struct json *v = json_get(o, key);

	*out = 0;
	if (v == NULL || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_BOOL)
		return db_export_bad(in, where, key, "not true or false");
	*out = v->boolean;
	return 0;
}

static int
db_export_get_seed(struct db_export_in *in, const struct json *o,
    const char *where, uint64_t *out)
{
	const char *s;
	char *end;
	int rc;

	*out = 0;
	if ((rc = db_export_str(in, o, where, "seed", 0, &s)) != 0 || s == NULL)
		return rc;
	*out = (uint64_t)strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0')
		return db_export_bad(in, where, "seed", "not a decimal number");
	return 0;
}

static int
db_export_get_params(struct db_export_in *in, const struct json *o,
    const char *where, int *has, struct gen_params *p)
{
	const struct json *v = json_get(o, "params");
	int rc;

	*has = 0;
	if (v == NULL || v->type == JSON_NULL)
		return 0;
	params_release(p);
	params_init(p);
	if ((rc = params_from_json(p, v, in->err)) != 0) {
		err_prefix(in->err, "'%s': %s", in->source, where);
		return rc;
	}
	*has = 1;
	return 0;
}

static int
db_export_get_model(struct db_export_in *in, const struct json *o,
    const char *where, struct db_model *m)
{
	const struct json *v = json_get(o, "model");
	const char *path, *hash;
	char sub[160];
	size_t i;
	int rc;

	if (v == NULL || v->type == JSON_NULL)
		return 0;
	snprintf(sub, sizeof sub, "%s.model", where);
	if (v->type != JSON_OBJECT)
		return db_export_bad(in, where, "model", "not an object");
	if ((rc = db_export_str(in, v, sub, "path", 0, &path)) != 0 ||
	    (rc = db_export_str(in, v, sub, "hash", 0, &hash)) != 0 ||
	    (rc = db_export_int(
		 in, v, sub, "size", 0, INT64_MAX / 2, 0, &m->size)) != 0)
		return rc;
	if (hash != NULL && *hash != '\0') {
		for (i = 0; hash[i] != '\0'; i++)
			if (strchr("0123456789abcdef", hash[i]) == NULL)
				break;
		if (i != 16 || hash[i] != '\0')
			return db_export_bad(
			    in, sub, "hash", "not 16 lower-case hex digits");
		memcpy(m->hash, hash, 17);
	}
	m->path = path != NULL ? xstrdup(path) : NULL;
	return 0;
}

static int
db_export_get_stats(struct db_export_in *in, const struct json *o,
    const char *where, struct db_gen_stats *st)
{
	const char *finish;
	int rc;

	if ((rc = db_export_int(in, o, where, "prompt_tokens", 0, INT32_MAX, -1,
		 &st->prompt_tokens)) != 0 ||
	    (rc = db_export_int(in, o, where, "completion_tokens", 0, INT32_MAX,
		 -1, &st->completion_tokens)) != 0 ||
	    (rc = db_export_num(in, o, where, "ttft_ms", &st->ttft_ms)) != 0 ||
	    (rc = db_export_num(
		 in, o, where, "tokens_per_s", &st->tokens_per_s)) != 0 ||
	    (rc = db_export_str(in, o, where, "finish_reason", 0, &finish)) !=
		0)
		return rc;
	st->finish = DB_FINISH_NONE;
	if (finish != NULL &&
	    db_messages_finish_parse(finish, &st->finish, in->err) != 0) {
		err_prefix(in->err, "'%s': %s", in->source, where);
		return ERR_FORMAT;
	}
	return 0;
}

/* An array member KEY (absent = empty). */
static int
db_export_arr(struct db_export_in *in, const struct json *o, const char *key,
    const struct json **out)
{
	const struct json *v = json_get(o, key);

	*out = NULL;
	if (v == NULL || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_ARRAY)
		return db_export_bad(in, "", key, "not an array");
	*out = v;
	return 0;
}

/* Import message I of ARR; MAP holds (old id, new id) pairs so far. */
static int
db_export_import_message(struct db *db, struct db_export_in *in,
    const struct json *o, size_t i, int64_t session, int64_t (*map)[2],
    size_t *n_map)
{
	struct db_message m;
	const char *role, *content, *preset, *error;
	int64_t old_id, old_parent, id;
	char where[48];
	size_t j;
	int rc;

	snprintf(where, sizeof where, "messages[%zu]", i);
	db_messages_init(&m);
	m.session_id = session;
	if (o->type != JSON_OBJECT) {
		rc = db_export_bad(in, where, NULL, "not an object");
		goto out;
	}
	if ((rc = db_export_int(
		 in, o, where, "id", 1, INT64_MAX / 2, 0, &old_id)) != 0 ||
	    (rc = db_export_int(in, o, where, "parent_id", 1, INT64_MAX / 2, 0,
		 &old_parent)) != 0 ||
	    (rc = db_export_str(in, o, where, "role", 1, &role)) != 0 ||
	    (rc = db_export_str(in, o, where, "content", 1, &content)) != 0 ||
	    (rc = db_export_int(in, o, where, "created_ms", 0, INT64_MAX / 2, 0,
		 &m.created_ms)) != 0 ||
	    (rc = db_export_int(in, o, where, "updated_ms", 0, INT64_MAX / 2, 0,
		 &m.updated_ms)) != 0 ||
	    (rc = db_export_bool(in, o, where, "partial", &m.partial)) != 0 ||
	    (rc = db_export_str(in, o, where, "preset", 0, &preset)) != 0 ||
	    (rc = db_export_str(in, o, where, "error", 0, &error)) != 0 ||
	    (rc = db_export_get_params(
		 in, o, where, &m.has_params, &m.params)) != 0 ||
	    (rc = db_export_get_seed(in, o, where, &m.seed)) != 0 ||
	    (rc = db_export_get_model(in, o, where, &m.model)) != 0 ||
	    (rc = db_export_get_stats(in, o, where, &m.stats)) != 0)
		goto out;
	if (old_id == 0) {
		rc = db_export_bad(in, where, "id", "missing");
		goto out;
	}
	if ((rc = db_messages_role_parse(role, &m.role, in->err)) != 0) {
		err_prefix(in->err, "'%s': %s", in->source, where);
		goto out;
	}
	for (j = 0; j < *n_map; j++)
		if (map[j][0] == old_id) {
			rc = db_export_bad(in, where, "id", "used twice");
			goto out;
		}
	if (old_parent != 0) {
		for (j = 0; j < *n_map && map[j][0] != old_parent; j++)
			;
		if (j == *n_map) {
			rc = db_export_bad(in, where, "parent_id",
			    "not the id of an earlier message");
			goto out;
		}
		m.parent_id = map[j][1];
	}
	m.content = xstrdup(content);
	m.preset = preset != NULL ? xstrdup(preset) : NULL;
	m.error = error != NULL ? xstrdup(error) : NULL;
	if ((rc = db_messages_insert(db, &m, &id, in->err)) != 0)
		goto out;
	map[*n_map][0] = old_id;
	map[*n_map][1] = id;
	(*n_map)++;
out:
	db_messages_release(&m);
	return rc;
}

/* Import compare run I of the document. */
static int
db_export_import_compare(struct db *db, struct db_export_in *in,
    const struct json *o, size_t i, int64_t session)
{
	struct db_compare_run r;
	const struct json *cols;
	const char *prompt, *system;
	int64_t winner, id;
	char where[48], cw[96];
	size_t j;
	int rc;

	snprintf(where, sizeof where, "compare_runs[%zu]", i);
	db_compare_init(&r);
	r.session_id = session;
	if (o->type != JSON_OBJECT) {
		rc = db_export_bad(in, where, NULL, "not an object");
		goto out;
	}
	if ((rc = db_export_str(in, o, where, "prompt", 1, &prompt)) != 0 ||
	    (rc = db_export_str(in, o, where, "system_prompt", 0, &system)) !=
		0 ||
	    (rc = db_export_int(in, o, where, "created_ms", 0, INT64_MAX / 2, 0,
		 &r.created_ms)) != 0 ||
	    (rc = db_export_int(in, o, where, "winner", 0,
		 DB_COMPARE_MAX_COLUMNS - 1, -1, &winner)) != 0 ||
	    (rc = db_export_get_model(in, o, where, &r.model)) != 0)
		goto out;
	cols = json_get(o, "columns");
	if (cols == NULL || cols->type != JSON_ARRAY || cols->len == 0 ||
	    cols->len > DB_COMPARE_MAX_COLUMNS) {
		rc = db_export_bad(
		    in, where, "columns", "not an array of 1 to 8 columns");
		goto out;
	}
	r.prompt = xstrdup(prompt);
	r.system_prompt = system != NULL ? xstrdup(system) : NULL;
	r.winner = (int)winner;
	db_compare_columns(&r, cols->len);
	for (j = 0; j < cols->len; j++) {
		struct db_compare_column *c = &r.columns[j];
		const struct json *co = cols->items[j];
		const char *preset, *output, *error;
		int has;

		snprintf(cw, sizeof cw, "%s.columns[%zu]", where, j);
		if (co->type != JSON_OBJECT) {
			rc = db_export_bad(in, cw, NULL, "not an object");
			goto out;
		}
		if ((rc = db_export_str(in, co, cw, "preset", 1, &preset)) !=
			0 ||
		    (rc = db_export_str(in, co, cw, "output", 1, &output)) !=
			0 ||
		    (rc = db_export_str(in, co, cw, "error", 0, &error)) != 0 ||
		    (rc = db_export_bool(in, co, cw, "partial", &c->partial)) !=
			0 ||
		    (rc = db_export_get_params(in, co, cw, &has, &c->params)) !=
			0 ||
		    (rc = db_export_get_seed(in, co, cw, &c->seed)) != 0 ||
		    (rc = db_export_get_stats(in, co, cw, &c->stats)) != 0)
			goto out;
		c->preset = xstrdup(preset);
		c->output = xstrdup(output);
		c->error = error != NULL ? xstrdup(error) : NULL;
	}
	/* a winner past the columns, say: the message names the file too */
	if ((rc = db_compare_create(db, &r, &id, in->err)) != 0)
		err_prefix(in->err, "'%s': %s", in->source, where);
out:
	db_compare_release(&r);
	return rc;
}

/* The session part of the document into *s (initialised). */
static int
db_export_import_session(
    struct db_export_in *in, const struct json *o, struct db_session *s)
{
	const char *title, *format, *system, *preset;
	int rc;

	if (o == NULL || o->type != JSON_OBJECT)
		return db_export_bad(in, "session", NULL, "missing");
	if ((rc = db_export_str(in, o, "session", "title", 0, &title)) != 0 ||
	    (rc = db_export_str(in, o, "session", "chat_format", 0, &format)) !=
		0 ||
	    (rc = db_export_str(
		 in, o, "session", "system_prompt", 0, &system)) != 0 ||
	    (rc = db_export_str(in, o, "session", "preset", 0, &preset)) != 0 ||
	    (rc = db_export_int(in, o, "session", "created_ms", 0,
		 INT64_MAX / 2, 0, &s->created_ms)) != 0 ||
	    (rc = db_export_int(in, o, "session", "updated_ms", 0,
		 INT64_MAX / 2, 0, &s->updated_ms)) != 0 ||
	    (rc = db_export_get_model(in, o, "session", &s->model)) != 0 ||
	    (rc = db_export_get_params(
		 in, o, "session", &s->has_params, &s->params)) != 0)
		return rc;
	s->title = xstrdup(title != NULL ? title : "");
	s->chat_format = format != NULL ? xstrdup(format) : NULL;
	s->system_prompt = system != NULL ? xstrdup(system) : NULL;
	s->preset = preset != NULL ? xstrdup(preset) : NULL;
	return 0;
}

int
db_export_import(struct db *db, const char *text, size_t len,
    const char *source, int64_t *id, struct err *err)
{
	struct db_export_in in = { source, err };
	const struct json *msgs, *runs;
	const char *format;
	struct db_session s;
	struct json *doc = NULL;
	int64_t(*map)[2] = NULL;
	int64_t version, sid, leaf, new_leaf = 0;
	size_t n_map = 0, i;
	int rc;

	db_sessions_init(&s);
	/* a byte-order mark, as some editors write, is not an error */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	/* TEXT need not end in a NUL: LEN bounds everything */
	for (i = 0;
	     i < len && strchr(" \t\r\n", text[i]) != NULL && text[i] != '\0';
	     i++)
		;
	if (i >= len || text[i] != '{')
		return err_set(err, ERR_FORMAT,
		    "'%s' is not a vkchat session export: expected JSON as "
		    "'vkchat sessions export --format json' writes (an object "
		    "starting with '{'), found %s",
		    source, i >= len ? "nothing" : "other text (Markdown?)");
	if ((rc = json_parse(text, len, &doc, err)) != 0) {
		err_prefix(err, "'%s'", source);
		return rc;
	}
	if (doc->type != JSON_OBJECT ||
	    (rc = db_export_str(&in, doc, "", "format", 1, &format)) != 0 ||
	    strcmp(format, "vkchat-session") != 0) {
		rc = err_set(err, ERR_FORMAT,
		    "'%s' is not a vkchat session export (no \"format\": "
		    "\"vkchat-session\")",
		    source);
		goto out;
	}
	if ((rc = db_export_int(
		 &in, doc, "", "version", 1, INT32_MAX, 0, &version)) != 0)
		goto out;
	if (version > DB_EXPORT_VERSION) {
		rc = err_set(err, ERR_UNSUPPORTED,
		    "'%s': export version %lld is newer than this vkchat "
		    "reads (%d)",
		    source, (long long)version, DB_EXPORT_VERSION);
		goto out;
	}
	if ((rc = db_export_import_session(
		 &in, json_get(doc, "session"), &s)) != 0 ||
	    (rc = db_export_int(&in, json_get(doc, "session"), "session",
		 "leaf_id", 1, INT64_MAX / 2, 0, &leaf)) != 0 ||
	    (rc = db_export_arr(&in, doc, "messages", &msgs)) != 0 ||
	    (rc = db_export_arr(&in, doc, "compare_runs", &runs)) != 0)
		goto out;
	if ((rc = db_begin(db, err)) != 0)
		goto out;
	if ((rc = db_sessions_insert(db, &s, &sid, err)) != 0)
		goto fail;
	if (msgs != NULL) {
		map = xreallocarray(NULL, msgs->len + 1, sizeof *map);
		for (i = 0; i < msgs->len; i++)
			if ((rc = db_export_import_message(db, &in,
				 msgs->items[i], i, sid, map, &n_map)) != 0)
				goto fail;
	}
	for (i = 0; i < n_map; i++)
		if (map[i][0] == leaf)
			new_leaf = map[i][1];
	if (leaf != 0 && new_leaf == 0) {
		rc = db_export_bad(&in, "session", "leaf_id",
		    "not the id of a message in the file");
		goto fail;
	}
	if (new_leaf != 0 &&
	    (rc = db_sessions_set_leaf(db, sid, new_leaf, err)) != 0)
		goto fail;
	for (i = 0; runs != NULL && i < runs->len; i++)
		if ((rc = db_export_import_compare(
			 db, &in, runs->items[i], i, sid)) != 0)
			goto fail;
	if ((rc = db_commit(db, err)) != 0)
		goto out;
	*id = sid;
	goto out;
fail:
	db_rollback(db);
out:
	free(map);
	json_free(doc);
	db_sessions_release(&s);
	return rc;
}
