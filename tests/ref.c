/*
 * ref: the scalar reference forward pass (the engine's correctness oracle).
 *
 * Deliberately plain: every weight is dequantized to f32 once at load
 * (quant_dequantize), and the forward pass is the textbook llama block in
 * simple loops, one token at a time, with an f32 KV cache.  Sums (dot
 * products, the RMS, the softmax denominator) are accumulated in double so
 * that the oracle's own rounding is negligible next to the kernels'; the
 * results are stored as f32.  Nothing here is tuned for speed: test models
 * are small.
 *
 * All buffers are allocated at load; ref_model_eval does not allocate.
 */
#include "ref.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"
#include "util.h"

/* The KV cache length when the caller leaves it to the model. */
#define REF_DEFAULT_CTX 4096

struct ref_layer {
	float *attn_norm; /* (n_embd) */
	float *wq;	  /* (n_head * head_dim, n_embd) */
	float *wk;	  /* (n_head_kv * head_dim, n_embd) */
	float *wv;	  /* (n_head_kv * head_dim, n_embd) */
	float *bq;	  /* (n_head * head_dim) qwen2 bias, or NULL */
	float *bk;	  /* (n_head_kv * head_dim) or NULL */
	float *bv;	  /* (n_head_kv * head_dim) or NULL */
	float *q_norm;	  /* (head_dim) qwen3 per-head Q norm, or NULL */
	float *k_norm;	  /* (head_dim) qwen3 per-head K norm, or NULL */
	float *post_attn; /* (n_embd) gemma3 post-attention norm, or NULL */
	float *post_ffw;  /* (n_embd) gemma3 post-FFN norm, or NULL */
	float *wo;	  /* (n_embd, n_head * head_dim) */
	float *ffn_norm;  /* (n_embd) */
	float *w_gate;	  /* (n_ff, n_embd) */
	float *w_up;	  /* (n_ff, n_embd) */
	float *w_down;	  /* (n_embd, n_ff) */
	float *k_cache;	  /* (n_ctx, n_head_kv * head_dim) */
	float *v_cache;	  /* (n_ctx, n_head_kv * head_dim) */
	/* gpt2: LayerNorm biases, output, up and down biases, else NULL */
	float *attn_norm_b; /* (n_embd) */
	float *ffn_norm_b;  /* (n_embd) */
	float *bo;	    /* (n_embd) */
	float *b_up;	    /* (n_ff) */
	float *b_down;	    /* (n_embd) */
};

struct ref_model {
	struct ref_hparams hp;
	float *tok_embd;      /* (n_vocab, n_embd) */
	float *output_norm;   /* (n_embd) */
	float *output;	      /* (n_vocab, n_embd); == tok_embd when tied */
	float *freq_factors;  /* (n_rot / 2) or NULL */
	float *pos_embd;      /* gpt2: (n_ctx_train, n_embd), else NULL */
	float *output_norm_b; /* gpt2: (n_embd), else NULL */
	struct ref_layer *layers;

	/* scratch for one token */
	float *x;   /* (n_embd) the residual stream */
	float *xb;  /* (n_embd) normed input of a sub-block */
	float *q;   /* (n_head * head_dim) */
	float *att; /* (n_head * head_dim) attention output */
	float *hb;  /* (n_ff) */
	float *hb2; /* (n_ff) */
	float *sc;  /* (n_ctx) attention scores */
};

void
ref_rmsnorm(const float *x, const float *w, float *y, size_t n, float eps)
{
	double ss = 0.0;
	float scale;
	size_t i;

	for (i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	scale = (float)(1.0 / sqrt(ss / (double)n + eps));
	for (i = 0; i < n; i++)
		y[i] = x[i] * scale * w[i];
}

void
ref_layernorm(const float *x, const float *w, const float *b, float *y,
    size_t n, float eps)
{
	double mean = 0.0, var = 0.0;
	float scale;
	size_t i;

	for (i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (i = 0; i < n; i++)
		var += (x[i] - mean) * (x[i] - mean);
	scale = (float)(1.0 / sqrt(var / (double)n + eps));
	for (i = 0; i < n; i++)
		y[i] = (float)((x[i] - mean) * scale) * w[i] + b[i];
}

void
ref_gelu(float *x, size_t n)
{
	const double c = 0.79788456080286535588; /* sqrt(2 / pi) */
	size_t i;

	for (i = 0; i < n; i++) {
		double v = x[i];

		x[i] = (float)(0.5 * v *
		    (1.0 + tanh(c * (v + 0.044715 * v * v * v))));
	}
}

void
ref_matvec(const float *w, const float *x, float *y, size_t rows, size_t cols)
{
	size_t r, c;

	for (r = 0; r < rows; r++) {
		const float *row = w + r * cols;
		double acc = 0.0;

		for (c = 0; c < cols; c++)
			acc += (double)row[c] * x[c];
		y[r] = (float)acc;
	}
}

void
ref_rope_ext(float *x, size_t n_heads, size_t head_dim, size_t n_rot, int pos,
    float freq_base, float freq_scale, const float *freq_factors)
{
	size_t h, i;

	for (i = 0; i + 1 < n_rot; i += 2) {
		double theta = (double)pos * freq_scale *
		    pow((double)freq_base, -(double)i / (double)n_rot);
		float c, s;

		if (freq_factors != NULL)
			theta /= freq_factors[i / 2];
		c = (float)cos(theta);
		s = (float)sin(theta);
		for (h = 0; h < n_heads; h++) {
			float *p = x + h * head_dim + i;
			float x0 = p[0], x1 = p[1];

			p[0] = x0 * c - x1 * s;
			p[1] = x0 * s + x1 * c;
		}
	}
}

void
ref_rope_neox(float *x, size_t n_heads, size_t head_dim, size_t n_rot, int pos,
    float freq_base, float freq_scale, const float *freq_factors)
{
	size_t h, i, half = n_rot / 2;

	for (i = 0; i < half; i++) {
		double theta = (double)pos * freq_scale *
		    pow((double)freq_base, -2.0 * (double)i / (double)n_rot);
		float c, s;

		if (freq_factors != NULL)
			theta /= freq_factors[i];
		c = (float)cos(theta);
		s = (float)sin(theta);
		for (h = 0; h < n_heads; h++) {
			float *p = x + h * head_dim;
			float x0 = p[i], x1 = p[i + half];

			p[i] = x0 * c - x1 * s;
			p[i + half] = x0 * s + x1 * c;
		}
	}
}

void
ref_rope(float *x, size_t n_heads, size_t head_dim, size_t n_rot, int pos,
    float freq_base, float freq_scale)
{
	ref_rope_ext(
	    x, n_heads, head_dim, n_rot, pos, freq_base, freq_scale, NULL);
}

/*
 * ref_attention with scores scaled by SCALE and caller-supplied scratch
 * SC (n_kv floats).
 */
static void
ref_attention_sc(const float *q, const float *k, const float *v, float *out,
    size_t n_head, size_t n_head_kv, size_t head_dim, size_t n_kv, double scale,
    float *sc)
{
	size_t group = n_head / n_head_kv, kv_dim = n_head_kv * head_dim;
	size_t h, t, d;

	for (h = 0; h < n_head; h++) {
		const float *qh = q + h * head_dim;
		size_t kvh = h / group;
		float max = -INFINITY;
		double sum = 0.0;

		for (t = 0; t < n_kv; t++) {
			const float *kt = k + t * kv_dim + kvh * head_dim;
			double acc = 0.0;

			for (d = 0; d < head_dim; d++)
				acc += (double)qh[d] * kt[d];
			sc[t] = (float)(acc * scale);
			if (sc[t] > max)
				max = sc[t];
		}
		for (t = 0; t < n_kv; t++) {
			sc[t] = (float)exp((double)sc[t] - max);
			sum += sc[t];
		}
		for (d = 0; d < head_dim; d++) {
			double acc = 0.0;

			for (t = 0; t < n_kv; t++)
				acc += (double)sc[t] *
				    v[t * kv_dim + kvh * head_dim + d];
			out[h * head_dim + d] = (float)(acc / sum);
		}
	}
}

void
ref_attention(const float *q, const float *k, const float *v, float *out,
    size_t n_head, size_t n_head_kv, size_t head_dim, size_t n_kv)
{
	float *sc = xcalloc(n_kv ? n_kv : 1, sizeof(*sc));

	ref_attention_sc(q, k, v, out, n_head, n_head_kv, head_dim, n_kv,
	    1.0 / sqrt((double)head_dim), sc);
	free(sc);
}

void
ref_silu_mul(const float *g, const float *u, float *y, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		y[i] =
		    (float)((double)g[i] / (1.0 + exp(-(double)g[i])) * u[i]);
}

void
ref_gelu_mul(const float *g, const float *u, float *y, size_t n)
{
	const double c = 0.79788456080286535588; /* sqrt(2 / pi) */
	size_t i;

	for (i = 0; i < n; i++) {
		double v = g[i];

		y[i] = (float)(0.5 * v *
		    (1.0 + tanh(c * (v + 0.044715 * v * v * v))) * u[i]);
	}
}

size_t
ref_argmax(const float *x, size_t n)
{
	size_t i, best = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/*
 * A required or optional integer hyperparameter "ARCH.SUFFIX": DEF < 0
 * makes it required.  Values must lie in [1, 1 << 24].
 */
static int
ref_hp_int(const struct gguf *g, const char *arch, const char *suffix, long def,
    int *out, struct err *err)
{
	uint32_t v;
	int rc = gguf_get_arch_u32(g, suffix, &v, err);

	if (rc == ERR_NOTFOUND) {
		if (def < 0)
			return err_set(err, ERR_MODEL,
			    "%s: missing key '%s.%s'", gguf_path(g), arch,
			    suffix);
		*out = (int)def;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (v < 1 || v > (1u << 24))
		return err_set(err, ERR_MODEL,
		    "%s: key '%s.%s' has value %" PRIu32 ", expected 1 to %u",
		    gguf_path(g), arch, suffix, v, 1u << 24);
	*out = (int)v;
	return 0;
}

/* An optional float "ARCH.SUFFIX", DEF when absent; must be finite. */
static int
ref_hp_float(const struct gguf *g, const char *arch, const char *suffix,
    float def, float *out, struct err *err)
{
	int rc = gguf_get_arch_f32(g, suffix, out, err);

	if (rc == ERR_NOTFOUND) {
		*out = def;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (!isfinite(*out))
		return err_set(err, ERR_MODEL, "%s: key '%s.%s' is not finite",
		    gguf_path(g), arch, suffix);
	return 0;
}

/* Rope scaling as llama.cpp reads it: "none" or "linear" (the default). */
static int
ref_hp_rope_scaling(
    const struct gguf *g, const char *arch, float *freq_scale, struct err *err)
{
	char key[64];
	const struct gguf_kv *kv;
	float factor;
	int rc;

	snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
	kv = gguf_find(g, key);
	rc = ref_hp_float(g, arch, "rope.scaling.factor", 0.0f, &factor, err);
	if (rc == 0 && factor == 0.0f)
		rc = ref_hp_float(
		    g, arch, "rope.scale_linear", 0.0f, &factor, err);
	if (rc < 0)
		return rc;
	if (factor < 0.0f)
		return err_set(err, ERR_MODEL,
		    "%s: rope scaling factor %g is negative", gguf_path(g),
		    (double)factor);
	*freq_scale = factor == 0.0f ? 1.0f : 1.0f / factor;
	if (kv == NULL)
		return 0;
	if (kv->value.type != GGUF_STRING)
		return err_set(err, ERR_FORMAT,
		    "%s: key '%s' has type %s, expected string", gguf_path(g),
		    key, gguf_vtype_name(kv->value.type));
	if (gguf_str_eq(kv->value.v.str, "none")) {
		*freq_scale = 1.0f;
		return 0;
	}
	if (gguf_str_eq(kv->value.v.str, "linear"))
		return 0;
	return err_set(err, ERR_UNSUPPORTED,
	    "%s: rope scaling type '%.*s' is not supported (none, linear)",
	    gguf_path(g),
	    (int)(kv->value.v.str.len > 64 ? 64 : kv->value.v.str.len),
	    kv->value.v.str.ptr);
}

/*
 * Tensor NAME dequantized to f32 into a new buffer *OUT, after checking
 * that its shape is {NE0} (NE1 == 0) or {NE0, NE1}.
 */
static int
ref_tensor(const struct gguf *g, const char *name, uint64_t ne0, uint64_t ne1,
    float **out, struct err *err)
{
	const struct gguf_tensor *t = gguf_tensor_find(g, name);
	const struct ggml_type_info *ti;
	uint32_t want_dims = ne1 ? 2 : 1;
	char got[96];
	float *buf;

	if (t == NULL)
		return err_set(err, ERR_MODEL, "%s: missing tensor '%s'",
		    gguf_path(g), name);
	if (t->ne[0] != ne0 || t->ne[1] != (ne1 ? ne1 : 1) || t->ne[2] != 1 ||
	    t->ne[3] != 1 || t->n_dims > want_dims) {
		size_t len = 0;
		uint32_t i;

		got[0] = '\0';
		for (i = 0; i < (t->n_dims ? t->n_dims : 1); i++)
			len += (size_t)snprintf(got + len, sizeof(got) - len,
			    "%s%" PRIu64, i ? ", " : "", t->ne[i]);
		if (ne1)
			return err_set(err, ERR_MODEL,
			    "%s: tensor '%s' has shape [%s], expected [%" PRIu64
			    ", %" PRIu64 "]",
			    gguf_path(g), name, got, ne0, ne1);
		return err_set(err, ERR_MODEL,
		    "%s: tensor '%s' has shape [%s], expected [%" PRIu64 "]",
		    gguf_path(g), name, got, ne0);
	}
	ti = ggml_type_info(t->type);
	buf = xreallocarray(NULL, t->n_elements, sizeof(float));
	if (quant_dequantize(t->type, t->data, buf, t->n_elements) < 0) {
		free(buf);
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: tensor '%s' has type %s, which the reference does "
		    "not support (f32, f16, bf16, q8_0, q4_0)",
		    gguf_path(g), name, ti ? ti->name : "unknown");
	}
	*out = buf;
	return 0;
}

/* Tensor "blk.L.SUFFIX". */
static int
ref_layer_tensor(const struct gguf *g, int l, const char *suffix, uint64_t ne0,
    uint64_t ne1, float **out, struct err *err)
{
	char name[96];

	snprintf(name, sizeof(name), "blk.%d.%s", l, suffix);
	return ref_tensor(g, name, ne0, ne1, out, err);
}

static int
ref_model_hparams_read(
    const struct gguf *g, int n_ctx, struct ref_hparams *hp, struct err *err)
{
	const struct gguf_tensor *te;
	struct gguf_str arch;
	char key[64];
	const char *a;
	int key_len, val_len, rc;

	rc = gguf_get_str(g, "general.architecture", &arch, err);
	if (rc == ERR_NOTFOUND)
		return err_set(err, ERR_MODEL,
		    "%s: missing key 'general.architecture'", gguf_path(g));
	if (rc < 0)
		return rc;
	/*
	 * qwen2: llama plus Q/K/V biases and NEOX rope; qwen3: NEOX rope and
	 * a per-head RMSNorm of Q and K before it (llama.cpp's graphs).
	 */
	if (gguf_str_eq(arch, "llama")) {
		a = "llama";
	} else if (gguf_str_eq(arch, "qwen2")) {
		a = "qwen2";
		hp->neox = 1;
		hp->has_bias = 1;
	} else if (gguf_str_eq(arch, "qwen3")) {
		a = "qwen3";
		hp->neox = 1;
		hp->qk_norm = 1;
	} else if (gguf_str_eq(arch, "gemma3")) {
		a = "gemma3";
		hp->neox = 1;
		hp->qk_norm = 1;
		hp->gemma3 = 1;
	} else if (gguf_str_eq(arch, "gpt2")) {
		a = "gpt2";
		hp->gpt2 = 1;
	} else {
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: architecture '%.*s' is not supported by the "
		    "reference (llama, qwen2, qwen3, gemma3, gpt2)",
		    gguf_path(g), (int)(arch.len > 64 ? 64 : arch.len),
		    arch.ptr);
	}
	snprintf(key, sizeof key, "%s.attention.key_length", a);
	if ((rc = ref_hp_int(g, a, "embedding_length", -1, &hp->n_embd, err)) <
		0 ||
	    (rc = ref_hp_int(g, a, "block_count", -1, &hp->n_layer, err)) < 0 ||
	    (rc = ref_hp_int(
		 g, a, "attention.head_count", -1, &hp->n_head, err)) < 0 ||
	    (rc = ref_hp_int(g, a, "attention.head_count_kv", hp->n_head,
		 &hp->n_head_kv, err)) < 0 ||
	    (rc = ref_hp_int(g, a, "feed_forward_length", -1, &hp->n_ff, err)) <
		0 ||
	    (rc = ref_hp_int(
		 g, a, "context_length", 0, &hp->n_ctx_train, err)) < 0)
		return rc;
	if (hp->n_embd % hp->n_head != 0 && !gguf_find(g, key))
		return err_set(err, ERR_MODEL,
		    "%s: embedding length %d is not a multiple of the head "
		    "count %d",
		    gguf_path(g), hp->n_embd, hp->n_head);
	if (hp->n_head % hp->n_head_kv != 0)
		return err_set(err, ERR_MODEL,
		    "%s: head count %d is not a multiple of the kv head count "
		    "%d",
		    gguf_path(g), hp->n_head, hp->n_head_kv);
	if ((rc = ref_hp_int(g, a, "attention.key_length",
		 hp->n_embd / hp->n_head, &key_len, err)) < 0 ||
	    (rc = ref_hp_int(
		 g, a, "attention.value_length", key_len, &val_len, err)) < 0)
		return rc;
	if (key_len != val_len)
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: key length %d differs from value length %d",
		    gguf_path(g), key_len, val_len);
	hp->head_dim = key_len;
	if ((rc = ref_hp_int(g, a, "rope.dimension_count", hp->head_dim,
		 &hp->n_rot, err)) < 0)
		return rc;
	if (hp->n_rot > hp->head_dim || hp->n_rot % 2 != 0)
		return err_set(err, ERR_MODEL,
		    "%s: rope dimension count %d must be even and at most the "
		    "head size %d",
		    gguf_path(g), hp->n_rot, hp->head_dim);
	/* gpt2's LayerNorm epsilon has its own key. */
	rc = gguf_get_arch_f32(g,
	    hp->gpt2 ? "attention.layer_norm_epsilon"
		     : "attention.layer_norm_rms_epsilon",
	    &hp->rms_eps, err);
	if (rc == ERR_NOTFOUND)
		return err_set(err, ERR_MODEL, "%s: missing key '%s.%s'",
		    gguf_path(g), a,
		    hp->gpt2 ? "attention.layer_norm_epsilon"
			     : "attention.layer_norm_rms_epsilon");
	if (rc < 0)
		return rc;
	if (!(hp->rms_eps >= 0.0f && hp->rms_eps < 1.0f))
		return err_set(err, ERR_MODEL,
		    "%s: rms epsilon %g is out of range", gguf_path(g),
		    (double)hp->rms_eps);
	if ((rc = ref_hp_float(
		 g, a, "rope.freq_base", 10000.0f, &hp->freq_base, err)) < 0)
		return rc;
	if (!(hp->freq_base > 0.0f))
		return err_set(err, ERR_MODEL,
		    "%s: rope frequency base %g is not positive", gguf_path(g),
		    (double)hp->freq_base);
	if ((rc = ref_hp_rope_scaling(g, a, &hp->freq_scale, err)) < 0)
		return rc;
	/* Gemma 3's query_pre_attn_scalar: n_embd / n_head on the 27B. */
	hp->attn_scale = 1.0 / sqrt((double)hp->head_dim);
	if (hp->gemma3) {
		if (hp->n_layer == 62)
			hp->attn_scale =
			    1.0 / sqrt((double)(hp->n_embd / hp->n_head));
		if ((rc = ref_hp_int(g, a, "attention.sliding_window", -1,
			 &hp->n_swa, err)) < 0)
			return rc;
	}
	te = gguf_tensor_find(g, "token_embd.weight");
	if (te == NULL)
		return err_set(err, ERR_MODEL,
		    "%s: missing tensor 'token_embd.weight'", gguf_path(g));
	if (te->ne[1] < 1 || te->ne[1] > (1u << 24))
		return err_set(err, ERR_MODEL,
		    "%s: tensor 'token_embd.weight' has %" PRIu64
		    " rows, expected 1 to %u",
		    gguf_path(g), te->ne[1], 1u << 24);
	hp->n_vocab = (int)te->ne[1];
	hp->tied = gguf_tensor_find(g, "output.weight") == NULL;
	hp->has_freq_factors = gguf_tensor_find(g, "rope_freqs.weight") != NULL;
	if (n_ctx <= 0)
		n_ctx = hp->n_ctx_train > 0 && hp->n_ctx_train < REF_DEFAULT_CTX
		    ? hp->n_ctx_train
		    : REF_DEFAULT_CTX;
	if (hp->gpt2 && (hp->n_ctx_train <= 0 || n_ctx > hp->n_ctx_train))
		return err_set(err, ERR_RANGE,
		    "%s: context of %d positions, the model learned %d",
		    gguf_path(g), n_ctx, hp->n_ctx_train);
	hp->n_ctx = n_ctx;
	return 0;
}

/*
 * gpt2's layer L: one Q|K|V matrix and bias, split here by rows into
 * Q, K, V (n_head * head_dim, then n_head_kv * head_dim each), and the
 * LayerNorm and product biases.
 */
static int
ref_gpt2_layer_load(const struct gguf *g, const struct ref_hparams *hp, int l,
    struct ref_layer *ly, struct err *err)
{
	uint64_t e = (uint64_t)hp->n_embd, f = (uint64_t)hp->n_ff;
	uint64_t qd = (uint64_t)hp->n_head * (uint64_t)hp->head_dim;
	uint64_t kvd = (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
	float *wqkv = NULL, *bqkv = NULL;
	int rc;

	if ((rc = ref_layer_tensor(
		 g, l, "attn_norm.weight", e, 0, &ly->attn_norm, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "attn_norm.bias", e, 0, &ly->attn_norm_b, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "attn_qkv.weight", e, qd + 2 * kvd, &wqkv, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "attn_qkv.bias", qd + 2 * kvd, 0, &bqkv, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "attn_output.weight", qd, e, &ly->wo, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "attn_output.bias", e, 0, &ly->bo, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "ffn_norm.weight", e, 0, &ly->ffn_norm, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "ffn_norm.bias", e, 0, &ly->ffn_norm_b, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "ffn_up.weight", e, f, &ly->w_up, err)) < 0 ||
	    (rc = ref_layer_tensor(g, l, "ffn_up.bias", f, 0, &ly->b_up, err)) <
		0 ||
	    (rc = ref_layer_tensor(
		 g, l, "ffn_down.weight", f, e, &ly->w_down, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "ffn_down.bias", e, 0, &ly->b_down, err)) < 0)
		goto done;
	ly->wq = xreallocarray(NULL, (size_t)(qd * e), sizeof(float));
	ly->wk = xreallocarray(NULL, (size_t)(kvd * e), sizeof(float));
	ly->wv = xreallocarray(NULL, (size_t)(kvd * e), sizeof(float));
	ly->bq = xreallocarray(NULL, (size_t)qd, sizeof(float));
	ly->bk = xreallocarray(NULL, (size_t)kvd, sizeof(float));
	ly->bv = xreallocarray(NULL, (size_t)kvd, sizeof(float));
	memcpy(ly->wq, wqkv, (size_t)(qd * e) * sizeof(float));
	memcpy(ly->wk, wqkv + qd * e, (size_t)(kvd * e) * sizeof(float));
	memcpy(
	    ly->wv, wqkv + (qd + kvd) * e, (size_t)(kvd * e) * sizeof(float));
	memcpy(ly->bq, bqkv, (size_t)qd * sizeof(float));
	memcpy(ly->bk, bqkv + qd, (size_t)kvd * sizeof(float));
	memcpy(ly->bv, bqkv + qd + kvd, (size_t)kvd * sizeof(float));
	ly->k_cache = xreallocarray(NULL, (size_t)hp->n_ctx * kvd, 4);
	ly->v_cache = xreallocarray(NULL, (size_t)hp->n_ctx * kvd, 4);
done:
	free(wqkv);
	free(bqkv);
	return rc;
}

static int
ref_model_layer_load(const struct gguf *g, const struct ref_hparams *hp, int l,
    struct ref_layer *ly, struct err *err)
{
	uint64_t e = (uint64_t)hp->n_embd, f = (uint64_t)hp->n_ff;
	uint64_t qd = (uint64_t)hp->n_head * (uint64_t)hp->head_dim;
	uint64_t kvd = (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
	int rc;

	if (hp->gpt2)
		return ref_gpt2_layer_load(g, hp, l, ly, err);
	if ((rc = ref_layer_tensor(
		 g, l, "attn_norm.weight", e, 0, &ly->attn_norm, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "attn_q.weight", e, qd, &ly->wq, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "attn_k.weight", e, kvd, &ly->wk, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "attn_v.weight", e, kvd, &ly->wv, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "attn_output.weight", qd, e, &ly->wo, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "ffn_norm.weight", e, 0, &ly->ffn_norm, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "ffn_gate.weight", e, f, &ly->w_gate, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "ffn_up.weight", e, f, &ly->w_up, err)) < 0 ||
	    (rc = ref_layer_tensor(
		 g, l, "ffn_down.weight", f, e, &ly->w_down, err)) < 0)
		return rc;
	if (hp->has_bias &&
	    ((rc = ref_layer_tensor(g, l, "attn_q.bias", qd, 0, &ly->bq, err)) <
		    0 ||
		(rc = ref_layer_tensor(
		     g, l, "attn_k.bias", kvd, 0, &ly->bk, err)) < 0 ||
		(rc = ref_layer_tensor(
		     g, l, "attn_v.bias", kvd, 0, &ly->bv, err)) < 0))
		return rc;
	if (hp->qk_norm &&
	    ((rc = ref_layer_tensor(g, l, "attn_q_norm.weight",
		  (uint64_t)hp->head_dim, 0, &ly->q_norm, err)) < 0 ||
		(rc = ref_layer_tensor(g, l, "attn_k_norm.weight",
		     (uint64_t)hp->head_dim, 0, &ly->k_norm, err)) < 0))
		return rc;
	if (hp->gemma3 &&
	    ((rc = ref_layer_tensor(g, l, "post_attention_norm.weight", e, 0,
		  &ly->post_attn, err)) < 0 ||
		(rc = ref_layer_tensor(g, l, "post_ffw_norm.weight", e, 0,
		     &ly->post_ffw, err)) < 0))
		return rc;
	ly->k_cache = xreallocarray(NULL, (size_t)hp->n_ctx * kvd, 4);
	ly->v_cache = xreallocarray(NULL, (size_t)hp->n_ctx * kvd, 4);
	return 0;
}

int
ref_model_load(
    const struct gguf *g, int n_ctx, struct ref_model **out, struct err *err)
{
	struct ref_model *m = xcalloc(1, sizeof(*m));
	struct ref_hparams *hp = &m->hp;
	uint64_t e;
	int l, rc;

	if ((rc = ref_model_hparams_read(g, n_ctx, hp, err)) < 0)
		goto fail;
	e = (uint64_t)hp->n_embd;
	if ((rc = ref_tensor(g, "token_embd.weight", e, (uint64_t)hp->n_vocab,
		 &m->tok_embd, err)) < 0 ||
	    (rc = ref_tensor(
		 g, "output_norm.weight", e, 0, &m->output_norm, err)) < 0)
		goto fail;
	if (hp->gpt2 &&
	    ((rc = ref_tensor(g, "position_embd.weight", e,
		  (uint64_t)hp->n_ctx_train, &m->pos_embd, err)) < 0 ||
		(rc = ref_tensor(
		     g, "output_norm.bias", e, 0, &m->output_norm_b, err)) < 0))
		goto fail;
	if (hp->tied)
		m->output = m->tok_embd;
	else if ((rc = ref_tensor(g, "output.weight", e, (uint64_t)hp->n_vocab,
		      &m->output, err)) < 0)
		goto fail;
	if (hp->has_freq_factors &&
	    (rc = ref_tensor(g, "rope_freqs.weight", (uint64_t)hp->n_rot / 2, 0,
		 &m->freq_factors, err)) < 0)
		goto fail;
	m->layers = xcalloc((size_t)hp->n_layer, sizeof(*m->layers));
	for (l = 0; l < hp->n_layer; l++)
		if ((rc = ref_model_layer_load(g, hp, l, &m->layers[l], err)) <
		    0)
			goto fail;
	m->x = xcalloc((size_t)hp->n_embd, sizeof(float));
	m->xb = xcalloc((size_t)hp->n_embd, sizeof(float));
	m->q =
	    xcalloc((size_t)hp->n_head * (size_t)hp->head_dim, sizeof(float));
	m->att =
	    xcalloc((size_t)hp->n_head * (size_t)hp->head_dim, sizeof(float));
	m->hb = xcalloc((size_t)hp->n_ff, sizeof(float));
	m->hb2 = xcalloc((size_t)hp->n_ff, sizeof(float));
	m->sc = xcalloc((size_t)hp->n_ctx, sizeof(float));
	*out = m;
	return 0;
fail:
	ref_model_free(m);
	return rc;
}

void
ref_model_free(struct ref_model *m)
{
	int l;

	if (m == NULL)
		return;
	if (m->layers != NULL) {
		for (l = 0; l < m->hp.n_layer; l++) {
			struct ref_layer *ly = &m->layers[l];

			free(ly->attn_norm);
			free(ly->wq);
			free(ly->wk);
			free(ly->wv);
			free(ly->bq);
			free(ly->bk);
			free(ly->bv);
			free(ly->q_norm);
			free(ly->k_norm);
			free(ly->post_attn);
			free(ly->post_ffw);
			free(ly->wo);
			free(ly->ffn_norm);
			free(ly->w_gate);
			free(ly->w_up);
			free(ly->w_down);
			free(ly->k_cache);
			free(ly->v_cache);
			free(ly->attn_norm_b);
			free(ly->ffn_norm_b);
			free(ly->bo);
			free(ly->b_up);
			free(ly->b_down);
		}
		free(m->layers);
	}
	if (m->output != m->tok_embd)
		free(m->output);
	free(m->tok_embd);
	free(m->output_norm);
	free(m->freq_factors);
	free(m->pos_embd);
	free(m->output_norm_b);
	free(m->x);
	free(m->xb);
	free(m->q);
	free(m->att);
	free(m->hb);
	free(m->hb2);
	free(m->sc);
	free(m);
}

int
ref_model_n_vocab(const struct ref_model *m)
{
	return m->hp.n_vocab;
}

const struct ref_hparams *
ref_model_hparams(const struct ref_model *m)
{
	return &m->hp;
}

/*
 * gpt2's forward pass for TOKEN at POS (checked by the caller), as
 * llama.cpp's gpt2 graph and modeling_gpt2.py: token plus position
 * embedding; per layer LayerNorm, Q|K|V with its bias, attention scaled
 * by 1 / sqrt(head_dim) without rope, output product plus bias into the
 * residual, LayerNorm, up plus bias, GELU, down plus bias into the
 * residual; the final LayerNorm and the head.
 */
static void
ref_gpt2_eval(struct ref_model *m, int32_t token, int pos, float *logits)
{
	const struct ref_hparams *hp = &m->hp;
	size_t n_embd = (size_t)hp->n_embd, n_ff = (size_t)hp->n_ff;
	size_t hd = (size_t)hp->head_dim;
	size_t qd = (size_t)hp->n_head * hd, kvd = (size_t)hp->n_head_kv * hd;
	size_t i;
	int l;

	for (i = 0; i < n_embd; i++)
		m->x[i] = m->tok_embd[(size_t)token * n_embd + i] +
		    m->pos_embd[(size_t)pos * n_embd + i];
	for (l = 0; l < hp->n_layer; l++) {
		struct ref_layer *ly = &m->layers[l];
		float *k = ly->k_cache + (size_t)pos * kvd;
		float *v = ly->v_cache + (size_t)pos * kvd;

		ref_layernorm(m->x, ly->attn_norm, ly->attn_norm_b, m->xb,
		    n_embd, hp->rms_eps);
		ref_matvec(ly->wq, m->xb, m->q, qd, n_embd);
		ref_matvec(ly->wk, m->xb, k, kvd, n_embd);
		ref_matvec(ly->wv, m->xb, v, kvd, n_embd);
		for (i = 0; i < qd; i++)
			m->q[i] += ly->bq[i];
		for (i = 0; i < kvd; i++) {
			k[i] += ly->bk[i];
			v[i] += ly->bv[i];
		}
		ref_attention_sc(m->q, ly->k_cache, ly->v_cache, m->att,
		    (size_t)hp->n_head, (size_t)hp->n_head_kv, hd,
		    (size_t)pos + 1, hp->attn_scale, m->sc);
		ref_matvec(ly->wo, m->att, m->xb, n_embd, qd);
		for (i = 0; i < n_embd; i++)
			m->x[i] += m->xb[i] + ly->bo[i];
		ref_layernorm(m->x, ly->ffn_norm, ly->ffn_norm_b, m->xb, n_embd,
		    hp->rms_eps);
		ref_matvec(ly->w_up, m->xb, m->hb, n_ff, n_embd);
		for (i = 0; i < n_ff; i++)
			m->hb[i] += ly->b_up[i];
		ref_gelu(m->hb, n_ff);
		ref_matvec(ly->w_down, m->hb, m->xb, n_embd, n_ff);
		for (i = 0; i < n_embd; i++)
			m->x[i] += m->xb[i] + ly->b_down[i];
	}
	ref_layernorm(
	    m->x, m->output_norm, m->output_norm_b, m->xb, n_embd, hp->rms_eps);
	ref_matvec(m->output, m->xb, logits, (size_t)hp->n_vocab, n_embd);
}

int
ref_model_eval(struct ref_model *m, int32_t token, int pos, float *logits)
{
	const struct ref_hparams *hp = &m->hp;
	size_t n_embd = (size_t)hp->n_embd, n_ff = (size_t)hp->n_ff;
	size_t hd = (size_t)hp->head_dim;
	size_t qd = (size_t)hp->n_head * hd, kvd = (size_t)hp->n_head_kv * hd;
	size_t i;
	int l;

	if (token < 0 || token >= hp->n_vocab || pos < 0 || pos >= hp->n_ctx)
		return ERR_RANGE;
	if (hp->gpt2) {
		ref_gpt2_eval(m, token, pos, logits);
		return 0;
	}
	memcpy(
	    m->x, m->tok_embd + (size_t)token * n_embd, n_embd * sizeof(float));
	if (hp->gemma3)
		for (i = 0; i < n_embd; i++)
			m->x[i] = (float)(m->x[i] * sqrt((double)n_embd));
	for (l = 0; l < hp->n_layer; l++) {
		struct ref_layer *ly = &m->layers[l];
		float *k = ly->k_cache + (size_t)pos * kvd;
		float *v = ly->v_cache + (size_t)pos * kvd;
		/* gemma3's local layers: 5 of every 6, a window, rope 10k */
		int local = hp->gemma3 && l % 6 < 5;
		float base = local ? 10000.0f : hp->freq_base;
		float fscale = local ? 1.0f : hp->freq_scale;
		int first =
		    local && pos + 1 > hp->n_swa ? pos + 1 - hp->n_swa : 0;

		ref_rmsnorm(m->x, ly->attn_norm, m->xb, n_embd, hp->rms_eps);
		ref_matvec(ly->wq, m->xb, m->q, qd, n_embd);
		ref_matvec(ly->wk, m->xb, k, kvd, n_embd);
		ref_matvec(ly->wv, m->xb, v, kvd, n_embd);
		if (hp->has_bias) {
			for (i = 0; i < qd; i++)
				m->q[i] += ly->bq[i];
			for (i = 0; i < kvd; i++) {
				k[i] += ly->bk[i];
				v[i] += ly->bv[i];
			}
		}
		if (hp->qk_norm) {
			for (i = 0; i < (size_t)hp->n_head; i++)
				ref_rmsnorm(m->q + i * hd, ly->q_norm,
				    m->q + i * hd, hd, hp->rms_eps);
			for (i = 0; i < (size_t)hp->n_head_kv; i++)
				ref_rmsnorm(k + i * hd, ly->k_norm, k + i * hd,
				    hd, hp->rms_eps);
		}
		(hp->neox ? ref_rope_neox : ref_rope_ext)(m->q,
		    (size_t)hp->n_head, hd, (size_t)hp->n_rot, pos, base,
		    fscale, m->freq_factors);
		(hp->neox ? ref_rope_neox : ref_rope_ext)(k,
		    (size_t)hp->n_head_kv, hd, (size_t)hp->n_rot, pos, base,
		    fscale, m->freq_factors);
		ref_attention_sc(m->q, ly->k_cache + (size_t)first * kvd,
		    ly->v_cache + (size_t)first * kvd, m->att,
		    (size_t)hp->n_head, (size_t)hp->n_head_kv, hd,
		    (size_t)(pos + 1 - first), hp->attn_scale, m->sc);
		ref_matvec(ly->wo, m->att, m->xb, n_embd, qd);
		if (hp->gemma3)
			ref_rmsnorm(
			    m->xb, ly->post_attn, m->xb, n_embd, hp->rms_eps);
		for (i = 0; i < n_embd; i++)
			m->x[i] += m->xb[i];

		ref_rmsnorm(m->x, ly->ffn_norm, m->xb, n_embd, hp->rms_eps);
		ref_matvec(ly->w_gate, m->xb, m->hb, n_ff, n_embd);
		ref_matvec(ly->w_up, m->xb, m->hb2, n_ff, n_embd);
		(hp->gemma3 ? ref_gelu_mul : ref_silu_mul)(
		    m->hb, m->hb2, m->hb, n_ff);
		ref_matvec(ly->w_down, m->hb, m->xb, n_embd, n_ff);
		if (hp->gemma3)
			ref_rmsnorm(
			    m->xb, ly->post_ffw, m->xb, n_embd, hp->rms_eps);
		for (i = 0; i < n_embd; i++)
			m->x[i] += m->xb[i];
	}
	ref_rmsnorm(m->x, m->output_norm, m->xb, n_embd, hp->rms_eps);
	ref_matvec(m->output, m->xb, logits, (size_t)hp->n_vocab, n_embd);
	return 0;
}
