#version 450
/*
 * silu_mul: y[t][i] = act(g[t][i]) * u[t][i], the feed-forward gate:
 * act = silu (SwiGLU) or, with ACT 1, GELU's tanh approximation (GeGLU,
 * gemma3); see act.glsl.  With ACT 2, y[t][i] = gelu(g[t][i]): GELU
 * with no gate (gpt2's MLP; u is not read).  In place is allowed.
 *
 * Dispatch: ceil(n / workgroup size) x rows.  Bindings: 0 g, 1 u (f32,
 * read), 2 y (f32, write); element (t, i) of g is g[g_off + t*g_stride + i]
 * and likewise for u and y.  Push: n, g_off, g_stride, u_off, u_stride,
 * y_off, y_stride.  Specialization: 0 workgroup size, 1 ACT (0 silu,
 * 1 gelu, 2 gelu without gate).
 * Reference: ref_silu_mul(), ref_gelu_mul(), ref_gelu(); test:
 * kern_add_and_silu_mul.
 */
#include "common.glsl"
#include "act.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint ACT = 0;

layout(binding = 0) readonly buffer G { float g[]; };
layout(binding = 1) readonly buffer U { float u[]; };
layout(binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Push {
	uint n;
	uint g_off;
	uint g_stride;
	uint u_off;
	uint u_stride;
	uint y_off;
	uint y_stride;
} p;

void
main()
{
	const uint t = gl_WorkGroupID.y;
	const uint i = gl_GlobalInvocationID.x;

	if (i >= p.n)
		return;
	const float v = g[p.g_off + t * p.g_stride + i];
	const float a = ACT != 0 ? act_gelu(v) : act_silu(v);

	if (ACT == 2)
		y[p.y_off + t * p.y_stride + i] = a;
	else
		y[p.y_off + t * p.y_stride + i] =
		    a * u[p.u_off + t * p.u_stride + i];
}
