/*
 * help: the help overlay, a pager over a text its opener builds.
 */
#ifndef VKCHAT_HELP_H
#define VKCHAT_HELP_H

#include "tui.h"

/* Push a pager titled TITLE over TEXT (lines ended by newlines; taken,
 * freed when it closes); lines not starting with a space are headings. */
void help_open(struct tui *t, const char *title, char *text);

#endif
