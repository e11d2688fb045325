/*
 * test-model-gen: the random-weight models load (GGUF reader, ref_model),
 * are deterministic, give non-degenerate logits, and their quantized
 * versions stay close to the F32 twin under ref_model (which also checks
 * quant.c end to end).  Also ref_model_load's errors on broken models,
 * made by copying a generated file with one thing changed, and the
 * tokenizer's acceptance of the synthetic vocabulary, and each
 * architecture's broken files refused by model_validate and ref_model
 * alike.  The engine against ref_model on these models is
 * test-model-engine.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gguf-write.h"
#include "gguf.h"
#include "harness.h"
#include "kern.h"
#include "model-gen.h"
#include "model.h"
#include "ref.h"
#include "tokenizer.h"
#include "util.h"
#include "vkt.h"

static const struct modelgen_shape test_modelgen_small = {
	.n_vocab = 512,
	.n_embd = 128,
	.n_layer = 2,
	.n_head = 4,
	.n_head_kv = 2,
	.n_ff = 256,
	.n_ctx = 256,
};

/* Write SHAPE as TYPE to a temporary NAME, open it and load ref_model. */
static struct ref_model *
test_modelgen_load(const struct modelgen_shape *shape, uint32_t type,
    uint64_t seed, const char *name, struct gguf **g)
{
	struct ref_model *m = NULL;
	char *path = xstrdup(test_tmpfile(name));
	struct err e;

	*g = NULL;
	if (modelgen_write(path, shape, type, seed, &e) < 0) {
		CHECK_MSG(0, "modelgen_write: %s", e.msg);
		goto out;
	}
	if (gguf_open(path, g, &e) < 0) {
		CHECK_MSG(0, "gguf_open: %s", e.msg);
		goto out;
	}
	if (ref_model_load(*g, 0, &m, &e) < 0) {
		CHECK_MSG(0, "ref_model_load: %s", e.msg);
		gguf_close(*g);
		*g = NULL;
	}
out:
	free(path);
	return m;
}

TEST(modelgen_keys_and_vocab)
{
	static const uint32_t types[] = { GGML_TYPE_F32, GGML_TYPE_F16,
		GGML_TYPE_BF16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0 };
	const struct gguf_value *tokens, *tt;
	const struct gguf_tensor *t;
	struct ref_model *m;
	struct gguf *g;
	struct gguf_str s;
	uint32_t u;
	size_t i, j;
	int b;

	for (i = 0; i < ARRAY_LEN(types); i++) {
		m = test_modelgen_load(
		    &test_modelgen_small, types[i], 1, "k.gguf", &g);
		if (m == NULL)
			return;
		CHECK_INT(gguf_get_str(g, "general.architecture", &s, NULL), 0);
		CHECK(gguf_str_eq(s, "llama"));
		t = gguf_tensor_find(g, "blk.1.ffn_down.weight");
		CHECK(t != NULL && t->type == types[i] && t->ne[0] == 256 &&
		    t->ne[1] == 128);
		t = gguf_tensor_find(g, "token_embd.weight");
		CHECK(t != NULL && t->type == types[i]);
		t = gguf_tensor_find(g, "blk.0.attn_norm.weight");
		CHECK(t != NULL && t->type == GGML_TYPE_F32 && t->n_dims == 1);
		CHECK(gguf_tensor_find(g, "output.weight") != NULL);
		CHECK_INT(gguf_tensor_count(g), 3 + 2 * 9);
		CHECK_INT(ref_model_hparams(m)->head_dim, 32);
		CHECK_INT(ref_model_hparams(m)->n_head_kv, 2);
		CHECK_INT(ref_model_hparams(m)->n_ctx, 256);
		CHECK(!ref_model_hparams(m)->tied);
		ref_model_free(m);
		if (i > 0) {
			gguf_close(g);
			continue;
		}
		/* the vocabulary: specials, bytes, unique pieces */
		CHECK_INT(gguf_get_str(g, "tokenizer.ggml.model", &s, NULL), 0);
		CHECK(gguf_str_eq(s, "llama"));
		CHECK_INT(gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_STRING,
			      &tokens, NULL),
		    0);
		CHECK_INT(gguf_get_arr(g, "tokenizer.ggml.token_type",
			      GGUF_INT32, &tt, NULL),
		    0);
		CHECK_INT(tokens->v.arr.len, 512);
		CHECK(gguf_str_eq(tokens->v.arr.strs[0], "<unk>"));
		CHECK(gguf_str_eq(tokens->v.arr.strs[1], "<s>"));
		CHECK(gguf_str_eq(tokens->v.arr.strs[2], "</s>"));
		CHECK(gguf_str_eq(tokens->v.arr.strs[3 + 0x41], "<0x41>"));
		CHECK(gguf_str_eq(tokens->v.arr.strs[259], "\xe2\x96\x81"));
		CHECK_INT(gguf_arr_i64(tt, 0), 2);
		CHECK_INT(gguf_arr_i64(tt, 1), 3);
		CHECK_INT(gguf_arr_i64(tt, 3 + 0xff), 6);
		CHECK_INT(gguf_arr_i64(tt, 300), 1);
		for (j = 0; j < 512; j++) {
			size_t k;

			for (k = 0; k < j; k++)
				if (tokens->v.arr.strs[j].len ==
					tokens->v.arr.strs[k].len &&
				    memcmp(tokens->v.arr.strs[j].ptr,
					tokens->v.arr.strs[k].ptr,
					tokens->v.arr.strs[k].len) == 0)
					CHECK_MSG(
					    0, "token %zu repeats %zu", j, k);
		}
		CHECK_INT(
		    gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &u, NULL),
		    0);
		CHECK_INT(u, 1);
		CHECK_INT(
		    gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b, NULL),
		    0);
		CHECK_INT(b, 1);
		gguf_close(g);
	}
}

TEST(modelgen_deterministic)
{
	char *a, *b, *c;
	size_t la, lb, lc;
	struct err e;

	CHECK_INT(modelgen_write(test_tmpfile("a.gguf"), &test_modelgen_small,
		      GGML_TYPE_Q4_0, 42, &e),
	    0);
	CHECK_INT(modelgen_write(test_tmpfile("b.gguf"), &test_modelgen_small,
		      GGML_TYPE_Q4_0, 42, &e),
	    0);
	CHECK_INT(modelgen_write(test_tmpfile("c.gguf"), &test_modelgen_small,
		      GGML_TYPE_Q4_0, 43, &e),
	    0);
	CHECK_INT(util_read_file(test_tmpfile("a.gguf"), 0, &a, &la, &e), 0);
	CHECK_INT(util_read_file(test_tmpfile("b.gguf"), 0, &b, &lb, &e), 0);
	CHECK_INT(util_read_file(test_tmpfile("c.gguf"), 0, &c, &lc, &e), 0);
	CHECK(la == lb && memcmp(a, b, la) == 0);
	CHECK(la == lc && memcmp(a, c, la) != 0);
	free(a);
	free(b);
	free(c);
}

TEST(modelgen_bad_shape)
{
	struct modelgen_shape s = test_modelgen_small;
	struct err e;

	s.n_embd = 100;
	s.head_dim = 20;
	CHECK_INT(
	    modelgen_write(test_tmpfile("x.gguf"), &s, GGML_TYPE_Q8_0, 1, &e),
	    ERR_USAGE);
	CHECK_CONTAINS(e.msg, "multiples of 32");
	s = test_modelgen_small;
	s.n_head_kv = 3;
	CHECK_INT(
	    modelgen_write(test_tmpfile("x.gguf"), &s, GGML_TYPE_F32, 1, &e),
	    ERR_USAGE);
	CHECK_INT(modelgen_write(test_tmpfile("x.gguf"), &test_modelgen_small,
		      GGML_TYPE_Q4_K, 1, &e),
	    ERR_USAGE);
	CHECK_CONTAINS(e.msg, "weight type 12");
}

/*
 * Logits must carry information: entropy well inside (0, log V) and the
 * top two logits apart in (nearly) every step, for the shapes the engine
 * tests use (head sizes 64 and 128, GQA 1, 2 and 4, tied heads).
 */
TEST(modelgen_logits_not_degenerate)
{
	static const struct modelgen_shape shapes[] = {
		{ .n_vocab = 512,
		    .n_embd = 256,
		    .n_layer = 2,
		    .n_head = 4,
		    .n_head_kv = 4,
		    .n_ff = 512 },
		{ .n_vocab = 600,
		    .n_embd = 256,
		    .n_layer = 2,
		    .n_head = 2,
		    .n_head_kv = 1,
		    .n_ff = 384,
		    .tied = 1 },
		{ .n_vocab = 300,
		    .n_embd = 64,
		    .n_layer = 3,
		    .n_head = 8,
		    .n_head_kv = 2,
		    .n_ff = 96,
		    .head_dim = 16,
		    .freq_base = 500000.0f,
		    .rope_scale = 4.0f },
		{ .n_vocab = 259,
		    .n_embd = 8,
		    .n_layer = 1,
		    .n_head = 2,
		    .n_ff = 16 },
	};
	size_t k;

	for (k = 0; k < ARRAY_LEN(shapes); k++) {
		struct gguf *g;
		struct ref_model *m = test_modelgen_load(
		    &shapes[k], GGML_TYPE_F32, 7 + k, "d.gguf", &g);
		int n_vocab, i, n_small = 0, steps = 24;
		double hmin = 1e9, hmax = 0, hsum = 0;
		float *logits;

		if (m == NULL)
			return;
		n_vocab = ref_model_n_vocab(m);
		logits = xcalloc((size_t)n_vocab, sizeof(float));
		for (i = 0; i < steps; i++) {
			double max, sum = 0, h = 0, second = -INFINITY;
			size_t best;
			int j;

			CHECK_INT(ref_model_eval(
				      m, modelgen_token(i, n_vocab), i, logits),
			    0);
			best = ref_argmax(logits, (size_t)n_vocab);
			max = logits[best];
			for (j = 0; j < n_vocab; j++) {
				CHECK(isfinite(logits[j]));
				sum += exp(logits[j] - max);
				if ((size_t)j != best && logits[j] > second)
					second = logits[j];
			}
			for (j = 0; j < n_vocab; j++) {
				double p = exp(logits[j] - max) / sum;

				if (p > 0)
					h -= p * log(p);
			}
			hsum += h;
			hmin = fmin(hmin, h);
			hmax = fmax(hmax, h);
			if (max - second < 1e-3)
				n_small++;
		}
		test_note("shape %zu: entropy %.2f..%.2f (mean %.2f) of log V "
			  "%.2f, %d/%d top-2 margins < 1e-3",
		    k, hmin, hmax, hsum / steps, log(n_vocab), n_small, steps);
		CHECK(hmin > 0.01 * log(n_vocab));
		CHECK(hmax < 0.9 * log(n_vocab));
		CHECK(hsum / steps > 0.15 * log(n_vocab));
		CHECK(hsum / steps < 0.85 * log(n_vocab));
		CHECK(n_small <= steps / 10);
		free(logits);
		ref_model_free(m);
		gguf_close(g);
	}
}

/*
 * A quantized model against its F32 twin (same seed, so the same
 * underlying weights), over 24 positions with the same input tokens.
 *
 * Tolerances follow the weights' own rounding.  Per weight, the rms
 * relative error is about 1.4e-4 for f16 (11 significant bits), 1.1e-3 for
 * bf16 (8 bits), 4.8e-3 for q8_0 (a step of amax/127 per block of 32) and
 * 8e-2 for q4_0 (amax/8); see quant_roundtrip_bounds.  The logits see
 * independent errors from the 16 matrices on the path (token_embd, 7 per
 * layer x 2, output), so their rms relative error is about sqrt(16) = 4 to
 * 6 times the per-weight one.  Measured (rms rel / max abs over the rms
 * of the logits / cosine): f16 8.3e-4 / 3.9e-3 / 0.9999997, bf16 6.8e-3 /
 * 3.1e-2 / 0.99998, q8_0 2.1e-2 / 0.10 / 0.99977, q4_0 0.32 / 1.4 / 0.95.
 * K-quants (model-gen's simple quantizers, not llama.cpp's search: per
 * weight 1.9e-2 for q6_K, 3.7e-2 for q5_K, 7.5e-2 for q4_K; the mixes
 * have q6_K output and ffn_down): q6_K 7.9e-2 / 0.35 / 0.9969, q5_K_M
 * 0.14 / 0.65 / 0.990, q4_K_M 0.28 / 1.4 / 0.961.
 * The bounds leave 2.5 to 3x headroom over those.  Q4_0's are loose: at 4
 * bits a random-weight model's logits move a lot, and this only guards
 * against a broken format (wrong nibble order or scale would give an rms
 * error near 1.4 and a cosine near 0).
 */
TEST(modelgen_quantized_close_to_f32)
{
	static const struct {
		uint32_t type;
		double rms_rel, max_rel, min_cos;
	} cases[] = {
		{ GGML_TYPE_F16, 2.5e-3, 1.2e-2, 0.999997 },
		{ GGML_TYPE_BF16, 2e-2, 0.1, 0.9998 },
		{ GGML_TYPE_Q8_0, 6e-2, 0.3, 0.998 },
		{ GGML_TYPE_Q4_0, 0.8, 3.5, 0.8 },
		{ GGML_TYPE_Q6_K, 0.2, 1.0, 0.98 },
		{ MODELGEN_MIX_Q5_K_M, 0.35, 2.0, 0.95 },
		{ MODELGEN_MIX_Q4_K_M, 0.7, 3.5, 0.8 },
	};
	static const struct modelgen_shape shape = { .n_vocab = 512,
		.n_embd = 256,
		.n_layer = 2,
		.n_head = 4,
		.n_head_kv = 1,
		.n_ff = 512,
		.n_ctx = 64 };
	enum { STEPS = 24 };
	struct gguf *g32, *gq;
	struct ref_model *m32, *mq;
	float *l32, *lq;
	size_t k;
	int i, j;

	m32 = test_modelgen_load(&shape, GGML_TYPE_F32, 99, "f32.gguf", &g32);
	if (m32 == NULL)
		return;
	l32 = xcalloc((size_t)STEPS * 512, sizeof(float));
	lq = xcalloc(512, sizeof(float));
	for (i = 0; i < STEPS; i++)
		CHECK_INT(ref_model_eval(m32, modelgen_token(i, 512), i,
			      l32 + (size_t)i * 512),
		    0);
	for (k = 0; k < ARRAY_LEN(cases); k++) {
		double se = 0, max_err = 0, ss = 0, dot = 0, n32 = 0, nq = 0,
		       rms;

		mq = test_modelgen_load(
		    &shape, cases[k].type, 99, "q.gguf", &gq);
		if (mq == NULL)
			break;
		for (i = 0; i < STEPS; i++) {
			const float *r = l32 + (size_t)i * 512;

			CHECK_INT(
			    ref_model_eval(mq, modelgen_token(i, 512), i, lq),
			    0);
			for (j = 0; j < 512; j++) {
				max_err = fmax(max_err, fabs(lq[j] - r[j]));
				se += (double)(lq[j] - r[j]) * (lq[j] - r[j]);
				ss += (double)r[j] * r[j];
				dot += (double)r[j] * lq[j];
				n32 += (double)r[j] * r[j];
				nq += (double)lq[j] * lq[j];
			}
		}
		rms = sqrt(ss / (STEPS * 512));
		test_note("%s vs f32: rms relative error %.3g, max abs error "
			  "%.3g (%.3g of logit rms %.3g), cosine %.7f",
		    modelgen_type_name(cases[k].type), sqrt(se / ss), max_err,
		    max_err / rms, rms, dot / sqrt(n32 * nq));
		CHECK(sqrt(se / ss) <= cases[k].rms_rel);
		CHECK(max_err / rms <= cases[k].max_rel);
		CHECK(dot / sqrt(n32 * nq) >= cases[k].min_cos);
		ref_model_free(mq);
		gguf_close(gq);
	}
	free(l32);
	free(lq);
	ref_model_free(m32);
	gguf_close(g32);
}

/*
 * Copy G into a new file NAME, leaving out tensor DROP (NULL: none),
 * giving tensor RESHAPE the dims {ne0, ne1} (its data cut to fit), and
 * leaving out key DROP_KEY (or, with SET_STR, making it that string).
 * Returns the path.
 */
static const char *
test_modelgen_copy(const struct gguf *g, const char *name, const char *drop,
    const char *reshape, uint64_t ne0, uint64_t ne1, const char *drop_key,
    const char *set_str)
{
	struct gguf_writer *w = gguf_writer_new(32);
	const char *path = test_tmpfile(name);
	struct err e;
	size_t i;

	for (i = 0; i < gguf_kv_count(g); i++) {
		const struct gguf_kv *kv = gguf_kv_at(g, i);
		char *key = gguf_str_dup(kv->key);

		if (drop_key == NULL || strcmp(key, drop_key) != 0)
			gguf_writer_value(w, key, &kv->value);
		free(key);
	}
	if (set_str != NULL)
		gguf_writer_str(w, drop_key, set_str);
	for (i = 0; i < gguf_tensor_count(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		char *tn = gguf_str_dup(t->name);

		if (drop != NULL && strcmp(tn, drop) == 0) {
			free(tn);
			continue;
		}
		if (reshape != NULL && strcmp(tn, reshape) == 0) {
			uint64_t ne[2] = { ne0, ne1 };

			gguf_writer_tensor(w, tn, t->type, 2, ne, t->data,
			    (size_t)(ne0 * ne1 * 4));
		} else {
			gguf_writer_tensor(w, tn, t->type, t->n_dims, t->ne,
			    t->data, (size_t)t->size);
		}
		free(tn);
	}
	CHECK_INT(gguf_writer_save(w, path, &e), 0);
	gguf_writer_free(w);
	return path;
}

/* ref_model_load on PATH must fail with CODE and a message with WANT. */
static void
test_modelgen_load_fails(const char *path, int code, const char *want)
{
	struct gguf *g;
	struct ref_model *m = NULL;
	struct err e;

	if (gguf_open(path, &g, &e) < 0) {
		CHECK_MSG(0, "gguf_open: %s", e.msg);
		return;
	}
	CHECK_INT(ref_model_load(g, 0, &m, &e), code);
	CHECK(m == NULL);
	CHECK_CONTAINS(e.msg, want);
	gguf_close(g);
}

TEST(modelgen_ref_load_errors)
{
	struct gguf *g;
	struct ref_model *m;

	m = test_modelgen_load(
	    &test_modelgen_small, GGML_TYPE_F32, 5, "ok.gguf", &g);
	if (m == NULL)
		return;
	ref_model_free(m);
	test_modelgen_load_fails(
	    test_modelgen_copy(
		g, "e1.gguf", "blk.1.attn_k.weight", NULL, 0, 0, NULL, NULL),
	    ERR_MODEL, "missing tensor 'blk.1.attn_k.weight'");
	test_modelgen_load_fails(
	    test_modelgen_copy(g, "e2.gguf", NULL, "blk.0.ffn_up.weight", 128,
		128, NULL, NULL),
	    ERR_MODEL,
	    "tensor 'blk.0.ffn_up.weight' has shape [128, 128], expected "
	    "[128, 256]");
	test_modelgen_load_fails(test_modelgen_copy(g, "e3.gguf", NULL, NULL, 0,
				     0, "llama.feed_forward_length", NULL),
	    ERR_MODEL, "missing key 'llama.feed_forward_length'");
	test_modelgen_load_fails(
	    test_modelgen_copy(g, "e4.gguf", NULL, NULL, 0, 0,
		"llama.attention.layer_norm_rms_epsilon", NULL),
	    ERR_MODEL, "layer_norm_rms_epsilon");
	test_modelgen_load_fails(test_modelgen_copy(g, "e5.gguf", NULL, NULL, 0,
				     0, "llama.rope.scaling.type", "yarn"),
	    ERR_UNSUPPORTED, "rope scaling type 'yarn' is not supported");
	test_modelgen_load_fails(test_modelgen_copy(g, "e6.gguf", NULL, NULL, 0,
				     0, "general.architecture", "falcon"),
	    ERR_UNSUPPORTED, "architecture 'falcon'");
	/* without output.weight the head is tied to token_embd */
	{
		struct gguf *g2;
		struct err e;

		CHECK_INT(
		    gguf_open(test_modelgen_copy(g, "t.gguf", "output.weight",
				  NULL, 0, 0, NULL, NULL),
			&g2, &e),
		    0);
		CHECK_INT(ref_model_load(g2, 16, &m, &e), 0);
		CHECK(ref_model_hparams(m)->tied);
		ref_model_free(m);
		gguf_close(g2);
	}
	gguf_close(g);
}

/* An unsupported tensor type is refused with the tensor's name. */
TEST(modelgen_ref_unsupported_type)
{
	struct gguf_writer *w;
	struct gguf *g, *g2;
	struct ref_model *m;
	struct err e;
	const char *path;
	size_t i;

	m = test_modelgen_load(
	    &test_modelgen_small, GGML_TYPE_Q4_0, 5, "q.gguf", &g);
	if (m == NULL)
		return;
	ref_model_free(m);
	/* IQ4_NL (no kernel) has 18-byte blocks of 32, as q4_0 */
	w = gguf_writer_new(32);
	for (i = 0; i < gguf_kv_count(g); i++) {
		const struct gguf_kv *kv = gguf_kv_at(g, i);
		char *key = gguf_str_dup(kv->key);

		gguf_writer_value(w, key, &kv->value);
		free(key);
	}
	for (i = 0; i < gguf_tensor_count(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		char *tn = gguf_str_dup(t->name);

		if (strcmp(tn, "blk.0.attn_v.weight") == 0) {
			size_t sz = (size_t)(t->n_elements / 32 * 18);
			uint8_t *d = xcalloc(sz, 1);

			gguf_writer_tensor(
			    w, tn, GGML_TYPE_IQ4_NL, t->n_dims, t->ne, d, sz);
			free(d);
		} else {
			gguf_writer_tensor(w, tn, t->type, t->n_dims, t->ne,
			    t->data, (size_t)t->size);
		}
		free(tn);
	}
	path = test_tmpfile("iq4nl.gguf");
	CHECK_INT(gguf_writer_save(w, path, &e), 0);
	gguf_writer_free(w);
	CHECK_INT(gguf_open(path, &g2, &e), 0);
	CHECK_INT(ref_model_load(g2, 0, &m, &e), ERR_UNSUPPORTED);
	CHECK_CONTAINS(e.msg, "'blk.0.attn_v.weight' has type iq4_nl");
	gguf_close(g2);
	gguf_close(g);
}

/* The synthetic vocabulary is one the tokenizer accepts and round-trips. */
TEST(modelgen_tokenizer_accepts)
{
	static const char text[] = "hello world, Once upon a time \xc3\xa9!";
	struct modelgen_shape s = test_modelgen_small;
	struct tokenizer_ids ids;
	struct tokenizer *tok;
	struct gguf *g;
	struct sbuf sb;
	struct err e;
	size_t i;

	s.n_vocab = 2000;
	CHECK_INT(
	    modelgen_write(test_tmpfile("v.gguf"), &s, GGML_TYPE_F16, 3, &e),
	    0);
	CHECK_INT(gguf_open(test_tmpfile("v.gguf"), &g, &e), 0);
	if (tokenizer_load(g, &tok, &e) < 0) {
		CHECK_MSG(0, "tokenizer_load: %s", e.msg);
		gguf_close(g);
		return;
	}
	CHECK_INT(tokenizer_n_vocab(tok), 2000);
	CHECK_INT(tokenizer_bos(tok), 1);
	CHECK_INT(tokenizer_eos(tok), 2);
	CHECK(tokenizer_add_bos(tok));
	tokenizer_ids_init(&ids);
	sbuf_init(&sb);
	CHECK_INT(
	    tokenizer_encode(tok, text, strlen(text), TOK_ADD_BOS, &ids, &e),
	    0);
	CHECK(ids.n > 2 && ids.ids[0] == 1);
	/* the e-acute has no piece: two byte tokens */
	for (i = 0; i + 1 < ids.n; i++)
		if (ids.ids[i] == 3 + 0xc3 && ids.ids[i + 1] == 3 + 0xa9)
			break;
	CHECK(i + 1 < ids.n);
	CHECK_INT(tokenizer_decode(tok, ids.ids + 1, ids.n - 1,
		      TOK_DECODE_STRIP_PREFIX, &sb, &e),
	    0);
	CHECK_STR(sb.buf, text);
	sbuf_release(&sb);
	tokenizer_ids_release(&ids);
	tokenizer_free(tok);
	gguf_close(g);
}

/*
 * Hyperparameters with defaults and rope scaling, range checks, and
 * rewinding the KV cache: re-evaluating a position after a detour gives
 * bit-identical logits.
 */
TEST(modelgen_ref_hparams_and_rewind)
{
	struct modelgen_shape s = test_modelgen_small;
	const struct ref_hparams *hp;
	float a[512], b[512];
	struct ref_model *m;
	struct gguf *g;
	int i;

	s.head_dim = 64;
	s.rope_scale = 4.0f;
	s.freq_base = 500000.0f;
	s.n_ctx = 8;
	m = test_modelgen_load(&s, GGML_TYPE_BF16, 11, "h.gguf", &g);
	if (m == NULL)
		return;
	hp = ref_model_hparams(m);
	CHECK_INT(hp->head_dim, 64);
	CHECK_INT(hp->n_rot, 64);
	CHECK_INT(hp->n_ctx, 8);
	CHECK_INT(hp->n_ctx_train, 8);
	CHECK(hp->freq_scale == 0.25f);
	CHECK(hp->freq_base == 500000.0f);
	CHECK(hp->rms_eps == 1e-5f);
	CHECK_INT(ref_model_eval(m, 512, 0, a), ERR_RANGE);
	CHECK_INT(ref_model_eval(m, -1, 0, a), ERR_RANGE);
	CHECK_INT(ref_model_eval(m, 5, 8, a), ERR_RANGE);
	for (i = 0; i < 6; i++)
		CHECK_INT(ref_model_eval(m, modelgen_token(i, 512), i, a), 0);
	for (i = 3; i < 8; i++)
		CHECK_INT(ref_model_eval(m, 100 + i, i, b), 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	for (i = 3; i < 6; i++)
		CHECK_INT(ref_model_eval(m, modelgen_token(i, 512), i, b), 0);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	ref_model_free(m);
	gguf_close(g);
}

/*
 * The K-quant mixes put each tensor in the type llama.cpp's Q4_K_M and
 * Q5_K_M give it here (Q6_K output and ffn_down), name the file type, and
 * refuse shapes whose rows are not a multiple of 256.
 */
TEST(modelgen_kquant_mix)
{
	static const struct modelgen_shape shape = { .n_vocab = 300,
		.n_embd = 256,
		.n_layer = 1,
		.n_head = 2,
		.n_ff = 512 };
	static const struct {
		uint32_t type, base, ftype;
	} mixes[] = {
		{ MODELGEN_MIX_Q4_K_M, GGML_TYPE_Q4_K, 15 },
		{ MODELGEN_MIX_Q5_K_M, GGML_TYPE_Q5_K, 17 },
		{ GGML_TYPE_Q6_K, GGML_TYPE_Q6_K, 18 },
	};
	const char *path = test_tmpfile("mix.gguf");
	const struct gguf_tensor *t;
	struct modelgen_shape bad = test_modelgen_small;
	struct gguf *g;
	struct err e;
	uint32_t u;
	size_t i;

	for (i = 0; i < ARRAY_LEN(mixes); i++) {
		uint32_t q6 = GGML_TYPE_Q6_K;

		CHECK_INT(
		    modelgen_write(path, &shape, mixes[i].type, 4, &e), 0);
		CHECK_INT(gguf_open(path, &g, &e), 0);
		CHECK_INT(gguf_get_u32(g, "general.file_type", &u, NULL), 0);
		CHECK_INT(u, mixes[i].ftype);
		t = gguf_tensor_find(g, "token_embd.weight");
		CHECK(t != NULL && t->type == mixes[i].base);
		t = gguf_tensor_find(g, "output.weight");
		CHECK(t != NULL && t->type == q6);
		t = gguf_tensor_find(g, "blk.0.ffn_down.weight");
		CHECK(t != NULL && t->type == q6 &&
		    t->size == 512 / 256 * 210 * 256);
		t = gguf_tensor_find(g, "blk.0.ffn_up.weight");
		CHECK(t != NULL && t->type == mixes[i].base);
		t = gguf_tensor_find(g, "blk.0.attn_k.weight");
		CHECK(t != NULL && t->type == mixes[i].base);
		gguf_close(g);
	}
	/* n_embd 128: fine for Q4_0, not for the K-quants */
	CHECK_INT(
	    modelgen_write(path, &bad, MODELGEN_MIX_Q4_K_M, 4, &e), ERR_USAGE);
	CHECK_CONTAINS(e.msg, "multiples of 256");
	bad.n_embd = 256;
	bad.n_ff = 300;
	CHECK_INT(modelgen_write(path, &bad, GGML_TYPE_Q6_K, 4, &e), ERR_USAGE);
	CHECK_CONTAINS(e.msg, "n_ff 300");
	/* llama.cpp's fallbacks: rows of 128 Q5_0, ffn_down of 288 Q8_0 */
	bad.n_ff = 288;
	bad.n_head = 4;
	bad.head_dim = 32;
	CHECK_INT(modelgen_write(path, &bad, MODELGEN_MIX_Q4_K_FB, 4, &e), 0);
	CHECK_INT(gguf_open(path, &g, &e), 0);
	CHECK_INT(gguf_get_u32(g, "general.file_type", &u, NULL), 0);
	CHECK_INT(u, 15);
	t = gguf_tensor_find(g, "blk.0.attn_output.weight");
	CHECK(t != NULL && t->type == GGML_TYPE_Q5_0);
	t = gguf_tensor_find(g, "blk.0.ffn_down.weight");
	CHECK(t != NULL && t->type == GGML_TYPE_Q8_0);
	t = gguf_tensor_find(g, "blk.0.attn_q.weight");
	CHECK(t != NULL && t->type == GGML_TYPE_Q4_K);
	gguf_close(g);
}

/* model_validate and ref_model_load on PATH fail with CODE and WANT. */
static void
test_modelgen_both_fail(const char *path, int code, const char *want)
{
	struct model_hparams hp;
	struct gguf *g;
	struct err e;

	test_modelgen_load_fails(path, code, want);
	if (gguf_open(path, &g, &e) < 0) {
		CHECK_MSG(0, "gguf_open: %s", e.msg);
		return;
	}
	CHECK_INT(model_validate(g, &hp, &e), code);
	CHECK_CONTAINS(e.msg, want);
	gguf_close(g);
}

/* Broken qwen2 files: the messages name the tensor, key or architecture. */
TEST(modelgen_qwen2_errors)
{
	const char *path = test_tmpfile("q.gguf");
	struct model_hparams hp;
	struct gguf *g;
	struct err e;

	if (modelgen_write_arch(path, &test_modelgen_small, "qwen2",
		GGML_TYPE_F32, 5, &e) < 0 ||
	    gguf_open(path, &g, &e) < 0) {
		CHECK_MSG(0, "%s", e.msg);
		return;
	}
	CHECK_INT(model_validate(g, &hp, &e), 0);
	CHECK_STR(hp.arch, "qwen2");
	CHECK(hp.rope_neox && hp.has_bias && !hp.tied);
	test_modelgen_both_fail(
	    test_modelgen_copy(
		g, "q1.gguf", "blk.1.attn_v.bias", NULL, 0, 0, NULL, NULL),
	    ERR_MODEL, "missing tensor 'blk.1.attn_v.bias'");
	test_modelgen_both_fail(test_modelgen_copy(g, "q2.gguf", NULL, NULL, 0,
				    0, "qwen2.block_count", NULL),
	    ERR_MODEL, "missing key 'qwen2.block_count'");
	test_modelgen_both_fail(test_modelgen_copy(g, "q3.gguf", NULL, NULL, 0,
				    0, "general.architecture", "qwen3moe"),
	    ERR_UNSUPPORTED, "architecture 'qwen3moe' is not supported");
	/* the keys follow general.architecture */
	test_modelgen_both_fail(test_modelgen_copy(g, "q4.gguf", NULL, NULL, 0,
				    0, "general.architecture", "llama"),
	    ERR_MODEL, "missing key 'llama.embedding_length'");
	CHECK_INT(modelgen_write_arch(path, &test_modelgen_small, "falcon",
		      GGML_TYPE_F32, 5, &e),
	    ERR_USAGE);
	gguf_close(g);
}

/* Broken qwen3 files: a missing or misshapen Q/K norm is named. */
TEST(modelgen_qwen3_errors)
{
	static const struct modelgen_shape shape = { .n_vocab = 300,
		.n_embd = 64,
		.n_layer = 2,
		.n_head = 4,
		.n_head_kv = 2,
		.n_ff = 128,
		.head_dim = 32 };
	const char *path = test_tmpfile("q3.gguf");
	struct model_hparams hp;
	struct gguf *g;
	struct err e;

	if (modelgen_write_arch(path, &shape, "qwen3", GGML_TYPE_F32, 5, &e) <
		0 ||
	    gguf_open(path, &g, &e) < 0) {
		CHECK_MSG(0, "%s", e.msg);
		return;
	}
	CHECK_INT(model_validate(g, &hp, &e), 0);
	CHECK_STR(hp.arch, "qwen3");
	CHECK(hp.rope_neox && hp.has_qk_norm && !hp.has_bias);
	CHECK_INT(hp.head_dim, 32);
	CHECK_INT(hp.q_dim, 128);
	CHECK_INT(hp.kv_dim, 64);
	CHECK(gguf_find(g, "qwen3.attention.key_length") != NULL);
	test_modelgen_both_fail(
	    test_modelgen_copy(g, "q3a.gguf", "blk.1.attn_k_norm.weight", NULL,
		0, 0, NULL, NULL),
	    ERR_MODEL, "q3a.gguf: missing tensor 'blk.1.attn_k_norm.weight'");
	test_modelgen_both_fail(
	    test_modelgen_copy(g, "q3b.gguf", NULL, "blk.0.attn_q_norm.weight",
		16, 2, NULL, NULL),
	    ERR_MODEL,
	    "q3b.gguf: tensor 'blk.0.attn_q_norm.weight' has shape [16, 2], "
	    "expected [32]");
	test_modelgen_both_fail(test_modelgen_copy(g, "q3c.gguf", NULL, NULL, 0,
				    0, "general.architecture", "qwen3moe"),
	    ERR_UNSUPPORTED, "(llama, qwen2, qwen3, gemma3, gpt2)");
	gguf_close(g);
}

/*
 * gemma3's hyperparameters, and broken gemma3 files: a missing post-norm,
 * a misshapen Q norm and a missing sliding window are named.
 */
TEST(modelgen_gemma3_errors)
{
	static const struct modelgen_shape shape = { .n_vocab = 300,
		.n_embd = 64,
		.n_layer = 7,
		.n_head = 4,
		.n_head_kv = 2,
		.n_ff = 128,
		.head_dim = 32,
		.tied = 1,
		.rope_scale = 8.0f,
		.n_swa = 4 };
	const char *path = test_tmpfile("g3.gguf");
	struct model_hparams hp;
	struct gguf *g;
	struct err e;
	uint32_t l;

	if (modelgen_write_arch(path, &shape, "gemma3", GGML_TYPE_F32, 5, &e) <
		0 ||
	    gguf_open(path, &g, &e) < 0) {
		CHECK_MSG(0, "%s", e.msg);
		return;
	}
	CHECK_INT(model_validate(g, &hp, &e), 0);
	CHECK_STR(hp.arch, "gemma3");
	CHECK(hp.rope_neox && hp.has_qk_norm && hp.has_post_norms && hp.gelu);
	CHECK(!hp.has_bias && hp.tied);
	CHECK_INT(hp.head_dim, 32);
	CHECK_INT(hp.n_swa, 4);
	CHECK(hp.embd_scale == 8.0f);
	CHECK(fabsf(hp.attn_scale - 1.0f / sqrtf(32.0f)) < 1e-7f);
	CHECK(hp.freq_scale == 0.125f && hp.swa_freq_scale == 1.0f);
	CHECK(hp.swa_freq_base == 10000.0f);
	for (l = 0; l < 7; l++)
		CHECK_INT(model_layer_swa(&hp, l), l != 5);
	test_modelgen_both_fail(
	    test_modelgen_copy(g, "g3a.gguf", "blk.6.post_ffw_norm.weight",
		NULL, 0, 0, NULL, NULL),
	    ERR_MODEL, "g3a.gguf: missing tensor 'blk.6.post_ffw_norm.weight'");
	test_modelgen_both_fail(
	    test_modelgen_copy(g, "g3b.gguf", NULL, "blk.2.attn_q_norm.weight",
		8, 4, NULL, NULL),
	    ERR_MODEL,
	    "g3b.gguf: tensor 'blk.2.attn_q_norm.weight' has shape [8, 4], "
	    "expected [32]");
	test_modelgen_both_fail(
	    test_modelgen_copy(g, "g3c.gguf", NULL,
		"blk.0.post_attention_norm.weight", 32, 2, NULL, NULL),
	    ERR_MODEL,
	    "g3c.gguf: tensor 'blk.0.post_attention_norm.weight' has shape "
	    "[32, 2], expected [64]");
	test_modelgen_both_fail(test_modelgen_copy(g, "g3d.gguf", NULL, NULL, 0,
				    0, "gemma3.attention.sliding_window", NULL),
	    ERR_MODEL, "missing key 'gemma3.attention.sliding_window'");
	test_modelgen_both_fail(test_modelgen_copy(g, "g3e.gguf", NULL, NULL, 0,
				    0, "general.architecture", "gemma3n"),
	    ERR_UNSUPPORTED, "architecture 'gemma3n' is not supported");
	gguf_close(g);
}
