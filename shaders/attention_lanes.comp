#version 450
/*
 * attention_lanes: attention.comp's result (same bindings, push
 * constants and specialization; the sliding window too: the lanes'
 * positions start at max(0, n_kv - window)) computed the way CPU devices
 * want it.
 * llvmpipe runs a subgroup as SIMD lanes and turns every buffer load
 * into a loop over the lanes: attention.comp, whose lanes split a head
 * and reduce one dot product per cached position, pays a lane loop per
 * 16-bit value and a reduction per position.  Here each lane takes its
 * own positions (j = j0 + c * WG + lane) and computes whole dot
 * products, reading K and V rows as 16-byte words (8 f16 values), with
 * its own online softmax; the lanes' maxima, sums and outputs are merged
 * once at the end.  Scores come CHUNK positions per lane at a time, so
 * the running output is rescaled once per chunk, not per position.
 * Positions past n_kv repeat the last one with weight 0 (no branch:
 * llvmpipe masks rather than skips).
 *
 * Built twice: attention_lanes reads the caches as storage buffers,
 * attention_lanes_tex (-DKV_TEXEL) through RGBA32UI uniform texel
 * buffers, which llvmpipe fetches without a lane loop (as mul_mv_tex
 * does the weights).
 *
 * A workgroup takes HPW query heads of one KV group (HPW dividing
 * n_head / n_head_kv) for one token: each K and V word is read and
 * unpacked once for all of them (models with grouped-query attention;
 * kern_attention asks for more than one with texel buffers only).
 *
 * Dispatch: n_head / HPW x n (tokens).
 * Requires HEAD_DIM a multiple of 8 and every K/V row 16-byte aligned
 * (kern_attention checks).  Specialization: 0 workgroup size (one
 * subgroup: NSUB must be 1), 1 HEAD_DIM, 2 NSUB, 3 CHUNK, 4 HPW.
 * Reference: ref_attention(); tests: kern_attention_lanes,
 * kern_attention_lanes_texel.
 */
#include "common.glsl"
#include "tok.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HEAD_DIM = 64;
layout(constant_id = 2) const uint NSUB = 1;
layout(constant_id = 3) const uint CHUNK = 4;
layout(constant_id = 4) const uint HPW = 1;

layout(binding = 0) readonly buffer Tok { tok_info tok[]; };
layout(binding = 1) readonly buffer Q { vec4 q4[]; };
#ifdef KV_TEXEL
layout(binding = 2) uniform usamplerBuffer kct;
layout(binding = 3) uniform usamplerBuffer vct;
#define KC(i) texelFetch(kct, int(i))
#define VC(i) texelFetch(vct, int(i))
#else
layout(binding = 2) readonly buffer KC { uvec4 kc[]; };
layout(binding = 3) readonly buffer VC { uvec4 vc[]; };
#define KC(i) kc[i]
#define VC(i) vc[i]
#endif
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

const uint D4 = HEAD_DIM / 4;
const uint D8 = HEAD_DIM / 8;

/* 16-byte word W of a cache row as two vec4s (values 8w..8w+7). */
void
attention_unpack(uvec4 w, out vec4 a, out vec4 b)
{
	a = vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
	b = vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w));
}

void
main()
{
	const uint h0 = gl_WorkGroupID.x * HPW;
	const uint t = gl_WorkGroupID.y;
	const uint g = h0 / (p.n_head / p.n_head_kv);
	const uint lid = gl_LocalInvocationID.x;
	const uint wg = gl_WorkGroupSize.x;
	const uint n_kv = uint(tok[t].n_kv);
	const uint base = uint(tok[t].kv_base);
	const uint first =
	    p.window > 0 && n_kv > p.window ? n_kv - p.window : 0;
	/* head h0 + r: q in qv[r * D4 ..], its output in acc[r * D4 ..] */
	vec4 qv[HPW * D4];
	vec4 acc[HPW * D4];
	float m[HPW];
	float l[HPW];

	[[unroll]] for (uint r = 0; r < HPW; r++) {
		const uint qb =
		    (p.q_off + t * p.q_stride + (h0 + r) * HEAD_DIM) / 4;

		[[unroll]] for (uint i = 0; i < D4; i++) {
			qv[r * D4 + i] = q4[qb + i] * p.scale;
			acc[r * D4 + i] = vec4(0.0);
		}
		m[r] = -1.0e30;
		l[r] = 0.0;
	}
	for (uint j0 = first; j0 < n_kv; j0 += wg * CHUNK) {
		float s[HPW * CHUNK];
		float cm[HPW];

		[[unroll]] for (uint r = 0; r < HPW; r++)
			cm[r] = -1.0e30;
		[[unroll]] for (uint c = 0; c < CHUNK; c++) {
			const uint j = min(j0 + c * wg + lid, n_kv - 1);
			const uint kb = ((base + j) * p.n_head_kv + g) * D8;
			const bool live = j0 + c * wg + lid < n_kv;
			float d[HPW];

			[[unroll]] for (uint r = 0; r < HPW; r++)
				d[r] = 0.0;
			[[unroll]] for (uint i = 0; i < D8; i++) {
				vec4 a, b;

				attention_unpack(KC(kb + i), a, b);
				[[unroll]] for (uint r = 0; r < HPW; r++)
					d[r] += dot(qv[r * D4 + 2 * i], a) +
					    dot(qv[r * D4 + 2 * i + 1], b);
			}
			[[unroll]] for (uint r = 0; r < HPW; r++) {
				s[r * CHUNK + c] = live ? d[r] : -1.0e30;
				cm[r] = max(cm[r], s[r * CHUNK + c]);
			}
		}
		float mn[HPW];

		[[unroll]] for (uint r = 0; r < HPW; r++) {
			mn[r] = max(m[r], cm[r]);
			const float corr = exp(m[r] - mn[r]);

			l[r] *= corr;
			[[unroll]] for (uint i = 0; i < D4; i++)
				acc[r * D4 + i] *= corr;
			m[r] = mn[r];
		}
		[[unroll]] for (uint c = 0; c < CHUNK; c++) {
			const uint jc = j0 + c * wg + lid;
			const uint j = min(jc, n_kv - 1);
			const uint vb = ((base + j) * p.n_head_kv + g) * D8;
			float e[HPW];

			[[unroll]] for (uint r = 0; r < HPW; r++) {
				e[r] = jc < n_kv ? exp(s[r * CHUNK + c] - mn[r])
						 : 0.0;
				l[r] += e[r];
			}
			[[unroll]] for (uint i = 0; i < D8; i++) {
				vec4 a, b;

				attention_unpack(VC(vb + i), a, b);
				[[unroll]] for (uint r = 0; r < HPW; r++) {
					acc[r * D4 + 2 * i] += e[r] * a;
					acc[r * D4 + 2 * i + 1] += e[r] * b;
				}
			}
		}
	}
	/*
	 * Merge the lanes, head by head: a common maximum, then sums (a
	 * lane that had no position keeps m = -1e30 and l = 0: its factor
	 * f is 0).
	 */
	[[unroll]] for (uint r = 0; r < HPW; r++) {
		const float mx = subgroupMax(m[r]);
		const float f = exp(m[r] - mx);
		const float lt = reduce_sum(l[r] * f);
		const float inv = lt > 0.0 ? 1.0 / lt : 0.0;
		const uint ob = p.o_off + t * p.o_stride + (h0 + r) * HEAD_DIM;

		[[unroll]] for (uint i = 0; i < D4; i++) {
			const vec4 a = acc[r * D4 + i];
			const vec4 v = vec4(reduce_sum(a.x * f),
			    reduce_sum(a.y * f), reduce_sum(a.z * f),
			    reduce_sum(a.w * f));

			if (i % wg == lid) {
				o[ob + 4 * i] = v.x * inv;
				o[ob + 4 * i + 1] = v.y * inv;
				o[ob + 4 * i + 2] = v.z * inv;
				o[ob + 4 * i + 3] = v.w * inv;
			}
		}
	}
}
