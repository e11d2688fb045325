/*
 * gen: prompt reuse, forking, sampling and streaming.  See gen.h.
 *
 * One step of the loop: every active column samples its next token from
 * its logits row (the first step: all from the prompt's last row), emits
 * its text, and, unless it has finished, joins the next batch at its
 * sequence's end; the batch is evaluated in one engine step and each
 * column's logits row is the one it asked for.  The sampled token that
 * ends a column (end of generation, limit, stop string) is not evaluated.
 *
 * A column is closed by gen_finish the step it ends: its held text is
 * flushed, its statistics filled, and on_done told, so a caller sees
 * each column's end when it happens, not when the batch ends.  Columns
 * become active only once every column is set up, so a setup failure
 * (bad parameters) closes none of them.
 */
#include "gen.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"
#include "stop.h"
#include "util.h"

struct gen_col {
	struct sampler *s;
	struct tok_decoder dec;
	struct stop stop;
	struct sbuf piece, out;
	int32_t seq;
	const float *logits;
	int ready; /* decoder, matcher and buffers initialised */
	int active;
	double t_first;		/* absolute time of the first token */
	struct sampler_rec rec; /* the last step's, when on_step is set */
};

const char *
gen_finish_name(enum gen_finish f)
{
	switch (f) {
	case GEN_FINISH_STOP:
		return "stop";
	case GEN_FINISH_LENGTH:
		return "length";
	case GEN_FINISH_CANCELLED:
		return "cancelled";
	case GEN_FINISH_ERROR:
		return "error";
	default:
		return "none";
	}
}

void
gen_result_init(struct gen_result *r)
{
	memset(&r->stats, 0, sizeof r->stats);
	tokenizer_ids_init(&r->ids);
}

void
gen_result_release(struct gen_result *r)
{
	tokenizer_ids_release(&r->ids);
}

static int
gen_check(struct engine *e, const struct gen_request *req, struct err *err)
{
	const struct engine_config *c = engine_config(e);
	size_t i, j;

	if (req->n_prompt == 0)
		return err_set(err, ERR_USAGE, "the prompt has no tokens");
	if (req->n_cols < 1 || req->n_cols > GEN_MAX_COLS ||
	    req->n_cols > c->n_seq)
		return err_set(err, ERR_USAGE,
		    "%zu columns asked for, the engine has %" PRIu32
		    " sequences (at most %d columns)",
		    req->n_cols, c->n_seq, GEN_MAX_COLS);
	for (i = 0; req->seqs != NULL && i < req->n_cols; i++) {
		if (req->seqs[i] < 0 || (uint32_t)req->seqs[i] >= c->n_seq)
			return err_set(err, ERR_USAGE,
			    "column %zu: sequence %" PRId32 " out of range", i,
			    req->seqs[i]);
		for (j = 0; j < i; j++)
			if (req->seqs[j] == req->seqs[i])
				return err_set(err, ERR_USAGE,
				    "columns %zu and %zu share sequence "
				    "%" PRId32,
				    j, i, req->seqs[i]);
	}
	if (req->n_prompt > c->n_ctx)
		return err_set(err, ERR_RANGE,
		    "the prompt of %zu tokens does not fit the context of "
		    "%" PRIu32 " tokens",
		    req->n_prompt, c->n_ctx);
	return 0;
}

/*
 * Evaluate what sequence SEQ lacks of the prompt, with logits of the
 * last token, in chunks of max_batch tokens; *n_eval counts what was
 * evaluated.  Returns 1 when a cancel request stopped it between chunks
 * (the sequence then holds part of the prompt).
 */
static int
gen_prompt(struct engine *e, const struct gen_request *req, int32_t seq,
    size_t *n_eval, struct err *err)
{
	const int32_t *cached = engine_seq_tokens(e, seq);
	size_t n_cached = engine_seq_len(e, seq), keep = 0, i, n, chunk;
	struct engine_tok *batch;
	int rc = 0;

	while (keep < n_cached && keep < req->n_prompt &&
	    cached[keep] == req->prompt[keep])
		keep++;
	if (keep == req->n_prompt)
		keep--;
	if ((rc = engine_seq_truncate(e, seq, (uint32_t)keep, err)) < 0)
		return rc;
	n = req->n_prompt - keep;
	chunk = engine_config(e)->max_batch;
	batch = xreallocarray(NULL, n, sizeof *batch);
	for (i = keep; i < req->n_prompt; i++)
		batch[i - keep] = (struct engine_tok){ req->prompt[i], seq,
			(int32_t)i, i + 1 == req->n_prompt };
	*n_eval = 0;
	while (*n_eval < n) {
		size_t m = n - *n_eval < chunk ? n - *n_eval : chunk;

		if (*n_eval > 0 && req->cancel != NULL &&
		    atomic_load(req->cancel) != 0) {
			rc = 1;
			break;
		}
		if ((rc = engine_eval(e, batch + *n_eval, m, err)) < 0)
			break;
		*n_eval += m;
		if (req->on_prefill != NULL)
			req->on_prefill(req->ud, *n_eval, n);
	}
	free(batch);
	return rc;
}

/* Whether T ends generation: the tokenizer's end tokens or the request's. */
static int
gen_is_eog(
    const struct tokenizer *tok, const struct gen_request *req, int32_t t)
{
	size_t i;

	if (tokenizer_is_eog(tok, t))
		return 1;
	for (i = 0; i < req->n_eog; i++)
		if (req->eog[i] == t)
			return 1;
	return 0;
}

/* Whether column C has been asked to stop on its own. */
static int
gen_col_cancelled(const struct gen_request *req, size_t c)
{
	return req->cancel_cols != NULL && atomic_load(&req->cancel_cols[c]);
}

/* The request's string equal to the matched stop string S. */
static const char *
gen_stop_string(const struct gen_request *req, size_t c, const char *s)
{
	size_t i;

	for (i = 0; i < req->params[c].n_stop; i++)
		if (strcmp(req->params[c].stop[i], s) == 0)
			return req->params[c].stop[i];
	for (i = 0; i < req->n_stops; i++)
		if (strcmp(req->stops[i], s) == 0)
			return req->stops[i];
	return NULL;
}

/* Pass TEXT through column C's stop matcher to the callback. */
static void
gen_emit(const struct gen_request *req, size_t c, struct gen_col *col,
    const char *text, size_t len, int finish)
{
	sbuf_reset(&col->out);
	if (len > 0)
		stop_push(&col->stop, text, len, &col->out);
	if (finish)
		stop_finish(&col->stop, &col->out);
	if (col->out.len > 0 && req->on_text != NULL)
		req->on_text(req->ud, c, col->out.buf, col->out.len);
}

/*
 * Sample column C's next token and stream it; returns 1 when the column
 * goes on (*tok to evaluate), 0 when it has finished, or an error.
 */
static int
gen_sample(struct engine *e, const struct tokenizer *tok,
    const struct gen_request *req, size_t c, struct gen_col *col,
    struct gen_result *res, int32_t *out, struct err *err)
{
	struct gen_stats *st = &res->stats;
	int32_t max = req->params[c].max_tokens;
	int32_t t;
	int rc;

	if (max >= 0 && st->n_gen >= (size_t)max) {
		st->finish = GEN_FINISH_LENGTH;
		return 0;
	}
	if (req->on_step != NULL && req->probs_top > 0) {
		col->rec.n_top = req->probs_top;
		if ((rc = sampler_sample_rec(
			 col->s, col->logits, &t, &col->rec, err)) < 0)
			return rc;
		req->on_step(req->ud, c, &col->rec);
	} else if ((rc = sampler_sample(col->s, col->logits, &t, err)) < 0) {
		return rc;
	}
	if (col->t_first == 0)
		col->t_first = util_now();
	if (gen_is_eog(tok, req, t)) {
		st->finish = GEN_FINISH_STOP;
		return 0;
	}
	if ((rc = sampler_accept(col->s, t, err)) < 0)
		return rc;
	tokenizer_ids_push(&res->ids, t);
	st->n_gen++;
	if (req->on_token != NULL)
		req->on_token(req->ud, c, t, col->logits);
	sbuf_reset(&col->piece);
	if ((rc = tok_decoder_push(&col->dec, t, &col->piece, err)) < 0)
		return rc;
	gen_emit(req, c, col, col->piece.buf, col->piece.len, 0);
	if (stop_matched(&col->stop) != NULL) {
		st->finish = GEN_FINISH_STOP;
		st->stop = gen_stop_string(req, c, stop_matched(&col->stop));
		return 0;
	}
	if (max >= 0 && st->n_gen >= (size_t)max) {
		st->finish = GEN_FINISH_LENGTH;
		return 0;
	}
	if (engine_seq_len(e, col->seq) >= engine_config(e)->n_ctx) {
		st->finish = GEN_FINISH_LENGTH;
		return 0;
	}
	*out = t;
	return 1;
}

/*
 * Close column C: flush held text, fill the timing stats, tell on_done
 * (ERR: the run's error, for GEN_FINISH_ERROR).
 */
static void
gen_finish(const struct gen_request *req, size_t c, struct gen_col *col,
    struct gen_result *res, double t0, const struct err *err)
{
	struct gen_stats *st = &res->stats;
	double now = util_now();

	col->active = 0;
	if (stop_matched(&col->stop) == NULL) {
		sbuf_reset(&col->piece);
		tok_decoder_finish(&col->dec, &col->piece);
		gen_emit(req, c, col, col->piece.buf, col->piece.len, 1);
	}
	st->t_first = col->t_first > 0 ? col->t_first - t0 : now - t0;
	st->t_gen = col->t_first > 0 ? now - col->t_first : 0;
	st->gen_tps = st->n_gen > 1 && st->t_gen > 0
	    ? (double)(st->n_gen - 1) / st->t_gen
	    : 0;
	st->seed = sampler_seed(col->s);
	if (req->on_done != NULL)
		req->on_done(req->ud, c, res,
		    st->finish == GEN_FINISH_ERROR ? err : NULL);
}

int
gen_run(struct engine *e, const struct tokenizer *tok,
    const struct gen_request *req, struct gen_result *res, struct err *err)
{
	struct gen_col cols[GEN_MAX_COLS];
	struct engine_tok batch[GEN_MAX_COLS];
	size_t rows[GEN_MAX_COLS];
	size_t c, i, n_active, n_eval = 0;
	const char **stops = NULL;
	double t0 = util_now(), t_prompt;
	int rc, cancelled = 1;

	if ((rc = gen_check(e, req, err)) < 0)
		return rc;
	memset(cols, 0, sizeof cols);
	stops = xreallocarray(
	    NULL, PARAMS_MAX_STOP + req->n_stops + 1, sizeof *stops);
	for (c = 0; c < req->n_cols; c++) {
		struct gen_col *col = &cols[c];

		col->seq = req->seqs != NULL ? req->seqs[c] : (int32_t)c;
		rc = sampler_new(
		    &req->params[c], engine_n_vocab(e), &col->s, err);
		for (i = 0; rc == 0 && i < req->n_prompt; i++)
			rc = sampler_accept(col->s, req->prompt[i], err);
		if (rc < 0)
			goto done;
		tok_decoder_init(&col->dec, tok, req->decode_flags);
		for (i = 0; i < req->params[c].n_stop; i++)
			stops[i] = req->params[c].stop[i];
		for (i = 0; i < req->n_stops; i++)
			stops[req->params[c].n_stop + i] = req->stops[i];
		stop_init(
		    &col->stop, stops, req->params[c].n_stop + req->n_stops);
		sbuf_init(&col->piece);
		sbuf_init(&col->out);
		col->ready = 1;
		res[c].stats.n_prompt = req->n_prompt;
		res[c].stats.seed = sampler_seed(col->s);
	}
	for (c = 0; c < req->n_cols; c++)
		cols[c].active = 1;
	if (req->cancel == NULL || atomic_load(req->cancel) == 0) {
		rc = gen_prompt(e, req, cols[0].seq, &n_eval, err);
		cancelled = rc == 1;
		for (c = 1; rc == 0 && c < req->n_cols; c++)
			rc = engine_seq_fork(e, cols[c].seq, cols[0].seq,
			    (uint32_t)req->n_prompt, err);
		if (rc < 0)
			goto done;
	}
	t_prompt = util_now() - t0;
	for (c = 0; c < req->n_cols; c++) {
		struct gen_stats *st = &res[c].stats;

		st->n_eval = c == 0 ? n_eval : 0;
		st->t_prompt = t_prompt;
		st->prompt_tps = t_prompt > 0 ? (double)n_eval / t_prompt : 0;
		cols[c].logits = engine_logits(e, 0);
		if (cancelled) {
			res[c].stats.finish = GEN_FINISH_CANCELLED;
			gen_finish(req, c, &cols[c], &res[c], t0, NULL);
		}
	}
	for (;;) {
		n_active = 0;
		for (c = 0; c < req->n_cols; c++) {
			int32_t t;

			if (!cols[c].active)
				continue;
			if (gen_col_cancelled(req, c)) {
				res[c].stats.finish = GEN_FINISH_CANCELLED;
				gen_finish(req, c, &cols[c], &res[c], t0, NULL);
				continue;
			}
			rc = gen_sample(
			    e, tok, req, c, &cols[c], &res[c], &t, err);
			if (rc < 0)
				goto done;
			if (rc == 0) {
				gen_finish(req, c, &cols[c], &res[c], t0, NULL);
				continue;
			}
			rows[c] = n_active;
			batch[n_active++] = (struct engine_tok){ t, cols[c].seq,
				(int32_t)engine_seq_len(e, cols[c].seq), 1 };
		}
		if (n_active == 0)
			break;
		if (req->cancel != NULL && atomic_load(req->cancel) != 0) {
			for (c = 0; c < req->n_cols; c++)
				if (cols[c].active) {
					res[c].stats.finish =
					    GEN_FINISH_CANCELLED;
					gen_finish(req, c, &cols[c], &res[c],
					    t0, NULL);
				}
			break;
		}
		if ((rc = engine_eval(e, batch, n_active, err)) < 0)
			goto done;
		for (c = 0; c < req->n_cols; c++)
			if (cols[c].active)
				cols[c].logits = engine_logits(e, rows[c]);
	}
	rc = 0;
done:
	for (c = 0; c < req->n_cols; c++) {
		if (rc < 0 && cols[c].active) {
			res[c].stats.finish = GEN_FINISH_ERROR;
			gen_finish(req, c, &cols[c], &res[c], t0, err);
		}
		sampler_free(cols[c].s);
		if (!cols[c].ready)
			continue;
		sbuf_release(&cols[c].out);
		sbuf_release(&cols[c].piece);
		stop_release(&cols[c].stop);
		tok_decoder_release(&cols[c].dec);
	}
	free(stops);
	return rc;
}
