/*
 * model: llama, qwen2, qwen3 and gemma3 hyperparameters and weights from
 * GGUF to the device.  See model.h (also for how NEOX rope becomes llama's).
 *
 * Everything that can be wrong with a file is found by model_validate
 * before a byte goes to the device; model_load then only uploads.  The
 * mapping of the file is read directly (no copy) except where a matrix
 * must change on the way: groups concatenated (Q|K|V, gate|up) and float
 * rows padded to a multiple of 32 values are assembled in one host
 * buffer per group, freed right after the upload.
 */
#include "model.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "quant.h"
#include "util.h"

#define MODEL_NAME_MAX 96

static uint32_t
model_pad32(uint32_t n)
{
	return (n + 31) / 32 * 32;
}

int
model_validate(const struct gguf *g, struct model_hparams *hp, struct err *err)
{
	const struct gguf_tensor *t[ARCH_T_COUNT], *gt[ARCH_G_COUNT];
	const struct arch *a;
	uint32_t l;
	int rc;

	if ((rc = arch_hparams_read(g, hp, err)) < 0)
		return rc;
	a = hp->def;
	if ((rc = arch_tensors(g, hp, a->globals, a->n_globals, -1, gt,
		 ARCH_G_COUNT, err)) < 0)
		return rc;
	for (l = 0; l < hp->n_layer; l++)
		if ((rc = arch_tensors(g, hp, a->layer, a->n_layer, (int)l, t,
			 ARCH_T_COUNT, err)) < 0)
			return rc;
	return 0;
}

/* Bytes of one row of COLS values of TYPE. */
static size_t
model_row_bytes(uint32_t type, uint32_t cols)
{
	return quant_row_size(type, cols);
}

/*
 * Copy tensor T's rows into DST as rows of COLS_PAD values (zeros past
 * the tensor's own columns; COLS_PAD == ne[0] for block types).
 */
static void
model_copy_rows(const struct gguf_tensor *t, uint32_t cols_pad, void *dst)
{
	size_t src_row = model_row_bytes(t->type, (uint32_t)t->ne[0]);
	size_t dst_row = model_row_bytes(t->type, cols_pad);
	uint64_t r;

	if (src_row == dst_row) {
		memcpy(dst, t->data, t->size);
		return;
	}
	for (r = 0; r < t->ne[1]; r++) {
		unsigned char *d = (unsigned char *)dst + r * dst_row;

		memcpy(
		    d, (const unsigned char *)t->data + r * src_row, src_row);
		memset(d + src_row, 0, dst_row - src_row);
	}
}

/* Upload N tensors stacked by rows, each padded to COLS_PAD values. */
static int
model_upload_stack(struct model *m, const struct gguf_tensor **t, size_t n,
    uint32_t cols_pad, const char *name, struct kern_weight *w, struct err *err)
{
	size_t row = model_row_bytes(t[0]->type, cols_pad), off = 0, i;
	uint32_t rows = 0;
	unsigned char *buf;
	int rc;

	if (n == 1 && t[0]->ne[0] == cols_pad)
		return kern_weight_upload(m->kern, t[0]->type,
		    (uint32_t)t[0]->ne[1], cols_pad, t[0]->data, name, w, err);
	for (i = 0; i < n; i++)
		rows += (uint32_t)t[i]->ne[1];
	buf = xreallocarray(NULL, rows, row);
	for (i = 0; i < n; i++) {
		model_copy_rows(t[i], cols_pad, buf + off);
		off += (size_t)t[i]->ne[1] * row;
	}
	rc = kern_weight_upload(
	    m->kern, t[0]->type, rows, cols_pad, buf, name, w, err);
	free(buf);
	return rc;
}

/*
 * Upload N tensors as one matrix of ROWS rows of COLS_PAD values, tensor
 * I at row OFFS[I]; rows no tensor covers are zero.
 */
static int
model_upload_placed(struct model *m, const struct gguf_tensor **t, size_t n,
    const uint32_t *offs, uint32_t rows, uint32_t cols_pad, const char *name,
    struct kern_weight *w, struct err *err)
{
	size_t row = model_row_bytes(t[0]->type, cols_pad), i;
	unsigned char *buf = xcalloc(rows, row);
	int rc;

	for (i = 0; i < n; i++)
		model_copy_rows(t[i], cols_pad, buf + (size_t)offs[i] * row);
	rc = kern_weight_upload(
	    m->kern, t[0]->type, rows, cols_pad, buf, name, w, err);
	free(buf);
	return rc;
}

/*
 * The row of a NEOX-ordered head that row R of the permuted order holds:
 * rows 2i and 2i+1 (i < n_rot/2) take rows i and i + n_rot/2 of their
 * head; unrotated rows stay.
 */
static uint32_t
model_neox_src(const struct model_hparams *hp, uint32_t r)
{
	uint32_t d = r % hp->head_dim;

	if (d >= hp->n_rot)
		return r;
	return r - d + d / 2 + (d % 2) * (hp->n_rot / 2);
}

/*
 * *COPY = matrix T (Q or K: whole heads) with its rows permuted as
 * model_neox_src says, the data in *BUF (new; the caller frees it).
 */
static void
model_neox_matrix(const struct model_hparams *hp, const struct gguf_tensor *t,
    struct gguf_tensor *copy, unsigned char **buf)
{
	size_t row = model_row_bytes(t->type, (uint32_t)t->ne[0]);
	uint32_t r;

	*buf = xreallocarray(NULL, (size_t)t->ne[1], row);
	for (r = 0; r < t->ne[1]; r++)
		memcpy(*buf + r * row,
		    (const unsigned char *)t->data +
			model_neox_src(hp, r) * row,
		    row);
	*copy = *t;
	copy->data = *buf;
}

/* Permute the N values of V (whole heads) as model_neox_src says. */
static void
model_neox_vec(const struct model_hparams *hp, float *v, uint32_t n)
{
	float *tmp = xreallocarray(NULL, n, sizeof *tmp);
	uint32_t r;

	for (r = 0; r < n; r++)
		tmp[r] = v[model_neox_src(hp, r)];
	memcpy(v, tmp, n * sizeof *v);
	free(tmp);
}

/*
 * A vector tensor as f32 in a new device buffer; with NEOX set, it is
 * whole heads whose values are permuted as Q's and K's rows are (the
 * qwen3 Q/K norm weights: the per-head RMS does not see the order, the
 * elementwise weight does).
 */
static int
model_upload_vec(struct model *m, const struct gguf_tensor *t, int neox,
    struct vk_buf **out, struct err *err)
{
	size_t n = (size_t)t->n_elements;
	float *v = xreallocarray(NULL, n, sizeof *v);
	char name[MODEL_NAME_MAX];
	int rc;

	snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
	quant_dequantize(t->type, t->data, v, n);
	if (neox)
		model_neox_vec(&m->hp, v, (uint32_t)n);
	rc = vk_buf_new(m->dev, n * sizeof *v, VK_BUF_DEVICE, name, out, err);
	if (rc == 0)
		rc = vk_buf_upload(*out, 0, v, n * sizeof *v, err);
	free(v);
	return rc;
}

/* Bytes a weight takes on the device. */
static uint64_t
model_weight_bytes(const struct kern_weight *w)
{
	return (uint64_t)w->rows * model_row_bytes(w->type, w->cols);
}

struct model_upload {
	model_progress_fn fn;
	void *ud;
	uint64_t done, total;
};

static void
model_progress(struct model_upload *u, uint64_t bytes)
{
	u->done += bytes;
	if (u->fn != NULL)
		u->fn(u->ud, u->done, u->total);
}

/*
 * Fill group GR from tensors T[0..N) written side by side: one stacked
 * matrix of WIDTH rows when all have one type (tensor i at row OFFS[i],
 * zero rows in the gaps: gate|up of a feed-forward length padded to a
 * multiple of 32, so the product's epilogue finds up row i at gate row
 * i + WIDTH/2), else one part per tensor at OFFS[i].
 */
static int
model_group_load(struct model *m, struct model_group *gr,
    const struct gguf_tensor **t, size_t n, const uint32_t *offs,
    uint32_t width, const char *name, struct model_upload *u, struct err *err)
{
	uint32_t cols_pad = model_pad32((uint32_t)t[0]->ne[0]);
	uint64_t row = 0;
	int stack = 1, packed = 1, rc;
	size_t i;

	gr->width = width;
	for (i = 0; i < n; i++) {
		if (t[i]->type != t[0]->type)
			stack = 0;
		if (offs[i] != row)
			packed = 0;
		row += t[i]->ne[1];
	}
	if (stack) {
		gr->n_parts = 1;
		gr->parts[0].off = 0;
		rc = packed ? model_upload_stack(
				  m, t, n, cols_pad, name, &gr->parts[0].w, err)
			    : model_upload_placed(m, t, n, offs, width,
				  cols_pad, name, &gr->parts[0].w, err);
		if (rc < 0)
			return rc;
		for (i = 0; i < n; i++)
			model_progress(u, t[i]->size);
		return 0;
	}
	for (i = 0; i < n; i++) {
		char pname[MODEL_NAME_MAX];

		snprintf(pname, sizeof pname, "%.*s", (int)t[i]->name.len,
		    t[i]->name.ptr);
		gr->parts[i].off = offs[i];
		gr->n_parts = i + 1;
		rc = model_upload_stack(
		    m, &t[i], 1, cols_pad, pname, &gr->parts[i].w, err);
		if (rc < 0)
			return rc;
		model_progress(u, t[i]->size);
	}
	return 0;
}

/* The biases of layer L as one f32 row Q|K|V in a new buffer. */
static int
model_bias_load(struct model *m, uint32_t l, const struct gguf_tensor **t,
    struct vk_buf **out, struct err *err)
{
	const struct model_hparams *hp = &m->hp;
	uint32_t n = hp->q_dim + 2 * hp->kv_dim;
	float *v = xreallocarray(NULL, n, sizeof *v);
	char name[MODEL_NAME_MAX];
	int rc;

	quant_dequantize(t[ARCH_T_BQ]->type, t[ARCH_T_BQ]->data, v, hp->q_dim);
	quant_dequantize(
	    t[ARCH_T_BK]->type, t[ARCH_T_BK]->data, v + hp->q_dim, hp->kv_dim);
	quant_dequantize(t[ARCH_T_BV]->type, t[ARCH_T_BV]->data,
	    v + hp->q_dim + hp->kv_dim, hp->kv_dim);
	if (hp->rope_neox) {
		model_neox_vec(hp, v, hp->q_dim);
		model_neox_vec(hp, v + hp->q_dim, hp->kv_dim);
	}
	snprintf(name, sizeof name, "blk.%" PRIu32 ".attn_qkv.bias", l);
	rc = vk_buf_new(m->dev, n * sizeof *v, VK_BUF_DEVICE, name, out, err);
	if (rc == 0)
		rc = vk_buf_upload(*out, 0, v, n * sizeof *v, err);
	free(v);
	return rc;
}

/* Upload vector T (NULL: none, *OUT stays NULL) as model_upload_vec. */
static int
model_upload_opt(struct model *m, const struct gguf_tensor *t, int neox,
    struct vk_buf **out, struct err *err)
{
	if (t == NULL)
		return 0;
	return model_upload_vec(m, t, neox, out, err);
}

/*
 * Layer L's tensors (arch_tensors' slots) to the device: every vector
 * its slot's buffer; Q|K|V one group (one matrix in the file, or three);
 * gate|up one group (gate rows at 0, up at ff_pad), or up alone.
 */
static int
model_layer_load(struct model *m, const struct gguf *g, uint32_t l,
    struct model_upload *u, struct err *err)
{
	const struct model_hparams *hp = &m->hp;
	const struct arch *a = hp->def;
	struct model_layer *ly = &m->layers[l];
	const struct gguf_tensor *t[ARCH_T_COUNT];
	uint32_t qkv_offs[3] = { 0, hp->q_dim, hp->q_dim + hp->kv_dim };
	uint32_t gu_offs[2] = { 0, hp->ff_pad };
	char name[MODEL_NAME_MAX];
	struct gguf_tensor pq, pk;
	unsigned char *bq = NULL, *bk = NULL;
	int neox = hp->rope_neox, rc;

	if ((rc = arch_tensors(g, hp, a->layer, a->n_layer, (int)l, t,
		 ARCH_T_COUNT, err)) < 0 ||
	    (rc = model_upload_opt(
		 m, t[ARCH_T_ATTN_NORM], 0, &ly->attn_norm, err)) < 0 ||
	    (rc = model_upload_opt(
		 m, t[ARCH_T_ATTN_NORM_B], 0, &ly->attn_norm_b, err)) < 0 ||
	    (rc = model_upload_opt(
		 m, t[ARCH_T_FFN_NORM], 0, &ly->ffn_norm, err)) < 0 ||
	    (rc = model_upload_opt(
		 m, t[ARCH_T_FFN_NORM_B], 0, &ly->ffn_norm_b, err)) < 0 ||
	    (rc = model_upload_opt(m, t[ARCH_T_QN], neox, &ly->q_norm, err)) <
		0 ||
	    (rc = model_upload_opt(m, t[ARCH_T_KN], neox, &ly->k_norm, err)) <
		0 ||
	    (rc = model_upload_opt(
		 m, t[ARCH_T_PA], 0, &ly->post_attn_norm, err)) < 0 ||
	    (rc = model_upload_opt(
		 m, t[ARCH_T_PF], 0, &ly->post_ffn_norm, err)) < 0 ||
	    (rc = model_upload_opt(m, t[ARCH_T_BQKV], 0, &ly->qkv_bias, err)) <
		0 ||
	    (rc = model_upload_opt(m, t[ARCH_T_BO], 0, &ly->wo_b, err)) < 0 ||
	    (rc = model_upload_opt(m, t[ARCH_T_BUP], 0, &ly->up_b, err)) < 0 ||
	    (rc = model_upload_opt(m, t[ARCH_T_BDOWN], 0, &ly->down_b, err)) <
		0)
		return rc;
	if (t[ARCH_T_BQ] != NULL &&
	    (rc = model_bias_load(m, l, t, &ly->qkv_bias, err)) < 0)
		return rc;
	snprintf(name, sizeof name, "blk.%" PRIu32 ".attn_qkv", l);
	if (t[ARCH_T_QKV] != NULL) {
		rc = model_group_load(m, &ly->qkv, &t[ARCH_T_QKV], 1, qkv_offs,
		    hp->q_dim + 2 * hp->kv_dim, name, u, err);
	} else {
		if (neox) {
			model_neox_matrix(hp, t[ARCH_T_Q], &pq, &bq);
			model_neox_matrix(hp, t[ARCH_T_K], &pk, &bk);
			t[ARCH_T_Q] = &pq;
			t[ARCH_T_K] = &pk;
		}
		rc = model_group_load(m, &ly->qkv, &t[ARCH_T_Q], 3, qkv_offs,
		    hp->q_dim + 2 * hp->kv_dim, name, u, err);
	}
	free(bq);
	free(bk);
	if (rc < 0)
		return rc;
	snprintf(name, sizeof name, "blk.%" PRIu32 ".attn_output.weight", l);
	if ((rc = model_upload_stack(
		 m, &t[ARCH_T_O], 1, hp->q_pad, name, &ly->wo, err)) < 0)
		return rc;
	model_progress(u, t[ARCH_T_O]->size);
	if (t[ARCH_T_GATE] != NULL) {
		snprintf(name, sizeof name, "blk.%" PRIu32 ".ffn_gate_up", l);
		rc = model_group_load(m, &ly->gu, &t[ARCH_T_GATE], 2, gu_offs,
		    2 * hp->ff_pad, name, u, err);
	} else {
		snprintf(name, sizeof name, "blk.%" PRIu32 ".ffn_up", l);
		rc = model_group_load(m, &ly->gu, &t[ARCH_T_UP], 1, gu_offs,
		    hp->ff_pad, name, u, err);
	}
	if (rc < 0)
		return rc;
	snprintf(name, sizeof name, "blk.%" PRIu32 ".ffn_down.weight", l);
	if ((rc = model_upload_stack(
		 m, &t[ARCH_T_DOWN], 1, hp->ff_pad, name, &ly->down, err)) < 0)
		return rc;
	model_progress(u, t[ARCH_T_DOWN]->size);
	return 0;
}

/* Bytes the upload will move (for the progress total). */
static uint64_t
model_total_bytes(const struct gguf *g)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < gguf_tensor_count(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);

		if (t->n_dims == 2)
			sum += t->size;
	}
	return sum;
}

int
model_load(struct vk_device *dev, struct kern *k, const struct gguf *g,
    model_progress_fn progress, void *ud, struct model **out, struct err *err)
{
	struct model *m = xcalloc(1, sizeof *m);
	struct model_upload u = { progress, ud, 0, 0 };
	const struct gguf_tensor *gt[ARCH_G_COUNT];
	uint32_t l;
	int rc;

	*out = NULL;
	m->kern = k;
	m->dev = dev;
	m->path = xstrdup(gguf_path(g));
	if ((rc = model_validate(g, &m->hp, err)) < 0)
		goto fail;
	u.total = model_total_bytes(g);
	m->layers = xcalloc(m->hp.n_layer, sizeof *m->layers);
	if ((rc = arch_tensors(g, &m->hp, m->hp.def->globals,
		 m->hp.def->n_globals, -1, gt, ARCH_G_COUNT, err)) < 0 ||
	    (rc = model_upload_stack(m, &gt[ARCH_G_TOK_EMBD], 1, m->hp.embd_pad,
		 "token_embd.weight", &m->tok_embd, err)) < 0)
		goto fail;
	model_progress(&u, gt[ARCH_G_TOK_EMBD]->size);
	if (gt[ARCH_G_POS_EMBD] != NULL) {
		if ((rc = model_upload_stack(m, &gt[ARCH_G_POS_EMBD], 1,
			 m->hp.embd_pad, "position_embd.weight", &m->pos_embd,
			 err)) < 0)
			goto fail;
		model_progress(&u, gt[ARCH_G_POS_EMBD]->size);
	}
	if ((rc = model_upload_opt(
		 m, gt[ARCH_G_OUTPUT_NORM], 0, &m->output_norm, err)) < 0 ||
	    (rc = model_upload_opt(
		 m, gt[ARCH_G_OUTPUT_NORM_B], 0, &m->output_norm_b, err)) < 0 ||
	    (rc = model_upload_opt(
		 m, gt[ARCH_G_ROPE_FREQS], 0, &m->freq_factors, err)) < 0)
		goto fail;
	if (gt[ARCH_G_OUTPUT] != NULL) {
		if ((rc = model_upload_stack(m, &gt[ARCH_G_OUTPUT], 1,
			 m->hp.embd_pad, "output.weight", &m->output, err)) < 0)
			goto fail;
		model_progress(&u, gt[ARCH_G_OUTPUT]->size);
	}
	for (l = 0; l < m->hp.n_layer; l++)
		if ((rc = model_layer_load(m, g, l, &u, err)) < 0)
			goto fail;
	m->weight_bytes =
	    model_weight_bytes(&m->tok_embd) + model_weight_bytes(&m->pos_embd);
	m->decode_bytes = model_weight_bytes(model_head(m));
	if (!m->hp.tied)
		m->weight_bytes += model_weight_bytes(&m->output);
	for (l = 0; l < m->hp.n_layer; l++) {
		const struct model_layer *ly = &m->layers[l];
		uint64_t b =
		    model_weight_bytes(&ly->wo) + model_weight_bytes(&ly->down);
		size_t i;

		for (i = 0; i < ly->qkv.n_parts; i++)
			b += model_weight_bytes(&ly->qkv.parts[i].w);
		for (i = 0; i < ly->gu.n_parts; i++)
			b += model_weight_bytes(&ly->gu.parts[i].w);
		m->weight_bytes += b;
		m->decode_bytes += b;
	}
	u.done = u.total;
	model_progress(&u, 0);
	*out = m;
	return 0;
fail:
	model_free(m);
	return rc;
}

void
model_free(struct model *m)
{
	uint32_t l;
	size_t i;

	if (m == NULL)
		return;
	if (m->layers != NULL) {
		for (l = 0; l < m->hp.n_layer; l++) {
			struct model_layer *ly = &m->layers[l];

			vk_buf_free(ly->attn_norm);
			vk_buf_free(ly->attn_norm_b);
			vk_buf_free(ly->ffn_norm_b);
			vk_buf_free(ly->wo_b);
			vk_buf_free(ly->up_b);
			vk_buf_free(ly->down_b);
			vk_buf_free(ly->ffn_norm);
			vk_buf_free(ly->qkv_bias);
			vk_buf_free(ly->q_norm);
			vk_buf_free(ly->k_norm);
			vk_buf_free(ly->post_attn_norm);
			vk_buf_free(ly->post_ffn_norm);
			for (i = 0; i < ly->qkv.n_parts; i++)
				kern_weight_release(&ly->qkv.parts[i].w);
			kern_weight_release(&ly->wo);
			for (i = 0; i < ly->gu.n_parts; i++)
				kern_weight_release(&ly->gu.parts[i].w);
			kern_weight_release(&ly->down);
		}
		free(m->layers);
	}
	kern_weight_release(&m->tok_embd);
	kern_weight_release(&m->output);
	kern_weight_release(&m->pos_embd);
	vk_buf_free(m->output_norm_b);
	vk_buf_free(m->output_norm);
	vk_buf_free(m->freq_factors);
	free(m->path);
	free(m);
}

const struct kern_weight *
model_head(const struct model *m)
{
	return m->hp.tied ? &m->tok_embd : &m->output;
}

int
model_layer_swa(const struct model_hparams *hp, uint32_t l)
{
	return hp->swa_pattern != 0 && (l + 1) % hp->swa_pattern != 0;
}
