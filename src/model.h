/*
 * model: a llama-architecture model (Llama 2/3.x, TinyLlama, Mistral,
 * SmolLM2: general.architecture = "llama"), a Qwen2 / Qwen2.5 model
 * ("qwen2"), a dense Qwen3 model ("qwen3"), a Gemma 3 text model
 * ("gemma3") or a GPT-2 model ("gpt2") read from a GGUF file and uploaded to a Vulkan device for
 * the engine.
 *
 * Architectures: the table in arch.c (arch.h).  Keys are read with the
 * architecture's prefix ("qwen2.block_count").  qwen2 differs from llama
 * in two ways: Q, K and V have bias vectors (blk.N.attn_q.bias etc.,
 * required), uploaded as one f32 row Q|K|V that the engine adds after the
 * product; and its rope is ggml's NEOX mode, rotating (x[i], x[i +
 * n_rot/2]).  The engine's kernels only rotate adjacent pairs, so the
 * rows of Q and K (weights and biases) are permuted at upload within
 * each head, NEOX pair i moving to rows (2i, 2i+1): rope then rotates
 * the same pairs, and attention, which only takes dot products of a Q
 * head with a K head permuted alike, is unchanged (V is not permuted).
 * qwen3 has no biases but NEOX rope too, and normalizes each Q and K
 * head (RMSNorm over its head_dim values, the model's eps) times
 * blk.N.attn_q_norm / attn_k_norm (head_dim values each, required)
 * before rope; the head's RMS does not depend on the order of its
 * values, but the elementwise weight does, so the norm vectors are
 * permuted like the rows of their heads.  Its head size is
 * attention.key_length (128), which need not be n_embd / n_head.
 * gemma3 is qwen3's attention (NEOX rope, per-head Q/K norms, head size
 * attention.key_length: 256 on Gemma 3 1B) in a different block:
 * embeddings times sqrt(n_embd); the attention output and the
 * feed-forward output are each RMS-normed (blk.N.post_attention_norm,
 * blk.N.post_ffw_norm, required) before they join the residual stream;
 * the gate is GELU's tanh approximation, not SiLU; scores are scaled by
 * 1 / sqrt(head_dim) (1 / sqrt(n_embd / n_head) for the 62-layer 27B,
 * as llama.cpp does).  Layers alternate five sliding-window layers and
 * one global one (layer l slides unless (l + 1) % 6 == 0): a sliding
 * layer attends to the last attention.sliding_window positions only
 * (required) and rotates with base 10000, no scaling; global layers
 * attend to everything with rope.freq_base and the rope scaling (linear
 * 8 on 4B and larger).  The file's norm weights already include Gemma's
 * +1 (llama.cpp's converter adds it), so every norm is x / rms(x) * w;
 * the head is token_embd (tied), and Gemma 3 has no logit soft-capping.
 * gpt2 (arch-gpt2.c has its block) has learned position embeddings
 * (pos_embd), LayerNorms with biases, one attn_qkv matrix uploaded as a
 * one-part Q|K|V group with its bias as qkv_bias, biases on the output,
 * up and down products, and an up-only feed-forward group (gu_w =
 * ff_pad); its context may not exceed n_ctx_train (ctx_limit).
 *
 * Loading has two phases.  model_validate reads and checks everything on
 * the host (hyperparameters, every tensor's presence, shape and type),
 * so a bad file is reported before any device is opened.  model_load
 * then uploads the weights: matrices through kern_weight_upload (split
 * into bindings the device allows), Q/K/V and gate/up concatenated into
 * one matrix each when their types agree (one product per group in the
 * step graph; gate and up each padded with zero rows to ff_pad, so up
 * row i is row ff_pad + i), norm vectors as f32.  Float matrices whose rows are not a
 * multiple of 32 values (stories260K's feed-forward of 172) are padded
 * with zero columns; the engine's activation rows are padded to match
 * (model_hparams.*_pad).
 *
 * Rope: rope.freq_base (default 10000), linear scaling (rope.scaling.type
 * "linear" or absent, factor rope.scaling.factor or rope.scale_linear;
 * "none" turns it off) and per-pair frequency factors (rope_freqs.weight,
 * Llama 3.1); other scaling types (YaRN) are ERR_UNSUPPORTED.  The output
 * head is output.weight, or token_embd.weight when absent (tied).
 *
 * A model is read-only once loaded; the engine (engine.h) keeps the KV
 * cache and the step graphs.  Threads: the engine thread only.
 */
#ifndef VKCHAT_MODEL_H
#define VKCHAT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gguf.h"
#include "kern.h"
#include "vk-buf.h"
#include "vk-device.h"

struct arch;

struct model_hparams {
	const struct arch *def; /* its entry in the table (arch.h) */
	const char *arch; /* "llama", "qwen2", "qwen3", "gemma3": key prefix */
	int rope_neox;	  /* NEOX rope: pairs (x[i], x[i + n_rot/2]) */
	int has_bias;	  /* attn_q/k/v.bias (qwen2) */
	int has_qk_norm;  /* attn_q_norm, attn_k_norm (qwen3, gemma3) */
	int has_post_norms; /* post_attention_norm, post_ffw_norm (gemma3) */
	int gelu;	    /* GELU (tanh) gate instead of SiLU (gemma3) */
	int layer_norm;	    /* norms are LayerNorms with biases (gpt2) */
	int ctx_limit;	    /* no context longer than n_ctx_train (gpt2) */
	float embd_scale;   /* embeddings times this: 1, sqrt(n_embd) */
	float attn_scale;   /* attention score scale */
	/*
	 * Sliding-window layers (gemma3): layer l slides unless
	 * (l + 1) % swa_pattern == 0 (swa_pattern 0: none does), attending
	 * to the last n_swa positions, with rope swa_freq_base and
	 * swa_freq_scale.
	 */
	uint32_t n_swa, swa_pattern;
	float swa_freq_base, swa_freq_scale;
	uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff;
	uint32_t head_dim;    /* key/value length per head */
	uint32_t n_rot;	      /* rotated dims per head */
	uint32_t n_ctx_train; /* llama.context_length, 0 when absent */
	float rms_eps;
	float freq_base;
	float freq_scale; /* 1 / linear scaling factor */
	int has_freq_factors;
	int tied; /* no output.weight: token_embd is the head */
	/* Derived: n_head * head_dim, n_head_kv * head_dim. */
	uint32_t q_dim, kv_dim;
	/* Activation row lengths padded to multiples of 32 values. */
	uint32_t embd_pad, q_pad, ff_pad;
	uint32_t gu_w; /* gate | up row: 2 ff_pad; ff_pad without a gate */
};

/* One matrix of a group written at column OFF of the group's output. */
struct model_part {
	struct kern_weight w;
	uint32_t off;
};

/* Up to three products that fill one activation row (Q|K|V, gate|up). */
struct model_group {
	struct model_part parts[3];
	size_t n_parts;
	uint32_t width; /* values per output row */
};

struct model_layer {
	struct vk_buf *attn_norm;   /* (n_embd) f32 */
	struct vk_buf *ffn_norm;    /* (n_embd) f32 */
	struct vk_buf *attn_norm_b; /* (n_embd) f32 LayerNorm bias, or NULL */
	struct vk_buf *ffn_norm_b;  /* (n_embd) f32 LayerNorm bias, or NULL */
	struct vk_buf *wo_b;	    /* (n_embd) f32 output bias, or NULL */
	struct vk_buf *up_b;	    /* (n_ff) f32 up bias, or NULL */
	struct vk_buf *down_b;	    /* (n_embd) f32 down bias, or NULL */
	struct model_group qkv;	    /* q_dim | kv_dim | kv_dim */
	struct vk_buf *qkv_bias;    /* (q_dim + 2 kv_dim) f32, or NULL */
	struct vk_buf *q_norm;	    /* (head_dim) f32, NEOX-permuted, or NULL */
	struct vk_buf *k_norm;	    /* (head_dim) f32, NEOX-permuted, or NULL */
	struct vk_buf *post_attn_norm; /* (n_embd) f32, or NULL */
	struct vk_buf *post_ffn_norm;  /* (n_embd) f32, or NULL */
	struct kern_weight wo;	       /* (n_embd, q_pad) */
	struct model_group gu; /* gate (ff_pad) | up (ff_pad or n_ff), or up */
	struct kern_weight down; /* (n_embd, ff_pad) */
};

struct model {
	struct vk_device *dev; /* not owned */
	struct kern *kern;     /* not owned */
	struct model_hparams hp;
	char *path;
	struct kern_weight tok_embd;  /* (n_vocab, embd_pad) */
	struct kern_weight output;    /* (n_vocab, embd_pad); unused if tied */
	struct kern_weight pos_embd;  /* (n_ctx_train, embd_pad), or empty */
	struct vk_buf *output_norm;   /* (n_embd) f32 */
	struct vk_buf *output_norm_b; /* (n_embd) f32, or NULL */
	struct vk_buf *freq_factors;  /* (n_rot / 2) f32, or NULL */
	struct model_layer *layers;
	uint64_t weight_bytes; /* everything uploaded */
	uint64_t decode_bytes; /* weights one decode step reads */
};

/*
 * Upload progress: DONE of TOTAL weight bytes are on the device.  Called
 * after each tensor.
 */
typedef void (*model_progress_fn)(void *ud, uint64_t done, uint64_t total);

/*
 * Read and check G's hyperparameters and tensors without a device.
 * Errors: ERR_UNSUPPORTED (another architecture, a tensor type the
 * kernels do not run, naming the tensor and type; rope scaling other
 * than linear), ERR_MODEL (a missing key or tensor, a tensor of the
 * wrong shape: the message names it with the expected and found shapes;
 * inconsistent hyperparameters), ERR_FORMAT (a key of the wrong type).
 */
int model_validate(
    const struct gguf *g, struct model_hparams *hp, struct err *err);

/*
 * Validate G and upload its weights to DEV (K's device); PROGRESS (may be NULL)
 * is told as tensors arrive.  G may be closed afterwards.  *out is a new
 * model (model_free), which must be freed before K and its device.
 * Errors: those of model_validate, and ERR_NOMEM (device memory, with
 * the sizes) or ERR_DEVICE from the upload.
 */
int model_load(struct vk_device *dev, struct kern *k, const struct gguf *g,
    model_progress_fn progress, void *ud, struct model **out, struct err *err);

/* Free M and its device buffers.  NULL is ignored. */
void model_free(struct model *m);

/* The head the model uses (output, or token_embd when tied). */
const struct kern_weight *model_head(const struct model *m);

/* Whether layer L of a model of HP is a sliding-window layer. */
int model_layer_swa(const struct model_hparams *hp, uint32_t l);

#endif
