#version 450
/*
 * mul_mv: y[t][r] = sum_c W[r][c] * x[t][c]  (+ y[t][r] if accumulate)
 * for NCOLS (1..8) activation columns t at once: matrix-vector products
 * for decode, reading each weight block once for all columns.
 *
 * Dispatch: ceil(rows / ROWS) workgroups (folded into x * y, see
 * common_group), each ROWS rows; the workgroup's invocations take the
 * row's 32-element blocks in turn and sum with reduce_sum (coalesced
 * loads: GPUs).  With LANE_ROWS, ceil(rows / workgroup size) workgroups,
 * one row per invocation (CPU devices: lavapipe).
 * Bindings: 0 W (weights, WTYPE, rows x cols, see weights.glsl), 1 x
 * (f32, read as vec4), 2 y (f32, read-write).  Element (t, c) of x is
 * x[x_off + t*x_stride + c] (x_off, x_stride multiples of 4), element
 * (t, r) of y is y[y_off + t*y_stride + r].
 * Push: cols (multiple of 32), rows, x_off, x_stride, y_off, y_stride,
 * accumulate.  Specialization: 0 workgroup size, 1 WTYPE, 2 NCOLS,
 * 3 ROWS, 4 NSUB, 5 LANE_ROWS.
 * Reference: ref_matvec(); test: kern_mul_mat_* in tests/test-kern.c.
 */
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint WTYPE = 0;
layout(constant_id = 2) const uint NCOLS = 1;
layout(constant_id = 3) const uint ROWS = 1;
layout(constant_id = 4) const uint NSUB = 1;
layout(constant_id = 5) const uint LANE_ROWS = 0;

layout(binding = 1) readonly buffer X { vec4 x4[]; };
layout(binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Push {
	uint cols;
	uint rows;
	uint x_off;
	uint x_stride;
	uint y_off;
	uint y_stride;
	uint accumulate;
} p;

#include "reduce.glsl"
#include "weights.glsl"

/*
 * LANE_ROWS: each invocation computes whole rows by itself, so the loads
 * of x are the same for the whole subgroup (llvmpipe broadcasts them
 * instead of gathering per lane) and no reduction is needed.
 */
void
mul_mv_lane_rows()
{
	const uint r = common_group() * gl_WorkGroupSize.x +
	    gl_LocalInvocationID.x;
	const uint rr = min(r, p.rows - 1);
	const uint nb = p.cols / 32;
	float acc[NCOLS];
	vec4 v[8];

	for (uint c = 0; c < NCOLS; c++)
		acc[c] = 0.0;
	for (uint b = 0; b < nb; b++) {
		weights_block(rr * nb + b, p.rows * nb, v);
		for (uint c = 0; c < NCOLS; c++) {
			const uint xb = (p.x_off + c * p.x_stride + b * 32) / 4;
			float s = 0.0;

			for (uint i = 0; i < 8; i++)
				s += dot(v[i], x4[xb + i]);
			acc[c] += s;
		}
	}
	if (r >= p.rows)
		return;
	for (uint c = 0; c < NCOLS; c++) {
		const uint i = p.y_off + c * p.y_stride + r;

		y[i] = (p.accumulate != 0 ? y[i] : 0.0) + acc[c];
	}
}

void
main()
{
	if (LANE_ROWS != 0) {
		mul_mv_lane_rows();
		return;
	}
	const uint r0 = common_group() * ROWS;
	const uint nb = p.cols / 32;
	float acc[ROWS * NCOLS];
	vec4 v[8];

	if (r0 >= p.rows)
		return;
	for (uint k = 0; k < ROWS * NCOLS; k++)
		acc[k] = 0.0;
	for (uint b = gl_LocalInvocationID.x; b < nb; b += gl_WorkGroupSize.x) {
		for (uint rr = 0; rr < ROWS; rr++) {
			/* Rows past the end repeat the last one, unwritten. */
			const uint r = min(r0 + rr, p.rows - 1);

			weights_block(r * nb + b, p.rows * nb, v);
			for (uint c = 0; c < NCOLS; c++) {
				const uint xb =
				    (p.x_off + c * p.x_stride + b * 32) / 4;
				float s = 0.0;

				for (uint i = 0; i < 8; i++)
					s += dot(v[i], x4[xb + i]);
				acc[rr * NCOLS + c] += s;
			}
		}
	}
	for (uint k = 0; k < ROWS * NCOLS; k++)
		acc[k] = reduce_sum(acc[k]);
	if (gl_LocalInvocationID.x != 0)
		return;
	for (uint rr = 0; rr < ROWS; rr++) {
		if (r0 + rr >= p.rows)
			break;
		for (uint c = 0; c < NCOLS; c++) {
			const uint i = p.y_off + c * p.y_stride + r0 + rr;

			y[i] = (p.accumulate != 0 ? y[i] : 0.0) +
			    acc[rr * NCOLS + c];
		}
	}
}
