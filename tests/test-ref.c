/*
 * test-ref: the oracle checks itself.  The per-op references on cases
 * worked out by hand, then ref_model on real models against outputs of
 * independent implementations (../shared/models/README.md): stories260K's
 * 200 greedy tokens from BOS and its reference prompts token for token,
 * and the F16 llama-2-tiny-random model up to its first near-tie.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "harness.h"
#include "json.h"
#include "ref.h"
#include "util.h"

#define CHECK_NEAR(a, b, tol) \
	CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), \
	    "%s == %s: %.9g != %.9g", #a, #b, (double)(a), (double)(b))

TEST(ref_rmsnorm)
{
	float x[4] = { 1, -2, 3, -4 }, w[4] = { 1, 2, 0.5f, -1 }, y[4];
	double s = 1.0 / sqrt(30.0 / 4 + 1e-5);

	ref_rmsnorm(x, w, y, 4, 1e-5f);
	CHECK_NEAR(y[0], 1 * s, 1e-6);
	CHECK_NEAR(y[1], -4 * s, 1e-6);
	CHECK_NEAR(y[2], 1.5 * s, 1e-6);
	CHECK_NEAR(y[3], 4 * s, 1e-6);
}

TEST(ref_matvec)
{
	/* 2 rows x 3 cols, row-major */
	float w[6] = { 1, 2, 3, -1, 0.5f, 0 }, x[3] = { 1, 1, 2 }, y[2];

	ref_matvec(w, x, y, 2, 3);
	CHECK(y[0] == 9.0f);
	CHECK(y[1] == -0.5f);
}

TEST(ref_rope)
{
	/* 2 heads of 6 dims, 4 rotated: pairs (0,1), (2,3) turn, (4,5) not */
	float x[12] = { 1, 0, 0, 1, 7, 8, 2, 3, 1, 1, 9, 10 };
	double t0 = 3.0, t1 = 3.0 * pow(100.0, -2.0 / 4);

	ref_rope(x, 2, 6, 4, 3, 100.0f, 1.0f);
	CHECK_NEAR(x[0], cos(t0), 1e-6);
	CHECK_NEAR(x[1], sin(t0), 1e-6);
	CHECK_NEAR(x[2], -sin(t1), 1e-6);
	CHECK_NEAR(x[3], cos(t1), 1e-6);
	CHECK(x[4] == 7.0f && x[5] == 8.0f);
	CHECK_NEAR(x[6], 2 * cos(t0) - 3 * sin(t0), 1e-5);
	CHECK_NEAR(x[7], 2 * sin(t0) + 3 * cos(t0), 1e-5);
	CHECK_NEAR(x[8], cos(t1) - sin(t1), 1e-6);
	CHECK_NEAR(x[9], sin(t1) + cos(t1), 1e-6);
	CHECK(x[10] == 9.0f && x[11] == 10.0f);

	/* position 0 is the identity; freq_scale and factors divide theta */
	{
		float a[4] = { 1, 2, 3, 4 }, b[4] = { 1, 0, 1, 0 };
		float ff[2] = { 1, 4 };

		ref_rope(a, 1, 4, 4, 0, 10000.0f, 1.0f);
		CHECK(a[0] == 1 && a[1] == 2 && a[2] == 3 && a[3] == 4);
		ref_rope_ext(b, 1, 4, 4, 8, 10000.0f, 0.25f, ff);
		CHECK_NEAR(b[0], cos(2.0), 1e-6);
		CHECK_NEAR(b[2], cos(2.0 * 0.01 / 4), 1e-6);
	}
}

TEST(ref_attention_gqa)
{
	/*
	 * 4 query heads, 2 kv heads of dim 2, 2 positions.  Heads 0 and 1
	 * read kv head 0, heads 2 and 3 kv head 1.
	 */
	float q[8] = { 1, 0, 0, 0, 0, 1, 0, 0 };
	/* k, v: (n_kv = 2, n_head_kv = 2, head_dim = 2) */
	float k[8] = { 1, 0, 0, 1, -1, 0, 0, -1 };
	float v[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	float out[8];
	double s = 1.0 / sqrt(2.0), p0, p1;

	ref_attention(q, k, v, out, 4, 2, 2, 2);
	/* head 0: scores (s, -s) against kv head 0 */
	p0 = exp(s) / (exp(s) + exp(-s));
	p1 = 1 - p0;
	CHECK_NEAR(out[0], p0 * 1 + p1 * 5, 1e-6);
	CHECK_NEAR(out[1], p0 * 2 + p1 * 6, 1e-6);
	/* head 1: q = 0, uniform over kv head 0 */
	CHECK_NEAR(out[2], 3.0, 1e-6);
	CHECK_NEAR(out[3], 4.0, 1e-6);
	/* head 2: q = (0, 1) against kv head 1: scores (s, -s) */
	CHECK_NEAR(out[4], p0 * 3 + p1 * 7, 1e-6);
	CHECK_NEAR(out[5], p0 * 4 + p1 * 8, 1e-6);
	CHECK_NEAR(out[6], 5.0, 1e-6);
	CHECK_NEAR(out[7], 6.0, 1e-6);

	/* one position: the output is that position's v, whatever q is */
	{
		float q1[2] = { 100, -3 }, k1[2] = { 5, 5 }, v1[2] = { -1, 2 };
		float o1[2];

		ref_attention(q1, k1, v1, o1, 1, 1, 2, 1);
		CHECK(o1[0] == -1.0f && o1[1] == 2.0f);
	}
}

TEST(ref_silu_mul_argmax)
{
	float g[3] = { 0, 1, -2 }, u[3] = { 5, 2, 3 }, y[3];
	float x[5] = { 1, 3, -1, 3, 2 };

	ref_silu_mul(g, u, y, 3);
	CHECK(y[0] == 0.0f);
	CHECK_NEAR(y[1], 2.0 / (1 + exp(-1.0)), 1e-6);
	CHECK_NEAR(y[2], 3 * -2.0 / (1 + exp(2.0)), 1e-6);
	CHECK_INT(ref_argmax(x, 5), 1);
	CHECK_INT(ref_argmax(x, 1), 0);
}

/* Load a shared model, or skip the test when it is absent. */
static struct ref_model *
test_ref_load(const char *name, struct gguf **g)
{
	const char *path = test_shared_path(name);
	struct ref_model *m = NULL;
	struct err e;

	if (path == NULL)
		test_skip("shared model %s not found", name);
	if (gguf_open(path, g, &e) < 0) {
		CHECK_MSG(0, "%s", e.msg);
		return NULL;
	}
	if (ref_model_load(*g, 512, &m, &e) < 0) {
		CHECK_MSG(0, "%s", e.msg);
		gguf_close(*g);
		return NULL;
	}
	return m;
}

/* The gap between the largest and second-largest of N logits. */
static double
test_ref_margin(const float *x, size_t n)
{
	size_t best = ref_argmax(x, n), i;
	float second = -INFINITY;

	for (i = 0; i < n; i++)
		if (i != best && x[i] > second)
			second = x[i];
	return (double)x[best] - second;
}

TEST(ref_stories260k_greedy200)
{
	struct gguf *g = NULL;
	struct ref_model *m;
	const char *path;
	char *text, *p, *end;
	float *logits;
	int32_t tok = 1;
	int pos, n_ok = 0, n = 0, mismatch = -1;
	struct err e;
	const struct ref_hparams *hp;

	path = test_shared_path("models/stories260K.greedy200.ids.txt");
	if (path == NULL)
		test_skip("shared stories260K.greedy200.ids.txt not found");
	CHECK_INT(util_read_file(path, 0, &text, NULL, &e), 0);
	m = test_ref_load("models/stories260K.gguf", &g);
	if (m == NULL) {
		free(text);
		return;
	}
	hp = ref_model_hparams(m);
	CHECK_INT(hp->n_vocab, 512);
	CHECK_INT(hp->n_embd, 64);
	CHECK_INT(hp->n_layer, 5);
	CHECK_INT(hp->n_head, 8);
	CHECK_INT(hp->n_head_kv, 4);
	CHECK_INT(hp->head_dim, 8);
	CHECK_INT(hp->n_ff, 172);
	logits = xcalloc(512, sizeof(float));
	p = text;
	for (pos = 0; pos < 200; pos++) {
		long want = strtol(p, &end, 10);

		if (end == p)
			break;
		p = end;
		CHECK_INT(ref_model_eval(m, tok, pos, logits), 0);
		tok = (int32_t)ref_argmax(logits, 512);
		n++;
		if (tok == want)
			n_ok++;
		else if (mismatch < 0)
			mismatch = pos;
		/* follow the reference so one slip does not hide the rest */
		tok = (int32_t)want;
	}
	test_note("stories260K greedy from BOS: %d/%d tokens match", n_ok, n);
	CHECK_INT(n, 200);
	CHECK_INT(n_ok, 200);
	CHECK_MSG(mismatch < 0, "first mismatch at step %d", mismatch);
	free(logits);
	free(text);
	ref_model_free(m);
	gguf_close(g);
}

/*
 * Greedy continuation of every prompt in a reference .jsonl: ids must match
 * up to the first step with a reference margin below 0.01 (and the binding
 * prefix must be at least MIN_BINDING per prompt).  Margins are compared
 * too while the trajectories agree; the largest deviation is reported.
 */
static void
test_ref_jsonl(const char *model, const char *jsonl, int min_binding)
{
	struct gguf *g = NULL;
	struct ref_model *m;
	const char *path = test_shared_path(jsonl);
	char *text, *line, *nl;
	float *logits;
	int n_prompts = 0, n_pass = 0, n_vocab;
	double max_dev = 0;
	long total_binding = 0;
	struct err e;

	if (path == NULL)
		test_skip("shared %s not found", jsonl);
	CHECK_INT(util_read_file(path, 0, &text, NULL, &e), 0);
	m = test_ref_load(model, &g);
	if (m == NULL) {
		free(text);
		return;
	}
	n_vocab = ref_model_n_vocab(m);
	logits = xcalloc((size_t)n_vocab, sizeof(float));
	for (line = text; *line != '\0'; line = nl) {
		const struct json *pid, *ids, *mar;
		struct json *j = NULL;
		size_t i, n_prompt;
		int pos = 0, binding = 0, ok = 1;

		nl = strchr(line, '\n');
		nl = nl ? nl + 1 : line + strlen(line);
		if (nl - line <= 1)
			continue;
		if (json_parse(line, (size_t)(nl - line), &j, &e) < 0) {
			CHECK_MSG(
			    0, "%s line %d: %s", jsonl, n_prompts + 1, e.msg);
			break;
		}
		pid = json_get(j, "prompt_ids");
		ids = json_get(j, "ids");
		mar = json_get(j, "margins");
		if (pid == NULL || ids == NULL || mar == NULL ||
		    pid->type != JSON_ARRAY || ids->type != JSON_ARRAY ||
		    mar->type != JSON_ARRAY || mar->len != ids->len) {
			CHECK_MSG(
			    0, "%s line %d: bad record", jsonl, n_prompts + 1);
			json_free(j);
			break;
		}
		n_prompts++;
		n_prompt = pid->len;
		for (i = 0; i < n_prompt; i++)
			CHECK_INT(
			    ref_model_eval(m, (int32_t)pid->items[i]->number,
				pos++, logits),
			    0);
		for (i = 0; i < ids->len; i++) {
			int32_t want = (int32_t)ids->items[i]->number;
			double ref_margin = mar->items[i]->number;
			int32_t got =
			    (int32_t)ref_argmax(logits, (size_t)n_vocab);
			double dev =
			    fabs(test_ref_margin(logits, (size_t)n_vocab) -
				ref_margin);

			if (ref_margin < 0.01)
				break;
			binding++;
			if (dev > max_dev)
				max_dev = dev;
			if (got != want) {
				CHECK_MSG(0,
				    "%s prompt %d step %zu: token %d, "
				    "expected %d (margin %.4f)",
				    jsonl, n_prompts, i, got, want, ref_margin);
				ok = 0;
				break;
			}
			CHECK_INT(ref_model_eval(m, got, pos++, logits), 0);
		}
		CHECK_MSG(binding >= min_binding,
		    "%s prompt %d: only %d binding tokens", jsonl, n_prompts,
		    binding);
		total_binding += binding;
		n_pass += ok;
		json_free(j);
	}
	test_note("%s: %d/%d prompts match (%ld binding tokens), max margin "
		  "deviation %.2e",
	    jsonl, n_pass, n_prompts, total_binding, max_dev);
	CHECK(n_prompts > 0);
	CHECK_INT(n_pass, n_prompts);
	free(logits);
	free(text);
	ref_model_free(m);
	gguf_close(g);
}

TEST(ref_stories260k_prompts)
{
	test_ref_jsonl("models/stories260K.gguf",
	    "models/stories260K.reference.jsonl", 64);
}

TEST(ref_tiny_random_f16_prompts)
{
	test_ref_jsonl("models/llama-2-tiny-random.gguf",
	    "models/llama-2-tiny-random.reference.jsonl", 1);
}
