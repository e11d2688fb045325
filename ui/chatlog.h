/*
 * chatlog: the conversation shown on the chat screen (t->msgs with their
 * transcript entries).  Terminal drawing is screen.c's; storing is
 * conv.c's; this keeps the two in step.
 */
#ifndef VKCHAT_CHATLOG_H
#define VKCHAT_CHATLOG_H

#include <stddef.h>
#include <stdint.h>

#include "chat.h"
#include "storage/db-messages.h"
#include "tui.h"
#include "util.h"
#include "worker.h"

/* Forget every message shown / all from the Nth on (the transcript
 * entries are the caller's to cut). */
void chatlog_clear(struct tui *t);
void chatlog_truncate(struct tui *t, size_t n);
/* Append a shown message: ROLE, TEXT (copied), database ID, ENTRY. */
void chatlog_push(struct tui *t, enum db_role role, const char *text,
    int64_t id, size_t entry);

/* The file name in PATH. */
const char *chatlog_base(const char *path);
/*
 * The label of an answer of the model at PATH (NULL: unknown): its file
 * name, which the database keeps, so that a resumed session labels its
 * answers as they were labelled when they streamed.
 */
const char *chatlog_label(const char *path);
/*
 * The line under an answer: how it ended (PARTIAL: vkchat stopped while
 * generating; ERROR), the statistics ST, and "answer POS of N" when it
 * has siblings.
 */
void chatlog_meta(struct sbuf *sb, const struct db_gen_stats *st, int partial,
    const char *error, int64_t pos, int64_t n);

/*
 * The conversation shown as the engine's turns into TURNS (room for
 * n_msgs), by conv_turns' rule.  Returns how many; the texts are
 * borrowed from T.
 */
size_t chatlog_turns(const struct tui *t, struct chat_turn *turns);

/*
 * Fill REQ (cleared first) with what every answer to the conversation
 * shown is asked with: the system prompt in force, the turns (a new
 * array: free((void *)req->turns)) and the chat format.
 */
void chatlog_request(const struct tui *t, struct worker_gen_request *req);

/* Show prompt TEXT (message ID) as the conversation's next message. */
size_t chatlog_add_prompt(struct tui *t, const char *text, int64_t id);
/*
 * Show stored reply TEXT (message ID; 0: not stored) as the conversation's
 * next answer, finished; it becomes the leaf.  Returns its entry.
 */
size_t chatlog_add_reply(
    struct tui *t, const char *text, size_t len, int64_t id);

/* Show branch MSGS[0..n) (root first) as the conversation. */
void chatlog_show(struct tui *t, const struct db_message *msgs, size_t n);

/*
 * Colour the answers shown by their tokens' probability (ON) or not:
 * each answer with step records in t->kept, and the one streaming
 * (t->live), gets its marks (tokmap.h); the others none.
 */
void chatlog_marks(struct tui *t, int on);

/* Free the messages shown and their array. */
void chatlog_release(struct tui *t);

#endif
