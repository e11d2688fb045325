/*
 * db-sessions: conversations.  A session carries a title (taken from the
 * first prompt until someone renames it), the model it was started with,
 * the chat format, system prompt and preset snapshot, the session it was
 * forked from, and its current leaf: the message that ends the branch the
 * session shows (see db-messages.h for the tree).
 */
#ifndef VKCHAT_DB_SESSIONS_H
#define VKCHAT_DB_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "params.h"

/* The longest automatic title, in bytes (before the ellipsis). */
#define DB_TITLE_AUTO_MAX 60

/* A session.  Strings are owned by the struct (db_sessions_release). */
struct db_session {
	int64_t id;
	char *title; /* never NULL once read */
	int64_t created_ms, updated_ms;
	struct db_model model;
	char *chat_format;   /* NULL = unknown */
	char *system_prompt; /* NULL = none */
	char *preset;	     /* the preset it started from; NULL = none */
	int has_params;	     /* PARAMS holds a snapshot */
	struct gen_params params;
	int64_t parent_id;	 /* forked from this session; 0 = none */
	int64_t fork_message_id; /* ... at this message; 0 = none */
	int64_t leaf_id;	 /* current leaf message; 0 = none */
	/* Filled by db_sessions_list only: */
	int64_t n_messages;
	int64_t n_compare; /* compare runs */
	char *snippet;	   /* search hit with [brackets]; NULL = none */
};

/* What db_sessions_list selects; zero values mean "no filter". */
struct db_session_filter {
	const char *search; /* words that must appear in a message or title */
	const char *model;  /* part of the model path, or a hash prefix */
	int64_t since_ms;   /* updated at or after this time */
	int64_t limit;	    /* at most this many, newest first */
};

/* Clear *s to an empty session (params at their defaults, no snapshot). */
void db_sessions_init(struct db_session *s);
/* Free what *s owns; it may be db_sessions_init'ed again. */
void db_sessions_release(struct db_session *s);
/* Release N sessions and free the array. */
void db_sessions_free(struct db_session *list, size_t n);

/*
 * Create a session from S's title (NULL or "" until the first prompt
 * names it), model, chat format, system prompt, preset, params (when
 * has_params), parent_id and fork_message_id; created_ms and updated_ms
 * default to now when 0.  The new id goes to *id.
 */
int db_sessions_create(
    struct db *db, const struct db_session *s, int64_t *id, struct err *err);

/* Read session ID into *out (initialised here); ERR_NOTFOUND if none. */
int db_sessions_get(
    struct db *db, int64_t id, struct db_session *out, struct err *err);

/*
 * Sessions matching F (NULL: all), most recently updated first, into a
 * new array *out of *n (db_sessions_free).  A search matches every word
 * (a trailing '*' makes a word a prefix) anywhere in a message or the
 * title; the words are quoted for FTS5, so no text is a syntax error.
 */
int db_sessions_list(struct db *db, const struct db_session_filter *f,
    struct db_session **out, size_t *n, struct err *err);

/* Set session ID's title (empty titles are refused). */
int db_sessions_rename(
    struct db *db, int64_t id, const char *title, struct err *err);

/*
 * Delete session ID with its messages and compare runs (sessions forked
 * from it stay, losing the link).  ERR_NOTFOUND if there is none.
 */
int db_sessions_delete(struct db *db, int64_t id, struct err *err);

/*
 * Make message LEAF the end of session ID's shown branch (the TUI's
 * branch switching); it must belong to the session.
 */
int db_sessions_set_leaf(
    struct db *db, int64_t id, int64_t leaf, struct err *err);

/* Mark session ID as updated at time MS (0: now) unless it is later. */
int db_sessions_touch(struct db *db, int64_t id, int64_t ms, struct err *err);

/*
 * Copy session ID into a new session (*new_id) holding the branch that
 * ends at message AT (0: the current leaf) with every field of every
 * message; the copy records where it came from.
 */
int db_sessions_fork(
    struct db *db, int64_t id, int64_t at, int64_t *new_id, struct err *err);

/*
 * A title made from a prompt: its first non-blank line with runs of
 * spaces folded, cut at DB_TITLE_AUTO_MAX bytes on a character boundary
 * with an ellipsis.  Newly allocated.
 */
char *db_sessions_auto_title(const char *prompt);

/*
 * The FTS5 query for user TEXT: every whitespace-separated word as a
 * quoted string (a trailing '*' kept as a prefix marker), joined by
 * spaces (AND).  Returns 0, or ERR_USAGE when TEXT has no words.
 */
int db_sessions_fts_query(const char *text, struct sbuf *out, struct err *err);

#endif
