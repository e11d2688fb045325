#version 450
/*
 * rmsnorm: y[t][i] = x[t][i] / sqrt(mean_i(x[t][i]^2) + eps) * w[i]
 * (w[i] taken as 1 when has_w is 0).  In place (y = x) is allowed.
 *
 * Dispatch: one workgroup per row t < rows (folded, see common_group).
 * Bindings: 0 x (f32, read), 1 w (f32, read; any buffer when has_w is 0),
 * 2 y (f32, write).  Element (t, i) of x is x[x_off + t*x_stride + i],
 * of y y[y_off + t*y_stride + i].  Push: n, rows, x_off, x_stride, y_off,
 * y_stride, has_w, eps.  Specialization: 0 workgroup size, 1 NSUB.
 * Reference: ref_rmsnorm(); test: kern_rmsnorm.
 */
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint NSUB = 1;

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer Wt { float w[]; };
layout(binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Push {
	uint n;
	uint rows;
	uint x_off;
	uint x_stride;
	uint y_off;
	uint y_stride;
	uint has_w;
	float eps;
} p;

#include "reduce.glsl"

void
main()
{
	const uint t = common_group();
	const uint xb = p.x_off + t * p.x_stride;
	const uint yb = p.y_off + t * p.y_stride;
	float s = 0.0;

	if (t >= p.rows)
		return;
	for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x)
		s += x[xb + i] * x[xb + i];
	s = reduce_sum(s);
	const float scale = 1.0 / sqrt(s / float(p.n) + p.eps);
	for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x)
		y[yb + i] = x[xb + i] * scale * (p.has_w != 0 ? w[i] : 1.0);
}
