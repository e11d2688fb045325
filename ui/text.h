/*
 * text: terminal-free text handling for the TUI: the display width of
 * UTF-8 text, turning untrusted text (model output, stored messages) into
 * something safe to send to a terminal, and word wrapping.
 *
 * Safe text ("display text") is valid UTF-8 with no control characters
 * except '\n': everything else the terminal could act on (C0 and C1
 * controls, ESC and thus every CSI, OSC and DCS sequence, DEL, bidi
 * overrides) is replaced by a visible, inert form, and tabs are expanded.
 * The wrapper and the widths assume display text.
 */
#ifndef VKCHAT_TEXT_H
#define VKCHAT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Tab stops are every TEXT_TAB columns. */
#define TEXT_TAB 8

/*
 * Display columns of code point CP, with wcwidth's semantics from current
 * Unicode data: 0 for combining marks, format characters and other
 * zero-width code points, 2 for East Asian wide and full-width characters
 * and emoji, 1 for the rest; unassigned code points count 1 (2 in the
 * planes reserved for CJK ideographs).  Controls count 0.
 */
int text_cp_width(uint32_t cp);

/*
 * Decode the code point at S (LEN > 0 bytes) into *cp; an invalid or
 * truncated sequence yields U+FFFD for one byte.  Returns the bytes used.
 */
int text_next(const char *s, size_t len, uint32_t *cp);

/* Display columns of LEN bytes of display text (newlines count 0). */
int text_width(const char *s, size_t len);

/*
 * The sanitiser's state for text that arrives in pieces (streaming): the
 * column within the current line (for tabs) and bytes held back (an
 * incomplete UTF-8 sequence, a CR that may be followed by LF).
 * Caller-owned storage, no release needed.
 */
struct text_san {
	int col;
	size_t npend;
	char pend[4];
	int oneline; /* newlines become spaces */
};

/* Start a sanitiser; ONELINE turns newlines into spaces. */
void text_san_init(struct text_san *st, int oneline);

/*
 * Append the display form of LEN bytes of untrusted S to OUT: printable
 * text as it is; '\n' kept (a space when oneline); "\r\n" becomes '\n';
 * tabs expanded with spaces; other C0 controls, ESC and DEL as their
 * Unicode control pictures (U+2400..U+2421: ESC is shown as U+241B); C1
 * controls, bidi embeddings, overrides and isolates, and U+2028/U+2029 as
 * "<U+XXXX>"; invalid bytes as U+FFFD.  An incomplete sequence at the end
 * is held back until the next call or text_san_flush.
 */
void text_san_feed(
    struct text_san *st, struct sbuf *out, const char *s, size_t len);

/* Emit whatever is held back (an incomplete sequence becomes U+FFFD). */
void text_san_flush(struct text_san *st, struct sbuf *out);

/* Sanitise a whole string S (LEN bytes) into OUT (appending). */
void text_sanitize(struct sbuf *out, const char *s, size_t len, int oneline);

/* One line of wrapped text: LEN bytes at OFF, COLS columns wide. */
struct text_line {
	size_t off;
	size_t len;
	int cols;
};

/* A growable array of lines.  Caller-owned: text_lines_init / _release. */
struct text_lines {
	struct text_line *v;
	size_t n;
	size_t cap;
};

void text_lines_init(struct text_lines *l);
void text_lines_release(struct text_lines *l);

/*
 * Break LEN bytes of display text S into lines of at most WIDTH columns,
 * appending them to L: at every '\n', and where a line would overflow, at
 * the last run of spaces (which is dropped) or, in a word longer than the
 * line or when HARD is set, before the character that does not fit (a
 * wide character never straddles the edge; combining marks stay with
 * their base).  A character wider than WIDTH gets a line of its own.  An
 * empty text, and an empty line between newlines, make one empty line.
 */
void text_wrap(
    const char *s, size_t len, int width, int hard, struct text_lines *l);

/*
 * The screen form of an edit line: PROMPT (display text) then BUF (LEN
 * bytes typed by the user, untrusted) hard-wrapped at WIDTH columns, a
 * new row at each newline in BUF (continuation rows start with as many
 * spaces as the prompt is wide, at most 8), control characters shown as
 * ^X, tabs as spaces, everything else as text_sanitize shows it.  The
 * rows go to OUT separated by '\n'; the number of rows to *rows, and the
 * row and column of the cursor (before byte POINT of BUF) to *crow and
 * *ccol.
 */
void text_edit_view(const char *prompt, const char *buf, size_t len,
    size_t point, int width, struct sbuf *out, int *rows, int *crow, int *ccol);

/*
 * Append S cut to at most WIDTH columns to OUT, with "…" as the last
 * column when it had to be cut; returns the columns appended.  S must be
 * one line of display text.
 */
int text_fit(struct sbuf *out, const char *s, int width);

#endif
