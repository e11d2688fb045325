/*
 * arch-gpt2: GPT-2 (general.architecture "gpt2", as llama.cpp writes
 * it): hyperparameter hook and recorders.  See arch.h.
 *
 * The block (llama.cpp's gpt2 graph, Hugging Face's modeling_gpt2.py):
 *   x = token_embd[token] + position_embd[pos]
 *   per layer:
 *     h = LayerNorm(x) * attn_norm + attn_norm.bias
 *     q|k|v = attn_qkv h + attn_qkv.bias     (one matrix, split by rows)
 *     a = causal attention, scores times 1 / sqrt(head_dim), no rope
 *     x = x + attn_output a + attn_output.bias
 *     h = LayerNorm(x) * ffn_norm + ffn_norm.bias
 *     x = x + ffn_down gelu(ffn_up h + ffn_up.bias) + ffn_down.bias
 *   logits = head (LayerNorm(x) * output_norm + output_norm.bias)
 * LayerNorm subtracts the mean (ggml_norm), epsilon
 * gpt2.attention.layer_norm_epsilon (1e-5 in GPT-2 files); GELU is the
 * tanh form (ggml_gelu); the head is output.weight or, absent, the
 * token embeddings (tied).  Positions are learned: position_embd has
 * context_length rows, so no context may be longer (engine.c refuses).
 *
 * A layer is 12 dispatches: layernorm, Q|K|V product, bias add,
 * kv_store, attention, output product accumulated into x, bias add,
 * layernorm, up product, bias add, gelu, down product accumulated into
 * x, bias add.  No fused variant: the fused kernels' norm is RMSNorm
 * and their epilogues rope, which GPT-2 has not.
 */
#include "arch.h"

#include <inttypes.h>
#include <math.h>

int
arch_gpt2_hparams(
    const struct gguf *g, struct model_hparams *hp, struct err *err)
{
	int rc;

	if (hp->n_ctx_train == 0)
		return err_set(err, ERR_MODEL,
		    "%s: missing key 'gpt2.context_length' (the rows of the "
		    "position embeddings)",
		    gguf_path(g));
	rc = gguf_get_arch_f32(
	    g, "attention.layer_norm_epsilon", &hp->rms_eps, err);
	if (rc == ERR_NOTFOUND)
		return err_set(err, ERR_MODEL,
		    "%s: missing key 'gpt2.attention.layer_norm_epsilon'",
		    gguf_path(g));
	if (rc < 0)
		return rc;
	if (!(hp->rms_eps >= 0.0f && hp->rms_eps < 1.0f))
		return err_set(err, ERR_MODEL,
		    "%s: layer norm epsilon %g is out of range", gguf_path(g),
		    (double)hp->rms_eps);
	hp->layer_norm = 1;
	hp->ctx_limit = 1;
	hp->n_rot = 0;
	hp->freq_base = 10000.0f;
	hp->freq_scale = 1.0f;
	hp->gu_w = hp->ff_pad;
	return 0;
}

int
arch_gpt2_embed(const struct arch_rec *r, struct err *err)
{
	const struct model *m = r->m;
	int rc;

	if ((rc = kern_get_rows(
		 r->k, r->g, &m->tok_embd, r->tok, r->x, r->n, err)) < 0)
		return rc;
	return kern_get_rows_pos_add(
	    r->k, r->g, &m->pos_embd, r->tok, r->x, r->n, err);
}

int
arch_gpt2_out_norm(const struct arch_rec *r, struct kern_mat x,
    struct kern_mat y, uint32_t n, struct err *err)
{
	const struct model_hparams *hp = &r->m->hp;
	struct vk_view w = vk_buf_all(r->m->output_norm);
	struct vk_view b = vk_buf_all(r->m->output_norm_b);

	return kern_layernorm(
	    r->k, r->g, x, &w, &b, y, hp->n_embd, n, hp->rms_eps, err);
}

/* Y[t] += B (one row of COLS f32 for every token). */
static int
arch_gpt2_bias(const struct arch_rec *r, struct kern_mat y,
    const struct vk_buf *b, uint32_t cols, struct err *err)
{
	struct kern_mat bm;

	bm.view = vk_buf_all(b);
	bm.off = 0;
	bm.stride = 0;
	return kern_add(r->k, r->g, y, bm, y, cols, r->n, err);
}

/* Column OFF of R's matrix M. */
static struct kern_mat
arch_gpt2_col(struct kern_mat m, uint32_t off)
{
	m.off += off;
	return m;
}

/* Record GR's products (one matrix, or parts) from X into OUT. */
static int
arch_gpt2_group(const struct arch_rec *r, const struct model_group *gr,
    struct kern_mat x, struct kern_mat out, struct err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < gr->n_parts; i++)
		if ((rc = kern_mul_mat(r->k, r->g, &gr->parts[i].w, x,
			 arch_gpt2_col(out, gr->parts[i].off), r->n, 0, err)) <
		    0)
			return rc;
	return 0;
}

int
arch_gpt2_layer(
    const struct arch_rec *r, uint32_t l, int fused, struct err *err)
{
	const struct model_hparams *hp = &r->m->hp;
	const struct model_layer *ly = &r->m->layers[l];
	struct vk_view an = vk_buf_all(ly->attn_norm);
	struct vk_view ab = vk_buf_all(ly->attn_norm_b);
	struct vk_view fn = vk_buf_all(ly->ffn_norm);
	struct vk_view fb = vk_buf_all(ly->ffn_norm_b);
	struct kern_mat k = arch_gpt2_col(r->qkv, hp->q_dim);
	struct kern_mat v = arch_gpt2_col(r->qkv, hp->q_dim + hp->kv_dim);
	uint32_t qkv_w = hp->q_dim + 2 * hp->kv_dim;
	int rc;

	(void)fused;
	if ((rc = kern_layernorm(r->k, r->g, r->x, &an, &ab, r->xn, hp->n_embd,
		 r->n, hp->rms_eps, err)) < 0 ||
	    (rc = arch_gpt2_group(r, &ly->qkv, r->xn, r->qkv, err)) < 0 ||
	    (rc = arch_gpt2_bias(r, r->qkv, ly->qkv_bias, qkv_w, err)) < 0 ||
	    (rc = kern_kv_store(r->k, r->g, r->tok, k, v, r->kc, r->vc,
		 hp->kv_dim, r->n, err)) < 0 ||
	    (rc = kern_attention(r->k, r->g, r->tok, r->qkv, r->kc, r->vc,
		 r->att, r->attn, r->n, err)) < 0 ||
	    (rc = kern_mul_mat(
		 r->k, r->g, &ly->wo, r->att, r->x, r->n, 1, err)) < 0 ||
	    (rc = arch_gpt2_bias(r, r->x, ly->wo_b, hp->n_embd, err)) < 0 ||
	    (rc = kern_layernorm(r->k, r->g, r->x, &fn, &fb, r->xn, hp->n_embd,
		 r->n, hp->rms_eps, err)) < 0 ||
	    (rc = arch_gpt2_group(r, &ly->gu, r->xn, r->gu, err)) < 0 ||
	    (rc = arch_gpt2_bias(r, r->gu, ly->up_b, hp->n_ff, err)) < 0 ||
	    (rc = kern_gelu(r->k, r->g, r->gu, r->gu, hp->n_ff, r->n, err)) <
		0 ||
	    (rc = kern_mul_mat(
		 r->k, r->g, &ly->down, r->gu, r->x, r->n, 1, err)) < 0)
		return rc;
	return arch_gpt2_bias(r, r->x, ly->down_b, hp->n_embd, err);
}
