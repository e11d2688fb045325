#version 450
/*
 * get_rows: y[t][c] = W[tok[t].token - row0][c] * scale (scale 1, or
 * gemma3's sqrt(n_embd) on its embeddings) for the tokens whose id
 * falls in this weight chunk's rows [row0, row0 + rows): embedding
 * lookup, dequantized to f32.  With POS 1 the row is the token's
 * position, tok[t].pos, and it is added to y (gpt2's learned position
 * embeddings: y[t][c] += P[tok[t].pos - row0][c] * scale).  A weight
 * split into chunks is looked up by one dispatch per chunk.
 *
 * Dispatch: ceil(cols / workgroup size) x n_tokens.  Bindings: 0 W
 * (WTYPE, rows x cols), 1 tok (tok_info, read), 2 y (f32, write, read
 * too with POS; element (t, c) at y[y_off + t*y_stride + c]).  Push: cols (multiple of 32),
 * row0, rows, y_off, y_stride, scale.  Specialization: 0 workgroup size,
 * 1 WTYPE, 2 POS.
 * Reference: kern_ref_get_rows() in tests/test-kern.c (dequantize the
 * row); tests: kern_get_rows, kern_get_rows_pos.
 */
#include "common.glsl"
#include "tok.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint WTYPE = 0;
layout(constant_id = 2) const uint POS = 0;

layout(binding = 1) readonly buffer Tok { tok_info tok[]; };
layout(binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Push {
	uint cols;
	uint row0;
	uint rows;
	uint y_off;
	uint y_stride;
	float scale;
} p;

#include "weights.glsl"

void
main()
{
	const uint t = gl_WorkGroupID.y;
	const uint c = gl_GlobalInvocationID.x;
	const int id = POS != 0 ? tok[t].pos : tok[t].token;

	if (c >= p.cols || id < int(p.row0) || id - int(p.row0) >= int(p.rows))
		return;
	const uint r = uint(id) - p.row0;
	const uint nb = p.cols / 32;
	const float v = weights_get(r * nb + c / 32, p.rows * nb, c % 32);

	if (POS != 0)
		y[p.y_off + t * p.y_stride + c] += v * p.scale;
	else
		y[p.y_off + t * p.y_stride + c] = v * p.scale;
}
