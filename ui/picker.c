/*
 * picker: lists of presets and templates, and their forms.
 *
 * One struct picker serves both: a list (two lines per item: the name
 * and description, then what it contains) and a form of fields.  The
 * preset form edits a copy of the preset (every parameter a row, Enter
 * edits the value, params_set checks it); the template form has one
 * field per variable of the template's body.  Nothing is stored until
 * the user says so: s in the preset form saves the copy under a new
 * name, Enter on the template form's last field sends the prompt.
 */
#include "picker.h"

#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "storage/db-presets.h"
#include "storage/db-templates.h"
#include "field.h"
#include "screen.h"
#include "slash.h"
#include "text.h"

struct picker {
	struct view v; /* first: the picker is a view */
	enum picker_kind kind;
	size_t sel, top;
	struct db_preset *presets;
	struct db_template *tpls;
	size_t n;
	/* The form (FORM set): a preset copy or a template's variables. */
	int form;
	char *name;		  /* the preset or template */
	struct gen_params params; /* the preset copy */
	char **vars;		  /* template variables */
	struct field *values;	  /* their values */
	size_t n_rows, row;
	int editing;	    /* a preset value is being edited */
	int naming;	    /* asking for the name to save under */
	struct field field; /* the value or name being typed */
	char *msg;
	int msg_error;
};

static void picker_msg(struct picker *p, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
picker_msg(struct picker *p, int error, const char *fmt, ...)
{
	va_list ap;

	free(p->msg);
	va_start(ap, fmt);
	p->msg = xvasprintf(fmt, ap);
	va_end(ap);
	p->msg_error = error;
}

static void
picker_form_free(struct picker *p)
{
	size_t i;

	if (!p->form)
		return;
	if (p->kind == PICKER_PRESETS)
		params_release(&p->params);
	for (i = 0; p->vars != NULL && i < p->n_rows; i++) {
		free(p->vars[i]);
		field_release(&p->values[i]);
	}
	free(p->vars);
	free(p->values);
	p->vars = NULL;
	p->values = NULL;
	free(p->name);
	p->name = NULL;
	p->form = p->editing = p->naming = 0;
}

/* The picker: called only while it is the top view. */
static struct picker *
picker_top(struct tui *t)
{
	return (struct picker *)t->top;
}

static void picker_draw(struct tui *t, struct view *v);
static void picker_key(
    struct tui *t, struct view *v, const struct keys_event *ev);

static void
picker_free(struct tui *t, struct view *v)
{
	struct picker *p = (struct picker *)v;

	(void)t;
	picker_form_free(p);
	db_presets_free(p->presets, p->kind == PICKER_PRESETS ? p->n : 0);
	db_templates_free(p->tpls, p->kind == PICKER_TEMPLATES ? p->n : 0);
	field_release(&p->field);
	free(p->msg);
	free(p);
}

static const struct view_ops picker_ops = {
	.name = "picker",
	.draw = picker_draw,
	.key = picker_key,
	.free = picker_free,
};

void
picker_open(struct tui *t, enum picker_kind kind)
{
	struct picker *p = xcalloc(1, sizeof(*p));
	struct err err;
	size_t i;
	int rc;

	p->v.ops = &picker_ops;
	p->kind = kind;
	field_init(&p->field);
	tui_push(t, &p->v);
	if (kind == PICKER_PRESETS) {
		rc = db_presets_list(t->db, &p->presets, &p->n, &err);
		for (i = 0; rc == 0 && i < p->n; i++)
			if (t->conv.preset &&
			    strcmp(p->presets[i].name, t->conv.preset) == 0)
				p->sel = i;
	} else {
		rc = db_templates_list(t->db, &p->tpls, &p->n, &err);
	}
	if (rc < 0) {
		p->n = 0;
		picker_msg(p, 1, "%s", err.msg);
	}
}

/* Open the form for the selected item. */
static void
picker_form(struct tui *t)
{
	struct picker *p = picker_top(t);
	size_t i;

	if (p->n == 0)
		return;
	p->form = 1;
	p->row = 0;
	if (p->kind == PICKER_PRESETS) {
		p->name = xstrdup(p->presets[p->sel].name);
		params_copy(&p->params, &p->presets[p->sel].params);
		p->n_rows = params_count();
		return;
	}
	p->name = xstrdup(p->tpls[p->sel].name);
	db_templates_vars(p->tpls[p->sel].body, &p->vars, &p->n_rows);
	p->values = xcalloc(p->n_rows + 1, sizeof(*p->values));
	for (i = 0; i < p->n_rows; i++)
		field_init(&p->values[i]);
}

void
picker_open_template(struct tui *t, const char *name)
{
	struct picker *p;
	size_t i;

	picker_open(t, PICKER_TEMPLATES);
	p = picker_top(t);
	for (i = 0; i < p->n; i++)
		if (strcmp(p->tpls[i].name, name) == 0)
			break;
	if (i == p->n) {
		picker_msg(p, 1, "no template named '%s'", name);
		return;
	}
	p->sel = i;
	picker_form(t);
}

/* Line 2 of a list item: what the preset or template holds. */
static void
picker_detail(struct picker *p, size_t i, struct sbuf *out)
{
	char **vars;
	size_t n, k;
	const char *nl;

	if (p->kind == PICKER_PRESETS) {
		if (params_diff(&p->presets[i].params, NULL, "  ", out) == 0)
			sbuf_adds(out, "(all parameters at their defaults)");
		return;
	}
	db_templates_vars(p->tpls[i].body, &vars, &n);
	if (n > 0) {
		sbuf_adds(out, "vars:");
		for (k = 0; k < n; k++) {
			sbuf_addf(out, " %s", vars[k]);
			free(vars[k]);
		}
		sbuf_adds(out, "  ");
	}
	free(vars);
	nl = strchr(p->tpls[i].body, '\n');
	sbuf_add(out, p->tpls[i].body,
	    nl ? (size_t)(nl - p->tpls[i].body) : strlen(p->tpls[i].body));
}

static void
picker_draw_list(struct tui *t, int h)
{
	struct picker *p = picker_top(t);
	struct sbuf sb;
	size_t per = 2, vis = (size_t)(h > 2 ? h : 2) / per, i;
	int y, attr;

	if (p->sel < p->top)
		p->top = p->sel;
	if (p->sel >= p->top + vis)
		p->top = p->sel - vis + 1;
	sbuf_init(&sb);
	for (i = p->top, y = 1; i < p->n && y + 1 <= h; i++, y += 2) {
		attr = i == p->sel ? screen_attr(SCREEN_SELECT) : (int)A_NORMAL;
		sbuf_reset(&sb);
		if (p->kind == PICKER_PRESETS)
			sbuf_addf(&sb, "%s%s  %s", p->presets[i].name,
			    p->presets[i].builtin ? " (built-in)" : "",
			    p->presets[i].description);
		else
			sbuf_addf(&sb, "%s  %s", p->tpls[i].name,
			    p->tpls[i].description);
		screen_fill(y, 0, t->cols, attr);
		screen_puts(y, 1, sb.buf, t->cols - 2, attr | A_BOLD);
		sbuf_reset(&sb);
		picker_detail(p, i, &sb);
		screen_puts(
		    y + 1, 3, sb.buf, t->cols - 4, screen_attr(SCREEN_META));
	}
	if (p->n == 0)
		screen_puts(1, 1,
		    p->kind == PICKER_PRESETS
			? "no presets"
			: "no templates yet: add one with 'vkchat templates "
			  "add' (see man vkchat)",
		    t->cols - 2, screen_attr(SCREEN_NOTICE));
	sbuf_release(&sb);
}

/* The value of form row I as text. */
static void
picker_value(struct picker *p, size_t i, struct sbuf *out)
{
	if (p->kind == PICKER_PRESETS)
		params_get(&p->params, params_key(i), out);
	else
		sbuf_adds(out, p->values[i].text.buf);
}

static void
picker_draw_form(struct tui *t, int h, int *cy, int *cx)
{
	struct picker *p = picker_top(t);
	struct sbuf val;
	size_t top = 0, i, first;
	int y, attr, x, col, key_w = 20;
	const char *key;

	sbuf_init(&val);
	if (p->row >= (size_t)h)
		top = p->row - (size_t)h + 1;
	for (i = top, y = 1; i < p->n_rows && y <= h; i++, y++) {
		key = p->kind == PICKER_PRESETS ? params_key(i) : p->vars[i];
		attr = i == p->row ? screen_attr(SCREEN_SELECT) : (int)A_NORMAL;
		screen_fill(y, 0, t->cols, attr);
		screen_puts(y, 1, key, key_w - 2, attr | A_BOLD);
		x = key_w;
		if ((p->editing && i == p->row) ||
		    (p->kind == PICKER_TEMPLATES && i == p->row)) {
			const struct field *f = p->kind == PICKER_TEMPLATES
			    ? &p->values[i]
			    : &p->field;

			field_view(f, t->cols - x - 1, &first, &col);
			screen_put(y, x, f->text.buf + first,
			    f->text.len - first, t->cols - x - 1, attr);
			*cy = y;
			*cx = x + col;
			continue;
		}
		sbuf_reset(&val);
		picker_value(p, i, &val);
		x += screen_puts(y, x, val.buf, 24, attr);
		if (p->kind == PICKER_PRESETS && t->cols > key_w + 30)
			screen_puts(y, key_w + 26, params_doc(key),
			    t->cols - key_w - 27, screen_attr(SCREEN_META));
	}
	sbuf_release(&val);
}

static void
picker_draw(struct tui *t, struct view *v)
{
	struct picker *p = (struct picker *)v;
	struct sbuf sb;
	int h = t->rows - 2, y = t->rows - 1, cy = -1, cx = 0, attr, col;
	size_t first;

	sbuf_init(&sb);
	if (!p->form)
		sbuf_adds(&sb,
		    p->kind == PICKER_PRESETS
			? "Presets: Enter use  e edit a copy  Esc close"
			: "Templates: Enter fill in and send  Esc close");
	else if (p->kind == PICKER_PRESETS)
		sbuf_addf(&sb,
		    "Editing a copy of preset %s: Enter edit a "
		    "value  u use  s save as  Esc back",
		    p->name);
	else
		sbuf_addf(&sb,
		    "Template %s: fill in the variables, Enter on "
		    "the last sends  Esc back",
		    p->name);
	screen_fill(0, 0, t->cols, screen_attr(SCREEN_TITLE));
	screen_puts(0, 1, sb.buf, t->cols - 2, screen_attr(SCREEN_TITLE));
	if (p->form)
		picker_draw_form(t, h, &cy, &cx);
	else
		picker_draw_list(t, h);
	attr = screen_attr(SCREEN_STATUS);
	sbuf_reset(&sb);
	if (p->naming) {
		sbuf_adds(&sb, "Save as preset named: ");
	} else if (p->msg != NULL) {
		sbuf_adds(&sb, p->msg);
		if (p->msg_error)
			attr = screen_attr(SCREEN_ERROR) | A_REVERSE;
	}
	screen_fill(y, 0, t->cols, attr);
	col = screen_puts(y, 1, sb.buf, t->cols - 2, attr);
	if (p->naming) {
		int c;

		field_view(&p->field, t->cols - col - 2, &first, &c);
		screen_put(y, 1 + col, p->field.text.buf + first,
		    p->field.text.len - first, t->cols - col - 2, attr);
		cy = y;
		cx = 1 + col + c;
	}
	if (cy >= 0) {
		curs_set(1);
		move(cy, cx);
	} else {
		curs_set(0);
	}
	sbuf_release(&sb);
}

/* Set preset-copy parameter KEY from the text the user typed. */
static int
picker_set(struct picker *p, const char *key, const char *text, struct err *err)
{
	struct gen_params copy;
	char **w;
	size_t n, i;
	int rc = 0;

	params_copy(&copy, &p->params);
	if (strcmp(key, "stop") == 0 || strcmp(key, "logit_bias") == 0) {
		/* Lists: the whole list is replaced. */
		rc = slash_split(text, &w, &n, err);
		if (rc == 0) {
			rc = params_set(&copy, key, "", err);
			for (i = 0; rc == 0 && i < n; i++)
				rc = params_set(&copy, key, w[i], err);
			slash_words_free(w);
		}
	} else {
		rc = params_set(&copy, key, text, err);
	}
	if (rc == 0) {
		params_release(&p->params);
		p->params = copy;
	} else {
		params_release(&copy);
	}
	return rc;
}

static void
picker_save(struct tui *t)
{
	struct picker *p = picker_top(t);
	struct err err;
	char *desc = xasprintf("edited copy of %s", p->name);

	if (db_presets_add(t->db, p->field.text.buf, desc, &p->params, &err) <
	    0) {
		picker_msg(p, 1, "%s", err.msg);
		free(desc);
		return;
	}
	free(desc);
	conv_use_params(&t->conv, p->field.text.buf, &p->params, 0);
	tui_notice(t, 0, "saved and using preset %s", p->field.text.buf);
	tui_pop(t);
}

static void
picker_send(struct tui *t)
{
	struct picker *p = picker_top(t);
	struct db_template_var *vars = xcalloc(p->n_rows + 1, sizeof(*vars));
	char *name = xstrdup(p->name);
	struct view_req r = { .act = VIEW_SEND_TEMPLATE };
	struct err err;
	size_t i;

	for (i = 0; i < p->n_rows; i++) {
		vars[i].name = p->vars[i];
		vars[i].value = p->values[i].text.buf;
	}
	r.name = name;
	r.vars = vars;
	r.n_vars = p->n_rows;
	if (tui_request(t, &r, &err) < 0)
		/* A variable left empty, say: the form stays open. */
		picker_msg(p, 1, "%s", err.msg);
	else
		tui_pop(t);
	free(vars);
	free(name);
}

static void
picker_form_key(struct tui *t, const struct keys_event *ev)
{
	struct picker *p = picker_top(t);
	struct sbuf val;
	struct err err;
	uint32_t c = ev->code == KEYS_CHAR ? ev->cp : 0;

	if (p->naming) {
		if (ev->code == KEYS_ESC)
			p->naming = 0;
		else if (ev->code == KEYS_ENTER)
			picker_save(t);
		else
			field_key(&p->field, ev);
		return;
	}
	if (p->editing) {
		if (ev->code == KEYS_ESC) {
			p->editing = 0;
		} else if (ev->code == KEYS_ENTER) {
			if (picker_set(p, params_key(p->row), p->field.text.buf,
				&err) < 0) {
				picker_msg(p, 1, "%s", err.msg);
			} else {
				p->editing = 0;
			}
		} else {
			field_key(&p->field, ev);
		}
		return;
	}
	if (ev->code == KEYS_UP) {
		if (p->row > 0)
			p->row--;
		return;
	}
	if (ev->code == KEYS_DOWN || ev->code == KEYS_TAB) {
		if (p->row + 1 < p->n_rows)
			p->row++;
		return;
	}
	if (ev->code == KEYS_ESC) {
		picker_form_free(p);
		return;
	}
	if (p->kind == PICKER_TEMPLATES) {
		if (ev->code == KEYS_ENTER) {
			if (p->row + 1 < p->n_rows)
				p->row++;
			else
				picker_send(t);
		} else if (p->n_rows > 0) {
			field_key(&p->values[p->row], ev);
		}
		return;
	}
	if (ev->code == KEYS_ENTER) {
		sbuf_init(&val);
		picker_value(p, p->row, &val);
		field_set(&p->field, val.buf);
		sbuf_release(&val);
		p->editing = 1;
	} else if (c == 'u') {
		char *name = xstrdup(p->name);

		conv_use_params(&t->conv, name, &p->params, 1);
		tui_notice(t, 0, "using an edited copy of preset %s", name);
		free(name);
		tui_pop(t);
	} else if (c == 's') {
		field_set(&p->field, "");
		p->naming = 1;
	}
}

static void
picker_key(struct tui *t, struct view *v, const struct keys_event *ev)
{
	struct picker *p = (struct picker *)v;
	struct view_req r = { .act = VIEW_USE_PRESET };
	struct err err;
	uint32_t c = ev->code == KEYS_CHAR ? ev->cp : 0;

	free(p->msg);
	p->msg = NULL;
	if (p->form) {
		picker_form_key(t, ev);
		return;
	}
	switch (ev->code) {
	case KEYS_UP:
	case KEYS_WHEEL_UP:
		if (p->sel > 0)
			p->sel--;
		return;
	case KEYS_DOWN:
	case KEYS_WHEEL_DOWN:
		if (p->sel + 1 < p->n)
			p->sel++;
		return;
	case KEYS_ESC:
		tui_pop(t);
		return;
	case KEYS_ENTER:
		if (p->n == 0)
			return;
		if (p->kind == PICKER_PRESETS) {
			r.name = p->presets[p->sel].name;
			if (tui_request(t, &r, &err) < 0) {
				picker_msg(p, 1, "%s", err.msg);
				return;
			}
			tui_notice(t, 0, "using preset %s", r.name);
			tui_pop(t);
			return;
		}
		picker_form(t);
		if (p->n_rows == 0)
			picker_send(t);
		return;
	default:
		break;
	}
	if (c == 'q' ||
	    (ev->code == KEYS_CTRL && (ev->cp == 'p' || ev->cp == 't'))) {
		tui_pop(t);
	} else if (c == 'j' && p->sel + 1 < p->n) {
		p->sel++;
	} else if (c == 'k' && p->sel > 0) {
		p->sel--;
	} else if (c == 'e' && p->kind == PICKER_PRESETS) {
		picker_form(t);
	}
}
