/*
 * test-quant: f16 and bf16 conversions against known bit patterns (rounding
 * ties, subnormals, overflow, inf, nan), Q8_0/Q4_0 blocks against bytes
 * computed by hand from ggml's reference algorithm, Q4_K/Q5_K/Q6_K
 * super-blocks built by hand against values derived from ggml's layout
 * (the 6-bit scale packing of sub-blocks 4..7 included), Q4_1/Q5_0/Q5_1
 * blocks built by hand (qh bit order, nibble order), and roundtrip
 * error bounds on random data.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "harness.h"
#include "quant.h"

static float
test_quant_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static uint32_t
test_quant_u32(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

#define CHECK_F16(f, bits) CHECK_INT(quant_f32_to_f16(f), bits)
#define CHECK_BF16(f, bits) CHECK_INT(quant_f32_to_bf16(f), bits)

TEST(quant_f16_from_f32)
{
	CHECK_F16(0.0f, 0x0000);
	CHECK_F16(-0.0f, 0x8000);
	CHECK_F16(1.0f, 0x3c00);
	CHECK_F16(-2.0f, 0xc000);
	CHECK_F16(0.1f, 0x2e66);
	CHECK_F16(65504.0f, 0x7bff);
	CHECK_F16(65519.0f, 0x7bff);
	/* halfway to 65536 rounds to the even side: infinity */
	CHECK_F16(65520.0f, 0x7c00);
	CHECK_F16(1e10f, 0x7c00);
	CHECK_F16(-1e10f, 0xfc00);
	CHECK_F16(INFINITY, 0x7c00);
	CHECK_F16(-INFINITY, 0xfc00);
	/* ties to even in the normal range */
	CHECK_F16(1.0f + 0x1p-11f, 0x3c00);
	CHECK_F16(1.0f + 3 * 0x1p-11f, 0x3c02);
	CHECK_F16(1.0f + 0x1p-11f + 0x1p-20f, 0x3c01);
	/* subnormals: units of 2^-24 */
	CHECK_F16(0x1p-24f, 0x0001);
	CHECK_F16(-0x1p-24f, 0x8001);
	CHECK_F16(0x1p-25f, 0x0000);
	CHECK_F16(test_quant_bits(test_quant_u32(0x1p-25f) + 1), 0x0001);
	CHECK_F16(3 * 0x1p-25f, 0x0002);
	CHECK_F16(5 * 0x1p-25f, 0x0002);
	CHECK_F16(1023 * 0x1p-24f, 0x03ff);
	CHECK_F16(0x1p-14f, 0x0400);
	/* between the largest subnormal and the smallest normal */
	CHECK_F16(0x1p-14f - 0x1p-25f, 0x0400);
	CHECK_F16(1e-30f, 0x0000);
	CHECK_F16(test_quant_bits(1), 0x0000);
	CHECK_F16(NAN, 0x7e00);
	CHECK(quant_f32_to_f16(test_quant_bits(0x7f800001)) > 0x7c00);
	CHECK(quant_f32_to_f16(test_quant_bits(0xff800001)) > 0xfc00);
}

TEST(quant_f16_to_f32)
{
	CHECK(quant_f16_to_f32(0x0000) == 0.0f);
	CHECK(signbit(quant_f16_to_f32(0x8000)));
	CHECK(quant_f16_to_f32(0x3c00) == 1.0f);
	CHECK(quant_f16_to_f32(0xc000) == -2.0f);
	CHECK(quant_f16_to_f32(0x7bff) == 65504.0f);
	CHECK(quant_f16_to_f32(0x0001) == 0x1p-24f);
	CHECK(quant_f16_to_f32(0x03ff) == 1023 * 0x1p-24f);
	CHECK(quant_f16_to_f32(0x8400) == -0x1p-14f);
	CHECK(quant_f16_to_f32(0x7c00) == INFINITY);
	CHECK(quant_f16_to_f32(0xfc00) == -INFINITY);
	CHECK(isnan(quant_f16_to_f32(0x7e00)));
	CHECK(isnan(quant_f16_to_f32(0x7c01)));
}

TEST(quant_f16_roundtrip_all)
{
	uint32_t h;

	/* every non-nan half survives f16 -> f32 -> f16 */
	for (h = 0; h < 0x10000; h++) {
		float f = quant_f16_to_f32((uint16_t)h);

		if (isnan(f))
			continue;
		if (quant_f32_to_f16(f) != h)
			CHECK_MSG(0, "half 0x%04x -> %g -> 0x%04x", h,
			    (double)f, quant_f32_to_f16(f));
	}
}

TEST(quant_bf16)
{
	CHECK_BF16(0.0f, 0x0000);
	CHECK_BF16(-0.0f, 0x8000);
	CHECK_BF16(1.0f, 0x3f80);
	CHECK_BF16(-1.0f, 0xbf80);
	CHECK_BF16(3.14159265f, 0x4049);
	CHECK_BF16(1.0f + 0x1p-8f, 0x3f80);
	CHECK_BF16(1.0f + 3 * 0x1p-8f, 0x3f82);
	CHECK_BF16(1.0f + 0x1p-8f + 0x1p-20f, 0x3f81);
	CHECK_BF16(INFINITY, 0x7f80);
	CHECK_BF16(-INFINITY, 0xff80);
	/* the largest float rounds up to infinity */
	CHECK_BF16(test_quant_bits(0x7f7fffff), 0x7f80);
	CHECK_BF16(test_quant_bits(0x00010000), 0x0001);
	CHECK_BF16(NAN, 0x7fc0);
	/* a signalling nan is quieted, never turned into infinity */
	CHECK_BF16(test_quant_bits(0x7f800001), 0x7fc0);
	CHECK(quant_bf16_to_f32(0x3f80) == 1.0f);
	CHECK(quant_bf16_to_f32(0xc040) == -3.0f);
	CHECK(quant_bf16_to_f32(0x0001) == test_quant_bits(0x00010000));
	CHECK(isnan(quant_bf16_to_f32(0x7fc1)));
}

TEST(quant_row_size)
{
	CHECK_INT(quant_row_size(GGML_TYPE_F32, 10), 40);
	CHECK_INT(quant_row_size(GGML_TYPE_F16, 10), 20);
	CHECK_INT(quant_row_size(GGML_TYPE_BF16, 10), 20);
	CHECK_INT(quant_row_size(GGML_TYPE_Q8_0, 64), 68);
	CHECK_INT(quant_row_size(GGML_TYPE_Q4_0, 64), 36);
	CHECK_INT(quant_row_size(GGML_TYPE_Q4_0, 33), 0);
	CHECK_INT(quant_row_size(1000, 32), 0);
}

static void
test_quant_check_bytes(const uint8_t *got, const uint8_t *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (got[i] != want[i]) {
			CHECK_MSG(0, "byte %zu: 0x%02x, expected 0x%02x", i,
			    got[i], want[i]);
			return;
		}
}

TEST(quant_q8_0_blocks)
{
	/* d = 1: q = roundf(x), halves away from zero */
	static const uint8_t want_a[34] = { 0x00, 0x3c, 0x7f, 0x81, 0x03, 0xfd,
		0x00, 0xff, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
		0xfe, 0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	/*
	 * amax 1: d = 1/127 stored as f16 0x2008, but q = x * 127 uses the
	 * f32 scale (0.5 -> 63.5 -> 64; 1/3 -> 42)
	 */
	static const uint8_t want_c[34] = { 0x08, 0x20, 0x7f, 0x40, 0xc0, 0x20,
		0x2a, 0xa9, 0xb1, 0xb9, 0xc0, 0xc8, 0xd0, 0xd8, 0xe0, 0xe8,
		0xf0, 0xf8, 0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38,
		0x40, 0x47, 0x4f, 0x57, 0x5f, 0x67, 0x6f, 0x77 };
	float a[32], c[32], z[32] = { 0 }, back[32];
	uint8_t out[34];
	int j;

	a[0] = 127;
	a[1] = -127;
	a[2] = 2.5f;
	a[3] = -2.5f;
	a[4] = 0.49f;
	a[5] = -0.5f;
	for (j = 6; j < 32; j++)
		a[j] = (float)(j - 16);
	CHECK_INT(quant_quantize(GGML_TYPE_Q8_0, a, out, 32), 0);
	test_quant_check_bytes(out, want_a, 34);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q8_0, out, back, 32), 0);
	CHECK(back[0] == 127.0f && back[2] == 3.0f && back[5] == -1.0f);

	c[0] = 1.0f;
	c[1] = 0.5f;
	c[2] = -0.5f;
	c[3] = 0.25f;
	c[4] = 1.0f / 3;
	for (j = 5; j < 32; j++)
		c[j] = (float)(j - 16) / 16;
	CHECK_INT(quant_quantize(GGML_TYPE_Q8_0, c, out, 32), 0);
	test_quant_check_bytes(out, want_c, 34);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q8_0, out, back, 32), 0);
	CHECK(back[0] == 127 * quant_f16_to_f32(0x2008));

	/* all zero: d = 0 and every q = 0 */
	memset(out, 0xaa, sizeof(out));
	CHECK_INT(quant_quantize(GGML_TYPE_Q8_0, z, out, 32), 0);
	for (j = 0; j < 34; j++)
		CHECK_INT(out[j], 0);
}

TEST(quant_q4_0_blocks)
{
	/* the extreme is -8: d = 1, q = min(15, (int)(x + 8.5)) */
	static const uint8_t want_a[18] = { 0x00, 0x3c, 0xf0, 0x81, 0x82, 0x93,
		0x04, 0xf5, 0x16, 0xc7, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d,
		0x8e, 0x8f };
	/* the extreme is +8 (first of +8/-8): d = -1, so -8 clamps to 15 */
	static const uint8_t want_b[18] = { 0x00, 0xbc, 0x80, 0x8f, 0x80, 0x8f,
		0x84, 0x8c, 0x88, 0x89, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88,
		0x88, 0x88 };
	static const float hi_a[8] = { 7.9f, 0.49f, -0.5f, 0.5f, -7.6f, 7.4f,
		-7.5f, 3.5f };
	static const float lo_b[8] = { 8, -8, 7.9f, -7.9f, 4, -4, 0.5f, -0.5f };
	float a[32] = { 0 }, b[32] = { 0 }, back[32];
	uint8_t out[18];
	int j;

	a[0] = -8;
	for (j = 1; j < 16; j++)
		a[j] = (float)(j - 8);
	memcpy(a + 16, hi_a, sizeof(hi_a));
	CHECK_INT(quant_quantize(GGML_TYPE_Q4_0, a, out, 32), 0);
	test_quant_check_bytes(out, want_a, 18);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q4_0, out, back, 32), 0);
	for (j = 0; j < 16; j++)
		CHECK(back[j] == a[j]);
	CHECK(back[16] == 7.0f && back[20] == -8.0f && back[24] == 0.0f);

	memcpy(b, lo_b, sizeof(lo_b));
	CHECK_INT(quant_quantize(GGML_TYPE_Q4_0, b, out, 32), 0);
	test_quant_check_bytes(out, want_b, 18);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q4_0, out, back, 32), 0);
	CHECK(back[0] == 8.0f && back[1] == -7.0f && back[16] == 0.0f);
}

/*
 * Hand-built Q4_1, Q5_0, Q5_1 blocks: qs[j] holds j (low nibble:
 * element j) and 15 - j (high: element 16 + j); qh bytes 0f f0 a5 a5
 * (little-endian: bit e is element e's bit 4).
 */
TEST(quant_legacy_blocks)
{
	static const uint8_t qh[4] = { 0x0f, 0xf0, 0xa5, 0xa5 };
	uint8_t q41[20] = { 0x00, 0x38, 0x00, 0xc0 }; /* d 0.5, m -2 */
	uint8_t q50[22] = { 0x00, 0x34 };	      /* d 0.25 */
	uint8_t q51[24] = { 0x00, 0x38, 0x00, 0xc0 }; /* d 0.5, m -2 */
	float y[32];
	int j;

	memcpy(q50 + 2, qh, 4);
	memcpy(q51 + 4, qh, 4);
	for (j = 0; j < 16; j++) {
		uint8_t b = (uint8_t)(j | (15 - j) << 4);

		q41[4 + j] = b;
		q50[6 + j] = b;
		q51[8 + j] = b;
	}
	CHECK_INT(quant_row_size(GGML_TYPE_Q5_1, 64), 48);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q4_1, q41, y, 32), 0);
	CHECK(y[0] == -2.0f && y[5] == 0.5f && y[15] == 5.5f);
	CHECK(y[16] == 5.5f && y[20] == 3.5f && y[31] == -2.0f);
	/* q = nibble + 16 * bit: e0 16, e4 4, e12 28, e16 31, e17 14, e31 16 */
	CHECK_INT(quant_dequantize(GGML_TYPE_Q5_0, q50, y, 32), 0);
	CHECK(y[0] == 0.0f && y[4] == -3.0f && y[12] == 3.0f);
	CHECK(y[16] == 3.75f && y[17] == -0.5f && y[31] == 0.0f);
	CHECK(y[3] == 0.75f && y[7] == -2.25f && y[8] == -2.0f);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q5_1, q51, y, 32), 0);
	CHECK(y[0] == 6.0f && y[4] == 0.0f && y[12] == 12.0f);
	CHECK(y[16] == 13.5f && y[17] == 5.0f && y[31] == 6.0f);
}

/*
 * Quantizing ramps that fit the formats exactly gives the bytes ggml's
 * quantize_row_*_ref gives: q = e (bit 4 set for elements 16-31).
 */
TEST(quant_legacy_quantize)
{
	uint8_t w41[20] = { 0x00, 0x38, 0x00, 0xc0 };
	uint8_t w50[22] = { 0x00, 0x34, 0x00, 0x00, 0xff, 0xff };
	uint8_t w51[24] = { 0x00, 0x38, 0x00, 0xc0, 0x00, 0x00, 0xff, 0xff };
	uint8_t out[24];
	float x[32], back[32];
	int j;

	for (j = 0; j < 16; j++) {
		w41[4 + j] = (uint8_t)(j | (15 - j) << 4);
		w50[6 + j] = (uint8_t)(j * 0x11);
		w51[8 + j] = (uint8_t)(j * 0x11);
	}
	/* Q4_1: min -2, max 5.5, d 0.5 */
	for (j = 0; j < 32; j++)
		x[j] = (float)(j < 16 ? j : 31 - j) * 0.5f - 2.0f;
	CHECK_INT(quant_quantize(GGML_TYPE_Q4_1, x, out, 32), 0);
	test_quant_check_bytes(out, w41, 20);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q4_1, out, back, 32), 0);
	CHECK(memcmp(back, x, sizeof(x)) == 0);
	/* Q5_0: the extreme is -4, so d = -4 / -16 */
	for (j = 0; j < 32; j++)
		x[j] = (float)(j - 16) * 0.25f;
	CHECK_INT(quant_quantize(GGML_TYPE_Q5_0, x, out, 32), 0);
	test_quant_check_bytes(out, w50, 22);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q5_0, out, back, 32), 0);
	CHECK(memcmp(back, x, sizeof(x)) == 0);
	/* Q5_1: min -2, max 13.5, d 0.5 */
	for (j = 0; j < 32; j++)
		x[j] = (float)j * 0.5f - 2.0f;
	CHECK_INT(quant_quantize(GGML_TYPE_Q5_1, x, out, 32), 0);
	test_quant_check_bytes(out, w51, 24);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q5_1, out, back, 32), 0);
	CHECK(memcmp(back, x, sizeof(x)) == 0);
}

/* A deterministic value roughly N(0, 1) (sum of uniforms). */
static float
test_quant_rand(uint64_t *s)
{
	float acc = 0.0f;
	int i;

	for (i = 0; i < 4; i++) {
		*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
		acc += (float)(*s >> 40) / (float)(1 << 24) - 0.5f;
	}
	return acc * 1.7320508f;
}

/*
 * Roundtrip bounds per block with absolute maximum A: Q8_0 is off by at
 * most half a step (A/254) plus the f16 rounding of d (2^-11 relative, times
 * |q| <= 127); Q4_0 by at most a whole step A/8 (the value opposite the
 * extreme clamps from 16 to 15) plus 8 * d's f16 error.  d's f16 error
 * is 2^-11 relative, or 2^-25 absolute where d is an f16 subnormal (the
 * second half of the data is scaled down to get there).  F16/BF16: half
 * an ulp (2^-11, 2^-8 relative).
 */
TEST(quant_roundtrip_bounds)
{
	enum { N = 32 * 64 };
	static float x[N], y[N];
	static uint8_t buf[N * 4];
	uint64_t s = 12345;
	double sq8 = 0, sq4 = 0, sx = 0;
	size_t i, b;

	for (i = 0; i < N; i++)
		x[i] = test_quant_rand(&s) * (i < N / 2 ? 1.0f : 1e-3f);
	for (i = 0; i < N; i++)
		sx += (double)x[i] * x[i];

	CHECK_INT(quant_quantize(GGML_TYPE_Q8_0, x, buf, N), 0);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q8_0, buf, y, N), 0);
	for (b = 0; b < N / 32; b++) {
		float amax = 0;

		for (i = b * 32; i < b * 32 + 32; i++)
			amax = fmaxf(amax, fabsf(x[i]));
		for (i = b * 32; i < b * 32 + 32; i++) {
			double e = fabs((double)x[i] - y[i]);

			sq8 += (double)(x[i] - y[i]) * (x[i] - y[i]);
			CHECK_MSG(e <= amax * (0.5 / 127 + 0x1p-11 + 1e-6) +
				    127 * 0x1p-25,
			    "q8_0 element %zu: %g -> %g", i, (double)x[i],
			    (double)y[i]);
		}
	}
	CHECK_INT(quant_quantize(GGML_TYPE_Q4_0, x, buf, N), 0);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q4_0, buf, y, N), 0);
	for (b = 0; b < N / 32; b++) {
		float amax = 0;

		for (i = b * 32; i < b * 32 + 32; i++)
			amax = fmaxf(amax, fabsf(x[i]));
		for (i = b * 32; i < b * 32 + 32; i++) {
			double e = fabs((double)x[i] - y[i]);

			sq4 += (double)(x[i] - y[i]) * (x[i] - y[i]);
			CHECK_MSG(e <= amax / 8 * (1 + 8 * 0x1p-11 + 1e-6) +
				    8 * 0x1p-25,
			    "q4_0 element %zu: %g -> %g", i, (double)x[i],
			    (double)y[i]);
		}
	}
	test_note("relative rms error: q8_0 %.2e, q4_0 %.2e", sqrt(sq8 / sx),
	    sqrt(sq4 / sx));
	CHECK(sqrt(sq8 / sx) < 0.01);
	CHECK(sqrt(sq4 / sx) < 0.15);

	CHECK_INT(quant_quantize(GGML_TYPE_F16, x, buf, N), 0);
	CHECK_INT(quant_dequantize(GGML_TYPE_F16, buf, y, N), 0);
	for (i = 0; i < N; i++)
		CHECK(fabsf(x[i] - y[i]) <= fabsf(x[i]) * 0x1p-11f + 0x1p-25f);
	CHECK_INT(quant_quantize(GGML_TYPE_BF16, x, buf, N), 0);
	CHECK_INT(quant_dequantize(GGML_TYPE_BF16, buf, y, N), 0);
	for (i = 0; i < N; i++)
		CHECK(fabsf(x[i] - y[i]) <= fabsf(x[i]) * 0x1p-8f);
	CHECK_INT(quant_quantize(GGML_TYPE_F32, x, buf, N), 0);
	CHECK_INT(quant_dequantize(GGML_TYPE_F32, buf, y, N), 0);
	CHECK(memcmp(x, y, sizeof(x)) == 0);
}

/*
 * Roundtrip bounds of Q4_1, Q5_0, Q5_1 per block: Q4_1/Q5_1 half a step
 * (range / 15 or / 31) plus d's f16 error times the largest q and m's
 * f16 error; Q5_0 a whole step amax / 16 (the value opposite the extreme
 * clamps from 32 to 31) plus 16 times d's f16 error.
 */
TEST(quant_legacy_roundtrip_bounds)
{
	enum { N = 32 * 64 };
	static const uint32_t types[] = { GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
		GGML_TYPE_Q5_1 };
	static float x[N], y[N];
	static uint8_t buf[N];
	uint64_t s = 777;
	size_t i, b, t;

	for (i = 0; i < N; i++)
		x[i] = test_quant_rand(&s);
	for (t = 0; t < 3; t++) {
		double sq = 0, sx = 0;

		CHECK_INT(quant_quantize(types[t], x, buf, N), 0);
		CHECK_INT(quant_dequantize(types[t], buf, y, N), 0);
		for (b = 0; b < N / 32; b++) {
			float lo = x[b * 32], hi = lo, amax = 0;
			double bound;

			for (i = b * 32; i < b * 32 + 32; i++) {
				lo = fminf(lo, x[i]);
				hi = fmaxf(hi, x[i]);
				amax = fmaxf(amax, fabsf(x[i]));
			}
			if (types[t] == GGML_TYPE_Q5_0)
				bound = amax / 16 * (1 + 16 * 0x1p-11) + 1e-6;
			else {
				double qm =
				    types[t] == GGML_TYPE_Q4_1 ? 15 : 31;
				double d = (hi - lo) / qm;

				bound = d * (0.5 + qm * 0x1p-11) +
				    fabs(lo) * 0x1p-11 + 1e-6;
			}
			for (i = b * 32; i < b * 32 + 32; i++) {
				sq += (double)(x[i] - y[i]) * (x[i] - y[i]);
				sx += (double)x[i] * x[i];
				CHECK_MSG(fabs((double)x[i] - y[i]) <= bound,
				    "%s element %zu: %g -> %g",
				    ggml_type_info(types[t])->name, i,
				    (double)x[i], (double)y[i]);
			}
		}
		test_note("%s relative rms error %.2e",
		    ggml_type_info(types[t])->name, sqrt(sq / sx));
		CHECK(
		    sqrt(sq / sx) < (types[t] == GGML_TYPE_Q4_1 ? 0.1 : 0.06));
	}
}

TEST(quant_unsupported)
{
	float x[32] = { 0 };
	uint8_t buf[256];

	CHECK_INT(quant_quantize(GGML_TYPE_Q3_K, x, buf, 256), -1);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q2_K, buf, x, 256), -1);
	CHECK_INT(quant_quantize(GGML_TYPE_Q4_K, x, buf, 32), -1);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q6_K, buf, x, 32), -1);
	CHECK_INT(quant_k_quants(GGML_TYPE_Q4_0, buf, buf), -1);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q8_1, buf, x, 32), -1);
	CHECK_INT(quant_quantize(GGML_TYPE_Q5_0, x, buf, 48), -1);
	CHECK_INT(quant_quantize(GGML_TYPE_Q8_0, x, buf, 31), -1);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q4_0, buf, x, 16), -1);
}

/*
 * The 6-bit scales and mins of a hand-packed Q4_K/Q5_K header: sub-blocks
 * 0-3 in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); 4-7 with
 * their low 4 bits in bytes 8-11 (scale low nibble, min high nibble) and
 * their top 2 bits in the top bits of bytes 0-3 (scales) and 4-7 (mins).
 */
static const uint8_t test_quant_k_sc[8] = { 1, 2, 3, 4, 17, 33, 50, 63 };
static const uint8_t test_quant_k_m[8] = { 0, 1, 2, 3, 20, 40, 5, 63 };
static const uint8_t test_quant_k_scales[12] = { 0x41, 0x82, 0xc3, 0xc4, 0x40,
	0x81, 0x02, 0xc3, 0x41, 0x81, 0x52, 0xff };

TEST(quant_k_scale_min)
{
	uint8_t sc, m;
	int j;

	for (j = 0; j < 8; j++) {
		quant_k_scale_min(test_quant_k_scales, j, &sc, &m);
		CHECK_MSG(sc == test_quant_k_sc[j] && m == test_quant_k_m[j],
		    "sub-block %d: scale %u min %u, expected %u %u", j, sc, m,
		    test_quant_k_sc[j], test_quant_k_m[j]);
	}
}

TEST(quant_q4_k_block)
{
	uint8_t blk[144];
	float y[256];
	int i, l;

	/* d = 1, dmin = 0.5 */
	blk[0] = 0x00;
	blk[1] = 0x3c;
	blk[2] = 0x00;
	blk[3] = 0x38;
	memcpy(blk + 4, test_quant_k_scales, 12);
	for (i = 0; i < 128; i++)
		blk[16 + i] = (uint8_t)((i & 15) | ((i + 5) & 15) << 4);
	CHECK_INT(quant_row_size(GGML_TYPE_Q4_K, 256), 144);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q4_K, blk, y, 256), 0);
	/* element 64i + l: low nibble of qs[32i + l], sub-block 2i */
	for (i = 0; i < 4; i++)
		for (l = 0; l < 32; l++) {
			int q0 = (32 * i + l) & 15, q1 = (32 * i + l + 5) & 15;
			float w0 = (float)(test_quant_k_sc[2 * i] * q0) -
			    0.5f * test_quant_k_m[2 * i];
			float w1 = (float)(test_quant_k_sc[2 * i + 1] * q1) -
			    0.5f * test_quant_k_m[2 * i + 1];

			CHECK_MSG(y[64 * i + l] == w0, "element %d: %g, not %g",
			    64 * i + l, (double)y[64 * i + l], (double)w0);
			CHECK_MSG(y[64 * i + 32 + l] == w1,
			    "element %d: %g, not %g", 64 * i + 32 + l,
			    (double)y[64 * i + 32 + l], (double)w1);
		}
	/* by hand: qs[127] = 0x4f: 63 * 4 - 63 / 2; qs[64] = 0x50: -20 / 2 */
	CHECK(y[255] == 220.5f);
	CHECK(y[128] == -10.0f);
	CHECK(y[129] == 7.0f); /* qs[65] = 0x61: 17 * 1 - 20 / 2 */
}

TEST(quant_q5_k_block)
{
	uint8_t blk[176], q[256];
	float y[256];
	int i;

	/* d = 1, dmin = 1 */
	blk[0] = 0x00;
	blk[1] = 0x3c;
	blk[2] = 0x00;
	blk[3] = 0x3c;
	memcpy(blk + 4, test_quant_k_scales, 12);
	for (i = 0; i < 32; i++)
		blk[16 + i] = (uint8_t)(i * 37);
	for (i = 0; i < 128; i++)
		blk[48 + i] = (uint8_t)(i * 3);
	CHECK_INT(quant_row_size(GGML_TYPE_Q5_K, 512), 352);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q5_K, blk, y, 256), 0);
	/*
	 * By hand: element 2 = 1 * 6 (qs[2] = 6, bit 0 of qh[2] = 74 is 0);
	 * 98 = 4 * (6 + 16) - 3 (high nibble of qs[34] = 0x66, bit 3 of
	 * qh[2] set); 255 = 63 * 7 - 63 (qs[127] = 0x7d, bit 7 of qh[31] =
	 * 123 clear); 192 = 50 * 0 - 5 (low nibble of qs[96] = 0x20, bit
	 * 6 of qh[0] = 0 clear).
	 */
	CHECK(y[2] == 6.0f);
	CHECK(y[98] == 85.0f);
	CHECK(y[255] == 378.0f);
	CHECK(y[192] == -5.0f);
	CHECK_INT(quant_k_quants(GGML_TYPE_Q5_K, blk, q), 0);
	for (i = 0; i < 256; i++) {
		int j = i / 32, l = i % 32;
		int want = (blk[48 + 32 * (i / 64) + l] >> (j % 2 * 4) & 15) |
		    (blk[16 + l] >> j & 1) << 4;

		CHECK_MSG(q[i] == want, "element %d: q %d, expected %d", i,
		    q[i], want);
		CHECK(y[i] ==
		    (float)(test_quant_k_sc[j] * want) -
			(float)test_quant_k_m[j]);
	}
}

TEST(quant_q6_k_block)
{
	uint8_t blk[210];
	float y[256];
	int i;

	for (i = 0; i < 128; i++)
		blk[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		blk[128 + i] = (uint8_t)(i * 7);
	for (i = 0; i < 16; i++)
		blk[192 + i] = (uint8_t)(int8_t)(i - 8);
	blk[208] = 0x00; /* d = 0.25 */
	blk[209] = 0x34;
	CHECK_INT(quant_row_size(GGML_TYPE_Q6_K, 256), 210);
	CHECK_INT(quant_dequantize(GGML_TYPE_Q6_K, blk, y, 256), 0);
	/*
	 * By hand: element 0: q 0 -> 0.25 * -8 * -32; element 200 (half 1,
	 * k 2, l 8): high nibble of ql[72] = 4, bits 4-5 of qh[40] = 24
	 * -> 1: q 20, scale 12 - 8; element 255 (k 3, l 31): high nibble
	 * of ql[127] = 7, bits 6-7 of qh[63] = 185 -> 2: q 39, scale 7;
	 * element 33 (k 1, l 1): low nibble of ql[33] = 1, bits 2-3 of
	 * qh[1] = 7 -> 1: q 17, scale -6.
	 */
	CHECK(y[0] == 64.0f);
	CHECK(y[200] == -12.0f);
	CHECK(y[255] == 12.25f);
	CHECK(y[33] == 22.5f);
	for (i = 0; i < 256; i++) {
		int h = i / 128, k = i % 128 / 32, l = i % 32;
		int q = (blk[64 * h + l + 32 * (k & 1)] >> (k / 2 * 4) & 15) |
		    (blk[128 + 32 * h + l] >> (2 * k) & 3) << 4;
		float want = 0.25f * (float)(i / 16 - 8) * (float)(q - 32);

		CHECK_MSG(y[i] == want, "element %d: %g, expected %g", i,
		    (double)y[i], (double)want);
	}
}

/*
 * K-quant roundtrips with this file's simple quantizers.  Per sub-block
 * of Q4_K/Q5_K (QMAX 15/31) the error is at most half a step d1 / 2,
 * half a min step dmin / 2 where the min rounds up, and QMAX * d / 2
 * where the top clamps (the 6-bit scale rounded down by up to d / 2);
 * for Q6_K |d1| / 2 or 31 * d / 2 at the clamp.  The rms bounds are
 * about twice the measured errors.
 */
TEST(quant_k_roundtrip_bounds)
{
	enum { N = 256 * 16 };
	static const uint32_t types[3] = { GGML_TYPE_Q4_K, GGML_TYPE_Q5_K,
		GGML_TYPE_Q6_K };
	static const double rms_max[3] = { 0.16, 0.08, 0.04 };
	static float x[N], y[N];
	static uint8_t buf[N];
	uint64_t s = 777;
	size_t i, t, b;

	for (i = 0; i < N; i++)
		x[i] = test_quant_rand(&s) * (i < N / 2 ? 1.0f : 1e-3f);
	for (t = 0; t < 3; t++) {
		uint32_t type = types[t];
		size_t bytes = quant_row_size(type, 256);
		double sq = 0, sx = 0;

		CHECK_INT(quant_quantize(type, x, buf, N), 0);
		CHECK_INT(quant_dequantize(type, buf, y, N), 0);
		for (b = 0; b < N / 256; b++) {
			const uint8_t *p = buf + b * bytes;
			int qmax = type == GGML_TYPE_Q4_K ? 15 : 31;

			for (i = b * 256; i < b * 256 + 256; i++) {
				double e = fabs((double)x[i] - y[i]), bound;

				if (type == GGML_TYPE_Q6_K) {
					double d = quant_f16_to_f32(
					    (uint16_t)(p[208] | p[209] << 8));
					double d1 = d *
					    fabs((double)(int8_t)
						    p[192 + i % 256 / 16]);

					bound = d1 / 2 + 31 * d / 2;
				} else {
					double d = quant_f16_to_f32(
					    (uint16_t)(p[0] | p[1] << 8));
					double dmin = quant_f16_to_f32(
					    (uint16_t)(p[2] | p[3] << 8));
					uint8_t sc, m;

					quant_k_scale_min(p + 4,
					    (int)(i % 256 / 32), &sc, &m);
					bound = d * sc / 2 + dmin / 2 +
					    qmax * d / 2;
				}
				sq += (double)(x[i] - y[i]) * (x[i] - y[i]);
				sx += (double)x[i] * x[i];
				CHECK_MSG(e <= bound * (1 + 1e-5) + 1e-9,
				    "%s element %zu: %g -> %g (bound %g)",
				    ggml_type_info(type)->name, i, (double)x[i],
				    (double)y[i], bound);
			}
		}
		test_note("%s relative rms error %.2e",
		    ggml_type_info(type)->name, sqrt(sq / sx));
		CHECK(sqrt(sq / sx) < rms_max[t]);
	}
}
