/*
 * cmd-gen: generation options, model text output, the -v report and
 * saved exchanges for `vkchat run` and `vkchat chat`.  See cmd-gen.h.
 *
 * Saving follows storage/db-stream.h: the user's prompt is committed and
 * the answer's row created (partial, with its settings, seed and model)
 * before the first token; the text is written at most every second while
 * it streams and finished with the statistics.  The database is the UI
 * thread's: the engine never touches it.
 */
#include "cmd-gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "sampler.h"
#include "storage/db-messages.h"
#include "storage/db-presets.h"
#include "storage/db-sessions.h"
#include "utf8.h"
#include "util.h"

static const struct option cmd_gen_shared[] = {
	{ "temp", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "top-k", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "top-p", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "min-p", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "typical-p", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "repeat-penalty", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "repeat-last-n", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "frequency-penalty", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "presence-penalty", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "mirostat", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "mirostat-tau", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "mirostat-eta", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "seed", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "stop", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "logit-bias", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "system", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "max-tokens", required_argument, NULL, CMD_GEN_OPT_PARAM },
	{ "set", required_argument, NULL, CMD_GEN_OPT_SET },
	{ "preset", required_argument, NULL, CMD_GEN_OPT_PRESET },
	{ "db", required_argument, NULL, CMD_GEN_OPT_DB },
};

struct option *
cmd_gen_longopts(const struct option *own)
{
	size_t n = 0, m = ARRAY_LEN(cmd_gen_shared);
	struct option *all;

	while (own[n].name != NULL)
		n++;
	all = xcalloc(n + m + 1, sizeof *all);
	memcpy(all, own, n * sizeof *all);
	memcpy(all + n, cmd_gen_shared, m * sizeof *all);
	return all;
}

void
cmd_gen_opts_init(struct cmd_gen_opts *o, int argc)
{
	memset(o, 0, sizeof *o);
	o->sets = xcalloc((size_t)argc + 1, sizeof *o->sets);
}

void
cmd_gen_opts_release(struct cmd_gen_opts *o)
{
	size_t i;

	for (i = 0; i < o->n_sets; i++)
		free(o->sets[i].key);
	free(o->sets);
	o->sets = NULL;
}

/* The option's parameter key: its long name with '-' as '_'. */
static char *
cmd_gen_key(const char *opt)
{
	char *key;
	size_t i;

	if (strcmp(opt, "temp") == 0)
		opt = "temperature";
	key = xstrdup(opt);
	for (i = 0; key[i] != '\0'; i++)
		if (key[i] == '-')
			key[i] = '_';
	return key;
}

int
cmd_gen_opts_take(
    struct cmd_gen_opts *o, int c, const char *name, const char *value)
{
	switch (c) {
	case CMD_GEN_OPT_PARAM:
		o->sets[o->n_sets].key = cmd_gen_key(name);
		o->sets[o->n_sets++].value = value;
		return 1;
	case CMD_GEN_OPT_SET:
		o->sets[o->n_sets].key = NULL;
		o->sets[o->n_sets++].value = value;
		return 1;
	case CMD_GEN_OPT_PRESET:
		o->preset = value;
		return 1;
	case CMD_GEN_OPT_DB:
		o->db = value;
		return 1;
	default:
		return 0;
	}
}

int
cmd_gen_preset(
    const char *name, const char *db_opt, struct gen_params *p, struct err *err)
{
	struct db_preset pr;
	struct db *db;
	struct stat st;
	char *path;
	int rc;

	if (params_builtin(name, p) == 0)
		return 0;
	if ((rc = db_path(db_opt, &path, err)) < 0)
		return rc;
	if (stat(path, &st) < 0) {
		rc = err_set(err, ERR_NOTFOUND,
		    "no preset '%s': not a built-in one, and there is no "
		    "database at '%s' (see 'vkchat presets list')",
		    name, path);
		free(path);
		return rc;
	}
	rc = db_open(path, &db, err);
	if (rc == 0) {
		rc = db_presets_get(db, name, &pr, err);
		if (rc == 0) {
			params_copy(p, &pr.params);
			db_presets_release(&pr);
		} else if (rc == ERR_NOTFOUND)
			err_set(err, ERR_NOTFOUND,
			    "no preset '%s': not a built-in one, nor saved in "
			    "'%s' (see 'vkchat presets list')",
			    name, path);
		db_close(db);
	}
	free(path);
	return rc;
}

int
cmd_gen_apply(
    const struct cmd_gen_opts *o, struct gen_params *p, struct err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < o->n_sets && rc == 0; i++) {
		if (o->sets[i].key != NULL)
			rc = params_set(
			    p, o->sets[i].key, o->sets[i].value, err);
		else
			rc = params_set_list(p, o->sets[i].value, err);
	}
	return rc;
}

int
cmd_gen_params(
    const char *cmd, const struct cmd_gen_opts *o, struct gen_params *p)
{
	struct err err;

	err_clear(&err);
	if (o->preset != NULL) {
		if (cmd_gen_preset(o->preset, o->db, p, &err) < 0) {
			cmd_error("%s: %s", cmd, err.msg);
			params_init(p);
			return EXIT_USAGE;
		}
	} else
		params_init(p);
	if (cmd_gen_apply(o, p, &err) < 0) {
		cmd_error("%s: %s", cmd, err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

void
cmd_gen_out_init(struct cmd_gen_out *o)
{
	o->tty = isatty(STDOUT_FILENO);
	sbuf_init(&o->buf);
}

void
cmd_gen_out_release(struct cmd_gen_out *o)
{
	sbuf_release(&o->buf);
}

void
cmd_gen_out_write(struct cmd_gen_out *o, const char *text, size_t len)
{
	size_t i = 0;
	uint32_t cp;
	int n;

	if (!o->tty) {
		fwrite(text, 1, len, stdout);
		fflush(stdout);
		return;
	}
	sbuf_reset(&o->buf);
	while (i < len) {
		n = utf8_decode(text + i, len - i, &cp);
		if (n <= 0 || (cp < 0x20 && cp != '\n' && cp != '\t') ||
		    (cp >= 0x7f && cp < 0xa0))
			sbuf_adds(&o->buf, "\xef\xbf\xbd");
		else
			sbuf_add(&o->buf, text + i, (size_t)n);
		i += n > 0 ? (size_t)n : 1;
	}
	fwrite(o->buf.buf, 1, o->buf.len, stdout);
	fflush(stdout);
}

void
cmd_gen_report(
    const struct gen_params *p, int32_t n_vocab, const struct gen_stats *st)
{
	struct gen_params q;
	struct sampler *s;
	struct sbuf sb;

	sbuf_init(&sb);
	params_copy(&q, p);
	q.seed = st->seed;
	if (sampler_new(&q, n_vocab, &s, NULL) == 0) {
		sampler_describe(s, &sb);
		sampler_free(s);
	}
	params_release(&q);
	fprintf(stderr, "vkchat: sampler: %s\n", sb.buf);
	fprintf(stderr,
	    "vkchat: prompt: %zu tokens, %zu evaluated in %.3f s (%.1f "
	    "tok/s)\n",
	    st->n_prompt, st->n_eval, st->t_prompt, st->prompt_tps);
	fprintf(stderr,
	    "vkchat: generated: %zu tokens in %.3f s (%.1f tok/s), first "
	    "after %.3f s; finish: %s%s%s; seed %llu\n",
	    st->n_gen, st->t_gen, st->gen_tps, st->t_first,
	    gen_finish_name(st->finish), st->stop != NULL ? " at " : "",
	    st->stop != NULL ? st->stop : "", (unsigned long long)st->seed);
	sbuf_release(&sb);
}

int
cmd_gen_save_open(struct cmd_gen_save *s, const char *db_opt, const char *path,
    uint64_t size, const char *identity, const char *format, const char *preset)
{
	struct err err;
	char *file;

	memset(s, 0, sizeof *s);
	if (db_path(db_opt, &file, &err) < 0) {
		cmd_error("%s", err.msg);
		return EXIT_USAGE;
	}
	if (db_open(file, &s->db, &err) < 0) {
		free(file);
		cmd_error("%s", err.msg);
		return EXIT_USAGE;
	}
	free(file);
	s->model.path = xstrdup(path);
	s->model.size = (int64_t)size;
	snprintf(s->model.hash, sizeof s->model.hash, "%s", identity);
	s->chat_format = format != NULL ? xstrdup(format) : NULL;
	s->preset = preset != NULL ? xstrdup(preset) : NULL;
	return 0;
}

void
cmd_gen_save_restart(struct cmd_gen_save *s)
{
	s->session = s->user_id = s->leaf = 0;
}

int
cmd_gen_save_begin(struct cmd_gen_save *s, const char *user,
    const struct gen_params *p, uint64_t seed, struct err *err)
{
	struct db_session sess;
	struct db_message m;
	int64_t id;
	int rc;

	s->prev_user = s->user_id;
	s->prev_leaf = s->leaf;
	if (s->session == 0) {
		/* Borrowed pointers: sess is not released. */
		db_sessions_init(&sess);
		sess.model = s->model;
		sess.chat_format = s->chat_format;
		sess.system_prompt = p->system_prompt;
		sess.preset = s->preset;
		sess.has_params = 1;
		sess.params = *p;
		if ((rc = db_sessions_create(s->db, &sess, &id, err)) < 0)
			return rc;
		s->session = id;
		s->leaf = s->user_id = 0;
	}
	if (user != NULL) {
		db_messages_init(&m);
		m.session_id = s->session;
		m.parent_id = s->leaf;
		m.role = DB_ROLE_USER;
		m.content = (char *)user;
		rc = db_messages_add(s->db, &m, &id, err);
		m.content = NULL;
		db_messages_release(&m);
		if (rc < 0)
			return rc;
		s->user_id = s->leaf = id;
	}
	db_messages_init(&m);
	m.session_id = s->session;
	m.parent_id = s->user_id;
	m.role = DB_ROLE_ASSISTANT;
	m.content = (char *)"";
	m.partial = 1;
	m.preset = s->preset;
	m.has_params = 1;
	m.params = *p;
	m.params.seed = seed;
	m.seed = seed;
	m.model = s->model;
	rc = db_stream_message(s->db, &m, &s->stream, err);
	if (rc == 0)
		s->leaf = db_stream_id(s->stream);
	s->warned = 0;
	return rc;
}

void
cmd_gen_save_forget(struct cmd_gen_save *s)
{
	s->user_id = s->prev_user;
	s->leaf = s->prev_leaf;
}

void
cmd_gen_save_text(struct cmd_gen_save *s, const char *text, size_t len)
{
	struct err err;

	if (s->stream == NULL)
		return;
	if (db_stream_add(s->stream, text, len, &err) < 0 && !s->warned) {
		s->warned = 1;
		cmd_error("warning: saving the answer: %s (retrying)", err.msg);
	}
}

static enum db_finish
cmd_gen_finish_code(enum gen_finish f)
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

int
cmd_gen_save_finish(
    struct cmd_gen_save *s, const struct gen_stats *st, const char *error)
{
	struct db_gen_stats ds;
	struct err err;
	int rc;

	if (s->stream == NULL)
		return 0;
	ds.prompt_tokens = st != NULL ? (int64_t)st->n_prompt : -1;
	ds.completion_tokens = st != NULL ? (int64_t)st->n_gen : -1;
	ds.ttft_ms = st != NULL ? st->t_first * 1000 : -1;
	ds.tokens_per_s = st != NULL && st->n_gen > 1 ? st->gen_tps : -1;
	ds.finish =
	    st != NULL ? cmd_gen_finish_code(st->finish) : DB_FINISH_ERROR;
	if (ds.finish == DB_FINISH_ERROR && error == NULL)
		error = "generation failed";
	if (ds.finish != DB_FINISH_ERROR)
		error = NULL;
	rc = db_stream_finish(s->stream, &ds, error, &err);
	db_stream_free(s->stream);
	s->stream = NULL;
	if (rc < 0) {
		cmd_error("saving the answer: %s", err.msg);
		return -1;
	}
	return 0;
}

void
cmd_gen_save_close(struct cmd_gen_save *s)
{
	if (s->stream != NULL)
		db_stream_free(s->stream);
	db_close(s->db);
	db_model_release(&s->model);
	free(s->chat_format);
	free(s->preset);
	memset(s, 0, sizeof *s);
}
