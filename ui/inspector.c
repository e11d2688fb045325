/*
 * inspector: the overlay that shows what the sampler did for each token
 * of an answer (Alt-P, /probs): the candidates of the model's own
 * distribution and what each stage of the chain left of them (probs.c's
 * table, the same as "vkchat run --probs"), the drawn token in its text,
 * and the model's cumulative log-probability of the answer so far.  In
 * compare mode it holds every column, so two settings can be seen
 * deciding differently at the same step.
 *
 * The records come from the engine's STEP events (steps.h) and live only
 * while vkchat runs.  Sources: the answer streaming (t->live, read at
 * every draw), an answer of this run (t->kept, by index: the store only
 * grows), or copies of compare columns taken when the overlay opened.
 */
#include "inspector.h"

#include <curses.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probs.h"
#include "screen.h"
#include "text.h"

/* Tokens shown on each side of the current one in the text line. */
#define INSPECTOR_CONTEXT 12

struct inspector {
	struct view v;
	long kept; /* t->kept index; -1: t->live; -2: the columns */
	struct steps cols[WORKER_MAX_COLUMNS];
	size_t n_cols, focus;
	size_t pos; /* the token shown, from 0 */
};

/* The records shown now (NULL when they are gone). */
static const struct steps *
inspector_track(struct tui *t, const struct inspector *in)
{
	if (in->kept == -2)
		return &in->cols[in->focus];
	if (in->kept == -1)
		return &t->live;
	if ((size_t)in->kept < t->kept.n)
		return &t->kept.v[in->kept];
	return NULL;
}

/* The drawn token's text of step ST. */
static const char *
inspector_token(const struct worker_step *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->ids[i] == st->rec.token)
			return st->text[i];
	return "?";
}

/* The line of text around token POS of S, the token itself in reverse. */
static void
inspector_context(struct tui *t, const struct steps *s, size_t pos, int y)
{
	struct sbuf raw, line;
	size_t from = pos > INSPECTOR_CONTEXT ? pos - INSPECTOR_CONTEXT : 0;
	size_t i;
	int x = 1, w;

	sbuf_init(&raw);
	sbuf_init(&line);
	for (i = from; i < s->n && i <= pos + INSPECTOR_CONTEXT; i++) {
		sbuf_reset(&raw);
		sbuf_reset(&line);
		sbuf_adds(&raw, inspector_token(s->v[i]));
		text_sanitize(&line, raw.buf, raw.len, 1);
		if (x >= t->cols - 1)
			break;
		w = screen_put(y, x, line.buf, line.len, t->cols - 1 - x,
		    i == pos ? screen_attr(SCREEN_SELECT) : (int)A_NORMAL);
		x += w;
	}
	sbuf_release(&raw);
	sbuf_release(&line);
}

static void
inspector_draw(struct tui *t, struct view *v)
{
	struct inspector *in = (struct inspector *)v;
	const struct steps *s = inspector_track(t, in);
	struct probs_names nm;
	struct sbuf sb, table;
	const char *line, *nl;
	double lp = 0;
	size_t i;
	int y;

	sbuf_init(&sb);
	sbuf_init(&table);
	screen_fill(0, 0, t->cols, screen_attr(SCREEN_TITLE));
	if (s == NULL || s->n == 0) {
		screen_puts(0, 1, "inspector: no records", t->cols - 2,
		    screen_attr(SCREEN_TITLE));
		goto status;
	}
	if (in->pos >= s->n)
		in->pos = s->n - 1;
	for (i = 0; i <= in->pos; i++)
		lp += log(fmax(s->v[i]->rec.p_model, 1e-30));
	sbuf_addf(&sb,
	    "inspector \xc2\xb7 %s \xc2\xb7 token %zu of %zu%s \xc2\xb7 "
	    "model log-probability so far %.2f",
	    s->label != NULL ? s->label : "answer", in->pos + 1, s->n,
	    in->kept == -1 && t->generating ? " (streaming)" : "", lp);
	screen_puts(0, 1, sb.buf, t->cols - 2, screen_attr(SCREEN_TITLE));
	inspector_context(t, s, in->pos, 2);
	nm.tok = NULL;
	nm.n = s->v[in->pos]->n;
	nm.ids = s->v[in->pos]->ids;
	nm.text = s->v[in->pos]->text;
	probs_text(&nm, &s->v[in->pos]->rec, in->pos + 1, &table);
	y = 4;
	for (line = table.buf; *line != '\0' && y < t->rows - 2;
	     line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		screen_put(y++, 1, line, (size_t)(nl - line), t->cols - 2,
		    line[0] == 's' ? screen_attr(SCREEN_USER) : (int)A_NORMAL);
	}
	/* The other columns at the same step. */
	y++;
	for (i = 0; in->kept == -2 && i < in->n_cols && y < t->rows - 2; i++) {
		const struct steps *o = &in->cols[i];

		if (i == in->focus)
			continue;
		sbuf_reset(&sb);
		if (in->pos < o->n) {
			const struct sampler_rec *r = &o->v[in->pos]->rec;

			sbuf_addf(&sb, "%s: drew ", o->label);
			text_sanitize(&sb, inspector_token(o->v[in->pos]),
			    strlen(inspector_token(o->v[in->pos])), 1);
			sbuf_addf(&sb, " with p %.4f (model %.4f)",
			    (double)r->p_token, (double)r->p_model);
		} else {
			sbuf_addf(&sb, "%s: ended before token %zu", o->label,
			    in->pos + 1);
		}
		screen_puts(y++, 1, sb.buf, t->cols - 2, A_NORMAL);
	}
status:
	screen_fill(t->rows - 1, 0, t->cols, screen_attr(SCREEN_STATUS));
	screen_puts(t->rows - 1, 1,
	    in->kept == -2
		? "Left/Right token  Home/End  Tab column  Esc close"
		: "Left/Right token  Home/End  Up/Down other answers  "
		  "Esc close",
	    t->cols - 2, screen_attr(SCREEN_STATUS));
	curs_set(0);
	sbuf_release(&sb);
	sbuf_release(&table);
}

static void
inspector_key(struct tui *t, struct view *v, const struct keys_event *ev)
{
	struct inspector *in = (struct inspector *)v;
	const struct steps *s = inspector_track(t, in);
	size_t n = s != NULL ? s->n : 0;
	uint32_t c = ev->code == KEYS_CHAR ? ev->cp : 0;

	if (ev->code == KEYS_ESC || c == 'q' ||
	    (ev->code == KEYS_ALT && ev->cp == 'p')) {
		tui_pop(t);
	} else if (ev->code == KEYS_LEFT || c == 'h') {
		if (in->pos > 0)
			in->pos--;
	} else if (ev->code == KEYS_RIGHT || c == 'l') {
		if (in->pos + 1 < n)
			in->pos++;
	} else if (ev->code == KEYS_PGUP) {
		in->pos = in->pos > 10 ? in->pos - 10 : 0;
	} else if (ev->code == KEYS_PGDN) {
		in->pos = in->pos + 10 < n ? in->pos + 10 : (n ? n - 1 : 0);
	} else if (ev->code == KEYS_HOME || c == 'g') {
		in->pos = 0;
	} else if (ev->code == KEYS_END || c == 'G') {
		in->pos = n ? n - 1 : 0;
	} else if (ev->code == KEYS_TAB && in->kept == -2 && in->n_cols > 0) {
		in->focus = (in->focus + 1) % in->n_cols;
	} else if ((ev->code == KEYS_UP || c == 'k') && in->kept > 0) {
		in->kept--;
	} else if ((ev->code == KEYS_DOWN || c == 'j') && in->kept >= 0 &&
	    (size_t)in->kept + 1 < t->kept.n) {
		in->kept++;
	}
}

static void
inspector_free(struct tui *t, struct view *v)
{
	struct inspector *in = (struct inspector *)v;
	size_t i;

	(void)t;
	for (i = 0; i < in->n_cols; i++)
		steps_release(&in->cols[i]);
	free(in);
}

static const struct view_ops inspector_ops = {
	.name = "inspector",
	.draw = inspector_draw,
	.key = inspector_key,
	.free = inspector_free,
};

static struct inspector *
inspector_new(struct tui *t)
{
	struct inspector *in = xcalloc(1, sizeof(*in));

	in->v.ops = &inspector_ops;
	tui_push(t, &in->v);
	return in;
}

void
inspector_open_live(struct tui *t)
{
	inspector_new(t)->kept = -1;
}

void
inspector_open_kept(struct tui *t, size_t i)
{
	inspector_new(t)->kept = (long)i;
}

void
inspector_open_columns(struct tui *t, const struct steps *const *cols, size_t n)
{
	struct inspector *in = inspector_new(t);
	size_t i;

	in->kept = -2;
	for (i = 0; i < n && i < WORKER_MAX_COLUMNS; i++)
		steps_copy(&in->cols[i], cols[i]);
	in->n_cols = i;
}
