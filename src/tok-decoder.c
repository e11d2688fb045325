/*
 * tok-decoder: streaming detokenization into valid UTF-8.
 *
 * Each id's bytes (tokenizer_piece) are appended after the bytes still
 * held from earlier tokens and scanned: complete characters go out; an
 * incomplete but so far valid sequence at the end (at most 3 bytes) is
 * held for the next token; bytes that cannot start or continue a valid
 * sequence become U+FFFD, one per maximal ill-formed subsequence (the
 * Unicode "substitution of maximal subparts" practice), so the output is
 * the same however the bytes were spread over tokens.
 *
 * TOK_DECODE_STRIP_PREFIX undoes the SentencePiece space prefix: the
 * first token of the stream that produces any output loses one leading
 * space, when the tokenizer adds the prefix.
 */
#include <string.h>

#include "tok-internal.h"
#include "utf8.h"

void
tok_decoder_init(
    struct tok_decoder *d, const struct tokenizer *tok, unsigned flags)
{
	d->tok = tok;
	d->flags = flags;
	d->started = 0;
	d->npend = 0;
	sbuf_init(&d->tmp);
}

void
tok_decoder_release(struct tok_decoder *d)
{
	sbuf_release(&d->tmp);
}

/* Length of the maximal ill-formed subsequence at S (LEN > 0 bytes). */
static size_t
tok_decoder_subpart(const char *s, size_t len)
{
	uint32_t cp;
	size_t m;

	for (m = len < 3 ? len : 3; m > 1; m--)
		if (utf8_decode(s, m, &cp) == 0)
			return m;
	return 1;
}

/* Emit S (LEN bytes) as valid UTF-8; hold an incomplete tail unless FINAL. */
static void
tok_decoder_scan(struct tok_decoder *d, const char *s, size_t len, int final,
    struct sbuf *out)
{
	size_t i = 0, start = 0, k;
	uint32_t cp;
	int r;

	d->npend = 0;
	while (i < len) {
		r = utf8_decode(s + i, len - i, &cp);
		if (r > 0) {
			i += (size_t)r;
			continue;
		}
		sbuf_add(out, s + start, i - start);
		if (r == 0 && !final) {
			d->npend = (unsigned)(len - i);
			memcpy(d->pend, s + i, d->npend);
			return;
		}
		k = tok_decoder_subpart(s + i, len - i);
		sbuf_add(out, "\xef\xbf\xbd", 3);
		i += k;
		start = i;
	}
	sbuf_add(out, s + start, len - start);
}

int
tok_decoder_push(
    struct tok_decoder *d, int32_t id, struct sbuf *out, struct err *err)
{
	size_t mark;
	int rc;

	sbuf_reset(&d->tmp);
	sbuf_add(&d->tmp, d->pend, d->npend);
	mark = d->tmp.len;
	if ((rc = tokenizer_piece(d->tok, id, d->flags, &d->tmp, err)) < 0)
		return rc;
	if (d->tmp.len == mark)
		return 0;
	if (!d->started) {
		d->started = 1;
		if ((d->flags & TOK_DECODE_STRIP_PREFIX) &&
		    d->tok->add_space_prefix && d->tmp.buf[mark] == ' ') {
			memmove(d->tmp.buf + mark, d->tmp.buf + mark + 1,
			    d->tmp.len - mark - 1);
			d->tmp.len--;
		}
	}
	tok_decoder_scan(d, d->tmp.buf, d->tmp.len, 0, out);
	return 0;
}

void
tok_decoder_finish(struct tok_decoder *d, struct sbuf *out)
{
	char pend[4];
	unsigned n = d->npend;

	memcpy(pend, d->pend, n);
	tok_decoder_scan(d, pend, n, 1, out);
	d->npend = 0;
	d->started = 0;
}
