/*
 * comparemode: compare mode in the chat screen.
 *
 * State lives in struct comparemode (t->cmp, NULL outside compare mode).
 * Sending stores the prompt as a user message and the run (db-compare)
 * with empty, partial columns, then asks the worker for all columns in
 * one request; t->generating is set so Ctrl-C, Esc and quitting stop the
 * run like an answer.  TOKEN events go to the column's own transcript
 * (drawn with screen_transcript) and to the run, saved at most once a
 * second; each DONE, posted the moment its column ends (a limit, a stop,
 * Alt-N), finishes that column at once: its finish reason and speed are
 * shown and stored while the others stream on.  Picking the winner adds
 * every column as an assistant message under the prompt, the winner last
 * so it becomes the session's leaf, records the winner, and leaves the
 * mode.
 *
 * A stored run (comparemode_reopen) fills the same struct from
 * db_compare_get with "stored" set: every column done, nothing sent to
 * the worker, nothing written unless the user picks the winner of a run
 * that has none.  Then, if the run's prompt message is still where the
 * conversation ends, the pick works as it does live; if the conversation
 * went on after it (or the run has no prompt message, as with "vkchat
 * compare --save"), only the run's winner is recorded, so the shown
 * branch never jumps back behind the user's later messages.
 *
 * Saving a column as a preset (comparestate.h's question, drawn in place of
 * the prompt line) stores the column's settings with the run's system
 * prompt and, unless Tab said otherwise, the seed its text came from, so
 * the preset reproduces the column.
 */
#include "comparemode.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/db-compare.h"
#include "storage/db-messages.h"
#include "storage/db-presets.h"
#include "chatlog.h"
#include "cmd-gen.h"
#include "comparestate.h"
#include "prompt.h"
#include "screen.h"
#include "text.h"
#include "tokmap.h"
#include "util.h"

/* How often a streaming column is written to the database, in seconds. */
#define CMP_SAVE_EVERY 1.0
/* The most bytes of a run's prompt in the title line. */
#define CMP_TITLE_PROMPT 32

struct comparemode_col {
	char *name;		  /* preset name */
	char *diff;		  /* the settings that differ, or "" */
	struct gen_params params; /* system_prompt unused */
	uint64_t seed;		  /* the seed its text came from */
	struct transcript *tr;
	struct sbuf out;
	int done;
	int stopping; /* Alt-N stopped it; its DONE follows within a token */
	int partial;  /* stored: the column never finished */
	int to_top;   /* stored: show the text from its start when drawn */
	struct db_gen_stats stats;
	char *error;
	struct steps steps; /* the sampler's records of the live run */
};

struct comparemode {
	size_t n;
	int same_seed;
	struct comparemode_col col[WORKER_MAX_COLUMNS];
	int running;	       /* a run streams */
	int finished;	       /* a run ended: waiting for the winner */
	int stored;	       /* a run reopened from the database: read-only */
	int winner;	       /* stored: the run's winner, -1 = none */
	size_t pos, count;     /* stored: run POS (1-based) of COUNT */
	char *prompt;	       /* the run's prompt, once sent or stored */
	char *system;	       /* the run's system prompt; NULL = none */
	struct db_model model; /* stored: the run's model */
	int64_t run_id;	       /* 0 = not stored */
	int64_t prompt_id;
	double saved; /* last save, util_now() */
	struct comparestate_ask ask;
};

static void
comparemode_free(struct comparemode *c)
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
		steps_release(&c->col[i].steps);
	}
	free(c->prompt);
	free(c->system);
	db_model_release(&c->model);
	comparestate_ask_release(&c->ask);
	free(c);
}

void
comparemode_close(struct tui *t)
{
	if (t->cmp == NULL || t->cmp->running)
		return;
	comparemode_free(t->cmp);
	t->cmp = NULL;
}

/* A new, empty view. */
static struct comparemode *
comparemode_new(void)
{
	struct comparemode *c = xcalloc(1, sizeof(*c));

	c->winner = -1;
	comparestate_ask_init(&c->ask);
	return c;
}

/* Add a column named NAME with parameters P (copied). */
static struct comparemode_col *
comparemode_add(
    struct comparemode *c, const char *name, const struct gen_params *p)
{
	struct comparemode_col *col = &c->col[c->n++];

	col->name = xstrdup(name);
	params_init(&col->params);
	params_copy(&col->params, p);
	col->tr = transcript_new();
	sbuf_init(&col->out);
	col->stats.finish = DB_FINISH_NONE;
	return col;
}

/* Fill each column's diff: the parameters that differ between columns. */
static void
comparemode_diffs(struct comparemode *c)
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
		free(c->col[i].diff);
		c->col[i].diff = xstrdup(d[i].len ? d[i].buf : "");
		sbuf_release(&d[i]);
	}
}

/* The columns of SPEC ("A,B" presets or "KEY=V1,V2") into C. */
static int
comparemode_parse(
    struct tui *t, struct comparemode *c, const char *spec, struct err *err)
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
			params_copy(&p, &t->conv.params);
			rc = params_set_typed(&p, s, item, err);
			if (rc == 0)
				comparemode_add(c, t->conv.preset, &p);
			params_release(&p);
		} else {
			rc = db_presets_get(t->db, item, &pr, err);
			if (rc == 0) {
				comparemode_add(c, item, &pr.params);
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
comparemode_command(struct tui *t, const char *args)
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
		comparemode_close(t);
		return;
	}
	if (comparemode_open(t, spec, same, &err) < 0)
		tui_notice(t, 1, "%s", err.msg);
}

int
comparemode_open(
    struct tui *t, const char *spec, int same_seed, struct err *err)
{
	struct comparemode *c;

	if (t->cmp != NULL && t->cmp->running)
		return err_set(err, ERR_USAGE,
		    "a compare run is streaming: Ctrl-C stops it");
	c = comparemode_new();
	c->same_seed = same_seed;
	if (comparemode_parse(t, c, spec, err) < 0) {
		comparemode_free(c);
		return -1;
	}
	comparemode_diffs(c);
	comparemode_close(t);
	t->cmp = c;
	tui_notice(t, 0,
	    "compare mode: %zu columns; the next prompt goes to all of them "
	    "(Esc or /compare off leaves)",
	    c->n);
	return 0;
}

/* Store the run with empty columns; 0 or a negative error. */
static int
comparemode_store(struct tui *t, const char *prompt, struct err *err)
{
	struct comparemode *c = t->cmp;
	struct db_compare_run run;
	size_t i;
	int rc;

	db_compare_init(&run);
	db_compare_columns(&run, c->n);
	run.session_id = t->conv.session;
	run.prompt = xstrdup(prompt);
	if (t->conv.params.system_prompt != NULL &&
	    t->conv.params.system_prompt[0])
		run.system_prompt = xstrdup(t->conv.params.system_prompt);
	run.model = t->conv.model;
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

int
comparemode_set(struct tui *t, const char *list, struct err *err)
{
	struct comparemode *c = t->cmp;
	struct gen_params p[WORKER_MAX_COLUMNS];
	size_t i, j;
	int rc = 0;

	if (c == NULL || c->stored)
		return 0;
	/* all columns or none: each is tried on a copy first */
	for (i = 0; i < c->n && rc == 0; i++) {
		params_copy(&p[i], &c->col[i].params);
		if ((rc = params_set_list(&p[i], list, err)) < 0)
			params_release(&p[i]);
	}
	if (rc < 0) {
		for (j = 0; j + 1 < i; j++)
			params_release(&p[j]);
		return rc;
	}
	for (i = 0; i < c->n; i++) {
		params_release(&c->col[i].params);
		c->col[i].params = p[i];
	}
	comparemode_diffs(c);
	return (int)c->n;
}

int
comparemode_accept(struct tui *t, const char *text)
{
	struct comparemode *c = t->cmp;

	if (c == NULL)
		return 0;
	if (c->stored) {
		/* A stored run is only looked at: the prompt goes to the chat. */
		tui_notice(t, 0, "closed stored compare run %lld",
		    (long long)c->run_id);
		comparemode_close(t);
		return 0;
	}
	if (c->running) {
		tui_notice(t, 1, "a compare run is streaming: Ctrl-C stops it");
		prompt_set(t, text);
		return -1;
	}
	if (c->finished) {
		tui_notice(t, 1,
		    "pick the winner first (1-%zu), or Esc to leave compare "
		    "mode",
		    c->n);
		prompt_set(t, text);
		return -1;
	}
	return 1;
}

void
comparemode_send(struct tui *t, const char *text, int64_t prompt_id)
{
	struct comparemode *c = t->cmp;
	struct worker_gen_request req;
	struct err err;
	size_t i;
	uint64_t seed0;

	c->prompt_id = prompt_id;
	seed0 = conv_draw_seed(&c->col[0].params);
	for (i = 0; i < c->n; i++)
		c->col[i].seed =
		    c->same_seed ? seed0 : conv_draw_seed(&c->col[i].params);
	free(c->prompt);
	c->prompt = xstrdup(text);
	free(c->system);
	c->system = t->conv.params.system_prompt != NULL &&
		t->conv.params.system_prompt[0] != '\0'
	    ? xstrdup(t->conv.params.system_prompt)
	    : NULL;
	if (comparemode_store(t, text, &err) < 0) {
		tui_notice(t, 1, "cannot store the compare run: %s", err.msg);
		c->run_id = 0;
	}
	chatlog_request(t, &req);
	req.n_columns = c->n;
	req.probs_top = COMPAREMODE_PROBS_TOP;
	req.same_seed = c->same_seed;
	for (i = 0; i < c->n; i++) {
		req.params[i] = c->col[i].params;
		req.params[i].seed = c->col[i].seed;
		req.params[i].max_tokens = conv_answer_limit(&c->col[i].params);
		req.params[i].system_prompt = NULL;
		steps_release(&c->col[i].steps);
		c->col[i].steps.label = xasprintf("column %zu: %s", i + 1,
		    c->col[i].diff != NULL && c->col[i].diff[0] != '\0'
			? c->col[i].diff
			: c->col[i].name);
		c->col[i].tr = c->col[i].tr ? c->col[i].tr : transcript_new();
		transcript_clear(c->col[i].tr);
		transcript_add(c->col[i].tr, TRANSCRIPT_ASSISTANT, NULL, "", 0);
		sbuf_reset(&c->col[i].out);
		c->col[i].done = c->col[i].stopping = 0;
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
		comparemode_abort(t);
	}
	free((void *)req.turns);
}

/* Column I ended with FINISH and statistics GS (NULL: unknown). */
static void
comparemode_finish(struct tui *t, size_t i, enum gen_finish finish,
    const struct gen_stats *gs, const char *error)
{
	struct comparemode *c = t->cmp;
	struct comparemode_col *col = &c->col[i];
	struct db_gen_stats *st = &col->stats;
	struct err err;
	size_t k;

	if (col->done)
		return;
	col->done = 1;
	conv_stats(st, gs, finish);
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
	tui_hint(t,
	    "pick the winner with 1-%zu (Esc: none); s saves a column as a "
	    "preset",
	    c->n);
}

void
comparemode_abort(struct tui *t)
{
	size_t i;

	if (t->cmp == NULL || !t->cmp->running)
		return;
	for (i = 0; i < t->cmp->n; i++)
		comparemode_finish(t, i, GEN_FINISH_CANCELLED, NULL, NULL);
}

/* Write the streaming columns to the database. */
static void
comparemode_save(struct tui *t)
{
	struct comparemode *c = t->cmp;
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
comparemode_event(struct tui *t, const struct worker_event *ev)
{
	struct comparemode *c = t->cmp;
	size_t i;

	if (c == NULL || !c->running)
		return 0;
	switch (ev->type) {
	case WORKER_EV_STEP:
		if (ev->column >= 0 && (size_t)ev->column < c->n &&
		    ev->step != NULL)
			steps_push(&c->col[ev->column].steps, ev->step);
		return 1;
	case WORKER_EV_TOKEN:
		t->prefilling = 0;
		if (ev->column < 0 || (size_t)ev->column >= c->n)
			return 1;
		i = (size_t)ev->column;
		transcript_append(c->col[i].tr, 0, ev->text, ev->len);
		sbuf_add(&c->col[i].out, ev->text, ev->len);
		if (util_now() - c->saved >= CMP_SAVE_EVERY)
			comparemode_save(t);
		return 1;
	case WORKER_EV_DONE:
		if (ev->column >= 0 && (size_t)ev->column < c->n)
			comparemode_finish(t, (size_t)ev->column,
			    ev->stats.finish, &ev->stats,
			    ev->stats.finish == GEN_FINISH_ERROR ? ev->err.msg
								 : NULL);
		return 1;
	case WORKER_EV_ERROR:
		tui_notice(t, 1, "compare run failed: %s", ev->err.msg);
		for (i = 0; i < c->n; i++)
			comparemode_finish(
			    t, i, GEN_FINISH_ERROR, NULL, ev->err.msg);
		return 1;
	default:
		return 0;
	}
}

/*
 * Column W wins: every column becomes an assistant message under the
 * prompt (the winner last, so it becomes the leaf) and the winner is
 * shown as the conversation's answer.  MODEL made the columns.
 */
static void
comparemode_answers(struct tui *t, size_t w, const struct db_model *model)
{
	struct comparemode *c = t->cmp;
	struct db_message m;
	struct err err;
	int64_t id = 0;
	size_t i, k, entry;

	for (k = 0; k < c->n; k++) {
		i = k == c->n - 1 ? w : (k < w ? k : k + 1);
		/* Borrowed pointers: m is not released. */
		db_messages_init(&m);
		m.session_id = t->conv.session;
		m.parent_id = c->prompt_id;
		m.role = DB_ROLE_ASSISTANT;
		m.content = c->col[i].out.buf ? c->col[i].out.buf : (char *)"";
		m.partial = c->col[i].partial;
		m.preset = c->col[i].name;
		m.has_params = 1;
		m.params = c->col[i].params;
		m.params.seed = c->col[i].seed;
		m.params.system_prompt = c->system;
		m.seed = c->col[i].seed;
		m.model = *model;
		m.stats = c->col[i].stats;
		m.error = c->col[i].error;
		if (db_messages_add(t->db, &m, &id, &err) < 0) {
			tui_notice(
			    t, 1, "storing column %zu: %s", i + 1, err.msg);
			id = 0;
		}
		if (c->col[i].steps.n > 0) {
			c->col[i].steps.id = id;
			steps_keep(&t->kept, &c->col[i].steps);
		}
	}
	entry = chatlog_add_reply(t, c->col[w].out.buf ? c->col[w].out.buf : "",
	    c->col[w].out.len, id);
	transcript_set_label(t->tr, entry, c->col[w].name);
}

/* Record column W as the run's winner; 0, or -1 after a notice. */
static int
comparemode_set_winner(struct tui *t, size_t w)
{
	struct comparemode *c = t->cmp;
	struct err err;

	if (c->run_id > 0 &&
	    db_compare_set_winner(t->db, c->run_id, (int)w, &err) < 0) {
		tui_notice(t, 1, "recording the winner: %s", err.msg);
		return -1;
	}
	return 0;
}

/* What happens to the other columns of N, for the notice. */
static const char *
comparemode_others(size_t n)
{
	static char buf[64];

	if (n == 2)
		return "the other column is kept as a branch";
	snprintf(buf, sizeof(buf), "the other %zu are kept as branches", n - 1);
	return buf;
}

/* Column W of the run that just streamed wins. */
static void
comparemode_pick(struct tui *t, size_t w)
{
	struct comparemode *c = t->cmp;

	comparemode_answers(t, w, &t->conv.model);
	comparemode_set_winner(t, w);
	tui_notice(t, 0, "column %zu (%s) is the answer; %s", w + 1,
	    c->col[w].name, comparemode_others(c->n));
	comparemode_close(t);
}

/*
 * Column W of a stored run without a winner wins: as live when the
 * run's prompt still ends the conversation, else only recorded.
 */
static void
comparemode_pick_stored(struct tui *t, size_t w)
{
	struct comparemode *c = t->cmp;
	struct db_compare_run r;
	struct err err;
	int64_t prompt = 0;
	int rc;

	if (c->winner >= 0) {
		tui_hint(t,
		    "column %d is the winner of run %lld already: a run's "
		    "winner is picked once",
		    c->winner + 1, (long long)c->run_id);
		return;
	}
	if (t->generating) {
		tui_hint(t, "stop the answer first (Ctrl-C)");
		return;
	}
	rc = db_compare_get(t->db, c->run_id, &r, &err);
	if (rc == 0)
		rc = db_compare_prompt_message(t->db, &r, &prompt, &err);
	db_compare_release(&r);
	if (rc < 0 && rc != ERR_NOTFOUND) {
		tui_notice(t, 1, "%s", err.msg);
		return;
	}
	/* The view's run is always of the session shown (see reopen). */
	if (rc == 0 && prompt == t->conv.leaf) {
		c->prompt_id = prompt;
		comparemode_answers(t, w, &c->model);
		if (comparemode_set_winner(t, w) == 0)
			tui_notice(t, 0,
			    "column %zu (%s) of run %lld is the answer; %s",
			    w + 1, c->col[w].name, (long long)c->run_id,
			    comparemode_others(c->n));
		comparemode_close(t);
		return;
	}
	if (comparemode_set_winner(t, w) < 0)
		return;
	c->winner = (int)w;
	tui_notice(t, 0,
	    "column %zu (%s) is the winner of run %lld; the columns are not "
	    "added as answers: %s",
	    w + 1, c->col[w].name, (long long)c->run_id,
	    rc == 0 ? "the conversation went on after that prompt"
		    : "the run has no prompt message in this session");
}

/* Column COL of stored column D. */
static void
comparemode_fill(struct comparemode_col *col, const struct db_compare_column *d)
{
	col->seed = d->seed;
	col->done = 1;
	col->partial = d->partial;
	col->stats = d->stats;
	col->error = d->error != NULL ? xstrdup(d->error) : NULL;
	sbuf_adds(&col->out, d->output != NULL ? d->output : "");
	transcript_add(
	    col->tr, TRANSCRIPT_ASSISTANT, NULL, col->out.buf, col->out.len);
	transcript_finish(col->tr, 0);
	/* A stored text is read from its start (once laid out). */
	col->to_top = 1;
}

/* The run ids of LIST (N runs), as "1, 4, 7", into SB. */
static void
comparemode_ids(struct sbuf *sb, const struct db_compare_run *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sbuf_addf(sb, "%s%lld", i ? ", " : "", (long long)list[i].id);
}

int
comparemode_reopen(struct tui *t, int64_t id, struct err *err)
{
	struct db_compare_run *list = NULL, *r;
	struct comparemode *c;
	struct sbuf ids;
	size_t n = 0, k, i;
	int rc;

	if (t->generating)
		return err_set(err, ERR_USAGE,
		    "%s is being generated: stop it first (Ctrl-C)",
		    t->cmp != NULL && t->cmp->running ? "a compare run"
						      : "an answer");
	if (t->conv.session == 0)
		return err_set(err, ERR_NOTFOUND,
		    "no compare runs: this chat has no session yet (send a "
		    "prompt, or open one with Ctrl-O)");
	if ((rc = db_compare_list(t->db, t->conv.session, &list, &n, err)) < 0)
		return rc;
	if (n == 0) {
		free(list);
		return err_set(err, ERR_NOTFOUND,
		    "session %lld has no compare runs (/compare makes one)",
		    (long long)t->conv.session);
	}
	k = n - 1;
	if (id != 0) {
		for (k = 0; k < n && list[k].id != id; k++)
			;
		if (k == n) {
			sbuf_init(&ids);
			comparemode_ids(&ids, list, n);
			rc = err_set(err, ERR_NOTFOUND,
			    "session %lld has no compare run %lld; its runs: "
			    "%s",
			    (long long)t->conv.session, (long long)id, ids.buf);
			sbuf_release(&ids);
			db_compare_free(list, n);
			return rc;
		}
	}
	r = &list[k];
	if (r->n_columns < 1 || r->n_columns > WORKER_MAX_COLUMNS) {
		rc = err_set(err, ERR_FORMAT,
		    "compare run %lld has %zu columns: 1 to %d can be shown",
		    (long long)r->id, r->n_columns, WORKER_MAX_COLUMNS);
		db_compare_free(list, n);
		return rc;
	}
	c = comparemode_new();
	c->stored = 1;
	c->winner = r->winner;
	c->pos = k + 1;
	c->count = n;
	c->run_id = r->id;
	c->prompt = xstrdup(r->prompt != NULL ? r->prompt : "");
	c->system = r->system_prompt != NULL ? xstrdup(r->system_prompt) : NULL;
	c->model = r->model;
	memset(&r->model, 0, sizeof(r->model));
	for (i = 0; i < r->n_columns; i++)
		comparemode_fill(comparemode_add(c, r->columns[i].preset,
				     &r->columns[i].params),
		    &r->columns[i]);
	comparemode_diffs(c);
	db_compare_free(list, n);
	comparemode_close(t);
	t->cmp = c;
	tui_notice(t, 0,
	    "compare run %lld of session %lld (%zu of %zu), read-only: Esc "
	    "closes it",
	    (long long)c->run_id, (long long)t->conv.session, c->pos, c->count);
	return 0;
}

void
comparemode_runs(struct tui *t, const char *args)
{
	struct err err;
	int64_t id;

	if (comparestate_runs_arg(args, &id, &err) < 0 ||
	    comparemode_reopen(t, id, &err) < 0)
		tui_notice(t, 1, "%s", err.msg);
}

/* Show the stored run DIR places after this one (-1: the one before). */
static void
comparemode_step(struct tui *t, int dir)
{
	struct db_compare_run *list = NULL;
	struct err err;
	size_t n = 0, k;
	int64_t id;

	if (db_compare_list(t->db, t->conv.session, &list, &n, &err) < 0) {
		tui_notice(t, 1, "%s", err.msg);
		return;
	}
	for (k = 0; k < n && list[k].id != t->cmp->run_id; k++)
		;
	if (k == n || (dir < 0 && k == 0) || (dir > 0 && k + 1 >= n)) {
		tui_hint(t, "this is the %s compare run of the session",
		    dir < 0 ? "first" : "last");
		db_compare_free(list, n);
		return;
	}
	id = list[dir < 0 ? k - 1 : k + 1].id;
	db_compare_free(list, n);
	if (comparemode_reopen(t, id, &err) < 0)
		tui_notice(t, 1, "%s", err.msg);
}

/* Save the asked column as the preset named; REPLACE: over a user one. */
static void
comparemode_preset_save(struct tui *t, int replace)
{
	struct comparemode *c = t->cmp;
	struct comparemode_col *col = &c->col[c->ask.col];
	const char *name = c->ask.name.text.buf;
	struct gen_params p;
	struct db_preset old;
	struct sbuf desc, diff;
	struct err err;
	int rc, builtin;

	if (db_name_check("preset", name, &err) < 0) {
		tui_hint(t, "%s", err.msg);
		comparestate_ask_rename(&c->ask);
		return;
	}
	if (!replace) {
		rc = db_presets_get(t->db, name, &old, &err);
		builtin = old.builtin;
		db_presets_release(&old);
		if (rc == 0 && builtin) {
			tui_hint(t,
			    "'%s' is a built-in preset and read-only: choose "
			    "another name",
			    name);
			return;
		}
		if (rc == 0) {
			comparestate_ask_confirm(&c->ask);
			return;
		}
		if (rc != ERR_NOTFOUND) {
			tui_hint(t, "%s", err.msg);
			return;
		}
	}
	comparestate_preset_params(
	    &p, &col->params, col->seed, c->ask.keep_seed, c->system);
	sbuf_init(&desc);
	sbuf_addf(&desc, "column %zu of compare run %lld: %s%s%s",
	    c->ask.col + 1, (long long)c->run_id, col->name,
	    col->diff[0] ? " " : "", col->diff);
	rc = replace ? db_presets_update(t->db, name, desc.buf, &p, &err)
		     : db_presets_add(t->db, name, desc.buf, &p, &err);
	if (rc == ERR_EXISTS && !replace) {
		/* Someone else took the name meanwhile. */
		comparestate_ask_confirm(&c->ask);
	} else if (rc < 0) {
		tui_hint(t, "%s", err.msg);
		comparestate_ask_rename(&c->ask);
	} else {
		sbuf_init(&diff);
		if (params_diff(&p, NULL, " ", &diff) == 0)
			sbuf_adds(&diff, "the defaults");
		tui_notice(t, 0,
		    "%s column %zu as preset '%s' (%s): /preset %s uses it",
		    replace ? "replaced: saved" : "saved", c->ask.col + 1, name,
		    diff.buf, name);
		sbuf_release(&diff);
		comparestate_ask_stop(&c->ask);
	}
	sbuf_release(&desc);
	params_release(&p);
}

/* A key while the save-as-preset question is open. */
static void
comparemode_ask_key(struct tui *t, const struct keys_event *ev)
{
	switch (comparestate_ask_key(&t->cmp->ask, ev)) {
	case COMPARESTATE_SAVE:
		comparemode_preset_save(t, 0);
		break;
	case COMPARESTATE_REPLACE:
		comparemode_preset_save(t, 1);
		break;
	case COMPARESTATE_CANCELLED:
		tui_hint(t, "no preset saved");
		break;
	case COMPARESTATE_NONE:
		break;
	}
}

int
comparemode_interrupt(struct tui *t)
{
	if (t->cmp == NULL || t->cmp->ask.step == COMPARESTATE_IDLE)
		return 0;
	comparestate_ask_stop(&t->cmp->ask);
	tui_hint(t, "no preset saved");
	return 1;
}

int
comparemode_ask_line(
    struct tui *t, int width, struct sbuf *out, size_t *plen, int *ccol)
{
	struct comparemode *c = t->cmp;

	if (c == NULL || c->ask.step == COMPARESTATE_IDLE)
		return 0;
	comparestate_ask_view(
	    &c->ask, c->col[c->ask.col].seed, width, out, plen, ccol);
	return 1;
}

/* PgUp, PgDn and the wheel scroll every column; 1 if EV was one. */
static int
comparemode_scroll(struct tui *t, const struct keys_event *ev)
{
	struct comparemode *c = t->cmp;
	long page = t->rows > 12 ? t->rows - 10 : 1, d;
	size_t i;

	switch (ev->code) {
	case KEYS_PGUP:
		d = page;
		break;
	case KEYS_PGDN:
		d = -page;
		break;
	case KEYS_WHEEL_UP:
		d = 3;
		break;
	case KEYS_WHEEL_DOWN:
		d = -3;
		break;
	default:
		return 0;
	}
	for (i = 0; i < c->n; i++)
		transcript_scroll(c->col[i].tr, d);
	return 1;
}

void
comparemode_marks(struct tui *t, int on)
{
	struct comparemode *c = t->cmp;
	size_t i;

	for (i = 0; c != NULL && i < c->n; i++)
		if (c->col[i].tr != NULL)
			tokmap_update(c->col[i].tr, 0,
			    on && !c->stored ? &c->col[i].steps : NULL);
}

size_t
comparemode_steps(struct tui *t, const struct steps **out, size_t max)
{
	struct comparemode *c = t->cmp;
	size_t i, n = 0;

	for (i = 0; c != NULL && !c->stored && i < c->n && n < max; i++)
		if (c->col[i].steps.n > 0)
			out[n++] = &c->col[i].steps;
	return n;
}

const struct view_keyhelp comparemode_keys_help[] = {
	{ "Ctrl-C", "stop every column (Alt-1..8: one column)" },
	{ "1-8", "pick the winner: it becomes the chat's answer" },
	{ "s N", "save column N's settings as a preset" },
	{ "[, ]", "stored runs (/runs, c in Ctrl-O): step through them" },
	{ "Esc", "leave compare mode (the run is kept)" },
	{ NULL, NULL },
};

int
comparemode_key(struct tui *t, const struct keys_event *ev)
{
	struct comparemode *c = t->cmp;
	uint32_t ch = ev->code == KEYS_CHAR ? ev->cp : 0;
	size_t i;

	if (c == NULL)
		return 0;
	if (c->ask.step != COMPARESTATE_IDLE) {
		comparemode_ask_key(t, ev);
		return 1;
	}
	if (ev->code == KEYS_ALT && ev->cp >= '1' && ev->cp <= '8') {
		i = (size_t)(ev->cp - '1');
		if (c->running && i < c->n && !c->col[i].done) {
			worker_cancel(t->worker, (int)i);
			c->col[i].stopping = 1;
		}
		return 1;
	}
	if ((c->running || c->finished || c->stored) &&
	    comparemode_scroll(t, ev))
		return 1;
	if (ev->code == KEYS_ESC && !c->running && !c->finished && !c->stored &&
	    prompt_empty()) {
		tui_notice(t, 0, "left compare mode");
		comparemode_close(t);
		return 1;
	}
	if ((!c->finished && !c->stored) || !prompt_empty())
		return 0;
	if (ch >= '1' && ch < '1' + (uint32_t)c->n) {
		if (c->stored)
			comparemode_pick_stored(t, (size_t)(ch - '1'));
		else
			comparemode_pick(t, (size_t)(ch - '1'));
		return 1;
	}
	if (ch == 's') {
		comparestate_ask_start(&c->ask, c->n);
		return 1;
	}
	if (c->stored && (ch == '[' || ch == ']')) {
		comparemode_step(t, ch == '[' ? -1 : 1);
		return 1;
	}
	if (ev->code == KEYS_ESC) {
		if (c->stored)
			tui_notice(t, 0, "closed compare run %lld",
			    (long long)c->run_id);
		else
			tui_notice(t, 0,
			    "compare run kept without a winner (/runs "
			    "reopens it)");
		comparemode_close(t);
		return 1;
	}
	return 0;
}

/* The line over the columns: what the view shows and its keys. */
static void
comparemode_title(struct tui *t, struct sbuf *sb)
{
	struct comparemode *c = t->cmp;
	const char *p;
	size_t n;

	if (c->stored) {
		sbuf_addf(sb,
		    "compare run %lld (%zu/%zu, read-only) \xc2\xb7 \"",
		    (long long)c->run_id, c->pos, c->count);
		p = c->prompt;
		n = strcspn(p, "\n");
		if (n > CMP_TITLE_PROMPT) {
			n = CMP_TITLE_PROMPT;
			while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
				n--;
		}
		sbuf_add(sb, p, n);
		sbuf_adds(sb, p[n] != '\0' ? "\xe2\x80\xa6\"" : "\"");
		if (c->winner >= 0)
			sbuf_addf(sb, " \xc2\xb7 winner %d", c->winner + 1);
		else
			sbuf_addf(sb, " \xc2\xb7 1-%zu picks the winner", c->n);
		sbuf_adds(sb,
		    " \xc2\xb7 s save as preset \xc2\xb7 [ ] runs \xc2\xb7 "
		    "Esc close");
	} else if (c->running) {
		sbuf_addf(sb,
		    "compare: %zu columns streaming \xc2\xb7 Ctrl-C stops all "
		    "\xc2\xb7 Alt-1..%zu stops one",
		    c->n, c->n);
	} else if (c->finished) {
		sbuf_addf(sb,
		    "compare: 1-%zu picks the winner \xc2\xb7 s save a column "
		    "as preset \xc2\xb7 PgUp/PgDn scroll \xc2\xb7 Esc no "
		    "winner",
		    c->n);
	} else {
		sbuf_addf(sb,
		    "compare mode: %zu columns \xc2\xb7 the next prompt goes "
		    "to all of them \xc2\xb7 Esc leaves",
		    c->n);
	}
}

/* Untrusted line SB (preset names, errors) made safe and cut to W. */
static void
comparemode_fit(struct sbuf *out, const struct sbuf *sb, int w)
{
	struct sbuf safe;

	sbuf_init(&safe);
	text_sanitize(&safe, sb->buf, sb->len, 1);
	sbuf_reset(out);
	text_fit(out, safe.buf, w);
	sbuf_release(&safe);
}

void
comparemode_draw(struct tui *t, int y, int h)
{
	struct comparemode *c = t->cmp;
	struct sbuf sb, fit;
	int w, x, i, hattr, win;

	w = (t->cols - (int)c->n + 1) / (int)c->n;
	if (w < COMPAREMODE_MIN_WIDTH || h < 5) {
		sbuf_init(&sb);
		sbuf_addf(&sb,
		    "compare: %zu columns need %d columns and 5 rows of "
		    "terminal; this one has %dx%d: widen it or use fewer "
		    "columns",
		    c->n, (int)c->n * (COMPAREMODE_MIN_WIDTH + 1), t->cols, h);
		sbuf_init(&fit);
		text_fit(&fit, sb.buf, t->cols);
		screen_put(y, 0, fit.buf, fit.len, t->cols, A_BOLD);
		sbuf_release(&fit);
		sbuf_release(&sb);
		return;
	}
	sbuf_init(&sb);
	sbuf_init(&fit);
	comparemode_title(t, &sb);
	comparemode_fit(&fit, &sb, t->cols);
	screen_fill(y, 0, t->cols, screen_attr(SCREEN_TITLE));
	screen_put(y, 0, fit.buf, fit.len, t->cols, screen_attr(SCREEN_TITLE));
	y++;
	h--;
	for (i = 0; i < (int)c->n; i++) {
		struct comparemode_col *col = &c->col[i];

		win = c->stored && c->winner == i;
		hattr = screen_attr(win ? SCREEN_SELECT : SCREEN_STATUS);
		x = i * (w + 1);
		sbuf_reset(&sb);
		sbuf_addf(&sb, "%d %s", i + 1, col->name);
		if (col->diff[0] != '\0')
			sbuf_addf(&sb, " %s", col->diff);
		comparemode_fit(&fit, &sb, w);
		screen_fill(y, x, w, hattr);
		screen_put(y, x, fit.buf, fit.len, w, hattr);
		if (col->to_top) {
			transcript_resize(col->tr, w, h - 2);
			transcript_scroll(col->tr, 1L << 30);
			col->to_top = 0;
		}
		screen_transcript(col->tr, y + 1, x, h - 2, w);
		sbuf_reset(&sb);
		comparestate_meta(&sb,
		    col->done		? COMPARESTATE_DONE
			: col->stopping ? COMPARESTATE_STOPPING
			: c->running	? COMPARESTATE_STREAMING
					: COMPARESTATE_WAITING,
		    col->out.len, &col->stats, col->partial, col->error, win);
		comparemode_fit(&fit, &sb, w);
		screen_put(y + h - 1, x, fit.buf, fit.len, w,
		    win ? (int)A_BOLD : (int)A_DIM);
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
