/*
 * steps: the sampler's stage records of an answer, token by token (the
 * engine's STEP events, worker.h), kept for the inspector while vkchat
 * runs.  They are not stored in the database: a record is about a
 * kilobyte and a half per token with its candidates' texts, so an answer
 * of a thousand tokens would add over a megabyte to its row; the
 * inspector is for the answers generated in this run (vkchat-storage(5)).
 * Terminal-free.
 */
#ifndef VKCHAT_STEPS_H
#define VKCHAT_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "worker.h"

/* The records of one answer, or of one compare column. */
struct steps {
	char *label; /* the answer's label (model, or column's settings) */
	int64_t id;  /* its message id; 0 while it streams or unstored */
	struct worker_step **v;
	size_t n, cap;
};

/* Append a copy of STEP. */
void steps_push(struct steps *s, const struct worker_step *step);
/* Free every record and the label; *S is empty again. */
void steps_release(struct steps *s);
/* DST (empty) becomes a copy of SRC. */
void steps_copy(struct steps *dst, const struct steps *src);

/*
 * The answers of a run: finished ones kept by message id, the newest
 * STEPS_KEEP (at about 1.5 KB a token, a long session would otherwise
 * grow without bound).
 */
#define STEPS_KEEP 100
struct steps_store {
	struct steps *v;
	size_t n, cap;
};

/* Keep S (moved: *S is empty after), dropping the oldest at STEPS_KEEP. */
void steps_keep(struct steps_store *st, struct steps *s);
/* The records of message ID, or NULL. */
const struct steps *steps_find(const struct steps_store *st, int64_t id);
void steps_store_release(struct steps_store *st);

#endif
