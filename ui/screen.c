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

#include "text.h"
#include "tokmap.h"

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
		/* Probability bands: green (sure) to red (rare); without
		 * colours, more emphasis the less probable. */
		{ SCREEN_P_SURE, COLOR_GREEN, -1, 0, A_DIM },
		{ SCREEN_P_LIKELY, COLOR_YELLOW, -1, 0, A_NORMAL },
		{ SCREEN_P_UNSURE, COLOR_MAGENTA, -1, 0, A_UNDERLINE },
		{ SCREEN_P_RARE, COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE },
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

const char *
screen_band_look(const struct tui *t, int b)
{
	/* As screen_colours sets SCREEN_P_*. */
	static const char *const colour[TOKMAP_N] = { "green", "yellow",
		"magenta", "bold red" };
	static const char *const mono[TOKMAP_N] = { "dim", "plain",
		"underlined", "bold underlined" };

	if (b < 0 || b >= TOKMAP_N)
		return "plain";
	return t->colour ? colour[b] : mono[b];
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

/* B moved past the middle of a character and the zero-width marks after
 * it, so that a run never starts with what belongs to the one before. */
static size_t
screen_cluster_end(const char *s, size_t len, size_t b)
{
	uint32_t cp;
	int n;

	while (b < len && ((unsigned char)s[b] & 0xc0) == 0x80)
		b++;
	while (b < len) {
		n = text_next(s + b, len - b, &cp);
		if (text_cp_width(cp) != 0)
			break;
		b += (size_t)n;
	}
	return b;
}

/*
 * Draw line L of TR at Y, X (W columns for the line and its indent): as
 * one run in its style, or, where its entry has marks, in runs of the
 * marks' attributes; the characters drawn, and their columns, are the
 * same either way.
 */
static void
screen_transcript_line(
    struct transcript *tr, const struct transcript_line *l, int y, int x, int w)
{
	const struct transcript_mark *m = NULL;
	size_t n = 0, lo, hi, mid, k, a = 0, b;
	uint64_t stamp;
	int attr = screen_style_attr(l->style), run, col = 0, cw, sw, d;

	cw = w - l->indent;
	if (l->off != TRANSCRIPT_NO_OFF)
		m = transcript_marks(tr, l->entry, &n, &stamp);
	if (n == 0) {
		screen_put(y, x + l->indent, l->text, l->len, cw, attr);
		return;
	}
	/* The first mark that ends after the line's start. */
	lo = 0;
	hi = n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m[mid].off + m[mid].len <= l->off)
			lo = mid + 1;
		else
			hi = mid;
	}
	k = lo;
	while (a < l->len && col < cw) {
		if (k < n && m[k].off <= l->off + a) {
			b = m[k].off + m[k].len - l->off;
			run = m[k].kind >= 0 && m[k].kind < TOKMAP_N
			    ? screen_attrs[SCREEN_P_SURE + m[k].kind]
			    : attr;
			k++;
		} else {
			b = k < n ? m[k].off - l->off : l->len;
			run = attr;
		}
		b = screen_cluster_end(
		    l->text, l->len, b > l->len ? l->len : b);
		if (b <= a)
			continue;
		sw = text_width(l->text + a, b - a);
		d = screen_put(
		    y, x + l->indent + col, l->text + a, b - a, cw - col, run);
		col += d;
		if (d < sw)
			break; /* it did not fit: nothing after it is drawn */
		a = b;
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
		screen_transcript_line(tr, &l, y + r, x, w);
	}
}

void
screen_draw(struct tui *t)
{
	if (!t->curses_on || t->top == NULL)
		return;
	erase();
	t->top->ops->draw(t, t->top);
	refresh();
}
