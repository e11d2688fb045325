/*
 * compareview: compare mode in the chat screen.
 *
 * State lives in struct compareview (t->cmp, NULL outside compare mode).
 * Sending stores the prompt as a user message and the run (db-compare)
 * with empty, partial columns, then asks the worker for all columns in
 * one request; t->generating is set so Ctrl-C, Esc and quitting stop the
 * run like an answer.  TOKEN events go to the column's own transcript
 * (drawn with screen_transcript) and to the run, saved at most once a
 * second; each DONE finishes its column.  Picking the winner adds every
 * column as an assistant message under the prompt, the winner last so it
 * becomes the session's leaf, records the winner, and leaves the mode.
 */
#include "compareview.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "storage/db-compare.h"
#include "storage/db-messages.h"
#include "storage/db-presets.h"
#include "chatview.h"
#include "prompt.h"
#include "screen.h"
#include "text.h"
#include "util.h"

/* How often a streaming column is written to the database, in seconds. */
#define CMP_SAVE_EVERY 1.0

struct compareview_col {
	char *name;		  /* preset name */
	char *diff;		  /* the settings that differ, or "" */
	struct gen_params params; /* system_prompt unused */
	uint64_t seed;
	struct transcript *tr;
	struct sbuf out;
	int done;
	struct db_gen_stats stats;
	char *error;
};

struct compareview {
	size_t n;
	int same_seed;
	struct compareview_col col[WORKER_MAX_COLUMNS];
	int running;	/* a run streams */
	int finished;	/* a run ended: waiting for the winner */
	int64_t run_id; /* 0 = not stored */
	int64_t prompt_id;
	double saved; /* last save, util_now() */
};

static void
compareview_free(struct compareview *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->col[i].name);
		free(c->col[i].diff);
		free(c->col[i].error);
		params_release(&c->col[i].params);
		transcript_free(c->col[i].tr);
		sbuf_release(&c->col[i].out);
	}
	free(c);
}

void
compareview_close(struct tui *t)
{
	if (t->cmp == NULL || t->cmp->running)
		return;
	compareview_free(t->cmp);
	t->cmp = NULL;
}

/* Add a column named NAME with parameters P (copied). */
static void
compareview_add(
    struct compareview *c, const char *name, const struct gen_params *p)
{
	struct compareview_col *col = &c->col[c->n++];

	col->name = xstrdup(name);
	params_init(&col->params);
	params_copy(&col->params, p);
	col->tr = transcript_new();
	sbuf_init(&col->out);
	col->stats.finish = DB_FINISH_NONE;
}

/* Fill each column's diff: the parameters that differ between columns. */
static void
compareview_diffs(struct compareview *c)
{
	const struct gen_params *p[WORKER_MAX_COLUMNS];
	struct sbuf d[WORKER_MAX_COLUMNS];
	const char *skip[] = { "seed", "system", NULL };
	size_t i;

	for (i = 0; i < c->n; i++) {
		p[i] = &c->col[i].params;
		sbuf_init(&d[i]);
	}
	params_diff_n(p, c->n, skip, " ", d);
	for (i = 0; i < c->n; i++) {
		c->col[i].diff = xstrdup(d[i].len ? d[i].buf : "");
		sbuf_release(&d[i]);
	}
}

/* The columns of SPEC ("A,B" presets or "KEY=V1,V2") into C. */
static int
compareview_parse(
    struct tui *t, struct compareview *c, const char *spec, struct err *err)
{
	char *s = xstrdup(spec), *eq = strchr(s, '='), *item, *next;
	struct gen_params p;
	struct db_preset pr;
	int rc = 0;

	item = eq != NULL ? eq + 1 : s;
	if (eq != NULL)
		*eq = '\0';
	for (; item != NULL && rc == 0; item = next) {
		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		if (item[0] == '\0') {
			rc = err_set(err, ERR_USAGE,
			    "/compare: empty item in '%s'", spec);
		} else if (c->n == WORKER_MAX_COLUMNS) {
			rc = err_set(err, ERR_USAGE,
			    "/compare: at most %d columns", WORKER_MAX_COLUMNS);
		} else if (eq != NULL) {
			params_init(&p);
			params_copy(&p, &t->params);
			rc = params_set(&p, s, item, err);
			if (rc == 0)
				compareview_add(c, t->preset, &p);
			params_release(&p);
		} else {
			rc = db_presets_get(t->db, item, &pr, err);
			if (rc == 0) {
				compareview_add(c, item, &pr.params);
				db_presets_release(&pr);
			}
		}
	}
	if (rc == 0 && c->n < 2)
		rc = err_set(err, ERR_USAGE,
		    "/compare needs 2 to %d columns: '%s' gives %zu",
		    WORKER_MAX_COLUMNS, spec, c->n);
	free(s);
	return rc;
}

void
compareview_command(struct tui *t, const char *args)
{
	struct err err;
	const char *spec = args;
	int same = 0;

	while (*spec == ' ')
		spec++;
	if (strncmp(spec, "--same-seed", 11) == 0 &&
	    (spec[11] == ' ' || spec[11] == '\0')) {
		same = 1;
		spec += 11;
		while (*spec == ' ')
			spec++;
	}
	if (t->cmp != NULL && t->cmp->running) {
		tui_notice(t, 1, "a compare run is streaming: Ctrl-C stops it");
		return;
	}
	if (strcmp(spec, "off") == 0 || spec[0] == '\0') {
		if (t->cmp == NULL && spec[0] == '\0')
			tui_notice(t, 1,
			    "usage: /compare [--same-seed] PRESET,PRESET,... "
			    "or /compare [--same-seed] KEY=V1,V2,...");
		compareview_close(t);
		return;
	}
	if (compareview_open(t, spec, same, &err) < 0)
		tui_notice(t, 1, "%s", err.msg);
}

int
compareview_open(
    struct tui *t, const char *spec, int same_seed, struct err *err)
{
	struct compareview *c;

	if (t->cmp != NULL && t->cmp->running)
		return err_set(err, ERR_USAGE,
		    "a compare run is streaming: Ctrl-C stops it");
	c = xcalloc(1, sizeof(*c));
	c->same_seed = same_seed;
	if (compareview_parse(t, c, spec, err) < 0) {
		compareview_free(c);
		return -1;
	}
	compareview_diffs(c);
	compareview_close(t);
	t->cmp = c;
	tui_notice(t, 0,
	    "compare mode: %zu columns; the next prompt goes to all of them "
	    "(Esc or /compare off leaves)",
	    c->n);
	return 0;
}

/* A seed for column P when its parameters ask for a random one. */
static uint64_t
compareview_seed(const struct gen_params *p)
{
	uint64_t s = 0;

	if (p->seed != 0)
		return p->seed;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)util_wall_ms() * 0x9e3779b97f4a7c15ull ^
		    (uint64_t)getpid();
	return s != 0 ? s : 1;
}

/* Store the run with empty columns; 0 or a negative error. */
static int
compareview_store(struct tui *t, const char *prompt, struct err *err)
{
	struct compareview *c = t->cmp;
	struct db_compare_run run;
	size_t i;
	int rc;

	db_compare_init(&run);
	db_compare_columns(&run, c->n);
	run.session_id = t->session;
	run.prompt = xstrdup(prompt);
	if (t->params.system_prompt != NULL && t->params.system_prompt[0])
		run.system_prompt = xstrdup(t->params.system_prompt);
	run.model = t->model;
	for (i = 0; i < c->n; i++) {
		free(run.columns[i].preset);
		run.columns[i].preset = xstrdup(c->col[i].name);
		params_release(&run.columns[i].params);
		params_copy(&run.columns[i].params, &c->col[i].params);
		run.columns[i].params.seed = c->col[i].seed;
		run.columns[i].seed = c->col[i].seed;
	}
	rc = db_compare_create(t->db, &run, &c->run_id, err);
	/* The model is t's, borrowed: not released with the run. */
	memset(&run.model, 0, sizeof(run.model));
	db_compare_release(&run);
	return rc;
}

void
compareview_send(struct tui *t, const char *text)
{
	struct compareview *c = t->cmp;
	struct worker_gen_request req;
	struct chat_turn *turns;
	struct err err;
	size_t i, k = 0;
	uint64_t seed0;

	if (c->running) {
		tui_notice(t, 1, "a compare run is streaming: Ctrl-C stops it");
		prompt_set(t, text);
		return;
	}
	if (c->finished) {
		tui_notice(t, 1,
		    "pick the winner first (1-%zu), or Esc to leave compare "
		    "mode",
		    c->n);
		prompt_set(t, text);
		return;
	}
	if (chatview_start_prompt(t, text, &c->prompt_id) < 0)
		return;
	seed0 = compareview_seed(&c->col[0].params);
	for (i = 0; i < c->n; i++)
		c->col[i].seed =
		    c->same_seed ? seed0 : compareview_seed(&c->col[i].params);
	if (compareview_store(t, text, &err) < 0) {
		tui_notice(t, 1, "cannot store the compare run: %s", err.msg);
		c->run_id = 0;
	}
	memset(&req, 0, sizeof(req));
	turns = xcalloc(t->n_conv + 1, sizeof(*turns));
	for (i = 0; i < t->n_conv; i++) {
		if (t->conv[i].role == DB_ROLE_SYSTEM)
			continue;
		turns[k].role = t->conv[i].role == DB_ROLE_USER
		    ? CHAT_USER
		    : CHAT_ASSISTANT;
		turns[k++].text = t->conv[i].text;
	}
	if (t->params.system_prompt != NULL &&
	    t->params.system_prompt[0] != '\0')
		req.system = t->params.system_prompt;
	req.turns = turns;
	req.n_turns = k;
	req.n_columns = c->n;
	req.same_seed = c->same_seed;
	for (i = 0; i < c->n; i++) {
		req.params[i] = c->col[i].params;
		req.params[i].seed = c->col[i].seed;
		req.params[i].system_prompt = NULL;
		c->col[i].tr = c->col[i].tr ? c->col[i].tr : transcript_new();
		transcript_clear(c->col[i].tr);
		transcript_add(c->col[i].tr, TRANSCRIPT_ASSISTANT, NULL, "", 0);
		sbuf_reset(&c->col[i].out);
		c->col[i].done = 0;
		free(c->col[i].error);
		c->col[i].error = NULL;
		c->col[i].stats.finish = DB_FINISH_NONE;
	}
	c->running = 1;
	c->saved = util_now();
	t->generating = 1;
	t->cancelling = 0;
	if (worker_generate(t->worker, &req, &err) < 0) {
		tui_notice(t, 1, "cannot generate: %s", err.msg);
		compareview_abort(t);
	}
	free(turns);
}

/* Column I ended with FINISH and statistics GS (NULL: unknown). */
static void
compareview_finish(struct tui *t, size_t i, enum gen_finish finish,
    const struct gen_stats *gs, const char *error)
{
	struct compareview *c = t->cmp;
	struct compareview_col *col = &c->col[i];
	struct db_gen_stats *st = &col->stats;
	struct err err;
	size_t k;

	if (col->done)
		return;
	col->done = 1;
	st->prompt_tokens = gs != NULL ? (int64_t)gs->n_prompt : -1;
	st->completion_tokens = gs != NULL ? (int64_t)gs->n_gen : -1;
	st->ttft_ms = gs != NULL ? gs->t_first * 1000 : -1;
	st->tokens_per_s = gs != NULL && gs->n_gen > 1 ? gs->gen_tps : -1;
	st->finish = chatview_finish_code(finish);
	col->error = error != NULL ? xstrdup(error) : NULL;
	transcript_finish(col->tr, 0);
	if (c->run_id > 0 &&
	    db_compare_finish(t->db, c->run_id, (int)i, col->out.buf,
		col->out.len, st, error, &err) < 0)
		tui_notice(t, 1, "saving column %zu: %s", i + 1, err.msg);
	for (k = 0; k < c->n; k++)
		if (!c->col[k].done)
			return;
	c->running = 0;
	c->finished = 1;
	t->generating = t->cancelling = t->prefilling = 0;
	tui_hint(t, "pick the winner with 1-%zu (Esc: none)", c->n);
}

void
compareview_abort(struct tui *t)
{
	size_t i;

	if (t->cmp == NULL || !t->cmp->running)
		return;
	for (i = 0; i < t->cmp->n; i++)
		compareview_finish(t, i, GEN_FINISH_CANCELLED, NULL, NULL);
}

/* Write the streaming columns to the database. */
static void
compareview_save(struct tui *t)
{
	struct compareview *c = t->cmp;
	struct err err;
	size_t i;

	c->saved = util_now();
	for (i = 0; i < c->n && c->run_id > 0; i++)
		if (!c->col[i].done &&
		    db_compare_set_output(t->db, c->run_id, (int)i,
			c->col[i].out.buf, c->col[i].out.len, &err) < 0) {
			tui_notice(t, 1, "saving the run: %s", err.msg);
			return;
		}
}

int
compareview_event(struct tui *t, const struct worker_event *ev)
{
	struct compareview *c = t->cmp;
	size_t i;

	if (c == NULL || !c->running)
		return 0;
	switch (ev->type) {
	case WORKER_EV_TOKEN:
		t->prefilling = 0;
		if (ev->column < 0 || (size_t)ev->column >= c->n)
			return 1;
		i = (size_t)ev->column;
		transcript_append(c->col[i].tr, 0, ev->text, ev->len);
		sbuf_add(&c->col[i].out, ev->text, ev->len);
		if (util_now() - c->saved >= CMP_SAVE_EVERY)
			compareview_save(t);
		return 1;
	case WORKER_EV_DONE:
		if (ev->column >= 0 && (size_t)ev->column < c->n)
			compareview_finish(t, (size_t)ev->column,
			    ev->stats.finish, &ev->stats,
			    ev->stats.finish == GEN_FINISH_ERROR ? ev->err.msg
								 : NULL);
		return 1;
	case WORKER_EV_ERROR:
		tui_notice(t, 1, "compare run failed: %s", ev->err.msg);
		for (i = 0; i < c->n; i++)
			compareview_finish(
			    t, i, GEN_FINISH_ERROR, NULL, ev->err.msg);
		return 1;
	default:
		return 0;
	}
}

/* Column W wins: every column becomes a reply, the winner the shown one. */
static void
compareview_pick(struct tui *t, size_t w)
{
	struct compareview *c = t->cmp;
	struct db_message m;
	struct err err;
	int64_t id = 0;
	size_t i, k, entry;

	/* The winner last: the newest message becomes the leaf. */
	for (k = 0; k < c->n; k++) {
		i = k == c->n - 1 ? w : (k < w ? k : k + 1);
		db_messages_init(&m);
		m.session_id = t->session;
		m.parent_id = c->prompt_id;
		m.role = DB_ROLE_ASSISTANT;
		m.content = c->col[i].out.buf ? c->col[i].out.buf : (char *)"";
		m.preset = c->col[i].name;
		m.has_params = 1;
		m.params = c->col[i].params;
		m.params.seed = c->col[i].seed;
		m.params.system_prompt = t->params.system_prompt;
		m.seed = c->col[i].seed;
		m.model = t->model;
		m.stats = c->col[i].stats;
		m.error = c->col[i].error;
		if (db_messages_add(t->db, &m, &id, &err) < 0) {
			tui_notice(
			    t, 1, "storing column %zu: %s", i + 1, err.msg);
			id = 0;
		}
	}
	if (c->run_id > 0 &&
	    db_compare_set_winner(t->db, c->run_id, (int)w, &err) < 0)
		tui_notice(t, 1, "recording the winner: %s", err.msg);
	entry = chatview_add_reply(t,
	    c->col[w].out.buf ? c->col[w].out.buf : "", c->col[w].out.len, id);
	transcript_set_label(t->tr, entry, c->col[w].name);
	tui_notice(t, 0,
	    "column %zu (%s) is the answer; the other %zu are kept as "
	    "branches",
	    w + 1, c->col[w].name, c->n - 1);
	compareview_close(t);
}

int
compareview_key(struct tui *t, const struct keys_event *ev)
{
	struct compareview *c = t->cmp;
	size_t i;

	if (c == NULL)
		return 0;
	if (ev->code == KEYS_ALT && ev->cp >= '1' && ev->cp <= '8') {
		i = (size_t)(ev->cp - '1');
		if (c->running && i < c->n && !c->col[i].done)
			worker_cancel(t->worker, (int)i);
		return 1;
	}
	if (ev->code == KEYS_ESC && !c->running && !c->finished &&
	    prompt_empty()) {
		tui_notice(t, 0, "left compare mode");
		compareview_close(t);
		return 1;
	}
	if (!c->finished || !prompt_empty())
		return 0;
	if (ev->code == KEYS_CHAR && ev->cp >= '1' &&
	    ev->cp < '1' + (uint32_t)c->n) {
		compareview_pick(t, (size_t)(ev->cp - '1'));
		return 1;
	}
	if (ev->code == KEYS_ESC) {
		tui_notice(t, 0, "compare run kept without a winner");
		compareview_close(t);
		return 1;
	}
	return 0;
}

/* The finish line of a column: speed and how it ended. */
static void
compareview_meta(const struct compareview_col *col, struct sbuf *sb)
{
	const struct db_gen_stats *st = &col->stats;

	if (!col->done) {
		sbuf_addf(sb, "generating, %zu bytes", col->out.len);
		return;
	}
	if (st->tokens_per_s > 0)
		sbuf_addf(sb, "%.1f tok/s ", st->tokens_per_s);
	switch (st->finish) {
	case DB_FINISH_STOP:
		sbuf_adds(sb, "[stop]");
		break;
	case DB_FINISH_LENGTH:
		sbuf_adds(sb, "[length]");
		break;
	case DB_FINISH_CANCELLED:
		sbuf_adds(sb, "[stopped]");
		break;
	case DB_FINISH_ERROR:
		sbuf_addf(sb, "[error: %s]", col->error ? col->error : "?");
		break;
	default:
		break;
	}
}

void
compareview_draw(struct tui *t, int y, int h)
{
	struct compareview *c = t->cmp;
	struct sbuf sb, fit;
	int w, x, i, hattr = screen_attr(SCREEN_STATUS);

	w = (t->cols - (int)c->n + 1) / (int)c->n;
	if (w < COMPAREVIEW_MIN_WIDTH || h < 4) {
		sbuf_init(&sb);
		sbuf_addf(&sb,
		    "compare: %zu columns need %d columns and 4 rows of "
		    "terminal; this one has %dx%d: widen it or use fewer "
		    "columns",
		    c->n, (int)c->n * (COMPAREVIEW_MIN_WIDTH + 1), t->cols, h);
		sbuf_init(&fit);
		text_fit(&fit, sb.buf, t->cols);
		screen_put(y, 0, fit.buf, fit.len, t->cols, A_BOLD);
		sbuf_release(&fit);
		sbuf_release(&sb);
		return;
	}
	sbuf_init(&sb);
	sbuf_init(&fit);
	for (i = 0; i < (int)c->n; i++) {
		struct compareview_col *col = &c->col[i];

		x = i * (w + 1);
		sbuf_reset(&sb);
		sbuf_addf(&sb, "%d %s", i + 1, col->name);
		if (col->diff[0] != '\0')
			sbuf_addf(&sb, " %s", col->diff);
		sbuf_reset(&fit);
		text_fit(&fit, sb.buf, w);
		screen_fill(y, x, w, hattr);
		screen_put(y, x, fit.buf, fit.len, w, hattr);
		screen_transcript(col->tr, y + 1, x, h - 2, w);
		sbuf_reset(&sb);
		compareview_meta(col, &sb);
		sbuf_reset(&fit);
		text_fit(&fit, sb.buf, w);
		screen_put(y + h - 1, x, fit.buf, fit.len, w, A_DIM);
		if (i > 0) {
			int r;

			for (r = 0; r < h; r++)
				screen_put(y + r, x - 1,
				    t->utf8 ? "\xe2\x94\x82" : "|",
				    t->utf8 ? 3 : 1, 1, A_DIM);
		}
	}
	sbuf_release(&fit);
	sbuf_release(&sb);
}
