/*
 * comparestate: compare mode's question, column lines and run summaries,
 * free of curses and of the database.
 *
 * The save-as-preset question is a small state machine: IDLE, COLUMN
 * (waiting for a column number), NAME (a struct field), OVERWRITE (y/n).
 * Keys only move it between those steps; whether a name is acceptable
 * (db_name_check, built-in, taken) is the caller's to find out, and the
 * caller moves the question on with stop, confirm or rename, so every
 * message about a bad name comes from the one place that knows.
 */
#include "comparestate.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"

void
comparestate_ask_init(struct comparestate_ask *a)
{
	memset(a, 0, sizeof(*a));
	field_init(&a->name);
	a->keep_seed = 1;
}

void
comparestate_ask_release(struct comparestate_ask *a)
{
	field_release(&a->name);
}

void
comparestate_ask_start(struct comparestate_ask *a, size_t n)
{
	a->step = COMPARESTATE_COLUMN;
	a->n = n;
	a->col = 0;
	a->keep_seed = 1;
	field_set(&a->name, "");
}

void
comparestate_ask_stop(struct comparestate_ask *a)
{
	a->step = COMPARESTATE_IDLE;
}

void
comparestate_ask_confirm(struct comparestate_ask *a)
{
	a->step = COMPARESTATE_OVERWRITE;
}

void
comparestate_ask_rename(struct comparestate_ask *a)
{
	a->step = COMPARESTATE_NAME;
}

enum comparestate_act
comparestate_ask_key(struct comparestate_ask *a, const struct keys_event *ev)
{
	uint32_t c = ev->code == KEYS_CHAR ? ev->cp : 0;

	switch (a->step) {
	case COMPARESTATE_IDLE:
		return COMPARESTATE_NONE;
	case COMPARESTATE_COLUMN:
		if (ev->code == KEYS_ESC) {
			a->step = COMPARESTATE_IDLE;
			return COMPARESTATE_CANCELLED;
		}
		if (c >= '1' && c < '1' + (uint32_t)a->n) {
			a->col = (size_t)(c - '1');
			a->step = COMPARESTATE_NAME;
		}
		return COMPARESTATE_NONE;
	case COMPARESTATE_NAME:
		if (ev->code == KEYS_ESC) {
			a->step = COMPARESTATE_IDLE;
			return COMPARESTATE_CANCELLED;
		}
		if (ev->code == KEYS_ENTER)
			return COMPARESTATE_SAVE;
		if (ev->code == KEYS_TAB) {
			a->keep_seed = !a->keep_seed;
			return COMPARESTATE_NONE;
		}
		field_key(&a->name, ev);
		return COMPARESTATE_NONE;
	case COMPARESTATE_OVERWRITE:
		if (c == 'y' || c == 'Y')
			return COMPARESTATE_REPLACE;
		if (c == 'n' || c == 'N' || ev->code == KEYS_ESC)
			a->step = COMPARESTATE_NAME;
		return COMPARESTATE_NONE;
	}
	return COMPARESTATE_NONE;
}

void
comparestate_ask_view(const struct comparestate_ask *a, uint64_t seed,
    int width, struct sbuf *out, size_t *plen, int *ccol)
{
	size_t start = out->len, first;
	int qw, col;

	*plen = 0;
	*ccol = 0;
	switch (a->step) {
	case COMPARESTATE_IDLE:
		return;
	case COMPARESTATE_COLUMN:
		sbuf_addf(out,
		    "save which column as a preset? 1-%zu (Esc cancels) ",
		    a->n);
		break;
	case COMPARESTATE_NAME:
		sbuf_addf(out, "save column %zu as preset (", a->col + 1);
		if (a->keep_seed)
			sbuf_addf(out, "seed %llu kept; Tab: random seed",
			    (unsigned long long)seed);
		else
			sbuf_addf(out, "random seed; Tab: keep seed %llu",
			    (unsigned long long)seed);
		sbuf_adds(out, "; Esc cancels) name: ");
		break;
	case COMPARESTATE_OVERWRITE:
		sbuf_adds(out, "preset '");
		text_sanitize(out, a->name.text.buf, a->name.text.len, 1);
		sbuf_addf(out, "' exists: replace it with column %zu? (y/n) ",
		    a->col + 1);
		break;
	}
	*plen = out->len - start;
	qw = text_width(out->buf + start, *plen);
	*ccol = qw;
	if (a->step != COMPARESTATE_NAME)
		return;
	/* The name scrolls within what the question leaves of the line. */
	field_view(&a->name, width - qw, &first, &col);
	sbuf_add(out, a->name.text.buf + first, a->name.text.len - first);
	*ccol = qw + col;
}

void
comparestate_meta(struct sbuf *sb, enum comparestate_state state, size_t bytes,
    const struct db_gen_stats *st, int partial, const char *error, int winner)
{
	if (state == COMPARESTATE_WAITING) {
		sbuf_adds(sb, "waiting for the prompt");
		return;
	}
	if (state == COMPARESTATE_STREAMING) {
		sbuf_addf(sb, "generating, %zu bytes", bytes);
		return;
	}
	if (state == COMPARESTATE_STOPPING) {
		sbuf_addf(sb, "[stopped] %zu bytes", bytes);
		return;
	}
	if (winner)
		sbuf_adds(sb, "winner \xc2\xb7 ");
	if (st->tokens_per_s > 0)
		sbuf_addf(sb, "%.1f tok/s ", st->tokens_per_s);
	if (partial) {
		sbuf_adds(sb, "[incomplete]");
		return;
	}
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
		sbuf_addf(sb, "[error: %s]", error != NULL ? error : "?");
		break;
	case DB_FINISH_NONE:
		break;
	}
}

void
comparestate_run_summary(
    struct sbuf *sb, const struct db_compare_run *r, size_t prompt_max)
{
	const char *p = r->prompt != NULL ? r->prompt : "";
	size_t n = strcspn(p, "\n");

	sbuf_addf(sb, "compare run %lld: %zu columns, ", (long long)r->id,
	    r->n_columns);
	if (r->winner >= 0)
		sbuf_addf(sb, "winner %d", r->winner + 1);
	else
		sbuf_adds(sb, "no winner");
	if (prompt_max == 0)
		return;
	sbuf_adds(sb, " \xc2\xb7 \"");
	if (n > prompt_max) {
		/* Cut on a character boundary. */
		n = prompt_max;
		while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
		sbuf_add(sb, p, n);
		sbuf_adds(sb, "\xe2\x80\xa6");
	} else {
		sbuf_add(sb, p, n);
		if (p[n] == '\n')
			sbuf_adds(sb, "\xe2\x80\xa6");
	}
	sbuf_adds(sb, "\"");
}

int
comparestate_runs_arg(const char *args, int64_t *id, struct err *err)
{
	*id = 0;
	while (*args == ' ')
		args++;
	if (*args == '\0' || strcmp(args, "last") == 0)
		return 0;
	if (util_parse_i64(args, 1, INT64_MAX, id) < 0)
		return err_set(err, ERR_USAGE,
		    "/runs: '%s' is not a compare run id (usage: /runs "
		    "[ID|last])",
		    args);
	return 0;
}

void
comparestate_preset_params(struct gen_params *out,
    const struct gen_params *params, uint64_t seed, int keep_seed,
    const char *system)
{
	params_copy(out, params);
	out->seed = keep_seed ? seed : 0;
	params_set(out, "system", system != NULL ? system : "", NULL);
}
