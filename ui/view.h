/*
 * view: what every screen of the TUI is to the loop in tui.c.
 *
 * The screens form a stack owned by tui.c: the chat screen at the bottom
 * (chatscreen.c), overlays (help, the session browser, the preset and
 * template pickers) pushed over it and popped when they close.  The loop
 * draws the top view and gives it the keys and Ctrl-C; nothing else
 * routes by screen.
 *
 * An overlay never calls another view.  What it wants done to the
 * conversation shown (continue a session, use a preset, send a filled-in
 * template) it asks with tui_request(), which hands the request to the
 * views below it, top down, until one takes it; the overlay stays open
 * when the request fails, to show why.  So the views form a tree: the
 * chat screen opens overlays, overlays open nothing but tell tui.c what
 * they want, and a new screen costs one file (its ops) and one key.
 */
#ifndef VKCHAT_VIEW_H
#define VKCHAT_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keys.h"

struct tui;
struct view;
struct db_template_var;

/* What an overlay asks of the screen below it. */
enum view_act {
	VIEW_OPEN_SESSION,  /* continue session ID */
	VIEW_OPEN_RUN,	    /* continue session ID, show its newest run */
	VIEW_SESSION_GONE,  /* session ID was deleted */
	VIEW_USE_PRESET,    /* use preset NAME */
	VIEW_SEND_TEMPLATE, /* send template NAME with VARS[N_VARS] */
};

struct view_req {
	enum view_act act;
	int64_t id;
	const char *name;
	const struct db_template_var *vars;
	size_t n_vars;
};

struct view_ops {
	const char *name;
	/* Draw the whole screen (curses is on; tui.c refreshes). */
	void (*draw)(struct tui *t, struct view *v);
	/* A key; the view may pop itself (tui_pop). */
	void (*key)(struct tui *t, struct view *v, const struct keys_event *ev);
	/* Ctrl-C; NULL: the view closes. */
	void (*interrupt)(struct tui *t, struct view *v);
	/*
	 * A request from a view above: 1 taken (0 or more after a notice),
	 * 0 not this view's (ask further down), -1 failed with *err.
	 */
	int (*request)(struct tui *t, struct view *v, const struct view_req *r,
	    struct err *err);
	/* Free the view (after it left the stack); NULL: nothing to free. */
	void (*free)(struct tui *t, struct view *v);
};

/* A line of the help overlay about keys: the keys, what they do. */
struct view_keyhelp {
	const char *keys, *what;
};

/* The head of every view's own struct. */
struct view {
	const struct view_ops *ops;
	struct view *below;
};

#endif
