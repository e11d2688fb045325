/*
 * cmd-sessions: "vkchat sessions ..." lists, shows, exports, imports,
 * renames, deletes and forks stored conversations, and replays a stored
 * answer (cmd-replay.c).  Human output fits the terminal and escapes
 * stored text; --json output is for scripts and carries every field (the
 * same document as the JSON export).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd-store.h"
#include "cmd.h"
#include "json.h"
#include "storage/db-compare.h"
#include "storage/db-export.h"
#include "storage/db-messages.h"
#include "storage/db-sessions.h"
#include "storage/db.h"

static void
cmd_sessions_usage(FILE *f)
{
	fprintf(f,
	    "usage: vkchat sessions list [--search TEXT] [--model M] "
	    "[--since DATE]\n"
	    "                            [--limit N] [--json]\n"
	    "       vkchat sessions show ID [--json]\n"
	    "       vkchat sessions export ID [--format md|json] [-o FILE]\n"
	    "       vkchat sessions import FILE [--json]\n"
	    "       vkchat sessions rename ID TITLE\n"
	    "       vkchat sessions delete ID [--yes]\n"
	    "       vkchat sessions fork ID [--at MESSAGE] [--json]\n"
	    "       vkchat sessions replay ID [--at MESSAGE] [-m MODEL.gguf]\n"
	    "\n"
	    "Stored conversations.  --search matches words in messages and "
	    "titles\n"
	    "(word* for a prefix); --since takes YYYY-MM-DD, 'YYYY-MM-DD "
	    "HH:MM',\n"
	    "today, yesterday, or 3h, 2d, 1w.  Every command takes --db PATH "
	    "(default\n"
	    "$VKCHAT_DB, then $XDG_DATA_HOME/vkchat/vkchat.db).  See "
	    "vkchat-storage(5).\n");
}

/* The last path component of PATH (or "-" for none). */
static const char *
cmd_sessions_base(const char *path)
{
	const char *s;

	if (path == NULL)
		return "-";
	s = strrchr(path, '/');
	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/* Write KEY_ms and KEY (ISO 8601 UTC) like the export does. */
static void
cmd_sessions_json_time(struct json_writer *w, const char *key, int64_t ms)
{
	char k[32], buf[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	snprintf(k, sizeof k, "%s_ms", key);
	json_key(w, k);
	json_int(w, ms);
	json_key(w, key);
	if (gmtime_r(&t, &tm) != NULL &&
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) != 0)
		json_str(w, buf);
	else
		json_null(w);
}

static void
cmd_sessions_list_json(const struct db_session *list, size_t n)
{
	struct json_writer w;
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb);
	json_writer_init(&w, &sb, 1);
	json_arr_begin(&w);
	for (i = 0; i < n; i++) {
		const struct db_session *s = &list[i];

		json_obj_begin(&w);
		json_key(&w, "id");
		json_int(&w, s->id);
		json_key(&w, "title");
		json_str(&w, s->title);
		cmd_sessions_json_time(&w, "created", s->created_ms);
		cmd_sessions_json_time(&w, "updated", s->updated_ms);
		json_key(&w, "model");
		if (s->model.path == NULL && s->model.hash[0] == '\0') {
			json_null(&w);
		} else {
			json_obj_begin(&w);
			json_key(&w, "path");
			json_str(&w, s->model.path);
			json_key(&w, "size");
			json_int(&w, s->model.size);
			json_key(&w, "hash");
			json_str(&w, s->model.hash);
			json_end(&w);
		}
		json_key(&w, "chat_format");
		json_str(&w, s->chat_format);
		json_key(&w, "preset");
		json_str(&w, s->preset);
		json_key(&w, "parent_id");
		if (s->parent_id != 0)
			json_int(&w, s->parent_id);
		else
			json_null(&w);
		json_key(&w, "messages");
		json_int(&w, s->n_messages);
		json_key(&w, "compare_runs");
		json_int(&w, s->n_compare);
		json_key(&w, "snippet");
		json_str(&w, s->snippet);
		json_end(&w);
	}
	json_end(&w);
	fputs(sb.buf, stdout);
	sbuf_release(&sb);
}

static void
cmd_sessions_list_print(const struct db_session *list, size_t n, int width)
{
	int model_col = width == 0 || width >= 70;
	struct sbuf line, safe;
	char when[32];
	size_t i;
	int used;

	sbuf_init(&line);
	sbuf_init(&safe);
	printf("%6s  %-16s  %4s  %s%s\n", "ID", "UPDATED", "MSGS",
	    model_col ? "MODEL             " : "", "TITLE");
	for (i = 0; i < n; i++) {
		const struct db_session *s = &list[i];

		sbuf_reset(&line);
		sbuf_addf(&line, "%6lld  %-16s  %4lld  ", (long long)s->id,
		    cmd_store_time(s->updated_ms, when, sizeof when),
		    (long long)s->n_messages);
		if (model_col) {
			sbuf_reset(&safe);
			cmd_store_safe(
			    &safe, cmd_sessions_base(s->model.path), 0);
			used = cmd_store_fit(&line, safe.buf, 16);
			sbuf_addf(&line, "%*s  ", 16 - used, "");
		}
		sbuf_reset(&safe);
		if (s->n_compare > 0)
			sbuf_addf(
			    &safe, "(%lld compare) ", (long long)s->n_compare);
		cmd_store_safe(
		    &safe, *s->title != '\0' ? s->title : "(untitled)", 0);
		cmd_store_row(line.buf, safe.buf, width);
		if (s->snippet != NULL) {
			sbuf_reset(&safe);
			cmd_store_safe(&safe, s->snippet, 0);
			cmd_store_row("        ", safe.buf, width);
		}
	}
	sbuf_release(&line);
	sbuf_release(&safe);
}

static int
cmd_sessions_list(int argc, char **argv)
{
	const char *db_opt = NULL, *search = NULL, *model = NULL;
	const char *since = NULL, *limit = NULL;
	int json = 0, npos, rc;
	const struct cmd_store_opt opts[] = {
		{ "search", 0, &search, NULL },
		{ "model", 0, &model, NULL },
		{ "since", 0, &since, NULL },
		{ "limit", 0, &limit, NULL },
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	struct db_session_filter f = { 0 };
	struct db_session *list;
	struct db *db;
	struct err e;
	char **pos;
	size_t n;

	if ((rc = cmd_store_args("sessions list", argc, argv, opts, 0, argc,
		 cmd_sessions_usage, &db_opt, &pos, &npos)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (npos != 0) {
		cmd_error("sessions list: unexpected argument '%s'", pos[0]);
		free(pos);
		return EXIT_USAGE;
	}
	free(pos);
	f.search = search;
	f.model = model;
	if (since != NULL && cmd_store_since(since, &f.since_ms) != 0)
		return EXIT_USAGE;
	if (limit != NULL &&
	    util_parse_i64(limit, 1, INT64_MAX, &f.limit) != 0) {
		cmd_error("--limit: '%s' is not a positive number", limit);
		return EXIT_USAGE;
	}
	if ((db = cmd_store_open(db_opt)) == NULL)
		return EXIT_USAGE;
	rc = db_sessions_list(db, &f, &list, &n, &e);
	db_close(db);
	if (rc != 0)
		return cmd_store_fail(&e);
	if (json)
		cmd_sessions_list_json(list, n);
	else if (n == 0)
		puts(search != NULL || model != NULL || since != NULL
			? "no sessions match"
			: "no sessions yet");
	else
		cmd_sessions_list_print(list, n, cmd_store_width());
	db_sessions_free(list, n);
	return EXIT_OK;
}

/* The statistics line under a generated text. */
static void
cmd_sessions_stats(struct sbuf *out, const char *preset, uint64_t seed,
    const struct db_gen_stats *st, int partial, const char *error)
{
	const char *finish = db_messages_finish_name(st->finish);

	sbuf_adds(out, "[");
	if (preset != NULL) {
		sbuf_adds(out, "preset ");
		cmd_store_safe(out, preset, 0);
		sbuf_adds(out, " | ");
	}
	sbuf_addf(out, "seed %llu", (unsigned long long)seed);
	if (st->prompt_tokens >= 0)
		sbuf_addf(
		    out, " | %lld prompt tokens", (long long)st->prompt_tokens);
	if (st->completion_tokens >= 0)
		sbuf_addf(
		    out, " | %lld generated", (long long)st->completion_tokens);
	if (st->tokens_per_s >= 0)
		sbuf_addf(out, " | %.1f tokens/s", st->tokens_per_s);
	if (st->ttft_ms >= 0)
		sbuf_addf(out, " | first token %.0f ms", st->ttft_ms);
	if (partial)
		sbuf_adds(out, " | incomplete");
	else if (finish != NULL)
		sbuf_addf(out, " | %s", finish);
	if (error != NULL) {
		sbuf_adds(out, ": ");
		cmd_store_safe(out, error, 0);
	}
	sbuf_adds(out, "]\n");
}

/*
 * A session's compare runs, each column with the settings that differ
 * between the columns (the seed is in the statistics) and its output.
 */
static void
cmd_sessions_print_runs(
    struct sbuf *sb, const struct db_compare_run *runs, size_t n)
{
	const struct gen_params *p[DB_COMPARE_MAX_COLUMNS];
	struct sbuf diff[DB_COMPARE_MAX_COLUMNS];
	const char *skip[] = { "seed", NULL };
	char when[32];
	size_t i, j, nd;

	for (i = 0; i < n; i++) {
		const struct db_compare_run *r = &runs[i];

		sbuf_addf(sb, "\n=== compare run %lld, %s ===\n",
		    (long long)r->id,
		    cmd_store_time(r->created_ms, when, sizeof when));
		cmd_store_safe(sb, r->prompt, 1);
		sbuf_adds(sb, "\n");
		/* A run is stored with at most DB_COMPARE_MAX_COLUMNS:
		 * more (a foreign file) are shown without the diff. */
		nd = r->n_columns <= DB_COMPARE_MAX_COLUMNS ? r->n_columns : 0;
		for (j = 0; j < nd; j++) {
			p[j] = &r->columns[j].params;
			sbuf_init(&diff[j]);
		}
		params_diff_n(p, nd, skip, " ", diff);
		for (j = 0; j < r->n_columns; j++) {
			const struct db_compare_column *c = &r->columns[j];

			sbuf_addf(sb, "\n--- column %zu: ", j + 1);
			cmd_store_safe(sb, c->preset, 0);
			sbuf_addf(sb, "%s ---\n",
			    r->winner == (int)j ? " (winner)" : "");
			if (j < nd && diff[j].len > 0) {
				sbuf_adds(sb, "settings: ");
				cmd_store_safe(sb, diff[j].buf, 0);
				sbuf_adds(sb, "\n");
			}
			if (j < nd)
				sbuf_release(&diff[j]);
			cmd_store_safe(sb, c->output, 1);
			sbuf_adds(sb, "\n");
			cmd_sessions_stats(
			    sb, NULL, c->seed, &c->stats, c->partial, c->error);
		}
	}
}

static void
cmd_sessions_print(const struct db_session *s, const struct db_message *msgs,
    size_t n, const struct db_compare_run *runs, size_t n_runs)
{
	char when[32], size[32];
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb);
	sbuf_addf(&sb, "session %lld: ", (long long)s->id);
	cmd_store_safe(&sb, *s->title != '\0' ? s->title : "(untitled)", 0);
	sbuf_addf(&sb, "\ncreated %s",
	    cmd_store_time(s->created_ms, when, sizeof when));
	sbuf_addf(&sb, ", updated %s\n",
	    cmd_store_time(s->updated_ms, when, sizeof when));
	if (s->model.path != NULL || s->model.hash[0] != '\0') {
		sbuf_adds(&sb, "model: ");
		cmd_store_safe(
		    &sb, s->model.path != NULL ? s->model.path : "?", 0);
		sbuf_addf(&sb, " (%s, %s)\n",
		    util_bytes((uint64_t)s->model.size, size, sizeof size),
		    s->model.hash[0] != '\0' ? s->model.hash : "no identity");
	}
	if (s->chat_format != NULL) {
		sbuf_adds(&sb, "chat format: ");
		cmd_store_safe(&sb, s->chat_format, 0);
		sbuf_adds(&sb, "\n");
	}
	if (s->preset != NULL) {
		sbuf_adds(&sb, "preset: ");
		cmd_store_safe(&sb, s->preset, 0);
		sbuf_adds(&sb, "\n");
	}
	if (s->parent_id != 0)
		sbuf_addf(&sb, "forked from session %lld at message %lld\n",
		    (long long)s->parent_id, (long long)s->fork_message_id);
	if (s->system_prompt != NULL) {
		sbuf_adds(&sb, "system prompt: ");
		cmd_store_safe(&sb, s->system_prompt, 1);
		sbuf_adds(&sb, "\n");
	}
	for (i = 0; i < n; i++) {
		const struct db_message *m = &msgs[i];

		sbuf_addf(&sb, "\n--- %s #%lld, %s",
		    db_messages_role_name(m->role), (long long)m->id,
		    cmd_store_time(m->created_ms, when, sizeof when));
		if (m->n_siblings > 1)
			sbuf_addf(&sb, ", version %lld of %lld",
			    (long long)m->sibling_pos,
			    (long long)m->n_siblings);
		sbuf_adds(&sb, " ---\n");
		cmd_store_safe(&sb, m->content, 1);
		sbuf_adds(&sb, "\n");
		if (m->role == DB_ROLE_ASSISTANT)
			cmd_sessions_stats(&sb, m->preset, m->seed, &m->stats,
			    m->partial, m->error);
	}
	if (n == 0)
		sbuf_adds(&sb, "\n(no messages)\n");
	cmd_sessions_print_runs(&sb, runs, n_runs);
	fputs(sb.buf, stdout);
	sbuf_release(&sb);
}

/*
 * Parse "CMD ID" with OPTS (WANT arguments) and open the database into
 * *db; like cmd_store_args, *pos is NULL unless it returns 0.
 */
static int
cmd_sessions_one(const char *cmd, int argc, char **argv,
    const struct cmd_store_opt *opts, int want, char ***pos, int64_t *id,
    struct db **db)
{
	const char *db_opt = NULL;
	int npos, rc;

	*db = NULL;
	if ((rc = cmd_store_args(cmd, argc, argv, opts, want, want,
		 cmd_sessions_usage, &db_opt, pos, &npos)) != 0)
		return rc;
	if (id != NULL && cmd_store_id("session", (*pos)[0], id) != 0)
		goto fail;
	if ((*db = cmd_store_open(db_opt)) == NULL)
		goto fail;
	return 0;
fail:
	free(*pos);
	*pos = NULL;
	return -1;
}

static int
cmd_sessions_show(int argc, char **argv)
{
	int json = 0, rc;
	const struct cmd_store_opt opts[] = {
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	struct db_session s;
	struct db_message *msgs = NULL;
	struct db_compare_run *runs = NULL;
	struct db *db;
	struct err e;
	struct sbuf sb;
	char **pos;
	int64_t id;
	size_t n = 0, n_runs = 0;

	if ((rc = cmd_sessions_one(
		 "sessions show", argc, argv, opts, 1, &pos, &id, &db)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	free(pos);
	sbuf_init(&sb);
	db_sessions_init(&s);
	if (json)
		rc = db_export_json(db, id, 0, 1, &sb, &e);
	else if ((rc = db_sessions_get(db, id, &s, &e)) == 0 &&
	    (rc = db_messages_branch(db, id, 0, &msgs, &n, &e)) == 0)
		rc = db_compare_list(db, id, &runs, &n_runs, &e);
	db_close(db);
	if (rc == 0) {
		if (json)
			fputs(sb.buf, stdout);
		else
			cmd_sessions_print(&s, msgs, n, runs, n_runs);
	}
	db_compare_free(runs, n_runs);
	db_messages_free(msgs, n);
	db_sessions_release(&s);
	sbuf_release(&sb);
	return rc == 0 ? EXIT_OK : cmd_store_fail(&e);
}

static int
cmd_sessions_export(int argc, char **argv)
{
	const char *format = "md", *output = NULL;
	const struct cmd_store_opt opts[] = {
		{ "format", 0, &format, NULL },
		{ "output", 'o', &output, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct db *db;
	struct err e;
	struct sbuf sb;
	char **pos;
	int64_t id;
	int rc;

	if ((rc = cmd_sessions_one(
		 "sessions export", argc, argv, opts, 1, &pos, &id, &db)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	free(pos);
	if (strcmp(format, "md") != 0 && strcmp(format, "json") != 0) {
		db_close(db);
		cmd_error("sessions export: --format is md or json, not '%s'",
		    format);
		return EXIT_USAGE;
	}
	sbuf_init(&sb);
	rc = format[0] == 'j' ? db_export_json(db, id, 1, 1, &sb, &e)
			      : db_export_markdown(db, id, &sb, &e);
	db_close(db);
	if (rc != 0) {
		sbuf_release(&sb);
		return cmd_store_fail(&e);
	}
	rc = cmd_store_output(output, sb.buf, sb.len);
	sbuf_release(&sb);
	return rc == 0 ? EXIT_OK : EXIT_USAGE;
}

static int
cmd_sessions_import(int argc, char **argv)
{
	int json = 0, rc;
	const struct cmd_store_opt opts[] = {
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	struct db *db;
	struct err e;
	char **pos, *text;
	size_t len;
	int64_t id;

	if ((rc = cmd_sessions_one(
		 "sessions import", argc, argv, opts, 1, &pos, NULL, &db)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if ((text = cmd_store_input(pos[0], &len)) == NULL) {
		db_close(db);
		free(pos);
		return EXIT_USAGE;
	}
	rc = db_export_import(db, text, len,
	    strcmp(pos[0], "-") == 0 ? "standard input" : pos[0], &id, &e);
	db_close(db);
	free(text);
	free(pos);
	if (rc != 0)
		return cmd_store_fail(&e);
	if (json)
		printf("{\"id\": %lld}\n", (long long)id);
	else
		printf("imported session %lld\n", (long long)id);
	return EXIT_OK;
}

static int
cmd_sessions_rename(int argc, char **argv)
{
	struct db *db;
	struct err e;
	char **pos;
	int64_t id;
	int rc;

	if ((rc = cmd_sessions_one(
		 "sessions rename", argc, argv, NULL, 2, &pos, &id, &db)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	rc = db_sessions_rename(db, id, pos[1], &e);
	db_close(db);
	free(pos);
	return rc == 0 ? EXIT_OK : cmd_store_fail(&e);
}

static int
cmd_sessions_delete(int argc, char **argv)
{
	int yes = 0, rc;
	const struct cmd_store_opt opts[] = {
		{ "yes", 'y', NULL, &yes },
		{ NULL, 0, NULL, NULL },
	};
	struct db_session s;
	struct db *db;
	struct err e;
	struct sbuf q;
	char **pos;
	int64_t id;

	if ((rc = cmd_sessions_one(
		 "sessions delete", argc, argv, opts, 1, &pos, &id, &db)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	free(pos);
	if ((rc = db_sessions_get(db, id, &s, &e)) != 0) {
		db_close(db);
		db_sessions_release(&s);
		return cmd_store_fail(&e);
	}
	if (!yes && !isatty(STDIN_FILENO)) {
		db_close(db);
		db_sessions_release(&s);
		cmd_error("sessions delete: not deleting session %lld without "
			  "--yes (standard input is not a terminal to ask on)",
		    (long long)id);
		return EXIT_USAGE;
	}
	if (!yes) {
		sbuf_init(&q);
		sbuf_addf(&q, "delete session %lld '", (long long)id);
		cmd_store_safe(&q, s.title, 0);
		sbuf_adds(&q, "' and all its messages?");
		yes = cmd_store_confirm(q.buf);
		sbuf_release(&q);
		if (!yes) {
			db_close(db);
			db_sessions_release(&s);
			fprintf(stderr, "not deleted\n");
			return EXIT_USAGE;
		}
	}
	db_sessions_release(&s);
	rc = db_sessions_delete(db, id, &e);
	db_close(db);
	if (rc != 0)
		return cmd_store_fail(&e);
	printf("deleted session %lld\n", (long long)id);
	return EXIT_OK;
}

static int
cmd_sessions_fork(int argc, char **argv)
{
	const char *at_opt = NULL;
	int json = 0, rc;
	const struct cmd_store_opt opts[] = {
		{ "at", 0, &at_opt, NULL },
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	struct db *db;
	struct err e;
	char **pos;
	int64_t id, at = 0, new_id;

	if ((rc = cmd_sessions_one(
		 "sessions fork", argc, argv, opts, 1, &pos, &id, &db)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	free(pos);
	if (at_opt != NULL && util_parse_i64(at_opt, 1, INT64_MAX, &at) != 0) {
		db_close(db);
		cmd_error("--at: '%s' is not a message id (see 'vkchat "
			  "sessions show %lld')",
		    at_opt, (long long)id);
		return EXIT_USAGE;
	}
	rc = db_sessions_fork(db, id, at, &new_id, &e);
	db_close(db);
	if (rc != 0)
		return cmd_store_fail(&e);
	if (json)
		printf("{\"id\": %lld}\n", (long long)new_id);
	else
		printf("forked session %lld into session %lld\n", (long long)id,
		    (long long)new_id);
	return EXIT_OK;
}

int
cmd_sessions(int argc, char **argv)
{
	static const struct cmd_store_sub subs[] = {
		{ "list", cmd_sessions_list },
		{ "show", cmd_sessions_show },
		{ "export", cmd_sessions_export },
		{ "import", cmd_sessions_import },
		{ "rename", cmd_sessions_rename },
		{ "delete", cmd_sessions_delete },
		{ "fork", cmd_sessions_fork },
		{ "replay", cmd_sessions_replay },
		{ NULL, NULL },
	};

	return cmd_store_dispatch(
	    "sessions", subs, cmd_sessions_usage, argc, argv);
}
