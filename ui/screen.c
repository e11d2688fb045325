/*
 * screen: curses set-up and the drawing of the chat screen.
 *
 * Layout, top to bottom: the transcript pane, a hint line (only while
 * there is a hint), the status line, and the prompt rows (one, growing
 * with multi-line input up to a third of the screen).  The overlays
 * (help, session browser, pickers) draw over the whole screen with the
 * primitives below.
 *
 * Curses runs with cbreak (signals stay with the terminal driver, and
 * the TUI turns them into events through its self-pipe), no echo, no
 * keypad translation (readline wants the keys' own bytes; keys.c
 * decodes them), and the default colours of the terminal as background.
 * Text reaches curses only through screen_put, which draws display text
 * (already sanitised) one character cluster at a time at the columns
 * text.c computed, so curses' and our idea of widths cannot drift apart
 * by more than one cell.
 */
#include "screen.h"

#include <curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "browser.h"
#include "compareview.h"
#include "help.h"
#include "picker.h"
#include "prompt.h"
#include "text.h"

static int screen_attrs[SCREEN_N];

/* Bracketed paste on, mouse wheel reports (X10 + SGR) on. */
#define SCREEN_MODES_ON "\033[?2004h\033[?1000h\033[?1006h"
#define SCREEN_MODES_OFF "\033[?1006l\033[?1000l\033[?2004l"

static void
screen_modes(int on)
{
	fputs(on ? SCREEN_MODES_ON : SCREEN_MODES_OFF, stdout);
	fflush(stdout);
}

static void
screen_colours(struct tui *t)
{
	static const struct {
		enum screen_colour c;
		short fg, bg;
		int attr, mono;
	} map[] = {
		{ SCREEN_USER, COLOR_CYAN, -1, A_BOLD, A_BOLD },
		{ SCREEN_ASSISTANT, COLOR_GREEN, -1, A_BOLD, A_BOLD },
		{ SCREEN_SYSTEM, COLOR_MAGENTA, -1, A_BOLD, A_BOLD },
		{ SCREEN_CODE, COLOR_YELLOW, -1, 0, 0 },
		{ SCREEN_FENCE, COLOR_YELLOW, -1, A_DIM, A_DIM },
		{ SCREEN_META, COLOR_BLUE, -1, 0, A_DIM },
		{ SCREEN_NOTICE, COLOR_CYAN, -1, 0, A_DIM },
		{ SCREEN_ERROR, COLOR_RED, -1, A_BOLD, A_BOLD },
		{ SCREEN_STATUS, COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
		{ SCREEN_PROMPT, COLOR_CYAN, -1, A_BOLD, A_BOLD },
		{ SCREEN_SELECT, COLOR_BLACK, COLOR_WHITE, 0, A_REVERSE },
		{ SCREEN_TITLE, COLOR_WHITE, COLOR_BLUE, A_BOLD,
		    A_REVERSE | A_BOLD },
		{ SCREEN_HINT, COLOR_YELLOW, -1, 0, A_BOLD },
	};
	const char *nc = getenv("NO_COLOR");
	size_t i;

	t->colour = has_colors() && (nc == NULL || nc[0] == '\0');
	if (t->colour) {
		start_color();
		if (use_default_colors() == ERR)
			assume_default_colors(COLOR_WHITE, COLOR_BLACK);
	}
	screen_attrs[SCREEN_NORMAL] = A_NORMAL;
	for (i = 0; i < ARRAY_LEN(map); i++) {
		if (t->colour && COLOR_PAIRS > (int)map[i].c) {
			init_pair((short)map[i].c, map[i].fg, map[i].bg);
			screen_attrs[map[i].c] =
			    COLOR_PAIR((int)map[i].c) | map[i].attr;
		} else {
			screen_attrs[map[i].c] = map[i].mono;
		}
	}
}

/* The terminal as it was before curses, for screen_emergency(). */
static struct termios screen_saved;
static volatile sig_atomic_t screen_saved_ok;

void
screen_emergency(void)
{
	static const char reset[] = SCREEN_MODES_OFF "\033[?1049l\033[?25h"
						     "\033[0m\r\n";

	if (!screen_saved_ok)
		return;
	/* async-signal-safe only: no curses here */
	tcsetattr(STDIN_FILENO, TCSANOW, &screen_saved);
	if (write(STDOUT_FILENO, reset, sizeof(reset) - 1) < 0) {
		/* nothing more to do on the way out */
	}
}

void
screen_init(struct tui *t)
{
	if (tcgetattr(STDIN_FILENO, &screen_saved) == 0)
		screen_saved_ok = 1;
	initscr();
	cbreak();
	/* Ctrl-C is a key here: keep what was typed after it (NOFLSH). */
	noqiflush();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, FALSE);
	meta(stdscr, TRUE);
	screen_colours(t);
	getmaxyx(stdscr, t->rows, t->cols);
	refresh();
	screen_modes(1);
	t->curses_on = 1;
}

void
screen_end(struct tui *t)
{
	screen_suspend(t);
}

void
screen_suspend(struct tui *t)
{
	if (!t->curses_on)
		return;
	screen_modes(0);
	endwin();
	t->curses_on = 0;
}

void
screen_resume(struct tui *t)
{
	if (t->curses_on)
		return;
	reset_prog_mode();
	clearok(curscr, TRUE);
	refresh();
	screen_modes(1);
	t->curses_on = 1;
	screen_resize(t);
}

void
screen_resize(struct tui *t)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	getmaxyx(stdscr, t->rows, t->cols);
	clearok(curscr, TRUE);
}

void
screen_repaint(void)
{
	clearok(curscr, TRUE);
}

int
screen_attr(enum screen_colour c)
{
	return screen_attrs[c];
}

int
screen_put(int y, int x, const char *s, size_t len, int width, int attr)
{
	size_t i = 0, j;
	int col = 0, w, n;
	uint32_t cp;

	if (width <= 0)
		return 0;
	attrset(attr);
	while (i < len) {
		n = text_next(s + i, len - i, &cp);
		w = text_cp_width(cp);
		if (col + w > width)
			break;
		/* A character and the zero-width marks after it. */
		j = i + (size_t)n;
		while (j < len) {
			n = text_next(s + j, len - j, &cp);
			if (text_cp_width(cp) != 0)
				break;
			j += (size_t)n;
		}
		if (w > 0)
			mvaddnstr(y, x + col, s + i, (int)(j - i));
		col += w;
		i = j;
	}
	attrset(A_NORMAL);
	return col;
}

int
screen_puts(int y, int x, const char *s, int width, int attr)
{
	struct sbuf sb;
	int n;

	sbuf_init(&sb);
	text_sanitize(&sb, s, strlen(s), 1);
	n = screen_put(y, x, sb.buf, sb.len, width, attr);
	sbuf_release(&sb);
	return n;
}

void
screen_fill(int y, int x, int width, int attr)
{
	int i;

	attrset(attr);
	for (i = 0; i < width; i++)
		mvaddch(y, x + i, ' ');
	attrset(A_NORMAL);
}

static int
screen_style_attr(enum transcript_style s)
{
	switch (s) {
	case TRANSCRIPT_S_LABEL_USER:
		return screen_attrs[SCREEN_USER];
	case TRANSCRIPT_S_LABEL_ASSISTANT:
		return screen_attrs[SCREEN_ASSISTANT];
	case TRANSCRIPT_S_LABEL_SYSTEM:
		return screen_attrs[SCREEN_SYSTEM];
	case TRANSCRIPT_S_CODE:
		return screen_attrs[SCREEN_CODE];
	case TRANSCRIPT_S_FENCE:
		return screen_attrs[SCREEN_FENCE];
	case TRANSCRIPT_S_META:
		return screen_attrs[SCREEN_META];
	case TRANSCRIPT_S_NOTICE:
		return screen_attrs[SCREEN_NOTICE];
	case TRANSCRIPT_S_ERROR:
		return screen_attrs[SCREEN_ERROR];
	default:
		return A_NORMAL;
	}
}

void
screen_transcript(struct transcript *tr, int y, int x, int h, int w)
{
	struct transcript_line l;
	size_t top;
	int r;

	transcript_resize(tr, w, h);
	top = transcript_top(tr);
	for (r = 0; r < h; r++) {
		if (transcript_line(tr, top + (size_t)r, &l) < 0)
			break;
		if (l.style == TRANSCRIPT_S_CODE && l.indent >= 2)
			screen_put(y + r, x + l.indent - 2, "\xe2\x94\x82", 3,
			    1, screen_attrs[SCREEN_FENCE]);
		screen_put(y + r, x + l.indent, l.text, l.len, w - l.indent,
		    screen_style_attr(l.style));
	}
}

/* The right end of the status line: activity, or the scroll position. */
static void
screen_activity(struct tui *t, struct sbuf *sb, size_t below)
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
screen_status(struct tui *t, int y)
{
	struct sbuf left, right, fit;
	const char *sep = t->utf8 ? " \xe2\x94\x82 " : " | ";
	int attr = screen_attrs[SCREEN_STATUS], rw;

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
	screen_activity(t, &right, transcript_from_bottom(t->tr));
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
screen_chat(struct tui *t)
{
	struct sbuf view;
	int rows, crow, ccol, max_rows, first, h, y, r;
	const char *line, *nl;
	size_t plen;

	sbuf_init(&view);
	if (t->ask == TUI_ASK_QUIT) {
		sbuf_adds(&view, "Quit vkchat? (y/n) ");
		plen = view.len;
		rows = 1;
		crow = 0;
		ccol = text_width(view.buf, view.len);
	} else if (compareview_ask_line(t, t->cols, &view, &plen, &ccol)) {
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
	if (t->cmp != NULL) {
		/* The last notices over the columns, when there is room. */
		y = h >= 14 ? 4 : 0;
		if (y > 0)
			screen_transcript(t->tr, 0, 0, y, t->cols);
		compareview_draw(t, y, h - y);
	} else {
		screen_transcript(t->tr, 0, 0, h, t->cols);
	}
	y = h;
	if (t->hint != NULL) {
		screen_puts(y, 0, t->hint, t->cols, screen_attrs[SCREEN_HINT]);
		y++;
	}
	screen_status(t, y++);
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
		    y, 0, view.buf, plen, t->cols, screen_attrs[SCREEN_PROMPT]);
	curs_set(1);
	move(y + crow - first, ccol < t->cols ? ccol : t->cols - 1);
	sbuf_release(&view);
}

void
screen_draw(struct tui *t)
{
	if (!t->curses_on)
		return;
	erase();
	switch (t->mode) {
	case TUI_CHAT:
		screen_chat(t);
		break;
	case TUI_HELP:
		help_draw(t);
		break;
	case TUI_BROWSER:
		browser_draw(t);
		break;
	case TUI_PRESETS:
	case TUI_TEMPLATES:
		picker_draw(t);
		break;
	}
	refresh();
}
