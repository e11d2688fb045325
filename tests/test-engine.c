/*
 * test-engine: the model graph and the engine on lavapipe, with the
 * validation layer on and required to stay silent.
 *
 * Oracle: random-weight llama models from tests/model-gen.c (head sizes
 * 8, 16, 64 and 128, GQA ratios 1, 2 and 4, tied and untied heads, rope
 * scaling, rows that are not a multiple of 32, every weight type) run
 * through the engine and through the scalar reference (tests/ref.c) over
 * the same tokens: a prompt chunk evaluated in one batch (the tiled
 * matrix-matrix kernels) followed by single-token decode steps (the
 * matrix-vector kernels), logits compared at every position.
 *
 * Tolerances.  The oracle and the engine read the same quantized
 * weights (the oracle dequantizes exactly what the shaders decode), so
 * the weight type adds no quantization error: what differs is f32
 * summation order in the products (relative error ~1e-6 of the sums),
 * the f16 KV cache (each cached K and V value is rounded to 11 bits, a
 * relative error up to 2^-11 = 4.9e-4 that moves attention scores and
 * outputs by about that fraction), and the GPU's exp/sin/cos.  Logits of
 * these models have a spread of a few units, so the KV rounding alone
 * gives errors of a few 1e-3 after two layers.  The bound is therefore
 * 2e-2 absolute (about 10x the observed worst case, still far below the
 * logit spread: a wrong rope, mask or head would be off by units) and a
 * cosine similarity above 0.99995 at every position; the types differ
 * only in the weights' magnitudes, so one bound serves all.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gguf-write.h"
#include "gguf.h"
#include "harness.h"
#include "kern.h"
#include "model-gen.h"
#include "model.h"
#include "quant.h"
#include "ref.h"
#include "tokenizer.h"
#include "util.h"
#include "vkt.h"

#define TE_MAX_ABS 2e-2
#define TE_MIN_COS 0.99995

struct te_env {
	struct vk_device *dev;
	struct kern *k;
	struct gguf *g;
	struct model *m;
	struct engine *e;
	struct err err;
};

static void
te_open_dev(struct te_env *t)
{
	memset(t, 0, sizeof *t);
	t->dev = vkt_open();
	if (kern_new(t->dev, &t->k, &t->err) < 0)
		test_fail(__FILE__, __LINE__, "kern_new: %s", t->err.msg);
}

/* Load PATH into T (device already open); 0 or the error code. */
static int
te_load(struct te_env *t, const char *path, const struct engine_config *cfg)
{
	int rc;

	if ((rc = gguf_open(path, &t->g, &t->err)) < 0 ||
	    (rc = model_load(t->dev, t->k, t->g, NULL, NULL, &t->m, &t->err)) <
		0 ||
	    (rc = engine_new(t->m, cfg, &t->e, &t->err)) < 0)
		return rc;
	return 0;
}

static void
te_unload(struct te_env *t)
{
	engine_free(t->e);
	model_free(t->m);
	gguf_close(t->g);
	t->e = NULL;
	t->m = NULL;
	t->g = NULL;
}

static void
te_close(struct te_env *t)
{
	te_unload(t);
	kern_free(t->k);
	vkt_close(t->dev);
}

/* Max abs difference and cosine similarity of two vectors. */
static void
te_compare(
    const float *a, const float *b, size_t n, double *max_abs, double *cos)
{
	double ab = 0, aa = 0, bb = 0, m = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]);

		if (d > m || isnan(d))
			m = isnan(d) ? INFINITY : d;
		ab += (double)a[i] * b[i];
		aa += (double)a[i] * a[i];
		bb += (double)b[i] * b[i];
	}
	*max_abs = m;
	*cos = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
}

struct te_case {
	const char *name;
	struct modelgen_shape shape;
	int floats_only; /* rows not a multiple of 32: no block types */
};

static const struct te_case te_cases[] = {
	{ "hd64-gqa1-untied",
	    { 300, 128, 2, 2, 2, 256, 0, 0, 0, 0, 0, 0, 0, 0 }, 0 },
	{ "hd128-gqa2-tied", { 300, 256, 2, 2, 1, 192, 0, 1, 0, 0, 0, 0, 0, 0 },
	    0 },
	{ "hd16-gqa4-rope",
	    { 280, 128, 2, 8, 2, 96, 0, 0, 0, 500000.0f, 2.0f, 0, 0, 0 }, 0 },
	{ "hd8-gqa2-odd", { 270, 48, 2, 6, 3, 40, 0, 1, 0, 0, 0, 0, 0, 0 }, 1 },
};

static const uint32_t te_types[] = { GGML_TYPE_F32, GGML_TYPE_F16,
	GGML_TYPE_BF16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0 };

/*
 * Run PROMPT (a batch of N_PREFILL with logits everywhere) and then
 * N_DECODE single steps through engine and oracle; worst error and
 * cosine over all positions.
 */
static void
te_oracle_run(struct te_env *t, struct ref_model *ref, const int32_t *toks,
    int n_prefill, int n_total, double *worst_abs, double *worst_cos)
{
	int n_vocab = ref_model_n_vocab(ref), i;
	float *want = xmalloc((size_t)n_vocab * sizeof *want);
	struct engine_tok batch[16];

	*worst_abs = 0;
	*worst_cos = 1;
	for (i = 0; i < n_prefill; i++)
		batch[i] = (struct engine_tok){ toks[i], 0, i, 1 };
	CHECK_INT(engine_eval(t->e, batch, (size_t)n_prefill, &t->err), 0);
	for (i = 0; i < n_total; i++) {
		const float *got;
		double ma, cs;

		if (i >= n_prefill) {
			batch[0] = (struct engine_tok){ toks[i], 0, i, 1 };
			if (engine_eval(t->e, batch, 1, &t->err) < 0) {
				test_fail(
				    __FILE__, __LINE__, "eval: %s", t->err.msg);
				break;
			}
		}
		got = engine_logits(t->e, i >= n_prefill ? 0 : (size_t)i);
		CHECK_INT(ref_model_eval(ref, toks[i], i, want), 0);
		if (got == NULL) {
			test_fail(__FILE__, __LINE__, "no logits at %d", i);
			break;
		}
		te_compare(got, want, (size_t)n_vocab, &ma, &cs);
		if (ma > *worst_abs)
			*worst_abs = ma;
		if (cs < *worst_cos)
			*worst_cos = cs;
		if (i >= n_prefill || i == n_prefill - 1)
			CHECK_INT(
			    engine_argmax(t->e, i >= n_prefill ? 0 : (size_t)i),
			    (int64_t)ref_argmax(got, (size_t)n_vocab));
	}
	free(want);
}

TEST(engine_oracle)
{
	struct engine_config cfg = { 64, 1, 0, 16 };
	int32_t toks[16];
	struct te_env t;
	size_t c, ty;
	int i;

	test_timeout(240);
	te_open_dev(&t);
	for (i = 0; i < 16; i++)
		toks[i] = 1 + (i * 37 + 11) % 250;
	for (c = 0; c < ARRAY_LEN(te_cases); c++) {
		for (ty = 0; ty < ARRAY_LEN(te_types); ty++) {
			const struct te_case *tc = &te_cases[c];
			const char *path = test_tmpfile("oracle.gguf");
			const char *tname = ggml_type_info(te_types[ty])->name;
			struct ref_model *ref = NULL;
			double ma, cs;

			if (tc->floats_only && te_types[ty] != GGML_TYPE_F32 &&
			    te_types[ty] != GGML_TYPE_F16 &&
			    te_types[ty] != GGML_TYPE_BF16)
				continue;
			if (modelgen_write(path, &tc->shape, te_types[ty],
				100 + c, &t.err) < 0 ||
			    te_load(&t, path, &cfg) < 0 ||
			    ref_model_load(t.g, 64, &ref, &t.err) < 0) {
				test_fail(__FILE__, __LINE__, "%s %s: %s",
				    tc->name, tname, t.err.msg);
				te_unload(&t);
				continue;
			}
			te_oracle_run(&t, ref, toks, 10, 16, &ma, &cs);
			test_note("%-17s %-5s max abs error %.2e, min cosine "
				  "%.8f",
			    tc->name, tname, ma, cs);
			CHECK_MSG(ma <= TE_MAX_ABS && cs >= TE_MIN_COS,
			    "%s %s: max abs %.3g, cosine %.8f", tc->name, tname,
			    ma, cs);
			ref_model_free(ref);
			te_unload(&t);
		}
	}
	te_close(&t);
}

/* Greedy-decode N tokens after PROMPT in sequence SEQ (host argmax). */
static void
te_greedy(struct te_env *t, int32_t seq, const int32_t *prompt, size_t n_prompt,
    int32_t *out, size_t n)
{
	struct engine_tok *batch = xcalloc(n_prompt, sizeof *batch);
	uint32_t pos = engine_seq_len(t->e, seq);
	size_t i;

	for (i = 0; i < n_prompt; i++)
		batch[i] = (struct engine_tok){ prompt[i], seq,
			(int32_t)(pos + i), i + 1 == n_prompt };
	CHECK_INT(engine_eval(t->e, batch, n_prompt, &t->err), 0);
	for (i = 0; i < n; i++) {
		const float *lg = engine_logits(t->e, 0);

		if (lg == NULL) {
			test_fail(__FILE__, __LINE__, "eval: %s", t->err.msg);
			break;
		}
		out[i] = (int32_t)ref_argmax(lg, engine_n_vocab(t->e));
		CHECK_INT(engine_argmax(t->e, 0), out[i]);
		batch[0] = (struct engine_tok){ out[i], seq,
			(int32_t)engine_seq_len(t->e, seq), 1 };
		if (i + 1 < n && engine_eval(t->e, batch, 1, &t->err) < 0)
			test_fail(__FILE__, __LINE__, "eval: %s", t->err.msg);
	}
	free(batch);
}

/* Read whitespace-separated integers from shared file NAME. */
static size_t
te_read_ids(const char *path, int32_t *ids, size_t max)
{
	char *text, *p, *end;
	size_t n = 0;
	struct err err;

	if (util_read_file(path, 0, &text, NULL, &err) < 0) {
		test_fail(__FILE__, __LINE__, "%s", err.msg);
		return 0;
	}
	for (p = text; n < max; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		ids[n++] = (int32_t)v;
	}
	free(text);
	return n;
}

/*
 * Greedy-decode 200 tokens of stories260K after BOS in sequence 0 and
 * compare them with the reference ids; CFG NULL: the defaults.  With
 * WARM, engine_prepare's warm-up (steps on throw-away tokens, CPU
 * devices) runs first and must leave every sequence empty and the text
 * unchanged.
 */
static void
te_stories_greedy200(const struct engine_config *cfg, int warm)
{
	/* test_shared_path's result lasts until its next call */
	const char *ref =
	    test_shared_path("models/stories260K.greedy200.ids.txt");
	int32_t want[256], got[200], bos = 1;
	const char *path;
	struct te_env t;
	uint32_t s;
	size_t i;

	if (ref == NULL)
		test_skip("shared models not found");
	CHECK_INT(te_read_ids(ref, want, 256), 200);
	if ((path = test_shared_path("models/stories260K.gguf")) == NULL)
		test_skip("shared models not found");
	te_open_dev(&t);
	if (te_load(&t, path, cfg) < 0) {
		test_fail(__FILE__, __LINE__, "load: %s", t.err.msg);
		te_close(&t);
		return;
	}
	if (warm) {
		CHECK_INT(engine_prepare(t.e, 1, &t.err), 0);
		for (s = 0; s < engine_config(t.e)->n_seq; s++)
			CHECK_INT(engine_seq_len(t.e, (int32_t)s), 0);
	}
	te_greedy(&t, 0, &bos, 1, got, 200);
	for (i = 0; i < 200; i++)
		if (got[i] != want[i]) {
			test_fail(__FILE__, __LINE__, "token %zu: %d, want %d",
			    i, got[i], want[i]);
			break;
		}
	te_close(&t);
}

TEST(engine_stories_greedy200)
{
	te_stories_greedy200(NULL, 0);
}

/* The warm-up with several sequences (batched graphs prepared too). */
TEST(engine_warm_changes_nothing)
{
	struct engine_config cfg = { 256, 4, 0, 0 };

	te_stories_greedy200(&cfg, 1);
}

/* The gap between the largest and the second largest of N logits. */
static double
te_margin(const float *x, size_t n)
{
	double a = -INFINITY, b = -INFINITY;
	size_t i;

	for (i = 0; i < n; i++) {
		if (x[i] > a) {
			b = a;
			a = x[i];
		} else if (x[i] > b) {
			b = x[i];
		}
	}
	return a - b;
}

/*
 * The GPT-2 file as llama.cpp writes it (random weights, Q8_0, the real
 * vocabulary): a prompt tokenized with its own tokenizer, then 32 greedy
 * steps.  The oracle reads the same file (Q8_0 dequantized on the host)
 * with its own GPT-2 block; at every step the engine's logits are held
 * to the oracle tolerance and its argmax must be the oracle's, except
 * at a near-tie (margin below 0.01, as for the shared reference
 * outputs).  Both continue from the oracle's pick.
 */
TEST(engine_gpt2_shared)
{
	const char *path =
	    test_shared_path("models/gpt2-tiny-random.q8_0.gguf");
	static const char prompt[] = "Hello, my name is";
	struct engine_config cfg = { 64, 1, 0, 0 };
	struct tokenizer *tok = NULL;
	struct tokenizer_ids ids;
	struct ref_model *ref = NULL;
	struct engine_tok *batch = NULL;
	struct te_env t;
	float *want = NULL;
	double worst = 0, worst_cos = 1;
	int32_t next;
	unsigned ties = 0;
	size_t i, n, nv;

	if (path == NULL)
		test_skip("shared models not found");
	tokenizer_ids_init(&ids);
	te_open_dev(&t);
	if (te_load(&t, path, &cfg) < 0 ||
	    ref_model_load(t.g, 64, &ref, &t.err) < 0 ||
	    tokenizer_load(t.g, &tok, &t.err) < 0 ||
	    tokenizer_encode(tok, prompt, sizeof prompt - 1, 0, &ids, &t.err) <
		0) {
		test_fail(__FILE__, __LINE__, "gpt2: %s", t.err.msg);
		goto out;
	}
	CHECK_STR(t.m->hp.arch, "gpt2");
	CHECK_INT(t.m->hp.n_embd, 64);
	CHECK_INT(t.m->hp.n_layer, 4);
	CHECK_INT(t.m->hp.n_ctx_train, 1024);
	CHECK(t.m->hp.tied);
	CHECK(fabs(t.m->hp.rms_eps - 1e-5) < 1e-9);
	nv = t.m->hp.n_vocab;
	CHECK_INT(nv, 50257);
	CHECK(ids.n >= 4 && ids.n < 16);
	want = xmalloc(nv * sizeof *want);
	batch = xcalloc(ids.n, sizeof *batch);
	for (i = 0; i < ids.n; i++) {
		batch[i] = (struct engine_tok){ ids.ids[i], 0, (int32_t)i, 0 };
		CHECK_INT(ref_model_eval(ref, ids.ids[i], (int)i, want), 0);
	}
	batch[ids.n - 1].logits = 1;
	for (n = 0; n < 32; n++) {
		const float *got;
		double ma, cs;
		size_t pick;

		if (engine_eval(t.e, batch, n == 0 ? ids.n : 1, &t.err) < 0) {
			test_fail(__FILE__, __LINE__, "eval: %s", t.err.msg);
			break;
		}
		got = engine_logits(t.e, 0);
		te_compare(got, want, nv, &ma, &cs);
		worst = fmax(worst, ma);
		worst_cos = fmin(worst_cos, cs);
		pick = ref_argmax(want, nv);
		if (te_margin(want, nv) < 0.01)
			ties++;
		else
			CHECK_MSG(engine_argmax(t.e, 0) == (int32_t)pick,
			    "step %zu: engine %d, oracle %zu", n,
			    engine_argmax(t.e, 0), pick);
		next = (int32_t)pick;
		batch[0] =
		    (struct engine_tok){ next, 0, (int32_t)(ids.n + n), 1 };
		CHECK_INT(ref_model_eval(ref, next, (int)(ids.n + n), want), 0);
	}
	test_note("gpt2-tiny-random q8_0: %zu prompt tokens, 32 greedy "
		  "steps (%u near-ties), max abs error %.2e, min cosine %.8f",
	    ids.n, ties, worst, worst_cos);
	CHECK_MSG(worst <= TE_MAX_ABS && worst_cos >= TE_MIN_COS,
	    "gpt2: max abs %.3g, cosine %.8f", worst, worst_cos);
out:
	free(batch);
	free(want);
	tokenizer_ids_release(&ids);
	tokenizer_free(tok);
	ref_model_free(ref);
	te_close(&t);
}

/* Three prompts in three sequences decoded together vs one at a time. */
TEST(engine_batch_equals_alone)
{
	const char *path = test_shared_path("models/stories260K.gguf");
	static const int32_t prompts[3][5] = { { 1, 403, 407, 261, 378 },
		{ 1, 432, 383 }, { 1, 426, 338, 401 } };
	static const size_t lens[3] = { 5, 3, 4 };
	struct engine_config cfg = { 256, 3, 0, 0 };
	int32_t alone[3][40], together[3][40];
	struct engine_tok batch[3];
	struct te_env t;
	size_t s, i;

	if (path == NULL)
		test_skip("shared models not found");
	te_open_dev(&t);
	if (te_load(&t, path, &cfg) < 0) {
		test_fail(__FILE__, __LINE__, "load: %s", t.err.msg);
		te_close(&t);
		return;
	}
	for (s = 0; s < 3; s++) {
		engine_seq_clear(t.e, 0);
		te_greedy(&t, 0, prompts[s], lens[s], alone[s], 40);
	}
	engine_seq_clear(t.e, 0);
	for (s = 0; s < 3; s++) {
		struct engine_tok pb[5];

		for (i = 0; i < lens[s]; i++)
			pb[i] = (struct engine_tok){ prompts[s][i], (int32_t)s,
				(int32_t)i, i + 1 == lens[s] };
		CHECK_INT(engine_eval(t.e, pb, lens[s], &t.err), 0);
		together[s][0] = (int32_t)ref_argmax(
		    engine_logits(t.e, 0), engine_n_vocab(t.e));
	}
	for (i = 1; i < 40; i++) {
		for (s = 0; s < 3; s++)
			batch[s] = (struct engine_tok){ together[s][i - 1],
				(int32_t)s,
				(int32_t)engine_seq_len(t.e, (int32_t)s), 1 };
		CHECK_INT(engine_eval(t.e, batch, 3, &t.err), 0);
		for (s = 0; s < 3; s++)
			together[s][i] = engine_argmax(t.e, s);
	}
	for (s = 0; s < 3; s++)
		CHECK_MSG(memcmp(alone[s], together[s], sizeof alone[s]) == 0,
		    "sequence %zu differs when decoded in a batch", s);
	te_close(&t);
}

/* A random-weight model in the test's temporary directory. */
static const char *
te_random_model(uint32_t type)
{
	static char path[4096];
	struct modelgen_shape shape = { 300, 128, 2, 4, 2, 256, 0, 0, 0, 0, 0,
		0, 0, 0 };
	struct err err;

	snprintf(path, sizeof path, "%s", test_tmpfile("random.gguf"));
	if (modelgen_write(path, &shape, type, 7, &err) < 0)
		test_fail(__FILE__, __LINE__, "modelgen: %s", err.msg);
	return path;
}

/* Evaluate TOKS[0..N) at the end of SEQ in one batch; copy last logits. */
static void
te_eval_seq(
    struct te_env *t, int32_t seq, const int32_t *toks, size_t n, float *logits)
{
	struct engine_tok batch[64];
	uint32_t pos = engine_seq_len(t->e, seq);
	size_t i;

	for (i = 0; i < n; i++)
		batch[i] = (struct engine_tok){ toks[i], seq,
			(int32_t)(pos + i), i + 1 == n };
	if (engine_eval(t->e, batch, n, &t->err) < 0) {
		test_fail(__FILE__, __LINE__, "eval: %s", t->err.msg);
		return;
	}
	if (logits != NULL)
		memcpy(logits, engine_logits(t->e, 0),
		    engine_n_vocab(t->e) * sizeof *logits);
}

/*
 * The default step size: 64 tokens on CPU devices (prompt progress and
 * cancelling every second or so there), 512 elsewhere; an explicit one
 * is kept.
 */
TEST(engine_default_batch)
{
	struct engine_config cfg = { 64, 1, 0, 0 };
	struct te_env t;
	int cpu;

	te_open_dev(&t);
	cpu = t.dev->info.cpu_kernels;
	if (te_load(&t, te_random_model(GGML_TYPE_F16), &cfg) < 0) {
		test_fail(__FILE__, __LINE__, "load: %s", t.err.msg);
		te_close(&t);
		return;
	}
	CHECK_INT(engine_config(t.e)->max_batch, cpu ? 64 : 512);
	te_unload(&t);
	cfg.max_batch = 200;
	if (te_load(&t, te_random_model(GGML_TYPE_F16), &cfg) == 0)
		CHECK_INT(engine_config(t.e)->max_batch, 200);
	te_close(&t);
}

TEST(engine_prefill_equals_decode)
{
	struct engine_config cfg = { 64, 2, 0, 0 };
	float a[300], b[300];
	int32_t toks[24];
	struct te_env t;
	double ma, cs;
	size_t i;

	te_open_dev(&t);
	if (te_load(&t, te_random_model(GGML_TYPE_Q8_0), &cfg) < 0) {
		test_fail(__FILE__, __LINE__, "load: %s", t.err.msg);
		te_close(&t);
		return;
	}
	for (i = 0; i < 24; i++)
		toks[i] = (int32_t)(3 + i * 11 % 290);
	te_eval_seq(&t, 0, toks, 24, a);
	for (i = 0; i < 24; i++)
		te_eval_seq(&t, 1, &toks[i], 1, b);
	te_compare(a, b, 300, &ma, &cs);
	test_note("prefill vs decode: max abs %.2e, cosine %.8f", ma, cs);
	CHECK(ma <= 5e-3 && cs >= 0.99999);
	te_close(&t);
}

TEST(engine_fork_truncate)
{
	struct engine_config cfg = { 64, 4, 0, 0 };
	static const int32_t p[12] = { 1, 20, 30, 40, 50, 60, 70, 80, 90, 100,
		110, 120 };
	static const int32_t q[4] = { 7, 8, 9, 10 };
	float a[300], b[300], c[300];
	struct te_env t;
	double ma, cs;

	te_open_dev(&t);
	if (te_load(&t, te_random_model(GGML_TYPE_F16), &cfg) < 0) {
		test_fail(__FILE__, __LINE__, "load: %s", t.err.msg);
		te_close(&t);
		return;
	}
	/* Sequence 0: p in batches of 8 and 4. */
	te_eval_seq(&t, 0, p, 8, NULL);
	te_eval_seq(&t, 0, p + 8, 4, NULL);
	/* Fresh reference in sequence 2: p[0..8) then q. */
	te_eval_seq(&t, 2, p, 8, NULL);
	te_eval_seq(&t, 2, q, 4, a);
	/* Fork sequence 1 from 0's first 8 positions, continue with q. */
	CHECK_INT(engine_seq_fork(t.e, 1, 0, 8, &t.err), 0);
	CHECK_INT(engine_seq_len(t.e, 1), 8);
	CHECK(memcmp(engine_seq_tokens(t.e, 1), p, 8 * sizeof *p) == 0);
	te_eval_seq(&t, 1, q, 4, b);
	te_compare(a, b, 300, &ma, &cs);
	test_note("fork: max abs %.2e", ma);
	CHECK(ma <= 1e-5);
	/* Truncate sequence 0 to 8, continue with q. */
	CHECK_INT(engine_seq_truncate(t.e, 0, 8, &t.err), 0);
	te_eval_seq(&t, 0, q, 4, c);
	te_compare(a, c, 300, &ma, &cs);
	test_note("truncate: max abs %.2e", ma);
	CHECK(ma <= 1e-5);
	/* The source of a fork is untouched: its logits stay the same. */
	CHECK_INT(engine_seq_fork(t.e, 3, 2, 12, &t.err), 0);
	CHECK_INT(engine_seq_truncate(t.e, 3, 8, &t.err), 0);
	te_eval_seq(&t, 3, q, 4, b);
	te_compare(a, b, 300, &ma, &cs);
	CHECK(ma <= 1e-5);
	/* Bad requests. */
	CHECK_INT(engine_seq_fork(t.e, 1, 1, 2, &t.err), ERR_RANGE);
	CHECK_INT(engine_seq_fork(t.e, 1, 0, 50, &t.err), ERR_RANGE);
	CHECK_INT(engine_seq_truncate(t.e, 0, 13, &t.err), ERR_RANGE);
	te_close(&t);
}

TEST(engine_context_overflow)
{
	struct engine_config cfg = { 8, 1, 0, 0 };
	struct engine_tok batch[9];
	struct te_env t;
	int i;

	te_open_dev(&t);
	if (te_load(&t, te_random_model(GGML_TYPE_F32), &cfg) < 0) {
		test_fail(__FILE__, __LINE__, "load: %s", t.err.msg);
		te_close(&t);
		return;
	}
	for (i = 0; i < 9; i++)
		batch[i] = (struct engine_tok){ 5, 0, i, 0 };
	CHECK_INT(engine_eval(t.e, batch, 9, &t.err), ERR_RANGE);
	CHECK_CONTAINS(t.err.msg, "context is full");
	CHECK_INT(engine_seq_len(t.e, 0), 0);
	CHECK_INT(engine_eval(t.e, batch, 8, &t.err), 0);
	batch[0].pos = 8;
	CHECK_INT(engine_eval(t.e, batch, 1, &t.err), ERR_RANGE);
	batch[0].pos = 3;
	CHECK_INT(engine_eval(t.e, batch, 1, &t.err), ERR_RANGE);
	CHECK_CONTAINS(t.err.msg, "is not its end");
	batch[0] = (struct engine_tok){ 300, 0, 8, 0 };
	CHECK_INT(engine_eval(t.e, batch, 1, &t.err), ERR_RANGE);
	te_close(&t);
}

/*
 * Copy the GGUF at SRC to DST, leaving out tensor SKIP or rewriting it
 * with TYPE (NULL data: zeros) and dimensions NE.
 */
static void
te_rewrite(const char *src, const char *dst, const char *name, int drop,
    uint32_t type, const uint64_t *ne)
{
	struct gguf_writer *w = gguf_writer_new(32);
	struct gguf *g;
	struct err err;
	size_t i;

	if (gguf_open(src, &g, &err) < 0) {
		test_fail(__FILE__, __LINE__, "%s", err.msg);
		gguf_writer_free(w);
		return;
	}
	for (i = 0; i < gguf_kv_count(g); i++) {
		const struct gguf_kv *kv = gguf_kv_at(g, i);
		char *key = gguf_str_dup(kv->key);

		gguf_writer_value(w, key, &kv->value);
		free(key);
	}
	for (i = 0; i < gguf_tensor_count(g); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(g, i);
		char *tn = gguf_str_dup(t->name);

		if (strcmp(tn, name) != 0)
			gguf_writer_tensor(
			    w, tn, t->type, t->n_dims, t->ne, t->data, t->size);
		else if (!drop) {
			const struct ggml_type_info *ti = ggml_type_info(type);
			size_t size =
			    ne[0] / ti->block_size * ti->type_size * ne[1];
			void *z = xcalloc(1, size);

			gguf_writer_tensor(w, tn, type, 2, ne, z, size);
			free(z);
		}
		free(tn);
	}
	if (gguf_writer_save(w, dst, &err) < 0)
		test_fail(__FILE__, __LINE__, "%s", err.msg);
	gguf_writer_free(w);
	gguf_close(g);
}

/* model_validate on PATH: the code, with the message in *ERR. */
static int
te_validate(const char *path, struct err *err)
{
	struct model_hparams hp;
	struct gguf *g;
	int rc;

	if ((rc = gguf_open(path, &g, err)) < 0)
		return rc;
	rc = model_validate(g, &hp, err);
	gguf_close(g);
	return rc;
}

TEST(engine_model_errors)
{
	char src[4096], dst[4096];
	uint64_t q41[2] = { 128, 256 }, bad[2] = { 128, 200 };
	struct err err;

	snprintf(src, sizeof src, "%s", te_random_model(GGML_TYPE_F32));
	snprintf(dst, sizeof dst, "%s", test_tmpfile("bad.gguf"));
	te_rewrite(src, dst, "blk.1.ffn_up.weight", 1, 0, NULL);
	CHECK_INT(te_validate(dst, &err), ERR_MODEL);
	CHECK_CONTAINS(err.msg, "missing tensor 'blk.1.ffn_up.weight'");
	te_rewrite(src, dst, "blk.0.attn_k.weight", 0, GGML_TYPE_Q4_1, q41);
	CHECK_INT(te_validate(dst, &err), ERR_MODEL);
	CHECK_CONTAINS(err.msg,
	    "'blk.0.attn_k.weight' has shape [128, 256], "
	    "expected [128, 64]");
	te_rewrite(src, dst, "blk.0.ffn_gate.weight", 0, GGML_TYPE_Q8_1, q41);
	CHECK_INT(te_validate(dst, &err), ERR_UNSUPPORTED);
	CHECK_CONTAINS(err.msg, "'blk.0.ffn_gate.weight' has type q8_1");
	te_rewrite(src, dst, "output.weight", 0, GGML_TYPE_F32, bad);
	CHECK_INT(te_validate(dst, &err), ERR_MODEL);
	CHECK_CONTAINS(err.msg,
	    "'output.weight' has shape [128, 200], "
	    "expected [128, 300]");
	/* No output.weight at all: a tied head, not an error. */
	te_rewrite(src, dst, "output.weight", 1, 0, NULL);
	CHECK_INT(te_validate(dst, &err), 0);
}
