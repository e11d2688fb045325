/*
 * quant: float16/bfloat16 conversions, the Q8_0/Q4_0/Q4_1/Q5_0/Q5_1 block
 * formats and
 * the Q4_K/Q5_K/Q6_K super-block formats ("K-quants").
 *
 * Everything here is plain integer and f32 arithmetic, written so that the
 * bytes produced are identical to ggml's reference C code
 * (quantize_row_q8_0_ref, quantize_row_q4_0_ref, GGML_FP32_TO_FP16 and
 * GGML_FP32_TO_BF16): a model quantized here and one quantized by llama.cpp
 * from the same floats are the same file.  In particular the quantizers
 * divide by the f32 scale, not by its f16-rounded value that is stored.
 *
 * Block layouts (little-endian, no padding):
 *   Q8_0: f16 d, int8 q[32]; x[j] = d * q[j].
 *   Q4_0: f16 d, uint8 qs[16]; element j (j < 16) in the low nibble of
 *         qs[j], element j + 16 in its high nibble; x = d * (nibble - 8).
 *   Q4_1: f16 d, f16 m, qs[16] as Q4_0; x = nibble * d + m.
 *   Q5_0: f16 d, uint8 qh[4], qs[16] as Q4_0; bit e of the little-endian
 *         word qh is bit 4 of element e; x = d * (q - 16).
 *   Q5_1: f16 d, f16 m, qh[4], qs[16] as Q5_0; x = q * d + m.
 * K-quants: super-blocks of 256 elements, as in ggml's dequantize_row_q*_K:
 *   Q4_K (144 bytes): f16 d, f16 dmin, uint8 scales[12], uint8 qs[128].
 *         Sub-block j (32 elements) has a 6-bit scale sc and min m packed
 *         in scales[] (quant_k_scale_min); elements 64i + l (l < 32) are
 *         the low nibbles of qs[32i + l], 64i + 32 + l the high nibbles;
 *         x = (d * sc) * q - (dmin * m).
 *   Q5_K (176 bytes): f16 d, f16 dmin, scales[12], uint8 qh[32],
 *         qs[128]: Q4_K's nibbles plus bit j of qh[l] as value 16 for
 *         element 32j + l.
 *   Q6_K (210 bytes): uint8 ql[128], uint8 qh[64], int8 scales[16], f16
 *         d.  In each half h (128 elements) element 128h + 32k + l
 *         (k < 4, l < 32) has its low 4 bits in ql[64h + l + 32 (k & 1)]
 *         (low nibble for k < 2, high otherwise) and its high 2 bits at
 *         bit 2k of qh[32h + l]; x = (d * scales[e / 16]) * (q - 32).
 * The K-quant quantizers are simple (per sub-block min/max, rounding),
 * not ggml's search for the best scales: any valid encoding serves the
 * tests, which dequantize the same bytes.
 */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "gguf.h"

#define QUANT_QK 32
#define QUANT_Q8_0_BYTES (2 + QUANT_QK)
#define QUANT_Q4_0_BYTES (2 + QUANT_QK / 2)
#define QUANT_Q5_0_BYTES (6 + QUANT_QK / 2)
#define QUANT_QK_K 256
#define QUANT_Q6_K_BYTES 210

static uint32_t
quant_f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static float
quant_bits_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

float
quant_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t man = h & 0x3ff;

	if (exp == 0x1f) /* inf / nan: keep the payload, quiet or not */
		return quant_bits_f32(sign | 0x7f800000 | (man << 13));
	if (exp == 0) {
		/* zero or subnormal: man * 2^-24, exact in f32 */
		float v = (float)man * 0x1p-24f;
		return sign ? -v : v;
	}
	return quant_bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t
quant_f32_to_f16(float f)
{
	uint32_t u = quant_f32_bits(f);
	uint32_t sign = (u >> 16) & 0x8000;
	uint32_t abs = u & 0x7fffffff;
	uint32_t exp, man, shift, half, rest, q;

	if (abs > 0x7f800000) /* nan: quiet, keep the top payload bits */
		return (uint16_t)(sign | 0x7e00 | ((abs >> 13) & 0x3ff));
	if (abs >= 0x477ff000) /* rounds to >= 65536: infinity */
		return (uint16_t)(sign | 0x7c00);
	exp = abs >> 23;
	if (exp >= 113) {
		/* normal f16: drop 13 mantissa bits, rounding to even */
		q = abs - (112u << 23);
		rest = q & 0x1fff;
		q >>= 13;
		if (rest > 0x1000 || (rest == 0x1000 && (q & 1)))
			q++; /* a carry into the exponent is still right */
		return (uint16_t)(sign | q);
	}
	if (exp < 102) /* below half the smallest subnormal: zero */
		return (uint16_t)sign;
	/* subnormal f16: value = man * 2^(exp-150), units of 2^-24 */
	man = (abs & 0x7fffff) | 0x800000;
	shift = 126 - exp; /* 14 .. 24 */
	q = man >> shift;
	rest = man & ((1u << shift) - 1);
	half = 1u << (shift - 1);
	if (rest > half || (rest == half && (q & 1)))
		q++;
	return (uint16_t)(sign | q);
}

float
quant_bf16_to_f32(uint16_t h)
{
	return quant_bits_f32((uint32_t)h << 16);
}

uint16_t
quant_f32_to_bf16(float f)
{
	uint32_t u = quant_f32_bits(f);

	if ((u & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((u >> 16) | 0x40); /* force a quiet nan */
	return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

static uint16_t
quant_load_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static void
quant_store_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)(v >> 8);
}

static void
quant_q8_0_block(const float *x, uint8_t *out)
{
	float amax = 0.0f, d, id;
	int j;

	for (j = 0; j < QUANT_QK; j++)
		amax = fmaxf(amax, fabsf(x[j]));
	d = amax / 127;
	id = d != 0.0f ? 1.0f / d : 0.0f;
	quant_store_u16(out, quant_f32_to_f16(d));
	for (j = 0; j < QUANT_QK; j++)
		out[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
}

static void
quant_q4_0_block(const float *x, uint8_t *out)
{
	float amax = 0.0f, max = 0.0f, d, id;
	int j;

	/* the signed value of largest magnitude (the first one on ties) */
	for (j = 0; j < QUANT_QK; j++) {
		if (amax < fabsf(x[j])) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	}
	d = max / -8;
	id = d != 0.0f ? 1.0f / d : 0.0f;
	quant_store_u16(out, quant_f32_to_f16(d));
	for (j = 0; j < QUANT_QK / 2; j++) {
		int8_t a = (int8_t)(x[j] * id + 8.5f);
		int8_t b = (int8_t)(x[j + QUANT_QK / 2] * id + 8.5f);
		uint8_t lo = (uint8_t)(a < 15 ? a : 15);
		uint8_t hi = (uint8_t)(b < 15 ? b : 15);

		out[2 + j] = (uint8_t)(lo | (hi << 4));
	}
}

/*
 * Quantize 32 floats X into a Q4_1 (QMAX 15) or Q5_1 (QMAX 31) block at
 * OUT, as ggml's quantize_row_q4_1_ref / quantize_row_q5_1_ref.
 */
static void
quant_q_1_block(const float *x, uint8_t *out, int qmax)
{
	float min = INFINITY, max = -INFINITY, d, id;
	uint8_t *qs = out + (qmax == 15 ? 4 : 8);
	uint32_t qh = 0;
	int j;

	for (j = 0; j < QUANT_QK; j++) {
		min = fminf(min, x[j]);
		max = fmaxf(max, x[j]);
	}
	d = (max - min) / (float)qmax;
	id = d != 0.0f ? 1.0f / d : 0.0f;
	quant_store_u16(out, quant_f32_to_f16(d));
	quant_store_u16(out + 2, quant_f32_to_f16(min));
	for (j = 0; j < QUANT_QK / 2; j++) {
		int a = (int8_t)((x[j] - min) * id + 0.5f);
		int b = (int8_t)((x[j + QUANT_QK / 2] - min) * id + 0.5f);

		if (qmax == 15) {
			a = a < 15 ? a : 15;
			b = b < 15 ? b : 15;
		}
		qs[j] = (uint8_t)((a & 0xf) | ((b & 0xf) << 4));
		qh |= (uint32_t)((a >> 4) & 1) << j;
		qh |= (uint32_t)((b >> 4) & 1) << (j + QUANT_QK / 2);
	}
	if (qmax == 31)
		for (j = 0; j < 4; j++)
			out[4 + j] = (uint8_t)(qh >> (8 * j));
}

/* Quantize 32 floats X into a Q5_0 block at OUT (quantize_row_q5_0_ref). */
static void
quant_q5_0_block(const float *x, uint8_t *out)
{
	float amax = 0.0f, max = 0.0f, d, id;
	uint32_t qh = 0;
	int j;

	for (j = 0; j < QUANT_QK; j++) {
		if (amax < fabsf(x[j])) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	}
	d = max / -16;
	id = d != 0.0f ? 1.0f / d : 0.0f;
	quant_store_u16(out, quant_f32_to_f16(d));
	for (j = 0; j < QUANT_QK / 2; j++) {
		int a = (int8_t)(x[j] * id + 16.5f);
		int b = (int8_t)(x[j + QUANT_QK / 2] * id + 16.5f);

		a = a < 31 ? a : 31;
		b = b < 31 ? b : 31;
		out[6 + j] = (uint8_t)((a & 0xf) | ((b & 0xf) << 4));
		qh |= (uint32_t)((a >> 4) & 1) << j;
		qh |= (uint32_t)((b >> 4) & 1) << (j + QUANT_QK / 2);
	}
	for (j = 0; j < 4; j++)
		out[2 + j] = (uint8_t)(qh >> (8 * j));
}

/*
 * Dequantize the 32 elements of the Q4_1, Q5_0 or Q5_1 block P of TYPE
 * into Y (ggml's dequantize_row_q4_1 / q5_0 / q5_1).
 */
static void
quant_legacy_dequantize(uint32_t type, const uint8_t *p, float *y)
{
	const float d = quant_f16_to_f32(quant_load_u16(p));
	const float m = type == GGML_TYPE_Q5_0
	    ? 0.0f
	    : quant_f16_to_f32(quant_load_u16(p + 2));
	const uint8_t *qs = p +
	    (type == GGML_TYPE_Q4_1	     ? 4
		    : type == GGML_TYPE_Q5_0 ? 6
					     : 8);
	uint32_t qh = 0;
	int j;

	if (type != GGML_TYPE_Q4_1) {
		const uint8_t *h = p + (type == GGML_TYPE_Q5_0 ? 2 : 4);

		qh = (uint32_t)h[0] | (uint32_t)h[1] << 8 |
		    (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
	}
	for (j = 0; j < QUANT_QK; j++) {
		int q = (j < 16 ? qs[j] : qs[j - 16] >> 4) & 0xf;

		q |= (int)((qh >> j) & 1) << 4;
		if (type == GGML_TYPE_Q5_0) {
			y[j] = (float)(q - 16) * d;
		} else {
			float v = (float)q * d;

			y[j] = v + m;
		}
	}
}

void
quant_k_scale_min(const uint8_t *scales, int j, uint8_t *sc, uint8_t *m)
{
	if (j < 4) {
		*sc = scales[j] & 63;
		*m = scales[j + 4] & 63;
	} else {
		*sc = (uint8_t)((scales[j + 4] & 0xf) |
		    ((scales[j - 4] >> 6) << 4));
		*m = (uint8_t)((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
	}
}

/* Pack the 6-bit scale SC and min M of sub-block J into SCALES. */
static void
quant_k_pack_scale_min(uint8_t *scales, int j, uint8_t sc, uint8_t m)
{
	if (j < 4) {
		scales[j] = (uint8_t)((scales[j] & 0xc0) | sc);
		scales[j + 4] = (uint8_t)((scales[j + 4] & 0xc0) | m);
	} else {
		scales[j + 4] = (uint8_t)((sc & 0xf) | ((m & 0xf) << 4));
		scales[j - 4] |= (uint8_t)((sc >> 4) << 6);
		scales[j] |= (uint8_t)((m >> 4) << 6);
	}
}

int
quant_k_quants(uint32_t type, const void *block, uint8_t q[256])
{
	const uint8_t *p = block;
	int i;

	for (i = 0; i < QUANT_QK_K; i++) {
		int h = i / 128, k = i % 128 / 32, l = i % 32;

		switch (type) {
		case GGML_TYPE_Q4_K:
			q[i] = (uint8_t)(p[16 + 32 * (i / 64) + l] >>
				(i % 64 / 32 * 4) &
			    0xf);
			break;
		case GGML_TYPE_Q5_K:
			q[i] = (uint8_t)((p[48 + 32 * (i / 64) + l] >>
						 (i % 64 / 32 * 4) &
					     0xf) |
			    ((p[16 + l] >> (i / 32) & 1) << 4));
			break;
		case GGML_TYPE_Q6_K:
			q[i] = (uint8_t)((p[64 * h + l + 32 * (k & 1)] >>
						 (k / 2 * 4) &
					     0xf) |
			    ((p[128 + 32 * h + l] >> (2 * k) & 3) << 4));
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* Dequantize the 256 elements of K-quant super-block P of TYPE into Y. */
static void
quant_k_dequantize(uint32_t type, const uint8_t *p, float *y)
{
	uint8_t q[QUANT_QK_K], sc, m;
	float d, dmin;
	int i, j;

	quant_k_quants(type, p, q);
	if (type == GGML_TYPE_Q6_K) {
		d = quant_f16_to_f32(quant_load_u16(p + 208));
		for (i = 0; i < QUANT_QK_K; i++)
			y[i] = d * (float)(int8_t)p[192 + i / 16] *
			    (float)((int)q[i] - 32);
		return;
	}
	d = quant_f16_to_f32(quant_load_u16(p));
	dmin = quant_f16_to_f32(quant_load_u16(p + 2));
	for (j = 0; j < 8; j++) {
		float d1, m1;

		quant_k_scale_min(p + 4, j, &sc, &m);
		d1 = d * sc;
		m1 = dmin * m;
		for (i = 32 * j; i < 32 * j + 32; i++)
			y[i] = d1 * q[i] - m1;
	}
}

/* Round X to the nearest integer in [LO, HI]. */
static int
quant_clamp_round(float x, int lo, int hi)
{
	int v = (int)lroundf(x);

	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * Quantize 256 floats X into a Q4_K (QMAX 15) or Q5_K (QMAX 31)
 * super-block at OUT: per sub-block the range [min(0, lo), hi] split
 * in QMAX steps, the sub-block scales and mins as 6-bit multiples of
 * the super-block's d and dmin.
 */
static void
quant_k_quantize_q45(uint32_t type, const float *x, uint8_t *out)
{
	const int qmax = type == GGML_TYPE_Q4_K ? 15 : 31;
	float scale[8], min[8], maxs = 0.0f, maxm = 0.0f, d, dmin;
	uint8_t *scales = out + 4, *qs, *qh = NULL, sc[8], m[8];
	int i, j;

	for (j = 0; j < 8; j++) {
		float lo = 0.0f, hi = 0.0f;

		for (i = 32 * j; i < 32 * j + 32; i++) {
			lo = fminf(lo, x[i]);
			hi = fmaxf(hi, x[i]);
		}
		scale[j] = (hi - lo) / (float)qmax;
		min[j] = -lo;
		maxs = fmaxf(maxs, scale[j]);
		maxm = fmaxf(maxm, min[j]);
	}
	quant_store_u16(out, quant_f32_to_f16(maxs / 63));
	quant_store_u16(out + 2, quant_f32_to_f16(maxm / 63));
	d = quant_f16_to_f32(quant_load_u16(out));
	dmin = quant_f16_to_f32(quant_load_u16(out + 2));
	memset(scales, 0, 12);
	for (j = 0; j < 8; j++) {
		sc[j] =
		    (uint8_t)(d > 0.0f ? quant_clamp_round(scale[j] / d, 0, 63)
				       : 0);
		m[j] = (uint8_t)(dmin > 0.0f
			? quant_clamp_round(min[j] / dmin, 0, 63)
			: 0);
		quant_k_pack_scale_min(scales, j, sc[j], m[j]);
	}
	if (type == GGML_TYPE_Q5_K) {
		qh = out + 16;
		memset(qh, 0, 32);
		qs = out + 48;
	} else {
		qs = out + 16;
	}
	memset(qs, 0, 128);
	for (j = 0; j < 8; j++) {
		float d1 = d * sc[j], m1 = dmin * m[j];

		for (i = 0; i < 32; i++) {
			int q = d1 > 0.0f
			    ? quant_clamp_round(
				  (x[32 * j + i] + m1) / d1, 0, qmax)
			    : 0;

			qs[32 * (j / 2) + i] |=
			    (uint8_t)((q & 0xf) << (j % 2 * 4));
			if (qh != NULL)
				qh[i] |= (uint8_t)((q >> 4) << j);
		}
	}
}

/*
 * Quantize 256 floats X into a Q6_K super-block at OUT: per 16-element
 * sub-block a signed scale of absmax / 31, as an int8 multiple of d.
 */
static void
quant_k_quantize_q6(const float *x, uint8_t *out)
{
	float scale[16], amax = 0.0f, d;
	int i, j;

	for (j = 0; j < 16; j++) {
		float a = 0.0f;

		for (i = 16 * j; i < 16 * j + 16; i++)
			a = fmaxf(a, fabsf(x[i]));
		scale[j] = a / 31;
		amax = fmaxf(amax, scale[j]);
	}
	quant_store_u16(out + 208, quant_f32_to_f16(amax / 127));
	d = quant_f16_to_f32(quant_load_u16(out + 208));
	memset(out, 0, 192);
	for (j = 0; j < 16; j++) {
		int sc =
		    d > 0.0f ? quant_clamp_round(scale[j] / d, -128, 127) : 0;
		float d1 = d * (float)sc;

		out[192 + j] = (uint8_t)(int8_t)sc;
		for (i = 16 * j; i < 16 * j + 16; i++) {
			int q = d1 != 0.0f
			    ? quant_clamp_round(x[i] / d1, -32, 31)
			    : 0;
			int h = i / 128, k = i % 128 / 32, l = i % 32;
			uint8_t u = (uint8_t)(q + 32);

			out[64 * h + l + 32 * (k & 1)] |=
			    (uint8_t)((u & 0xf) << (k / 2 * 4));
			out[128 + 32 * h + l] |= (uint8_t)((u >> 4) << (2 * k));
		}
	}
}

size_t
quant_row_size(uint32_t type, size_t n)
{
	const struct ggml_type_info *ti = ggml_type_info(type);

	if (ti == NULL || ti->block_size == 0 || n % ti->block_size != 0)
		return 0;
	return n / ti->block_size * ti->type_size;
}

int
quant_dequantize(uint32_t type, const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i, b;
	int j;

	switch (type) {
	case GGML_TYPE_F32:
		memcpy(dst, src, n * sizeof(float));
		return 0;
	case GGML_TYPE_F16:
		for (i = 0; i < n; i++)
			dst[i] = quant_f16_to_f32(quant_load_u16(p + 2 * i));
		return 0;
	case GGML_TYPE_BF16:
		for (i = 0; i < n; i++)
			dst[i] = quant_bf16_to_f32(quant_load_u16(p + 2 * i));
		return 0;
	case GGML_TYPE_Q8_0:
		if (n % QUANT_QK != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK; b++, p += QUANT_Q8_0_BYTES) {
			float d = quant_f16_to_f32(quant_load_u16(p));

			for (j = 0; j < QUANT_QK; j++)
				dst[b * QUANT_QK + j] =
				    (float)(int8_t)p[2 + j] * d;
		}
		return 0;
	case GGML_TYPE_Q4_0:
		if (n % QUANT_QK != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK; b++, p += QUANT_Q4_0_BYTES) {
			float d = quant_f16_to_f32(quant_load_u16(p));
			float *y = dst + b * QUANT_QK;

			for (j = 0; j < QUANT_QK / 2; j++) {
				y[j] = (float)((p[2 + j] & 0x0f) - 8) * d;
				y[j + QUANT_QK / 2] =
				    (float)((p[2 + j] >> 4) - 8) * d;
			}
		}
		return 0;
	case GGML_TYPE_Q4_1:
	case GGML_TYPE_Q5_0:
	case GGML_TYPE_Q5_1:
		if (n % QUANT_QK != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK; b++)
			quant_legacy_dequantize(type,
			    p + b * quant_row_size(type, QUANT_QK),
			    dst + b * QUANT_QK);
		return 0;
	case GGML_TYPE_Q4_K:
	case GGML_TYPE_Q5_K:
	case GGML_TYPE_Q6_K:
		if (n % QUANT_QK_K != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK_K; b++)
			quant_k_dequantize(type,
			    p + b * quant_row_size(type, QUANT_QK_K),
			    dst + b * QUANT_QK_K);
		return 0;
	default:
		return -1;
	}
}

int
quant_quantize(uint32_t type, const float *src, void *dst, size_t n)
{
	uint8_t *p = dst;
	size_t i, b;

	switch (type) {
	case GGML_TYPE_F32:
		memcpy(dst, src, n * sizeof(float));
		return 0;
	case GGML_TYPE_F16:
		for (i = 0; i < n; i++)
			quant_store_u16(p + 2 * i, quant_f32_to_f16(src[i]));
		return 0;
	case GGML_TYPE_BF16:
		for (i = 0; i < n; i++)
			quant_store_u16(p + 2 * i, quant_f32_to_bf16(src[i]));
		return 0;
	case GGML_TYPE_Q8_0:
		if (n % QUANT_QK != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK; b++)
			quant_q8_0_block(
			    src + b * QUANT_QK, p + b * QUANT_Q8_0_BYTES);
		return 0;
	case GGML_TYPE_Q4_0:
		if (n % QUANT_QK != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK; b++)
			quant_q4_0_block(
			    src + b * QUANT_QK, p + b * QUANT_Q4_0_BYTES);
		return 0;
	case GGML_TYPE_Q4_1:
	case GGML_TYPE_Q5_1:
		if (n % QUANT_QK != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK; b++)
			quant_q_1_block(src + b * QUANT_QK,
			    p + b * quant_row_size(type, QUANT_QK),
			    type == GGML_TYPE_Q4_1 ? 15 : 31);
		return 0;
	case GGML_TYPE_Q5_0:
		if (n % QUANT_QK != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK; b++)
			quant_q5_0_block(
			    src + b * QUANT_QK, p + b * QUANT_Q5_0_BYTES);
		return 0;
	case GGML_TYPE_Q4_K:
	case GGML_TYPE_Q5_K:
		if (n % QUANT_QK_K != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK_K; b++)
			quant_k_quantize_q45(type, src + b * QUANT_QK_K,
			    p + b * quant_row_size(type, QUANT_QK_K));
		return 0;
	case GGML_TYPE_Q6_K:
		if (n % QUANT_QK_K != 0)
			return -1;
		for (b = 0; b < n / QUANT_QK_K; b++)
			quant_k_quantize_q6(
			    src + b * QUANT_QK_K, p + b * QUANT_Q6_K_BYTES);
		return 0;
	default:
		return -1;
	}
}
