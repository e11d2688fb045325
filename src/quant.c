/*
 * quant: float16/bfloat16 conversions and the Q8_0/Q4_0 block formats.
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
 */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "gguf.h"

#define QUANT_QK 32
#define QUANT_Q8_0_BYTES (2 + QUANT_QK)
#define QUANT_Q4_0_BYTES (2 + QUANT_QK / 2)

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
	default:
		return -1;
	}
}
