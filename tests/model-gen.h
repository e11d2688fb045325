/*
 * model-gen: random-weight llama, qwen2, qwen3 and gemma3 models for the
 * engine tests.  Writes a complete GGUF (llama, qwen2, qwen3 or gemma3
 * architecture,
 * hyperparameters, a small synthetic
 * SentencePiece-style vocabulary, every tensor) through the project's GGUF
 * writer, deterministically from a seed: the same seed and shape give the
 * same file on every machine, whatever the weight type, so a quantized
 * model and its F32 twin hold the same underlying weights.
 */
#ifndef VKCHAT_MODEL_GEN_H
#define VKCHAT_MODEL_GEN_H

#include <stdint.h>

#include "err.h"

/*
 * The model's shape.  Zero in an optional field means its default.  For the
 * block types (Q8_0, Q4_0) n_embd, n_ff and n_head * head_dim must be
 * multiples of 32, for the K-quants (Q4_K, Q5_K, Q6_K and the mixes
 * below) multiples of 256.
 */
struct modelgen_shape {
	int n_vocab;   /* >= 259: <unk>, <s>, </s>, 256 byte tokens, pieces */
	int n_embd;    /* embedding length */
	int n_layer;   /* blocks */
	int n_head;    /* query heads */
	int n_head_kv; /* kv heads (divides n_head); 0: n_head */
	int n_ff;      /* feed-forward length */
	/*
	 * Head size; 0: n_embd / n_head.  When it differs from that,
	 * attention.key_length/value_length are written.
	 */
	int head_dim;
	int tied;	  /* no output.weight: token_embd is the head */
	int n_ctx;	  /* context_length; 0: 2048 */
	float freq_base;  /* rope.freq_base; 0: 10000 */
	float rope_scale; /* linear rope scaling factor; 0: none */
	float rms_eps;	  /* 0: 1e-5 */
	int n_swa;	  /* gemma3's attention.sliding_window; 0: 512 */
	int n_tok;	  /* tokens of the tokenizer; 0: n_vocab (another
			     number makes a file that must be refused) */
};

/*
 * Weight "types" for modelgen_write that mix types per tensor as
 * llama.cpp's Q4_K_M and Q5_K_M files do: Q4_K (Q5_K) matrices with
 * output.weight and every ffn_down.weight in Q6_K.
 */
#define MODELGEN_MIX_Q4_K_M 0x10000u
#define MODELGEN_MIX_Q5_K_M 0x10001u
/*
 * MODELGEN_MIX_Q4_K_M with llama.cpp's fallbacks for rows that are not
 * a multiple of 256 (only of 32): Q5_0 for Q4_K, Q8_0 for Q6_K.
 */
#define MODELGEN_MIX_Q4_K_FB 0x10002u

/*
 * Write a llama GGUF of SHAPE to PATH with every 2-D matrix (token_embd
 * and output included) in WEIGHT_TYPE (F32, F16, BF16, Q8_0, Q4_0, Q4_1,
 * Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, or a MODELGEN_MIX_*; norms are always F32), weights drawn from SEED.  Weights are approximately
 * N(0, 1/fan_in) (the output head scaled so logits have a spread of a few
 * units), norm weights near 1.  Returns 0, ERR_USAGE for a bad shape or
 * type (the message says which field), or ERR_IO.
 */
int modelgen_write(const char *path, const struct modelgen_shape *shape,
    uint32_t weight_type, uint64_t seed, struct err *err);

/*
 * modelgen_write for architecture ARCH: "llama", "qwen2" (the same keys
 * prefixed "qwen2.", plus random attn_q/k/v.bias vectors, N(0, 0.25),
 * after the same weights as the llama twin's), "qwen3" (keys prefixed
 * "qwen3.", no biases, attn_q_norm and attn_k_norm vectors of head_dim
 * values, 1 + 0.5 z) or "gemma3" (qwen3's tensors, plus
 * post_attention_norm and post_ffw_norm vectors of n_embd values, 1 +
 * 0.5 z, and the key attention.sliding_window) or "gpt2" (llama.cpp's
 * GPT-2 layout: position_embd of n_ctx rows, LayerNorms with biases,
 * one attn_qkv matrix and bias, biases on every product, no gate;
 * rms_eps is written as attention.layer_norm_epsilon).  ERR_USAGE for
 * another ARCH.
 */
int modelgen_write_arch(const char *path, const struct modelgen_shape *shape,
    const char *arch, uint32_t weight_type, uint64_t seed, struct err *err);

/* The name of weight type TYPE (a ggml type or a MODELGEN_MIX_*). */
const char *modelgen_type_name(uint32_t type);
/* Token I of a fixed, seed-independent test sequence of N_VOCAB. */
int32_t modelgen_token(int i, int n_vocab);

#endif
