/*
 * sampler: the sampler chain of sampler.h.
 *
 * Data flow of one token: the logits are copied into work[] only when a
 * bias or a penalty changes some of them (the few changed tokens are
 * patched there), then the surviving tokens live in items[] as (id,
 * logit, key, e) records, where e is exp(logit - max) over the current set
 * and key the sort key of the stage at hand (ascending; ties go to the
 * lower id, so every order is total and every result deterministic).
 *
 *   top_k      a heap of the K best while scanning the vocabulary once
 *   typical,   "keep the smallest-key prefix whose mass reaches a target":
 *   top_p      fewer than SAMPLER_SORT_MAX candidates are sorted; more are
 *              spread over SAMPLER_BUCKETS buckets by key, the bucket
 *              where the running mass crosses the target is found, and
 *              only that bucket is sorted (every key in a lower bucket is
 *              smaller than every key in it, so the result is the exact
 *              prefix)
 *   min_p      a threshold test in log space: logit - max >= ln(min_p)
 *
 * Without top_k, items are made only of the tokens that can survive:
 * min_p and mirostat are thresholds tested straight on the logits, and
 * top_p over the whole vocabulary buckets the logits themselves
 * (sampler_top_p_vocab), so a peaked distribution costs two vectorised
 * passes over the logits and a handful of items.
 *
 * Determinism: exp and log are computed here (sampler_expf4,
 * sampler_log) with plain IEEE operations instead of libm, whose last bits
 * differ between implementations, and sums run in a fixed order.  The
 * build uses -std=c17, under which GCC does not contract a * b + c into
 * fused multiply-adds, so the same source gives the same bits everywhere.
 *
 * Penalty window: a ring of the last repeat_last_n accepted tokens, a
 * count per vocabulary entry and the list of distinct tokens in the window
 * (with each token's index in that list, for O(1) removal), so applying
 * the penalties costs O(distinct tokens in the window), not O(n_vocab).
 */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define SAMPLER_SORT_MAX 1024
#define SAMPLER_BUCKETS 4096
#define SAMPLER_LN2 0.69314718055994530942

struct sampler_item {
	int32_t id;
	float logit; /* after bias, penalties (and temperature at the end) */
	float key;   /* sort key of the current stage, ascending */
	float e;     /* exp(logit - max) over the current set */
};

struct sampler {
	/* Settings (validated copies of the gen_params fields). */
	int32_t n_vocab;
	float temperature;
	int32_t top_k;
	float top_p, min_p, typical_p;
	float repeat_penalty, frequency_penalty, presence_penalty;
	int32_t repeat_last_n;
	int32_t mirostat;
	float tau, eta;
	struct logit_bias bias[PARAMS_MAX_BIAS];
	size_t n_bias;
	double ln_min_p; /* ln(min_p), when min_p > 0 */
	int penalize;	 /* some penalty is active and the window is not 0 */

	/* State. */
	uint64_t seed;
	struct rng rng;
	float mu;
	int32_t *ring;	   /* (window) accepted tokens; NULL for "all" */
	size_t window;	   /* ring capacity; 0 = unbounded ("all") */
	size_t ring_len;   /* tokens in the ring */
	size_t ring_head;  /* index of the oldest token in the ring */
	int32_t *count;	   /* (n_vocab) occurrences in the window */
	int32_t *distinct; /* (n_vocab) tokens whose count is > 0 */
	int32_t *where;	   /* (n_vocab) index of a token in distinct */
	size_t n_distinct;

	/* Scratch for one token. */
	float *work;		     /* (n_vocab) patched logits */
	struct sampler_item *items;  /* (n_vocab) current candidates */
	struct sampler_item *items2; /* (n_vocab) the other buffer */
	double bmass[SAMPLER_BUCKETS];
	uint32_t bcount[SAMPLER_BUCKETS];
	double sum; /* sum of e over the candidates after sampler_chain */

	/* The stage record of the step being sampled, or NULL (set only
	 * during sampler_sample_rec), and the model's max logit and mass. */
	struct sampler_rec *rec;
	float rec_max;
	double rec_sum;
};

/*
 * exp(x) for x <= 0 in float, four lanes at once (GCC vector extensions:
 * SSE2 or NEON, plain scalar code elsewhere; every lane does exactly the
 * scalar operations, so the results do not depend on the vector width):
 * x = k ln2 + r with |r| <= ln2 / 2 (ln2 split in two so k ln2 is exact),
 * e^r by its Taylor polynomial of degree 7 (relative error below 1e-8
 * before rounding), 2^k put into the exponent bits.  Inputs below -87 are
 * clamped, so no result is 0 (e^-87 is above FLT_MIN): every candidate
 * keeps a positive weight.
 */
typedef float sampler_v4sf __attribute__((vector_size(16)));
typedef int32_t sampler_v4si __attribute__((vector_size(16)));
typedef double sampler_v2df __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) sampler_v4sf
sampler_expf4(sampler_v4sf x)
{
	const sampler_v4sf lo = { -87.0f, -87.0f, -87.0f, -87.0f };
	sampler_v4sf kf, r, p;
	sampler_v4si k;

	sampler_v4si low = x < lo;

	x = (sampler_v4sf)((low & (sampler_v4si)lo) | (~low & (sampler_v4si)x));
	/* Truncation of a negative value rounds up: k = ceil(x/ln2 - 0.5). */
	k = __builtin_convertvector(x * 1.44269504f - 0.5f, sampler_v4si);
	kf = __builtin_convertvector(k, sampler_v4sf);
	r = x - kf * 0.693145752f;
	r = r - kf * 1.42860677e-6f;
	p = r * (1.0f / 5040.0f) + 1.0f / 720.0f;
	p = p * r + 1.0f / 120.0f;
	p = p * r + 1.0f / 24.0f;
	p = p * r + 1.0f / 6.0f;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	return p * (sampler_v4sf)((k + 127) << 23);
}

static double
sampler_total(const sampler_v2df *acc)
{
	return ((acc[0][0] + acc[0][1]) + (acc[1][0] + acc[1][1])) +
	    ((acc[2][0] + acc[2][1]) + (acc[3][0] + acc[3][1]));
}

/*
 * ln(x) for x > 0 in double: x = 2^e m with m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh(s) with s = (m - 1) / (m + 1), |s| < 0.172, by its
 * series to s^17 (error below 1e-14).  Returns -inf for x <= 0.
 */
static double
sampler_log(double x)
{
	double m, s, s2, t;
	uint64_t bits;
	int e;

	if (!(x > 0))
		return -INFINITY;
	if (isinf(x))
		return x;
	e = 0;
	if (x < 0x1p-1022) {
		x *= 0x1p54;
		e = -54;
	}
	memcpy(&bits, &x, sizeof bits);
	e += (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
	memcpy(&m, &bits, sizeof m);
	if (m > 1.41421356237309504880) {
		m *= 0.5;
		e++;
	}
	s = (m - 1.0) / (m + 1.0);
	s2 = s * s;
	t = 1.0 / 17.0;
	t = t * s2 + 1.0 / 15.0;
	t = t * s2 + 1.0 / 13.0;
	t = t * s2 + 1.0 / 11.0;
	t = t * s2 + 1.0 / 9.0;
	t = t * s2 + 1.0 / 7.0;
	t = t * s2 + 1.0 / 5.0;
	t = t * s2 + 1.0 / 3.0;
	t = t * s2 + 1.0;
	return (double)e * SAMPLER_LN2 + 2.0 * s * t;
}

/* Whether item A sorts before B: smaller key, then smaller id. */
static int
sampler_before(const struct sampler_item *a, const struct sampler_item *b)
{
	return a->key < b->key || (a->key == b->key && a->id < b->id);
}

static void
sampler_swap(struct sampler_item *a, struct sampler_item *b)
{
	struct sampler_item t = *a;

	*a = *b;
	*b = t;
}

static void
sampler_heap_down(struct sampler_item *a, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;

		if (c < n && sampler_before(&a[m], &a[c]))
			m = c;
		if (c + 1 < n && sampler_before(&a[m], &a[c + 1]))
			m = c + 1;
		if (m == i)
			return;
		sampler_swap(&a[i], &a[m]);
		i = m;
	}
}

static void
sampler_heapsort(struct sampler_item *a, size_t n)
{
	size_t i;

	for (i = n / 2; i-- > 0;)
		sampler_heap_down(a, n, i);
	while (n > 1) {
		sampler_swap(&a[0], &a[--n]);
		sampler_heap_down(a, n, 0);
	}
}

/*
 * Sort A by (key, id) in place without allocating: quicksort with a
 * median-of-three pivot, recursing into the smaller side, heapsort when
 * the depth budget runs out, insertion sort for short runs (introsort).
 */
static void
sampler_sort_depth(struct sampler_item *a, size_t n, int depth)
{
	size_t i, j;

	while (n > 16) {
		struct sampler_item *mid = &a[n / 2], pivot;

		if (depth-- == 0) {
			sampler_heapsort(a, n);
			return;
		}
		if (sampler_before(mid, &a[0]))
			sampler_swap(mid, &a[0]);
		if (sampler_before(&a[n - 1], &a[0]))
			sampler_swap(&a[n - 1], &a[0]);
		if (sampler_before(&a[n - 1], mid))
			sampler_swap(&a[n - 1], mid);
		pivot = *mid;
		/* Hoare partition; a[0] <= pivot <= a[n-1] act as sentinels. */
		i = 0;
		j = n - 1;
		for (;;) {
			do
				i++;
			while (sampler_before(&a[i], &pivot));
			do
				j--;
			while (sampler_before(&pivot, &a[j]));
			if (i >= j)
				break;
			sampler_swap(&a[i], &a[j]);
		}
		/* a[0..j] <= pivot <= a[j+1..n-1] */
		if (j + 1 < n - (j + 1)) {
			sampler_sort_depth(a, j + 1, depth);
			a += j + 1;
			n -= j + 1;
		} else {
			sampler_sort_depth(a + j + 1, n - (j + 1), depth);
			n = j + 1;
		}
	}
	for (i = 1; i < n; i++) {
		struct sampler_item t = a[i];

		for (j = i; j > 0 && sampler_before(&t, &a[j - 1]); j--)
			a[j] = a[j - 1];
		a[j] = t;
	}
}

static void
sampler_sort(struct sampler_item *a, size_t n)
{
	int depth = 0;
	size_t m;

	for (m = n; m > 1; m >>= 1)
		depth += 2;
	sampler_sort_depth(a, n, depth);
}

static int
sampler_check(
    int ok, struct err *err, const char *key, double v, const char *range)
{
	if (ok)
		return 0;
	return err_set(
	    err, ERR_RANGE, "%s: %g is out of range (%s)", key, v, range);
}

/* Validate P's sampling fields for a vocabulary of N_VOCAB. */
static int
sampler_validate(const struct gen_params *p, int32_t n_vocab, struct err *err)
{
	size_t i;
	int rc;

	if (n_vocab < 1)
		return err_set(err, ERR_RANGE,
		    "sampler: vocabulary size %d is out of range (must be > 0)",
		    n_vocab);
	if ((rc = sampler_check(isfinite(p->temperature) && p->temperature >= 0,
		 err, "temperature", p->temperature, "0 or more")) != 0 ||
	    (rc = sampler_check(
		 p->top_k >= 0, err, "top_k", p->top_k, "0 or more")) != 0 ||
	    (rc = sampler_check(p->top_p >= 0 && p->top_p <= 1, err, "top_p",
		 p->top_p, "0 to 1")) != 0 ||
	    (rc = sampler_check(p->min_p >= 0 && p->min_p <= 1, err, "min_p",
		 p->min_p, "0 to 1")) != 0 ||
	    (rc = sampler_check(p->typical_p >= 0 && p->typical_p <= 1, err,
		 "typical_p", p->typical_p, "0 to 1")) != 0 ||
	    (rc = sampler_check(
		 isfinite(p->repeat_penalty) && p->repeat_penalty > 0, err,
		 "repeat_penalty", p->repeat_penalty,
		 "more than 0; 1 = off")) != 0 ||
	    (rc = sampler_check(p->repeat_last_n >= -1, err, "repeat_last_n",
		 p->repeat_last_n, "-1 or more")) != 0 ||
	    (rc = sampler_check(isfinite(p->frequency_penalty), err,
		 "frequency_penalty", p->frequency_penalty,
		 "a finite number")) != 0 ||
	    (rc = sampler_check(isfinite(p->presence_penalty), err,
		 "presence_penalty", p->presence_penalty, "a finite number")) !=
		0 ||
	    (rc = sampler_check(
		 isfinite(p->mirostat_tau) && p->mirostat_tau >= 0, err,
		 "mirostat_tau", p->mirostat_tau, "0 or more")) != 0 ||
	    (rc = sampler_check(p->mirostat_eta >= 0 && p->mirostat_eta <= 1,
		 err, "mirostat_eta", p->mirostat_eta, "0 to 1")) != 0)
		return rc;
	if (p->mirostat == 1)
		return err_set(err, ERR_UNSUPPORTED,
		    "mirostat: only version 2 is supported (0 turns it off)");
	if (p->mirostat != 0 && p->mirostat != 2)
		return err_set(err, ERR_RANGE,
		    "mirostat: %d is out of range (0 or 2)", p->mirostat);
	if (p->n_bias > PARAMS_MAX_BIAS)
		return err_set(err, ERR_RANGE,
		    "logit_bias: %zu entries (at most %d)", p->n_bias,
		    PARAMS_MAX_BIAS);
	for (i = 0; i < p->n_bias; i++) {
		const struct logit_bias *b = &p->bias[i];

		if (b->token < 0 || b->token >= n_vocab)
			return err_set(err, ERR_RANGE,
			    "logit_bias: token %d is out of range (the "
			    "vocabulary has %d tokens)",
			    b->token, n_vocab);
		if (isnan(b->bias) || b->bias == INFINITY)
			return err_set(err, ERR_RANGE,
			    "logit_bias: %d:%g is not a finite bias or -inf",
			    b->token, (double)b->bias);
	}
	return 0;
}

int
sampler_new(const struct gen_params *p, int32_t n_vocab, struct sampler **out,
    struct err *err)
{
	struct sampler *s;
	size_t nv;
	int rc;

	*out = NULL;
	if ((rc = sampler_validate(p, n_vocab, err)) != 0)
		return rc;
	nv = (size_t)n_vocab;
	s = xcalloc(1, sizeof *s);
	s->n_vocab = n_vocab;
	s->temperature = p->temperature;
	s->top_k = p->top_k;
	s->top_p = p->top_p;
	s->min_p = p->min_p;
	s->typical_p = p->typical_p;
	s->repeat_penalty = p->repeat_penalty;
	s->frequency_penalty = p->frequency_penalty;
	s->presence_penalty = p->presence_penalty;
	s->repeat_last_n = p->repeat_last_n;
	s->mirostat = p->mirostat;
	s->tau = p->mirostat_tau;
	s->eta = p->mirostat_eta;
	memcpy(s->bias, p->bias, p->n_bias * sizeof p->bias[0]);
	s->n_bias = p->n_bias;
	s->ln_min_p = p->min_p > 0 ? sampler_log(p->min_p) : -INFINITY;
	s->penalize = s->repeat_last_n != 0 &&
	    (s->repeat_penalty != 1.0f || s->frequency_penalty != 0.0f ||
		s->presence_penalty != 0.0f);
	if (s->penalize) {
		if (s->repeat_last_n > 0) {
			s->window = (size_t)s->repeat_last_n;
			if (s->window > SAMPLER_MAX_WINDOW)
				s->window = 0;
		}
		if (s->window > 0)
			s->ring =
			    xreallocarray(NULL, s->window, sizeof *s->ring);
		s->count = xcalloc(nv, sizeof *s->count);
		s->distinct = xreallocarray(NULL, nv, sizeof *s->distinct);
		s->where = xreallocarray(NULL, nv, sizeof *s->where);
	}
	s->work = xreallocarray(NULL, nv, sizeof *s->work);
	s->items = xreallocarray(NULL, nv, sizeof *s->items);
	s->items2 = xreallocarray(NULL, nv, sizeof *s->items2);
	sampler_reseed(s, p->seed);
	s->mu = s->mirostat == 2 ? 2.0f * s->tau : 0.0f;
	*out = s;
	return 0;
}

void
sampler_free(struct sampler *s)
{
	if (s == NULL)
		return;
	free(s->ring);
	free(s->count);
	free(s->distinct);
	free(s->where);
	free(s->work);
	free(s->items);
	free(s->items2);
	free(s);
}

static void *
sampler_dup(const void *p, size_t nmemb, size_t size)
{
	void *q;

	if (p == NULL)
		return NULL;
	q = xreallocarray(NULL, nmemb, size);
	memcpy(q, p, nmemb * size);
	return q;
}

struct sampler *
sampler_clone(const struct sampler *s)
{
	struct sampler *c = xmalloc(sizeof *c);
	size_t nv = (size_t)s->n_vocab;

	memcpy(c, s, sizeof *c);
	c->ring = sampler_dup(s->ring, s->window, sizeof *s->ring);
	c->count = sampler_dup(s->count, nv, sizeof *s->count);
	c->distinct = sampler_dup(s->distinct, nv, sizeof *s->distinct);
	c->where = sampler_dup(s->where, nv, sizeof *s->where);
	c->work = xreallocarray(NULL, nv, sizeof *c->work);
	c->items = xreallocarray(NULL, nv, sizeof *c->items);
	c->items2 = xreallocarray(NULL, nv, sizeof *c->items2);
	return c;
}

/* Remove one occurrence of TOKEN from the window's counts. */
static void
sampler_forget(struct sampler *s, int32_t token)
{
	int32_t last;

	if (--s->count[token] > 0)
		return;
	last = s->distinct[--s->n_distinct];
	s->distinct[s->where[token]] = last;
	s->where[last] = s->where[token];
}

int
sampler_accept(struct sampler *s, int32_t token, struct err *err)
{
	if (token < 0 || token >= s->n_vocab)
		return err_set(err, ERR_RANGE,
		    "sampler: token %d is out of range (the vocabulary has %d "
		    "tokens)",
		    token, s->n_vocab);
	if (!s->penalize)
		return 0;
	if (s->window > 0) {
		if (s->ring_len == s->window) {
			sampler_forget(s, s->ring[s->ring_head]);
			s->ring[s->ring_head] = token;
			s->ring_head = (s->ring_head + 1) % s->window;
		} else {
			s->ring[(s->ring_head + s->ring_len) % s->window] =
			    token;
			s->ring_len++;
		}
	}
	if (s->count[token]++ == 0) {
		s->where[token] = (int32_t)s->n_distinct;
		s->distinct[s->n_distinct++] = token;
	}
	return 0;
}

void
sampler_reset(struct sampler *s)
{
	size_t i;

	for (i = 0; i < s->n_distinct; i++)
		s->count[s->distinct[i]] = 0;
	s->n_distinct = 0;
	s->ring_len = 0;
	s->ring_head = 0;
	rng_init(&s->rng, s->seed);
	s->mu = s->mirostat == 2 ? 2.0f * s->tau : 0.0f;
}

uint64_t
sampler_reseed(struct sampler *s, uint64_t seed)
{
	s->seed = seed != 0 ? seed : rng_random_seed();
	rng_init(&s->rng, s->seed);
	return s->seed;
}

uint64_t
sampler_seed(const struct sampler *s)
{
	return s->seed;
}

float
sampler_mu(const struct sampler *s)
{
	return s->mu;
}

/*
 * Stages 1-2: the logits with the bias and the penalties applied, in
 * work[] when anything changes, else LOGITS itself.
 */
static const float *
sampler_patch(struct sampler *s, const float *logits)
{
	float *w = s->work;
	size_t i;

	if (s->n_bias == 0 && (!s->penalize || s->n_distinct == 0))
		return logits;
	memcpy(w, logits, (size_t)s->n_vocab * sizeof *w);
	for (i = 0; i < s->n_bias; i++)
		w[s->bias[i].token] += s->bias[i].bias;
	if (!s->penalize)
		return w;
	for (i = 0; i < s->n_distinct; i++) {
		int32_t t = s->distinct[i];
		float l = w[t];

		l = l > 0 ? l / s->repeat_penalty : l * s->repeat_penalty;
		l -= (float)s->count[t] * s->frequency_penalty +
		    s->presence_penalty;
		w[t] = l;
	}
	return w;
}

/*
 * The first token with the highest finite logit, or -1 if none.  Four
 * lanes each keep the first best of their own tokens (i, i + 4, ...);
 * the answer is the lowest id among the lanes holding the best value.
 */
static int32_t
sampler_argmax(const float *l, int32_t n)
{
	float best[4] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };
	int32_t id[4] = { -1, -1, -1, -1 }, i, j, r = -1;
	float b = -INFINITY;

	for (i = 0; i + 4 <= n; i += 4)
		for (j = 0; j < 4; j++)
			if (l[i + j] > best[j] && l[i + j] < INFINITY) {
				best[j] = l[i + j];
				id[j] = i + j;
			}
	for (; i < n; i++)
		if (l[i] > best[0] && l[i] < INFINITY) {
			best[0] = l[i];
			id[0] = i;
		}
	for (j = 0; j < 4; j++)
		if (id[j] >= 0 &&
		    (best[j] > b || (best[j] == b && id[j] < r))) {
			b = best[j];
			r = id[j];
		}
	return r;
}

/*
 * The highest finite logit of L (N floats), -inf if none: four running
 * maxima so the comparisons do not wait on each other.
 */
static float
sampler_max_l(const float *l, size_t n)
{
	float m[4] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };
	size_t i, j;

	for (i = 0; i + 4 <= n; i += 4)
		for (j = 0; j < 4; j++) {
			float v = l[i + j];

			m[j] = v > m[j] && v < INFINITY ? v : m[j];
		}
	for (; i < n; i++)
		m[0] = l[i] > m[0] && l[i] < INFINITY ? l[i] : m[0];
	m[0] = m[0] > m[1] ? m[0] : m[1];
	m[2] = m[2] > m[3] ? m[2] : m[3];
	return m[0] > m[2] ? m[0] : m[2];
}

/*
 * The sum of exp((l - MAX) * inv_t) over the finite entries of L (N
 * floats, MAX their maximum), straight from the logits: eight lanes in
 * double, in a fixed order like sampler_softmax.
 */
static double
sampler_sum_l(const float *l, size_t n, float max, float inv_t)
{
	const sampler_v4si expo = { 0x7f800000, 0x7f800000, 0x7f800000,
		0x7f800000 };
	sampler_v2df acc[4] = { { 0, 0 }, { 0, 0 }, { 0, 0 }, { 0, 0 } };
	sampler_v2df a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
	float tail[8];
	size_t i, j;

	for (i = 0; i < n; i += 8) {
		const float *b = l + i;
		sampler_v4sf v0, v1, e0, e1;

		if (n - i < 8) {
			for (j = 0; j < 8; j++)
				tail[j] = i + j < n ? l[i + j] : NAN;
			b = tail;
		}
		memcpy(&v0, b, sizeof v0);
		memcpy(&v1, b + 4, sizeof v1);
		/* NaN and infinities (exponent all ones) weigh 0. */
		e0 = sampler_expf4((v0 - max) * inv_t);
		e0 = (sampler_v4sf)((sampler_v4si)e0 &
		    (((sampler_v4si)v0 & expo) != expo));
		e1 = sampler_expf4((v1 - max) * inv_t);
		e1 = (sampler_v4sf)((sampler_v4si)e1 &
		    (((sampler_v4si)v1 & expo) != expo));
		a0 += (sampler_v2df){ e0[0], e0[1] };
		a1 += (sampler_v2df){ e0[2], e0[3] };
		a2 += (sampler_v2df){ e1[0], e1[1] };
		a3 += (sampler_v2df){ e1[2], e1[3] };
	}
	acc[0] = a0;
	acc[1] = a1;
	acc[2] = a2;
	acc[3] = a3;
	return sampler_total(acc);
}

/*
 * The tokens of L (N_VOCAB floats, MAX the highest finite one) with a
 * finite logit and (logit - MAX) * inv_t >= THRESHOLD, in id order, into
 * items[] with that value as key.
 */
static size_t
sampler_collect(
    struct sampler *s, const float *l, float max, float inv_t, double threshold)
{
	struct sampler_item *it = s->items;
	size_t n = 0;
	int32_t i;

	for (i = 0; i < s->n_vocab; i++) {
		float x = (l[i] - max) * inv_t;

		if (!((double)x >= threshold) || !isfinite(l[i]))
			continue;
		it[n].id = i;
		it[n].logit = l[i];
		it[n].key = x;
		n++;
	}
	return n;
}

/*
 * Stage 3: the K best tokens into items[], sorted by logit (best first).
 * A heap whose root is the worst of the K kept so far; a token enters
 * only when it beats the root, which after the first few thousand tokens
 * almost none do, so the scan costs one comparison per token.
 */
static size_t
sampler_top_k(struct sampler *s, const float *l, size_t k)
{
	struct sampler_item *h = s->items;
	float worst = INFINITY;
	size_t n = 0, i;
	int32_t t;

	for (t = 0; t < s->n_vocab; t++) {
		float v = l[t];

		if (n == k) {
			if (!(v > worst) || !isfinite(v))
				continue;
			h[0].id = t;
			h[0].key = -v;
			sampler_heap_down(h, n, 0);
			worst = -h[0].key;
			continue;
		}
		if (!isfinite(v))
			continue;
		/* Sift up: the worst (largest key) rises to the root. */
		h[n].id = t;
		h[n].key = -v;
		for (i = n++; i > 0 && sampler_before(&h[(i - 1) / 2], &h[i]);
		     i = (i - 1) / 2)
			sampler_swap(&h[i], &h[(i - 1) / 2]);
		if (n == k)
			worst = -h[0].key;
	}
	sampler_sort(h, n);
	for (i = 0; i < n; i++)
		h[i].logit = -h[i].key;
	return n;
}

/*
 * The highest logit of items[0..n) (n > 0), with four running maxima so
 * the comparisons do not wait on each other.
 */
static float
sampler_max(const struct sampler_item *it, size_t n)
{
	float m[4] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };
	size_t i, j;

	for (i = 0; i + 4 <= n; i += 4)
		for (j = 0; j < 4; j++)
			if (it[i + j].logit > m[j])
				m[j] = it[i + j].logit;
	for (; i < n; i++)
		if (it[i].logit > m[0])
			m[0] = it[i].logit;
	m[0] = m[0] > m[1] ? m[0] : m[1];
	m[2] = m[2] > m[3] ? m[2] : m[3];
	return m[0] > m[2] ? m[0] : m[2];
}

/*
 * e = exp((logit - MAX) * inv_t) for items[0..n); returns the sum.  Eight
 * items at a time; the sum runs in double in a fixed order (eight lanes,
 * lane j adding items j, j + 8, ...; the lanes added pairwise at the end;
 * the last, partial block padded with zeros).  When XSUM is not NULL it
 * gets the sum of e * (logit - MAX) * inv_t in the same order (for
 * entropies).
 */
static double
sampler_softmax(
    struct sampler_item *it, size_t n, float max, float inv_t, double *xsum)
{
	sampler_v2df acc[4] = { { 0, 0 }, { 0, 0 }, { 0, 0 }, { 0, 0 } };
	sampler_v2df a0 = acc[0], a1 = a0, a2 = a0, a3 = a0;
	sampler_v2df x0 = a0, x1 = a0, x2 = a0, x3 = a0;
	float xb[8], eb[8];
	size_t i, j, m;

	for (i = 0; i < n; i += 8) {
		sampler_v4sf v0, v1, e0, e1;

		m = n - i < 8 ? n - i : 8;
		for (j = 0; j < 8; j++)
			xb[j] = j < m ? (it[i + j].logit - max) * inv_t : 0.0f;
		memcpy(&v0, xb, sizeof v0);
		memcpy(&v1, xb + 4, sizeof v1);
		e0 = sampler_expf4(v0);
		e1 = sampler_expf4(v1);
		memcpy(eb, &e0, sizeof e0);
		memcpy(eb + 4, &e1, sizeof e1);
		/* Padding lanes of the last block weigh 0. */
		for (j = 0; j < 8; j++) {
			if (j < m)
				it[i + j].e = eb[j];
			else
				eb[j] = 0.0f;
		}
		a0 += (sampler_v2df){ eb[0], eb[1] };
		a1 += (sampler_v2df){ eb[2], eb[3] };
		a2 += (sampler_v2df){ eb[4], eb[5] };
		a3 += (sampler_v2df){ eb[6], eb[7] };
		if (xsum != NULL) {
			x0 += (sampler_v2df){ eb[0], eb[1] } *
			    (sampler_v2df){ xb[0], xb[1] };
			x1 += (sampler_v2df){ eb[2], eb[3] } *
			    (sampler_v2df){ xb[2], xb[3] };
			x2 += (sampler_v2df){ eb[4], eb[5] } *
			    (sampler_v2df){ xb[4], xb[5] };
			x3 += (sampler_v2df){ eb[6], eb[7] } *
			    (sampler_v2df){ xb[6], xb[7] };
		}
	}
	if (xsum != NULL) {
		acc[0] = x0;
		acc[1] = x1;
		acc[2] = x2;
		acc[3] = x3;
		*xsum = sampler_total(acc);
	}
	acc[0] = a0;
	acc[1] = a1;
	acc[2] = a2;
	acc[3] = a3;
	return sampler_total(acc);
}

/* Length of the prefix of A whose running mass (from CUM) reaches TARGET. */
static size_t
sampler_prefix(const struct sampler_item *a, size_t n, double cum,
    double target, int strict)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cum += a[i].e;
		if (strict ? cum > target : cum >= target)
			return i + 1;
	}
	return n;
}

static size_t
sampler_bucket(float key, float kmin, double scale)
{
	double d = ((double)key - kmin) * scale;

	return d >= SAMPLER_BUCKETS - 1 ? SAMPLER_BUCKETS - 1 : (size_t)d;
}

/*
 * Keep the shortest prefix of items[0..n), ordered by key, whose mass
 * reaches TARGET (exceeds it when STRICT); returns its length, the kept
 * items first in items[].  At least one item is kept.
 */
static size_t
sampler_mass_select(struct sampler *s, size_t n, double target, int strict)
{
	struct sampler_item *it = s->items, *out = s->items2;
	float kmin = INFINITY, kmax = -INFINITY;
	size_t i, bc, nb, below, cross, kept;
	double scale, cum, next;

	for (i = 0; i < n; i++) {
		if (it[i].key < kmin)
			kmin = it[i].key;
		if (it[i].key > kmax)
			kmax = it[i].key;
	}
	if (n <= SAMPLER_SORT_MAX || !(kmax > kmin)) {
		sampler_sort(it, n);
		return sampler_prefix(it, n, 0, target, strict);
	}
	scale = SAMPLER_BUCKETS / ((double)kmax - kmin);
	memset(s->bmass, 0, sizeof s->bmass);
	memset(s->bcount, 0, sizeof s->bcount);
	for (i = 0; i < n; i++) {
		size_t b = sampler_bucket(it[i].key, kmin, scale);

		s->bmass[b] += it[i].e;
		s->bcount[b]++;
	}
	cum = 0;
	nb = 0;
	for (bc = 0; bc < SAMPLER_BUCKETS - 1; bc++) {
		next = cum + s->bmass[bc];
		if (strict ? next > target : next >= target)
			break;
		cum = next;
		nb += s->bcount[bc];
	}
	below = 0;
	cross = nb;
	for (i = 0; i < n; i++) {
		size_t b = sampler_bucket(it[i].key, kmin, scale);

		if (b < bc)
			out[below++] = it[i];
		else if (b == bc)
			out[cross++] = it[i];
	}
	sampler_sort(out + nb, cross - nb);
	kept = nb + sampler_prefix(out + nb, cross - nb, cum, target, strict);
	s->items = out;
	s->items2 = it;
	return kept;
}

/*
 * The stage record.  Each helper appends one stage to s->rec from the
 * numbers the chain has at that point; they run only when a record was
 * asked for.
 */
const char *
sampler_stage_name(enum sampler_stage kind)
{
	switch (kind) {
	case SAMPLER_STAGE_MODEL:
		return "model";
	case SAMPLER_STAGE_PENALTIES:
		return "penalties";
	case SAMPLER_STAGE_TOP_K:
		return "top_k";
	case SAMPLER_STAGE_TYPICAL:
		return "typical";
	case SAMPLER_STAGE_MIN_P:
		return "min_p";
	case SAMPLER_STAGE_TOP_P:
		return "top_p";
	case SAMPLER_STAGE_TOP_P_MIN_P:
		return "top_p+min_p";
	case SAMPLER_STAGE_TEMPERATURE:
		return "temperature";
	case SAMPLER_STAGE_MIROSTAT:
		return "mirostat";
	case SAMPLER_STAGE_GREEDY:
		return "greedy";
	}
	return "?";
}

static float
sampler_exp1(float x)
{
	sampler_v4sf v = { x, x, x, x };

	return sampler_expf4(v)[0];
}

/* A new stage of KIND in the record (never more than SAMPLER_REC_STAGES:
 * no chain has that many). */
static struct sampler_rec_stage *
sampler_rec_stage(struct sampler *s, enum sampler_stage kind)
{
	struct sampler_rec_stage *st = &s->rec->stage[s->rec->n_stages++];

	st->kind = kind;
	st->n_left = 0;
	st->n = 0;
	return st;
}

/* Keep (ID, V) among the best of ST's cand[] (by V in .p, ties lower id). */
static void
sampler_rec_keep(struct sampler_rec_stage *st, int32_t k, int32_t id, float v)
{
	struct sampler_rec_cand *c = st->cand;
	int32_t i;

	if (st->n == k) {
		if (!(v > c[k - 1].p || (v == c[k - 1].p && id < c[k - 1].id)))
			return;
		i = k - 1;
	} else {
		i = st->n++;
	}
	for (;
	     i > 0 && (v > c[i - 1].p || (v == c[i - 1].p && id < c[i - 1].id));
	     i--)
		c[i] = c[i - 1];
	c[i].id = id;
	c[i].p = v;
}

/* A stage over the whole vocabulary L (softmax at temperature 1): the
 * model's distribution, or the logits after bias and penalties. */
static void
sampler_rec_logits(struct sampler *s, enum sampler_stage kind, const float *l)
{
	struct sampler_rec_stage *st = sampler_rec_stage(s, kind);
	float max = sampler_max_l(l, (size_t)s->n_vocab);
	double sum;
	int32_t t;

	if (max == -INFINITY)
		return;
	sum = sampler_sum_l(l, (size_t)s->n_vocab, max, 1.0f);
	for (t = 0; t < s->n_vocab; t++) {
		if (!isfinite(l[t]))
			continue;
		st->n_left++;
		sampler_rec_keep(st, s->rec->n_top, t, l[t]);
	}
	for (t = 0; t < st->n; t++)
		st->cand[t].p =
		    (float)(sampler_exp1(st->cand[t].p - max) / sum);
	if (kind == SAMPLER_STAGE_MODEL) {
		s->rec_max = max;
		s->rec_sum = sum;
	}
}

/*
 * A stage over the candidates items[0..n) at 1/INV_T: their e are
 * computed here (each e depends only on its logit, MAX and INV_T, so
 * the stages after see the values they would have computed) unless SUM
 * is given (>= 0), the final stage's own.
 */
static void
sampler_rec_items(struct sampler *s, enum sampler_stage kind, size_t n,
    float max, float inv_t, double sum)
{
	struct sampler_rec_stage *st = sampler_rec_stage(s, kind);
	struct sampler_item *it = s->items;
	size_t i;
	int32_t j;

	if (sum < 0)
		sum = sampler_softmax(it, n, max, inv_t, NULL);
	st->n_left = (int32_t)n;
	for (i = 0; i < n; i++)
		sampler_rec_keep(st, s->rec->n_top, it[i].id, it[i].e);
	for (j = 0; j < st->n; j++)
		st->cand[j].p = (float)(st->cand[j].p / sum);
}

/* Stage 4: locally typical sampling over items[0..n), best logit MAX. */
static size_t
sampler_typical(struct sampler *s, size_t n, float max)
{
	struct sampler_item *it = s->items;
	double sum, xsum, ln_sum, entropy;
	size_t i;

	sum = sampler_softmax(it, n, max, 1.0f, &xsum);
	ln_sum = sampler_log(sum);
	/* H = -sum p ln p with p = e / sum and ln p = x - ln sum. */
	entropy = ln_sum - xsum / sum;
	for (i = 0; i < n; i++) {
		double surprise = ln_sum - (double)(it[i].logit - max);

		it[i].key = (float)fabs(surprise - entropy);
	}
	return sampler_mass_select(s, n, s->typical_p * sum, 1);
}

/*
 * Stages 5 and 6 over items[0..n), best logit MAX: nucleus sampling and
 * min_p.  Both keep a prefix of the order by logit and min_p keeps the
 * best token, so min_p is applied first (a cheap threshold that shrinks
 * the set) and top_p then walks what is left with its target taken from
 * the mass of all N items: the same set as top_p first, for less work.
 */
static size_t
sampler_top_p_min_p(struct sampler *s, size_t n, float max)
{
	struct sampler_item *it = s->items;
	double sum = 0;
	size_t i, k;

	if (s->top_p < 1.0f)
		sum = sampler_softmax(it, n, max, 1.0f, NULL);
	if (s->min_p > 0.0f) {
		for (i = k = 0; i < n; i++)
			if ((double)(it[i].logit - max) >= s->ln_min_p)
				it[k++] = it[i];
		n = k;
		if (s->rec != NULL)
			sampler_rec_items(
			    s, SAMPLER_STAGE_MIN_P, n, max, 1, -1);
	}
	if (s->top_p < 1.0f && n > 1) {
		for (i = 0; i < n; i++)
			it[i].key = -it[i].logit;
		n = sampler_mass_select(s, n, s->top_p * sum, 0);
	}
	if (s->top_p < 1.0f && s->rec != NULL)
		sampler_rec_items(s, SAMPLER_STAGE_TOP_P, n, max, 1, -1);
	return n;
}

/*
 * Stages 5 and 6 over the whole vocabulary L (MAX its best finite logit)
 * without making every token an item.  Pass 1 computes e = exp(logit -
 * max) for every token, the total mass and a histogram of the mass by
 * max - logit (SAMPLER_BUCKETS buckets of 1/64 nat; everything beyond the
 * last bucket's start lands in it, and its mass is never needed).  The
 * bucket where the running mass crosses top_p * total is found; pass 2
 * makes items of the tokens in the buckets before it (all kept) and in it
 * (sorted, then kept up to the crossing), skipping those under min_p's
 * threshold (-inf when off).  Both stages keep a prefix of the order by
 * logit, so this is their intersection, as applying them in turn gives.
 */
#define SAMPLER_BUCKET_SCALE 64.0f

static size_t
sampler_bucket_x(float x)
{
	float q = -x * SAMPLER_BUCKET_SCALE;

	return q < (float)(SAMPLER_BUCKETS - 1) ? (size_t)q
						: SAMPLER_BUCKETS - 1;
}

static size_t
sampler_top_p_vocab(
    struct sampler *s, const float *l, float max, double min_threshold)
{
	const sampler_v4si expo = { 0x7f800000, 0x7f800000, 0x7f800000,
		0x7f800000 };
	sampler_v2df a0 = { 0, 0 }, a1 = { 0, 0 };
	struct sampler_item *it = s->items, *cross = s->items2;
	size_t nv = (size_t)s->n_vocab, i, j, bc, nb = 0, nc = 0;
	double total, target, cum, next;
	sampler_v4sf v, e;

	memset(s->bmass, 0, sizeof s->bmass);
	for (i = 0; i < nv; i += 4) {
		sampler_v4si finite;

		if (i + 4 <= nv) {
			memcpy(&v, l + i, sizeof v);
		} else {
			for (j = 0; j < 4; j++)
				v[j] = i + j < nv ? l[i + j] : NAN;
		}
		/* NaN and infinities (exponent all ones) weigh 0. */
		finite = ((sampler_v4si)v & expo) != expo;
		v = v - max;
		e = sampler_expf4(v);
		e = (sampler_v4sf)((sampler_v4si)e & finite);
		a0 += (sampler_v2df){ e[0], e[1] };
		a1 += (sampler_v2df){ e[2], e[3] };
		for (j = 0; j < 4; j++)
			if (finite[j])
				s->bmass[sampler_bucket_x(v[j])] += e[j];
	}
	total = (a0[0] + a0[1]) + (a1[0] + a1[1]);
	target = s->top_p * total;
	cum = 0;
	for (bc = 0; bc < SAMPLER_BUCKETS - 1; bc++) {
		next = cum + s->bmass[bc];
		if (next >= target)
			break;
		cum = next;
	}
	for (i = 0; i < nv; i++) {
		float x = l[i] - max;
		size_t b;

		if (!isfinite(l[i]) || !((double)x >= min_threshold))
			continue;
		b = sampler_bucket_x(x);
		if (b > bc)
			continue;
		if (b < bc) {
			it[nb].id = (int32_t)i;
			it[nb].logit = l[i];
			it[nb].key = -l[i];
			nb++;
		} else {
			cross[nc].id = (int32_t)i;
			cross[nc].logit = l[i];
			cross[nc].key = -l[i];
			nc++;
		}
	}
	sampler_softmax(cross, nc, max, 1.0f, NULL);
	sampler_sort(cross, nc);
	nc = sampler_prefix(cross, nc, cum, target, 0);
	memcpy(it + nb, cross, nc * sizeof *cross);
	return nb + nc;
}

/*
 * Stages 3-7 (or mirostat's truncation) over the patched logits L: the
 * candidates end in items[0..*n) with e at the temperature and their sum
 * in s->sum.  ERR_RANGE when no logit is finite.
 *
 * Without top_k the usual settings never need all n_vocab tokens as
 * items: min_p and mirostat are thresholds on logit - max, and top_p's
 * target needs only the total mass, which sampler_sum_l takes straight
 * from the logits; only the tokens that pass become items.  Typical
 * sampling and a bare temperature work on every token.
 */
static int
sampler_chain(struct sampler *s, const float *l, size_t *n, struct err *err)
{
	float max, inv_t = 1.0f / s->temperature;
	size_t m;

	if (s->mirostat != 2 && s->top_k > 0 && s->top_k < s->n_vocab) {
		m = sampler_top_k(s, l, (size_t)s->top_k);
		max = m > 0 ? s->items[0].logit : -INFINITY;
		if (s->rec != NULL && m > 0)
			sampler_rec_items(
			    s, SAMPLER_STAGE_TOP_K, m, max, 1, -1);
	} else {
		max = sampler_max_l(l, (size_t)s->n_vocab);
		m = 0;
	}
	if (max == -INFINITY)
		return err_set(
		    err, ERR_RANGE, "sampler: no token has a finite logit");
	if (s->mirostat == 2) {
		/* Mirostat v2: keep the tokens whose surprise
		 * -log2(e / sum) is at most mu, that is x >= ln sum - mu ln 2
		 * with x = (logit - max) / T; if none, the best one. */
		double sum = sampler_sum_l(l, (size_t)s->n_vocab, max, inv_t);

		m = sampler_collect(s, l, max, inv_t,
		    sampler_log(sum) - (double)s->mu * SAMPLER_LN2);
		if (m == 0) {
			/* None: the best token alone (the first on ties). */
			sampler_collect(s, l, max, inv_t, 0.0);
			m = 1;
		}
	} else if (m == 0 && s->typical_p >= 1.0f &&
	    (s->top_p < 1.0f || s->min_p > 0.0f)) {
		/* top_p and/or min_p over the whole vocabulary. */
		double threshold = s->min_p > 0.0f ? s->ln_min_p : -INFINITY;

		if (s->top_p < 1.0f)
			m = sampler_top_p_vocab(s, l, max, threshold);
		else
			m = sampler_collect(s, l, max, 1.0f, threshold);
		if (s->rec != NULL)
			sampler_rec_items(s,
			    s->top_p >= 1.0f   ? SAMPLER_STAGE_MIN_P
				: s->min_p > 0 ? SAMPLER_STAGE_TOP_P_MIN_P
					       : SAMPLER_STAGE_TOP_P,
			    m, max, 1, -1);
	} else {
		if (m == 0)
			m = sampler_collect(s, l, max, 1.0f, -INFINITY);
		if (s->typical_p < 1.0f && m > 1) {
			m = sampler_typical(s, m, max);
			max = sampler_max(s->items, m);
		}
		if (s->typical_p < 1.0f && s->rec != NULL)
			sampler_rec_items(
			    s, SAMPLER_STAGE_TYPICAL, m, max, 1, -1);
		if ((s->top_p < 1.0f || s->min_p > 0.0f) && m > 1) {
			m = sampler_top_p_min_p(s, m, max);
		} else if (s->rec != NULL) {
			/* One candidate left: the stages in force keep it. */
			if (s->min_p > 0.0f)
				sampler_rec_items(
				    s, SAMPLER_STAGE_MIN_P, m, max, 1, -1);
			if (s->top_p < 1.0f)
				sampler_rec_items(
				    s, SAMPLER_STAGE_TOP_P, m, max, 1, -1);
		}
	}
	s->sum = sampler_softmax(s->items, m, max, inv_t, NULL);
	if (s->rec != NULL)
		sampler_rec_items(s,
		    s->mirostat == 2 ? SAMPLER_STAGE_MIROSTAT
				     : SAMPLER_STAGE_TEMPERATURE,
		    m, max, inv_t, s->sum);
	*n = m;
	return 0;
}

/*
 * The draw: the first candidate whose running mass exceeds U.  The mass
 * runs over blocks of 64 candidates (each block summed on its own, so the
 * blocks do not wait on each other) and then inside the chosen block; if
 * rounding leaves U beyond the end, the last candidate.
 */
static size_t
sampler_pick(const struct sampler_item *it, size_t n, double u)
{
	double cum = 0;
	size_t b, i, end;

	for (b = 0; b < n; b += 64) {
		double part[4] = { 0, 0, 0, 0 }, bsum;

		end = n - b < 64 ? n : b + 64;
		for (i = b; i < end; i++)
			part[i & 3] += it[i].e;
		bsum = (part[0] + part[1]) + (part[2] + part[3]);
		if (u < cum + bsum) {
			for (i = b; i + 1 < end; i++) {
				cum += it[i].e;
				if (u < cum)
					return i;
			}
			return end - 1;
		}
		cum += bsum;
	}
	return n - 1;
}

int
sampler_sample(
    struct sampler *s, const float *logits, int32_t *token, struct err *err)
{
	return sampler_sample_rec(s, logits, token, NULL, err);
}

/* Close the record of a step that drew TOKEN with probability P. */
static void
sampler_rec_draw(
    struct sampler *s, const float *logits, int32_t token, double p)
{
	struct sampler_rec *r = s->rec;
	float l = logits[token];

	r->token = token;
	r->p_token = (float)p;
	r->p_model = isfinite(l) && s->rec_sum > 0
	    ? (float)(sampler_exp1(l - s->rec_max) / s->rec_sum)
	    : 0.0f;
	s->rec = NULL;
}

int
sampler_sample_rec(struct sampler *s, const float *logits, int32_t *token,
    struct sampler_rec *rec, struct err *err)
{
	const float *l = sampler_patch(s, logits);
	struct sampler_item *it;
	size_t n, i;
	double u;
	int rc;

	if (rec != NULL) {
		if (rec->n_top < 1)
			rec->n_top = 1;
		if (rec->n_top > SAMPLER_REC_TOP)
			rec->n_top = SAMPLER_REC_TOP;
		rec->n_stages = 0;
		rec->token = -1;
		rec->p_token = 0;
		rec->p_model = 0;
		rec->mu = s->mu;
		s->rec = rec;
		s->rec_sum = 0;
		sampler_rec_logits(s, SAMPLER_STAGE_MODEL, logits);
		if (l != logits)
			sampler_rec_logits(s, SAMPLER_STAGE_PENALTIES, l);
	}
	if (s->temperature <= 0.0f) {
		int32_t id = sampler_argmax(l, s->n_vocab);

		if (id < 0) {
			s->rec = NULL;
			return err_set(err, ERR_RANGE,
			    "sampler: no token has a finite logit");
		}
		*token = id;
		if (s->rec != NULL) {
			struct sampler_rec_stage *st =
			    sampler_rec_stage(s, SAMPLER_STAGE_GREEDY);

			st->n_left = 1;
			st->n = 1;
			st->cand[0].id = id;
			st->cand[0].p = 1.0f;
			sampler_rec_draw(s, logits, id, 1.0);
		}
		return 0;
	}
	if ((rc = sampler_chain(s, l, &n, err)) != 0) {
		s->rec = NULL;
		return rc;
	}
	it = s->items;
	u = rng_double(&s->rng) * s->sum;
	i = sampler_pick(it, n, u);
	*token = it[i].id;
	if (s->rec != NULL)
		sampler_rec_draw(s, logits, it[i].id, it[i].e / s->sum);
	if (s->mirostat == 2) {
		/* The observed surprise of the drawn token, in bits, among
		 * the candidates it was drawn from. */
		double surprise =
		    (sampler_log(s->sum) - (double)it[i].key) / SAMPLER_LN2;

		s->mu -= s->eta * (float)(surprise - (double)s->tau);
	}
	return 0;
}

int
sampler_probs(struct sampler *s, const float *logits, struct sampler_cand *out,
    size_t max, size_t *n_out, struct err *err)
{
	const float *l = sampler_patch(s, logits);
	struct sampler_item *it;
	size_t n, i;
	int rc;

	if (s->temperature <= 0.0f) {
		int32_t id = sampler_argmax(l, s->n_vocab);

		if (id < 0)
			return err_set(err, ERR_RANGE,
			    "sampler: no token has a finite logit");
		if (max > 0) {
			out[0].id = id;
			out[0].logit = l[id];
			out[0].p = 1.0f;
		}
		*n_out = 1;
		return 0;
	}
	if ((rc = sampler_chain(s, l, &n, err)) != 0)
		return rc;
	it = s->items;
	for (i = 0; i < n; i++)
		it[i].key = -it[i].e;
	sampler_sort(it, n);
	for (i = 0; i < n && i < max; i++) {
		out[i].id = it[i].id;
		out[i].logit = it[i].logit / s->temperature;
		out[i].p = (float)(it[i].e / s->sum);
	}
	*n_out = n;
	return 0;
}

void
sampler_describe(const struct sampler *s, struct sbuf *out)
{
	if (s->n_bias == 0)
		sbuf_adds(out, "logit_bias (none)");
	else
		sbuf_addf(out, "logit_bias (%zu token%s)", s->n_bias,
		    s->n_bias == 1 ? "" : "s");
	if (!s->penalize) {
		sbuf_adds(out, " -> penalties (off)");
	} else {
		const char *sep = ": ";

		if (s->window > 0)
			sbuf_addf(out, " -> penalties (last %zu", s->window);
		else
			sbuf_adds(out, " -> penalties (all tokens");
		if (s->repeat_penalty != 1.0f) {
			sbuf_addf(
			    out, "%srepeat %g", sep, (double)s->repeat_penalty);
			sep = ", ";
		}
		if (s->frequency_penalty != 0.0f) {
			sbuf_addf(out, "%sfrequency %g", sep,
			    (double)s->frequency_penalty);
			sep = ", ";
		}
		if (s->presence_penalty != 0.0f)
			sbuf_addf(out, "%spresence %g", sep,
			    (double)s->presence_penalty);
		sbuf_addc(out, ')');
	}
	if (s->temperature <= 0.0f) {
		sbuf_adds(out,
		    " -> greedy (temperature 0: the most likely "
		    "token; no truncation, no draw)");
		return;
	}
	if (s->mirostat == 2) {
		sbuf_addf(out,
		    " -> temperature %g -> mirostat v2 (tau %g, eta %g; "
		    "replaces top_k, typical, top_p, min_p)",
		    (double)s->temperature, (double)s->tau, (double)s->eta);
	} else {
		sbuf_addf(out, " -> top_k %d%s", s->top_k,
		    s->top_k == 0 || s->top_k >= s->n_vocab ? " (off)" : "");
		sbuf_addf(out, " -> typical %g%s", (double)s->typical_p,
		    s->typical_p >= 1.0f ? " (off)" : "");
		sbuf_addf(out, " -> top_p %g%s", (double)s->top_p,
		    s->top_p >= 1.0f ? " (off)" : "");
		sbuf_addf(out, " -> min_p %g%s", (double)s->min_p,
		    s->min_p <= 0.0f ? " (off)" : "");
		sbuf_addf(out, " -> temperature %g", (double)s->temperature);
	}
	sbuf_addf(out, " -> draw (seed %llu)", (unsigned long long)s->seed);
}
