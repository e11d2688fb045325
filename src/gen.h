/*
 * gen: the generation loop shared by `vkchat run`, `vkchat bench`, the
 * TUI's engine worker and compare mode.
 *
 * The caller renders the prompt (chat formats are the conversation
 * layer's business) and passes token ids.  gen_run evaluates only what
 * the sequence's cache does not already hold (the longest common prefix
 * with the cached tokens is kept; the last prompt token is always
 * evaluated, for its logits), then samples with src/sampler.h until an
 * end-of-generation token (not emitted), the token limit, a stop string
 * (not emitted), a full context, or a cancel request, checked every
 * token.  Text is streamed through a callback as complete UTF-8.
 * The prompt is evaluated in chunks of the engine's max_batch tokens
 * (progress reported after each, cancel checked between them).
 *
 * Cancel: REQ->cancel stops every column, REQ->cancel_cols[c] column c
 * alone (the others go on); a cancelled column keeps what it produced
 * and finishes GEN_FINISH_CANCELLED within one token.
 *
 * Completion: each column's end is reported through REQ->on_done the
 * moment it finishes (end of generation, stop string, limit, its own
 * cancel), while the other columns go on: after its last text, with its
 * final statistics (tokens, speed over its own lifetime, finish).
 *
 * Columns: N_COLS generations of the same prompt decode together in one
 * batch per step (compare mode, regenerate-N), each with its own
 * sequence, parameters, sampler and seed.  The prompt is evaluated once
 * in the first column's sequence and forked into the others' on the
 * device; a column that finishes drops out of the batch.
 *
 * Nothing is allocated per token beyond amortized growth of the output
 * buffers.  Threads: the engine thread.
 */
#ifndef VKCHAT_GEN_H
#define VKCHAT_GEN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "err.h"
#include "params.h"
#include "sampler.h"
#include "tokenizer.h"

#define GEN_MAX_COLS 8

enum gen_finish {
	GEN_FINISH_NONE = 0, /* still running (never returned) */
	GEN_FINISH_STOP,     /* end-of-generation token or a stop string */
	GEN_FINISH_LENGTH,   /* max_tokens reached or the context is full */
	GEN_FINISH_CANCELLED,
	GEN_FINISH_ERROR,
};

/* "stop", "length", "cancelled", "error" (or "none"). */
const char *gen_finish_name(enum gen_finish f);

/* Streamed text of column COL (LEN bytes of complete UTF-8, no NUL). */
typedef void (*gen_text_fn)(void *ud, size_t col, const char *text, size_t len);

/*
 * Column COL generated token ID (kept: not an end token), sampled from
 * LOGITS (n_vocab floats, the engine's row; valid during the call only).
 * Called before the token's text reaches on_text.
 */
typedef void (*gen_token_fn)(
    void *ud, size_t col, int32_t id, const float *logits);

struct gen_result;

/*
 * Column COL has finished: RES is its outcome, final (stats.finish is
 * set; RES stays the caller's).  ERR is the run's error when the column
 * finished GEN_FINISH_ERROR and gen_run was given an error record, else
 * NULL.
 */
typedef void (*gen_done_fn)(
    void *ud, size_t col, const struct gen_result *res, const struct err *err);

/*
 * Column COL sampled a token: REC is the sampler's stage record of the
 * step, valid during the call only (copy it to keep it).
 */
typedef void (*gen_step_fn)(
    void *ud, size_t col, const struct sampler_rec *rec);

struct gen_request {
	const int32_t *prompt; /* at least one token */
	size_t n_prompt;
	size_t n_cols;			 /* 1 .. GEN_MAX_COLS */
	const struct gen_params *params; /* n_cols of them */
	const int32_t *seqs;   /* sequence of each column; NULL: 0, 1, ... */
	unsigned decode_flags; /* TOK_DECODE_* for the streamed text */
	gen_text_fn on_text;   /* may be NULL */
	void *ud;
	atomic_int *cancel; /* nonzero stops every column; may be NULL */
	/* Per column: nonzero stops that column only; NULL or n_cols. */
	atomic_int *cancel_cols;
	/* More end-of-generation tokens (a chat format's), not emitted. */
	const int32_t *eog;
	size_t n_eog;
	/* More stop strings for every column, after the parameters'. */
	const char *const *stops;
	size_t n_stops;
	/* Prompt evaluation progress: DONE of TOTAL tokens; may be NULL. */
	void (*on_prefill)(void *ud, size_t done, size_t total);
	/* Each column's end, as it happens; may be NULL. */
	gen_done_fn on_done;
	/* Each generated token, before its text; may be NULL. */
	gen_token_fn on_token;
	/* The sampler's stage record of every token sampled (the one that
	 * ends a column too), before its text: with probs_top candidates
	 * per stage (1..SAMPLER_REC_TOP) when on_step is not NULL. */
	int32_t probs_top;
	gen_step_fn on_step;
};

struct gen_stats {
	size_t n_prompt;   /* prompt tokens */
	size_t n_eval;	   /* of which evaluated (not already cached) */
	size_t n_gen;	   /* tokens generated (an end token not counted) */
	double t_prompt;   /* seconds evaluating the prompt */
	double t_first;	   /* seconds from the start to the first token */
	double t_gen;	   /* seconds from the first token to the last */
	double prompt_tps; /* n_eval / t_prompt */
	double gen_tps;	   /* (n_gen - 1) / t_gen: decode steps per second */
	uint64_t seed;	   /* the sampler's effective seed */
	enum gen_finish finish;
	const char *stop; /* the stop string that ended it (the request's
			     string), or NULL */
};

/* One column's outcome; caller-owned storage (gen_result_release). */
struct gen_result {
	struct gen_stats stats;
	struct tokenizer_ids ids; /* generated tokens, in order */
};

void gen_result_init(struct gen_result *r);
void gen_result_release(struct gen_result *r);

/*
 * Run REQ on engine E with tokenizer TOK; RES has n_cols results
 * (initialised by the caller; ids are appended).  Errors: ERR_USAGE (no
 * prompt, bad column count or sequence), ERR_RANGE (the prompt does not
 * fit the context: the message gives both sizes), the sampler's errors
 * for bad parameters, ERR_DEVICE.  A cancelled run is not an error: its
 * columns finish as GEN_FINISH_CANCELLED.  A request refused before its
 * columns start (a bad request, a prompt too long, bad parameters) gets
 * no on_done call; once they have started, on_done is called exactly
 * once for every column before gen_run returns, GEN_FINISH_ERROR for
 * those a failure cut short.
 */
int gen_run(struct engine *e, const struct tokenizer *tok,
    const struct gen_request *req, struct gen_result *res, struct err *err);

#endif
