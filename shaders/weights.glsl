/*
 * weights: decoding weight blocks of every supported ggml type.  The
 * includer declares the specialization constant WTYPE (a ggml type id);
 * the weights are binding 0, read as 16-bit, 32-bit and 16-byte words
 * (w16(), w32(), w128(); wide loads are what make llvmpipe and GPUs
 * stream at full speed), from a storage buffer, or from a uniform texel
 * buffer when the includer defines WEIGHTS_TEXEL.
 *
 * A row of COLS values (COLS a multiple of 32) is COLS/32 blocks; block
 * BLK of a chunk of NBLK blocks is, in the layout kern_weight_upload()
 * makes (src/kern.c):
 *   F32  (0)   128 bytes at BLK*128: 32 floats (as in GGUF)
 *   F16  (1)    64 bytes at BLK*64 (as in GGUF)
 *   BF16 (30)   64 bytes at BLK*64: the high halves of f32 (as in GGUF)
 *   Q8_0 (8)   32 int8 q at BLK*32, f16 scale d at NBLK*32 + BLK*2;
 *              value q * d
 *   Q4_0 (2)   16 bytes at BLK*16, byte j holding element j (low nibble)
 *              and j + 16 (high); f16 scale d at NBLK*16 + BLK*2;
 *              value (q - 8) * d
 *   Q4_1 (3)   nibbles as Q4_0; f16 d and m at NBLK*16 + BLK*4;
 *              value q * d + m
 *   Q5_0 (6)   nibbles as Q4_0; bit 4 of element e at bit e of the word
 *              at NBLK*16 + BLK*4; f16 d at NBLK*20 + BLK*2;
 *              value (q - 16) * d
 *   Q5_1 (7)   as Q5_0, but f16 d and m at NBLK*20 + BLK*4;
 *              value q * d + m
 * Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 are ggml's blocks with the scales (and
 * high bits) moved after all the quants, so the quants are 16-byte
 * aligned (kern_weight_pack(), kern_weight_pack_legacy()).
 * K-quants (rows a multiple of 256, so NBLK is a multiple of 8; block
 * BLK is sub-block BLK % 8 of super-block S = BLK / 8) keep Q4_0's
 * 16 bytes of low nibbles at BLK*16, then:
 *   Q4_K (12)  ggml's 16-byte super-block header (f16 d, f16 dmin,
 *              12 bytes of 6-bit scales and mins) at NBLK*16 + S*16;
 *              value (d * sc) * q - (dmin * m)
 *   Q5_K (13)  as Q4_K, then bit 4 of element e at bit e of the word
 *              at NBLK*18 + BLK*4
 *   Q6_K (14)  bits 4-5 of element e at bits 2e..2e+1 of the 8 bytes
 *              at NBLK*16 + BLK*8, int8 scales of elements 0-15 and
 *              16-31 at NBLK*24 + BLK*2, f16 d at NBLK*26 + S*2;
 *              value (d * sc) * (q - 32)
 * (kern_weight_pack_k() in src/kern.c makes this layout, the same size
 * as GGUF's.)
 * Host mirror: quant_dequantize() in src/quant.c, on the GGUF layout.
 */
#ifdef WEIGHTS_TEXEL
/*
 * The weights as a uniform texel buffer of RGBA32UI (the mul_mv_tex
 * variant, CPU devices): llvmpipe compiles texelFetch to straight-line
 * gathers where a storage-buffer load becomes a loop over the lanes with
 * a bounds check per lane, and streams weights 2.3 times faster that
 * way.  The view covers the chunk rounded up to 16 bytes.
 */
layout(binding = 0) uniform usamplerBuffer wtex;

/* 16-byte word I of the weights. */
uvec4
w128(uint i)
{
	return texelFetch(wtex, int(i));
}

/* 4-byte word I. */
uint
w32(uint i)
{
	return texelFetch(wtex, int(i / 4))[i % 4];
}

/* 2-byte word I (in the low half). */
uint
w16(uint i)
{
	return (w32(i / 2) >> (16 * (i % 2))) & 0xffffu;
}
#else
layout(binding = 0) readonly buffer W16 { uint16_t w16_[]; };
layout(binding = 0) readonly buffer W32 { uint w32_[]; };
layout(binding = 0) readonly buffer W128 { uvec4 w128_[]; };

uvec4
w128(uint i)
{
	return w128_[i];
}

uint
w32(uint i)
{
	return w32_[i];
}

uint
w16(uint i)
{
	return uint(w16_[i]);
}
#endif

const uint WEIGHTS_F32 = 0;
const uint WEIGHTS_F16 = 1;
const uint WEIGHTS_Q4_0 = 2;
const uint WEIGHTS_Q4_1 = 3;
const uint WEIGHTS_Q5_0 = 6;
const uint WEIGHTS_Q5_1 = 7;
const uint WEIGHTS_Q8_0 = 8;
const uint WEIGHTS_Q4_K = 12;
const uint WEIGHTS_Q5_K = 13;
const uint WEIGHTS_Q6_K = 14;
const uint WEIGHTS_BF16 = 30;
const bool WEIGHTS_K = WTYPE == WEIGHTS_Q4_K || WTYPE == WEIGHTS_Q5_K ||
    WTYPE == WEIGHTS_Q6_K;

/*
 * Q4_K, Q5_K: the scale (x) and min (y) of block BLK of NBLK, from the
 * super-block header (ggml's get_scale_min_k4), multiplied out.
 */
vec2
weights_k_scale_min(uint blk, uint nblk)
{
	/* one 16-byte load: x d and dmin, y z w the scale bytes 0-11 */
	const uvec4 h = w128(nblk + blk / 8);
	const vec2 dm = unpackHalf2x16(h.x);
	const uint j = blk % 8;
	uint sc, m;

	if (j < 4) {
		sc = (h.y >> (8 * j)) & 63u;
		m = (h.z >> (8 * j)) & 63u;
	} else {
		const uint jj = 8 * (j - 4);
		const uint hi = h.w >> jj;

		sc = (hi & 15u) | (((h.y >> jj) >> 6) & 3u) << 4;
		m = ((hi >> 4) & 15u) | (((h.z >> jj) >> 6) & 3u) << 4;
	}
	return vec2(dm.x * float(sc), dm.y * float(m));
}

/* Q6_K: the scales of elements 0-15 (x) and 16-31 (y) of block BLK. */
vec2
weights_q6_scales(uint blk, uint nblk)
{
	const int s = int(uint(w16(nblk * 12 + blk)));
	const float d = unpackHalf2x16(uint(w16(nblk * 13 + blk / 8))).x;

	return vec2(d * float(bitfieldExtract(s, 0, 8)),
	    d * float(bitfieldExtract(s, 8, 8)));
}

/* Q4_1, Q5_1: the f16 scale d (x) and min m (y) of block BLK of NBLK. */
vec2
weights_dm(uint blk, uint nblk)
{
	return unpackHalf2x16(
	    w32(nblk * (WTYPE == WEIGHTS_Q4_1 ? 4 : 5) + blk));
}

/* Q5_0, Q5_1: bit 4 of element e of block BLK at bit e. */
uint
weights_qh(uint blk, uint nblk)
{
	return w32(nblk * 4 + blk);
}

/* The f16 scale of block BLK of NBLK (quantized types). */
float
weights_scale(uint blk, uint nblk)
{
	const uint q_words = WTYPE == WEIGHTS_Q8_0 ? 16 :
	    WTYPE == WEIGHTS_Q5_0                  ? 10 :
						     8;

	return unpackHalf2x16(uint(w16(nblk * q_words + blk))).x;
}

/*
 * The 32 values of block BLK of a chunk of NBLK blocks as 8 vec4s
 * (values 4i..4i+3 in v[i]), decoded one 16-byte word at a time,
 * without the block's scale, which is returned (1 for float types):
 * the caller multiplies its dot product by it once per block.
 */
float
weights_block_raw(uint blk, uint nblk, out vec4 v[8])
{
	if (WTYPE == WEIGHTS_F32) {
		[[unroll]] for (uint i = 0; i < 8; i++)
			v[i] = uintBitsToFloat(w128(blk * 8 + i));
	} else if (WTYPE == WEIGHTS_F16) {
		[[unroll]] for (uint i = 0; i < 4; i++) {
			const uvec4 q = w128(blk * 4 + i);

			v[2 * i] = vec4(unpackHalf2x16(q.x), unpackHalf2x16(q.y));
			v[2 * i + 1] =
			    vec4(unpackHalf2x16(q.z), unpackHalf2x16(q.w));
		}
	} else if (WTYPE == WEIGHTS_BF16) {
		[[unroll]] for (uint i = 0; i < 4; i++) {
			const uvec4 q = w128(blk * 4 + i);
			const uvec4 lo = q << 16;
			const uvec4 hi = q & 0xffff0000u;

			v[2 * i] = uintBitsToFloat(uvec4(lo.x, hi.x, lo.y, hi.y));
			v[2 * i + 1] =
			    uintBitsToFloat(uvec4(lo.z, hi.z, lo.w, hi.w));
		}
	} else if (WEIGHTS_K) {
		const uvec4 q = w128(blk);

		if (WTYPE == WEIGHTS_Q6_K) {
			const vec2 sc = weights_q6_scales(blk, nblk);
			/* the high bits of blocks 2i and 2i + 1 in one load */
			const uvec4 hh = w128(nblk + blk / 2);
			const uint h0 = (blk & 1) != 0 ? hh.z : hh.x;
			const uint h1 = (blk & 1) != 0 ? hh.w : hh.y;

			[[unroll]] for (uint k = 0; k < 4; k++) {
				const ivec4 b = ivec4(uvec4(q[k]) >> uvec4(0, 8, 16, 24));
				const ivec4 sh = ivec4(8 * k) + ivec4(0, 2, 4, 6);
				const ivec4 ha = ivec4(uvec4(h0) >> uvec4(sh)) & 3;
				const ivec4 hb = ivec4(uvec4(h1) >> uvec4(sh)) & 3;

				v[k] = vec4(((b & 15) | (ha << 4)) - 32) * sc.x;
				v[4 + k] =
				    vec4((((b >> 4) & 15) | (hb << 4)) - 32) * sc.y;
			}
		} else {
			const vec2 dm = weights_k_scale_min(blk, nblk);
			const uint hbits = WTYPE == WEIGHTS_Q5_K ?
			    w32((nblk * 18) / 4 + blk) :
			    0u;

			[[unroll]] for (uint k = 0; k < 4; k++) {
				const ivec4 b = ivec4(uvec4(q[k]) >> uvec4(0, 8, 16, 24));
				const ivec4 sh = ivec4(4 * k) + ivec4(0, 1, 2, 3);
				const ivec4 ha = ivec4(uvec4(hbits) >> uvec4(sh)) & 1;
				const ivec4 hb =
				    ivec4(uvec4(hbits) >> uvec4(sh + 16)) & 1;

				v[k] = vec4((b & 15) | (ha << 4)) * dm.x - dm.y;
				v[4 + k] =
				    vec4(((b >> 4) & 15) | (hb << 4)) * dm.x - dm.y;
			}
		}
	} else if (WTYPE == WEIGHTS_Q4_1 || WTYPE == WEIGHTS_Q5_0 ||
	    WTYPE == WEIGHTS_Q5_1) {
		const uvec4 q = w128(blk);
		const uint hbits =
		    WTYPE == WEIGHTS_Q4_1 ? 0u : weights_qh(blk, nblk);
		/* Q5_0's offset in integers, like Q4_0's */
		const int off = WTYPE == WEIGHTS_Q5_0 ? 16 : 0;

		[[unroll]] for (uint k = 0; k < 4; k++) {
			const ivec4 b = ivec4(uvec4(q[k]) >> uvec4(0, 8, 16, 24));
			const ivec4 sh = ivec4(4 * k) + ivec4(0, 1, 2, 3);
			const ivec4 ha = ivec4(uvec4(hbits) >> uvec4(sh)) & 1;
			const ivec4 hb = ivec4(uvec4(hbits) >> uvec4(sh + 16)) & 1;

			v[k] = vec4(((b & 15) | (ha << 4)) - off);
			v[4 + k] = vec4((((b >> 4) & 15) | (hb << 4)) - off);
		}
		if (WTYPE == WEIGHTS_Q5_0)
			return weights_scale(blk, nblk);
		const vec2 dm = weights_dm(blk, nblk);
		[[unroll]] for (uint k = 0; k < 8; k++)
			v[k] = v[k] * dm.x + dm.y;
	} else if (WTYPE == WEIGHTS_Q8_0) {
		[[unroll]] for (uint i = 0; i < 2; i++) {
			const ivec4 q = ivec4(w128(blk * 2 + i));

			[[unroll]] for (uint k = 0; k < 4; k++)
				v[4 * i + k] =
				    vec4((ivec4(q[k]) << ivec4(24, 16, 8, 0)) >> 24);
		}
		return weights_scale(blk, nblk);
	} else {
		const uvec4 q = w128(blk);

		/*
		 * Signed conversions: x86 before AVX-512 has no unsigned
		 * int to float instruction, and llvmpipe's emulation makes
		 * this kernel three times slower.
		 */
		[[unroll]] for (uint k = 0; k < 4; k++) {
			const ivec4 b = ivec4(uvec4(q[k]) >> uvec4(0, 8, 16, 24));

			v[k] = vec4((b & 15) - 8);
			v[4 + k] = vec4(((b >> 4) & 15) - 8);
		}
		return weights_scale(blk, nblk);
	}
	return 1.0;
}

/* Element E (< 32) of block BLK of a chunk of NBLK blocks. */
float
weights_get(uint blk, uint nblk, uint e)
{
	if (WTYPE == WEIGHTS_F32)
		return uintBitsToFloat(uint(w16(blk * 64 + 2 * e)) |
		    (uint(w16(blk * 64 + 2 * e + 1)) << 16));
	if (WTYPE == WEIGHTS_F16)
		return unpackHalf2x16(uint(w16(blk * 32 + e))).x;
	if (WTYPE == WEIGHTS_BF16)
		return uintBitsToFloat(uint(w16(blk * 32 + e)) << 16);
	if (WEIGHTS_K) {
		const uint j = e & 15;
		const uint b = uint(w16(blk * 8 + j / 2)) >> ((j & 1) * 8);
		int q = int(e < 16 ? b & 15u : (b >> 4) & 15u);

		if (WTYPE == WEIGHTS_Q6_K) {
			const vec2 sc = weights_q6_scales(blk, nblk);
			const uint h = w32(nblk * 4 + blk * 2 + e / 16);

			q |= int((h >> (2 * j)) & 3u) << 4;
			return float(q - 32) * (e < 16 ? sc.x : sc.y);
		}
		const vec2 dm = weights_k_scale_min(blk, nblk);
		if (WTYPE == WEIGHTS_Q5_K)
			q |= int((w32((nblk * 18) / 4 + blk) >> e) & 1u) << 4;
		/* no fused multiply-add: the same bits as quant_dequantize */
		precise float v = float(q) * dm.x;
		v -= dm.y;
		return v;
	}
	if (WTYPE == WEIGHTS_Q4_1 || WTYPE == WEIGHTS_Q5_0 ||
	    WTYPE == WEIGHTS_Q5_1) {
		const uint j = e & 15;
		const uint b = uint(w16(blk * 8 + j / 2)) >> ((j & 1) * 8);
		int q = int(e < 16 ? b & 15u : (b >> 4) & 15u);

		if (WTYPE != WEIGHTS_Q4_1)
			q |= int((weights_qh(blk, nblk) >> e) & 1u) << 4;
		if (WTYPE == WEIGHTS_Q5_0)
			return float(q - 16) * weights_scale(blk, nblk);
		const vec2 dm = weights_dm(blk, nblk);
		/* no fused multiply-add: the same bits as quant_dequantize */
		precise float v = float(q) * dm.x;
		v += dm.y;
		return v;
	}
	const float d = weights_scale(blk, nblk);
	if (WTYPE == WEIGHTS_Q8_0) {
		const int q = int(uint(w16(blk * 16 + e / 2)));

		return d * float(bitfieldExtract(q, int(e & 1) * 8, 8));
	}
	const uint j = e & 15;
	const uint b = uint(w16(blk * 8 + j / 2)) >> ((j & 1) * 8);
	return d * float(int(e < 16 ? b & 15u : (b >> 4) & 15u) - 8);
}
