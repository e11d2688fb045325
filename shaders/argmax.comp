#version 450
/*
 * argmax: out[o_off + t] = the index of the largest x[t][i], i < n (the
 * first one on ties; NaN never wins; 0 when nothing compares).  Greedy
 * sampling on the device: one word per row comes back, not the logits.
 *
 * Dispatch: one workgroup per row t < rows (folded, see common_group).
 * Bindings: 0 x (f32, read; element (t, i) at x[x_off + t*x_stride + i]),
 * 1 out (u32, write).  Push: n, rows, x_off, x_stride, o_off.
 * Specialization: 0 workgroup size, 1 NSUB.
 * Reference: ref_argmax(); test: kern_argmax.
 */
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint NSUB = 1;

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) writeonly buffer Out { uint o[]; };

layout(push_constant) uniform Push {
	uint n;
	uint rows;
	uint x_off;
	uint x_stride;
	uint o_off;
} p;

shared float argmax_v[NSUB];
shared uint argmax_i[NSUB];

void
main()
{
	const uint t = common_group();
	const uint xb = p.x_off + t * p.x_stride;
	float best = uintBitsToFloat(0xff800000u);
	uint bi = p.n;

	if (t >= p.rows)
		return;
	for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) {
		const float v = x[xb + i];

		if (v > best || (bi == p.n && v == best)) {
			best = v;
			bi = i;
		}
	}
	float m = subgroupMax(best);
	uint mi = subgroupMin(best == m ? bi : p.n);
	/* A spec-constant test first: see reduce.glsl. */
	if (NSUB > 1 && gl_NumSubgroups > 1) {
		if (subgroupElect()) {
			argmax_v[gl_SubgroupID] = m;
			argmax_i[gl_SubgroupID] = mi;
		}
		barrier();
		m = argmax_v[0];
		mi = argmax_i[0];
		for (uint s = 1; s < gl_NumSubgroups; s++) {
			if (argmax_v[s] > m ||
			    (argmax_v[s] == m && argmax_i[s] < mi)) {
				m = argmax_v[s];
				mi = argmax_i[s];
			}
		}
	}
	if (gl_LocalInvocationID.x == 0)
		o[p.o_off + t] = mi < p.n ? mi : 0;
}
