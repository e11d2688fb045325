/*
 * conv: the conversation being had, without a terminal: which model
 * answers, the session and the branch in the database, the settings in
 * force, and the answer being streamed.  The chat screen (chatctl.c),
 * "chat --plain" and "run --save" keep their conversation here, so a
 * prompt, an answer and its statistics are recorded in one way; the
 * views only show it.
 *
 * The seed: params.seed is what the user set (0: draw one per answer);
 * the drawn seed of an answer is conv.seed and the answer row's seed,
 * never written back into the settings, so a reopened session draws
 * anew unless the user pinned a seed.
 *
 * Runs on one thread (the UI's, or a command's main thread); errors go
 * to the err record, nothing is printed.
 */
#ifndef VKCHAT_CONV_H
#define VKCHAT_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "chat.h"
#include "gen.h"
#include "params.h"
#include "storage/db-messages.h"
#include "storage/db-sessions.h"
#include "storage/db-stream.h"
#include "util.h"

struct conv {
	struct db *db;		  /* borrowed */
	struct db_model model;	  /* the model answering (owned strings) */
	char *chat_format;	  /* the format answers use; NULL: raw text */
	char *preset;		  /* the settings' name: a preset, "session" */
	int preset_changed;	  /* changed since (/set) */
	struct gen_params params; /* in force; system prompt is the chat's */
	int64_t session;	  /* 0 until the first prompt is stored */
	int64_t leaf;		  /* the last message of the branch */
	int64_t prev_leaf;	  /* the leaf before the last prompt */
	struct db_stream *stream; /* the answer being streamed, or NULL */
	uint64_t seed;		  /* that answer's seed */
};

/* An empty conversation on DB with the default settings, preset "default". */
void conv_init(struct conv *c, struct db *db);
void conv_release(struct conv *c);

/* The model that answers from now on: PATH, SIZE, IDENTITY (may be NULL). */
void conv_set_model(
    struct conv *c, const char *path, int64_t size, const char *identity);
/* The chat format answers use (NULL: raw completions). */
void conv_set_format(struct conv *c, const char *format);
/*
 * Settings P under the name NAME (a preset's, "session", or NULL: none);
 * CHANGED: they differ from that preset.  Settings without a system
 * prompt keep the conversation's.
 */
void conv_use_params(
    struct conv *c, const char *name, const struct gen_params *p, int changed);

/* Start over: the next prompt starts a new session (/new). */
void conv_restart(struct conv *c);

/*
 * The seed for the next answer: the pinned one (params.seed), else a
 * fresh one (rng_random_seed).
 */
uint64_t conv_draw_seed(const struct gen_params *p);

/*
 * The length limit of a chat answer under settings P: max_tokens, or
 * when that is -1 (until the context is full) CONV_ANSWER_MAX, so an
 * answer that never ends its turn does not fill the context.
 */
#define CONV_ANSWER_MAX 1024
int32_t conv_answer_limit(const struct gen_params *p);

/*
 * The one-line notice when context shifting left the first N turns out
 * of the prompt (a printf format taking N as size_t).
 */
#define CONV_DROPPED_FMT \
	"the first %zu turns no longer fit the context: left out of the " \
	"prompt (the session keeps them)"

/* Create the session (with the settings in force) unless there is one. */
int conv_ensure_session(struct conv *c, struct err *err);

/*
 * Store prompt TEXT as a child of PARENT (-1: the leaf; 0: a new root)
 * and make it the leaf; the session is created first when there is none.
 * The id goes to *id (may be NULL).
 */
int conv_add_prompt(struct conv *c, int64_t parent, const char *text,
    int64_t *id, struct err *err);

/*
 * A new turn in one transaction: the session when there is none, prompt
 * TEXT as a child of PARENT (-1: the leaf) and the answer's partial row
 * (conv_begin_answer with SEED), so a crash never leaves a session or a
 * prompt without its answer row.  The prompt's id goes to *id (may be
 * NULL).  On failure nothing is stored and the conversation is as it was.
 */
int conv_start_turn(struct conv *c, int64_t parent, const char *text,
    uint64_t seed, int64_t *id, struct err *err);

/*
 * Start the answer to PARENT (-1: the leaf, which is a prompt) with SEED
 * (0: conv_draw_seed), kept in conv.seed: store an empty partial row with
 * the settings in force, which becomes the leaf; its text is streamed
 * into it.
 */
int conv_begin_answer(
    struct conv *c, int64_t parent, uint64_t seed, struct err *err);

/* Append answer text; a failed write keeps it for the next try. */
int conv_append(struct conv *c, const char *text, size_t len, struct err *err);

/* The statistics an answer is stored with, from generation's ST (NULL:
 * none, it failed) and how it ended. */
void conv_stats(struct db_gen_stats *out, const struct gen_stats *st,
    enum gen_finish finish);

/*
 * Finish the answer: how it ended (FINISH), its statistics ST (NULL:
 * none) and ERROR (for GEN_FINISH_ERROR; NULL: "generation failed").
 * The stored statistics go to *stored (may be NULL), the row's id to *id
 * (may be NULL).  The stream is closed even when the last write fails.
 */
int conv_finish_answer(struct conv *c, enum gen_finish finish,
    const struct gen_stats *st, const char *error, struct db_gen_stats *stored,
    int64_t *id, struct err *err);

/*
 * Leave the last prompt out of the branch (its answer failed before any
 * text): the next prompt follows what came before it.  The rows stay in
 * the database, a branch of their own.
 */
void conv_forget(struct conv *c);

/*
 * Continue session ID: its branch (root first) into a new array *msgs of
 * *n (db_messages_free), the leaf, and the settings: the last answer's
 * (else the session's) with their preset's name, the session's system
 * prompt where they have none, the seed only where the user pinned one.
 * *stored_format gets the session's chat format (a new string, or NULL).
 */
int conv_load(struct conv *c, int64_t id, struct db_message **msgs, size_t *n,
    char **stored_format, struct err *err);

/*
 * Where answer (or prompt) ID stands among its siblings (regenerations,
 * edits, compare columns): *pos counting from 1, of *n; 0 of 0 when it
 * cannot be told.
 */
void conv_sibling_pos(struct conv *c, int64_t id, size_t *pos, size_t *n);

/*
 * Step from message ID to its previous (DIR < 0) or next sibling: it
 * becomes the session's leaf, so the chat continues from it and a reopened
 * session shows it; its branch (root first) into a new array *msgs of
 * *n_msgs (db_messages_free).  *pos and *n are the position reached (or,
 * when there is no sibling that way, ERR_NOTFOUND, the position ID has).
 */
int conv_step_sibling(struct conv *c, int64_t id, int dir, size_t *pos,
    size_t *n, struct db_message **msgs, size_t *n_msgs, struct err *err);

/* One message of a branch as the turn rule sees it (texts borrowed). */
struct conv_msg {
	enum db_role role;
	const char *text;
};

/*
 * The turns the model is shown of branch MSGS[N] (root first) into
 * TURNS (room for N); returns how many.  Stored system messages are left
 * out (the system prompt travels apart), and so is a prompt that has no
 * answer before the next prompt (a failed answer, or a compare run left
 * without a winner), so turns alternate.  The texts are borrowed.
 */
size_t conv_turns(
    const struct conv_msg *msgs, size_t n, struct chat_turn *turns);

/* The most recently updated session's id into *id (ERR_NOTFOUND: none). */
int conv_latest(struct db *db, int64_t *id, struct err *err);

#endif
