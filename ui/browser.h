/*
 * browser: the session browser (Ctrl-O, /sessions).  The sessions, newest
 * first, with title, model, date and message count; a search box ('/')
 * that filters as you type through the full-text index; a preview of the
 * selected session with its compare runs; Enter resumes it, c resumes it
 * and reopens its newest compare run, f forks, d deletes (after asking),
 * e exports.
 */
#ifndef VKCHAT_BROWSER_H
#define VKCHAT_BROWSER_H

#include "tui.h"

/* Push the browser over the current screen. */
void browser_open(struct tui *t);

#endif
