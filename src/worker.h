/*
 * worker: the engine thread.  The UI never blocks on the engine: it posts
 * requests (load a model, generate, cancel) and reads events (loading
 * progress, tokens, done, errors) from a queue.  worker_fd() becomes
 * readable whenever events are pending; one wakeup may stand for many
 * events, so the UI drains the queue with worker_poll() until it returns 0
 * (mpv's pattern).
 *
 * The worker owns every engine and Vulkan object; requests are copied, so
 * the caller's buffers may be reused at once.  Only one request runs at a
 * time; a request posted while another runs waits behind it.  Cancel is an
 * atomic flag checked between tokens: it takes effect within one token and
 * the partial output is kept (a DONE event with finish GEN_FINISH_CANCELLED
 * follows).
 *
 * Generation is per conversation: the worker keeps the KV cache of the
 * last conversation it evaluated and, for the next request, evaluates only
 * the tokens after the longest common prefix (multi-turn chat, /regen and
 * /edit truncate instead of re-evaluating everything).  A request with
 * several columns (compare mode) decodes all of them in one batch from one
 * shared evaluation of the prompt; the engine grows to that many
 * sequences on the first such request (which empties the cache once).
 *
 * A request renders its turns with the model's chat format (src/llm.h):
 * the system prompt is REQ->system, else column 0's params.system_prompt.
 * The prompt plus room for the reply (llm_reserve of the largest
 * max_tokens) must fit the context; when it does not, the request fails
 * with an ERROR naming the sizes, or, when the model was loaded with
 * ctx_shift, the oldest user/assistant turn pairs after the system prompt
 * are left out until it fits (the CONTEXT event says how many).  The
 * format's end-of-turn tokens and turn markers end each column as the
 * model's EOS does.
 *
 * Events of one generation, in order: CONTEXT (the prompt's size), PREFILL
 * progress up to 1, TOKEN events (consecutive text of one column may
 * arrive merged into one event), CONTEXT now and then as the answer grows,
 * and one DONE per column, posted the moment that column ends (after its
 * last TOKEN, with its own statistics) while the other columns' TOKENs go
 * on; the last DONE ends the request, right after a final CONTEXT.  A
 * request that fails before generating gets one ERROR instead; a failure
 * while generating ends every column not yet done with DONE, finish
 * GEN_FINISH_ERROR and the error.  A load posts LOADING progress, then
 * LOADED or ERROR.
 *
 * worker_free cancels what runs, waits for the engine thread to finish
 * the current token (or the model upload under way) and frees
 * everything; queued requests are dropped without events.
 *
 * Threads: every function here is called from the UI thread only.
 */
#ifndef VKCHAT_WORKER_H
#define VKCHAT_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "chat.h"
#include "err.h"
#include "gen.h"
#include "llm.h"
#include "params.h"
#include "sampler.h"

#define WORKER_MAX_COLUMNS GEN_MAX_COLS

/*
 * Types shared with the layers below: struct chat_turn / enum chat_role
 * (src/chat.h) for the conversation, struct gen_stats / enum gen_finish
 * (src/gen.h) for each column's outcome.
 */

struct worker_load_opts {
	const char *model_path;
	int device; /* -1 = automatic (VKCHAT_DEVICE, then discrete) */
	int n_ctx;  /* 0 = min(model maximum, 4096) */
	const char *chat_format; /* NULL = detect from the model */
};

/* What LOADED reports about the model (strings owned by the event). */
struct worker_model_info {
	char *name; /* general.name, or the file name */
	char *path;
	char *chat_format; /* the format in use */
	char *identity;	   /* gguf_identity() hex */
	uint64_t file_size;
	int n_ctx;
	int n_vocab;
	char *device;	       /* the Vulkan device's name */
	char *chat_format_why; /* how the format was chosen */
};

struct worker_gen_request {
	const char *system;	       /* system prompt, or NULL */
	const char *chat_format;       /* render with this format (a
					  reopened session's), NULL: the
					  model's; it stays in use */
	const struct chat_turn *turns; /* user / assistant turns, ending with
					  the user's */
	size_t n_turns;
	size_t n_columns; /* 1..WORKER_MAX_COLUMNS */
	struct gen_params params[WORKER_MAX_COLUMNS];
	int same_seed;	   /* every column uses column 0's seed */
	int32_t probs_top; /* > 0: a STEP event per token with the sampler's
			      stage record, this many candidates per stage */
};

/*
 * STEP: what the sampler did for one token of a column (sampler.h's
 * stage record, the sampler's own numbers), with the text of every token
 * the record names (special tokens shown), since only the engine thread
 * has the tokenizer.
 */
struct worker_step {
	struct sampler_rec rec;
	size_t n;     /* ids named */
	int32_t *ids; /* (n) */
	char **text;  /* (n) their texts */
};

/* Free STEP and what it holds. */
void worker_step_free(struct worker_step *step);

enum worker_event_type {
	WORKER_EV_LOADING, /* progress 0..1 while the weights upload */
	WORKER_EV_LOADED,  /* info is filled */
	WORKER_EV_PREFILL, /* progress 0..1 while the prompt is evaluated */
	WORKER_EV_TOKEN,   /* text (complete UTF-8) for column */
	WORKER_EV_DONE,	   /* column finished, at once: its stats, and
			      error if failed */
	WORKER_EV_ERROR,   /* a request failed as a whole: err */
	WORKER_EV_CONTEXT, /* n_ctx_used changed (after prefill / a token) */
	WORKER_EV_STEP,	   /* step: a token's stage record (probs_top),
			      before the token's text */
};

struct worker_event {
	enum worker_event_type type;
	int column;
	double progress;
	char *text; /* TOKEN: the new text */
	size_t len;
	struct gen_stats stats;	       /* DONE (stats.stop is not kept) */
	struct worker_model_info info; /* LOADED */
	int n_ctx_used;		       /* CONTEXT */
	struct err err;		       /* ERROR, DONE with GEN_FINISH_ERROR */
	size_t n_dropped;	       /* CONTEXT: turns ctx_shift left out */
	enum llm_stage stage;	       /* ERROR of a load: where it failed */
	struct worker_step *step;      /* STEP (owned by the event) */
};

struct worker;

/* Start the engine thread.  Heap object: worker_new / worker_free. */
int worker_new(struct worker **out, struct err *err);
/* Cancel what runs, stop the thread, free everything. */
void worker_free(struct worker *w);
/* A file descriptor to poll for POLLIN: events are pending. */
int worker_fd(const struct worker *w);

/* Load a model (replacing the current one), asynchronously. */
int worker_load(
    struct worker *w, const struct worker_load_opts *opts, struct err *err);
/*
 * Generate replies for REQ, asynchronously: TOKEN events stream, one DONE
 * per column as each ends, the last ends the request.  ERR_USAGE if no
 * model is loaded or REQ is malformed.
 */
int worker_generate(
    struct worker *w, const struct worker_gen_request *req, struct err *err);
/*
 * Stop column COLUMN (-1: all columns) of the running generation (its
 * DONE, cancelled, follows within one token; the others go on); when
 * none runs, of the queued ones (they then end at once, cancelled).
 */
void worker_cancel(struct worker *w, int column);
/*
 * Whether a request is running or queued (no longer once its last event
 * has been posted).
 */
int worker_busy(const struct worker *w);

/*
 * Take the next event into *ev (the caller releases it with
 * worker_event_release); returns 1, or 0 when the queue is empty.
 */
int worker_poll(struct worker *w, struct worker_event *ev);
void worker_event_release(struct worker_event *ev);

#endif
