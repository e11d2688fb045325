/*
 * quant: host-side number formats: float16 and bfloat16 conversions, and
 * quantization / dequantization of the block formats the engine runs
 * (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, bit-exact with ggml's reference
 * implementation; Q4_K,
 * Q5_K, Q6_K, whose dequantization is bit-exact with ggml's and whose
 * quantizers are simpler ones).  Used by
 * the tests' reference forward pass, by tools that write models, and by
 * the engine for host-side conversions.
 */
#ifndef VKCHAT_QUANT_H
#define VKCHAT_QUANT_H

#include <stddef.h>
#include <stdint.h>

float quant_f16_to_f32(uint16_t h);
/* Round to nearest even; overflow becomes infinity. */
uint16_t quant_f32_to_f16(float f);
float quant_bf16_to_f32(uint16_t h);
/* Round to nearest even (NaN stays NaN). */
uint16_t quant_f32_to_bf16(float f);

/*
 * Dequantize N elements of ggml type TYPE (F32, F16, BF16, Q8_0, Q4_0,
 * Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K; N a multiple of the block size) from SRC into DST.
 * Returns 0, or -1 for a type it does not handle.
 */
int quant_dequantize(uint32_t type, const void *src, float *dst, size_t n);

/*
 * Quantize N floats into TYPE (same types; N a multiple of the block size)
 * at DST, which has room for quant_row_size(TYPE, N) bytes.  Returns 0 or
 * -1 for an unsupported type.
 */
int quant_quantize(uint32_t type, const float *src, void *dst, size_t n);

/*
 * The 6-bit scale *SC and min *M of sub-block J (< 8) from the 12 packed
 * scale bytes SCALES of a Q4_K or Q5_K super-block (ggml's
 * get_scale_min_k4).
 */
void quant_k_scale_min(const uint8_t *scales, int j, uint8_t *sc, uint8_t *m);

/*
 * The 256 unsigned quants of the Q4_K, Q5_K or Q6_K super-block BLOCK,
 * in element order, into Q (0..15, 0..31, 0..63).  Returns 0, or -1 for
 * another type.
 */
int quant_k_quants(uint32_t type, const void *block, uint8_t q[256]);

/* Bytes that N elements of TYPE take (0 for unknown or misaligned N). */
size_t quant_row_size(uint32_t type, size_t n);

#endif
