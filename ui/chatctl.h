/*
 * chatctl: the chat controller, between the chat screen, the engine (the
 * worker's requests and events) and the database.  Every prompt and
 * every answer is stored as it happens: the session when the first
 * prompt is sent, the prompt before generation starts, the answer as a
 * streaming row (storage/db-stream.h) finished when the engine says
 * DONE, cancelled or not.
 */
#ifndef VKCHAT_CHATCTL_H
#define VKCHAT_CHATCTL_H

#include <stdint.h>

#include "storage/db-templates.h"
#include "slash.h"
#include "tui.h"

/* Set the parameters from preset NAME (NULL: "default"). */
int chatctl_init(struct tui *t, const char *preset, struct err *err);
/* Free the conversation and the parameters. */
void chatctl_release(struct tui *t);

/* Start the engine thread and load the model (errors become notices). */
void chatctl_engine_start(struct tui *t);
/*
 * Stop: cancel a running answer, wait a little for its end and store
 * it (as stopped), free the worker.
 */
void chatctl_engine_stop(struct tui *t);
/* The worker's wakeup descriptor, or -1 when there is no worker. */
int chatctl_engine_fd(const struct tui *t);
/* Handle every pending engine event. */
void chatctl_events(struct tui *t);
/*
 * Before a draw: the answers shown (and compare mode's columns) get their
 * tokens' probability marks while t->probs_colour is on, lose them
 * while it is off.
 */
void chatctl_marks(struct tui *t);

/* Send TEXT as the user's next message. */
void chatctl_send(struct tui *t, const char *text);
/* Stop the running answer (it is kept). */
void chatctl_cancel(struct tui *t);
/* Leave /edit without sending. */
void chatctl_edit_cancel(struct tui *t);

/*
 * Show the previous (DIR < 0) or next sibling of the last answer (a
 * regeneration, an edit's answer, a compare column) and its branch;
 * it becomes the session's leaf, so the chat continues from it.
 */
void chatctl_sibling(struct tui *t, int dir);
/* Show session ID (its shown branch) and continue it. */
int chatctl_load_session(struct tui *t, int64_t id, struct err *err);
/* Start an empty session (stored when the first prompt is sent). */
void chatctl_new_session(struct tui *t);
/* Use preset NAME's parameters (the chat's system prompt stays). */
int chatctl_use_preset(struct tui *t, const char *name, struct err *err);
/* Send template NAME with variables VARS (N of them). */
int chatctl_send_template(struct tui *t, const char *name,
    const struct db_template_var *vars, size_t n, struct err *err);

/* The slash commands' work (chatscreen.c maps /NAME to these). */
/* List the presets / show the settings in force (ALL: every one). */
void chatctl_list_presets(struct tui *t);
void chatctl_show_params(struct tui *t, int all);
/* A new answer to the last prompt (a sibling of the old one). */
void chatctl_regen(struct tui *t);
/* Put the last prompt on the prompt line for editing (EXTERNAL: in
 * $EDITOR); sending it makes a new branch. */
void chatctl_edit(struct tui *t, int external);
/* Continue in a copy of the session up to the shown leaf. */
void chatctl_fork(struct tui *t);
/* /export ARGS: write the session as md or json. */
void chatctl_export(struct tui *t, const char *args);
/* Open manual page vkchat-TOPIC ("": vkchat). */
void chatctl_man(struct tui *t, const char *topic);

/* Names for slash-command completion (slash_names_fn; CTX is the tui). */
char **chatctl_names(void *ctx, enum slash_names kind, const char *arg);

#endif
