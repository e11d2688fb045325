/*
 * arch: the table of architectures the engine runs, one entry each.
 *
 * An entry says everything that differs between architectures: the name
 * in general.architecture (also the key prefix, "qwen2.block_count"),
 * how its hyperparameters are read (the shared keys in arch.c, then the
 * entry's own hook for its defaults, extra keys and checks), its tensor
 * lists (names, shapes in terms of the hyperparameters, which are
 * optional), and its recorders: the token embedding, one layer (fused
 * where the device allows, step by step otherwise) and the final norm.
 * model.c validates and uploads from the tensor lists; engine.c keeps
 * the KV cache, the step graphs and the batch API and calls the
 * recorders through struct arch_rec.
 *
 * Families: llama, qwen2, qwen3 share the llama block (arch-llama.c);
 * gemma3 is that block with post-norms, scaled embeddings and sliding
 * windows (also arch-llama.c); gpt2 has its own (arch-gpt2.c).
 * docs/ARCHITECTURE.md says how to add one.
 *
 * The hyperparameter reading is host-only (no device), so tests may
 * share it.  Threads: any; the table is constant.
 */
#ifndef VKCHAT_ARCH_H
#define VKCHAT_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gguf.h"
#include "kern.h"
#include "model.h"

/* The tensors of one layer (slots of model_layer_tensors' array). */
enum arch_slot {
	ARCH_T_ATTN_NORM,
	ARCH_T_ATTN_NORM_B,
	ARCH_T_Q,
	ARCH_T_K,
	ARCH_T_V,
	ARCH_T_QKV, /* Q|K|V as one matrix (gpt2) */
	ARCH_T_BQ,
	ARCH_T_BK,
	ARCH_T_BV,
	ARCH_T_BQKV,
	ARCH_T_QN,
	ARCH_T_KN,
	ARCH_T_O,
	ARCH_T_BO,
	ARCH_T_PA,
	ARCH_T_FFN_NORM,
	ARCH_T_FFN_NORM_B,
	ARCH_T_GATE,
	ARCH_T_UP,
	ARCH_T_BUP,
	ARCH_T_DOWN,
	ARCH_T_BDOWN,
	ARCH_T_PF,
	ARCH_T_COUNT,
};

/* The model-wide tensors. */
enum arch_gslot {
	ARCH_G_TOK_EMBD,
	ARCH_G_POS_EMBD,
	ARCH_G_OUTPUT_NORM,
	ARCH_G_OUTPUT_NORM_B,
	ARCH_G_OUTPUT,
	ARCH_G_ROPE_FREQS,
	ARCH_G_COUNT,
};

/* A tensor dimension in terms of the hyperparameters. */
enum arch_dim {
	ARCH_D_NONE, /* as the second: a vector */
	ARCH_D_EMBD,
	ARCH_D_FF,
	ARCH_D_Q,    /* n_head * head_dim */
	ARCH_D_KV,   /* n_head_kv * head_dim */
	ARCH_D_QKV,  /* q_dim + 2 kv_dim */
	ARCH_D_HEAD, /* head_dim */
	ARCH_D_VOCAB,
	ARCH_D_CTX,  /* n_ctx_train */
	ARCH_D_ROT2, /* n_rot / 2 */
};

/* One entry of a tensor list ("blk.N." + name for layer tensors). */
struct arch_tensor {
	int slot;
	const char *name;
	enum arch_dim d0, d1;
	int optional; /* absent: its slot is NULL */
};

/*
 * What a recorder works on: the engine's buffers for a step of N tokens
 * (rows padded as model_hparams says; see engine.c for their shapes).
 * Per layer the engine sets KC, VC (that layer's caches), ROPE and ATTN.
 */
struct arch_rec {
	struct kern *k;
	struct vk_graph *g;
	const struct model *m;
	uint32_t n;	     /* tokens in the step */
	struct vk_view tok;  /* their step records */
	struct kern_mat x;   /* (n, embd_pad) the residual stream */
	struct kern_mat xn;  /* (n, embd_pad) a sub-block's normed input */
	struct kern_mat qkv; /* (n, qkv_w) Q | K | V */
	struct kern_mat att; /* (n, q_pad) attention output */
	struct kern_mat gu;  /* (n, gu_w) gate | up, or the up rows */
	struct vk_view kc, vc;
	const struct kern_rope *rope;
	const struct kern_attn *attn;
};

struct arch {
	const char *name; /* general.architecture and key prefix */
	const char *family;
	int rope_neox; /* rope pairs (x[i], x[i + n_rot/2]), see model.h */
	/* After the shared keys: defaults, extra keys and checks. */
	int (*hparams)(
	    const struct gguf *g, struct model_hparams *hp, struct err *err);
	const struct arch_tensor *globals;
	size_t n_globals;
	const struct arch_tensor *layer;
	size_t n_layer;
	/* x = the embeddings of the step's tokens. */
	int (*embed)(const struct arch_rec *r, struct err *err);
	/* Layer L: FUSED when arch_fusable said so. */
	int (*record_layer)(
	    const struct arch_rec *r, uint32_t l, int fused, struct err *err);
	/* Y = the final norm of N rows of X (in place allowed). */
	int (*out_norm)(const struct arch_rec *r, struct kern_mat x,
	    struct kern_mat y, uint32_t n, struct err *err);
	/* Whether the head may norm x itself (kern_mul_mat_fused's RMSNorm). */
	int head_fused_norm;
};

/* The entry named NAME (LEN bytes), or NULL. */
const struct arch *arch_find(const char *name, size_t len);

/* The names of every entry, comma separated, into BUF (for messages). */
void arch_names(char *buf, size_t size);

/*
 * Read G's hyperparameters into *HP (cleared first): the architecture,
 * the shared keys, then the entry's own hook.  Host only.  Errors:
 * ERR_UNSUPPORTED (an architecture not in the table, naming it and the
 * known ones; rope scaling other than linear), ERR_MODEL (a missing
 * key, a value out of range), ERR_FORMAT (a key of the wrong type).
 */
int arch_hparams_read(
    const struct gguf *g, struct model_hparams *hp, struct err *err);

/*
 * A required (REQUIRED set) or optional integer key "ARCH.SUFFIX" in
 * [1, 2^24] (DEF when absent), and an optional finite float (DEF when
 * absent), for the entries' hooks.
 */
int arch_hp_int(const struct gguf *g, const char *suffix, uint32_t def,
    int required, uint32_t *out, struct err *err);
int arch_hp_float(const struct gguf *g, const char *suffix, float def,
    float *out, struct err *err);

/* The value of dimension D for HP, 0 for ARCH_D_NONE. */
uint64_t arch_dim_value(const struct model_hparams *hp, enum arch_dim d);

/*
 * Find and check the tensors of list LIST (N entries) for HP: each at
 * OUT[slot] (NULL when optional and absent; slots not in the list are
 * NULL too; OUT has room for COUNT slots).  Layer lists name "blk.L."
 * tensors (L >= 0), the model-wide list L < 0.  Errors as
 * model_validate's.
 */
int arch_tensors(const struct gguf *g, const struct model_hparams *hp,
    const struct arch_tensor *list, size_t n, int l,
    const struct gguf_tensor **out, size_t count, struct err *err);

/*
 * Whether layer L runs fused for the step's N tokens (see engine.c): Q|K|V
 * and gate|up one matrix each that kern_fusable takes, even head size,
 * a norm of a multiple of 4.
 */
int arch_fusable(const struct arch_rec *r, uint32_t l);

/* The recorders of the llama family and gemma3 (arch-llama.c). */
int arch_llama_hparams(
    const struct gguf *g, struct model_hparams *hp, struct err *err);
int arch_gemma3_hparams(
    const struct gguf *g, struct model_hparams *hp, struct err *err);
int arch_llama_embed(const struct arch_rec *r, struct err *err);
int arch_llama_layer(
    const struct arch_rec *r, uint32_t l, int fused, struct err *err);
int arch_llama_out_norm(const struct arch_rec *r, struct kern_mat x,
    struct kern_mat y, uint32_t n, struct err *err);

/* gpt2's (arch-gpt2.c). */
int arch_gpt2_hparams(
    const struct gguf *g, struct model_hparams *hp, struct err *err);
int arch_gpt2_embed(const struct arch_rec *r, struct err *err);
int arch_gpt2_layer(
    const struct arch_rec *r, uint32_t l, int fused, struct err *err);
int arch_gpt2_out_norm(const struct arch_rec *r, struct kern_mat x,
    struct kern_mat y, uint32_t n, struct err *err);

#endif
