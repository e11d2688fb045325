/*
 * test-kern: every kernel against the scalar reference (tests/ref.c,
 * src/quant.c) on the Vulkan device, validation on and silent.
 *
 * Tolerances, per kernel:
 * - get_rows, add, kv_store, argmax: exact (the kernels do the same f32
 *   operations as the reference: d * q, one addition, one f16 rounding).
 * - mul_mat, every weight type: both sides multiply the same dequantized
 *   weights in f32 and differ only in summation order, so each output is
 *   held to the worst-case bound of f32 summation,
 *   |err| <= 2 * cols * FLT_EPSILON * sum_c |W[r][c] x[c]| (+ |y0| eps).
 * - rmsnorm: 1e-5 relative (one inverse square root, summation order).
 * - silu_mul, gelu_mul: 1e-5 relative (the device's exp).
 * - rope: 2e-3 absolute for |x| <= 1 at positions up to 4095: the angle
 *   is formed in f32 on the device (f64 in the reference), which at
 *   position 4095 is only good to ~5e-4 rad; f16 KV storage loses more.
 * - attention: 2e-5 absolute on outputs of size ~1 (exp, summation
 *   order; both sides read the same f16-rounded keys and values).
 * - fused products (kern_mul_mat_fused) against the steps done one by
 *   one in double: the product bound above, widened by the norm's
 *   relative error (a sum of squares of cols f32 values: cols/2 + 8
 *   eps) for the normed input; the epilogues add what they compute:
 *   rope 1e-4 of the pair's magnitude (f32 angles at positions <= 40,
 *   the device's sin/cos), silu and gelu the product bounds times their
 *   slopes (|silu'| < 1.1, |gelu'| < 1.13) plus 1e-6 relative (exp,
 *   and the reference's tanh near -1), and the f16 caches one
 *   f16 step (2^-10 relative) on top.
 * Each test notes the maximum error it saw.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "harness.h"
#include "kern.h"
#include "quant.h"
#include "ref.h"
#include "util.h"
#include "vkt.h"

static const uint32_t test_kern_types[] = { GGML_TYPE_F32, GGML_TYPE_F16,
	GGML_TYPE_BF16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
	GGML_TYPE_Q5_0, GGML_TYPE_Q5_1 };

/* K-quants: rows of a multiple of 256 values. */
static const uint32_t test_kern_k_types[] = { GGML_TYPE_Q4_K, GGML_TYPE_Q5_K,
	GGML_TYPE_Q6_K };

static const char *
test_kern_type_name(uint32_t type)
{
	return ggml_type_info(type)->name;
}

/* Everything a kernel test needs: device, kernels, a graph. */
struct test_kern_env {
	struct vk_device *dev;
	struct kern *k;
	struct vk_graph *g;
	struct err err;
};

static void
test_kern_open(struct test_kern_env *e)
{
	e->dev = vkt_open();
	CHECK_INT(kern_new(e->dev, &e->k, &e->err), 0);
	CHECK_INT(vk_graph_new(e->dev, &e->g, &e->err), 0);
}

static void
test_kern_close(struct test_kern_env *e)
{
	vk_graph_free(e->g);
	kern_free(e->k);
	vkt_close(e->dev);
}

static void
test_kern_begin(struct test_kern_env *e)
{
	CHECK_INT(vk_graph_begin(e->g, &e->err), 0);
}

/* End the recording and replay it once; notes the error if any. */
static void
test_kern_run(struct test_kern_env *e)
{
	int rc = vk_graph_end(e->g, &e->err);

	if (rc == 0)
		rc = vk_graph_run(e->g, &e->err);
	CHECK_MSG(rc == 0, "graph: %s", e->err.msg);
}

/*
 * Random ROWS x COLS weights quantized to TYPE (*data, ggml layout) and
 * their dequantized values (*deq).
 */
static void
test_kern_weights(uint32_t type, uint32_t rows, uint32_t cols, uint32_t seed,
    void **data, float **deq)
{
	size_t n = (size_t)rows * cols;
	float *f = xmalloc(n * 4);

	vkt_fill(f, n, seed, 1.0f);
	*data = xmalloc(quant_row_size(type, cols) * rows);
	*deq = xmalloc(n * 4);
	CHECK_INT(quant_quantize(type, f, *data, n), 0);
	CHECK_INT(quant_dequantize(type, *data, *deq, n), 0);
	free(f);
}

static struct vk_buf *
test_kern_floats(struct test_kern_env *e, const float *x, size_t n)
{
	return vkt_buf(e->dev, VK_BUF_DEVICE, x, n * 4);
}

/* One mul_mat case; returns the largest error relative to its bound. */
static double
test_kern_mul_mat_case(struct test_kern_env *e, uint32_t type, uint32_t rows,
    uint32_t cols, uint32_t n, int accumulate, double *max_abs)
{
	const uint32_t xs = cols + 32, xo = 8, ys = rows + 3, yo = 5;
	float *deq, *x, *y0, *y, *ref = xmalloc(rows * 4);
	struct kern_weight w;
	struct vk_buf *xb, *yb;
	void *data;
	double worst = 0;
	uint32_t t, r, c;

	test_kern_weights(type, rows, cols, 100 + rows + n, &data, &deq);
	x = xmalloc(((size_t)xo + n * xs) * 4);
	y0 = xmalloc(((size_t)yo + n * ys) * 4);
	vkt_fill(x, xo + n * xs, 7 + n, 1.0f);
	vkt_fill(y0, yo + n * ys, 9, 1.0f);
	CHECK_INT(
	    kern_weight_upload(e->k, type, rows, cols, data, "w", &w, &e->err),
	    0);
	xb = test_kern_floats(e, x, xo + n * xs);
	yb = test_kern_floats(e, y0, yo + n * ys);
	test_kern_begin(e);
	{
		struct kern_mat xm = { vk_buf_all(xb), xo, xs };
		struct kern_mat ym = { vk_buf_all(yb), yo, ys };

		CHECK_INT(kern_mul_mat(
			      e->k, e->g, &w, xm, ym, n, accumulate, &e->err),
		    0);
	}
	test_kern_run(e);
	y = vkt_read(yb, ((size_t)yo + n * ys) * 4);
	for (t = 0; t < n; t++) {
		const float *xt = x + xo + t * xs;

		ref_matvec(deq, xt, ref, rows, cols);
		for (r = 0; r < rows; r++) {
			double mag = 0, bound, got = y[yo + t * ys + r];
			double want = ref[r];

			for (c = 0; c < cols; c++)
				mag += fabs(
				    (double)deq[(size_t)r * cols + c] * xt[c]);
			bound = 2.0 * cols * FLT_EPSILON * mag + 1e-7;
			if (accumulate) {
				want += y0[yo + t * ys + r];
				bound += 2.0 * FLT_EPSILON *
				    fabs((double)y0[yo + t * ys + r]);
			}
			if (fabs(got - want) > *max_abs)
				*max_abs = fabs(got - want);
			if (fabs(got - want) / bound > worst)
				worst = fabs(got - want) / bound;
		}
	}
	/* Rows between the outputs (the stride's gap) stay untouched. */
	for (t = 0; t < n; t++)
		for (r = rows; r < ys && yo + t * ys + r < yo + n * ys; r++)
			CHECK(y[yo + t * ys + r] == y0[yo + t * ys + r]);
	free(y);
	vk_buf_free(yb);
	vk_buf_free(xb);
	kern_weight_release(&w);
	free(y0);
	free(x);
	free(deq);
	free(data);
	free(ref);
	return worst;
}

/*
 * The matrix-vector strategy (kern_mv_lane_rows) and weight binding
 * (kern_mv_texel) under test.  With the CPU kernel set the texel path must be
 * available: it is the default there.
 */
static void
test_kern_strategy(struct test_kern_env *e, int lane_rows, int texel)
{
	int on;

	kern_mv_lane_rows(e->k, lane_rows);
	on = kern_mv_texel(e->k, texel);
	if (texel && e->dev->info.cpu_kernels)
		CHECK_MSG(on, "device '%s': no texel-buffer weights",
		    e->dev->info.name);
}

/*
 * Both layouts: one row per invocation, and rows shared by a group;
 * weights read through texel buffers (TEXEL, where the device has them)
 * or storage buffers.
 */
static void
test_kern_matvec(int lane_rows, int texel)
{
	/* 17: more than 8 columns (the CPU strategy's column groups). */
	static const uint32_t ns[] = { 1, 2, 3, 8, 17 };
	struct test_kern_env e;
	size_t ti, ni;

	test_kern_open(&e);
	test_kern_strategy(&e, lane_rows, texel);
	for (ti = 0; ti < ARRAY_LEN(test_kern_types); ti++) {
		uint32_t type = test_kern_types[ti];
		double worst = 0, max_abs = 0;

		for (ni = 0; ni < ARRAY_LEN(ns); ni++) {
			double r1 = test_kern_mul_mat_case(
			    &e, type, 37, 96, ns[ni], 0, &max_abs);
			double r2 = test_kern_mul_mat_case(
			    &e, type, 130, 256, ns[ni], ns[ni] == 2, &max_abs);

			worst = fmax(worst, fmax(r1, r2));
		}
		test_note("mul_mv %s%s %s: max abs error %.3g, %.3g of the "
			  "bound",
		    lane_rows ? "rows" : "blocks",
		    kern_mv_texel(e.k, texel) ? " texel" : "",
		    test_kern_type_name(type), max_abs, worst);
		CHECK_MSG(worst <= 1.0, "mul_mv %s: error %.3g x bound",
		    test_kern_type_name(type), worst);
	}
	test_kern_close(&e);
}

TEST(kern_mul_mat_matvec_rows)
{
	test_kern_matvec(1, 1);
}

TEST(kern_mul_mat_matvec_rows_storage)
{
	test_kern_matvec(1, 0);
}

TEST(kern_mul_mat_matvec_blocks)
{
	test_kern_matvec(0, 0);
}

TEST(kern_mul_mat_matvec_blocks_texel)
{
	test_kern_matvec(0, 1);
}

TEST(kern_mul_mat_tiled)
{
	static const uint32_t ns[] = { 9, 17, 64 };
	struct test_kern_env e;
	size_t ti, ni;

	test_kern_open(&e);
	/* The GPU strategy: more than 8 columns take the tiled kernel. */
	kern_mv_lane_rows(e.k, 0);
	for (ti = 0; ti < ARRAY_LEN(test_kern_types); ti++) {
		uint32_t type = test_kern_types[ti];
		double worst = 0, max_abs = 0;

		for (ni = 0; ni < ARRAY_LEN(ns); ni++) {
			double r1 = test_kern_mul_mat_case(
			    &e, type, 37, 96, ns[ni], 0, &max_abs);
			double r2 = test_kern_mul_mat_case(
			    &e, type, 70, 256, ns[ni], ns[ni] == 17, &max_abs);

			worst = fmax(worst, fmax(r1, r2));
		}
		test_note("mul_mm %s: max abs error %.3g, %.3g of the bound",
		    test_kern_type_name(type), max_abs, worst);
		CHECK_MSG(worst <= 1.0, "mul_mm %s: error %.3g x bound",
		    test_kern_type_name(type), worst);
	}
	test_kern_close(&e);
}

TEST(kern_mul_mat_split_weight)
{
	struct test_kern_env e;
	size_t ti;

	test_kern_open(&e);
	/* Chunks of at most 2 KiB: 130 rows become several bindings. */
	kern_limit_view(e.k, 2048);
	for (ti = 0; ti < ARRAY_LEN(test_kern_types); ti++) {
		uint32_t type = test_kern_types[ti];
		double max_abs = 0, worst;

		worst = fmax(
		    test_kern_mul_mat_case(&e, type, 130, 64, 3, 1, &max_abs),
		    test_kern_mul_mat_case(&e, type, 130, 64, 17, 0, &max_abs));
		test_note("split %s: max abs error %.3g, %.3g of the bound",
		    test_kern_type_name(type), max_abs, worst);
		CHECK(worst <= 1.0);
	}
	test_kern_close(&e);
}

/*
 * K-quants through every product path: the matrix-vector kernel in both
 * strategies, the tiled one, and weights split into several bindings
 * (chunks of whole rows: the super-block regions are per chunk).
 */
TEST(kern_mul_mat_kquant)
{
	static const uint32_t ns[] = { 1, 3, 8, 17 };
	struct test_kern_env e;
	size_t ti, ni;
	int mode;

	test_kern_open(&e);
	for (ti = 0; ti < ARRAY_LEN(test_kern_k_types); ti++) {
		uint32_t type = test_kern_k_types[ti];

		for (mode = 0; mode < 4; mode++) {
			static const char *names[] = { "mul_mv rows",
				"mul_mv blocks", "mul_mm", "split" };
			double worst = 0, max_abs = 0;

			/* texel buffers but for the GPU strategy */
			test_kern_strategy(
			    &e, mode == 0 || mode == 3, mode != 1);
			/*
			 * 8 KiB: Q6_K rows of 630 bytes split in steps of 8
			 * rows (the binding alignment)
			 */
			kern_limit_view(e.k, mode == 3 ? 8192 : 0);
			for (ni = 0; ni < ARRAY_LEN(ns); ni++) {
				uint32_t n = mode == 2 ? ns[ni] + 8 : ns[ni];

				if ((mode == 1 && n > 8) ||
				    (mode == 3 && ni > 1))
					continue;
				worst = fmax(worst,
				    test_kern_mul_mat_case(&e, type, 37, 256, n,
					ni == 1, &max_abs));
				worst = fmax(worst,
				    test_kern_mul_mat_case(&e, type,
					mode == 3 ? 130 : 70, 768, n, 0,
					&max_abs));
			}
			test_note("%s %s: max abs error %.3g, %.3g of the "
				  "bound",
			    names[mode], test_kern_type_name(type), max_abs,
			    worst);
			CHECK_MSG(worst <= 1.0, "%s %s: error %.3g x bound",
			    names[mode], test_kern_type_name(type), worst);
		}
	}
	test_kern_close(&e);
}

/* The reference of a fused product: the steps one by one, in double. */
struct test_kern_fref {
	double *y;   /* (n, rows) products of the normed x */
	double *mag; /* (n, rows) sum_c |W[r][c] x'[c]| */
	double *rel; /* (n) the norm's relative error bound (0: no norm) */
};

/*
 * X (n rows of COLS at stride COLS), normed by NW over its first N_NORM
 * values when NW is set, times the ROWS x COLS weights DEQ.
 */
static void
test_kern_fref(const float *deq, const float *x, const float *nw,
    uint32_t n_norm, uint32_t rows, uint32_t cols, uint32_t n,
    struct test_kern_fref *f)
{
	float *xn = xmalloc(cols * 4);
	uint32_t t, r, c;

	f->y = xcalloc((size_t)n * rows, sizeof *f->y);
	f->mag = xcalloc((size_t)n * rows, sizeof *f->mag);
	f->rel = xcalloc(n, sizeof *f->rel);
	for (t = 0; t < n; t++) {
		memcpy(xn, x + (size_t)t * cols, cols * 4);
		if (nw != NULL) {
			ref_rmsnorm(
			    x + (size_t)t * cols, nw, xn, n_norm, 1e-5f);
			f->rel[t] = (n_norm / 2.0 + 8) * FLT_EPSILON;
		}
		for (r = 0; r < rows; r++)
			for (c = 0; c < cols; c++) {
				double v =
				    (double)deq[(size_t)r * cols + c] * xn[c];

				f->y[(size_t)t * rows + r] += v;
				f->mag[(size_t)t * rows + r] += fabs(v);
			}
	}
	free(xn);
}

static void
test_kern_fref_free(struct test_kern_fref *f)
{
	free(f->y);
	free(f->mag);
	free(f->rel);
}

/* The error bound of product (t, r) of F over COLS. */
static double
test_kern_fbound(const struct test_kern_fref *f, uint32_t rows, uint32_t cols,
    uint32_t t, uint32_t r)
{
	double mag = f->mag[(size_t)t * rows + r];

	return (2.0 * cols * FLT_EPSILON + f->rel[t]) * mag + 1e-7;
}

/*
 * Norm + product accumulated into y (the head, residual adds) and norm +
 * gate|up product with act(gate) * up (the feed-forward; ACT
 * KERN_EPI_SILU or KERN_EPI_GELU), for both strategies, N columns.
 * Returns the worst error relative to its bound.
 */
static double
test_kern_fused_store_silu(
    struct test_kern_env *e, uint32_t type, uint32_t n, enum kern_epi act)
{
	const uint32_t cols = 96, n_norm = 88, rows = 37, half = 40;
	float *x = xmalloc((size_t)n * cols * 4), *nw = xmalloc(cols * 4);
	float *deq, *deq2, *y0 = xmalloc((size_t)n * rows * 4), *y;
	struct kern_weight w, w2;
	struct vk_buf *xb, *nb, *yb, *gb;
	struct test_kern_fref f, f2;
	void *data, *data2;
	double worst = 0;
	uint32_t t, r;

	/* x is zero past n_norm, like an activation row's padding. */
	vkt_fill(x, (size_t)n * cols, 200 + n, 2.0f);
	for (t = 0; t < n; t++)
		for (r = n_norm; r < cols; r++)
			x[(size_t)t * cols + r] = 0.0f;
	vkt_fill(nw, cols, 201, 1.0f);
	vkt_fill(y0, (size_t)n * rows, 202, 1.0f);
	test_kern_weights(type, rows, cols, 203, &data, &deq);
	test_kern_weights(type, 2 * half, cols, 204, &data2, &deq2);
	CHECK_INT(
	    kern_weight_upload(e->k, type, rows, cols, data, "w", &w, &e->err),
	    0);
	CHECK_INT(kern_weight_upload(
		      e->k, type, 2 * half, cols, data2, "gu", &w2, &e->err),
	    0);
	xb = test_kern_floats(e, x, (size_t)n * cols);
	nb = test_kern_floats(e, nw, n_norm);
	yb = test_kern_floats(e, y0, (size_t)n * rows);
	gb = vkt_buf(e->dev, VK_BUF_DEVICE, NULL, (size_t)n * half * 4);
	test_kern_begin(e);
	{
		struct vk_view nv = vk_buf_all(nb);
		struct kern_mat xm = { vk_buf_all(xb), 0, cols };
		struct kern_mat ym = { vk_buf_all(yb), 0, rows };
		struct kern_mat gm = { vk_buf_all(gb), 0, half };
		struct kern_fuse fs = { .norm = &nv,
			.n_norm = n_norm,
			.eps = 1e-5f,
			.epi = KERN_EPI_STORE };
		struct kern_fuse fg = fs;

		fg.epi = act;
		CHECK_INT(kern_mul_mat_fused(
			      e->k, e->g, &w, xm, ym, n, 1, &fs, &e->err),
		    0);
		CHECK_INT(kern_mul_mat_fused(
			      e->k, e->g, &w2, xm, gm, n, 0, &fg, &e->err),
		    0);
	}
	test_kern_run(e);
	test_kern_fref(deq, x, nw, n_norm, rows, cols, n, &f);
	test_kern_fref(deq2, x, nw, n_norm, 2 * half, cols, n, &f2);
	y = vkt_read(yb, (size_t)n * rows * 4);
	for (t = 0; t < n; t++)
		for (r = 0; r < rows; r++) {
			double want = f.y[(size_t)t * rows + r] +
			    y0[(size_t)t * rows + r];
			double bound = test_kern_fbound(&f, rows, cols, t, r) +
			    2 * FLT_EPSILON * fabs(want);

			worst = fmax(worst,
			    fabs(y[(size_t)t * rows + r] - want) / bound);
		}
	free(y);
	y = vkt_read(gb, (size_t)n * half * 4);
	for (t = 0; t < n; t++)
		for (r = 0; r < half; r++) {
			float g = (float)f2.y[(size_t)t * 2 * half + r];
			float u = (float)f2.y[(size_t)t * 2 * half + half + r];
			float one = 1.0f, sg;
			double slope = act == KERN_EPI_GELU ? 1.13 : 1.1;
			double want, bound;

			if (act == KERN_EPI_GELU)
				ref_gelu_mul(&g, &one, &sg, 1);
			else
				ref_silu_mul(&g, &one, &sg, 1);
			want = (double)sg * u;
			bound = slope *
				test_kern_fbound(&f2, 2 * half, cols, t, r) *
				fabs(u) +
			    (fabs(sg) +
				slope *
				    test_kern_fbound(
					&f2, 2 * half, cols, t, r)) *
				test_kern_fbound(
				    &f2, 2 * half, cols, t, half + r) +
			    1e-6 * fabs(want) + 1e-7;

			worst = fmax(worst,
			    fabs(y[(size_t)t * half + r] - want) / bound);
		}
	free(y);
	test_kern_fref_free(&f);
	test_kern_fref_free(&f2);
	vk_buf_free(gb);
	vk_buf_free(yb);
	vk_buf_free(nb);
	vk_buf_free(xb);
	kern_weight_release(&w);
	kern_weight_release(&w2);
	free(data);
	free(data2);
	free(deq);
	free(deq2);
	free(y0);
	free(nw);
	free(x);
	return worst;
}

/*
 * Norm + Q|K|V product with rope and the KV store (4 query heads over 2
 * KV heads of 16, N_ROT rotated, frequency factors when FF) for N
 * tokens at positions 5 + 3t, slots 7 + pos.  Returns the worst error
 * relative to its bound.
 */
static double
test_kern_fused_rope(
    struct test_kern_env *e, uint32_t type, uint32_t n, uint32_t n_rot, int ff)
{
	const uint32_t cols = 256, hd = 16, q_dim = 64, kv_dim = 32;
	const uint32_t rows = q_dim + 2 * kv_dim, slots = 64;
	float *x = xmalloc((size_t)n * cols * 4), *nw = xmalloc(cols * 4);
	float *deq, *rq = xmalloc(rows * 4), *rm = xmalloc(rows * 4), *y;
	float ffv[8];
	struct kern_tok tok[16];
	struct kern_rope rope = { 6, hd, n_rot, 10000.0f, 0.5f, NULL };
	struct kern_weight w;
	struct vk_buf *xb, *nb, *yb, *tb, *kb, *vb, *fb;
	struct test_kern_fref f;
	uint16_t *kc, *vc;
	void *data;
	double worst = 0;
	uint32_t t, r, i;

	for (i = 0; i < 8; i++)
		ffv[i] = 1.0f + (float)i / 4.0f;
	for (t = 0; t < n; t++) {
		tok[t].token = 0;
		tok[t].pos = 5 + 3 * (int32_t)t;
		tok[t].kv_base = 7;
		tok[t].n_kv = tok[t].pos + 1;
	}
	vkt_fill(x, (size_t)n * cols, 210 + n, 2.0f);
	vkt_fill(nw, cols, 211, 1.0f);
	test_kern_weights(type, rows, cols, 212, &data, &deq);
	CHECK_INT(kern_weight_upload(
		      e->k, type, rows, cols, data, "qkv", &w, &e->err),
	    0);
	xb = test_kern_floats(e, x, (size_t)n * cols);
	nb = test_kern_floats(e, nw, cols);
	yb = vkt_buf(e->dev, VK_BUF_DEVICE, NULL, (size_t)n * rows * 4);
	tb = vkt_buf(e->dev, VK_BUF_HOST, tok, n * sizeof *tok);
	kb = vkt_buf(e->dev, VK_BUF_DEVICE, NULL, slots * kv_dim * 2);
	vb = vkt_buf(e->dev, VK_BUF_DEVICE, NULL, slots * kv_dim * 2);
	fb = test_kern_floats(e, ffv, 8);
	test_kern_begin(e);
	{
		struct vk_view nv = vk_buf_all(nb), fv = vk_buf_all(fb);
		struct kern_mat xm = { vk_buf_all(xb), 0, cols };
		struct kern_mat ym = { vk_buf_all(yb), 0, rows };
		struct kern_fuse fq = { .norm = &nv,
			.n_norm = cols,
			.eps = 1e-5f,
			.epi = KERN_EPI_ROPE_KV,
			.tok = vk_buf_all(tb),
			.kc = vk_buf_all(kb),
			.vc = vk_buf_all(vb),
			.rope = &rope,
			.q_dim = q_dim,
			.kv_dim = kv_dim };

		if (ff)
			rope.freq_factors = &fv;
		CHECK_INT(kern_mul_mat_fused(
			      e->k, e->g, &w, xm, ym, n, 0, &fq, &e->err),
		    0);
	}
	test_kern_run(e);
	test_kern_fref(deq, x, nw, cols, rows, cols, n, &f);
	y = vkt_read(yb, (size_t)n * rows * 4);
	kc = vkt_read(kb, slots * kv_dim * 2);
	vc = vkt_read(vb, slots * kv_dim * 2);
	for (t = 0; t < n; t++) {
		const uint32_t slot = 7 + (uint32_t)tok[t].pos;

		for (r = 0; r < rows; r++) {
			rq[r] = (float)f.y[(size_t)t * rows + r];
			rm[r] = (float)test_kern_fbound(&f, rows, cols, t, r);
		}
		ref_rope_ext(rq, 6, hd, n_rot, tok[t].pos, 10000.0f, 0.5f,
		    ff ? ffv : NULL);
		for (r = 0; r < rows; r++) {
			/* The pair's bounds and magnitude, rotated or not. */
			uint32_t r0 = r & ~1u;
			double pm = fabs(f.y[(size_t)t * rows + r0]) +
			    fabs(f.y[(size_t)t * rows + r0 + 1]);
			double bound = rm[r0] + rm[r0 + 1] + 1e-4 * pm;
			double got;

			if (r < q_dim) {
				got = y[(size_t)t * rows + r];
			} else {
				uint16_t h = r < q_dim + kv_dim
				    ? kc[slot * kv_dim + r - q_dim]
				    : vc[slot * kv_dim + r - q_dim - kv_dim];

				got = quant_f16_to_f32(h);
				bound += fabs(rq[r]) / 1024.0 + 1e-7;
			}
			worst = fmax(worst, fabs(got - rq[r]) / bound);
		}
	}
	free(kc);
	free(vc);
	free(y);
	test_kern_fref_free(&f);
	vk_buf_free(fb);
	vk_buf_free(vb);
	vk_buf_free(kb);
	vk_buf_free(tb);
	vk_buf_free(yb);
	vk_buf_free(nb);
	vk_buf_free(xb);
	kern_weight_release(&w);
	free(data);
	free(deq);
	free(rm);
	free(rq);
	free(nw);
	free(x);
	return worst;
}

static const uint32_t test_kern_fused_types[] = { GGML_TYPE_F32, GGML_TYPE_Q8_0,
	GGML_TYPE_Q4_0 };

/* The rope test's rows are 256 long: the Q4_K_M pair fits. */
static const uint32_t test_kern_rope_types[] = { GGML_TYPE_F32, GGML_TYPE_Q8_0,
	GGML_TYPE_Q4_0, GGML_TYPE_Q4_K, GGML_TYPE_Q6_K };

/* The gated epilogue with SiLU and, one type fewer, with GELU (gemma3). */
TEST(kern_fused_norm_silu)
{
	static const uint32_t ns[] = { 1, 3, 11 };
	struct test_kern_env e;
	int lane;

	test_kern_open(&e);
	for (lane = 0; lane < 2; lane++) {
		double worst = 0, worst_gelu = 0;
		size_t ti, ni;

		test_kern_strategy(&e, lane, lane);
		for (ti = 0; ti < ARRAY_LEN(test_kern_fused_types); ti++)
			for (ni = 0; ni < ARRAY_LEN(ns); ni++) {
				if (!lane && ns[ni] > 8)
					continue; /* GPU strategy: not fusable */
				worst = fmax(worst,
				    test_kern_fused_store_silu(&e,
					test_kern_fused_types[ti], ns[ni],
					KERN_EPI_SILU));
				if (ti == 2)
					continue;
				worst_gelu = fmax(worst_gelu,
				    test_kern_fused_store_silu(&e,
					test_kern_fused_types[ti], ns[ni],
					KERN_EPI_GELU));
			}
		test_note("fused norm+store, norm+silu (%s): %.3g of the bound",
		    lane ? "rows" : "blocks", worst);
		test_note("fused norm+store, norm+gelu (%s): %.3g of the bound",
		    lane ? "rows" : "blocks", worst_gelu);
		CHECK(worst <= 1.0);
		CHECK(worst_gelu <= 1.0);
	}
	test_kern_close(&e);
}

TEST(kern_fused_rope_kv)
{
	static const uint32_t ns[] = { 1, 3, 11 };
	struct test_kern_env e;
	int lane;

	test_kern_open(&e);
	for (lane = 0; lane < 2; lane++) {
		double worst = 0;
		size_t ti, ni;

		test_kern_strategy(&e, lane, lane);
		for (ti = 0; ti < ARRAY_LEN(test_kern_rope_types); ti++)
			for (ni = 0; ni < ARRAY_LEN(ns); ni++) {
				if (!lane && ns[ni] > 8)
					continue;
				worst = fmax(worst,
				    test_kern_fused_rope(&e,
					test_kern_rope_types[ti], ns[ni],
					ni == 1 ? 8 : 16, ni == 2));
			}
		test_note("fused norm+rope+kv (%s): %.3g of the bound",
		    lane ? "rows" : "blocks", worst);
		CHECK(worst <= 1.0);
	}
	{
		/* Not fusable: the GPU strategy over 9 columns, bad shapes. */
		struct kern_weight w;
		struct vk_buf *b = vkt_buf(e.dev, VK_BUF_DEVICE, NULL, 4096);
		struct kern_mat m = { vk_buf_all(b), 0, 32 };
		struct kern_rope rope = { 1, 6, 6, 10000.0f, 1.0f, NULL };
		struct kern_fuse f = { .epi = KERN_EPI_ROPE_KV,
			.tok = vk_buf_all(b),
			.kc = vk_buf_all(b),
			.vc = vk_buf_all(b),
			.rope = &rope,
			.q_dim = 6,
			.kv_dim = 6 };
		float z[18 * 32] = { 0 };

		CHECK_INT(kern_weight_upload(
			      e.k, GGML_TYPE_F32, 18, 32, z, "odd", &w, &e.err),
		    0);
		kern_mv_lane_rows(e.k, 0);
		CHECK(!kern_fusable(e.k, &w, 9));
		CHECK(kern_fusable(e.k, &w, 8));
		test_kern_begin(&e);
		rope.head_dim = 3; /* odd head size: pairs would straddle */
		rope.n_rot = 2;
		f.q_dim = 6;
		CHECK_INT(
		    kern_mul_mat_fused(e.k, e.g, &w, m, m, 1, 0, &f, &e.err),
		    ERR_UNSUPPORTED);
		CHECK_CONTAINS(e.err.msg, "rope epilogue");
		f.epi = KERN_EPI_SILU;
		CHECK_INT(
		    kern_mul_mat_fused(e.k, e.g, &w, m, m, 9, 0, &f, &e.err),
		    ERR_UNSUPPORTED);
		CHECK_INT(vk_graph_end(e.g, &e.err), 0);
		kern_weight_release(&w);
		vk_buf_free(b);
	}
	test_kern_close(&e);
}

/*
 * Rows ID of TYPE (ROWS x COLS) looked up in one binding or (LIMIT) in
 * several, against quant_dequantize; with LIMIT also scaled by gemma3
 * 1B's embedding scale (one f32 product on both sides: exact).
 */
static void
test_kern_get_rows_case(
    struct test_kern_env *e, uint32_t type, uint32_t cols, int limit)
{
	const float scale = limit ? sqrtf(1152.0f) : 1.0f;
	const uint32_t rows = 100, n = 5;
	const int32_t ids[5] = { 0, 99, 17, 17, 64 };
	struct kern_tok tok[5] = { { 0 } };
	struct kern_weight w;
	struct vk_buf *tb, *yb;
	float *deq, *y;
	void *data;
	uint32_t t, c, bad = 0;

	for (t = 0; t < n; t++)
		tok[t].token = ids[t];
	test_kern_weights(type, rows, cols, 3, &data, &deq);
	CHECK_INT(kern_weight_upload(
		      e->k, type, rows, cols, data, "token_embd", &w, &e->err),
	    0);
	CHECK(!limit ? w.n_chunks == 1 : w.n_chunks > 2);
	tb = vkt_buf(e->dev, VK_BUF_HOST, tok, sizeof tok);
	yb = vkt_buf(e->dev, VK_BUF_READBACK, NULL, (size_t)n * (cols + 4) * 4);
	test_kern_begin(e);
	{
		struct kern_mat ym = { vk_buf_all(yb), 4, cols };

		CHECK_INT(limit ? kern_get_rows_scaled(e->k, e->g, &w,
				      vk_buf_all(tb), ym, n, scale, &e->err)
				: kern_get_rows(e->k, e->g, &w, vk_buf_all(tb),
				      ym, n, &e->err),
		    0);
	}
	test_kern_run(e);
	y = yb->map;
	for (t = 0; t < n; t++)
		for (c = 0; c < cols; c++)
			bad += y[4 + t * cols + c] !=
			    deq[(size_t)ids[t] * cols + c] * scale;
	CHECK_MSG(bad == 0, "get_rows %s (%s): %u values differ",
	    test_kern_type_name(type), limit ? "split" : "one binding", bad);
	vk_buf_free(yb);
	vk_buf_free(tb);
	kern_weight_release(&w);
	free(deq);
	free(data);
}

TEST(kern_get_rows)
{
	struct test_kern_env e;
	size_t ti;
	int lim;

	test_kern_open(&e);
	for (lim = 0; lim < 2; lim++) {
		/* The second round splits the table into several chunks. */
		kern_limit_view(e.k, lim == 0 ? 0 : 1024);
		for (ti = 0; ti < ARRAY_LEN(test_kern_types); ti++)
			test_kern_get_rows_case(
			    &e, test_kern_types[ti], 96, lim);
		/* K-quants: 512 values a row, 8 KiB chunks */
		kern_limit_view(e.k, lim == 0 ? 0 : 8192);
		for (ti = 0; ti < ARRAY_LEN(test_kern_k_types); ti++)
			test_kern_get_rows_case(
			    &e, test_kern_k_types[ti], 512, lim);
	}
	test_kern_close(&e);
}

TEST(kern_weight_errors)
{
	struct test_kern_env e;
	struct kern_weight w;
	char data[64] = { 0 };

	test_kern_open(&e);
	CHECK_INT(kern_weight_upload(e.k, GGML_TYPE_Q3_K, 1, 256, data,
		      "blk.0.ffn_down.weight", &w, &e.err),
	    ERR_UNSUPPORTED);
	CHECK_CONTAINS(e.err.msg, "blk.0.ffn_down.weight");
	CHECK_INT(kern_weight_upload(e.k, GGML_TYPE_Q4_K, 3, 96, data,
		      "blk.1.attn_q.weight", &w, &e.err),
	    ERR_UNSUPPORTED);
	CHECK_CONTAINS(e.err.msg, "'blk.1.attn_q.weight': 3 x 96 of q4_K");
	CHECK_CONTAINS(e.err.msg, "multiple of 256");
	CHECK_INT(kern_weight_upload(
		      e.k, GGML_TYPE_F16, 1, 20, data, "odd", &w, &e.err),
	    ERR_UNSUPPORTED);
	CHECK_CONTAINS(e.err.msg, "multiple of 32");
	CHECK(kern_type_supported(GGML_TYPE_Q6_K));
	CHECK(kern_type_supported(GGML_TYPE_Q5_1));
	CHECK(!kern_type_supported(GGML_TYPE_Q2_K));
	CHECK(!kern_type_supported(GGML_TYPE_Q8_1));
	test_kern_close(&e);
}

TEST(kern_rmsnorm)
{
	const uint32_t n = 3, cols = 1000, s = 1010;
	struct test_kern_env e;
	float *x = xmalloc(n * s * 4), *w = xmalloc(cols * 4);
	float *ones = xmalloc(cols * 4), ref[1000], *y,
	      *y0 = xmalloc(n * s * 4);
	struct vk_buf *xb, *wb, *yb;
	double max_rel = 0;
	uint32_t t, i, mode;

	vkt_fill(x, n * s, 21, 3.0f);
	vkt_fill(w, cols, 22, 1.0f);
	for (i = 0; i < cols; i++)
		ones[i] = 1.0f;
	test_kern_open(&e);
	wb = test_kern_floats(&e, w, cols);
	vkt_fill(y0, n * s, 23, 2.0f);
	/*
	 * Modes: with weight, without, in place with weight, added into
	 * another buffer (kern_rmsnorm_add, gemma3's post-norms).
	 */
	for (mode = 0; mode < 4; mode++) {
		struct vk_view wv = vk_buf_all(wb);

		xb = test_kern_floats(&e, x, n * s);
		yb = mode == 2
		    ? xb
		    : test_kern_floats(&e, mode == 3 ? y0 : x, n * s);
		test_kern_begin(&e);
		{
			struct kern_mat xm = { vk_buf_all(xb), 2, s };
			struct kern_mat ym = { vk_buf_all(yb), 2, s };

			if (mode == 3) {
				CHECK_INT(kern_rmsnorm_add(e.k, e.g, xm, &wv,
					      ym, cols, n, 1e-5f, &e.err),
				    0);
				/* in place cannot add */
				CHECK_INT(kern_rmsnorm_add(e.k, e.g, xm, &wv,
					      xm, cols, n, 1e-5f, &e.err),
				    ERR_USAGE);
				CHECK_CONTAINS(e.err.msg, "its own input");
			} else {
				CHECK_INT(kern_rmsnorm(e.k, e.g, xm,
					      mode == 1 ? NULL : &wv, ym, cols,
					      n, 1e-5f, &e.err),
				    0);
			}
		}
		test_kern_run(&e);
		y = vkt_read(yb, (size_t)n * s * 4);
		for (t = 0; t < n; t++) {
			ref_rmsnorm(x + 2 + t * s, mode == 1 ? ones : w, ref,
			    cols, 1e-5f);
			for (i = 0; i < cols; i++) {
				double base = mode == 3 ? y0[2 + t * s + i] : 0;
				double d =
				    fabs(y[2 + t * s + i] - (base + ref[i])) /
				    (fabs(ref[i]) + fabs(base) + 1e-3);

				max_rel = fmax(max_rel, d);
			}
		}
		free(y);
		if (yb != xb)
			vk_buf_free(yb);
		vk_buf_free(xb);
	}
	test_note("rmsnorm: max relative error %.3g", max_rel);
	CHECK(max_rel <= 1e-5);
	vk_buf_free(wb);
	test_kern_close(&e);
	free(y0);
	free(ones);
	free(w);
	free(x);
}

/*
 * LayerNorm (gpt2): rows of mean 4 (so skipping the mean shows), with
 * weight and bias, without bias, and in place; against ref_layernorm,
 * relative to |y| + 1e-2: 5e-5 (the f32 sums of the mean and of the
 * squared deviations in another order than the double reference's;
 * 1.4e-5 measured on lavapipe).
 */
TEST(kern_layernorm)
{
	const uint32_t n = 3, cols = 768, s = 800;
	struct test_kern_env e;
	float *x = xmalloc(n * s * 4), *w = xmalloc(cols * 4);
	float *b = xmalloc(cols * 4), *zero = xcalloc(cols, 4), ref[768], *y;
	struct vk_buf *xb, *wb, *bb, *yb;
	double max_rel = 0;
	uint32_t t, i, mode;

	vkt_fill(x, n * s, 41, 3.0f);
	for (i = 0; i < n * s; i++)
		x[i] += 4.0f;
	vkt_fill(w, cols, 42, 1.0f);
	vkt_fill(b, cols, 43, 1.0f);
	test_kern_open(&e);
	wb = test_kern_floats(&e, w, cols);
	bb = test_kern_floats(&e, b, cols);
	for (mode = 0; mode < 3; mode++) {
		struct vk_view wv = vk_buf_all(wb), bv = vk_buf_all(bb);

		xb = test_kern_floats(&e, x, n * s);
		yb = mode == 2 ? xb : test_kern_floats(&e, x, n * s);
		test_kern_begin(&e);
		{
			struct kern_mat xm = { vk_buf_all(xb), 5, s };
			struct kern_mat ym = { vk_buf_all(yb), 5, s };

			CHECK_INT(kern_layernorm(e.k, e.g, xm, &wv,
				      mode == 1 ? NULL : &bv, ym, cols, n,
				      1e-5f, &e.err),
			    0);
		}
		test_kern_run(&e);
		y = vkt_read(yb, (size_t)n * s * 4);
		for (t = 0; t < n; t++) {
			ref_layernorm(x + 5 + t * s, w, mode == 1 ? zero : b,
			    ref, cols, 1e-5f);
			for (i = 0; i < cols; i++)
				max_rel = fmax(max_rel,
				    fabs(y[5 + t * s + i] - ref[i]) /
					(fabs(ref[i]) + 1e-2));
		}
		free(y);
		if (yb != xb)
			vk_buf_free(yb);
		vk_buf_free(xb);
	}
	test_note("layernorm: max relative error %.3g", max_rel);
	CHECK(max_rel <= 5e-5);
	vk_buf_free(bb);
	vk_buf_free(wb);
	test_kern_close(&e);
	free(zero);
	free(b);
	free(w);
	free(x);
}

/*
 * GELU without a gate (gpt2's MLP), in place, against ref_gelu: 1e-5
 * relative (the device's exp); and gpt2's position lookup, added to
 * what the row holds: exact.
 */
TEST(kern_gelu_and_pos)
{
	const uint32_t n = 4, cols = 1000, rows = 12, pc = 64;
	const int32_t pos[4] = { 0, 11, 3, 3 };
	struct test_kern_env e;
	struct kern_tok tok[4] = { { 0 } };
	float *x = xmalloc(n * cols * 4), *ref = xmalloc(n * cols * 4), *y;
	float *y0 = xmalloc(n * pc * 4), *deq;
	struct vk_buf *xb, *tb, *pb;
	struct kern_weight w;
	double max_rel = 0;
	uint32_t i, t, c, bad = 0;
	void *data;

	vkt_fill(x, n * cols, 51, 6.0f);
	vkt_fill(y0, n * pc, 52, 1.0f);
	memcpy(ref, x, (size_t)n * cols * 4);
	ref_gelu(ref, (size_t)n * cols);
	for (t = 0; t < n; t++) {
		tok[t].token = 7; /* not the row: the position is */
		tok[t].pos = pos[t];
	}
	test_kern_open(&e);
	test_kern_weights(GGML_TYPE_F16, rows, pc, 5, &data, &deq);
	CHECK_INT(kern_weight_upload(e.k, GGML_TYPE_F16, rows, pc, data,
		      "position_embd", &w, &e.err),
	    0);
	xb = test_kern_floats(&e, x, n * cols);
	pb = test_kern_floats(&e, y0, n * pc);
	tb = vkt_buf(e.dev, VK_BUF_HOST, tok, sizeof tok);
	test_kern_begin(&e);
	{
		struct kern_mat xm = { vk_buf_all(xb), 0, cols };
		struct kern_mat pm = { vk_buf_all(pb), 0, pc };

		CHECK_INT(kern_gelu(e.k, e.g, xm, xm, cols, n, &e.err), 0);
		CHECK_INT(kern_get_rows_pos_add(
			      e.k, e.g, &w, vk_buf_all(tb), pm, n, &e.err),
		    0);
	}
	test_kern_run(&e);
	y = vkt_read(xb, (size_t)n * cols * 4);
	for (i = 0; i < n * cols; i++)
		max_rel =
		    fmax(max_rel, fabs(y[i] - ref[i]) / (fabs(ref[i]) + 1e-6));
	free(y);
	y = vkt_read(pb, (size_t)n * pc * 4);
	for (t = 0; t < n; t++)
		for (c = 0; c < pc; c++)
			bad += y[t * pc + c] !=
			    y0[t * pc + c] + deq[(size_t)pos[t] * pc + c];
	free(y);
	test_note("gelu: max relative error %.3g", max_rel);
	CHECK(max_rel <= 1e-5);
	CHECK_MSG(bad == 0, "position lookup: %u values differ", bad);
	vk_buf_free(tb);
	vk_buf_free(pb);
	vk_buf_free(xb);
	kern_weight_release(&w);
	test_kern_close(&e);
	free(deq);
	free(data);
	free(y0);
	free(ref);
	free(x);
}

/*
 * Per-head rmsnorm over rows laid out as the engine's Q|K|V: 4 Q heads of
 * 32 at offset 8 normed in place with one weight, 2 K heads after them
 * into another buffer with another; every other value stays as it was.
 */
TEST(kern_rmsnorm_heads)
{
	const uint32_t n = 5, hd = 32, s = 250, qo = 8, ko = qo + 4 * hd;
	struct test_kern_env e;
	float *x = xmalloc(n * s * 4), *w = xmalloc(2 * hd * 4), ref[32];
	float *y, *y2;
	struct vk_buf *xb, *yb, *wb;
	double max_rel = 0;
	uint32_t t, h, i, bad = 0;

	vkt_fill(x, n * s, 31, 3.0f);
	vkt_fill(w, 2 * hd, 32, 1.0f);
	test_kern_open(&e);
	wb = test_kern_floats(&e, w, 2 * hd);
	xb = test_kern_floats(&e, x, n * s);
	yb = test_kern_floats(&e, x, n * s);
	test_kern_begin(&e);
	{
		struct vk_view wq = vk_buf_view(wb, 0, hd * 4);
		struct vk_view wk = vk_buf_view(wb, hd * 4, hd * 4);
		struct kern_mat q = { vk_buf_all(xb), qo, s };
		struct kern_mat kx = { vk_buf_all(xb), ko, s };
		struct kern_mat ky = { vk_buf_all(yb), ko, s };

		CHECK_INT(kern_rmsnorm_heads(
			      e.k, e.g, q, &wq, q, hd, 4, n, 1e-6f, &e.err),
		    0);
		CHECK_INT(kern_rmsnorm_heads(
			      e.k, e.g, kx, &wk, ky, hd, 2, n, 1e-6f, &e.err),
		    0);
		CHECK_INT(kern_rmsnorm_heads(
			      e.k, e.g, q, &wq, q, 2 * hd, 2, n, 1e-6f, &e.err),
		    ERR_RANGE);
		CHECK_CONTAINS(e.err.msg, "weight view");
		CHECK_INT(kern_rmsnorm_heads(
			      e.k, e.g, q, &wq, q, hd, 0, n, 1e-6f, &e.err),
		    ERR_RANGE);
	}
	test_kern_run(&e);
	y = vkt_read(xb, (size_t)n * s * 4);
	y2 = vkt_read(yb, (size_t)n * s * 4);
	for (t = 0; t < n; t++) {
		for (h = 0; h < 6; h++) {
			uint32_t off = t * s + qo + h * hd;
			const float *got = (h < 4 ? y : y2) + off;

			ref_rmsnorm(
			    x + off, h < 4 ? w : w + hd, ref, hd, 1e-6f);
			for (i = 0; i < hd; i++)
				max_rel = fmax(max_rel,
				    fabs(got[i] - ref[i]) /
					(fabs(ref[i]) + 1e-3));
		}
		for (i = 0; i < s; i++) {
			uint32_t j = t * s + i;

			bad += (i < qo || i >= ko) && y[j] != x[j];
			bad += (i < ko || i >= ko + 2 * hd) && y2[j] != x[j];
		}
	}
	test_note("rmsnorm per head: max relative error %.3g", max_rel);
	CHECK(max_rel <= 1e-5);
	CHECK_INT(bad, 0);
	free(y);
	free(y2);
	vk_buf_free(yb);
	vk_buf_free(xb);
	vk_buf_free(wb);
	test_kern_close(&e);
	free(w);
	free(x);
}

/*
 * silu_mul and gelu_mul (into a second buffer, from the same rows), and
 * the residual add.
 */
TEST(kern_add_and_silu_mul)
{
	/* One buffer per token: [gate (1000) | up (1000)], as fused. */
	const uint32_t n = 3, cols = 1000, s = 2 * cols;
	struct test_kern_env e;
	float *gu = xmalloc(n * s * 4), *r = xmalloc(n * cols * 4), *y, *y2;
	float ref[1000];
	struct vk_buf *gb, *rb, *yb, *y2b;
	double max_rel = 0, max_rel_gelu = 0;
	uint32_t t, i, bad = 0;

	vkt_fill(gu, n * s, 31, 6.0f);
	vkt_fill(r, n * cols, 32, 1.0f);
	test_kern_open(&e);
	gb = test_kern_floats(&e, gu, n * s);
	rb = test_kern_floats(&e, r, n * cols);
	yb = vkt_buf(e.dev, VK_BUF_DEVICE, NULL, (size_t)n * cols * 4);
	y2b = vkt_buf(e.dev, VK_BUF_DEVICE, NULL, (size_t)n * cols * 4);
	test_kern_begin(&e);
	{
		struct kern_mat g = { vk_buf_all(gb), 0, s };
		struct kern_mat u = { vk_buf_all(gb), cols, s };
		struct kern_mat ym = { vk_buf_all(yb), 0, cols };
		struct kern_mat y2m = { vk_buf_all(y2b), 0, cols };
		struct kern_mat res = { vk_buf_all(rb), 0, cols };

		CHECK_INT(
		    kern_silu_mul(e.k, e.g, g, u, ym, cols, n, &e.err), 0);
		CHECK_INT(
		    kern_gelu_mul(e.k, e.g, g, u, y2m, cols, n, &e.err), 0);
		/* Residual in place: r = r + y (depends on the product). */
		CHECK_INT(kern_add(e.k, e.g, res, ym, res, cols, n, &e.err), 0);
	}
	test_kern_run(&e);
	y = vkt_read(yb, (size_t)n * cols * 4);
	for (t = 0; t < n; t++) {
		ref_silu_mul(gu + t * s, gu + t * s + cols, ref, cols);
		for (i = 0; i < cols; i++)
			max_rel = fmax(max_rel,
			    fabs(y[t * cols + i] - ref[i]) /
				(fabs(ref[i]) + 1e-6));
	}
	y2 = vkt_read(y2b, (size_t)n * cols * 4);
	for (t = 0; t < n; t++) {
		ref_gelu_mul(gu + t * s, gu + t * s + cols, ref, cols);
		for (i = 0; i < cols; i++)
			max_rel_gelu = fmax(max_rel_gelu,
			    fabs(y2[t * cols + i] - ref[i]) /
				(fabs(ref[i]) + 1e-6));
	}
	free(y2);
	test_note("silu_mul: max relative error %.3g", max_rel);
	test_note("gelu_mul: max relative error %.3g", max_rel_gelu);
	CHECK(max_rel <= 1e-5);
	CHECK(max_rel_gelu <= 1e-5);
	{
		float *sum = vkt_read(rb, (size_t)n * cols * 4);

		for (i = 0; i < n * cols; i++)
			bad += sum[i] != r[i] + y[i];
		CHECK_MSG(bad == 0, "add: %u sums differ", bad);
		free(sum);
	}
	free(y);
	vk_buf_free(y2b);
	vk_buf_free(yb);
	vk_buf_free(rb);
	vk_buf_free(gb);
	test_kern_close(&e);
	free(r);
	free(gu);
}

TEST(kern_rope)
{
	static const struct {
		uint32_t heads, hd, n_rot;
		float base, scale;
		int ff;
	} cases[] = {
		{ 4, 64, 64, 10000.0f, 1.0f, 0 },
		{ 3, 128, 64, 500000.0f, 0.25f, 0 },
		{ 6, 8, 8, 10000.0f, 1.0f, 0 },
		{ 2, 128, 128, 500000.0f, 1.0f, 1 },
	};
	static const int32_t pos[] = { 0, 1, 7, 100, 1000, 4095 };
	const uint32_t n = ARRAY_LEN(pos);
	struct test_kern_env e;
	double max_abs = 0, small_pos = 0;
	size_t ci;

	test_kern_open(&e);
	for (ci = 0; ci < ARRAY_LEN(cases); ci++) {
		const uint32_t dim = cases[ci].heads * cases[ci].hd;
		const uint32_t s = dim + 16;
		float *x = xmalloc(n * s * 4), *y, ff[64];
		struct kern_tok tok[ARRAY_LEN(pos)] = { { 0 } };
		struct vk_buf *xb, *tb, *fb;
		struct vk_view fv;
		struct kern_rope r = { cases[ci].heads, cases[ci].hd,
			cases[ci].n_rot, cases[ci].base, cases[ci].scale,
			NULL };
		uint32_t t, i;

		vkt_fill(x, n * s, 40 + (uint32_t)ci, 1.0f);
		for (i = 0; i < 64; i++)
			ff[i] = 1.0f + (float)i / 8.0f;
		for (t = 0; t < n; t++)
			tok[t].pos = pos[t];
		xb = test_kern_floats(&e, x, n * s);
		tb = vkt_buf(e.dev, VK_BUF_HOST, tok, sizeof tok);
		fb = test_kern_floats(&e, ff, 64);
		fv = vk_buf_all(fb);
		if (cases[ci].ff)
			r.freq_factors = &fv;
		test_kern_begin(&e);
		{
			struct kern_mat xm = { vk_buf_all(xb), 16, s };

			CHECK_INT(kern_rope(e.k, e.g, vk_buf_all(tb), xm, &r, n,
				      &e.err),
			    0);
		}
		test_kern_run(&e);
		y = vkt_read(xb, (size_t)n * s * 4);
		for (t = 0; t < n; t++) {
			float *xt = x + 16 + t * s;

			ref_rope_ext(xt, cases[ci].heads, cases[ci].hd,
			    cases[ci].n_rot, pos[t], cases[ci].base,
			    cases[ci].scale, cases[ci].ff ? ff : NULL);
			for (i = 0; i < dim; i++) {
				double d = fabs(y[16 + t * s + i] - xt[i]);

				max_abs = fmax(max_abs, d);
				if (pos[t] <= 100)
					small_pos = fmax(small_pos, d);
			}
		}
		free(y);
		vk_buf_free(fb);
		vk_buf_free(tb);
		vk_buf_free(xb);
		free(x);
	}
	test_note("rope: max abs error %.3g (%.3g at positions <= 100)",
	    max_abs, small_pos);
	CHECK(max_abs <= 2e-3);
	CHECK(small_pos <= 1e-4);
	test_kern_close(&e);
}

/* A sequence in the attention batch: cache base, history, new tokens. */
struct test_kern_seq {
	int32_t kv_base, n_hist, n_new;
};

/*
 * kv_store + attention on a batch mixing four sequences (a prefill of
 * 5, a decode at position 20, two tokens at 7 and 8, two at 83 and 84:
 * several chunks of attention_lanes), with per-token [q | k | v] rows as
 * a fused QKV product would lay them out.  WINDOW and SCALE go to
 * struct kern_attn; the reference sees only the window's positions and
 * a query scaled so that its 1 / sqrt(hd) makes SCALE.
 */
static void
test_kern_attn_case(struct test_kern_env *e, uint32_t n_head,
    uint32_t n_head_kv, uint32_t hd, uint32_t window, float scale,
    double *max_abs, uint32_t *bad_f16)
{
	static const struct test_kern_seq seqs[] = { { 0, 0, 5 }, { 32, 20, 1 },
		{ 64, 7, 2 }, { 96, 83, 2 } };
	const uint32_t slots = 192, kv_dim = n_head_kv * hd;
	const uint32_t q_dim = n_head * hd, s = q_dim + 2 * kv_dim;
	uint32_t n = 0, t, i, j, si;
	struct kern_tok tok[10];
	uint16_t *kc = xcalloc(slots * kv_dim, 2), *vc;
	float *kf = xcalloc(slots * kv_dim, 4), *vf;
	float *qkv, *out, *ref = xmalloc(q_dim * 4);
	float *kg = xmalloc(slots * kv_dim * 4), *vg, *qs = xmalloc(q_dim * 4);
	struct vk_buf *tb, *qb, *kb, *vb, *ob;
	struct kern_attn a = { n_head, n_head_kv, hd, scale, window };
	struct vk_view kv, vv;
	/* what the reference's 1 / sqrt(hd) is multiplied by */
	const double qf = scale != 0.0f ? scale * sqrt((double)hd) : 1.0;

	vc = xcalloc(slots * kv_dim, 2);
	vf = xcalloc(slots * kv_dim, 4);
	vg = xmalloc(slots * kv_dim * 4);
	/* History: random f16 keys and values already in the caches. */
	for (si = 0; si < ARRAY_LEN(seqs); si++) {
		uint32_t b = (uint32_t)seqs[si].kv_base * kv_dim;
		uint32_t len = (uint32_t)seqs[si].n_hist * kv_dim;

		vkt_fill(kf + b, len, 50 + si, 1.0f);
		vkt_fill(vf + b, len, 60 + si, 1.0f);
		for (i = b; i < b + len; i++) {
			kc[i] = quant_f32_to_f16(kf[i]);
			vc[i] = quant_f32_to_f16(vf[i]);
			kf[i] = quant_f16_to_f32(kc[i]);
			vf[i] = quant_f16_to_f32(vc[i]);
		}
		for (j = 0; j < (uint32_t)seqs[si].n_new; j++, n++) {
			tok[n].token = 0;
			tok[n].pos = seqs[si].n_hist + (int32_t)j;
			tok[n].kv_base = seqs[si].kv_base;
			tok[n].n_kv = tok[n].pos + 1;
		}
	}
	qkv = xmalloc(n * s * 4);
	vkt_fill(qkv, n * s, 70 + hd + n_head_kv, 1.0f);
	tb = vkt_buf(e->dev, VK_BUF_HOST, tok, n * sizeof *tok);
	qb = test_kern_floats(e, qkv, n * s);
	kb = vkt_buf(e->dev, VK_BUF_DEVICE, kc, slots * kv_dim * 2);
	vb = vkt_buf(e->dev, VK_BUF_DEVICE, vc, slots * kv_dim * 2);
	ob = vkt_buf(e->dev, VK_BUF_READBACK, NULL, (size_t)n * q_dim * 4);
	/* the caches' texel views, as the engine makes them */
	kv = vk_buf_all(kb);
	vv = vk_buf_all(vb);
	CHECK_INT(kern_texel_view(e->k, &kv, &e->err), 0);
	CHECK_INT(kern_texel_view(e->k, &vv, &e->err), 0);
	if (e->dev->info.cpu_kernels && e->dev->info.texel_u128)
		CHECK(kv.texel != VK_NULL_HANDLE && vv.texel != VK_NULL_HANDLE);
	test_kern_begin(e);
	{
		struct kern_mat q = { vk_buf_all(qb), 0, s };
		struct kern_mat k = { vk_buf_all(qb), q_dim, s };
		struct kern_mat v = { vk_buf_all(qb), q_dim + kv_dim, s };
		struct kern_mat o = { vk_buf_all(ob), 0, q_dim };

		CHECK_INT(kern_kv_store(e->k, e->g, vk_buf_all(tb), k, v, kv,
			      vv, kv_dim, n, &e->err),
		    0);
		CHECK_INT(kern_attention(e->k, e->g, vk_buf_all(tb), q, kv, vv,
			      o, &a, n, &e->err),
		    0);
	}
	test_kern_run(e);
	vk_buf_texel_free(e->dev, kv.texel);
	vk_buf_texel_free(e->dev, vv.texel);
	/* The reference cache gets the new rows rounded to f16. */
	for (t = 0; t < n; t++) {
		uint32_t slot = (uint32_t)(tok[t].kv_base + tok[t].pos);

		for (i = 0; i < kv_dim; i++) {
			kc[slot * kv_dim + i] =
			    quant_f32_to_f16(qkv[t * s + q_dim + i]);
			vc[slot * kv_dim + i] =
			    quant_f32_to_f16(qkv[t * s + q_dim + kv_dim + i]);
			kf[slot * kv_dim + i] =
			    quant_f16_to_f32(kc[slot * kv_dim + i]);
			vf[slot * kv_dim + i] =
			    quant_f16_to_f32(vc[slot * kv_dim + i]);
		}
	}
	{
		uint16_t *kd = vkt_read(kb, slots * kv_dim * 2);
		uint16_t *vd = vkt_read(vb, slots * kv_dim * 2);

		for (i = 0; i < slots * kv_dim; i++)
			*bad_f16 += (kd[i] != kc[i]) + (vd[i] != vc[i]);
		free(kd);
		free(vd);
	}
	out = ob->map;
	for (t = 0; t < n; t++) {
		uint32_t n_kv = (uint32_t)tok[t].n_kv;
		uint32_t first =
		    window > 0 && n_kv > window ? n_kv - window : 0;
		uint32_t b = ((uint32_t)tok[t].kv_base + first) * kv_dim;

		memcpy(kg, kf + b, (size_t)(n_kv - first) * kv_dim * 4);
		memcpy(vg, vf + b, (size_t)(n_kv - first) * kv_dim * 4);
		for (i = 0; i < q_dim; i++)
			qs[i] = (float)(qkv[t * s + i] * qf);
		ref_attention(qs, kg, vg, ref, n_head, n_head_kv, hd,
		    (size_t)(n_kv - first));
		for (i = 0; i < q_dim; i++)
			*max_abs =
			    fmax(*max_abs, fabs(out[t * q_dim + i] - ref[i]));
	}
	vk_buf_free(ob);
	vk_buf_free(vb);
	vk_buf_free(kb);
	vk_buf_free(qb);
	vk_buf_free(tb);
	free(qs);
	free(vg);
	free(kg);
	free(ref);
	free(qkv);
	free(vf);
	free(kf);
	free(vc);
	free(kc);
}

/*
 * Both kernels: every head size (256: Gemma 3's) and GQA ratio with the
 * full causal range, and with sliding windows (gemma3's local layers) of 3 (inside
 * the prefill of 5 and every history) and 40 (more than a chunk of
 * attention_lanes, so the chunks start off their usual grid) with a
 * score scale of 0.0625 (gemma3 1B's 1 / sqrt(256)).
 */
/*
 * Kernel LANE of attention: 0 attention.comp (lanes split a head), 1
 * attention_lanes reading the caches as storage buffers, 2 through texel
 * views (CPU devices); over head sizes, query heads per KV head, windows
 * and scales.
 */
static void
test_kern_attention(int lane)
{
	static const uint32_t hds[] = { 8, 64, 128, 256 };
	/*
	 * query heads per KV head: attention_lanes_tex takes 1, 3 and 4 (8
	 * at head size 8), 2 (8 at 64) and 1 (128 and 256) heads a
	 * workgroup; attention_lanes one
	 */
	static const uint32_t ratios[] = { 1, 3, 8 };
	static const struct {
		uint32_t window;
		float scale;
	} modes[] = { { 0, 0.0f }, { 3, 0.0625f }, { 40, 0.0625f } };
	static const char *const names[] = { "groups", "lanes",
		"lanes, texel" };
	struct test_kern_env e;
	size_t hi, ri, mi;

	/*
	 * llvmpipe's first compile of attention_lanes' unrolled variants
	 * (8 of them, about 7 s alone with empty caches) took over two
	 * minutes with the rest of the suite (and a sanitizer build)
	 * compiling beside it.
	 */
	test_timeout(600);
	test_kern_open(&e);
	test_kern_strategy(&e, lane > 0, lane == 2);
	for (mi = 0; mi < ARRAY_LEN(modes); mi++) {
		double max_abs = 0;
		uint32_t bad = 0;

		for (hi = 0; hi < ARRAY_LEN(hds); hi++)
			for (ri = 0; ri < ARRAY_LEN(ratios); ri++)
				test_kern_attn_case(&e, 2 * ratios[ri], 2,
				    hds[hi], modes[mi].window, modes[mi].scale,
				    &max_abs, &bad);
		test_note("attention (%s) window %u: max abs error %.3g",
		    names[lane], modes[mi].window, max_abs);
		CHECK(max_abs <= 2e-5);
		CHECK_MSG(bad == 0, "kv_store: %u f16 values differ", bad);
	}
	test_kern_close(&e);
}

TEST(kern_attention_groups)
{
	test_kern_attention(0);
}

TEST(kern_attention_lanes)
{
	test_kern_attention(1);
}

TEST(kern_attention_lanes_texel)
{
	test_kern_attention(2);
}

/*
 * The decode loop: kv_store + attention for one token recorded once and
 * replayed as the sequence grows; only the step buffer and the inputs
 * (host-visible) change between replays.
 */
TEST(kern_decode_replay)
{
	const uint32_t n_head = 4, n_head_kv = 2, hd = 64, steps = 9;
	const uint32_t kv_dim = n_head_kv * hd, q_dim = n_head * hd;
	const uint32_t s = q_dim + 2 * kv_dim;
	struct test_kern_env e;
	struct kern_attn a = { n_head, n_head_kv, hd, 0.0f, 0 };
	struct vk_buf *tb, *qb, *kb, *vb, *ob;
	float *kf = xmalloc(steps * kv_dim * 4), *vf, ref[256];
	double max_abs = 0;
	uint32_t step, i;

	vf = xmalloc(steps * kv_dim * 4);
	test_kern_open(&e);
	tb = vkt_buf(e.dev, VK_BUF_HOST, NULL, sizeof(struct kern_tok));
	qb = vkt_buf(e.dev, VK_BUF_HOST, NULL, s * 4);
	kb = vkt_buf(e.dev, VK_BUF_DEVICE, NULL, 16 * kv_dim * 2);
	vb = vkt_buf(e.dev, VK_BUF_DEVICE, NULL, 16 * kv_dim * 2);
	ob = vkt_buf(e.dev, VK_BUF_READBACK, NULL, q_dim * 4);
	test_kern_begin(&e);
	{
		struct kern_mat q = { vk_buf_all(qb), 0, s };
		struct kern_mat k = { vk_buf_all(qb), q_dim, s };
		struct kern_mat v = { vk_buf_all(qb), q_dim + kv_dim, s };
		struct kern_mat o = { vk_buf_all(ob), 0, q_dim };

		CHECK_INT(
		    kern_kv_store(e.k, e.g, vk_buf_all(tb), k, v,
			vk_buf_all(kb), vk_buf_all(vb), kv_dim, 1, &e.err),
		    0);
		CHECK_INT(kern_attention(e.k, e.g, vk_buf_all(tb), q,
			      vk_buf_all(kb), vk_buf_all(vb), o, &a, 1, &e.err),
		    0);
	}
	CHECK_INT(vk_graph_end(e.g, &e.err), 0);
	for (step = 0; step < steps; step++) {
		struct kern_tok tok = { 1, (int32_t)step, 3,
			(int32_t)step + 1 };
		float *qkv = qb->map;

		/* Sequence at slot base 3: slots 3.. hold positions 0.. */
		vkt_fill(qkv, s, 80 + step, 1.0f);
		memcpy(tb->map, &tok, sizeof tok);
		CHECK_INT(vk_graph_run(e.g, &e.err), 0);
		for (i = 0; i < kv_dim; i++) {
			kf[step * kv_dim + i] =
			    quant_f16_to_f32(quant_f32_to_f16(qkv[q_dim + i]));
			vf[step * kv_dim + i] = quant_f16_to_f32(
			    quant_f32_to_f16(qkv[q_dim + kv_dim + i]));
		}
		ref_attention(
		    qkv, kf, vf, ref, n_head, n_head_kv, hd, step + 1);
		for (i = 0; i < q_dim; i++)
			max_abs =
			    fmax(max_abs, fabs(((float *)ob->map)[i] - ref[i]));
	}
	test_note(
	    "decode replay: %u steps, max abs error %.3g", steps, max_abs);
	CHECK(max_abs <= 2e-5);
	vk_buf_free(ob);
	vk_buf_free(vb);
	vk_buf_free(kb);
	vk_buf_free(qb);
	vk_buf_free(tb);
	test_kern_close(&e);
	free(vf);
	free(kf);
}

TEST(kern_argmax)
{
	const uint32_t n = 4, cols = 1000;
	float *x = xmalloc(n * cols * 4);
	struct test_kern_env e;
	struct vk_buf *xb, *ob;
	uint32_t t, *got;

	vkt_fill(x, n * cols, 90, 5.0f);
	x[cols + 10] = x[cols + 900] = 9.0f; /* a tie: the first wins */
	for (t = 0; t < cols; t++)
		x[2 * cols + t] = -1.0f; /* all equal */
	x[3 * cols + cols - 1] = 6.0f;	 /* the last one */
	test_kern_open(&e);
	xb = test_kern_floats(&e, x, n * cols);
	ob = vkt_buf(e.dev, VK_BUF_READBACK, NULL, (n + 2) * 4);
	test_kern_begin(&e);
	{
		struct kern_mat xm = { vk_buf_all(xb), 0, cols };

		CHECK_INT(kern_argmax(
			      e.k, e.g, xm, cols, vk_buf_all(ob), 2, n, &e.err),
		    0);
	}
	test_kern_run(&e);
	got = ob->map;
	for (t = 0; t < n; t++)
		CHECK_INT(got[2 + t], ref_argmax(x + t * cols, cols));
	CHECK_INT(got[3], 10);
	CHECK_INT(got[4], 0);
	CHECK_INT(got[5], cols - 1);
	vk_buf_free(ob);
	vk_buf_free(xb);
	test_kern_close(&e);
	free(x);
}

TEST(kern_bench_read)
{
	struct test_kern_env e;
	double gbps = 0;

	test_kern_open(&e);
	/* Split into 4 MiB bindings to cover the chunked path too. */
	kern_limit_view(e.k, 4u << 20);
	CHECK_INT(kern_bench_read(e.k, 16u << 20, 3, &gbps, &e.err), 0);
	CHECK(gbps > 0);
	test_note("read bandwidth: %.2f GB/s", gbps);
	test_kern_close(&e);
}
