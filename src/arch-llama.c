/*
 * arch-llama: the llama block (llama, qwen2, qwen3) and gemma3's variant
 * of it: hyperparameter hooks and recorders.  See arch.h and model.h.
 *
 * A layer, fused (arch_fusable: the matrix-vector kernel takes the
 * step's products): Q|K|V product of the RMS-normed x with rope and the
 * KV store in its epilogue, attention, output product accumulated into
 * x, gate|up product of the normed x with silu * up in its epilogue,
 * down product accumulated into x (5 dispatches).  Where something
 * comes between the Q|K|V product and rope (qwen2's bias add; qwen3's
 * per-head rmsnorm of the Q heads and of the K heads) the product only
 * stores, and those steps, rope and kv_store follow as dispatches of
 * their own (8 for qwen2, 9 for qwen3).  Otherwise step by step:
 * rmsnorm, Q|K|V product, the same Q|K|V steps, attention, output
 * product accumulated into x, rmsnorm, gate|up product, silu_mul, down
 * product accumulated into x (10 dispatches; 11 with the biases, 12 with
 * the Q/K norms).  gemma3 changes four things: the embeddings are scaled
 * in get_rows; the output and down products cannot accumulate into x,
 * as their results are RMS-normed first (post-norms), so they go to xn
 * and an rmsnorm adds them to x (11 dispatches fused, 14 step by step);
 * the gate is GELU (the epilogue's or gelu_mul); and each layer has its
 * own rope (base and scale) and attention window (the engine passes
 * them).
 */
#include "arch.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "gguf.h"

#define ARCH_LLAMA_KEY_MAX 96

/*
 * Gemma 3's layers: five sliding-window layers, then a global one
 * (llama.cpp's set_swa_pattern(6)); the sliding ones rotate with base
 * 10000, unscaled.
 */
#define ARCH_GEMMA3_SWA_PATTERN 6
#define ARCH_GEMMA3_SWA_FREQ_BASE 10000.0f
/* The 27B's query_pre_attn_scalar is n_embd / n_head (llama.cpp). */
#define ARCH_GEMMA3_27B_LAYERS 62

/* Rope scaling as llama.cpp reads it: "none" or "linear" (the default). */
static int
arch_llama_rope_scaling(
    const struct gguf *g, const char *arch, float *freq_scale, struct err *err)
{
	char key[ARCH_LLAMA_KEY_MAX];
	const struct gguf_kv *kv;
	float factor;
	int rc;

	snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
	kv = gguf_find(g, key);
	rc = arch_hp_float(g, "rope.scaling.factor", 0.0f, &factor, err);
	if (rc == 0 && factor == 0.0f)
		rc = arch_hp_float(g, "rope.scale_linear", 0.0f, &factor, err);
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

/* Whether the entry of HP lists a layer tensor in SLOT. */
static int
arch_llama_lists(const struct model_hparams *hp, int slot)
{
	size_t i;

	for (i = 0; i < hp->def->n_layer; i++)
		if (hp->def->layer[i].slot == slot)
			return 1;
	return 0;
}

int
arch_llama_hparams(
    const struct gguf *g, struct model_hparams *hp, struct err *err)
{
	const char *a = hp->arch;
	int rc;

	hp->rope_neox = hp->def->rope_neox;
	hp->has_bias = arch_llama_lists(hp, ARCH_T_BQ);
	hp->has_qk_norm = arch_llama_lists(hp, ARCH_T_QN);
	if ((rc = arch_hp_int(g, "rope.dimension_count", hp->head_dim, 0,
		 &hp->n_rot, err)) < 0)
		return rc;
	if (hp->n_rot > hp->head_dim || hp->n_rot % 2 != 0)
		return err_set(err, ERR_MODEL,
		    "%s: rope dimension count %" PRIu32
		    " must be even and at most the head size %" PRIu32,
		    gguf_path(g), hp->n_rot, hp->head_dim);
	rc = gguf_get_arch_f32(
	    g, "attention.layer_norm_rms_epsilon", &hp->rms_eps, err);
	if (rc == ERR_NOTFOUND)
		return err_set(err, ERR_MODEL,
		    "%s: missing key '%s.attention.layer_norm_rms_epsilon'",
		    gguf_path(g), a);
	if (rc < 0)
		return rc;
	if (!(hp->rms_eps >= 0.0f && hp->rms_eps < 1.0f))
		return err_set(err, ERR_MODEL,
		    "%s: rms epsilon %g is out of range", gguf_path(g),
		    (double)hp->rms_eps);
	if ((rc = arch_hp_float(
		 g, "rope.freq_base", 10000.0f, &hp->freq_base, err)) < 0)
		return rc;
	if (!(hp->freq_base > 0.0f))
		return err_set(err, ERR_MODEL,
		    "%s: rope frequency base %g is not positive", gguf_path(g),
		    (double)hp->freq_base);
	if ((rc = arch_llama_rope_scaling(g, a, &hp->freq_scale, err)) < 0)
		return rc;
	hp->has_freq_factors = gguf_tensor_find(g, "rope_freqs.weight") != NULL;
	return 0;
}

int
arch_gemma3_hparams(
    const struct gguf *g, struct model_hparams *hp, struct err *err)
{
	int rc;

	if ((rc = arch_llama_hparams(g, hp, err)) < 0)
		return rc;
	hp->has_post_norms = 1;
	hp->gelu = 1;
	hp->embd_scale = sqrtf((float)hp->n_embd);
	if (hp->n_layer == ARCH_GEMMA3_27B_LAYERS)
		hp->attn_scale = 1.0f / sqrtf((float)(hp->n_embd / hp->n_head));
	hp->swa_pattern = ARCH_GEMMA3_SWA_PATTERN;
	hp->swa_freq_base = ARCH_GEMMA3_SWA_FREQ_BASE;
	hp->swa_freq_scale = 1.0f;
	return arch_hp_int(
	    g, "attention.sliding_window", 0, 1, &hp->n_swa, err);
}

int
arch_llama_embed(const struct arch_rec *r, struct err *err)
{
	const struct model *m = r->m;

	return kern_get_rows_scaled(r->k, r->g, &m->tok_embd, r->tok, r->x,
	    r->n, m->hp.embd_scale, err);
}

int
arch_llama_out_norm(const struct arch_rec *r, struct kern_mat x,
    struct kern_mat y, uint32_t n, struct err *err)
{
	const struct model_hparams *hp = &r->m->hp;
	struct vk_view on = vk_buf_all(r->m->output_norm);

	return kern_rmsnorm(
	    r->k, r->g, x, &on, y, hp->n_embd, n, hp->rms_eps, err);
}

/* Column OFF of buffer B's rows of STRIDE values. */
static struct kern_mat
arch_llama_mat(const struct kern_mat *b, uint32_t off)
{
	struct kern_mat m = *b;

	m.off += off;
	return m;
}

/*
 * Whether rope and the KV store can run in the Q|K|V product's epilogue:
 * no Q|K|V biases (qwen2) to add and no Q/K heads to norm (qwen3: a
 * head's norm needs all its values) before rope.
 */
static int
arch_llama_rope_fusable(const struct model_layer *ly)
{
	return ly->qkv_bias == NULL && ly->q_norm == NULL;
}

/*
 * Record what follows layer L's Q|K|V product when rope is not in its
 * epilogue: the bias add, the per-head Q and K norms (those the layer
 * has), rope over the Q and K heads, kv_store.
 */
static int
arch_llama_qkv_steps(const struct arch_rec *r, uint32_t l, struct err *err)
{
	const struct model_hparams *hp = &r->m->hp;
	const struct model_layer *ly = &r->m->layers[l];
	struct kern_mat q = r->qkv;
	struct kern_mat k = arch_llama_mat(&r->qkv, hp->q_dim);
	struct kern_mat v = arch_llama_mat(&r->qkv, hp->q_dim + hp->kv_dim);
	struct kern_mat bias;
	uint32_t qkv_w = hp->q_dim + 2 * hp->kv_dim;
	struct vk_view qn, kn;
	int rc;

	if (ly->qkv_bias != NULL) {
		bias.view = vk_buf_all(ly->qkv_bias);
		bias.off = 0;
		bias.stride = 0; /* one row for every token */
		if ((rc = kern_add(r->k, r->g, q, bias, q, qkv_w, r->n, err)) <
		    0)
			return rc;
	}
	if (ly->q_norm != NULL) {
		qn = vk_buf_all(ly->q_norm);
		kn = vk_buf_all(ly->k_norm);
		if ((rc = kern_rmsnorm_heads(r->k, r->g, q, &qn, q,
			 hp->head_dim, hp->n_head, r->n, hp->rms_eps, err)) <
			0 ||
		    (rc = kern_rmsnorm_heads(r->k, r->g, k, &kn, k,
			 hp->head_dim, hp->n_head_kv, r->n, hp->rms_eps, err)) <
			0)
			return rc;
	}
	if ((rc = kern_rope(r->k, r->g, r->tok, q, r->rope, r->n, err)) < 0)
		return rc;
	return kern_kv_store(
	    r->k, r->g, r->tok, k, v, r->kc, r->vc, hp->kv_dim, r->n, err);
}

/*
 * Record x += W in (the output and down products): the product
 * accumulated into x, or with a post-norm POST (gemma3) the product into
 * xn and xn RMS-normed times POST added to x.
 */
static int
arch_llama_residual(const struct arch_rec *r, const struct kern_weight *w,
    struct kern_mat in, const struct vk_buf *post, struct err *err)
{
	const struct model_hparams *hp = &r->m->hp;
	struct vk_view pv;
	int rc;

	if (post == NULL)
		return kern_mul_mat(r->k, r->g, w, in, r->x, r->n, 1, err);
	pv = vk_buf_all(post);
	if ((rc = kern_mul_mat(r->k, r->g, w, in, r->xn, r->n, 0, err)) < 0)
		return rc;
	return kern_rmsnorm_add(
	    r->k, r->g, r->xn, &pv, r->x, hp->n_embd, r->n, hp->rms_eps, err);
}

/* Record products of group GR from X into OUT's rows. */
static int
arch_llama_group(const struct arch_rec *r, const struct model_group *gr,
    struct kern_mat x, struct kern_mat out, struct err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < gr->n_parts; i++) {
		rc = kern_mul_mat(r->k, r->g, &gr->parts[i].w, x,
		    arch_llama_mat(&out, gr->parts[i].off), r->n, 0, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Layer L fused into five dispatches (8, 9 or 11; see the top). */
static int
arch_llama_fused(const struct arch_rec *r, uint32_t l, struct err *err)
{
	const struct model_hparams *hp = &r->m->hp;
	const struct model_layer *ly = &r->m->layers[l];
	struct vk_view an = vk_buf_all(ly->attn_norm);
	struct vk_view fn = vk_buf_all(ly->ffn_norm);
	struct kern_fuse fq = {
		.norm = &an,
		.n_norm = hp->n_embd,
		.eps = hp->rms_eps,
		.epi = KERN_EPI_ROPE_KV,
		.tok = r->tok,
		.kc = r->kc,
		.vc = r->vc,
		.rope = r->rope,
		.q_dim = hp->q_dim,
		.kv_dim = hp->kv_dim,
	};
	struct kern_fuse fg = {
		.norm = &fn,
		.n_norm = hp->n_embd,
		.eps = hp->rms_eps,
		.epi = hp->gelu ? KERN_EPI_GELU : KERN_EPI_SILU,
	};
	int rc;

	if (!arch_llama_rope_fusable(ly))
		fq.epi = KERN_EPI_STORE;
	if ((rc = kern_mul_mat_fused(r->k, r->g, &ly->qkv.parts[0].w, r->x,
		 r->qkv, r->n, 0, &fq, err)) < 0 ||
	    (fq.epi == KERN_EPI_STORE &&
		(rc = arch_llama_qkv_steps(r, l, err)) < 0) ||
	    (rc = kern_attention(r->k, r->g, r->tok, r->qkv, r->kc, r->vc,
		 r->att, r->attn, r->n, err)) < 0 ||
	    (rc = arch_llama_residual(
		 r, &ly->wo, r->att, ly->post_attn_norm, err)) < 0 ||
	    (rc = kern_mul_mat_fused(r->k, r->g, &ly->gu.parts[0].w, r->x,
		 r->gu, r->n, 0, &fg, err)) < 0)
		return rc;
	return arch_llama_residual(r, &ly->down, r->gu, ly->post_ffn_norm, err);
}

/* Layer L step by step (10 to 14 dispatches). */
static int
arch_llama_steps(const struct arch_rec *r, uint32_t l, struct err *err)
{
	const struct model_hparams *hp = &r->m->hp;
	const struct model_layer *ly = &r->m->layers[l];
	struct vk_view an = vk_buf_all(ly->attn_norm);
	struct vk_view fn = vk_buf_all(ly->ffn_norm);
	struct kern_mat up = arch_llama_mat(&r->gu, hp->ff_pad);
	int rc;

	if ((rc = kern_rmsnorm(r->k, r->g, r->x, &an, r->xn, hp->n_embd, r->n,
		 hp->rms_eps, err)) < 0 ||
	    (rc = arch_llama_group(r, &ly->qkv, r->xn, r->qkv, err)) < 0 ||
	    (rc = arch_llama_qkv_steps(r, l, err)) < 0 ||
	    (rc = kern_attention(r->k, r->g, r->tok, r->qkv, r->kc, r->vc,
		 r->att, r->attn, r->n, err)) < 0 ||
	    (rc = arch_llama_residual(
		 r, &ly->wo, r->att, ly->post_attn_norm, err)) < 0 ||
	    (rc = kern_rmsnorm(r->k, r->g, r->x, &fn, r->xn, hp->n_embd, r->n,
		 hp->rms_eps, err)) < 0 ||
	    (rc = arch_llama_group(r, &ly->gu, r->xn, r->gu, err)) < 0 ||
	    (rc = (hp->gelu ? kern_gelu_mul : kern_silu_mul)(
		 r->k, r->g, r->gu, up, r->gu, hp->n_ff, r->n, err)) < 0)
		return rc;
	return arch_llama_residual(r, &ly->down, r->gu, ly->post_ffn_norm, err);
}

int
arch_llama_layer(
    const struct arch_rec *r, uint32_t l, int fused, struct err *err)
{
	return fused ? arch_llama_fused(r, l, err)
		     : arch_llama_steps(r, l, err);
}
