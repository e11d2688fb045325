/*
 * utf8: decoding, encoding and validation of UTF-8, strictly (no overlong
 * forms, no surrogates, nothing above U+10FFFF).
 */
#ifndef VKCHAT_UTF8_H
#define VKCHAT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode one code point from S (at most LEN bytes) into *cp.  Returns the
 * number of bytes used (1-4), 0 if LEN is too short for a sequence that is
 * valid so far (an incomplete tail), or -1 if the bytes are invalid.
 */
int utf8_decode(const char *s, size_t len, uint32_t *cp);

/*
 * Whether a non-ASCII code point must never reach a terminal as it is:
 * C1 controls (U+0080-U+009F, which terminals may act on), the bidi
 * embeddings, overrides, isolates and marks that reorder what is shown
 * (the "Trojan Source" characters: U+202A-U+202E, U+2066-U+2069,
 * U+200E, U+200F, U+061C), and the line and paragraph separators
 * (U+2028, U+2029).  Every text filter for a terminal, and JSON, use it.
 */
int utf8_hidden(uint32_t cp);

/* Encode CP into OUT (4 bytes of room); returns the byte count (1-4). */
int utf8_encode(uint32_t cp, char *out);

/* Whether S (LEN bytes) is entirely valid UTF-8. */
int utf8_valid(const char *s, size_t len);

/*
 * Length of the longest prefix of S (LEN bytes) that does not end inside an
 * incomplete (but so far valid) sequence: what can be emitted now when more
 * bytes may follow.
 */
size_t utf8_complete_prefix(const char *s, size_t len);

#endif
