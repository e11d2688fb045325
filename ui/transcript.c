/*
 * transcript: entries, their cached layouts and the scroll position.
 *
 * Each entry caches its lines for the width they were made for; a change
 * of text clears that entry's cache, a change of width all of them, and
 * the prefix sums of line counts (which map a line number to its entry)
 * are rebuilt lazily when any cache was cleared.  Streaming appends to
 * the last entry only, so a token costs one entry's layout at the next
 * draw, not the whole transcript's.
 *
 * The view is "follow" (the bottom is shown, and stays shown as lines
 * arrive) or an absolute top line.  Text is only ever appended to the
 * last entry, so an absolute top keeps showing the same lines while an
 * answer streams in below; a width change moves the top to where its
 * entry and line went.
 *
 * Marks (transcript_set_marks) are kept per entry for the drawing code
 * and never read here: setting them leaves the layout as it is.
 */
#include "transcript.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

struct transcript_entry {
	enum transcript_role role;
	char *label; /* display text; NULL = none */
	char *meta;  /* display text; NULL = none */
	struct sbuf raw;
	struct sbuf disp;
	struct text_san san;
	int width; /* the layout below is for this width; -1: none */
	struct transcript_line *lines;
	size_t n_lines, cap_lines;
	struct transcript_mark *marks; /* (n_marks) by offset */
	size_t n_marks;
	uint64_t mark_stamp; /* 0 when the text changed since */
};

struct transcript {
	struct transcript_entry *e;
	size_t n, cap;
	int width, height;
	int follow;
	size_t top;	/* first line shown when not following */
	size_t *starts; /* first line of each entry; n + 1 values */
	int starts_ok;
};

struct transcript *
transcript_new(void)
{
	struct transcript *t = xcalloc(1, sizeof(*t));

	t->width = 80;
	t->height = 24;
	t->follow = 1;
	return t;
}

static void
transcript_entry_release(struct transcript_entry *e)
{
	free(e->label);
	free(e->meta);
	sbuf_release(&e->raw);
	sbuf_release(&e->disp);
	free(e->lines);
	free(e->marks);
}

void
transcript_truncate(struct transcript *t, size_t n)
{
	while (t->n > n)
		transcript_entry_release(&t->e[--t->n]);
	t->starts_ok = 0;
}

void
transcript_clear(struct transcript *t)
{
	transcript_truncate(t, 0);
	t->follow = 1;
	t->top = 0;
}

void
transcript_free(struct transcript *t)
{
	if (t == NULL)
		return;
	transcript_truncate(t, 0);
	free(t->e);
	free(t->starts);
	free(t);
}

static char *
transcript_safe_line(const char *s)
{
	struct sbuf sb;

	if (s == NULL)
		return NULL;
	sbuf_init(&sb);
	text_sanitize(&sb, s, strlen(s), 1);
	return sb.buf; /* the caller frees it */
}

static void
transcript_dirty(struct transcript *t, struct transcript_entry *e)
{
	e->width = -1;
	t->starts_ok = 0;
}

size_t
transcript_add(struct transcript *t, enum transcript_role role,
    const char *label, const char *text, size_t len)
{
	struct transcript_entry *e;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->e = xreallocarray(t->e, t->cap, sizeof(*t->e));
	}
	e = &t->e[t->n];
	memset(e, 0, sizeof(*e));
	e->role = role;
	e->label = transcript_safe_line(label);
	sbuf_init(&e->raw);
	sbuf_init(&e->disp);
	text_san_init(&e->san, 0);
	if (len > 0) {
		sbuf_add(&e->raw, text, len);
		text_san_feed(&e->san, &e->disp, text, len);
	}
	transcript_dirty(t, e);
	t->follow = 1;
	return t->n++;
}

void
transcript_append(struct transcript *t, size_t i, const char *text, size_t len)
{
	struct transcript_entry *e;

	if (i >= t->n || len == 0)
		return;
	e = &t->e[i];
	sbuf_add(&e->raw, text, len);
	text_san_feed(&e->san, &e->disp, text, len);
	e->mark_stamp = 0;
	transcript_dirty(t, e);
}

void
transcript_finish(struct transcript *t, size_t i)
{
	if (i >= t->n)
		return;
	text_san_flush(&t->e[i].san, &t->e[i].disp);
	t->e[i].mark_stamp = 0;
	transcript_dirty(t, &t->e[i]);
}

void
transcript_set_meta(struct transcript *t, size_t i, const char *meta)
{
	if (i >= t->n)
		return;
	free(t->e[i].meta);
	t->e[i].meta = transcript_safe_line(meta);
	transcript_dirty(t, &t->e[i]);
}

void
transcript_set_label(struct transcript *t, size_t i, const char *label)
{
	if (i >= t->n)
		return;
	free(t->e[i].label);
	t->e[i].label = transcript_safe_line(label);
	transcript_dirty(t, &t->e[i]);
}

size_t
transcript_count(const struct transcript *t)
{
	return t->n;
}

enum transcript_role
transcript_role(const struct transcript *t, size_t i)
{
	return t->e[i].role;
}

const char *
transcript_text(const struct transcript *t, size_t i)
{
	return t->e[i].raw.buf;
}

size_t
transcript_text_len(const struct transcript *t, size_t i)
{
	return t->e[i].raw.len;
}

const char *
transcript_display(const struct transcript *t, size_t i)
{
	return t->e[i].disp.buf;
}

size_t
transcript_display_len(const struct transcript *t, size_t i)
{
	return t->e[i].disp.len;
}

void
transcript_set_marks(struct transcript *t, size_t i,
    const struct transcript_mark *m, size_t n, uint64_t stamp)
{
	struct transcript_entry *e;

	if (i >= t->n)
		return;
	e = &t->e[i];
	free(e->marks);
	e->marks = NULL;
	e->n_marks = 0;
	if (n > 0) {
		e->marks = xreallocarray(NULL, n, sizeof(*e->marks));
		memcpy(e->marks, m, n * sizeof(*e->marks));
		e->n_marks = n;
	}
	e->mark_stamp = stamp;
}

const struct transcript_mark *
transcript_marks(
    const struct transcript *t, size_t i, size_t *n, uint64_t *stamp)
{
	if (i >= t->n) {
		*n = 0;
		*stamp = 0;
		return NULL;
	}
	*n = t->e[i].n_marks;
	*stamp = t->e[i].mark_stamp;
	return t->e[i].marks;
}

int
transcript_is_fence(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && i < 3 && line[i] == ' ')
		i++;
	if (len - i < 3)
		return 0;
	return memcmp(line + i, "```", 3) == 0 ||
	    memcmp(line + i, "~~~", 3) == 0;
}

/* OFF: TEXT's offset in the display text, or TRANSCRIPT_NO_OFF. */
static void
transcript_push(struct transcript_entry *e, const char *text, size_t len,
    size_t off, int cols, int indent, enum transcript_style style, size_t idx)
{
	struct transcript_line *l;

	if (e->n_lines == e->cap_lines) {
		e->cap_lines = e->cap_lines ? e->cap_lines * 2 : 8;
		e->lines = xreallocarray(e->lines, e->cap_lines, sizeof(*l));
	}
	l = &e->lines[e->n_lines++];
	l->text = text;
	l->len = len;
	l->cols = cols;
	l->indent = indent;
	l->style = style;
	l->entry = idx;
	l->off = off;
}

/*
 * Wrap S (LEN bytes) at WIDTH - INDENT and push the lines in STYLE; OFF
 * is S's offset in the display text (TRANSCRIPT_NO_OFF: not from it).
 */
static void
transcript_push_wrapped(struct transcript_entry *e, const char *s, size_t len,
    size_t off, int width, int indent, int hard, enum transcript_style style,
    size_t idx)
{
	struct text_lines tl;
	size_t k;

	text_lines_init(&tl);
	text_wrap(s, len, width - indent, hard, &tl);
	for (k = 0; k < tl.n; k++)
		transcript_push(e, s + tl.v[k].off, tl.v[k].len,
		    off == TRANSCRIPT_NO_OFF ? off : off + tl.v[k].off,
		    tl.v[k].cols, indent, style, idx);
	text_lines_release(&tl);
}

static enum transcript_style
transcript_label_style(enum transcript_role role)
{
	switch (role) {
	case TRANSCRIPT_USER:
		return TRANSCRIPT_S_LABEL_USER;
	case TRANSCRIPT_ASSISTANT:
		return TRANSCRIPT_S_LABEL_ASSISTANT;
	default:
		return TRANSCRIPT_S_LABEL_SYSTEM;
	}
}

/* Lay out entry IDX for the transcript's width. */
static void
transcript_layout(struct transcript *t, size_t idx)
{
	struct transcript_entry *e = &t->e[idx];
	const char *s = e->disp.buf, *nl;
	size_t a = 0, b, len = e->disp.len;
	int w = t->width < 12 ? 12 : t->width, code = 0, indent = 2;
	enum transcript_style text_style = TRANSCRIPT_S_TEXT;

	if (e->width == t->width)
		return;
	e->n_lines = 0;
	e->width = t->width;
	if (e->role == TRANSCRIPT_NOTICE || e->role == TRANSCRIPT_ERROR) {
		indent = 0;
		text_style = e->role == TRANSCRIPT_NOTICE ? TRANSCRIPT_S_NOTICE
							  : TRANSCRIPT_S_ERROR;
	}
	if (e->label != NULL)
		transcript_push_wrapped(e, e->label, strlen(e->label),
		    TRANSCRIPT_NO_OFF, w, 0, 1, transcript_label_style(e->role),
		    idx);
	while (len > 0 && a <= len) {
		nl = memchr(s + a, '\n', len - a);
		b = nl != NULL ? (size_t)(nl - s) : len;
		if (transcript_is_fence(s + a, b - a)) {
			transcript_push_wrapped(e, s + a, b - a, a, w, indent,
			    1, TRANSCRIPT_S_FENCE, idx);
			code = !code;
		} else if (code) {
			transcript_push_wrapped(e, s + a, b - a, a, w,
			    indent + 2, 1, TRANSCRIPT_S_CODE, idx);
		} else {
			transcript_push_wrapped(
			    e, s + a, b - a, a, w, indent, 0, text_style, idx);
		}
		if (nl == NULL)
			break;
		a = b + 1;
	}
	if (e->meta != NULL)
		transcript_push_wrapped(e, e->meta, strlen(e->meta),
		    TRANSCRIPT_NO_OFF, w, indent, 0, TRANSCRIPT_S_META, idx);
	transcript_push(
	    e, "", 0, TRANSCRIPT_NO_OFF, 0, 0, TRANSCRIPT_S_BLANK, idx);
}

static void
transcript_starts(struct transcript *t)
{
	size_t i;

	if (t->starts_ok)
		return;
	t->starts = xreallocarray(t->starts, t->n + 1, sizeof(*t->starts));
	t->starts[0] = 0;
	for (i = 0; i < t->n; i++) {
		transcript_layout(t, i);
		t->starts[i + 1] = t->starts[i] + t->e[i].n_lines;
	}
	t->starts_ok = 1;
}

size_t
transcript_lines(struct transcript *t)
{
	transcript_starts(t);
	return t->starts[t->n];
}

size_t
transcript_entry_line(struct transcript *t, size_t i)
{
	transcript_starts(t);
	return t->starts[i < t->n ? i : t->n];
}

/* The entry holding line K (K < total). */
static size_t
transcript_find(struct transcript *t, size_t k)
{
	size_t lo = 0, hi = t->n, mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (t->starts[mid] <= k)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int
transcript_line(struct transcript *t, size_t k, struct transcript_line *out)
{
	size_t i;

	transcript_starts(t);
	if (k >= t->starts[t->n])
		return -1;
	i = transcript_find(t, k);
	*out = t->e[i].lines[k - t->starts[i]];
	return 0;
}

static size_t
transcript_max_top(struct transcript *t)
{
	size_t total = transcript_lines(t), h = (size_t)t->height;

	return total > h ? total - h : 0;
}

size_t
transcript_top(struct transcript *t)
{
	size_t max = transcript_max_top(t);

	if (t->follow || t->top >= max)
		return max;
	return t->top;
}

void
transcript_resize(struct transcript *t, int width, int height)
{
	size_t i, anchor = 0, line = 0, top;

	if (height < 1)
		height = 1;
	if (width != t->width && !t->follow && t->n > 0) {
		top = transcript_top(t);
		if (top < transcript_lines(t)) {
			anchor = transcript_find(t, top);
			line = top - t->starts[anchor];
		}
		t->width = width;
		t->height = height;
		for (i = 0; i < t->n; i++)
			transcript_dirty(t, &t->e[i]);
		transcript_starts(t);
		if (line >= t->e[anchor].n_lines)
			line = t->e[anchor].n_lines - 1;
		t->top = t->starts[anchor] + line;
		return;
	}
	if (width != t->width)
		for (i = 0; i < t->n; i++)
			transcript_dirty(t, &t->e[i]);
	t->width = width;
	t->height = height;
}

void
transcript_scroll(struct transcript *t, long delta)
{
	size_t top = transcript_top(t), max = transcript_max_top(t);

	if (delta > 0)
		top = (size_t)delta > top ? 0 : top - (size_t)delta;
	else
		top += (size_t)-delta;
	if (top >= max) {
		t->follow = 1;
		top = max;
	} else {
		t->follow = 0;
	}
	t->top = top;
}

void
transcript_bottom(struct transcript *t)
{
	t->follow = 1;
}

size_t
transcript_from_bottom(struct transcript *t)
{
	return transcript_max_top(t) - transcript_top(t);
}
