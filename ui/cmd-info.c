/*
 * cmd-info: "vkchat info MODEL.gguf" describes a model file: the format,
 * the architecture's hyperparameters, the weight types, whether the engine
 * runs it (the architecture's particulars: gemma3's sliding window, gpt2's
 * learned positions; or why it is refused and every tensor of a type the
 * kernels do not run), the tokenizer and its special tokens, and the chat
 * template.  --json writes the same as one JSON object.
 *
 * Everything is gathered once into a struct cmd_info (absent keys stay
 * "unset") and then printed by one of two printers, so the human and JSON
 * forms cannot drift apart.  Strings from the file are untrusted: the
 * human form shows them quoted with control characters and invalid UTF-8
 * escaped; the JSON writer escapes them itself.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "cmd.h"
#include "cmd-store.h"
#include "gguf.h"
#include "kern.h"
#include "model.h"
#include "tokenizer.h"
#include "json.h"
#include "utf8.h"
#include "util.h"

/* Unsupported tensors listed by name; the rest are counted. */
#define CMD_INFO_BAD_MAX 8

/* A metadata number that may be absent or of the wrong type. */
enum cmd_info_state {
	CMD_INFO_UNSET,
	CMD_INFO_SET,
	CMD_INFO_BAD, /* present but not convertible */
};

struct cmd_info_num {
	enum cmd_info_state state;
	uint64_t u;
	double f;
};

struct cmd_info_special {
	const char *label; /* "bos" */
	struct cmd_info_num id;
	struct gguf_str text; /* len 0 and ptr NULL: not in the vocabulary */
};

struct cmd_info_weights {
	uint32_t type;
	uint64_t tensors;
	uint64_t bytes;
};

struct cmd_info {
	const struct gguf *g;
	struct gguf_str arch, name, tok_model, tok_pre, chat_template, system;
	int has_arch, has_name, has_tok_model, has_tok_pre, has_template;
	int has_system; /* vkchat.system_prompt: the model's own */
	uint64_t params;
	struct cmd_info_num ctx, layers, heads, kv_heads, embd, ffn, head_dim;
	struct cmd_info_num rope_base, rope_dims, rope_factor, rope_orig_ctx;
	struct gguf_str rope_type;
	int has_rope_type;
	struct cmd_info_num rms_eps, norm_eps;
	struct cmd_info_num ftype; /* general.file_type */
	struct cmd_info_weights weights[GGML_TYPE_COUNT];
	size_t n_weights;
	struct cmd_info_num vocab;
	struct cmd_info_special special[5];
	struct cmd_info_num add_bos, add_eos;
	const char *chat_format; /* detected chat format */
	struct sbuf chat_why;	 /* why it was chosen */
	/* model_validate's verdict (files with tensors only) */
	int engine_checked, engine_ok;
	struct err engine_err;
	struct model_hparams hp; /* valid when engine_ok */
	const struct gguf_tensor *bad[CMD_INFO_BAD_MAX]; /* unsupported types */
	size_t n_bad, n_bad_all;
};

/* The unsigned integer KEY into *n. */
static void
cmd_info_u(const struct gguf *g, const char *key, struct cmd_info_num *n)
{
	uint64_t v;
	int rc = gguf_get_u64(g, key, &v, NULL);

	n->state = rc == 0	 ? CMD_INFO_SET
	    : rc == ERR_NOTFOUND ? CMD_INFO_UNSET
				 : CMD_INFO_BAD;
	n->u = rc == 0 ? v : 0;
}

/* The float KEY into *n. */
static void
cmd_info_f(const struct gguf *g, const char *key, struct cmd_info_num *n)
{
	float v;
	int rc = gguf_get_f32(g, key, &v, NULL), digits;

	n->state = rc == 0	 ? CMD_INFO_SET
	    : rc == ERR_NOTFOUND ? CMD_INFO_UNSET
				 : CMD_INFO_BAD;
	n->f = rc == 0 ? v : 0;
	/* The shortest decimal that reads back as the file's float. */
	for (digits = 6; rc == 0 && digits <= 9; digits++) {
		char buf[32];
		double d;

		snprintf(buf, sizeof(buf), "%.*g", digits, (double)v);
		if (util_parse_double(buf, &d) == 0 && (float)d == v) {
			n->f = d;
			break;
		}
	}
}

/* The bool KEY into *n (as 0/1). */
static void
cmd_info_b(const struct gguf *g, const char *key, struct cmd_info_num *n)
{
	int v;
	int rc = gguf_get_bool(g, key, &v, NULL);

	n->state = rc == 0	 ? CMD_INFO_SET
	    : rc == ERR_NOTFOUND ? CMD_INFO_UNSET
				 : CMD_INFO_BAD;
	n->u = rc == 0 ? (uint64_t)v : 0;
}

/* "{arch}.SUFFIX" as an unsigned integer or a float. */
static void
cmd_info_arch_u(struct cmd_info *in, const char *suffix, struct cmd_info_num *n)
{
	char *key;

	n->state = CMD_INFO_UNSET;
	if (!in->has_arch)
		return;
	key = xasprintf("%.*s.%s", (int)in->arch.len, in->arch.ptr, suffix);
	cmd_info_u(in->g, key, n);
	free(key);
}

static void
cmd_info_arch_f(struct cmd_info *in, const char *suffix, struct cmd_info_num *n)
{
	char *key;

	n->state = CMD_INFO_UNSET;
	if (!in->has_arch)
		return;
	key = xasprintf("%.*s.%s", (int)in->arch.len, in->arch.ptr, suffix);
	cmd_info_f(in->g, key, n);
	free(key);
}

static int
cmd_info_str(const struct gguf *g, const char *key, struct gguf_str *s)
{
	return gguf_get_str(g, key, s, NULL) == 0;
}

/*
 * The chat template and the chat format vkchat would use: detected from
 * the template's markers, else from the vocabulary's special tokens (when
 * the tokenizer loads), else plain.
 */
static void
cmd_info_chat_template(struct cmd_info *in)
{
	struct tokenizer *tok = NULL;
	char *tmpl = NULL;

	in->has_template =
	    cmd_info_str(in->g, "tokenizer.chat_template", &in->chat_template);
	if (in->has_template)
		tmpl = gguf_str_dup(in->chat_template);
	in->has_system =
	    cmd_info_str(in->g, "vkchat.system_prompt", &in->system);
	sbuf_init(&in->chat_why);
	if (tokenizer_load(in->g, &tok, NULL) != 0)
		tok = NULL;
	in->chat_format =
	    chat_format_name(chat_detect_tokenizer(tmpl, tok, &in->chat_why));
	tokenizer_free(tok);
	free(tmpl);
}

/* The special tokens: ids and, when in the vocabulary, their text. */
static void
cmd_info_specials(struct cmd_info *in)
{
	static const struct {
		const char *label, *key, *alt;
	} keys[5] = {
		{ "bos", "tokenizer.ggml.bos_token_id", NULL },
		{ "eos", "tokenizer.ggml.eos_token_id", NULL },
		/* llama.cpp writes unknown_, some converters unk_. */
		{ "unk", "tokenizer.ggml.unknown_token_id",
		    "tokenizer.ggml.unk_token_id" },
		{ "pad", "tokenizer.ggml.padding_token_id", NULL },
		{ "eot", "tokenizer.ggml.eot_token_id", NULL },
	};
	const struct gguf_value *tokens = NULL;
	size_t i;

	if (gguf_get_arr(in->g, "tokenizer.ggml.tokens", GGUF_STRING, &tokens,
		NULL) == 0) {
		in->vocab.state = CMD_INFO_SET;
		in->vocab.u = tokens->v.arr.len;
	} else {
		in->vocab.state = gguf_find(in->g, "tokenizer.ggml.tokens")
		    ? CMD_INFO_BAD
		    : CMD_INFO_UNSET;
	}
	for (i = 0; i < ARRAY_LEN(keys); i++) {
		struct cmd_info_special *s = &in->special[i];

		s->label = keys[i].label;
		cmd_info_u(in->g, keys[i].key, &s->id);
		if (s->id.state == CMD_INFO_UNSET && keys[i].alt != NULL)
			cmd_info_u(in->g, keys[i].alt, &s->id);
		if (s->id.state == CMD_INFO_SET && tokens != NULL &&
		    s->id.u < tokens->v.arr.len)
			s->text = tokens->v.arr.strs[s->id.u];
	}
}

/*
 * Whether the engine runs the file (model_validate, on the host), and
 * every tensor whose type the kernels do not run: matrices of a type
 * kern_type_supported refuses, vectors other than f32, f16, bf16.
 */
static void
cmd_info_engine(struct cmd_info *in)
{
	size_t i;

	if (gguf_tensor_count(in->g) == 0)
		return;
	in->engine_checked = 1;
	in->engine_ok = model_validate(in->g, &in->hp, &in->engine_err) == 0;
	for (i = 0; i < gguf_tensor_count(in->g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(in->g, i);
		int ok = t->n_dims >= 2 ? kern_type_supported(t->type)
					: t->type == GGML_TYPE_F32 ||
			t->type == GGML_TYPE_F16 || t->type == GGML_TYPE_BF16;

		if (ok)
			continue;
		if (in->n_bad < CMD_INFO_BAD_MAX)
			in->bad[in->n_bad++] = t;
		in->n_bad_all++;
	}
}

/* The name of ggml type TYPE, or "type N" for one ggml does not list. */
static const char *
cmd_info_type_name(uint32_t type, char *buf, size_t size)
{
	const struct ggml_type_info *ti = ggml_type_info(type);

	if (ti != NULL)
		return ti->name;
	snprintf(buf, size, "type %" PRIu32, type);
	return buf;
}

static void
cmd_info_gather(const struct gguf *g, struct cmd_info *in)
{
	size_t i, j;

	memset(in, 0, sizeof(*in));
	in->g = g;
	in->has_arch = cmd_info_str(g, "general.architecture", &in->arch);
	in->has_name = cmd_info_str(g, "general.name", &in->name);
	cmd_info_u(g, "general.file_type", &in->ftype);
	for (i = 0; i < gguf_tensor_count(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);

		in->params += t->n_elements;
		for (j = 0; j < in->n_weights; j++)
			if (in->weights[j].type == t->type)
				break;
		if (j == in->n_weights) {
			in->weights[j].type = t->type;
			in->n_weights++;
		}
		in->weights[j].tensors++;
		in->weights[j].bytes += t->size;
	}
	cmd_info_arch_u(in, "context_length", &in->ctx);
	cmd_info_arch_u(in, "block_count", &in->layers);
	cmd_info_arch_u(in, "attention.head_count", &in->heads);
	cmd_info_arch_u(in, "attention.head_count_kv", &in->kv_heads);
	cmd_info_arch_u(in, "embedding_length", &in->embd);
	cmd_info_arch_u(in, "feed_forward_length", &in->ffn);
	cmd_info_arch_u(in, "attention.key_length", &in->head_dim);
	if (in->head_dim.state == CMD_INFO_UNSET &&
	    in->embd.state == CMD_INFO_SET && in->heads.state == CMD_INFO_SET &&
	    in->heads.u > 0) {
		in->head_dim.state = CMD_INFO_SET;
		in->head_dim.u = in->embd.u / in->heads.u;
	}
	cmd_info_arch_f(in, "rope.freq_base", &in->rope_base);
	cmd_info_arch_u(in, "rope.dimension_count", &in->rope_dims);
	if (in->has_arch) {
		char *key = xasprintf(
		    "%.*s.rope.scaling.type", (int)in->arch.len, in->arch.ptr);

		in->has_rope_type = cmd_info_str(g, key, &in->rope_type);
		free(key);
	}
	cmd_info_arch_f(in, "rope.scaling.factor", &in->rope_factor);
	if (in->rope_factor.state == CMD_INFO_UNSET)
		cmd_info_arch_f(in, "rope.scale_linear", &in->rope_factor);
	cmd_info_arch_u(
	    in, "rope.scaling.original_context_length", &in->rope_orig_ctx);
	cmd_info_arch_f(in, "attention.layer_norm_rms_epsilon", &in->rms_eps);
	cmd_info_arch_f(in, "attention.layer_norm_epsilon", &in->norm_eps);
	in->has_tok_model =
	    cmd_info_str(g, "tokenizer.ggml.model", &in->tok_model);
	in->has_tok_pre = cmd_info_str(g, "tokenizer.ggml.pre", &in->tok_pre);
	cmd_info_specials(in);
	cmd_info_b(g, "tokenizer.ggml.add_bos_token", &in->add_bos);
	cmd_info_b(g, "tokenizer.ggml.add_eos_token", &in->add_eos);
	cmd_info_chat_template(in);
	cmd_info_engine(in);
}

/* --- the human form --- */

/*
 * S made safe for a terminal: escapes for anything not printable, and (with
 * QUOTE) in double quotes, where whitespace at the ends matters.
 */
static void
cmd_info_quote(struct sbuf *sb, struct gguf_str s, size_t max, int quote)
{
	size_t i = 0;

	if (quote)
		sbuf_addc(sb, '"');
	while (i < s.len) {
		unsigned char c = (unsigned char)s.ptr[i];
		uint32_t cp;
		int n;

		if (i >= max) {
			sbuf_adds(sb, "...");
			break;
		}
		if (quote && (c == '"' || c == '\\')) {
			sbuf_addf(sb, "\\%c", c);
			i++;
			continue;
		}
		if (c >= 0x20 && c < 0x7f) {
			sbuf_addc(sb, (char)c);
			i++;
			continue;
		}
		n = utf8_decode(s.ptr + i, (size_t)(s.len - i), &cp);
		if (n > 1 && cp >= 0xa0) {
			sbuf_add(sb, s.ptr + i, (size_t)n);
			i += (size_t)n;
			continue;
		}
		sbuf_addf(sb, "\\x%02x", c);
		i++;
	}
	if (quote)
		sbuf_addc(sb, '"');
}

static void
cmd_info_line(const char *label, const char *value)
{
	printf("%-15s %s\n", label, value);
}

/*
 * llama.cpp's name for general.file_type FT (enum llama_ftype: the type
 * most tensors have, and for the K-quants which mix is used), NULL for
 * values it does not (or no longer) define.
 */
static const char *
cmd_info_ftype_name(uint64_t ft)
{
	static const char *const names[] = { "ALL_F32", "MOSTLY_F16",
		"MOSTLY_Q4_0", "MOSTLY_Q4_1", NULL, NULL, NULL, "MOSTLY_Q8_0",
		"MOSTLY_Q5_0", "MOSTLY_Q5_1", "MOSTLY_Q2_K", "MOSTLY_Q3_K_S",
		"MOSTLY_Q3_K_M", "MOSTLY_Q3_K_L", "MOSTLY_Q4_K_S",
		"MOSTLY_Q4_K_M", "MOSTLY_Q5_K_S", "MOSTLY_Q5_K_M",
		"MOSTLY_Q6_K" };

	if (ft == 32)
		return "MOSTLY_BF16";
	return ft < ARRAY_LEN(names) ? names[ft] : NULL;
}

/* The file type line: its name and number, "-" when unset. */
static void
cmd_info_ftype_line(const struct cmd_info_num *n)
{
	char buf[64];
	const char *name;

	if (n->state != CMD_INFO_SET) {
		cmd_info_line("file type",
		    n->state == CMD_INFO_UNSET ? "-" : "invalid (wrong type)");
		return;
	}
	name = cmd_info_ftype_name(n->u);
	snprintf(buf, sizeof(buf), "%s (%" PRIu64 ")",
	    name != NULL ? name : "unknown", n->u);
	cmd_info_line("file type", buf);
}

/* A number line: the value, "-" when unset, "invalid" when mistyped. */
static void
cmd_info_num_line(const char *label, const struct cmd_info_num *n, int is_f)
{
	char buf[64];

	if (n->state == CMD_INFO_UNSET)
		snprintf(buf, sizeof(buf), "-");
	else if (n->state == CMD_INFO_BAD)
		snprintf(buf, sizeof(buf), "invalid (wrong type)");
	else if (is_f)
		snprintf(buf, sizeof(buf), "%g", n->f);
	else
		snprintf(buf, sizeof(buf), "%" PRIu64, n->u);
	cmd_info_line(label, buf);
}

static void
cmd_info_str_line(const char *label, int has, struct gguf_str s)
{
	struct sbuf sb;

	if (!has) {
		cmd_info_line(label, "-");
		return;
	}
	sbuf_init(&sb);
	cmd_info_quote(&sb, s, 1024, 0);
	cmd_info_line(label, sb.buf);
	sbuf_release(&sb);
}

/* 292480 -> "292.5K". */
static void
cmd_info_count(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = { "", "K", "M", "B", "T" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1000 && u + 1 < ARRAY_LEN(unit)) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64, n);
	else
		snprintf(buf, size, "%.1f%s", v, unit[u]);
}

/* The architecture's hyperparameters. */
static void
cmd_info_print_model(const struct cmd_info *in)
{
	cmd_info_num_line("context length", &in->ctx, 0);
	cmd_info_num_line("layers", &in->layers, 0);
	cmd_info_num_line("heads", &in->heads, 0);
	cmd_info_num_line("kv heads", &in->kv_heads, 0);
	cmd_info_num_line("embedding", &in->embd, 0);
	cmd_info_num_line("ffn", &in->ffn, 0);
	cmd_info_num_line("head dim", &in->head_dim, 0);
	cmd_info_num_line("rope base", &in->rope_base, 1);
	cmd_info_num_line("rope dims", &in->rope_dims, 0);
	if (in->has_rope_type)
		cmd_info_str_line("rope scaling", 1, in->rope_type);
	if (in->rope_factor.state != CMD_INFO_UNSET)
		cmd_info_num_line("rope factor", &in->rope_factor, 1);
	if (in->rope_orig_ctx.state != CMD_INFO_UNSET)
		cmd_info_num_line("rope orig ctx", &in->rope_orig_ctx, 0);
	if (in->rms_eps.state == CMD_INFO_UNSET &&
	    in->norm_eps.state != CMD_INFO_UNSET)
		cmd_info_num_line("norm eps", &in->norm_eps, 1);
	else
		cmd_info_num_line("rms eps", &in->rms_eps, 1);
}

/*
 * The engine's verdict: the architecture's particulars when it runs the
 * file, else the reason and the tensors of unsupported types.
 */
static void
cmd_info_print_engine(const struct cmd_info *in)
{
	const struct model_hparams *hp = &in->hp;
	char buf[256], tb[32];
	struct sbuf sb;
	size_t i;

	if (!in->engine_checked)
		return;
	printf("\n");
	if (in->engine_ok) {
		snprintf(buf, sizeof buf, "runs it (%s)", hp->arch);
		cmd_info_line("engine", buf);
		cmd_info_line(
		    "norm", hp->layer_norm ? "LayerNorm with bias" : "RMSNorm");
		cmd_info_line("positions",
		    hp->ctx_limit	? "learned (position_embd)"
			: hp->rope_neox ? "rope, NEOX pairs"
					: "rope");
		if (hp->ctx_limit) {
			snprintf(buf, sizeof buf,
			    "%" PRIu32 " positions (the longest --ctx)",
			    hp->n_ctx_train);
			cmd_info_line("trained ctx", buf);
		}
		if (hp->swa_pattern != 0) {
			snprintf(buf, sizeof buf,
			    "%" PRIu32 " positions on %" PRIu32
			    " of every %" PRIu32 " layers",
			    hp->n_swa, hp->swa_pattern - 1, hp->swa_pattern);
			cmd_info_line("sliding window", buf);
		}
		cmd_info_line(
		    "head", hp->tied ? "tied to token_embd" : "output.weight");
		return;
	}
	sbuf_init(&sb);
	/* the message without the file name (shown above) */
	{
		const char *msg = in->engine_err.msg;
		size_t pl = strlen(gguf_path(in->g));

		if (strncmp(msg, gguf_path(in->g), pl) == 0 &&
		    strncmp(msg + pl, ": ", 2) == 0)
			msg += pl + 2;
		sbuf_adds(&sb, "refused: ");
		sbuf_adds(&sb, msg);
	}
	cmd_info_line("engine", sb.buf);
	sbuf_release(&sb);
	for (i = 0; i < in->n_bad; i++) {
		const struct gguf_tensor *t = in->bad[i];

		snprintf(buf, sizeof buf, "%.*s (%s)",
		    (int)(t->name.len > 96 ? 96 : t->name.len), t->name.ptr,
		    cmd_info_type_name(t->type, tb, sizeof tb));
		cmd_info_line(i == 0 ? "unsupported" : "", buf);
	}
	if (in->n_bad_all > in->n_bad) {
		snprintf(buf, sizeof buf, "and %zu more tensors",
		    in->n_bad_all - in->n_bad);
		cmd_info_line("", buf);
	}
}

static void
cmd_info_print(const struct cmd_info *in)
{
	const struct gguf *g = in->g;
	char buf[256], b1[32], b2[32];
	struct gguf_str path;
	struct sbuf sb;
	size_t i;

	path.ptr = gguf_path(g);
	path.len = strlen(path.ptr);
	cmd_info_str_line("file", 1, path);
	gguf_identity(g, b1);
	snprintf(buf, sizeof(buf), "%" PRIu64 " bytes (%s)", gguf_file_size(g),
	    util_bytes(gguf_file_size(g), b2, sizeof(b2)));
	cmd_info_line("file size", buf);
	snprintf(buf, sizeof(buf), "%" PRIu32, gguf_version(g));
	cmd_info_line("gguf version", buf);
	snprintf(buf, sizeof(buf), "%" PRIu64, gguf_alignment(g));
	cmd_info_line("alignment", buf);
	snprintf(buf, sizeof(buf), "%zu%s", gguf_tensor_count(g),
	    gguf_tensor_count(g) == 0 ? " (vocabulary only)" : "");
	cmd_info_line("tensors", buf);
	cmd_info_line("identity", b1);

	printf("\n");
	cmd_info_str_line("architecture", in->has_arch, in->arch);
	cmd_info_str_line("name", in->has_name, in->name);
	cmd_info_ftype_line(&in->ftype);
	if (gguf_tensor_count(g) > 0) {
		cmd_info_count(in->params, b1, sizeof(b1));
		snprintf(buf, sizeof(buf), "%" PRIu64 " (%s)", in->params, b1);
		cmd_info_line("parameters", buf);
		cmd_info_print_model(in);
	}
	if (in->n_weights > 0)
		printf("\n");
	for (i = 0; i < in->n_weights; i++) {
		const struct cmd_info_weights *w = &in->weights[i];

		snprintf(buf, sizeof(buf),
		    "%-7s %5" PRIu64 " tensors  %12" PRIu64 " bytes (%s)",
		    ggml_type_info(w->type)->name, w->tensors, w->bytes,
		    util_bytes(w->bytes, b2, sizeof(b2)));
		cmd_info_line(i == 0 ? "weights" : "", buf);
	}
	cmd_info_print_engine(in);

	printf("\n");
	sbuf_init(&sb);
	if (in->has_tok_model) {
		cmd_info_quote(&sb, in->tok_model, 64, 0);
		if (in->has_tok_pre) {
			sbuf_adds(&sb, " (pre ");
			cmd_info_quote(&sb, in->tok_pre, 64, 0);
			sbuf_addc(&sb, ')');
		}
	} else {
		sbuf_adds(&sb, "-");
	}
	cmd_info_line("tokenizer", sb.buf);
	sbuf_reset(&sb);
	if (in->vocab.state == CMD_INFO_SET) {
		sbuf_addf(&sb, "%" PRIu64 " tokens", in->vocab.u);
		cmd_info_line("vocabulary", sb.buf);
	} else {
		cmd_info_num_line("vocabulary", &in->vocab, 0);
	}
	for (i = 0; i < ARRAY_LEN(in->special); i++) {
		const struct cmd_info_special *s = &in->special[i];

		if (s->id.state != CMD_INFO_SET) {
			cmd_info_num_line(s->label, &s->id, 0);
			continue;
		}
		sbuf_reset(&sb);
		sbuf_addf(&sb, "%" PRIu64 " ", s->id.u);
		if (s->text.ptr != NULL)
			cmd_info_quote(&sb, s->text, 64, 1);
		else
			sbuf_adds(&sb, "(not in the vocabulary)");
		cmd_info_line(s->label, sb.buf);
	}
	sbuf_release(&sb);
	cmd_info_line("add bos",
	    in->add_bos.state != CMD_INFO_SET ? "-"
		: in->add_bos.u		      ? "yes"
					      : "no");
	cmd_info_line("add eos",
	    in->add_eos.state != CMD_INFO_SET ? "-"
		: in->add_eos.u		      ? "yes"
					      : "no");
	if (in->has_template)
		snprintf(buf, sizeof(buf), "present (%" PRIu64 " bytes)",
		    in->chat_template.len);
	else
		snprintf(buf, sizeof(buf), "absent");
	cmd_info_line("chat template", buf);
	snprintf(
	    buf, sizeof(buf), "%s (%s)", in->chat_format, in->chat_why.buf);
	cmd_info_line("chat format", buf);
	if (in->has_system) {
		char *sys = gguf_str_dup(in->system);

		sbuf_init(&sb);
		cmd_store_safe(&sb, sys, 0);
		cmd_info_line("system prompt", sb.buf);
		sbuf_release(&sb);
		free(sys);
	}
}

/* --- the JSON form --- */

static void
cmd_info_json_num(struct json_writer *w, const char *key,
    const struct cmd_info_num *n, int is_f)
{
	json_key(w, key);
	if (n->state != CMD_INFO_SET)
		json_null(w);
	else if (is_f)
		json_num(w, n->f);
	else
		json_int(w, (int64_t)n->u);
}

static void
cmd_info_json_str(
    struct json_writer *w, const char *key, int has, struct gguf_str s)
{
	json_key(w, key);
	if (has)
		json_strn(w, s.ptr, (size_t)s.len);
	else
		json_null(w);
}

/*
 * "engine": null for a vocabulary-only file; else supported, the error
 * (null when supported), the unsupported tensors and, when supported,
 * the architecture's particulars.
 */
static void
cmd_info_json_engine(const struct cmd_info *in, struct json_writer *w)
{
	const struct model_hparams *hp = &in->hp;
	char tb[32];
	size_t i;

	json_key(w, "engine");
	if (!in->engine_checked) {
		json_null(w);
		return;
	}
	json_obj_begin(w);
	json_key(w, "supported");
	json_bool(w, in->engine_ok);
	json_key(w, "error");
	if (in->engine_ok)
		json_null(w);
	else
		json_str(w, in->engine_err.msg);
	json_key(w, "unsupported_tensors");
	json_arr_begin(w);
	for (i = 0; i < in->n_bad; i++) {
		char *name = gguf_str_dup(in->bad[i]->name);

		json_obj_begin(w);
		json_key(w, "name");
		json_str(w, name);
		json_key(w, "type");
		json_str(
		    w, cmd_info_type_name(in->bad[i]->type, tb, sizeof tb));
		json_end(w);
		free(name);
	}
	json_end(w);
	json_key(w, "unsupported_count");
	json_int(w, (int64_t)in->n_bad_all);
	if (in->engine_ok) {
		json_key(w, "norm");
		json_str(w, hp->layer_norm ? "layernorm" : "rmsnorm");
		json_key(w, "positions");
		json_str(w,
		    hp->ctx_limit	? "learned"
			: hp->rope_neox ? "rope_neox"
					: "rope");
		json_key(w, "max_ctx");
		if (hp->ctx_limit)
			json_int(w, hp->n_ctx_train);
		else
			json_null(w);
		json_key(w, "sliding_window");
		if (hp->swa_pattern != 0) {
			json_obj_begin(w);
			json_key(w, "window");
			json_int(w, hp->n_swa);
			json_key(w, "pattern");
			json_int(w, hp->swa_pattern);
			json_end(w);
		} else {
			json_null(w);
		}
		json_key(w, "tied");
		json_bool(w, hp->tied);
	}
	json_end(w);
}

static void
cmd_info_json(const struct cmd_info *in, struct sbuf *out)
{
	const struct gguf *g = in->g;
	struct json_writer w;
	char id[17];
	size_t i;

	gguf_identity(g, id);
	json_writer_init(&w, out, 1);
	json_obj_begin(&w);
	json_key(&w, "file");
	json_str(&w, gguf_path(g));
	json_key(&w, "file_size");
	json_int(&w, (int64_t)gguf_file_size(g));
	json_key(&w, "gguf_version");
	json_int(&w, gguf_version(g));
	json_key(&w, "alignment");
	json_int(&w, (int64_t)gguf_alignment(g));
	json_key(&w, "tensor_count");
	json_int(&w, (int64_t)gguf_tensor_count(g));
	json_key(&w, "vocab_only");
	json_bool(&w, gguf_tensor_count(g) == 0);
	json_key(&w, "identity");
	json_str(&w, id);
	cmd_info_json_str(&w, "architecture", in->has_arch, in->arch);
	cmd_info_json_str(&w, "name", in->has_name, in->name);
	cmd_info_json_num(&w, "file_type", &in->ftype, 0);
	json_key(&w, "file_type_name");
	if (in->ftype.state == CMD_INFO_SET &&
	    cmd_info_ftype_name(in->ftype.u) != NULL)
		json_str(&w, cmd_info_ftype_name(in->ftype.u));
	else
		json_null(&w);
	json_key(&w, "parameters");
	json_int(&w, (int64_t)in->params);
	cmd_info_json_num(&w, "context_length", &in->ctx, 0);
	cmd_info_json_num(&w, "layers", &in->layers, 0);
	cmd_info_json_num(&w, "heads", &in->heads, 0);
	cmd_info_json_num(&w, "kv_heads", &in->kv_heads, 0);
	cmd_info_json_num(&w, "embedding", &in->embd, 0);
	cmd_info_json_num(&w, "ffn", &in->ffn, 0);
	cmd_info_json_num(&w, "head_dim", &in->head_dim, 0);
	json_key(&w, "rope");
	json_obj_begin(&w);
	cmd_info_json_num(&w, "freq_base", &in->rope_base, 1);
	cmd_info_json_num(&w, "dimension_count", &in->rope_dims, 0);
	cmd_info_json_str(&w, "scaling_type", in->has_rope_type, in->rope_type);
	cmd_info_json_num(&w, "scaling_factor", &in->rope_factor, 1);
	cmd_info_json_num(&w, "original_context_length", &in->rope_orig_ctx, 0);
	json_end(&w);
	cmd_info_json_num(&w, "rms_eps", &in->rms_eps, 1);
	cmd_info_json_num(&w, "norm_eps", &in->norm_eps, 1);
	json_key(&w, "weights");
	json_arr_begin(&w);
	for (i = 0; i < in->n_weights; i++) {
		json_obj_begin(&w);
		json_key(&w, "type");
		json_str(&w, ggml_type_info(in->weights[i].type)->name);
		json_key(&w, "tensors");
		json_int(&w, (int64_t)in->weights[i].tensors);
		json_key(&w, "bytes");
		json_int(&w, (int64_t)in->weights[i].bytes);
		json_end(&w);
	}
	json_end(&w);
	cmd_info_json_engine(in, &w);
	json_key(&w, "tokenizer");
	json_obj_begin(&w);
	cmd_info_json_str(&w, "model", in->has_tok_model, in->tok_model);
	cmd_info_json_str(&w, "pre", in->has_tok_pre, in->tok_pre);
	cmd_info_json_num(&w, "vocab_size", &in->vocab, 0);
	json_key(&w, "special");
	json_obj_begin(&w);
	for (i = 0; i < ARRAY_LEN(in->special); i++) {
		const struct cmd_info_special *s = &in->special[i];

		json_key(&w, s->label);
		if (s->id.state != CMD_INFO_SET) {
			json_null(&w);
			continue;
		}
		json_obj_begin(&w);
		json_key(&w, "id");
		json_int(&w, (int64_t)s->id.u);
		cmd_info_json_str(&w, "text", s->text.ptr != NULL, s->text);
		json_end(&w);
	}
	json_end(&w);
	json_key(&w, "add_bos");
	if (in->add_bos.state == CMD_INFO_SET)
		json_bool(&w, (int)in->add_bos.u);
	else
		json_null(&w);
	json_key(&w, "add_eos");
	if (in->add_eos.state == CMD_INFO_SET)
		json_bool(&w, (int)in->add_eos.u);
	else
		json_null(&w);
	json_end(&w);
	json_key(&w, "chat_template");
	json_obj_begin(&w);
	json_key(&w, "present");
	json_bool(&w, in->has_template);
	json_key(&w, "bytes");
	json_int(&w, in->has_template ? (int64_t)in->chat_template.len : 0);
	json_end(&w);
	json_key(&w, "system_prompt");
	if (in->has_system) {
		char *sys = gguf_str_dup(in->system);

		json_str(&w, sys);
		free(sys);
	} else {
		json_null(&w);
	}
	json_key(&w, "chat_format");
	json_obj_begin(&w);
	json_key(&w, "name");
	json_str(&w, in->chat_format);
	json_key(&w, "why");
	json_str(&w, in->chat_why.buf);
	json_end(&w);
	json_end(&w);
	sbuf_addc(out, '\n');
}

static void
cmd_info_usage(FILE *f)
{
	fprintf(f,
	    "usage: vkchat info [--json] MODEL.gguf\n"
	    "       vkchat info --devices [--json]\n"
	    "\n"
	    "Describe a GGUF model file: format, architecture, weight "
	    "types,\n"
	    "tokenizer, special tokens and chat template.\n"
	    "\n"
	    "  --json     print the same as one JSON object\n"
	    "  --devices  list the Vulkan devices instead (as vkchat devices)\n"
	    "  -h, --help show this help\n");
}

int
cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "devices", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_info in;
	struct gguf *g;
	struct err err;
	int c, json = 0, devices = 0, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'd':
			devices = 1;
			break;
		case 'h':
			cmd_info_usage(stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("info", argv);
		}
	}
	if (devices) {
		char *dargs[] = { (char *)"devices", (char *)"--json", NULL };

		if (argc - optind != 0) {
			cmd_error("info: --devices takes no model file");
			return EXIT_USAGE;
		}
		return cmd_devices(json ? 2 : 1, dargs);
	}
	if (argc - optind != 1) {
		cmd_error("info: %s",
		    argc - optind == 0 ? "no model file given"
				       : "give one model file");
		cmd_usage_hint("info");
		return EXIT_USAGE;
	}
	rc = gguf_open(argv[optind], &g, &err);
	if (rc < 0) {
		cmd_fail(&err);
		/* any file that does not open as a model is a model-file
		 * problem: status 2, as in run and chat */
		return err.code == ERR_NOMEM ? EXIT_NOMEM : EXIT_MODEL;
	}
	cmd_info_gather(g, &in);
	if (json) {
		struct sbuf sb;

		sbuf_init(&sb);
		cmd_info_json(&in, &sb);
		fputs(sb.buf, stdout);
		sbuf_release(&sb);
	} else {
		cmd_info_print(&in);
	}
	sbuf_release(&in.chat_why);
	gguf_close(g);
	return EXIT_OK;
}
