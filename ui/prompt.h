/*
 * prompt: GNU readline as the chat prompt, through its callback
 * interface.  The TUI reads the terminal itself and feeds readline the
 * bytes of the keys it does not handle; readline edits the line (emacs or
 * vi mode, the user's ~/.inputrc, history, Tab completion of slash
 * commands) and the screen draws its state, so readline never writes to
 * the terminal.  History is kept in util_xdg_dir("state")/history.
 */
#ifndef VKCHAT_PROMPT_H
#define VKCHAT_PROMPT_H

#include <stddef.h>

#include "slash.h"
#include "tui.h"

/* What a finished line is given to (a slash command or a message). */
typedef void (*prompt_submit_fn)(struct tui *t, const char *line);

/*
 * Set readline up for T and load the history; finished lines go to
 * SUBMIT, Tab completion asks NAMES (with T) for presets and templates.
 */
void prompt_init(struct tui *t, prompt_submit_fn submit, slash_names_fn names);
/* Save the history and let readline go. */
void prompt_end(struct tui *t);

/* Feed LEN key bytes to readline (a whole line goes to SUBMIT). */
void prompt_feed(struct tui *t, const char *bytes, size_t len);
/* Insert TEXT at the cursor as typed (a paste, a newline). */
void prompt_insert(struct tui *t, const char *text, size_t len);
/* Replace the line with TEXT, the cursor at its end. */
void prompt_set(struct tui *t, const char *text);
/* Throw the line away (Ctrl-C), leaving any search or prefix too. */
void prompt_clear(struct tui *t);
/* Whether the line is empty. */
int prompt_empty(void);

/*
 * The prompt's rows for WIDTH columns into OUT (see text_edit_view),
 * their number, the cursor's row and column, and the bytes of OUT that
 * are the prompt string itself.
 */
void prompt_view(struct tui *t, int width, struct sbuf *out, int *rows,
    int *crow, int *ccol, size_t *plen);

#endif
