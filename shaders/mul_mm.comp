#version 450
/*
 * mul_mm: y[t][r] = sum_c W[r][c] * x[t][c]  (+ y[t][r] if accumulate)
 * for n columns t (matrix-matrix products for prefill), tiled through
 * shared memory: each workgroup computes a BM x BN tile of y, each
 * invocation TM x TN of it, stepping over the inner dimension one
 * 32-element weight block at a time (dequantized into the tile).
 *
 * Dispatch: ceil(rows / BM) x ceil(n / BN) workgroups of
 * (BM / TM) * (BN / TN) invocations.  Bindings: 0 W (WTYPE, rows x cols),
 * 1 x (f32, read), 2 y (f32, read-write), addressed as in mul_mv.
 * Push: cols (multiple of 32), rows, n, x_off, x_stride, y_off, y_stride,
 * accumulate.  Specialization: 0 workgroup size, 1 WTYPE, 2 BM, 3 BN,
 * 4 TM, 5 TN.
 * Reference: ref_matvec() per column; test: kern_mul_mat_* in
 * tests/test-kern.c.
 */
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint WTYPE = 0;
layout(constant_id = 2) const uint BM = 32;
layout(constant_id = 3) const uint BN = 32;
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;

layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Push {
	uint cols;
	uint rows;
	uint n;
	uint x_off;
	uint x_stride;
	uint y_off;
	uint y_stride;
	uint accumulate;
} p;

#include "weights.glsl"

/* Tiles of 32 values per row or column, padded against bank conflicts. */
shared float wt[BM * 33];
shared float xt[BN * 33];

void
main()
{
	const uint nt = gl_WorkGroupSize.x;
	const uint tid = gl_LocalInvocationID.x;
	const uint r0 = gl_WorkGroupID.x * BM;
	const uint t0 = gl_WorkGroupID.y * BN;
	const uint tr = tid % (BM / TM);
	const uint tc = tid / (BM / TM);
	const uint nb = p.cols / 32;
	float acc[TM * TN];
	float a[TM];
	float b[TN];

	for (uint k = 0; k < TM * TN; k++)
		acc[k] = 0.0;
	for (uint blk = 0; blk < nb; blk++) {
		for (uint i = tid; i < BM * 32; i += nt) {
			const uint r = r0 + i / 32;

			wt[(i / 32) * 33 + i % 32] = r < p.rows ?
			    weights_get(r * nb + blk, p.rows * nb, i % 32) :
			    0.0;
		}
		for (uint i = tid; i < BN * 32; i += nt) {
			const uint t = t0 + i / 32;

			xt[(i / 32) * 33 + i % 32] = t < p.n ?
			    x[p.x_off + t * p.x_stride + blk * 32 + i % 32] :
			    0.0;
		}
		barrier();
		for (uint e = 0; e < 32; e++) {
			for (uint i = 0; i < TM; i++)
				a[i] = wt[(tr + i * (BM / TM)) * 33 + e];
			for (uint j = 0; j < TN; j++)
				b[j] = xt[(tc + j * (BN / TN)) * 33 + e];
			for (uint i = 0; i < TM; i++)
				for (uint j = 0; j < TN; j++)
					acc[i * TN + j] += a[i] * b[j];
		}
		barrier();
	}
	for (uint i = 0; i < TM; i++) {
		const uint r = r0 + tr + i * (BM / TM);

		for (uint j = 0; j < TN; j++) {
			const uint t = t0 + tc + j * (BN / TN);
			const uint o = p.y_off + t * p.y_stride + r;

			if (r < p.rows && t < p.n)
				y[o] = (p.accumulate != 0 ? y[o] : 0.0) +
				    acc[i * TN + j];
		}
	}
}
