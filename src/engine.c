/*
 * engine: KV cache, step graphs and the batch API.  See engine.h.
 *
 * Buffers (device-local unless said; rows padded as model_hparams says):
 *   step    host-visible: max_batch token records (struct kern_tok), then
 *           at out_off max_out output records whose .token is the row of
 *           the step's token whose logits are wanted
 *   x       (max_batch, embd_pad) the residual stream
 *   xn      (max_batch, embd_pad) normed input of a sub-block; with
 *           post-norms also a sub-block's output before its norm
 *   qkv     (max_batch, q_dim + 2 kv_dim) Q | K | V
 *   att     (max_batch, q_pad) attention output
 *   gu      (max_batch, gu_w) gate | up, then silu(gate) * up (or the
 *           up rows only, gpt2)
 *   xo      (max_out, embd_pad) the rows that get logits
 *   logits  readback (max_out, n_vocab); ids readback (max_out) argmax
 *   kc, vc  per layer (n_seq * n_ctx, kv_dim) f16; slot s * n_ctx + pos
 * The activation buffers are zeroed once: the padding columns of every
 * row stay zero because no kernel writes them, so padded (zero) weight
 * columns multiply zeros.
 *
 * A step graph: the architecture's embedding recorder, then per layer
 * its layer recorder (arch.h: fused when arch_fusable says the
 * matrix-vector kernel takes the step, step by step otherwise; the
 * dispatches per layer are described in arch-llama.c and arch-gpt2.c)
 * with the layer's caches, rope and attention window (sliding-window
 * layers: model_layer_swa).
 * Then the logits: when every token of the step wants them and the
 * architecture's final norm is an RMSNorm the head product norms x
 * itself; otherwise the wanted rows of x are gathered
 * (get_rows over x viewed as an f32 matrix) and normed first (the
 * entry's out_norm); the
 * products go to the readback logits, reduced to argmax ids.
 */
#include "engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "util.h"
#include "vk-graph.h"

#define ENGINE_GRAPHS 12
/* engine_prepare runs its graphs once on CPU devices up to this size */
#define ENGINE_WARM_MAX_BYTES (256ull << 20)
#define ENGINE_DEFAULT_CTX 4096
#define ENGINE_DEFAULT_BATCH 512
/*
 * CPU devices: a step of 64 prompt tokens takes about a second there,
 * so prompt progress and cancelling stay responsive (the matrix-vector
 * kernels take columns two at a time: larger steps gain nothing).
 */
#define ENGINE_CPU_BATCH 64
#define ENGINE_MAX_CTX (1u << 20)
#define ENGINE_MAX_SEQ 64

struct engine_graph {
	struct vk_graph *g;
	uint32_t n, n_out;
	uint64_t used; /* last use, for eviction */
	unsigned dispatches, barriers;
	int valid;
};

struct engine {
	struct model *m;
	struct vk_device *dev;
	struct kern *k;
	struct engine_config cfg;
	uint32_t qkv_w, gu_w;
	uint64_t out_off; /* byte offset of the output records in step */
	struct vk_buf *step, *x, *xn, *qkv, *att, *gu, *xo, *logits, *ids;
	struct vk_buf **kc, **vc; /* n_layer each */
	/* their views, with texel views where kern_texel_view makes them */
	struct vk_view *kcv, *vcv;
	struct kern_weight xw; /* x as an f32 matrix, for the gather */
	struct kern_weight_chunk xw_chunk;
	struct engine_graph graphs[ENGINE_GRAPHS];
	uint64_t clock;
	unsigned recorded;
	const struct engine_graph *last;
	uint32_t *seq_len; /* (n_seq) */
	uint32_t *len_tmp; /* (n_seq) scratch for batch checks */
	int32_t *seq_tok;  /* (n_seq, n_ctx) cached token ids */
	float *out_logits; /* (max_out, n_vocab) host copy */
	int32_t *out_ids;  /* (max_out) */
	size_t n_out;
	struct vk_buf_region *regions; /* (2 n_layer) fork scratch */
};

/* A buffer of SIZE bytes of KIND, zero-filled when ZERO is set. */
static int
engine_buf(struct engine *e, uint64_t size, enum vk_buf_kind kind,
    const char *label, int zero, struct vk_buf **out, struct err *err)
{
	void *z;
	int rc;

	rc = vk_buf_new(e->dev, size, kind, label, out, err);
	if (rc < 0 || !zero)
		return rc;
	z = xcalloc(1, (size_t)size);
	rc = vk_buf_upload(*out, 0, z, size, err);
	free(z);
	return rc;
}

static int
engine_config_resolve(
    struct engine *e, const struct engine_config *cfg, struct err *err)
{
	const struct model_hparams *hp = &e->m->hp;
	uint64_t max_view = vk_buf_max_view(e->dev), widest, kv;
	struct engine_config c = { 0 };

	if (cfg != NULL)
		c = *cfg;
	if (c.n_ctx == 0)
		c.n_ctx =
		    hp->n_ctx_train > 0 && hp->n_ctx_train < ENGINE_DEFAULT_CTX
		    ? hp->n_ctx_train
		    : ENGINE_DEFAULT_CTX;
	/* Learned positions (gpt2): no row beyond the trained context. */
	if (hp->ctx_limit && c.n_ctx > hp->n_ctx_train)
		return err_set(err, ERR_RANGE,
		    "context of %" PRIu32 " tokens is longer than the %" PRIu32
		    " positions %s models learn (use --ctx %" PRIu32
		    " or less)",
		    c.n_ctx, hp->n_ctx_train, hp->arch, hp->n_ctx_train);
	if (c.n_ctx > ENGINE_MAX_CTX)
		return err_set(err, ERR_RANGE,
		    "context of %" PRIu32 " tokens is too long (at most %u)",
		    c.n_ctx, ENGINE_MAX_CTX);
	if (c.n_seq == 0)
		c.n_seq = 1;
	if (c.n_seq > ENGINE_MAX_SEQ)
		return err_set(err, ERR_RANGE,
		    "%" PRIu32 " sequences are too many (at most %u)", c.n_seq,
		    ENGINE_MAX_SEQ);
	if (c.max_out == 0)
		c.max_out = c.n_seq > 8 ? c.n_seq : 8;
	if (c.max_batch == 0)
		c.max_batch = e->dev->info.cpu_kernels ? ENGINE_CPU_BATCH
						       : ENGINE_DEFAULT_BATCH;
	widest = e->qkv_w > e->gu_w ? e->qkv_w : e->gu_w;
	if (hp->embd_pad > widest)
		widest = hp->embd_pad;
	if ((uint64_t)c.max_batch * widest * 4 > max_view)
		c.max_batch = (uint32_t)(max_view / (widest * 4));
	if (c.max_out > c.max_batch)
		c.max_batch = c.max_out;
	if (c.max_batch == 0 ||
	    (uint64_t)c.max_out * hp->n_vocab * 4 > max_view)
		return err_set(err, ERR_RANGE,
		    "%" PRIu32 " rows of %" PRIu32
		    " logits exceed the device's binding limit of %llu bytes",
		    c.max_out, hp->n_vocab, (unsigned long long)max_view);
	kv = (uint64_t)c.n_seq * c.n_ctx * hp->kv_dim * 2;
	if (kv > max_view) {
		char a[32], b[32];

		return err_set(err, ERR_RANGE,
		    "the KV cache of one layer needs %s for %" PRIu32
		    " sequence(s) of %" PRIu32
		    " positions, more than the device binds (%s): use a "
		    "smaller --ctx",
		    util_bytes(kv, a, sizeof a), c.n_seq, c.n_ctx,
		    util_bytes(max_view, b, sizeof b));
	}
	e->cfg = c;
	return 0;
}

int
engine_new(struct model *m, const struct engine_config *cfg,
    struct engine **out, struct err *err)
{
	struct engine *e = xcalloc(1, sizeof *e);
	const struct model_hparams *hp = &m->hp;
	const struct engine_config *c = &e->cfg;
	uint64_t align, kv_layer;
	uint32_t l;
	int rc;

	*out = NULL;
	e->m = m;
	e->dev = m->dev;
	e->k = m->kern;
	e->qkv_w = hp->q_dim + 2 * hp->kv_dim;
	e->gu_w = hp->gu_w;
	if ((rc = engine_config_resolve(e, cfg, err)) < 0)
		goto fail;
	align = e->dev->info.storage_align;
	e->out_off =
	    ((uint64_t)c->max_batch * sizeof(struct kern_tok) + align - 1) /
	    align * align;
	kv_layer = (uint64_t)c->n_seq * c->n_ctx * hp->kv_dim * 2;
	e->kc = xcalloc(hp->n_layer, sizeof *e->kc);
	e->vc = xcalloc(hp->n_layer, sizeof *e->vc);
	e->kcv = xcalloc(hp->n_layer, sizeof *e->kcv);
	e->vcv = xcalloc(hp->n_layer, sizeof *e->vcv);
	if ((rc = engine_buf(e,
		 e->out_off + (uint64_t)c->max_out * sizeof(struct kern_tok),
		 VK_BUF_HOST, "step", 1, &e->step, err)) < 0 ||
	    (rc = engine_buf(e, (uint64_t)c->max_batch * hp->embd_pad * 4,
		 VK_BUF_DEVICE, "residual", 1, &e->x, err)) < 0 ||
	    (rc = engine_buf(e, (uint64_t)c->max_batch * hp->embd_pad * 4,
		 VK_BUF_DEVICE, "normed", 1, &e->xn, err)) < 0 ||
	    (rc = engine_buf(e, (uint64_t)c->max_batch * e->qkv_w * 4,
		 VK_BUF_DEVICE, "qkv", 1, &e->qkv, err)) < 0 ||
	    (rc = engine_buf(e, (uint64_t)c->max_batch * hp->q_pad * 4,
		 VK_BUF_DEVICE, "attention", 1, &e->att, err)) < 0 ||
	    (rc = engine_buf(e, (uint64_t)c->max_batch * e->gu_w * 4,
		 VK_BUF_DEVICE, "feed-forward", 1, &e->gu, err)) < 0 ||
	    (rc = engine_buf(e, (uint64_t)c->max_out * hp->embd_pad * 4,
		 VK_BUF_DEVICE, "output rows", 1, &e->xo, err)) < 0 ||
	    (rc = engine_buf(e, (uint64_t)c->max_out * hp->n_vocab * 4,
		 VK_BUF_READBACK, "logits", 0, &e->logits, err)) < 0 ||
	    (rc = engine_buf(e, (uint64_t)c->max_out * 4, VK_BUF_READBACK,
		 "argmax", 0, &e->ids, err)) < 0)
		goto fail;
	for (l = 0; l < hp->n_layer; l++) {
		char name[64];

		snprintf(name, sizeof name, "KV cache K, layer %" PRIu32, l);
		rc = engine_buf(
		    e, kv_layer, VK_BUF_DEVICE, name, 0, &e->kc[l], err);
		if (rc < 0)
			goto fail;
		snprintf(name, sizeof name, "KV cache V, layer %" PRIu32, l);
		rc = engine_buf(
		    e, kv_layer, VK_BUF_DEVICE, name, 0, &e->vc[l], err);
		if (rc < 0)
			goto fail;
		e->kcv[l] = vk_buf_all(e->kc[l]);
		e->vcv[l] = vk_buf_all(e->vc[l]);
		if ((rc = kern_texel_view(e->k, &e->kcv[l], err)) < 0 ||
		    (rc = kern_texel_view(e->k, &e->vcv[l], err)) < 0)
			goto fail;
	}
	e->xw_chunk.view = vk_buf_all(e->x);
	e->xw_chunk.row0 = 0;
	e->xw_chunk.rows = c->max_batch;
	e->xw.type = GGML_TYPE_F32;
	e->xw.rows = c->max_batch;
	e->xw.cols = hp->embd_pad;
	e->xw.chunks = &e->xw_chunk;
	e->xw.n_chunks = 1;
	e->seq_len = xcalloc(c->n_seq, sizeof *e->seq_len);
	e->len_tmp = xcalloc(c->n_seq, sizeof *e->len_tmp);
	e->seq_tok = xreallocarray(
	    NULL, (size_t)c->n_seq * c->n_ctx, sizeof *e->seq_tok);
	e->out_logits = xreallocarray(
	    NULL, (size_t)c->max_out * hp->n_vocab, sizeof *e->out_logits);
	e->out_ids = xcalloc(c->max_out, sizeof *e->out_ids);
	e->regions = xcalloc(2 * (size_t)hp->n_layer, sizeof *e->regions);
	*out = e;
	return 0;
fail:
	engine_free(e);
	return rc;
}

void
engine_free(struct engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < ENGINE_GRAPHS; i++)
		vk_graph_free(e->graphs[i].g);
	if (e->kc != NULL)
		for (i = 0; i < e->m->hp.n_layer; i++) {
			vk_buf_texel_free(e->dev, e->kcv[i].texel);
			vk_buf_texel_free(e->dev, e->vcv[i].texel);
			vk_buf_free(e->kc[i]);
			vk_buf_free(e->vc[i]);
		}
	free(e->kc);
	free(e->vc);
	free(e->kcv);
	free(e->vcv);
	vk_buf_free(e->ids);
	vk_buf_free(e->logits);
	vk_buf_free(e->xo);
	vk_buf_free(e->gu);
	vk_buf_free(e->att);
	vk_buf_free(e->qkv);
	vk_buf_free(e->xn);
	vk_buf_free(e->x);
	vk_buf_free(e->step);
	free(e->seq_len);
	free(e->len_tmp);
	free(e->seq_tok);
	free(e->out_logits);
	free(e->out_ids);
	free(e->regions);
	free(e);
}

const struct engine_config *
engine_config(const struct engine *e)
{
	return &e->cfg;
}

uint32_t
engine_n_vocab(const struct engine *e)
{
	return e->m->hp.n_vocab;
}

uint64_t
engine_kv_bytes(const struct engine *e)
{
	return 2 * (uint64_t)e->m->hp.n_layer * e->kc[0]->size;
}

static struct kern_mat
engine_mat(const struct vk_buf *b, uint32_t off, uint32_t stride)
{
	struct kern_mat m = { vk_buf_all(b), off, stride };

	return m;
}

/*
 * Record the logits of N_OUT rows of the N tokens: when every token
 * wants them (N_OUT == N: the output records are then 0..N-1 in order)
 * the head product norms x itself; otherwise the rows are gathered
 * (get_rows over x viewed as an f32 matrix) and normed first.  Then
 * the device argmax.
 */
static int
engine_record_head(
    struct engine *e, const struct arch_rec *r, uint32_t n_out, struct err *err)
{
	const struct model *m = e->m;
	const struct model_hparams *hp = &m->hp;
	struct vk_view outv =
	    vk_buf_view(e->step, e->out_off, n_out * sizeof(struct kern_tok));
	struct kern_mat xo = engine_mat(e->xo, 0, hp->embd_pad);
	struct kern_mat lg = engine_mat(e->logits, 0, hp->n_vocab);
	struct vk_view on = vk_buf_all(m->output_norm);
	int rc;

	if (n_out == r->n && hp->def->head_fused_norm && hp->n_embd % 4 == 0 &&
	    kern_fusable(e->k, model_head(m), n_out)) {
		struct kern_fuse f = {
			.norm = &on,
			.n_norm = hp->n_embd,
			.eps = hp->rms_eps,
			.epi = KERN_EPI_STORE,
		};

		rc = kern_mul_mat_fused(
		    e->k, r->g, model_head(m), r->x, lg, n_out, 0, &f, err);
	} else if ((rc = kern_get_rows(
			e->k, r->g, &e->xw, outv, xo, n_out, err)) == 0 &&
	    (rc = hp->def->out_norm(r, xo, xo, n_out, err)) == 0) {
		rc = kern_mul_mat(
		    e->k, r->g, model_head(m), xo, lg, n_out, 0, err);
	}
	if (rc < 0)
		return rc;
	return kern_argmax(
	    e->k, r->g, lg, hp->n_vocab, vk_buf_all(e->ids), 0, n_out, err);
}

/* Record the step graph for N tokens and N_OUT logit rows into G. */
static int
engine_record(struct engine *e, struct vk_graph *g, uint32_t n, uint32_t n_out,
    struct err *err)
{
	const struct model *m = e->m;
	const struct model_hparams *hp = &m->hp;
	struct vk_view ff;
	struct kern_rope rope = { hp->n_head + hp->n_head_kv, hp->head_dim,
		hp->n_rot, hp->freq_base, hp->freq_scale, NULL };
	struct kern_rope swa_rope = rope;
	struct kern_attn attn = { hp->n_head, hp->n_head_kv, hp->head_dim,
		hp->attn_scale, 0 };
	struct kern_attn swa_attn = attn;
	struct arch_rec r = {
		.k = e->k,
		.g = g,
		.m = m,
		.n = n,
		.tok = vk_buf_view(e->step, 0, n * sizeof(struct kern_tok)),
		.x = engine_mat(e->x, 0, hp->embd_pad),
		.xn = engine_mat(e->xn, 0, hp->embd_pad),
		.qkv = engine_mat(e->qkv, 0, e->qkv_w),
		.att = engine_mat(e->att, 0, hp->q_pad),
		.gu = engine_mat(e->gu, 0, e->gu_w),
	};
	uint32_t l;
	int rc;

	if (m->freq_factors != NULL) {
		ff = vk_buf_all(m->freq_factors);
		rope.freq_factors = &ff;
	}
	/* Sliding-window layers: their own rope, the last n_swa positions. */
	swa_rope.freq_base = hp->swa_freq_base;
	swa_rope.freq_scale = hp->swa_freq_scale;
	swa_attn.window = hp->n_swa;
	if ((rc = vk_graph_begin(g, err)) < 0 ||
	    (rc = hp->def->embed(&r, err)) < 0)
		return rc;
	for (l = 0; l < hp->n_layer; l++) {
		int swa = model_layer_swa(hp, l);

		r.rope = swa ? &swa_rope : &rope;
		r.attn = swa ? &swa_attn : &attn;
		r.kc = e->kcv[l];
		r.vc = e->vcv[l];
		rc = hp->def->record_layer(&r, l, arch_fusable(&r, l), err);
		if (rc < 0)
			return rc;
	}
	if (n_out > 0 && (rc = engine_record_head(e, &r, n_out, err)) < 0)
		return rc;
	return vk_graph_end(g, err);
}

/* The recorded graph for N tokens and N_OUT rows, recording it if new. */
static int
engine_graph(struct engine *e, uint32_t n, uint32_t n_out,
    struct engine_graph **out, struct err *err)
{
	struct engine_graph *gr = NULL;
	size_t i;
	int rc;

	for (i = 0; i < ENGINE_GRAPHS; i++) {
		struct engine_graph *c = &e->graphs[i];

		if (c->valid && c->n == n && c->n_out == n_out) {
			c->used = ++e->clock;
			*out = c;
			return 0;
		}
		if (gr == NULL || !c->valid ||
		    (gr->valid && c->used < gr->used))
			gr = c;
	}
	gr->valid = 0;
	if (gr->g == NULL && (rc = vk_graph_new(e->dev, &gr->g, err)) < 0)
		return rc;
	if ((rc = engine_record(e, gr->g, n, n_out, err)) < 0)
		return rc;
	vk_graph_stats(gr->g, &gr->dispatches, &gr->barriers);
	gr->n = n;
	gr->n_out = n_out;
	gr->valid = 1;
	gr->used = ++e->clock;
	e->recorded++;
	*out = gr;
	return 0;
}

/*
 * Write the N tokens of BATCH into the step buffer (the tokens, and the
 * output records of those that want logits); returns how many do.
 */
static uint32_t
engine_step_fill(struct engine *e, const struct engine_tok *batch, uint32_t n)
{
	struct kern_tok *tok = e->step->map;
	struct kern_tok *outs =
	    (struct kern_tok *)((unsigned char *)e->step->map + e->out_off);
	uint32_t i, k = 0;

	for (i = 0; i < n; i++) {
		const struct engine_tok *t = &batch[i];

		tok[i].token = t->token;
		tok[i].pos = t->pos;
		tok[i].kv_base = (int32_t)((uint32_t)t->seq * e->cfg.n_ctx);
		tok[i].n_kv = t->pos + 1;
		if (t->logits) {
			memset(&outs[k], 0, sizeof outs[k]);
			outs[k++].token = (int32_t)i;
		}
	}
	return k;
}

/*
 * Run a step of N throw-away tokens, all with logits: id 0 at positions
 * 0.. of sequence 0, whose cache slots the next real tokens overwrite
 * before anything reads them (no sequence state changes).  On a CPU device
 * (llvmpipe) this is what compiles the pipelines' code: making a pipeline
 * only stores its shader, the first dispatch compiles it.
 */
static int
engine_warm(struct engine *e, uint32_t n, struct err *err)
{
	struct engine_tok batch[4];
	struct engine_graph *gr;
	uint32_t i, k;
	int rc;

	for (i = 0; i < n; i++)
		batch[i] = (struct engine_tok){ 0, 0, (int32_t)i, 1 };
	k = engine_step_fill(e, batch, n);
	if ((rc = engine_graph(e, n, k, &gr, err)) < 0)
		return rc;
	return vk_graph_run(gr->g, err);
}

int
engine_prepare(struct engine *e, int warm, struct err *err)
{
	const struct engine_config *c = &e->cfg;
	struct engine_graph *gr;
	uint32_t n;
	int rc;

	/*
	 * CPU devices: 1, 2 and 4 tokens, all with logits, use every
	 * variant of every kernel a step can use (products take 1, 2 or 4
	 * columns at a time, see kern.c; the other kernels have one).  A
	 * model over ENGINE_WARM_MAX_BYTES skips it: its steps cost more
	 * than the compiling they save.
	 */
	if (warm && e->dev->info.vk_type == VK_PHYSICAL_DEVICE_TYPE_CPU &&
	    e->m->weight_bytes <= ENGINE_WARM_MAX_BYTES)
		for (n = 1; n <= 4 && n <= c->max_batch && n <= c->max_out;
		     n *= 2)
			if ((rc = engine_warm(e, n, err)) < 0)
				return rc;
	if ((rc = engine_graph(e, 1, 1, &gr, err)) < 0)
		return rc;
	n = c->max_batch < 16 ? c->max_batch : 16;
	if (n > 1 && (rc = engine_graph(e, n, 1, &gr, err)) < 0)
		return rc;
	for (n = 2; n <= c->n_seq && n <= 8 && n <= c->max_out; n *= 2)
		if ((rc = engine_graph(e, n, n, &gr, err)) < 0)
			return rc;
	return 0;
}

/* Check BATCH against the sequences' state; nothing is changed. */
static int
engine_check(
    struct engine *e, const struct engine_tok *batch, size_t n, struct err *err)
{
	const struct engine_config *c = &e->cfg;
	size_t i, n_out = 0;

	memcpy(e->len_tmp, e->seq_len, c->n_seq * sizeof *e->len_tmp);
	for (i = 0; i < n; i++) {
		const struct engine_tok *t = &batch[i];

		if (t->token < 0 || (uint32_t)t->token >= e->m->hp.n_vocab)
			return err_set(err, ERR_RANGE,
			    "token %zu: id %" PRId32
			    " is outside the vocabulary "
			    "of %" PRIu32,
			    i, t->token, e->m->hp.n_vocab);
		if (t->seq < 0 || (uint32_t)t->seq >= c->n_seq)
			return err_set(err, ERR_RANGE,
			    "token %zu: sequence %" PRId32
			    " out of range (%" PRIu32 " sequences)",
			    i, t->seq, c->n_seq);
		if (t->pos < 0 || (uint32_t)t->pos != e->len_tmp[t->seq])
			return err_set(err, ERR_RANGE,
			    "token %zu: position %" PRId32
			    " of sequence %" PRId32 " is not its end (%" PRIu32
			    ")",
			    i, t->pos, t->seq, e->len_tmp[t->seq]);
		if ((uint32_t)t->pos >= c->n_ctx)
			return err_set(err, ERR_RANGE,
			    "the context is full: sequence %" PRId32
			    " has %" PRIu32
			    " tokens, the context holds %" PRIu32,
			    t->seq, e->len_tmp[t->seq], c->n_ctx);
		e->len_tmp[t->seq]++;
		n_out += t->logits != 0;
	}
	if (n_out > c->max_out)
		return err_set(err, ERR_RANGE,
		    "%zu logit rows asked for in one batch, at most %" PRIu32,
		    n_out, c->max_out);
	return 0;
}

/* Run one step of N tokens from BATCH, appending its logit rows. */
static int
engine_step(struct engine *e, const struct engine_tok *batch, uint32_t n,
    struct err *err)
{
	const struct model_hparams *hp = &e->m->hp;
	struct engine_graph *gr;
	uint32_t i, k = engine_step_fill(e, batch, n);
	int rc;

	if ((rc = engine_graph(e, n, k, &gr, err)) < 0 ||
	    (rc = vk_graph_run(gr->g, err)) < 0)
		return rc;
	e->last = gr;
	for (i = 0; i < n; i++) {
		const struct engine_tok *t = &batch[i];

		e->seq_tok[(size_t)t->seq * e->cfg.n_ctx + (size_t)t->pos] =
		    t->token;
		e->seq_len[t->seq] = (uint32_t)t->pos + 1;
	}
	if (k == 0)
		return 0;
	if ((rc = vk_buf_download(e->logits, 0,
		 e->out_logits + e->n_out * hp->n_vocab,
		 (uint64_t)k * hp->n_vocab * 4, err)) < 0 ||
	    (rc = vk_buf_download(
		 e->ids, 0, e->out_ids + e->n_out, (uint64_t)k * 4, err)) < 0)
		return rc;
	e->n_out += k;
	return 0;
}

int
engine_eval(
    struct engine *e, const struct engine_tok *batch, size_t n, struct err *err)
{
	size_t done = 0;
	int rc;

	e->n_out = 0;
	if ((rc = engine_check(e, batch, n, err)) < 0)
		return rc;
	while (done < n) {
		uint32_t step = n - done < e->cfg.max_batch
		    ? (uint32_t)(n - done)
		    : e->cfg.max_batch;

		if ((rc = engine_step(e, batch + done, step, err)) < 0)
			return rc;
		done += step;
	}
	return 0;
}

size_t
engine_n_out(const struct engine *e)
{
	return e->n_out;
}

const float *
engine_logits(const struct engine *e, size_t i)
{
	if (i >= e->n_out)
		return NULL;
	return e->out_logits + i * e->m->hp.n_vocab;
}

int32_t
engine_argmax(const struct engine *e, size_t i)
{
	if (i >= e->n_out)
		return -1;
	return e->out_ids[i];
}

uint32_t
engine_seq_len(const struct engine *e, int32_t seq)
{
	if (seq < 0 || (uint32_t)seq >= e->cfg.n_seq)
		return 0;
	return e->seq_len[seq];
}

const int32_t *
engine_seq_tokens(const struct engine *e, int32_t seq)
{
	if (seq < 0 || (uint32_t)seq >= e->cfg.n_seq)
		return NULL;
	return e->seq_tok + (size_t)seq * e->cfg.n_ctx;
}

int
engine_seq_truncate(
    struct engine *e, int32_t seq, uint32_t len, struct err *err)
{
	if (seq < 0 || (uint32_t)seq >= e->cfg.n_seq)
		return err_set(err, ERR_RANGE,
		    "sequence %" PRId32 " out of range (%" PRIu32 " sequences)",
		    seq, e->cfg.n_seq);
	if (len > e->seq_len[seq])
		return err_set(err, ERR_RANGE,
		    "cannot truncate sequence %" PRId32 " of %" PRIu32
		    " tokens to %" PRIu32,
		    seq, e->seq_len[seq], len);
	e->seq_len[seq] = len;
	return 0;
}

void
engine_seq_clear(struct engine *e, int32_t seq)
{
	if (seq >= 0 && (uint32_t)seq < e->cfg.n_seq)
		e->seq_len[seq] = 0;
}

int
engine_seq_fork(
    struct engine *e, int32_t dst, int32_t src, uint32_t len, struct err *err)
{
	const struct engine_config *c = &e->cfg;
	uint64_t row = (uint64_t)e->m->hp.kv_dim * 2;
	uint32_t l, n_layer = e->m->hp.n_layer;
	int rc;

	if (dst < 0 || (uint32_t)dst >= c->n_seq || src < 0 ||
	    (uint32_t)src >= c->n_seq || dst == src)
		return err_set(err, ERR_RANGE,
		    "cannot fork sequence %" PRId32 " into %" PRId32
		    " (%" PRIu32 " sequences)",
		    src, dst, c->n_seq);
	if (len > e->seq_len[src])
		return err_set(err, ERR_RANGE,
		    "cannot fork %" PRIu32 " positions of sequence %" PRId32
		    ", which has %" PRIu32,
		    len, src, e->seq_len[src]);
	e->seq_len[dst] = 0;
	if (len == 0)
		return 0;
	for (l = 0; l < n_layer; l++) {
		struct vk_buf_region r = {
			.dst_off = (uint64_t)dst * c->n_ctx * row,
			.src_off = (uint64_t)src * c->n_ctx * row,
			.size = (uint64_t)len * row,
		};

		r.dst = e->kc[l];
		r.src = e->kc[l];
		e->regions[2 * l] = r;
		r.dst = e->vc[l];
		r.src = e->vc[l];
		e->regions[2 * l + 1] = r;
	}
	rc = vk_buf_copy_regions(e->dev, e->regions, 2 * (size_t)n_layer, err);
	if (rc < 0)
		return rc;
	memcpy(e->seq_tok + (size_t)dst * c->n_ctx,
	    e->seq_tok + (size_t)src * c->n_ctx, len * sizeof *e->seq_tok);
	e->seq_len[dst] = len;
	return 0;
}

void
engine_stats(const struct engine *e, unsigned *dispatches, unsigned *barriers,
    unsigned *recorded)
{
	*dispatches = e->last != NULL ? e->last->dispatches : 0;
	*barriers = e->last != NULL ? e->last->barriers : 0;
	*recorded = e->recorded;
}
