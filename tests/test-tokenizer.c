/*
 * test-tokenizer: the tokenizers against the shared conformance data
 * (every line of tokenizers/NAME.jsonl and NAME.parse_special.jsonl must
 * give exactly the reference ids, and plain-mode ids must decode back to
 * the text), and, without shared data, hand-built SPM and BPE
 * vocabularies: merge order, byte fallback, the space prefix, special
 * tokens and injection, NUL and invalid UTF-8 input, the streaming
 * decoder, and the loader's validation through GGUF files written by
 * gguf-write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#include "gguf-write.h"
#include "gguf.h"
#include "harness.h"
#include "json.h"
#include "tokenizer.h"
#include "util.h"

/* ---- conformance data ---- */

struct test_tok_file {
	struct gguf *g;
	struct tokenizer *tok;
};

static int
test_tok_open(const char *name, struct test_tok_file *f)
{
	char rel[128];
	const char *path;
	struct err err;
	int rc;

	snprintf(rel, sizeof(rel), "tokenizers/%s.gguf", name);
	if ((path = test_shared_path(rel)) == NULL)
		return -1;
	rc = gguf_open(path, &f->g, &err);
	CHECK_MSG(rc == 0, "%s: %s", rel, err.msg);
	if (rc < 0)
		return -1;
	rc = tokenizer_load(f->g, &f->tok, &err);
	CHECK_MSG(rc == 0, "%s: %s", rel, err.msg);
	if (rc < 0) {
		gguf_close(f->g);
		return -1;
	}
	return 0;
}

static void
test_tok_close(struct test_tok_file *f)
{
	tokenizer_free(f->tok);
	gguf_close(f->g);
}

/* Print S (LEN bytes) as a JSON string into SB. */
static void
test_tok_ids_str(struct sbuf *sb, const int32_t *ids, size_t n)
{
	size_t i;

	sbuf_adds(sb, "[");
	for (i = 0; i < n; i++)
		sbuf_addf(sb, "%s%d", i ? "," : "", (int)ids[i]);
	sbuf_adds(sb, "]");
}

/* NFC of S (valid UTF-8) into OUT. */
static void
test_tok_nfc(const char *s, size_t len, struct sbuf *out)
{
	utf8proc_uint8_t *dst;
	utf8proc_ssize_t n;

	n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
	    &dst, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (n < 0) {
		sbuf_add(out, s, len);
		return;
	}
	sbuf_add(out, dst, (size_t)n);
	free(dst);
}

/*
 * Check every line of tokenizers/FILE against TOK; ROUNDTRIP also decodes
 * the ids back (to NFC(text) when NFC is set).  Returns mismatches.
 */
static int
test_tok_conform(const struct tokenizer *tok, const char *file, unsigned flags,
    int roundtrip, int nfc)
{
	char rel[128];
	const char *path;
	char *data, *line, *eol;
	size_t len, i, lineno = 0;
	struct err err;
	struct json *j;
	const struct json *text, *ids;
	struct tokenizer_ids out;
	struct sbuf dec, want, msg;
	int bad = 0, bad_rt = 0, same;

	snprintf(rel, sizeof(rel), "tokenizers/%s", file);
	if ((path = test_shared_path(rel)) == NULL) {
		CHECK_MSG(0, "%s is missing", rel);
		return 1;
	}
	if (util_read_file(path, 0, &data, &len, &err) < 0) {
		CHECK_MSG(0, "%s", err.msg);
		return 1;
	}
	tokenizer_ids_init(&out);
	sbuf_init(&dec);
	sbuf_init(&want);
	sbuf_init(&msg);
	for (line = data; line < data + len; line = eol + 1, lineno++) {
		eol = memchr(line, '\n', (size_t)(data + len - line));
		if (eol == NULL)
			eol = data + len;
		if (json_parse(line, (size_t)(eol - line), &j, &err) < 0) {
			CHECK_MSG(0, "%s:%zu: %s", file, lineno + 1, err.msg);
			bad++;
			continue;
		}
		text = json_get(j, "text");
		ids = json_get(j, "ids");
		if (text == NULL || text->type != JSON_STRING || ids == NULL ||
		    ids->type != JSON_ARRAY) {
			CHECK_MSG(
			    0, "%s:%zu: no text or ids", file, lineno + 1);
			json_free(j);
			bad++;
			continue;
		}
		out.n = 0;
		if (tokenizer_encode(
			tok, text->str, text->len, flags, &out, &err) < 0)
			CHECK_MSG(0, "%s:%zu: %s", file, lineno + 1, err.msg);
		same = out.n == ids->len;
		for (i = 0; same && i < out.n; i++)
			same = ids->items[i]->type == JSON_NUMBER &&
			    out.ids[i] == (int32_t)ids->items[i]->number;
		if (!same) {
			if (bad < 5) {
				sbuf_reset(&msg);
				json_quote(&msg, text->str, text->len);
				sbuf_adds(&msg, " -> got ");
				test_tok_ids_str(&msg, out.ids, out.n);
				sbuf_adds(&msg, ", want ");
				for (i = 0; i < ids->len; i++)
					sbuf_addf(&msg, "%s%d", i ? "," : "[",
					    (int)ids->items[i]->number);
				sbuf_adds(&msg, ids->len ? "]" : "[]");
				test_note(
				    "%s line %zu: %s", file, lineno, msg.buf);
			}
			bad++;
		}
		/* SentencePiece cannot tell a literal U+2581 from a space. */
		if (roundtrip && same &&
		    (tokenizer_model(tok) != TOK_MODEL_SPM ||
			strstr(text->str, "\xe2\x96\x81") == NULL)) {
			sbuf_reset(&dec);
			sbuf_reset(&want);
			if (nfc)
				test_tok_nfc(text->str, text->len, &want);
			else
				sbuf_add(&want, text->str, text->len);
			tokenizer_decode(tok, out.ids, out.n,
			    TOK_DECODE_STRIP_PREFIX, &dec, &err);
			if (dec.len != want.len ||
			    memcmp(dec.buf, want.buf, dec.len) != 0) {
				if (bad_rt < 5) {
					sbuf_reset(&msg);
					json_quote(&msg, want.buf, want.len);
					sbuf_adds(&msg, " decodes to ");
					json_quote(&msg, dec.buf, dec.len);
					test_note("%s line %zu round trip: %s",
					    file, lineno, msg.buf);
				}
				bad_rt++;
			}
		}
		json_free(j);
	}
	if (roundtrip)
		test_note(
		    "%s: %zu lines, %d mismatches, %d round-trip failures",
		    file, lineno, bad, bad_rt);
	else
		test_note("%s: %zu lines, %d mismatches", file, lineno, bad);
	CHECK_MSG(bad == 0, "%s: %d of %zu lines differ", file, bad, lineno);
	CHECK_MSG(bad_rt == 0, "%s: %d lines do not round-trip", file, bad_rt);
	sbuf_release(&msg);
	sbuf_release(&want);
	sbuf_release(&dec);
	tokenizer_ids_release(&out);
	free(data);
	return bad + bad_rt;
}

static void
test_tok_conform_model(const char *name, int nfc)
{
	struct test_tok_file f;
	char file[128];

	if (test_shared_path("tokenizers/corpus.jsonl") == NULL)
		test_skip("shared tokenizer data not found");
	if (test_tok_open(name, &f) < 0)
		return;
	snprintf(file, sizeof(file), "%s.jsonl", name);
	test_tok_conform(f.tok, file, 0, 1, nfc);
	snprintf(file, sizeof(file), "%s.parse_special.jsonl", name);
	test_tok_conform(f.tok, file, TOK_PARSE_SPECIAL, 0, nfc);
	test_tok_close(&f);
}

TEST(tok_conform_llama3)
{
	test_tok_conform_model("llama3", 0);
}

TEST(tok_conform_qwen3)
{
	test_tok_conform_model("qwen3", 1);
}

TEST(tok_conform_gpt2)
{
	test_tok_conform_model("gpt2", 0);
}

TEST(tok_conform_llama2)
{
	test_tok_conform_model("llama2", 0);
}

TEST(tok_conform_mistral)
{
	test_tok_conform_model("mistral", 0);
}

TEST(tok_conform_gemma3)
{
	test_tok_conform_model("gemma3", 0);
}

/*
 * Random strings made of pieces that stress the tokenizers: special-token
 * fragments, spaces and newlines, multi-byte characters, NUL, bytes that
 * are not UTF-8.  Their pieces must concatenate back to the input
 * exactly (after the SPM space prefix), in plain mode and, for byte-level
 * BPE, with parse_special too.
 */
static void
test_tok_random(const char *name, int special_too)
{
	static const char *const frags[] = { "<|", "|>", "im_start", "<s>",
		"</s>", "<unk>", "<|endoftext|>", "<|begin_of_text|>",
		"<start_of_turn>", "<think>", " ", "  ", "\n", "\n\n", "\t",
		"a", "Hello", "'s", "'LL", "123", "4567", "\xc3\xa9",
		"\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xe2\x96",
		"\xed\xa0\x80", "!?", "\xc2\xa0", "\0" };
	struct test_tok_file f;
	struct tokenizer_ids ids;
	struct sbuf text, back;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned flags;
	size_t i, k, n;
	int round, bad = 0, strip;

	if (test_tok_open(name, &f) < 0)
		test_skip("tokenizers/%s.gguf not found", name);
	tokenizer_ids_init(&ids);
	sbuf_init(&text);
	sbuf_init(&back);
	for (round = 0; round < 400; round++) {
		sbuf_reset(&text);
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = x % 40;
		for (k = 0; k < n; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			i = (size_t)(x % ARRAY_LEN(frags));
			sbuf_add(&text, frags[i],
			    frags[i][0] ? strlen(frags[i]) : 1);
		}
		flags = special_too && (round & 1) ? TOK_PARSE_SPECIAL : 0;
		ids.n = 0;
		CHECK_INT(tokenizer_encode(
			      f.tok, text.buf, text.len, flags, &ids, NULL),
		    0);
		sbuf_reset(&back);
		for (i = 0; i < ids.n; i++)
			tokenizer_piece(
			    f.tok, ids.ids[i], TOK_DECODE_SPECIAL, &back, NULL);
		strip = tokenizer_add_space_prefix(f.tok) && text.len > 0 &&
		    back.len > 0 && back.buf[0] == ' ';
		if (back.len - strip != text.len ||
		    memcmp(back.buf + strip, text.buf, text.len) != 0) {
			if (bad++ < 3) {
				sbuf_reset(&back);
				json_quote(&back, text.buf, text.len);
				test_note("%s: round trip of %s (flags %u)",
				    name, back.buf, flags);
			}
		}
	}
	CHECK_MSG(bad == 0, "%s: %d of 400 random strings differ", name, bad);
	sbuf_release(&back);
	sbuf_release(&text);
	tokenizer_ids_release(&ids);
	test_tok_close(&f);
}

TEST(tok_random_llama3)
{
	test_tok_random("llama3", 1);
}

TEST(tok_random_gpt2)
{
	test_tok_random("gpt2", 1);
}

TEST(tok_random_mistral)
{
	test_tok_random("mistral", 0);
}

TEST(tok_random_gemma3)
{
	test_tok_random("gemma3", 0);
}

/* ---- a hand-built SentencePiece vocabulary ---- */

#define TEST_TOK_MAX 400

struct test_tok_vocab {
	struct gguf_str tokens[TEST_TOK_MAX];
	int32_t types[TEST_TOK_MAX];
	float scores[TEST_TOK_MAX];
	struct gguf_str merges[TEST_TOK_MAX];
	char *owned[2 * TEST_TOK_MAX];
	size_t n, n_merges, n_owned;
	struct tok_vocab v;
};

static int32_t
test_tok_add(struct test_tok_vocab *tv, const char *text, int type, float score)
{
	char *s = xstrdup(text);

	tv->owned[tv->n_owned++] = s;
	tv->tokens[tv->n].ptr = s;
	tv->tokens[tv->n].len = strlen(s);
	tv->types[tv->n] = type;
	tv->scores[tv->n] = score;
	return (int32_t)tv->n++;
}

static void
test_tok_merge(struct test_tok_vocab *tv, const char *merge)
{
	char *s = xstrdup(merge);

	tv->owned[tv->n_owned++] = s;
	tv->merges[tv->n_merges].ptr = s;
	tv->merges[tv->n_merges].len = strlen(s);
	tv->n_merges++;
}

static void
test_tok_vocab_free(struct test_tok_vocab *tv)
{
	size_t i;

	for (i = 0; i < tv->n_owned; i++)
		free(tv->owned[i]);
	free(tv);
}

/* Ids of the SPM test vocabulary. */
enum {
	SPM_UNK = 0,
	SPM_BOS = 1,
	SPM_EOS = 2,
	SPM_BYTE0 = 3, /* <0x00> .. <0xFF>: 3 .. 258 */
	SPM_SPACE = 259,
	SPM_A,
	SPM_B,
	SPM_C,
	SPM_SPACE_A,
	SPM_AB,
	SPM_BC,
	SPM_ABC,
	SPM_AA,
	SPM_USER,
	SPM_IM_START,
	SPM_SPACE_B,
	SPM_SPACES, /* user-defined "  ", alias "▁▁" */
	SPM_N
};

static struct test_tok_vocab *
test_tok_spm_vocab(int add_space_prefix)
{
	struct test_tok_vocab *tv = xcalloc(1, sizeof(*tv));
	char name[8];
	int b;

	test_tok_add(tv, "<unk>", TOK_TYPE_UNKNOWN, 0);
	test_tok_add(tv, "<s>", TOK_TYPE_CONTROL, 0);
	test_tok_add(tv, "</s>", TOK_TYPE_CONTROL, 0);
	for (b = 0; b < 256; b++) {
		snprintf(name, sizeof(name), "<0x%02X>", b);
		test_tok_add(tv, name, TOK_TYPE_BYTE, 0);
	}
	test_tok_add(tv, "\xe2\x96\x81", TOK_TYPE_NORMAL, -100);
	test_tok_add(tv, "a", TOK_TYPE_NORMAL, -101);
	test_tok_add(tv, "b", TOK_TYPE_NORMAL, -102);
	test_tok_add(tv, "c", TOK_TYPE_NORMAL, -103);
	test_tok_add(tv,
	    "\xe2\x96\x81"
	    "a",
	    TOK_TYPE_NORMAL, -3);
	test_tok_add(tv, "ab", TOK_TYPE_NORMAL, -2);
	test_tok_add(tv, "bc", TOK_TYPE_NORMAL, -1);
	test_tok_add(tv, "abc", TOK_TYPE_NORMAL, -5);
	test_tok_add(tv, "aa", TOK_TYPE_NORMAL, -4);
	test_tok_add(tv, "<u>", TOK_TYPE_USER_DEFINED, -1000);
	test_tok_add(tv, "<|im_start|>", TOK_TYPE_CONTROL, -1000);
	test_tok_add(tv,
	    "\xe2\x96\x81"
	    "b",
	    TOK_TYPE_NORMAL, -6);
	test_tok_add(tv, "  ", TOK_TYPE_USER_DEFINED, -1000);
	tokenizer_vocab_init(&tv->v);
	tv->v.model = "llama";
	tv->v.pre = "default";
	tv->v.n_tokens = tv->n;
	tv->v.tokens = tv->tokens;
	tv->v.types = tv->types;
	tv->v.scores = tv->scores;
	tv->v.bos = SPM_BOS;
	tv->v.eos = SPM_EOS;
	tv->v.unk = SPM_UNK;
	tv->v.add_bos = 1;
	tv->v.add_space_prefix = add_space_prefix;
	return tv;
}

static struct tokenizer *
test_tok_build(const struct test_tok_vocab *tv)
{
	struct tokenizer *tok = NULL;
	struct err err;
	int rc = tokenizer_new(&tv->v, &tok, &err);

	CHECK_MSG(rc == 0, "tokenizer_new: %s", err.msg);
	return tok;
}

/* Encode S (LEN bytes) with FLAGS and compare with the N ids WANT. */
static void
test_tok_expect(const struct tokenizer *tok, const char *s, size_t len,
    unsigned flags, const int32_t *want, size_t n, int line)
{
	struct tokenizer_ids out;
	struct sbuf got, exp;
	struct err err;
	int same;
	size_t i;

	tokenizer_ids_init(&out);
	CHECK_INT(tokenizer_encode(tok, s, len, flags, &out, &err), 0);
	same = out.n == n;
	for (i = 0; same && i < n; i++)
		same = out.ids[i] == want[i];
	if (!same) {
		sbuf_init(&got);
		sbuf_init(&exp);
		test_tok_ids_str(&got, out.ids, out.n);
		test_tok_ids_str(&exp, want, n);
		test_fail(__FILE__, line, "encode \"%.*s\": got %s, want %s",
		    (int)len, s, got.buf, exp.buf);
		sbuf_release(&exp);
		sbuf_release(&got);
	}
	tokenizer_ids_release(&out);
}

#define TOK_EXPECT(tok, s, flags, ...) \
	do { \
		const int32_t want_[] = { __VA_ARGS__ }; \
		test_tok_expect(tok, s, sizeof(s) - 1, flags, want_, \
		    ARRAY_LEN(want_), __LINE__); \
	} while (0)

#define TOK_EXPECT_NONE(tok, s, flags) \
	test_tok_expect(tok, s, sizeof(s) - 1, flags, NULL, 0, __LINE__)

TEST(tok_spm_merges)
{
	struct test_tok_vocab *tv = test_tok_spm_vocab(1);
	struct tokenizer *tok = test_tok_build(tv);

	if (tok == NULL) {
		test_tok_vocab_free(tv);
		return;
	}
	CHECK_INT(tokenizer_model(tok), TOK_MODEL_SPM);
	CHECK_INT(tokenizer_n_vocab(tok), SPM_N);
	/* bc (-1) first, then ▁a (-3); "abc" can no longer form */
	TOK_EXPECT(tok, "abc", 0, SPM_SPACE_A, SPM_BC);
	TOK_EXPECT(tok, "abc", TOK_ADD_BOS | TOK_ADD_EOS, SPM_BOS, SPM_SPACE_A,
	    SPM_BC, SPM_EOS);
	/* a space in the text is U+2581 too */
	TOK_EXPECT(tok, "a b", 0, SPM_SPACE_A, SPM_SPACE_B);
	TOK_EXPECT(tok, " a", 0, SPM_SPACE, SPM_SPACE_A);
	TOK_EXPECT_NONE(tok, "", 0);
	TOK_EXPECT_NONE(tok, "", TOK_PARSE_SPECIAL);
	TOK_EXPECT(tok, "", TOK_ADD_BOS, SPM_BOS);
	/* byte fallback, NUL and bytes that are not UTF-8 */
	TOK_EXPECT(
	    tok, "\xc3\xa9", 0, SPM_SPACE, SPM_BYTE0 + 0xc3, SPM_BYTE0 + 0xa9);
	TOK_EXPECT(tok, "a\0b", 0, SPM_SPACE_A, SPM_BYTE0, SPM_B);
	TOK_EXPECT(
	    tok, "\xff\xc3", 0, SPM_SPACE, SPM_BYTE0 + 0xff, SPM_BYTE0 + 0xc3);
	tokenizer_free(tok);
	test_tok_vocab_free(tv);

	tv = test_tok_spm_vocab(0);
	tok = test_tok_build(tv);
	if (tok != NULL) {
		TOK_EXPECT(tok, "abc", 0, SPM_ABC);
		/* equal scores: the leftmost pair first */
		TOK_EXPECT(tok, "aaa", 0, SPM_AA, SPM_A);
		TOK_EXPECT(tok, "aaaa", 0, SPM_AA, SPM_AA);
		/* user-defined "  " is cut out; literal U+2581 U+2581 merges
		 * into it through its alias */
		TOK_EXPECT(tok, "a  b", 0, SPM_A, SPM_SPACES, SPM_B);
		TOK_EXPECT(tok, "\xe2\x96\x81\xe2\x96\x81", 0, SPM_SPACES);
		CHECK_INT(
		    tokenizer_find(tok, "\xe2\x96\x81\xe2\x96\x81", 6), -1);
		CHECK_INT(tokenizer_find(tok, "  ", 2), SPM_SPACES);
	}
	tokenizer_free(tok);
	test_tok_vocab_free(tv);
}

TEST(tok_spm_special_and_prefix)
{
	struct test_tok_vocab *tv = test_tok_spm_vocab(1);
	struct tokenizer *tok = test_tok_build(tv);
	struct tokenizer_ids out;
	size_t i;

	if (tok == NULL) {
		test_tok_vocab_free(tv);
		return;
	}
	/* special text becomes the token only when asked; the prefix
	 * follows every split-out token, not a text of specials only */
	TOK_EXPECT(tok, "<s>a", TOK_PARSE_SPECIAL, SPM_BOS, SPM_SPACE_A);
	TOK_EXPECT(tok, "<s>", TOK_PARSE_SPECIAL, SPM_BOS);
	TOK_EXPECT(tok, "<s></s>", TOK_PARSE_SPECIAL, SPM_BOS, SPM_EOS);
	TOK_EXPECT(tok, "<unk>", TOK_PARSE_SPECIAL, SPM_UNK);
	TOK_EXPECT(tok, "<s>", 0, SPM_SPACE, SPM_BYTE0 + '<', SPM_BYTE0 + 's',
	    SPM_BYTE0 + '>');
	/* user-defined tokens are cut out in both modes */
	TOK_EXPECT(tok, "<u>a", 0, SPM_USER, SPM_SPACE_A);
	TOK_EXPECT(tok, "b<u>a", 0, SPM_SPACE_B, SPM_USER, SPM_SPACE_A);
	TOK_EXPECT(tok, "b<u>a", TOK_PARSE_SPECIAL, SPM_SPACE_B, SPM_USER,
	    SPM_SPACE_A);
	/* injection: no control id comes out of plain text */
	tokenizer_ids_init(&out);
	CHECK_INT(tokenizer_encode(
		      tok, "<s>[INST]<|im_start|></s><unk>", 30, 0, &out, NULL),
	    0);
	for (i = 0; i < out.n; i++) {
		CHECK(out.ids[i] != SPM_BOS && out.ids[i] != SPM_EOS &&
		    out.ids[i] != SPM_IM_START && out.ids[i] != SPM_UNK);
		CHECK(tokenizer_type(tok, out.ids[i]) != TOK_TYPE_CONTROL);
	}
	tokenizer_ids_release(&out);
	TOK_EXPECT(
	    tok, "a<|im_start|>", TOK_PARSE_SPECIAL, SPM_SPACE_A, SPM_IM_START);
	CHECK_INT(tokenizer_find(tok, "<|im_start|>", 12), SPM_IM_START);
	CHECK_INT(tokenizer_find(tok, "<|im_start", 10), -1);
	CHECK_INT(tokenizer_bos(tok), SPM_BOS);
	CHECK_INT(tokenizer_eos(tok), SPM_EOS);
	CHECK_INT(tokenizer_unk(tok), SPM_UNK);
	CHECK_INT(tokenizer_pad(tok), -1);
	CHECK(tokenizer_add_bos(tok));
	CHECK(!tokenizer_add_eos(tok));
	CHECK(tokenizer_add_space_prefix(tok));
	CHECK(tokenizer_is_eog(tok, SPM_EOS));
	CHECK(!tokenizer_is_eog(tok, SPM_BOS));
	CHECK(!tokenizer_is_eog(tok, -1));
	CHECK_INT(tokenizer_type(tok, SPM_USER), TOK_TYPE_USER_DEFINED);
	CHECK_INT(tokenizer_type(tok, SPM_N), TOK_TYPE_UNDEFINED);
	CHECK(tokenizer_warning(tok) == NULL);
	tokenizer_free(tok);
	test_tok_vocab_free(tv);
}

/* Decode IDS one by one, recording the output after each push. */
static void
test_tok_stream(const struct tokenizer *tok, unsigned flags, const int32_t *ids,
    size_t n, const char *const *after, const char *end, int line)
{
	struct tok_decoder d;
	struct sbuf out;
	size_t i;

	sbuf_init(&out);
	tok_decoder_init(&d, tok, flags);
	for (i = 0; i < n; i++) {
		CHECK_INT(tok_decoder_push(&d, ids[i], &out, NULL), 0);
		if (strcmp(out.buf, after[i]) != 0)
			test_fail(__FILE__, line,
			    "after token %zu (%d): \"%s\", want \"%s\"", i,
			    (int)ids[i], out.buf, after[i]);
	}
	tok_decoder_finish(&d, &out);
	if (strcmp(out.buf, end) != 0)
		test_fail(__FILE__, line, "at the end: \"%s\", want \"%s\"",
		    out.buf, end);
	tok_decoder_release(&d);
	sbuf_release(&out);
}

#define TOK_STREAM(tok, flags, ids, after, end) \
	test_tok_stream(tok, flags, ids, ARRAY_LEN(ids), after, end, __LINE__)

TEST(tok_decoder_spm)
{
	struct test_tok_vocab *tv = test_tok_spm_vocab(1);
	struct tokenizer *tok = test_tok_build(tv);
	struct sbuf out;
	struct err err;
	/* é split over two byte tokens, then a word */
	static const int32_t ids1[] = { SPM_BYTE0 + 0xc3, SPM_BYTE0 + 0xa9,
		SPM_SPACE_A };
	static const char *const after1[] = { "", "\xc3\xa9", "\xc3\xa9 a" };
	/* the prefix goes from the first token only */
	static const int32_t ids2[] = { SPM_SPACE_A, SPM_SPACE_A };
	static const char *const after2[] = { "a", "a a" };
	/* a 4-byte character over four tokens, unfinished at the end */
	static const int32_t ids3[] = { SPM_A, SPM_BYTE0 + 0xf0,
		SPM_BYTE0 + 0x9f, SPM_BYTE0 + 0x98 };
	static const char *const after3[] = { "a", "a", "a", "a" };
	/* bytes that can never be UTF-8, and a lead byte cut short */
	static const int32_t ids4[] = { SPM_BYTE0 + 0xff, SPM_BYTE0 + 0xe2,
		SPM_A, SPM_BYTE0 + 0x80 };
	static const char *const after4[] = { "\xef\xbf\xbd", "\xef\xbf\xbd",
		"\xef\xbf\xbd\xef\xbf\xbd"
		"a",
		"\xef\xbf\xbd\xef\xbf\xbd"
		"a\xef\xbf\xbd" };
	/* special tokens only when asked; BOS does not eat the prefix */
	static const int32_t ids5[] = { SPM_BOS, SPM_SPACE_A, SPM_EOS };
	static const char *const after5[] = { "", "a", "a" };
	static const char *const after6[] = { "<s>", "<s> a", "<s> a</s>" };

	if (tok == NULL) {
		test_tok_vocab_free(tv);
		return;
	}
	TOK_STREAM(tok, TOK_DECODE_STRIP_PREFIX, ids1, after1, "\xc3\xa9 a");
	TOK_STREAM(tok, TOK_DECODE_STRIP_PREFIX, ids2, after2, "a a");
	TOK_STREAM(tok, 0, ids3, after3, "a\xef\xbf\xbd");
	TOK_STREAM(tok, 0, ids4, after4,
	    "\xef\xbf\xbd\xef\xbf\xbd"
	    "a\xef\xbf\xbd");
	TOK_STREAM(tok, TOK_DECODE_STRIP_PREFIX, ids5, after5, "a");
	TOK_STREAM(tok, TOK_DECODE_STRIP_PREFIX | TOK_DECODE_SPECIAL, ids5,
	    after6, "<s> a</s>");

	sbuf_init(&out);
	CHECK_INT(tokenizer_piece(tok, SPM_SPACE_A, 0, &out, NULL), 0);
	CHECK_STR(out.buf, " a");
	sbuf_reset(&out);
	CHECK_INT(tokenizer_piece(tok, SPM_UNK, 0, &out, NULL), 0);
	CHECK_STR(out.buf, "\xef\xbf\xbd");
	sbuf_reset(&out);
	CHECK_INT(tokenizer_piece(tok, SPM_BOS, 0, &out, NULL), 0);
	CHECK_STR(out.buf, "");
	CHECK_INT(tokenizer_piece(tok, SPM_N, 0, &out, &err), ERR_RANGE);
	CHECK_CONTAINS(err.msg, "out of range");
	CHECK_INT(tokenizer_decode(tok, ids1, 2, 0, &out, NULL), 0);
	CHECK_STR(out.buf, "\xc3\xa9");
	tokenizer_free(tok);
	test_tok_vocab_free(tv);
	sbuf_release(&out);
}

/* ---- a hand-built byte-level BPE vocabulary ---- */

/* GPT-2's bytes_to_unicode, written out independently of tok-bpe.c. */
static void
test_tok_byte_char(unsigned b, char *out)
{
	unsigned cp, n = 0, x;

	if ((b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || b >= 0xae)
		cp = b;
	else {
		for (x = 0; x < b; x++)
			if (!((x >= '!' && x <= '~') ||
				(x >= 0xa1 && x <= 0xac) || x >= 0xae))
				n++;
		cp = 256 + n;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		out[1] = '\0';
	} else {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		out[2] = '\0';
	}
}

enum {
	BPE_HE = 256,
	BPE_LL,
	BPE_HELL,
	BPE_HELLO,
	BPE_GW,
	BPE_OR,
	BPE_GWOR,
	BPE_LD,
	BPE_GWORLD,
	BPE_AA,
	BPE_AAAA,
	BPE_12,
	BPE_XYZ,
	BPE_EOT,
	BPE_THINK,
	BPE_IM_END,
	BPE_N
};

static struct test_tok_vocab *
test_tok_bpe_vocab(const char *pre)
{
	struct test_tok_vocab *tv = xcalloc(1, sizeof(*tv));
	char ch[4];
	unsigned b;

	for (b = 0; b < 256; b++) {
		test_tok_byte_char(b, ch);
		test_tok_add(tv, ch, TOK_TYPE_NORMAL, 0);
	}
	test_tok_add(tv, "he", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "ll", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "hell", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "hello", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "\xc4\xa0w", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "or", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "\xc4\xa0wor", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "ld", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "\xc4\xa0world", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "aa", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "aaaa", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "12", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "xyz", TOK_TYPE_NORMAL, 0);
	test_tok_add(tv, "<|endoftext|>", TOK_TYPE_CONTROL, 0);
	test_tok_add(tv, "<think>", TOK_TYPE_USER_DEFINED, 0);
	test_tok_add(tv, "<|im_end|>", TOK_TYPE_CONTROL, 0);
	test_tok_merge(tv, "h e");
	test_tok_merge(tv, "l l");
	test_tok_merge(tv, "he ll");
	test_tok_merge(tv, "hell o");
	test_tok_merge(tv, "\xc4\xa0 w");
	test_tok_merge(tv, "o r");
	test_tok_merge(tv, "\xc4\xa0w or");
	test_tok_merge(tv, "l d");
	test_tok_merge(tv, "\xc4\xa0wor ld");
	test_tok_merge(tv, "a a");
	test_tok_merge(tv, "aa aa");
	test_tok_merge(tv, "1 2");
	tokenizer_vocab_init(&tv->v);
	tv->v.model = "gpt2";
	tv->v.pre = pre;
	tv->v.n_tokens = tv->n;
	tv->v.tokens = tv->tokens;
	tv->v.types = tv->types;
	tv->v.n_merges = tv->n_merges;
	tv->v.merges = tv->merges;
	tv->v.bos = BPE_EOT;
	tv->v.eos = BPE_EOT;
	return tv;
}

TEST(tok_bpe_merges)
{
	struct test_tok_vocab *tv = test_tok_bpe_vocab("gpt-2");
	struct tokenizer *tok = test_tok_build(tv);
	struct tokenizer_ids out;
	char *big;
	size_t i, n = 100000;

	if (tok == NULL) {
		test_tok_vocab_free(tv);
		return;
	}
	CHECK_INT(tokenizer_model(tok), TOK_MODEL_BPE);
	CHECK_STR(tokenizer_pre(tok), "gpt-2");
	CHECK(!tokenizer_add_bos(tok));
	TOK_EXPECT(tok, "hello world", 0, BPE_HELLO, BPE_GWORLD);
	TOK_EXPECT(
	    tok, "hello world", TOK_ADD_BOS, BPE_EOT, BPE_HELLO, BPE_GWORLD);
	TOK_EXPECT(tok, "hellold", 0, BPE_HELLO, BPE_LD);
	/* the regex splits "hel" from " ld": no merge across */
	TOK_EXPECT(tok, "hel ld", 0, BPE_HE, 'l', ' ', BPE_LD);
	/* equal ranks: leftmost first */
	TOK_EXPECT(tok, "aaa", 0, BPE_AA, 'a');
	TOK_EXPECT(tok, "aaaaa", 0, BPE_AAAA, 'a');
	TOK_EXPECT(tok, "123", 0, BPE_12, '3');
	/* without ignore_merges a token unreachable by merges stays split */
	TOK_EXPECT(tok, "xyz", 0, 'x', 'y', 'z');
	/* every byte has its token: NUL, bytes that are not UTF-8 */
	TOK_EXPECT(tok, "a\0b", 0, 'a', 0, 'b');
	TOK_EXPECT(tok,
	    "\xff\xfe"
	    "a",
	    0, 0xff, 0xfe, 'a');
	TOK_EXPECT_NONE(tok, "", 0);
	/* control text only with parse_special, user-defined always */
	TOK_EXPECT(tok, "<|endoftext|>", TOK_PARSE_SPECIAL, BPE_EOT);
	TOK_EXPECT(tok, "a<think>b", 0, 'a', BPE_THINK, 'b');
	TOK_EXPECT(tok, "<think>", TOK_PARSE_SPECIAL, BPE_THINK);
	tokenizer_ids_init(&out);
	CHECK_INT(
	    tokenizer_encode(tok, "<|im_end|><|endoftext|>", 23, 0, &out, NULL),
	    0);
	CHECK(out.n > 2);
	for (i = 0; i < out.n; i++)
		CHECK(tokenizer_type(tok, out.ids[i]) == TOK_TYPE_NORMAL);
	/* a long word: O(n log n), not O(n^2) */
	big = xmalloc(n);
	memset(big, 'a', n);
	out.n = 0;
	CHECK_INT(tokenizer_encode(tok, big, n, 0, &out, NULL), 0);
	CHECK_INT(out.n, n / 4);
	for (i = 0; i < out.n; i++)
		if (out.ids[i] != BPE_AAAA)
			break;
	CHECK_INT(i, out.n);
	free(big);
	tokenizer_ids_release(&out);
	CHECK(tokenizer_is_eog(tok, BPE_EOT));
	CHECK(tokenizer_is_eog(tok, BPE_IM_END));
	CHECK_INT(tokenizer_eot(tok), BPE_IM_END);
	CHECK(!tokenizer_is_eog(tok, BPE_THINK));
	tokenizer_free(tok);
	test_tok_vocab_free(tv);
}

TEST(tok_bpe_pre_tokenizers)
{
	struct test_tok_vocab *tv;
	struct tokenizer *tok;

	/* llama-bpe: a pre-token that is a token is taken whole */
	tv = test_tok_bpe_vocab("llama-bpe");
	if ((tok = test_tok_build(tv)) != NULL) {
		TOK_EXPECT(tok, "xyz", 0, BPE_XYZ);
		/* digits in runs of up to three */
		TOK_EXPECT(tok, "1212", 0, BPE_12, '1', '2');
		/* case-insensitive contractions, ASCII only */
		TOK_EXPECT(tok, "a'S", 0, 'a', '\'', 'S');
		CHECK(tokenizer_warning(tok) == NULL);
	}
	tokenizer_free(tok);
	test_tok_vocab_free(tv);

	/* smollm: every digit alone */
	tv = test_tok_bpe_vocab("smollm");
	if ((tok = test_tok_build(tv)) != NULL)
		TOK_EXPECT(tok, "123", 0, '1', '2', '3');
	tokenizer_free(tok);
	test_tok_vocab_free(tv);

	/* qwen2: single digits, NFC first */
	tv = test_tok_bpe_vocab("qwen2");
	if ((tok = test_tok_build(tv)) != NULL) {
		TOK_EXPECT(tok, "12", 0, '1', '2');
		TOK_EXPECT(tok, "e\xcc\x81", 0, 0xc3, 0xa9);
		/* NUL inside a run that needs utf8proc */
		TOK_EXPECT(
		    tok, "\0e\xcc\x81\xcc\x81", 0, 0, 0xc3, 0xa9, 0xcc, 0x81);
		TOK_EXPECT(tok,
		    "\xff"
		    "e\xcc\x81",
		    0, 0xff, 0xc3, 0xa9);
	}
	tokenizer_free(tok);
	test_tok_vocab_free(tv);

	/* gpt-2 does not normalize */
	tv = test_tok_bpe_vocab("gpt-2");
	if ((tok = test_tok_build(tv)) != NULL)
		TOK_EXPECT(tok, "e\xcc\x81", 0, 'e', 0xcc, 0x81);
	tokenizer_free(tok);
	test_tok_vocab_free(tv);

	/* an unknown pre-tokenizer: GPT-2's, with a warning */
	tv = test_tok_bpe_vocab("frobnicator");
	if ((tok = test_tok_build(tv)) != NULL) {
		CHECK_CONTAINS(tokenizer_warning(tok), "'frobnicator'");
		CHECK_STR(tokenizer_pre(tok), "gpt-2");
		TOK_EXPECT(tok, "hello world", 0, BPE_HELLO, BPE_GWORLD);
	}
	tokenizer_free(tok);
	test_tok_vocab_free(tv);
}

TEST(tok_decoder_bpe)
{
	struct test_tok_vocab *tv = test_tok_bpe_vocab("gpt-2");
	struct tokenizer *tok = test_tok_build(tv);
	struct tokenizer_ids ids;
	struct sbuf out;
	size_t i;
	static const char text[] = "hello world \xe2\x82\xac\xf0\x9f\x98\x80"
				   "\xff<think>\0end";
	/* € as three byte tokens */
	static const int32_t ids1[] = { BPE_HELLO, 0xe2, 0x82, 0xac, BPE_EOT };
	static const char *const after1[] = { "hello", "hello", "hello",
		"hello\xe2\x82\xac", "hello\xe2\x82\xac" };
	static const char *const after2[] = { "hello", "hello", "hello",
		"hello\xe2\x82\xac", "hello\xe2\x82\xac<|endoftext|>" };

	if (tok == NULL) {
		test_tok_vocab_free(tv);
		return;
	}
	TOK_STREAM(tok, 0, ids1, after1, "hello\xe2\x82\xac");
	TOK_STREAM(tok, TOK_DECODE_SPECIAL | TOK_DECODE_STRIP_PREFIX, ids1,
	    after2, "hello\xe2\x82\xac<|endoftext|>");
	/* lossless round trip, even for bytes that are not UTF-8 */
	tokenizer_ids_init(&ids);
	sbuf_init(&out);
	CHECK_INT(
	    tokenizer_encode(tok, text, sizeof(text) - 1, 0, &ids, NULL), 0);
	for (i = 0; i < ids.n; i++)
		CHECK_INT(tokenizer_piece(tok, ids.ids[i], 0, &out, NULL), 0);
	CHECK_INT(out.len, sizeof(text) - 1);
	CHECK(memcmp(out.buf, text, sizeof(text) - 1) == 0);
	sbuf_reset(&out);
	CHECK_INT(tokenizer_decode(tok, ids.ids, ids.n, 0, &out, NULL), 0);
	CHECK_STR(out.buf,
	    "hello world \xe2\x82\xac\xf0\x9f\x98\x80"
	    "\xef\xbf\xbd<think>");
	/* one byte became the three of U+FFFD */
	CHECK_INT(out.len, sizeof(text) - 1 + 2);
	CHECK(memcmp(out.buf + out.len - 4, "\0end", 4) == 0);
	tokenizer_ids_release(&ids);
	sbuf_release(&out);
	tokenizer_free(tok);
	test_tok_vocab_free(tv);
}

/* ---- the loader, through GGUF files ---- */

/* What to break in test_tok_gguf. */
enum {
	TOKG_OK,
	TOKG_NO_MODEL,
	TOKG_BAD_MODEL,
	TOKG_NO_TOKENS,
	TOKG_TYPES_LEN,
	TOKG_TYPE_VALUE,
	TOKG_TYPES_FLOAT,
	TOKG_BOS_RANGE,
	TOKG_BOS_STRING,
	TOKG_BOS_FLOAT,
	TOKG_MERGE_UNKNOWN,
	TOKG_MERGE_NOSPACE,
	TOKG_MERGE_RESULT,
	TOKG_NO_MERGES,
	TOKG_SCORES_LEN,
	TOKG_NO_BYTE,
};

/* Load a small BPE (or, with SPM, SentencePiece) vocabulary. */
static int
test_tok_gguf(int what, int spm, struct err *err, struct tokenizer **out)
{
	struct test_tok_vocab *tv =
	    spm ? test_tok_spm_vocab(1) : test_tok_bpe_vocab("gpt-2");
	struct gguf_writer *w = gguf_writer_new(32);
	const char **texts = xcalloc(tv->n, sizeof(*texts));
	const char **merges = xcalloc(tv->n_merges + 1, sizeof(*merges));
	struct gguf *g = NULL;
	struct sbuf file;
	size_t i, n = tv->n;
	int rc;

	*out = NULL;
	for (i = 0; i < tv->n; i++)
		texts[i] = tv->tokens[i].ptr;
	for (i = 0; i < tv->n_merges; i++)
		merges[i] = tv->merges[i].ptr;
	if (what == TOKG_TYPE_VALUE)
		tv->types[3] = 9;
	if (what == TOKG_MERGE_UNKNOWN)
		merges[1] = "l q\xc3\xa9";
	if (what == TOKG_MERGE_NOSPACE)
		merges[2] = "hell";
	if (what == TOKG_MERGE_RESULT)
		merges[3] = "o o";
	if (what == TOKG_NO_BYTE)
		texts[3 + 'A'] = "<0x4G>";
	gguf_writer_str(w, "general.architecture", "llama");
	if (what != TOKG_NO_MODEL)
		gguf_writer_str(w, "tokenizer.ggml.model",
		    what == TOKG_BAD_MODEL ? "bert"
			: spm		   ? "llama"
					   : "gpt2");
	if (!spm)
		gguf_writer_str(w, "tokenizer.ggml.pre", "gpt-2");
	if (what != TOKG_NO_TOKENS)
		gguf_writer_arr_str(w, "tokenizer.ggml.tokens", texts, n);
	if (what == TOKG_TYPES_FLOAT)
		gguf_writer_arr(w, "tokenizer.ggml.token_type", GGUF_FLOAT32,
		    tv->scores, n);
	else
		gguf_writer_arr(w, "tokenizer.ggml.token_type", GGUF_INT32,
		    tv->types, what == TOKG_TYPES_LEN ? n - 1 : n);
	if (spm)
		gguf_writer_arr(w, "tokenizer.ggml.scores", GGUF_FLOAT32,
		    tv->scores, what == TOKG_SCORES_LEN ? n + 0 - 2 : n);
	else if (what != TOKG_NO_MERGES)
		gguf_writer_arr_str(
		    w, "tokenizer.ggml.merges", merges, tv->n_merges);
	if (what == TOKG_BOS_STRING)
		gguf_writer_str(w, "tokenizer.ggml.bos_token_id", "1");
	else if (what == TOKG_BOS_FLOAT)
		gguf_writer_f32(w, "tokenizer.ggml.bos_token_id", 1.0f);
	else
		gguf_writer_u32(w, "tokenizer.ggml.bos_token_id",
		    what == TOKG_BOS_RANGE ? (uint32_t)n : 1);
	gguf_writer_u32(w, "tokenizer.ggml.eos_token_id", 2);
	gguf_writer_u32(w, "tokenizer.ggml.padding_token_id", 0);
	gguf_writer_bool(w, "tokenizer.ggml.add_bos_token", 0);
	gguf_writer_bool(w, "tokenizer.ggml.add_eos_token", 1);
	sbuf_init(&file);
	gguf_writer_build(w, &file);
	rc = gguf_open_buffer(file.buf, file.len, "tiny.gguf", &g, err);
	CHECK_MSG(rc == 0, "gguf_open_buffer: %s", err->msg);
	if (rc == 0) {
		rc = tokenizer_load(g, out, err);
		if (rc == 0) {
			/* the tokenizer must work while the gguf lives */
			struct tokenizer_ids ids;

			tokenizer_ids_init(&ids);
			CHECK_INT(tokenizer_encode(*out, "hello", 5,
				      TOK_ADD_BOS, &ids, NULL),
			    0);
			CHECK(ids.n >= 2 && ids.ids[0] == 1);
			tokenizer_ids_release(&ids);
			CHECK(!tokenizer_add_bos(*out));
			CHECK(tokenizer_add_eos(*out));
			CHECK_INT(tokenizer_pad(*out), 0);
			tokenizer_free(*out);
			*out = NULL;
		}
		gguf_close(g);
	}
	sbuf_release(&file);
	gguf_writer_free(w);
	free(merges);
	free(texts);
	test_tok_vocab_free(tv);
	return rc;
}

/* An error message must name the file, once. */
static void
test_tok_named_once(const char *msg)
{
	const char *p = strstr(msg, "'tiny.gguf'");

	CHECK_MSG(p != NULL && strstr(p + 1, "'tiny.gguf'") == NULL,
	    "the file is not named once in \"%s\"", msg);
}

TEST(tok_load_gguf)
{
	struct tokenizer *tok;
	struct err err;

	CHECK_INT(test_tok_gguf(TOKG_OK, 0, &err, &tok), 0);
	CHECK_INT(test_tok_gguf(TOKG_OK, 1, &err, &tok), 0);
	CHECK_INT(test_tok_gguf(TOKG_NO_MODEL, 0, &err, &tok), ERR_MODEL);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "tiny.gguf");
	CHECK_CONTAINS(err.msg, "tokenizer.ggml.model");
	CHECK_INT(
	    test_tok_gguf(TOKG_BAD_MODEL, 0, &err, &tok), ERR_UNSUPPORTED);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "'bert'");
	CHECK_INT(test_tok_gguf(TOKG_NO_TOKENS, 0, &err, &tok), ERR_MODEL);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "tokenizer.ggml.tokens");
	CHECK_INT(test_tok_gguf(TOKG_TYPES_LEN, 0, &err, &tok), ERR_FORMAT);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "'tokenizer.ggml.token_type' has 271 elements");
	CHECK_INT(test_tok_gguf(TOKG_TYPE_VALUE, 1, &err, &tok), ERR_FORMAT);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "tokenizer.ggml.token_type[3]: 9");
	CHECK_INT(test_tok_gguf(TOKG_TYPES_FLOAT, 0, &err, &tok), ERR_FORMAT);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "tokenizer.ggml.token_type");
	CHECK_INT(test_tok_gguf(TOKG_BOS_RANGE, 0, &err, &tok), ERR_FORMAT);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "bos_token_id");
	CHECK_CONTAINS(err.msg, "out of range");
	/* a wrong type is refused naming the key, the type found and wanted */
	CHECK_INT(test_tok_gguf(TOKG_BOS_STRING, 0, &err, &tok), ERR_FORMAT);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(
	    err.msg, "key 'tokenizer.ggml.bos_token_id' has type string");
	CHECK_CONTAINS(err.msg, "want");
	CHECK_INT(test_tok_gguf(TOKG_BOS_FLOAT, 0, &err, &tok), ERR_FORMAT);
	CHECK_CONTAINS(
	    err.msg, "key 'tokenizer.ggml.bos_token_id' has type float32");
	CHECK_INT(test_tok_gguf(TOKG_MERGE_UNKNOWN, 0, &err, &tok), ERR_FORMAT);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "tokenizer.ggml.merges[1]");
	CHECK_CONTAINS(err.msg, "right part");
	CHECK_INT(test_tok_gguf(TOKG_MERGE_NOSPACE, 0, &err, &tok), ERR_FORMAT);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "tokenizer.ggml.merges[2]: 'hell'");
	CHECK_INT(test_tok_gguf(TOKG_MERGE_RESULT, 0, &err, &tok), ERR_FORMAT);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "merged text");
	CHECK_INT(test_tok_gguf(TOKG_NO_MERGES, 0, &err, &tok), ERR_MODEL);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "tokenizer.ggml.merges");
	CHECK_INT(test_tok_gguf(TOKG_SCORES_LEN, 1, &err, &tok), ERR_FORMAT);
	test_tok_named_once(err.msg);
	CHECK_CONTAINS(err.msg, "'tokenizer.ggml.scores' has 270 elements");
	/* no <0x41> and no "A": the unknown token stands in for 'A' */
	CHECK_INT(test_tok_gguf(TOKG_NO_BYTE, 1, &err, &tok), 0);
}

TEST(tok_load_no_byte_token)
{
	struct test_tok_vocab *tv = test_tok_spm_vocab(1);
	struct tokenizer *tok = NULL;
	struct err err;

	/* no <0x41>, no "A", no unknown token: an error */
	tv->tokens[3 + 'A'].ptr = "<0x4g>";
	tv->v.unk = -1;
	tv->types[SPM_UNK] = TOK_TYPE_CONTROL;
	CHECK_INT(tokenizer_new(&tv->v, &tok, &err), ERR_FORMAT);
	CHECK_CONTAINS(err.msg, "byte 0x41");
	CHECK(tok == NULL);
	test_tok_vocab_free(tv);
}

/*
 * Nothing of the GGUF mapping is read after load: with the file cut to
 * nothing under the mapping (a model rewritten while vkchat runs), the
 * tokenizer still encodes and decodes.  Before, a lookup read the token
 * texts from the mapping and died of SIGBUS.
 */
TEST(tokenizer_survives_a_truncated_file)
{
	const char *path = test_srcdir_path("tests/data/pocket-pilot-f16.gguf");
	const char *copy = test_tmpfile("truncated.gguf");
	struct tokenizer_ids ids;
	struct tokenizer *tok = NULL;
	struct gguf *g = NULL;
	struct sbuf text;
	struct err err;
	char *data = NULL;
	size_t len = 0;

	if (path == NULL)
		test_skip("tests/data/pocket-pilot-f16.gguf not found");
	CHECK_INT(util_read_file(path, 0, &data, &len, &err), 0);
	CHECK_INT(util_write_file(copy, data, len, 0600, &err), 0);
	free(data);
	if (gguf_open(copy, &g, &err) < 0 ||
	    tokenizer_load(g, &tok, &err) < 0) {
		CHECK_MSG(0, "load: %s", err.msg);
		gguf_close(g);
		return;
	}
	CHECK(truncate(copy, 0) == 0);
	tokenizer_ids_init(&ids);
	sbuf_init(&text);
	CHECK_INT(tokenizer_encode(
		      tok, "What does the word house mean?", 30, 0, &ids, &err),
	    0);
	CHECK(ids.n > 3);
	CHECK_INT(tokenizer_decode(tok, ids.ids, ids.n, TOK_DECODE_STRIP_PREFIX,
		      &text, &err),
	    0);
	CHECK_STR(text.buf, "What does the word house mean?");
	sbuf_release(&text);
	tokenizer_ids_release(&ids);
	tokenizer_free(tok);
	gguf_close(g);
}
