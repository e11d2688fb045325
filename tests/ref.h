/*
 * ref: the scalar C reference implementation (the correctness oracle).
 * Plain loops over dequantized f32 weights (dot products and sums are
 * accumulated in double, so the oracle's own rounding error is far below
 * any kernel's): every shader has a reference here, and ref_model runs the
 * whole llama forward pass.
 *
 * Layouts: matrices are row-major as stored in GGUF (a weight with
 * ne = {cols, rows} has ROWS rows of COLS contiguous elements); y = W x
 * means y[r] = sum_c W[r][c] x[c].
 */
#ifndef VKCHAT_REF_H
#define VKCHAT_REF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gguf.h"

/* y[i] = x[i] * w[i] / sqrt(mean(x^2) + eps), i < n. */
void ref_rmsnorm(const float *x, const float *w, float *y, size_t n, float eps);
/* y = (x - mean(x)) / sqrt(var(x) + eps) * w + b (LayerNorm, gpt2). */
void ref_layernorm(const float *x, const float *w, const float *b, float *y,
    size_t n, float eps);
/* x = gelu(x) in place, GELU's tanh form with no gate (gpt2's MLP). */
void ref_gelu(float *x, size_t n);
/* y = W x with W (rows x cols) in f32. */
void ref_matvec(
    const float *w, const float *x, float *y, size_t rows, size_t cols);
/*
 * Rotary embedding in place on N_HEADS heads of HEAD_DIM floats at
 * position POS, rotating adjacent pairs (x[2i], x[2i+1]) of the first N_ROT
 * dims of each head (ggml's "normal" mode, used by llama GGUFs) with
 * theta_i = pos * freq_scale * freq_base^(-2i/n_rot).
 */
void ref_rope(float *x, size_t n_heads, size_t head_dim, size_t n_rot, int pos,
    float freq_base, float freq_scale);
/*
 * ref_rope with per-pair frequency divisors FREQ_FACTORS (n_rot / 2
 * floats, the GGUF's rope_freqs.weight, Llama 3.1-style scaling; NULL for
 * none): theta_i = pos * freq_scale * freq_base^(-2i/n_rot) / factor[i].
 */
void ref_rope_ext(float *x, size_t n_heads, size_t head_dim, size_t n_rot,
    int pos, float freq_base, float freq_scale, const float *freq_factors);
/*
 * ref_rope_ext in ggml's NEOX mode (qwen2): rotates the pairs (x[i],
 * x[i + n_rot/2]), i < n_rot/2, of each head by theta_i as above.
 */
void ref_rope_neox(float *x, size_t n_heads, size_t head_dim, size_t n_rot,
    int pos, float freq_base, float freq_scale, const float *freq_factors);
/*
 * Causal attention of one query position over N_KV cached positions:
 * q (n_head x head_dim), k and v caches (n_kv x n_head_kv x head_dim),
 * out (n_head x head_dim); head h uses kv head h / (n_head / n_head_kv);
 * scores scaled by 1/sqrt(head_dim), softmax with the maximum subtracted.
 */
void ref_attention(const float *q, const float *k, const float *v, float *out,
    size_t n_head, size_t n_head_kv, size_t head_dim, size_t n_kv);
/* y[i] = silu(g[i]) * u[i]. */
void ref_silu_mul(const float *g, const float *u, float *y, size_t n);
/*
 * y[i] = gelu(g[i]) * u[i], GELU's tanh approximation as ggml_gelu
 * computes it: gelu(v) = v / 2 * (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))).
 */
void ref_gelu_mul(const float *g, const float *u, float *y, size_t n);
/* Index of the largest element (the first one on ties). */
size_t ref_argmax(const float *x, size_t n);

/*
 * The whole llama forward pass over a GGUF file (the llama architecture,
 * F32/F16/BF16/Q8_0/Q4_0 weights), with its own f32 KV cache (the engine's
 * is f16: compare with a tolerance that covers it).  Heap object.
 *
 * Supported: general.architecture "llama", "qwen2", "qwen3" and
 * "gemma3" (keys prefixed with the architecture; qwen2 adds the required
 * blk.N.attn_q/k/v.bias vectors after the projections and rotates with
 * ref_rope_neox; qwen3 rotates with ref_rope_neox too, after an RMSNorm
 * of each Q and K head over its head_dim values times the required
 * blk.N.attn_q_norm / attn_k_norm weights; gemma3 does what qwen3 does
 * and, as llama.cpp's Gemma 3 graph: embeddings times sqrt(n_embd), the
 * attention and feed-forward outputs RMS-normed times the required
 * blk.N.post_attention_norm / post_ffw_norm before they are added, a
 * GELU (tanh) gate, scores times 1 / sqrt(head_dim) (1 / sqrt(n_embd /
 * n_head) with 62 layers), and layers l with l % 6 < 5 attending only
 * to the last attention.sliding_window (required) positions with rope
 * base 10000 unscaled, the others to all with the file's rope; gpt2
 * is its own block, see ref_gpt2_eval in ref.c: position_embd,
 * LayerNorms with biases (attention.layer_norm_epsilon), one attn_qkv
 * matrix and bias split into Q, K, V, biases on every product, a GELU
 * MLP, no rope, and no context longer than context_length);
 * embedding_length,
 * block_count, attention.head_count, attention.head_count_kv (default
 * head_count), feed_forward_length, attention.layer_norm_rms_epsilon
 * (required), attention.key_length / value_length (default n_embd /
 * n_head; must be equal), rope.freq_base (default 10000),
 * rope.dimension_count (default head_dim, even, <= head_dim), rope scaling
 * "none" or "linear" (rope.scaling.type, default linear as in llama.cpp,
 * with factor rope.scaling.factor or the older rope.scale_linear;
 * freq_scale = 1 / factor), and a rope_freqs.weight tensor (per-pair
 * frequency divisors).  YaRN and other scaling types are refused
 * (ERR_UNSUPPORTED).  The output head is output.weight, or
 * token_embd.weight when that is absent (tied).
 */
struct ref_model;

/* The hyperparameters ref_model_load read (after defaults). */
struct ref_hparams {
	int n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, head_dim;
	int n_rot;	      /* rotated dims per head */
	int n_ctx_train;      /* llama.context_length (0 when absent) */
	int n_ctx;	      /* the KV cache's length */
	float rms_eps;	      /* attention.layer_norm_rms_epsilon */
	float freq_base;      /* rope.freq_base */
	float freq_scale;     /* 1 / linear scaling factor */
	int has_freq_factors; /* rope_freqs.weight present */
	int tied;	      /* no output.weight: token_embd is the head */
	int neox;	      /* qwen2: NEOX rope */
	int has_bias;	      /* qwen2: Q, K, V biases */
	int qk_norm;	      /* qwen3, gemma3: per-head Q and K RMSNorm */
	int gemma3;	      /* gemma3's block (see above) */
	int n_swa;	      /* gemma3: attention.sliding_window */
	int gpt2;	      /* gpt2's block (see above) */
	double attn_scale;    /* attention score scale */
};

/*
 * Load G's weights (dequantized to f32; G may be closed afterwards) with a
 * KV cache of N_CTX positions (N_CTX <= 0: llama.context_length capped at
 * 4096, or 4096 when that is absent).  On success *OUT is a new model owned by the
 * caller.  Errors: ERR_UNSUPPORTED (another architecture, tensor type or
 * rope scaling), ERR_MODEL (a missing key or tensor, or a tensor of the
 * wrong shape: the message names it with the expected and found shapes),
 * ERR_FORMAT (a key of the wrong type).
 */
int ref_model_load(
    const struct gguf *g, int n_ctx, struct ref_model **out, struct err *err);
void ref_model_free(struct ref_model *m);
int ref_model_n_vocab(const struct ref_model *m);
/* The model's hyperparameters, valid while M lives. */
const struct ref_hparams *ref_model_hparams(const struct ref_model *m);
/*
 * Evaluate token TOKEN at position POS (0, 1, 2, ... in order; POS <
 * n_ctx), appending to the KV cache; LOGITS (n_vocab floats) receives the
 * output.  Set POS back to an earlier value to rewind the cache.  Returns
 * 0, or ERR_RANGE (nothing evaluated) for a token or position out of
 * range.
 */
int ref_model_eval(struct ref_model *m, int32_t token, int pos, float *logits);

#endif
