/*
 * test-ui-probs: the stage record's table and JSON (ui/probs.c) for a
 * record the sampler fills over a small SentencePiece vocabulary with the
 * longest chain (penalties, top_k, typical, min_p, top_p, temperature):
 * every line within 80 columns, one column per stage, the drawn token
 * marked, cuts shown, token text escaped; the JSON parses and carries
 * every stage with its survivors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json.h"
#include "params.h"
#include "sampler.h"
#include "tokenizer.h"
#include "ui/probs.h"
#include "ui/text.h"

#define TEST_PROBS_N 12

static const char *const test_probs_words[TEST_PROBS_N] = { "<unk>", "<s>",
	"</s>",
	"\xe2\x96\x81"
	"the",
	"\xe2\x96\x81"
	"cat",
	"\n",
	"\xe2\x96\x81"
	"sat",
	"\"",
	"\xe2\x96\x81"
	"on",
	"\xe2\x96\x81"
	"a",
	"\xe2\x96\x81"
	"very-long-token",
	"." };

static struct tokenizer *
test_probs_tok(void)
{
	static struct gguf_str toks[TEST_PROBS_N];
	static int32_t types[TEST_PROBS_N];
	struct tok_vocab v;
	struct tokenizer *tok = NULL;
	struct err err;
	size_t i;

	for (i = 0; i < TEST_PROBS_N; i++) {
		toks[i].ptr = test_probs_words[i];
		toks[i].len = strlen(test_probs_words[i]);
		types[i] = i == 0 ? TOK_TYPE_UNKNOWN
		    : i < 3	  ? TOK_TYPE_CONTROL
				  : TOK_TYPE_NORMAL;
	}
	tokenizer_vocab_init(&v);
	v.model = "llama";
	v.n_tokens = TEST_PROBS_N;
	v.tokens = toks;
	v.types = types;
	v.bos = 1;
	v.eos = 2;
	v.unk = 0;
	if (tokenizer_new(&v, &tok, &err) != 0)
		test_fail(__FILE__, __LINE__, "tokenizer_new: %s", err.msg);
	return tok;
}

TEST(ui_probs_table_and_json)
{
	static const float logits[TEST_PROBS_N] = { -9, -9, -3, 2.0f, 1.5f,
		1.2f, 1.0f, 0.5f, 0.2f, -0.5f, 1.9f, -1 };
	struct tokenizer *tok = test_probs_tok();
	struct sampler_rec rec;
	struct gen_params p;
	struct sampler *s = NULL;
	struct json_writer w;
	struct json *j = NULL;
	const struct json *st;
	struct sbuf out;
	struct err err;
	int32_t t;
	size_t i, n_lines = 0, start;

	if (tok == NULL)
		return;
	params_init(&p);
	p.temperature = 0.7f;
	p.top_k = 9;
	p.typical_p = 0.99f;
	p.min_p = 0.05f;
	p.top_p = 0.9f;
	p.repeat_penalty = 1.3f;
	p.seed = 5;
	CHECK(sampler_new(&p, TEST_PROBS_N, &s, &err) == 0);
	CHECK(sampler_accept(s, 3, &err) == 0);
	memset(&rec, 0, sizeof rec);
	rec.n_top = 6;
	CHECK(sampler_sample_rec(s, logits, &t, &rec, &err) == 0);
	CHECK_INT(rec.n_stages, 7);

	sbuf_init(&out);
	probs_text(&(struct probs_names){ .tok = tok }, &rec, 3, &out);
	sbuf_addc(&out, '\0');
	CHECK(strncmp(out.buf, "step 3: ", 8) == 0);
	CHECK_CONTAINS(out.buf,
	    "model penalty   top_k typical   min_p   "
	    "top_p    temp\n");
	/* The newline and the quote are escaped; the long token is cut. */
	CHECK_CONTAINS(out.buf, "\"\\n\"");
	CHECK_CONTAINS(out.buf, "\"\\\"\"");
	CHECK_CONTAINS(out.buf, "\" very-long-t\xe2\x80\xa6");
	CHECK_CONTAINS(out.buf, "\n  left ");
	for (i = 0, start = 0; i + 1 < out.len; i++) {
		if (out.buf[i] != '\n')
			continue;
		CHECK_MSG(text_width(out.buf + start, i - start) <= 80,
		    "line %zu is %d columns", n_lines + 1,
		    text_width(out.buf + start, i - start));
		n_lines++;
		start = i + 1;
	}
	/* Title, heading, the rows, "left". */
	CHECK(n_lines >= 9);
	/* Exactly one drawn row. */
	CHECK(strstr(out.buf, "\n> ") != NULL);
	CHECK(strstr(strstr(out.buf, "\n> ") + 1, "\n> ") == NULL);

	sbuf_reset(&out);
	json_writer_init(&w, &out, 0);
	probs_json(&(struct probs_names){ .tok = tok }, &rec, &w);
	CHECK_MSG(
	    json_parse(out.buf, out.len, &j, &err) == 0, "json: %s", err.msg);
	if (j != NULL) {
		CHECK(json_get(j, "token") != NULL &&
		    json_get(j, "token")->number == t);
		CHECK(json_get(j, "p_model") != NULL);
		st = json_get(j, "stages");
		CHECK(st != NULL && st->type == JSON_ARRAY && st->len == 7);
		if (st != NULL && st->len == 7) {
			CHECK_STR(
			    json_get(st->items[0], "stage")->str, "model");
			CHECK_STR(
			    json_get(st->items[2], "stage")->str, "top_k");
			CHECK(json_get(st->items[2], "left")->number == 9);
			CHECK(json_get(st->items[0], "top")->len == 6);
			CHECK_STR(
			    json_get(
				json_get(st->items[0], "top")->items[0], "text")
				->str,
			    " the");
		}
		json_free(j);
	}
	sbuf_release(&out);
	sampler_free(s);
	tokenizer_free(tok);
}
