#version 450
/*
 * kv_store: write token t's K and V rows into the f16 caches at slot
 * s = tok[t].kv_base + tok[t].pos:
 *   kc[s*kv_dim + i] = f16(k[t][i]),  vc[s*kv_dim + i] = f16(v[t][i]).
 *
 * Dispatch: ceil(kv_dim / workgroup size) x n_tokens.  Bindings: 0 tok
 * (tok_info, read), 1 k, 2 v (f32, read; element (t, i) of k is
 * k[k_off + t*k_stride + i], likewise v), 3 kc, 4 vc (f16 as 16-bit words,
 * write).  Push: kv_dim, k_off, k_stride, v_off, v_stride.
 * Specialization: 0 workgroup size.
 * Reference: quant_f32_to_f16() per element; test: kern_kv_store.
 */
#include "common.glsl"
#include "tok.glsl"

layout(local_size_x_id = 0) in;

layout(binding = 0) readonly buffer Tok { tok_info tok[]; };
layout(binding = 1) readonly buffer K { float k[]; };
layout(binding = 2) readonly buffer V { float v[]; };
layout(binding = 3) writeonly buffer KC { uint16_t kc[]; };
layout(binding = 4) writeonly buffer VC { uint16_t vc[]; };

layout(push_constant) uniform Push {
	uint kv_dim;
	uint k_off;
	uint k_stride;
	uint v_off;
	uint v_stride;
} p;

void
main()
{
	const uint t = gl_WorkGroupID.y;
	const uint i = gl_GlobalInvocationID.x;

	if (i >= p.kv_dim)
		return;
	const uint s = uint(tok[t].kv_base + tok[t].pos);
	kc[s * p.kv_dim + i] =
	    uint16_t(common_f16(k[p.k_off + t * p.k_stride + i]));
	vc[s * p.kv_dim + i] =
	    uint16_t(common_f16(v[p.v_off + t * p.v_stride + i]));
}
