/*
 * chatscreen: the chat screen, the view at the bottom of the stack
 * (view.h).  It draws the transcript (or compare mode's columns), the
 * status line and the prompt rows; it maps keys and slash commands to
 * their handlers through two tables, which the help overlay lists; and it
 * carries out what overlays ask (tui_request).  The work itself is the
 * chat controller's (chatctl.c) and compare mode's (comparemode.c).
 */
#include "chatscreen.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "browser.h"
#include "chatctl.h"
#include "comparemode.h"
#include "help.h"
#include "inspector.h"
#include "picker.h"
#include "prompt.h"
#include "screen.h"
#include "slash.h"
#include "text.h"
#include "tokmap.h"

static void chatscreen_help(struct tui *t);

/* The right end of the status line: activity, or the scroll position. */
static void
chatscreen_activity(struct tui *t, struct sbuf *sb, size_t below)
{
	static const char *const spin_utf8[] = { "⠋", "⠙", "⠹", "⠸", "⠼", "⠴",
		"⠦", "⠧", "⠇", "⠏" };
	static const char *const spin_ascii[] = { "|", "/", "-", "\\" };
	const char *spin =
	    t->utf8 ? spin_utf8[t->spin % 10] : spin_ascii[t->spin % 4];
	int i, fill;

	if (t->engine == TUI_ENGINE_LOADING || t->prefilling) {
		fill = (int)(t->progress * 20 + 0.5);
		sbuf_addf(sb, "%s %s [", spin,
		    t->prefilling ? "reading the conversation" : "loading");
		for (i = 0; i < 20; i++)
			sbuf_adds(sb, i < fill ? "#" : "-");
		sbuf_addf(sb, "] %3d%% ", (int)(t->progress * 100 + 0.5));
	} else if (t->generating) {
		sbuf_addf(sb, "%s %s ", spin,
		    t->cancelling ? "stopping" : "generating (Ctrl-C stops)");
	} else if (below > 0) {
		sbuf_addf(sb, "%zu more lines below (PgDn) ", below);
	} else if (t->engine == TUI_ENGINE_NOMODEL) {
		sbuf_adds(sb, "no model ");
	} else if (t->engine == TUI_ENGINE_FAILED) {
		sbuf_adds(sb, "model not loaded ");
	}
}

static void
chatscreen_status(struct tui *t, int y)
{
	struct sbuf left, right, fit;
	const char *sep = t->utf8 ? " \xe2\x94\x82 " : " | ";
	int attr = screen_attr(SCREEN_STATUS), rw;

	sbuf_init(&left);
	sbuf_init(&right);
	sbuf_init(&fit);
	sbuf_addf(&left, " %s", t->model_name ? t->model_name : "no model");
	sbuf_addf(&left, "%s%s", sep,
	    t->conv.chat_format ? t->conv.chat_format : "-");
	sbuf_addf(&left, "%s%s%s", sep,
	    t->conv.preset ? t->conv.preset : "default",
	    t->conv.preset_changed ? "*" : "");
	if (t->n_ctx > 0)
		sbuf_addf(&left, "%sctx %d/%d", sep, t->n_used, t->n_ctx);
	else
		sbuf_addf(&left, "%sctx -", sep);
	if (t->tps >= 0)
		sbuf_addf(&left, "%s%.1f tok/s", sep, t->tps);
	else
		sbuf_addf(&left, "%s- tok/s", sep);
	if (t->probs_colour)
		sbuf_addf(&left, "%scolour by p", sep);
	chatscreen_activity(t, &right, transcript_from_bottom(t->tr));
	screen_fill(y, 0, t->cols, attr);
	rw = text_width(right.buf, right.len);
	if (rw > t->cols / 2)
		rw = t->cols / 2;
	text_fit(&fit, left.buf, t->cols - rw - 1);
	screen_put(y, 0, fit.buf, fit.len, t->cols - rw - 1, attr);
	screen_put(y, t->cols - rw, right.buf, right.len, rw, attr);
	sbuf_release(&left);
	sbuf_release(&right);
	sbuf_release(&fit);
}

static void
chatscreen_draw(struct tui *t, struct view *v)
{
	struct sbuf view;
	int rows, crow, ccol, max_rows, first, h, y, r;
	const char *line, *nl;
	size_t plen;

	(void)v;
	sbuf_init(&view);
	if (t->ask == TUI_ASK_QUIT) {
		sbuf_adds(&view, "Quit vkchat? (y/n) ");
		plen = view.len;
		rows = 1;
		crow = 0;
		ccol = text_width(view.buf, view.len);
	} else if (comparemode_ask_line(t, t->cols, &view, &plen, &ccol)) {
		/* Compare mode's save-as-preset question. */
		rows = 1;
		crow = 0;
	} else {
		prompt_view(t, t->cols, &view, &rows, &crow, &ccol, &plen);
	}
	max_rows = t->rows / 3 > 1 ? t->rows / 3 : 1;
	first = 0;
	if (rows > max_rows) {
		/* Show the rows around the cursor. */
		first = crow - max_rows + 1 > 0 ? crow - max_rows + 1 : 0;
		if (first + max_rows > rows)
			first = rows - max_rows;
		rows = max_rows;
	}
	h = t->rows - rows - 1 - (t->hint != NULL);
	if (h < 1)
		h = 1;
	chatctl_marks(t);
	if (t->cmp != NULL) {
		/* The last notices over the columns, when there is room. */
		y = h >= 14 ? 4 : 0;
		if (y > 0)
			screen_transcript(t->tr, 0, 0, y, t->cols);
		comparemode_draw(t, y, h - y);
	} else {
		screen_transcript(t->tr, 0, 0, h, t->cols);
	}
	y = h;
	if (t->hint != NULL) {
		screen_puts(y, 0, t->hint, t->cols, screen_attr(SCREEN_HINT));
		y++;
	}
	chatscreen_status(t, y++);
	line = view.buf;
	for (r = 0; line != NULL; r++) {
		nl = strchr(line, '\n');
		if (r >= first && r < first + rows)
			screen_put(y + r - first, 0, line,
			    nl ? (size_t)(nl - line) : strlen(line), t->cols,
			    A_NORMAL);
		line = nl ? nl + 1 : NULL;
	}
	/* The prompt itself in its colour (it never wraps: it is short). */
	if (first == 0 && plen > 0 && memchr(view.buf, '\n', plen) == NULL)
		screen_put(
		    y, 0, view.buf, plen, t->cols, screen_attr(SCREEN_PROMPT));
	curs_set(1);
	move(y + crow - first, ccol < t->cols ? ccol : t->cols - 1);
	sbuf_release(&view);
}

/* Scroll the transcript by a page or by the wheel's three lines. */
static int
chatscreen_scroll(struct tui *t, const struct keys_event *ev)
{
	long page = t->rows > 6 ? t->rows - 4 : 1;

	switch (ev->code) {
	case KEYS_PGUP:
		transcript_scroll(t->tr, page);
		break;
	case KEYS_PGDN:
		transcript_scroll(t->tr, -page);
		break;
	case KEYS_WHEEL_UP:
		transcript_scroll(t->tr, 3);
		break;
	default:
		transcript_scroll(t->tr, -3);
		break;
	}
	return 1;
}

static int
chatscreen_newline(struct tui *t, const struct keys_event *ev)
{
	(void)ev;
	prompt_insert(t, "\n", 1);
	return 1;
}

static int
chatscreen_paste(struct tui *t, const struct keys_event *ev)
{
	prompt_insert(t, ev->raw, ev->len);
	return 1;
}

static int
chatscreen_ignore(struct tui *t, const struct keys_event *ev)
{
	(void)t;
	(void)ev;
	return 1;
}

static int
chatscreen_stop(struct tui *t, const struct keys_event *ev)
{
	(void)ev;
	if (!t->generating)
		return 0; /* Esc goes on to the prompt line */
	chatctl_cancel(t);
	return 1;
}

static int
chatscreen_sibling(struct tui *t, const struct keys_event *ev)
{
	chatctl_sibling(t, ev->code == KEYS_LEFT ? -1 : 1);
	return 1;
}

static int
chatscreen_sessions(struct tui *t, const struct keys_event *ev)
{
	(void)ev;
	browser_open(t);
	return 1;
}

static int
chatscreen_presets(struct tui *t, const struct keys_event *ev)
{
	(void)ev;
	picker_open(t, PICKER_PRESETS);
	return 1;
}

static int
chatscreen_templates(struct tui *t, const struct keys_event *ev)
{
	(void)ev;
	picker_open(t, PICKER_TEMPLATES);
	return 1;
}

static int
chatscreen_help_key(struct tui *t, const struct keys_event *ev)
{
	/* ? is help only on an empty prompt; otherwise it is typed. */
	if (ev->code == KEYS_CHAR && !prompt_empty())
		return 0;
	chatscreen_help(t);
	return 1;
}

static int
chatscreen_redraw(struct tui *t, const struct keys_event *ev)
{
	(void)t;
	(void)ev;
	screen_repaint();
	return 1;
}

/*
 * Open the inspector: on the compare columns while compare mode shows a
 * live run, else on the answer streaming, else on the last answer shown
 * when this run generated it.
 */
static void
chatscreen_inspect(struct tui *t)
{
	const struct steps *cols[WORKER_MAX_COLUMNS];
	size_t n, i;
	int64_t id = 0;

	if ((n = comparemode_steps(t, cols, WORKER_MAX_COLUMNS)) > 0) {
		inspector_open_columns(t, cols, n);
		return;
	}
	if (t->generating && t->live.n > 0) {
		inspector_open_live(t);
		return;
	}
	for (i = t->n_msgs; i > 0 && id == 0; i--)
		if (t->msgs[i - 1].role == DB_ROLE_ASSISTANT)
			id = t->msgs[i - 1].id;
	for (i = t->kept.n; i > 0; i--)
		if (id > 0 && t->kept.v[i - 1].id == id) {
			inspector_open_kept(t, i - 1);
			return;
		}
	if (t->kept.n > 0) {
		tui_hint(t,
		    "the last answer was not generated in this run: "
		    "showing the newest one that was");
		inspector_open_kept(t, t->kept.n - 1);
		return;
	}
	tui_notice(t, 1,
	    "nothing to inspect yet: the inspector shows the answers "
	    "generated since vkchat started (their records are not stored)");
}

static int
chatscreen_probs_key(struct tui *t, const struct keys_event *ev)
{
	(void)ev;
	chatscreen_inspect(t);
	return 1;
}

/* The bands and how they look, in one line ("green >= 0.9, ..."). */
static void
chatscreen_legend(struct tui *t, struct sbuf *sb)
{
	int b;

	for (b = 0; b < TOKMAP_N; b++)
		if (b < TOKMAP_N - 1)
			sbuf_addf(sb, "%s >= %s, ", screen_band_look(t, b),
			    tokmap_band_floor((enum tokmap_band)b));
		else
			sbuf_addf(sb, "%s below", screen_band_look(t, b));
}

/* Colour the answers' tokens by probability (ON 1), or not (0). */
static void
chatscreen_colour(struct tui *t, int on)
{
	struct sbuf sb;

	t->probs_colour = on;
	sbuf_init(&sb);
	if (on) {
		sbuf_adds(&sb, "tokens by the model's p: ");
		chatscreen_legend(t, &sb);
		sbuf_adds(&sb, " \xc2\xb7 Alt-C: off");
	} else {
		sbuf_adds(&sb, "token colours off (Alt-C: on)");
	}
	tui_hint(t, "%s", sb.buf);
	sbuf_release(&sb);
}

static int
chatscreen_colour_key(struct tui *t, const struct keys_event *ev)
{
	(void)ev;
	chatscreen_colour(t, !t->probs_colour);
	return 1;
}

/* One key the chat screen knows. */
struct chatscreen_bind {
	enum keys_code code;
	uint32_t cp;   /* KEYS_CHAR, KEYS_CTRL: the character */
	unsigned mods; /* KEYS_MOD_* that must be held */
};

/*
 * The chat screen's keys: what help shows (KEYS, WHAT; NULL KEYS: not
 * listed) and the handler of the bindings (FN returns 0 to hand the key
 * on to the prompt line).  Rows without bindings are the prompt line's
 * own (readline) or signals (Ctrl-C, Ctrl-Z), listed for help.
 */
static const struct chatscreen_key {
	const char *keys, *what;
	int (*fn)(struct tui *t, const struct keys_event *ev);
	struct chatscreen_bind bind[4];
} chatscreen_keys[] = {
	{ "Enter", "send the prompt (a line starting with / is a command)",
	    NULL, { { 0 } } },
	{ "Alt-Enter, C-j",
	    "new line in the prompt; pasted text keeps its lines",
	    chatscreen_newline,
	    { { KEYS_ALT_ENTER, 0, 0 }, { KEYS_CTRL, 'j', 0 } } },
	{ NULL, NULL, chatscreen_paste, { { KEYS_PASTE, 0, 0 } } },
	{ NULL, NULL, chatscreen_ignore, { { KEYS_MOUSE, 0, 0 } } },
	{ "Tab", "complete commands, presets, templates, parameters", NULL,
	    { { 0 } } },
	{ "Up, Down, C-r", "history (readline: emacs or vi keys, ~/.inputrc)",
	    NULL, { { 0 } } },
	{ "Ctrl-C, Esc", "stop the answer being generated (it is kept)",
	    chatscreen_stop, { { KEYS_ESC, 0, 0 } } },
	{ "Ctrl-C", "clear the prompt; on an empty prompt, quit (asks)", NULL,
	    { { 0 } } },
	{ "Ctrl-D", "quit (on an empty prompt)", NULL, { { 0 } } },
	{ "PgUp, PgDn", "scroll the conversation (also the mouse wheel)",
	    chatscreen_scroll,
	    { { KEYS_PGUP, 0, 0 }, { KEYS_PGDN, 0, 0 }, { KEYS_WHEEL_UP, 0, 0 },
		{ KEYS_WHEEL_DOWN, 0, 0 } } },
	{ "Alt-Left, Right",
	    "step through the answers to the last prompt (answer N of M)",
	    chatscreen_sibling,
	    { { KEYS_LEFT, 0, KEYS_MOD_ALT },
		{ KEYS_RIGHT, 0, KEYS_MOD_ALT } } },
	{ "Alt-P", "the sampler's choices for the last answer (inspector)",
	    chatscreen_probs_key, { { KEYS_ALT, 'p', 0 } } },
	{ "Alt-C", "colour the answers' tokens by probability, on or off",
	    chatscreen_colour_key, { { KEYS_ALT, 'c', 0 } } },
	{ "Ctrl-O", "sessions: search, resume, fork, delete, export",
	    chatscreen_sessions, { { KEYS_CTRL, 'o', 0 } } },
	{ "Ctrl-P", "presets: pick, edit a copy, save", chatscreen_presets,
	    { { KEYS_CTRL, 'p', 0 } } },
	{ "Ctrl-T", "templates: pick, fill in, send", chatscreen_templates,
	    { { KEYS_CTRL, 't', 0 } } },
	{ "F1, ?", "this help (? on an empty prompt)", chatscreen_help_key,
	    { { KEYS_F1, 0, 0 }, { KEYS_CHAR, '?', 0 } } },
	{ "Ctrl-L", "redraw the screen", chatscreen_redraw,
	    { { KEYS_CTRL, 'l', 0 } } },
	{ "Ctrl-Z", "suspend vkchat (fg brings it back)", NULL, { { 0 } } },
};

/* A binding left zero (KEYS_CHAR with no character) matches no key. */
static int
chatscreen_match(const struct chatscreen_bind *b, const struct keys_event *ev)
{
	if (b->code != ev->code || (b->mods & ev->mods) != b->mods)
		return 0;
	if ((b->code == KEYS_CHAR || b->code == KEYS_CTRL ||
		b->code == KEYS_ALT) &&
	    b->cp != ev->cp)
		return 0;
	return 1;
}

static void
chatscreen_key(struct tui *t, struct view *v, const struct keys_event *ev)
{
	size_t i, k;

	(void)v;
	if (t->ask == TUI_ASK_QUIT) {
		t->ask = TUI_ASK_NONE;
		if (ev->code == KEYS_CHAR && (ev->cp == 'y' || ev->cp == 'Y'))
			t->quit = 1;
		return;
	}
	if (t->cmp != NULL && comparemode_key(t, ev))
		return;
	for (i = 0; i < ARRAY_LEN(chatscreen_keys); i++) {
		const struct chatscreen_key *r = &chatscreen_keys[i];

		for (k = 0; r->fn != NULL && k < ARRAY_LEN(r->bind); k++)
			if (chatscreen_match(&r->bind[k], ev)) {
				if (r->fn(t, ev))
					return;
				goto prompt;
			}
	}
prompt:
	prompt_feed(t, ev->raw, ev->len);
}

static void
chatscreen_template(struct tui *t, const char *args)
{
	struct db_template_var *vars;
	struct err err;
	char **w, *eq;
	size_t n, i;

	if (args[0] == '\0') {
		picker_open(t, PICKER_TEMPLATES);
		return;
	}
	if (slash_split(args, &w, &n, &err) < 0) {
		tui_notice(t, 1, "%s", err.msg);
		return;
	}
	vars = xcalloc(n, sizeof(*vars));
	for (i = 1; i < n; i++) {
		eq = strchr(w[i], '=');
		if (eq == NULL) {
			tui_notice(t, 1,
			    "template variables are NAME=VALUE, not '%s'",
			    w[i]);
			goto out;
		}
		*eq = '\0';
		vars[i - 1].name = w[i];
		vars[i - 1].value = eq + 1;
	}
	if (n == 1) {
		/* No values given: let the form ask for them. */
		picker_open_template(t, w[0]);
		goto out;
	}
	if (chatctl_send_template(t, w[0], vars, n - 1, &err) < 0)
		tui_notice(t, 1, "%s", err.msg);
out:
	free(vars);
	slash_words_free(w);
}

static void
chatscreen_cmd_help(struct tui *t, const char *args, int bang)
{
	(void)args;
	(void)bang;
	chatscreen_help(t);
}

static void
chatscreen_cmd_preset(struct tui *t, const char *args, int bang)
{
	struct err err;

	(void)bang;
	if (args[0] == '\0')
		chatctl_list_presets(t);
	else if (chatctl_use_preset(t, args, &err) < 0)
		tui_notice(t, 1, "%s", err.msg);
	else
		chatctl_show_params(t, 0);
}

static void
chatscreen_cmd_set(struct tui *t, const char *args, int bang)
{
	struct err err;
	int cols;

	(void)bang;
	if (args[0] == '\0') {
		chatctl_show_params(t, 0);
	} else if ((cols = comparemode_set(t, args, &err)) < 0 ||
	    params_set_list(&t->conv.params, args, &err) < 0) {
		tui_notice(t, 1, "%s", err.msg);
	} else {
		t->conv.preset_changed = 1;
		chatctl_show_params(t, 0);
		if (cols > 0)
			tui_notice(
			    t, 0, "set in the %d compare columns too", cols);
	}
}

static void
chatscreen_cmd_params(struct tui *t, const char *args, int bang)
{
	(void)args;
	(void)bang;
	chatctl_show_params(t, 1);
}

static void
chatscreen_cmd_system(struct tui *t, const char *args, int bang)
{
	(void)bang;
	params_set(&t->conv.params, "system", args, NULL);
	tui_notice(t, 0,
	    args[0] ? "system prompt set for the next answers"
		    : "system prompt cleared");
}

static void
chatscreen_cmd_template(struct tui *t, const char *args, int bang)
{
	(void)bang;
	chatscreen_template(t, args);
}

static void
chatscreen_cmd_regen(struct tui *t, const char *args, int bang)
{
	(void)args;
	(void)bang;
	chatctl_regen(t);
}

static void
chatscreen_cmd_edit(struct tui *t, const char *args, int bang)
{
	(void)args;
	chatctl_edit(t, bang);
}

static void
chatscreen_cmd_fork(struct tui *t, const char *args, int bang)
{
	(void)args;
	(void)bang;
	chatctl_fork(t);
}

static void
chatscreen_cmd_new(struct tui *t, const char *args, int bang)
{
	(void)args;
	(void)bang;
	if (t->generating) {
		tui_notice(t, 1, "stop the answer first (Ctrl-C)");
		return;
	}
	chatctl_new_session(t);
	tui_notice(
	    t, 0, "new session: it is saved when you send the first prompt");
}

static void
chatscreen_cmd_sessions(struct tui *t, const char *args, int bang)
{
	(void)args;
	(void)bang;
	browser_open(t);
}

static void
chatscreen_cmd_export(struct tui *t, const char *args, int bang)
{
	(void)bang;
	chatctl_export(t, args);
}

static void
chatscreen_cmd_compare(struct tui *t, const char *args, int bang)
{
	(void)bang;
	comparemode_command(t, args);
}

static void
chatscreen_cmd_runs(struct tui *t, const char *args, int bang)
{
	(void)bang;
	comparemode_runs(t, args);
}

static void
chatscreen_cmd_probs(struct tui *t, const char *args, int bang)
{
	(void)args;
	(void)bang;
	chatscreen_inspect(t);
}

static void
chatscreen_cmd_colour(struct tui *t, const char *args, int bang)
{
	(void)bang;
	if (args[0] == '\0')
		chatscreen_colour(t, !t->probs_colour);
	else if (strcmp(args, "on") == 0)
		chatscreen_colour(t, 1);
	else if (strcmp(args, "off") == 0)
		chatscreen_colour(t, 0);
	else
		tui_notice(t, 1, "/colour takes on or off, not '%.40s'", args);
}

static void
chatscreen_cmd_man(struct tui *t, const char *args, int bang)
{
	(void)bang;
	chatctl_man(t, args);
}

static void
chatscreen_cmd_quit(struct tui *t, const char *args, int bang)
{
	(void)args;
	(void)bang;
	t->quit = 1;
}

/* The handler of every slash command (slash.h), by its id. */
static void (*const chatscreen_cmds[SLASH_N])(
    struct tui *t, const char *args, int bang) = {
	[SLASH_HELP] = chatscreen_cmd_help,
	[SLASH_PRESET] = chatscreen_cmd_preset,
	[SLASH_SET] = chatscreen_cmd_set,
	[SLASH_SYSTEM] = chatscreen_cmd_system,
	[SLASH_TEMPLATE] = chatscreen_cmd_template,
	[SLASH_REGEN] = chatscreen_cmd_regen,
	[SLASH_EDIT] = chatscreen_cmd_edit,
	[SLASH_FORK] = chatscreen_cmd_fork,
	[SLASH_NEW] = chatscreen_cmd_new,
	[SLASH_SESSIONS] = chatscreen_cmd_sessions,
	[SLASH_EXPORT] = chatscreen_cmd_export,
	[SLASH_COMPARE] = chatscreen_cmd_compare,
	[SLASH_RUNS] = chatscreen_cmd_runs,
	[SLASH_PARAMS] = chatscreen_cmd_params,
	[SLASH_PROBS] = chatscreen_cmd_probs,
	[SLASH_COLOUR] = chatscreen_cmd_colour,
	[SLASH_MAN] = chatscreen_cmd_man,
	[SLASH_QUIT] = chatscreen_cmd_quit,
};

void
chatscreen_submit(struct tui *t, const char *line)
{
	const struct slash_cmd *c;
	const char *args, *p = line;
	char *cmd;
	size_t n;
	int bang = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '\0') {
		t->editing = 0;
		return;
	}
	if (line[0] == '/' && line[1] != '/') {
		/* Completion leaves a space after the last word. */
		cmd = xstrdup(line);
		n = strlen(cmd);
		while (n > 0 &&
		    (cmd[n - 1] == ' ' || cmd[n - 1] == '\t' ||
			cmd[n - 1] == '\n'))
			cmd[--n] = '\0';
		c = slash_find(cmd, &args, &bang);
		if (c == NULL) {
			tui_notice(t, 1,
			    "unknown command '%.40s' (/help lists "
			    "them; start with // to send a /)",
			    cmd);
			prompt_set(t, line);
		} else {
			chatscreen_cmds[c->id](t, args, bang);
		}
		free(cmd);
		return;
	}
	chatctl_send(t, line[0] == '/' ? line + 1 : line);
}

/* The help overlay's text: keys, compare keys, commands, manual pages. */
static void
chatscreen_help(struct tui *t)
{
	const struct slash_cmd *c;
	const struct view_keyhelp *k;
	struct sbuf out, cmd;
	size_t i;

	sbuf_init(&out);
	sbuf_init(&cmd);
	sbuf_adds(&out, "Keys\n");
	for (i = 0; i < ARRAY_LEN(chatscreen_keys); i++)
		if (chatscreen_keys[i].keys != NULL)
			sbuf_addf(&out, "  %-16s %s\n", chatscreen_keys[i].keys,
			    chatscreen_keys[i].what);
	sbuf_adds(&out, "\nToken colours (Alt-C, /colour)\n");
	sbuf_adds(&out,
	    "  Each token of an answer generated in this run, by "
	    "the probability the\n  model gave it (before the "
	    "sampler chain; the inspector's 'model'\n  column):\n");
	for (i = 0; i < TOKMAP_N; i++) {
		sbuf_reset(&cmd);
		if (i + 1 < TOKMAP_N)
			sbuf_addf(&cmd, "p >= %s",
			    tokmap_band_floor((enum tokmap_band)i));
		else
			sbuf_addf(&cmd, "p < %s",
			    tokmap_band_floor((enum tokmap_band)(i - 1)));
		sbuf_addf(
		    &out, "  %-16s %s\n", cmd.buf, screen_band_look(t, (int)i));
	}
	sbuf_adds(&out, "\nCompare mode (/compare)\n");
	for (k = comparemode_keys_help; k->keys != NULL; k++)
		sbuf_addf(&out, "  %-16s %s\n", k->keys, k->what);
	sbuf_adds(&out, "\nCommands\n");
	for (c = slash_table; c->name != NULL; c++) {
		sbuf_reset(&cmd);
		sbuf_addf(
		    &cmd, "/%s%s%s", c->name, c->args[0] ? " " : "", c->args);
		if (cmd.len > 24)
			sbuf_addf(
			    &out, "  %s\n  %-24s %s\n", cmd.buf, "", c->help);
		else
			sbuf_addf(&out, "  %-24s %s\n", cmd.buf, c->help);
	}
	sbuf_adds(&out, "\nManual pages (/man TOPIC opens one here)\n");
	for (i = 0; slash_man_pages[i].topic != NULL; i++) {
		sbuf_reset(&cmd);
		sbuf_addf(&cmd, "man vkchat%s%s",
		    slash_man_pages[i].topic[0] ? "-" : "",
		    slash_man_pages[i].topic);
		sbuf_addf(
		    &out, "  %-22s %s\n", cmd.buf, slash_man_pages[i].what);
	}
	sbuf_release(&cmd);
	help_open(t, "vkchat help", sbuf_detach(&out));
}

/* Ctrl-C: drop a question, stop the answer, clear the line, then quit. */
static void
chatscreen_interrupt(struct tui *t, struct view *v)
{
	(void)v;
	if (t->ask == TUI_ASK_QUIT) {
		t->quit = 1;
	} else if (comparemode_interrupt(t)) {
		/* It dropped the save-as-preset question. */
	} else if (t->generating) {
		chatctl_cancel(t);
	} else if (!prompt_empty() || t->editing) {
		prompt_clear(t);
		chatctl_edit_cancel(t);
	} else {
		t->ask = TUI_ASK_QUIT;
	}
}

/* What an overlay asks: the chat controller carries it out. */
static int
chatscreen_request(
    struct tui *t, struct view *v, const struct view_req *r, struct err *err)
{
	(void)v;
	switch (r->act) {
	case VIEW_OPEN_SESSION:
		return chatctl_load_session(t, r->id, err) < 0 ? -1 : 1;
	case VIEW_OPEN_RUN:
		if (chatctl_load_session(t, r->id, err) < 0 ||
		    comparemode_reopen(t, 0, err) < 0)
			return -1;
		return 1;
	case VIEW_SESSION_GONE:
		if (r->id == t->conv.session)
			chatctl_new_session(t);
		return 1;
	case VIEW_USE_PRESET:
		return chatctl_use_preset(t, r->name, err) < 0 ? -1 : 1;
	case VIEW_SEND_TEMPLATE:
		return chatctl_send_template(
			   t, r->name, r->vars, r->n_vars, err) < 0
		    ? -1
		    : 1;
	}
	return 0;
}

static const struct view_ops chatscreen_ops = {
	.name = "chat",
	.draw = chatscreen_draw,
	.key = chatscreen_key,
	.interrupt = chatscreen_interrupt,
	.request = chatscreen_request,
};

void
chatscreen_init(struct tui *t)
{
	t->base.ops = &chatscreen_ops;
	t->base.below = NULL;
	t->top = &t->base;
}
