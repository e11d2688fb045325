/*
 * transcript: the chat pane's model, free of any terminal.  A list of
 * entries (the user's prompts, the model's answers, notices), each with
 * its raw text, its display text (sanitised, see text.h) and a layout
 * cache: the entry's screen lines for the current width, rebuilt only
 * when the entry's text or the width changes.  The view is a scroll
 * position counted in lines from the bottom, so that new output keeps
 * the bottom in view unless the reader has scrolled back.
 *
 * Lines point into the entries' display text: they are valid until the
 * transcript changes.
 *
 * An entry may carry marks: runs of its display text with a kind the
 * caller gives meaning to (the chat screen's are tokmap.h's probability
 * bands).  They change how text is drawn, never the layout: the lines are
 * the same with or without them.
 */
#ifndef VKCHAT_TRANSCRIPT_H
#define VKCHAT_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

enum transcript_role {
	TRANSCRIPT_USER,
	TRANSCRIPT_ASSISTANT,
	TRANSCRIPT_SYSTEM,
	TRANSCRIPT_NOTICE, /* the program talking (not part of the chat) */
	TRANSCRIPT_ERROR,
};

enum transcript_style {
	TRANSCRIPT_S_LABEL_USER,
	TRANSCRIPT_S_LABEL_ASSISTANT,
	TRANSCRIPT_S_LABEL_SYSTEM,
	TRANSCRIPT_S_TEXT,
	TRANSCRIPT_S_CODE,  /* inside a fenced code block */
	TRANSCRIPT_S_FENCE, /* the ``` lines themselves */
	TRANSCRIPT_S_META,  /* statistics and markers under an answer */
	TRANSCRIPT_S_NOTICE,
	TRANSCRIPT_S_ERROR,
	TRANSCRIPT_S_BLANK,
};

/* transcript_line.off of a line that is not the entry's text. */
#define TRANSCRIPT_NO_OFF ((size_t)-1)

/* One screen line: TEXT (LEN bytes, COLS columns) after INDENT columns. */
struct transcript_line {
	const char *text;
	size_t len;
	int cols;
	int indent;
	enum transcript_style style;
	size_t entry; /* index of the entry it belongs to */
	size_t off;   /* TEXT's offset in the entry's display text, or
			 TRANSCRIPT_NO_OFF (label, statistics, blank) */
};

/* A run of an entry's display text: bytes [off, off + len) are of KIND. */
struct transcript_mark {
	size_t off, len;
	int kind;
};

struct transcript;

struct transcript *transcript_new(void);
void transcript_free(struct transcript *t);

/* Remove every entry and go to the bottom. */
void transcript_clear(struct transcript *t);
/* Remove the entries from index N on. */
void transcript_truncate(struct transcript *t, size_t n);

/*
 * Add an entry with ROLE, LABEL (shown above the text; NULL: none) and
 * the untrusted TEXT (LEN bytes); returns its index.  The view jumps to
 * the bottom.
 */
size_t transcript_add(struct transcript *t, enum transcript_role role,
    const char *label, const char *text, size_t len);

/*
 * Append LEN bytes of untrusted TEXT to entry I (streaming).  An
 * incomplete UTF-8 sequence at the end is held back until completed or
 * until transcript_finish.  A reader at the bottom stays there; one who
 * scrolled back keeps seeing the same lines.
 */
void transcript_append(
    struct transcript *t, size_t i, const char *text, size_t len);

/* The text of entry I is complete: flush what was held back. */
void transcript_finish(struct transcript *t, size_t i);

/* Set the line under entry I (statistics, "stopped"); NULL removes it. */
void transcript_set_meta(struct transcript *t, size_t i, const char *meta);
/* Set the label of entry I (NULL: none). */
void transcript_set_label(struct transcript *t, size_t i, const char *label);

size_t transcript_count(const struct transcript *t);
enum transcript_role transcript_role(const struct transcript *t, size_t i);
/* The raw text of entry I (as given, NUL-terminated). */
const char *transcript_text(const struct transcript *t, size_t i);
/* Its length in bytes (it may hold NUL bytes). */
size_t transcript_text_len(const struct transcript *t, size_t i);
/* The display text of entry I. */
const char *transcript_display(const struct transcript *t, size_t i);
/* Its length in bytes. */
size_t transcript_display_len(const struct transcript *t, size_t i);

/*
 * Give entry I the marks M[N] (copied; sorted by offset, not
 * overlapping; N 0 removes them) and STAMP, the caller's note of what
 * they were made from.  Marks past the display text are never drawn.
 * The layout is not touched.
 */
void transcript_set_marks(struct transcript *t, size_t i,
    const struct transcript_mark *m, size_t n, uint64_t stamp);
/*
 * The marks of entry I (their count to *N) and the stamp they were set
 * with to *STAMP, which is 0 again once the entry's text changes (the
 * marks stay: text is only appended, so their offsets still hold).
 */
const struct transcript_mark *transcript_marks(
    const struct transcript *t, size_t i, size_t *n, uint64_t *stamp);

/*
 * Lay out for WIDTH columns (entries are reflowed lazily when the width
 * changes).  A reader at the bottom stays at the bottom; otherwise the
 * line at the top of the view stays in view.  HEIGHT is the pane's.
 */
void transcript_resize(struct transcript *t, int width, int height);

/* Total lines at the current width. */
size_t transcript_lines(struct transcript *t);

/* Line K (0 = first) into *out; 0, or -1 when K is past the end. */
int transcript_line(
    struct transcript *t, size_t k, struct transcript_line *out);

/* Index of the first line of entry I. */
size_t transcript_entry_line(struct transcript *t, size_t i);

/* Scroll by DELTA lines (positive: back towards older text). */
void transcript_scroll(struct transcript *t, long delta);
/* Back to the bottom (follow new output). */
void transcript_bottom(struct transcript *t);
/* Lines between the bottom of the view and the end (0: following). */
size_t transcript_from_bottom(struct transcript *t);
/* The first line to show in the view (of the height given to resize). */
size_t transcript_top(struct transcript *t);

/*
 * Whether LINE (display text, one line) opens or closes a fenced code
 * block: up to three spaces, then ``` or ~~~.
 */
int transcript_is_fence(const char *line, size_t len);

#endif
