/*
 * test-sampler: the portable generator (known-answer vectors), every
 * stage of the sampler chain on synthetic logits against expected
 * candidate sets and probabilities computed here in double precision with
 * libm, the statistics of the draw (chi-square with a fixed seed, so the
 * outcome is fixed too), penalties, mirostat's convergence, seeds and
 * clones, and the cost per token on a 151936-token vocabulary (reported,
 * not asserted).
 */
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "params.h"
#include "rng.h"
#include "sampler.h"

/* Parameters with every stage off and temperature 1: plain softmax. */
static void
test_sampler_neutral(struct gen_params *p)
{
	params_init(p);
	p->temperature = 1.0f;
	p->top_k = 0;
	p->top_p = 1.0f;
	p->min_p = 0.0f;
	p->typical_p = 1.0f;
	p->seed = 1;
}

static struct sampler *
test_sampler_make(const struct gen_params *p, int32_t n_vocab)
{
	struct sampler *s = NULL;
	struct err e;

	err_clear(&e);
	if (sampler_new(p, n_vocab, &s, &e) != 0)
		test_fail(__FILE__, __LINE__, "sampler_new: %s", e.msg);
	return s;
}

/*
 * Check that the candidates of S over LOGITS are exactly the ids in WANT
 * (in order: probability descending, lower id first on ties) with the
 * probabilities softmax(logit / t) renormalised over WANT.
 */
static void
test_sampler_expect(struct sampler *s, const float *logits, const int32_t *want,
    size_t n_want, double t, int line)
{
	struct sampler_cand c[64];
	double z = 0, max = -INFINITY;
	size_t n = 0, i;
	struct err e;

	if (sampler_probs(s, logits, c, 64, &n, &e) != 0) {
		test_fail(__FILE__, line, "sampler_probs: %s", e.msg);
		return;
	}
	if (n != n_want) {
		test_fail(
		    __FILE__, line, "%zu candidates, want %zu", n, n_want);
		return;
	}
	for (i = 0; i < n_want; i++)
		if (logits[want[i]] > max)
			max = logits[want[i]];
	for (i = 0; i < n_want; i++)
		z += exp((logits[want[i]] - max) / t);
	for (i = 0; i < n_want; i++) {
		double p = exp((logits[want[i]] - max) / t) / z;

		if (c[i].id != want[i])
			test_fail(__FILE__, line,
			    "candidate %zu is %d, want %d", i, c[i].id,
			    want[i]);
		else if (fabs(c[i].p - p) > 1e-6)
			test_fail(__FILE__, line, "p[%d] = %.9f, want %.9f",
			    want[i], (double)c[i].p, p);
	}
}

#define EXPECT(s, logits, t, ...) \
	do { \
		static const int32_t want_[] = { __VA_ARGS__ }; \
		test_sampler_expect( \
		    s, logits, want_, ARRAY_LEN(want_), t, __LINE__); \
	} while (0)

/* EXPECT on a new sampler with parameters P over N_VOCAB tokens. */
#define EXPECT_WITH(p, n_vocab, logits, t, ...) \
	do { \
		struct sampler *s_ = test_sampler_make(p, n_vocab); \
		EXPECT(s_, logits, t, __VA_ARGS__); \
		sampler_free(s_); \
	} while (0)

/* Logits whose softmax is P (N entries). */
static void
test_sampler_from_probs(float *logits, const double *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		logits[i] = (float)log(p[i]);
}

TEST(rng_known_answers)
{
	/* xoshiro256** seeded by splitmix64, computed independently with
	 * Python integers; splitmix64(0) starts 0xe220a8397b1dcdaf. */
	static const uint64_t want42[] = { 0x15780b2e0c2ec716ULL,
		0x6104d9866d113a7eULL, 0xae17533239e499a1ULL,
		0xecb8ad4703b360a1ULL };
	static const uint64_t want0[] = { 0x99ec5f36cb75f2b4ULL,
		0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL,
		0x6aa594f1262d2d2cULL };
	struct rng r, c;
	size_t i;

	rng_init(&r, 42);
	for (i = 0; i < ARRAY_LEN(want42); i++)
		CHECK(rng_next(&r) == want42[i]);
	rng_init(&r, 0);
	for (i = 0; i < ARRAY_LEN(want0); i++)
		CHECK(rng_next(&r) == want0[i]);
	/* Floats are the top bits scaled exactly. */
	rng_init(&r, 42);
	c = r;
	CHECK(rng_double(&r) == (double)(want42[0] >> 11) * 0x1.0p-53);
	CHECK(rng_float(&c) == (float)(want42[0] >> 40) * 0x1.0p-24f);
}

TEST(rng_ranges_and_seeds)
{
	struct rng r;
	uint64_t a, b, counts[7] = { 0 };
	double lo = 1, hi = 0;
	size_t i;

	rng_init(&r, 7);
	for (i = 0; i < 100000; i++) {
		double d = rng_double(&r);
		float f = rng_float(&r);

		CHECK(d >= 0 && d < 1 && f >= 0 && f < 1);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		counts[rng_below(&r, 7)]++;
	}
	CHECK(lo < 0.001 && hi > 0.999);
	for (i = 0; i < 7; i++)
		CHECK_MSG(counts[i] > 13600 && counts[i] < 15000,
		    "rng_below(7) gave %zu %llu times", i,
		    (unsigned long long)counts[i]);
	CHECK_INT(rng_below(&r, 0), 0);
	CHECK_INT(rng_below(&r, 1), 0);
	a = rng_random_seed();
	b = rng_random_seed();
	CHECK(a != 0 && b != 0 && a != b);
}

TEST(sampler_softmax_and_temperature)
{
	static const float logits[] = { 2.0f, 1.0f, 0.0f, -1.0f };
	struct gen_params p;

	test_sampler_neutral(&p);
	EXPECT_WITH(&p, 4, logits, 1.0, 0, 1, 2, 3);
	p.temperature = 0.5f;
	EXPECT_WITH(&p, 4, logits, 0.5, 0, 1, 2, 3);
	p.temperature = 3.0f;
	EXPECT_WITH(&p, 4, logits, 3.0, 0, 1, 2, 3);
}

TEST(sampler_top_k)
{
	static const float logits[] = { 1, 5, 3, 5, 2, 0, -INFINITY, NAN };
	struct gen_params p;

	test_sampler_neutral(&p);
	p.top_k = 3;
	EXPECT_WITH(&p, 8, logits, 1.0, 1, 3, 2);
	/* A tie at the boundary keeps the lower id. */
	p.top_k = 1;
	EXPECT_WITH(&p, 8, logits, 1.0, 1);
	/* K beyond the finite tokens keeps all of them, never -inf/NaN. */
	p.top_k = 7;
	EXPECT_WITH(&p, 8, logits, 1.0, 1, 3, 2, 4, 0, 5);
}

TEST(sampler_top_p)
{
	static const double probs[] = { 0.05, 0.5, 0.1, 0.2, 0.15 };
	struct gen_params p;
	float logits[5];

	test_sampler_from_probs(logits, probs, 5);
	test_sampler_neutral(&p);
	/* 0.5 + 0.2 = 0.7 < 0.8 <= 0.85: three tokens. */
	p.top_p = 0.8f;
	EXPECT_WITH(&p, 5, logits, 1.0, 1, 3, 4);
	p.top_p = 0.5f;
	EXPECT_WITH(&p, 5, logits, 1.0, 1);
	p.top_p = 0.0f;
	EXPECT_WITH(&p, 5, logits, 1.0, 1);
	p.top_p = 0.99f;
	EXPECT_WITH(&p, 5, logits, 1.0, 1, 3, 4, 2, 0);
	/* After top_k the mass is renormalised over the K left:
	 * 0.5 / 0.85 = 0.588 < 0.6, so two of the three stay. */
	p.top_k = 3;
	p.top_p = 0.6f;
	EXPECT_WITH(&p, 5, logits, 1.0, 1, 3);
}

TEST(sampler_min_p)
{
	static const double probs[] = { 0.3, 0.4, 0.04, 0.2, 0.06 };
	struct gen_params p;
	float logits[5];

	test_sampler_from_probs(logits, probs, 5);
	test_sampler_neutral(&p);
	/* Threshold 0.125 * 0.4 = 0.05: 0.06 stays, 0.04 goes. */
	p.min_p = 0.125f;
	EXPECT_WITH(&p, 5, logits, 1.0, 1, 0, 3, 4);
	p.min_p = 0.6f; /* 0.24: only 0.4 and 0.3 */
	EXPECT_WITH(&p, 5, logits, 1.0, 1, 0);
	/* min_p is applied before the temperature. */
	p.temperature = 0.25f;
	EXPECT_WITH(&p, 5, logits, 0.25, 1, 0);
}

/*
 * The stage record against hand-computed cases.  Check stage I of R: its
 * kind, how many survive, and its listed candidates (ids in order) with
 * probabilities P (libm, double).
 */
static void
test_sampler_rec_stage(const struct sampler_rec *r, int32_t i,
    enum sampler_stage kind, int32_t n_left, const int32_t *ids,
    const double *p, int32_t n, int line)
{
	const struct sampler_rec_stage *st = &r->stage[i];
	int32_t j;

	if (i >= r->n_stages) {
		test_fail(
		    __FILE__, line, "no stage %d (%d stages)", i, r->n_stages);
		return;
	}
	if (st->kind != kind || st->n_left != n_left || st->n != n) {
		test_fail(__FILE__, line,
		    "stage %d: %s with %d left, %d listed; want %s, %d, %d", i,
		    sampler_stage_name(st->kind), st->n_left, st->n,
		    sampler_stage_name(kind), n_left, n);
		return;
	}
	for (j = 0; j < n; j++)
		if (st->cand[j].id != ids[j] ||
		    fabs(st->cand[j].p - p[j]) > 1e-6)
			test_fail(__FILE__, line,
			    "stage %d cand %d: %d p %.9f, want %d p %.9f", i, j,
			    st->cand[j].id, (double)st->cand[j].p, ids[j],
			    p[j]);
}

#define REC_STAGE(r, i, kind, n_left, ...) \
	do { \
		static const int32_t ids_[] = { __VA_ARGS__ }; \
		double p_[ARRAY_LEN(ids_)]; \
		test_sampler_rec_p( \
		    probs, ids_, p_, ARRAY_LEN(ids_), t_, keep_, n_keep_); \
		test_sampler_rec_stage(r, i, kind, n_left, ids_, p_, \
		    (int32_t)ARRAY_LEN(ids_), __LINE__); \
	} while (0)

/*
 * P[j] for IDS[j]: PROBS (the model's distribution) renormalised over the
 * survivors KEEP (N_KEEP ids) at temperature T.
 */
static void
test_sampler_rec_p(const double *probs, const int32_t *ids, double *p, size_t n,
    double t, const int32_t *keep, size_t n_keep)
{
	double z = 0;
	size_t j;

	for (j = 0; j < n_keep; j++)
		z += pow(probs[keep[j]], 1 / t);
	for (j = 0; j < n; j++)
		p[j] = pow(probs[ids[j]], 1 / t) / z;
}

#define SURVIVORS(...) \
	do { \
		static const int32_t k_[] = { __VA_ARGS__ }; \
		keep_ = k_; \
		n_keep_ = ARRAY_LEN(k_); \
	} while (0)

TEST(sampler_record_stages)
{
	static const double probs[] = { 0.05, 0.5, 0.1, 0.2, 0.15 };
	static const int32_t all_[] = { 0, 1, 2, 3, 4 };
	const int32_t *keep_ = all_;
	size_t n_keep_ = 5;
	double t_ = 1.0;
	struct sampler_rec r;
	struct gen_params p;
	struct sampler *s, *plain;
	float logits[5];
	int32_t tok, tok2;
	int i;

	test_sampler_from_probs(logits, probs, 5);

	/* top_k 2 then temperature 0.5: exactly two left, renormalised. */
	test_sampler_neutral(&p);
	p.top_k = 2;
	p.temperature = 0.5f;
	s = test_sampler_make(&p, 5);
	memset(&r, 0, sizeof r);
	r.n_top = 3;
	CHECK(sampler_sample_rec(s, logits, &tok, &r, NULL) == 0);
	CHECK_INT(r.n_stages, 3);
	REC_STAGE(&r, 0, SAMPLER_STAGE_MODEL, 5, 1, 3, 4);
	SURVIVORS(1, 3);
	REC_STAGE(&r, 1, SAMPLER_STAGE_TOP_K, 2, 1, 3);
	t_ = 0.5;
	REC_STAGE(&r, 2, SAMPLER_STAGE_TEMPERATURE, 2, 1, 3);
	CHECK(r.token == 1 || r.token == 3);
	CHECK_INT(r.token, tok);
	CHECK(fabs(r.p_model - probs[tok]) < 1e-6);
	CHECK(fabs(r.p_token - (tok == 1 ? 0.25 / 0.29 : 0.04 / 0.29)) < 1e-6);
	sampler_free(s);

	/* min_p 0.25: threshold 0.125, so 0.05 and 0.1 go; then top_p 0.6:
	 * 0.5 / 0.85 < 0.6 <= 0.7 / 0.85, two stay. */
	t_ = 1.0;
	test_sampler_neutral(&p);
	p.top_k = 4; /* a short list: the stages apply one at a time */
	p.min_p = 0.25f;
	p.top_p = 0.6f;
	s = test_sampler_make(&p, 5);
	r.n_top = 16;
	CHECK(sampler_sample_rec(s, logits, &tok, &r, NULL) == 0);
	CHECK_INT(r.n_stages, 5);
	keep_ = all_;
	n_keep_ = 5;
	REC_STAGE(&r, 0, SAMPLER_STAGE_MODEL, 5, 1, 3, 4, 2, 0);
	SURVIVORS(1, 3, 4, 2);
	REC_STAGE(&r, 1, SAMPLER_STAGE_TOP_K, 4, 1, 3, 4, 2);
	SURVIVORS(1, 3, 4);
	REC_STAGE(&r, 2, SAMPLER_STAGE_MIN_P, 3, 1, 3, 4);
	SURVIVORS(1, 3);
	REC_STAGE(&r, 3, SAMPLER_STAGE_TOP_P, 2, 1, 3);
	REC_STAGE(&r, 4, SAMPLER_STAGE_TEMPERATURE, 2, 1, 3);
	sampler_free(s);

	/* Over the whole vocabulary min_p alone, then both in one pass. */
	test_sampler_neutral(&p);
	p.min_p = 0.25f;
	s = test_sampler_make(&p, 5);
	CHECK(sampler_sample_rec(s, logits, &tok, &r, NULL) == 0);
	CHECK_INT(r.n_stages, 3);
	SURVIVORS(1, 3, 4);
	REC_STAGE(&r, 1, SAMPLER_STAGE_MIN_P, 3, 1, 3, 4);
	sampler_free(s);
	p.top_p = 0.6f;
	s = test_sampler_make(&p, 5);
	CHECK(sampler_sample_rec(s, logits, &tok, &r, NULL) == 0);
	SURVIVORS(1, 3);
	REC_STAGE(&r, 1, SAMPLER_STAGE_TOP_P_MIN_P, 2, 1, 3);
	sampler_free(s);

	/* Greedy: the model's distribution, then the best token alone. */
	test_sampler_neutral(&p);
	p.temperature = 0;
	s = test_sampler_make(&p, 5);
	r.n_top = 2;
	CHECK(sampler_sample_rec(s, logits, &tok, &r, NULL) == 0);
	CHECK_INT(r.n_stages, 2);
	SURVIVORS(0, 1, 2, 3, 4);
	REC_STAGE(&r, 0, SAMPLER_STAGE_MODEL, 5, 1, 3);
	CHECK_INT(r.stage[1].kind, SAMPLER_STAGE_GREEDY);
	CHECK_INT(r.stage[1].n_left, 1);
	CHECK_INT(r.stage[1].cand[0].id, 1);
	CHECK(r.stage[1].cand[0].p == 1.0f);
	CHECK_INT(r.token, 1);
	CHECK(r.p_token == 1.0f);
	CHECK(fabs(r.p_model - 0.5) < 1e-6);
	sampler_free(s);

	/* Penalties: token 1 (p 0.5, logit ln 0.5 < 0) penalised by 2 becomes
	 * ln 0.5 * 2 = ln 0.25; the stage shows the new distribution. */
	test_sampler_neutral(&p);
	p.repeat_penalty = 2.0f;
	p.repeat_last_n = 8;
	s = test_sampler_make(&p, 5);
	CHECK(sampler_accept(s, 1, NULL) == 0);
	r.n_top = 5;
	CHECK(sampler_sample_rec(s, logits, &tok, &r, NULL) == 0);
	CHECK_INT(r.n_stages, 3);
	CHECK_INT(r.stage[1].kind, SAMPLER_STAGE_PENALTIES);
	CHECK_INT(r.stage[1].cand[0].id, 1);
	CHECK(fabs(r.stage[1].cand[0].p - 0.25 / 0.75) < 1e-6);
	CHECK_INT(r.stage[1].cand[1].id, 3);
	CHECK(fabs(r.stage[1].cand[1].p - 0.2 / 0.75) < 1e-6);
	sampler_free(s);

	/* Mirostat: temperature and the cut in one stage. */
	test_sampler_neutral(&p);
	p.mirostat = 2;
	s = test_sampler_make(&p, 5);
	CHECK(sampler_sample_rec(s, logits, &tok, &r, NULL) == 0);
	CHECK_INT(r.n_stages, 2);
	CHECK_INT(r.stage[1].kind, SAMPLER_STAGE_MIROSTAT);
	CHECK(fabs(r.mu - 2 * p.mirostat_tau) < 1e-6);
	sampler_free(s);

	/* Recording changes nothing: the same stream as without. */
	test_sampler_neutral(&p);
	p.top_k = 4;
	p.top_p = 0.9f;
	p.min_p = 0.05f;
	p.typical_p = 0.95f;
	p.temperature = 0.8f;
	s = test_sampler_make(&p, 5);
	plain = test_sampler_make(&p, 5);
	for (i = 0; i < 200; i++) {
		CHECK(sampler_sample_rec(s, logits, &tok, &r, NULL) == 0);
		CHECK(sampler_sample(plain, logits, &tok2, NULL) == 0);
		CHECK_INT(tok, tok2);
		CHECK_INT(r.token, tok);
		CHECK_INT(
		    r.stage[r.n_stages - 1].kind, SAMPLER_STAGE_TEMPERATURE);
	}
	sampler_free(s);
	sampler_free(plain);
}

/*
 * Locally typical sampling by its definition (Meister et al. 2022, as
 * llama.cpp implements it): sort by |-ln p - H|, keep until the mass
 * exceeds P.
 */
static size_t
test_sampler_typical_ref(
    const double *prob, size_t n, double typ, int32_t *order)
{
	double h = 0, key[16], cum = 0;
	size_t i, j;

	for (i = 0; i < n; i++)
		h -= prob[i] * log(prob[i]);
	for (i = 0; i < n; i++) {
		key[i] = fabs(-log(prob[i]) - h);
		order[i] = (int32_t)i;
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && key[order[j]] < key[order[j - 1]]; j--) {
			int32_t t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		cum += prob[order[i]];
		if (cum > typ)
			return i + 1;
	}
	return n;
}

TEST(sampler_typical)
{
	static const double probs[] = { 0.4, 0.3, 0.2, 0.06, 0.04 };
	/* Targets away from the cumulative masses 0.3, 0.5, 0.9, 0.96, 1,
	 * where float rounding could decide either way. */
	static const float typs[] = { 0.2f, 0.45f, 0.55f, 0.7f, 0.95f };
	struct gen_params p;
	struct sampler *s;
	float logits[5];
	size_t t;

	test_sampler_from_probs(logits, probs, 5);
	test_sampler_neutral(&p);
	for (t = 0; t < ARRAY_LEN(typs); t++) {
		int32_t order[5], want[5];
		size_t n, i, j;

		n = test_sampler_typical_ref(probs, 5, typs[t], order);
		/* Expected output order: probability descending. */
		for (i = 0; i < n; i++)
			want[i] = order[i];
		for (i = 1; i < n; i++)
			for (j = i; j > 0 && want[j] < want[j - 1]; j--) {
				int32_t x = want[j];

				want[j] = want[j - 1];
				want[j - 1] = x;
			}
		p.typical_p = typs[t];
		s = test_sampler_make(&p, 5);
		test_sampler_expect(s, logits, want, n, 1.0, __LINE__);
		sampler_free(s);
	}
	/* H = 1.347 nats; |-ln p - H| = 0.431 0.143 0.262 1.466 1.872, so
	 * the order is 0.3, 0.2, 0.4, ...: typical 0.45 keeps 0.3 and 0.2,
	 * typical 0.55 also 0.4. */
	p.typical_p = 0.45f;
	EXPECT_WITH(&p, 5, logits, 1.0, 1, 2);
	p.typical_p = 0.55f;
	EXPECT_WITH(&p, 5, logits, 1.0, 0, 1, 2);
}

TEST(sampler_greedy_and_bias)
{
	static const float logits[] = { 1, 4, 2, 4, 3 };
	struct gen_params p;
	struct sampler *s;
	struct err e;
	int32_t tok = -1, i;

	test_sampler_neutral(&p);
	p.temperature = 0.0f;
	s = test_sampler_make(&p, 5);
	CHECK_INT(sampler_sample(s, logits, &tok, &e), 0);
	CHECK_INT(tok, 1); /* the first of the two 4s */
	EXPECT(s, logits, 1.0, 1);
	sampler_free(s);
	CHECK_INT(params_set(&p, "logit_bias", "1:-inf", &e), 0);
	CHECK_INT(params_set(&p, "logit_bias", "0:2.5", &e), 0);
	s = test_sampler_make(&p, 5);
	CHECK_INT(sampler_sample(s, logits, &tok, &e), 0);
	CHECK_INT(tok, 3);
	sampler_free(s);
	/* Bias 0:3.5 makes token 0 the best; -inf bans token 1 from draws. */
	p.n_bias = 0;
	CHECK_INT(params_set(&p, "logit_bias", "0:3.5", &e), 0);
	CHECK_INT(params_set(&p, "logit_bias", "1:-inf", &e), 0);
	s = test_sampler_make(&p, 5);
	CHECK_INT(sampler_sample(s, logits, &tok, &e), 0);
	CHECK_INT(tok, 0);
	sampler_free(s);
	p.temperature = 1.0f;
	s = test_sampler_make(&p, 5);
	for (i = 0; i < 2000; i++) {
		CHECK_INT(sampler_sample(s, logits, &tok, &e), 0);
		if (tok == 1) {
			CHECK_MSG(0, "banned token drawn");
			break;
		}
	}
	sampler_free(s);
}

TEST(sampler_penalties)
{
	static const float logits[] = { 2, -1, 1, 0.5f, -2, 3 };
	struct gen_params p;
	struct sampler_cand c[8];
	struct sampler *s;
	struct err e;
	float want[6];
	size_t n, i, j;

	test_sampler_neutral(&p);
	p.repeat_penalty = 2.0f;
	p.frequency_penalty = 0.25f;
	p.presence_penalty = 0.5f;
	p.repeat_last_n = 4;
	s = test_sampler_make(&p, 6);
	/* Window after these: 1 2 1 4 (the first 0 and 5 have left). */
	CHECK_INT(sampler_accept(s, 0, &e), 0);
	CHECK_INT(sampler_accept(s, 5, &e), 0);
	CHECK_INT(sampler_accept(s, 1, &e), 0);
	CHECK_INT(sampler_accept(s, 2, &e), 0);
	CHECK_INT(sampler_accept(s, 1, &e), 0);
	CHECK_INT(sampler_accept(s, 4, &e), 0);
	CHECK_INT(sampler_accept(s, 6, &e), ERR_RANGE);
	memcpy(want, logits, sizeof want);
	want[1] = -1 * 2.0f - (2 * 0.25f + 0.5f); /* negative: multiplied */
	want[2] = 1 / 2.0f - (1 * 0.25f + 0.5f);  /* positive: divided */
	want[4] = -2 * 2.0f - (1 * 0.25f + 0.5f);
	CHECK_INT(sampler_probs(s, logits, c, 8, &n, &e), 0);
	CHECK_INT(n, 6);
	for (i = 0; i < n; i++)
		for (j = 0; j < 6; j++)
			if (c[i].id == (int32_t)j)
				CHECK_MSG(fabsf(c[i].logit - want[j]) < 1e-6f,
				    "token %zu: logit %g, want %g", j,
				    (double)c[i].logit, (double)want[j]);
	/* Reset forgets the window. */
	sampler_reset(s);
	CHECK_INT(sampler_probs(s, logits, c, 8, &n, &e), 0);
	for (i = 0; i < n; i++)
		CHECK(c[i].logit == logits[c[i].id]);
	sampler_free(s);

	/* repeat_last_n -1: everything ever accepted counts. */
	p.repeat_last_n = -1;
	p.frequency_penalty = 0;
	p.presence_penalty = 0;
	s = test_sampler_make(&p, 6);
	for (i = 0; i < 100; i++)
		CHECK_INT(sampler_accept(s, 0, &e), 0);
	CHECK_INT(sampler_accept(s, 3, &e), 0);
	CHECK_INT(sampler_probs(s, logits, c, 8, &n, &e), 0);
	for (i = 0; i < n; i++) {
		float w = logits[c[i].id];

		if (c[i].id == 0 || c[i].id == 3)
			w /= 2.0f;
		CHECK(fabsf(c[i].logit - w) < 1e-6f);
	}
	sampler_free(s);
}

TEST(sampler_chi_square)
{
	static const double probs[] = { 0.3, 0.2, 0.15, 0.12, 0.1, 0.08, 0.04,
		0.01 };
	enum { N = 40000 };
	struct gen_params p;
	struct sampler *s;
	struct err e;
	float logits[8];
	double counts[8] = { 0 }, chi2 = 0;
	int32_t tok;
	size_t i;

	test_sampler_from_probs(logits, probs, 8);
	test_sampler_neutral(&p);
	p.seed = 12345;
	s = test_sampler_make(&p, 8);
	for (i = 0; i < N; i++) {
		CHECK_INT(sampler_sample(s, logits, &tok, &e), 0);
		counts[tok]++;
	}
	for (i = 0; i < 8; i++) {
		double want = probs[i] * N;

		chi2 += (counts[i] - want) * (counts[i] - want) / want;
	}
	test_note(
	    "chi-square %.2f with 7 degrees of freedom (seed 12345)", chi2);
	/* 24.32 is the 0.999 quantile: a fair draw passes; the seed is
	 * fixed, so the result is too. */
	CHECK_MSG(chi2 < 24.32, "chi-square %.2f", chi2);
	sampler_free(s);

	/* Temperature 0.5 draws from softmax(logit / 0.5) = p^2 / sum. */
	p.temperature = 0.5f;
	s = test_sampler_make(&p, 8);
	memset(counts, 0, sizeof counts);
	for (i = 0; i < N; i++) {
		CHECK_INT(sampler_sample(s, logits, &tok, &e), 0);
		counts[tok]++;
	}
	{
		double z = 0;

		for (i = 0; i < 8; i++)
			z += probs[i] * probs[i];
		chi2 = 0;
		for (i = 0; i < 8; i++) {
			double want = probs[i] * probs[i] / z * N;

			chi2 += (counts[i] - want) * (counts[i] - want) / want;
		}
	}
	CHECK_MSG(chi2 < 24.32, "chi-square at temperature 0.5: %.2f", chi2);
	sampler_free(s);
}

/* Normal-ish logits (a sum of uniforms) like a model's, from SEED. */
static void
test_sampler_random_logits(float *l, size_t n, uint64_t seed, float scale)
{
	struct rng r;
	size_t i;

	rng_init(&r, seed);
	for (i = 0; i < n; i++)
		l[i] = scale *
		    (rng_float(&r) + rng_float(&r) + rng_float(&r) +
			rng_float(&r) - 2.0f);
}

static int
test_sampler_cmp_desc(const void *a, const void *b)
{
	const struct sampler_cand *x = a, *y = b;

	if (x->logit != y->logit)
		return x->logit > y->logit ? -1 : 1;
	return x->id < y->id ? -1 : 1;
}

/*
 * Over a vocabulary large enough for the bucketed paths (top_p over the
 * whole vocabulary, and after a top_k of more than 1024): the kept set is
 * the top of the sorted order, the mass (normalised over the top_k
 * survivors) before its last member is below P while the mass with it
 * reaches P (within float rounding), and min_p cuts it further exactly
 * at its threshold.
 */
TEST(sampler_top_p_large_vocab)
{
	enum { NV = 20000 };
	static const struct {
		float top_p, min_p;
		int32_t top_k;
	} cfg[] = {
		{ 0.1f, 0, 0 },
		{ 0.5f, 0, 0 },
		{ 0.9f, 0, 0 },
		{ 0.999f, 0, 0 },
		{ 0.9f, 0, 12000 },
		{ 0.5f, 0, 3000 },
		{ 0.9f, 0.01f, 0 },
		{ 0.3f, 0.01f, 0 },
		{ 1.0f, 0.01f, 0 },
	};
	struct sampler_cand *c = xmalloc(NV * sizeof *c);
	struct sampler_cand *all = xmalloc(NV * sizeof *all);
	float *l = xmalloc(NV * sizeof *l);
	struct gen_params p;
	struct sampler *s;
	struct err e;
	size_t t, n, i, k, want;

	test_sampler_random_logits(l, NV, 99, 4.0f);
	for (i = 0; i < NV; i++) {
		all[i].id = (int32_t)i;
		all[i].logit = l[i];
	}
	qsort(all, NV, sizeof *all, test_sampler_cmp_desc);
	for (t = 0; t < ARRAY_LEN(cfg); t++) {
		double z = 0, cum = 0, before = 0;

		test_sampler_neutral(&p);
		p.top_p = cfg[t].top_p;
		p.min_p = cfg[t].min_p;
		p.top_k = cfg[t].top_k;
		k = cfg[t].top_k > 0 ? (size_t)cfg[t].top_k : NV;
		s = test_sampler_make(&p, NV);
		CHECK_INT(sampler_probs(s, l, c, NV, &n, &e), 0);
		for (i = 0; i < k; i++)
			z += exp((double)all[i].logit - all[0].logit);
		/* The reference: top_p's prefix, then min_p's threshold. */
		for (want = 0; want < k; want++) {
			cum += exp((double)all[want].logit - all[0].logit) / z;
			if (cum >= cfg[t].top_p)
				break;
		}
		want = want < k ? want + 1 : k;
		for (i = 0; i < want; i++)
			if (exp((double)all[i].logit - all[0].logit) <
			    cfg[t].min_p)
				break;
		if (i < want) {
			CHECK_INT(n, i);
			want = i;
		}
		cum = 0;
		for (i = 0; i < n; i++) {
			CHECK_INT(c[i].id, all[i].id);
			if (c[i].id != all[i].id)
				break;
			before = cum;
			cum += exp((double)all[i].logit - all[0].logit) / z;
		}
		CHECK_MSG(n == want ||
			(cfg[t].min_p == 0 && n + 1 >= want && n <= want + 1 &&
			    cum >= cfg[t].top_p - 1e-6 &&
			    before < cfg[t].top_p + 1e-6),
		    "top_p %g min_p %g top_k %d kept %zu tokens with mass "
		    "%.9f, want %zu",
		    (double)cfg[t].top_p, (double)cfg[t].min_p, cfg[t].top_k, n,
		    cum, want);
		test_note("top_p %g min_p %g top_k %d over %d tokens keeps %zu",
		    (double)cfg[t].top_p, (double)cfg[t].min_p, cfg[t].top_k,
		    NV, n);
		sampler_free(s);
	}
	free(c);
	free(all);
	free(l);
}

/* The bucketed typical selection agrees with the definition. */
TEST(sampler_typical_large_vocab)
{
	enum { NV = 5000 };
	struct sampler_cand *c = xmalloc(NV * sizeof *c);
	double *prob = xmalloc(NV * sizeof *prob), *key, h = 0, z = 0;
	int32_t *order = xmalloc(NV * sizeof *order);
	float *l = xmalloc(NV * sizeof *l);
	struct gen_params p;
	struct sampler *s;
	struct err e;
	size_t n, i, j, in_ref = 0;
	double cum = 0;

	test_sampler_random_logits(l, NV, 5, 3.0f);
	for (i = 0; i < NV; i++)
		z += exp(l[i]);
	for (i = 0; i < NV; i++) {
		prob[i] = exp(l[i]) / z;
		h -= prob[i] * log(prob[i]);
	}
	key = xmalloc(NV * sizeof *key);
	for (i = 0; i < NV; i++) {
		key[i] = fabs(-log(prob[i]) - h);
		order[i] = (int32_t)i;
	}
	/* Shell sort by key, then id. */
	for (j = NV / 2; j > 0; j /= 2)
		for (i = j; i < NV; i++) {
			size_t k = i;
			int32_t x = order[i];

			while (k >= j &&
			    (key[order[k - j]] > key[x] ||
				(key[order[k - j]] == key[x] &&
				    order[k - j] > x))) {
				order[k] = order[k - j];
				k -= j;
			}
			order[k] = x;
		}
	test_sampler_neutral(&p);
	p.typical_p = 0.6f;
	s = test_sampler_make(&p, NV);
	CHECK_INT(sampler_probs(s, l, c, NV, &n, &e), 0);
	/* The kept set is a prefix of the order by key. */
	for (i = 0; i < n; i++) {
		cum += prob[order[i]];
		for (j = 0; j < n; j++)
			if (c[j].id == order[i])
				break;
		in_ref += j < n;
	}
	CHECK_INT(in_ref, n);
	CHECK_MSG(cum > 0.6 - 1e-6 && cum - prob[order[n - 1]] <= 0.6 + 1e-6,
	    "typical kept %zu with mass %.9f", n, cum);
	test_note("typical 0.6 over %d tokens keeps %zu", NV, n);
	sampler_free(s);
	free(c);
	free(prob);
	free(key);
	free(order);
	free(l);
}

/*
 * Mirostat v2 on a Zipf-like distribution: the surprise of the drawn
 * tokens, measured against the distribution they were drawn from,
 * averages out at tau.
 */
TEST(sampler_mirostat_converges)
{
	enum { NV = 2000, STEPS = 3000 };
	struct sampler_cand *c = xmalloc(NV * sizeof *c);
	float *l = xmalloc(NV * sizeof *l);
	static const float taus[] = { 3.0f, 5.0f };
	struct gen_params p;
	struct sampler *s;
	struct err e;
	size_t i, j, t, n;

	for (i = 0; i < NV; i++)
		l[i] = -1.2f * logf((float)(i + 1));
	for (t = 0; t < ARRAY_LEN(taus); t++) {
		double total = 0;

		test_sampler_neutral(&p);
		p.mirostat = 2;
		p.mirostat_tau = taus[t];
		p.mirostat_eta = 0.1f;
		p.seed = 777;
		s = test_sampler_make(&p, NV);
		CHECK(sampler_mu(s) == 2 * taus[t]);
		for (i = 0; i < STEPS; i++) {
			int32_t tok;
			double pt = 0;

			CHECK_INT(sampler_probs(s, l, c, NV, &n, &e), 0);
			CHECK_INT(sampler_sample(s, l, &tok, &e), 0);
			for (j = 0; j < n; j++)
				if (c[j].id == tok)
					pt = c[j].p;
			CHECK(pt > 0);
			if (i >= STEPS / 2)
				total += -log2(pt);
		}
		total /= STEPS / 2;
		test_note("mirostat tau %g: mean surprise %.3f bits, mu %.3f",
		    (double)taus[t], total, (double)sampler_mu(s));
		CHECK_MSG(fabs(total - taus[t]) < 0.25,
		    "mean surprise %.3f, tau %g", total, (double)taus[t]);
		sampler_free(s);
	}
	free(c);
	free(l);
}

TEST(sampler_seeds_clone_reset)
{
	enum { NV = 1000, N = 300 };
	float *l = xmalloc(NV * sizeof *l);
	int32_t a[N], b[N], tok;
	struct gen_params p;
	struct sampler *s1, *s2, *c;
	struct err e;
	size_t i, same = 0;

	test_sampler_random_logits(l, NV, 3, 2.0f);
	params_init(&p);
	p.repeat_penalty = 1.1f;
	p.seed = 4242;
	s1 = test_sampler_make(&p, NV);
	s2 = test_sampler_make(&p, NV);
	for (i = 0; i < N; i++) {
		CHECK_INT(sampler_sample(s1, l, &a[i], &e), 0);
		CHECK_INT(sampler_sample(s2, l, &b[i], &e), 0);
		sampler_accept(s1, a[i], NULL);
		sampler_accept(s2, b[i], NULL);
	}
	CHECK(memcmp(a, b, sizeof a) == 0);
	sampler_free(s2);

	/* A clone continues exactly like the original. */
	c = sampler_clone(s1);
	for (i = 0; i < N; i++) {
		CHECK_INT(sampler_sample(s1, l, &a[i], &e), 0);
		CHECK_INT(sampler_sample(c, l, &b[i], &e), 0);
		sampler_accept(s1, a[i], NULL);
		sampler_accept(c, b[i], NULL);
	}
	CHECK(memcmp(a, b, sizeof a) == 0);
	sampler_free(c);

	/* Reset gives the first run again. */
	sampler_reset(s1);
	s2 = test_sampler_make(&p, NV);
	for (i = 0; i < N; i++) {
		CHECK_INT(sampler_sample(s1, l, &a[i], &e), 0);
		CHECK_INT(sampler_sample(s2, l, &b[i], &e), 0);
		sampler_accept(s1, a[i], NULL);
		sampler_accept(s2, b[i], NULL);
	}
	CHECK(memcmp(a, b, sizeof a) == 0);
	sampler_free(s2);

	/* Another seed gives another sequence. */
	p.seed = 4243;
	s2 = test_sampler_make(&p, NV);
	sampler_reset(s1);
	for (i = 0; i < N; i++) {
		CHECK_INT(sampler_sample(s1, l, &a[i], &e), 0);
		CHECK_INT(sampler_sample(s2, l, &b[i], &e), 0);
		same += a[i] == b[i];
	}
	CHECK_MSG(same < N / 4, "%zu of %d tokens equal", same, N);
	CHECK(sampler_seed(s2) == 4243);
	CHECK(sampler_reseed(s2, 4242) == 4242);
	CHECK_INT(sampler_sample(s2, l, &tok, &e), 0);
	sampler_free(s2);

	/* Seed 0 draws one and reports it. */
	p.seed = 0;
	s2 = test_sampler_make(&p, NV);
	c = test_sampler_make(&p, NV);
	CHECK(sampler_seed(s2) != 0 && sampler_seed(c) != 0);
	CHECK(sampler_seed(s2) != sampler_seed(c));
	sampler_free(s2);
	sampler_free(c);
	sampler_free(s1);
	free(l);
}

/*
 * Fixed streams: seed 20240601 over fixed logits gives these tokens on
 * every machine and at every optimisation level (the draw uses only
 * integer-derived uniforms and sampler.c's own exp and log, in a fixed
 * order; the vector code has the same lanes whatever the target).  One
 * stream per path through the chain: top_k, top_p and min_p over the
 * whole vocabulary (bucketed), typical (bucketed), a bare temperature,
 * mirostat.  If one changes, seeds stored with old answers no longer
 * reproduce them: change the expected values only on purpose.
 */
TEST(sampler_golden_streams)
{
	enum { NV = 3000 };
	static const struct {
		const char *set, *want;
	} cfg[] = {
		{ "top_k=20 repeat_penalty=1.3",
		    "1391 2124 2233 1474 695 254 1514 1993 254 2229 1655 11" },
		{ "top_k=0 min_p=0 top_p=0.9 repeat_penalty=1.1",
		    "1133 1435 2587 1545 1993 1066 146 1366 2607 1223 1332 "
		    "1175" },
		{ "top_k=0 top_p=1 min_p=0.05 temperature=1.5",
		    "1015 1435 2620 1583 2065 998 146 1291 2695 1185 1238 "
		    "1066" },
		{ "top_k=0 top_p=1 min_p=0 typical_p=0.8",
		    "1035 1455 2766 1642 2067 1015 162 1245 2794 1180 1224 "
		    "1068" },
		{ "top_k=0 top_p=1 min_p=0 temperature=1",
		    "1048 1440 2645 1593 2049 1027 162 1314 2686 1215 1281 "
		    "1110" },
		{ "mirostat=2 tau=4 presence_penalty=0.5",
		    "1391 1451 2229 1514 1655 1219 28 1397 2229 1397 1397 "
		    "1391" },
	};
	float *l = xmalloc(NV * sizeof *l);
	struct gen_params p;
	struct sampler *s;
	struct err e;
	struct sbuf sb;
	int32_t tok;
	size_t c, i;

	test_sampler_random_logits(l, NV, 8, 3.0f);
	sbuf_init(&sb);
	for (c = 0; c < ARRAY_LEN(cfg); c++) {
		params_init(&p);
		p.seed = 20240601;
		CHECK_INT(params_set_list(&p, cfg[c].set, &e), 0);
		s = test_sampler_make(&p, NV);
		sbuf_reset(&sb);
		for (i = 0; i < 12; i++) {
			CHECK_INT(sampler_sample(s, l, &tok, &e), 0);
			sampler_accept(s, tok, NULL);
			sbuf_addf(&sb, "%s%d", i ? " " : "", tok);
		}
		test_note("%s: %s", cfg[c].set, sb.buf);
		CHECK_STR(sb.buf, cfg[c].want);
		sampler_free(s);
	}
	sbuf_release(&sb);
	free(l);
}

TEST(sampler_errors)
{
	struct gen_params p;
	struct sampler *s = NULL;
	struct err e;

	params_init(&p);
	CHECK_INT(params_set(&p, "logit_bias", "100:1", &e), 0);
	CHECK_INT(sampler_new(&p, 100, &s, &e), ERR_RANGE);
	CHECK(s == NULL);
	CHECK_CONTAINS(e.msg, "logit_bias: token 100");
	CHECK_CONTAINS(e.msg, "100 tokens");
	params_init(&p);
	p.mirostat = 1;
	CHECK_INT(sampler_new(&p, 100, &s, &e), ERR_UNSUPPORTED);
	params_init(&p);
	p.repeat_penalty = 0;
	CHECK_INT(sampler_new(&p, 100, &s, &e), ERR_RANGE);
	CHECK_CONTAINS(e.msg, "repeat_penalty");
	params_init(&p);
	p.top_p = NAN;
	CHECK_INT(sampler_new(&p, 100, &s, &e), ERR_RANGE);
	CHECK_CONTAINS(e.msg, "top_p");
	params_init(&p);
	CHECK_INT(sampler_new(&p, 0, &s, &e), ERR_RANGE);
	{
		static const float bad[3] = { NAN, -INFINITY, INFINITY };
		int32_t tok;

		params_init(&p);
		CHECK_INT(sampler_new(&p, 3, &s, &e), 0);
		CHECK_INT(sampler_sample(s, bad, &tok, &e), ERR_RANGE);
		CHECK_CONTAINS(e.msg, "finite");
		sampler_free(s);
	}
}

TEST(sampler_describe)
{
	struct gen_params p;
	struct sampler *s;
	struct sbuf sb;

	params_init(&p);
	p.seed = 7;
	p.repeat_penalty = 1.1f;
	s = test_sampler_make(&p, 1000);
	sbuf_init(&sb);
	sampler_describe(s, &sb);
	CHECK_STR(sb.buf,
	    "logit_bias (none) -> penalties (last 64: repeat 1.1) -> "
	    "top_k 40 -> typical 1 (off) -> top_p 0.95 -> min_p 0.05 -> "
	    "temperature 0.8 -> draw (seed 7)");
	sampler_free(s);
	params_init(&p);
	p.temperature = 0;
	p.n_bias = 1;
	p.bias[0].token = 3;
	p.bias[0].bias = -INFINITY;
	p.frequency_penalty = 0.5f;
	p.repeat_last_n = -1;
	s = test_sampler_make(&p, 1000);
	sbuf_reset(&sb);
	sampler_describe(s, &sb);
	CHECK_STR(sb.buf,
	    "logit_bias (1 token) -> penalties (all tokens: frequency 0.5) "
	    "-> greedy (temperature 0: the most likely token; no truncation, "
	    "no draw)");
	sampler_free(s);
	params_init(&p);
	p.mirostat = 2;
	p.seed = 9;
	s = test_sampler_make(&p, 1000);
	sbuf_reset(&sb);
	sampler_describe(s, &sb);
	CHECK_CONTAINS(sb.buf,
	    "temperature 0.8 -> mirostat v2 (tau 5, eta "
	    "0.1; replaces top_k, typical, top_p, min_p) "
	    "-> draw (seed 9)");
	sampler_free(s);
	sbuf_release(&sb);
}

/*
 * The token loop does not allocate: by design every buffer comes from
 * sampler_new; here the heap in use must not change over many tokens.
 */
TEST(sampler_no_allocation_in_loop)
{
	enum { NV = 32000 };
	float *l = xmalloc(NV * sizeof *l);
	struct gen_params p;
	struct sampler *s;
	struct mallinfo2 before, after;
	struct err e;
	int32_t tok;
	size_t i;

	test_sampler_random_logits(l, NV, 11, 3.0f);
	params_init(&p);
	p.top_k = 0;
	p.repeat_penalty = 1.2f;
	p.seed = 5;
	s = test_sampler_make(&p, NV);
	CHECK_INT(sampler_sample(s, l, &tok, &e), 0);
	before = mallinfo2();
	for (i = 0; i < 200; i++) {
		CHECK_INT(sampler_sample(s, l, &tok, &e), 0);
		CHECK_INT(sampler_accept(s, tok, &e), 0);
	}
	after = mallinfo2();
	CHECK(before.uordblks == after.uordblks);
	CHECK(before.arena == after.arena && before.hblks == after.hblks);
	sampler_free(s);
	free(l);
}

/*
 * The cost of the chain per token on Qwen2's 151936-token vocabulary,
 * reported (not asserted: machines differ).
 */
TEST(sampler_bench)
{
	enum { NV = 151936, N = 20 };
	static const struct {
		const char *name;
		const char *set;
		int peaked; /* Zipf-like logits instead of flat random ones */
	} cfgs[] = {
		{ "default (top_k 40, top_p 0.95, min_p 0.05, temp 0.8)",
		    "repeat_penalty=1.1", 0 },
		{ "greedy", "temperature=0", 0 },
		{ "top_p 0.9 alone", "top_k=0 min_p=0 top_p=0.9", 0 },
		{ "min_p 0.05 alone", "top_k=0 top_p=1 min_p=0.05", 0 },
		{ "typical 0.9 alone", "top_k=0 top_p=1 min_p=0 typical_p=0.9",
		    0 },
		{ "temperature alone", "top_k=0 top_p=1 min_p=0", 0 },
		{ "mirostat v2", "mirostat=2", 0 },
		{ "top_p 0.9 alone, peaked logits", "top_k=0 min_p=0 top_p=0.9",
		    1 },
		{ "mirostat v2, peaked logits", "mirostat=2", 1 },
	};
	float *l = xmalloc(NV * sizeof *l), *z = xmalloc(NV * sizeof *z);
	struct gen_params p;
	struct sampler *s;
	struct err e;
	int32_t tok;
	size_t c, i, r;

	test_timeout(300);
	test_sampler_random_logits(l, NV, 1, 5.0f);
	/* Peaked: logit = -1.5 ln(rank), ranks scattered over the ids. */
	for (i = 0; i < NV; i++)
		z[(i * 7919) % NV] = -1.5f * logf((float)(i + 1));
	for (c = 0; c < ARRAY_LEN(cfgs); c++) {
		double t0, us;

		params_init(&p);
		p.seed = 1;
		CHECK_INT(params_set_list(&p, cfgs[c].set, &e), 0);
		s = test_sampler_make(&p, NV);
		for (i = 0; i < 64; i++)
			sampler_accept(s, (int32_t)(i * 2371 % NV), NULL);
		/* The best of five runs: the machines are shared. */
		us = 1e30;
		for (r = 0; r < 5; r++) {
			t0 = util_now();
			for (i = 0; i < N; i++) {
				CHECK_INT(sampler_sample(s,
					      cfgs[c].peaked ? z : l, &tok, &e),
				    0);
				sampler_accept(s, tok, NULL);
			}
			t0 = (util_now() - t0) / N * 1e6;
			us = t0 < us ? t0 : us;
		}
		test_note("%-56s %8.1f us/token", cfgs[c].name, us);
		sampler_free(s);
	}
	free(l);
	free(z);
}

/*
 * vkchat-sampling(7) documents every parameter of params.c's table (as
 * ".It Cm KEY") and each built-in preset with its settings.
 */
TEST(sampler_man_page_complete)
{
	const char *top = getenv("TOP_SRCDIR");
	char *man = NULL, *path;
	struct err e;
	size_t i;

	if (top == NULL)
		test_skip("TOP_SRCDIR is not set (run through make check)");
	path = xasprintf("%s/man/vkchat-sampling.7", top);
	if (util_read_file(path, 0, &man, NULL, &e) != 0) {
		CHECK_MSG(0, "%s", e.msg);
		free(path);
		return;
	}
	for (i = 0; i < params_count(); i++) {
		char *want = xasprintf(".It Cm %s ", params_key(i));

		CHECK_CONTAINS(man, want);
		free(want);
	}
	for (i = 0; i < params_builtin_count(); i++) {
		struct gen_params p;
		struct sbuf diff;
		char *want, *item, *save = NULL;

		want = xasprintf(".It Cm %s\n", params_builtin_name(i));
		CHECK_CONTAINS(man, want);
		free(want);
		CHECK_INT(params_builtin(params_builtin_name(i), &p), 0);
		sbuf_init(&diff);
		params_diff(&p, NULL, " ", &diff);
		/* "temperature=0.2 top_k=20" -> "temperature 0.2", ... */
		for (item = strtok_r(diff.buf, " ", &save); item != NULL;
		     item = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(item, '=');

			if (eq != NULL)
				*eq = ' ';
			CHECK_CONTAINS(man, item);
		}
		sbuf_release(&diff);
		params_release(&p);
	}
	free(man);
	free(path);
}

/*
 * Every parameter's heading (name, alias, range, default) is the same
 * line in vkchat-sampling(7) and vkchat-presets(5), so the two pages
 * cannot disagree on a range.
 */
TEST(sampler_man_pages_agree)
{
	const char *top = getenv("TOP_SRCDIR");
	char *pages[2] = { NULL, NULL }, *path;
	static const char *const names[2] = { "vkchat-sampling.7",
		"vkchat-presets.5" };
	struct err e;
	size_t i, k;

	if (top == NULL)
		test_skip("TOP_SRCDIR is not set (run through make check)");
	for (k = 0; k < 2; k++) {
		path = xasprintf("%s/man/%s", top, names[k]);
		if (util_read_file(path, 0, &pages[k], NULL, &e) != 0)
			CHECK_MSG(0, "%s", e.msg);
		free(path);
	}
	for (i = 0; pages[0] != NULL && pages[1] != NULL && i < params_count();
	     i++) {
		char *want = xasprintf("\n.It Cm %s ", params_key(i));
		const char *a = strstr(pages[0], want);
		const char *b = strstr(pages[1], want);
		size_t la, lb;

		free(want);
		if (a == NULL || b == NULL) {
			CHECK_MSG(0, "%s: no heading in %s", params_key(i),
			    names[a == NULL ? 0 : 1]);
			continue;
		}
		la = strcspn(a + 1, "\n");
		lb = strcspn(b + 1, "\n");
		CHECK_MSG(la == lb && memcmp(a + 1, b + 1, la) == 0,
		    "%s: '%.*s' in %s, '%.*s' in %s", params_key(i), (int)la,
		    a + 1, names[0], (int)lb, b + 1, names[1]);
	}
	free(pages[0]);
	free(pages[1]);
}
