/*
 * text: widths, sanitising and wrapping of UTF-8 text for the TUI.
 *
 * Widths come from utf8proc's Unicode tables (not the C library's
 * wcwidth, which depends on the locale and lags behind Unicode), so the
 * layout is the same everywhere and testable without a terminal.
 *
 * The sanitiser is a per-code-point mapping, so text that arrives in
 * pieces gives the same result however it was cut: an escape sequence
 * split across two tokens is still shown as a harmless "␛[31m", because
 * the ESC itself is replaced and nothing after it is special any more.
 * Only an incomplete UTF-8 sequence and a CR (which may start "\r\n")
 * are held back between pieces.
 */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "utf8.h"

int
text_cp_width(uint32_t cp)
{
	int w;

	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 0;
	if (cp > 0x10ffff)
		return 1;
	/* Hangul medial vowels and final consonants join the syllable. */
	if (cp >= 0x1160 && cp <= 0x11ff)
		return 0;
	switch (utf8proc_category((utf8proc_int32_t)cp)) {
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_ME:
		return 0;
	case UTF8PROC_CATEGORY_CF:
		/* The soft hyphen is shown by terminals, as wcwidth says. */
		return cp == 0xad ? 1 : 0;
	case UTF8PROC_CATEGORY_CN:
		/* Unassigned: wide in the planes kept for ideographs. */
		if ((cp >= 0x20000 && cp <= 0x2fffd) ||
		    (cp >= 0x30000 && cp <= 0x3fffd))
			return 2;
		return 1;
	default:
		break;
	}
	w = utf8proc_charwidth((utf8proc_int32_t)cp);
	return w < 1 ? 1 : w;
}

int
text_next(const char *s, size_t len, uint32_t *cp)
{
	int n = utf8_decode(s, len, cp);

	if (n <= 0) {
		*cp = 0xfffd;
		return 1;
	}
	return n;
}

int
text_width(const char *s, size_t len)
{
	size_t i = 0;
	int cols = 0;
	uint32_t cp;

	while (i < len) {
		i += (size_t)text_next(s + i, len - i, &cp);
		cols += text_cp_width(cp);
	}
	return cols;
}

void
text_san_init(struct text_san *st, int oneline)
{
	memset(st, 0, sizeof(*st));
	st->oneline = oneline;
}

/* Append code point CP (printable) and advance the column. */
static void
text_san_put(struct text_san *st, struct sbuf *out, uint32_t cp)
{
	char buf[4];

	sbuf_add(out, buf, (size_t)utf8_encode(cp, buf));
	st->col += text_cp_width(cp);
}

static void
text_san_newline(struct text_san *st, struct sbuf *out)
{
	if (st->oneline) {
		text_san_put(st, out, ' ');
		return;
	}
	sbuf_addc(out, '\n');
	st->col = 0;
}

/* One decoded code point (CR handling is the caller's). */
static void
text_san_cp(struct text_san *st, struct sbuf *out, uint32_t cp)
{
	char buf[16];
	int i, n;

	if (cp == '\n') {
		text_san_newline(st, out);
	} else if (cp == '\t') {
		n = TEXT_TAB - st->col % TEXT_TAB;
		for (i = 0; i < n; i++)
			text_san_put(st, out, ' ');
	} else if (cp < 0x20) {
		text_san_put(st, out, 0x2400 + cp);
	} else if (cp == 0x7f) {
		text_san_put(st, out, 0x2421);
	} else if (utf8_hidden(cp)) {
		n = snprintf(buf, sizeof(buf), "<U+%04X>", (unsigned)cp);
		sbuf_add(out, buf, (size_t)n);
		st->col += n;
	} else if ((cp & 0xfffe) == 0xfffe) {
		/* Noncharacters U+xFFFE and U+xFFFF. */
		text_san_put(st, out, 0xfffd);
	} else {
		text_san_put(st, out, cp);
	}
}

/* Process bytes S[0..LEN); returns how many were used (the rest waits). */
static size_t
text_san_run(
    struct text_san *st, struct sbuf *out, const char *s, size_t len, int final)
{
	size_t i = 0;
	uint32_t cp;
	int n;

	while (i < len) {
		if (s[i] == '\r') {
			if (i + 1 == len && !final)
				break;
			if (i + 1 < len && s[i + 1] == '\n') {
				text_san_newline(st, out);
				i += 2;
			} else {
				text_san_put(st, out, 0x240d);
				i++;
			}
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (n == 0 && !final)
			break;
		if (n <= 0) {
			text_san_put(st, out, 0xfffd);
			i++;
			continue;
		}
		text_san_cp(st, out, cp);
		i += (size_t)n;
	}
	return i;
}

void
text_san_feed(struct text_san *st, struct sbuf *out, const char *s, size_t len)
{
	char buf[8];
	size_t k, used;

	/* First complete what was held back, one byte at a time. */
	while (st->npend > 0 && len > 0) {
		memcpy(buf, st->pend, st->npend);
		buf[st->npend] = *s;
		k = st->npend + 1;
		used = text_san_run(st, out, buf, k, 0);
		s++;
		len--;
		if (used == k) {
			st->npend = 0;
		} else if (used == 0 && k <= sizeof(st->pend)) {
			memcpy(st->pend, buf, k);
			st->npend = k;
		} else {
			/* Partly used: the rest is a new start. */
			st->npend = 0;
			text_san_feed(st, out, buf + used, k - used);
		}
	}
	used = text_san_run(st, out, s, len, 0);
	if (used < len) {
		memcpy(st->pend, s + used, len - used);
		st->npend = len - used;
	}
}

void
text_san_flush(struct text_san *st, struct sbuf *out)
{
	size_t n = st->npend;

	st->npend = 0;
	if (n > 0)
		text_san_run(st, out, st->pend, n, 1);
}

void
text_sanitize(struct sbuf *out, const char *s, size_t len, int oneline)
{
	struct text_san st;

	text_san_init(&st, oneline);
	text_san_run(&st, out, s, len, 1);
}

void
text_lines_init(struct text_lines *l)
{
	memset(l, 0, sizeof(*l));
}

void
text_lines_release(struct text_lines *l)
{
	free(l->v);
	text_lines_init(l);
}

static void
text_lines_push(struct text_lines *l, size_t off, size_t len, int cols)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].off = off;
	l->v[l->n].len = len;
	l->v[l->n].cols = cols;
	l->n++;
}

/* Wrap one paragraph S[a..b) (no newlines). */
static void
text_wrap_para(const char *s, size_t a, size_t b, int width, int hard,
    struct text_lines *l)
{
	size_t start = a, i, brk, resume;
	int cols, bcols, w, n, have_brk, in_space;
	uint32_t cp;

	if (a == b) {
		text_lines_push(l, a, 0, 0);
		return;
	}
	while (start < b) {
		i = start;
		cols = bcols = 0;
		brk = resume = start;
		have_brk = in_space = 0;
		for (;;) {
			if (i >= b) {
				text_lines_push(l, start, b - start, cols);
				return;
			}
			n = text_next(s + i, b - i, &cp);
			w = text_cp_width(cp);
			if (cp == ' ' && !hard) {
				if (!in_space && i > start) {
					brk = i;
					bcols = cols;
					have_brk = 1;
				}
				in_space = 1;
			} else {
				in_space = 0;
			}
			if (w > 0 && cols + w > width && cols > 0)
				break;
			cols += w;
			i += (size_t)n;
			if (in_space && have_brk)
				resume = i;
		}
		if (have_brk) {
			text_lines_push(l, start, brk - start, bcols);
			start = resume > brk ? resume : brk;
			while (start < b && s[start] == ' ')
				start++;
		} else {
			text_lines_push(l, start, i - start, cols);
			start = i;
		}
	}
}

void
text_wrap(const char *s, size_t len, int width, int hard, struct text_lines *l)
{
	size_t a = 0, b;
	const char *nl;

	if (width < 1)
		width = 1;
	for (;;) {
		nl = memchr(s + a, '\n', len - a);
		b = nl != NULL ? (size_t)(nl - s) : len;
		text_wrap_para(s, a, b, width, hard, l);
		if (nl == NULL)
			break;
		a = b + 1;
	}
}

int
text_fit(struct sbuf *out, const char *s, int width)
{
	size_t len = strlen(s), i = 0, keep = 0;
	int cols = 0, w, n;
	uint32_t cp;

	if (width <= 0)
		return 0;
	if (text_width(s, len) <= width) {
		sbuf_add(out, s, len);
		return text_width(s, len);
	}
	/* Keep what fits in WIDTH - 1 columns, then the ellipsis. */
	while (i < len) {
		n = text_next(s + i, len - i, &cp);
		w = text_cp_width(cp);
		if (cols + w > width - 1)
			break;
		cols += w;
		i += (size_t)n;
		keep = i;
	}
	sbuf_add(out, s, keep);
	sbuf_adds(out, "\xe2\x80\xa6");
	return cols + 1;
}

/* Emit one display piece of COLS columns, wrapping first if needed. */
static void
text_edit_put(struct sbuf *out, const char *piece, size_t len, int cols,
    int width, int *row, int *col)
{
	if (*col + cols > width && *col > 0) {
		sbuf_addc(out, '\n');
		(*row)++;
		*col = 0;
	}
	sbuf_add(out, piece, len);
	*col += cols;
}

void
text_edit_view(const char *prompt, const char *buf, size_t len, size_t point,
    int width, struct sbuf *out, int *rows, int *crow, int *ccol)
{
	struct sbuf piece;
	size_t i = 0, k;
	int row = 0, col = 0, pw, n, cursor_set = 0;
	uint32_t cp;
	char caret[2];

	if (width < 4)
		width = 4;
	sbuf_init(&piece);
	pw = text_width(prompt, strlen(prompt));
	text_edit_put(out, prompt, strlen(prompt), pw, width, &row, &col);
	if (pw > 8)
		pw = 8;
	while (i <= len) {
		if (i == point && !cursor_set) {
			if (col >= width) {
				sbuf_addc(out, '\n');
				row++;
				col = 0;
			}
			*crow = row;
			*ccol = col;
			cursor_set = 1;
		}
		if (i == len)
			break;
		n = text_next(buf + i, len - i, &cp);
		sbuf_reset(&piece);
		if (cp == '\n') {
			sbuf_addc(out, '\n');
			row++;
			col = 0;
			for (k = 0; k < (size_t)pw; k++)
				sbuf_addc(out, ' ');
			col = pw;
		} else if (cp == '\t') {
			k = (size_t)(TEXT_TAB - col % TEXT_TAB);
			while (k-- > 0)
				text_edit_put(
				    out, " ", 1, 1, width, &row, &col);
		} else if (cp < 0x20 || cp == 0x7f) {
			caret[0] = '^';
			caret[1] = cp == 0x7f ? '?' : (char)(cp + 0x40);
			text_edit_put(out, caret, 2, 2, width, &row, &col);
		} else {
			text_sanitize(&piece, buf + i, (size_t)n, 1);
			text_edit_put(out, piece.buf, piece.len,
			    text_width(piece.buf, piece.len), width, &row,
			    &col);
		}
		i += (size_t)n;
	}
	if (!cursor_set) {
		*crow = row;
		*ccol = col;
	}
	sbuf_release(&piece);
	*rows = row + 1;
}
