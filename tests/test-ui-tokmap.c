/*
 * Tests of ui/tokmap.c, the drawn tokens of an answer's step records
 * mapped onto its transcript text as probability bands: pieces that line
 * up, the first piece's stripped space, UTF-8 split across byte tokens,
 * tails cut by a stop string or held back while streaming, control
 * tokens with no text, text that differs from the pieces, display text
 * that differs from the raw text (tabs, escapes, CRLF), and the marks in
 * a transcript (kept in step, cleared, never changing the layout).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ui/steps.h"
#include "ui/text.h"
#include "ui/tokmap.h"
#include "ui/transcript.h"

/* Steps whose drawn tokens are PIECES[N] with the model's P[N]. */
static void
tokmap_steps(
    struct steps *s, const char *const *pieces, const float *p, size_t n)
{
	struct worker_step st;
	int32_t id;
	char *text;
	size_t k;

	memset(s, 0, sizeof *s);
	for (k = 0; k < n; k++) {
		memset(&st, 0, sizeof st);
		id = (int32_t)(100 + k);
		text = (char *)pieces[k];
		st.rec.token = id;
		st.rec.p_model = p[k];
		st.rec.p_token = 1;
		st.n = 1;
		st.ids = &id;
		st.text = &text;
		steps_push(s, &st);
	}
}

/*
 * The marks of S on RAW (its display form DISP, or text_sanitize's when
 * NULL) as "text:band" joined by '|', after checking that they are in
 * order, not empty, not overlapping and inside the display text.
 */
static char *
tokmap_show(const struct steps *s, const char *raw, const char *disp)
{
	struct transcript_mark *m;
	struct sbuf d, out;
	size_t n, k, end = 0;

	sbuf_init(&d);
	sbuf_init(&out);
	if (disp == NULL) {
		struct text_san san;

		text_san_init(&san, 0);
		text_san_feed(&san, &d, raw, strlen(raw));
	} else {
		sbuf_adds(&d, disp);
	}
	n = tokmap_marks(s, raw, strlen(raw), d.buf, d.len, &m);
	for (k = 0; k < n; k++) {
		CHECK_MSG(m[k].len > 0, "mark %zu is empty", k);
		CHECK_MSG(m[k].off >= end, "mark %zu overlaps", k);
		CHECK_MSG(
		    m[k].off + m[k].len <= d.len, "mark %zu past the end", k);
		CHECK(m[k].kind >= 0 && m[k].kind < TOKMAP_N);
		if (m[k].off + m[k].len > d.len)
			break;
		end = m[k].off + m[k].len;
		sbuf_addf(&out, "%s%.*s:%d", k > 0 ? "|" : "", (int)m[k].len,
		    d.buf + m[k].off, m[k].kind);
	}
	free(m);
	sbuf_release(&d);
	if (out.buf == NULL)
		sbuf_adds(&out, "");
	return out.buf; /* the caller frees it */
}

#define TOKMAP_CHECK(pieces, p, raw, disp, want) \
	do { \
		struct steps s_; \
		char *got_; \
		tokmap_steps(&s_, pieces, p, sizeof(p) / sizeof(p[0])); \
		got_ = tokmap_show(&s_, raw, disp); \
		CHECK_STR(got_, want); \
		free(got_); \
		steps_release(&s_); \
	} while (0)

TEST(ui_tokmap_bands)
{
	CHECK_INT(tokmap_band(1.0f), TOKMAP_SURE);
	CHECK_INT(tokmap_band(0.9f), TOKMAP_SURE);
	CHECK_INT(tokmap_band(0.8999f), TOKMAP_LIKELY);
	CHECK_INT(tokmap_band(0.5f), TOKMAP_LIKELY);
	CHECK_INT(tokmap_band(0.4999f), TOKMAP_UNSURE);
	CHECK_INT(tokmap_band(0.1f), TOKMAP_UNSURE);
	CHECK_INT(tokmap_band(0.0999f), TOKMAP_RARE);
	CHECK_INT(tokmap_band(0.0f), TOKMAP_RARE);
	CHECK_STR(tokmap_band_floor(TOKMAP_SURE), "0.9");
	CHECK_STR(tokmap_band_floor(TOKMAP_RARE), "0");
}

TEST(ui_tokmap_pieces_line_up)
{
	static const char *const pieces[] = { " Once", " upon", " a", " time",
		"</s>" };
	static const float p[] = { 0.95f, 0.6f, 0.2f, 0.01f, 0.9f };

	/* The first piece's space is stripped by the decoder; the end of
	 * generation has no text of its own. */
	TOKMAP_CHECK(
	    pieces, p, "Once upon a time", NULL, "Once:0| upon:1| a:2| time:3");
	/* Where the text keeps the space, so does the mark. */
	TOKMAP_CHECK(pieces, p, " Once upon a time", NULL,
	    " Once:0| upon:1| a:2| time:3");
	/* No records, no text: no marks. */
	TOKMAP_CHECK(pieces, p, "", NULL, "");
}

TEST(ui_tokmap_utf8_split)
{
	static const char *const cafe[] = { "caf", "\xc3", "\xa9", " au",
		" lait" };
	static const float p1[] = { 0.95f, 0.95f, 0.3f, 0.95f, 0.6f };
	static const char *const euro[] = { "\xe2", "\x82", "\xac", "5" };
	static const float p2[] = { 0.01f, 0.95f, 0.95f, 0.7f };
	static const char *const split[] = { "\xe6\x97", "\xa5\xe6\x9c\xac",
		"!" };
	static const float p3[] = { 0.05f, 0.95f, 0.6f };

	/* The character goes to the token that completed it, with the
	 * least probable band of the tokens it is made of. */
	TOKMAP_CHECK(cafe, p1, "caf\xc3\xa9 au lait", NULL,
	    "caf:0|\xc3\xa9:2| au:0| lait:1");
	TOKMAP_CHECK(euro, p2,
	    "\xe2\x82\xac"
	    "5",
	    NULL, "\xe2\x82\xac:3|5:1");
	/* While it streams the last byte is not there yet: nothing of the
	 * character is marked, the rest is. */
	TOKMAP_CHECK(euro, p2, "\xe2\x82", NULL, "");
	/* A token that completes a character and goes on: the character in
	 * the rarer band, the rest in its own. */
	TOKMAP_CHECK(split, p3,
	    "\xe6\x97\xa5\xe6\x9c\xac"
	    "!",
	    NULL, "\xe6\x97\xa5:3|\xe6\x9c\xac:0|!:1");
}

TEST(ui_tokmap_trimmed_tails)
{
	static const char *const pieces[] = { "Hello", " world", "\n\n", "User",
		":" };
	static const float p[] = { 0.95f, 0.3f, 0.5f, 0.9f, 0.9f };
	static const char *const special[] = { "Hi", "<|im_start|>", " there",
		"<|im_end|>" };
	static const float ps[] = { 0.95f, 0.05f, 0.6f, 0.99f };

	/* A stop string ("\n\nUser:") cut from the text. */
	TOKMAP_CHECK(pieces, p, "Hello world", NULL, "Hello:0| world:2");
	/* Text held back while it streams: the token is marked as far as
	 * the text goes. */
	TOKMAP_CHECK(pieces, p, "Hello wo", NULL, "Hello:0| wo:2");
	/* The stop string began inside a token. */
	TOKMAP_CHECK(pieces, p, "Hello world\n", NULL, "Hello:0| world:2|\n:1");
	/* Control tokens in the middle have no text: passed over. */
	TOKMAP_CHECK(special, ps, "Hi there", NULL, "Hi:0| there:1");
}

TEST(ui_tokmap_text_differs)
{
	static const char *const pieces[] = { "Hello", " world", " there" };
	static const float p[] = { 0.95f, 0.3f, 0.6f };
	static const char *const once[] = { " Once", " upon", " a", " time" };
	static const float po[] = { 0.95f, 0.6f, 0.2f, 0.01f };

	/* " world" is not the text's " there": mapping stops there, and the
	 * later " there" is not put on it. */
	TOKMAP_CHECK(pieces, p, "Hello there, world", NULL, "Hello:0");
	TOKMAP_CHECK(pieces, p, "Goodbye", NULL, "");
	/* The display text differs from the raw text's display form from
	 * byte 13 on: marks end there. */
	TOKMAP_CHECK(once, po, "Once upon a time", "Once upon a tame",
	    "Once:0| upon:1| a:2| t:3");
	TOKMAP_CHECK(once, po, "Once upon a time", "", "");
}

TEST(ui_tokmap_display_form)
{
	static const char *const pieces[] = { "a", "\t", "b", "\x1b[1m", "x\r",
		"\ny" };
	static const float p[] = { 0.95f, 0.6f, 0.2f, 0.01f, 0.95f, 0.6f };
	struct steps s;
	char *got;

	/* Tabs become spaces, ESC its control picture, CRLF one newline:
	 * each mark covers what its token became. */
	tokmap_steps(&s, pieces, p, 6);
	got = tokmap_show(&s, "a\tb\x1b[1mx\r\ny", NULL);
	CHECK_STR(got, "a:0|       :1|b:2|\xe2\x90\x9b[1m:3|x:0|\ny:1");
	free(got);
	steps_release(&s);
}

/* All lines of T as "off:text" joined by '|' (off -1: not the text). */
static char *
tokmap_lines(struct transcript *t)
{
	struct transcript_line l;
	struct sbuf sb;
	size_t k;

	sbuf_init(&sb);
	for (k = 0; transcript_line(t, k, &l) == 0; k++)
		sbuf_addf(&sb, "%s%ld:%d:%.*s", k > 0 ? "|" : "",
		    l.off == TRANSCRIPT_NO_OFF ? -1L : (long)l.off, l.cols,
		    (int)l.len, l.text);
	return sb.buf; /* the caller frees it */
}

TEST(ui_tokmap_transcript_marks)
{
	static const char *const pieces[] = { " The", " cat", " sat", " on",
		" the", " mat", ".", "\n", "```", "\n", "x", " =", " 1", "\n",
		"```" };
	static const float p[] = { 0.95f, 0.6f, 0.2f, 0.01f, 0.95f, 0.6f, 0.2f,
		0.01f, 0.95f, 0.6f, 0.2f, 0.01f, 0.95f, 0.6f, 0.2f };
	const char *text = "The cat sat on the mat.\n```\nx = 1\n```";
	const struct transcript_mark *m;
	struct transcript *t = transcript_new();
	struct steps s;
	char *before, *after;
	uint64_t stamp;
	size_t i, n;

	tokmap_steps(&s, pieces, p, 15);
	transcript_resize(t, 16, 10);
	i = transcript_add(t, TRANSCRIPT_ASSISTANT, "model", text, 10);
	before = tokmap_lines(t);
	tokmap_update(t, i, &s);
	m = transcript_marks(t, i, &n, &stamp);
	/* The text so far: "The cat s", the last token cut. */
	CHECK_INT(n, 3);
	CHECK_INT(stamp, 16);
	CHECK(m != NULL && m[2].off == 7 && m[2].len == 3 && m[2].kind == 2);
	after = tokmap_lines(t);
	CHECK_STR(after, before);
	free(after);
	free(before);
	/* The text grows: the stamp is cleared, the marks are remade. */
	transcript_append(t, i, text + 10, strlen(text) - 10);
	transcript_finish(t, i);
	transcript_marks(t, i, &n, &stamp);
	CHECK_INT(stamp, 0);
	before = tokmap_lines(t);
	tokmap_update(t, i, &s);
	m = transcript_marks(t, i, &n, &stamp);
	CHECK_INT(n, 15);
	CHECK_INT(stamp, 16);
	after = tokmap_lines(t);
	/* Marks never change the layout; body lines know their offsets. */
	CHECK_STR(after, before);
	CHECK_STR(after,
	    "-1:5:model|0:14:The cat sat on|15:8:the mat.|"
	    "24:3:```|28:5:x = 1|34:3:```|-1:0:");
	free(after);
	free(before);
	/* Off (or no records): the marks go. */
	tokmap_update(t, i, NULL);
	m = transcript_marks(t, i, &n, &stamp);
	CHECK_INT(n, 0);
	CHECK(m == NULL);
	/* Out of range: nothing happens. */
	tokmap_update(t, 7, &s);
	steps_release(&s);
	transcript_free(t);
}

/*
 * Random answers made of fragments that stress the mapping (UTF-8 split
 * across tokens, invalid bytes, combining marks, tabs, CR, LF, ESC):
 * when the text is the tokens put together, cut anywhere or not, the
 * marks cover all of its display text, in order; with a byte changed,
 * they stay in order, inside the display text, and before the change.
 */
TEST(ui_tokmap_random)
{
	static const char *const frag[] = { "a", "bc", " d", "\xc3", "\xa9",
		"\xe2\x82", "\xac", "\t", "\r", "\n", "\x1b", "\xc3\xa9",
		"\xe6\x97\xa5\xe6\x9c\xac", "\xcc\x81", " x", "\xff", "" };
	const char *pieces[24];
	float p[24];
	struct transcript_mark *m;
	struct text_san san;
	struct sbuf raw, d, pre;
	struct steps s;
	uint32_t seed = 12345;
	size_t iter, k, n, np, cut, sum, at, end;

	sbuf_init(&raw);
	sbuf_init(&d);
	sbuf_init(&pre);
	for (iter = 0; iter < 3000; iter++) {
		np = 1 + (seed = seed * 1103515245u + 12345u) % 24;
		sbuf_reset(&raw);
		for (k = 0; k < np; k++) {
			seed = seed * 1103515245u + 12345u;
			pieces[k] =
			    frag[(seed >> 8) % (sizeof frag / sizeof *frag)];
			p[k] = (float)((seed >> 16) % 1001) / 1000.0f;
			sbuf_adds(&raw, pieces[k]);
		}
		/* The decoder's stripped space is another test's. */
		if (raw.len > 0 && raw.buf[0] == ' ')
			continue;
		tokmap_steps(&s, pieces, p, np);
		seed = seed * 1103515245u + 12345u;
		cut = raw.len > 0 && seed % 3 == 0 ? (seed >> 4) % raw.len
						   : raw.len;
		at = raw.len;
		if (cut > 0 && seed % 5 == 1) {
			/* Change one byte before the cut. */
			at = (seed >> 12) % cut;
			raw.buf[at] = raw.buf[at] == 'q' ? 'r' : 'q';
		}
		sbuf_reset(&d);
		text_san_init(&san, 0);
		text_san_feed(&san, &d, raw.buf, cut);
		n = tokmap_marks(&s, raw.buf, cut, d.buf, d.len, &m);
		sum = 0;
		end = 0;
		for (k = 0; k < n; k++) {
			CHECK(m[k].len > 0 && m[k].off >= end);
			end = m[k].off + m[k].len;
			sum += m[k].len;
		}
		CHECK(end <= d.len);
		if (at == raw.len) {
			CHECK_MSG(sum == d.len && end == d.len,
			    "iteration %zu: marks cover %zu of %zu bytes", iter,
			    sum, d.len);
		} else {
			sbuf_reset(&pre);
			text_san_init(&san, 0);
			text_san_feed(&san, &pre, raw.buf, at);
			/* No fragment holds a q or an r: no token can line
			 * up with the changed byte. */
			CHECK_MSG(end <= pre.len,
			    "iteration %zu: a mark ends at %zu, the change is "
			    "at "
			    "%zu",
			    iter, end, pre.len);
		}
		free(m);
		steps_release(&s);
		if (test_failures() > 0)
			break;
	}
	sbuf_release(&raw);
	sbuf_release(&d);
	sbuf_release(&pre);
}
