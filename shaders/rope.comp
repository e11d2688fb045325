#version 450
/*
 * rope: rotary position embedding, ggml's "normal" mode (llama): for
 * each head of token t rotate the adjacent pairs (x[2i], x[2i+1]),
 * 2i < n_rot, by theta = pos * freq_scale * theta_scale^i / ff[i], with
 * theta_scale = freq_base^(-2/n_rot) (computed on the host), pos =
 * tok[t].pos read from the step buffer, ff the optional per-pair
 * frequency factors (llama 3 rope_freqs; 1 when has_ff is 0).  In place.
 *
 * Dispatch: ceil(n_heads * n_rot/2 / workgroup size) x n_tokens.
 * Bindings: 0 tok (tok_info, read), 1 x (f32, read-write; head h of token
 * t starts at x[x_off + t*x_stride + h*head_dim]), 2 ff (f32, read; any
 * buffer when has_ff is 0).  Push: n_heads, head_dim, n_rot, x_off,
 * x_stride, has_ff, theta_scale, freq_scale.  Specialization: 0 workgroup
 * size.
 * Reference: ref_rope(); test: kern_rope.
 */
#include "common.glsl"
#include "tok.glsl"

layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer Tok { tok_info tok[]; };
layout(binding = 1) buffer X { float x[]; };
layout(binding = 2) readonly buffer FF { float ff[]; };

layout(push_constant) uniform Push {
	uint n_heads;
	uint head_dim;
	uint n_rot;
	uint x_off;
	uint x_stride;
	uint has_ff;
	float theta_scale;
	float freq_scale;
} p;

void
main()
{
	const uint t = gl_WorkGroupID.y;
	const uint half_rot = p.n_rot / 2;
	const uint idx = gl_GlobalInvocationID.x;

	if (idx >= p.n_heads * half_rot)
		return;
	const uint h = idx / half_rot;
	const uint i = idx % half_rot;
	float theta = float(tok[t].pos) * p.freq_scale *
	    pow(p.theta_scale, float(i));
	if (p.has_ff != 0)
		theta /= ff[i];
	const float c = cos(theta);
	const float s = sin(theta);
	const uint o = p.x_off + t * p.x_stride + h * p.head_dim + 2 * i;
	const float x0 = x[o];
	const float x1 = x[o + 1];
	x[o] = x0 * c - x1 * s;
	x[o + 1] = x0 * s + x1 * c;
}
