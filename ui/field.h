/*
 * field: a one-line text field for the TUI's forms and search boxes
 * (the preset form, template variables, the session search).  The chat
 * prompt itself is readline; fields are small and need no history, so
 * they are edited here: characters, Backspace, Delete, Left, Right,
 * Home/Ctrl-A, End/Ctrl-E, Ctrl-U (clear to the start), Ctrl-K (clear to
 * the end) and Ctrl-W (delete a word), always on character boundaries.
 */
#ifndef VKCHAT_FIELD_H
#define VKCHAT_FIELD_H

#include <stddef.h>

#include "keys.h"
#include "util.h"

/* Caller-owned storage: field_init / field_release. */
struct field {
	struct sbuf text;
	size_t point; /* byte offset of the cursor */
};

void field_init(struct field *f);
void field_release(struct field *f);
/* Replace the text with S and put the cursor at its end. */
void field_set(struct field *f, const char *s);

/*
 * Apply key EV; returns 1 when the text or cursor changed, 0 when the
 * key is not an editing key (the caller handles it).
 */
int field_key(struct field *f, const struct keys_event *ev);

/*
 * What to draw in WIDTH columns: the byte offset of the first visible
 * character (so that the cursor stays in view) into *first, and the
 * cursor's column relative to it into *col.
 */
void field_view(const struct field *f, int width, size_t *first, int *col);

#endif
