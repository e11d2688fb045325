/*
 * conv: the conversation model (see conv.h).  Every row a conversation
 * writes goes through here: the session, prompts, the answer's partial
 * row, its streamed text and its final statistics.
 */
#include "conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "storage/db-presets.h"

void
conv_init(struct conv *c, struct db *db)
{
	memset(c, 0, sizeof(*c));
	c->db = db;
	params_init(&c->params);
	c->preset = xstrdup("default");
}

void
conv_release(struct conv *c)
{
	if (c->stream != NULL)
		db_stream_free(c->stream);
	db_model_release(&c->model);
	free(c->chat_format);
	free(c->preset);
	params_release(&c->params);
	memset(c, 0, sizeof(*c));
}

void
conv_set_model(
    struct conv *c, const char *path, int64_t size, const char *identity)
{
	if (path != NULL && path != c->model.path) {
		free(c->model.path);
		c->model.path = xstrdup(path);
	}
	if (size > 0)
		c->model.size = size;
	if (identity != NULL)
		snprintf(c->model.hash, sizeof(c->model.hash), "%s", identity);
}

void
conv_set_format(struct conv *c, const char *format)
{
	free(c->chat_format);
	c->chat_format = format != NULL ? xstrdup(format) : NULL;
}

void
conv_use_params(
    struct conv *c, const char *name, const struct gen_params *p, int changed)
{
	char *system =
	    c->params.system_prompt ? xstrdup(c->params.system_prompt) : NULL;
	char *preset = name != NULL ? xstrdup(name) : NULL;

	params_release(&c->params);
	params_copy(&c->params, p);
	if (c->params.system_prompt == NULL && system != NULL)
		params_set(&c->params, "system", system, NULL);
	free(system);
	free(c->preset);
	c->preset = preset;
	c->preset_changed = changed;
}

void
conv_restart(struct conv *c)
{
	c->session = c->leaf = c->prev_leaf = 0;
}

uint64_t
conv_draw_seed(const struct gen_params *p)
{
	return p->seed != 0 ? p->seed : rng_random_seed();
}

int32_t
conv_answer_limit(const struct gen_params *p)
{
	return p->max_tokens >= 0 ? p->max_tokens : CONV_ANSWER_MAX;
}

int
conv_ensure_session(struct conv *c, struct err *err)
{
	struct db_session s;
	int64_t id;
	int rc;

	if (c->session != 0)
		return 0;
	/* Every pointer below is borrowed: s is not released. */
	db_sessions_init(&s);
	s.model = c->model;
	s.chat_format = c->chat_format;
	s.system_prompt = c->params.system_prompt;
	s.preset = c->preset;
	s.has_params = 1;
	s.params = c->params;
	if ((rc = db_sessions_create(c->db, &s, &id, err)) < 0)
		return rc;
	c->session = id;
	c->leaf = c->prev_leaf = 0;
	return 0;
}

int
conv_add_prompt(struct conv *c, int64_t parent, const char *text, int64_t *id,
    struct err *err)
{
	struct db_message m;
	int64_t new_id;
	int rc;

	if ((rc = conv_ensure_session(c, err)) < 0)
		return rc;
	if (parent < 0)
		parent = c->leaf;
	db_messages_init(&m);
	m.session_id = c->session;
	m.parent_id = parent;
	m.role = DB_ROLE_USER;
	m.content = (char *)text;
	rc = db_messages_add(c->db, &m, &new_id, err);
	m.content = NULL;
	db_messages_release(&m);
	if (rc < 0)
		return rc;
	c->prev_leaf = parent;
	c->leaf = new_id;
	if (id != NULL)
		*id = new_id;
	return 0;
}

int
conv_begin_answer(
    struct conv *c, int64_t parent, uint64_t seed, struct err *err)
{
	struct db_message m;
	int rc;

	if ((rc = conv_ensure_session(c, err)) < 0)
		return rc;
	c->seed = seed != 0 ? seed : conv_draw_seed(&c->params);
	/* Borrowed pointers: m is not released. */
	db_messages_init(&m);
	m.session_id = c->session;
	m.parent_id = parent < 0 ? c->leaf : parent;
	m.role = DB_ROLE_ASSISTANT;
	m.content = (char *)"";
	m.partial = 1;
	m.preset = c->preset;
	m.has_params = 1;
	/* the settings as the user set them: a drawn seed is not pinned */
	m.params = c->params;
	m.seed = c->seed;
	m.model = c->model;
	if ((rc = db_stream_message(c->db, &m, &c->stream, err)) < 0)
		return rc;
	c->leaf = db_stream_id(c->stream);
	return 0;
}

int
conv_start_turn(struct conv *c, int64_t parent, const char *text, uint64_t seed,
    int64_t *id, struct err *err)
{
	int64_t session = c->session, leaf = c->leaf, prev = c->prev_leaf;
	int rc;

	if ((rc = db_begin(c->db, err)) < 0)
		return rc;
	if ((rc = conv_add_prompt(c, parent, text, id, err)) < 0 ||
	    (rc = conv_begin_answer(c, -1, seed, err)) < 0)
		db_rollback(c->db);
	else
		rc = db_commit(c->db, err);
	if (rc < 0) {
		if (c->stream != NULL)
			db_stream_free(c->stream);
		c->stream = NULL;
		c->session = session;
		c->leaf = leaf;
		c->prev_leaf = prev;
	}
	return rc;
}

int
conv_append(struct conv *c, const char *text, size_t len, struct err *err)
{
	if (c->stream == NULL)
		return 0;
	return db_stream_add(c->stream, text, len, err);
}

static enum db_finish
conv_finish_code(enum gen_finish f)
{
	switch (f) {
	case GEN_FINISH_STOP:
		return DB_FINISH_STOP;
	case GEN_FINISH_LENGTH:
		return DB_FINISH_LENGTH;
	case GEN_FINISH_CANCELLED:
		return DB_FINISH_CANCELLED;
	case GEN_FINISH_ERROR:
		return DB_FINISH_ERROR;
	default:
		return DB_FINISH_NONE;
	}
}

void
conv_stats(struct db_gen_stats *out, const struct gen_stats *st,
    enum gen_finish finish)
{
	out->prompt_tokens = st != NULL ? (int64_t)st->n_prompt : -1;
	out->completion_tokens = st != NULL ? (int64_t)st->n_gen : -1;
	out->ttft_ms = st != NULL ? st->t_first * 1000 : -1;
	out->tokens_per_s = st != NULL && st->n_gen > 1 ? st->gen_tps : -1;
	out->finish = conv_finish_code(finish);
}

int
conv_finish_answer(struct conv *c, enum gen_finish finish,
    const struct gen_stats *st, const char *error, struct db_gen_stats *stored,
    int64_t *id, struct err *err)
{
	struct db_gen_stats ds;
	int rc = 0;

	conv_stats(&ds, st, finish);
	if (ds.finish == DB_FINISH_ERROR && error == NULL)
		error = "generation failed";
	if (ds.finish != DB_FINISH_ERROR)
		error = NULL;
	if (stored != NULL)
		*stored = ds;
	if (id != NULL)
		*id = c->stream != NULL ? db_stream_id(c->stream) : 0;
	if (c->stream == NULL)
		return 0;
	rc = db_stream_finish(c->stream, &ds, error, err);
	db_stream_free(c->stream);
	c->stream = NULL;
	return rc;
}

void
conv_forget(struct conv *c)
{
	c->leaf = c->prev_leaf;
}

/*
 * Whether settings P differ from preset NAME's (the system prompt aside:
 * it is the conversation's); a preset that is gone differs.
 */
static int
conv_differs(struct db *db, const char *name, const struct gen_params *p)
{
	struct db_preset pr;
	struct gen_params a;
	int differs;

	if (db_presets_get(db, name, &pr, NULL) < 0)
		return 1;
	params_copy(&a, p);
	params_set(&a, "system", "", NULL);
	params_set(&pr.params, "system", "", NULL);
	differs = !params_equal(&a, &pr.params);
	params_release(&a);
	db_presets_release(&pr);
	return differs;
}

/* The settings a loaded branch continues with; see conv_load. */
static void
conv_load_params(struct conv *c, const struct db_session *s,
    struct db_message *msgs, size_t n)
{
	const struct gen_params *p = NULL;
	const char *preset = NULL;
	size_t i;

	for (i = n; i > 0 && p == NULL; i--)
		if (msgs[i - 1].role == DB_ROLE_ASSISTANT &&
		    msgs[i - 1].has_params) {
			p = &msgs[i - 1].params;
			preset = msgs[i - 1].preset;
		}
	if (p == NULL && s->has_params)
		p = &s->params;
	if (preset == NULL)
		preset = s->preset;
	if (p != NULL)
		conv_use_params(c, preset != NULL ? preset : "session", p,
		    preset != NULL && conv_differs(c->db, preset, p));
	if (c->params.system_prompt == NULL && s->system_prompt != NULL)
		params_set(&c->params, "system", s->system_prompt, NULL);
}

int
conv_load(struct conv *c, int64_t id, struct db_message **msgs, size_t *n,
    char **stored_format, struct err *err)
{
	struct db_session s;
	int rc;

	*msgs = NULL;
	*n = 0;
	if (stored_format != NULL)
		*stored_format = NULL;
	if ((rc = db_sessions_get(c->db, id, &s, err)) < 0)
		return rc;
	if ((rc = db_messages_branch(c->db, id, 0, msgs, n, err)) < 0) {
		db_sessions_release(&s);
		return rc;
	}
	conv_restart(c);
	/* a new conversation's system prompt is not the session's */
	params_set(&c->params, "system", "", NULL);
	conv_load_params(c, &s, *msgs, *n);
	c->session = id;
	c->leaf = c->prev_leaf = *n > 0 ? (*msgs)[*n - 1].id : 0;
	if (stored_format != NULL && s.chat_format != NULL)
		*stored_format = xstrdup(s.chat_format);
	db_sessions_release(&s);
	return 0;
}

int
conv_latest(struct db *db, int64_t *id, struct err *err)
{
	struct db_session_filter f;
	struct db_session *list = NULL;
	size_t n = 0;
	int rc;

	memset(&f, 0, sizeof(f));
	f.limit = 1;
	if ((rc = db_sessions_list(db, &f, &list, &n, err)) < 0)
		return rc;
	if (n == 0)
		rc = err_set(err, ERR_NOTFOUND, "no saved session to continue");
	else
		*id = list[0].id;
	db_sessions_free(list, n);
	return rc;
}

void
conv_sibling_pos(struct conv *c, int64_t id, size_t *pos, size_t *n)
{
	int64_t *sib = NULL;
	size_t i;

	*pos = *n = 0;
	if (id <= 0 || db_messages_siblings(c->db, id, &sib, n, NULL) < 0) {
		*n = 0;
		return;
	}
	for (i = 0; i < *n; i++)
		if (sib[i] == id)
			*pos = i + 1;
	free(sib);
	if (*pos == 0)
		*n = 0;
}

int
conv_step_sibling(struct conv *c, int64_t id, int dir, size_t *pos, size_t *n,
    struct db_message **msgs, size_t *n_msgs, struct err *err)
{
	int64_t *sib = NULL, to;
	size_t i, at = 0;
	int rc;

	*msgs = NULL;
	*n_msgs = 0;
	*pos = *n = 0;
	if ((rc = db_messages_siblings(c->db, id, &sib, n, err)) < 0)
		return rc;
	for (i = 0; i < *n; i++)
		if (sib[i] == id)
			at = i;
	*pos = at + 1;
	if ((dir < 0 && at == 0) || (dir > 0 && at + 1 >= *n)) {
		free(sib);
		return err_set(err, ERR_NOTFOUND,
		    "answer %zu of %zu: no %s one", *pos, *n,
		    dir < 0 ? "earlier" : "later");
	}
	to = sib[dir < 0 ? at - 1 : at + 1];
	free(sib);
	if ((rc = db_sessions_set_leaf(c->db, c->session, to, err)) < 0 ||
	    (rc = db_messages_branch(
		 c->db, c->session, to, msgs, n_msgs, err)) < 0)
		return rc;
	c->leaf = to;
	*pos = dir < 0 ? at : at + 2;
	return 0;
}

size_t
conv_turns(const struct conv_msg *msgs, size_t n, struct chat_turn *turns)
{
	size_t i, j, k = 0;

	for (i = 0; i < n; i++) {
		if (msgs[i].role == DB_ROLE_SYSTEM)
			continue;
		if (msgs[i].role == DB_ROLE_USER) {
			for (j = i + 1; j < n && msgs[j].role == DB_ROLE_SYSTEM;
			     j++)
				;
			if (j < n && msgs[j].role == DB_ROLE_USER)
				continue;
		}
		turns[k].role =
		    msgs[i].role == DB_ROLE_USER ? CHAT_USER : CHAT_ASSISTANT;
		turns[k++].text = msgs[i].text;
	}
	return k;
}
