#version 450
/*
 * attention: for query head h of token t,
 *   out[t][h] = sum_j softmax_j(q[t][h] . K[j][g] * scale) V[j][g],
 *   j0 <= j < tok[t].n_kv, slot of j = tok[t].kv_base + j,
 *   g = h / (n_head / n_head_kv) (grouped-query attention),
 *   scale from the host (1 / sqrt(HEAD_DIM) unless the model says),
 * with an online softmax (running maximum and sum, f32 throughout) over
 * the f16 caches written by kv_store.  Causality comes from n_kv = pos+1;
 * a sliding window (gemma3's local layers) of window > 0 positions starts
 * at j0 = max(0, n_kv - window), else j0 = 0.
 * The dispatch does not depend on n_kv: the loop over the cache does.
 *
 * Dispatch: n_head x n_tokens workgroups; the invocations split the
 * head's HEAD_DIM values, the dot products are reduce_sum'ed.
 * Bindings: 0 tok (tok_info, read), 1 q (f32, read; head h of token t at
 * q[q_off + t*q_stride + h*HEAD_DIM]), 2 kc, 3 vc (f16 words, read;
 * K[j][g] at kc[(slot*n_head_kv + g)*HEAD_DIM]), 4 out (f32, write; at
 * out[o_off + t*o_stride + h*HEAD_DIM]).  Push: n_head, n_head_kv, q_off,
 * q_stride, o_off, o_stride, scale, window.  Specialization: 0
 * workgroup size, 1 HEAD_DIM, 2 NSUB.
 * Reference: ref_attention(); test: kern_attention_groups.
 */
#include "common.glsl"
#include "tok.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 64;
layout(constant_id = 2) const uint NSUB = 1;

layout(binding = 0) readonly buffer Tok { tok_info tok[]; };
layout(binding = 1) readonly buffer Q { float q[]; };
layout(binding = 2) readonly buffer KC { uint16_t kc[]; };
layout(binding = 3) readonly buffer VC { uint16_t vc[]; };
layout(binding = 4) writeonly buffer O { float o[]; };

layout(push_constant) uniform Push {
	uint n_head;
	uint n_head_kv;
	uint q_off;
	uint q_stride;
	uint o_off;
	uint o_stride;
	float scale;
	uint window;
} p;

#include "reduce.glsl"

/* Values of the head per invocation (the last ones may be idle). */
const uint DPT = (HEAD_DIM + gl_WorkGroupSize.x - 1) / gl_WorkGroupSize.x;

void
main()
{
	const uint h = gl_WorkGroupID.x;
	const uint t = gl_WorkGroupID.y;
	const uint g = h / (p.n_head / p.n_head_kv);
	const uint lid = gl_LocalInvocationID.x;
	const uint n_kv = uint(tok[t].n_kv);
	const uint base = uint(tok[t].kv_base);
	const uint j0 = p.window > 0 && n_kv > p.window ? n_kv - p.window : 0;
	const uint qb = p.q_off + t * p.q_stride + h * HEAD_DIM;
	float qv[DPT];
	float acc[DPT];
	float m = -1.0e30;
	float l = 0.0;

	for (uint i = 0; i < DPT; i++) {
		const uint d = lid + i * gl_WorkGroupSize.x;

		qv[i] = d < HEAD_DIM ? q[qb + d] : 0.0;
		acc[i] = 0.0;
	}
	for (uint j = j0; j < n_kv; j++) {
		const uint kb = ((base + j) * p.n_head_kv + g) * HEAD_DIM;
		float s = 0.0;

		for (uint i = 0; i < DPT; i++) {
			const uint d = lid + i * gl_WorkGroupSize.x;

			if (d < HEAD_DIM)
				s += qv[i] * common_f32(uint(kc[kb + d]));
		}
		s = reduce_sum(s) * p.scale;
		const float mn = max(m, s);
		const float corr = exp(m - mn);
		const float e = exp(s - mn);
		l = l * corr + e;
		for (uint i = 0; i < DPT; i++) {
			const uint d = lid + i * gl_WorkGroupSize.x;

			acc[i] = acc[i] * corr +
			    (d < HEAD_DIM ? e * common_f32(uint(vc[kb + d])) : 0.0);
		}
		m = mn;
	}
	const float inv = l > 0.0 ? 1.0 / l : 0.0;
	for (uint i = 0; i < DPT; i++) {
		const uint d = lid + i * gl_WorkGroupSize.x;

		if (d < HEAD_DIM)
			o[p.o_off + t * p.o_stride + h * HEAD_DIM + d] =
			    acc[i] * inv;
	}
}
