/*
 * help: the help overlay (F1, or '?' on an empty prompt): the keys, the
 * slash commands, and which manual page explains what.
 */
#ifndef VKCHAT_HELP_H
#define VKCHAT_HELP_H

#include "keys.h"
#include "tui.h"

void help_open(struct tui *t);
void help_draw(struct tui *t);
/* A key while the overlay is open (Esc, q or F1 close it). */
void help_key(struct tui *t, const struct keys_event *ev);

#endif
