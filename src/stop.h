/*
 * stop: stop strings over streamed text.  The caller pushes decoded text
 * as it arrives (token pieces, in any split); the matcher passes on the
 * text that can no longer be the start of a stop string, holds back a
 * tail that still could be, and reports a match: the stop string itself
 * and everything after it are never passed on.  At the end of the stream
 * stop_finish passes on what was held.
 *
 * A stop string matches as soon as it is complete; when several are
 * complete in the same push, the one starting first wins (the longest,
 * when several start at the same byte).  Held text is at
 * most the longest stop string minus one byte, so the delay is bounded.
 * Text passed on always ends on the same byte boundary as the input or
 * before a possible stop string, so valid UTF-8 input (stop strings being
 * valid UTF-8 too) is passed on as whole characters.
 *
 * Caller-owned storage: stop_init / stop_release.  The strings are
 * copied.
 */
#ifndef VKCHAT_STOP_H
#define VKCHAT_STOP_H

#include <stddef.h>

#include "util.h"

struct stop {
	char **strs; /* the stop strings (empty ones are left out) */
	size_t *lens;
	size_t n;
	size_t max_len;	  /* longest stop string */
	struct sbuf held; /* text that may start a stop string */
	int matched;	  /* index of the matched string, -1 while none */
};

/* Start matching the N strings STRS (empty strings are ignored). */
void stop_init(struct stop *s, const char *const *strs, size_t n);
void stop_release(struct stop *s);

/*
 * Push LEN bytes of TEXT; append to OUT what is certainly not part of a
 * stop string.  Returns 1 when a stop string has matched (now or
 * earlier: after a match everything pushed is dropped), else 0.
 */
int stop_push(struct stop *s, const char *text, size_t len, struct sbuf *out);

/* End of stream: append the held text to OUT (nothing after a match). */
void stop_finish(struct stop *s, struct sbuf *out);

/* The stop string that matched, or NULL. */
const char *stop_matched(const struct stop *s);

/* Forget held text and any match, for a new stream. */
void stop_reset(struct stop *s);

#endif
