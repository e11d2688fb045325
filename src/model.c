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

#include "quant.h"
#include "util.h"

#define MODEL_MAX_DIM (1u << 24)
#define MODEL_NAME_MAX 96

static uint32_t
model_pad32(uint32_t n)
{
	return (n + 31) / 32 * 32;
}

/*
 * A required (DEF 0) or optional integer "ARCH.SUFFIX" in [1, 2^24] (the
 * key prefix is general.architecture, which gguf_get_arch_u32 reads).
 */
static int
model_hp_int(const struct gguf *g, const char *arch, const char *suffix,
    uint32_t def, int required, uint32_t *out, struct err *err)
{
	uint32_t v;
	int rc = gguf_get_arch_u32(g, suffix, &v, err);

	if (rc == ERR_NOTFOUND) {
		if (required)
			return err_set(err, ERR_MODEL,
			    "%s: missing key '%s.%s'", gguf_path(g), arch,
			    suffix);
		*out = def;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (v < 1 || v > MODEL_MAX_DIM)
		return err_set(err, ERR_MODEL,
		    "%s: key '%s.%s' has value %" PRIu32 ", expected 1 to %u",
		    gguf_path(g), arch, suffix, v, MODEL_MAX_DIM);
	*out = v;
	return 0;
}

/* An optional finite float "ARCH.SUFFIX", DEF when absent. */
static int
model_hp_float(const struct gguf *g, const char *arch, const char *suffix,
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
model_hp_rope_scaling(
    const struct gguf *g, const char *arch, float *freq_scale, struct err *err)
{
	char key[MODEL_NAME_MAX];
	const struct gguf_kv *kv;
	float factor;
	int rc;

	snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
	kv = gguf_find(g, key);
	rc = model_hp_float(g, arch, "rope.scaling.factor", 0.0f, &factor, err);
	if (rc == 0 && factor == 0.0f)
		rc = model_hp_float(
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

static const char *
model_type_name(uint32_t type)
{
	const struct ggml_type_info *ti = ggml_type_info(type);

	return ti != NULL ? ti->name : "unknown";
}

/*
 * Tensor NAME with shape {NE0} (NE1 == 0: a vector, any float type) or
 * {NE0, NE1} (a matrix of a type the kernels run).
 */
static int
model_tensor(const struct gguf *g, const char *name, uint64_t ne0, uint64_t ne1,
    const struct gguf_tensor **out, struct err *err)
{
	const struct gguf_tensor *t = gguf_tensor_find(g, name);
	char got[96];
	size_t len = 0;
	uint32_t i;

	*out = NULL;
	if (t == NULL)
		return err_set(err, ERR_MODEL, "%s: missing tensor '%s'",
		    gguf_path(g), name);
	if (t->ne[0] != ne0 || t->ne[1] != (ne1 ? ne1 : 1) || t->ne[2] != 1 ||
	    t->ne[3] != 1) {
		got[0] = '\0';
		for (i = 0; i < (t->n_dims ? t->n_dims : 1); i++)
			len += (size_t)snprintf(got + len, sizeof got - len,
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
	if (ne1 == 0 && t->type != GGML_TYPE_F32 && t->type != GGML_TYPE_F16 &&
	    t->type != GGML_TYPE_BF16)
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: tensor '%s' has type %s, expected f32, f16 or bf16",
		    gguf_path(g), name, model_type_name(t->type));
	if (ne1 != 0 && !kern_type_supported(t->type))
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: tensor '%s' has type %s, which the engine does not "
		    "support (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, "
		    "q4_K, q5_K, q6_K)",
		    gguf_path(g), name, model_type_name(t->type));
	*out = t;
	return 0;
}

static int
model_layer_tensor(const struct gguf *g, uint32_t l, const char *suffix,
    uint64_t ne0, uint64_t ne1, const struct gguf_tensor **out, struct err *err)
{
	char name[MODEL_NAME_MAX];

	snprintf(name, sizeof name, "blk.%" PRIu32 ".%s", l, suffix);
	return model_tensor(g, name, ne0, ne1, out, err);
}

/* The tensors of layer L, in the order model_load uploads them. */
enum {
	MODEL_T_ATTN_NORM,
	MODEL_T_Q,
	MODEL_T_K,
	MODEL_T_V,
	MODEL_T_O,
	MODEL_T_FFN_NORM,
	MODEL_T_GATE,
	MODEL_T_UP,
	MODEL_T_DOWN,
	MODEL_T_BQ, /* the biases: NULL without them */
	MODEL_T_BK,
	MODEL_T_BV,
	MODEL_T_QN, /* the Q and K norms: NULL without them */
	MODEL_T_KN,
	MODEL_T_PA, /* the post-attention and post-FFN norms: NULL without */
	MODEL_T_PF,
	MODEL_T_COUNT,
};

static int
model_layer_tensors(const struct gguf *g, const struct model_hparams *hp,
    uint32_t l, const struct gguf_tensor **t, struct err *err)
{
	uint64_t e = hp->n_embd, f = hp->n_ff, qd = hp->q_dim, kvd = hp->kv_dim;
	int rc;

	if ((rc = model_layer_tensor(g, l, "attn_norm.weight", e, 0,
		 &t[MODEL_T_ATTN_NORM], err)) < 0 ||
	    (rc = model_layer_tensor(
		 g, l, "attn_q.weight", e, qd, &t[MODEL_T_Q], err)) < 0 ||
	    (rc = model_layer_tensor(
		 g, l, "attn_k.weight", e, kvd, &t[MODEL_T_K], err)) < 0 ||
	    (rc = model_layer_tensor(
		 g, l, "attn_v.weight", e, kvd, &t[MODEL_T_V], err)) < 0 ||
	    (rc = model_layer_tensor(
		 g, l, "attn_output.weight", qd, e, &t[MODEL_T_O], err)) < 0 ||
	    (rc = model_layer_tensor(g, l, "ffn_norm.weight", e, 0,
		 &t[MODEL_T_FFN_NORM], err)) < 0 ||
	    (rc = model_layer_tensor(
		 g, l, "ffn_gate.weight", e, f, &t[MODEL_T_GATE], err)) < 0 ||
	    (rc = model_layer_tensor(
		 g, l, "ffn_up.weight", e, f, &t[MODEL_T_UP], err)) < 0 ||
	    (rc = model_layer_tensor(
		 g, l, "ffn_down.weight", f, e, &t[MODEL_T_DOWN], err)) < 0)
		return rc;
	t[MODEL_T_BQ] = t[MODEL_T_BK] = t[MODEL_T_BV] = NULL;
	if (hp->has_bias &&
	    ((rc = model_layer_tensor(
		  g, l, "attn_q.bias", qd, 0, &t[MODEL_T_BQ], err)) < 0 ||
		(rc = model_layer_tensor(
		     g, l, "attn_k.bias", kvd, 0, &t[MODEL_T_BK], err)) < 0 ||
		(rc = model_layer_tensor(
		     g, l, "attn_v.bias", kvd, 0, &t[MODEL_T_BV], err)) < 0))
		return rc;
	t[MODEL_T_QN] = t[MODEL_T_KN] = NULL;
	if (hp->has_qk_norm &&
	    ((rc = model_layer_tensor(g, l, "attn_q_norm.weight", hp->head_dim,
		  0, &t[MODEL_T_QN], err)) < 0 ||
		(rc = model_layer_tensor(g, l, "attn_k_norm.weight",
		     hp->head_dim, 0, &t[MODEL_T_KN], err)) < 0))
		return rc;
	t[MODEL_T_PA] = t[MODEL_T_PF] = NULL;
	if (hp->has_post_norms &&
	    ((rc = model_layer_tensor(g, l, "post_attention_norm.weight", e, 0,
		  &t[MODEL_T_PA], err)) < 0 ||
		(rc = model_layer_tensor(g, l, "post_ffw_norm.weight", e, 0,
		     &t[MODEL_T_PF], err)) < 0))
		return rc;
	return 0;
}

/* The architectures the engine runs and how they differ from llama. */
static const struct model_arch {
	const char *name; /* general.architecture and key prefix */
	int rope_neox;	  /* pairs (x[i], x[i + n_rot/2]) */
	int has_bias;	  /* attn_q/k/v.bias */
	int has_qk_norm;  /* attn_q_norm, attn_k_norm: per-head RMSNorm */
	int gemma;	  /* post-norms, GELU, scaled embeddings, windows */
} model_archs[] = {
	{ "llama", 0, 0, 0, 0 },
	{ "qwen2", 1, 1, 0, 0 },
	{ "qwen3", 1, 0, 1, 0 },
	{ "gemma3", 1, 0, 1, 1 },
};

/*
 * Gemma 3's layers: five sliding-window layers, then a global one
 * (llama.cpp's set_swa_pattern(6)); the sliding ones rotate with base
 * 10000, unscaled.
 */
#define MODEL_GEMMA3_SWA_PATTERN 6
#define MODEL_GEMMA3_SWA_FREQ_BASE 10000.0f
/* The 27B's query_pre_attn_scalar is n_embd / n_head (llama.cpp). */
#define MODEL_GEMMA3_27B_LAYERS 62

/* The gemma3 block's settings (model_hparams_read's last step). */
static int
model_hparams_gemma3(
    const struct gguf *g, struct model_hparams *hp, struct err *err)
{
	hp->has_post_norms = 1;
	hp->gelu = 1;
	hp->embd_scale = sqrtf((float)hp->n_embd);
	if (hp->n_layer == MODEL_GEMMA3_27B_LAYERS)
		hp->attn_scale = 1.0f / sqrtf((float)(hp->n_embd / hp->n_head));
	hp->swa_pattern = MODEL_GEMMA3_SWA_PATTERN;
	hp->swa_freq_base = MODEL_GEMMA3_SWA_FREQ_BASE;
	hp->swa_freq_scale = 1.0f;
	return model_hp_int(
	    g, hp->arch, "attention.sliding_window", 0, 1, &hp->n_swa, err);
}

static int
model_hparams_read(
    const struct gguf *g, struct model_hparams *hp, struct err *err)
{
	const struct gguf_tensor *te;
	struct gguf_str arch;
	uint32_t key_len, val_len;
	char key[MODEL_NAME_MAX];
	const char *a;
	size_t i;
	int rc;

	memset(hp, 0, sizeof *hp);
	rc = gguf_get_str(g, "general.architecture", &arch, err);
	if (rc == ERR_NOTFOUND)
		return err_set(err, ERR_MODEL,
		    "%s: missing key 'general.architecture'", gguf_path(g));
	if (rc < 0)
		return rc;
	for (i = 0; i < sizeof model_archs / sizeof model_archs[0]; i++)
		if (gguf_str_eq(arch, model_archs[i].name))
			break;
	if (i == sizeof model_archs / sizeof model_archs[0])
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: architecture '%.*s' is not supported (llama, qwen2, "
		    "qwen3, gemma3)",
		    gguf_path(g), (int)(arch.len > 64 ? 64 : arch.len),
		    arch.ptr);
	a = hp->arch = model_archs[i].name;
	hp->rope_neox = model_archs[i].rope_neox;
	hp->has_bias = model_archs[i].has_bias;
	hp->has_qk_norm = model_archs[i].has_qk_norm;
	snprintf(key, sizeof key, "%s.attention.key_length", a);
	if ((rc = model_hp_int(
		 g, a, "embedding_length", 0, 1, &hp->n_embd, err)) < 0 ||
	    (rc = model_hp_int(g, a, "block_count", 0, 1, &hp->n_layer, err)) <
		0 ||
	    (rc = model_hp_int(
		 g, a, "attention.head_count", 0, 1, &hp->n_head, err)) < 0 ||
	    (rc = model_hp_int(g, a, "attention.head_count_kv", hp->n_head, 0,
		 &hp->n_head_kv, err)) < 0 ||
	    (rc = model_hp_int(
		 g, a, "feed_forward_length", 0, 1, &hp->n_ff, err)) < 0 ||
	    (rc = model_hp_int(
		 g, a, "context_length", 0, 0, &hp->n_ctx_train, err)) < 0)
		return rc;
	if (hp->n_embd % hp->n_head != 0 && gguf_find(g, key) == NULL)
		return err_set(err, ERR_MODEL,
		    "%s: embedding length %" PRIu32
		    " is not a multiple of the head count %" PRIu32,
		    gguf_path(g), hp->n_embd, hp->n_head);
	if (hp->n_head % hp->n_head_kv != 0)
		return err_set(err, ERR_MODEL,
		    "%s: head count %" PRIu32
		    " is not a multiple of the kv head count %" PRIu32,
		    gguf_path(g), hp->n_head, hp->n_head_kv);
	if ((rc = model_hp_int(g, a, "attention.key_length",
		 hp->n_embd / hp->n_head, 0, &key_len, err)) < 0 ||
	    (rc = model_hp_int(g, a, "attention.value_length", key_len, 0,
		 &val_len, err)) < 0)
		return rc;
	if (key_len != val_len)
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: key length %" PRIu32
		    " differs from value length %" PRIu32,
		    gguf_path(g), key_len, val_len);
	hp->head_dim = key_len;
	if ((rc = model_hp_int(g, a, "rope.dimension_count", hp->head_dim, 0,
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
	if ((rc = model_hp_float(
		 g, a, "rope.freq_base", 10000.0f, &hp->freq_base, err)) < 0)
		return rc;
	if (!(hp->freq_base > 0.0f))
		return err_set(err, ERR_MODEL,
		    "%s: rope frequency base %g is not positive", gguf_path(g),
		    (double)hp->freq_base);
	if ((rc = model_hp_rope_scaling(g, a, &hp->freq_scale, err)) < 0)
		return rc;
	te = gguf_tensor_find(g, "token_embd.weight");
	if (te == NULL)
		return err_set(err, ERR_MODEL,
		    "%s: missing tensor 'token_embd.weight'", gguf_path(g));
	if (te->ne[1] < 1 || te->ne[1] > MODEL_MAX_DIM)
		return err_set(err, ERR_MODEL,
		    "%s: tensor 'token_embd.weight' has %" PRIu64
		    " rows, expected 1 to %u",
		    gguf_path(g), te->ne[1], MODEL_MAX_DIM);
	hp->n_vocab = (uint32_t)te->ne[1];
	hp->tied = gguf_tensor_find(g, "output.weight") == NULL;
	hp->has_freq_factors = gguf_tensor_find(g, "rope_freqs.weight") != NULL;
	hp->q_dim = hp->n_head * hp->head_dim;
	hp->kv_dim = hp->n_head_kv * hp->head_dim;
	hp->embd_pad = model_pad32(hp->n_embd);
	hp->q_pad = model_pad32(hp->q_dim);
	hp->ff_pad = model_pad32(hp->n_ff);
	hp->embd_scale = 1.0f;
	hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim);
	if (model_archs[i].gemma)
		return model_hparams_gemma3(g, hp, err);
	return 0;
}

int
model_validate(const struct gguf *g, struct model_hparams *hp, struct err *err)
{
	const struct gguf_tensor *t[MODEL_T_COUNT], *one;
	uint64_t e;
	uint32_t l;
	int rc;

	if ((rc = model_hparams_read(g, hp, err)) < 0)
		return rc;
	e = hp->n_embd;
	if ((rc = model_tensor(
		 g, "token_embd.weight", e, hp->n_vocab, &one, err)) < 0 ||
	    (rc = model_tensor(g, "output_norm.weight", e, 0, &one, err)) < 0)
		return rc;
	if (!hp->tied &&
	    (rc = model_tensor(g, "output.weight", e, hp->n_vocab, &one, err)) <
		0)
		return rc;
	if (hp->has_freq_factors &&
	    (rc = model_tensor(
		 g, "rope_freqs.weight", hp->n_rot / 2, 0, &one, err)) < 0)
		return rc;
	for (l = 0; l < hp->n_layer; l++)
		if ((rc = model_layer_tensors(g, hp, l, t, err)) < 0)
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

	quant_dequantize(
	    t[MODEL_T_BQ]->type, t[MODEL_T_BQ]->data, v, hp->q_dim);
	quant_dequantize(t[MODEL_T_BK]->type, t[MODEL_T_BK]->data,
	    v + hp->q_dim, hp->kv_dim);
	quant_dequantize(t[MODEL_T_BV]->type, t[MODEL_T_BV]->data,
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

static int
model_layer_load(struct model *m, const struct gguf *g, uint32_t l,
    struct model_upload *u, struct err *err)
{
	const struct model_hparams *hp = &m->hp;
	struct model_layer *ly = &m->layers[l];
	const struct gguf_tensor *t[MODEL_T_COUNT];
	uint32_t qkv_offs[3] = { 0, hp->q_dim, hp->q_dim + hp->kv_dim };
	uint32_t gu_offs[2] = { 0, hp->ff_pad };
	char name[MODEL_NAME_MAX];
	struct gguf_tensor pq, pk;
	unsigned char *bq = NULL, *bk = NULL;
	int rc;

	if ((rc = model_layer_tensors(g, hp, l, t, err)) < 0 ||
	    (rc = model_upload_vec(
		 m, t[MODEL_T_ATTN_NORM], 0, &ly->attn_norm, err)) < 0 ||
	    (rc = model_upload_vec(
		 m, t[MODEL_T_FFN_NORM], 0, &ly->ffn_norm, err)) < 0)
		return rc;
	if (hp->has_qk_norm &&
	    ((rc = model_upload_vec(
		  m, t[MODEL_T_QN], hp->rope_neox, &ly->q_norm, err)) < 0 ||
		(rc = model_upload_vec(
		     m, t[MODEL_T_KN], hp->rope_neox, &ly->k_norm, err)) < 0))
		return rc;
	if (hp->has_post_norms &&
	    ((rc = model_upload_vec(
		  m, t[MODEL_T_PA], 0, &ly->post_attn_norm, err)) < 0 ||
		(rc = model_upload_vec(
		     m, t[MODEL_T_PF], 0, &ly->post_ffn_norm, err)) < 0))
		return rc;
	if (hp->has_bias &&
	    (rc = model_bias_load(m, l, t, &ly->qkv_bias, err)) < 0)
		return rc;
	if (hp->rope_neox) {
		model_neox_matrix(hp, t[MODEL_T_Q], &pq, &bq);
		model_neox_matrix(hp, t[MODEL_T_K], &pk, &bk);
		t[MODEL_T_Q] = &pq;
		t[MODEL_T_K] = &pk;
	}
	snprintf(name, sizeof name, "blk.%" PRIu32 ".attn_qkv", l);
	rc = model_group_load(m, &ly->qkv, &t[MODEL_T_Q], 3, qkv_offs,
	    hp->q_dim + 2 * hp->kv_dim, name, u, err);
	free(bq);
	free(bk);
	if (rc < 0)
		return rc;
	snprintf(name, sizeof name, "blk.%" PRIu32 ".attn_output.weight", l);
	if ((rc = model_upload_stack(
		 m, &t[MODEL_T_O], 1, hp->q_pad, name, &ly->wo, err)) < 0)
		return rc;
	model_progress(u, t[MODEL_T_O]->size);
	snprintf(name, sizeof name, "blk.%" PRIu32 ".ffn_gate_up", l);
	if ((rc = model_group_load(m, &ly->gu, &t[MODEL_T_GATE], 2, gu_offs,
		 2 * hp->ff_pad, name, u, err)) < 0)
		return rc;
	snprintf(name, sizeof name, "blk.%" PRIu32 ".ffn_down.weight", l);
	if ((rc = model_upload_stack(
		 m, &t[MODEL_T_DOWN], 1, hp->ff_pad, name, &ly->down, err)) < 0)
		return rc;
	model_progress(u, t[MODEL_T_DOWN]->size);
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
	const struct gguf_tensor *t;
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
	t = gguf_tensor_find(g, "token_embd.weight");
	if ((rc = model_upload_stack(m, &t, 1, m->hp.embd_pad,
		 "token_embd.weight", &m->tok_embd, err)) < 0)
		goto fail;
	model_progress(&u, t->size);
	t = gguf_tensor_find(g, "output_norm.weight");
	if ((rc = model_upload_vec(m, t, 0, &m->output_norm, err)) < 0)
		goto fail;
	if (!m->hp.tied) {
		t = gguf_tensor_find(g, "output.weight");
		if ((rc = model_upload_stack(m, &t, 1, m->hp.embd_pad,
			 "output.weight", &m->output, err)) < 0)
			goto fail;
		model_progress(&u, t->size);
	}
	if (m->hp.has_freq_factors) {
		t = gguf_tensor_find(g, "rope_freqs.weight");
		if ((rc = model_upload_vec(m, t, 0, &m->freq_factors, err)) < 0)
			goto fail;
	}
	for (l = 0; l < m->hp.n_layer; l++)
		if ((rc = model_layer_load(m, g, l, &u, err)) < 0)
			goto fail;
	m->weight_bytes = model_weight_bytes(&m->tok_embd);
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
