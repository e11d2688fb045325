/*
 * model-gen: random-weight llama, qwen2, qwen3 and gemma3 GGUFs.
 *
 * Determinism: every tensor draws from its own splitmix64 stream, seeded
 * from the model seed and the tensor's name, so the values do not depend
 * on the weight type, on other tensors' sizes or on whether the head is
 * tied.  Normal-ish
 * values are Irwin-Hall sums of four uniforms (mean 0, variance 1, bounded
 * by 3.5): only IEEE additions and multiplications, no libm, so the floats
 * are the same on every machine before they are quantized.
 *
 * The vocabulary is SentencePiece-shaped: <unk> (unknown), <s> and </s>
 * (control), the 256 byte tokens <0x00>..<0xFF> (byte), then pieces: "▁",
 * the printable ASCII characters, "▁" + each letter, then every string of
 * two, three, ... lowercase letters with and without a leading "▁", each
 * reachable by merging two shorter pieces; scores fall with the index, so
 * shorter pieces rank first.
 */
#include "model-gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf-write.h"
#include "gguf.h"
#include "quant.h"
#include "util.h"

#define MODELGEN_N_SPECIAL 3
#define MODELGEN_FIRST_PIECE (MODELGEN_N_SPECIAL + 256)
#define MODELGEN_SPACE "\xe2\x96\x81" /* U+2581, SentencePiece's space */

static uint64_t
modelgen_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Approximately N(0, 1): four uniforms, centred and scaled to variance 1. */
static double
modelgen_normal(uint64_t *s)
{
	double acc = 0.0;
	int i;

	for (i = 0; i < 4; i++)
		acc += (double)(modelgen_splitmix64(s) >> 11) * 0x1p-53;
	return (acc - 2.0) * 1.7320508075688772;
}

/* Filler piece I (0-based, after the byte tokens) into BUF. */
static void
modelgen_piece(size_t i, char *buf, size_t size)
{
	size_t n = 1, len, k, span;

	if (i == 0) {
		snprintf(buf, size, MODELGEN_SPACE);
		return;
	}
	i--;
	if (i < 94) {
		snprintf(buf, size, "%c", (char)(0x21 + i));
		return;
	}
	i -= 94;
	if (i < 52) {
		snprintf(buf, size, MODELGEN_SPACE "%c",
		    (char)(i < 26 ? 'a' + i : 'A' + i - 26));
		return;
	}
	i -= 52;
	/* words of LEN >= 2 letters, each as "▁word" then "word" */
	for (len = 2;; len++) {
		n = 1;
		for (k = 0; k < len; k++)
			n *= 26;
		span = 2 * n;
		if (i < span)
			break;
		i -= span;
	}
	k = 0;
	if (i % 2 == 0) {
		memcpy(buf, MODELGEN_SPACE, 3);
		k = 3;
	}
	i /= 2;
	buf[k + len] = '\0';
	while (len-- > 0) {
		buf[k + len] = (char)('a' + i % 26);
		i /= 26;
	}
}

static void
modelgen_vocab(struct gguf_writer *w, int n_vocab)
{
	char **tokens = xcalloc((size_t)n_vocab, sizeof(*tokens));
	float *scores = xcalloc((size_t)n_vocab, sizeof(*scores));
	int32_t *types = xcalloc((size_t)n_vocab, sizeof(*types));
	char piece[64];
	int i;

	tokens[0] = xstrdup("<unk>");
	types[0] = 2;
	tokens[1] = xstrdup("<s>");
	types[1] = 3;
	tokens[2] = xstrdup("</s>");
	types[2] = 3;
	for (i = 0; i < 256; i++) {
		tokens[MODELGEN_N_SPECIAL + i] = xasprintf("<0x%02X>", i);
		types[MODELGEN_N_SPECIAL + i] = 6;
	}
	for (i = MODELGEN_FIRST_PIECE; i < n_vocab; i++) {
		modelgen_piece(
		    (size_t)(i - MODELGEN_FIRST_PIECE), piece, sizeof(piece));
		tokens[i] = xstrdup(piece);
		types[i] = 1;
		scores[i] = -(float)(i - MODELGEN_FIRST_PIECE);
	}
	gguf_writer_str(w, "tokenizer.ggml.model", "llama");
	gguf_writer_arr_str(w, "tokenizer.ggml.tokens",
	    (const char *const *)tokens, (size_t)n_vocab);
	gguf_writer_arr(
	    w, "tokenizer.ggml.scores", GGUF_FLOAT32, scores, (size_t)n_vocab);
	gguf_writer_arr(
	    w, "tokenizer.ggml.token_type", GGUF_INT32, types, (size_t)n_vocab);
	gguf_writer_u32(w, "tokenizer.ggml.bos_token_id", 1);
	gguf_writer_u32(w, "tokenizer.ggml.eos_token_id", 2);
	gguf_writer_u32(w, "tokenizer.ggml.unknown_token_id", 0);
	gguf_writer_bool(w, "tokenizer.ggml.add_bos_token", 1);
	gguf_writer_bool(w, "tokenizer.ggml.add_eos_token", 0);
	for (i = 0; i < n_vocab; i++)
		free(tokens[i]);
	free(tokens);
	free(scores);
	free(types);
}

/* The fields of SHAPE with defaults filled in. */
static int
modelgen_check(const struct modelgen_shape *in, uint32_t type,
    struct modelgen_shape *s, struct err *err)
{
	int kq = type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K ||
	    type == GGML_TYPE_Q6_K || type == MODELGEN_MIX_Q4_K_M ||
	    type == MODELGEN_MIX_Q5_K_M;
	int blocks = kq						     ? 256
	    : type == GGML_TYPE_Q8_0 || type == GGML_TYPE_Q4_0	     ? 32
	    : type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_0	     ? 32
	    : type == GGML_TYPE_Q5_1 || type == MODELGEN_MIX_Q4_K_FB ? 32
								     : 0;

	*s = *in;
	if (type != GGML_TYPE_F32 && type != GGML_TYPE_F16 &&
	    type != GGML_TYPE_BF16 && !blocks)
		return err_set(err, ERR_USAGE,
		    "weight type %u is not one model-gen writes (f32, f16, "
		    "bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K, q6_K, "
		    "the K mixes)",
		    (unsigned)type);
	if (s->n_head_kv == 0)
		s->n_head_kv = s->n_head;
	if (s->n_vocab < MODELGEN_FIRST_PIECE || s->n_vocab > 1 << 20)
		return err_set(err, ERR_USAGE, "n_vocab %d: must be %d to %d",
		    s->n_vocab, MODELGEN_FIRST_PIECE, 1 << 20);
	if (s->n_embd < 1 || s->n_layer < 1 || s->n_head < 1 || s->n_ff < 1 ||
	    s->n_head_kv < 1 || s->n_head % s->n_head_kv != 0)
		return err_set(err, ERR_USAGE,
		    "shape: n_embd %d, n_layer %d, n_head %d, n_head_kv %d, "
		    "n_ff %d: all must be positive, n_head a multiple of "
		    "n_head_kv",
		    s->n_embd, s->n_layer, s->n_head, s->n_head_kv, s->n_ff);
	if (s->head_dim == 0) {
		if (s->n_embd % s->n_head != 0)
			return err_set(err, ERR_USAGE,
			    "n_embd %d is not a multiple of n_head %d",
			    s->n_embd, s->n_head);
		s->head_dim = s->n_embd / s->n_head;
	}
	if (s->head_dim < 2 || s->head_dim % 2 != 0)
		return err_set(err, ERR_USAGE,
		    "head_dim %d: must be even and positive", s->head_dim);
	if (blocks &&
	    (s->n_embd % blocks != 0 || s->n_ff % blocks != 0 ||
		s->n_head * s->head_dim % blocks != 0))
		return err_set(err, ERR_USAGE,
		    "n_embd %d, n_ff %d and n_head * head_dim %d must be "
		    "multiples of %d for weight type %u",
		    s->n_embd, s->n_ff, s->n_head * s->head_dim, blocks,
		    (unsigned)type);
	if (s->n_ctx == 0)
		s->n_ctx = 2048;
	if (s->freq_base == 0.0f)
		s->freq_base = 10000.0f;
	if (s->rms_eps == 0.0f)
		s->rms_eps = 1e-5f;
	if (s->n_swa == 0)
		s->n_swa = 512;
	if (s->n_ctx < 1 || !(s->freq_base > 0.0f) || !(s->rms_eps > 0.0f) ||
	    !(s->rope_scale >= 0.0f) || s->n_swa < 1)
		return err_set(err, ERR_USAGE,
		    "n_ctx %d, freq_base %g, rope_scale %g, rms_eps %g, n_swa "
		    "%d: out of range",
		    s->n_ctx, (double)s->freq_base, (double)s->rope_scale,
		    (double)s->rms_eps, s->n_swa);
	return 0;
}

/* Context shared by the tensor writers. */
struct modelgen {
	struct gguf_writer *w;
	uint64_t seed;
	uint32_t type;
	float *f;	  /* scratch floats */
	uint8_t *buf;	  /* scratch encoded bytes */
	const char *arch; /* "llama", "qwen2", "qwen3", "gemma3": key prefix */
	char key[80];	  /* modelgen_key's result */
};

/* "ARCH.SUFFIX" in MG's key buffer (valid until the next call). */
static const char *
modelgen_key(struct modelgen *mg, const char *suffix)
{
	snprintf(mg->key, sizeof mg->key, "%s.%s", mg->arch, suffix);
	return mg->key;
}

/* The type of matrix NAME in a model of weight type TYPE (a mix or not). */
static uint32_t
modelgen_tensor_type(uint32_t type, const char *name)
{
	size_t n = strlen(name);
	const char *down = "ffn_down.weight";

	if (type != MODELGEN_MIX_Q4_K_M && type != MODELGEN_MIX_Q5_K_M &&
	    type != MODELGEN_MIX_Q4_K_FB)
		return type;
	if (strcmp(name, "output.weight") == 0 ||
	    (n >= strlen(down) && strcmp(name + n - strlen(down), down) == 0))
		return GGML_TYPE_Q6_K;
	return type == MODELGEN_MIX_Q5_K_M ? GGML_TYPE_Q5_K : GGML_TYPE_Q4_K;
}

/*
 * Add tensor NAME of NE0 x NE1 (NE1 = 0: an F32 vector) with values
 * MEAN + STD * z, matrices in the model's weight type.
 */
static void
modelgen_values(struct modelgen *mg, const char *name, uint64_t ne0,
    uint64_t ne1, double mean, double std)
{
	uint64_t s = mg->seed, ne[2] = { ne0, ne1 ? ne1 : 1 };
	size_t n = (size_t)(ne0 * ne[1]), i;
	uint32_t type =
	    ne1 ? modelgen_tensor_type(mg->type, name) : GGML_TYPE_F32;
	const char *c;

	if (mg->type == MODELGEN_MIX_Q4_K_FB && ne1 && ne0 % 256 != 0)
		type = type == GGML_TYPE_Q6_K ? GGML_TYPE_Q8_0 : GGML_TYPE_Q5_0;

	/* the stream follows the name (FNV-1a), not the tensor's position */
	for (c = name; *c != '\0'; c++)
		s = (s ^ (uint8_t)*c) * 0x100000001b3ULL;
	for (i = 0; i < n; i++)
		mg->f[i] = (float)(mean + std * modelgen_normal(&s));
	quant_quantize(type, mg->f, mg->buf, n);
	gguf_writer_tensor(mg->w, name, type, ne1 ? 2 : 1, ne, mg->buf,
	    quant_row_size(type, n));
}

/*
 * Add tensor NAME of NE0 x NE1 (NE1 = 0: a vector, F32, values 1 + 0.1 z
 * when STD is 0 (norms), STD * z otherwise (biases)) with values STD * z
 * otherwise, in the model's weight type.
 */
static void
modelgen_tensor(struct modelgen *mg, const char *name, uint64_t ne0,
    uint64_t ne1, double std)
{
	if (ne1 || std > 0.0)
		modelgen_values(mg, name, ne0, ne1, 0.0, std);
	else
		modelgen_values(mg, name, ne0, ne1, 1.0, 0.1);
}

static void
modelgen_layer_tensor(struct modelgen *mg, int l, const char *suffix,
    uint64_t ne0, uint64_t ne1, double std)
{
	char name[64];

	snprintf(name, sizeof(name), "blk.%d.%s", l, suffix);
	modelgen_tensor(mg, name, ne0, ne1, std);
}

static uint32_t
modelgen_file_type(uint32_t type)
{
	switch (type) {
	case GGML_TYPE_F16:
		return 1;
	case GGML_TYPE_Q4_0:
		return 2;
	case GGML_TYPE_Q4_1:
		return 3;
	case GGML_TYPE_Q8_0:
		return 7;
	case GGML_TYPE_Q5_0:
		return 8;
	case GGML_TYPE_Q5_1:
		return 9;
	case GGML_TYPE_Q4_K: /* llama.cpp's MOSTLY_Q4_K_S */
		return 14;
	case MODELGEN_MIX_Q4_K_M:
	case MODELGEN_MIX_Q4_K_FB:
		return 15;
	case GGML_TYPE_Q5_K: /* MOSTLY_Q5_K_S */
		return 16;
	case MODELGEN_MIX_Q5_K_M:
		return 17;
	case GGML_TYPE_Q6_K:
		return 18;
	case GGML_TYPE_BF16:
		return 32;
	default:
		return 0;
	}
}

int
modelgen_write(const char *path, const struct modelgen_shape *shape,
    uint32_t weight_type, uint64_t seed, struct err *err)
{
	return modelgen_write_arch(
	    path, shape, "llama", weight_type, seed, err);
}

/*
 * A gpt2 model of S (checked) in MG (writer open, types and seed set):
 * the keys llama.cpp's converter writes for GPT-2, and its tensors:
 * token and position embeddings, LayerNorm weights (1 + 0.1 z) and
 * biases, one attn_qkv matrix and bias, biases on every product (N(0,
 * 0.25)), an up/down MLP.  Position embeddings are N(0, 0.25) too, so
 * a position looked up wrong shows.
 */
static void
modelgen_gpt2(struct modelgen *mg, const struct modelgen_shape *s)
{
	uint64_t e = (uint64_t)s->n_embd, f = (uint64_t)s->n_ff;
	uint64_t v = (uint64_t)s->n_vocab;
	uint64_t qd = (uint64_t)s->n_head * (uint64_t)s->head_dim;
	uint64_t kvd = (uint64_t)s->n_head_kv * (uint64_t)s->head_dim;
	double se = 1.0 / sqrt((double)e);
	int l;

	gguf_writer_u32(
	    mg->w, modelgen_key(mg, "context_length"), (uint32_t)s->n_ctx);
	gguf_writer_u32(
	    mg->w, modelgen_key(mg, "embedding_length"), (uint32_t)s->n_embd);
	gguf_writer_u32(
	    mg->w, modelgen_key(mg, "feed_forward_length"), (uint32_t)s->n_ff);
	gguf_writer_u32(
	    mg->w, modelgen_key(mg, "block_count"), (uint32_t)s->n_layer);
	gguf_writer_u32(mg->w, modelgen_key(mg, "attention.head_count"),
	    (uint32_t)s->n_head);
	gguf_writer_f32(mg->w, modelgen_key(mg, "attention.layer_norm_epsilon"),
	    s->rms_eps);
	modelgen_vocab(mg->w, s->n_tok > 0 ? s->n_tok : s->n_vocab);
	modelgen_tensor(mg, "token_embd.weight", e, v, 3.0 / sqrt((double)e));
	modelgen_tensor(mg, "position_embd.weight", e, (uint64_t)s->n_ctx, 0.5);
	modelgen_tensor(mg, "output_norm.weight", e, 0, 0.0);
	modelgen_tensor(mg, "output_norm.bias", e, 0, 0.5);
	if (!s->tied)
		modelgen_tensor(
		    mg, "output.weight", e, v, 3.0 / sqrt((double)e));
	for (l = 0; l < s->n_layer; l++) {
		modelgen_layer_tensor(mg, l, "attn_norm.weight", e, 0, 0.0);
		modelgen_layer_tensor(mg, l, "attn_norm.bias", e, 0, 0.5);
		modelgen_layer_tensor(
		    mg, l, "attn_qkv.weight", e, qd + 2 * kvd, se);
		modelgen_layer_tensor(
		    mg, l, "attn_qkv.bias", qd + 2 * kvd, 0, 0.5);
		modelgen_layer_tensor(
		    mg, l, "attn_output.weight", qd, e, 1.0 / sqrt((double)qd));
		modelgen_layer_tensor(mg, l, "attn_output.bias", e, 0, 0.5);
		modelgen_layer_tensor(mg, l, "ffn_norm.weight", e, 0, 0.0);
		modelgen_layer_tensor(mg, l, "ffn_norm.bias", e, 0, 0.5);
		modelgen_layer_tensor(mg, l, "ffn_up.weight", e, f, se);
		modelgen_layer_tensor(mg, l, "ffn_up.bias", f, 0, 0.5);
		modelgen_layer_tensor(
		    mg, l, "ffn_down.weight", f, e, 1.0 / sqrt((double)f));
		modelgen_layer_tensor(mg, l, "ffn_down.bias", e, 0, 0.5);
	}
}

int
modelgen_write_arch(const char *path, const struct modelgen_shape *shape,
    const char *arch, uint32_t weight_type, uint64_t seed, struct err *err)
{
	struct modelgen_shape s;
	struct modelgen mg;
	uint64_t e, qd, kvd, f, v, biggest;
	double head_std;
	int gemma3 = strcmp(arch, "gemma3") == 0;
	int qk_norm = gemma3 || strcmp(arch, "qwen3") == 0;
	int l, rc;

	if (strcmp(arch, "llama") != 0 && strcmp(arch, "qwen2") != 0 &&
	    strcmp(arch, "gpt2") != 0 && !qk_norm)
		return err_set(err, ERR_USAGE,
		    "model-gen: architecture '%s' (llama, qwen2, qwen3, "
		    "gemma3, gpt2)",
		    arch);
	if ((rc = modelgen_check(shape, weight_type, &s, err)) < 0)
		return rc;
	e = (uint64_t)s.n_embd;
	f = (uint64_t)s.n_ff;
	v = (uint64_t)s.n_vocab;
	qd = (uint64_t)s.n_head * (uint64_t)s.head_dim;
	kvd = (uint64_t)s.n_head_kv * (uint64_t)s.head_dim;
	biggest = e * (v > f ? (v > qd ? v : qd) : (f > qd ? f : qd));
	if (biggest < e * (qd + 2 * kvd))
		biggest = e * (qd + 2 * kvd);
	if (biggest < e * (uint64_t)s.n_ctx)
		biggest = e * (uint64_t)s.n_ctx;

	mg.w = gguf_writer_new(32);
	mg.seed = seed;
	mg.type = weight_type;
	mg.f = xreallocarray(NULL, (size_t)biggest, sizeof(float));
	mg.buf = xreallocarray(NULL, (size_t)biggest, sizeof(float));
	mg.arch = arch;

	gguf_writer_str(mg.w, "general.architecture", mg.arch);
	gguf_writer_str(mg.w, "general.name", "vkchat random test model");
	gguf_writer_u32(
	    mg.w, "general.file_type", modelgen_file_type(weight_type));
	if (strcmp(arch, "gpt2") == 0) {
		modelgen_gpt2(&mg, &s);
		goto save;
	}
	gguf_writer_u32(
	    mg.w, modelgen_key(&mg, "vocab_size"), (uint32_t)s.n_vocab);
	gguf_writer_u32(
	    mg.w, modelgen_key(&mg, "context_length"), (uint32_t)s.n_ctx);
	gguf_writer_u32(
	    mg.w, modelgen_key(&mg, "embedding_length"), (uint32_t)s.n_embd);
	gguf_writer_u32(
	    mg.w, modelgen_key(&mg, "block_count"), (uint32_t)s.n_layer);
	gguf_writer_u32(
	    mg.w, modelgen_key(&mg, "feed_forward_length"), (uint32_t)s.n_ff);
	gguf_writer_u32(mg.w, modelgen_key(&mg, "attention.head_count"),
	    (uint32_t)s.n_head);
	gguf_writer_u32(mg.w, modelgen_key(&mg, "attention.head_count_kv"),
	    (uint32_t)s.n_head_kv);
	if (s.head_dim * s.n_head != s.n_embd) {
		gguf_writer_u32(mg.w, modelgen_key(&mg, "attention.key_length"),
		    (uint32_t)s.head_dim);
		gguf_writer_u32(mg.w,
		    modelgen_key(&mg, "attention.value_length"),
		    (uint32_t)s.head_dim);
	}
	gguf_writer_f32(mg.w,
	    modelgen_key(&mg, "attention.layer_norm_rms_epsilon"), s.rms_eps);
	gguf_writer_f32(mg.w, modelgen_key(&mg, "rope.freq_base"), s.freq_base);
	gguf_writer_u32(mg.w, modelgen_key(&mg, "rope.dimension_count"),
	    (uint32_t)s.head_dim);
	if (s.rope_scale > 0.0f) {
		gguf_writer_str(
		    mg.w, modelgen_key(&mg, "rope.scaling.type"), "linear");
		gguf_writer_f32(mg.w, modelgen_key(&mg, "rope.scaling.factor"),
		    s.rope_scale);
	}
	if (gemma3)
		gguf_writer_u32(mg.w,
		    modelgen_key(&mg, "attention.sliding_window"),
		    (uint32_t)s.n_swa);
	modelgen_vocab(mg.w, s.n_tok > 0 ? s.n_tok : s.n_vocab);

	/* logits = head . normed x (rms ~1): a spread of about 3 */
	head_std = 3.0 / sqrt((double)e);
	modelgen_tensor(&mg, "token_embd.weight", e, v, head_std);
	modelgen_tensor(&mg, "output_norm.weight", e, 0, 0.0);
	if (!s.tied)
		modelgen_tensor(&mg, "output.weight", e, v, head_std);
	for (l = 0; l < s.n_layer; l++) {
		double se = 1.0 / sqrt((double)e);

		modelgen_layer_tensor(&mg, l, "attn_norm.weight", e, 0, 0.0);
		modelgen_layer_tensor(&mg, l, "attn_q.weight", e, qd, se);
		modelgen_layer_tensor(&mg, l, "attn_k.weight", e, kvd, se);
		modelgen_layer_tensor(&mg, l, "attn_v.weight", e, kvd, se);
		if (strcmp(arch, "qwen2") == 0) {
			modelgen_layer_tensor(
			    &mg, l, "attn_q.bias", qd, 0, 0.5);
			modelgen_layer_tensor(
			    &mg, l, "attn_k.bias", kvd, 0, 0.5);
			modelgen_layer_tensor(
			    &mg, l, "attn_v.bias", kvd, 0, 0.5);
		}
		if (qk_norm) {
			char name[64];

			/* spread wide, so a misplaced weight shows */
			snprintf(
			    name, sizeof name, "blk.%d.attn_q_norm.weight", l);
			modelgen_values(
			    &mg, name, (uint64_t)s.head_dim, 0, 1.0, 0.5);
			snprintf(
			    name, sizeof name, "blk.%d.attn_k_norm.weight", l);
			modelgen_values(
			    &mg, name, (uint64_t)s.head_dim, 0, 1.0, 0.5);
		}
		modelgen_layer_tensor(&mg, l, "attn_output.weight", qd, e,
		    1.0 / sqrt((double)qd));
		modelgen_layer_tensor(&mg, l, "ffn_norm.weight", e, 0, 0.0);
		modelgen_layer_tensor(&mg, l, "ffn_gate.weight", e, f, se);
		modelgen_layer_tensor(&mg, l, "ffn_up.weight", e, f, se);
		modelgen_layer_tensor(
		    &mg, l, "ffn_down.weight", f, e, 1.0 / sqrt((double)f));
		if (gemma3) {
			char name[64];

			/* wide too: a skipped or swapped post-norm shows */
			snprintf(name, sizeof name,
			    "blk.%d.post_attention_norm.weight", l);
			modelgen_values(&mg, name, e, 0, 1.0, 0.5);
			snprintf(name, sizeof name,
			    "blk.%d.post_ffw_norm.weight", l);
			modelgen_values(&mg, name, e, 0, 1.0, 0.5);
		}
	}
save:
	rc = gguf_writer_save(mg.w, path, err);
	free(mg.f);
	free(mg.buf);
	gguf_writer_free(mg.w);
	return rc;
}

/* The name of model-gen weight type TYPE (a ggml type or a mix). */
const char *
modelgen_type_name(uint32_t type)
{
	if (type == MODELGEN_MIX_Q4_K_M)
		return "q4_K_M";
	if (type == MODELGEN_MIX_Q5_K_M)
		return "q5_K_M";
	if (type == MODELGEN_MIX_Q4_K_FB)
		return "q4_K_M+q5_0";
	return ggml_type_info(type)->name;
}

/* Token I of a fixed, seed-independent test sequence. */
int32_t
modelgen_token(int i, int n_vocab)
{
	return i == 0 ? 1 : (int32_t)((i * 7919 + 13) % n_vocab);
}
