/*
 * screen: ncurses for the TUI.  Starting and ending curses (with the
 * terminal modes curses does not know: bracketed paste and the mouse
 * wheel), colours (none when NO_COLOR is set or the terminal has none),
 * and drawing: the transcript pane, the status line, the prompt rows, and
 * the primitives the overlays use.  Everything is drawn on stdscr from
 * the state in struct tui; curses sends only what changed.
 */
#ifndef VKCHAT_SCREEN_H
#define VKCHAT_SCREEN_H

#include <stddef.h>

#include "transcript.h"
#include "tui.h"

enum screen_colour {
	SCREEN_NORMAL,
	SCREEN_USER,
	SCREEN_ASSISTANT,
	SCREEN_SYSTEM,
	SCREEN_CODE,
	SCREEN_FENCE,
	SCREEN_META,
	SCREEN_NOTICE,
	SCREEN_ERROR,
	SCREEN_STATUS,
	SCREEN_PROMPT,
	SCREEN_SELECT,
	SCREEN_TITLE,
	SCREEN_HINT,
	/* Tokens coloured by probability, tokmap.h's bands in order. */
	SCREEN_P_SURE,
	SCREEN_P_LIKELY,
	SCREEN_P_UNSURE,
	SCREEN_P_RARE,
	SCREEN_N,
};

/* Start curses on the terminal (stdin/stdout must be terminals). */
void screen_init(struct tui *t);
/*
 * From a fatal signal's handler: put the terminal back as it was before
 * screen_init (its settings, the main screen, the cursor, no mouse or
 * paste modes) using only async-signal-safe calls.
 */
void screen_emergency(void);
/* Give the terminal back as it was. */
void screen_end(struct tui *t);
/* Leave curses for a while (suspend, a child program) / come back. */
void screen_suspend(struct tui *t);
void screen_resume(struct tui *t);
/* The terminal changed size: take the new size and redraw. */
void screen_resize(struct tui *t);
/* Force a full repaint at the next draw (Ctrl-L). */
void screen_repaint(void);

/* Draw the current mode and put the cursor where it belongs. */
void screen_draw(struct tui *t);

/* The curses attributes for a colour role. */
int screen_attr(enum screen_colour c);
/*
 * How tokmap.h's band B is drawn, for a legend: its colour ("green"), or
 * on a terminal without colours its attributes ("underlined").
 */
const char *screen_band_look(const struct tui *t, int b);

/*
 * Draw LEN bytes of display text S at Y, X in at most WIDTH columns with
 * ATTR; returns the columns drawn.  Untrusted text must be sanitised
 * first (text_sanitize): this only clips.
 */
int screen_put(int y, int x, const char *s, size_t len, int width, int attr);
/* Sanitise S (one line) and draw it; returns the columns drawn. */
int screen_puts(int y, int x, const char *s, int width, int attr);
/* Fill WIDTH columns at Y, X with spaces in ATTR. */
void screen_fill(int y, int x, int width, int attr);

/*
 * Draw transcript TR (resized to W x H) in the rectangle at Y, X.  The
 * marks of its entries (tokmap.h's bands) are drawn in SCREEN_P_*; the
 * lines are the same with or without them.
 */
void screen_transcript(struct transcript *tr, int y, int x, int h, int w);

#endif
