/*
 * probs: the sampler's stage record of one step (sampler.h) as people and
 * programs read it: a compact table for a terminal (at most 80 columns
 * wide) and a JSON object.  `vkchat run --probs N` prints the table of
 * every step on stderr; the per-token JSON output embeds the object.
 */
#ifndef VKCHAT_PROBS_H
#define VKCHAT_PROBS_H

#include <stddef.h>

#include "json.h"
#include "sampler.h"
#include "tokenizer.h"
#include "util.h"

/*
 * Where token texts come from: the tokenizer TOK, or (TOK NULL) the N
 * ids IDS with their texts TEXT (what the engine's worker sends with a
 * step, for the chat screen's inspector).
 */
struct probs_names {
	const struct tokenizer *tok;
	size_t n;
	const int32_t *ids;
	char *const *text;
};

/*
 * Append to OUT the table of step STEP (counted from 1) of REC, token
 * texts from NAMES: a title line with the drawn token, one row per
 * candidate (the model's top N, those the penalties brought into the top
 * N, and the drawn token) with its probability after each stage ("-":
 * cut by it or before; ".": alive but below the N listed), and a row of
 * how many tokens each stage left.  Every line ends in '\n'.
 */
void probs_text(const struct probs_names *nm, const struct sampler_rec *rec,
    size_t step, struct sbuf *out);

/*
 * Write REC as one JSON object to W: {"token", "text", "p", "p_model",
 * "stages": [{"stage", "left", "top": [{"id", "text", "p"}, ...]}, ...]}
 * ("mu" too under mirostat).  Token texts from NAMES, decoded with special
 * tokens shown.
 */
void probs_json(const struct probs_names *nm, const struct sampler_rec *rec,
    struct json_writer *w);

#endif
