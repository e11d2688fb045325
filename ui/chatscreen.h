/*
 * chatscreen: the chat screen, the bottom view of the TUI (view.h): the
 * transcript or compare columns, the status line and the prompt; its
 * keys and slash commands are tables with their handlers.
 */
#ifndef VKCHAT_CHATSCREEN_H
#define VKCHAT_CHATSCREEN_H

#include "tui.h"

/* Make the chat screen T's bottom view (and its top one). */
void chatscreen_init(struct tui *t);

/* A line from the prompt: a slash command or a message to send. */
void chatscreen_submit(struct tui *t, const char *line);

#endif
