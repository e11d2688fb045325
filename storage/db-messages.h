/*
 * db-messages: the messages of a session, as a tree.  Each message points
 * at its parent (NULL for the first); a regeneration is a new assistant
 * message with the same parent as the old one, an edit a new user message
 * beside the edited one.  The session's current leaf picks the branch that
 * is shown: the path from the leaf up to the root.
 *
 * Assistant messages record everything needed to reproduce or compare
 * them: the model identity, the full settings, the seed, token counts,
 * time to first token, tokens per second and why generation ended.  A
 * message still being generated is partial (see db-stream.h).
 */
#ifndef VKCHAT_DB_MESSAGES_H
#define VKCHAT_DB_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "params.h"

enum db_role {
	DB_ROLE_SYSTEM,
	DB_ROLE_USER,
	DB_ROLE_ASSISTANT,
};

enum db_finish {
	DB_FINISH_NONE,	     /* not generated, or not finished */
	DB_FINISH_STOP,	     /* end of text or a stop string */
	DB_FINISH_LENGTH,    /* max_tokens or the context was reached */
	DB_FINISH_CANCELLED, /* the user stopped it */
	DB_FINISH_ERROR,     /* generation failed (see the error text) */
};

/* Statistics of one generation; negative numbers mean unknown. */
struct db_gen_stats {
	int64_t prompt_tokens;
	int64_t completion_tokens;
	double ttft_ms;	     /* time to first token */
	double tokens_per_s; /* generation speed */
	enum db_finish finish;
};

/* A message.  Strings are owned by the struct (db_messages_release). */
struct db_message {
	int64_t id;
	int64_t session_id;
	int64_t parent_id; /* 0 = first message of the tree */
	enum db_role role;
	char *content; /* never NULL once read */
	int64_t created_ms, updated_ms;
	int partial; /* generation has not finished (or never did) */
	/* Assistant messages: */
	char *preset;	/* name of the preset used; NULL = none */
	int has_params; /* PARAMS holds the full settings */
	struct gen_params params;
	uint64_t seed; /* the seed actually used */
	struct db_model model;
	struct db_gen_stats stats;
	char *error; /* finish == DB_FINISH_ERROR: what failed */
	/* Filled when reading: this message among its siblings. */
	int64_t n_siblings;  /* including itself */
	int64_t sibling_pos; /* 1-based, oldest first */
};

/* Names ("user", "stop") and their parsers (ERR_FORMAT names VALUE). */
const char *db_messages_role_name(enum db_role role);
int db_messages_role_parse(
    const char *name, enum db_role *out, struct err *err);
/* NULL for DB_FINISH_NONE. */
const char *db_messages_finish_name(enum db_finish finish);
int db_messages_finish_parse(
    const char *name, enum db_finish *out, struct err *err);

/* Clear *m: no parent, empty content, unknown stats, default params. */
void db_messages_init(struct db_message *m);
void db_messages_release(struct db_message *m);
void db_messages_free(struct db_message *list, size_t n);

/*
 * Add M to session M->session_id under M->parent_id (which must be in the
 * same session), with all of M's fields except id, n_siblings and
 * sibling_pos; created_ms and updated_ms default to now when 0.  The
 * message becomes the session's current leaf, the session is touched,
 * and the first user message names a session that has no title yet.  All
 * in one transaction; the id goes to *id.
 */
int db_messages_add(
    struct db *db, const struct db_message *m, int64_t *id, struct err *err);

/* Read message ID into *out (initialised here); ERR_NOTFOUND if none. */
int db_messages_get(
    struct db *db, int64_t id, struct db_message *out, struct err *err);

/*
 * The branch of session SESSION that ends at message LEAF (0: the
 * session's current leaf, or its newest message when it has none), root
 * first, into a new array *out of *n (db_messages_free).
 */
int db_messages_branch(struct db *db, int64_t session, int64_t leaf,
    struct db_message **out, size_t *n, struct err *err);

/* Every message of SESSION (the whole tree), oldest first. */
int db_messages_all(struct db *db, int64_t session, struct db_message **out,
    size_t *n, struct err *err);

/*
 * Ids of message ID and its siblings (same session and parent), oldest
 * first, into a new array *ids of *n: what the TUI steps through.
 */
int db_messages_siblings(
    struct db *db, int64_t id, int64_t **ids, size_t *n, struct err *err);

/*
 * Streaming writes (db-stream.c uses these).  set_content replaces the
 * text of partial message ID; finish writes the final text, stats and
 * error (may be NULL) and marks it complete.
 */
int db_messages_set_content(
    struct db *db, int64_t id, const char *text, size_t len, struct err *err);
int db_messages_finish(struct db *db, int64_t id, const char *text, size_t len,
    const struct db_gen_stats *stats, const char *error, struct err *err);

#endif
