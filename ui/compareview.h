/*
 * compareview: compare mode in the chat screen.  "/compare A,B,C" (presets)
 * or "/compare KEY=V1,V2,..." (a sweep) arms 2-8 columns; the next prompt
 * is answered by every column at once (one batched request to the
 * worker), each drawn side by side with its own header, speed and finish
 * reason.  A number key picks the winner: it becomes the assistant reply,
 * the other columns are kept as its sibling branches, and the run (stored
 * with db-compare as it streams) records the winner.
 */
#ifndef VKCHAT_COMPAREVIEW_H
#define VKCHAT_COMPAREVIEW_H

#include "tui.h"

/* The narrowest column drawn; narrower ones get a notice instead. */
#define COMPAREVIEW_MIN_WIDTH 12

/*
 * Arm compare mode from the /compare arguments ARGS ("[--same-seed]
 * SPEC"; "off" leaves it); errors become notices.
 */
void compareview_command(struct tui *t, const char *args);
/*
 * Arm compare mode with the columns of SPEC ("A,B,..." presets or
 * "KEY=V1,V2,..."); SAME_SEED: every column gets column 1's seed.
 */
int compareview_open(
    struct tui *t, const char *spec, int same_seed, struct err *err);
/* Leave compare mode (only when no run is streaming). */
void compareview_close(struct tui *t);
/* Send TEXT as the prompt of a compare run (compare mode is armed). */
void compareview_send(struct tui *t, const char *text);
/* Handle engine event EV if it belongs to a compare run; 1 if it did. */
int compareview_event(struct tui *t, const struct worker_event *ev);
/* End a run whose engine does not answer: every live column stopped. */
void compareview_abort(struct tui *t);
/* Handle key EV in compare mode; 1 if it was used. */
int compareview_key(struct tui *t, const struct keys_event *ev);
/* Draw the columns in the H rows from row Y. */
void compareview_draw(struct tui *t, int y, int h);

#endif
