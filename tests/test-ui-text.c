/*
 * Tests of the TUI's terminal-free text layer: display widths, the
 * sanitiser for untrusted text, word wrapping and the edit-line view.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ui/text.h"

/* Sanitise S in one go into a new string. */
static char *
san(const char *s)
{
	struct sbuf sb;

	sbuf_init(&sb);
	text_sanitize(&sb, s, strlen(s), 0);
	return sb.buf; /* the caller frees it */
}

/* Wrap S at WIDTH; the lines joined with '|' into a new string. */
static char *
wrap(const char *s, int width, int hard)
{
	struct text_lines l;
	struct sbuf sb;
	size_t i;

	text_lines_init(&l);
	sbuf_init(&sb);
	text_wrap(s, strlen(s), width, hard, &l);
	for (i = 0; i < l.n; i++) {
		if (i > 0)
			sbuf_addc(&sb, '|');
		sbuf_add(&sb, s + l.v[i].off, l.v[i].len);
		CHECK_MSG(
		    l.v[i].cols <= width || (l.v[i].cols == 2 && width < 2),
		    "line %zu of '%s' is %d columns wide at width %d", i, s,
		    l.v[i].cols, width);
		CHECK_INT(l.v[i].cols, text_width(s + l.v[i].off, l.v[i].len));
	}
	text_lines_release(&l);
	return sb.buf; /* the caller frees it */
}

#define CHECK_SAN(in, want) \
	do { \
		char *got_ = san(in); \
		CHECK_STR(got_, want); \
		free(got_); \
	} while (0)

#define CHECK_WRAP(in, width, hard, want) \
	do { \
		char *got_ = wrap(in, width, hard); \
		CHECK_STR(got_, want); \
		free(got_); \
	} while (0)

TEST(ui_text_width_ascii_cjk_emoji)
{
	CHECK_INT(text_width("hello", 5), 5);
	CHECK_INT(text_width("", 0), 0);
	/* CJK ideographs and full-width forms are two columns. */
	CHECK_INT(text_width("日本語", strlen("日本語")), 6);
	CHECK_INT(text_width("ＡＢ", strlen("ＡＢ")), 4);
	CHECK_INT(text_width("한국어", strlen("한국어")), 6);
	/* Emoji with emoji presentation are wide. */
	CHECK_INT(text_cp_width(0x1f600), 2);
	CHECK_INT(text_cp_width(0x1f680), 2);
	CHECK_INT(text_width("a😀b", strlen("a😀b")), 4);
	/* Latin, Greek, Cyrillic are narrow. */
	CHECK_INT(text_width("éλж", strlen("éλж")), 3);
}

TEST(ui_text_width_zero_width_and_unassigned)
{
	/* e + COMBINING ACUTE ACCENT is one column. */
	CHECK_INT(text_width("e\xcc\x81", 3), 1);
	CHECK_INT(text_cp_width(0x301), 0);
	/* Zero width joiner, variation selector 16, zero width space. */
	CHECK_INT(text_cp_width(0x200d), 0);
	CHECK_INT(text_cp_width(0xfe0f), 0);
	CHECK_INT(text_cp_width(0x200b), 0);
	/* Family emoji: three wide emoji joined by two ZWJs. */
	CHECK_INT(text_width("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9"
			     "\xe2\x80\x8d\xf0\x9f\x91\xa7",
		      18),
	    6);
	/* Hangul jamo: the leading consonant is wide, the vowel joins. */
	CHECK_INT(text_cp_width(0x1100), 2);
	CHECK_INT(text_cp_width(0x1161), 0);
	/* Unassigned: one column, two in the ideograph planes. */
	CHECK_INT(text_cp_width(0x0378), 1);
	CHECK_INT(text_cp_width(0x2fffd), 2);
	CHECK_INT(text_cp_width(0x3fffd), 2);
	/* Private use: one column; controls: none. */
	CHECK_INT(text_cp_width(0xe000), 1);
	CHECK_INT(text_cp_width(0x1b), 0);
	CHECK_INT(text_cp_width(0x9b), 0);
	/* Invalid bytes count as U+FFFD, one column each. */
	CHECK_INT(text_width("\xff\xfe", 2), 2);
}

TEST(ui_text_sanitize_escape_sequences)
{
	/* CSI (colours, cursor moves, clear screen) */
	CHECK_SAN("\033[31mred\033[0m", "\xe2\x90\x9b[31mred\xe2\x90\x9b[0m");
	CHECK_SAN("\033[2J\033[H", "\xe2\x90\x9b[2J\xe2\x90\x9b[H");
	/* OSC (set title, hyperlinks) ended by BEL or ST */
	CHECK_SAN("\033]0;pwned\007", "\xe2\x90\x9b]0;pwned\xe2\x90\x87");
	CHECK_SAN("\033]8;;http://x\033\\y",
	    "\xe2\x90\x9b]8;;http://x\xe2\x90\x9b\\y");
	/* DCS */
	CHECK_SAN("\033P1$r\033\\", "\xe2\x90\x9bP1$r\xe2\x90\x9b\\");
	/* A lone ESC at the end */
	CHECK_SAN("end\033", "end\xe2\x90\x9b");
	/* Nothing in the output may be an ESC. */
	{
		char *s = san("\033\033[\033]\033P\x9b\xc2\x9b");
		CHECK(strchr(s, '\033') == NULL);
		free(s);
	}
}

TEST(ui_text_sanitize_controls_and_invalid)
{
	/* C0 controls become control pictures; newline stays. */
	CHECK_SAN("a\001b\nc",
	    "a\xe2\x90\x81"
	    "b\nc");
	CHECK_SAN("\a\b\f\v",
	    "\xe2\x90\x87\xe2\x90\x88\xe2\x90\x8c"
	    "\xe2\x90\x8b");
	CHECK_SAN("nul\0", "nul");
	/* DEL */
	CHECK_SAN("x\177", "x\xe2\x90\xa1");
	/* CR LF is a newline; a lone CR cannot overwrite the line. */
	CHECK_SAN("a\r\nb", "a\nb");
	CHECK_SAN("safe\rEVIL",
	    "safe\xe2\x90\x8d"
	    "EVIL");
	/* C1 controls (U+0080..U+009F as UTF-8), here CSI U+009B */
	CHECK_SAN("\xc2\x9b"
		  "31m",
	    "<U+009B>31m");
	/* Bidi overrides and isolates are shown, not obeyed. */
	CHECK_SAN("abc\xe2\x80\xae"
		  "def",
	    "abc<U+202E>def");
	CHECK_SAN("\xe2\x81\xa6x\xe2\x81\xa9", "<U+2066>x<U+2069>");
	/* Invalid UTF-8: stray continuation, overlong, surrogate, 0xff */
	CHECK_SAN("\x80", "\xef\xbf\xbd");
	CHECK_SAN("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_SAN("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_SAN("a\xff"
		  "b",
	    "a\xef\xbf\xbd"
	    "b");
	/* Truncated sequence at the end of a whole string */
	CHECK_SAN("x\xe6\x97", "x\xef\xbf\xbd\xef\xbf\xbd");
	/* Valid text passes unchanged. */
	CHECK_SAN("日本語 😀 e\xcc\x81", "日本語 😀 e\xcc\x81");
}

TEST(ui_text_sanitize_tabs)
{
	CHECK_SAN("\tx", "        x");
	CHECK_SAN("ab\tc", "ab      c");
	CHECK_SAN("12345678\tx", "12345678        x");
	/* Columns count display width: a wide character is two. */
	CHECK_SAN("日\tx", "日      x");
	CHECK_SAN("a\n\tb", "a\n        b");
}

TEST(ui_text_sanitize_streaming_pieces)
{
	const char *whole = "ok \033[31m日本\r\n\ttab 😀 \xc2\x9b end\r";
	struct text_san st;
	struct sbuf a, b;
	size_t n = strlen(whole), i, cut;
	char *want = san(whole);

	/* Every way of cutting the text in two gives the same result. */
	for (cut = 0; cut <= n; cut++) {
		sbuf_init(&a);
		text_san_init(&st, 0);
		text_san_feed(&st, &a, whole, cut);
		text_san_feed(&st, &a, whole + cut, n - cut);
		text_san_flush(&st, &a);
		CHECK_MSG(
		    strcmp(a.buf, want) == 0, "cut at %zu: '%s'", cut, a.buf);
		sbuf_release(&a);
	}
	/* And byte by byte. */
	sbuf_init(&b);
	text_san_init(&st, 0);
	for (i = 0; i < n; i++)
		text_san_feed(&st, &b, whole + i, 1);
	text_san_flush(&st, &b);
	CHECK_STR(b.buf, want);
	sbuf_release(&b);
	/* A partial character is held back until it is complete. */
	sbuf_init(&b);
	text_san_init(&st, 0);
	text_san_feed(&st, &b, "a\xe6\x97", 3);
	CHECK_STR(b.buf, "a");
	text_san_feed(&st, &b, "\xa5", 1);
	CHECK_STR(b.buf, "a日");
	sbuf_release(&b);
	free(want);
}

TEST(ui_text_sanitize_oneline)
{
	struct sbuf sb;

	sbuf_init(&sb);
	text_sanitize(&sb, "two\nlines\r\nhere", 15, 1);
	CHECK_STR(sb.buf, "two lines here");
	sbuf_release(&sb);
}

TEST(ui_text_wrap_words)
{
	CHECK_WRAP("the quick brown fox", 10, 0, "the quick|brown fox");
	CHECK_WRAP("the quick brown fox", 9, 0, "the quick|brown fox");
	CHECK_WRAP("the quick brown fox", 8, 0, "the|quick|brown|fox");
	CHECK_WRAP("the quick brown fox", 100, 0, "the quick brown fox");
	/* Runs of spaces at a break are dropped, inner ones kept. */
	CHECK_WRAP("aaa    bbb", 5, 0, "aaa|bbb");
	CHECK_WRAP("a  b", 10, 0, "a  b");
	/* Leading indentation is kept. */
	CHECK_WRAP("    indented text", 12, 0, "    indented|text");
	/* Newlines and empty lines */
	CHECK_WRAP("a\n\nb", 10, 0, "a||b");
	CHECK_WRAP("", 10, 0, "");
	CHECK_WRAP("a\n", 10, 0, "a|");
}

TEST(ui_text_wrap_long_words_and_hard)
{
	/* A word longer than the line is broken. */
	CHECK_WRAP("abcdefghij", 4, 0, "abcd|efgh|ij");
	CHECK_WRAP("xx abcdefghij", 4, 0, "xx|abcd|efgh|ij");
	/* Hard wrapping (code) ignores spaces. */
	CHECK_WRAP("ab cd ef", 4, 1, "ab c|d ef");
	/* Width 1 still makes progress. */
	CHECK_WRAP("abc", 1, 0, "a|b|c");
}

TEST(ui_text_wrap_wide_at_the_edge)
{
	/* Five columns: two wide characters fit, the third moves down. */
	CHECK_WRAP("日本語", 5, 0, "日本|語");
	CHECK_WRAP("日本語", 4, 0, "日本|語");
	CHECK_WRAP("a日本語", 4, 0, "a日|本語");
	CHECK_WRAP("日本語", 6, 0, "日本語");
	/* A wide character on a one-column line gets a line of its own. */
	CHECK_WRAP("日本", 1, 0, "日|本");
	/* Words of CJK and emoji separated by spaces */
	CHECK_WRAP("😀😀 😀😀", 5, 0, "😀😀|😀😀");
	/* Combining marks stay with their base character. */
	CHECK_WRAP("e\xcc\x81"
		   "e\xcc\x81"
		   "e\xcc\x81",
	    2, 0,
	    "e\xcc\x81"
	    "e\xcc\x81|e\xcc\x81");
}

TEST(ui_text_fit)
{
	struct sbuf sb;

	sbuf_init(&sb);
	CHECK_INT(text_fit(&sb, "hello", 10), 5);
	CHECK_STR(sb.buf, "hello");
	sbuf_reset(&sb);
	CHECK_INT(text_fit(&sb, "hello world", 6), 6);
	CHECK_STR(sb.buf, "hello\xe2\x80\xa6");
	sbuf_reset(&sb);
	CHECK_INT(text_fit(&sb, "日本語", 4), 3);
	CHECK_STR(sb.buf, "日\xe2\x80\xa6");
	sbuf_release(&sb);
}

TEST(ui_text_edit_view)
{
	struct sbuf sb;
	int rows, crow, ccol;

	sbuf_init(&sb);
	text_edit_view("> ", "hello", 5, 5, 20, &sb, &rows, &crow, &ccol);
	CHECK_STR(sb.buf, "> hello");
	CHECK_INT(rows, 1);
	CHECK_INT(crow, 0);
	CHECK_INT(ccol, 7);
	/* Explicit newlines start indented continuation rows. */
	sbuf_reset(&sb);
	text_edit_view("> ", "a\nbc", 4, 3, 20, &sb, &rows, &crow, &ccol);
	CHECK_STR(sb.buf, "> a\n  bc");
	CHECK_INT(rows, 2);
	CHECK_INT(crow, 1);
	CHECK_INT(ccol, 3);
	/* Hard wrapping at the width, the cursor after a full row. */
	sbuf_reset(&sb);
	text_edit_view("> ", "abcdefgh", 8, 8, 5, &sb, &rows, &crow, &ccol);
	CHECK_STR(sb.buf, "> abc\ndefgh\n");
	CHECK_INT(rows, 3);
	CHECK_INT(crow, 2);
	CHECK_INT(ccol, 0);
	/* Controls as ^X, escape sequences harmless. */
	sbuf_reset(&sb);
	text_edit_view("> ", "a\033[2Jb", 6, 0, 40, &sb, &rows, &crow, &ccol);
	CHECK_STR(sb.buf, "> a^[[2Jb");
	CHECK_INT(ccol, 2);
	sbuf_release(&sb);
}
