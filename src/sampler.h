/*
 * sampler: picks the next token from a model's logits (n_vocab floats on
 * the host), configured by a struct gen_params.
 *
 * The chain, in this order (llama.cpp's default order, which most tools
 * follow; sampler_describe() prints it for the active settings):
 *
 *   1. logit_bias    add each listed bias to its token's logit (-inf bans)
 *   2. penalties     for every token among the last repeat_last_n accepted
 *                    tokens: a positive logit is divided by repeat_penalty,
 *                    a negative one multiplied by it (llama.cpp); then
 *                    count * frequency_penalty + presence_penalty is
 *                    subtracted (OpenAI)
 *   3. top_k         keep the K highest logits
 *   4. typical       locally typical sampling: keep the tokens whose
 *                    surprise is closest to the entropy until their
 *                    probability exceeds typical_p
 *   5. top_p         keep the smallest set of most likely tokens whose
 *                    probability reaches top_p
 *   6. min_p         drop tokens less likely than min_p times the best one
 *   7. temperature   divide the remaining logits by the temperature
 *   8. draw          one token in proportion to softmax of what is left
 *
 * Each of 4-6 renormalises over the tokens still present.  With mirostat
 * 2, stages 3-6 are replaced by mirostat v2 after the temperature: tokens
 * whose surprise (-log2 p) exceeds mu are dropped, one is drawn, and mu
 * moves by eta towards the target surprise tau (mu starts at 2 tau), as
 * llama.cpp does.  Temperature 0 is greedy: the highest logit after
 * stages 1-2 (the lowest id on ties); stages 3-8 and mirostat are skipped
 * and no random number is used.  Tokens whose logit is NaN or infinite
 * (after the bias) never survive.
 *
 * Reproducibility: draws come from rng.h (xoshiro256**) and every
 * probability is computed with this file's own exp and log, in IEEE
 * arithmetic in a fixed order, so the same logits, settings, accepted
 * tokens and seed give the same token on any machine.  Seed 0 in the
 * parameters means a random seed, drawn once at sampler_new and reported
 * by sampler_seed().
 *
 * Speed: all memory is allocated by sampler_new (and sampler_clone); the
 * token loop (sampler_accept, sampler_sample) never allocates.  No stage
 * sorts the vocabulary: top_k is a heap selection; top_p and typical over
 * the whole vocabulary bucket the candidates by key and sort only the
 * bucket where the probability mass crosses the threshold; min_p is a
 * threshold test.
 *
 * Threads: a sampler is used by one thread at a time.
 */
#ifndef VKCHAT_SAMPLER_H
#define VKCHAT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "params.h"
#include "util.h"

/* Windows longer than this many tokens are treated as "all tokens". */
#define SAMPLER_MAX_WINDOW (1 << 20)

struct sampler;

/* One candidate as sampler_probs reports it. */
struct sampler_cand {
	int32_t id;
	float logit; /* after bias, penalties and temperature */
	float p;     /* probability among the candidates left */
};

/*
 * Create a sampler for a vocabulary of N_VOCAB tokens with the sampling
 * fields of P (max_tokens, stop strings and the system prompt are not
 * the sampler's business).  Seed 0 draws a random seed.  Errors: ERR_RANGE
 * for a value out of range or a logit_bias token >= N_VOCAB (the message
 * names the parameter and value), ERR_UNSUPPORTED for mirostat 1.  On
 * success *out is owned by the caller (sampler_free).
 */
int sampler_new(const struct gen_params *p, int32_t n_vocab,
    struct sampler **out, struct err *err);

/* Free a sampler (NULL is fine). */
void sampler_free(struct sampler *s);

/*
 * A deep copy of S with the same settings, penalty window, mirostat state
 * and random stream: both then produce the same tokens for the same
 * inputs (forking a conversation, compare columns with one seed).
 */
struct sampler *sampler_clone(const struct sampler *s);

/*
 * Record an accepted token for the penalties: feed the prompt's tokens
 * and every generated token.  ERR_RANGE if TOKEN is not in the
 * vocabulary (nothing is recorded).
 */
int sampler_accept(struct sampler *s, int32_t token, struct err *err);

/*
 * Run the chain over LOGITS (n_vocab floats, not modified) and store the
 * chosen token in *token.  Advances the random stream (unless greedy) and
 * mirostat's mu.  ERR_RANGE if no logit is finite.  The token is not
 * accepted: call sampler_accept when it is kept.
 */
int sampler_sample(
    struct sampler *s, const float *logits, int32_t *token, struct err *err);

/*
 * The stage record: what one step's chain did, written by the sampler as
 * it runs (the numbers it used, not a recomputation) when the caller asks
 * for it with sampler_sample_rec.  A plain struct with no pointers, so a
 * worker thread can copy it into an event.
 *
 * stage[0] is always SAMPLER_STAGE_MODEL: the model's own distribution,
 * softmax of the raw logits.  Then, for each stage in force, in the order
 * the sampler applies them: SAMPLER_STAGE_PENALTIES (logit bias and
 * penalties, when they change a logit), SAMPLER_STAGE_TOP_K,
 * SAMPLER_STAGE_TYPICAL, SAMPLER_STAGE_MIN_P and SAMPLER_STAGE_TOP_P (over
 * a short candidate list min_p is applied first and top_p's target taken
 * from the mass before it, which keeps the same set as the documented
 * order), SAMPLER_STAGE_TOP_P_MIN_P (both in one pass over the whole
 * vocabulary: their intersection), SAMPLER_STAGE_TEMPERATURE (the
 * distribution the draw uses), SAMPLER_STAGE_MIROSTAT (temperature and
 * mirostat's cut, applied together), or SAMPLER_STAGE_GREEDY (temperature
 * 0: the best token, p = 1).  Each stage lists the N_TOP most probable
 * survivors (ties: lower id first) with their probability renormalised
 * over all survivors (at temperature 1 before the temperature stage), and
 * n_left, how many survive in all.
 */
#define SAMPLER_REC_TOP 16
#define SAMPLER_REC_STAGES 8

enum sampler_stage {
	SAMPLER_STAGE_MODEL,
	SAMPLER_STAGE_PENALTIES,
	SAMPLER_STAGE_TOP_K,
	SAMPLER_STAGE_TYPICAL,
	SAMPLER_STAGE_MIN_P,
	SAMPLER_STAGE_TOP_P,
	SAMPLER_STAGE_TOP_P_MIN_P,
	SAMPLER_STAGE_TEMPERATURE,
	SAMPLER_STAGE_MIROSTAT,
	SAMPLER_STAGE_GREEDY,
};

struct sampler_rec_cand {
	int32_t id;
	float p;
};

struct sampler_rec_stage {
	enum sampler_stage kind;
	int32_t n_left; /* survivors in all */
	int32_t n;	/* entries of cand[] filled: min(n_top, n_left) */
	struct sampler_rec_cand cand[SAMPLER_REC_TOP]; /* most probable first */
};

struct sampler_rec {
	int32_t n_top; /* set by the caller: candidates to keep, 1..16 */
	int32_t n_stages;
	struct sampler_rec_stage stage[SAMPLER_REC_STAGES];
	int32_t token; /* the token drawn */
	float p_token; /* its probability in the last stage */
	float p_model; /* its probability in the model's distribution */
	float mu;      /* mirostat's mu before the step (0 when off) */
};

/* "model", "penalties", "top_k", "typical", "min_p", "top_p",
 * "top_p+min_p", "temperature", "mirostat", "greedy". */
const char *sampler_stage_name(enum sampler_stage kind);

/*
 * sampler_sample, and when REC is not NULL (rec->n_top set, clamped to
 * 1..SAMPLER_REC_TOP) fill it with the step's stage record.  With REC
 * NULL it costs nothing more than sampler_sample; with it, one more pass
 * over the vocabulary for the model's distribution and a small selection
 * per stage.  The token drawn is the same either way.
 */
int sampler_sample_rec(struct sampler *s, const float *logits, int32_t *token,
    struct sampler_rec *rec, struct err *err);

/*
 * What the draw would choose from: run the chain over LOGITS up to, not
 * including, the draw and write the surviving candidates, most probable
 * first (ties: lower id first), to OUT (up to MAX of them); *n_out gets
 * how many survive in all.  Probabilities include the temperature.  Greedy
 * gives the one best token with p = 1.  The random stream and mu are not
 * touched.  Errors as sampler_sample.  For tests and the "show
 * probabilities" views; not meant for the token loop.
 */
int sampler_probs(struct sampler *s, const float *logits,
    struct sampler_cand *out, size_t max, size_t *n_out, struct err *err);

/*
 * Forget the accepted tokens, set mu back to 2 tau and restart the random
 * stream from the seed: the state sampler_new left.
 */
void sampler_reset(struct sampler *s);

/*
 * Use SEED from now on (0: draw a random one) and restart the random
 * stream; the window and mu are kept.  Returns the effective seed.
 */
uint64_t sampler_reseed(struct sampler *s, uint64_t seed);

/* The effective seed (never 0: a random seed has been drawn). */
uint64_t sampler_seed(const struct sampler *s);

/* Mirostat's current mu (2 tau until tokens are drawn; 0 when off). */
float sampler_mu(const struct sampler *s);

/*
 * Append a one-line description of the active chain, for example
 * "logit_bias (none) -> penalties (last 64: repeat 1.1) -> top_k 40 ->
 * typical 1 (off) -> top_p 0.95 -> min_p 0.05 -> temperature 0.8 ->
 * draw (seed 42)".
 */
void sampler_describe(const struct sampler *s, struct sbuf *out);

#endif
