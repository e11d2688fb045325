/*
 * Tests of the TUI's terminal-free models: the transcript (layout, code
 * fences, reflow, scrolling), the key decoder, the slash commands and
 * their completion, and the form fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "params.h"
#include "ui/field.h"
#include "ui/keys.h"
#include "ui/slash.h"
#include "ui/steps.h"
#include "ui/text.h"
#include "ui/transcript.h"

/* All lines of T as "style:text" joined by '|'. */
static char *
lines(struct transcript *t)
{
	struct transcript_line l;
	struct sbuf sb;
	size_t k;

	sbuf_init(&sb);
	for (k = 0; transcript_line(t, k, &l) == 0; k++) {
		if (k > 0)
			sbuf_addc(&sb, '|');
		sbuf_addf(&sb, "%d:%.*s", (int)l.style, (int)l.len, l.text);
	}
	return sb.buf; /* the caller frees it */
}

TEST(ui_transcript_layout_and_fences)
{
	struct transcript *t = transcript_new();
	const char *answer = "Here:\n```c\nint x;\n```\ndone";
	struct transcript_line l;
	char *s;

	transcript_resize(t, 40, 10);
	transcript_add(t, TRANSCRIPT_USER, "you", "hi", 2);
	transcript_add(
	    t, TRANSCRIPT_ASSISTANT, "model", answer, strlen(answer));
	transcript_set_meta(t, 1, "12 tokens");
	s = lines(t);
	CHECK_STR(s,
	    "0:you|3:hi|9:|1:model|3:Here:|5:```c|4:int x;|5:```|"
	    "3:done|6:12 tokens|9:");
	free(s);
	/* Code is indented further than text. */
	CHECK_INT(transcript_line(t, 6, &l), 0);
	CHECK_INT(l.style, TRANSCRIPT_S_CODE);
	CHECK_INT(l.indent, 4);
	CHECK_INT(l.entry, 1);
	CHECK_INT(transcript_entry_line(t, 1), 3);
	/* Fences: up to three spaces, backticks or tildes. */
	CHECK(transcript_is_fence("```", 3));
	CHECK(transcript_is_fence("   ~~~py", 8));
	CHECK(!transcript_is_fence("    ```", 7));
	CHECK(!transcript_is_fence("``", 2));
	/* An unclosed fence while streaming: the rest is code. */
	transcript_append(t, 1, "\n```\nstill", 10);
	s = lines(t);
	CHECK_CONTAINS(s, "5:```|4:still|6:12 tokens");
	free(s);
	transcript_free(t);
}

TEST(ui_transcript_sanitises_and_streams)
{
	struct transcript *t = transcript_new();
	size_t i;

	transcript_resize(t, 80, 10);
	i = transcript_add(t, TRANSCRIPT_ASSISTANT, "m\033]0;x\007", "", 0);
	transcript_append(t, i, "a\033[31", 5);
	transcript_append(t, i, "mb\xe6\x97", 4);
	/* Raw text is kept as it came (for storage); display is safe. */
	CHECK_STR(transcript_text(t, i), "a\033[31mb\xe6\x97");
	CHECK_STR(transcript_display(t, i), "a\xe2\x90\x9b[31mb");
	transcript_append(t, i, "\xa5", 1);
	CHECK_STR(transcript_display(t, i), "a\xe2\x90\x9b[31mb日");
	transcript_append(t, i, "\xe6", 1);
	transcript_finish(t, i);
	CHECK_STR(transcript_display(t, i), "a\xe2\x90\x9b[31mb日\xef\xbf\xbd");
	{
		struct transcript_line l;

		CHECK_INT(transcript_line(t, 0, &l), 0);
		CHECK(memchr(l.text, '\033', l.len) == NULL);
		CHECK(memchr(l.text, '\007', l.len) == NULL);
	}
	transcript_free(t);
}

TEST(ui_transcript_reflow_on_resize)
{
	struct transcript *t = transcript_new();
	const char *text = "one two three four five six seven eight nine ten";
	size_t n80, n20, n12;

	transcript_resize(t, 80, 5);
	transcript_add(t, TRANSCRIPT_USER, NULL, text, strlen(text));
	n80 = transcript_lines(t);
	CHECK_INT(n80, 2); /* the text and the blank line after it */
	transcript_resize(t, 20, 5);
	n20 = transcript_lines(t);
	transcript_resize(t, 12, 5);
	n12 = transcript_lines(t);
	CHECK(n20 > n80);
	CHECK(n12 > n20);
	/* Lines never exceed the width minus the indent. */
	{
		struct transcript_line l;
		size_t k;

		for (k = 0; transcript_line(t, k, &l) == 0; k++)
			CHECK(l.indent + l.cols <= 12);
	}
	/* Back to 80: the same layout as before. */
	transcript_resize(t, 80, 5);
	CHECK_INT(transcript_lines(t), n80);
	transcript_free(t);
}

TEST(ui_transcript_scroll_follow_and_anchor)
{
	struct transcript *t = transcript_new();
	char buf[64];
	size_t i, top, last;
	struct transcript_line l;
	int n;

	transcript_resize(t, 40, 10);
	for (i = 0; i < 30; i++) {
		n = snprintf(buf, sizeof(buf), "message %zu", i);
		transcript_add(t, TRANSCRIPT_USER, NULL, buf, (size_t)n);
	}
	/* 30 entries of 2 lines: following shows the last 10. */
	CHECK_INT(transcript_lines(t), 60);
	CHECK_INT(transcript_top(t), 50);
	CHECK_INT(transcript_from_bottom(t), 0);
	transcript_scroll(t, 15);
	CHECK_INT(transcript_top(t), 35);
	CHECK_INT(transcript_from_bottom(t), 15);
	/* Streaming into the last entry keeps the view where it is. */
	last = transcript_count(t) - 1;
	transcript_append(t, last, "\nmore\nand more", 14);
	CHECK_INT(transcript_top(t), 35);
	CHECK_INT(transcript_from_bottom(t), 17);
	/* Scrolling past the top stops at 0; past the bottom follows. */
	transcript_scroll(t, 1000);
	CHECK_INT(transcript_top(t), 0);
	transcript_scroll(t, -5);
	CHECK_INT(transcript_top(t), 5);
	transcript_scroll(t, -1000);
	CHECK_INT(transcript_from_bottom(t), 0);
	transcript_append(t, last, "\nx", 2);
	CHECK_INT(transcript_from_bottom(t), 0);
	/* Reflow keeps the line at the top of the view in view. */
	transcript_scroll(t, 30);
	top = transcript_top(t);
	CHECK_INT(transcript_line(t, top, &l), 0);
	i = l.entry;
	transcript_resize(t, 8, 10);
	CHECK_INT(transcript_line(t, transcript_top(t), &l), 0);
	CHECK_INT(l.entry, i);
	/* A new entry jumps to the bottom. */
	transcript_add(t, TRANSCRIPT_NOTICE, NULL, "new", 3);
	CHECK_INT(transcript_from_bottom(t), 0);
	/* Truncate drops entries (for /regen and /edit). */
	transcript_truncate(t, 2);
	CHECK_INT(transcript_count(t), 2);
	transcript_resize(t, 40, 10);
	CHECK_INT(transcript_lines(t), 4);
	CHECK_INT(transcript_top(t), 0);
	transcript_free(t);
}

/* Decode BYTES (FINAL) into a string of event codes. */
static char *
decode(const char *bytes, size_t len, int final)
{
	struct keys k;
	struct keys_event ev;
	struct sbuf sb;

	keys_init(&k);
	sbuf_init(&sb);
	keys_feed(&k, bytes, len);
	while (keys_next(&k, &ev, final)) {
		if (sb.len > 0)
			sbuf_addc(&sb, ' ');
		switch (ev.code) {
		case KEYS_CHAR:
			sbuf_addf(&sb, "c%x", (unsigned)ev.cp);
			break;
		case KEYS_CTRL:
			sbuf_addf(&sb, "^%c", (char)ev.cp);
			break;
		case KEYS_ALT:
			sbuf_addf(&sb, "M-%c", (char)ev.cp);
			break;
		case KEYS_PASTE:
			sbuf_addf(&sb, "paste[%.*s]", (int)ev.len, ev.raw);
			break;
		default:
			sbuf_addf(&sb, "k%d/%zu", (int)ev.code, ev.len);
			if (ev.mods != 0)
				sbuf_addf(&sb, "+%u", ev.mods);
			break;
		}
	}
	if (keys_pending(&k))
		sbuf_adds(&sb, " +pending");
	keys_release(&k);
	return sb.buf; /* the caller frees it */
}

#define CHECK_KEYS(bytes, final, want) \
	do { \
		char *got_ = decode(bytes, sizeof(bytes) - 1, final); \
		CHECK_STR(got_, want); \
		free(got_); \
	} while (0)

TEST(ui_keys_decode)
{
	char want[128];

	CHECK_KEYS("a\xc3\xa9", 0, "c61 ce9");
	CHECK_KEYS("\x0f\x10\x14", 0, "^o ^p ^t");
	snprintf(want, sizeof(want), "k%d/1 k%d/1 k%d/1", KEYS_ENTER, KEYS_TAB,
	    KEYS_BACKSPACE);
	CHECK_KEYS("\r\t\x7f", 0, want);
	/* Cursor and paging keys, both CSI and SS3 forms */
	snprintf(want, sizeof(want), "k%d/3 k%d/3 k%d/4 k%d/4 k%d/3 k%d/5",
	    KEYS_UP, KEYS_LEFT, KEYS_PGUP, KEYS_PGDN, KEYS_F1, KEYS_F1);
	CHECK_KEYS("\033[A\033OD\033[5~\033[6~\033OP\033[11~", 0, want);
	/* Ctrl-Right keeps its bytes as one key for readline, with its
	 * modifier; Alt-Left and Shift-Alt-Right too. */
	snprintf(want, sizeof(want), "k%d/6+%d k%d/6+%d k%d/6+%d", KEYS_RIGHT,
	    KEYS_MOD_CTRL, KEYS_LEFT, KEYS_MOD_ALT, KEYS_RIGHT,
	    KEYS_MOD_ALT | KEYS_MOD_SHIFT);
	CHECK_KEYS("\033[1;5C\033[1;3D\033[1;4C", 0, want);
	/* Mouse wheel, SGR and X10 */
	snprintf(want, sizeof(want), "k%d/11 k%d/11 k%d/6", KEYS_WHEEL_UP,
	    KEYS_WHEEL_DOWN, KEYS_WHEEL_UP);
	CHECK_KEYS("\033[<64;10;5M\033[<65;10;5M\033[M`!!", 0, want);
	/* Alt-Enter, Alt-x */
	snprintf(want, sizeof(want), "k%d/2 M-x", KEYS_ALT_ENTER);
	CHECK_KEYS("\033\r\033x", 0, want);
}

TEST(ui_keys_lone_esc_and_partial)
{
	char want[64];

	/* An ESC alone waits for more unless the input went quiet. */
	CHECK_KEYS("\033", 0, " +pending");
	snprintf(want, sizeof(want), "k%d/1", KEYS_ESC);
	CHECK_KEYS("\033", 1, want);
	/* A partial sequence or character waits too. */
	CHECK_KEYS("\033[5", 0, " +pending");
	CHECK_KEYS("a\xe6\x97", 0, "c61 +pending");
	CHECK_KEYS("a\xe6\x97", 1, "c61 cfffd cfffd");
	/* Esc Esc: the first is a lone Esc. */
	snprintf(want, sizeof(want), "k%d/1 M-a", KEYS_ESC);
	CHECK_KEYS("\033\033a", 0, want);
}

TEST(ui_keys_bracketed_paste)
{
	struct keys k;
	struct keys_event ev;

	/* A paste is one event, its CRs line breaks. */
	CHECK_KEYS("\033[200~line 1\rline 2\r\n\033[201~x", 0,
	    "paste[line 1\nline 2\n] c78");
	/* It may arrive in pieces. */
	keys_init(&k);
	keys_feed(&k, "\033[200~one\r", 10);
	CHECK_INT(keys_next(&k, &ev, 1), 0);
	keys_feed(&k, "two\033[20", 7);
	CHECK_INT(keys_next(&k, &ev, 1), 0);
	keys_feed(&k, "1~", 2);
	CHECK_INT(keys_next(&k, &ev, 0), 1);
	CHECK_INT(ev.code, KEYS_PASTE);
	CHECK_INT(ev.len, 7);
	CHECK(memcmp(ev.raw, "one\ntwo", 7) == 0);
	CHECK(!keys_pending(&k));
	keys_release(&k);
}

static char **
names_cb(void *ctx, enum slash_names kind, const char *arg)
{
	char **v = xcalloc(4, sizeof(*v));

	(void)ctx;
	switch (kind) {
	case SLASH_NAMES_PRESETS:
		v[0] = xstrdup("creative");
		v[1] = xstrdup("precise");
		v[2] = xstrdup("mine");
		break;
	case SLASH_NAMES_TEMPLATES:
		v[0] = xstrdup("summarize");
		v[1] = xstrdup("translate");
		break;
	case SLASH_NAMES_TEMPLATE_VARS:
		if (strcmp(arg, "translate") == 0) {
			v[0] = xstrdup("lang");
			v[1] = xstrdup("input");
		}
		break;
	}
	return v;
}

/* Completions of the word ending LINE (after its last space). */
static char *
complete(const char *line)
{
	const char *sp = strrchr(line, ' ');
	size_t start = sp != NULL ? (size_t)(sp - line) + 1 : 0, i;
	char **v = slash_complete(line, start, strlen(line), names_cb, NULL);
	struct sbuf sb;

	if (v == NULL)
		return xstrdup("(null)");
	sbuf_init(&sb);
	for (i = 0; v[i] != NULL; i++) {
		sbuf_addf(&sb, "%s%s", i ? " " : "", v[i]);
		free(v[i]);
	}
	free(v);
	return sb.buf; /* the caller frees it */
}

#define CHECK_COMPLETE(line, want) \
	do { \
		char *got_ = complete(line); \
		CHECK_STR(got_, want); \
		free(got_); \
	} while (0)

TEST(ui_slash_find_and_complete)
{
	const char *args;
	int bang = 0;
	char **w;
	size_t n;

	CHECK(slash_find("/preset creative", &args, &bang) != NULL);
	CHECK_STR(args, "creative");
	CHECK(slash_find("/edit!", &args, &bang) != NULL);
	CHECK_INT(bang, 1);
	CHECK(slash_find("/presetx", NULL, NULL) == NULL);
	CHECK(slash_find("hello", NULL, NULL) == NULL);
	CHECK(slash_find("/nope", NULL, NULL) == NULL);
	/* an alias finds its command */
	CHECK_STR(slash_find("/color off", &args, NULL)->name, "colour");
	CHECK_STR(args, "off");
	CHECK(slash_find("/colorx", NULL, NULL) == NULL);
	CHECK_STR(slash_find("/regen", &args, NULL)->name, "regen");
	CHECK_STR(args, "");

	CHECK_COMPLETE("/pre", "/preset");
	CHECK_COMPLETE("/s", "/sessions /set /system");
	CHECK_COMPLETE("/preset c", "creative");
	CHECK_COMPLETE("/preset ", "creative mine precise");
	CHECK_COMPLETE("/template t", "translate");
	CHECK_COMPLETE("/template translate l", "lang=");
	CHECK_COMPLETE("/set top_", "top_k= top_p=");
	CHECK_COMPLETE("/set temp=0.5 min", "min_p=");
	CHECK_COMPLETE("/export ", "json md");
	CHECK_COMPLETE("/man sam", "sampling");
	CHECK_COMPLETE("/regen x", "");
	CHECK_COMPLETE("plain text", "(null)");

	CHECK_INT(
	    slash_split("a=1 b=\"two words\" c=\"q\\\"\"", &w, &n, NULL), 0);
	CHECK_INT(n, 3);
	CHECK_STR(w[1], "b=two words");
	CHECK_STR(w[2], "c=q\"");
	CHECK(w[3] == NULL);
	slash_words_free(w);
	CHECK_INT(slash_split("x=\"open", &w, &n, NULL), ERR_USAGE);
}

TEST(ui_field_editing)
{
	struct field f;
	struct keys_event ev = { 0 };
	size_t first;
	int col;

	field_init(&f);
	ev.code = KEYS_CHAR;
	ev.cp = 'a';
	field_key(&f, &ev);
	ev.cp = 0x65e5; /* 日 */
	field_key(&f, &ev);
	ev.cp = 'b';
	field_key(&f, &ev);
	CHECK_STR(f.text.buf, "a日b");
	ev.code = KEYS_LEFT;
	field_key(&f, &ev);
	field_key(&f, &ev);
	CHECK_INT(f.point, 1);
	ev.code = KEYS_DELETE;
	field_key(&f, &ev);
	CHECK_STR(f.text.buf, "ab");
	ev.code = KEYS_BACKSPACE;
	field_key(&f, &ev);
	CHECK_STR(f.text.buf, "b");
	CHECK_INT(f.point, 0);
	/* A paste becomes one line. */
	ev.code = KEYS_PASTE;
	ev.raw = "x\ny\033";
	ev.len = 4;
	field_key(&f, &ev);
	CHECK_STR(f.text.buf,
	    "x y\xe2\x90\x9b"
	    "b");
	ev.code = KEYS_CTRL;
	ev.cp = 'w';
	field_set(&f, "one two three");
	field_key(&f, &ev);
	CHECK_STR(f.text.buf, "one two ");
	ev.cp = 'u';
	field_key(&f, &ev);
	CHECK_STR(f.text.buf, "");
	/* The view scrolls to keep the cursor visible. */
	field_set(&f, "0123456789");
	field_view(&f, 5, &first, &col);
	CHECK_INT(first, 6);
	CHECK_INT(col, 4);
	field_release(&f);
}

/* A step naming only its drawn token ID. */
static struct worker_step *
test_step(int32_t id)
{
	struct worker_step *st = xcalloc(1, sizeof(*st));

	st->rec.token = id;
	st->n = 1;
	st->ids = xcalloc(1, sizeof(*st->ids));
	st->text = xcalloc(1, sizeof(*st->text));
	st->ids[0] = id;
	st->text[0] = xstrdup("x");
	return st;
}

/* Answers are kept by id, copies are deep, the oldest go at STEPS_KEEP. */
TEST(ui_steps_keep_the_newest)
{
	struct steps_store st = { 0 };
	struct steps s = { 0 }, c;
	struct worker_step *one = test_step(7);
	int64_t i;

	steps_push(&s, one);
	worker_step_free(one);
	steps_copy(&c, &s);
	CHECK_INT(c.n, 1);
	CHECK(c.v[0] != s.v[0] && c.v[0]->text[0] != s.v[0]->text[0]);
	CHECK_INT(c.v[0]->rec.token, 7);
	steps_release(&c);
	for (i = 1; i <= STEPS_KEEP + 5; i++) {
		s.id = i;
		steps_keep(&st, &s);
		CHECK(s.n == 0 && s.v == NULL);
	}
	CHECK_INT(st.n, STEPS_KEEP);
	CHECK(steps_find(&st, 5) == NULL);
	CHECK(steps_find(&st, 6) != NULL);
	CHECK_INT(steps_find(&st, STEPS_KEEP + 5)->id, STEPS_KEEP + 5);
	CHECK(steps_find(&st, 0) == NULL);
	steps_store_release(&st);
}
