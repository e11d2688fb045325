/*
 * arch: the table of architectures, the hyperparameter keys they share
 * and the tensor lists.  See arch.h.
 *
 * Reading is in two steps: arch_hparams_read reads what every entry has
 * (sizes, heads, context, the vocabulary from token_embd's rows) and
 * derives the padded row lengths; the entry's hook then reads its own
 * keys (norm epsilon, rope) and sets what differs.  Tensor lists give
 * shapes as enum arch_dim, resolved against the hyperparameters, so one
 * loop checks every architecture's tensors (presence, shape, type).
 */
#include "arch.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define ARCH_MAX_DIM (1u << 24)
#define ARCH_NAME_MAX 96
#define ARCH_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* llama, qwen2, qwen3, gemma3: token_embd, output_norm, output (tied). */
static const struct arch_tensor arch_llama_globals[] = {
	{ ARCH_G_TOK_EMBD, "token_embd.weight", ARCH_D_EMBD, ARCH_D_VOCAB, 0 },
	{ ARCH_G_OUTPUT_NORM, "output_norm.weight", ARCH_D_EMBD, ARCH_D_NONE,
	    0 },
	{ ARCH_G_OUTPUT, "output.weight", ARCH_D_EMBD, ARCH_D_VOCAB, 1 },
	{ ARCH_G_ROPE_FREQS, "rope_freqs.weight", ARCH_D_ROT2, ARCH_D_NONE, 1 },
};

#define ARCH_LLAMA_LAYER \
	{ ARCH_T_ATTN_NORM, "attn_norm.weight", ARCH_D_EMBD, ARCH_D_NONE, 0 }, \
	    { ARCH_T_Q, "attn_q.weight", ARCH_D_EMBD, ARCH_D_Q, 0 }, \
	    { ARCH_T_K, "attn_k.weight", ARCH_D_EMBD, ARCH_D_KV, 0 }, \
	    { ARCH_T_V, "attn_v.weight", ARCH_D_EMBD, ARCH_D_KV, 0 }, \
	    { ARCH_T_O, "attn_output.weight", ARCH_D_Q, ARCH_D_EMBD, 0 }, \
	    { ARCH_T_FFN_NORM, "ffn_norm.weight", ARCH_D_EMBD, ARCH_D_NONE, \
		    0 }, \
	    { ARCH_T_GATE, "ffn_gate.weight", ARCH_D_EMBD, ARCH_D_FF, 0 }, \
	    { ARCH_T_UP, "ffn_up.weight", ARCH_D_EMBD, ARCH_D_FF, 0 }, \
	{ \
		ARCH_T_DOWN, "ffn_down.weight", ARCH_D_FF, ARCH_D_EMBD, 0 \
	}

#define ARCH_QK_NORM \
	{ ARCH_T_QN, "attn_q_norm.weight", ARCH_D_HEAD, ARCH_D_NONE, 0 }, \
	{ \
		ARCH_T_KN, "attn_k_norm.weight", ARCH_D_HEAD, ARCH_D_NONE, 0 \
	}

static const struct arch_tensor arch_llama_blk[] = { ARCH_LLAMA_LAYER };

static const struct arch_tensor arch_qwen2_blk[] = {
	ARCH_LLAMA_LAYER,
	{ ARCH_T_BQ, "attn_q.bias", ARCH_D_Q, ARCH_D_NONE, 0 },
	{ ARCH_T_BK, "attn_k.bias", ARCH_D_KV, ARCH_D_NONE, 0 },
	{ ARCH_T_BV, "attn_v.bias", ARCH_D_KV, ARCH_D_NONE, 0 },
};

static const struct arch_tensor arch_qwen3_blk[] = {
	ARCH_LLAMA_LAYER,
	ARCH_QK_NORM,
};

static const struct arch_tensor arch_gemma3_blk[] = {
	ARCH_LLAMA_LAYER,
	ARCH_QK_NORM,
	{ ARCH_T_PA, "post_attention_norm.weight", ARCH_D_EMBD, ARCH_D_NONE,
	    0 },
	{ ARCH_T_PF, "post_ffw_norm.weight", ARCH_D_EMBD, ARCH_D_NONE, 0 },
};

/*
 * gpt2: learned positions, LayerNorms with biases, one Q|K|V matrix,
 * biases on every product, no gate.
 */
static const struct arch_tensor arch_gpt2_globals[] = {
	{ ARCH_G_TOK_EMBD, "token_embd.weight", ARCH_D_EMBD, ARCH_D_VOCAB, 0 },
	{ ARCH_G_POS_EMBD, "position_embd.weight", ARCH_D_EMBD, ARCH_D_CTX, 0 },
	{ ARCH_G_OUTPUT_NORM, "output_norm.weight", ARCH_D_EMBD, ARCH_D_NONE,
	    0 },
	{ ARCH_G_OUTPUT_NORM_B, "output_norm.bias", ARCH_D_EMBD, ARCH_D_NONE,
	    0 },
	{ ARCH_G_OUTPUT, "output.weight", ARCH_D_EMBD, ARCH_D_VOCAB, 1 },
};

static const struct arch_tensor arch_gpt2_blk[] = {
	{ ARCH_T_ATTN_NORM, "attn_norm.weight", ARCH_D_EMBD, ARCH_D_NONE, 0 },
	{ ARCH_T_ATTN_NORM_B, "attn_norm.bias", ARCH_D_EMBD, ARCH_D_NONE, 0 },
	{ ARCH_T_QKV, "attn_qkv.weight", ARCH_D_EMBD, ARCH_D_QKV, 0 },
	{ ARCH_T_BQKV, "attn_qkv.bias", ARCH_D_QKV, ARCH_D_NONE, 0 },
	{ ARCH_T_O, "attn_output.weight", ARCH_D_Q, ARCH_D_EMBD, 0 },
	{ ARCH_T_BO, "attn_output.bias", ARCH_D_EMBD, ARCH_D_NONE, 0 },
	{ ARCH_T_FFN_NORM, "ffn_norm.weight", ARCH_D_EMBD, ARCH_D_NONE, 0 },
	{ ARCH_T_FFN_NORM_B, "ffn_norm.bias", ARCH_D_EMBD, ARCH_D_NONE, 0 },
	{ ARCH_T_UP, "ffn_up.weight", ARCH_D_EMBD, ARCH_D_FF, 0 },
	{ ARCH_T_BUP, "ffn_up.bias", ARCH_D_FF, ARCH_D_NONE, 0 },
	{ ARCH_T_DOWN, "ffn_down.weight", ARCH_D_FF, ARCH_D_EMBD, 0 },
	{ ARCH_T_BDOWN, "ffn_down.bias", ARCH_D_EMBD, ARCH_D_NONE, 0 },
};

#define ARCH_LIST(a) a, ARCH_LEN(a)

static const struct arch arch_table[] = {
	{ "llama", "llama", 0, arch_llama_hparams,
	    ARCH_LIST(arch_llama_globals), ARCH_LIST(arch_llama_blk),
	    arch_llama_embed, arch_llama_layer, arch_llama_out_norm, 1 },
	{ "qwen2", "llama", 1, arch_llama_hparams,
	    ARCH_LIST(arch_llama_globals), ARCH_LIST(arch_qwen2_blk),
	    arch_llama_embed, arch_llama_layer, arch_llama_out_norm, 1 },
	{ "qwen3", "llama", 1, arch_llama_hparams,
	    ARCH_LIST(arch_llama_globals), ARCH_LIST(arch_qwen3_blk),
	    arch_llama_embed, arch_llama_layer, arch_llama_out_norm, 1 },
	{ "gemma3", "gemma3", 1, arch_gemma3_hparams,
	    ARCH_LIST(arch_llama_globals), ARCH_LIST(arch_gemma3_blk),
	    arch_llama_embed, arch_llama_layer, arch_llama_out_norm, 1 },
	{ "gpt2", "gpt2", 0, arch_gpt2_hparams, ARCH_LIST(arch_gpt2_globals),
	    ARCH_LIST(arch_gpt2_blk), arch_gpt2_embed, arch_gpt2_layer,
	    arch_gpt2_out_norm, 0 },
};

const struct arch *
arch_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARCH_LEN(arch_table); i++)
		if (strlen(arch_table[i].name) == len &&
		    memcmp(arch_table[i].name, name, len) == 0)
			return &arch_table[i];
	return NULL;
}

void
arch_names(char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < ARCH_LEN(arch_table) && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i > 0 ? ", " : "", arch_table[i].name);
}

int
arch_hp_int(const struct gguf *g, const char *suffix, uint32_t def,
    int required, uint32_t *out, struct err *err)
{
	struct gguf_str arch = { "?", 1 };
	uint32_t v;
	int rc = gguf_get_arch_u32(g, suffix, &v, err);

	(void)gguf_get_str(g, "general.architecture", &arch, NULL);
	if (rc == ERR_NOTFOUND) {
		if (required)
			return err_set(err, ERR_MODEL,
			    "%s: missing key '%.*s.%s'", gguf_path(g),
			    (int)(arch.len > 64 ? 64 : arch.len), arch.ptr,
			    suffix);
		*out = def;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (v < 1 || v > ARCH_MAX_DIM)
		return err_set(err, ERR_MODEL,
		    "%s: key '%.*s.%s' has value %" PRIu32 ", expected 1 to %u",
		    gguf_path(g), (int)(arch.len > 64 ? 64 : arch.len),
		    arch.ptr, suffix, v, ARCH_MAX_DIM);
	*out = v;
	return 0;
}

int
arch_hp_float(const struct gguf *g, const char *suffix, float def, float *out,
    struct err *err)
{
	int rc = gguf_get_arch_f32(g, suffix, out, err);

	if (rc == ERR_NOTFOUND) {
		*out = def;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (!isfinite(*out))
		return err_set(err, ERR_MODEL, "%s: key '%s' is not finite",
		    gguf_path(g), suffix);
	return 0;
}

static uint32_t
arch_pad32(uint32_t n)
{
	return (n + 31) / 32 * 32;
}

int
arch_hparams_read(
    const struct gguf *g, struct model_hparams *hp, struct err *err)
{
	const struct gguf_tensor *te;
	struct gguf_str name;
	const struct arch *a;
	uint32_t key_len, val_len;
	int rc;

	memset(hp, 0, sizeof *hp);
	rc = gguf_get_str(g, "general.architecture", &name, err);
	if (rc == ERR_NOTFOUND)
		return err_set(err, ERR_MODEL,
		    "%s: missing key 'general.architecture'", gguf_path(g));
	if (rc < 0)
		return rc;
	a = arch_find(name.ptr, name.len);
	if (a == NULL) {
		char names[ARCH_NAME_MAX];

		arch_names(names, sizeof names);
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: architecture '%.*s' is not supported (%s)",
		    gguf_path(g), (int)(name.len > 64 ? 64 : name.len),
		    name.ptr, names);
	}
	hp->def = a;
	hp->arch = a->name;
	if ((rc = arch_hp_int(g, "embedding_length", 0, 1, &hp->n_embd, err)) <
		0 ||
	    (rc = arch_hp_int(g, "block_count", 0, 1, &hp->n_layer, err)) < 0 ||
	    (rc = arch_hp_int(
		 g, "attention.head_count", 0, 1, &hp->n_head, err)) < 0 ||
	    (rc = arch_hp_int(g, "attention.head_count_kv", hp->n_head, 0,
		 &hp->n_head_kv, err)) < 0 ||
	    (rc = arch_hp_int(g, "feed_forward_length", 0, 1, &hp->n_ff, err)) <
		0 ||
	    (rc = arch_hp_int(
		 g, "context_length", 0, 0, &hp->n_ctx_train, err)) < 0)
		return rc;
	if (hp->n_embd % hp->n_head != 0 &&
	    gguf_get_arch_u32(g, "attention.key_length", &key_len, NULL) ==
		ERR_NOTFOUND)
		return err_set(err, ERR_MODEL,
		    "%s: embedding length %" PRIu32
		    " is not a multiple of the head count %" PRIu32,
		    gguf_path(g), hp->n_embd, hp->n_head);
	if (hp->n_head % hp->n_head_kv != 0)
		return err_set(err, ERR_MODEL,
		    "%s: head count %" PRIu32
		    " is not a multiple of the kv head count %" PRIu32,
		    gguf_path(g), hp->n_head, hp->n_head_kv);
	if ((rc = arch_hp_int(g, "attention.key_length",
		 hp->n_embd / hp->n_head, 0, &key_len, err)) < 0 ||
	    (rc = arch_hp_int(
		 g, "attention.value_length", key_len, 0, &val_len, err)) < 0)
		return rc;
	if (key_len != val_len)
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: key length %" PRIu32
		    " differs from value length %" PRIu32,
		    gguf_path(g), key_len, val_len);
	hp->head_dim = key_len;
	te = gguf_tensor_find(g, "token_embd.weight");
	if (te == NULL)
		return err_set(err, ERR_MODEL,
		    "%s: missing tensor 'token_embd.weight'", gguf_path(g));
	if (te->ne[1] < 1 || te->ne[1] > ARCH_MAX_DIM)
		return err_set(err, ERR_MODEL,
		    "%s: tensor 'token_embd.weight' has %" PRIu64
		    " rows, expected 1 to %u",
		    gguf_path(g), te->ne[1], ARCH_MAX_DIM);
	hp->n_vocab = (uint32_t)te->ne[1];
	hp->tied = gguf_tensor_find(g, "output.weight") == NULL;
	hp->q_dim = hp->n_head * hp->head_dim;
	hp->kv_dim = hp->n_head_kv * hp->head_dim;
	hp->embd_pad = arch_pad32(hp->n_embd);
	hp->q_pad = arch_pad32(hp->q_dim);
	hp->ff_pad = arch_pad32(hp->n_ff);
	hp->gu_w = 2 * hp->ff_pad;
	hp->embd_scale = 1.0f;
	hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim);
	return a->hparams(g, hp, err);
}

uint64_t
arch_dim_value(const struct model_hparams *hp, enum arch_dim d)
{
	switch (d) {
	case ARCH_D_EMBD:
		return hp->n_embd;
	case ARCH_D_FF:
		return hp->n_ff;
	case ARCH_D_Q:
		return hp->q_dim;
	case ARCH_D_KV:
		return hp->kv_dim;
	case ARCH_D_QKV:
		return (uint64_t)hp->q_dim + 2 * (uint64_t)hp->kv_dim;
	case ARCH_D_HEAD:
		return hp->head_dim;
	case ARCH_D_VOCAB:
		return hp->n_vocab;
	case ARCH_D_CTX:
		return hp->n_ctx_train;
	case ARCH_D_ROT2:
		return hp->n_rot / 2;
	case ARCH_D_NONE:
		break;
	}
	return 0;
}

static const char *
arch_type_name(uint32_t type)
{
	const struct ggml_type_info *ti = ggml_type_info(type);

	return ti != NULL ? ti->name : "unknown";
}

/*
 * Tensor T (NAME) with shape {NE0} (NE1 == 0: a vector, any float type)
 * or {NE0, NE1} (a matrix of a type the kernels run).
 */
static int
arch_tensor_check(const struct gguf *g, const struct gguf_tensor *t,
    const char *name, uint64_t ne0, uint64_t ne1, struct err *err)
{
	char got[96];
	size_t len = 0;
	uint32_t i;

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
		    gguf_path(g), name, arch_type_name(t->type));
	if (ne1 != 0 && !kern_type_supported(t->type))
		return err_set(err, ERR_UNSUPPORTED,
		    "%s: tensor '%s' has type %s, which the engine does not "
		    "support (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, "
		    "q4_K, q5_K, q6_K)",
		    gguf_path(g), name, arch_type_name(t->type));
	return 0;
}

int
arch_tensors(const struct gguf *g, const struct model_hparams *hp,
    const struct arch_tensor *list, size_t n, int l,
    const struct gguf_tensor **out, size_t count, struct err *err)
{
	char name[ARCH_NAME_MAX];
	size_t i;
	int rc;

	for (i = 0; i < count; i++)
		out[i] = NULL;
	for (i = 0; i < n; i++) {
		const struct arch_tensor *d = &list[i];
		const struct gguf_tensor *t;

		if (l >= 0)
			snprintf(name, sizeof name, "blk.%d.%s", l, d->name);
		else
			snprintf(name, sizeof name, "%s", d->name);
		t = gguf_tensor_find(g, name);
		if (t == NULL) {
			if (d->optional)
				continue;
			return err_set(err, ERR_MODEL,
			    "%s: missing tensor '%s'", gguf_path(g), name);
		}
		if ((rc = arch_tensor_check(g, t, name,
			 arch_dim_value(hp, d->d0), arch_dim_value(hp, d->d1),
			 err)) < 0)
			return rc;
		out[d->slot] = t;
	}
	return 0;
}

int
arch_fusable(const struct arch_rec *r, uint32_t l)
{
	const struct model_layer *ly = &r->m->layers[l];
	const struct model_hparams *hp = &r->m->hp;

	return ly->qkv.n_parts == 1 && ly->gu.n_parts == 1 &&
	    hp->head_dim % 2 == 0 && hp->n_embd % 4 == 0 &&
	    kern_fusable(r->k, &ly->qkv.parts[0].w, r->n) &&
	    kern_fusable(r->k, &ly->gu.parts[0].w, r->n);
}
