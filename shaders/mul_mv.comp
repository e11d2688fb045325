#version 450
/*
 * mul_mv: y[t][r] = sum_c W[r][c] * x'[t][c]  (+ y[t][r] if accumulate)
 * for NCOLS (1..8) activation columns t at once (matrix-vector products
 * for decode, and on CPU devices for prefill too: one workgroup row per
 * group of up to 8 columns), reading each weight block once for all
 * columns, with optional fused steps around the product:
 *   NORM  x' = x / rms(x) * nw (RMSNorm of the input, computed per
 *         workgroup: a normed copy of x is never written);
 *   EPI 0 store (or accumulate: residual adds ride on the product);
 *   EPI 1 rope + KV store: rows are [Q | K | V] (q_dim, kv_dim, kv_dim);
 *         Q and K heads are rotated (ggml "normal" mode, positions from
 *         the step buffer), Q goes to y, K and V as f16 into the caches
 *         at slot tok[t].kv_base + tok[t].pos;
 *   EPI 2 SwiGLU: rows are [gate | up] (rows/2 each); y[t][i] =
 *         silu(gate_i) * up_i for i < rows/2;
 *   EPI 3 GeGLU (gemma3): EPI 2 with GELU's tanh approximation for silu
 *         (act.glsl).
 *
 * Layout: the invocations of a workgroup split a row's 32-value blocks
 * and a reduce_sum gives the row's dot products; a workgroup computes
 * ROWS rows, two at a time (the pairs an epilogue needs: rows 2u, 2u+1,
 * or u and rows/2 + u for EPI 2 and 3).  GPUs (LANES 0): all invocations on
 * one row pair (block b to invocation b % WG), x read per pair (it
 * stays in cache), ROWS 2 and many workgroups.  CPU devices (LANES =
 * NBL | LB << 8): llvmpipe runs the invocations of a subgroup as SIMD
 * lanes and turns every buffer load into a loop over the lanes, so
 * each lane must load distinct useful data: the invocations form
 * WG / LB row slots of LB (short rows keep all lanes busy), each
 * invocation keeps its NBL blocks of x in registers for all ROWS rows
 * (x is read once per workgroup), and results are stored WG pairs at a
 * time.  No barrier may be reachable (see reduce.glsl).
 *
 * Dispatch: ceil(pairs / (ROWS/2)) workgroups (folded into x * y, see
 * common_group) x ceil(n / NCOLS) in z; columns t of group z are
 * z * NCOLS + j for j < min(NCOLS, n - z * NCOLS).
 * Bindings: 0 W (WTYPE, rows x cols, see weights.glsl), 1 x (f32, read
 * as vec4), 2 y (f32, read-write), 3 nw (f32, norm weights, NORM), 4 tok
 * (tok_info, EPI 1), 5 kc, 6 vc (f16 caches as u32 pairs, EPI 1), 7 ff
 * (f32, rope frequency factors, EPI 1 with has_ff); unused bindings may
 * be any buffer.  Element (t, c) of x is x[x_off + t*x_stride + c]
 * (x_off, x_stride multiples of 4), element (t, r) of y is
 * y[y_off + t*y_stride + r].
 * Push: cols (multiple of 32), rows, x_off, x_stride, y_off, y_stride,
 * accumulate, n (columns of x that count for the norm, and that nw
 * has; a multiple of 4), eps, n_tok (columns t in all), head_dim, n_rot, q_dim, kv_dim,
 * theta_scale, freq_scale, has_ff.
 * Specialization: 0 workgroup size WG, 1 WTYPE, 2 NCOLS, 3 ROWS (even;
 * with LANES, a multiple of 2 WG / LB), 4 NSUB, 5 LANES (0, or NBL =
 * ceil(cols/32 / LB) | LB << 8 with LB a power of two dividing WG),
 * 6 EPI, 7 NORM.
 * Reference: ref_matvec(), ref_rmsnorm(), ref_rope_ext(),
 * ref_silu_mul(), ref_gelu_mul(); tests: kern_mul_mat_*, kern_fused_* in
 * tests/test-kern.c.
 */
#include "common.glsl"
#include "tok.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint WTYPE = 0;
layout(constant_id = 2) const uint NCOLS = 1;
layout(constant_id = 3) const uint ROWS = 2;
layout(constant_id = 4) const uint NSUB = 1;
layout(constant_id = 5) const uint LANES = 0;
layout(constant_id = 6) const uint EPI = 0;
layout(constant_id = 7) const uint NORM = 0;

layout(binding = 1) readonly buffer X { vec4 x4[]; };
layout(binding = 2) buffer Y { float y[]; };
layout(binding = 3) readonly buffer NW { vec4 nw4[]; };
layout(binding = 4) readonly buffer Tok { tok_info tok[]; };
layout(binding = 5) writeonly buffer KC { uint kc[]; };
layout(binding = 6) writeonly buffer VC { uint vc[]; };
layout(binding = 7) readonly buffer FF { float ff[]; };

layout(push_constant) uniform Push {
	uint cols;
	uint rows;
	uint x_off;
	uint x_stride;
	uint y_off;
	uint y_stride;
	uint accumulate;
	uint n;
	float eps;
	uint n_tok;
	uint head_dim;
	uint n_rot;
	uint q_dim;
	uint kv_dim;
	float theta_scale;
	float freq_scale;
	uint has_ff;
} p;

#include "act.glsl"
#include "reduce.glsl"
#include "weights.glsl"

/* EPI 2 and 3: rows [gate | up], y = act(gate) * up. */
const bool GATED = EPI == 2 || EPI == 3;

/*
 * LANES (CPU devices) = NBL | LB << 8: the invocations form RS = WG / LB
 * row slots of LB invocations, each slot computing its own row pair,
 * each invocation NBL blocks of it (b % LB == its index in the slot),
 * with those blocks of x cached; 0 (GPUs): one slot of WG, x not cached.
 */
const uint NBL = LANES & 255;
const uint LB = NBL > 0 ? LANES >> 8 : gl_WorkGroupSize.x;
const uint RS = gl_WorkGroupSize.x / LB;

/* Cached x: NBL blocks of 8 vec4 per column (at least one element). */
const uint XC = NBL > 0 ? NCOLS * NBL * 8 : 1;

/* Norm weights C..C+3 (n is a multiple of 4; 0 past n: x padding). */
vec4
mul_mv_nw(uint c)
{
	return c < p.n ? nw4[c / 4] : vec4(0.0);
}

/* Block B of column COL of x as 8 vec4. */
void
mul_mv_x(uint col, uint b, out vec4 v[8])
{
	const uint xb = (p.x_off + col * p.x_stride + b * 32) / 4;

	for (uint i = 0; i < 8; i++)
		v[i] = x4[xb + i];
}

/* The inverse rms of the sum of squares S (NORM), summed by the workgroup. */
float
mul_mv_rms_scale(float s)
{
	return 1.0 / sqrt(reduce_sum(s) / float(p.n) + p.eps);
}

/* The inverse rms of column COL of x (NORM). */
float
mul_mv_inv_rms(uint col)
{
	const uint xb = (p.x_off + col * p.x_stride) / 4;
	float s = 0.0;

	for (uint i = gl_LocalInvocationID.x; i < p.cols / 4;
	     i += gl_WorkGroupSize.x) {
		const vec4 v = x4[xb + i];

		s += dot(v, v);
	}
	return mul_mv_rms_scale(s);
}

/* Rotate (A, B), rows R and R+1 of Q|K, for column T (EPI 1). */
void
mul_mv_rope(uint r, uint t, inout float a, inout float b)
{
	const uint d = (r < p.q_dim ? r : r - p.q_dim) % p.head_dim;

	if (d >= p.n_rot)
		return;
	const uint i = d / 2;
	float theta = float(tok[t].pos) * p.freq_scale *
	    pow(p.theta_scale, float(i));
	if (p.has_ff != 0)
		theta /= ff[i];
	const float c = cos(theta);
	const float s = sin(theta);
	const float a0 = a;
	a = a0 * c - b * s;
	b = a0 * s + b * c;
}

/*
 * Store the results A (row RA) and B (row RB; past the end for the last
 * pair of an odd row count) of column T.
 */
void
mul_mv_store(uint ra, uint rb, uint t, float a, float b)
{
	const uint yb = p.y_off + t * p.y_stride;

	if (GATED) {
		y[yb + ra] = (EPI == 3 ? act_gelu(a) : act_silu(a)) * b;
	} else if (EPI == 1) {
		if (ra < p.q_dim + p.kv_dim)
			mul_mv_rope(ra, t, a, b);
		if (ra < p.q_dim) {
			y[yb + ra] = a;
			y[yb + rb] = b;
		} else {
			const uint slot = uint(tok[t].kv_base + tok[t].pos);
			const uint w = packHalf2x16(vec2(a, b));

			if (ra < p.q_dim + p.kv_dim)
				kc[(slot * p.kv_dim + ra - p.q_dim) / 2] = w;
			else
				vc[(slot * p.kv_dim + ra - p.q_dim - p.kv_dim) /
				    2] = w;
		}
	} else {
		y[yb + ra] = (p.accumulate != 0 ? y[yb + ra] : 0.0) + a;
		if (rb < p.rows)
			y[yb + rb] = (p.accumulate != 0 ? y[yb + rb] : 0.0) + b;
	}
}

void
main()
{
	const uint lid = gl_LocalInvocationID.x;
	const uint slot = lid / LB;
	const uint bl = lid % LB;
	const uint nb = p.cols / 32;
	const uint t0 = gl_WorkGroupID.z * NCOLS;
	const uint nt = min(NCOLS, p.n_tok - t0);
	const uint pairs = GATED ? p.rows / 2 : (p.rows + 1) / 2;
	const uint u0 = common_group() * (ROWS / 2);
	const uint u1 = min(u0 + ROWS / 2, pairs);
	float scale[NCOLS];
	vec4 xc[XC];

	if (u0 >= pairs)
		return;
	if (NBL > 0) {
		/*
		 * x once per workgroup (per row slot), normed in place: as
		 * few loads as possible, each is a loop in llvmpipe's code
		 * (run time and compile time).
		 */
		[[unroll]] for (uint j = 0; j < NCOLS; j++) {
			float ss = 0.0;

			[[unroll]] for (uint i = 0; i < NBL; i++) {
				const uint b = bl + i * LB;
				vec4 v[8];

				if (b < nb && j < nt) {
					mul_mv_x(t0 + j, b, v);
				} else {
					for (uint k = 0; k < 8; k++)
						v[k] = vec4(0.0);
				}
				[[unroll]] for (uint k = 0; k < 8; k++) {
					xc[(j * NBL + i) * 8 + k] = v[k];
					ss += dot(v[k], v[k]);
				}
			}
			/* Every row slot holds all of x: count one. */
			scale[j] = NORM != 0 ? mul_mv_rms_scale(slot == 0 ? ss : 0.0)
					     : 1.0;
		}
		if (NORM != 0) {
			[[unroll]] for (uint i = 0; i < NBL; i++) {
				[[unroll]] for (uint k = 0; k < 8; k++) {
					const vec4 w = mul_mv_nw(
					    (bl + i * LB) * 32 + k * 4);

					[[unroll]] for (uint j = 0; j < NCOLS; j++)
						xc[(j * NBL + i) * 8 + k] *=
						    scale[j] * w;
				}
			}
		}
	} else {
		[[unroll]] for (uint j = 0; j < NCOLS; j++)
			scale[j] = NORM != 0 && j < nt ? mul_mv_inv_rms(t0 + j)
						       : 1.0;
	}
	/*
	 * Each row slot takes one pair per step.  Invocation i keeps the
	 * results of pair u0 + i (mod the workgroup size) and stores them
	 * with the others' at once: llvmpipe makes every store a loop over
	 * the lanes, so one store covers WG pairs.
	 */
	float ma[NCOLS], mb[NCOLS];
	uint mu = u1;

	/* A fixed trip count: pairs past the end repeat the last one. */
	for (uint uu = 0; uu < ROWS / 2; uu += RS) {
		const uint u = min(u0 + uu + slot, u1 - 1);
		const uint ra = GATED ? u : 2 * u;
		const uint rb = GATED ? p.rows / 2 + u : min(2 * u + 1, p.rows - 1);
		float acc[2 * NCOLS];
		vec4 wa[8], wb[8], v[8];

		[[unroll]] for (uint k = 0; k < 2 * NCOLS; k++)
			acc[k] = 0.0;
		if (NBL > 0) {
			/*
			 * Invocations past the last block repeat it without a
			 * branch (llvmpipe masks rather than skips): their x
			 * is zero.
			 */
			[[unroll]] for (uint i = 0; i < NBL; i++) {
				const uint b = min(bl + i * LB, nb - 1);
				const float da =
				    weights_block_raw(ra * nb + b, p.rows * nb, wa);
				const float db =
				    weights_block_raw(rb * nb + b, p.rows * nb, wb);

				[[unroll]] for (uint j = 0; j < NCOLS; j++) {
					float sa = 0.0, sb = 0.0;

					[[unroll]] for (uint k = 0; k < 8; k++) {
						const vec4 xv = xc[(j * NBL + i) * 8 + k];

						sa += dot(wa[k], xv);
						sb += dot(wb[k], xv);
					}
					acc[2 * j] += sa * da;
					acc[2 * j + 1] += sb * db;
				}
			}
		} else {
			for (uint b = lid; b < nb; b += gl_WorkGroupSize.x) {
				const float da =
				    weights_block_raw(ra * nb + b, p.rows * nb, wa);
				const float db =
				    weights_block_raw(rb * nb + b, p.rows * nb, wb);

				for (uint j = 0; j < NCOLS; j++) {
					float sa = 0.0, sb = 0.0;

					if (j >= nt)
						break;
					mul_mv_x(t0 + j, b, v);
					for (uint k = 0; k < 8; k++) {
						if (NORM != 0)
							v[k] *= scale[j] *
							    mul_mv_nw(b * 32 + k * 4);
						sa += dot(wa[k], v[k]);
						sb += dot(wb[k], v[k]);
					}
					acc[2 * j] += sa * da;
					acc[2 * j + 1] += sb * db;
				}
			}
		}
		/* The sums of row slot s, one reduction per slot. */
		[[unroll]] for (uint s = 0; s < RS; s++) {
			const bool keep = (uu + s) % gl_WorkGroupSize.x == lid &&
			    u0 + uu + s < u1;

			[[unroll]] for (uint j = 0; j < NCOLS; j++) {
				const float a = reduce_sum(
				    RS == 1 || slot == s ? acc[2 * j] : 0.0);
				const float b = reduce_sum(
				    RS == 1 || slot == s ? acc[2 * j + 1] : 0.0);

				if (keep) {
					ma[j] = a;
					mb[j] = b;
				}
			}
			if (keep)
				mu = u0 + uu + s;
		}
		if ((uu + RS) % gl_WorkGroupSize.x == 0 || uu + RS >= ROWS / 2) {
			if (mu < u1) {
				const uint sa = GATED ? mu : 2 * mu;
				const uint sb = GATED ? p.rows / 2 + mu : 2 * mu + 1;

				/* A loop, not unrolled: one copy of the epilogue. */
				[[dont_unroll]] for (uint j = 0; j < nt; j++)
					mul_mv_store(sa, sb, t0 + j, ma[j], mb[j]);
			}
			mu = u1;
		}
	}
}
