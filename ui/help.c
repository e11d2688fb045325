/*
 * help: the help overlay.  Its text is built from the slash-command
 * table, so the commands listed are always the ones that exist; the keys
 * and the manual pages are written here.
 */
#include "help.h"

#include <curses.h>
#include <string.h>

#include "screen.h"
#include "slash.h"
#include "text.h"

static const char *const help_keys[] = {
	"Enter            send the prompt (a line starting with / is a "
	"command)",
	"Alt-Enter, C-j   new line in the prompt; pasted text keeps its lines",
	"Tab              complete commands, presets, templates, parameters",
	"Up, Down, C-r    history (readline: emacs or vi keys, ~/.inputrc)",
	"Ctrl-C, Esc      stop the answer being generated (it is kept)",
	"Ctrl-C           clear the prompt; on an empty prompt, quit (asks)",
	"Ctrl-D           quit (on an empty prompt)",
	"PgUp, PgDn       scroll the conversation (also the mouse wheel)",
	"Alt-Left, Right  step through the answers to the last prompt",
	"Ctrl-O           sessions: search, resume, fork, delete, export",
	"Ctrl-P           presets: pick, edit a copy, save",
	"Ctrl-T           templates: pick, fill in, send",
	"F1, ?            this help (? on an empty prompt)",
	"Ctrl-L           redraw the screen;  Ctrl-Z suspends",
	"Compare mode (/compare): Ctrl-C stops all columns, Alt-1..8 one;",
	"  1-8 picks the winner, s N saves column N as a preset, Esc leaves",
	"  stored runs: /runs or c in Ctrl-O reopens them, [ ] steps through",
	NULL,
};

static const char *const help_man[] = {
	"man vkchat            the program, its commands and options",
	"man vkchat-tui        this screen: keys, commands, views",
	"man vkchat-sampling   what every parameter does (/set, presets)",
	"man vkchat-presets    the preset file format",
	"man vkchat-storage    the database, export and import",
	"/man TOPIC opens vkchat-TOPIC without leaving vkchat.",
	NULL,
};

/* Every line of the help text, as display text, joined by newlines. */
static void
help_text(struct sbuf *out)
{
	const struct slash_cmd *c;
	struct sbuf cmd;
	size_t i;

	sbuf_init(&cmd);
	sbuf_adds(out, "Keys\n");
	for (i = 0; help_keys[i] != NULL; i++)
		sbuf_addf(out, "  %s\n", help_keys[i]);
	sbuf_adds(out, "\nCommands\n");
	for (c = slash_table; c->name != NULL; c++) {
		sbuf_reset(&cmd);
		sbuf_addf(
		    &cmd, "/%s%s%s", c->name, c->args[0] ? " " : "", c->args);
		if (cmd.len > 24)
			sbuf_addf(
			    out, "  %s\n  %-24s %s\n", cmd.buf, "", c->help);
		else
			sbuf_addf(out, "  %-24s %s\n", cmd.buf, c->help);
	}
	sbuf_adds(out, "\nManual pages\n");
	for (i = 0; help_man[i] != NULL; i++)
		sbuf_addf(out, "  %s\n", help_man[i]);
	sbuf_release(&cmd);
}

void
help_open(struct tui *t)
{
	t->mode = TUI_HELP;
	t->help_top = 0;
}

static size_t
help_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

void
help_draw(struct tui *t)
{
	struct sbuf text;
	const char *line, *nl;
	size_t k = 0, n;
	int y = 1, h = t->rows - 2;

	sbuf_init(&text);
	help_text(&text);
	n = help_lines(text.buf);
	if (h > 0 && t->help_top + (size_t)h > n)
		t->help_top = n > (size_t)h ? n - (size_t)h : 0;
	screen_fill(0, 0, t->cols, screen_attr(SCREEN_TITLE));
	screen_puts(
	    0, 1, "vkchat help", t->cols - 1, screen_attr(SCREEN_TITLE));
	for (line = text.buf; *line != '\0' && y <= h; line = nl + 1, k++) {
		nl = strchr(line, '\n');
		if (k < t->help_top)
			continue;
		screen_put(y++, 1, line, (size_t)(nl - line), t->cols - 2,
		    line[0] != ' ' ? screen_attr(SCREEN_USER) : (int)A_NORMAL);
	}
	screen_fill(t->rows - 1, 0, t->cols, screen_attr(SCREEN_STATUS));
	screen_puts(t->rows - 1, 1,
	    "Esc/q close  Up/Down/PgUp/PgDn scroll  /man TOPIC opens a page",
	    t->cols - 2, screen_attr(SCREEN_STATUS));
	curs_set(0);
	sbuf_release(&text);
}

void
help_key(struct tui *t, const struct keys_event *ev)
{
	size_t page = t->rows > 4 ? (size_t)t->rows - 3 : 1;

	switch (ev->code) {
	case KEYS_ESC:
	case KEYS_F1:
	case KEYS_ENTER:
		t->mode = TUI_CHAT;
		break;
	case KEYS_CHAR:
		if (ev->cp == 'q' || ev->cp == '?')
			t->mode = TUI_CHAT;
		else if (ev->cp == 'j')
			t->help_top++;
		else if (ev->cp == 'k' && t->help_top > 0)
			t->help_top--;
		break;
	case KEYS_DOWN:
	case KEYS_WHEEL_DOWN:
		t->help_top++;
		break;
	case KEYS_UP:
	case KEYS_WHEEL_UP:
		if (t->help_top > 0)
			t->help_top--;
		break;
	case KEYS_PGDN:
		t->help_top += page;
		break;
	case KEYS_PGUP:
		t->help_top = t->help_top > page ? t->help_top - page : 0;
		break;
	default:
		break;
	}
}
