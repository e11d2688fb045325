/*
 * comparemode: compare mode in the chat screen.  "/compare A,B,C" (presets)
 * or "/compare KEY=V1,V2,..." (a sweep) arms 2-8 columns; the next prompt
 * is answered by every column at once (one batched request to the
 * worker), each drawn side by side with its own header, speed and finish
 * reason.  A number key picks the winner: it becomes the assistant reply,
 * the other columns are kept as its sibling branches, and the run (stored
 * with db-compare as it streams) records the winner.  "s" and a column
 * number save that column's settings as a user preset.  A stored run is
 * reopened read-only ("/runs", or "c" in the session browser) with the
 * same columns, its winner marked; a run without a winner can still get
 * one.
 */
#ifndef VKCHAT_COMPAREMODE_H
#define VKCHAT_COMPAREMODE_H

#include "tui.h"

/* The narrowest column drawn; narrower ones get a notice instead. */
#define COMPAREMODE_MIN_WIDTH 12

/* Candidates per sampler stage kept for the inspector. */
#define COMPAREMODE_PROBS_TOP 8

/*
 * The sampler's records of the live run's columns (those that have any)
 * into OUT (at most MAX); how many.  Borrowed: valid until the next event.
 */
size_t comparemode_steps(struct tui *t, const struct steps **out, size_t max);

/* Compare mode's keys for the help overlay, ended by a NULL keys. */
extern const struct view_keyhelp comparemode_keys_help[];

/*
 * Arm compare mode from the /compare arguments ARGS ("[--same-seed]
 * SPEC"; "off" leaves it); errors become notices.
 */
void comparemode_command(struct tui *t, const char *args);
/*
 * Arm compare mode with the columns of SPEC ("A,B,..." presets or
 * "KEY=V1,V2,..."); SAME_SEED: every column gets column 1's seed.
 */
int comparemode_open(
    struct tui *t, const char *spec, int same_seed, struct err *err);
/* Leave compare mode (only when no run is streaming). */
void comparemode_close(struct tui *t);
/* Send TEXT as the prompt of a compare run (compare mode is armed). */
/*
 * Whether compare mode takes prompt TEXT: 1 yes (store it, then
 * comparemode_send), 0 no (it is not armed, or a stored run was shown and
 * is closed now: the chat sends it), -1 not now (a notice says why, the
 * text is back on the prompt line).
 */
int comparemode_accept(struct tui *t, const char *text);
/* Answer stored prompt TEXT (message PROMPT_ID) in every column. */
void comparemode_send(struct tui *t, const char *text, int64_t prompt_id);
/*
 * /set LIST while compare mode is open (not a stored run): applied to
 * every column too, for the next run; nothing changes on an error.
 * Returns how many columns took it (0: not in compare mode) or the
 * error.
 */
int comparemode_set(struct tui *t, const char *list, struct err *err);
/* Handle engine event EV if it belongs to a compare run; 1 if it did. */
int comparemode_event(struct tui *t, const struct worker_event *ev);
/*
 * Colour each column of the run streaming or just streamed by its own
 * step records (ON), or not (tokmap.h); a stored run has none.
 */
void comparemode_marks(struct tui *t, int on);

/* End a run whose engine does not answer: every live column stopped. */
void comparemode_abort(struct tui *t);
/*
 * Show stored compare run ID (0: the newest) of the session being shown,
 * read-only, in place of compare mode, and say so in a notice.  Starts
 * no generation and changes nothing stored.  Fails while something is
 * generated, or when the session has no such run (the message names the
 * runs it has).
 */
int comparemode_reopen(struct tui *t, int64_t id, struct err *err);
/* The /runs command with ARGS ("", "last" or a run id); errors: notices. */
void comparemode_runs(struct tui *t, const char *args);
/* Handle key EV in compare mode; 1 if it was used. */
int comparemode_key(struct tui *t, const struct keys_event *ev);
/* Ctrl-C: drop the save-as-preset question if one is open; 1 if so. */
int comparemode_interrupt(struct tui *t);
/*
 * The save-as-preset question, when one is open, as the prompt line for
 * WIDTH columns: appended to OUT, the question's bytes to *plen and the
 * cursor's column to *ccol; returns 1, or 0 when no question is open.
 */
int comparemode_ask_line(
    struct tui *t, int width, struct sbuf *out, size_t *plen, int *ccol);
/* Draw the columns in the H rows from row Y. */
void comparemode_draw(struct tui *t, int y, int h);

#endif
