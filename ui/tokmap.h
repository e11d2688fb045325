/*
 * tokmap: where each token of an answer lies in its transcript text, and
 * how probable the model found it, for colouring the transcript by
 * probability (the chat screen's Alt-C, /colour).  The tokens are the
 * drawn tokens of the answer's step records (steps.h); the text is the
 * entry's, streamed by the engine.  Terminal-free.
 */
#ifndef VKCHAT_TOKMAP_H
#define VKCHAT_TOKMAP_H

#include <stddef.h>

#include "steps.h"
#include "transcript.h"

/*
 * The bands of the model's probability of a drawn token (the
 * sampler_rec's p_model: its distribution before the sampler chain, the
 * number the inspector's cumulative log-probability adds up), most
 * probable first.  They are the kinds of the marks made here.
 */
enum tokmap_band {
	TOKMAP_SURE,   /* p >= 0.9 */
	TOKMAP_LIKELY, /* 0.5 <= p < 0.9 */
	TOKMAP_UNSURE, /* 0.1 <= p < 0.5 */
	TOKMAP_RARE,   /* p < 0.1 */
	TOKMAP_N,
};

/* The band of probability P. */
enum tokmap_band tokmap_band(float p);
/* Its lower bound as text ("0.9", "0.5", "0.1", "0"). */
const char *tokmap_band_floor(enum tokmap_band b);

/*
 * Map the drawn tokens of S onto an entry's text: RAW (RAW_LEN bytes, as
 * streamed) and DISP (DISP_LEN bytes, its display form: text_san_feed of
 * RAW).  Fills *OUT (a new array, the caller frees it; NULL when none)
 * with marks on DISP, in order, not overlapping, each a token's bytes and
 * its band; returns how many.
 *
 * The tokens' texts are matched against RAW in order.  The first may have
 * lost its leading space (the decoder strips it); a token with no text in
 * RAW (a control token such as the end of generation) is passed over; a
 * token cut off where RAW ends (a stop string trimmed, or text held back
 * while it streams) is marked as far as RAW goes; at the first token that
 * differs from RAW after part of it matched, mapping stops, so nothing is
 * ever marked on text it did not come from.  A character made of bytes of
 * several tokens (UTF-8 split across byte tokens) goes to the token that
 * completed it, with the least probable band of them.  Marks end where
 * DISP stops being the display form of RAW.
 */
size_t tokmap_marks(const struct steps *s, const char *raw, size_t raw_len,
    const char *disp, size_t disp_len, struct transcript_mark **out);

/*
 * Keep the marks of entry I of TR in step with S (NULL, or no records:
 * none): remade only when S has more records or the entry's text changed
 * since they were made (the transcript's mark stamp).
 */
void tokmap_update(struct transcript *tr, size_t i, const struct steps *s);

#endif
