#version 450
/*
 * rmsnorm: y[t][i] = x[t][i] / sqrt(mean_i(x[t][i]^2) + eps) * w[i]
 * (w[i] taken as 1 when has_w is 0), or with add set y[t][i] += that
 * (gemma3's post-norms: a sub-block's output normed into the residual
 * stream; then y must not overlap x).  With MEAN 1 it is LayerNorm
 * (gpt2): y[t][i] = (x[t][i] - m) / sqrt(mean_i((x[t][i] - m)^2) + eps)
 * * w[i] + b[i], m = mean_i(x[t][i]), b[i] taken as 0 when has_b is 0
 * (ggml_norm, then the bias add).  In place (y = x) is allowed
 * without add.
 * With heads > 1 each row of x holds that many rows of n values side by
 * side (qwen3's per-head Q and K norms), each normalized on its own with
 * the same w.
 *
 * Dispatch: one workgroup per row r < rows (folded, see common_group):
 * token t = r / heads, head h = r % heads.  Bindings: 0 x (f32, read),
 * 1 w (f32, read; any buffer when has_w is 0), 2 y (f32, read-write),
 * 3 b (f32, read; any buffer when has_b is 0).
 * Element i of row r is x[x_off + t*x_stride + h*n + i], of y
 * y[y_off + t*y_stride + h*n + i].  Push: n, rows, x_off, x_stride,
 * y_off, y_stride, has_w, eps, heads, add, has_b.  Specialization: 0
 * workgroup size, 1 NSUB, 2 MEAN.  Reference: ref_rmsnorm(),
 * ref_layernorm(); tests: kern_rmsnorm, kern_rmsnorm_heads,
 * kern_layernorm.
 */
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint NSUB = 1;
layout(constant_id = 2) const uint MEAN = 0;

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer Wt { float w[]; };
layout(binding = 2) buffer Y { float y[]; };
layout(binding = 3) readonly buffer Bt { float b[]; };

layout(push_constant) uniform Push {
	uint n;
	uint rows;
	uint x_off;
	uint x_stride;
	uint y_off;
	uint y_stride;
	uint has_w;
	float eps;
	uint heads;
	uint add;
	uint has_b;
} p;

#include "reduce.glsl"

void
main()
{
	const uint r = common_group();
	const uint t = r / p.heads, h = r % p.heads;
	const uint xb = p.x_off + t * p.x_stride + h * p.n;
	const uint yb = p.y_off + t * p.y_stride + h * p.n;
	float s = 0.0, m = 0.0;

	if (r >= p.rows)
		return;
	if (MEAN != 0) {
		for (uint i = gl_LocalInvocationID.x; i < p.n;
		     i += gl_WorkGroupSize.x)
			m += x[xb + i];
		m = reduce_sum(m) / float(p.n);
	}
	for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x)
		s += (x[xb + i] - m) * (x[xb + i] - m);
	s = reduce_sum(s);
	const float scale = 1.0 / sqrt(s / float(p.n) + p.eps);
	for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x)
		y[yb + i] = (p.add != 0 ? y[yb + i] : 0.0) +
		    (x[xb + i] - m) * scale * (p.has_w != 0 ? w[i] : 1.0) +
		    (p.has_b != 0 ? b[i] : 0.0);
}
