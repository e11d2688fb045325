/*
 * engine: the forward pass of a loaded model over batches of tokens that
 * belong to several sequences, with an f16 KV cache per layer.
 *
 * Sequences.  The engine is created for N_SEQ sequences of N_CTX
 * positions each; sequence s owns KV-cache slots [s * n_ctx, (s+1) *
 * n_ctx) of every layer and the host remembers which token sits at each
 * of its positions.  A sequence grows only at its end: a token of
 * sequence s must have position engine_seq_len(s) (counting the tokens of
 * s earlier in the same batch).  Truncating forgets positions (edits and
 * regenerations reuse the prefix), forking copies the first P positions
 * of one sequence into another on the device without evaluating them.
 *
 * Steps.  engine_eval splits a batch into steps of at most max_batch
 * tokens.  Each step is one recorded command graph, replayed with one
 * submission and one fence wait: the per-token values (token id,
 * position, cache slot base, attention length) go into a host-visible
 * step buffer, nothing is allocated per token.  Graphs are recorded once
 * per shape (tokens in the step, logit rows wanted) and kept, the least
 * recently used dropped beyond a few.  Steps of up to 8 tokens (decode,
 * one per sequence) use the matrix-vector kernels, longer ones (prompt
 * chunks) the tiled matrix-matrix kernels.  Logits are computed only for
 * the tokens that ask for them and only those rows are read back.
 *
 * Threads: one thread at a time (the engine thread).
 */
#ifndef VKCHAT_ENGINE_H
#define VKCHAT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h"

/* Sizes fixed at creation; 0 in a field means its default. */
struct engine_config {
	uint32_t n_ctx;	    /* positions per sequence: min(model, 4096) */
	uint32_t n_seq;	    /* sequences: 1 */
	uint32_t max_batch; /* tokens per step: 512, 64 on CPU devices
			       (less if a binding is too small) */
	uint32_t max_out;   /* logit rows per engine_eval: max(8, n_seq) */
};

/* One token of a batch. */
struct engine_tok {
	int32_t token;	/* id < n_vocab */
	int32_t seq;	/* sequence < n_seq */
	int32_t pos;	/* its position: the sequence's length so far */
	int32_t logits; /* nonzero: return this token's logits */
};

struct engine;

/*
 * An engine for model M (which must outlive it) with the sizes in CFG
 * (NULL: all defaults).  Errors: ERR_RANGE (a size out of range, or a KV
 * cache layer larger than the device can bind: the message gives the
 * sizes and says to lower --ctx), ERR_NOMEM (device memory: sizes
 * named), ERR_DEVICE.  *out is freed with engine_free.
 */
int engine_new(struct model *m, const struct engine_config *cfg,
    struct engine **out, struct err *err);

/* Free E and its device buffers and graphs.  NULL is ignored. */
void engine_free(struct engine *e);

/*
 * Record the graphs the first steps most likely use (decode, a prefill
 * chunk, batched decode of 2, 4 and 8 columns when there are several
 * sequences), so that their pipelines are made now rather than in the
 * first prompt.  With WARM, on a CPU device and for a model up to 256
 * MiB, also run steps of 1, 2 and 4 tokens once on throw-away tokens (no
 * sequence changes): llvmpipe compiles a pipeline's code at its first
 * dispatch, not when it is made.  Returns 0 or a negative error code.
 */
int engine_prepare(struct engine *e, int warm, struct err *err);

/* The sizes in use (defaults resolved). */
const struct engine_config *engine_config(const struct engine *e);
uint32_t engine_n_vocab(const struct engine *e);
/* Device bytes of the KV cache (all layers, K and V). */
uint64_t engine_kv_bytes(const struct engine *e);

/*
 * Evaluate the N tokens of BATCH in order: append each to its sequence's
 * cache and compute logits for those that ask.  Nothing is evaluated when
 * the batch is invalid: ERR_RANGE for a token id, sequence or position
 * out of range (a position past n_ctx says the context is full), for a
 * position that is not the sequence's end, or for more logit rows than
 * max_out.  ERR_DEVICE (device lost) leaves the sequences undefined.
 */
int engine_eval(struct engine *e, const struct engine_tok *batch, size_t n,
    struct err *err);

/* Logit rows the last engine_eval returned. */
size_t engine_n_out(const struct engine *e);

/*
 * The logits (n_vocab floats) of the I'th token of the last batch that
 * asked for them (batch order), valid until the next engine_eval.
 */
const float *engine_logits(const struct engine *e, size_t i);

/*
 * The argmax of those logits, computed on the device (the first index on
 * ties, like sampler greedy decoding without penalties).
 */
int32_t engine_argmax(const struct engine *e, size_t i);

/* Number of cached positions of sequence SEQ. */
uint32_t engine_seq_len(const struct engine *e, int32_t seq);

/* The tokens at positions 0 .. engine_seq_len - 1 of SEQ. */
const int32_t *engine_seq_tokens(const struct engine *e, int32_t seq);

/* Keep only the first LEN positions of SEQ; ERR_RANGE if it has fewer. */
int engine_seq_truncate(
    struct engine *e, int32_t seq, uint32_t len, struct err *err);

/*
 * Make DST hold the first LEN positions of SRC (copied on the device, not
 * evaluated); DST's old contents are dropped.  ERR_RANGE for bad
 * sequences (DST == SRC included) or when SRC has fewer than LEN.
 */
int engine_seq_fork(
    struct engine *e, int32_t dst, int32_t src, uint32_t len, struct err *err);

/* Empty SEQ. */
void engine_seq_clear(struct engine *e, int32_t seq);

/*
 * What the most recently run step graph records: dispatches and
 * barriers, and how many graphs have been recorded so far.
 */
void engine_stats(const struct engine *e, unsigned *dispatches,
    unsigned *barriers, unsigned *recorded);

#endif
