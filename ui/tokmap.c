/*
 * tokmap: see tokmap.h.
 *
 * Two passes.  The first lines the tokens' texts up with the raw text
 * the engine streamed (the TOKEN events put together), giving each token
 * a byte range of it.  The second feeds the raw text to a sanitiser
 * (text.h) in pieces cut at those ranges' ends, so the display text's
 * length after each piece is where the range ends in the display text;
 * the sanitiser works per code point and holds back an incomplete one,
 * so the pieces give the display text the transcript made from the
 * stream, and a character split between tokens lands in the later one.
 * What it gives is compared with the entry's display text, and marks
 * stop where the two part, so a difference (a sanitiser rule that
 * depends on where the stream was cut, text changed after streaming)
 * can only leave text plain, never colour the wrong characters.
 */
#include "tokmap.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

enum tokmap_band
tokmap_band(float p)
{
	if (p >= 0.9f)
		return TOKMAP_SURE;
	if (p >= 0.5f)
		return TOKMAP_LIKELY;
	if (p >= 0.1f)
		return TOKMAP_UNSURE;
	return TOKMAP_RARE;
}

const char *
tokmap_band_floor(enum tokmap_band b)
{
	static const char *const floor[TOKMAP_N] = { "0.9", "0.5", "0.1", "0" };

	return b < TOKMAP_N ? floor[b] : "0";
}

/* The drawn token's text of step ST ("" when the record lacks it). */
static const char *
tokmap_piece(const struct worker_step *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->ids[i] == st->rec.token && st->text[i] != NULL)
			return st->text[i];
	return "";
}

/* A token's range of the raw text, [a, b). */
struct tokmap_range {
	size_t a, b;
	enum tokmap_band band;
};

/* Pass one: the tokens of S on RAW into V (room for s->n); the count. */
static size_t
tokmap_align(const struct steps *s, const char *raw, size_t raw_len,
    struct tokmap_range *v)
{
	size_t k, n = 0, pos = 0, len, m;
	const char *p;

	for (k = 0; k < s->n; k++) {
		p = tokmap_piece(s->v[k]);
		len = strlen(p);
		/* The decoder strips the answer's first space. */
		if (n == 0 && len > 0 && p[0] == ' ' &&
		    (raw_len == 0 || raw[0] != ' ')) {
			p++;
			len--;
		}
		for (m = 0;
		     m < len && pos + m < raw_len && p[m] == raw[pos + m]; m++)
			;
		if (m == 0 && (len == 0 || pos < raw_len))
			continue; /* no text of its own in RAW */
		if (m < len && pos + m < raw_len)
			break; /* RAW differs from here on */
		if (m == 0)
			continue; /* RAW ended before it */
		v[n].a = pos;
		v[n].b = pos + m;
		v[n].band = tokmap_band(s->v[k]->rec.p_model);
		n++;
		pos += m;
	}
	return n;
}

/* Append mark [START, END) of BAND to V[*N] when it is not empty. */
static void
tokmap_push(struct transcript_mark *v, size_t *n, size_t start, size_t end,
    enum tokmap_band band)
{
	if (end <= start)
		return;
	v[*n].off = start;
	v[*n].len = end - start;
	v[*n].kind = (int)band;
	(*n)++;
}

size_t
tokmap_marks(const struct steps *s, const char *raw, size_t raw_len,
    const char *disp, size_t disp_len, struct transcript_mark **out)
{
	struct tokmap_range *r;
	struct transcript_mark *v;
	struct text_san san;
	struct sbuf d;
	size_t n, k, nv = 0, cur = 0, start, a, same;
	enum tokmap_band carry = TOKMAP_SURE;
	int carrying = 0;

	*out = NULL;
	if (s == NULL || s->n == 0 || raw_len == 0)
		return 0;
	r = xreallocarray(NULL, s->n, sizeof(*r));
	n = tokmap_align(s, raw, raw_len, r);
	/* A range gives at most two marks: the character it completes and
	 * the rest of its own. */
	v = xreallocarray(NULL, 2 * n + 1, sizeof(*v));
	sbuf_init(&d);
	text_san_init(&san, 0);
	for (k = 0; k < n; k++) {
		if (r[k].a > cur) {
			text_san_feed(&san, &d, raw + cur, r[k].a - cur);
			carrying = 0;
		}
		cur = r[k].b;
		start = d.len;
		a = r[k].a;
		if (carrying) {
			/* A character begun by the tokens before: byte by byte
			 * until it comes out, in the least probable band of
			 * the tokens it is made of. */
			if (carry < r[k].band)
				carry = r[k].band;
			while (a < r[k].b && d.len == start)
				text_san_feed(&san, &d, raw + a++, 1);
			if (d.len == start)
				continue; /* still held back */
			tokmap_push(v, &nv, start, d.len, carry);
			start = d.len;
			carrying = 0;
		}
		text_san_feed(&san, &d, raw + a, r[k].b - a);
		if (d.len == start && a < r[k].b) {
			/* Held back: its character ends in a later token. */
			carry = r[k].band;
			carrying = 1;
			continue;
		}
		tokmap_push(v, &nv, start, d.len, r[k].band);
	}
	/* Keep what lies on the display text as the transcript has it. */
	for (same = 0;
	     same < d.len && same < disp_len && d.buf[same] == disp[same];
	     same++)
		;
	while (nv > 0 && v[nv - 1].off >= same)
		nv--;
	if (nv > 0 && v[nv - 1].off + v[nv - 1].len > same)
		v[nv - 1].len = same - v[nv - 1].off;
	sbuf_release(&d);
	free(r);
	if (nv == 0) {
		free(v);
		return 0;
	}
	*out = v;
	return nv;
}

void
tokmap_update(struct transcript *tr, size_t i, const struct steps *s)
{
	struct transcript_mark *m;
	uint64_t stamp, want;
	size_t n;

	if (i >= transcript_count(tr))
		return;
	transcript_marks(tr, i, &n, &stamp);
	if (s == NULL || s->n == 0) {
		if (n > 0 || stamp != 0)
			transcript_set_marks(tr, i, NULL, 0, 0);
		return;
	}
	want = (uint64_t)s->n + 1;
	if (stamp == want)
		return;
	n = tokmap_marks(s, transcript_text(tr, i), transcript_text_len(tr, i),
	    transcript_display(tr, i), transcript_display_len(tr, i), &m);
	transcript_set_marks(tr, i, m, n, want);
	free(m);
}
